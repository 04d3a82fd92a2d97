"""Background solve jobs as the web process last read them from their job folders (see
:mod:`webui.jobstore`): status, stage, progress, error, log and plan, who started each one
and from which scenario."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.errors import InvalidRecordError
from storage.models import JOB_STATUSES, SCENARIO_SOURCES, JobRecord, utcnow


@dataclass(frozen=True)
class JobState:
    """A background solve as its job folder describes it (see :mod:`webui.jobstore`)."""

    job_id: str
    scenario_name: str
    status: str
    stage: str
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    progress: tuple[tuple[float, int], ...] = ()
    error: str | None = None
    log_tail: str = ""
    run_name: str | None = None


@dataclass(frozen=True)
class JobInfo:
    """A stored job: its last known state, where its scenario came from and who started it."""

    state: JobState
    scenario_source: str
    time_limit_s: float | None
    started_by: str | None
    updated_at: dt.datetime


def _job_state(r: JobRecord) -> JobState:
    try:
        progress = tuple((float(a), int(b)) for a, b in json.loads(r.progress_json))
    except (ValueError, TypeError):
        progress = ()
    return JobState(r.job_id, r.scenario_name, r.status, r.stage, r.created_at, r.started_at,
                    r.finished_at, progress, r.error, r.log_tail, r.run_name)


def _job_info(r: JobRecord) -> JobInfo:
    return JobInfo(_job_state(r), r.scenario_source, r.time_limit_s,
                   r.started_by.username if r.started_by is not None else None, r.updated_at)


def record_job(session: Session, state: JobState, *, scenario_source: str | None = None,
               time_limit_s: float | None = None, started_by_id: int | None = None,
               _retry: bool = True) -> bool:
    """Store the state of a job (added, or updated if it changed); the scenario source,
    time limit and starting user are kept once known. Returns whether anything was written."""
    if state.status not in JOB_STATUSES:
        raise InvalidRecordError(f"job {state.job_id}: status {state.status!r}; use one of "
                                 f"{', '.join(JOB_STATUSES)}")
    if scenario_source is not None and scenario_source not in SCENARIO_SOURCES:
        raise InvalidRecordError(f"job {state.job_id}: scenario source {scenario_source!r}; "
                                 f"use one of {', '.join(SCENARIO_SOURCES)}")
    record = session.scalar(select(JobRecord).where(JobRecord.job_id == state.job_id))
    if record is not None and _job_state(record) == state and \
            (scenario_source is None or record.scenario_source == scenario_source) and \
            (started_by_id is None or record.started_by_id is not None) and \
            (time_limit_s is None or record.time_limit_s is not None):
        return False
    if record is None:
        record = JobRecord(job_id=state.job_id, scenario_source=scenario_source or "file")
        session.add(record)
    elif scenario_source is not None:
        record.scenario_source = scenario_source
    record.scenario_name = state.scenario_name[:128]
    record.status, record.stage = state.status, state.stage[:32]
    record.created_at, record.started_at, record.finished_at = (
        state.created_at, state.started_at, state.finished_at)
    record.progress_json = json.dumps([[a, b] for a, b in state.progress])
    record.best_objective = min((b for _, b in state.progress), default=None)
    record.error, record.log_tail = state.error, state.log_tail
    record.run_name = state.run_name[:128] if state.run_name else None
    if time_limit_s is not None:
        record.time_limit_s = time_limit_s
    if started_by_id is not None and record.started_by_id is None:
        record.started_by_id = started_by_id
    record.updated_at = utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        if not _retry:
            raise
        if record in session:
            session.expunge(record)
        # another request added this job at the same moment: update that record instead
        return record_job(session, state, scenario_source=scenario_source,
                          time_limit_s=time_limit_s, started_by_id=started_by_id,
                          _retry=False)
    return True


def get_job(session: Session, job_id: str) -> JobInfo | None:
    record = session.scalar(select(JobRecord).where(JobRecord.job_id == job_id))
    return _job_info(record) if record is not None else None


def list_jobs(session: Session, *, limit: int = 50) -> list[JobInfo]:
    """The most recent jobs, newest first."""
    query = select(JobRecord).order_by(JobRecord.created_at.desc(), JobRecord.id.desc())
    return [_job_info(r) for r in session.scalars(query.limit(limit))]
