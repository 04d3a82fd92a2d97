"""Several trips per vehicle at province scale: the same scenario solved with one trip per
vehicle (scenario schema 2) and with several (schema 3), in the same run.

    python -m benchmarks.trips [--communes 72] [--time-limit 60] [--vans-capacity 32]
                               [--trucks-capacity 60]
    python -m benchmarks.trips --scenario scenarios/ha-giang-2026.yaml [--time-limit 20]

The scenario is the issue's province case: every commune of the embedded Hà Giang dataset
but the library's ward (or the ``--communes`` nearest to the library), 2 crates each way,
90 minutes on site, the default scenario's two daily windows, two trucks and two vans of the
default scenario's library, 5 days, trips of up to 5 days. Printed per variant: communes
served, trips, vehicle-days, nights, km and cost, and whether ``planner check`` finds the plan
valid. With ``--scenario`` the given scenario file is solved instead, as schema 2 and as
schema 3 (its other settings as written, its book batches left out).
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import Any

import yaml

from geodata.datasets import load_dataset
from planner.check import check_plan
from planner.pipeline import problem_for, solve_scenario
from planner.scenario import parse_scenario

DEFAULT = Path(__file__).resolve().parents[1] / "scenarios" / "ha-giang-2026.yaml"
WINDOWS = [{"start": "07:30", "end": "11:30"}, {"start": "13:30", "end": "16:00"}]


def scenario_data(n_communes: int, version: int, time_limit_s: float,
                  van_capacity: int, truck_capacity: int) -> dict[str, Any]:
    base = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    base.pop("rotation", None)
    depot = base["depots"][0]
    communes = load_dataset(base["network"]).communes
    communes = communes[communes["commune_code"] != depot["commune_code"]]
    lon, lat = depot["location"]["lon"], depot["location"]["lat"]
    order = ((communes.geometry.x - lon) ** 2 + (communes.geometry.y - lat) ** 2).argsort()
    codes = [str(c) for c in communes.iloc[order]["commune_code"].head(n_communes)]
    truck, van = copy.deepcopy(base["vehicles"][0]), copy.deepcopy(base["vehicles"][1])
    truck.update(count=2, max_trip_days=5, capacity_crates=truck_capacity)
    van.update(count=2, max_trip_days=5, capacity_crates=van_capacity)
    return {**base, "schema_version": version, "name": f"province-v{version}",
            "vehicles": [truck, van], "transfers": [],
            "stops": [{"commune_code": c, "deliver_crates": 2, "collect_crates": 2,
                       "service_minutes": 90, "time_windows": WINDOWS} for c in codes],
            "solver": {"time_limit_s": time_limit_s, "seed": 0}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--communes", type=int, default=72)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--vans-capacity", type=int, default=32)
    ap.add_argument("--trucks-capacity", type=int, default=60)
    ap.add_argument("--scenario", type=Path, default=None,
                    help="solve this scenario file (as schema 2, then 3) instead")
    args = ap.parse_args(argv)
    if args.scenario is not None:
        raw = yaml.safe_load(args.scenario.read_text(encoding="utf-8"))
        raw.pop("rotation", None)  # the book batches do not change the routes
        print(f"{args.scenario}, {args.time_limit:g} s per solve")
    else:
        print(f"Hà Giang, {args.communes} communes, 2 trucks ({args.trucks_capacity} crates) + 2 "
              f"vans ({args.vans_capacity} crates), 5 days, {args.time_limit:g} s per solve")
    print(f"{'variant':<26}{'served':>7}{'trips':>6}{'veh-days':>9}{'nights':>7}{'km':>9}"
          f"{'cost (M VND)':>14}{'valid':>7}{'wall s':>8}")
    for version, label in ((2, "one trip per vehicle"), (3, "several trips")):
        if args.scenario is not None:
            data = {**raw, "schema_version": version,
                    "solver": {**(raw.get("solver") or {}), "time_limit_s": args.time_limit}}
            scenario = parse_scenario(data, file=str(args.scenario))
        else:
            scenario = parse_scenario(scenario_data(args.communes, version, args.time_limit,
                                                    args.vans_capacity, args.trucks_capacity),
                                      file=label)
        t0 = time.perf_counter()
        solved = solve_scenario(scenario, scenario_file=str(args.scenario or label))
        wall = time.perf_counter() - t0
        plan = solved.plan
        problem = problem_for(scenario, solved.network)
        valid = not check_plan(scenario, problem, plan)
        k = plan.kpis
        print(f"{label:<26}{k.communes_served:>7}{k.trips:>6}{k.trip_days:>9}"
              f"{k.nights_away:>7}{k.km:>9.0f}{(k.cost_vnd or 0) / 1e6:>14.1f}"
              f"{'yes' if valid else 'NO':>7}{wall:>8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
