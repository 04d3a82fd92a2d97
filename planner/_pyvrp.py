"""A PyVRP (hybrid genetic search) run on a relaxation of a :class:`RoutingProblem`: the only
module that imports PyVRP.

Its routes only *seed* the OR-Tools model (:mod:`planner._ortools`), which enforces every
product constraint, rejects a seed it finds infeasible and keeps searching from one it
accepts. PyVRP expresses most of the model as it is: depots, a heterogeneous fleet (profile
matrices, capacity, shift window, longest route, fixed cost), the swap-correct load (PyVRP's
deliveries leave the depot on board and pickups stay on board until the end: the same rule),
service times, optional stops with a prize and transfers as shipments. What it cannot say is
relaxed or declined:

* several windows per stop become one window from the first opening to the last closing (the
  OR-Tools model then checks the real windows);
* a stop only some vehicles may serve becomes unreachable (prohibitive travel) for the others
  through a matrix per group of vehicles;
* trips over several days (night rests inside the shift model, lodging) and re-planning
  constraints are not expressed at all: :func:`seed_unsupported` says why and no seed is made.

Costs are the model's own objective: arc cost by
:meth:`~planner.problem.RoutingProblem.arc_cost_matrix`, ``span_cost_coeff`` per second of
route duration, the fixed
cost per vehicle and the penalty of each dropped stop as its prize, so PyVRP's cost and the
OR-Tools objective of the same routes agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.problem import NO_PATH_S, RoutingProblem
from planner.solution import Patience

FORBIDDEN_ARC = NO_PATH_S  # travel on an arc a vehicle group may not use


@dataclass(frozen=True)
class Seed:
    """Routes per vehicle (location indices, depots excluded) and PyVRP's cost for them."""

    routes: tuple[tuple[int, ...], ...]
    cost: int
    feasible: bool
    iterations: int
    wall_s: float


def seed_unsupported(problem: RoutingProblem) -> str | None:
    """Why no seed can be made for ``problem`` (``None``: it can)."""
    if problem.horizon_days > 1:
        return "trips over several days (night rests) are modelled by OR-Tools only"
    pd_nodes = {n for pair in problem.pickup_delivery for n in pair}
    if len(pd_nodes) < 2 * len(problem.pickup_delivery):
        return "a commune in several transfers (PyVRP serves each shipment's ends apart)"
    if any(problem.deliver[n] or problem.collect[n] for n in pd_nodes):
        return "a transfer stop that also delivers or collects crates"
    if problem.pair_load is not None and any(
            q for n, q in enumerate(problem.pair_load) if n not in pd_nodes):
        return "pair load outside the transfer pairs"
    return None


class _NoImprovementFor:
    """A PyVRP stopping criterion: true once the best cost has not fallen for ``seconds``
    (:class:`~planner.solution.Patience`), or nothing feasible was found in that time."""

    def __init__(self, seconds: float) -> None:
        import time

        self._clock = time.perf_counter
        self.seconds = seconds
        self.best = float("inf")
        self.began = self._clock()
        self._patience = Patience(seconds)

    def __call__(self, best_cost: float) -> bool:
        now = self._clock()
        if best_cost < self.best:
            self.best = best_cost
            self._patience.better(now)
            return False
        if math.isinf(self.best):
            return now - self.began >= self.seconds
        return self._patience.converged(now)


def hgs_seed(problem: RoutingProblem, *, time_limit_s: float, seed: int = 0,
             max_iterations: int | None = None, patience_s: float | None = None
             ) -> Seed | None:
    """Run PyVRP on ``problem`` (see the module docstring) and return its best routes, or
    ``None`` when the problem has features it cannot express or it found no solution. With
    ``patience_s`` it stops once its best cost has not fallen for that many seconds."""
    import time

    from pyvrp import Client, Depot, Location, ProblemData, Shipment, VehicleType, solve
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

    if seed_unsupported(problem) is not None:
        return None
    t0 = time.perf_counter()
    n, nd = problem.n_locations, problem.n_depots
    locations = [Location(x=0.0, y=0.0) for _ in range(n)]
    depots = [Depot(location=d) for d in range(nd)]

    pd_nodes = {node for pair in problem.pickup_delivery for node in pair}
    # under a continuous-driving rule the crew stays at a stop at least a pause (the OR-Tools
    # model's stay); PyVRP's service time is per client, so the longest pause counts
    pause = max((v.drive_rest_s for v in problem.vehicles
                 if v.max_continuous_drive_s is not None), default=0)
    stay = [max(problem.service_s[loc], pause) if loc >= nd else problem.service_s[loc]
            for loc in range(n)]
    clients, client_loc = [], []
    for loc in range(nd, n):
        if loc in pd_nodes:
            continue
        wins = problem.windows[loc]
        clients.append(Client(
            location=loc, delivery=[problem.deliver[loc]], pickup=[problem.collect[loc]],
            service_duration=stay[loc], tw_early=wins[0][0], tw_late=wins[-1][1],
            required=problem.required[loc],
            prize=0 if problem.required[loc] else problem.penalty[loc]))
        client_loc.append(loc)
    shipments = []
    for p, d in problem.pickup_delivery:
        pw, dw = problem.windows[p], problem.windows[d]
        shipments.append(Shipment(
            pickup_location=p, delivery_location=d, pickup_tw_early=pw[0][0],
            pickup_tw_late=pw[-1][1], pickup_service_duration=stay[p],
            delivery_tw_early=dw[0][0], delivery_tw_late=dw[-1][1],
            delivery_service_duration=stay[d],
            amount=[problem.pair_load[p] if problem.pair_load else 0],
            required=problem.required[p] and problem.required[d],
            prize=0 if problem.required[p] else problem.penalty[p] + problem.penalty[d]))

    # one routing profile per (travel profile, stops the vehicle may not serve)
    forbidden_of = []
    for k in range(len(problem.vehicles)):
        allowed = problem.allowed_vehicles or ()
        forbidden_of.append(frozenset(loc for loc, ks in enumerate(allowed)
                                      if ks is not None and k not in ks))
    def key_of(k: int) -> tuple:
        v = problem.vehicles[k]
        return (problem.arc_cost_key(k), forbidden_of[k], v.max_continuous_drive_s,
                v.drive_rest_s)

    profile_keys: dict[tuple, int] = {}
    distance_mats: list[np.ndarray] = []
    duration_mats: list[np.ndarray] = []
    for k, v in enumerate(problem.vehicles):
        key = key_of(k)
        if key in profile_keys:
            continue
        t_mat = np.asarray(problem.time_s[v.profile], dtype=np.int64)
        cost = problem.arc_cost_matrix(*problem.arc_cost_key(k)).copy()  # (arcs forbidden)
        dur = v.leg_matrix(t_mat)
        if key[1]:
            idx = np.fromiter(key[1], dtype=np.int64)
            for mat in (cost, dur):
                mat[idx, :] = FORBIDDEN_ARC
                mat[:, idx] = FORBIDDEN_ARC
        np.fill_diagonal(cost, 0)
        np.fill_diagonal(dur, 0)
        profile_keys[key] = len(distance_mats)
        distance_mats.append(cost)
        duration_mats.append(dur)

    # vehicles with the same data form one vehicle type; remember which vehicles it holds
    type_keys: dict[tuple, list[int]] = {}
    for k, v in enumerate(problem.vehicles):
        fixed = problem.vehicle_fixed_cost[k] if problem.vehicle_fixed_cost else 0
        type_key = (v.start, v.end, v.capacity, v.earliest_start_s, v.latest_end_s, v.max_span_s,
                    fixed, profile_keys[key_of(k)])
        type_keys.setdefault(type_key, []).append(k)
    vehicle_types = [
        VehicleType(num_available=len(ks), capacity=[cap], start_depot=start, end_depot=end,
                    fixed_cost=fixed, tw_early=early, tw_late=late, shift_duration=span,
                    unit_distance_cost=1, unit_duration_cost=problem.span_cost_coeff,
                    profile=profile)
        for (start, end, cap, early, late, span, fixed, profile), ks in type_keys.items()]
    type_vehicles = list(type_keys.values())

    data = ProblemData(locations=locations, clients=clients, depots=depots,
                       vehicle_types=vehicle_types,
                       distance_matrices=distance_mats,  # type: ignore[arg-type]
                       duration_matrices=duration_mats,  # type: ignore[arg-type]
                       shipments=shipments)
    stops: list[StoppingCriterion] = [MaxRuntime(max(0.05, time_limit_s))]
    if max_iterations is not None:
        stops.append(MaxIterations(max_iterations))
    if patience_s is not None:
        stops.append(_NoImprovementFor(patience_s))
    result = solve(data, stop=MultipleCriteria(stops), seed=seed, collect_stats=False,
                   display=False)
    best = result.best
    routes: list[list[int]] = [[] for _ in problem.vehicles]
    used = [0] * len(type_vehicles)
    for rt in best.routes():
        t = rt.vehicle_type()
        k = type_vehicles[t][used[t]]
        used[t] += 1
        for act in rt.schedule():
            if act.is_client():
                routes[k].append(client_loc[act.idx])
            elif act.is_pickup():
                routes[k].append(problem.pickup_delivery[act.idx][0])
            elif act.is_delivery():
                routes[k].append(problem.pickup_delivery[act.idx][1])
    best_cost = result.cost()  # infinite when PyVRP found nothing feasible
    feasible = bool(best.is_feasible()) and np.isfinite(best_cost)
    return Seed(routes=tuple(tuple(r) for r in routes),
                cost=int(best_cost) if feasible else -1,
                feasible=feasible, iterations=int(result.num_iterations),
                wall_s=time.perf_counter() - t0)
