"""Solve a periodic (PVRP) benchmark instance through the product's own season solver:
:func:`planner.periodic.solve_periodic`, the search of :func:`planner.season.solve_season`
(visit days by CP-SAT, each day routed by the product's search, repair and improving moves)
on matrices, with the season's default settings (:class:`planner.scenario.PeriodicSpec`,
:class:`planner.scenario.SolverSettings`) and the time limit as the whole search's budget.

Mapping: the product's :class:`~planner.problem.RoutingProblem` of one day
(:func:`benchmarks.vrp.product.build_routing_problem`: ``m`` vehicles of capacity ``Q``, the
duration limit as the longest route, distance only), and per customer a visit rule of
``day_sets``: its allowed visit-day combinations.
"""

from __future__ import annotations

import time

from benchmarks.vrp.instances import Instance
from benchmarks.vrp.product import build_routing_problem
from benchmarks.vrp.result import NotSupported, Outcome, Route
from planner.periodic import solve_periodic
from planner.scenario import VisitRule


def solve_season_product(inst: Instance, time_limit_s: float) -> Outcome:
    if inst.kind != "pvrp":
        raise NotSupported("the season solver takes periodic (PVRP) instances only")
    if len(set(inst.day_capacity)) > 1 or len(set(inst.day_duration)) > 1:
        raise NotSupported("days with different capacities or duration limits")
    t0 = time.perf_counter()
    problem = build_routing_problem(inst)
    rules = [VisitRule(day_sets=inst.patterns[c]) for c in inst.customers]
    solved = solve_periodic(problem, rules, days=inst.days, time_limit_s=time_limit_s)
    routes = tuple(Route(depot=problem.vehicles[k].start, visits=tuple(r), day=day)
                   for day, per_vehicle in enumerate(solved.routes)
                   for k, r in enumerate(per_vehicle) if r)
    status = (f"dates {solved.assignment_status}, {solved.repair_rounds} repair round(s), "
              f"{solved.improve_kept}/{solved.improve_tried} moves kept, "
              f"{solved.all_days_rounds} all-days routing(s)")
    return Outcome(routes=routes, status=status, wall_s=time.perf_counter() - t0,
                   objective=solved.cost)
