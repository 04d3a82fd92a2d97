"""PyVRP at its default settings (``pyvrp.solve`` via ``Model.solve`` with ``MaxRuntime``).

PyVRP works in integers: it gets the same scaled distances (objective) and rounded-up
durations (time windows) as the OR-Tools models, from :mod:`benchmarks.vrp.scaling`.
Li & Lim pairs become PyVRP shipments; every vehicle has a fixed cost there (vehicles first).
"""

from __future__ import annotations

import time

from benchmarks.vrp.instances import Instance
from benchmarks.vrp.result import Outcome, Route
from benchmarks.vrp.scaling import scale, vehicle_cost


def solve_pyvrp(inst: Instance, time_limit_s: float, *, seed: int = 0) -> Outcome:
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    t0 = time.perf_counter()
    sc = scale(inst)
    m = Model()
    locs = [m.add_location(x=float(x), y=float(y)) for x, y in inst.coords]
    depots = [m.add_depot(locs[d], tw_early=sc.ready[d], tw_late=sc.due[d])
              for d in range(inst.n_depots)]
    fixed = vehicle_cost(sc) if inst.objective == "vehicles_then_distance" else 0
    for d, dep in enumerate(depots):
        extra = {} if sc.max_duration[d] is None else {"shift_duration": sc.max_duration[d]}
        m.add_vehicle_type(sc.fleet[d], capacity=[inst.capacity[d]], start_depot=dep,
                           end_depot=dep, tw_early=sc.ready[d], tw_late=sc.due[d],
                           fixed_cost=fixed, **extra)
    client_node: list[int] = []  # pyvrp client index -> instance node
    shipment_nodes: list[tuple[int, int]] = []
    paired = {n for pair in inst.pairs for n in pair}
    for c in inst.customers:
        if c in paired:
            continue
        m.add_client(locs[c], delivery=[max(0, inst.demand[c])], service_duration=sc.service[c],
                     tw_early=sc.ready[c], tw_late=sc.due[c])
        client_node.append(c)
    for p, d in inst.pairs:
        m.add_shipment(locs[p], locs[d], pickup_tw_early=sc.ready[p], pickup_tw_late=sc.due[p],
                       pickup_service_duration=sc.service[p], delivery_tw_early=sc.ready[d],
                       delivery_tw_late=sc.due[d], delivery_service_duration=sc.service[d],
                       amount=[inst.demand[p]])
        shipment_nodes.append((p, d))
    cost, travel = sc.cost.tolist(), sc.travel.tolist()
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            if i != j:
                m.add_edge(a, b, distance=cost[i][j], duration=travel[i][j])
    result = m.solve(stop=MaxRuntime(time_limit_s), seed=seed, display=False)
    best = result.best
    routes = []
    for rt in best.routes():
        visits = []
        for act in rt.schedule():
            if act.is_client():
                visits.append(client_node[act.idx])
            elif act.is_pickup():
                visits.append(shipment_nodes[act.idx][0])
            elif act.is_delivery():
                visits.append(shipment_nodes[act.idx][1])
        routes.append(Route(depot=rt.start_depot(), visits=tuple(visits)))
    status = "feasible" if best.is_feasible() else "infeasible (pyvrp)"
    return Outcome(routes=tuple(routes), status=status, wall_s=time.perf_counter() - t0,
                   objective=float(result.cost()))
