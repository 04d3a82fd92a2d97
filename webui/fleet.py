"""The fleet, the users tied to its vehicles, and a driver's "my trip".

A dispatcher keeps the library's vehicles on the fleet page (:mod:`storage.fleet`), under the
ids the scenarios give them: the page lists the vehicles the scenarios name that the fleet
lacks (a ``count:`` entry as its numbered copies) and adds one with a click. The accounts
page ties each user to vehicles. A driver's "my trip" lists the trips of their vehicles in
the newest published version of every series, with the printable sheets and the trip
screen; outcomes can be recorded for those vehicles only (:func:`webui.auth.
check_may_record_for`).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from geodata.profiles import load_profiles
from planner.errors import PlannerError
from planner.plan import Plan, Route
from storage import RecordNotFoundError, fleet, plans, users
from storage.fleet import FleetFieldError, ScenarioVehicle, VehicleInfo
from storage.plans import VersionInfo
from webui.auth import current_user, requires
from webui.errors import NotFoundError, UnreadablePlanError
from webui.jobs import scenario_sources
from webui.services import database, plan_store

log = logging.getLogger(__name__)

bp = Blueprint("fleet", __name__)

FIELDS = ("vehicle_id", "name", "profile", "depot_id", "plate", "capacity_crates", "note")


def _scenario_vehicles() -> dict[str, tuple[ScenarioVehicle, list[str]]]:
    """``vehicle id -> (the vehicle as the first scenario names it, every scenario naming
    it)`` over the scenarios the UI offers; a scenario that does not read is skipped (its
    own page says why)."""
    out: dict[str, tuple[ScenarioVehicle, list[str]]] = {}
    sources = scenario_sources()
    for entry in sources.entries():
        try:
            scenario = sources.load(entry, check_data=False)
        except (PlannerError, ValueError) as exc:
            log.info("fleet page: scenario %s skipped: %s", entry.name, str(exc)[:200])
            continue
        for vehicle in fleet.scenario_vehicles(scenario):
            out.setdefault(vehicle.vehicle_id, (vehicle, []))[1].append(entry.name)
    return out


def _form_values(source: Any) -> dict[str, str]:
    return {k: str(source.get(k, "") or "") for k in FIELDS}


def _fleet_page(*, form: dict[str, str] | None = None, error: str = "",
                status: int = 200) -> ResponseReturnValue:
    with database().read() as s:
        vehicles = fleet.list_vehicles(s)
    named = _scenario_vehicles()
    known = {v.vehicle_id for v in vehicles}
    editing = request.args.get("edit", "")
    if form is None:
        current = next((v for v in vehicles if v.vehicle_id == editing), None)
        form = _form_values(current.__dict__) if current is not None else _form_values({})
        form["active"] = "1" if current is None or current.active else ""
    return render_template(
        "fleet.html", vehicles=vehicles, form=form, error=error,
        scenarios_of={k: names for k, (_, names) in named.items()},
        missing=[v for k, (v, _) in sorted(named.items()) if k not in known],
        profiles=sorted(load_profiles()), editing=editing), status


@bp.get("/fleet")
@requires("fleet")
def fleet_page() -> ResponseReturnValue:
    return _fleet_page()


def _field_error(exc: FleetFieldError) -> str:
    return g.tr("fleet_bad_field", field=g.tr(f"fleet_{exc.field}"), value=str(exc.value))


@bp.post("/fleet")
@requires("fleet")
def save_vehicle() -> ResponseReturnValue:
    """Add a vehicle to the fleet or change one (a form of the fleet page)."""
    form = _form_values(request.form)
    form["active"] = "1" if request.form.get("active") else ""
    profiles = load_profiles()
    if form["profile"] and form["profile"] not in profiles:
        return _fleet_page(form=form, status=422, error=g.tr(
            "fleet_bad_field", field=g.tr("fleet_profile"), value=form["profile"][:40]))
    capacity: int | None = None
    if form["capacity_crates"].strip():
        try:
            capacity = int(form["capacity_crates"])
        except ValueError:
            return _fleet_page(form=form, status=422, error=g.tr(
                "fleet_bad_field", field=g.tr("fleet_capacity_crates"),
                value=form["capacity_crates"][:40]))
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            info = fleet.save_vehicle(
                s, vehicle_id=form["vehicle_id"].strip(), name=form["name"],
                profile=form["profile"], depot_id=form["depot_id"].strip(),
                plate=form["plate"], capacity_crates=capacity, note=form["note"],
                active=bool(form["active"]), user_id=user.id)
    except FleetFieldError as exc:
        return _fleet_page(form=form, status=422, error=_field_error(exc))
    log.info("user %s saved fleet vehicle %s", user.username, info.vehicle_id)
    return redirect(url_for("fleet.fleet_page", saved=info.vehicle_id,
                            _anchor=f"vehicle-{info.vehicle_id}"), code=303)


@bp.get("/accounts")
@requires("fleet")
def accounts_page() -> ResponseReturnValue:
    with database().read() as s:
        accounts = users.list_users(s)
        tied = fleet.vehicles_of_users(s)
        vehicles = fleet.list_vehicles(s)
    return render_template("accounts.html", accounts=accounts, tied=tied, vehicles=vehicles)


@bp.post("/accounts/<username>/vehicles")
@requires("fleet")
def set_user_vehicles(username: str) -> ResponseReturnValue:
    """Tie a user to the vehicles ticked on the accounts page (none: untie)."""
    chosen = request.form.getlist("vehicle")
    try:
        with database().begin() as s:
            if users.find_user(s, username) is None:
                raise RecordNotFoundError(username)
            tied = fleet.set_user_vehicles(s, username, chosen)
    except RecordNotFoundError:
        raise NotFoundError(g.tr("accounts_unknown", name=username[:64],
                                 vehicles=", ".join(c[:64] for c in chosen[:5]))) from None
    user = current_user()
    assert user is not None
    log.info("user %s tied %s to vehicles %s", user.username, username,
             ", ".join(tied) or "none")
    return redirect(url_for("fleet.accounts_page", saved=username,
                            _anchor=f"user-{username}"), code=303)


@dataclass(frozen=True)
class MyTrip:
    """A trip of one of the user's vehicles in a current published version."""

    version: VersionInfo
    plan: Plan
    route: Route
    done: int
    failed: int


def my_trips(vehicles: frozenset[str]) -> tuple[list[MyTrip], list[str]]:
    """The trips of ``vehicles`` in the newest published version of each series (newest
    first), and the versions that could not be read (their pages say why)."""
    with database().read() as s:
        newest: dict[str, VersionInfo] = {}
        for v in plans.list_versions(s):
            newest.setdefault(v.series, v)
        outcomes = {v.key: plans.current_outcomes(s, v.id) for v in newest.values()}
    trips: list[MyTrip] = []
    unreadable: list[str] = []
    for version in sorted(newest.values(), key=lambda v: v.published_at, reverse=True):
        try:
            plan = plan_store().plan(version.key)
        except (UnreadablePlanError, NotFoundError) as exc:
            log.error("my trip: version %s unreadable: %s", version.key, exc)
            unreadable.append(version.key)
            continue
        for route in plan.routes:
            if route.vehicle_id in vehicles and route.visits:
                counts = Counter(o.status for (key, _), o in outcomes[version.key].items()
                                 if key == route.key)
                trips.append(MyTrip(version, plan, route, counts["done"], counts["failed"]))
    return trips, unreadable


@bp.get("/my-trip")
@requires("read")
def my_trip_page() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    with database().read() as s:
        vehicles: list[VehicleInfo] = [v for v in fleet.list_vehicles(s, active_only=True)
                                       if v.vehicle_id in user.vehicles]
    trips, unreadable = my_trips(user.vehicles)
    return render_template("my_trip.html", vehicles=vehicles, trips=trips,
                           unreadable=unreadable)
