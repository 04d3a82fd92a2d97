"""Road closures entered in the web UI: a GeoJSON geometry (the road picked or the area
drawn) closed between two dates, with a note and who entered it."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.closures import DrawnClosure, closure_specs, read_geometry_json
from planner.errors import ScenarioError
from storage.errors import InvalidRecordError, RecordNotFoundError
from storage.models import Closure, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClosureInfo:
    id: int
    name: str
    geometry: dict[str, Any]
    from_date: dt.date
    to_date: dt.date
    note: str


def _geometry_text(geometry: dict[str, Any] | str) -> str:
    try:
        data = read_geometry_json(geometry) if isinstance(geometry, str) else geometry
    except ValueError as exc:
        raise InvalidRecordError(f"closure geometry is not valid JSON ({str(exc)[:200]})"
                                 ) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict):
        raise InvalidRecordError("closure geometry must be a GeoJSON geometry (or Feature)")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def add_closure(session: Session, *, name: str, geometry: dict[str, Any] | str,
                from_date: dt.date, to_date: dt.date, user_id: int,
                note: str = "") -> ClosureInfo:
    """Store a closure; :class:`InvalidRecordError` unless it has a name and makes valid
    scenario closures (:func:`planner.closures.closure_specs`: lines or areas of points in
    range, dates in order)."""
    if not name.strip():
        raise InvalidRecordError("a closure needs a name (the road or place)")
    text = _geometry_text(geometry)
    try:
        closure_specs([DrawnClosure("new", name, json.loads(text), from_date, to_date)],
                      file=f"closure {name!r}")
    except ScenarioError as exc:
        raise InvalidRecordError(str(exc)) from None
    closure = Closure(name=name.strip(), geometry_geojson=text,
                      from_date=from_date, to_date=to_date, note=note, created_by_id=user_id,
                      created_at=utcnow())
    session.add(closure)
    session.flush()
    return _closure_info(closure)


def _closure_info(c: Closure) -> ClosureInfo:
    """The closure as pages read it; a geometry that is not a JSON object (a record damaged
    outside the app) reads as ``{}``: the closure is listed but closes nothing."""
    try:
        geometry = json.loads(c.geometry_geojson or "")
    except ValueError:
        geometry = None
    if not isinstance(geometry, dict):
        log.warning("closure %s: stored geometry is not a GeoJSON object; ignored", c.id)
        geometry = {}
    return ClosureInfo(c.id, c.name, geometry, c.from_date, c.to_date, c.note)


def list_closures(session: Session, *, on: dt.date | None = None) -> list[ClosureInfo]:
    """Every closure, or those in force on ``on``."""
    query = select(Closure).order_by(Closure.from_date, Closure.id)
    if on is not None:
        query = query.where(Closure.from_date <= on, Closure.to_date >= on)
    return [_closure_info(c) for c in session.scalars(query)]


def get_closure(session: Session, closure_id: int) -> ClosureInfo:
    closure = session.get(Closure, closure_id)
    if closure is None:
        raise RecordNotFoundError(f"no closure with id {closure_id}")
    return _closure_info(closure)


def delete_closure(session: Session, closure_id: int) -> ClosureInfo:
    """Remove a closure (the road is open again, or it was entered by mistake); plans
    re-planned with it keep it in their scenario."""
    closure = session.get(Closure, closure_id)
    if closure is None:
        raise RecordNotFoundError(f"no closure with id {closure_id}")
    info = _closure_info(closure)
    session.delete(closure)
    session.flush()
    return info
