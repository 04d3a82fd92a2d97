"""Manual edits of a draft plan and re-plans from it, for dispatchers.

On a draft plan (a plan folder, never a published version) a dispatcher moves a stop to
another vehicle or position (up/down buttons, or a vehicle and position), removes a stop,
puts an unserved commune on a route, or locks visits and re-solves the rest. An edit re-times
the changed routes with the scheduler (:mod:`planner.edit`; no solving) inside the request,
runs the plan checker and saves the result as a **new** plan folder (``<run>-edit-<time>``),
so the plan edited, and any version published from it, stay as they were; the edit page of
the new plan shows each violation next to its stop. "Re-solve the rest" and "re-plan from
here" (after visit outcomes) start background re-plan jobs (:class:`webui.jobservice.ReplanSpec`)
and never solve in the request.

The checker's findings stored in an edited plan's provenance are also shown on the plan
page (:func:`plan_checks`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from planner.check import Violation
from planner.edit import (
    Edit,
    EditContext,
    EditContextMissing,
    EditError,
    MoveStop,
    RemoveStop,
    apply_edit,
    check_stored_plan,
    edit_context,
    trip_targets,
)
from planner.errors import PlannerError
from planner.plan import TZ, Plan
from planner.provenance import Finding as StoredFinding
from render.closures import closure_names
from render.folder import write_edited_plan_folder
from render.formatting import date_text
from render.i18n import VIOLATION_LABELS
from render.routeview import route_views
from storage import StorageError, plans
from storage.plans import parse_version_key
from webui.auth import current_user, requires
from webui.errors import (
    BadRequestError,
    ConflictError,
    JobError,
    NotFoundError,
    UnreadablePlanError,
)
from webui.jobs import time_limit_field
from webui.jobservice import ReplanSpec, wrong_replan_kind
from webui.plans import TARGET_ROWS, kpi_comparison, load_plan
from webui.services import database, job_service, plan_store, today

log = logging.getLogger(__name__)

bp = Blueprint("edits", __name__)

EDIT_SUFFIX = re.compile(r"-edit-\d{8}-\d{6}(?:-\d+)?$")
MAX_RUN_NAME = 128
# --- the checker's findings, arranged for pages --------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One violation as pages show it: a translated label, the checker's message (English,
    and as a catalogue key with its values, which pages word: ``_.finding(f)``), where it
    is."""

    kind: str
    label_key: str
    message: str
    vehicle_id: str
    commune_code: str
    key: str = ""
    values: tuple[tuple[str, str | int | float], ...] = ()


@dataclass(frozen=True)
class PlanChecks:
    """The checker's findings on a plan, by stop, by route and for the plan as a whole.
    ``checked`` is false when the plan carries no check (a plan straight from the solver)."""

    checked: bool
    at: str = ""
    findings: tuple[Finding, ...] = ()
    by_stop: Mapping[tuple[str, str], tuple[Finding, ...]] = field(default_factory=dict)
    by_route: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)
    general: tuple[Finding, ...] = ()

    @property
    def count(self) -> int:
        return len(self.findings)

    def at_stop(self, vehicle_id: str, commune_code: str) -> tuple[Finding, ...]:
        return self.by_stop.get((vehicle_id, commune_code), ())

    def of_route(self, vehicle_id: str) -> tuple[Finding, ...]:
        return self.by_route.get(vehicle_id, ())

    def vehicles(self) -> set[str]:
        return {f.vehicle_id for f in self.findings if f.vehicle_id}


def arrange_findings(violations: Iterable[StoredFinding | Violation], *, at: str = ""
                     ) -> PlanChecks:
    """Group violations (the checker's, or those stored in a plan) by stop and route."""
    findings = [Finding(v.kind, VIOLATION_LABELS.get(v.kind, "violation_other"), v.message,
                        v.vehicle_id, v.commune_code, v.key, v.values) for v in violations]
    by_stop: dict[tuple[str, str], list[Finding]] = {}
    by_route: dict[str, list[Finding]] = {}
    general = []
    for f in findings:
        if f.vehicle_id and f.commune_code:
            by_stop.setdefault((f.vehicle_id, f.commune_code), []).append(f)
        elif f.vehicle_id:
            by_route.setdefault(f.vehicle_id, []).append(f)
        else:
            general.append(f)
    return PlanChecks(True, at, tuple(findings), {k: tuple(v) for k, v in by_stop.items()},
                      {k: tuple(v) for k, v in by_route.items()}, tuple(general))


def place_names(plan: Plan) -> dict[str, str]:
    """Names of a plan's communes and vehicles by code and id, for findings that name them."""
    names = {u.commune_code: u.commune_name for u in plan.unserved}
    for r in plan.routes:
        names[r.vehicle_id] = names[r.key] = r.vehicle_name
        names.update({v.commune_code: v.commune_name for v in r.visits})
    return names


def plan_checks(plan: Plan) -> PlanChecks:
    """The check stored in an edited plan's provenance (``PlanChecks(checked=False)`` for a
    plan that carries none)."""
    record = plan.provenance.check
    if record is None:
        return PlanChecks(False)
    return arrange_findings(record.violations, at=record.at)


# --- networks of the plans being edited ----------------------------------------------------


# --- helpers -------------------------------------------------------------------------------


def _draft(run: str) -> tuple[Plan, Path]:
    """Draft plan ``run`` and its folder; a published version cannot be edited (409)."""
    if parse_version_key(run) is not None:
        raise ConflictError(g.tr("edit_published", name=run))
    return _stored(run)


def _stored(key: str) -> tuple[Plan, Path]:
    """Stored plan ``key`` (a draft run or a published version) and its folder (404)."""
    store = plan_store()
    try:
        folder = store.folder(key)
        return store.plan(key), folder
    except NotFoundError:
        raise NotFoundError(g.tr("unknown_plan", name=key)) from None


class PrepareFirst(Exception):
    """The plan has no matrices yet (written before plan folders kept them): a background
    job prepares them, and the request answers with that job's page."""

    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id


def _context(run: str, folder: Path) -> EditContext:
    """The plan's edit context, read from its folder (no road network is built here)."""
    try:
        return edit_context(folder)
    except EditContextMissing:
        raise PrepareFirst(_draw_routes(run, folder)) from None
    except EditError as exc:
        raise ConflictError(g.tr("edit_no_scenario", detail=str(exc))) from None
    except (ValueError, PlannerError) as exc:  # scenario.json: JSON, UTF-8, the scenario model
        raise ConflictError(g.tr("edit_no_scenario",
                                 detail=f"{run}/scenario.json: {exc}")) from None


def _draw_routes(run: str, folder: Path) -> str:
    """Start (or find) the background job that draws plan ``run``'s routes along the roads
    and writes its matrices; returns its id."""
    user = current_user()
    return job_service().start_geometry(run, folder, user_id=user.id if user else None)


@bp.app_errorhandler(PrepareFirst)
def _prepare_first(exc: PrepareFirst) -> ResponseReturnValue:
    return redirect(url_for("jobs.job_page", job_id=exc.job_id), code=303)


def _invalid(field_name: str, value: object, detail: str = "") -> BadRequestError:
    return BadRequestError(g.tr("edit_invalid", field=field_name, value=str(value),
                                detail=detail))


def _edited_name(run: str, runs_dir: Path) -> str:
    """``<run>-edit-<YYYYmmdd-HHMMSS>`` (the run's own edit suffix replaced), unique."""
    root = EDIT_SUFFIX.sub("", run)
    stamp = dt.datetime.now(TZ).strftime("%Y%m%d-%H%M%S")
    root = root[:MAX_RUN_NAME - len(stamp) - 10]
    base = name = f"{root}-edit-{stamp}"
    n = 2
    while (runs_dir / name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def _save(plan: Plan, ctx: EditContext, run: str, changed: tuple[str, ...]) -> str:
    """Write ``plan`` (edited from plan ``run``) as a new plan folder, without the road
    network: its changed routes are drawn in straight legs."""
    store = plan_store()
    name = _edited_name(run, store.root)
    write_edited_plan_folder(plan, store.folder(run), store.root / name, places=ctx.places,
                             changed=changed)
    return name


def _position(raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise _invalid("position", raw, g.tr("edit_position_number")) from None


def apply_and_save(run: str, edit: Edit) -> str:
    """Apply ``edit`` to draft plan ``run`` and save the result as a new draft; its name.
    A published version is never changed (409); an edit that does not fit is a 400 naming
    the field."""
    plan, folder = _draft(run)
    ctx = _context(run, folder)
    user = current_user()
    assert user is not None
    try:
        result = apply_edit(plan, ctx.scenario, ctx.problem, ctx.places, edit,
                            editor=user.username, base=run, problem_of=ctx.problem_of)
    except EditError as exc:
        raise _invalid(exc.field, exc.value, str(exc)) from None
    name = _save(result.plan, ctx, run, result.changed_vehicles)
    log.info("user %s edited %s -> %s (%s): %d violation(s)", user.username, run, name,
             edit, len(result.violations))
    try:  # the changed routes are drawn in straight legs until this job draws them
        _draw_routes(name, plan_store().folder(name))
    except (JobError, StorageError) as exc:
        log.warning("routes of %s not drawn along the roads: %s", name, exc)
    return name


def _apply_and_save(run: str, edit: MoveStop | RemoveStop) -> ResponseReturnValue:
    return redirect(url_for("edits.edit_page", run=apply_and_save(run, edit)), code=303)


def start_replan(spec: ReplanSpec, folder: Path, plan: Plan, *,
                 time_limit_s: float | None = None) -> ResponseReturnValue:
    """Start a re-plan job from the plan in ``folder`` and go to its page."""
    wrong = wrong_replan_kind(spec.kind, season_plan=plan.season is not None)
    if wrong:
        raise ConflictError(g.tr(wrong, name=spec.base))
    scenario = folder / "scenario.json"
    if not scenario.is_file():
        raise ConflictError(g.tr("edit_no_scenario", detail=str(scenario)))
    user = current_user()
    job_id = job_service().start(scenario, scenario_name=plan.scenario_name,
                                 user_id=user.id if user else None, time_limit_s=time_limit_s,
                                 replan=spec)
    log.info("user %s started %s re-plan job %s from %s", user.username if user else "?",
             spec.kind, job_id, spec.base)
    return redirect(url_for("jobs.job_page", job_id=job_id), code=303)


# --- pages ---------------------------------------------------------------------------------


@bp.get("/plans/<run>/edit")
@requires("edit")
def edit_page(run: str) -> ResponseReturnValue:
    plan, folder = _draft(run)
    checks = plan_checks(plan)
    ctx = _context(run, folder)
    if not checks.checked:  # a plan from the solver: check it now
        checks = arrange_findings(check_stored_plan(plan, ctx))
    views = route_views(plan)
    edits = plan.provenance.manual_edits
    before_name = edits[0].base if edits else None  # the plan before the first edit
    before = None
    if before_name:
        try:
            before = load_plan(before_name)
        except (NotFoundError, UnreadablePlanError) as exc:  # removed since: no "before"
            log.info("edit page %s: plan before the edits unreadable: %s", run, exc)
    return render_template("plan_edit.html", run=run, plan=plan, views=views, checks=checks,
                           edits=edits, base=edits[-1].base if edits else None,
                           before=before, before_name=before_name,
                           kpi_rows=kpi_comparison(before, plan) if before is not None
                           else kpi_comparison(plan, None), targets=TARGET_ROWS,
                           vehicles=_targets(plan, ctx))


def _targets(plan: Plan, ctx: EditContext) -> list[tuple[str, str, int]]:
    """(trip id, label, stops) of every trip a stop can be moved to: the plan's trips and
    each vehicle's next one (a new trip)."""
    names = {r.vehicle_id: r.vehicle_name for r in plan.routes}
    out = []
    for t in trip_targets(plan, ctx.problem):
        name = names.get(t.vehicle_id, t.vehicle_id)
        label = (g.tr("edit_new_trip", vehicle=name, n=t.trip_number) if t.new else
                 g.tr("trip_of_vehicle", vehicle=name, n=t.trip_number)
                 if t.trip_number > 1 else name)
        out.append((t.trip_id, label, t.stops))
    return out


@bp.post("/plans/<run>/edit/move")
@requires("edit")
def move_stop(run: str) -> ResponseReturnValue:
    code = request.form.get("commune_code", "").strip()
    vehicle = request.form.get("vehicle_id", "").strip()
    if not code:
        raise _invalid("commune_code", code, g.tr("edit_missing"))
    if not vehicle:
        raise _invalid("vehicle_id", vehicle, g.tr("edit_missing"))
    return _apply_and_save(run, MoveStop(code, vehicle, _position(request.form.get("position"))))


@bp.post("/plans/<run>/edit/remove")
@requires("edit")
def remove_stop(run: str) -> ResponseReturnValue:
    code = request.form.get("commune_code", "").strip()
    if not code:
        raise _invalid("commune_code", code, g.tr("edit_missing"))
    return _apply_and_save(run, RemoveStop(code))


@bp.post("/plans/<run>/edit/resolve")
@requires("edit")
def resolve_rest(run: str) -> ResponseReturnValue:
    """Keep the locked visits on their vehicles and re-solve every other stop (a job)."""
    plan, folder = _draft(run)
    served = [x.commune_code for r in plan.routes for x in r.visits]
    locked = [c.strip() for c in request.form.getlist("locked") if c.strip()]
    for code in locked:
        if code not in served:
            raise _invalid("locked", code, g.tr("edit_not_on_route"))
    free = tuple(c for c in served if c not in set(locked))
    spec = ReplanSpec(kind="resolve", base=run, previous_plan=folder / "plan.json",
                      locked=tuple(dict.fromkeys(locked)), free=free)
    return start_replan(spec, folder, plan,
                        time_limit_s=time_limit_field(request.form.get("time_limit_s")))


@bp.post("/versions/<key>/replan")
@requires("edit")
def replan_from_outcomes(key: str) -> ResponseReturnValue:
    """Re-plan a published version's remaining work: done visits stay as they were, failed
    ones may be served again on any route (a job; the result is a new draft)."""
    parsed = parse_version_key(key)
    if parsed is None:
        raise NotFoundError(g.tr("unknown_plan", name=key))
    plan, folder = _stored(key)
    with database().begin() as s:
        version = plans.find_version(s, *parsed)
        outcomes = plans.current_outcomes(s, version.id)
    done = tuple(sorted({o.commune_code for o in outcomes.values() if o.status == "done"}))
    failed = tuple(sorted({o.commune_code for o in outcomes.values()
                           if o.status == "failed"} - set(done)))
    if not done and not failed:
        raise ConflictError(g.tr("replan_no_outcomes"))
    spec = ReplanSpec(kind="outcomes", base=key, previous_plan=folder / "plan.json",
                      done=done, free=failed)
    return start_replan(spec, folder, plan,
                        time_limit_s=time_limit_field(request.form.get("time_limit_s")))


@dataclass(frozen=True)
class SeasonReplan:
    """How a season plan was re-planned from a date: the trips it kept (done or published,
    by their ids in it) and how many it planned again."""

    replan_from: dt.date
    kept: tuple[str, ...]
    again: int


def season_replan_facts(plan: Plan) -> SeasonReplan | None:
    """The re-plan facts of a season plan re-planned from a date (``None`` for any other)."""
    season = plan.season
    if season is None or not season.replan_from:
        return None
    trips = sum(1 for r in plan.routes if r.visits)
    return SeasonReplan(dt.date.fromisoformat(season.replan_from), season.kept_trip_ids,
                        trips - season.kept_trips)


def season_days(plan: Plan) -> tuple[dt.date, dt.date]:
    """The first and last day of a season plan."""
    return plan.start_date, plan.start_date + dt.timedelta(days=plan.horizon_days - 1)


def season_replan_default(plan: Plan) -> dt.date:
    """The date the season re-plan form offers: today, within the season."""
    first, last = season_days(plan)
    return min(max(today(), first), last)


def _season_replan_date(plan: Plan, raw: str | None) -> dt.date:
    """The form's ``replan_from``: a date of the season (400 naming the field otherwise)."""
    text = (raw or "").strip()
    if not text:
        raise _invalid("replan_from", text, g.tr("edit_missing"))
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _invalid("replan_from", text[:40], g.tr("season_replan_date_format")) from None
    first, last = season_days(plan)
    if not first <= day <= last:
        raise _invalid("replan_from", text, g.tr(
            "season_replan_outside", first=date_text(first, g.lang),
            last=date_text(last, g.lang)))
    return day


@bp.post("/plans/<run>/replan-season")
@requires("edit")
def replan_season(run: str) -> ResponseReturnValue:
    """Re-plan a season plan (a draft or a published version) from a date, as `planner
    replan --from` does (a job; the result is a new draft): the trips leaving before the date,
    done or published, are kept, the rest of the season is planned again."""
    plan, folder = _stored(run)
    if plan.season is None:
        raise ConflictError(g.tr("season_replan_not_season", name=run))
    day = _season_replan_date(plan, request.form.get("replan_from"))
    # each period's search time, as `planner replan --time-limit` (empty: the scenario's)
    time_limit_s = time_limit_field(request.form.get("time_limit_s"))
    spec = ReplanSpec(kind="season", base=run, previous_plan=folder / "plan.json",
                      replan_from=day.isoformat())
    return start_replan(spec, folder, plan, time_limit_s=time_limit_s)


def init_app(app: Flask) -> None:
    """Register the edit pages and their template helper."""
    app.register_blueprint(bp)

    @app.context_processor
    def edit_helpers() -> dict[str, Any]:
        return {"plan_checks": plan_checks, "closure_names": closure_names,
                "place_names": place_names, "season_replan_default": season_replan_default,
                "season_replan_facts": season_replan_facts, "season_days": season_days}
