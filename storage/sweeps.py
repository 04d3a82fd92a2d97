"""Sweeps of scenario variants as they ran: ``planner sweep``, ``planner fleet-size`` and the
region (``planner region``), each with its variants' results, for the command line and the
web UI's sweep pages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.sweep import SweepRun, VariantResult
from storage.errors import InvalidRecordError, RecordNotFoundError
from storage.models import SWEEP_KINDS, SweepRecord, SweepResultRecord, utcnow


@dataclass(frozen=True)
class SweepInfo:
    """A stored sweep; ``results`` in the order of its variants (empty in a listing)."""

    id: int
    name: str
    kind: str
    title: str
    engine: str
    workers: int
    wall_s: float
    variants: int
    failed: int
    spec: Mapping[str, Any]
    summary: Mapping[str, Any] | None
    created_at: dt.datetime
    results: tuple[VariantResult, ...] = ()


def save_sweep(session: Session, run: SweepRun, *, kind: str, spec: Mapping[str, Any],
               title: str = "", summary: Mapping[str, Any] | None = None,
               user_id: int | None = None) -> int:
    """Store a sweep and its results; returns its id."""
    if kind not in SWEEP_KINDS:
        raise InvalidRecordError(f"sweep kind {kind!r}: use one of {', '.join(SWEEP_KINDS)}")
    record = SweepRecord(
        name=run.name[:128], kind=kind, title=title[:2000], engine=run.engine[:255],
        workers=run.workers, wall_s=run.wall_s, variants=len(run.results),
        failed=len(run.failed), spec_json=json.dumps(spec, ensure_ascii=False, default=str),
        summary_json=None if summary is None else json.dumps(summary, ensure_ascii=False),
        created_by_id=user_id, created_at=utcnow())
    session.add(record)
    session.flush()
    for i, result in enumerate(run.results):
        session.add(SweepResultRecord(sweep_id=record.id, position=i, key=result.key[:255],
                                      status=result.status,
                                      result_json=json.dumps(result.to_dict(),
                                                             ensure_ascii=False)))
    session.flush()
    return record.id


def _info(r: SweepRecord, results: tuple[VariantResult, ...] = ()) -> SweepInfo:
    return SweepInfo(r.id, r.name, r.kind, r.title, r.engine, r.workers, r.wall_s, r.variants,
                     r.failed, json.loads(r.spec_json or "{}"),
                     json.loads(r.summary_json) if r.summary_json else None, r.created_at,
                     results)


def list_sweeps(session: Session, *, kind: str | None = None, limit: int = 200
                ) -> list[SweepInfo]:
    """Stored sweeps, newest first."""
    query = select(SweepRecord).order_by(SweepRecord.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(SweepRecord.kind == kind)
    return [_info(r) for r in session.scalars(query)]


def get_sweep(session: Session, sweep_id: int) -> SweepInfo:
    """A stored sweep with its results; :class:`RecordNotFoundError` when there is none."""
    record = session.get(SweepRecord, sweep_id)
    if record is None:
        raise RecordNotFoundError(f"no sweep {sweep_id}: list them with `planner sweeps`")
    rows = session.scalars(select(SweepResultRecord)
                           .where(SweepResultRecord.sweep_id == sweep_id)
                           .order_by(SweepResultRecord.position))
    return _info(record, tuple(VariantResult.from_dict(json.loads(r.result_json))
                               for r in rows))


def latest_sweep(session: Session, *, kind: str) -> SweepInfo | None:
    """The newest stored sweep of ``kind``, with its results (None when there is none)."""
    newest = session.scalar(select(func.max(SweepRecord.id)).where(SweepRecord.kind == kind))
    return None if newest is None else get_sweep(session, newest)
