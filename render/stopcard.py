"""What a driver needs at each stop beyond the plan's times: when the service starts and
ends, how long the crew waits before it and why, where it sleeps each night, the commune's
opening hours and open days, who to call, and whether the stop's point is the library itself
or only the commune's published point.

:func:`stop_cards` and :func:`trip_nights` join a :class:`~render.routeview.RouteView` with the
:class:`~planner.scenario.Scenario` the plan was made from (its ``scenario.json``); without it
the cards still give the times, the wait and the nights, and leave the reasons and hours
out. Language-neutral: each fact is a code and values, worded by the templates through the
catalogues (:meth:`render.i18n.Translator.wait_reason`, ``night_*`` messages).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from planner.plan import Route, Visit
from planner.scenario import WEEKDAYS, Scenario, Stop, TimeWindow, Vehicle
from render.routeview import Moment, RouteView

DAY_S = 24 * 3600
MIN_WAIT_S = 10 * 60  # a shorter wait is not worth a line on the sheet
DEFAULT_SHIFT_END_S = 17 * 3600  # when the scenario (and the vehicle's shift) is unknown
WAIT_REASONS = ("opening", "open_day", "after_closing", "shift", "schedule")


@dataclass(frozen=True)
class Wait:
    """Time spent at a stop before its service starts, and why.

    ``reason`` is one of ``"opening"`` (the commune opens later that day, at ``until``),
    ``"open_day"`` (the commune is closed on the arrival day; ``weekday`` is the day it is
    served, a :data:`planner.scenario.WEEKDAYS` code), ``"after_closing"`` (arrived after the
    last opening of the day, or too late to finish the service in it: served next morning),
    ``"shift"`` (the crew's working day starts at ``until``) or ``"schedule"`` (the plan's
    timing, e.g. a rest or a daily break)."""

    seconds: int
    reason: str
    until: dt.datetime
    weekday: str = ""


@dataclass(frozen=True)
class Night:
    """Where the crew sleeps the night after ``date``: at a stop (``kind="stop"``, its
    sequence number ``seq`` and ``place``), at the library (``"depot"``), or on the road
    (``"road"``: about ``km`` km into the leg to stop ``seq``, ``place`` being where the leg
    goes; ``seq`` 0 is the return leg)."""

    date: dt.date
    kind: str
    place: str
    seq: int = 0
    km: float = 0.0
    leg_km: float = 0.0


@dataclass(frozen=True)
class OpeningHours:
    """A stop's time windows as a driver reads them: clock spans (``"07:30–11:30"``) and
    the days they apply to (every day when ``weekdays``, ``every_days`` and ``dates`` are
    empty)."""

    spans: tuple[str, ...]
    weekdays: tuple[str, ...] = ()
    every_days: int | None = None
    anchor: dt.date | None = None
    dates: tuple[dt.date, ...] = ()

    @property
    def restricted(self) -> bool:
        """Open on some days only (a market day, a reading day)."""
        return bool(self.weekdays or self.every_days or self.dates)


@dataclass(frozen=True)
class StopCard:
    """Everything the sheet prints for one stop beyond the route view."""

    seq: int
    service_start: Moment
    service_end: Moment
    wait: Wait | None
    nights_here: tuple[Night, ...]  # nights the crew spends at this stop
    hours: tuple[OpeningHours, ...]  # empty when the scenario is unknown or gives none
    contact: str
    lon: float
    lat: float
    library_point: bool  # True: the library's recorded point; False: the commune's point
    lodging: bool | None  # whether a crew may sleep there (None: unknown)
    address: str = ""  # the library's street address, when the dispatcher recorded it
    # after a night here: where the next leg goes and when it arrives there (the crew leaves
    # in the morning, not at the printed departure, which is when the service ends)
    next_place: str = ""
    next_arrival: Moment | None = None

    @property
    def leaves_on(self) -> dt.date | None:
        """The morning the crew leaves after its nights here (``None``: no night here)."""
        if not self.nights_here:
            return None
        return self.nights_here[-1].date + dt.timedelta(days=1)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def opening_hours(windows: tuple[TimeWindow, ...]) -> tuple[OpeningHours, ...]:
    """``windows`` grouped by the days they apply to, in order of first appearance."""
    groups: dict[tuple[object, ...], list[str]] = {}
    for w in windows:
        key = (w.weekdays or (), w.every_days, w.anchor, w.dates or ())
        groups.setdefault(key, []).append(f"{_hhmm(w.start_min)}–{_hhmm(w.end_min)}")
    return tuple(OpeningHours(spans=tuple(spans), weekdays=tuple(k[0]),  # type: ignore[arg-type]
                              every_days=k[1], anchor=k[2],  # type: ignore[arg-type]
                              dates=tuple(k[3]))  # type: ignore[arg-type]
                 for k, spans in groups.items())


def scenario_vehicle(scenario: Scenario, vehicle_id: str) -> Vehicle | None:
    """The scenario entry of ``vehicle_id`` (``count:`` copies are ``<id>-<n>``)."""
    for v in scenario.vehicles:
        if v.id == vehicle_id or (v.count > 1 and vehicle_id.startswith(f"{v.id}-")
                                  and vehicle_id[len(v.id) + 1:].isdigit()):
            return v
    return None


def _scenario_stop(scenario: Scenario | None, code: str) -> Stop | None:
    if scenario is None:
        return None
    return next((s for s in scenario.stops if s.commune_code == code), None)


def _wait(visit: Visit, start: dt.datetime, arrival: dt.datetime, stop: Stop | None,
          vehicle: Vehicle | None) -> Wait | None:
    seconds = visit.start_s - visit.arrival_s
    if seconds < MIN_WAIT_S:
        return None
    windows = stop.time_windows if stop is not None else ()
    start_min = start.hour * 60 + start.minute
    if start.date() > arrival.date():
        if windows and not any(w.applies_on(arrival.date()) for w in windows):
            return Wait(seconds, "open_day", start, WEEKDAYS[start.weekday()])
        return Wait(seconds, "after_closing", start)
    if any(w.start_min == start_min and w.applies_on(start.date()) for w in windows):
        return Wait(seconds, "opening", start)
    if vehicle is not None and vehicle.shift.start_min == start_min:
        return Wait(seconds, "shift", start)
    return Wait(seconds, "schedule", start)


def _midnights(after_s: int, before_s: int) -> list[int]:
    """The ends of days (seconds from the horizon's first midnight) in ``(after, before]``."""
    first = after_s // DAY_S + 1
    return [d * DAY_S for d in range(first, before_s // DAY_S + 1) if d * DAY_S <= before_s]


def trip_nights(view: RouteView, scenario: Scenario | None = None) -> tuple[Night, ...]:
    """Where the crew sleeps each night of the trip, in order.

    A night falls at a stop when the crew is there at midnight: waiting for the next
    morning's service, or before driving the next leg in the morning (``night_before``). The
    last ``nights_on_road`` nights of a leg fall on the road: the crew drives until its
    working day ends, so the place is the share of the leg driven by then (about: the
    driving pauses are not counted)."""
    route: Route = view.route
    start_date = view.depart.when.date() - dt.timedelta(days=route.depart_s // DAY_S)
    vehicle = scenario_vehicle(scenario, route.vehicle_id) if scenario is not None else None
    shift_end_s = vehicle.shift.end_min * 60 if vehicle is not None else DEFAULT_SHIFT_END_S
    shift_start_s = vehicle.shift.start_min * 60 if vehicle is not None else 7 * 3600
    out: list[Night] = []

    def night(t: int, kind: str, place: str, seq: int = 0, km: float = 0.0,
              leg_km: float = 0.0) -> Night:
        date = start_date + dt.timedelta(days=t // DAY_S - 1)
        return Night(date, kind, place, seq, round(km, 1), round(leg_km, 1))

    here_name, here_seq, here_kind = route.depot_name, 0, "depot"
    leave_s = route.depart_s
    legs = [(v.seq, v.commune_name, v.arrival_s, v.leg_km, v.leg_hours, v.nights_on_road)
            for v in route.visits]
    legs.append((0, view.end_depot_name, route.return_s, route.return_leg_km,
                 route.return_leg_hours, route.return_nights_on_road))
    for i, (seq, name, arrive_s, km, hours, on_road) in enumerate(legs):
        nights = _midnights(leave_s, arrive_s)
        road = min(on_road, len(nights))
        at_start = len(nights) - road  # nights where the crew is before driving the leg
        travel_s = max(1.0, hours * 3600)
        workday_s = max(0, shift_end_s - shift_start_s)
        if at_start:  # the leg starts on a morning after those nights
            first_day_s = workday_s
        else:
            first_day_s = max(0, leave_s // DAY_S * DAY_S + shift_end_s - leave_s)
        for n, t in enumerate(nights):
            if n < at_start:
                out.append(night(t, here_kind, here_name, here_seq))
                continue
            driven = first_day_s + (n - at_start) * workday_s
            out.append(night(t, "road", name, seq, km * min(1.0, driven / travel_s), km))
        if i < len(route.visits):
            v = route.visits[i]
            for t in _midnights(v.arrival_s, v.departure_s):
                out.append(night(t, "stop", v.commune_name, v.seq))
            here_name, here_seq, here_kind = v.commune_name, v.seq, "stop"
            leave_s = v.departure_s
    return tuple(sorted(out, key=lambda n: n.date))


def stop_cards(view: RouteView, scenario: Scenario | None = None) -> tuple[StopCard, ...]:
    """One card per stop of ``view``, in visit order."""
    route = view.route
    vehicle = scenario_vehicle(scenario, route.vehicle_id) if scenario is not None else None
    nights = trip_nights(view, scenario)
    base = view.depart.when.date()
    origin = dt.datetime.combine(base - dt.timedelta(days=route.depart_s // DAY_S),
                                 dt.time(0), view.depart.when.tzinfo)
    cards = []
    after = [(s.visit.commune_name, s.arrival) for s in view.stops[1:]]
    after.append((view.end_depot_name, view.back))
    for s, (next_place, next_arrival) in zip(view.stops, after, strict=True):
        v = s.visit
        night_here = any(n.kind == "stop" and n.seq == v.seq for n in nights)
        stop = _scenario_stop(scenario, v.commune_code)
        start = origin + dt.timedelta(seconds=v.start_s)
        end_s = v.start_s + (stop.service_minutes * 60 if stop is not None
                             else v.departure_s - v.start_s)
        end = origin + dt.timedelta(seconds=min(end_s, v.departure_s))
        cards.append(StopCard(
            seq=v.seq,
            service_start=Moment(start, (start.date() - base).days),
            service_end=Moment(end, (end.date() - base).days),
            wait=_wait(v, start, s.arrival.when, stop, vehicle),
            nights_here=tuple(n for n in nights if n.kind == "stop" and n.seq == v.seq),
            hours=opening_hours(stop.time_windows) if stop is not None else (),
            contact=v.contact or (stop.contact if stop is not None else ""),
            lon=v.lon, lat=v.lat,
            library_point=stop is not None and stop.location is not None,
            lodging=stop.lodging if stop is not None else None,
            address=stop.address if stop is not None else "",
            next_place=next_place if night_here else "",
            next_arrival=next_arrival if night_here else None))
    return tuple(cards)
