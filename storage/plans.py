"""Plans: the plan folders the UI has registered (with the digest and provenance of their
``plan.json``), the versions published from them (immutable, numbered per scenario series)
and what happened at each stop of a published version (visit outcomes).

"Plan" is the one name for what earlier code also called a "run" (a folder written by
``planner solve --out`` or by a solve job).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from planner.errors import PlannerError
from planner.plan import Plan, plan_from_dict
from storage.db import Database
from storage.digest import sha256_hex
from storage.errors import InvalidRecordError, RecordNotFoundError
from storage.models import OUTCOME_STATUSES, PlanRecord, PlanVersion, VisitOutcome, utcnow

# --- registered plan folders ---------------------------------------------------------------

def parse_plan_text(text: str, *, file: str) -> Plan:
    """The plan in ``text`` (a ``plan.json``); :class:`InvalidRecordError` if it is none."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:  # JSON errors; not text at all
        raise InvalidRecordError(f"{file}: not valid JSON ({exc})") from None
    try:
        return plan_from_dict(data, file=file)
    except PlannerError as exc:
        raise InvalidRecordError(str(exc)) from None


def _provenance_columns(plan: Plan) -> dict[str, Any]:
    pv = plan.provenance
    return {"scenario_name": plan.scenario_name[:128],
            "scenario_title": plan.scenario_title[:255], "network": plan.network[:128],
            "plan_created_at": plan.created_at[:40], "seed": pv.seed,
            "time_limit_s": pv.time_limit_s,
            "solver_status": (pv.solver_status or "")[:64] or None,
            "objective": pv.objective,
            "scenario_digest": (pv.scenario_digest or "")[:64] or None,
            "data_digest": (pv.data_digest or "")[:64] or None}


def register_plan(session: Session, *, name: str, folder: str | None, plan_text: str,
                  source_job: str | None = None) -> int:
    """Record plan ``name`` (its folder and the digest and provenance of its ``plan.json``);
    idempotent: a known plan is updated only if its plan changed. Returns the plan's id."""
    digest = sha256_hex(plan_text)
    record = session.scalar(select(PlanRecord).where(PlanRecord.name == name))
    if record is not None and record.digest == digest and record.folder == folder:
        if source_job and not record.source_job:
            record.source_job = source_job
        return record.id
    plan = parse_plan_text(plan_text, file=f"{folder or name}/plan.json")
    columns = _provenance_columns(plan)
    now = utcnow()
    if record is None:
        record = PlanRecord(name=name, folder=folder, digest=digest, source_job=source_job,
                            registered_at=now, updated_at=now, **columns)
        session.add(record)
    else:
        record.folder, record.digest, record.updated_at = folder, digest, now
        record.source_job = record.source_job or source_job
        for key, value in columns.items():
            setattr(record, key, value)
    session.flush()
    return record.id


def plan_digests(session: Session) -> dict[str, tuple[str, str | None]]:
    """``name -> (digest, folder)`` of every registered plan."""
    rows = session.execute(select(PlanRecord.name, PlanRecord.digest, PlanRecord.folder))
    return {name: (digest, folder) for name, digest, folder in rows}


# --- published versions --------------------------------------------------------------------

@dataclass(frozen=True)
class VersionInfo:
    """One published version, as lists and headers show it."""

    id: int
    series: str
    number: int
    plan_name: str
    scenario_title: str
    published_by: str
    published_at: dt.datetime
    digest: str
    note: str

    @property
    def key(self) -> str:
        """``<series>@v<number>``: how pages name the version."""
        return version_key(self.series, self.number)


@dataclass(frozen=True)
class VersionContent:
    """The frozen files of a version."""

    info: VersionInfo
    plan_json: str
    routes_geojson: bytes | None
    scenario_json: str | None


VERSION_KEY = re.compile(r"^(?P<series>.+)@v(?P<number>[1-9][0-9]{0,8})$")


def version_key(series: str, number: int) -> str:
    return f"{series}@v{number}"


def parse_version_key(key: str) -> tuple[str, int] | None:
    """``(series, number)`` of a ``<series>@v<number>`` key, else ``None``."""
    match = VERSION_KEY.match(key)
    return (match["series"], int(match["number"])) if match else None


def _version_info(version: PlanVersion) -> VersionInfo:
    return VersionInfo(version.id, version.series, version.number, version.plan.name,
                       version.plan.scenario_title, version.published_by.username,
                       version.published_at, version.digest, version.note)


def _freeze_routes(routes_geojson: bytes | None) -> bytes | None:
    return gzip.compress(routes_geojson, mtime=0) if routes_geojson is not None else None


def _lock_series(session: Session, series: str) -> None:
    """Serialise publications of one series until the end of the transaction, so two
    dispatchers publishing at once get versions N and N+1 (SQLite needs nothing: its write
    transactions already run one at a time, see :mod:`storage.db`)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                        {"key": f"plan_versions:{series}"})


def publish_plan(session: Session, *, plan_name: str, user_id: int, plan_text: str,
                 routes_geojson: bytes | None = None, scenario_json: str | None = None,
                 folder: str | None = None, note: str = "") -> VersionInfo:
    """Publish ``plan_text`` (the ``plan.json`` of plan ``plan_name``) as the next version
    of its scenario's series; the plan is registered (or its record updated) first. A plan
    identical to the newest version of its series (same digest) is not published again:
    that version is returned as it is (compare its ``published_at``)."""
    plan = parse_plan_text(plan_text, file=f"{folder or plan_name}/plan.json")
    series = plan.scenario_name[:128]
    _lock_series(session, series)
    plan_id = register_plan(session, name=plan_name, folder=folder, plan_text=plan_text)
    newest = session.scalar(_versions_query().where(PlanVersion.series == series)
                            .order_by(PlanVersion.number.desc()).limit(1))
    if newest is not None and newest.digest == sha256_hex(plan_text):
        return _version_info(newest)
    last = newest.number if newest is not None else None
    version = PlanVersion(plan_id=plan_id, series=series, number=(last or 0) + 1,
                          published_by_id=user_id, published_at=utcnow(), note=note,
                          plan_json=plan_text, digest=sha256_hex(plan_text),
                          routes_geojson_gz=_freeze_routes(routes_geojson),
                          scenario_json=scenario_json)
    session.add(version)
    session.flush()
    return _version_info(version)


def publish(db: Database, *, attempts: int = 3, **kwargs: Any) -> VersionInfo:
    """:func:`publish_plan` in its own transaction, tried again if another publication of
    the same series took the version number first (a unique-constraint violation)."""
    for attempt in range(1, attempts + 1):
        try:
            with db.begin() as session:
                return publish_plan(session, **kwargs)
        except IntegrityError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _versions_query() -> Select[Any]:
    return select(PlanVersion).join(PlanVersion.plan).join(PlanVersion.published_by)


def list_versions(session: Session, *, series: str | None = None) -> list[VersionInfo]:
    """Published versions, by series, newest first."""
    query = _versions_query().order_by(PlanVersion.series, PlanVersion.number.desc())
    if series is not None:
        query = query.where(PlanVersion.series == series)
    return [_version_info(v) for v in session.scalars(query)]


def find_version(session: Session, series: str, number: int) -> VersionInfo:
    version = session.scalar(_versions_query().where(PlanVersion.series == series,
                                                     PlanVersion.number == number))
    if version is None:
        raise RecordNotFoundError(f"no published version {version_key(series, number)}")
    return _version_info(version)


def version_content(session: Session, version_id: int) -> VersionContent:
    version = session.get(PlanVersion, version_id)
    if version is None:
        raise RecordNotFoundError(f"no published version with id {version_id}")
    try:
        routes = (gzip.decompress(version.routes_geojson_gz)
                  if version.routes_geojson_gz is not None else None)
    except (OSError, EOFError, zlib.error) as exc:  # a record damaged outside the app
        raise InvalidRecordError(f"{version_key(version.series, version.number)}: stored "
                                 f"routes are not readable ({exc})") from None
    return VersionContent(_version_info(version), version.plan_json, routes,
                          version.scenario_json)


def latest_version(session: Session) -> VersionInfo | None:
    """The most recently published version of any series (the dashboard's plan)."""
    version = session.scalar(_versions_query().order_by(PlanVersion.published_at.desc(),
                                                        PlanVersion.id.desc()).limit(1))
    return _version_info(version) if version is not None else None


def versions_of_plan(session: Session, plan_name: str) -> list[VersionInfo]:
    """The versions published from plan ``plan_name``, newest first."""
    query = (_versions_query().where(PlanRecord.name == plan_name)
             .order_by(PlanVersion.number.desc()))
    return [_version_info(v) for v in session.scalars(query)]


# --- visit outcomes ------------------------------------------------------------------------

@dataclass(frozen=True)
class OutcomeInfo:
    vehicle_id: str
    stop_seq: int
    commune_code: str
    status: str
    note: str
    recorded_by: str
    recorded_at: dt.datetime


def record_outcome(session: Session, *, version_id: int, vehicle_id: str, stop_seq: int,
                   status: str, note: str = "", user_id: int) -> OutcomeInfo:
    """Record that stop ``stop_seq`` of ``vehicle_id`` in a published version was done or
    failed; the stop must be in that version."""
    if status not in OUTCOME_STATUSES:
        raise InvalidRecordError(f"outcome {status!r}: use one of {', '.join(OUTCOME_STATUSES)}")
    version = session.get(PlanVersion, version_id)
    if version is None:
        raise RecordNotFoundError(f"no published version with id {version_id}")
    plan = parse_plan_text(version.plan_json, file=f"version {version.series}@v{version.number}")
    visit = next((v for r in plan.routes if r.key == vehicle_id for v in r.visits
                  if v.seq == stop_seq), None)
    if visit is None:
        raise RecordNotFoundError(f"version {version.series}@v{version.number} has no stop "
                                  f"{stop_seq} for vehicle {vehicle_id!r}")
    outcome = VisitOutcome(version_id=version_id, vehicle_id=vehicle_id, stop_seq=stop_seq,
                           commune_code=visit.commune_code, status=status, note=note.strip(),
                           recorded_by_id=user_id, recorded_at=utcnow())
    session.add(outcome)
    session.flush()
    return _outcome_info(outcome)


def _outcome_info(o: VisitOutcome) -> OutcomeInfo:
    return OutcomeInfo(o.vehicle_id, o.stop_seq, o.commune_code, o.status, o.note,
                       o.recorded_by.username, o.recorded_at)


def current_outcomes(session: Session, version_id: int) -> dict[tuple[str, int], OutcomeInfo]:
    """The latest outcome of each stop of a version, by ``(vehicle_id, stop_seq)``."""
    rows = session.scalars(select(VisitOutcome).where(VisitOutcome.version_id == version_id)
                           .order_by(VisitOutcome.recorded_at, VisitOutcome.id))
    return {(o.vehicle_id, o.stop_seq): _outcome_info(o) for o in rows}

