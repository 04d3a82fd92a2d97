"""Road closures entered by dispatchers, and re-plans that take them into account.

A dispatcher draws a closure on the closures page's map (a line across or along the blocked
road, or an area around a landslide; ``static/closure-draw.js``, plain Leaflet, or pasting
GeoJSON without JavaScript), with the dates it is closed and a note; closures are kept in
the database (:mod:`storage.closures`). "Re-plan with closures" starts a background
job that solves a plan's scenario again with the chosen closures added to its
``road_conditions.closures`` (:func:`scenario_closures`) and that plan as the previous one,
so that only the routes the closures break change; the new plan's page says how many stops
moved.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Blueprint, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from planner.closures import (
    LINE_TOLERANCE_M,
    DrawnClosure,
    closure_parts,
    closure_specs,
    read_geometry_json,
)
from planner.errors import ScenarioError
from planner.plan import Plan
from render.maps import closure_map_data
from storage import InvalidRecordError, RecordNotFoundError, plans
from storage import closures as stored_closures
from storage.closures import ClosureInfo
from storage.plans import parse_version_key
from webui.auth import current_user, requires
from webui.edits import start_replan, time_limit_field
from webui.errors import BadRequestError, NotFoundError, UnreadablePlanError
from webui.jobservice import ReplanSpec
from webui.plans import load_plan
from webui.services import database, plan_store, today

log = logging.getLogger(__name__)

bp = Blueprint("closures", __name__, url_prefix="/closures")

MAX_NAME_CHARS = 255
MAX_NOTE_CHARS = 500


CLOSURE_DEFAULT_DAYS = 7  # a new closure's end, without a plan: a week from today


class ClosureGeometryError(ValueError):
    """A drawn geometry that is not a line or an area in GeoJSON: the message's catalogue
    ``key`` and its values (the page words it)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


def parse_geometry(text: str) -> dict[str, Any]:
    """A drawn closure: a GeoJSON ``LineString`` or ``Polygon``, or a Feature holding one,
    in longitude/latitude, with its coordinates rounded to 6 decimals (about 0.1 m) and its
    ring closed. Only the form of the text is checked here; what makes a valid closure
    (points in range, enough of them) is the scenario model's rule
    (:func:`planner.closures.closure_specs`)."""
    try:
        data = read_geometry_json(text)
    except ValueError as exc:  # syntax, or beyond the limits of a drawn closure
        raise ClosureGeometryError("closure_geom_json", detail=str(exc)[:200]) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in ("LineString", "Polygon"):
        raise ClosureGeometryError("closure_geom_kind")
    coords = data.get("coordinates")
    if data["type"] == "Polygon":
        if not isinstance(coords, list) or not coords or not isinstance(coords[0], list):
            raise ClosureGeometryError("closure_geom_ring")
        coords = coords[0]
    if not isinstance(coords, list) or not all(_is_position(p) for p in coords):
        raise ClosureGeometryError("closure_geom_points")
    points = [[round(float(p[0]), 6), round(float(p[1]), 6)] for p in coords]
    if data["type"] == "LineString":
        return {"type": "LineString", "coordinates": points}
    if points and points[0] != points[-1]:
        points.append(points[0])
    return {"type": "Polygon", "coordinates": [points]}


def _is_position(p: object) -> bool:
    return (isinstance(p, list | tuple) and len(p) >= 2
            and all(isinstance(x, int | float) and not isinstance(x, bool)
                    and math.isfinite(x) for x in p[:2]))


def drawn(c: ClosureInfo) -> DrawnClosure:
    """A closure of the database as drawn."""
    return DrawnClosure(str(c.id), c.name, c.geometry, c.from_date, c.to_date, c.note)


def scenario_closures(closures: Iterable[ClosureInfo]) -> list[dict[str, Any]]:
    """Closures of the database in the scenario format of ``road_conditions.closures``
    (:func:`planner.closures.closure_parts`)."""
    return [part for c in closures if c.geometry for part in closure_parts(drawn(c))]


def _plan_choices() -> list[str]:
    """Plans a closure re-plan can start from: published versions (newest first), then
    plan folders (newest first)."""
    with database().begin() as s:
        versions = [v.key for v in plans.list_versions(s)]
    return versions + plan_store().names()


def _load(name: str) -> Plan:
    return load_plan(name)


def _overlaps(c: ClosureInfo, plan: Plan) -> bool:
    last = plan.start_date + dt.timedelta(days=max(0, plan.horizon_days - 1))
    return c.from_date <= last and c.to_date >= plan.start_date


def _date(field: str) -> dt.date:
    raw = request.form.get(field, "").strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequestError(g.tr("closure_bad_date", field=field, value=raw)) from None


def _page_url(plan: str, *, anchor: str | None = None) -> str:
    """The closures page, showing ``plan`` when one was chosen."""
    if plan:
        return url_for("closures.closures_page", plan=plan, _anchor=anchor)
    return url_for("closures.closures_page", _anchor=anchor)


def _closure_feature(c: ClosureInfo) -> dict[str, Any]:
    return {"type": "Feature", "geometry": c.geometry or None,
            "properties": {"id": c.id, "name": c.name, "note": c.note,
                           "from": c.from_date.isoformat(), "to": c.to_date.isoformat()}}


@bp.get("")
@requires("read_plans")
def closures_page() -> ResponseReturnValue:
    with database().begin() as s:
        closures = stored_closures.list_closures(s)
    choices = _plan_choices()
    chosen = request.args.get("plan") or ""
    plan = _load(chosen) if chosen else None
    for name in choices if not chosen else ():  # the newest plan that can be read
        try:
            chosen, plan = name, _load(name)
            break
        except UnreadablePlanError as exc:
            log.warning("closures page: %s", exc)
            chosen, plan = "", None
    in_force = {c.id for c in closures if plan is not None and _overlaps(c, plan)}
    day = today()
    # a new closure lasts, unless changed, the plan's days (else a week): a landslide is
    # rarely cleared the day it falls
    default_end = (plan.start_date + dt.timedelta(days=max(plan.horizon_days - 1, 0))
                   if plan is not None else day + dt.timedelta(days=CLOSURE_DEFAULT_DAYS))
    return render_template("closures.html", closures=closures, choices=choices,
                           chosen=chosen, plan=plan, in_force=in_force,
                           tolerance_m=LINE_TOLERANCE_M, today=day, default_end=default_end)


@bp.get("/map.json")
@requires("read_plans")
def map_data() -> ResponseReturnValue:
    """The closures page's map: basemap of the plan's network, the closures, its routes."""
    name = request.args.get("plan", "")
    plan = _load(name) if name else None
    with database().begin() as s:
        closures = stored_closures.list_closures(s)
    network = plan.network if plan is not None else "ha_giang"
    routes = plan_store().routes(name) if plan is not None else None
    return jsonify(closure_map_data(network, [_closure_feature(c) for c in closures],
                                    routes=routes))


@bp.post("")
@requires("edit")
def add_closure() -> ResponseReturnValue:
    name = request.form.get("name", "").strip()
    if not name:
        raise BadRequestError(g.tr("closure_bad_field", field="name", value=""))
    if len(name) > MAX_NAME_CHARS:
        raise BadRequestError(g.tr("closure_bad_field", field="name", value=name[:40] + "…"))
    start, end = _date("from_date"), _date("to_date")
    try:
        geometry = parse_geometry(request.form.get("geometry", ""))
    except ClosureGeometryError as exc:
        raise BadRequestError(g.tr("closure_bad_geometry",
                                   detail=g.tr(exc.key, **exc.values))) from None
    try:  # the scenario model says what a closure may be
        closure_specs([DrawnClosure("new", name, geometry, start, end)], file="closure")
    except ScenarioError as exc:
        if end < start:
            raise BadRequestError(g.tr("closure_dates_order", start=start.isoformat(),
                                       end=end.isoformat())) from None
        detail = "; ".join(g.tr.problem(p) for p in exc.problems)
        raise BadRequestError(g.tr("closure_bad_geometry", detail=detail)) from None
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            info = stored_closures.add_closure(s, name=name, geometry=geometry,
                                               from_date=start, to_date=end, user_id=user.id,
                                               note=request.form.get("note", "").strip()[
                                                   :MAX_NOTE_CHARS])
    except InvalidRecordError as exc:
        raise BadRequestError(str(exc)) from None
    log.info("user %s added closure %d %r (%s to %s)", user.username, info.id, name, start, end)
    return redirect(_page_url(request.form.get("plan", ""), anchor=f"closure-{info.id}"),
                    code=303)


@bp.post("/<int:closure_id>/delete")
@requires("edit")
def delete_closure(closure_id: int) -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            info = stored_closures.delete_closure(s, closure_id)
    except RecordNotFoundError:
        raise NotFoundError(g.tr("closure_unknown", id=closure_id)) from None
    log.info("user %s deleted closure %d %r", user.username, closure_id, info.name)
    return redirect(_page_url(request.form.get("plan", "")), code=303)


@bp.post("/replan")
@requires("edit")
def replan_with_closures() -> ResponseReturnValue:
    """Re-plan the chosen plan with the chosen closures (a background job)."""
    name = request.form.get("plan", "")
    plan = _load(name)
    ids = _closure_ids(request.form.getlist("closure"))
    with database().begin() as s:
        try:
            chosen = [stored_closures.get_closure(s, i) for i in ids]
        except RecordNotFoundError as exc:
            raise NotFoundError(g.tr("closure_unknown", id=str(exc).rsplit(" ", 1)[-1])) \
                from None
    if not chosen:
        raise BadRequestError(g.tr("closure_none_chosen"))
    closures = scenario_closures(chosen)
    done: tuple[str, ...] = ()
    parsed = parse_version_key(name)
    if parsed is not None:  # a published version: visits already done stay as they were
        with database().begin() as s:
            version = plans.find_version(s, *parsed)
            outcomes = plans.current_outcomes(s, version.id)
        done = tuple(sorted({o.commune_code for o in outcomes.values() if o.status == "done"}))
    spec = ReplanSpec(kind="closures", base=name,
                      previous_plan=plan_store().folder(name) / "plan.json", done=done,
                      closures=tuple(closures))
    return start_replan(spec, plan_store().folder(name), plan,
                        time_limit_s=time_limit_field(request.form.get("time_limit_s")))


def _closure_ids(values: Sequence[str]) -> list[int]:
    out = []
    for v in values:
        try:
            out.append(int(v))
        except ValueError:
            raise BadRequestError(g.tr("closure_bad_field", field="closure", value=v)) from None
    return list(dict.fromkeys(out))
