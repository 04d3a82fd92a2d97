"""Timetables for readers: when the library truck comes to a commune, for how long, and what
it brings, read from published plans (a cycle plan or, later, a season plan: both are plans
whose routes are dated trips).

A timetable shows **published data only**: the caller passes the plan of the newest published
version of each series (a newer version replaces what an older one said; versions are
immutable, see :mod:`storage.plans`). Every time is local time of Vietnam (UTC+7, no daylight
saving: :data:`planner.plan.TZ`); the hours a reader can come are the visit's service, from
its start to the truck's departure.

What a visit brings is read from the book batches it leaves (their languages and audiences,
:attr:`planner.plan.Plan.batches`); a visit that leaves none (a plan without ``rotation:``)
brings what the commune's reader profile asks for (:class:`planner.batches.CommuneProfile`),
said so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from planner.batches import CommuneProfile
from planner.plan import Plan, PlanBatch, clock

OFFER_SOURCES = ("batches", "profile", "none")


@dataclass(frozen=True)
class PublishedPlan:
    """A published version's plan as a timetable reads it: its series (the scenario name),
    its version number and the plan."""

    series: str
    number: int
    plan: Plan


@dataclass(frozen=True)
class Offer:
    """What a visit brings readers: the languages and audiences of its books, the batches
    that carry them, and where this was read from (``batches``: the batches it leaves;
    ``profile``: the commune's reader profile, the visit leaving no batch; ``none``)."""

    languages: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    batches: tuple[PlanBatch, ...] = ()
    source: str = "none"

    @property
    def children(self) -> bool:
        """Whether it brings children's books."""
        return "children" in self.audiences


@dataclass(frozen=True)
class TimetableVisit:
    """One visit of the library truck to a commune, as readers see it."""

    series: str
    version: int
    trip_id: str  # the route's key in its plan (its trip id, else its vehicle id)
    vehicle_id: str
    vehicle_name: str
    vehicle_phone: str
    depot_name: str  # the library the trip comes from
    commune_code: str
    commune_name: str
    lon: float
    lat: float
    seq: int
    start: dt.datetime  # service start, local time (UTC+7)
    end: dt.datetime  # departure
    contact: str  # the commune library's contact, as the plan has it
    batches: tuple[PlanBatch, ...]  # the batches left here

    @property
    def uid(self) -> str:
        """A stable identity across the versions of a series (a calendar app updates the
        event when a later version moves it): series, trip and commune."""
        return f"{self.series}/{self.trip_id}/{self.commune_code}"


def _local(start_date: dt.date, seconds: int) -> dt.datetime:
    return dt.datetime.fromisoformat(clock(start_date, seconds))


def plan_visits(published: PublishedPlan) -> list[TimetableVisit]:
    """Every visit of a published plan, in the order of its trips and stops."""
    plan = published.plan
    info = {b.batch_id: b for b in plan.batches}
    out = []
    for route in plan.routes:
        for v in route.visits:
            out.append(TimetableVisit(
                series=published.series, version=published.number, trip_id=route.key,
                vehicle_id=route.vehicle_id, vehicle_name=route.vehicle_name or route.vehicle_id,
                vehicle_phone=route.vehicle_phone, depot_name=route.depot_name,
                commune_code=v.commune_code, commune_name=v.commune_name, lon=v.lon,
                lat=v.lat, seq=v.seq,
                start=_local(plan.start_date, v.start_s),
                end=_local(plan.start_date, v.departure_s), contact=v.contact,
                batches=tuple(info.get(b) or PlanBatch(b, 0) for b in v.deliver_batches)))
    return out


def newest_of_each_series(plans: Iterable[PublishedPlan]) -> list[PublishedPlan]:
    """The newest version of each series (what is in force), by series name."""
    newest: dict[str, PublishedPlan] = {}
    for p in plans:
        if p.series not in newest or p.number > newest[p.series].number:
            newest[p.series] = p
    return [newest[s] for s in sorted(newest)]


def timetable(plans: Iterable[PublishedPlan], *, commune_code: str | None = None,
              vehicle_id: str | None = None, since: dt.date | None = None
              ) -> list[TimetableVisit]:
    """The visits in force (newest version of each series) to commune ``commune_code`` or of
    vehicle ``vehicle_id`` (or all), from ``since`` on (every date when ``None``), by time."""
    visits = [v for p in newest_of_each_series(plans) for v in plan_visits(p)
              if (commune_code is None or v.commune_code == commune_code)
              and (vehicle_id is None or v.vehicle_id == vehicle_id)
              and (since is None or v.end.date() >= since)]
    return sorted(visits, key=lambda v: (v.start, v.vehicle_id, v.commune_code))


def _merged(groups: Iterable[Sequence[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for g in groups for c in g))


def visit_offer(visit: TimetableVisit, profile: CommuneProfile | None) -> Offer:
    """What ``visit`` brings: its batches' languages and audiences, else its commune's reader
    profile (``profile``, ``None`` when the commune has none)."""
    if visit.batches and any(b.languages or b.audiences for b in visit.batches):
        return Offer(_merged(b.languages for b in visit.batches),
                     _merged(b.audiences for b in visit.batches), visit.batches, "batches")
    if profile is not None:
        return Offer(tuple(profile.languages), tuple(profile.audiences), visit.batches,
                     "profile")
    return Offer(batches=visit.batches)


def vehicles_of(plans: Iterable[PublishedPlan]) -> dict[str, str]:
    """``vehicle_id -> name`` of the vehicles of the plans in force."""
    out: dict[str, str] = {}
    for p in newest_of_each_series(plans):
        for r in p.plan.routes:
            out.setdefault(r.vehicle_id, r.vehicle_name or r.vehicle_id)
    return out


def communes_of(plans: Iterable[PublishedPlan]) -> Mapping[str, str]:
    """``commune_code -> name`` of the communes the plans in force visit."""
    out: dict[str, str] = {}
    for p in newest_of_each_series(plans):
        for r in p.plan.routes:
            for v in r.visits:
                out.setdefault(v.commune_code, v.commune_name)
    return out


__all__ = ["OFFER_SOURCES", "Offer", "PublishedPlan", "TimetableVisit", "communes_of",
           "newest_of_each_series", "plan_visits", "timetable", "vehicles_of", "visit_offer"]
