"""The month view of a plan's trips: a season plan (or a cycle plan of several trips) as
bars over the days each trip is out, one row per vehicle, grouped by library when there are
several; each commune's last and next visit beside it.

On a draft a dispatcher drags a trip to another day (:class:`planner.edit.ShiftTrip`) or a
commune's visit onto another trip or an empty day (:class:`planner.edit.MoveVisit`); the
small forms under the calendar do the same without scripts (``static/tripcalendar.js``
only fills them in and sends them). Each edit is saved as a new draft
(:func:`webui.edits.apply_and_save`, never changing a published version) whose calendar
then shows the checker's findings, as the edit page does.

No logic here: :mod:`planner.tripcalendar` reads the trips and visits, :mod:`planner.edit`
edits.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from planner.edit import EditError, MoveVisit, ShiftTrip, check_stored_plan, edit_context
from planner.errors import PlannerError
from planner.messages import Message
from planner.plan import Plan
from planner.scenario import CalendarSpec, Scenario
from planner.tripcalendar import CalendarTrip, calendar_trips, commune_visits
from planner.workdays import calendar_days_off
from storage.plans import parse_version_key
from webui.auth import can, requires
from webui.edits import Finding, PlanChecks, apply_and_save, arrange_findings, plan_checks
from webui.errors import BadRequestError
from webui.plans import load_plan
from webui.services import plan_store, today

log = logging.getLogger(__name__)

bp = Blueprint("tripcalendar", __name__)


@dataclass(frozen=True)
class Cell:
    """One cell of a vehicle's row: an empty day (``trip`` None), or a trip's bar over
    ``span`` days of the month (``before``/``after``: it started in the month before, goes
    on in the next)."""

    day: dt.date
    span: int = 1
    trip: CalendarTrip | None = None
    before: bool = False
    after: bool = False


@dataclass(frozen=True)
class VehicleRow:
    vehicle_id: str
    name: str
    lanes: tuple[tuple[Cell, ...], ...]  # trips of the vehicle that overlap go on lanes


@dataclass(frozen=True)
class LibraryGroup:
    depot_id: str
    name: str
    vehicles: tuple[VehicleRow, ...]


@dataclass(frozen=True)
class Day:
    date: dt.date
    off: str = ""  # why no trip is planned that day (a weekend, a holiday…); "" if none
    weekend: bool = False
    reason: Message | None = None  # ``off`` as a message the page words, when it is known


@dataclass(frozen=True)
class Month:
    first: dt.date
    days: tuple[Day, ...]
    previous: str | None  # YYYY-MM of the neighbouring months within the plan, if any
    next: str | None
    groups: tuple[LibraryGroup, ...] = field(default_factory=tuple)


def _month_arg(text: str | None, plan: Plan, on: dt.date) -> dt.date:
    """The month to show (its first day): ``?month=YYYY-MM``, else that of ``on`` when the
    plan covers it, else the plan's first month."""
    last = plan.start_date + dt.timedelta(days=plan.horizon_days - 1)
    if text:
        try:
            year, month = (int(x) for x in text.split("-", 1))
            return dt.date(year, month, 1)
        except ValueError:
            raise BadRequestError(g.tr("cal_bad_month", value=text[:20])) from None
    day = on if plan.start_date <= on <= last else plan.start_date
    return day.replace(day=1)


def _date_arg(text: str | None, name: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BadRequestError(g.tr("edit_invalid", field=name, value=text[:40],
                                   detail=g.tr("cal_date_format"))) from None


def _vehicles(plan: Plan, scenario: Scenario | None) -> list[tuple[str, str, str, str]]:
    """(vehicle id, name, depot id, depot name) of every vehicle: the scenario's (so a
    vehicle without trips still has a row to drop a trip on), and any other the plan has."""
    out: dict[str, tuple[str, str, str, str]] = {}
    if scenario is not None:
        depots = {d.id: d.name for d in scenario.depots}
        for v in scenario.vehicles:
            for uid, name in v.units():
                out[uid] = (uid, name, v.depot, depots.get(v.depot, v.depot))
    for r in plan.routes:
        out.setdefault(r.vehicle_id, (r.vehicle_id, r.vehicle_name, r.depot_id, r.depot_name))
    return list(out.values())


def _lanes(trips: list[CalendarTrip], first: dt.date, last: dt.date) -> tuple[tuple[Cell, ...],
                                                                              ...]:
    """A vehicle's trips of the month as rows of cells; a trip that overlaps another goes
    on the next row."""
    lanes: list[list[CalendarTrip]] = []
    for t in sorted(trips, key=lambda t: t.first):
        lane = next((ln for ln in lanes if ln[-1].last < t.first), None)
        if lane is None:
            lanes.append([t])
        else:
            lane.append(t)
    out = []
    for lane in lanes or [[]]:
        cells: list[Cell] = []
        day = first
        for t in lane:
            start, end = max(t.first, first), min(t.last, last)
            while day < start:
                cells.append(Cell(day))
                day += dt.timedelta(days=1)
            cells.append(Cell(start, (end - start).days + 1, t, t.first < first, t.last > last))
            day = end + dt.timedelta(days=1)
        while day <= last:
            cells.append(Cell(day))
            day += dt.timedelta(days=1)
        out.append(tuple(cells))
    return tuple(out)


def month_view(plan: Plan, scenario: Scenario | None, first: dt.date) -> Month:
    """The month from ``first``: its days (weekends and days off marked), and each vehicle's
    trips, grouped by library."""
    n = stdlib_calendar.monthrange(first.year, first.month)[1]
    last = first.replace(day=n)
    off = dict(plan.season.days_off) if plan.season else {}
    weekdays = ({("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(w)
                 for w in scenario.calendar.working_weekdays}
                if scenario is not None and scenario.calendar is not None else set(range(5)))
    # the season's days off in the page's language (a holiday by its name in it), from the
    # calendar of the scenario the plan was made with; as the plan wrote them without one
    reasons = (calendar_days_off(scenario.calendar or CalendarSpec(), first, n)
               if scenario is not None and off else {})
    days = tuple(Day(d, off.get(d.isoformat(), ""), d.weekday() not in weekdays,
                     reasons.get(i) if d.isoformat() in off else None)
                 for i, d in enumerate(first + dt.timedelta(days=i) for i in range(n)))
    trips = [t for t in calendar_trips(plan) if t.last >= first and t.first <= last]
    groups: dict[str, tuple[str, list[VehicleRow]]] = {}
    for vid, name, depot, depot_name in _vehicles(plan, scenario):
        row = VehicleRow(vid, name, _lanes([t for t in trips if t.vehicle_id == vid], first,
                                           last))
        groups.setdefault(depot, (depot_name, []))[1].append(row)
    plan_last = plan.start_date + dt.timedelta(days=plan.horizon_days - 1)
    before = first - dt.timedelta(days=1)
    after = last + dt.timedelta(days=1)
    return Month(first, days,
                 before.strftime("%Y-%m") if before >= plan.start_date else None,
                 after.strftime("%Y-%m") if after <= plan_last else None,
                 tuple(LibraryGroup(d, name, tuple(rows)) for d, (name, rows) in groups.items()))


def _checks(run: str, plan: Plan, editable: bool) -> PlanChecks:
    """The findings stored with an edited plan; for a draft straight from the solver, the
    checker's findings now (none shown when its matrices are not prepared yet)."""
    checks = plan_checks(plan)
    if checks.checked or not editable:
        return checks
    try:
        return arrange_findings(check_stored_plan(plan, edit_context(plan_store().folder(run))))
    except (EditError, PlannerError, ValueError) as exc:
        log.info("calendar of %s: not checked (%s)", run, exc)
        return checks


@bp.get("/plans/<run>/calendar")
def calendar_page(run: str) -> ResponseReturnValue:
    plan = load_plan(run)
    on = _date_arg(request.args.get("on"), "on") or today()
    first = _month_arg(request.args.get("month"), plan, on)
    scenario = plan_store().scenario(run)
    editable = can("edit") and parse_version_key(run) is None
    month = month_view(plan, scenario, first)
    trips = calendar_trips(plan)
    communes = commune_visits(plan, on)
    chosen = request.args.get("commune") or ""
    checks = _checks(run, plan, editable)
    by_trip: dict[str, list[Finding]] = {}
    by_commune: dict[str, list[Finding]] = {}
    for f in checks.findings:
        if f.vehicle_id:
            by_trip.setdefault(f.vehicle_id, []).append(f)
        if f.commune_code:
            by_commune.setdefault(f.commune_code, []).append(f)
    return render_template(
        "plan_calendar.html", run=run, plan=plan, month=month, on=on, trips=trips,
        communes=communes, chosen=next((c for c in communes if c.commune_code == chosen),
                                       None),
        checks=checks, by_trip=by_trip, by_commune=by_commune, editable=editable,
        vehicles=[row for grp in month.groups for row in grp.vehicles],
        plan_last=plan.start_date + dt.timedelta(days=plan.horizon_days - 1))


def _back(name: str) -> ResponseReturnValue:
    """To the calendar of the new draft ``name``, at the month shown before."""
    month = request.form.get("month", "").strip()
    args: dict[str, Any] = {"month": month} if month else {}
    if request.form.get("on"):
        args["on"] = request.form["on"]
    return redirect(url_for("tripcalendar.calendar_page", run=name, **args), code=303)


def _required(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value:
        raise BadRequestError(g.tr("edit_invalid", field=name, value="",
                                   detail=g.tr("edit_missing")))
    return value


def _visit() -> tuple[str, str]:
    """The visit moved: ``visit`` (``<commune>|<trip>``, the form's list), else
    ``commune_code`` and ``from_trip``."""
    visit = request.form.get("visit", "").strip()
    if visit:
        code, _, trip = visit.partition("|")
        if not code or not trip:
            raise BadRequestError(g.tr("edit_invalid", field="visit", value=visit[:60],
                                       detail=g.tr("cal_visit_format")))
        return code, trip
    return _required("commune_code"), _required("from_trip")


@bp.post("/plans/<run>/calendar/shift")
@requires("edit")
def shift_trip(run: str) -> ResponseReturnValue:
    """Make a trip leave on another date (a new draft)."""
    edit = ShiftTrip(_required("trip_id"), _date_arg(_required("date"), "date")
                     or dt.date.min)
    return _back(apply_and_save(run, edit))


@bp.post("/plans/<run>/calendar/move")
@requires("edit")
def move_visit(run: str) -> ResponseReturnValue:
    """Move a commune's visit onto another trip, or a new trip on a date (a new draft)."""
    code, source = _visit()
    target = request.form.get("to_trip", "").strip()
    date = None if target else _date_arg(_required("date"), "date")
    edit = MoveVisit(code, source, to_trip=target, date=date,
                     vehicle_id=request.form.get("vehicle_id", "").strip())
    return _back(apply_and_save(run, edit))


SHORT_PREFIXES = ("Xã ", "Phường ", "Thị trấn ")


def short_commune(name: str) -> str:
    """A commune's name without its kind (``Xã Lũng Cú`` → ``Lũng Cú``), for the chips."""
    for prefix in SHORT_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix):]
    return name


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_filter(short_commune, "short_commune")
