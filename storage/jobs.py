"""Background solve jobs: the one record of each job.

The web UI's job service adds a job when it starts the job's worker process and records the
worker's process id; the worker reports its status, stage, progress, error, log and the plan
it made into the same row; every page reads the job from here.

A job's state changes only while the job is active (queued or running): the worker's
reports (:func:`report_job`), a cancel (:func:`cancel_job`) and the verdict on a worker
that ended without reporting (:func:`fail_job`) are all conditional on that, so the first of
them to end a job wins. A cancelled job stays cancelled even if its worker reports later.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.errors import DuplicateError, InvalidRecordError, RecordNotFoundError
from storage.models import (
    ACTIVE_JOB_STATUSES,
    JOB_STATUSES,
    SCENARIO_SOURCES,
    JobRecord,
    utcnow,
)

MAX_JOB_ID = 32
# one better plan a worker reported: (elapsed s, objective) in rows written before the
# progress carried more, (elapsed s, objective, communes served, cost in VND or None) since
ProgressRow = tuple[float, int] | tuple[float, int, int, int | None]
MAX_STAGE = 32
MAX_NAME = 128


@dataclass(frozen=True)
class JobInfo:
    """A job as pages show it: what it solves, who started it and its last reported state."""

    job_id: str
    scenario_name: str
    scenario_source: str
    status: str
    stage: str
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    progress: tuple[ProgressRow, ...] = ()
    error: str | None = None
    log_tail: str = ""
    plan_name: str | None = None
    time_limit_s: float | None = None
    started_by: str | None = None
    worker_pid: int | None = None
    # the error as a catalogue key and its values, which pages word in their language ("":
    # the English ``error`` only)
    error_key: str = ""
    error_values: tuple[tuple[str, str], ...] = ()

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE_JOB_STATUSES

    @property
    def best_objective(self) -> int | None:
        """The objective of the best solution so far (``None`` before the first)."""
        return min((row[1] for row in self.progress), default=None)

    @property
    def best_served(self) -> int | None:
        """Communes the best plan so far serves (``None`` before the first report of it)."""
        last = self.progress[-1] if self.progress else ()
        return last[2] if len(last) == 4 else None

    @property
    def best_cost_vnd(self) -> int | None:
        """The cost in VND of the best plan so far (``None`` before it is priced)."""
        last = self.progress[-1] if self.progress else ()
        return last[3] if len(last) == 4 else None

    @property
    def elapsed_s(self) -> float:
        """Seconds since the job started (or was queued), up to its end."""
        start = self.started_at or self.created_at
        end = self.finished_at or utcnow()
        return max(0.0, (end - start).total_seconds())


def _progress_row(row: Sequence[Any]) -> ProgressRow:
    if len(row) >= 4:
        return (float(row[0]), int(row[1]), int(row[2]),
                None if row[3] is None else int(row[3]))
    return (float(row[0]), int(row[1]))


def _progress(text: str) -> tuple[ProgressRow, ...]:
    try:
        return tuple(_progress_row(row) for row in json.loads(text))
    except (ValueError, TypeError, IndexError):
        return ()


def _error_values(text: str | None) -> tuple[tuple[str, str], ...]:
    try:
        values = json.loads(text or "{}")
        return tuple((str(k), str(v)) for k, v in values.items())
    except (ValueError, TypeError, AttributeError):
        return ()


def _job_info(r: JobRecord) -> JobInfo:
    return JobInfo(r.job_id, r.scenario_name, r.scenario_source, r.status, r.stage,
                   r.created_at, r.started_at, r.finished_at, _progress(r.progress_json),
                   r.error, r.log_tail, r.plan_name, r.time_limit_s,
                   r.started_by.username if r.started_by is not None else None, r.worker_pid,
                   r.error_key or "", _error_values(r.error_values_json))


def _check_status(job_id: str, status: str) -> None:
    if status not in JOB_STATUSES:
        raise InvalidRecordError(f"job {job_id}: status {status!r}; use one of "
                                 f"{', '.join(JOB_STATUSES)}")


def add_job(session: Session, *, job_id: str, scenario_name: str,
            scenario_source: str = "file", time_limit_s: float | None = None,
            started_by_id: int | None = None) -> JobInfo:
    """Add a queued job; :class:`DuplicateError` if the id is taken."""
    if not job_id or len(job_id) > MAX_JOB_ID:
        raise InvalidRecordError(f"job id {job_id!r}: use 1-{MAX_JOB_ID} characters")
    if scenario_source not in SCENARIO_SOURCES:
        raise InvalidRecordError(f"job {job_id}: scenario source {scenario_source!r}; "
                                 f"use one of {', '.join(SCENARIO_SOURCES)}")
    now = utcnow()
    record = JobRecord(job_id=job_id, scenario_name=scenario_name[:MAX_NAME],
                       scenario_source=scenario_source, time_limit_s=time_limit_s,
                       status="queued", stage="queued", progress_json="[]", log_tail="",
                       started_by_id=started_by_id, created_at=now, updated_at=now)
    session.add(record)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DuplicateError(f"job {job_id} exists already") from None
    return _job_info(record)


def set_worker_pid(session: Session, job_id: str, pid: int) -> None:
    """Record the process id of the job's worker (to tell later whether it still runs)."""
    result = session.execute(update(JobRecord).where(JobRecord.job_id == job_id)
                             .values(worker_pid=pid, updated_at=utcnow()))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise RecordNotFoundError(f"no job {job_id!r}")


def report_job(session: Session, job_id: str, *, status: str | None = None,
               stage: str | None = None, progress: tuple[ProgressRow, ...] | None = None,
               error: str | None = None, plan_name: str | None = None,
               log_tail: str | None = None, error_key: str | None = None,
               error_values: Mapping[str, object] | None = None) -> bool:
    """What a job's worker reports: the fields given are written, while the job is active
    (``status="running"`` also sets when it started; a final status when it finished); an
    ``error`` may come with its catalogue ``error_key`` and ``error_values``.
    Returns ``False``, writing nothing, if the job is unknown or no longer active (it was
    cancelled, or found failed), so the worker knows to stop."""
    now = utcnow()
    values: dict[str, object] = {"updated_at": now}
    if status is not None:
        _check_status(job_id, status)
        values["status"] = status
        if status == "running":
            values["started_at"] = now
        elif status not in ACTIVE_JOB_STATUSES:
            values["finished_at"] = now
    if stage is not None:
        values["stage"] = stage[:MAX_STAGE]
    if progress is not None:
        values["progress_json"] = json.dumps([list(row) for row in progress])
        values["best_objective"] = min((row[1] for row in progress), default=None)
    if error is not None:
        values["error"] = error
    if error_key is not None:
        values["error_key"] = error_key[:64]
        values["error_values_json"] = json.dumps({k: str(v) for k, v in
                                                  (error_values or {}).items()},
                                                 ensure_ascii=False)
    if plan_name is not None:
        values["plan_name"] = plan_name[:MAX_NAME]
    if log_tail is not None:
        values["log_tail"] = log_tail
    result = session.execute(update(JobRecord).where(
        JobRecord.job_id == job_id, JobRecord.status.in_(ACTIVE_JOB_STATUSES)).values(values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _end(session: Session, job_id: str, status: str, *, error: str | None,
         log_tail: str | None) -> bool:
    now = utcnow()
    values: dict[str, object] = {"status": status, "error": error, "finished_at": now,
                                 "updated_at": now}
    if log_tail is not None:
        values["log_tail"] = log_tail
    result = session.execute(update(JobRecord).where(
        JobRecord.job_id == job_id, JobRecord.status.in_(ACTIVE_JOB_STATUSES)).values(values))
    if result.rowcount:  # type: ignore[attr-defined]
        return True
    if session.scalar(select(JobRecord.id).where(JobRecord.job_id == job_id)) is None:
        raise RecordNotFoundError(f"no job {job_id!r}")
    return False


def cancel_job(session: Session, job_id: str) -> bool:
    """Mark an active job cancelled (its worker, seeing that, reports nothing more); returns
    whether it was active. :class:`RecordNotFoundError` if there is no such job."""
    return _end(session, job_id, "cancelled", error=None, log_tail=None)


def fail_job(session: Session, job_id: str, *, error: str, log_tail: str | None = None) -> bool:
    """Mark an active job failed with ``error`` (a worker that could not start, or that
    ended without reporting); returns whether it was active, so it is reported once."""
    return _end(session, job_id, "failed", error=error, log_tail=log_tail)


def record_log_tail(session: Session, job_id: str, log_tail: str) -> None:
    """Keep the end of a job's log (written once its worker has ended, whatever its state)."""
    session.execute(update(JobRecord).where(JobRecord.job_id == job_id)
                    .values(log_tail=log_tail, updated_at=utcnow()))


def get_job(session: Session, job_id: str) -> JobInfo | None:
    record = session.scalar(select(JobRecord).where(JobRecord.job_id == job_id))
    return _job_info(record) if record is not None else None


def list_jobs(session: Session, *, limit: int = 50) -> list[JobInfo]:
    """The most recent jobs, newest first."""
    query = select(JobRecord).order_by(JobRecord.created_at.desc(), JobRecord.id.desc())
    return [_job_info(r) for r in session.scalars(query.limit(limit))]


def plans_made_by_jobs(session: Session) -> dict[str, str]:
    """``plan name -> job id`` of the jobs that made a plan."""
    rows = session.execute(select(JobRecord.plan_name, JobRecord.job_id)
                           .where(JobRecord.plan_name.is_not(None)))
    return {plan_name: job_id for plan_name, job_id in rows if plan_name is not None}
