"""Plans: routes with timed visits, unserved stops with reasons, KPIs and provenance.

A plan is written as ``plan.json`` in the versioned format documented in
``docs/plan-format.md`` (``format: mobile-library-plan``). Times are given twice: seconds
from midnight of the horizon's first day (``*_s``, for programs) and local clock time with
the day offset (for people). :func:`assemble_plan` builds a plan from timed routes; it is the
one place a plan is put together (solves, re-plans and manual edits all use it).

**Versioning rule.** ``plan.json`` carries ``format_version``; every change to the format
bumps it and says so in ``docs/plan-format.md``, and :func:`plan_from_dict` reads every past
version (``tests/planner/data/`` keeps a plan of each). Version 2 added the communes a visit
hands crates on to and receives them from (``transfers_to``, ``transfers_from``), the book
batches of a visit (``deliver_batches``, ``collect_batches``, ``batch_note``) and of a trip
(``loading_batches``), and moved a re-plan's record into ``provenance.replan`` (with
``changes``), which was split between ``replan`` and ``replan_job``. Version 3 added the
catalogue key and values of each stored checker finding (``provenance.check.violations[]``:
``key``, ``values``), so pages word them in their language.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from planner.errors import PlanFileError, short_value
from planner.inputlimits import InputLimitError, InputLimits, load_json, read_limited
from planner.kpis import Kpis, plan_kpis
from planner.problem import DAY_S, Place, RoutingProblem
from planner.provenance import Provenance
from planner.scenario import Scenario, trip_id
from planner.schedule import RouteTiming, TimedVisit

PLAN_FORMAT = "mobile-library-plan"
PLAN_FORMAT_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
TZ = dt.timezone(dt.timedelta(hours=7), "ICT")  # Vietnam, no daylight saving
# a plan of every commune of a country is a few MB; the limits only stop absurd files
PLAN_LIMITS = InputLimits(max_bytes=64 * 1024 * 1024, max_depth=32, max_nodes=5_000_000)


def clock(start_date: dt.date, seconds: int) -> str:
    """ISO local time (UTC+7) of ``seconds`` after midnight of ``start_date``."""
    base = dt.datetime.combine(start_date, dt.time(0), TZ)
    return (base + dt.timedelta(seconds=int(seconds))).isoformat(timespec="minutes")


@dataclass(frozen=True)
class Visit:
    seq: int
    commune_code: str
    commune_name: str
    lon: float
    lat: float
    day: int
    arrival_s: int
    start_s: int
    departure_s: int
    arrival: str
    departure: str
    deliver_crates: int
    collect_crates: int
    load_after_crates: int
    leg_km: float
    leg_hours: float
    night_before: bool
    nights_on_road: int
    contact: str = ""
    note: str = ""
    transfer_collect_crates: int = 0  # crates collected here to hand on to another commune
    transfer_deliver_crates: int = 0  # crates brought here from another commune
    roadside_pauses: int = 0  # pauses on the leg here (continuous-driving rule)
    # crates handed on between communes of the trip: (commune, crates) collected here for
    # each commune they go to, and delivered here from each commune they were collected at
    transfers_to: tuple[tuple[str, int], ...] = ()
    transfers_from: tuple[tuple[str, int], ...] = ()
    deliver_batches: tuple[str, ...] = ()  # book batches left here (planner.rotation)
    collect_batches: tuple[str, ...] = ()  # book batches taken back from here
    batch_note: str = ""  # why no batch is left here, when none is


@dataclass(frozen=True)
class Route:
    vehicle_id: str
    vehicle_name: str
    profile: str
    depot_id: str
    depot_name: str
    depot_lon: float
    depot_lat: float
    driver: str
    capacity_crates: int
    depart_s: int
    depart: str
    return_s: int
    return_time: str
    load_start_crates: int
    return_leg_km: float
    return_leg_hours: float
    return_night_before: bool
    return_nights_on_road: int
    visits: tuple[Visit, ...]
    km: float
    driving_hours: float
    duration_hours: float
    days: int
    nights: int
    depot_location_approximate: bool = False
    end_depot_id: str = ""  # where the trip ends when not back at depot_id (a hub)
    end_depot_name: str = ""
    breaks_s: tuple[tuple[int, int], ...] = ()  # daily breaks taken on the trip (start, end)
    depot_location_note: str = ""
    vehicle_phone: str = ""
    return_roadside_pauses: int = 0
    loading_batches: tuple[str, ...] = ()  # book batches loaded at the library for the trip
    # a vehicle's trips (format 3): the trip's id (the vehicle's id for its first trip,
    # ``<vehicle>-trip2``… after) and its number; "" and 1 in plans of older formats
    trip_id: str = ""
    trip_number: int = 1

    @property
    def key(self) -> str:
        """The route's id among the plan's routes: its trip id (its vehicle's id in plans
        made before vehicles had several trips)."""
        return self.trip_id or self.vehicle_id

    @property
    def crates_delivered(self) -> int:
        return sum(v.deliver_crates for v in self.visits)

    @property
    def crates_collected(self) -> int:
        return sum(v.collect_crates for v in self.visits)


@dataclass(frozen=True)
class PlanBatch:
    """A book batch a plan moves, as the sheets and labels print it."""

    batch_id: str
    crates: int
    languages: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class Unserved:
    commune_code: str
    commune_name: str
    required: bool
    reason_code: str
    reason: str


@dataclass(frozen=True)
class SeasonVisit:
    """A planned visit of a commune: its day (0-based) and date, and the trip that makes it
    (``""``: no trip could, the plan lists it unserved)."""

    day: int
    date: str
    trip_id: str = ""


@dataclass(frozen=True)
class SeasonCommune:
    """A commune's visit rule (as the scenario gives it) and its planned visits."""

    commune_code: str
    rule: Mapping[str, Any]
    visits: tuple[SeasonVisit, ...]


@dataclass(frozen=True)
class SeasonPeriod:
    start_day: int
    start_date: str
    days: int
    vehicles: tuple[str, ...]


@dataclass(frozen=True)
class SeasonShortage:
    """Visits of a season that find no batch of one kind (``need``): how many, and how many
    more batches of that kind are needed at least."""

    need: str
    visits: int
    at_least: int


@dataclass(frozen=True)
class SeasonRecord:
    """The ``season`` section of a season plan (plan format 4)."""

    periods: tuple[SeasonPeriod, ...]
    communes: tuple[SeasonCommune, ...]
    days_off: tuple[tuple[str, str], ...] = ()  # calendar days off of the horizon: date, why
    assignment_status: str = ""  # CP-SAT's status of the visit dates
    assignment_wall_s: float = 0.0
    repair_rounds: int = 0
    unrouted_first: int = 0  # visits no trip took after the first routing
    kept_trips: int = 0  # trips kept from the plan re-planned (done or published)
    improve_tried: int = 0  # improving moves tried (a trip's visits to other days)
    improve_kept: int = 0  # and kept: the season cost less
    improve_saved_vnd: int = 0  # what the moves kept saved
    replan_from: str = ""  # the date re-planning started from
    kept_trip_ids: tuple[str, ...] = ()  # the trips kept (their ids in this plan)
    # book batches (scenario `rotation`): the assignment's status over the projected positions
    # and the kinds of batch the season runs short of
    batch_status: str = ""
    batch_shortages: tuple[SeasonShortage, ...] = ()


@dataclass(frozen=True)
class Plan:
    scenario_name: str
    scenario_title: str
    start_date: dt.date
    horizon_days: int
    network: str
    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    kpis: Kpis
    provenance: Provenance
    notes: tuple[str, ...] = ()
    attribution: str = ""
    batches: tuple[PlanBatch, ...] = ()  # the book batches its visits leave or take back
    season: SeasonRecord | None = None  # format 4: a season's visit rules and visits
    created_at: str = field(
        default_factory=lambda: dt.datetime.now(TZ).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "format_version": PLAN_FORMAT_VERSION,
            "created_at": self.created_at,
            "scenario": {"name": self.scenario_name, "title": self.scenario_title,
                         "network": self.network,
                         "horizon": {"start_date": self.start_date.isoformat(),
                                     "days": self.horizon_days}},
            "routes": [asdict(r) for r in self.routes],
            "unserved": [asdict(u) for u in self.unserved],
            "kpis": self.kpis.to_dict(),
            "provenance": self.provenance.to_dict(),
            "notes": list(self.notes),
            "attribution": self.attribution,
            **({"batches": [asdict(b) for b in self.batches]} if self.batches else {}),
            **({"season": asdict(self.season)} if self.season is not None else {}),
        }

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)


MAX_PLAN_INT = 10**9  # seconds (31 years), crates, counts: more is not a plan's figure
# The search's objective counts REQUIRED_PENALTY (2.5e8) for each commune left out, so a plan
# that leaves out four or more goes past MAX_PLAN_INT: these fields are bounded by the whole
# numbers a JSON reader keeps exactly instead.
MAX_OBJECTIVE = 2**53
_OBJECTIVE_FIELDS = ("provenance.objective", "provenance.progress")
_CLOCK_FIELDS = {Visit: ("arrival", "departure"), Route: ("depart", "return_time")}


def _frozen(value: Any) -> Any:
    """A JSON value with its lists as tuples (the plan's records are frozen)."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _record(cls: type, data: Any, file: str, where: str, **parts: Any) -> Any:
    """The record ``cls`` of a JSON object (its lists as tuples, ``parts`` given already
    built); a :class:`PlanFileError` naming ``where`` when it is no object of those fields.
    The types of its values are checked on the whole plan, by :func:`_type_problem`."""
    if not isinstance(data, dict):
        raise PlanFileError(f"{file}: `{where}` = {short_value(data)!r} is not an object; "
                            "re-run `planner solve` to write the plan again")
    try:
        return cls(**{**{k: _frozen(v) for k, v in data.items()}, **parts})
    except TypeError as exc:  # a field missing or unknown
        raise PlanFileError(f"{file}: `{where}`: {exc}; re-run `planner solve` to write the "
                            "plan again") from None


def plan_from_dict(data: dict[str, Any], *, file: str = "<plan>") -> Plan:
    """The plan of a parsed ``plan.json``, every field checked against the type its record
    declares; a :class:`PlanFileError` naming the file and the field otherwise."""
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanFileError(f"{file}: not a plan file (field `format` should be "
                            f"{PLAN_FORMAT!r})")
    if data.get("format_version") not in READABLE_VERSIONS:
        raise PlanFileError(f"{file}: field `format_version` = {data.get('format_version')!r}: "
                            f"this version reads formats "
                            f"{', '.join(map(str, READABLE_VERSIONS))}; a newer version of the "
                            "planner wrote it (update), or re-run `planner solve`")
    try:
        routes = tuple(
            _record(Route, r, file, f"routes[{i}]", visits=tuple(
                _record(Visit, v, file, f"routes[{i}].visits[{j}]")
                for j, v in enumerate(r["visits"])))
            for i, r in enumerate(data["routes"]))
        unserved = tuple(_record(Unserved, u, file, f"unserved[{i}]")
                         for i, u in enumerate(data["unserved"]))
        sc = data["scenario"]
        plan = Plan(scenario_name=sc["name"], scenario_title=sc.get("title", ""),
                    start_date=dt.date.fromisoformat(sc["horizon"]["start_date"]),
                    horizon_days=int(sc["horizon"]["days"]), network=sc["network"],
                    routes=routes, unserved=unserved, kpis=Kpis.from_dict(data["kpis"]),
                    provenance=Provenance.from_dict(data["provenance"]),
                    notes=_frozen(data.get("notes", [])),
                    batches=tuple(_record(PlanBatch, b, file, f"batches[{i}]")
                                  for i, b in enumerate(data.get("batches", ()))),
                    attribution=data.get("attribution", ""), created_at=data["created_at"],
                    season=_season(data.get("season"), file))
    except PlanFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanFileError(f"{file}: malformed plan ({type(exc).__name__}: {exc}); re-run "
                            "`planner solve` to write it again") from None
    problem = _type_problem(plan, "")
    if problem:
        raise PlanFileError(f"{file}: {problem}; re-run `planner solve` to write the plan "
                            "again")
    return plan


def _season(data: Any, file: str) -> SeasonRecord | None:
    """The ``season`` section of a plan (format 4), or ``None`` when it has none."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise PlanFileError(f"{file}: `season` is not an object; re-run `planner solve`")
    return _record(SeasonRecord, data, file, "season", periods=tuple(
        _record(SeasonPeriod, p, file, f"season.periods[{i}]")
        for i, p in enumerate(data.get("periods", ()))), communes=tuple(
        _record(SeasonCommune, c, file, f"season.communes[{i}]", visits=tuple(
            _record(SeasonVisit, v, file, f"season.communes[{i}].visits[{j}]")
            for j, v in enumerate(c.get("visits", ()) if isinstance(c, dict) else ())))
        for i, c in enumerate(data.get("communes", ()))), batch_shortages=tuple(
        _record(SeasonShortage, x, file, f"season.batch_shortages[{i}]")
        for i, x in enumerate(data.get("batch_shortages", ()))))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of ``cls`` (resolved once: it takes a while)."""
    return get_type_hints(cls)


def _wrong(where: str, value: Any, expected: str) -> str:
    return f"field `{where or 'plan'}` = {short_value(value)!r}: expected {expected}"


def _type_problem(value: Any, where: str, hint: Any = None) -> str | None:
    """What is wrong with the types of ``value`` (a plan record read from JSON, checked
    against its dataclass annotations, recursively: numbers finite and within
    :data:`MAX_PLAN_INT`, printed clock times ISO), or ``None``. The dataclasses do not check
    what they are given, and the checker, pages and exports compute with these values."""
    if hint is None or (isinstance(hint, type) and is_dataclass(hint)):
        if hint is not None and not isinstance(value, hint):
            return _wrong(where, value, "an object")
        hints = _hints(value.__class__)
        prefix = f"{where}." if where else ""
        for f in fields(value):
            found = _type_problem(getattr(value, f.name), prefix + f.name, hints[f.name])
            if found:
                return found
        for name in _CLOCK_FIELDS.get(type(value), ()):
            try:
                dt.datetime.fromisoformat(getattr(value, name))
            except ValueError:
                return _wrong(prefix + name, getattr(value, name), "an ISO time")
        return None
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return None
    if origin in (Union, UnionType):
        if any(_type_problem(value, where, a) is None for a in args):
            return None
        return _wrong(where, value, " or ".join(getattr(a, "__name__", str(a)) for a in args))
    if origin is tuple:
        if not isinstance(value, tuple):
            return _wrong(where, value, "a list")
        items = (args[0],) * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        if len(items) != len(value):
            return _wrong(where, value, f"{len(items)} items")
        for i, (item, item_hint) in enumerate(zip(value, items, strict=True)):
            found = _type_problem(item, f"{where}[{i}]", item_hint)
            if found:
                return found
        return None
    if origin in (Mapping, dict):
        if not isinstance(value, Mapping):
            return _wrong(where, value, "an object")
        for k, v in value.items():
            found = (_type_problem(k, f"{where} key", args[0]) if args else None) or \
                (_type_problem(v, f"{where}.{k}", args[1]) if args else None)
            if found:
                return found
        return None
    if hint is type(None):
        return None if value is None else _wrong(where, value, "null")
    if hint in (int, float):
        bound = MAX_OBJECTIVE if where.split("[")[0] in _OBJECTIVE_FIELDS else MAX_PLAN_INT
        ok = isinstance(value, hint if hint is int else int | float) \
            and not isinstance(value, bool) and math.isfinite(value) \
            and abs(value) <= bound
        kind = "a whole number" if hint is int else "a finite number"
        return None if ok else _wrong(where, value, f"{kind} within ±{bound:,}")
    return None if isinstance(value, hint) else _wrong(where, value, hint.__name__)


def read_plan(path: str | Path) -> Plan:
    """The plan of a ``plan.json`` file, read within :data:`PLAN_LIMITS`; a
    :class:`~planner.errors.PlanFileError` naming the file when it cannot be read."""
    path = Path(path)
    try:
        data = load_json(read_limited(path, PLAN_LIMITS.max_bytes), PLAN_LIMITS)
    except FileNotFoundError:
        raise PlanFileError(f"{path}: plan file not found; run `planner solve SCENARIO --out DIR` "
                            "first") from None
    except InputLimitError as exc:
        raise PlanFileError(f"{path}: refused: {exc}") from None
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:  # JSON syntax, encoding
        raise PlanFileError(f"{path}: not valid JSON ({str(exc)[:200]})") from None
    return plan_from_dict(data, file=str(path))


def numbered_trips(routes: Sequence[Route]) -> tuple[Route, ...]:
    """``routes`` (in the order given) with each vehicle's trips numbered in time order: trip
    ids ``<vehicle>``, ``<vehicle>-trip2``… (:func:`planner.scenario.trip_id`); a tie keeps
    the order given."""
    number: dict[int, int] = {}
    by_vehicle: dict[str, list[int]] = {}
    for i, r in enumerate(routes):
        by_vehicle.setdefault(r.vehicle_id, []).append(i)
    for indices in by_vehicle.values():
        for n, i in enumerate(sorted(indices, key=lambda i: routes[i].depart_s), start=1):
            number[i] = n
    return tuple(r if (r.key, r.trip_number) == (trip_id(r.vehicle_id, number[i] - 1),
                                                  number[i])
                 else replace(r, trip_id=trip_id(r.vehicle_id, number[i] - 1),
                              trip_number=number[i])
                 for i, r in enumerate(routes))


# --- assembling a plan from timed routes ---------------------------------------------------


def assemble_plan(scenario: Scenario, places: Sequence[Place], problem: RoutingProblem,
                  timings: Sequence[RouteTiming], unserved: Sequence[Unserved],
                  provenance: Provenance, *, service_area_communes: int,
                  notes: Sequence[str] = (), attribution: str = "",
                  created_at: str | None = None) -> Plan:
    """A :class:`Plan` of the timed routes (one per vehicle of ``timings``; no geography
    needed beyond the problem's ``places``), with its KPIs."""
    # a vehicle's first trip is listed even when unused; its later trips only when used
    routes = tuple(_route(scenario, places, problem, t) for t in timings
                   if t.visits or problem.vehicles[t.vehicle].trip == 0)
    kpis = plan_kpis(scenario, problem, routes, unserved,
                     service_area_communes=service_area_communes)
    notes = tuple(notes) + tuple(f"{d.name}: {d.location_note or 'location approximate'}"
                                 for d in scenario.depots if d.location_approximate)
    plan = Plan(scenario_name=scenario.name, scenario_title=scenario.title,
                start_date=scenario.horizon.start_date, horizon_days=scenario.horizon.days,
                network=scenario.network, routes=routes, unserved=tuple(unserved), kpis=kpis,
                provenance=provenance, notes=notes, attribution=attribution)
    return replace(plan, created_at=created_at) if created_at else plan


def _visit(scenario: Scenario, place: Place, seq: int, tv: TimedVisit) -> Visit:
    start_date = scenario.horizon.start_date
    stop = next(s for s in scenario.stops if s.commune_code == place.key)
    out = [(t.to_code, t.crates) for t in scenario.transfers if t.from_code == place.key]
    into = [(t.from_code, t.crates) for t in scenario.transfers if t.to_code == place.key]
    return Visit(
        seq=seq, commune_code=place.key, commune_name=place.name, lon=place.lon, lat=place.lat,
        day=tv.start_s // DAY_S, arrival_s=tv.arrival_s, start_s=tv.start_s,
        departure_s=tv.departure_s, arrival=clock(start_date, tv.arrival_s),
        departure=clock(start_date, tv.departure_s), deliver_crates=stop.deliver_crates,
        collect_crates=stop.collect_crates, load_after_crates=tv.load_after,
        leg_km=round(tv.leg_distance_m / 1000, 2), leg_hours=round(tv.leg_travel_s / 3600, 2),
        night_before=tv.night_before, nights_on_road=tv.nights_on_road,
        roadside_pauses=tv.roadside_pauses, contact=stop.contact, note=stop.note,
        transfer_collect_crates=sum(n for _, n in out),
        transfer_deliver_crates=sum(n for _, n in into),
        transfers_to=tuple(out), transfers_from=tuple(into))


def _route(scenario: Scenario, places: Sequence[Place], problem: RoutingProblem,
           timing: RouteTiming) -> Route:
    start_date = scenario.horizon.start_date
    vs = problem.vehicles[timing.vehicle]
    spec = scenario.vehicles[vs.scenario_index]
    depot, home = scenario.depots[vs.start], places[vs.start]
    visits = tuple(_visit(scenario, places[tv.location], seq, tv)
                   for seq, tv in enumerate(timing.visits, start=1))
    used = bool(timing.visits)
    ret = timing.return_leg
    legs = list(timing.visits) + [ret]
    driving_s = sum(tv.leg_travel_s for tv in legs) if used else 0
    km = sum(tv.leg_distance_m for tv in legs) / 1000 if used else 0.0
    return_s = ret.arrival_s if used else timing.depart_s
    days_away = timing.nights_away
    end = scenario.depots[vs.end] if vs.end != vs.start else None
    # copies of one scenario vehicle (`count:`) are told apart: numbered names, and no driver
    # (the scenario names one for the type; the sheet leaves a line to write one in)
    vehicle_id = vs.vehicle_id or vs.id
    name = dict(spec.units()).get(vehicle_id, spec.name)
    return Route(
        vehicle_id=vehicle_id, trip_id=vs.id, trip_number=vs.trip + 1, vehicle_name=name,
        profile=spec.profile, depot_id=depot.id, depot_name=depot.name, depot_lon=home.lon,
        depot_lat=home.lat, driver="" if spec.count > 1 else spec.driver,
        capacity_crates=vs.capacity, depart_s=timing.depart_s,
        depart=clock(start_date, timing.depart_s), return_s=return_s,
        return_time=clock(start_date, return_s), load_start_crates=timing.load_start,
        return_leg_km=round(ret.leg_distance_m / 1000, 2) if used else 0.0,
        return_leg_hours=round(ret.leg_travel_s / 3600, 2) if used else 0.0,
        return_night_before=ret.night_before if used else False,
        return_nights_on_road=ret.nights_on_road if used else 0,
        visits=visits, km=round(km, 1), driving_hours=round(driving_s / 3600, 2),
        duration_hours=round((return_s - timing.depart_s) / 3600, 2),
        days=days_away + 1 if used else 0, nights=days_away if used else 0,
        depot_location_approximate=depot.location_approximate,
        depot_location_note=depot.location_note, vehicle_phone=spec.phone,
        return_roadside_pauses=ret.roadside_pauses if used else 0,
        end_depot_id=end.id if end else "", end_depot_name=end.name if end else "",
        breaks_s=tuple(timing.breaks) if used else ())
