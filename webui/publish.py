"""Publishing plans: a dispatcher publishes a plan as version N of its scenario's series (an
immutable copy in the database; publishing again makes N+1), every role reads the published
versions, drivers and dispatchers record what happened at each stop, and the dashboard shows
the current published plan.

A published version is shown by the ordinary plan, sheet, PDF, map and export pages under
the name ``<series>@v<N>`` (see :class:`webui.planstore.PlanStore`), so what a driver prints
from a version is exactly what was published.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from flask import Blueprint, Flask, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from planner.kpis import TargetProgress
from planner.plan import TZ, Plan
from storage import InvalidRecordError, RecordNotFoundError, plans
from storage.batches import BatchRecordError, StopRecord
from storage.models import OUTCOME_STATUSES, utcnow
from storage.plans import OutcomeInfo, VersionInfo, parse_version_key
from webui.auth import check_may_record_for, current_user, requires
from webui.batches import published_trip, record_ticks
from webui.errors import BadRequestError, NotFoundError, UnreadablePlanError
from webui.services import database, plan_store

log = logging.getLogger(__name__)

bp = Blueprint("publish", __name__)

MAX_NOTE_CHARS = 500


@dataclass(frozen=True)
class OutcomeCounts:
    stops: int
    done: int
    failed: int

    @property
    def open(self) -> int:
        return self.stops - self.done - self.failed


@dataclass(frozen=True)
class Dashboard:
    """The current published plan: the newest version of any series."""

    version: VersionInfo
    plan: Plan | None  # None: its record cannot be read (``error`` says why)
    targets: tuple[TargetProgress, ...]
    outcomes: OutcomeCounts | None
    others: tuple[VersionInfo, ...]
    error: str | None = None


@dataclass(frozen=True)
class Publication:
    """What the plan page says about publishing: for a published version, which one it is
    and the newest of its series; for a draft, the versions made from it."""

    version: VersionInfo | None
    latest: VersionInfo | None
    versions: tuple[VersionInfo, ...]
    outcomes: OutcomeCounts | None


def _counts(plan: Plan, outcomes: dict[tuple[str, int], OutcomeInfo]) -> OutcomeCounts:
    statuses = Counter(o.status for o in outcomes.values())
    stops = sum(len(r.visits) for r in plan.routes)
    return OutcomeCounts(stops, statuses["done"], statuses["failed"])


def _version(key: str) -> VersionInfo:
    parsed = parse_version_key(key)
    try:
        if parsed is None:
            raise RecordNotFoundError(key)
        with database().begin() as s:
            return plans.find_version(s, *parsed)
    except RecordNotFoundError:
        raise NotFoundError(g.tr("unknown_plan", name=key)) from None


def dashboard() -> Dashboard | None:
    """The dashboard's published plan, or ``None`` before anything is published."""
    with database().read() as s:
        current = plans.latest_version(s)
        if current is None:
            return None
        outcomes = plans.current_outcomes(s, current.id)
        latest_per_series: dict[str, VersionInfo] = {}
        for v in plans.list_versions(s):
            latest_per_series.setdefault(v.series, v)
    plan: Plan | None = None
    error: str | None = None
    try:  # read as the version's pages read it (once per version)
        plan = plan_store().plan(current.key)
    except (UnreadablePlanError, NotFoundError) as exc:  # the home page works whatever
        log.error("dashboard: published version %s unreadable: %s", current.key, exc)
        error = exc.detail if isinstance(exc, UnreadablePlanError) else str(exc)
    others = tuple(v for v in latest_per_series.values() if v.id != current.id)
    if plan is None:
        return Dashboard(current, None, (), None, others, error)
    return Dashboard(current, plan, plan.kpis.target_progress(), _counts(plan, outcomes),
                     others)


def publication(run: str) -> Publication:
    """The publishing facts of plan page ``run`` (a plan folder or a version key)."""
    parsed = parse_version_key(run)
    with database().read() as s:
        if parsed is None:
            versions = tuple(plans.versions_of_plan(s, run))
            return Publication(None, None, versions, None)
        version = plans.find_version(s, *parsed)
        latest = plans.list_versions(s, series=version.series)[0]
        outcomes = plans.current_outcomes(s, version.id)
    plan = plan_store().plan(run)  # the page has read it: read once per version
    return Publication(version, latest, (), _counts(plan, outcomes))


@bp.post("/plans/<run>/publish")
@requires("publish")
def publish_plan(run: str) -> ResponseReturnValue:
    """Publish plan folder ``run`` as the next version of its series (or, if it is the newest
    version's plan unchanged, show that version: no identical version N+1)."""
    if parse_version_key(run) is not None:
        raise BadRequestError(g.tr("publish_is_version", name=run))
    store = plan_store()
    try:
        folder = store.folder(run)
    except NotFoundError:
        raise NotFoundError(g.tr("unknown_plan", name=run)) from None
    routes_path, scenario_path = folder / "routes.geojson", folder / "scenario.json"
    try:
        plan_text = (folder / "plan.json").read_text(encoding="utf-8")
        routes = routes_path.read_bytes() if routes_path.is_file() else None
        scenario = scenario_path.read_text(encoding="utf-8") if scenario_path.is_file() \
            else None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequestError(g.tr("publish_invalid", name=run, error=str(exc))) from None
    user = current_user()
    assert user is not None
    started = utcnow()
    try:
        info = plans.publish(database(), plan_name=run, user_id=user.id,
                             plan_text=plan_text, routes_geojson=routes,
                             scenario_json=scenario, folder=str(folder),
                             note=request.form.get("note", "").strip()[:MAX_NOTE_CHARS])
    except InvalidRecordError as exc:
        raise BadRequestError(g.tr("publish_invalid", name=run, error=str(exc))) from None
    if info.published_at < started:  # the newest version is this very plan
        log.info("user %s published %s again unchanged: it is %s", user.username, run,
                 info.key)
        return redirect(url_for("plans.plan_page", run=info.key, unchanged=1), code=303)
    log.info("user %s published %s as %s", user.username, run, info.key)
    return redirect(url_for("plans.plan_page", run=info.key), code=303)


@bp.get("/versions")
@requires("read")
def versions_page() -> ResponseReturnValue:
    with database().begin() as s:
        versions = plans.list_versions(s)
    series = [(name, list(items)) for name, items in groupby(versions, key=lambda v: v.series)]
    return render_template("versions.html", series=series)


def _stops(plan: Plan) -> list[tuple[Any, list[Any]]]:
    return [(r, list(r.visits)) for r in plan.routes if r.visits]


@bp.get("/versions/<key>/outcomes")
@requires("read")
def outcomes_page(key: str) -> ResponseReturnValue:
    version = _version(key)
    with database().begin() as s:
        content = plans.version_content(s, version.id)
        outcomes = plans.current_outcomes(s, version.id)
    plan = plans.parse_plan_text(content.plan_json, file=version.key)
    return render_template("outcomes.html", version=version, plan=plan, routes=_stops(plan),
                           outcomes=outcomes, counts=_counts(plan, outcomes),
                           statuses=OUTCOME_STATUSES)


@bp.post("/versions/<key>/outcomes")
@requires("record_outcome")
def record_outcome(key: str) -> ResponseReturnValue:
    version = _version(key)
    vehicle_id = request.form.get("vehicle_id", "")
    status = request.form.get("status", "")
    if status not in OUTCOME_STATUSES:
        raise BadRequestError(g.tr("outcome_bad_status"))
    try:
        seq = int(request.form.get("stop_seq", ""))
    except ValueError:
        raise BadRequestError(g.tr("outcome_bad_stop")) from None
    try:
        _, route = published_trip(version, vehicle_id)
    except NotFoundError:
        raise NotFoundError(g.tr("outcome_unknown_stop", name=key, vehicle=vehicle_id,
                                 seq=seq)) from None
    check_may_record_for(route.vehicle_id)
    user = current_user()
    assert user is not None
    note = request.form.get("note", "")[:MAX_NOTE_CHARS]
    ticks = {k: tuple(request.form.getlist(k)) for k in ("delivered", "collected", "missing")}
    try:
        if any(ticks.values()):  # the stop's book batches too (webui.batches)
            record_ticks(version, vehicle_id, [StopRecord(seq, status, note, **ticks)],
                         returned=False)
        else:
            with database().begin() as s:
                plans.record_outcome(s, version_id=version.id, vehicle_id=vehicle_id,
                                     stop_seq=seq, status=status, user_id=user.id, note=note)
    except (RecordNotFoundError, NotFoundError):
        raise NotFoundError(g.tr("outcome_unknown_stop", name=key, vehicle=vehicle_id,
                                 seq=seq)) from None
    except BatchRecordError as exc:
        raise BadRequestError("; ".join(str(p) for p in exc.problems[:10])) from None
    log.info("user %s recorded %s for %s %s #%d", user.username, status, key, vehicle_id, seq)
    return redirect(url_for("publish.outcomes_page", key=key,
                            _anchor=f"stop-{vehicle_id}-{seq}"), code=303)


def when_text(moment: dt.datetime | None, *, seconds: bool = False) -> str:
    """A stored (UTC) time as Vietnam's local time, ``22/11/2026 14:05`` (with ``:07`` when
    ``seconds``): every page shows the province's time, whatever the server's zone."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:  # SQLite gives stored UTC times back naive
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(TZ).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_filter(when_text, "when")

    @app.context_processor
    def publish_helpers() -> dict[str, Any]:
        return {"published_dashboard": dashboard, "publication": publication,
                "is_version": lambda name: parse_version_key(str(name)) is not None}
