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
from typing import Any

from planner.check import Violation, check_plan
from planner.errors import PlannerError
from planner.kpis import plan_kpis
from planner.plan import TZ, Plan, Unserved, assemble_plan
from planner.problem import Place, RoutingProblem, build_problem
from planner.provenance import CheckRecord, Finding, ManualEdit
from planner.scenario import Scenario, parse_scenario
from planner.schedule import RouteTiming, time_route

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


Edit = MoveStop | RemoveStop | ReorderRoute


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
    problem = build_problem(scenario, profiles=matrices.profiles,
                            time_s=dict(matrices.time_s), distance_m=dict(matrices.distance_m),
                            periods=matrices.periods)
    return EditContext(scenario, scenario_file, matrices.places, problem)


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


def _apply(orders: dict[str, list[str]], stops: set[str], edit: Edit
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
               base: str = "", at: str | None = None) -> EditResult:
    """Apply ``edit`` to ``plan``: re-time the changed routes, rebuild the KPIs, run the
    plan checker and record the edit in the provenance.

    ``places`` are the problem's places (depots, then the scenario's stops);
    ``editor`` (who) and ``base`` (the name of the plan edited, e.g. its run folder) go
    into the provenance. Raises :class:`EditError` naming the field when the edit does not fit the
    plan (unknown commune or vehicle, position out of range, nothing to change).
    """
    at = at or _now()
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
    kpis = plan_kpis(scenario, problem, routes, tuple(unserved),
                     service_area_communes=area).scoped_like(plan.kpis)
    edited = dataclasses.replace(plan, routes=routes, unserved=tuple(unserved), kpis=kpis,
                                 created_at=at)
    violations = tuple(check_plan(scenario, problem, edited))
    entry = ManualEdit(at=at, by=editor, base=base, base_created_at=plan.created_at,
                       edit=edit_record(edit), from_vehicle=source,
                       changed_vehicles=tuple(changed), violations=len(violations))
    provenance = dataclasses.replace(plan.provenance,
                                     manual_edits=plan.provenance.manual_edits + (entry,),
                                     check=check_record(violations, at=at))
    return EditResult(dataclasses.replace(edited, provenance=provenance), violations,
                      tuple(changed))


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
    """The checker's findings on a stored plan (nothing changed)."""
    return tuple(check_plan(ctx.scenario, ctx.problem, plan))


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
           "RemoveStop", "ReorderRoute", "TripTarget", "add_closures", "apply_edit",
           "check_stored_plan", "edit_context", "trip_targets", "without_visits"]
