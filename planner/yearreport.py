"""The annual report to the Department of Culture (due before 15 November each year): visits
planned, done and failed, book batches moved, communes served against the programme's
targets, by commune and by the languages and audiences of the commune profiles; km, hours,
nights and cost of the published plans. Pure computation over records the caller reads
(:mod:`storage.reports` reads them from the database).

Definitions (one each, stated here):

- **A visit** is a commune visited on a day by a trip of a published series (a scenario's
  versions): ``(series, commune, date)``, the date of its service start (local time). The
  visits of a year are those **planned** in the newest version of each series, together with
  those an **outcome** was recorded for on any version of the series (a re-plan drops the
  visits already done from its newer version; they still count).
- **Done / failed**: the latest outcome recorded for the visit, on whichever version; a visit
  with no outcome is **not recorded**. ``planned = done + failed + not recorded``.
- **Communes served**: communes with at least one visit done in the year; coverage is the one
  definition :func:`planner.kpis.coverage` over the service area of the newest published
  plan of the year, and the targets are :data:`planner.kpis.PROGRAMME_TARGETS` (read through
  :meth:`planner.kpis.Kpis.target_progress`).
- **Batches and books moved**: recorded moves of book batches onto commune shelves
  (delivered) and off them (collected) in the year (moves are written only when a trip's
  outcome is recorded); books are counted where the registry knows a batch's book count.
- **km, hours, nights, cost**: the sums of the KPIs of the newest version of each series
  whose plan starts in the year (as planned; the plan's own figures).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from planner.batches import Batch, CommuneProfile
from planner.kpis import Kpis, TargetProgress, coverage
from planner.plan import TZ
from planner.timetable import PublishedPlan, newest_of_each_series, plan_visits

OUTCOME_DONE, OUTCOME_FAILED = "done", "failed"


@dataclass(frozen=True)
class RecordedOutcome:
    """The current outcome of one stop of a published version."""

    series: str
    version: int
    trip_id: str  # the route's key (the ``vehicle_id`` an outcome is recorded under)
    stop_seq: int
    commune_code: str
    status: str
    recorded_at: dt.datetime


@dataclass(frozen=True)
class RecordedMove:
    """A recorded move of a batch onto a commune's shelf or off it."""

    batch_id: str
    commune_code: str
    delivered: bool  # True: left at the commune; False: collected from it
    at: dt.datetime


@dataclass(frozen=True)
class CommuneRow:
    code: str
    name: str
    planned: int
    done: int
    failed: int
    batches_delivered: int
    books_delivered: int
    languages: tuple[str, ...]  # of its reader profile
    audiences: tuple[str, ...]

    @property
    def not_recorded(self) -> int:
        return self.planned - self.done - self.failed


@dataclass(frozen=True)
class GroupRow:
    """Communes whose profile records a language (or an audience), and what they got."""

    code: str
    communes: int  # with this language (audience) in their profile
    communes_served: int  # of those, served in the year
    visits_done: int
    batches_delivered: int  # batches in this language (for this audience) delivered


@dataclass(frozen=True)
class AnnualReport:
    year: int
    produced_at: dt.datetime
    versions: tuple[str, ...]  # the published versions read (``series@vN``)
    visits_planned: int
    visits_done: int
    visits_failed: int
    communes_planned: int
    communes_served: int
    service_area_name: str | None
    service_area_communes: int
    coverage: float
    targets: tuple[TargetProgress, ...]
    batches_delivered: int
    batches_collected: int
    books_delivered: int
    crates_delivered: int
    batches_without_book_count: int
    km: float
    driving_hours: float
    nights_away: int
    trips: int
    cost_vnd: float | None  # None: no plan of the year is costed
    uncosted_plans: int
    communes: tuple[CommuneRow, ...]
    languages: tuple[GroupRow, ...]
    audiences: tuple[GroupRow, ...]
    # (month, visits planned, done, failed) of each month with a visit
    months: tuple[tuple[int, int, int, int], ...] = field(default=())

    @property
    def visits_not_recorded(self) -> int:
        return self.visits_planned - self.visits_done - self.visits_failed


VisitKey = tuple[str, str, dt.date]  # series, commune, date


def annual_report(year: int, *, plans: Sequence[PublishedPlan],
                  outcomes: Iterable[RecordedOutcome], moves: Iterable[RecordedMove],
                  registry: Iterable[Batch], profiles: Mapping[str, CommuneProfile],
                  produced_at: dt.datetime) -> AnnualReport:
    """The report of ``year`` from every published version (``plans``), the current outcome
    of each of their stops, the recorded batch moves, the batch registry and the commune
    profiles (see the module's definitions)."""
    names: dict[str, str] = {}
    date_of: dict[tuple[str, int, str, int], VisitKey] = {}
    for p in plans:
        for v in plan_visits(p):
            names.setdefault(v.commune_code, v.commune_name)
            date_of[(p.series, p.number, v.trip_id, v.seq)] = (
                p.series, v.commune_code, v.start.date())
    newest = newest_of_each_series(plans)
    planned = {(v.series, v.commune_code, v.start.date()) for p in newest for v in plan_visits(p)
               if v.start.year == year}
    latest: dict[VisitKey, RecordedOutcome] = {}
    for o in outcomes:
        key = date_of.get((o.series, o.version, o.trip_id, o.stop_seq))
        if key is None or key[2].year != year:
            continue
        if key not in latest or o.recorded_at >= latest[key].recorded_at:
            latest[key] = o
    visits = planned | set(latest)
    status = {k: o.status for k, o in latest.items()}

    batches = {b.batch_id: b for b in registry}
    year_moves = [m for m in moves if m.at.astimezone(TZ).year == year]
    delivered = [m for m in year_moves if m.delivered]

    by_commune: dict[str, Counter[str]] = defaultdict(Counter)
    months: dict[int, Counter[str]] = defaultdict(Counter)
    for k in visits:
        s = status.get(k, "")
        by_commune[k[1]]["planned"] += 1
        by_commune[k[1]][s] += 1
        months[k[2].month]["planned"] += 1
        months[k[2].month][s] += 1
    for m in delivered:
        by_commune[m.commune_code]["batches"] += 1
        known = batches.get(m.batch_id)
        by_commune[m.commune_code]["books"] += (known.books or 0) if known else 0
    served = {c for c, n in by_commune.items() if n[OUTCOME_DONE]}
    rows = tuple(CommuneRow(
        code, names.get(code, code), n["planned"], n[OUTCOME_DONE], n[OUTCOME_FAILED],
        n["batches"], n["books"],
        tuple(profiles[code].languages) if code in profiles else (),
        tuple(profiles[code].audiences) if code in profiles else ())
        for code, n in sorted(by_commune.items()))

    def groups(attr: str) -> tuple[GroupRow, ...]:
        codes = sorted({c for p in profiles.values() for c in getattr(p, attr)})
        out = []
        for code in codes:
            communes = {c for c, p in profiles.items() if code in getattr(p, attr)}
            out.append(GroupRow(
                code, len(communes), len(communes & served),
                sum(by_commune[c][OUTCOME_DONE] for c in communes if c in by_commune),
                sum(1 for m in delivered if m.batch_id in batches
                    and code in getattr(batches[m.batch_id], attr))))
        return tuple(out)

    area = _service_area(newest, year)
    in_year = [p for p in newest if p.plan.start_date.year == year]
    costed = [p.plan.kpis.cost_vnd for p in in_year if p.plan.kpis.cost_vnd is not None]
    done = sum(1 for s in status.values() if s == OUTCOME_DONE)
    failed = sum(1 for s in status.values() if s == OUTCOME_FAILED)
    return AnnualReport(
        year=year, produced_at=produced_at,
        versions=tuple(f"{p.series}@v{p.number}" for p in sorted(
            plans, key=lambda p: (p.series, p.number))),
        visits_planned=len(visits), visits_done=done, visits_failed=failed,
        communes_planned=len({k[1] for k in visits}), communes_served=len(served),
        service_area_name=area.service_area_name, service_area_communes=area.service_area_communes,
        coverage=coverage(len(served), area.service_area_communes),
        targets=Kpis(communes_served=len(served),
                     service_area_communes=area.service_area_communes).target_progress(),
        batches_delivered=len(delivered),
        batches_collected=sum(1 for m in year_moves if not m.delivered),
        books_delivered=sum(batches[m.batch_id].books or 0 for m in delivered
                            if m.batch_id in batches),
        crates_delivered=sum(batches[m.batch_id].crates for m in delivered
                             if m.batch_id in batches),
        batches_without_book_count=sum(1 for m in delivered if m.batch_id not in batches
                                       or batches[m.batch_id].books is None),
        km=round(sum(p.plan.kpis.km for p in in_year), 1),
        driving_hours=round(sum(p.plan.kpis.driving_hours for p in in_year), 2),
        nights_away=sum(p.plan.kpis.nights_away for p in in_year),
        trips=sum(p.plan.kpis.trips for p in in_year),
        cost_vnd=round(sum(costed)) if costed else None,
        uncosted_plans=len(in_year) - len(costed),
        communes=rows, languages=groups("languages"), audiences=groups("audiences"),
        months=tuple((m, n["planned"], n[OUTCOME_DONE], n[OUTCOME_FAILED])
                     for m, n in sorted(months.items())))


def _service_area(newest: Sequence[PublishedPlan], year: int) -> Kpis:
    """The KPIs naming the service area the year is measured against: those of the latest
    plan (by start date) among the plans in force that start in the year, else of any."""
    candidates = [p for p in newest if p.plan.start_date.year == year] or list(newest)
    if not candidates:
        return Kpis()
    return max(candidates, key=lambda p: (p.plan.start_date, p.series)).plan.kpis


__all__ = ["AnnualReport", "CommuneRow", "GroupRow", "RecordedMove", "RecordedOutcome",
           "annual_report"]
