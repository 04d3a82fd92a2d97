"""The OR-Tools routing model: the only module that imports OR-Tools routing.

Model, per :class:`~planner.problem.RoutingProblem`:

* one route per vehicle from its depot back to it, arc cost = travel time of its profile
  (by default);
* time dimension in seconds from the horizon start; a node's cumul is its service start,
  which must fall in one of the stop's windows;
* drivers work only inside their daily shift: each night is a mandatory break interval that
  starts at or before the shift end and ends at the next shift start; no service overlaps it,
  and a leg may be interrupted by it (a night in a village on the road). The schedule built
  from the routes (``planner.schedule``) prefers nights at a stop where that stays feasible;
* swap-correct load: the trip leaves the depot with every crate it will deliver
  (``load`` start = ``delivered`` end), then each stop removes its deliveries and adds its
  collections; ``load`` stays within capacity at every point;
* optional pickup-and-delivery pairs: both on the same vehicle, pickup first, the goods on
  board in between (``pair_load``);
* the objective is travel time plus route span by default; ``travel_cost_coeff``,
  ``distance_cost_coeff``, ``span_cost_coeff`` and ``vehicle_fixed_cost`` reweigh it;
* every stop is a disjunction: required stops carry a prohibitive penalty, optional ones a
  penalty from their priority, so the solver always returns a plan and names what it left out.

Search: a first solution, then OR-Tools' iterated local search (ruin and recreate, greedy
descent) where the model allows it (:func:`ils_unsupported`), else ``params.local_search``
(guided local search by default) to the time limit; from given routes, ``local_search``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2
from ortools.util import optional_boolean_pb2

from planner.problem import DAY_S, RoutingProblem, VehicleSpec


@dataclass(frozen=True)
class SolverParams:
    time_limit_s: float = 30.0
    solution_limit: int | None = None
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    local_search: str = "GUIDED_LOCAL_SEARCH"
    gls_lambda: float = 0.1  # guided local search penalty factor (OR-Tools' default)
    # the portfolio around this model (planner.search)
    workers: int = 2  # processes (cores) one solve may use
    hgs_seed: bool = True  # start OR-Tools from PyVRP's routes where PyVRP can model the problem
    seed: int = 0  # PyVRP's random seed
    hgs_iterations: int = 20_000  # PyVRP's budget in a reproducible run (solution_limit set)
    polish_share: float = 0.05  # share of the time OR-Tools searches on from the best start
    # searches that start from nothing use OR-Tools' iterated local search where the model
    # allows it (see ils_unsupported); ``local_search`` otherwise and from given routes
    iterated: bool = True


@dataclass(frozen=True)
class VisitConstraints:
    """Re-planning constraints, by location index: ``vehicles`` limits which vehicles may
    serve a stop, ``start_s`` pins a service start (a visit already done), ``required``
    makes a stop mandatory (never dropped)."""

    vehicles: dict[int, tuple[int, ...]] = field(default_factory=dict)
    start_s: dict[int, int] = field(default_factory=dict)
    required: frozenset[int] = frozenset()


@dataclass(frozen=True)
class RawSolution:
    """Stop order per vehicle (location indices, depots excluded) and how the search went."""

    routes: tuple[tuple[int, ...], ...]
    objective: int
    status: str
    wall_s: float
    progress: tuple[tuple[float, int], ...] = field(default=())
    starts: tuple[tuple[int, ...], ...] = ()  # earliest service start of each stop, per route
    # daily breaks per vehicle as the solver placed them: (start, end) seconds
    breaks: tuple[tuple[tuple[int, int], ...], ...] = ()
    seeded: bool = False  # the search started from the given initial routes
    strategy: str = "ortools"  # which search of planner.search produced the routes
    local_search: str = ""  # the metaheuristic that ran: ITERATED_LOCAL_SEARCH or as asked


ITERATED_LOCAL_SEARCH = "ITERATED_LOCAL_SEARCH"
# Ruin size of the iterated local search (SISR: strings of nearby visits removed, then put
# back by cheapest insertion, then greedy descent; simulated-annealing acceptance). Solomon
# RC1 at 10 s, two processes, unseeded (benchmarks/vrp, 2026-11-22): about 20 visits removed
# per ruin of 100 gave 2.2%; 5 gave 4.0%, 10 gave 2.6%, 30 gave 2.6%, 40 gave 2.5%. Strings of
# up to 20 visits instead of 10 took C2 (three long routes) from 0.9% to 0.1% but R1 and R2
# up by about 0.3 points; that is left for a later tuning.
ILS_REMOVED_SHARE = 0.2
ILS_MAX_REMOVED = 20
ILS_MAX_SEQUENCE = 10


def ils_unsupported(problem: RoutingProblem,
                    constraints: VisitConstraints | None = None) -> str | None:
    """Why OR-Tools' iterated local search will not run on ``problem`` (``None``: it will).

    OR-Tools 9.15 rebuilds each perturbed solution without fixing the time cumuls: with a
    cost on route span its cost variable stays unbound and the process aborts, and with
    night rests (trips over several days) the search stalls at its first solution."""
    if problem.span_cost_coeff:
        return "the objective counts the hours from departure to return (span cost)"
    if problem.horizon_days > 1:
        return "trips may last several days (night rests)"
    if constraints is not None:
        return "re-planning keeps visits fixed"
    return None


def search_parameters(params: SolverParams, *, ils_stops: int | None = None
                      ) -> routing_parameters_pb2.RoutingSearchParameters:
    """OR-Tools search parameters for ``params``; with ``ils_stops`` (the number of stops)
    the iterated local search (run by :func:`solve_routing`), else ``params.local_search``."""
    search = pywrapcp.DefaultRoutingSearchParameters()
    search.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy,
                                             params.first_solution)
    search.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic,
                                                params.local_search)
    if ils_stops is not None:
        search.use_iterated_local_search = True
        search.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
        ils = search.iterated_local_search_parameters
        ils.improve_perturbed_solution = True
        sisr = ils.ruin_recreate_parameters.ruin_strategies.add().sisr
        sisr.avg_num_removed_visits = max(1, min(ILS_MAX_REMOVED,
                                                 round(ILS_REMOVED_SHARE * ils_stops)))
        sisr.max_removed_sequence_size = max(1, min(ILS_MAX_SEQUENCE, ils_stops))
        sisr.bypass_factor = 0.01
        sa = ils.reference_solution_acceptance_strategy.simulated_annealing
        sa.automatic_temperatures = True
    search.guided_local_search_lambda_coefficient = params.gls_lambda
    # penalise arcs per vehicle class and let the operators see the penalties: on Solomon
    # R/RC at 10 s this took the mean gap from 5.5% to 3.8% (benchmarks/vrp, same machine)
    search.guided_local_search_penalize_with_vehicle_classes = True
    search.use_guided_local_search_penalties_in_local_search_operators = True
    search.time_limit.FromMilliseconds(int(params.time_limit_s * 1000))
    if params.solution_limit:
        # a solution limit asks for a reproducible run: nothing inside the search may depend
        # on the clock (LNS sub-searches have their own time limit by default)
        search.solution_limit = params.solution_limit
        ops = search.local_search_operators
        for f in ops.DESCRIPTOR.fields:
            if "lns" in f.name:
                setattr(ops, f.name, optional_boolean_pb2.BOOL_FALSE)
    return search


def solve_routing(problem: RoutingProblem, params: SolverParams, *,
                  on_progress: Callable[[float, int], None] | None = None,
                  constraints: VisitConstraints | None = None,
                  initial_routes: tuple[tuple[int, ...], ...] | None = None) -> RawSolution:
    """Solve ``problem``; with ``initial_routes`` (stop order per vehicle) the search starts
    from them when the model accepts them as a solution, else from its own first solution."""
    n, vehicles = problem.n_locations, problem.vehicles
    manager = pywrapcp.RoutingIndexManager(n, len(vehicles), [v.start for v in vehicles],
                                           [v.end for v in vehicles])
    routing = pywrapcp.RoutingModel(manager)
    svc = problem.service_s

    # matrices and vectors registered as such run in C++: no Python call per arc evaluation
    travel_cb: dict[int, int] = {}
    for p, mat in enumerate(problem.time_s):
        travel_cb[p] = routing.RegisterTransitMatrix(np.asarray(mat, dtype=np.int64).tolist())
    # time between services: the stay at a stop, then the leg with its roadside pauses (a
    # continuous-driving rule depends on the vehicle, so one matrix per profile and rule)
    transit_cb: dict[tuple, int] = {}
    for v in vehicles:
        key = (v.profile, v.max_continuous_drive_s, v.drive_rest_s)
        if key not in transit_cb:
            transit_cb[key] = routing.RegisterTransitMatrix(
                _transit_matrix(problem, v, problem.time_s[v.profile]).tolist())
    cost_cb = travel_cb
    if (problem.travel_cost_coeff, problem.distance_cost_coeff) != (1, 0):
        cost_cb = {p: routing.RegisterTransitMatrix(
            (problem.travel_cost_coeff * np.asarray(t_mat, dtype=np.int64)
             + problem.distance_cost_coeff * np.asarray(d_mat, dtype=np.int64)).tolist())
            for p, (t_mat, d_mat) in enumerate(zip(problem.time_s, problem.distance_m))}
    for k, v in enumerate(vehicles):
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[v.profile], k)
        if problem.vehicle_fixed_cost:
            routing.SetFixedCostOfVehicle(problem.vehicle_fixed_cost[k], k)

    horizon = problem.horizon_s
    routing.AddDimensionWithVehicleTransits(
        [transit_cb[(v.profile, v.max_continuous_drive_s, v.drive_rest_s)] for v in vehicles],
        horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for loc in range(problem.n_depots, n):
        idx = manager.NodeToIndex(loc)
        wins = problem.windows[loc]
        cumul = time_dim.CumulVar(idx)
        cumul.SetRange(wins[0][0], wins[-1][1])
        for (_, end_a), (start_b, _) in zip(wins, wins[1:]):
            if start_b > end_a + 1:
                cumul.RemoveInterval(end_a + 1, start_b - 1)
    solver = routing.solver()
    node_visit = [0 if routing.IsStart(i) else svc[manager.IndexToNode(i)]
                  for i in range(routing.Size())]
    break_vars: list[list] = []
    for k, v in enumerate(vehicles):
        time_dim.CumulVar(routing.Start(k)).SetRange(v.earliest_start_s, v.latest_end_s)
        time_dim.CumulVar(routing.End(k)).SetRange(v.earliest_start_s, v.latest_end_s)
        time_dim.SetSpanUpperBoundForVehicle(v.max_span_s, k)
        time_dim.SetSpanCostCoefficientForVehicle(problem.span_cost_coeff, k)
        nights = []
        for day in range(problem.horizon_days - 1):
            _, end_today = v.shift_on(day)
            start_next, _ = v.shift_on(day + 1)
            nights.append(solver.IntervalVar(
                day * DAY_S + v.shift_start_s, end_today,  # start
                start_next - end_today, start_next - day * DAY_S - v.shift_start_s,  # duration
                start_next, start_next,  # end
                False, f"night-{k}-{day}"))
        rests = []
        for day in range(problem.horizon_days):
            for b, (b_start, b_end, b_len) in enumerate(v.breaks):
                rests.append(solver.FixedDurationIntervalVar(
                    day * DAY_S + b_start, day * DAY_S + b_end - b_len, b_len, False,
                    f"break-{k}-{day}-{b}"))
        break_vars.append(rests)
        if nights or rests:
            time_dim.SetBreakIntervalsOfVehicle(nights + rests, k, node_visit)

    capped = any(v.drive_cap_binds for v in vehicles)
    multi_day = problem.horizon_days > 1
    day_dim = None
    if multi_day and (problem.lodging is not None or capped):
        # "day" cumul = the day of the service start (or of leaving the depot); its slack at
        # a node is the number of nights between that node and the next one
        routing.AddConstantDimensionWithSlack(0, problem.horizon_days, problem.horizon_days,
                                              False, "day")
        day_dim = routing.GetDimensionOrDie("day")
        nodes = [routing.Start(k) for k in range(len(vehicles))] + [
            manager.NodeToIndex(loc) for loc in range(problem.n_depots, n)]
        for idx in nodes + [routing.End(k) for k in range(len(vehicles))]:
            t, d = time_dim.CumulVar(idx), day_dim.CumulVar(idx)
            solver.Add(t >= d * DAY_S)
            solver.Add(t <= d * DAY_S + (DAY_S - 1))
        if problem.lodging is not None:
            # after a stop without lodging the day may not change: no night there, nor on
            # the road after it
            for loc in range(problem.n_depots, n):
                if not problem.lodging[loc]:
                    day_dim.SlackVar(manager.NodeToIndex(loc)).SetValue(0)
    if capped:
        _add_daily_driving_cap(problem, manager, routing, day_dim)

    deliver, collect = problem.deliver, problem.collect
    net = [c - d for c, d in zip(collect, deliver)]
    if problem.pair_load is not None:
        net = [x + q for x, q in zip(net, problem.pair_load)]
    if not any(collect) and problem.pair_load is None:
        # nothing is collected: the load only falls along the route, so the classic capacity
        # dimension on deliveries is the same constraint, without the start == end coupling
        # (a side constraint that slows every local-search move down)
        deliv_cb = routing.RegisterUnaryTransitVector(list(deliver))
        routing.AddDimensionWithVehicleCapacity(deliv_cb, 0, [v.capacity for v in vehicles],
                                                True, "delivered")
    else:
        deliv_cb = routing.RegisterUnaryTransitVector(list(deliver))
        net_cb = routing.RegisterUnaryTransitVector(list(net))
        max_cap = max(v.capacity for v in vehicles)
        routing.AddDimension(deliv_cb, 0, sum(deliver) + 1, True, "delivered")
        routing.AddDimensionWithVehicleCapacity(net_cb, 0, [v.capacity for v in vehicles],
                                                False, "load")
        delivered = routing.GetDimensionOrDie("delivered")
        load = routing.GetDimensionOrDie("load")
        for k, v in enumerate(vehicles):
            load.CumulVar(routing.Start(k)).SetRange(0, min(v.capacity, max_cap))
            solver.Add(load.CumulVar(routing.Start(k)) == delivered.CumulVar(routing.End(k)))

    for loc in range(problem.n_depots, n):
        if constraints is None or loc not in constraints.required:
            routing.AddDisjunction([manager.NodeToIndex(loc)], problem.penalty[loc])
    for loc, ks in enumerate(problem.allowed_vehicles or ()):
        if ks is not None and (constraints is None or loc not in constraints.vehicles):
            idx = manager.NodeToIndex(loc)
            routing.VehicleVar(idx).SetValues([-1, *ks])
    if constraints is not None:
        for loc, ks in constraints.vehicles.items():
            # (SetAllowedVehiclesForIndex has no working Python binding in OR-Tools 9.15)
            allowed = list(ks) if loc in constraints.required else [-1, *ks]
            routing.VehicleVar(manager.NodeToIndex(loc)).SetValues(allowed)
        for loc, t in constraints.start_s.items():
            time_dim.CumulVar(manager.NodeToIndex(loc)).SetRange(t, t)
    for pickup, delivery in problem.pickup_delivery:
        p_idx, d_idx = manager.NodeToIndex(pickup), manager.NodeToIndex(delivery)
        routing.AddPickupAndDelivery(p_idx, d_idx)
        solver.Add(routing.ActiveVar(p_idx) == routing.ActiveVar(d_idx))
        solver.Add(routing.VehicleVar(p_idx) == routing.VehicleVar(d_idx))
        solver.Add(time_dim.CumulVar(p_idx) <= time_dim.CumulVar(d_idx))

    use_ils = (params.iterated and initial_routes is None
               and ils_unsupported(problem, constraints) is None)
    search = search_parameters(params, ils_stops=problem.n_stops if use_ils else None)

    progress: list[tuple[float, int]] = []
    t0 = time.perf_counter()

    def record() -> None:
        obj = routing.CostVar().Value()
        if not progress or obj < progress[-1][1]:
            elapsed = round(time.perf_counter() - t0, 3)
            progress.append((elapsed, obj))
            if on_progress is not None:
                on_progress(elapsed, obj)

    routing.AddAtSolutionCallback(record)
    initial = None
    if initial_routes is not None:
        routing.CloseModelWithParameters(search)
        initial = routing.ReadAssignmentFromRoutes(
            [[manager.NodeToIndex(loc) for loc in r] for r in initial_routes], True)
    seeded = initial is not None
    if seeded:
        assignment = routing.SolveFromAssignmentWithParameters(initial, search)
    elif use_ils:
        assignment = routing.SolveWithIteratedLocalSearch(search)
    else:
        assignment = routing.SolveWithParameters(search)
    wall = time.perf_counter() - t0
    # (the iterated local search returns its best solution without setting a status)
    status = "SUCCESS" if use_ils and assignment is not None else _status_name(routing.status())
    method = ITERATED_LOCAL_SEARCH if use_ils else params.local_search
    if assignment is None:
        return RawSolution(routes=tuple(() for _ in vehicles), objective=-1, status=status,
                           wall_s=wall, progress=tuple(progress), seeded=seeded,
                           local_search=method)
    routes, starts, rests = [], [], []
    for k in range(len(vehicles)):
        # every daily break as placed (those before the departure or after the return
        # were taken at home; the scheduler keeps the ones inside the trip)
        rests.append(tuple(sorted(
            (assignment.StartValue(iv), assignment.StartValue(iv) + assignment.DurationValue(iv))
            for iv in break_vars[k])))
        idx = routing.Start(k)
        stops, times = [], []
        idx = assignment.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            stops.append(manager.IndexToNode(idx))
            times.append(assignment.Min(time_dim.CumulVar(idx)))
            idx = assignment.Value(routing.NextVar(idx))
        routes.append(tuple(stops))
        starts.append(tuple(times))
    return RawSolution(routes=tuple(routes), objective=assignment.ObjectiveValue(),
                       status=status, wall_s=wall, progress=tuple(progress),
                       starts=tuple(starts), seeded=seeded, breaks=tuple(rests),
                       local_search=method)


def _transit_matrix(problem: RoutingProblem, v: VehicleSpec, mat: np.ndarray) -> np.ndarray:
    """Seconds from the service start at ``a`` to arriving at ``b`` for vehicle ``v``: its
    stay at ``a`` (the service, at least a pause under a continuous-driving rule) and the
    leg's driving with its roadside pauses (:meth:`~planner.problem.VehicleSpec.leg_s`)."""
    stay = np.array([s if loc < problem.n_depots else v.dwell_s(s)
                     for loc, s in enumerate(problem.service_s)], dtype=np.int64)
    return stay[:, None] + v.leg_matrix(mat)


def _add_daily_driving_cap(problem: RoutingProblem, manager: pywrapcp.RoutingIndexManager,
                           routing: pywrapcp.RoutingModel,
                           day: pywrapcp.RoutingDimension | None) -> None:
    """Driving (travel time only) per day stays within each vehicle's cap.

    The "drive" cumul is the driving done on the current day. Over one day it is a plain
    sum of travel. Over several, a leg's transit is ``travel - RESET`` and the slack of the
    node it leaves is ``RESET`` unless nights follow that node (``day`` slack m >= 1); then
    the count may fall by up to m caps (the driving done before the nights, at the node or
    on the road). The scheduler splits legs the same way and the plan checker re-derives
    the daily driving from the plan's times."""
    vehicles = problem.vehicles
    horizon = problem.horizon_s
    caps = [v.max_drive_s_per_day if v.drive_cap_binds and v.max_drive_s_per_day is not None
            else horizon for v in vehicles]
    reset = horizon if day is not None else 0
    drive_cb = {}
    for p, mat in enumerate(problem.time_s):
        travel = np.minimum(np.asarray(mat, dtype=np.int64), horizon)
        drive_cb[p] = routing.RegisterTransitMatrix((travel - reset).tolist())
    routing.AddDimensionWithVehicleTransitAndCapacity(
        [drive_cb[v.profile] for v in vehicles], reset, caps, True, "drive")
    if day is None:
        return
    drive = routing.GetDimensionOrDie("drive")
    solver = routing.solver()
    # after m nights between two places, at most m days' driving may have been done before
    # the last night: drive(next) >= drive(here) + travel - m * cap. A stop any vehicle may
    # serve uses the smallest cap (never admits too much driving).
    smallest = min(caps)
    for k in range(len(vehicles)):
        idx = routing.Start(k)
        solver.Add(drive.SlackVar(idx) + caps[k] * day.SlackVar(idx) >= reset)
    for loc in range(problem.n_depots, problem.n_locations):
        idx = manager.NodeToIndex(loc)
        solver.Add(drive.SlackVar(idx) + smallest * day.SlackVar(idx) >= reset)


def _status_name(code: int) -> str:
    try:
        return routing_enums_pb2.RoutingSearchStatus.Value.Name(code).removeprefix("ROUTING_")
    except (AttributeError, ValueError):
        return str(code)
