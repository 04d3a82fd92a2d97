"""The annual report's records read from the database: every published version, the current
outcome of each of their stops, the recorded moves of book batches onto and off commune
shelves, the registry and the commune profiles; :func:`planner.yearreport.annual_report`
computes the report from them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.yearreport import AnnualReport, RecordedMove, RecordedOutcome, annual_report
from storage.batches import profiles, registry
from storage.calendar import published_plans
from storage.models import BatchMove, BatchRecord, PlanVersion, VisitOutcome, utcnow


def recorded_outcomes(session: Session) -> list[RecordedOutcome]:
    """The latest outcome of every stop of every published version."""
    rows = session.execute(
        select(VisitOutcome, PlanVersion.series, PlanVersion.number)
        .join(PlanVersion, VisitOutcome.version_id == PlanVersion.id)
        .order_by(VisitOutcome.recorded_at, VisitOutcome.id))
    latest: dict[tuple[int, str, int], RecordedOutcome] = {}
    for o, series, number in rows:
        latest[(o.version_id, o.vehicle_id, o.stop_seq)] = RecordedOutcome(
            series, number, o.vehicle_id, o.stop_seq, o.commune_code, o.status, o.recorded_at)
    return list(latest.values())


def commune_moves(session: Session) -> list[RecordedMove]:
    """The recorded moves of batches onto a commune's shelf and off it (trips, imported
    history, corrections; not the reports of a missing batch)."""
    rows = session.execute(
        select(BatchMove, BatchRecord.batch_id).join(BatchRecord)
        .where(BatchMove.kind != "missing")
        .where((BatchMove.dst_kind == "commune") | (BatchMove.src_kind == "commune"))
        .order_by(BatchMove.at, BatchMove.id))
    out = []
    for m, batch_id in rows:
        if m.dst_kind == "commune":
            out.append(RecordedMove(batch_id, m.dst_ref, True, m.at))
        if m.src_kind == "commune":
            out.append(RecordedMove(batch_id, m.src_ref, False, m.at))
    return out


def year_report(session: Session, year: int, *,
                produced_at: dt.datetime | None = None) -> AnnualReport:
    """The annual report of ``year`` from what the database holds."""
    return annual_report(year, plans=published_plans(session),
                         outcomes=recorded_outcomes(session), moves=commune_moves(session),
                         registry=registry(session), profiles=profiles(session),
                         produced_at=produced_at or utcnow())


__all__ = ["commune_moves", "recorded_outcomes", "year_report"]
