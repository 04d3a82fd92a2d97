"""Solve jobs in the database: the web process copies each job's state from its folder (see
:mod:`webui.jobstore`; the worker keeps writing only files) into the ``jobs`` table when it
starts a job, whenever a job page or the job list is read, and when the worker ends. The
job list is read from the table, so it keeps who started each job, from which scenario,
its progress, error and plan after the job folders are cleaned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path

from planner.errors import ScenarioError
from storage import Database, jobs
from webui.errors import NotFoundError
from webui.jobstore import ACTIVE, JOB_ID, JobStatus, JobStore
from webui.scenariostore import InvalidScenarioError, ScenarioSources, solvable_text

log = logging.getLogger(__name__)

FOLDER_GONE = "the job folder was removed before the job ended"


@dataclasses.dataclass(frozen=True)
class StoredJob(JobStatus):
    """A job as the pages show it: its state plus what only the database knows."""

    started_by: str | None = None
    scenario_source: str = "file"
    folder_gone: bool = False


def _utc(ts: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(float(ts), dt.UTC) if ts is not None else None


def _epoch(when: dt.datetime | None) -> float | None:
    return when.timestamp() if when is not None else None


def job_state(status: JobStatus) -> jobs.JobState:
    """The database's view of a job folder's status."""
    return jobs.JobState(
        job_id=status.id, scenario_name=status.scenario, status=status.status,
        stage=status.stage, created_at=_utc(status.created_at) or dt.datetime.now(dt.UTC),
        started_at=_utc(status.started_at), finished_at=_utc(status.finished_at),
        progress=tuple(status.progress), error=status.error, log_tail=status.log_tail,
        run_name=status.run)


def _stored(info: jobs.JobInfo, *, folder_gone: bool = False) -> StoredJob:
    s = info.state
    return StoredJob(id=s.job_id, scenario=s.scenario_name, status=s.status, stage=s.stage,
                     created_at=s.created_at.timestamp(), started_at=_epoch(s.started_at),
                     finished_at=_epoch(s.finished_at), run=s.run_name, error=s.error,
                     progress=s.progress, log_tail=s.log_tail, started_by=info.started_by,
                     scenario_source=info.scenario_source, folder_gone=folder_gone)


def mirror(db: Database, statuses: list[JobStatus] | JobStatus, *,
           scenario_source: str | None = None, time_limit_s: float | None = None,
           started_by_id: int | None = None) -> None:
    """Write the state of each job that changed since it was last written."""
    items = [statuses] if isinstance(statuses, JobStatus) else list(statuses)
    if not items:
        return
    with db.begin() as s:
        for status in items:
            jobs.record_job(s, job_state(status), scenario_source=scenario_source,
                            time_limit_s=time_limit_s, started_by_id=started_by_id)


def mirror_finished(db: Database, store: JobStore, job_id: str) -> None:
    """The :attr:`JobStore.on_finish` hook: store a job's final state."""
    try:
        status = store.status(job_id)
    except NotFoundError:
        return
    mirror(db, status)


def _mark_folder_gone(db: Database, info: jobs.JobInfo) -> jobs.JobInfo:
    """A job the database knows as queued or running whose folder is gone: failed."""
    state = dataclasses.replace(info.state, status="failed", error=FOLDER_GONE,
                                finished_at=info.state.finished_at or dt.datetime.now(dt.UTC))
    with db.begin() as s:
        jobs.record_job(s, state)
        return jobs.get_job(s, state.job_id) or info


def _live(status: JobStatus, info: jobs.JobInfo | None) -> StoredJob:
    """The folder's live view of a job (the elapsed time of a running one) with what the
    database adds."""
    fields = {f.name: getattr(status, f.name) for f in dataclasses.fields(JobStatus)}
    if info is None:
        return StoredJob(**fields)
    return StoredJob(**fields, started_by=info.started_by,
                     scenario_source=info.scenario_source)


def job(db: Database, store: JobStore, job_id: str) -> StoredJob:
    """Job ``job_id`` from its folder (its state stored again if it changed), else from the
    database; :class:`NotFoundError` if neither knows it."""
    if not JOB_ID.match(job_id or ""):
        raise NotFoundError(f"unknown job {job_id!r}")
    try:
        status: JobStatus | None = store.status(job_id)
    except NotFoundError:
        status = None
    if status is not None:
        mirror(db, status)
    with db.begin() as s:
        info = jobs.get_job(s, job_id)
    if status is not None:
        return _live(status, info)
    if info is None:
        raise NotFoundError(f"unknown job {job_id!r}")
    if info.state.status in ACTIVE:
        info = _mark_folder_gone(db, info)
    return _stored(info, folder_gone=True)


def recent_jobs(db: Database, store: JobStore, *, limit: int = 30) -> list[StoredJob]:
    """The newest jobs from the database, after storing the state of the job folders."""
    live = {s.id: s for s in store.list(limit=limit)}
    mirror(db, list(live.values()))
    with db.begin() as s:
        infos = jobs.list_jobs(s, limit=limit)
    out = []
    for info in infos:
        status = live.get(info.state.job_id)
        if status is not None:
            out.append(_live(status, info))
            continue
        gone = False
        if info.state.status in ACTIVE:
            try:
                store.status(info.state.job_id)
            except NotFoundError:
                info, gone = _mark_folder_gone(db, info), True
        out.append(_stored(info, folder_gone=gone))
    return out


def start_recorded(db: Database, store: JobStore, *, scenario_name: str, user_id: int | None,
                   scenario_source: str, time_limit_s: float | None,
                   scenario_text: str | None = None, scenario_file: str | None = None) -> str:
    """Start a job (see :meth:`JobStore.start`) and store it with who started it."""
    job_id = store.start(Path(scenario_file) if scenario_file else None,
                         scenario_name=scenario_name, time_limit_s=time_limit_s,
                         scenario_text=scenario_text)
    try:
        status = store.status(job_id)
    except NotFoundError:  # cleaned at once: nothing to store
        return job_id
    try:
        mirror(db, status, scenario_source=scenario_source, time_limit_s=time_limit_s,
               started_by_id=user_id)
    except Exception:  # noqa: BLE001 - the job runs; its record is written on the next read
        log.exception("could not store job %s", job_id)
    return job_id


def start_solve(db: Database, store: JobStore, sources: ScenarioSources, name: str, *,
                user_id: int | None, time_limit_s: float | None,
                worker_reports_problems: bool = False) -> str:
    """Start solving scenario ``name`` (a file or a stored one) as the web UI solves: the
    job gets the resolved text with the libraries' edited values. An invalid scenario raises
    :class:`InvalidScenarioError`, unless ``worker_reports_problems`` and it is a file: then
    the job gets the file and its worker reports the problems (the jobs page's behaviour)."""
    entry = sources.get(name)
    try:
        text = solvable_text(sources, entry)
    except ScenarioError as exc:
        if worker_reports_problems and entry.path is not None:
            return start_recorded(db, store, scenario_name=name, user_id=user_id,
                                  scenario_source=entry.source, time_limit_s=time_limit_s,
                                  scenario_file=str(entry.path))
        raise InvalidScenarioError(exc) from None
    return start_recorded(db, store, scenario_name=name, user_id=user_id,
                          scenario_source=entry.source, time_limit_s=time_limit_s,
                          scenario_text=text)
