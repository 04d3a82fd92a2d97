"""Commune libraries as dispatchers edit them: their current values (location, address, contact,
opening hours, market days, lodging) over those of the dataset and the scenario, and the
history of every changed field with who changed it and when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.errors import ScenarioError
from planner.libraries import LIBRARY_FIELDS, LibraryValues, check_library_values
from storage.errors import InvalidRecordError
from storage.models import LibraryEdit, LibraryOverride, User, utcnow

# --- history of library edits --------------------------------------------------------------

@dataclass(frozen=True)
class LibraryEditInfo:
    commune_code: str
    field: str
    old_value: str | None
    new_value: str | None
    edited_by: str
    edited_at: dt.datetime


def record_library_edits(session: Session, *, commune_code: str,
                         changes: Iterable[tuple[str, str | None, str | None]],
                         user_id: int) -> int:
    """Record each ``(field, old, new)`` change of a commune library that really changed;
    returns how many were recorded."""
    now = utcnow()
    n = 0
    for field, old, new in changes:
        if old == new:
            continue
        session.add(LibraryEdit(commune_code=commune_code, field=field, old_value=old,
                                new_value=new, edited_by_id=user_id, edited_at=now))
        n += 1
    session.flush()
    return n


def library_history(session: Session, *, commune_code: str | None = None,
                    limit: int = 200) -> list[LibraryEditInfo]:
    """Library edits, newest first."""
    query = (select(LibraryEdit, User.username).join(User, LibraryEdit.edited_by_id == User.id)
             .order_by(LibraryEdit.edited_at.desc(), LibraryEdit.id.desc()).limit(limit))
    if commune_code is not None:
        query = query.where(LibraryEdit.commune_code == commune_code)
    return [LibraryEditInfo(e.commune_code, e.field, e.old_value, e.new_value, name,
                            e.edited_at) for e, name in session.execute(query)]


# --- current values of commune libraries ---------------------------------------------------

@dataclass(frozen=True)
class LibraryOverrideInfo:
    commune_code: str
    values: LibraryValues
    updated_by: str
    updated_at: dt.datetime


def _override_values(o: LibraryOverride) -> LibraryValues:
    hours = None
    if o.opening_hours is not None:
        hours = tuple(tuple(part.split("-", 1)) for part in o.opening_hours.split(",")
                      if "-" in part)
    weekdays = tuple(o.market_weekdays.split(",")) if o.market_weekdays is not None else None
    return LibraryValues(lon=o.lon, lat=o.lat, contact=o.contact,
                         opening_hours=hours,  # type: ignore[arg-type]
                         market_weekdays=weekdays, market_every_days=o.market_every_days,
                         market_anchor=o.market_anchor, lodging=o.lodging,
                         address=o.address)


def _override_info(o: LibraryOverride) -> LibraryOverrideInfo:
    return LibraryOverrideInfo(o.commune_code, _override_values(o), o.updated_by.username,
                               o.updated_at)


def save_library_values(session: Session, *, commune_code: str, values: LibraryValues,
                        user_id: int) -> int:
    """Make ``values`` the current values of the library of ``commune_code`` and record
    each field that changed (old and new text, who, when) in ``library_edits``; returns how
    many fields changed. :class:`InvalidRecordError` names what cannot be stored."""
    try:
        check_library_values(commune_code, values, file=f"library of commune {commune_code}")
    except ScenarioError as exc:
        raise InvalidRecordError(str(exc)) from None
    record = session.scalar(select(LibraryOverride)
                            .where(LibraryOverride.commune_code == commune_code))
    old = _override_values(record).texts() if record is not None else LibraryValues().texts()
    new = values.texts()
    changed = record_library_edits(session, commune_code=commune_code, user_id=user_id,
                                   changes=[(f, old[f], new[f]) for f in LIBRARY_FIELDS])
    if not changed:
        return 0
    if record is None:
        record = LibraryOverride(commune_code=commune_code, updated_by_id=user_id)
        session.add(record)
    record.lon, record.lat, record.contact = values.lon, values.lat, values.contact
    record.opening_hours = new["opening_hours"]
    record.market_weekdays = (",".join(values.market_weekdays)
                              if values.market_weekdays is not None else None)
    record.market_every_days, record.market_anchor = (values.market_every_days,
                                                      values.market_anchor)
    record.lodging = values.lodging
    record.address = values.address
    record.updated_by_id, record.updated_at = user_id, utcnow()
    session.flush()
    return changed


def library_overrides(session: Session, *, codes: Iterable[str] | None = None
                      ) -> dict[str, LibraryOverrideInfo]:
    """The current edited values of commune libraries (all, or those of ``codes``)."""
    query = select(LibraryOverride).join(LibraryOverride.updated_by)
    if codes is not None:
        query = query.where(LibraryOverride.commune_code.in_(list(codes)))
    return {o.commune_code: _override_info(o) for o in session.scalars(query)}
