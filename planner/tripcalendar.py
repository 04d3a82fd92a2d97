"""A plan's trips on a calendar: the days each trip is out and the visits it makes on them,
and each commune's visits around a given date (its last and its next). The web UI's month
view of a season plan (or of a cycle plan of several trips) reads a plan through these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from planner.plan import Plan
from planner.problem import DAY_S


@dataclass(frozen=True)
class CalendarVisit:
    """A visit as the calendar shows it: the commune, its date and the trip that makes it."""

    commune_code: str
    commune_name: str
    date: dt.date
    trip: str  # the route's key ("" for a visit no trip took: a season's unserved visit)
    seq: int = 0


@dataclass(frozen=True)
class CalendarTrip:
    """A trip as the calendar shows it: the days it is out (from ``first`` to ``last``,
    both included), its vehicle and library, and its visits in order."""

    key: str
    vehicle_id: str
    vehicle_name: str
    depot_id: str
    depot_name: str
    trip_number: int
    first: dt.date
    last: dt.date
    visits: tuple[CalendarVisit, ...]

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class CommuneVisits:
    """A commune's visits in a plan: every one made by a trip, the visits due that no trip
    took (a season's), and around a date its last visit (before it) and its next (on or
    after it)."""

    commune_code: str
    commune_name: str
    visits: tuple[CalendarVisit, ...]
    unserved: tuple[dt.date, ...]
    last: CalendarVisit | None
    next: CalendarVisit | None


def _date(plan: Plan, seconds: int) -> dt.date:
    return plan.start_date + dt.timedelta(days=seconds // DAY_S)


def calendar_trips(plan: Plan) -> tuple[CalendarTrip, ...]:
    """The plan's trips with visits, by departure."""
    trips = [CalendarTrip(
        r.key, r.vehicle_id, r.vehicle_name, r.depot_id, r.depot_name, r.trip_number,
        _date(plan, r.depart_s), _date(plan, max(r.return_s, r.depart_s)),
        tuple(CalendarVisit(x.commune_code, x.commune_name, _date(plan, x.start_s), r.key,
                            x.seq) for x in r.visits))
        for r in plan.routes if r.visits]
    return tuple(sorted(trips, key=lambda t: (t.first, t.vehicle_id, t.trip_number)))


def commune_visits(plan: Plan, on: dt.date) -> tuple[CommuneVisits, ...]:
    """Every commune of the plan (served, or listed unserved) with its visits, its last
    visit before ``on`` and its next on or after it; the communes with the soonest next
    visit first, those with none left after them (by name)."""
    names = {u.commune_code: u.commune_name for u in plan.unserved}
    made: dict[str, list[CalendarVisit]] = {}
    for t in calendar_trips(plan):
        for x in t.visits:
            names[x.commune_code] = x.commune_name
            made.setdefault(x.commune_code, []).append(x)
    missed: dict[str, list[dt.date]] = {}
    for c in plan.season.communes if plan.season else ():
        missed[c.commune_code] = [plan.start_date + dt.timedelta(days=v.day)
                                  for v in c.visits if not v.trip_id]
        names.setdefault(c.commune_code, c.commune_code)
    out = []
    for code, name in names.items():
        visits = tuple(sorted(made.get(code, ()), key=lambda x: x.date))
        before = [x for x in visits if x.date < on]
        after = [x for x in visits if x.date >= on]
        out.append(CommuneVisits(code, name, visits, tuple(sorted(missed.get(code, ()))),
                                 before[-1] if before else None, after[0] if after else None))
    far = dt.date.max
    return tuple(sorted(out, key=lambda c: (c.next.date if c.next else far, c.commune_name,
                                            c.commune_code)))


__all__ = ["CalendarTrip", "CalendarVisit", "CommuneVisits", "calendar_trips",
           "commune_visits"]
