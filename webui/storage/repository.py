"""What the web UI reads and writes in its database, one function per operation.

Each function takes the :class:`~sqlalchemy.orm.Session` of the caller's unit of work
(``with db.begin() as session:``) and never commits: the caller's block commits all of it or,
if anything raises, none of it. Results that leave the session are small frozen dataclasses.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from planner.errors import PlannerError
from planner.plan import Plan, plan_from_dict
from webui.storage.db import Database
from webui.storage.errors import (
    DuplicateError,
    InvalidRecordError,
    RecordNotFoundError,
)
from webui.storage.models import (
    OUTCOME_STATUSES,
    ROLES,
    Closure,
    LibraryEdit,
    PlanRecord,
    PlanVersion,
    ScenarioRecord,
    User,
    VisitOutcome,
    utcnow,
)

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8
DEFAULT_HASH_METHOD = "scrypt"
GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon")


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash checked when a user name is unknown, so that a wrong name takes as long as a
    wrong password (the time does not tell which names exist)."""
    return generate_password_hash("not-a-password", method=method)


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


# --- users ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: str
    active: bool
    created_at: dt.datetime


def _user_info(user: User) -> UserInfo:
    return UserInfo(user.id, user.username, user.role, user.active, user.created_at)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRecordError(f"the password has {len(password)} characters; use at "
                                 f"least {MIN_PASSWORD_LENGTH}")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidRecordError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")


def create_user(session: Session, *, username: str, password: str, role: str,
                active: bool = True, hash_method: str = DEFAULT_HASH_METHOD) -> UserInfo:
    """Add a user; :class:`DuplicateError` if the name is taken."""
    if not USERNAME.match(username):
        raise InvalidRecordError(f"user name {username!r}: use 1-64 letters, digits and . _ @ -,"
                                 " starting with a letter or digit")
    _check_role(role)
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DuplicateError(f"user {username!r} exists already")
    user = User(username=username, role=role, active=active,
                password_hash=generate_password_hash(password, method=hash_method))
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DuplicateError(f"user {username!r} exists already") from None
    return _user_info(user)


def _user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise RecordNotFoundError(f"no user {username!r}")
    return user


def set_password(session: Session, username: str, password: str, *,
                 hash_method: str = DEFAULT_HASH_METHOD) -> UserInfo:
    _check_password(password)
    user = _user_named(session, username)
    user.password_hash = generate_password_hash(password, method=hash_method)
    return _user_info(user)


def update_user(session: Session, username: str, *, role: str | None = None,
                active: bool | None = None) -> UserInfo:
    """Change a user's role or switch them off (users are never deleted: their names stay
    on what they published and recorded)."""
    user = _user_named(session, username)
    if role is not None:
        _check_role(role)
        user.role = role
    if active is not None:
        user.active = active
    return _user_info(user)


def get_user(session: Session, user_id: int) -> UserInfo | None:
    user = session.get(User, user_id)
    return _user_info(user) if user is not None else None


def authenticate(session: Session, username: str, password: str, *,
                 hash_method: str = DEFAULT_HASH_METHOD) -> UserInfo | None:
    """The active user with this name and password, else ``None``."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_dummy_hash(hash_method), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return _user_info(user)


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count(User.id))) or 0)


def list_users(session: Session) -> list[UserInfo]:
    return [_user_info(u) for u in session.scalars(select(User).order_by(User.username))]


# --- scenarios -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ScenarioInfo:
    id: int
    name: str
    yaml_text: str
    digest: str
    updated_at: dt.datetime


def save_scenario(session: Session, *, name: str, yaml_text: str,
                  user_id: int | None) -> ScenarioInfo:
    """Store the YAML of scenario ``name``, adding it or replacing its text."""
    record = session.scalar(select(ScenarioRecord).where(ScenarioRecord.name == name))
    now = utcnow()
    if record is None:
        record = ScenarioRecord(name=name, created_by_id=user_id, created_at=now,
                                yaml_text="", digest="")
        session.add(record)
    record.yaml_text = yaml_text
    record.digest = sha256_hex(yaml_text)
    record.updated_by_id = user_id
    record.updated_at = now
    session.flush()
    return ScenarioInfo(record.id, record.name, record.yaml_text, record.digest,
                        record.updated_at)


def get_scenario(session: Session, name: str) -> ScenarioInfo:
    record = session.scalar(select(ScenarioRecord).where(ScenarioRecord.name == name))
    if record is None:
        raise RecordNotFoundError(f"no stored scenario {name!r}")
    return ScenarioInfo(record.id, record.name, record.yaml_text, record.digest,
                        record.updated_at)


# --- plans (run folders) -------------------------------------------------------------------

def parse_plan_text(text: str, *, file: str) -> Plan:
    """The plan in ``text`` (a ``plan.json``); :class:`InvalidRecordError` if it is none."""
    try:
        return plan_from_dict(json.loads(text), file=file)
    except ValueError as exc:  # JSON errors
        raise InvalidRecordError(f"{file}: not valid JSON ({exc})") from None
    except PlannerError as exc:
        raise InvalidRecordError(str(exc)) from None


def _provenance_columns(plan: Plan) -> dict[str, Any]:
    pv = plan.provenance

    def opt(key: str, kind: type) -> Any:
        value = pv.get(key)
        try:
            return kind(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    return {"scenario_name": plan.scenario_name[:128],
            "scenario_title": plan.scenario_title[:255], "network": plan.network[:128],
            "plan_created_at": plan.created_at[:40], "seed": opt("seed", int),
            "time_limit_s": opt("time_limit_s", float),
            "solver_status": (opt("solver_status", str) or "")[:64] or None,
            "objective": opt("objective", int),
            "scenario_digest": (opt("scenario_digest", str) or "")[:64] or None,
            "data_digest": (opt("data_digest", str) or "")[:64] or None}


def register_run(session: Session, *, name: str, folder: str | None, plan_text: str,
                 source_job: str | None = None) -> int:
    """Record run ``name`` (its folder and the digest and provenance of its ``plan.json``);
    idempotent: a known run is updated only if its plan changed. Returns the plan's id."""
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
    transactions already run one at a time, see :mod:`webui.storage.db`)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                        {"key": f"plan_versions:{series}"})


def publish_plan(session: Session, *, plan_name: str, user_id: int, plan_text: str,
                 routes_geojson: bytes | None = None, scenario_json: str | None = None,
                 folder: str | None = None, note: str = "") -> VersionInfo:
    """Publish ``plan_text`` (the ``plan.json`` of run ``plan_name``) as the next version
    of its scenario's series; the run is registered (or its record updated) first."""
    plan = parse_plan_text(plan_text, file=f"{folder or plan_name}/plan.json")
    series = plan.scenario_name[:128]
    _lock_series(session, series)
    plan_id = register_run(session, name=plan_name, folder=folder, plan_text=plan_text)
    last = session.scalar(select(func.max(PlanVersion.number))
                          .where(PlanVersion.series == series))
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
    routes = (gzip.decompress(version.routes_geojson_gz)
              if version.routes_geojson_gz is not None else None)
    return VersionContent(_version_info(version), version.plan_json, routes,
                          version.scenario_json)


def latest_version(session: Session) -> VersionInfo | None:
    """The most recently published version of any series (the dashboard's plan)."""
    version = session.scalar(_versions_query().order_by(PlanVersion.published_at.desc(),
                                                        PlanVersion.id.desc()).limit(1))
    return _version_info(version) if version is not None else None


def versions_of_plan(session: Session, plan_name: str) -> list[VersionInfo]:
    """The versions published from run ``plan_name``, newest first."""
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
    visit = next((v for r in plan.routes if r.vehicle_id == vehicle_id for v in r.visits
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


# --- closures ------------------------------------------------------------------------------

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
        data = json.loads(geometry) if isinstance(geometry, str) else geometry
    except ValueError as exc:
        raise InvalidRecordError(f"closure geometry is not valid JSON ({exc})") from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in GEOMETRY_TYPES \
            or not isinstance(data.get("coordinates"), list) or not data["coordinates"]:
        raise InvalidRecordError("closure geometry must be a GeoJSON geometry (or Feature) of "
                                 f"type {', '.join(GEOMETRY_TYPES)} with coordinates")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def add_closure(session: Session, *, name: str, geometry: dict[str, Any] | str,
                from_date: dt.date, to_date: dt.date, user_id: int,
                note: str = "") -> ClosureInfo:
    if not name.strip():
        raise InvalidRecordError("a closure needs a name (the road or place)")
    if to_date < from_date:
        raise InvalidRecordError(f"closure {name!r} ends ({to_date}) before it starts "
                                 f"({from_date})")
    closure = Closure(name=name.strip(), geometry_geojson=_geometry_text(geometry),
                      from_date=from_date, to_date=to_date, note=note, created_by_id=user_id,
                      created_at=utcnow())
    session.add(closure)
    session.flush()
    return _closure_info(closure)


def _closure_info(c: Closure) -> ClosureInfo:
    return ClosureInfo(c.id, c.name, json.loads(c.geometry_geojson), c.from_date, c.to_date,
                       c.note)


def list_closures(session: Session, *, on: dt.date | None = None) -> list[ClosureInfo]:
    """Every closure, or those in force on ``on``."""
    query = select(Closure).order_by(Closure.from_date, Closure.id)
    if on is not None:
        query = query.where(Closure.from_date <= on, Closure.to_date >= on)
    return [_closure_info(c) for c in session.scalars(query)]


# --- audit of library edits ----------------------------------------------------------------

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
