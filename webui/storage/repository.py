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

from sqlalchemy import Select, delete, func, select, text
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
    JOB_STATUSES,
    OUTCOME_STATUSES,
    ROLES,
    SCENARIO_SOURCES,
    Closure,
    JobRecord,
    LibraryEdit,
    LibraryOverride,
    LoginFailure,
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


def login_blocked(session: Session, username: str, address: str, *, max_per_name: int,
                  max_per_address: int, window: dt.timedelta,
                  now: dt.datetime | None = None) -> dt.datetime | None:
    """When logins for ``username`` or from ``address`` may be tried again, if that name failed
    ``max_per_name`` times, or that address ``max_per_address`` times, within ``window``;
    ``None`` when neither did."""
    now = now or utcnow()
    until = None
    for column, value, limit in ((LoginFailure.username, username[:64], max_per_name),
                                 (LoginFailure.address, address[:64], max_per_address)):
        recent = session.scalars(
            select(LoginFailure.at).where(column == value, LoginFailure.at > now - window)
            .order_by(LoginFailure.at.desc()).limit(limit)).all()
        if len(recent) >= limit:  # blocked until the oldest of the last ``limit`` expires
            free_at = recent[-1] + window
            until = free_at if until is None else max(until, free_at)
    return until


def record_login_failure(session: Session, username: str, address: str, *,
                         now: dt.datetime | None = None) -> None:
    """Note a failed login; failures older than a day are dropped."""
    now = now or utcnow()
    session.add(LoginFailure(username=username[:64], address=address[:64], at=now))
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - dt.timedelta(days=1)))


def clear_login_failures(session: Session, username: str) -> None:
    """Forget the failed logins of a name (after it logged in)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == username[:64]))


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
    created_at: dt.datetime | None = None
    created_by: str | None = None
    updated_by: str | None = None


def _usernames(session: Session, *ids: int | None) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def _scenario_info(session: Session, record: ScenarioRecord,
                   names: dict[int, str] | None = None) -> ScenarioInfo:
    if names is None:
        names = _usernames(session, record.created_by_id, record.updated_by_id)
    return ScenarioInfo(record.id, record.name, record.yaml_text, record.digest,
                        record.updated_at, record.created_at,
                        names.get(record.created_by_id) if record.created_by_id else None,
                        names.get(record.updated_by_id) if record.updated_by_id else None)


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
    return _scenario_info(session, record)


def get_scenario(session: Session, name: str) -> ScenarioInfo:
    record = session.scalar(select(ScenarioRecord).where(ScenarioRecord.name == name))
    if record is None:
        raise RecordNotFoundError(f"no stored scenario {name!r}")
    return _scenario_info(session, record)


def list_scenarios(session: Session) -> list[ScenarioInfo]:
    """Every stored scenario, by name, with who made and last changed it."""
    records = list(session.scalars(select(ScenarioRecord).order_by(ScenarioRecord.name)))
    names = _usernames(session, *(r.created_by_id for r in records),
                       *(r.updated_by_id for r in records))
    return [_scenario_info(session, r, names) for r in records]


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
    return {"scenario_name": plan.scenario_name[:128],
            "scenario_title": plan.scenario_title[:255], "network": plan.network[:128],
            "plan_created_at": plan.created_at[:40], "seed": pv.seed,
            "time_limit_s": pv.time_limit_s,
            "solver_status": (pv.solver_status or "")[:64] or None,
            "objective": pv.objective,
            "scenario_digest": (pv.scenario_digest or "")[:64] or None,
            "data_digest": (pv.data_digest or "")[:64] or None}


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


# --- current values of commune libraries ---------------------------------------------------

WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
# The fields of a library as the audit trail (library_edits.field) names them.
LIBRARY_FIELDS: tuple[str, ...] = ("location", "contact", "opening_hours", "market_days",
                                   "lodging")


@dataclass(frozen=True)
class LibraryValues:
    """The edited values of one commune library; ``None`` leaves a value as the dataset
    (location) or the scenario (contact, time windows, lodging) has it.

    ``opening_hours`` are ``(start, end)`` clock times ``"HH:MM"`` on every day the library
    is served; market days restrict them to some weekdays or to every ``market_every_days``
    days from ``market_anchor`` (a market that drifts through the week)."""

    lon: float | None = None
    lat: float | None = None
    contact: str | None = None
    opening_hours: tuple[tuple[str, str], ...] | None = None
    market_weekdays: tuple[str, ...] | None = None
    market_every_days: int | None = None
    market_anchor: dt.date | None = None
    lodging: bool | None = None

    def problems(self) -> list[str]:
        """What is wrong with these values (empty when they can be stored)."""
        out = []
        if (self.lon is None) != (self.lat is None):
            out.append("give both lon and lat of the location, or neither")
        if self.lon is not None and not -180 <= self.lon <= 180:
            out.append(f"longitude {self.lon} is outside -180..180")
        if self.lat is not None and not -90 <= self.lat <= 90:
            out.append(f"latitude {self.lat} is outside -90..90")
        for start, end in self.opening_hours or ():
            if not (CLOCK.match(start) and CLOCK.match(end)):
                out.append(f"opening hours {start}-{end}: write clock times as HH:MM")
            elif end <= start:
                out.append(f"opening hours {start}-{end}: they close before they open")
        if self.opening_hours is not None and not self.opening_hours:
            out.append("opening hours: give at least one interval, or none to keep the "
                       "scenario's")
        bad = [d for d in self.market_weekdays or () if d not in WEEKDAY_KEYS]
        if bad:
            out.append(f"market days {', '.join(bad)}: use {', '.join(WEEKDAY_KEYS)}")
        if self.market_weekdays is not None and not self.market_weekdays:
            out.append("market days: tick at least one weekday")
        if (self.market_every_days is None) != (self.market_anchor is None):
            out.append("a market every N days needs both N and a date it falls on")
        if self.market_every_days is not None and not 1 <= self.market_every_days <= 366:
            out.append(f"a market every {self.market_every_days} days: use 1 to 366")
        if self.market_weekdays is not None and self.market_every_days is not None:
            out.append("market days are either weekdays or every N days, not both")
        return out

    def texts(self) -> dict[str, str | None]:
        """Each field of :data:`LIBRARY_FIELDS` as the text the audit trail keeps."""
        market = None
        if self.market_weekdays is not None:
            market = ",".join(self.market_weekdays)
        elif self.market_every_days is not None and self.market_anchor is not None:
            market = f"every {self.market_every_days} days from {self.market_anchor.isoformat()}"
        return {
            "location": (f"{self.lat:.6f}, {self.lon:.6f}"
                         if self.lon is not None and self.lat is not None else None),
            "contact": self.contact,
            "opening_hours": (",".join(f"{a}-{b}" for a, b in self.opening_hours)
                              if self.opening_hours is not None else None),
            "market_days": market,
            "lodging": None if self.lodging is None else ("yes" if self.lodging else "no"),
        }


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
                         market_anchor=o.market_anchor, lodging=o.lodging)


def _override_info(o: LibraryOverride) -> LibraryOverrideInfo:
    return LibraryOverrideInfo(o.commune_code, _override_values(o), o.updated_by.username,
                               o.updated_at)


def save_library_values(session: Session, *, commune_code: str, values: LibraryValues,
                        user_id: int) -> int:
    """Make ``values`` the current values of the library of ``commune_code`` and record
    each field that changed (old and new text, who, when) in ``library_edits``; returns how
    many fields changed. :class:`InvalidRecordError` names what cannot be stored."""
    problems = values.problems()
    if problems:
        raise InvalidRecordError(f"library of commune {commune_code}: " + "; ".join(problems))
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


# --- solve jobs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class JobState:
    """A background solve as its job folder describes it (see :mod:`webui.jobstore`)."""

    job_id: str
    scenario_name: str
    status: str
    stage: str
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    progress: tuple[tuple[float, int], ...] = ()
    error: str | None = None
    log_tail: str = ""
    run_name: str | None = None


@dataclass(frozen=True)
class JobInfo:
    """A stored job: its last known state, where its scenario came from and who started it."""

    state: JobState
    scenario_source: str
    time_limit_s: float | None
    started_by: str | None
    updated_at: dt.datetime


def _job_state(r: JobRecord) -> JobState:
    try:
        progress = tuple((float(a), int(b)) for a, b in json.loads(r.progress_json))
    except (ValueError, TypeError):
        progress = ()
    return JobState(r.job_id, r.scenario_name, r.status, r.stage, r.created_at, r.started_at,
                    r.finished_at, progress, r.error, r.log_tail, r.run_name)


def _job_info(r: JobRecord) -> JobInfo:
    return JobInfo(_job_state(r), r.scenario_source, r.time_limit_s,
                   r.started_by.username if r.started_by is not None else None, r.updated_at)


def record_job(session: Session, state: JobState, *, scenario_source: str | None = None,
               time_limit_s: float | None = None, started_by_id: int | None = None,
               _retry: bool = True) -> bool:
    """Store the state of a job (added, or updated if it changed); the scenario source,
    time limit and starting user are kept once known. Returns whether anything was written."""
    if state.status not in JOB_STATUSES:
        raise InvalidRecordError(f"job {state.job_id}: status {state.status!r}; use one of "
                                 f"{', '.join(JOB_STATUSES)}")
    if scenario_source is not None and scenario_source not in SCENARIO_SOURCES:
        raise InvalidRecordError(f"job {state.job_id}: scenario source {scenario_source!r}; "
                                 f"use one of {', '.join(SCENARIO_SOURCES)}")
    record = session.scalar(select(JobRecord).where(JobRecord.job_id == state.job_id))
    if record is not None and _job_state(record) == state and \
            (scenario_source is None or record.scenario_source == scenario_source) and \
            (started_by_id is None or record.started_by_id is not None) and \
            (time_limit_s is None or record.time_limit_s is not None):
        return False
    if record is None:
        record = JobRecord(job_id=state.job_id, scenario_source=scenario_source or "file")
        session.add(record)
    elif scenario_source is not None:
        record.scenario_source = scenario_source
    record.scenario_name = state.scenario_name[:128]
    record.status, record.stage = state.status, state.stage[:32]
    record.created_at, record.started_at, record.finished_at = (
        state.created_at, state.started_at, state.finished_at)
    record.progress_json = json.dumps([[a, b] for a, b in state.progress])
    record.best_objective = min((b for _, b in state.progress), default=None)
    record.error, record.log_tail = state.error, state.log_tail
    record.run_name = state.run_name[:128] if state.run_name else None
    if time_limit_s is not None:
        record.time_limit_s = time_limit_s
    if started_by_id is not None and record.started_by_id is None:
        record.started_by_id = started_by_id
    record.updated_at = utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        if not _retry:
            raise
        if record in session:
            session.expunge(record)
        # another request added this job at the same moment: update that record instead
        return record_job(session, state, scenario_source=scenario_source,
                          time_limit_s=time_limit_s, started_by_id=started_by_id,
                          _retry=False)
    return True


def get_job(session: Session, job_id: str) -> JobInfo | None:
    record = session.scalar(select(JobRecord).where(JobRecord.job_id == job_id))
    return _job_info(record) if record is not None else None


def list_jobs(session: Session, *, limit: int = 50) -> list[JobInfo]:
    """The most recent jobs, newest first."""
    query = select(JobRecord).order_by(JobRecord.created_at.desc(), JobRecord.id.desc())
    return [_job_info(r) for r in session.scalars(query.limit(limit))]
