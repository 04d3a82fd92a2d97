"""How long a route sheet's PDF takes to draw, with its overview map, strip maps and
turn-by-turn directions, and how many pages it has.

For each route of a plan folder (default: the solved default plan of ``tests/webui/data``),
the sheet PDF is drawn ``--repeat`` times in Vietnamese as the web UI draws it on a cache
miss (the dataset's basemap loaded once beforehand, as the app keeps it): the overview map,
a strip map per leg, the instructions, the stop cards. Prints the median and the worst time
per sheet, its pages and how full each page is, and checks the longest sheet against the
target (``--target-s``, 3 s).

    python -m benchmarks.sheetpdf [--plan DIR] [--repeat 5] [--target-s 3]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

from pypdf import PdfReader

from planner.outputs import load_scenario_for_plan, read_plan_folder
from render.closures import plan_closures
from render.pdf import sheet_pdf
from render.routeview import legs_by_vehicle, route_view
from render.sheetmap import load_basemap, route_lines, route_map_png

DEFAULT_PLAN = Path(__file__).resolve().parents[1] / "tests" / "webui" / "data" / "ha-giang-2026"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=DEFAULT_PLAN)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target-s", type=float, default=3.0)
    args = parser.parse_args(argv)
    plan = read_plan_folder(args.plan)
    scenario = load_scenario_for_plan(args.plan / "plan.json")[0]
    routes = json.loads((args.plan / "routes.geojson").read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    basemap = load_basemap(plan.network)
    print(f"basemap of {plan.network}: {time.perf_counter() - t0:.2f} s (once per app)")
    closures = plan_closures(plan, scenario)
    legs = legs_by_vehicle(routes)
    longest = None
    for i, r in enumerate(plan.routes):
        if not r.visits:
            continue
        times: list[float] = []
        fill: list[float] = []
        for k in range(args.repeat):
            t = time.perf_counter()
            view = route_view(plan, i, legs.get(r.vehicle_id))
            png = route_map_png(view, route_lines(routes, r.vehicle_id), basemap, lang="vi",
                                closures=closures)
            pdf = sheet_pdf(plan, view, run=args.plan.name, lang="vi", map_png=png,
                            scenario=scenario, routes=routes, basemap=basemap,
                            page_fill=fill if k == 0 else None)
            times.append(time.perf_counter() - t)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(f"{r.vehicle_id}: {len(r.visits)} stops, {pages} pages, {len(pdf) // 1024} KB, "
              f"median {statistics.median(times):.2f} s, worst {max(times):.2f} s; "
              f"pages filled {', '.join(f'{x:.0%}' for x in fill)}")
        if longest is None or pages > longest[1]:
            longest = (r.vehicle_id, pages, statistics.median(times))
    if longest is None:
        print("no route with stops")
        return 1
    ok = longest[2] < args.target_s
    print(f"longest sheet {longest[0]} ({longest[1]} pages): median {longest[2]:.2f} s "
          f"{'<' if ok else '>='} target {args.target_s:g} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
