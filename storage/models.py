"""The tables of the planner's database, as typed SQLAlchemy 2 declarative models.

The schema is created and changed only by the Alembic migrations in ``migrations/``; a test
checks that they and these models agree. Times are stored in UTC (:class:`UTCDateTime`).
Published plan versions are immutable: the ORM refuses to update or delete one
(:func:`_refuse_changes`) and the migration adds database triggers that do the same for any
other client.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from storage.errors import ImmutableError

ROLES: tuple[str, ...] = ("dispatcher", "planner", "driver", "viewer")
OUTCOME_STATUSES: tuple[str, ...] = ("done", "failed")
JOB_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed", "cancelled")
ACTIVE_JOB_STATUSES: tuple[str, ...] = ("queued", "running")
SCENARIO_SOURCES: tuple[str, ...] = ("file", "database")
PLACE_KINDS: tuple[str, ...] = ("library", "commune", "vehicle")  # planner.batchmoves
MOVE_KINDS: tuple[str, ...] = ("trip", "import", "correction", "missing")
SWEEP_KINDS: tuple[str, ...] = ("sweep", "fleet", "region")  # planner.sweep, .fleet, .region
FEED_KINDS: tuple[str, ...] = ("commune", "vehicle")  # storage.calendar

# Constraint names that are the same on every database, so migrations can name them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone: values read
    back from it are marked UTC; values written are converted to UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None,
                           dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give times with a timezone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None,
                             dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(Base):
    """A person who logs in; ``role`` decides what they may do in the web UI."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ScenarioRecord(Base):
    """A scenario's YAML text as uploaded or edited in the UI, with who changed it last."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    yaml_text: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PlanRecord(Base):
    """A plan the UI knows: a plan folder of ``RUNS_DIR`` (``planner solve --out`` or a solve
    job) registered with the digest of its ``plan.json`` and its provenance."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    folder: Mapped[str | None] = mapped_column(String(1024))
    digest: Mapped[str] = mapped_column(String(64))
    scenario_name: Mapped[str] = mapped_column(String(128), index=True)
    scenario_title: Mapped[str] = mapped_column(String(255), default="")
    network: Mapped[str] = mapped_column(String(128), default="")
    plan_created_at: Mapped[str] = mapped_column(String(40), default="")
    seed: Mapped[int | None] = mapped_column(Integer)
    time_limit_s: Mapped[float | None]
    solver_status: Mapped[str | None] = mapped_column(String(64))
    objective: Mapped[int | None] = mapped_column(BigInteger)
    scenario_digest: Mapped[str | None] = mapped_column(String(64))
    data_digest: Mapped[str | None] = mapped_column(String(64))
    source_job: Mapped[str | None] = mapped_column(String(32))
    registered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[PlanVersion]] = relationship(back_populates="plan")


class PlanVersion(Base):
    """Version ``number`` of the published plans of one ``series`` (the scenario name): a
    frozen copy of the plan (and its road geometry and resolved scenario) as it was when
    ``published_by`` published it. Never updated; publishing again makes ``number + 1``."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("series", "number"),
                      CheckConstraint("number >= 1", name="number_positive"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="RESTRICT"),
                                         index=True)
    series: Mapped[str] = mapped_column(String(128))
    number: Mapped[int] = mapped_column(Integer)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    plan_json: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    routes_geojson_gz: Mapped[bytes | None] = mapped_column(LargeBinary)
    scenario_json: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[PlanRecord] = relationship(back_populates="versions")
    published_by: Mapped[User] = relationship()


class VisitOutcome(Base):
    """What happened at one stop of a published version: done or failed, with a note;
    the latest record of a stop is its current outcome, earlier ones stay as history."""

    __tablename__ = "visit_outcomes"
    __table_args__ = (CheckConstraint(_in("status", OUTCOME_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="RESTRICT"), index=True)
    vehicle_id: Mapped[str] = mapped_column(String(64))
    stop_seq: Mapped[int] = mapped_column(Integer)
    commune_code: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    recorded_by: Mapped[User] = relationship()


class Closure(Base):
    """A road closure entered in the UI: a GeoJSON geometry (the road picked or the area
    drawn) closed from ``from_date`` to ``to_date`` inclusive."""

    __tablename__ = "closures"
    __table_args__ = (CheckConstraint("to_date >= from_date", name="dates_ordered"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    geometry_geojson: Mapped[str] = mapped_column(Text)
    from_date: Mapped[dt.date] = mapped_column(Date)
    to_date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LibraryEdit(Base):
    """One changed field of a commune library (location, contact, hours...): old and new
    value as text, who and when. The audit trail of the communes page."""

    __tablename__ = "library_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(16), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    edited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    edited_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LibraryOverride(Base):
    """The current edited values of a commune library; ``NULL`` keeps the value of the
    dataset (location) or of the scenario (contact, time windows, lodging). Every change is
    also a row of ``library_edits``. Opening hours are ``HH:MM-HH:MM`` intervals separated
    by commas, market days either weekdays (``wed,sat``) or every N days from an anchor."""

    __tablename__ = "library_overrides"
    __table_args__ = (
        CheckConstraint("(lon IS NULL) = (lat IS NULL)", name="location_complete"),
        CheckConstraint("(market_every_days IS NULL) = (market_anchor IS NULL)",
                        name="market_cycle_complete"),
        CheckConstraint("market_every_days IS NULL OR market_every_days >= 1",
                        name="market_every_days_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(16), unique=True)
    lon: Mapped[float | None]
    lat: Mapped[float | None]
    contact: Mapped[str | None] = mapped_column(Text)
    opening_hours: Mapped[str | None] = mapped_column(String(255))
    market_weekdays: Mapped[str | None] = mapped_column(String(64))
    market_every_days: Mapped[int | None] = mapped_column(Integer)
    market_anchor: Mapped[dt.date | None] = mapped_column(Date)
    lodging: Mapped[bool | None] = mapped_column(Boolean)
    address: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    updated_by: Mapped[User] = relationship()


class JobRecord(Base):
    """A background solve, the one record of it (see :mod:`storage.jobs`): what it solves,
    who started it, the process id of its worker, and what that worker reports: status,
    stage, the improving solutions (``progress_json``, ``[[elapsed_s, objective], ...]``),
    error (in English, and as a catalogue key with its values when it has one), the end of
    its log and the plan it made. Kept when the job folders are cleaned."""

    __tablename__ = "jobs"
    __table_args__ = (CheckConstraint(_in("status", JOB_STATUSES), name="status"),
                      CheckConstraint(_in("scenario_source", SCENARIO_SOURCES),
                                      name="scenario_source"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32), unique=True)
    scenario_name: Mapped[str] = mapped_column(String(128), index=True)
    scenario_source: Mapped[str] = mapped_column(String(16), default="file")
    time_limit_s: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(32), default="")
    progress_json: Mapped[str] = mapped_column(Text, default="[]")
    best_objective: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    # the error as a catalogue key and its values (``{"name": ...}``), when the worker has one
    error_key: Mapped[str | None] = mapped_column(String(64))
    error_values_json: Mapped[str | None] = mapped_column(Text)
    log_tail: Mapped[str] = mapped_column(Text, default="")
    plan_name: Mapped[str | None] = mapped_column(String(128))
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    started_by: Mapped[User | None] = relationship()


class LoginFailure(Base):
    """A failed login: the name tried and the client's address, kept for a while so that
    guessing passwords is slowed down (see :func:`storage.users.login_blocked`)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class UserSession(Base):
    """A logged-in session of the web UI: the cookie holds a random token, the database its
    digest (``token_hash``), so that logging out, a password change or switching the user off
    ends the session on the server (see :mod:`storage.sessions`)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    revoked_at: Mapped[dt.datetime | None]


class BatchRecord(Base):
    """A book batch of the registry (see :mod:`storage.batches`); languages and audiences are
    codes separated by ``;`` as in the registry tables."""

    __tablename__ = "batches"
    __table_args__ = (CheckConstraint("crates >= 1", name="crates_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(32), unique=True)
    crates: Mapped[int] = mapped_column(Integer)
    languages: Mapped[str] = mapped_column(String(255))
    audiences: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(2000), default="")
    owner: Mapped[str] = mapped_column(String(2000), default="")
    books: Mapped[int | None] = mapped_column(Integer)
    condition: Mapped[str] = mapped_column(String(2000), default="")
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BatchTitle(Base):
    """One title of a batch's book list (ISBN, title, author), in the list's order."""

    __tablename__ = "batch_titles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_pk: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int] = mapped_column(Integer)
    isbn: Mapped[str] = mapped_column(String(32), default="")
    title: Mapped[str] = mapped_column(String(2000))
    author: Mapped[str] = mapped_column(String(2000), default="")


class BatchMove(Base):
    """A batch going from one place to another (a library, a commune, a vehicle), when, and
    what recorded it: a trip's outcome (with its plan version, vehicle and stop), an imported
    history, a correction; a ``missing`` row reports the batch not found where the record has
    it (no move). Rows are only added, never changed."""

    __tablename__ = "batch_moves"
    __table_args__ = (CheckConstraint(_in("kind", MOVE_KINDS), name="kind"),
                      CheckConstraint(_in("src_kind", PLACE_KINDS), name="src_kind"),
                      CheckConstraint(_in("dst_kind", PLACE_KINDS), name="dst_kind"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_pk: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="RESTRICT"),
                                          index=True)
    kind: Mapped[str] = mapped_column(String(16))
    src_kind: Mapped[str] = mapped_column(String(8))
    src_ref: Mapped[str] = mapped_column(String(64), default="")
    dst_kind: Mapped[str] = mapped_column(String(8))
    dst_ref: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[dt.datetime] = mapped_column(index=True)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="RESTRICT"))
    vehicle_id: Mapped[str | None] = mapped_column(String(64))
    stop_seq: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    batch: Mapped[BatchRecord] = relationship()
    recorded_by: Mapped[User] = relationship()


class CommuneProfileRecord(Base):
    """What a commune library's readers read and its shelf (see
    :class:`planner.batches.CommuneProfile`); changes are also rows of ``library_edits``."""

    __tablename__ = "commune_profiles"
    __table_args__ = (CheckConstraint("shelf_crates >= 1", name="shelf_positive"),
                      CheckConstraint("batches_per_visit >= 1", name="per_visit_positive"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(16), unique=True)
    languages: Mapped[str] = mapped_column(String(255))
    audiences: Mapped[str] = mapped_column(String(255), default="")
    shelf_crates: Mapped[int] = mapped_column(Integer)
    languages_required: Mapped[bool] = mapped_column(Boolean, default=True)
    audiences_required: Mapped[bool] = mapped_column(Boolean, default=False)
    batches_per_visit: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SweepRecord(Base):
    """A sweep of scenario variants as it ran (:mod:`storage.sweeps`): its kind (a sweep
    file, a fleet sizing, the region), the sweep file or settings (``spec_json``), the engine
    and how long it took, and for a fleet sizing its answer (``summary_json``)."""

    __tablename__ = "sweeps"
    __table_args__ = (CheckConstraint(_in("kind", SWEEP_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(2000), default="")
    engine: Mapped[str] = mapped_column(String(255))
    workers: Mapped[int] = mapped_column(Integer)
    wall_s: Mapped[float]
    variants: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    spec_json: Mapped[str] = mapped_column(Text, default="{}")
    summary_json: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SweepResultRecord(Base):
    """One variant of a sweep: its key, status and result (``planner.sweep.VariantResult``
    as JSON: KPIs, time, peak memory, the error of a failed one)."""

    __tablename__ = "sweep_results"
    __table_args__ = (UniqueConstraint("sweep_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sweep_id: Mapped[int] = mapped_column(ForeignKey("sweeps.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    result_json: Mapped[str] = mapped_column(Text)
class CalendarToken(Base):
    """A revocable address of a calendar feed (ICS) of a commune's or a vehicle's published
    visits (see :mod:`storage.calendar`): calendar apps cannot log in, so the token in the
    URL is the key; a revoked token no longer opens the feed."""

    __tablename__ = "calendar_tokens"
    __table_args__ = (CheckConstraint(_in("kind", FEED_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(64), index=True)
    note: Mapped[str] = mapped_column(String(255), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None]

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
class FleetVehicle(Base):
    """A vehicle of the library's fleet (see :mod:`storage.fleet`), under the id scenarios
    and plans give it (a ``count:`` copy's numbered id, ``xe-tv-1``); retired vehicles stay
    (``active`` false) so that what was recorded for them keeps its name."""

    __tablename__ = "fleet_vehicles"
    __table_args__ = (CheckConstraint("capacity_crates IS NULL OR capacity_crates >= 1",
                                      name="capacity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    profile: Mapped[str] = mapped_column(String(32), default="")
    depot_id: Mapped[str] = mapped_column(String(64), default="")
    plate: Mapped[str] = mapped_column(String(32), default="")
    capacity_crates: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UserVehicle(Base):
    """A user tied to a vehicle of the fleet: the vehicles whose published trips the user
    sees on "my trip" and may record outcomes for (a driver; a crew may share a vehicle)."""

    __tablename__ = "user_vehicles"
    __table_args__ = (UniqueConstraint("user_id", "vehicle_pk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    vehicle_pk: Mapped[int] = mapped_column(ForeignKey("fleet_vehicles.id", ondelete="CASCADE"),
                                            index=True)


@event.listens_for(BatchMove, "before_update")
@event.listens_for(BatchMove, "before_delete")
def _refuse_move_changes(mapper: Any, connection: Any, target: BatchMove) -> None:
    raise ImmutableError("a recorded batch move cannot be changed; record a correction move")


@event.listens_for(PlanVersion, "before_update")
@event.listens_for(PlanVersion, "before_delete")
def _refuse_changes(mapper: Any, connection: Any, target: PlanVersion) -> None:
    raise ImmutableError(f"plan version {target.series} v{target.number} is published and "
                         "cannot be changed; publish a new version instead")
