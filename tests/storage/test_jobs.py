"""Solve jobs as stored (SQLite and PostgreSQL): added queued, reported by their worker only
while active, ended once (done, failed or cancelled, whichever comes first), listed newest
first; and the migration that gave workers their column keeps the jobs stored before it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from storage_testkit import make_user

from storage import Database, DuplicateError, InvalidRecordError, RecordNotFoundError, jobs
from storage.db import current_revision, head_revision, make_engine, upgrade


def _add(db: Database, job_id: str, **fields: Any) -> jobs.JobInfo:
    with db.begin() as s:
        return jobs.add_job(s, job_id=job_id, scenario_name="ha-giang-2026", **fields)


def _get(db: Database, job_id: str) -> jobs.JobInfo:
    with db.begin() as s:
        info = jobs.get_job(s, job_id)
    assert info is not None
    return info


def test_a_job_is_added_queued_with_who_started_it(db: Database) -> None:
    uid = make_user(db, "lan", "planner")
    added = _add(db, "aaaaaaaaaaaa", scenario_source="database", time_limit_s=20,
                 started_by_id=uid)
    assert (added.status, added.stage, added.started_by) == ("queued", "queued", "lan")
    assert added.active and added.progress == () and added.best_objective is None
    assert added.created_at.tzinfo is not None and added.worker_pid is None
    with db.begin() as s:
        jobs.set_worker_pid(s, "aaaaaaaaaaaa", 4242)
    stored = _get(db, "aaaaaaaaaaaa")
    assert stored.worker_pid == 4242 and stored.time_limit_s == 20
    assert stored.scenario_source == "database"
    with pytest.raises(DuplicateError, match="exists already"):
        _add(db, "aaaaaaaaaaaa")
    with pytest.raises(InvalidRecordError, match="scenario source 'web'"):
        _add(db, "bbbbbbbbbbbb", scenario_source="web")
    with pytest.raises(RecordNotFoundError), db.begin() as s:
        jobs.set_worker_pid(s, "cccccccccccc", 1)


def test_the_worker_reports_while_the_job_is_active(db: Database) -> None:
    _add(db, "aaaaaaaaaaaa")
    with db.begin() as s:
        assert jobs.report_job(s, "aaaaaaaaaaaa", status="running", stage="loading")
    running = _get(db, "aaaaaaaaaaaa")
    assert running.status == "running" and running.started_at is not None
    with db.begin() as s:
        assert jobs.report_job(s, "aaaaaaaaaaaa", stage="solving",
                               progress=((1.25, 900), (4.5, 850)))
    assert _get(db, "aaaaaaaaaaaa").best_objective == 850
    with db.begin() as s:
        assert jobs.report_job(s, "aaaaaaaaaaaa", status="done", stage="finished",
                               plan_name="ha-giang-2026-20261201-080000",
                               log_tail="wrote plan\n")
    done = _get(db, "aaaaaaaaaaaa")
    assert (done.status, done.plan_name, done.log_tail) == (
        "done", "ha-giang-2026-20261201-080000", "wrote plan\n")
    assert done.progress == ((1.25, 900), (4.5, 850)) and not done.active
    assert done.finished_at is not None and done.elapsed_s >= 0
    with db.begin() as s:  # a finished job takes no more reports, and cannot be cancelled
        assert not jobs.report_job(s, "aaaaaaaaaaaa", stage="writing")
        assert not jobs.cancel_job(s, "aaaaaaaaaaaa")
        assert not jobs.report_job(s, "nope", stage="writing")
        assert jobs.plans_made_by_jobs(s) == {"ha-giang-2026-20261201-080000": "aaaaaaaaaaaa"}
    assert _get(db, "aaaaaaaaaaaa") == done
    with pytest.raises(InvalidRecordError, match="status 'lost'"), db.begin() as s:
        jobs.report_job(s, "aaaaaaaaaaaa", status="lost")


def test_a_cancelled_job_stays_cancelled(db: Database) -> None:
    _add(db, "aaaaaaaaaaaa")
    with db.begin() as s:
        jobs.report_job(s, "aaaaaaaaaaaa", status="running")
        assert jobs.cancel_job(s, "aaaaaaaaaaaa")
    with db.begin() as s:  # the worker, not stopped in time, learns it should stop
        assert not jobs.report_job(s, "aaaaaaaaaaaa", status="done", plan_name="late")
        assert not jobs.fail_job(s, "aaaaaaaaaaaa", error="the worker ended")
        jobs.record_log_tail(s, "aaaaaaaaaaaa", "Terminated\n")
    cancelled = _get(db, "aaaaaaaaaaaa")
    assert (cancelled.status, cancelled.plan_name, cancelled.error) == ("cancelled", None, None)
    assert cancelled.finished_at is not None and cancelled.log_tail == "Terminated\n"
    with pytest.raises(RecordNotFoundError), db.begin() as s:
        jobs.cancel_job(s, "nope")


def test_a_lost_worker_fails_its_job_once(db: Database) -> None:
    _add(db, "aaaaaaaaaaaa")
    with db.begin() as s:
        assert jobs.fail_job(s, "aaaaaaaaaaaa", error="the worker ended", log_tail="crash\n")
    first = _get(db, "aaaaaaaaaaaa")
    with db.begin() as s:
        assert not jobs.fail_job(s, "aaaaaaaaaaaa", error="found again")
    assert _get(db, "aaaaaaaaaaaa") == first
    assert (first.status, first.error, first.log_tail) == ("failed", "the worker ended",
                                                           "crash\n")


def test_a_failed_job_keeps_its_error_key_and_values(db: Database) -> None:
    _add(db, "aaaaaaaaaaaa")
    with db.begin() as s:
        assert jobs.report_job(s, "aaaaaaaaaaaa", status="failed", error="Plan x is not ...",
                               error_key="season_replan_not_season",
                               error_values={"name": "x"})
    info = _get(db, "aaaaaaaaaaaa")
    assert (info.error, info.error_key, info.error_values) == (
        "Plan x is not ...", "season_replan_not_season", (("name", "x"),))
    _add(db, "bbbbbbbbbbbb")
    assert (_get(db, "bbbbbbbbbbbb").error_key, _get(db, "bbbbbbbbbbbb").error_values) == (
        "", ())


def test_jobs_are_listed_newest_first(db: Database) -> None:
    for job_id in ("aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"):
        _add(db, job_id)
    with db.begin() as s:
        assert [j.job_id for j in jobs.list_jobs(s)] == ["cccccccccccc", "bbbbbbbbbbbb",
                                                         "aaaaaaaaaaaa"]
        assert [j.job_id for j in jobs.list_jobs(s, limit=1)] == ["cccccccccccc"]
        assert jobs.get_job(s, "dddddddddddd") is None


def test_the_migration_keeps_the_jobs_stored_before_it(storage_url: str) -> None:
    engine = make_engine(storage_url)
    try:
        upgrade(engine, "0003")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO jobs (job_id, scenario_name, scenario_source, status, stage, "
                "progress_json, log_tail, run_name, created_at, updated_at) VALUES "
                "('aaaaaaaaaaaa', 'ha-giang-2026', 'file', 'done', 'finished', '[[1.5, 900]]', "
                "'', 'ha-giang-2026-20261201-080000', :t, :t)"),
                {"t": dt.datetime(2026, 12, 1, 8, 0)})
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        db = Database(engine, sessionmaker(engine, expire_on_commit=False))
        kept = _get(db, "aaaaaaaaaaaa")
        assert (kept.plan_name, kept.progress, kept.worker_pid) == (
            "ha-giang-2026-20261201-080000", ((1.5, 900),), None)
    finally:
        engine.dispose()
