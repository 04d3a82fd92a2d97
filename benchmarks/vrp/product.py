"""Solve a benchmark instance through the product's own model: ``planner.problem.RoutingProblem``
solved by ``planner.search.solve`` (the portfolio around ``planner._ortools``) with the search
settings ``planner solve`` uses by default (``planner.scenario.SolverSettings``), only the time
limit changed. ``product`` is that default (PyVRP's routes seed the OR-Tools model, two
processes); ``product-unseeded`` is the same with seeding off (two OR-Tools searches).

Mapping: one depot per instance depot, one vehicle per allowed vehicle (profile 0), customers
as required stops (deliver = demand, collect = 0, so the swap-correct load is the classic
capacity constraint), one day-long horizon (see :mod:`benchmarks.vrp.scaling`), and an
objective of distance only (``distance_cost_coeff=1``, no travel-time or span cost). Li & Lim
pairs use the model's optional pickup-and-delivery pairs and a fixed cost per vehicle
(vehicles first, then distance).
"""

from __future__ import annotations

import time
from dataclasses import replace

from benchmarks.vrp.instances import Instance
from benchmarks.vrp.result import Outcome, Route
from benchmarks.vrp.scaling import Scaled, scale, vehicle_cost
from planner import solve as search
from planner.problem import DAY_S, REQUIRED_PENALTY, RoutingProblem, VehicleSpec
from planner.scenario import SolverSettings
from planner.solve import SolverParams


def default_params(time_limit_s: float, *, seeded: bool = True) -> SolverParams:
    """The product's default search (as in ``planner solve``) with the given time limit."""
    params = SolverParams.from_settings(SolverSettings(), time_limit_s=time_limit_s)
    return replace(params, seed_with_pyvrp=params.seed_with_pyvrp and seeded)


def build_routing_problem(inst: Instance, sc: Scaled | None = None) -> RoutingProblem:
    """The product's :class:`RoutingProblem` for a benchmark instance."""
    sc = sc or scale(inst)
    n, nd = inst.n_nodes, inst.n_depots
    vehicles = []
    for d in range(nd):
        span = sc.max_duration[d] if sc.max_duration[d] is not None else DAY_S
        for k in range(sc.fleet[d]):
            vehicles.append(VehicleSpec(
                id=f"d{d}-v{k + 1}", scenario_index=d, profile=0, start=d, end=d,
                capacity=inst.capacity[d], shift_start_s=0, shift_end_s=DAY_S - 1,
                earliest_start_s=sc.ready[d], latest_end_s=sc.due[d], max_span_s=span))
    pd = inst.kind == "pdptw"
    fixed = vehicle_cost(sc) if inst.objective == "vehicles_then_distance" else 0
    # a missing customer must always cost more than a vehicle plus any detour
    penalty = max(REQUIRED_PENALTY, 10 * (fixed + 2 * int(sc.cost.max())))
    zeros = (0,) * nd
    demand = tuple(max(0, q) for q in inst.demand)
    return RoutingProblem(
        n_depots=nd, n_stops=n - nd, horizon_days=1, profiles=("benchmark",),
        time_s=(sc.travel,), distance_m=(sc.cost,), vehicles=tuple(vehicles),
        deliver=zeros + ((0,) * (n - nd) if pd else demand[nd:]),
        collect=(0,) * n, service_s=sc.service,
        windows=tuple(((sc.ready[i], sc.due[i]),) for i in range(n)),
        required=(True,) * n, penalty=zeros + (penalty,) * (n - nd),
        travel_cost_coeff=0, distance_cost_coeff=1, span_cost_coeff=0,
        vehicle_fixed_cost=(fixed,) * len(vehicles) if fixed else None,
        pickup_delivery=inst.pairs if pd else (),
        pair_load=tuple(inst.demand) if pd else None,
    )


def solve_product(inst: Instance, time_limit_s: float, *, seeded: bool = True) -> Outcome:
    t0 = time.perf_counter()
    sc = scale(inst)
    problem = build_routing_problem(inst, sc)
    raw = search.solve(problem, default_params(time_limit_s, seeded=seeded))
    routes = tuple(Route(depot=v.start, visits=tuple(r))
                   for v, r in zip(problem.vehicles, raw.routes, strict=True) if r)
    return Outcome(routes=routes, status=f"{raw.status} ({raw.strategy})",
                   wall_s=time.perf_counter() - t0, objective=raw.objective)


def solve_product_unseeded(inst: Instance, time_limit_s: float) -> Outcome:
    return solve_product(inst, time_limit_s, seeded=False)

