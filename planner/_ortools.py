"""The OR-Tools routing model: the only module that imports OR-Tools routing.

Model, per :class:`~planner.problem.RoutingProblem`:

* one route per vehicle from its depot back to it, arc cost by
  :meth:`~planner.problem.RoutingProblem.arc_cost_matrix` (a scenario's plans: each km at
  the vehicle's price; by default travel time);
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
  ``distance_cost_coeff``, ``span_cost_coeff``, ``vehicle_fixed_cost`` and each vehicle's
  ``km_cost`` and ``night_cost`` (its trip's span in days on the "day" dimension, where the
  model counts days) reweigh it;
* every stop is a disjunction: required stops carry a prohibitive penalty, optional ones a
  penalty from their priority, so the solver always returns a plan and names what it left out.

Search: a first solution, then OR-Tools' iterated local search (ruin and recreate, greedy
descent) where the model allows it (:func:`ils_unsupported`), else ``params.local_search``
(guided local search by default) to the time limit, or until the best solution has not
improved for ``params.no_improvement_share`` of it (:func:`patience_s`,
:class:`~planner.solution.Patience`); from given routes,
``local_search``. :class:`RouteJudge` says whether given routes keep the model's rules and
the schedule's, one vehicle's model at a time: the repair pass and the explanations of
unserved stops use it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2
from ortools.util import optional_boolean_pb2

from planner.problem import DAY_S, RoutingProblem, VehicleSpec
from planner.schedule import WORKING_HOURS, ScheduleProblem, idle_s, time_trips
from planner.solution import (
    ITERATED_LOCAL_SEARCH,
    STOP_CONVERGED,
    STOP_NO_SOLUTION,
    STOP_SEARCH_ENDED,
    STOP_TIME_LIMIT,
    Patience,
    ProgressCallback,
    RawSolution,
    SharedClock,
    SolveProgress,
    SolverParams,
    VisitConstraints,
    starts_by_stop,
)

log = logging.getLogger(__name__)

# a search never stops for want of improvement sooner than this: the short polish after a
# PyVRP seed (5% of the time) must keep its time (Solomon R1 at 10 s lost 0.07 points when
# it stopped after a quarter of its 0.5 s)
MIN_PATIENCE_S = 2.0

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
        search.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT)
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
    # Break intervals (nights away, daily breaks) make the time dimension's cumuls a
    # mixed-integer scheduling problem, which the search's filters solve with CP-SAT at each
    # move tried: guided local search from savings on cb-55 (55 communes, 5 days) tried ~100
    # moves a second. Its linear relaxation (GLOP) tried ~2,800, and the objective at 10/30/
    # 60 s on one core went 2,260,726/2,168,689/2,160,043 -> 2,115,107/2,094,122/2,091,062
    # (the best-known plan, 600 s on both cores: 2,093,019). The relaxation passes moves the
    # model's constraints then refuse: cheap among the plans of a search that has served its
    # stops, ruinous in one that inserts them one by one (parallel cheapest insertion on
    # tq-80, 80 communes over 7 days: its first plan at 62 s of a 60 s limit, where the
    # exact scheduling builds one in 20 s), and OR-Tools could not restore given routes under
    # it (hg-12, cb-55). So only a search from its own savings solution uses it
    # (planner.solve.portfolio_params; docs/benchmarks.md).
    if params.lp_scheduling:
        search.mixed_integer_scheduling_solver = search.SCHEDULING_GLOP
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


@dataclass(eq=False)
class _Model:
    """An OR-Tools routing model of one problem, built step by step by :func:`_build_model`."""

    problem: RoutingProblem
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time_dim: Any = None  # the "time" dimension (seconds from the horizon start)
    day_dim: Any = None  # the "day" dimension, when days must be counted (lodging, caps)
    break_vars: list[list[Any]] = field(default_factory=list)  # daily breaks, per vehicle

    @property
    def solver(self) -> Any:
        return self.routing.solver()

    def index(self, loc: int) -> int:
        return self.manager.NodeToIndex(loc)


def patience_s(params: SolverParams) -> float | None:
    """Seconds without a better solution after which a search of ``params`` stops (at
    least :data:`MIN_PATIENCE_S`)
    (``None``: it runs to its limit: the share is 1, or a solution limit asks for a
    reproducible run, which nothing may make depend on the clock)."""
    if params.solution_limit is not None or params.no_improvement_share >= 1:
        return None
    return max(MIN_PATIENCE_S, params.no_improvement_share * params.time_limit_s)


def solve_routing(problem: RoutingProblem, params: SolverParams, *,
                  on_progress: ProgressCallback | None = None,
                  constraints: VisitConstraints | None = None,
                  initial_routes: tuple[tuple[int, ...], ...] | None = None,
                  together: SharedClock | None = None) -> RawSolution:
    """Solve ``problem``; with ``initial_routes`` (stop order per vehicle) the search starts
    from them when the model accepts them as a solution, else from its own first solution.
    ``on_progress`` hears of every better solution (its ``cost_vnd`` is left unset);
    ``together``: the convergence clock of searches running beside it (:class:`~planner.
    solution.Patience`)."""
    model = _build_model(problem, constraints)
    use_ils = (params.iterated_local_search and initial_routes is None
               and ils_unsupported(problem, constraints) is None)
    search = search_parameters(params, ils_stops=problem.n_stops if use_ils else None)
    handover = (params.handover_share * params.time_limit_s
                if params.handover_share < 1 and params.solution_limit is None else None)
    return _search(model, search, use_ils=use_ils, on_progress=on_progress,
                   initial_routes=initial_routes, patience=patience_s(params),
                   handover_s=handover, together=together,
                   method=ITERATED_LOCAL_SEARCH if use_ils else params.local_search)


def _build_model(problem: RoutingProblem, constraints: VisitConstraints | None,
                 fixed_starts: dict[int, int] | None = None, *,
                 gaps_as_constraints: bool = False) -> _Model:
    """The whole model, in the order of the module docstring (the order the constraints are
    added in is kept: the search's path, hence a reproducible run's result, depends on it).
    ``fixed_starts`` (by location) fixes service starts, as a re-plan's visits done are.
    ``gaps_as_constraints``: see :func:`_add_time`."""
    manager = pywrapcp.RoutingIndexManager(
        problem.n_locations, len(problem.vehicles), [v.start for v in problem.vehicles],
        [v.end for v in problem.vehicles])
    model = _Model(problem, manager, pywrapcp.RoutingModel(manager))
    transit_cb = _add_costs(model)
    pinned = {**(fixed_starts or {}),
              **(constraints.start_s if constraints is not None else {})}
    _add_time(model, transit_cb, pinned, gaps_as_constraints)
    _add_shifts_and_breaks(model)
    _add_trips(model)
    capped = problem.stop_drive_cap_s is not None
    if problem.horizon_days > 1 and (problem.lodging is not None or capped):
        _add_days(model)
    if capped:
        _add_daily_driving_cap(model)
    _add_loads(model)
    _add_visits(model, constraints)
    return model


def _add_costs(model: _Model) -> dict[tuple[Any, ...], int]:
    """Arc costs (travel time, or the problem's weighting of time and distance) and fixed
    costs per vehicle; returns the transit callbacks of the time dimension by (profile,
    continuous-driving rule)."""
    problem, routing = model.problem, model.routing
    # matrices and vectors registered as such run in C++: no Python call per arc evaluation
    travel_cb: dict[int, int] = {}
    for p, mat in enumerate(problem.time_s):
        travel_cb[p] = routing.RegisterTransitMatrix(np.asarray(mat, dtype=np.int64).tolist())
    # time between services: the stay at a stop, then the leg with its roadside pauses (a
    # continuous-driving rule depends on the vehicle, so one matrix per profile and rule)
    transit_cb: dict[tuple[Any, ...], int] = {}
    for v in problem.vehicles:
        key = _rule_key(v)
        if key not in transit_cb:
            transit_cb[key] = routing.RegisterTransitMatrix(
                _transit_matrix(problem, v, problem.time_s[v.profile]).tolist())
    cost_cb: dict[tuple[int, int], int] = {}
    for k in range(len(problem.vehicles)):
        key = problem.arc_cost_key(k)
        if key not in cost_cb:
            profile, km_cost = key
            cost_cb[key] = (travel_cb[profile] if (problem.travel_cost_coeff, km_cost,
                                                   problem.distance_cost_coeff) == (1, 0, 0)
                            else routing.RegisterTransitMatrix(
                                problem.arc_cost_matrix(profile, km_cost).tolist()))
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[key], k)
        if problem.vehicle_fixed_cost:
            routing.SetFixedCostOfVehicle(problem.vehicle_fixed_cost[k], k)
    return transit_cb


def _rule_key(v: VehicleSpec) -> tuple[Any, ...]:
    return (v.profile, v.max_continuous_drive_s, v.drive_rest_s)


def _add_time(model: _Model, transit_cb: dict[tuple[Any, ...], int],
              pinned: dict[int, int], gaps_as_constraints: bool = False) -> None:
    """The time dimension; each stop's service starts inside one of its windows (at its
    ``pinned`` time, by location, where it has one).

    The gaps between a stop's windows are holes in its time's domain, which the search's
    filters see; each takes about a millisecond to make (a stop open on ten days has 19).
    ``gaps_as_constraints`` states them as constraints instead, the same rule made in
    microseconds, for the small models that only read given routes (:class:`RouteJudge`:
    tq-124, a refusal in 7 ms instead of 0.26 s, the median)."""
    problem, routing = model.problem, model.routing
    horizon = problem.horizon_s
    routing.AddDimensionWithVehicleTransits(
        [transit_cb[_rule_key(v)] for v in problem.vehicles], horizon, horizon, False, "time")
    model.time_dim = routing.GetDimensionOrDie("time")
    for loc in range(problem.n_depots, problem.n_locations):
        wins = problem.windows[loc]
        cumul = model.time_dim.CumulVar(model.index(loc))
        t = pinned.get(loc)
        if t is not None and any(a <= t <= b for a, b in wins):
            cumul.SetRange(t, t)  # (removing the gaps between windows takes ~1 ms each)
            continue
        cumul.SetRange(wins[0][0], wins[-1][1])
        if t is not None:
            cumul.SetRange(t, t)  # outside every window: the domain empties, none fits
        for (_, end_a), (start_b, _) in pairwise(wins):
            if start_b <= end_a + 1:
                continue
            if gaps_as_constraints:
                solver = model.solver
                solver.Add(solver.IsLessOrEqualCstVar(cumul, end_a)
                           + solver.IsGreaterOrEqualCstVar(cumul, start_b) >= 1)
            else:
                cumul.RemoveInterval(end_a + 1, start_b - 1)


def _add_shifts_and_breaks(model: _Model) -> None:
    """Each vehicle's working window, longest trip and span cost; its nights (a mandatory
    break from each shift end to the next shift start) and daily breaks as break intervals,
    which no service overlaps."""
    problem, routing, time_dim = model.problem, model.routing, model.time_dim
    solver = model.solver
    svc = problem.service_s
    node_visit = [0 if routing.IsStart(i) else svc[model.manager.IndexToNode(i)]
                  for i in range(routing.Size())]
    for k, v in enumerate(problem.vehicles):
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
        model.break_vars.append(rests)
        if nights or rests:
            time_dim.SetBreakIntervalsOfVehicle(nights + rests, k, node_visit)


def _add_trips(model: _Model) -> None:
    """Several trips of one vehicle (consecutive vehicles of the model): trip k is used only
    if trip k-1 is, and leaves no earlier than :meth:`~planner.problem.VehicleSpec.
    next_trip_earliest` of trip k-1's return (after the turnaround, on a later working
    day)."""
    problem, routing, solver, time_dim = model.problem, model.routing, model.solver, \
        model.time_dim
    big = problem.horizon_s + DAY_S * 40  # beyond any departure: switches a bound off
    for k, v in enumerate(problem.vehicles):
        prev = problem.previous_trip(k)
        if prev is None:
            continue
        active, active_prev = routing.ActiveVehicleVar(k), routing.ActiveVehicleVar(prev)
        solver.Add(active <= active_prev)
        back = time_dim.CumulVar(routing.End(prev))
        leave = time_dim.CumulVar(routing.Start(k))
        day_back = solver.IntVar(0, problem.horizon_days, f"return-day-{prev}")
        routing.AddVariableMinimizedByFinalizer(day_back)  # fixed in every solution
        solver.Add(back >= day_back * DAY_S)
        solver.Add(back <= day_back * DAY_S + (DAY_S - 1))
        off = big - active * big  # 0 when trip k is used
        solver.Add(leave + off >= back + v.turnaround_s)
        solver.Add(leave + off >= (day_back + 1 + v.rest_days) * DAY_S + v.earliest_start_s)


def _add_days(model: _Model) -> None:
    """The "day" dimension: a node's cumul is the day of its service start (or of leaving
    the depot); its slack is the number of nights between it and the next node. After a stop
    without lodging the day may not change: no night there, nor on the road after it."""
    problem, routing, solver = model.problem, model.routing, model.solver
    routing.AddConstantDimensionWithSlack(0, problem.horizon_days, problem.horizon_days,
                                          False, "day")
    day_dim = model.day_dim = routing.GetDimensionOrDie("day")
    for k, v in enumerate(problem.vehicles):  # a trip's span in days is its nights away
        if v.night_cost:
            day_dim.SetSpanCostCoefficientForVehicle(v.night_cost, k)
    n_vehicles = len(problem.vehicles)
    nodes = [routing.Start(k) for k in range(n_vehicles)] + [
        model.index(loc) for loc in range(problem.n_depots, problem.n_locations)]
    for idx in nodes + [routing.End(k) for k in range(n_vehicles)]:
        t, d = model.time_dim.CumulVar(idx), day_dim.CumulVar(idx)
        solver.Add(t >= d * DAY_S)
        solver.Add(t <= d * DAY_S + (DAY_S - 1))
    if problem.lodging is not None:
        for loc in range(problem.n_depots, problem.n_locations):
            if not problem.lodging[loc]:
                day_dim.SlackVar(model.index(loc)).SetValue(0)


def _add_daily_driving_cap(model: _Model) -> None:
    """Driving (travel time only) per day stays within each vehicle's cap.

    The "drive" cumul is the driving done on the current day. Over one day it is a plain
    sum of travel. Over several, a leg's transit is ``travel - RESET`` and the slack of the
    node it leaves is ``RESET`` unless nights follow that node (``day`` slack m >= 1); then
    the count may fall by up to m caps (the driving done before the nights, at the node or
    on the road). The scheduler splits legs the same way and the plan checker re-derives
    the daily driving from the plan's times."""
    problem, manager, routing, day = model.problem, model.manager, model.routing, model.day_dim
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
    smallest = problem.stop_drive_cap_s
    assert smallest is not None
    for k in range(len(vehicles)):
        idx = routing.Start(k)
        solver.Add(drive.SlackVar(idx) + caps[k] * day.SlackVar(idx) >= reset)
    for loc in range(problem.n_depots, problem.n_locations):
        idx = manager.NodeToIndex(loc)
        solver.Add(drive.SlackVar(idx) + smallest * day.SlackVar(idx) >= reset)


def _add_loads(model: _Model) -> None:
    """Swap-correct loads: the trip leaves with every crate it will deliver, each stop
    removes its deliveries and adds its collections (and the crates of transfers)."""
    problem, routing, solver = model.problem, model.routing, model.solver
    vehicles = problem.vehicles
    deliver, collect = problem.deliver, problem.collect
    net = [c - d for c, d in zip(collect, deliver, strict=True)]
    if problem.pair_load is not None:
        net = [x + q for x, q in zip(net, problem.pair_load, strict=True)]
    if not any(collect) and problem.pair_load is None:
        # nothing is collected: the load only falls along the route, so the classic capacity
        # dimension on deliveries is the same constraint, without the start == end coupling
        # (a side constraint that slows every local-search move down)
        deliv_cb = routing.RegisterUnaryTransitVector(list(deliver))
        routing.AddDimensionWithVehicleCapacity(deliv_cb, 0, [v.capacity for v in vehicles],
                                                True, "delivered")
        return
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


def _add_visits(model: _Model, constraints: VisitConstraints | None) -> None:
    """Which stops may be dropped (at their penalty), by which vehicles each may be served,
    the re-planning constraints, and transfers (pickup and delivery on one trip, in order)."""
    problem, routing, solver = model.problem, model.routing, model.solver
    # a depot no vehicle starts or ends at (a hub of the scenario this fleet does not use)
    # would be an ordinary node, which OR-Tools must visit: it is never visited
    used = {v.start for v in problem.vehicles} | {v.end for v in problem.vehicles}
    for loc in range(problem.n_depots):
        if loc not in used:
            routing.AddDisjunction([model.index(loc)], 0)
            solver.Add(routing.ActiveVar(model.index(loc)) == 0)
    for loc in range(problem.n_depots, problem.n_locations):
        if constraints is None or loc not in constraints.required:
            routing.AddDisjunction([model.index(loc)], problem.penalty[loc])
    for loc, ks in enumerate(problem.allowed_vehicles or ()):
        if ks is not None and (constraints is None or loc not in constraints.vehicles):
            routing.VehicleVar(model.index(loc)).SetValues([-1, *ks])
    if constraints is not None:
        for loc, ks in constraints.vehicles.items():
            # (SetAllowedVehiclesForIndex has no working Python binding in OR-Tools 9.15)
            allowed = list(ks) if loc in constraints.required else [-1, *ks]
            routing.VehicleVar(model.index(loc)).SetValues(allowed)
    ends = Counter(n for pair in problem.pickup_delivery for n in pair)
    for pickup, delivery in problem.pickup_delivery:
        p_idx, d_idx = model.index(pickup), model.index(delivery)
        if ends[pickup] == 1 and ends[delivery] == 1:
            # a pair the search moves as a unit; a commune in several transfers (a chain)
            # is held by the constraints below alone (OR-Tools' insertion heuristics place
            # a pair's ends together, which a node shared by two pairs defeats)
            routing.AddPickupAndDelivery(p_idx, d_idx)
        solver.Add(routing.ActiveVar(p_idx) == routing.ActiveVar(d_idx))
        solver.Add(routing.VehicleVar(p_idx) == routing.VehicleVar(d_idx))
        solver.Add(model.time_dim.CumulVar(p_idx) <= model.time_dim.CumulVar(d_idx))


def _search(model: _Model, search: routing_parameters_pb2.RoutingSearchParameters, *,
            use_ils: bool, method: str, on_progress: ProgressCallback | None,
            initial_routes: tuple[tuple[int, ...], ...] | None,
            patience: float | None = None, handover_s: float | None = None,
            together: SharedClock | None = None) -> RawSolution:
    """Run the search (from ``initial_routes`` when the model accepts them), recording each
    improving objective, and read the routes, service starts and breaks it found. With
    ``patience`` the search ends once no better solution came for that many seconds
    (:class:`~planner.solution.Patience`, shared with the searches beside it through
    ``together``); with ``handover_s``, after that many seconds if its best solution leaves
    a stop out."""
    routing, manager = model.routing, model.manager
    progress: list[tuple[float, int]] = []
    t0 = time.perf_counter()
    converged = False

    served = 0  # by the best solution
    handed_over = False
    stall = Patience(patience, together) if patience is not None else None

    def record() -> None:
        nonlocal served
        obj = routing.CostVar().Value()
        now = time.perf_counter() - t0
        if not progress or obj < progress[-1][1]:
            elapsed = round(now, 3)
            progress.append((elapsed, obj))
            if stall is not None:
                stall.better(now)
            if on_progress is not None:
                routes, starts, rests = _read_routes(model, None)
                served = sum(map(len, routes))
                on_progress(SolveProgress(elapsed_s=elapsed, served=served, cost_vnd=None,
                                          objective=obj, routes=routes, starts=starts,
                                          breaks=rests))
            elif handover_s is not None:  # (the hand-over needs the count only)
                served = _served_now(model)

    checks = 0

    def stale() -> bool:  # checked by OR-Tools as it searches, between solutions too
        nonlocal converged, checks, handed_over
        checks += 1
        if not progress:
            return False
        elapsed = time.perf_counter() - t0
        if handover_s is not None and elapsed >= handover_s and \
                served < model.problem.n_stops:
            handed_over = True
            return True
        if stall is None:
            return False
        converged = stall.converged(elapsed)
        return converged

    routing.AddAtSolutionCallback(record)
    if patience is not None or handover_s is not None:
        routing.AddSearchMonitor(routing.solver().CustomLimit(stale))
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
    log.debug("search: %d limit checks in %.1f s", checks, wall)
    # (the iterated local search returns its best solution without setting a status)
    status = "SUCCESS" if use_ils and assignment is not None else _status_name(routing.status())
    limit_s = search.time_limit.ToMilliseconds() / 1000
    stop = (STOP_NO_SOLUTION if assignment is None else STOP_CONVERGED if converged
            else STOP_TIME_LIMIT if handed_over or wall >= 0.95 * limit_s
            else STOP_SEARCH_ENDED)
    found = progress[-1][0] if progress else None
    if assignment is None:
        return RawSolution(routes=tuple(() for _ in model.problem.vehicles), objective=-1,
                           status=status, wall_s=wall, progress=tuple(progress), seeded=seeded,
                           local_search=method, stop_reason=stop)
    routes, starts, rests = _read_routes(model, assignment)
    return RawSolution(routes=routes, objective=assignment.ObjectiveValue(), status=status,
                       wall_s=wall, progress=tuple(progress), starts=starts, seeded=seeded,
                       breaks=rests, local_search=method, stop_reason=stop, found_s=found)


# the longest the model may take to time one vehicle's trips itself (when the schedule's
# times do not fit it): quick when they fit, but it may wander when nights can fall in many
# places
JUDGE_CHECK_S = 1.0


@dataclass(frozen=True)
class _Judged:
    """One vehicle's trips as the model accepted them: the objective (no stop is left out
    of its model), the service starts and the daily breaks of each trip."""

    objective: int
    starts: tuple[tuple[int, ...], ...]
    breaks: tuple[tuple[tuple[int, int], ...], ...]


@dataclass(frozen=True)
class _QuickRefusal:
    """A vehicle's trips the quick judgement refused: the schedule's service starts of each
    trip, which the model refused, or ``None``: the schedule could not time them."""

    timed: tuple[tuple[int, ...], ...] | None


class RouteJudge:
    """Judges given routes (stop order per vehicle) by every rule a kept plan obeys: the
    OR-Tools model's, every constraint the search enforces, and the schedule's
    (:mod:`planner.schedule`: the clock times the plan is written with and checked by).
    :meth:`objective` is the model's objective of the routes, ``None`` when either refuses
    them. The repair pass (:func:`planner.solve.repair`) and the explanations of unserved
    stops (:mod:`planner.explain`) ask it, so both judge by the solver's own rules.

    The model links no two physical vehicles, so each vehicle's trips are judged in a model
    of their own, holding only the stops they serve, and the verdict is remembered: a trial
    that changes one route judges one vehicle. The schedule times the trips first (from
    ``hints``: a stop's service start in the plan the trials start from, by location) and
    the model checks those times, in about a millisecond. Only when the schedule cannot time
    the trips, or the model refuses its times, does the model time them itself, for up to
    ``check_limit_s`` (longer counts as refused), the schedule then timing them from the
    model's times: that takes a tenth of a second to seconds for trips of many days
    (tq-124: 12 s for one van's ten-day trip), and ``quick=True`` skips it (a refusal is
    then only the quick judgement's). The continuous-driving rule is the schedule's alone
    to judge (the model bounds it more tightly: see :meth:`_read`).

    :meth:`scheduled` is the quick judgement without the model's check, for a run of
    insertions whose last routes alone are then judged whole (ruin and recreate: the
    model's check takes about as long as the schedule's timing, and in 15 s of its trials on
    tq-80 and on hg-40 the model refused none of the 1,644 trips the schedule had timed).
    :meth:`idle` tells the working time the crews of the trips the schedule timed spend
    neither driving nor serving, for insertions to weigh (:func:`planner.solve.
    _insertions`)."""

    def __init__(self, problem: RoutingProblem,
                 constraints: VisitConstraints | None = None, *,
                 hints: dict[int, int] | None = None,
                 check_limit_s: float = JUDGE_CHECK_S) -> None:
        self.problem, self.constraints = problem, constraints
        # a visit a re-plan pins is timed at its pinned start
        self.hints = {**(hints or {}), **(constraints.start_s if constraints else {})}
        self._params = search_parameters(SolverParams(time_limit_s=check_limit_s,
                                                      solution_limit=1))
        self._chains = problem.vehicle_chains()
        self._chain_of = {k: c for c, ks in enumerate(self._chains) for k in ks}
        # a vehicle's trips judged: accepted, refused, or refused by the quick judgement
        # (with the schedule's times, None where it could not time them)
        self._memo: dict[tuple[int, tuple[tuple[int, ...], ...]],
                         _Judged | _QuickRefusal | None] = {}
        # a vehicle's trips as the schedule times them (the quick judgement before the
        # model's check): the service starts of each trip, a refusal outright (None), or
        # the schedule could not time them
        self._timed: dict[tuple[int, tuple[tuple[int, ...], ...]],
                          tuple[tuple[int, ...], ...] | _QuickRefusal | None] = {}
        # ... and, where it timed them, each trip's crew's idle working time (seconds)
        self._idle: dict[tuple[int, tuple[tuple[int, ...], ...]], tuple[int, ...]] = {}
        self.checks = 0  # vehicles' trips judged so far

    def objective(self, routes: Any, *, quick: bool = False) -> int | None:
        """The model's objective of ``routes``, ``None`` if refused."""
        judged = self._judge(routes, quick)
        return None if judged is None else judged[0]

    def solution(self, routes: Any, *, quick: bool = False) -> RawSolution | None:
        """``routes`` as the model times them (service starts, breaks, objective), ``None``
        if refused."""
        judged = self._judge(routes, quick)
        if judged is None:
            return None
        objective, parts = judged
        starts: list[tuple[int, ...]] = [()] * len(routes)
        rests: list[tuple[tuple[int, int], ...]] = [()] * len(routes)
        for chain, part in zip(self._chains, parts, strict=True):
            for i, k in enumerate(chain):
                starts[k], rests[k] = part.starts[i], part.breaks[i]
        return RawSolution(routes=tuple(tuple(r) for r in routes), objective=objective,
                           status="SUCCESS", wall_s=0.0, starts=tuple(starts),
                           breaks=tuple(rests))

    def scheduled(self, routes: Any) -> tuple[tuple[int, ...], ...] | None:
        """The service starts of ``routes`` the quick judgement would have the model check
        (the schedule's), ``None`` if it refuses them before that check; the verdict is
        remembered, so that :meth:`solution` with ``quick=True`` then only adds the model's
        check of the vehicles not judged whole yet."""
        if self._conflict(routes):
            return None
        starts: list[tuple[int, ...]] = [()] * len(routes)
        for c, chain in enumerate(self._chains):
            key = (c, tuple(tuple(routes[k]) for k in chain))
            times: tuple[tuple[int, ...], ...] | _QuickRefusal | None
            if key in self._memo:  # (judged whole already)
                judged = self._memo[key]
                times = judged.starts if isinstance(judged, _Judged) else None
            else:
                times = self._schedule_quickly(key)
            if not isinstance(times, tuple):
                return None
            for i, k in enumerate(chain):
                starts[k] = times[i]
        return tuple(starts)

    def idle(self, routes: Any) -> list[int | None]:
        """The working time each vehicle's crew spends neither driving nor serving on its
        trip of ``routes`` (seconds, :func:`planner.schedule.idle_s`) as the schedule timed
        it for :meth:`scheduled` or a quick judgement, ``None`` where it has not."""
        out: list[int | None] = [None] * len(routes)
        for c, chain in enumerate(self._chains):
            idle = self._idle.get((c, tuple(tuple(routes[k]) for k in chain)))
            if idle is not None:
                for k, seconds in zip(chain, idle, strict=True):
                    out[k] = seconds
        return out

    def _conflict(self, routes: Any) -> bool:
        """Whether ``routes`` break a rule between vehicles: a stop served twice, a stop a
        re-plan requires left out, the two ends of a transfer apart."""
        on = {loc: k for k, r in enumerate(routes) for loc in r}
        if len(on) != sum(map(len, routes)):
            return True
        if self.constraints is not None and any(loc not in on
                                                for loc in self.constraints.required):
            return True
        return any((a in on) != (b in on) or (
            a in on and self._chain_of[on[a]] != self._chain_of[on[b]])
            for a, b in self.problem.pickup_delivery)  # (the same vehicle's model)

    def _judge(self, routes: Any, quick: bool) -> tuple[int, list[_Judged]] | None:
        if self._conflict(routes):
            return None
        total = self.problem.penalty_left_out({loc for r in routes for loc in r})
        parts = []
        for c, chain in enumerate(self._chains):
            key = (c, tuple(tuple(routes[k]) for k in chain))
            if key not in self._memo:
                self._memo[key] = self._judge_quickly(key)
            part = self._memo[key]
            if isinstance(part, _QuickRefusal):
                if quick:
                    return None
                part = self._memo[key] = self._judge_by_model(chain, key[1], part.timed)
            if part is None:
                return None
            total += part.objective
            parts.append(part)
        return total, parts

    def _judge_quickly(self, key: tuple[int, tuple[tuple[int, ...], ...]]
                       ) -> _Judged | _QuickRefusal | None:
        """The trips ``key`` holds (a vehicle's, by chain): the schedule's verdict
        (:meth:`_schedule_quickly`), then its times checked by the model."""
        timed = self._schedule_quickly(key)
        if not isinstance(timed, tuple):
            return timed
        c, routes = key
        judged = self._read(self._chains[c], routes, starts_by_stop(routes, timed))
        return judged if judged is not None else _QuickRefusal(timed)

    def _schedule_quickly(self, key: tuple[int, tuple[tuple[int, ...], ...]]
                          ) -> tuple[tuple[int, ...], ...] | _QuickRefusal | None:
        """The trips ``key`` holds: refused outright by the rules a route breaks whatever its
        times (``None``), not timed by the schedule (:class:`_QuickRefusal`), or the
        schedule's service starts of each trip (remembered)."""
        if key in self._timed:
            return self._timed[key]
        self.checks += 1
        c, routes = key
        chain = self._chains[c]
        verdict: tuple[tuple[int, ...], ...] | _QuickRefusal | None
        pinned = self.constraints.vehicles if self.constraints is not None else {}
        allowed = self.problem.allowed_vehicles
        if any((ks := pinned.get(loc, allowed[loc] if allowed is not None else None))
               is not None and k not in ks
               for k, r in zip(chain, routes, strict=True) for loc in r):
            verdict = None  # (the model would refuse these, and log an error)
        else:
            timed = self._schedule(chain, routes, self.hints)
            if isinstance(timed, ScheduleProblem):
                # too long for the shifts: no schedule times them, whatever the model's times
                verdict = None if timed.code == WORKING_HOURS else _QuickRefusal(None)
            else:
                verdict, self._idle[key] = timed
        self._timed[key] = verdict
        return verdict

    def _judge_by_model(self, chain: list[int], routes: tuple[tuple[int, ...], ...],
                        timed: tuple[tuple[int, ...], ...] | None) -> _Judged | None:
        """The model times the trips itself (the schedule's times ``timed``, ``None`` if it
        had none, did not fit it); the schedule must then time them from the model's."""
        judged = self._read(chain, routes, None)
        if judged is None or timed is not None:
            return judged
        hints = starts_by_stop(routes, judged.starts)
        retimed = self._schedule(chain, routes, hints, judged.breaks)
        return None if isinstance(retimed, ScheduleProblem) else judged

    def _schedule(self, chain: list[int], routes: tuple[tuple[int, ...], ...],
                  hints: dict[int, int],
                  breaks: tuple[tuple[tuple[int, int], ...], ...] | None = None
                  ) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]] | ScheduleProblem:
        """The schedule's service starts of the trips and their crews' idle working time,
        or the first problem of the first trip it cannot time."""
        problem = self.problem
        all_routes: list[tuple[int, ...]] = [()] * len(problem.vehicles)
        for k, r in zip(chain, routes, strict=True):
            all_routes[k] = r
        all_breaks: list[tuple[tuple[int, int], ...]] | None = None
        if breaks is not None:
            all_breaks = [()] * len(problem.vehicles)
            for k, b in zip(chain, breaks, strict=True):
                all_breaks[k] = b
        timings = dict(zip(chain, time_trips(
            problem, all_routes, vehicles=chain,
            hints=[tuple(hints.get(loc, 0) for loc in r) for r in all_routes],
            breaks=all_breaks, feasibility=True), strict=True))
        refused = next((timings[k].problems[0] for k in chain if not timings[k].feasible),
                       None)
        if refused is not None:
            return refused
        return (tuple(tuple(v.start_s for v in timings[k].visits) for k in chain),
                tuple(idle_s(problem, timings[k]) for k in chain))

    def _local_constraints(self, chain: list[int], local: dict[int, int]
                           ) -> VisitConstraints | None:
        """The re-planning constraints of the stops ``local`` maps, in a vehicle's model."""
        c = self.constraints
        if c is None:
            return None
        new = {k: i for i, k in enumerate(chain)}
        return VisitConstraints(
            vehicles={local[loc]: tuple(new[k] for k in ks if k in new)
                      for loc, ks in c.vehicles.items() if loc in local},
            start_s={local[loc]: t for loc, t in c.start_s.items() if loc in local},
            required=frozenset(local[loc] for loc in c.required if loc in local))

    def _read(self, chain: list[int], routes: tuple[tuple[int, ...], ...],
              fixed: dict[int, int] | None) -> _Judged | None:
        """The model of the vehicle whose trips are ``chain``, with only their stops, reads
        ``routes`` (with the service starts ``fixed``, by location)."""
        stops = [loc for r in routes for loc in r]
        local = {loc: self.problem.n_depots + i for i, loc in enumerate(stops)}
        sub = self.problem.with_vehicles(chain).with_stops(stops)
        # the continuous-driving rule is the schedule's to judge: the model bounds it by a
        # pause on every long leg, where the schedule lets lunch or the night serve, and so
        # refused the schedule's times of such a leg (tq-124: every one of 1,490 random
        # insertions whose times it refused, and none without the rule)
        sub = replace(sub, vehicles=tuple(replace(v, max_continuous_drive_s=None)
                                          for v in sub.vehicles))
        model = _build_model(sub,
                             self._local_constraints(chain, local),
                             None if fixed is None else {local[loc]: t
                                                         for loc, t in fixed.items()},
                             gaps_as_constraints=True)
        model.routing.CloseModelWithParameters(self._params)
        assignment = model.routing.ReadAssignmentFromRoutes(
            [[model.index(local[loc]) for loc in r] for r in routes], True)
        if assignment is None:
            return None
        _, starts, rests = _read_routes(model, assignment)
        return _Judged(int(assignment.ObjectiveValue()), starts, rests)


def _served_now(model: _Model) -> int:
    """How many stops the solution the search stands at serves (from a solution callback:
    the routes' successors only, without the times and breaks :func:`_read_routes` reads)."""
    routing = model.routing
    served = 0
    for k in range(len(model.problem.vehicles)):
        idx = routing.NextVar(routing.Start(k)).Value()
        while not routing.IsEnd(idx):
            served += 1
            idx = routing.NextVar(idx).Value()
    return served


def _read_routes(model: _Model, assignment: Any | None) -> tuple[
        tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...],
        tuple[tuple[tuple[int, int], ...], ...]]:
    """Stop order, service starts and daily breaks of every vehicle in ``assignment``, or
    (``None``) in the solution the search stands at, from a solution callback."""
    routing, manager, time_dim = model.routing, model.manager, model.time_dim
    if assignment is None:
        def value(var: Any) -> int:
            return int(var.Value())

        def least(var: Any) -> int:
            return int(var.Min())

        def span(iv: Any) -> tuple[int, int]:
            return int(iv.StartMin()), int(iv.StartMin() + iv.DurationMin())
    else:
        value, least = assignment.Value, assignment.Min

        def span(iv: Any) -> tuple[int, int]:
            return (assignment.StartValue(iv),
                    assignment.StartValue(iv) + assignment.DurationValue(iv))
    routes, starts, rests = [], [], []
    for k in range(len(model.problem.vehicles)):
        # every daily break as placed (those before the departure or after the return
        # were taken at home; the scheduler keeps the ones inside the trip)
        rests.append(tuple(sorted(span(iv) for iv in model.break_vars[k])))
        stops, times = [], []
        idx = value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(idx):
            stops.append(manager.IndexToNode(idx))
            times.append(least(time_dim.CumulVar(idx)))
            idx = value(routing.NextVar(idx))
        routes.append(tuple(stops))
        starts.append(tuple(times))
    return tuple(routes), tuple(starts), tuple(rests)


def _transit_matrix(problem: RoutingProblem, v: VehicleSpec, mat: np.ndarray) -> np.ndarray:
    """Seconds from the service start at ``a`` to arriving at ``b`` for vehicle ``v``: its
    stay at ``a`` (the service, at least a pause under a continuous-driving rule) and the
    leg's driving with its roadside pauses (:meth:`~planner.problem.VehicleSpec.leg_s`)."""
    stay = np.array([s if loc < problem.n_depots else v.dwell_s(s)
                     for loc, s in enumerate(problem.service_s)], dtype=np.int64)
    return stay[:, None] + v.leg_matrix(mat)


def _status_name(code: int) -> str:
    try:
        return routing_enums_pb2.RoutingSearchStatus.Value.Name(code).removeprefix("ROUTING_")
    except (AttributeError, ValueError):
        return str(code)
