"""Plain OR-Tools baseline: the textbook VRPTW model, written separately from the product's.

Routing index manager, one distance callback as arc cost, a capacity dimension, a time
dimension with windows (and route-duration limits), pickup-and-delivery pairs where the
instance has them, PARALLEL_CHEAPEST_INSERTION + GUIDED_LOCAL_SEARCH, no tuning.
"""

from __future__ import annotations

import time

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from benchmarks.vrp.instances import Instance
from benchmarks.vrp.result import Outcome, Route
from benchmarks.vrp.scaling import scale, vehicle_cost


def solve_plain_ortools(inst: Instance, time_limit_s: float) -> Outcome:
    t0 = time.perf_counter()
    sc = scale(inst)
    depot_of = [d for d in range(inst.n_depots) for _ in range(sc.fleet[d])]
    manager = pywrapcp.RoutingIndexManager(inst.n_nodes, len(depot_of), depot_of, depot_of)
    routing = pywrapcp.RoutingModel(manager)
    node = manager.IndexToNode

    cost = sc.cost.tolist()
    dist_cb = routing.RegisterTransitCallback(lambda i, j: cost[node(i)][node(j)])
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    if inst.objective == "vehicles_then_distance":
        routing.SetFixedCostOfAllVehicles(vehicle_cost(sc))

    demand = list(inst.demand)
    demand_cb = routing.RegisterUnaryTransitCallback(lambda i: demand[node(i)])
    routing.AddDimensionWithVehicleCapacity(
        demand_cb, 0, [inst.capacity[d] for d in depot_of], True, "capacity")

    travel, service = sc.travel.tolist(), sc.service
    time_cb = routing.RegisterTransitCallback(
        lambda i, j: service[node(i)] + travel[node(i)][node(j)])
    routing.AddDimension(time_cb, sc.time_cap, sc.time_cap, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for c in inst.customers:
        time_dim.CumulVar(manager.NodeToIndex(c)).SetRange(sc.ready[c], sc.due[c])
    for k, d in enumerate(depot_of):
        time_dim.CumulVar(routing.Start(k)).SetRange(sc.ready[d], sc.due[d])
        time_dim.CumulVar(routing.End(k)).SetRange(sc.ready[d], sc.due[d])
        if sc.max_duration[d] is not None:
            time_dim.SetSpanUpperBoundForVehicle(sc.max_duration[d], k)

    solver = routing.solver()
    for p, d in inst.pairs:
        pi, di = manager.NodeToIndex(p), manager.NodeToIndex(d)
        routing.AddPickupAndDelivery(pi, di)
        solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
        solver.Add(time_dim.CumulVar(pi) <= time_dim.CumulVar(di))

    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION)
    search.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    search.time_limit.FromMilliseconds(int(time_limit_s * 1000))
    solution = routing.SolveWithParameters(search)
    status = _status_name(routing.status())
    if solution is None:
        return Outcome(routes=(), status=f"no solution ({status})",
                       wall_s=time.perf_counter() - t0)
    routes = []
    for k, d in enumerate(depot_of):
        visits = []
        idx = solution.Value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(idx):
            visits.append(node(idx))
            idx = solution.Value(routing.NextVar(idx))
        if visits:
            routes.append(Route(depot=d, visits=tuple(visits)))
    return Outcome(routes=tuple(routes), status=status, wall_s=time.perf_counter() - t0,
                   objective=solution.ObjectiveValue())


def _status_name(code: int) -> str:
    try:
        return routing_enums_pb2.RoutingSearchStatus.Value.Name(code).removeprefix("ROUTING_")
    except (AttributeError, ValueError):
        return str(code)
