"""A season over matrices: the periodic vehicle routing problem solved by the season's own
search (:mod:`planner.seasonsearch`), without a road network.

The input is the problem of one day, a :class:`~planner.problem.RoutingProblem` over every
stop (its vehicles are those out each day; each comes back the same day), and one
:class:`~planner.scenario.VisitRule` per stop over the ``days`` of the horizon (for the
periodic VRP benchmarks, ``day_sets``: one of the allowed visit-day combinations). The steps
are those of :func:`planner.season.solve_season`:

1. the visit days by CP-SAT (:func:`planner._assign.assign_dates`): stops near each other
   (groups by the problem's own arc costs) on the same days, and each day's load within what
   its vehicles carry. (A season scenario also bounds the *number* of visits a vehicle makes
   a day, ``periodic.visits_per_vehicle_day``: an assumption about 2-hour visits on mountain
   roads, which a matrix problem states by its own service times and shifts instead);
2. when some stops are visited once on any of several days, **every day is routed at once**
   (:func:`all_days_problem`: each vehicle once a day, such a stop served by a vehicle of one
   of its days, the other stops on their assigned days) by the product's search
   (:func:`planner.solve.solve`), with :data:`ALL_DAYS_SHARE` of the time left: the routing
   chooses their days. Measured on Cordeau's PVRP at 60 s (``benchmarks/vrp/results/``):
   p01-p07 mean gap 4.55% -> 1.83%, p08-p21 12.1% (one infeasible) -> 4.63%;
3. otherwise each day is a period, routed by the product's search on the problem restricted
   to the stops due that day;
4. repair and improving moves as in a season;
5. with a time limit, rounds of steps 2 and 4 while time is left, each routing every day at
   once for :data:`ROUND_S_PER_VISIT` per visit (the first round twice as long) and then
   moving visits for :data:`MOVES_SHARE` of that, each from the best season's dates with some
   stops visited several times on other days: alternately the group of neighbours whose
   move the days' edits favour most (:func:`planner.seasonsearch.group_moves`, say a cluster
   exchanging its days with another when both days are full), and the stops whose day sets
   the days' detours favour (:func:`pattern_changes`, one stop in :data:`BATCH_SHARE`).
   The routing of every day at once chooses the days of single visits well; what it cannot
   change, the day sets of stops visited several times, is what the rounds change (with the
   1995-96 published day sets, the routing alone finds the published totals of p02, p10,
   p15 and p16). Measured on Cordeau's PVRP at 60 s (2 cores shared, load about 3): p01-p21
   mean gap 3.70% -> 1.90% and 2.02% in a repeat, every instance feasible; p15 11.5% and
   p16 9.2% -> 0%, p10 7.7% -> 2.5-3.5%, p13 7.0% -> 0.6-0.9%, p08 6.3% -> 3.4-3.7%, p02
   6.7% -> 4.8-5.0% (``benchmarks/vrp/results/pvrp_cordeau_p01-p21_60s_patterns*.csv``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from planner import solve as search
from planner._assign import DateResult, VisitDemand, assign_dates
from planner.errors import PlannerError
from planner.problem import RoutingProblem
from planner.scenario import PeriodicSpec, SolverSettings, VisitRule
from planner.schedule import time_route
from planner.seasonsearch import (
    Move,
    Period,
    SearchSettings,
    SeasonSearch,
    group_moves,
    groups_by_time,
    period_numbers,
    rule_demand,
    search_season,
)
from planner.solution import SolverParams

UNROUTED = "no_room"  # the reason code of a stop its day's search left out
# each stop's nearest stops whose visits the dates keep on the same days (saving_pairs)
NEIGHBOURS = 5
FIRST_DATES_SHARE = 0.2  # of the time limit, at most, for the first dates
# of the time limit, for routing every day at once (stops visited once choose their day)
ALL_DAYS_SHARE = 0.5
MIN_ROUND_S = 3.0  # the least time left for another round of the search
# a round's routing of every day at once: this long per visit (the first round twice as long),
# then the moves for this share of it
ROUND_S_PER_VISIT, MOVES_SHARE = 0.025, 0.5
BATCH_SHARE = 10  # a round's pattern changes (:func:`pattern_changes`): 1 in this many stops
MARGIN_SHARE, MIN_MARGIN_S = 0.02, 0.5  # of the time limit, kept for what follows the search


@dataclass(frozen=True)
class PeriodicSolved:
    """Routes per day and per vehicle of the one-day problem (its location indices), the
    days of each stop's visits, and how the search went."""

    routes: tuple[tuple[tuple[int, ...], ...], ...]  # [day][vehicle] -> stops
    days: tuple[tuple[int, ...], ...]  # per stop (in problem order), its visit days
    unserved: tuple[tuple[int, int], ...]  # (day, stop location) left out
    cost: int  # the problem's arc costs over every day's routes
    assignment_status: str
    wall_s: float
    repair_rounds: int
    improve_tried: int
    improve_kept: int
    all_days_rounds: int = 0  # times every day was routed at once (:func:`all_days_problem`)


@dataclass(frozen=True, eq=False)
class _DayRoutes:
    """One day routed (:class:`planner.seasonsearch.RoutedPeriod`)."""

    problem: RoutingProblem  # the whole day's
    arcs: tuple[np.ndarray, ...]  # its arc costs, per vehicle
    routes: tuple[tuple[int, ...], ...]  # per vehicle, location indices of the whole problem
    route_costs: tuple[int, ...]
    left_out: tuple[int, ...]

    def missed(self) -> list[tuple[str, str]]:
        return [(str(s), UNROUTED) for s in self.left_out]

    def cost(self) -> float:
        return float(sum(self.route_costs))

    def trips(self) -> list[tuple[float, tuple[str, ...]]]:
        return [(float(c), tuple(str(s) for s in r))
                for r, c in zip(self.routes, self.route_costs, strict=True) if r]

    def edited(self, code: str, *, add: bool) -> _DayRoutes | None:
        """The day with stop ``code`` taken out of its route, or put where it costs least
        among the routes that keep every rule of the model (:func:`planner.schedule.
        time_route`: capacity, windows, the longest route); ``None``: no route can."""
        s = int(code)
        routes = list(self.routes)
        if not add:
            for k, r in enumerate(routes):
                if s in r:
                    routes[k] = tuple(x for x in r if x != s)
                    return self._with(routes, k)
            return None
        options = []
        for k, r in enumerate(routes):
            v = self.problem.vehicles[k]
            if search.peak_load(self.problem, [*r, s]) > v.capacity:
                continue
            arc = self.arcs[k]
            path = [v.start, *r, v.end]
            a, b = np.array(path[:-1]), np.array(path[1:])
            extra = arc[a, s] + arc[s, b] - arc[a, b]
            pos = int(extra.argmin())
            options.append((float(extra[pos]), k, pos))
        for _, k, pos in sorted(options)[:3]:
            r = routes[k]
            trial = (*r[:pos], s, *r[pos:])
            if time_route(self.problem, k, list(trial)).feasible:
                routes[k] = trial
                return self._with(routes, k, left_out=tuple(x for x in self.left_out
                                                            if x != s))
        return None

    def _with(self, routes: list[tuple[int, ...]], k: int, *,
              left_out: tuple[int, ...] | None = None) -> _DayRoutes:
        costs = list(self.route_costs)
        costs[k] = route_cost(self.problem, k, routes[k])
        return replace(self, routes=tuple(routes), route_costs=tuple(costs),
                       left_out=self.left_out if left_out is None else left_out)

    def detour(self, code: str, *, room: bool = True) -> float:
        """Taking stop ``code`` out of its route saves; otherwise the cheapest insertion
        into a route whose load keeps within its vehicle's capacity (any route, without
        ``room``), or an unused vehicle (``inf``: none)."""
        s = int(code)
        best = math.inf
        for k, r in enumerate(self.routes):
            v = self.problem.vehicles[k]
            arc = self.arcs[k]
            path = [v.start, *r, v.end]
            if s in r:
                i = r.index(s) + 1
                return float(arc[path[i - 1], s] + arc[s, path[i + 1]]
                             - arc[path[i - 1], path[i + 1]])
            if room and search.peak_load(self.problem, [*r, s]) > v.capacity:
                continue
            a, b = np.array(path[:-1]), np.array(path[1:])
            extra = arc[a, s] + arc[s, b] - arc[a, b]
            fixed = self.problem.vehicle_fixed_cost[k] if (
                not r and self.problem.vehicle_fixed_cost) else 0
            best = min(best, float(extra.min()) + fixed)
        return best


def route_cost(problem: RoutingProblem, vehicle: int, stops: Sequence[int]) -> int:
    """What ``stops`` (location indices) cost on ``vehicle``: the model's arc costs from its
    start to its end depot, and its fixed cost when used (span costs aside)."""
    if not stops:
        return 0
    v = problem.vehicles[vehicle]
    arcs = problem.arc_cost_matrix(*problem.arc_cost_key(vehicle))
    path = [v.start, *stops, v.end]
    fixed = problem.vehicle_fixed_cost[vehicle] if problem.vehicle_fixed_cost else 0
    return int(sum(int(arcs[a, b]) for a, b in zip(path, path[1:], strict=False))) + fixed


def saving_pairs(arcs: np.ndarray, depot: int, n_depots: int, neighbours: int
                 ) -> list[tuple[str, str, int]]:
    """Each stop with its ``neighbours`` nearest (``arcs``: depots first, the stops' keys
    their location indices), weighted by what serving both on one route saves against two
    routes from ``depot`` (the savings of Clarke and Wright; positive ones only)."""
    a = np.asarray(arcs, dtype=float)
    n = a.shape[0]
    if n - n_depots < 2:
        return []
    stops = a[n_depots:, n_depots:]
    sym = (stops + stops.T) / 2
    np.fill_diagonal(sym, np.inf)
    out = (a[depot, n_depots:] + a[n_depots:, depot]) / 2
    found: dict[tuple[int, int], int] = {}
    for i in range(n - n_depots):
        for j in np.argsort(sym[i])[:neighbours]:
            if not np.isfinite(sym[i, j]):  # itself, when there are few stops
                continue
            saving = int(out[i] + out[j] - sym[i, j])
            if saving > 0:
                found[min(i, int(j)), max(i, int(j))] = saving
    return [(str(n_depots + i), str(n_depots + j), w) for (i, j), w in sorted(found.items())]


def free_days(dm: VisitDemand) -> tuple[int, ...] | None:
    """The days a stop visited once may take (its rule's one-day sets), ``None`` when its
    visits are not one among several days."""
    if dm.day_sets is None or dm.count != 1 or len(dm.day_sets) < 2:
        return None
    return tuple(sorted(ds[0] for ds in dm.day_sets))


def all_days_problem(problem: RoutingProblem, visits: Sequence[tuple[int, Sequence[int]]],
                     days: int) -> RoutingProblem:
    """Every day of the horizon as one problem: each vehicle of ``problem`` once a day
    (vehicle ``d * m + k`` is vehicle ``k`` on day ``d``), and one stop per visit
    ``(location, days it may take)``, served by a vehicle of one of its days."""
    m = len(problem.vehicles)
    joint = problem.with_stops([loc for loc, _ in visits])
    vehicles = tuple(replace(v, id=f"{v.id}-day{d + 1}") for d in range(days)
                     for v in problem.vehicles)
    allowed: list[tuple[int, ...] | None] = [None] * problem.n_depots
    for loc, on in visits:
        own = problem.allowed_vehicles[loc] if problem.allowed_vehicles else None
        ks = range(m) if own is None else own
        allowed.append(tuple(d * m + k for d in sorted(on) for k in ks))
    fixed = None if problem.vehicle_fixed_cost is None else \
        tuple(problem.vehicle_fixed_cost) * days
    return replace(joint, vehicles=vehicles, allowed_vehicles=tuple(allowed),
                   vehicle_fixed_cost=fixed)


def solve_periodic(problem: RoutingProblem, rules: Sequence[VisitRule], *, days: int,
                   time_limit_s: float | None = None, seed: int | None = None,
                   periodic: PeriodicSpec | None = None,
                   solver: SolverSettings | None = None) -> PeriodicSolved:
    """Visit days and routes for every stop of ``problem`` over ``days`` days (see the module
    docstring). ``rules[j]`` is stop ``j``'s (stops in problem order). ``periodic`` and
    ``solver`` are a season scenario's settings (defaults: the scenario's); ``time_limit_s``
    bounds the whole search (without it: ``periodic.improve_rounds`` moves)."""
    t0 = time.perf_counter()
    spec = periodic or PeriodicSpec()
    settings = solver or SolverSettings()
    params = SolverParams.from_settings(settings, seed=seed)
    if len(rules) != problem.n_stops:
        raise PlannerError(f"{len(rules)} visit rules for {problem.n_stops} stops")
    n_dep = problem.n_depots
    keys = [str(n_dep + j) for j in range(problem.n_stops)]
    arcs = tuple(problem.arc_cost_matrix(*problem.arc_cost_key(k))
                 for k in range(len(problem.vehicles)))
    costs = arcs[0] if arcs else problem.arc_cost_matrix(0, 0)
    pairs = saving_pairs(costs, problem.vehicles[0].start if problem.vehicles else 0, n_dep,
                         NEIGHBOURS)
    groups = {} if pairs else groups_by_time(keys, costs, n_dep, spec.group_size)
    demands = [replace(rule_demand(k, rule, days), group=groups.get(k, -1))
               for k, rule in zip(keys, rules, strict=True)]
    fleet = tuple(v.id for v in problem.vehicles)
    periods = tuple(Period(d, 1, fleet) for d in range(days))
    loads = {k: max(problem.deliver[int(k)], problem.collect[int(k)]) for k in keys}
    load_capacity = [sum(v.capacity for v in problem.vehicles)] * days
    visits_any_day = [sum(dm.count for dm in demands)] * days
    numbers = period_numbers(periods, days)

    def assign(hint: Mapping[str, Sequence[int]] | None,
               forbidden: Mapping[str, frozenset[int]] | None, limit_s: float) -> DateResult:
        return assign_dates(demands, visits_any_day, time_limit_s=limit_s,
                            workers=params.workers, seed=params.seed, hint=hint,
                            forbidden=forbidden, period_of=numbers, loads=loads,
                            load_capacity=load_capacity, pairs=pairs)

    def route(i: int, visits: Mapping[str, Sequence[int]], limit_s: float
              ) -> _DayRoutes | None:
        stops = sorted(int(k) for k in visits)
        if not stops:
            return None
        sub = problem.with_stops(stops)
        raw = search.solve(sub, replace(params, time_limit_s=limit_s))
        routes = tuple(tuple(stops[s - n_dep] for s in r) for r in raw.routes)
        served = {s for r in routes for s in r}
        return _DayRoutes(problem=problem, arcs=arcs, routes=routes,
                          route_costs=tuple(route_cost(problem, k, r)
                                            for k, r in enumerate(routes)),
                          left_out=tuple(s for s in stops if s not in served))

    def route_all(dates: Mapping[str, Sequence[int]], limit_s: float
                  ) -> tuple[dict[str, tuple[int, ...]], dict[int, _DayRoutes]]:
        """Every day routed at once (:func:`all_days_problem`): a stop visited once on any of
        several days takes the day its route gives it, the others keep ``dates``."""
        visits: list[tuple[int, Sequence[int]]] = []
        for dm in demands:
            on = free_days(dm)
            loc = int(dm.key)
            visits += [(loc, on)] if on is not None else [(loc, (d,)) for d in dates[dm.key]]
        joint = all_days_problem(problem, visits, days)
        raw = search.solve(joint, replace(params, time_limit_s=limit_s))
        m = len(problem.vehicles)
        per_day: list[list[tuple[int, ...]]] = [[() for _ in range(m)] for _ in range(days)]
        new_dates: dict[str, list[int]] = {}
        served: set[int] = set()
        for j, r in enumerate(raw.routes):
            d, k = divmod(j, m)
            per_day[d][k] = tuple(visits[s - n_dep][0] for s in r)
            served.update(s - n_dep for s in r)
            for s in r:
                new_dates.setdefault(str(visits[s - n_dep][0]), []).append(d)
        left: dict[int, list[int]] = {}
        for i, (loc, its_days) in enumerate(visits):
            if i not in served:  # left out: on its day of ``dates`` (the repair moves it)
                d = its_days[0] if len(its_days) == 1 else dates[str(loc)][0]
                new_dates.setdefault(str(loc), []).append(d)
                left.setdefault(d, []).append(loc)
        routed = {}
        for d in range(days):
            routes = tuple(per_day[d])
            if any(routes) or d in left:
                routed[d] = _DayRoutes(problem=problem, arcs=arcs, routes=routes,
                                       route_costs=tuple(route_cost(problem, k, r)
                                                         for k, r in enumerate(routes)),
                                       left_out=tuple(left.get(d, ())))
        return {k: tuple(sorted(v)) for k, v in new_dates.items()}, routed

    # the first dates take at most a share of the whole search's time: the rest is the moves'
    first = assign(None, None, spec.assignment_time_limit_s if time_limit_s is None
                   else min(spec.assignment_time_limit_s, FIRST_DATES_SHARE * time_limit_s))
    if not first.days:
        raise PlannerError(f"no visit days meet every stop's rule within the days' loads "
                           f"(CP-SAT: {first.status})")
    # with a time limit the search ends a little before it (what follows the search: reading
    # the routes back), so a caller's clock stays within the limit
    deadline = None if time_limit_s is None else t0 + time_limit_s - max(
        MIN_MARGIN_S, MARGIN_SHARE * time_limit_s)
    moves = SearchSettings(
        period_time_limit_s=spec.period_time_limit_s,
        assignment_time_limit_s=spec.assignment_time_limit_s,
        repair_rounds=spec.repair_rounds, improve_rounds=spec.improve_rounds,
        deadline=deadline, time_per_visit_s=spec.period_time_per_visit_s)
    joint = days > 1 and any(free_days(dm) is not None for dm in demands)
    # the stops whose day sets a round may change (the others choose their day by routing)
    several = frozenset(dm.key for dm in demands if free_days(dm) is None)
    # a round's time: by the visits to route (the first round twice as long)
    round_s = max(MIN_ROUND_S, ROUND_S_PER_VISIT * sum(
        dm.count if free_days(dm) is None else 1 for dm in demands))
    dates: dict[str, tuple[int, ...]] = dict(first.days)
    best: SeasonSearch[_DayRoutes] | None = None
    tried = kept = rounds = 0
    perturbed: set[Move] = set()  # the changes of day sets rounds started from
    options: list[tuple[float, Move]] = []  # the best season's group moves, best first
    while True:
        # every day at once (when stops visited once may choose their day), then the moves;
        # again while the time allows, from the best season's dates with some day sets
        # changed (step 5 of the module docstring)
        routed: dict[int, _DayRoutes] = {}
        this_round = moves
        if joint:
            if deadline is None:
                left_s = spec.period_time_limit_s * days
            else:
                left_s = min(ALL_DAYS_SHARE * (deadline - time.perf_counter()),
                             round_s * (1 if rounds else 2))
                this_round = replace(moves, deadline=min(
                    deadline, time.perf_counter() + left_s + MOVES_SHARE * round_s))
            dates, routed = route_all(dates, max(1.0, left_s))
            rounds += 1
        found = search_season(demands, periods, dates, route, assign, this_round,
                              routed=routed)
        tried, kept = tried + found.tried, kept + found.improved
        if best is None or _score(found) < _score(best):
            best, options = found, []
        if not joint or deadline is None or deadline - time.perf_counter() < MIN_ROUND_S:
            break
        if not options:
            options = group_moves(best, demands, periods, {}, movable=several,
                                  deadline=deadline)
        options = [o for o in options if tuple(sorted(o[1])) not in perturbed]
        dates = dict(best.dates)
        batch = pattern_changes(best, demands, several, refused=perturbed)[
            :max(2, len(several) // BATCH_SHARE)]
        if options and (rounds % 2 or not batch):
            batch = options[:1]
        for _, move in batch:
            perturbed.add(tuple(sorted(move)))  # the same days, whatever the order
            dates.update(dict(move))
    found = best
    empty = tuple(() for _ in problem.vehicles)
    per_day = tuple(found.routed[d].routes if d in found.routed else empty
                    for d in range(days))
    left = tuple((d, s) for d, r in sorted(found.routed.items()) for s in r.left_out)
    return PeriodicSolved(
        routes=per_day, days=tuple(found.dates.get(k, ()) for k in keys), unserved=left,
        cost=int(sum(r.cost() for r in found.routed.values())),
        assignment_status=first.status, wall_s=time.perf_counter() - t0,
        repair_rounds=found.rounds, improve_tried=tried, improve_kept=kept,
        all_days_rounds=rounds)


def pattern_changes(found: SeasonSearch[_DayRoutes], demands: Sequence[VisitDemand],
                    movable: Collection[str], *, refused: Collection[Move] = ()
                    ) -> list[tuple[float, Move]]:
    """For each stop of ``movable`` with a choice of day sets, the other set that saves most
    by the days' detours (:meth:`_DayRoutes.detour`: what leaving its days saves, what joining
    the others adds, whatever the load), when it saves; best first."""
    out = []
    for dm in demands:
        if dm.key not in movable or dm.day_sets is None or len(dm.day_sets) < 2:
            continue
        now = found.dates.get(dm.key, ())
        detours: dict[int, float] = {}
        for d in {d for ds in dm.day_sets for d in ds}:
            routed = found.routed.get(d)
            detours[d] = math.inf if routed is None else routed.detour(dm.key, room=False)
        best: tuple[float, Move] | None = None
        for other in dm.day_sets:
            move: Move = ((dm.key, other),)
            if other == tuple(now) or move in refused:
                continue
            gain = sum(detours[d] for d in now if d not in other) - sum(
                detours[d] for d in other if d not in now)
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, move)
        if best is not None:
            out.append(best)
    return sorted(out, key=lambda x: -x[0])


def _score(found: SeasonSearch[_DayRoutes]) -> tuple[int, float]:
    """Visits left out, then cost: the better of two searches."""
    return (sum(len(r.left_out) for r in found.routed.values()),
            sum(r.cost() for r in found.routed.values()))


__all__ = ["PeriodicSolved", "all_days_problem", "free_days", "route_cost", "saving_pairs",
           "solve_periodic"]
