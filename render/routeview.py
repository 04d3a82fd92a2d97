"""What the pages, sheets and maps show of a route, computed once from a plan.

:func:`route_views` joins a :class:`~planner.plan.Plan` with the leg directions of its
``routes.geojson`` and works out what people read: clock times with the day of the trip,
the directions of each leg with consecutive pieces of one road merged, the vehicle's colour
and line style, and for each hand-on of crates between communes (scenario ``transfers``) the
commune at the other end. Language-neutral: wording is left to the templates and the map.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from planner.plan import Plan, PlanBatch, Route, Visit, clock
from render.formatting import clock_text, parse_clock


@dataclass(frozen=True)
class VehicleStyle:
    """How one vehicle's route is drawn: a colour that prints as a distinct grey, a dash
    pattern that tells routes apart in black and white, and a marker shape."""

    colour: str
    dash: str | None  # SVG stroke-dasharray, None = solid
    marker_radius: str  # CSS border-radius of the numbered stop marker


VEHICLE_STYLES: tuple[VehicleStyle, ...] = (
    VehicleStyle("#0b4f9c", None, "50%"),          # dark blue, solid, round markers
    VehicleStyle("#c2410c", "14 7", "3px"),        # burnt orange, dashed, square markers
    VehicleStyle("#15803d", "3 7", "50%"),         # green, dotted
    VehicleStyle("#7e22ce", "14 6 3 6", "3px"),    # purple, dash-dot
    VehicleStyle("#92400e", "24 8", "50%"),        # brown, long dashes
    VehicleStyle("#111827", "6 5", "3px"),         # near black, short dashes
)


def vehicle_style(index: int) -> VehicleStyle:
    """The style of the ``index``-th route of a plan (cycling through the palette)."""
    return VEHICLE_STYLES[index % len(VEHICLE_STYLES)]


@dataclass(frozen=True)
class Moment:
    """A clock time and the day of the trip it falls on (0 = the departure day)."""

    when: dt.datetime
    day_offset: int

    @property
    def clock(self) -> str:
        """``dd/mm HH:MM``."""
        return clock_text(self.when)


@dataclass(frozen=True)
class DirectionStep:
    """One road of a leg: consecutive pieces with the same reference or name merged."""

    ref: str
    names: tuple[str, ...]
    road_class: str
    km: float
    cumulative_km: float
    minutes: float | None = None  # a ferry crossing: its time, the wait included


@dataclass(frozen=True)
class Leg:
    """The drive to a stop (or back to the depot)."""

    km: float
    hours: float
    night_before: bool
    nights_on_road: int
    directions: tuple[DirectionStep, ...] | None  # None when routes.geojson is missing
    roadside_pauses: int = 0  # pauses by the road (continuous-driving rule)


@dataclass(frozen=True)
class TransferNote:
    """What a stop does with handed-on crates: ``crates`` to collect here for the partner
    commune, or to deliver here from it. ``partner_name`` is ``None`` when the plan does not
    say which commune is at the other end."""

    crates: int
    partner_code: str | None
    partner_name: str | None


@dataclass(frozen=True)
class StopView:
    visit: Visit
    arrival: Moment
    departure: Moment
    leg: Leg
    transfers_out: tuple[TransferNote, ...] = ()  # collected here, for other communes
    transfers_in: tuple[TransferNote, ...] = ()  # delivered here, from other communes
    deliver_batches: tuple[PlanBatch, ...] = ()  # book batches left here
    collect_batches: tuple[PlanBatch, ...] = ()  # book batches taken back from here


@dataclass(frozen=True)
class RouteView:
    route: Route
    index: int
    style: VehicleStyle
    depart: Moment
    back: Moment
    stops: tuple[StopView, ...]
    return_leg: Leg
    depot_note: str | None  # the note saying the depot's point is approximate, if any
    breaks: tuple[tuple[Moment, Moment], ...] = ()  # daily rests on the trip (start, end)
    loading: tuple[PlanBatch, ...] = ()  # book batches loaded at the library

    @property
    def end_depot_name(self) -> str:
        """Where the trip ends: its own depot, or the hub it ends at."""
        return self.route.end_depot_name or self.route.depot_name

    @property
    def first_day(self) -> dt.date:
        return self.depart.when.date()

    @property
    def last_day(self) -> dt.date:
        return self.back.when.date()


APPROXIMATE_WORDS = ("approximate", "gần đúng")


def depot_location_note(plan: Plan, depot_name: str) -> str | None:
    """The plan note saying ``depot_name``'s position is approximate, or ``None``.

    The pipeline writes it as ``"<depot name>: <location note>"``; a note that names the
    depot and says "approximate" (or "gần đúng") counts too.
    """
    name = depot_name.casefold()
    for note in plan.notes:
        text = note.casefold()
        if name and name in text and any(w in text for w in APPROXIMATE_WORDS):
            prefix = f"{depot_name}:"
            return note[len(prefix):].strip() if note.startswith(prefix) else note
    return None


def _depot_note(plan: Plan, route: Route) -> str | None:
    """The route's own flag first (plans since the flag exists), else the plan notes."""
    if route.depot_location_approximate:
        return route.depot_location_note or "approximate"
    return depot_location_note(plan, route.depot_name)


def _short_name(name: str) -> str:
    """``"Quốc lộ 4C, Thuận Hòa, Vị Xuyên"`` -> ``"Quốc lộ 4C"`` (OSM names that are
    addresses)."""
    return name.split(",")[0].strip()


def _norm(text: str) -> str:
    """``"TL 177"``, ``"TL177"``, ``"tl.177"`` -> ``"tl177"``: the spelling-free form."""
    return re.sub(r"[\s.\-]", "", text).casefold()


def summarise_directions(directions: Iterable[Mapping[str, Any]]) -> tuple[DirectionStep, ...]:
    """Merge consecutive pieces of one road (same ``ref``, or same name when there is no
    ref, or unnamed roads of one class) and add the running total of km.

    A name that only spells the ref (``"TL 178"`` for ref ``"178"``) is not repeated; it
    replaces a bare number ref, which says less.
    """
    groups: list[dict[str, Any]] = []
    for d in directions:
        ref = str(d.get("ref") or "").strip()
        name = _short_name(str(d.get("name") or ""))
        road_class = str(d.get("road_class") or "")
        key: tuple[str, ...] = ("ref", _norm(ref)) if ref else ("name", _norm(name)) \
            if name else ("class", road_class)
        minutes = d.get("minutes")
        if minutes is not None:  # a ferry stays its own step
            key = ("ferry", *key)
        km = float(d.get("km") or 0.0)
        if groups and groups[-1]["key"] == key:
            g = groups[-1]
            g["km"] += km
            if minutes is not None:
                g["minutes"] = (g.get("minutes") or 0.0) + float(minutes)
            if name and _norm(name) not in {_norm(n) for n in g["names"]}:
                g["names"].append(name)
        else:
            groups.append({"key": key, "ref": ref, "names": [name] if name else [],
                           "road_class": road_class, "km": km,
                           "minutes": float(minutes) if minutes is not None else None})
    steps, total = [], 0.0
    for g in groups:
        total += g["km"]
        ref, names = g["ref"], []
        for n in g["names"]:
            if ref and _norm(n).endswith(_norm(ref)) and len(_norm(n)) - len(_norm(ref)) <= 3:
                if ref.isdigit():
                    ref = n
                continue
            names.append(n)
        steps.append(DirectionStep(ref=ref, names=tuple(names[:3]), road_class=g["road_class"],
                                   km=round(g["km"], 1), cumulative_km=round(total, 1),
                                   minutes=g["minutes"]))
    return tuple(steps)


def legs_by_vehicle(routes: Mapping[str, Any] | None) -> dict[str, list[list[dict[str, Any]]]]:
    """``vehicle_id -> [directions of leg 1, ..., directions of the return leg]`` from a
    ``routes.geojson`` FeatureCollection (empty when ``routes`` is ``None``)."""
    out: dict[str, list[list[dict[str, Any]]]] = {}
    for f in (routes or {}).get("features", []):
        props = f.get("properties") or {}
        if props.get("kind") == "route":
            out[str(props.get("vehicle_id"))] = [list(leg.get("directions") or [])
                                                 for leg in props.get("legs") or []]
    return out


def _transfer_notes(total: int, partners: Sequence[tuple[str, int]],
                    names: Mapping[str, str]) -> tuple[TransferNote, ...]:
    """One note per partner commune; a plan that names no partner (format version 1 without
    its scenario) gets one note of the total, its partner unknown."""
    if partners:
        return tuple(TransferNote(crates=n, partner_code=code,
                                  partner_name=names.get(code, code)) for code, n in partners)
    return (TransferNote(total, None, None),) if total > 0 else ()


def _batch(plan: Plan, batch_id: str) -> PlanBatch:
    """What the plan says of a batch (just its id if it says nothing)."""
    found = next((b for b in plan.batches if b.batch_id == batch_id), None)
    return found or PlanBatch(batch_id, 0)


def _moment(iso: str, base: dt.date) -> Moment:
    when = parse_clock(iso)
    return Moment(when=when, day_offset=(when.date() - base).days)


def route_view(plan: Plan, index: int, legs: Sequence[list[dict[str, Any]]] | None
               ) -> RouteView:
    """The view of ``plan.routes[index]``; ``legs`` are its leg directions in visit order
    (depot -> stop 1, ..., last stop -> depot) or ``None`` if unknown."""
    route = plan.routes[index]
    depart = parse_clock(route.depart)
    base = depart.date()
    usable = legs is not None and len(legs) == len(route.visits) + 1

    def directions(i: int) -> tuple[DirectionStep, ...] | None:
        return summarise_directions(legs[i]) if usable and legs is not None else None

    names = {v.commune_code: v.commune_name for r in plan.routes for v in r.visits}
    names.update({u.commune_code: u.commune_name for u in plan.unserved})
    stops = tuple(
        StopView(visit=v, arrival=_moment(v.arrival, base), departure=_moment(v.departure, base),
                 leg=Leg(km=v.leg_km, hours=v.leg_hours, night_before=v.night_before,
                         nights_on_road=v.nights_on_road, directions=directions(i),
                         roadside_pauses=v.roadside_pauses),
                 transfers_out=_transfer_notes(v.transfer_collect_crates, v.transfers_to, names),
                 transfers_in=_transfer_notes(v.transfer_deliver_crates, v.transfers_from,
                                              names),
                 deliver_batches=tuple(_batch(plan, b) for b in v.deliver_batches),
                 collect_batches=tuple(_batch(plan, b) for b in v.collect_batches))
        for i, v in enumerate(route.visits))
    return_leg = Leg(km=route.return_leg_km, hours=route.return_leg_hours,
                     night_before=route.return_night_before,
                     nights_on_road=route.return_nights_on_road,
                     directions=directions(len(route.visits)),
                     roadside_pauses=route.return_roadside_pauses)
    return RouteView(route=route, index=index, style=vehicle_style(index),
                     depart=Moment(depart, 0), back=_moment(route.return_time, base),
                     stops=stops, return_leg=return_leg,
                     depot_note=_depot_note(plan, route),
                     breaks=tuple((_moment(clock(plan.start_date, a), base),
                                   _moment(clock(plan.start_date, b), base))
                                  for a, b in route.breaks_s),
                     loading=tuple(_batch(plan, b) for b in route.loading_batches))


def route_views(plan: Plan, routes: Mapping[str, Any] | None = None
                ) -> tuple[RouteView, ...]:
    """Views of every route of ``plan``, with directions when ``routes`` (the parsed
    ``routes.geojson``) is given."""
    legs = legs_by_vehicle(routes) if routes is not None else {}
    return tuple(route_view(plan, i, legs.get(r.key) if routes is not None else None)
                 for i, r in enumerate(plan.routes))
