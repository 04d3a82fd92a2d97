"""Web UI benchmark: the plan page and the PDF route sheets of a 73-stop plan.

Builds a plan that visits every commune of the embedded Hà Giang dataset (73 stops) with
the default scenario's library and four vehicles: the stops are split among the vehicles by
direction from the library and ordered by nearest neighbour on the truck travel-time
matrix, with clock times, nights away and loads worked out from it (no solve: the point is
the size of what the UI draws, not the quality of the routes). The plan is written with the
real ``routes.geojson`` (road geometry and leg directions), then served by the app through
Flask's test client, logged in as a dispatcher. Server time is measured around each request
(the median of ``--repeat`` runs after one warm-up request that draws the map files); targets
from issue 5: plan page under 0.3 s, one sheet PDF under 3 s.

    python -m benchmarks.webui [--repeat 7] [--vehicles 4] [--keep DIR] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SCENARIO = PROJECT_ROOT / "scenarios" / "ha-giang-2026.yaml"
DAY_S = 24 * 3600
SHIFT_START_S = 7 * 3600
SHIFT_END_S = 17 * 3600
SERVICE_S = 90 * 60
TARGETS_S = {"plan page": 0.3, "sheet PDF": 3.0}


def _order_stops(time_s: np.ndarray, depot: int, stops: Sequence[int], lon: np.ndarray,
                 lat: np.ndarray, vehicles: int) -> list[list[int]]:
    """Stops split into ``vehicles`` groups by bearing from the depot (equal counts), each
    ordered by nearest neighbour from the depot."""
    bearing = np.arctan2(lat[list(stops)] - lat[depot], lon[list(stops)] - lon[depot])
    by_bearing = [stops[i] for i in np.argsort(bearing)]
    groups = [list(g) for g in np.array_split(np.array(by_bearing), vehicles)]
    ordered = []
    for group in groups:
        left, here, route = {int(x) for x in group}, depot, []
        while left:
            row = time_s[here]
            here = min(left, key=lambda j: float(row[j]))
            route.append(here)
            left.remove(here)
        ordered.append(route)
    return ordered


def build_plan(out_dir: Path, *, vehicles: int = 4) -> Path:
    """Write a plan visiting all 73 communes (``plan.json``, ``routes.geojson``,
    ``scenario.json``) into ``out_dir``; returns ``out_dir``."""
    from geodata.datasets import load_dataset
    from planner.kpis import route_kpis
    from planner.outputs import write_outputs
    from planner.pipeline import prepare_network
    from planner.plan import TZ, Plan, Route, Visit, clock
    from planner.provenance import Provenance
    from planner.scenario import Stop, load_scenario

    base = load_scenario(SCENARIO)
    codes = sorted(load_dataset(base.network).communes.index)
    template = base.vehicles[0]
    fleet = tuple(template.model_copy(update={
        "id": f"xe-{i + 1:02d}", "name": f"Xe thư viện lưu động {i + 1:02d}",
        "driver": f"Lái xe {i + 1:02d}", "max_trip_days": 31}) for i in range(vehicles))
    scenario = base.model_copy(update={
        "name": "bench-73", "title": "Benchmark: 73 xã, 4 xe",
        "vehicles": fleet,
        "stops": tuple(Stop(commune_code=c, deliver_crates=3, collect_crates=2,
                            service_minutes=SERVICE_S // 60) for c in codes),
        "horizon": base.horizon.model_copy(update={"days": 31}),
    })
    net = prepare_network(scenario)
    profile = template.profile
    mat = net.matrices[profile]
    locs = net.places
    depot = next(i for i, loc in enumerate(locs) if loc.kind == "depot")
    stops = [i for i, loc in enumerate(locs) if loc.kind == "stop"]
    lon = np.array([loc.lon for loc in locs])
    lat = np.array([loc.lat for loc in locs])
    start = scenario.horizon.start_date
    routes = []
    for v, seq in zip(fleet, _order_stops(mat.time_s, depot, stops, lon, lat, vehicles),
                      strict=True):
        t, here, load = SHIFT_START_S, depot, 3 * len(seq)
        visits = []
        for n, j in enumerate(seq, start=1):
            travel = float(mat.time_s[here, j])
            night = t + travel + SERVICE_S > (t // DAY_S) * DAY_S + SHIFT_END_S
            if night:  # sleep where we are, drive on next morning
                t = (t // DAY_S + 1) * DAY_S + SHIFT_START_S
            arrival = int(t + travel)
            departure = arrival + SERVICE_S
            load += 2 - 3
            loc = locs[j]
            visits.append(Visit(
                seq=n, commune_code=loc.key, commune_name=loc.name, lon=loc.lon, lat=loc.lat,
                day=arrival // DAY_S, arrival_s=arrival, start_s=arrival,
                departure_s=departure, arrival=clock(start, arrival),
                departure=clock(start, departure), deliver_crates=3, collect_crates=2,
                load_after_crates=load, leg_km=round(float(mat.distance_m[here, j]) / 1000, 2),
                leg_hours=round(travel / 3600, 2), night_before=night, nights_on_road=0,
                contact="0219 3xx xxx", note="Hẹn trước với cán bộ văn hóa xã."))
            t, here = departure, j
        back = float(mat.time_s[here, depot])
        night = t + back > (t // DAY_S) * DAY_S + SHIFT_END_S
        if night:
            t = (t // DAY_S + 1) * DAY_S + SHIFT_START_S
        ret = int(t + back)
        km = sum(float(mat.distance_m[a, b]) for a, b in pairwise([depot, *seq, depot])) / 1000
        driving = sum(x.leg_hours for x in visits) + back / 3600
        routes.append(Route(
            vehicle_id=v.id, vehicle_name=v.name, profile=profile, depot_id=locs[depot].key,
            depot_name=locs[depot].name, depot_lon=locs[depot].lon, depot_lat=locs[depot].lat,
            driver=v.driver, capacity_crates=v.capacity_crates, depart_s=SHIFT_START_S,
            depart=clock(start, SHIFT_START_S), return_s=ret, return_time=clock(start, ret),
            load_start_crates=3 * len(seq),
            return_leg_km=round(float(mat.distance_m[here, depot]) / 1000, 2),
            return_leg_hours=round(back / 3600, 2), return_night_before=night,
            return_nights_on_road=0, visits=tuple(visits), km=round(km, 1),
            driving_hours=round(driving, 2),
            duration_hours=round((ret - SHIFT_START_S) / 3600, 2),
            days=ret // DAY_S + 1, nights=ret // DAY_S, depot_location_approximate=True,
            depot_location_note="approximate point (about 5 km)"))
    routes_t = tuple(routes)
    plan = Plan(scenario_name=scenario.name, scenario_title=scenario.title, start_date=start,
                horizon_days=scenario.horizon.days, network=scenario.network, routes=routes_t,
                unserved=(), kpis=route_kpis(routes_t, (), service_area_communes=len(codes)),
                provenance=Provenance(solver_status="synthetic (benchmarks.webui)", seed=0,
                                      objective=0, solve_wall_s=0.0),
                notes=tuple(net.dataset.notes), attribution=net.dataset.attribution,
                created_at=dt.datetime.now(TZ).isoformat(timespec="seconds"))
    write_outputs(plan, net, scenario, out_dir)
    return out_dir


def _login(client: Any, username: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    resp = client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token.group(1) if token else ""})
    if resp.status_code not in (302, 303):
        raise SystemExit(f"login as {username!r} failed: HTTP {resp.status_code}")


def _timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _get(client: Any, url: str, mimetype: str) -> Callable[[], bytes]:
    def fetch() -> bytes:
        resp = client.get(url)
        if resp.status_code != 200 or resp.mimetype != mimetype:
            raise SystemExit(f"GET {url}: HTTP {resp.status_code} {resp.mimetype}")
        return bytes(resp.data)
    return fetch


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per page (median)")
    parser.add_argument("--vehicles", type=int, default=4)
    parser.add_argument("--keep", type=Path, default=None,
                        help="write the plan and the app's files here (default: a temp dir)")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of one plan page request")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return _run(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="bench-webui-") as tmp:
        return _run(args, Path(tmp))


def _run(args: argparse.Namespace, root: Path) -> int:
    run = "bench-73"
    t0 = time.perf_counter()
    build_plan(root / "runs" / run, vehicles=args.vehicles)
    t_build = time.perf_counter() - t0

    from webui import create_app
    from webui.__main__ import ensure_demo_user
    from webui.services import services_of

    (root / "scenarios").mkdir(exist_ok=True)
    app = create_app({"RUNS_DIR": root / "runs", "SCENARIOS_DIR": root / "scenarios",
                      "JOBS_DIR": root / "jobs",
                      "DATABASE_URL": f"sqlite:///{root / 'planner.sqlite3'}"},
                     instance_path=root / "instance")
    made = ensure_demo_user(app, password="benchmark-password")
    client = app.test_client()
    _login(client, made[0] if made else "demo", "benchmark-password")

    from planner.plan import read_plan

    plan = read_plan(root / "runs" / run / "plan.json")
    longest = max(plan.routes, key=lambda r: len(r.visits))
    n_stops = sum(len(r.visits) for r in plan.routes)
    cases = [
        ("plan page", f"/plans/{run}", "text/html", args.repeat),
        ("map page (cached file)", f"/plans/{run}/map", "text/html", args.repeat),
        (f"sheet HTML ({len(longest.visits)} stops)", f"/plans/{run}/sheet/{longest.vehicle_id}",
         "text/html", args.repeat),
        (f"sheet PDF ({len(longest.visits)} stops)",
         f"/plans/{run}/sheet/{longest.vehicle_id}.pdf", "application/pdf",
         max(3, args.repeat // 2)),
        (f"all sheets PDF ({n_stops} stops)", f"/plans/{run}/sheets.pdf", "application/pdf",
         max(3, args.repeat // 3)),
        ("communes page", "/communes", "text/html", args.repeat),
    ]
    t0 = time.perf_counter()
    _get(client, f"/plans/{run}", "text/html")()
    _get(client, f"/plans/{run}/map", "text/html")()  # draws and stores map.html
    t_first = time.perf_counter() - t0
    print(f"73-stop plan ({len(plan.routes)} vehicles, {n_stops} stops) built in "
          f"{t_build:.1f} s; first plan page + map drawing {t_first:.1f} s"
          + (f"; files in {root}" if args.keep else ""))
    print(f"\n{'request':<34} {'median s':>9} {'min s':>7} {'max s':>7} {'size':>9} "
          f"{'target':>8}")
    failed = []
    for name, url, mimetype, repeat in cases:
        fetch = _get(client, url, mimetype)
        size = len(fetch())  # warm-up (basemap, fonts)
        times = _timed(fetch, repeat)
        median = statistics.median(times)
        key = "sheet PDF" if name.startswith("sheet PDF") else name
        target = TARGETS_S.get(key)
        verdict = "" if target is None else (f"< {target:g} s" if median < target else "MISSED")
        if target is not None and median >= target:
            failed.append(name)
        print(f"{name:<34} {median:>9.3f} {min(times):>7.3f} {max(times):>7.3f} "
              f"{_size(size):>9} {verdict:>8}")
    if args.profile:
        prof = cProfile.Profile()
        fetch = _get(client, f"/plans/{run}", "text/html")
        prof.enable()
        fetch()
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    services_of(app).database.dispose()
    return 1 if failed else 0


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["build_plan", "main"]
