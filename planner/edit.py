"""Manual edits of a plan: move a stop to another route or position, reorder a route, remove
a stop; then re-time the changed routes and audit the result with the plan checker.

No solving happens here. An edit changes the stop order of one or two routes, the scheduler
(:func:`planner.schedule.time_route`) puts clock times and loads on each changed route, the
KPIs are recomputed, and :func:`planner.check.check_plan` lists every rule the edited plan
breaks (late arrivals, overloads, roads closed to the vehicle...), each with its vehicle and
commune, so a dispatcher sees what the edit costs. Routes the edit does not touch keep their
times exactly.

The edited plan records in its provenance who changed what and when (``manual_edits``, one
entry per edit, oldest first) and the checker's findings (``check``).

The calendar's edits work on trips (:class:`ShiftTrip`: a trip leaves on another date;
:class:`MoveVisit`: a visit goes onto another trip, or a new one), for a season plan as for a
cycle plan of several trips: the trips changed are timed again from their dates (with the
road conditions of those days), each vehicle's trips are numbered again in time order, and
the plan is checked as ``planner check`` checks it (a season plan with the season's rules,
:func:`planner.seasoncheck.check_any_plan`).

Helpers for re-planning from an edited or published plan live here too: dropping visits so
that the solver may place them freely (:func:`without_visits`), adding road closures to a
scenario (:func:`add_closures`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from planner.check import Violation
from planner.errors import PlannerError
from planner.kpis import plan_kpis
from planner.plan import TZ, Plan, Route, Unserved, assemble_plan, numbered_trips
from planner.problem import DAY_S, DatedMatrices, Place, RoutingProblem, build_problem
from planner.provenance import CheckRecord, Finding, ManualEdit
from planner.scenario import Scenario, parse_scenario
from planner.schedule import RouteTiming, time_route
from planner.seasoncheck import ProblemOf, check_any_plan

if TYPE_CHECKING:
    from planner.outputs import PlanMatrices

REMOVED_REASON_CODE = "removed_by_hand"


class EditError(PlannerError, ValueError):
    """An edit that cannot be applied; names the field and the value that is wrong."""

    def __init__(self, field: str, value: object, message: str) -> None:
        self.field, self.value = field, value
        super().__init__(f"field `{field}` = {value!r}: {message}")


@dataclass(frozen=True)
class MoveStop:
    """Put stop ``commune_code`` (served, or unserved) on ``to_vehicle``'s route at
    ``position`` (1 = first stop; ``None``: after the last one)."""

    commune_code: str
    to_vehicle: str
    position: int | None = None


@dataclass(frozen=True)
class RemoveStop:
    """Take stop ``commune_code`` off its route; it is listed unserved, removed by hand."""

    commune_code: str


@dataclass(frozen=True)
class ReorderRoute:
    """Serve the stops of ``vehicle_id`` in ``order`` (the same commune codes)."""

    vehicle_id: str
    order: tuple[str, ...]


@dataclass(frozen=True)
class ShiftTrip:
    """Make trip ``trip_id`` leave on ``date``, its stops in the same order, timed again by
    the schedule with the road conditions of the days it is then out."""

    trip_id: str
    date: dt.date


@dataclass(frozen=True)
class MoveVisit:
    """Take the visit of ``commune_code`` off trip ``from_trip`` and put it on trip
    ``to_trip`` at ``position`` (1 = first stop; ``None``: where it adds the least driving),
    or, with no ``to_trip``, on a new trip of ``vehicle_id`` (default: the same vehicle)
    leaving on ``date``. A trip left without visits is dropped."""

    commune_code: str
    from_trip: str
    to_trip: str = ""
    date: dt.date | None = None
    vehicle_id: str = ""
    position: int | None = None


Edit = MoveStop | RemoveStop | ReorderRoute | ShiftTrip | MoveVisit
TripEdit = ShiftTrip | MoveVisit


@dataclass(frozen=True)
class EditResult:
    """The edited plan, the checker's findings on it, and which routes were re-timed."""

    plan: Plan
    violations: tuple[Violation, ...]
    changed_vehicles: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True, eq=False)
class EditContext:
    """What editing a stored plan needs: its scenario, the places of its routing problem and
    the problem itself (integer matrices) the scheduler and the checker work with."""

    scenario: Scenario
    scenario_file: str
    places: tuple[Place, ...]
    problem: RoutingProblem
    matrices: PlanMatrices | None = None

    def problem_of(self, scenario: Scenario) -> RoutingProblem:
        """The routing problem of the plan's scenario, or of a part of it (a season's period,
        a trip's days: :func:`problem_from_matrices`)."""
        if scenario is self.scenario:
            return self.problem
        if self.matrices is None:
            raise EditContextMissing("matrices.npz", "", "the travel matrices of this plan "
                                                         "are not prepared yet")
        return problem_from_matrices(self.matrices, scenario, first_day=(
            scenario.horizon.start_date - self.scenario.horizon.start_date).days)


class EditContextMissing(EditError):
    """A plan folder without the matrices editing needs (a plan written before they were,
    or for another scenario); :func:`planner.outputs.refresh_route_geometry` writes them."""


def edit_context(folder: Path) -> EditContext:
    """The edit context of the plan in ``folder``, from its ``scenario.json`` and
    ``matrices.npz``: no road network is built (see :class:`EditContextMissing`)."""
    from planner.outputs import MATRICES_FILE, load_scenario_for_plan, read_matrices

    try:
        scenario, scenario_file = load_scenario_for_plan(Path(folder) / "plan.json")
    except FileNotFoundError as exc:
        raise EditError("scenario.json", str(exc.args[0]),
                        "the plan has no scenario saved beside it, so it cannot be re-timed "
                        "or checked; solve its scenario again") from None
    matrices = read_matrices(folder)
    if matrices is None or matrices.scenario_digest != scenario.digest:
        raise EditContextMissing(MATRICES_FILE, str(Path(folder) / MATRICES_FILE),
                                 "the travel matrices of this plan are not prepared yet")
    return EditContext(scenario, scenario_file, matrices.places,
                       problem_from_matrices(matrices, scenario), matrices)


def problem_from_matrices(matrices: PlanMatrices, scenario: Scenario, *,
                          first_day: int = 0) -> RoutingProblem:
    """The routing problem of ``scenario`` from a plan's stored matrices: ``scenario`` is the
    plan's own, or a part of it (some of its depots and stops, its days from day
    ``first_day`` on: a season's period, a trip's days), whose places are picked out of the
    matrices by depot id and commune code and whose road conditions are those of its days
    (days after the stored ones keep the last conditions)."""
    index = {(p.kind, p.key): i for i, p in enumerate(matrices.places)}
    wanted = [("depot", d.id) for d in scenario.depots] + [
        ("stop", st.commune_code) for st in scenario.stops]
    missing = [key for kind, key in wanted if (kind, key) not in index]
    if missing:
        raise EditError("matrices.npz", missing[0], "the plan's matrices have no such place; "
                                                     "draw the plan's routes again")
    pick = np.ix_(*[[index[k] for k in wanted]] * 2)
    last_day = first_day + scenario.horizon.days - 1
    periods = []
    for j, p in enumerate(matrices.periods):
        first, last = max(p.first_day, first_day), min(p.last_day, last_day)
        if j == len(matrices.periods) - 1:
            last = last_day
        if first <= last:
            periods.append(DatedMatrices(
                first - first_day, last - first_day,
                {n: m[pick] for n, m in p.time_s.items()},
                {n: m[pick] for n, m in p.distance_m.items()}))
    return build_problem(scenario, profiles=matrices.profiles,
                         time_s={n: m[pick] for n, m in matrices.time_s.items()},
                         distance_m={n: m[pick] for n, m in matrices.distance_m.items()},
                         periods=periods)


def check_record(violations: Sequence[Violation], *, at: str) -> CheckRecord:
    """The ``check`` entry of a plan's provenance."""
    return CheckRecord(at=at, ok=not violations,
                       violations=tuple(Finding(v.kind, v.message, v.vehicle_id,
                                                v.commune_code, v.key, v.values)
                                        for v in violations))


def edit_record(edit: Edit) -> dict[str, Any]:
    """An edit as plain data (for provenance and logs)."""
    if isinstance(edit, MoveStop):
        return {"action": "move", "commune_code": edit.commune_code,
                "to_vehicle": edit.to_vehicle, "position": edit.position}
    if isinstance(edit, RemoveStop):
        return {"action": "remove", "commune_code": edit.commune_code}
    if isinstance(edit, ShiftTrip):
        return {"action": "shift", "trip_id": edit.trip_id, "date": edit.date.isoformat()}
    if isinstance(edit, MoveVisit):
        return {"action": "move_visit", "commune_code": edit.commune_code,
                "from_trip": edit.from_trip, "to_trip": edit.to_trip,
                "date": edit.date.isoformat() if edit.date else None,
                "vehicle_id": edit.vehicle_id, "position": edit.position}
    return {"action": "reorder", "vehicle_id": edit.vehicle_id, "order": list(edit.order)}


def _now() -> str:
    return dt.datetime.now(TZ).isoformat(timespec="seconds")


def _orders(plan: Plan, problem: RoutingProblem) -> dict[str, list[str]]:
    """Stop codes of each route, by vehicle id, in the problem's vehicle order."""
    ids = [v.id for v in problem.vehicles]
    by_id = {r.key: r for r in plan.routes}
    unknown = [vid for vid in by_id if vid not in ids]
    if unknown:
        raise EditError("vehicle_id", unknown[0], "the plan has a route for a vehicle the "
                                                   "scenario does not have; solve it again")
    return {vid: [x.commune_code for x in by_id[vid].visits] if vid in by_id else []
            for vid in ids}


def _apply(orders: dict[str, list[str]], stops: set[str],
           edit: MoveStop | RemoveStop | ReorderRoute
           ) -> tuple[dict[str, list[str]], set[str], set[str], str | None]:
    """New stop orders; the codes taken off and put on routes; the source vehicle."""
    new = {vid: list(codes) for vid, codes in orders.items()}
    where = {code: vid for vid, codes in orders.items() for code in codes}
    if isinstance(edit, ReorderRoute):
        if edit.vehicle_id not in new:
            raise EditError("vehicle_id", edit.vehicle_id,
                            f"no such vehicle; use one of: {', '.join(new)}")
        current = new[edit.vehicle_id]
        if sorted(edit.order) != sorted(current):
            raise EditError("order", ",".join(edit.order),
                            f"give the same stops in a new order: {', '.join(current)}")
        if list(edit.order) == current:
            raise EditError("order", ",".join(edit.order), "the route already has this order")
        new[edit.vehicle_id] = list(edit.order)
        return new, set(), set(), edit.vehicle_id
    code = edit.commune_code
    source = where.get(code)
    if source is None and (isinstance(edit, RemoveStop) or code not in stops):
        on_routes = sorted(where)
        what = ("not a stop on this plan's routes" if isinstance(edit, RemoveStop)
                else "not a stop of this plan's scenario")
        known = ", ".join(on_routes[:12]) + (", ..." if len(on_routes) > 12 else "")
        raise EditError("commune_code", code, f"{what}; use a commune code of the plan "
                                              f"({known})")
    if isinstance(edit, RemoveStop):
        assert source is not None
        new[source].remove(code)
        return new, {code}, set(), source
    if edit.to_vehicle not in new:
        raise EditError("vehicle_id", edit.to_vehicle,
                        f"no such vehicle; use one of: {', '.join(new)}")
    if source is not None:
        new[source].remove(code)
    target = new[edit.to_vehicle]
    position = len(target) + 1 if edit.position is None else edit.position
    if not 1 <= position <= len(target) + 1:
        raise EditError("position", edit.position,
                        f"vehicle {edit.to_vehicle} can take this stop at positions 1 to "
                        f"{len(target) + 1}")
    target.insert(position - 1, code)
    if new == orders:
        raise EditError("position", edit.position, "the stop is already there")
    added = {code} if source is None else set()
    return new, set(), added, source


def apply_edit(plan: Plan, scenario: Scenario, problem: RoutingProblem,
               places: Sequence[Place], edit: Edit, *, editor: str = "",
               base: str = "", at: str | None = None,
               problem_of: ProblemOf | None = None) -> EditResult:
    """Apply ``edit`` to ``plan``: re-time the changed routes, rebuild the KPIs, run the
    plan checker and record the edit in the provenance.

    ``places`` are the problem's places (depots, then the scenario's stops);
    ``editor`` (who) and ``base`` (the name of the plan edited, e.g. its run folder) go
    into the provenance. ``problem_of`` gives the routing problem of a part of the scenario
    (:meth:`EditContext.problem_of`): a season plan needs it, to time a trip from its date
    and to check each period. Raises :class:`EditError` naming the field when the edit does
    not fit the plan (unknown commune, trip or vehicle, position or date out of range,
    nothing to change).
    """
    at = at or _now()

    def whole(sub: Scenario) -> RoutingProblem:
        if sub is scenario:
            return problem
        raise EditError("problem_of", None, "a season plan is edited with the matrices of "
                                            "its periods: pass problem_of")

    problem_of = problem_of or whole
    source: str | None
    if isinstance(edit, ShiftTrip | MoveVisit):
        routes, changed, source = _trip_edit(plan, scenario, problem, places, edit,
                                             problem_of)
        unserved = plan.unserved
    else:
        routes, unserved, changed, source = _stop_edit(plan, scenario, problem, places,
                                                       edit, editor=editor, at=at)
    return _finish(plan, scenario, problem, routes, unserved, edit, changed=changed,
                   source=source, editor=editor, base=base, at=at, problem_of=problem_of)


def _stop_edit(plan: Plan, scenario: Scenario, problem: RoutingProblem,
               places: Sequence[Place], edit: MoveStop | RemoveStop | ReorderRoute, *,
               editor: str, at: str
               ) -> tuple[tuple[Route, ...], tuple[Unserved, ...], tuple[str, ...], str | None]:
    """The routes and unserved stops after a stop edit, the routes it changed and the
    route the stop came from."""
    stop_loc = {p.key: i for i, p in enumerate(places) if p.kind == "stop"}
    orders = _orders(plan, problem)
    new, removed, added, source = _apply(orders, set(stop_loc), edit)
    changed = [vid for vid in orders if new[vid] != orders[vid]]
    old = {r.key: r for r in plan.routes}
    # a changed trip and the later trips of its vehicle are timed again, each leaving no
    # earlier than the trip before it allows; every other trip keeps its times
    vehicles_changed = {problem.vehicles[k].vehicle_id for k, v in enumerate(problem.vehicles)
                        if v.id in changed}
    retimed: dict[int, RouteTiming] = {}
    for k, v in enumerate(problem.vehicles):
        if v.vehicle_id not in vehicles_changed or \
                not any(w.id in changed for w in problem.vehicles[:k + 1]
                        if w.vehicle_id == v.vehicle_id):
            continue
        earliest = None
        prev = problem.previous_trip(k)
        while prev is not None and earliest is None:
            before = retimed.get(prev)
            ret = (before.return_leg.arrival_s if before is not None and before.visits else
                   old[problem.vehicles[prev].id].return_s
                   if before is None and problem.vehicles[prev].id in old
                   and old[problem.vehicles[prev].id].visits else None)
            if ret is not None:
                earliest = problem.vehicles[prev].next_trip_earliest(ret)
            prev = problem.previous_trip(prev)
        retimed[k] = time_route(problem, k, [stop_loc[c] for c in new[v.id]], earliest=earliest)
    area = plan.kpis.service_area_communes
    rebuilt = {r.key: r for r in assemble_plan(
        scenario, places, problem, list(retimed.values()), [], plan.provenance,
        service_area_communes=area).routes}
    again = {problem.vehicles[k].id for k in retimed}
    routes = tuple(rebuilt[vid] if vid in again else old[vid] for vid in orders
                   if (vid in rebuilt if vid in again else vid in old))
    by_code = {p.key: p for p in places if p.kind == "stop"}
    stops = {s.commune_code: s for s in scenario.stops}
    unserved = [u for u in plan.unserved if u.commune_code not in added]
    for code in sorted(removed):
        who = f" by {editor}" if editor else ""
        unserved.append(Unserved(commune_code=code, commune_name=by_code[code].name,
                                 required=stops[code].required,
                                 reason_code=REMOVED_REASON_CODE,
                                 reason=f"removed from the plan by hand{who} on {at[:10]}"))
    return routes, tuple(unserved), tuple(changed), source


def _finish(plan: Plan, scenario: Scenario, problem: RoutingProblem, routes: Sequence[Route],
            unserved: Sequence[Unserved], edit: Edit, *, changed: tuple[str, ...],
            source: str | None, editor: str, base: str, at: str,
            problem_of: ProblemOf) -> EditResult:
    """The edited plan with ``routes`` and ``unserved``: its KPIs rebuilt, checked as
    ``planner check`` checks it, the edit recorded in its provenance."""
    area = plan.kpis.service_area_communes
    edited = dataclasses.replace(plan, routes=tuple(routes), unserved=tuple(unserved),
                                 created_at=at)
    if plan.season is not None:
        from planner.season import season_kpis_routes, season_with_trips

        edited = season_with_trips(edited, routes)
        kpis = season_kpis_routes(scenario, edited.routes, unserved, like=plan.kpis)
    else:
        kpis = plan_kpis(scenario, problem, tuple(routes), tuple(unserved),
                         service_area_communes=area).scoped_like(plan.kpis)
    edited = dataclasses.replace(edited, kpis=kpis)
    violations = tuple(check_any_plan(scenario, edited, problem_of))
    entry = ManualEdit(at=at, by=editor, base=base, base_created_at=plan.created_at,
                       edit=edit_record(edit), from_vehicle=source,
                       changed_vehicles=changed, violations=len(violations))
    provenance = dataclasses.replace(plan.provenance,
                                     manual_edits=plan.provenance.manual_edits + (entry,),
                                     check=check_record(violations, at=at))
    return EditResult(dataclasses.replace(edited, provenance=provenance), violations, changed)


# --- the calendar's edits: trips to other dates, visits to other trips ----------------------


def _known_trips(routes: Mapping[str, Route]) -> str:
    keys = sorted(routes)
    return ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")


def _trip(routes: Mapping[str, Route], key: str, field: str) -> Route:
    r = routes.get(key)
    if r is None or not r.visits:
        raise EditError(field, key, f"no trip of this plan with visits has this id; use one "
                                    f"of: {_known_trips(routes)}")
    return r


def _day(plan: Plan, date: dt.date | None, field: str = "date") -> int:
    """Day of the plan's horizon of ``date``; an :class:`EditError` outside it."""
    last = plan.start_date + dt.timedelta(days=plan.horizon_days - 1)
    if date is None:
        raise EditError(field, None, f"give a date from {plan.start_date} to {last}")
    day = (date - plan.start_date).days
    if not 0 <= day < plan.horizon_days:
        raise EditError(field, date.isoformat(), f"the plan runs from {plan.start_date} to "
                                                 f"{last}: choose a date within it")
    return day


def _unit_vehicles(scenario: Scenario) -> dict[str, int]:
    """Scenario vehicle index of every vehicle unit id (``xe-tv-1``…)."""
    return {uid: i for i, v in enumerate(scenario.vehicles) for uid, _ in v.units()}


def _cheapest_position(problem: RoutingProblem, k: int, stop_loc: Mapping[str, int],
                       codes: Sequence[str], code: str) -> int:
    """Where ``code`` adds the least travel time to the stops ``codes`` of vehicle ``k``
    (1 = first)."""
    v = problem.vehicles[k]
    seq = [v.start] + [stop_loc[c] for c in codes] + [v.end]
    new = stop_loc[code]
    added = [problem.travel_s(k, a, new) + problem.travel_s(k, new, b) - problem.travel_s(k, a, b)
             for a, b in zip(seq, seq[1:], strict=False)]
    return int(np.argmin(added)) + 1


def _timed_trip(plan: Plan, scenario: Scenario, problem: RoutingProblem,
                places: Sequence[Place], problem_of: ProblemOf, vehicle_id: str,
                codes: Sequence[str], day: int, *, field: str = "date") -> Route:
    """A trip of ``vehicle_id`` to ``codes`` in that order, leaving on day ``day`` of the
    plan (or as soon after as its stops' windows allow), timed by the schedule with the road
    conditions of its days. A season plan's trip is timed as its period is checked (the
    commune's windows open on every day of the trip, :func:`planner.season.period_scenario`)
    and its times counted from the season's first day."""
    units = _unit_vehicles(scenario)
    if vehicle_id not in units:
        raise EditError("vehicle_id", vehicle_id,
                        f"no such vehicle; use one of: {', '.join(units)}")
    spec = scenario.vehicles[units[vehicle_id]]
    earliest: int | None = None
    if plan.season is None:  # the plan's own problem, the trip leaving no earlier than ``day``
        sub, sub_problem, sub_places = scenario, problem, tuple(places)
        k = next(k for k, v in enumerate(problem.vehicles) if v.vehicle_id == vehicle_id)
        earliest = day * DAY_S + problem.vehicles[k].earliest_start_s
    else:  # the problem of the trip's days, from ``day`` on
        from planner.season import Period, period_scenario

        days = spec.max_trip_days
        sub = period_scenario(scenario, Period(day, days, (spec.id,)),
                              {c: range(day, day + days) for c in codes})
        absent = [c for c in codes if c not in {st.commune_code for st in sub.stops}]
        if absent:
            raise EditError(field, plan.start_date + dt.timedelta(days=day),
                            f"commune {absent[0]} receives on none of the days this trip "
                            f"would be out; choose another date")
        sub_problem = problem_of(sub)
        by_key = {(p.kind, p.key): p for p in places}
        sub_places = tuple(by_key[("depot", d.id)] for d in sub.depots) + tuple(
            by_key[("stop", st.commune_code)] for st in sub.stops)
        k = next(k for k, v in enumerate(sub_problem.vehicles) if v.vehicle_id == vehicle_id)
    stop_loc = {p.key: i for i, p in enumerate(sub_places) if p.kind == "stop"}
    missing = [c for c in codes if c not in stop_loc]
    if missing:
        raise EditError("commune_code", missing[0], "not a stop of this plan's scenario")
    timing = time_route(sub_problem, k, [stop_loc[c] for c in codes], earliest=earliest)
    (route,) = [r for r in assemble_plan(sub, sub_places, sub_problem, [timing], [],
                                         plan.provenance, service_area_communes=1).routes]
    if plan.season is None:
        return route
    from planner.season import shifted_trip

    return shifted_trip(route, day, plan.start_date)


def _with_batches(route: Route, *sources: Route) -> Route:
    """``route`` (timed again) with the book batches its visits had on ``sources``."""
    was = {x.commune_code: x for r in sources for x in r.visits}
    visits = tuple(dataclasses.replace(
        x, deliver_batches=was[x.commune_code].deliver_batches,
        collect_batches=was[x.commune_code].collect_batches,
        batch_note=was[x.commune_code].batch_note) if x.commune_code in was else x
        for x in route.visits)
    loading = tuple(dict.fromkeys(b for x in visits for b in x.deliver_batches))
    return dataclasses.replace(route, visits=visits, loading_batches=loading)


def _trip_edit(plan: Plan, scenario: Scenario, problem: RoutingProblem,
               places: Sequence[Place], edit: TripEdit, problem_of: ProblemOf
               ) -> tuple[tuple[Route, ...], tuple[str, ...], str]:
    """The trips after ``edit`` (numbered again), the ids of those that changed, and the
    id of the trip edited (before)."""
    routes = {r.key: r for r in plan.routes}
    new: dict[str, Route | None] = {}  # trip id (before) -> timed again (None: dropped)
    added: list[Route] = []  # a new trip
    if isinstance(edit, ShiftTrip):
        r = _trip(routes, edit.trip_id, "trip_id")
        day = _day(plan, edit.date)
        if day == r.depart_s // DAY_S:
            raise EditError("date", edit.date.isoformat(), "the trip already leaves on this "
                                                           "date; choose another")
        codes = [x.commune_code for x in r.visits]
        new[r.key] = _with_batches(_timed_trip(plan, scenario, problem, places, problem_of,
                                               r.vehicle_id, codes, day), r)
        source = r.key
    else:
        src = _trip(routes, edit.from_trip, "from_trip")
        code = edit.commune_code
        if code not in {x.commune_code for x in src.visits}:
            raise EditError("commune_code", code, f"trip {src.key} does not visit this "
                                                  f"commune; use one of its: " + ", ".join(
                                                      x.commune_code for x in src.visits))
        rest = [x.commune_code for x in src.visits if x.commune_code != code]
        if edit.to_trip:
            dst = _trip(routes, edit.to_trip, "to_trip")
            if dst.key == src.key:
                raise EditError("to_trip", edit.to_trip, "the visit is on this trip already; "
                                                         "choose another trip")
            if code in {x.commune_code for x in dst.visits}:
                raise EditError("to_trip", edit.to_trip, f"this trip visits commune {code} "
                                                         f"already")
            vehicle, day = dst.vehicle_id, dst.depart_s // DAY_S
            codes = [x.commune_code for x in dst.visits]
        else:
            vehicle, day, codes = edit.vehicle_id or src.vehicle_id, _day(plan, edit.date), []
            dst = None
        if edit.position is not None and not 1 <= edit.position <= len(codes) + 1:
            raise EditError("position", edit.position,
                            f"the trip can take this visit at positions 1 to {len(codes) + 1}")
        if edit.position is not None:
            position = edit.position
        else:
            k = next(k for k, v in enumerate(problem.vehicles) if v.vehicle_id == vehicle) \
                if vehicle in {v.vehicle_id for v in problem.vehicles} else None
            stop_loc = {p.key: i for i, p in enumerate(places) if p.kind == "stop"}
            position = (_cheapest_position(problem, k, stop_loc, codes, code)
                        if k is not None and codes else len(codes) + 1)
        codes.insert(position - 1, code)
        moved = _with_batches(_timed_trip(plan, scenario, problem, places, problem_of,
                                          vehicle, codes, day, field="date" if dst is None
                                          else "to_trip"), *(r for r in (dst, src) if r))
        new[src.key] = (_with_batches(_timed_trip(
            plan, scenario, problem, places, problem_of, src.vehicle_id, rest,
            src.depart_s // DAY_S), src) if rest else None)
        if dst is not None:
            new[dst.key] = moved
        else:
            added.append(moved)
        source = src.key
    trips = [t for r in plan.routes if (t := new.get(r.key, r)) is not None]
    trips += added
    out = _numbered(plan, scenario, problem, places, trips)
    before = {r.key: r for r in plan.routes}
    changed = tuple(r.key for r in out if before.get(r.key) != r)
    return out, changed, source


def _numbered(plan: Plan, scenario: Scenario, problem: RoutingProblem,
              places: Sequence[Place], trips: list[Route]) -> tuple[Route, ...]:
    """The plan's trips numbered per vehicle in time order: a season's in time order, a
    cycle plan's by vehicle (each vehicle listed, with an unused first trip if it has none
    left)."""
    if plan.season is not None:
        from planner.season import season_with_trips

        return season_with_trips(plan, trips).routes
    trips = [r for r in trips if r.visits]
    order = {v.vehicle_id: i for i, v in enumerate(problem.vehicles)}
    for vid in order:
        slots = sum(v.vehicle_id == vid for v in problem.vehicles)
        if sum(r.vehicle_id == vid for r in trips) > slots:
            raise EditError("vehicle_id", vid, f"this vehicle may make {slots} trip(s) in the "
                                               "plan's horizon (the scenario's `trips.max`); "
                                               "put the visit on one of its trips")
    for vid in order:
        if not any(r.vehicle_id == vid for r in trips):
            k = next(k for k, v in enumerate(problem.vehicles) if v.vehicle_id == vid)
            trips += assemble_plan(scenario, places, problem, [time_route(problem, k, [])], [],
                                   plan.provenance, service_area_communes=1).routes
    trips.sort(key=lambda r: (order.get(r.vehicle_id, len(order)), r.depart_s))
    return numbered_trips(trips)


@dataclass(frozen=True)
class TripTarget:
    """A trip a stop can be moved to: a route of the plan, or the next trip a vehicle may
    still make (``new``: not in the plan yet; moving a stop there opens it)."""

    trip_id: str
    vehicle_id: str
    trip_number: int
    stops: int
    new: bool


def trip_targets(plan: Plan, problem: RoutingProblem) -> tuple[TripTarget, ...]:
    """The plan's trips, each vehicle's followed by its next unused trip when the scenario
    lets it make one more, in the problem's vehicle order."""
    routes = {r.key: r for r in plan.routes}
    out: list[TripTarget] = []
    opened: set[str] = set()
    for v in problem.vehicles:
        if v.id in routes:
            out.append(TripTarget(v.id, v.vehicle_id, v.trip + 1, len(routes[v.id].visits),
                                  False))
        elif v.vehicle_id not in opened:
            opened.add(v.vehicle_id)
            out.append(TripTarget(v.id, v.vehicle_id, v.trip + 1, 0, True))
    return tuple(out)


def check_stored_plan(plan: Plan, ctx: EditContext) -> tuple[Violation, ...]:
    """The checker's findings on a stored plan (nothing changed), as ``planner check``
    finds them (a season plan with the season's rules)."""
    return tuple(check_any_plan(ctx.scenario, plan, ctx.problem_of))


# --- re-planning helpers -------------------------------------------------------------------


def without_visits(plan: Plan, codes: frozenset[str] | set[str]) -> Plan:
    """``plan`` with the visits of ``codes`` taken off their routes and not listed unserved
    either: given as the previous plan of a re-plan, those stops are new to it, free to go
    on any route (a visit that failed, or every stop a dispatcher did not lock). Times are
    left as they were; the re-plan times routes itself."""
    codes = frozenset(codes)
    routes = tuple(dataclasses.replace(r, visits=tuple(x for x in r.visits
                                                       if x.commune_code not in codes))
                   for r in plan.routes)
    unserved = tuple(u for u in plan.unserved if u.commune_code not in codes)
    return dataclasses.replace(plan, routes=routes, unserved=unserved)


def add_closures(scenario: Scenario, closures: Sequence[Mapping[str, Any]], *,
                 file: str = "<closures>") -> Scenario:
    """``scenario`` with ``closures`` (mappings in the scenario format of
    ``road_conditions.closures``) added to its road conditions, validated like a scenario
    file (a closure with the id of an existing one replaces it)."""
    if not closures:
        return scenario
    data = scenario.model_dump(mode="json")
    conditions = data.setdefault("road_conditions", {})
    ids = {str(c.get("id")) for c in closures}
    kept = [c for c in conditions.get("closures", []) if c.get("id") not in ids]
    conditions["closures"] = kept + [dict(c) for c in closures]
    return parse_scenario(data, file=file)


__all__ = ["Edit", "EditContext", "EditContextMissing", "EditError", "EditResult", "MoveStop",
           "MoveVisit", "RemoveStop", "ReorderRoute", "ShiftTrip", "TripTarget", "add_closures",
           "apply_edit", "check_stored_plan", "edit_context", "problem_from_matrices",
           "trip_targets", "without_visits"]
