"""Solve jobs as stored (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from storage_testkit import FAST_HASH

from storage import Database, InvalidRecordError, jobs, users
from storage.jobs import JobState

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def test_storage_jobs_are_written_when_they_change(db: Database) -> None:
    with db.begin() as s:
        uid = users.create_user(s, username="lan", password="password-1", role="planner",
                                hash_method=FAST_HASH).id
    queued = JobState("aaaaaaaaaaaa", "ha-giang-2026", "queued", "queued", T0)
    with db.begin() as s:
        assert jobs.record_job(s, queued, scenario_source="database", time_limit_s=20,
                               started_by_id=uid)
    with db.begin() as s:
        assert not jobs.record_job(s, queued)  # nothing changed
    done = dataclasses.replace(
        queued, status="done", stage="finished", started_at=T0 + dt.timedelta(seconds=2),
        finished_at=T0 + dt.timedelta(seconds=30), progress=((1.25, 900), (4.5, 850)),
        log_tail="wrote plan\n", run_name="ha-giang-2026-20261201-080000")
    with db.begin() as s:
        assert jobs.record_job(s, done)
        assert not jobs.record_job(s, done)
    with db.begin() as s:
        info = jobs.get_job(s, "aaaaaaaaaaaa")
    assert info is not None and info.state == done
    assert info.started_by == "lan" and info.scenario_source == "database"
    assert info.time_limit_s == 20  # kept from when the job started
    failed = JobState("bbbbbbbbbbbb", "tiny", "failed", "loading", T0 + dt.timedelta(hours=1),
                      error="2 problems in scenario")
    with db.begin() as s:
        jobs.record_job(s, failed)
        listed = jobs.list_jobs(s)
        assert jobs.get_job(s, "cccccccccccc") is None
    assert [j.state.job_id for j in listed] == ["bbbbbbbbbbbb", "aaaaaaaaaaaa"]
    assert listed[0].started_by is None and listed[0].scenario_source == "file"
    with pytest.raises(InvalidRecordError, match="status 'lost'"):
        with db.begin() as s:
            jobs.record_job(s, dataclasses.replace(failed, status="lost"))
