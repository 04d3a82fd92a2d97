"""A season of the former Hà Giang at scale: the embedded season scenario (72 communes, each
every 4 weeks ± 5 days, 4 vehicles, 52 weeks) planned by the product's season solver with its
settings, every trip checked by the independent checker, and compared with a baseline that
repeats a one-cycle plan every 4 weeks.

    python -m benchmarks.season [--days 364] [--period-time-limit S] [--no-baseline]

Printed: wall time of the season solve, peak memory (this process and its search processes),
visits planned and unserved, trips, km and cost, the checker's findings, and the baseline: one
4-week cycle of every commune (each visited once, the same solver on the season's first 28
days), its cost times the cycles in the season. The baseline's cost ignores what holidays add
when a repeated cycle must move around them, so it favours the baseline.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from planner.pipeline import prepare_network, problem_for
from planner.scenario import VisitRule, load_scenario
from planner.season import solve_season
from planner.seasoncheck import check_season

SEASON = Path(__file__).resolve().parents[1] / "scenarios" / "ha-giang-2026-season.yaml"


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=364)
    parser.add_argument("--period-time-limit", type=float, default=None)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--seed-with-cycle", choices=("yes", "no"), default=None,
                        help="override the scenario's periodic.seed_with_cycle")
    args = parser.parse_args()
    base = load_scenario(SEASON)
    scenario = base.model_copy(update={"horizon": base.horizon.model_copy(
        update={"days": args.days})})
    if args.seed_with_cycle is not None:
        scenario = scenario.model_copy(update={"periodic": scenario.periodic.model_copy(  # type: ignore[union-attr]
            update={"seed_with_cycle": args.seed_with_cycle == "yes"})})
    t0 = time.perf_counter()
    solved = solve_season(scenario, scenario_file=str(SEASON),
                          time_limit_s=args.period_time_limit)
    wall = time.perf_counter() - t0
    plan = solved.plan
    assert plan.season is not None
    t1 = time.perf_counter()
    found = check_season(scenario, plan, lambda sub: problem_for(sub, prepare_network(sub)))
    check_s = time.perf_counter() - t1
    visits = sum(len(r.visits) for r in plan.routes)
    k = plan.kpis
    print(f"season: {args.days} days, {len(scenario.stops)} communes, "
          f"{sum(v.count for v in scenario.vehicles)} vehicles, "
          f"{len(plan.season.periods)} working periods")
    print(f"  solve {wall:.1f} s (visit dates {plan.season.assignment_wall_s:.1f} s, "
          f"{plan.season.repair_rounds} repair rounds), peak memory {_peak_mb():.0f} MB")
    print(f"  {visits} visits on {len(plan.routes)} trips, {len(plan.unserved)} unserved "
          f"({plan.season.unrouted_first} after the first routing); {k.km:,.0f} km, "
          f"{k.cost_vnd:,.0f} VND")
    why: dict[str, int] = {}
    for u in plan.unserved:
        why[u.reason_code] = why.get(u.reason_code, 0) + 1
    if why:
        print(f"  unserved by reason: {why}")
    print(f"  batches: {plan.season.batch_status}, shortages "
          f"{[(s.need, s.visits, s.at_least) for s in plan.season.batch_shortages]}")
    kinds: dict[str, int] = {}
    for v in found:
        kinds[v.kind] = kinds.get(v.kind, 0) + 1
    print(f"  checker: {len(found)} finding(s) {kinds or ''} in {check_s:.1f} s")
    if args.no_baseline:
        return
    cycle = scenario.model_copy(update={
        "name": "one-cycle", "rotation": None,
        "horizon": scenario.horizon.model_copy(update={"days": 28}),
        "periodic": scenario.periodic.model_copy(update={  # type: ignore[union-attr]
            "default_rule": VisitRule(count=1)})})
    t2 = time.perf_counter()
    one = solve_season(cycle, scenario_file=str(SEASON), time_limit_s=args.period_time_limit)
    cycles = args.days / 28
    cost = (one.plan.kpis.cost_vnd or 0) * cycles
    print(f"baseline: one 4-week cycle in {time.perf_counter() - t2:.1f} s: "
          f"{len(one.plan.routes)} trips, {one.plan.kpis.km:,.0f} km, "
          f"{one.plan.kpis.cost_vnd:,.0f} VND, {len(one.plan.unserved)} unserved; "
          f"repeated {cycles:.1f} times: {cost:,.0f} VND")
    if cost:
        print(f"season against baseline: {100 * ((k.cost_vnd or 0) / cost - 1):+.1f}% cost")


if __name__ == "__main__":
    main()
