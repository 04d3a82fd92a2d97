"""A season of periodic visits: visit dates for every commune, trips routed period by period.

The steps (``docs/scenario-schema.md``, "Seasons"; ``docs/plan-format.md``, version 4):

1. **Calendar** (:mod:`planner.workdays`): the days each vehicle may be out and each commune
   may receive (public holidays with Tết, the scenario's days off and swapped working days,
   a library's closed days, a vehicle's weekdays and unavailable dates, a commune's
   unavailable dates and time windows).
2. **Periods**: runs of consecutive working days with the same vehicles available, at most
   ``periodic.max_period_days`` long (a working week). Trips stay within a period.
3. **Visit dates** (:func:`planner._assign.assign_dates`, CP-SAT): each commune's visits on
   days it may receive, gaps within its rule, fixed dates kept and preferred dates earned,
   at most ``visits_per_vehicle_day`` visits per available vehicle a day, and neighbouring
   communes (groups of ``group_size`` by travel time) on nearby days so a trip can serve
   them together.
4. **Routing**: each period is a scenario of its own (its dates, its vehicles, the communes
   due in it, each allowed on the days its gaps leave free: :func:`period_scenario`) solved
   by the one pipeline (:func:`planner.pipeline.solve_scenario`), so closures and the rainy
   season follow the period's dates.
5. **Repair** (a large-neighbourhood step): a visit no trip of its period could take is
   forbidden on that period's days, the dates are assigned again from the current ones, and
   the periods whose communes changed are routed again; a period whose search ran out of
   time before placing a visit is searched again for twice as long
   (``periodic.repair_rounds`` times).

Steps 4 and 5 are :mod:`planner.seasonsearch`, which :mod:`planner.periodic` shares to solve a
season over matrices (the periodic VRP benchmarks) instead of the road network.

Re-planning (:func:`solve_season` with ``previous`` and ``replan_from``) keeps every trip of
the previous season plan that leaves before ``replan_from`` (done or published) and the
visit dates they made, and plans the rest of the season after them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from planner._assign import DateResult, VisitDemand, assign_dates
from planner.errors import PlannerError, Problem, ScenarioError
from planner.kpis import CO2_SOURCE, coverage, route_co2_kg, route_cost_vnd, route_kpis
from planner.pipeline import Network, Solved, network_within, prepare_network, solve_scenario
from planner.plan import (
    Plan,
    Route,
    SeasonCommune,
    SeasonPeriod,
    SeasonRecord,
    SeasonVisit,
    Unserved,
    clock,
    numbered_trips,
)
from planner.problem import DAY_S
from planner.provenance import ReplanRecord
from planner.scenario import Scenario, Stop, TimeWindow, VisitRule
from planner.seasonsearch import (
    Period,
    SearchSettings,
    gap_slack,
    groups_by_time,
    period_numbers,
    rule_demand,
    search_season,
)
from planner.workdays import SeasonCalendar, season_calendar

log = logging.getLogger(__name__)


def _rule_dict(rule: VisitRule) -> dict[str, Any]:
    return rule.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def rule_of(scenario: Scenario, stop: Stop) -> VisitRule:
    """The visit rule of ``stop``: its own, or the season's default."""
    rule = stop.visit_rule or (scenario.periodic.default_rule if scenario.periodic else None)
    if rule is None:
        raise PlannerError(f"commune {stop.commune_code} has no visit rule")
    return rule


def season_periods(scenario: Scenario, cal: SeasonCalendar) -> tuple[Period, ...]:
    """The periods of the season (see the module docstring)."""
    assert scenario.periodic is not None
    most = scenario.periodic.max_period_days
    out: list[Period] = []
    start: int | None = None
    fleet: tuple[str, ...] = ()
    for day in range(cal.days + 1):
        on = cal.vehicles_on(day) if day < cal.days else ()
        if start is not None and (on != fleet or day - start >= most):
            out.append(Period(start, day - start, fleet))
            start = None
        if on and start is None:
            start, fleet = day, on
    return tuple(out)


def commune_groups(scenario: Scenario, net: Network) -> dict[str, int]:
    """Communes near each other by travel time (the first vehicle's profile), in groups of
    at most ``periodic.group_size``: farthest-first seeds, then each commune to its nearest
    seed with room, the communes with most to lose first."""
    assert scenario.periodic is not None
    codes = [st.commune_code for st in scenario.stops]
    return groups_by_time(codes, net.matrices[scenario.vehicles[0].profile].time_s,
                          len(scenario.depots), scenario.periodic.group_size)


def _with_pauses(travel_s: float) -> float:
    """A drive with a 15-minute pause every 4 hours (the default continuous-driving rule)."""
    return travel_s + (travel_s // (4 * 3600)) * 15 * 60


def reach_days(scenario: Scenario, net: Network) -> dict[str, tuple[int, int]]:
    """Per commune, the working days a trip needs before its visit day (to get there within
    its windows) and after it (to get back within shift hours), with the vehicle that
    needs fewest: a commune 6 hours away is no visit for a period's last day."""
    n_dep = len(scenario.depots)
    depot_index = {d.id: i for i, d in enumerate(scenario.depots)}
    out = {}
    for j, st in enumerate(scenario.stops):
        best: tuple[int, int] | None = None
        for v in scenario.vehicles:
            if st.allowed_profiles is not None and v.profile not in st.allowed_profiles:
                continue
            time_s = net.matrices[v.profile].time_s
            home = depot_index[v.depot]
            depot = scenario.depots[home]
            end = depot_index[v.end_depot or v.depot]
            t_out = _with_pauses(float(time_s[home, n_dep + j]))
            t_back = _with_pauses(float(time_s[n_dep + j, end]))
            if t_out >= 1e9 or t_back >= 1e9:
                continue
            first = max(v.shift.start_min, depot.opening.start_min) * 60
            last = v.shift.end_min * 60
            length = max(3600, last - first)
            opens = min((w.start_min for w in st.time_windows), default=first // 60) * 60
            closes = max((w.end_min for w in st.time_windows), default=last // 60) * 60
            lead = max(0, math.ceil((first + t_out - closes) / length))
            done = max(first, opens) + st.service_minutes * 60 + t_back
            tail = max(0, math.ceil((done - last) / length))
            if best is None or lead + tail < sum(best):
                best = (lead, tail)
        out[st.commune_code] = best or (0, 0)
    return out


def visit_demands(scenario: Scenario, cal: SeasonCalendar, groups: Mapping[str, int], *,
                  kept: Mapping[str, Sequence[int]] | None = None, not_before: int = 0,
                  reach: Mapping[str, tuple[int, int]] | None = None,
                  periods: Sequence[Period] = ()) -> list[VisitDemand]:
    """Each commune's visits as the date assignment takes them (see
    :class:`planner._assign.VisitDemand`); ``kept`` days are visits already made or published
    (a re-plan: the others fall on ``not_before`` or later). With ``reach`` (see
    :func:`reach_days`) and the ``periods``, a visit falls on a day its trip has the days
    before and after it in the same period (unless no day would be left)."""
    days = cal.days
    start = cal.start_date
    where = {d: p for p in periods for d in p.day_range}
    out = []
    for st in scenario.stops:
        base = rule_demand(st.commune_code, rule_of(scenario, st), days)
        preferred = tuple(((p.date - start).days, p.weight, p.fixed) for p in st.preferred_dates)
        have = tuple(sorted((kept or {}).get(st.commune_code, ())))[:base.count]
        visit_days = cal.visit_days(st.commune_code)
        lead, tail = (reach or {}).get(st.commune_code, (0, 0))
        if lead or tail:
            reachable = [d for d in visit_days if d in where
                         and d - where[d].start_day >= lead
                         and where[d].start_day + where[d].days - 1 - d >= tail]
            visit_days = reachable or visit_days
        out.append(replace(base, days=tuple(visit_days), preferred=preferred, kept=have,
                           not_before=not_before, group=groups.get(st.commune_code, -1)))
    return out


def _fleet_capacity(scenario: Scenario, cal: SeasonCalendar) -> list[int]:
    assert scenario.periodic is not None
    per = scenario.periodic.visits_per_vehicle_day
    count = {v.id: v.count for v in scenario.vehicles}
    return [per * sum(count[v] for v in cal.vehicles_on(d)) for d in range(cal.days)]


def assign_visit_dates(scenario: Scenario, cal: SeasonCalendar, groups: Mapping[str, int], *,
                       kept: Mapping[str, Sequence[int]] | None = None, not_before: int = 0,
                       reach: Mapping[str, tuple[int, int]] | None = None,
                       periods: Sequence[Period] = (),
                       hint: Mapping[str, Sequence[int]] | None = None,
                       forbidden: Mapping[str, frozenset[int]] | None = None,
                       seed: int = 0, file: str = "<scenario>") -> DateResult:
    """The visit days of every commune; a :class:`ScenarioError` naming the communes whose
    rule no days of the calendar can meet."""
    assert scenario.periodic is not None
    demands = visit_demands(scenario, cal, groups, kept=kept, not_before=not_before,
                            reach=reach, periods=periods)
    capacity = _fleet_capacity(scenario, cal)
    limit = scenario.periodic.assignment_time_limit_s
    workers = scenario.solver.workers
    period_of = period_numbers(periods, cal.days) if periods else None
    result = assign_dates(demands, capacity, time_limit_s=limit, workers=workers, seed=seed,
                          hint=hint, forbidden=forbidden, period_of=period_of)
    if result.days:
        return result
    problems = []
    big = [10**6] * cal.days
    for i, dm in enumerate(demands):  # which commune's rule the calendar cannot meet alone
        alone = assign_dates([replace(dm, group=-1)], big, time_limit_s=min(limit, 5.0),
                             workers=1, seed=seed, forbidden=forbidden, period_of=period_of)
        if not alone.days:
            problems.append(Problem(
                file, f"stops[{i}].visit_rule", _rule_dict(rule_of(scenario, scenario.stops[i])),
                f"commune {dm.key}: no visit days meet this rule on the calendar "
                f"({len(dm.days)} days it may receive of {cal.days})",
                "widen the tolerance or the gaps, or check its unavailable dates, time "
                "windows and the calendar's days off"))
    if problems:
        raise ScenarioError(problems)
    relaxed = assign_dates(demands, big, time_limit_s=limit, workers=workers, seed=seed,
                           hint=hint, forbidden=forbidden, period_of=period_of)
    if relaxed.days:
        log.warning("the visits do not fit %d visit(s) a vehicle a day: assigned without that "
                    "limit; trips may leave some unserved", scenario.periodic
                    .visits_per_vehicle_day)
        return replace(relaxed, status=f"{relaxed.status} (without the daily limit)")
    raise ScenarioError([Problem(file, "periodic", None,
                                 f"no visit dates meet every commune's rule together "
                                 f"(CP-SAT: {result.status})",
                                 "raise `periodic.assignment_time_limit_s`, or widen the "
                                 "visit rules")])


def _cycle_days(scenario: Scenario) -> int | None:
    """The length of one rotation cycle when every commune follows ``every_weeks`` of the
    same period and the season holds more than one cycle (``None`` otherwise)."""
    rules = {rule_of(scenario, st) for st in scenario.stops}
    weeks = {r.every_weeks for r in rules}
    if len(weeks) != 1 or None in weeks:
        return None
    days = 7 * int(next(iter(weeks)))  # type: ignore[arg-type]
    return days if scenario.horizon.days >= 2 * days else None


def _cycle_scenario(scenario: Scenario, days: int) -> Scenario:
    """One cycle of the season: its first ``days``, each commune visited once, no batches."""
    assert scenario.periodic is not None
    stops = tuple(st.model_copy(update={"visit_rule": None, "preferred_dates": ()})
                  for st in scenario.stops)
    periodic = scenario.periodic.model_copy(update={
        "default_rule": VisitRule(count=1), "seed_with_cycle": False, "improve_rounds": 0})
    return scenario.model_copy(update={
        "name": f"{scenario.name}-cycle", "rotation": None, "stops": stops,
        "periodic": periodic,
        "horizon": scenario.horizon.model_copy(update={"days": days})})


def _cycle_start(cycle: Plan, demands: Sequence[VisitDemand], days: int
                 ) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Groups and a start for the season's dates from a cycle plan: the communes of each of
    its trips form a group, and each commune's visits repeat its cycle day every ``days``."""
    groups: dict[str, int] = {}
    first: dict[str, int] = {}
    for g, r in enumerate(cycle.routes):
        for x in r.visits:
            groups.setdefault(x.commune_code, g)
            first.setdefault(x.commune_code, x.day)
    hint = {}
    for dm in demands:
        if dm.key in first:
            hint[dm.key] = [first[dm.key] + k * days for k in range(dm.count)]
    offset = len(cycle.routes)
    for i, dm in enumerate(demands):  # a commune the cycle left unserved: a group of its own
        groups.setdefault(dm.key, offset + i)
    return groups, hint


def _route_period(sub: Scenario, period: Period, *, file: str, time_limit_s: float,
                  seed: int, season: Network, network: Network | None) -> Solved:
    """One period routed by the pipeline (:func:`_within_period`), on the ``season``'s
    network cut to the period's places and days (:func:`planner.pipeline.network_within`;
    its own when the period's days have several road conditions). The period's network is
    not kept (a year holds 50 of them): the result carries ``network`` (another period's,
    already routed), or its own when there is none yet."""
    routed = _within_period(solve_scenario(
        sub, scenario_file=file, time_limit_s=time_limit_s, seed=seed,
        solution_limit=sub.solver.solution_limit,
        network=network_within(season, sub, period.start_day)), period)
    return replace(routed, network=network) if network is not None else routed


@dataclass(frozen=True, eq=False)
class _RoadPeriod:
    """A period routed on the road network, as the search reads it
    (:class:`planner.seasonsearch.RoutedPeriod`): costs in VND at the vehicles' rates."""

    solved: Solved

    def missed(self) -> list[tuple[str, str]]:
        return [(u.commune_code, u.reason_code) for u in self.solved.plan.unserved]

    def cost(self) -> float:
        return float(self.solved.plan.kpis.cost_vnd or 0)

    def trips(self) -> list[tuple[float, tuple[str, ...]]]:
        return [(_trip_cost(self.solved.scenario, r), tuple(x.commune_code for x in r.visits))
                for r in self.solved.plan.routes if r.visits]

    def edited(self, code: str, *, add: bool) -> _RoadPeriod | None:
        return None  # trips on roads change by a search only

    def detour(self, code: str, *, room: bool = True) -> float | None:
        return None  # no estimate on the road network: its moves go by trips


def _trip_cost(scenario: Scenario, r: Route) -> float:
    by_id = {v.id: v for v in scenario.vehicles}
    spec = by_id.get(r.vehicle_id) or by_id.get(r.vehicle_id.rsplit("-", 1)[0])
    if spec is None:
        return 0.0
    return route_cost_vnd(km=r.km, hours=r.duration_hours, nights=r.nights, used=True,
                          per_km=spec.cost_vnd_per_km, per_hour=spec.cost_vnd_per_hour,
                          per_trip=spec.cost_vnd_per_trip, per_night=spec.cost_vnd_per_night)


def _within_period(solved: Solved, period: Period) -> Solved:
    """``solved`` without the trips that end after its period or last longer than their
    vehicle's ``max_trip_days`` (the routing core can plan a vehicle's later trip past the
    horizon, or a trip that waits days for a window: seen with several trips per vehicle);
    their visits are listed unserved, so the repair moves them."""
    end_s = period.days * DAY_S
    most = {v.id: v.max_trip_days for v in solved.scenario.vehicles}

    def too_long(r: Route) -> bool:
        limit = most.get(r.vehicle_id) or most.get(r.vehicle_id.rsplit("-", 1)[0], r.days)
        return r.days > limit

    over = [r for r in solved.plan.routes if r.visits and (r.return_s >= end_s or too_long(r))]
    if not over:
        return solved
    log.warning("season: %d trip(s) of the period from day %d end after it; their visits "
                "are placed again", len(over), period.start_day)
    lost = tuple(Unserved(x.commune_code, x.commune_name, True, "no_room_time",
                          "the trip found for it ends after the working period or lasts "
                          "longer than its vehicle's trips may")
                 for r in over for x in r.visits)
    plan = replace(solved.plan, routes=tuple(r for r in solved.plan.routes if r not in over),
                   unserved=solved.plan.unserved + lost)
    return replace(solved, plan=plan)


def visit_slack(days: Sequence[int], rule: VisitRule, horizon: int) -> list[int]:
    """How many days each visit may move (either way) while its gaps stay within the rule,
    even if its neighbours move as much: half the room of its tighter gap."""
    if rule.day_sets is not None:
        return [0] * len(days)
    lo, hi = rule.gap_days
    return gap_slack(days, lo, hi, horizon)


def period_scenario(scenario: Scenario, period: Period,
                    visits: Mapping[str, Sequence[int]]) -> Scenario:
    """The routing scenario of one period: its dates, its vehicles, and the communes of
    ``visits`` each allowed on the given days (season days, within the period) only. The
    pipeline solves it as any scenario (schema version 3: several trips per vehicle)."""
    start = scenario.horizon.date_of(period.start_day)
    vehicles = tuple(v.model_copy(update={
        "working_weekdays": None, "unavailable_dates": (),
        "max_trip_days": min(v.max_trip_days, period.days)})
        for v in scenario.vehicles if v.id in period.vehicles)
    hours = (min(v.shift.start for v in vehicles or scenario.vehicles),
             max(v.shift.end for v in vehicles or scenario.vehicles))
    stops = []
    for st in scenario.stops:
        allowed = visits.get(st.commune_code)
        if not allowed:
            continue
        dates = tuple(sorted(scenario.horizon.date_of(d) for d in allowed))
        # a commune without windows takes its visit within the fleet's working hours (a
        # window of the whole day would let the routing model start a service at midnight)
        windows = tuple(w.model_copy(update={"dates": tuple(
            d for d in dates if w.applies_on(d))}) for w in st.time_windows) or (
            TimeWindow(start=hours[0], end=hours[1], dates=dates),)
        windows = tuple(w for w in windows if w.dates)
        if not windows:
            continue
        stops.append(st.model_copy(update={"visit_rule": None, "preferred_dates": (),
                                           "unavailable_dates": (), "time_windows": windows}))
    depots = tuple(d.model_copy(update={"closed_dates": ()}) for d in scenario.depots)
    codes = set(visits)
    transfers = tuple(t for t in scenario.transfers
                      if t.from_code in codes and t.to_code in codes)
    return scenario.model_copy(update={
        "schema_version": 3, "calendar": None, "periodic": None, "rotation": None,
        "name": f"{scenario.name}-{start.isoformat()}",
        "horizon": scenario.horizon.model_copy(update={"start_date": start,
                                                       "days": period.days}),
        "vehicles": vehicles, "stops": tuple(stops), "depots": depots,
        "transfers": transfers})


@dataclass(frozen=True, eq=False)
class SeasonSolved:
    """A season plan, the road network of the whole season (for the plan folder's map and
    matrices) and the scenario it was planned from."""

    plan: Plan
    network: Network
    scenario: Scenario
    periods: tuple[Period, ...]


def solve_season(scenario: Scenario, *, scenario_file: str = "<scenario>",
                 time_limit_s: float | None = None, seed: int | None = None,
                 previous: Plan | None = None, replan_from: dt.date | None = None,
                 on_progress: Callable[[float, int], None] | None = None) -> SeasonSolved:
    """Plan the season of ``scenario`` (see the module docstring). ``time_limit_s`` is the
    search time of each period's routing (default ``periodic.period_time_limit_s``)."""
    if scenario.periodic is None:
        raise PlannerError("not a season scenario: it has no `periodic:` section")
    t0 = time.perf_counter()
    seed = scenario.solver.seed if seed is None else seed
    spec = scenario.periodic
    limit = spec.period_time_limit_s if time_limit_s is None else time_limit_s
    net = prepare_network(scenario, scenario_file=scenario_file)
    cal = season_calendar(scenario)
    periods = season_periods(scenario, cal)
    groups = commune_groups(scenario, net)
    kept_routes: tuple[Route, ...] = ()
    kept: dict[str, list[int]] = {}
    not_before = 0
    if previous is not None:
        if previous.season is None:
            raise PlannerError("the plan to re-plan from is not a season plan")
        if previous.start_date != scenario.horizon.start_date:
            raise PlannerError(f"the plan to re-plan from starts on {previous.start_date}, the "
                               f"season on {scenario.horizon.start_date}")
        cut = (replan_from or scenario.horizon.start_date) - scenario.horizon.start_date
        not_before = max(0, cut.days)
        kept_routes = tuple(r for r in previous.routes if r.visits
                            and r.depart_s < not_before * DAY_S)
        for r in kept_routes:
            for x in r.visits:
                kept.setdefault(x.commune_code, []).append(x.day)
        # trips are kept whole: the periods after the cut start when the last kept is back
        not_before = max([not_before] + [r.return_s // DAY_S + 1 for r in kept_routes])
    kept_days = {c: set(ds) for c, ds in kept.items()}
    reach = reach_days(scenario, net)
    demands = visit_demands(scenario, cal, groups, kept=kept, not_before=not_before,
                            reach=reach, periods=periods)
    hint = None
    cycle = _cycle_days(scenario) if previous is None and spec.seed_with_cycle else None
    if cycle is not None:
        log.info("season: planning one cycle of %d days first, to start from", cycle)
        one = solve_season(_cycle_scenario(scenario, cycle), scenario_file=scenario_file,
                           time_limit_s=time_limit_s, seed=seed)
        groups, hint = _cycle_start(one.plan, demands, cycle)
        demands = visit_demands(scenario, cal, groups, kept=kept, not_before=not_before,
                                reach=reach, periods=periods)
    result = assign_visit_dates(scenario, cal, groups, kept=kept, not_before=not_before,
                                reach=reach, periods=periods, seed=seed, file=scenario_file,
                                hint=hint)
    capacity = _fleet_capacity(scenario, cal)
    numbers = period_numbers(periods, cal.days)
    network: list[Network] = []  # the first period's, carried by the others (see _route_period)
    routed_periods: set[int] = set()

    def route(i: int, visits: Mapping[str, Sequence[int]], limit_s: float
              ) -> _RoadPeriod | None:
        sub = period_scenario(scenario, periods[i], visits)
        if not sub.stops:
            return None
        log.info("season: period %d (%s, %d days) with %d communes", i,
                 sub.horizon.start_date, periods[i].days, len(sub.stops))
        solved = _route_period(sub, periods[i], file=scenario_file, time_limit_s=limit_s,
                               seed=seed, season=net, network=network[0] if network else None)
        network[:1] = network[:1] or [solved.network]
        routed_periods.add(i)
        if on_progress is not None:
            on_progress(time.perf_counter() - t0, len(routed_periods))
        return _RoadPeriod(solved)

    def assign(hint: Mapping[str, Sequence[int]], forbidden: Mapping[str, frozenset[int]],
               limit_s: float) -> DateResult:
        return assign_dates(demands, capacity, time_limit_s=limit_s,
                            workers=scenario.solver.workers, seed=seed, hint=hint,
                            forbidden=forbidden, period_of=numbers)

    settings = SearchSettings(period_time_limit_s=limit,
                              assignment_time_limit_s=spec.assignment_time_limit_s,
                              repair_rounds=spec.repair_rounds,
                              improve_rounds=spec.improve_rounds,
                              time_per_visit_s=spec.period_time_per_visit_s)
    found = search_season(demands, periods, result.days, route, assign, settings,
                          kept_days=kept_days)
    solved = {i: r.solved for i, r in found.routed.items()}
    plan = season_plan(scenario, net, cal, periods, solved, kept_routes, previous=previous,
                       record_extra={"assignment_status": result.status,
                                     "assignment_wall_s": round(result.wall_s
                                                                + found.assign_s, 3),
                                     "repair_rounds": found.rounds,
                                     "unrouted_first": found.unrouted_first,
                                     "kept_trips": len(kept_routes),
                                     "improve_tried": found.tried,
                                     "improve_kept": found.improved,
                                     "improve_saved_vnd": round(found.saved),
                                     "replan_from": replan_from.isoformat()
                                     if previous is not None and replan_from else ""},
                       wall_s=time.perf_counter() - t0, seed=seed, time_limit_s=limit,
                       scenario_file=scenario_file)
    if previous is not None:  # what the plan was re-planned from (the season record: how)
        plan = replace(plan, provenance=replace(plan.provenance, replan=ReplanRecord(
            base_plan_created_at=previous.created_at, base_scenario=previous.scenario_name)))
    if scenario.rotation is not None:
        plan = _with_season_batches(scenario, plan, seed=seed)
    return SeasonSolved(plan, net, scenario, periods)


def _with_season_batches(scenario: Scenario, plan: Plan, *, seed: int) -> Plan:
    """``plan`` with the batches of each visit over the projected positions
    (:mod:`planner.seasonbatches`), the assignment's status and shortages in its record."""
    from planner.rotation import load_rotation
    from planner.seasonbatches import season_batches

    assert scenario.rotation is not None and plan.season is not None
    inputs = load_rotation(scenario.rotation, start=scenario.horizon.start_date)
    periods = [r.gap_days[1] for st in scenario.stops
               if (r := rule_of(scenario, st)).gap_days[1] is not None]
    window = max((p for p in periods if p is not None), default=28)
    with_batches, status, shortages = season_batches(plan, inputs, window_days=window,
                                                     seed=seed)
    return replace(with_batches, season=replace(plan.season, batch_status=status,
                                                batch_shortages=shortages))


def shifted_trip(route: Route, offset_days: int, season_start: dt.date) -> Route:
    """``route`` (timed from a day of the season) with its times counted ``offset_days``
    later: from the season's first day when ``offset_days`` is the day it was timed from."""
    off = offset_days * DAY_S
    visits = tuple(replace(
        x, day=x.day + offset_days, arrival_s=x.arrival_s + off, start_s=x.start_s + off,
        departure_s=x.departure_s + off, arrival=clock(season_start, x.arrival_s + off),
        departure=clock(season_start, x.departure_s + off)) for x in route.visits)
    return replace(route, visits=visits, depart_s=route.depart_s + off,
                   depart=clock(season_start, route.depart_s + off),
                   return_s=route.return_s + off,
                   return_time=clock(season_start, route.return_s + off),
                   breaks_s=tuple((a + off, b + off) for a, b in route.breaks_s))


def season_visits(routes: Sequence[Route], missed: Sequence[tuple[str, int]],
                  season_start: dt.date) -> dict[str, list[SeasonVisit]]:
    """Each commune's visits for the season record: those the trips make, and ``missed``
    (commune, day: visits no trip took), by day."""
    taken: dict[str, list[SeasonVisit]] = {}

    def date(day: int) -> str:
        return (season_start + dt.timedelta(days=day)).isoformat()

    for r in routes:
        for x in r.visits:
            taken.setdefault(x.commune_code, []).append(SeasonVisit(x.day, date(x.day), r.key))
    for code, day in missed:
        taken.setdefault(code, []).append(SeasonVisit(day, date(day), ""))
    return {code: sorted(visits, key=lambda v: v.day) for code, visits in taken.items()}


def season_with_trips(plan: Plan, routes: Sequence[Route]) -> Plan:
    """Season plan ``plan`` with ``routes`` as its trips: listed in time order, numbered per
    vehicle across the season, the season record's visits those they make (and the visits it
    lists unserved). The KPIs are the caller's to recompute."""
    assert plan.season is not None
    ordered = sorted(routes, key=lambda r: (r.depart_s, r.vehicle_id))
    trips = numbered_trips(ordered)
    missed = [(c.commune_code, v.day) for c in plan.season.communes for v in c.visits
              if not v.trip_id]
    visits = season_visits(trips, missed, plan.start_date)
    communes = tuple(replace(c, visits=tuple(visits.get(c.commune_code, ())))
                     for c in plan.season.communes)
    kept = tuple(new.key for old, new in zip(ordered, trips, strict=True)
                 if old.key in plan.season.kept_trip_ids)  # a re-plan's kept trips, renumbered
    return replace(plan, routes=trips, season=replace(plan.season, communes=communes,
                                                      kept_trip_ids=kept))


def communes_on_rule(plan: Plan) -> frozenset[str]:
    """The communes a season plan serves **by their visit rule**: every visit the rule makes
    due is on a trip (a commune visited once where its rule asks for four is not). What a
    season sweep and the fleet sizing count as served (``docs/sweeps.md``)."""
    if plan.season is None:
        raise PlannerError("not a season plan: it has no `season` section")
    return frozenset(c.commune_code for c in plan.season.communes
                     if c.visits and all(v.trip_id for v in c.visits))


def season_kpis_routes(scenario: Scenario, routes: Sequence[Route],
                       unserved: Sequence[Unserved], *, like: Any) -> Any:
    """The KPIs of a season plan: figures of every trip, the communes served counted once,
    cost and CO₂ from each vehicle's rates."""
    area = like.service_area_communes if like is not None else len(scenario.stops)
    kpis = route_kpis(routes, unserved, service_area_communes=area)
    served = len({x.commune_code for r in routes for x in r.visits})
    unserved_codes = {u.commune_code for u in unserved}
    by_id = {v.id: v for v in scenario.vehicles}
    cost = co2 = 0.0
    for r in routes:
        spec = by_id.get(r.vehicle_id) or by_id.get(r.vehicle_id.rsplit("-", 1)[0])
        if spec is None:
            continue
        cost += route_cost_vnd(km=r.km, hours=r.duration_hours, nights=r.nights,
                               used=bool(r.visits), per_km=spec.cost_vnd_per_km,
                               per_hour=spec.cost_vnd_per_hour, per_trip=spec.cost_vnd_per_trip,
                               per_night=spec.cost_vnd_per_night)
        co2 += route_co2_kg(km=r.km, fuel=spec.fuel, l_per_100km=spec.fuel_l_per_100km)
    share = coverage(served, area)
    out = replace(kpis, communes_served=served, communes_unserved=len(unserved_codes),
                  service_area_share=share,
                  meets_target={k: share >= float(v) for k, v in kpis.targets.items()},
                  cost_vnd=round(cost), co2_kg=round(co2, 1), co2_source=CO2_SOURCE)
    return out.scoped_like(like) if like is not None else out


def season_plan(scenario: Scenario, net: Network, cal: SeasonCalendar,
                periods: Sequence[Period], solved: Mapping[int, Solved],
                kept_routes: Sequence[Route], *, record_extra: Mapping[str, Any],
                previous: Plan | None = None,
                wall_s: float, seed: int, time_limit_s: float, scenario_file: str) -> Plan:
    """One plan of every period's trips (numbered per vehicle across the season), the
    visits no trip took listed unserved with their dates, and the ``season`` record."""
    start = scenario.horizon.start_date
    pieces: list[tuple[int, Route]] = [(0, r) for r in kept_routes]
    missed: list[tuple[str, int]] = []  # (commune, season day) of each visit no trip took
    unserved: list[Unserved] = []
    for i in sorted(solved):
        p, s = periods[i], solved[i]
        pieces += [(p.start_day, r) for r in s.plan.routes if r.visits]
        for u in s.plan.unserved:
            sub = next((st for st in s.scenario.stops if st.commune_code == u.commune_code),
                       None)
            dates = sorted(d for w in (sub.time_windows if sub else ()) for d in w.dates or ())
            day = (dates[0] - start).days if dates else p.start_day
            missed.append((u.commune_code, day))
            unserved.append(replace(u, reason=f"visit due {cal.date_of(day).isoformat()} "
                                    f"(period of {p.days} days from "
                                    f"{cal.date_of(p.start_day).isoformat()}): {u.reason}"))
    routes = numbered_trips(sorted((shifted_trip(r, off, start) for off, r in pieces),
                                   key=lambda r: (r.depart_s, r.vehicle_id)))
    kept = {(r.vehicle_id, r.depart_s) for r in kept_routes}
    kept_ids = tuple(r.key for r in routes if (r.vehicle_id, r.depart_s) in kept)
    taken = season_visits(routes, missed, start)
    communes = tuple(SeasonCommune(st.commune_code, _rule_dict(rule_of(scenario, st)),
                                   tuple(taken.get(st.commune_code, ())))
                     for st in scenario.stops)
    record = SeasonRecord(
        periods=tuple(SeasonPeriod(p.start_day, cal.date_of(p.start_day).isoformat(), p.days,
                                   p.vehicles) for p in periods),
        communes=communes,
        days_off=tuple((cal.date_of(d).isoformat(), why.english())
                       for d, why in sorted(cal.off.items())),
        kept_trip_ids=kept_ids, **record_extra)
    first = next((s.plan for s in solved.values()), None) or previous
    if first is None:
        raise PlannerError("no period of the season has a visit to route: check the visit "
                           "rules and the calendar")
    kpis = season_kpis_routes(scenario, routes, unserved, like=first.kpis)
    provenance = first.provenance
    provenance = replace(provenance, scenario_digest=scenario.digest,
                         scenario_file=scenario_file, seed=seed, time_limit_s=time_limit_s,
                         solve_wall_s=round(wall_s, 3), progress=(), objective=None,
                         solver_status="SEASON", precheck=())
    return Plan(scenario_name=scenario.name, scenario_title=scenario.title, start_date=start,
                horizon_days=scenario.horizon.days, network=scenario.network,
                routes=tuple(routes), unserved=tuple(unserved), kpis=kpis,
                provenance=provenance, notes=first.notes, attribution=first.attribution,
                season=record)


__all__ = ["Period", "SeasonSolved", "assign_visit_dates", "commune_groups", "communes_on_rule",
           "period_scenario",
           "rule_of", "season_periods", "solve_season", "visit_demands", "visit_slack"]

