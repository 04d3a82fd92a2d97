"""The library's fleet: its vehicles, kept under the ids its scenarios give them (a
``count: N`` entry's copies under their numbered ids, :meth:`planner.scenario.Vehicle.units`),
and the users tied to each vehicle (its drivers and crew).

A vehicle is never deleted, only retired (``active`` false): outcomes and batch moves keep
its id. Like every module of :mod:`storage`, each function takes the caller's session and
never commits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from planner.scenario import TRIP_SUFFIX, Scenario
from storage.errors import InvalidRecordError, RecordNotFoundError
from storage.models import FleetVehicle, User, UserVehicle, utcnow

VEHICLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_NAME_CHARS = 255
MAX_PLATE_CHARS = 32
MAX_NOTE_CHARS = 2000
MAX_CAPACITY_CRATES = 10_000


class FleetFieldError(InvalidRecordError):
    """A value of a fleet vehicle that cannot be stored: which ``field``, which ``value``
    (the web page words it in its language; the message is the command line's)."""

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(message)
        self.field, self.value = field, value


@dataclass(frozen=True)
class VehicleInfo:
    vehicle_id: str
    name: str
    profile: str
    depot_id: str
    plate: str
    capacity_crates: int | None
    note: str
    active: bool
    updated_at: dt.datetime
    users: tuple[str, ...] = ()  # user names tied to it


@dataclass(frozen=True)
class ScenarioVehicle:
    """A vehicle a scenario names (one copy of a ``count:`` entry), as the fleet would keep
    it."""

    vehicle_id: str
    name: str
    profile: str
    depot_id: str
    capacity_crates: int


def scenario_vehicles(scenario: Scenario) -> tuple[ScenarioVehicle, ...]:
    """The vehicles ``scenario`` refers to, one per copy, under the ids its plans use."""
    return tuple(ScenarioVehicle(unit_id, name, v.profile, v.depot, v.capacity_crates)
                 for v in scenario.vehicles for unit_id, name in v.units())


@dataclass(frozen=True)
class FleetGaps:
    """The vehicles a scenario names that the fleet lacks (``missing``) or keeps only as
    retired (``retired``): the scenario still solves, its plans then name vehicles no user
    can be tied to."""

    missing: tuple[ScenarioVehicle, ...]
    retired: tuple[ScenarioVehicle, ...]

    def __bool__(self) -> bool:
        return bool(self.missing or self.retired)


def fleet_gaps(session: Session, scenario: Scenario) -> FleetGaps:
    """Which of the vehicles ``scenario`` names (:func:`scenario_vehicles`) the fleet does
    not hold, or holds retired."""
    named = scenario_vehicles(scenario)
    rows = {vehicle_id: active for vehicle_id, active in session.execute(
        select(FleetVehicle.vehicle_id, FleetVehicle.active)
        .where(FleetVehicle.vehicle_id.in_([v.vehicle_id for v in named])))}
    return FleetGaps(missing=tuple(v for v in named if v.vehicle_id not in rows),
                     retired=tuple(v for v in named if rows.get(v.vehicle_id) is False))


def check_vehicle_id(vehicle_id: str, field: str = "vehicle_id") -> str:
    """``vehicle_id`` if it can name a fleet vehicle, else :class:`FleetFieldError`."""
    if not VEHICLE_ID.match(vehicle_id):
        raise FleetFieldError(
            field, vehicle_id[:80], f"{field} {vehicle_id[:80]!r}: use 1-64 letters, digits "
            "and . _ -, starting with a letter or digit, as in the scenario (xe-tv-01)")
    if TRIP_SUFFIX.search(vehicle_id):
        raise FleetFieldError(
            field, vehicle_id, f"{field} {vehicle_id!r} ends like a trip id (-tripN); name "
            "the vehicle, not one of its trips")
    return vehicle_id


def _clean(value: str, field: str, limit: int, *, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise FleetFieldError(field, value, f"the vehicle's {field} is empty; give one")
    if len(value) > limit:
        raise FleetFieldError(field, value[:40] + "…", f"the vehicle's {field} has "
                              f"{len(value)} characters; use at most {limit}")
    return value


def save_vehicle(session: Session, *, vehicle_id: str, name: str, user_id: int,
                 profile: str = "", depot_id: str = "", plate: str = "",
                 capacity_crates: int | None = None, note: str = "",
                 active: bool = True) -> VehicleInfo:
    """Add vehicle ``vehicle_id`` to the fleet, or change it if it is there."""
    check_vehicle_id(vehicle_id)
    name = _clean(name, "name", MAX_NAME_CHARS, required=True)
    if capacity_crates is not None and not 1 <= capacity_crates <= MAX_CAPACITY_CRATES:
        raise FleetFieldError("capacity_crates", capacity_crates,
                              f"capacity of {capacity_crates} crates: give 1 to "
                              f"{MAX_CAPACITY_CRATES}, or leave it empty")
    if depot_id:
        check_vehicle_id(depot_id, "depot_id")  # a library id has the same printable form
    row = session.scalar(select(FleetVehicle).where(FleetVehicle.vehicle_id == vehicle_id))
    if row is None:
        row = FleetVehicle(vehicle_id=vehicle_id)
        session.add(row)
    row.name = name
    row.profile = _clean(profile, "profile", 32)
    row.depot_id = depot_id
    row.plate = _clean(plate, "plate", MAX_PLATE_CHARS)
    row.capacity_crates = capacity_crates
    row.note = _clean(note, "note", MAX_NOTE_CHARS)
    row.active = active
    row.updated_by_id = user_id
    row.updated_at = utcnow()
    session.flush()
    return _info(row, ())


def _info(row: FleetVehicle, users: tuple[str, ...]) -> VehicleInfo:
    return VehicleInfo(row.vehicle_id, row.name, row.profile, row.depot_id, row.plate,
                       row.capacity_crates, row.note, row.active, row.updated_at, users)


def _users_by_vehicle(session: Session) -> dict[int, tuple[str, ...]]:
    rows = session.execute(
        select(UserVehicle.vehicle_pk, User.username).join(User, User.id == UserVehicle.user_id)
        .order_by(User.username))
    out: dict[int, list[str]] = {}
    for pk, name in rows:
        out.setdefault(pk, []).append(name)
    return {pk: tuple(names) for pk, names in out.items()}


def list_vehicles(session: Session, *, active_only: bool = False) -> list[VehicleInfo]:
    """The fleet, by id, each with the users tied to it."""
    query = select(FleetVehicle).order_by(FleetVehicle.vehicle_id)
    if active_only:
        query = query.where(FleetVehicle.active.is_(True))
    users = _users_by_vehicle(session)
    return [_info(row, users.get(row.id, ())) for row in session.scalars(query)]


def get_vehicle(session: Session, vehicle_id: str) -> VehicleInfo:
    row = session.scalar(select(FleetVehicle).where(FleetVehicle.vehicle_id == vehicle_id))
    if row is None:
        raise RecordNotFoundError(f"no vehicle {vehicle_id!r} in the fleet")
    return _info(row, _users_by_vehicle(session).get(row.id, ()))


def user_vehicle_ids(session: Session, user_id: int) -> frozenset[str]:
    """The ids of the (active) vehicles ``user_id`` is tied to."""
    rows = session.scalars(
        select(FleetVehicle.vehicle_id).join(UserVehicle, UserVehicle.vehicle_pk == FleetVehicle.id)
        .where(UserVehicle.user_id == user_id, FleetVehicle.active.is_(True)))
    return frozenset(rows)


def vehicles_of_users(session: Session) -> dict[int, tuple[str, ...]]:
    """``user id -> ids of the vehicles tied to them`` (retired ones included), for the
    accounts page."""
    rows = session.execute(
        select(UserVehicle.user_id, FleetVehicle.vehicle_id)
        .join(FleetVehicle, FleetVehicle.id == UserVehicle.vehicle_pk)
        .order_by(FleetVehicle.vehicle_id))
    out: dict[int, list[str]] = {}
    for user_id, vehicle_id in rows:
        out.setdefault(user_id, []).append(vehicle_id)
    return {k: tuple(v) for k, v in out.items()}


def set_user_vehicles(session: Session, username: str,
                      vehicle_ids: Iterable[str]) -> tuple[str, ...]:
    """Tie ``username`` to exactly these fleet vehicles (none: to no vehicle); an id the
    fleet does not have is :class:`RecordNotFoundError` and nothing changes."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise RecordNotFoundError(f"no user {username!r}")
    wanted = sorted(set(vehicle_ids))
    rows = {r.vehicle_id: r for r in session.scalars(
        select(FleetVehicle).where(FleetVehicle.vehicle_id.in_(wanted)))} if wanted else {}
    missing = [v for v in wanted if v not in rows]
    if missing:
        raise RecordNotFoundError(
            f"no vehicle {', '.join(repr(m[:64]) for m in missing[:5])} in the fleet; add it "
            "on the fleet page first")
    session.execute(delete(UserVehicle).where(UserVehicle.user_id == user.id))
    for vehicle_id in wanted:
        session.add(UserVehicle(user_id=user.id, vehicle_pk=rows[vehicle_id].id))
    session.flush()
    return tuple(wanted)
