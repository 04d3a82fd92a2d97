"""Solve jobs in the database: the stored state (SQLite and PostgreSQL), the mirror of the
job folders that the job pages refresh, the list that outlives the folders, and the hook that
stores a job's final state when its worker ends."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN, job_folder, wait_for

from webui.jobrecords import FOLDER_GONE
from webui.storage import Database, InvalidRecordError, repository
from webui.storage.repository import JobState

FAST_HASH = "pbkdf2:sha256:1000"
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


# --- storage (SQLite and PostgreSQL) --------------------------------------------------------

@pytest.fixture
def db(storage_url: str) -> Iterator[Database]:
    database = Database.from_url(storage_url)
    yield database
    database.dispose()


def test_storage_jobs_are_written_when_they_change(db: Database) -> None:
    with db.begin() as s:
        uid = repository.create_user(s, username="lan", password="password-1",
                                     role="planner", hash_method=FAST_HASH).id
    queued = JobState("aaaaaaaaaaaa", "ha-giang-2026", "queued", "queued", T0)
    with db.begin() as s:
        assert repository.record_job(s, queued, scenario_source="database", time_limit_s=20,
                                     started_by_id=uid)
    with db.begin() as s:
        assert not repository.record_job(s, queued)  # nothing changed
    done = dataclasses.replace(
        queued, status="done", stage="finished", started_at=T0 + dt.timedelta(seconds=2),
        finished_at=T0 + dt.timedelta(seconds=30), progress=((1.25, 900), (4.5, 850)),
        log_tail="wrote plan\n", run_name="ha-giang-2026-20261201-080000")
    with db.begin() as s:
        assert repository.record_job(s, done)
        assert not repository.record_job(s, done)
    with db.begin() as s:
        info = repository.get_job(s, "aaaaaaaaaaaa")
    assert info is not None and info.state == done
    assert info.started_by == "lan" and info.scenario_source == "database"
    assert info.time_limit_s == 20  # kept from when the job started
    failed = JobState("bbbbbbbbbbbb", "tiny", "failed", "loading", T0 + dt.timedelta(hours=1),
                      error="2 problems in scenario")
    with db.begin() as s:
        repository.record_job(s, failed)
        listed = repository.list_jobs(s)
        assert repository.get_job(s, "cccccccccccc") is None
    assert [j.state.job_id for j in listed] == ["bbbbbbbbbbbb", "aaaaaaaaaaaa"]
    assert listed[0].started_by is None and listed[0].scenario_source == "file"
    with pytest.raises(InvalidRecordError, match="status 'lost'"):
        with db.begin() as s:
            repository.record_job(s, dataclasses.replace(failed, status="lost"))


# --- the web process mirrors the job folders ---------------------------------------------

def _stored(app: Flask, job_id: str) -> repository.JobInfo | None:
    with app.extensions["mlp.db"].begin() as s:
        return repository.get_job(s, job_id)


def test_job_list_comes_from_the_database_and_outlives_the_folders(
        app: Flask, client: FlaskClient) -> None:
    folder = job_folder(app, "aaaaaaaaaaaa", progress="0.2\t900\n0.5\t850\n",
                         state={"status": "done", "stage": "finished",
                                "started_at": time.time() - 20,
                                "finished_at": time.time() - 5, "run": FIXTURE_RUN})
    assert _stored(app, "aaaaaaaaaaaa") is None
    assert 'data-job="aaaaaaaaaaaa"' in client.get("/jobs").get_data(as_text=True)
    info = _stored(app, "aaaaaaaaaaaa")
    assert info is not None and info.state.status == "done"
    assert info.state.progress == ((0.2, 900), (0.5, 850)) and info.state.run_name == FIXTURE_RUN
    shutil.rmtree(folder)
    page = client.get("/jobs").get_data(as_text=True)
    assert 'data-job="aaaaaaaaaaaa"' in page and f'href="/plans/{FIXTURE_RUN}"' in page
    job_page = client.get("/jobs/aaaaaaaaaaaa?lang=en").get_data(as_text=True)
    assert "done" in job_page and "850" in job_page
    data = client.get("/jobs/aaaaaaaaaaaa/status.json").get_json()
    assert data["status"] == "done" and data["best_objective"] == 850
    assert 14 < data["elapsed_s"] < 16
    assert client.post("/jobs/aaaaaaaaaaaa/cancel").status_code in (404, 409)
    assert client.get("/jobs/bbbbbbbbbbbb").status_code == 404


def test_a_running_job_whose_folder_vanished_is_failed(app: Flask,
                                                       client: FlaskClient) -> None:
    folder = job_folder(app, "dddddddddddd", state={"status": "running", "stage": "solving",
                                                     "started_at": time.time()})
    (folder / "worker.pid").unlink(missing_ok=True)  # starting up: counted as running
    data = client.get("/jobs/dddddddddddd/status.json").get_json()
    assert data["status"] == "running"
    assert _stored(app, "dddddddddddd").state.status == "running"  # type: ignore[union-attr]
    shutil.rmtree(folder)
    page = client.get("/jobs/dddddddddddd").get_data(as_text=True)
    assert "thất bại" in page and FOLDER_GONE in page
    stored = _stored(app, "dddddddddddd")
    assert stored is not None and stored.state.status == "failed"
    assert stored.state.error == FOLDER_GONE and stored.state.finished_at is not None


def test_a_started_job_records_who_and_its_end_without_a_page_read(
        app: Flask, client_as, scenarios_dir: Path) -> None:
    (scenarios_dir / "bad.yaml").write_text("schema_version: 1\nname: bad\n", encoding="utf-8")
    planner = client_as("planner")
    resp = planner.post("/jobs", data={"scenario": "bad"})
    assert resp.status_code == 303
    job_id = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    info = _stored(app, job_id)
    assert info is not None and info.started_by == "planner-user"
    assert info.scenario_source == "file"
    # The worker fails on the invalid file; the store's hook writes that down by itself.
    assert wait_for(lambda: (_stored(app, job_id) or info).state.status == "failed",
                    timeout_s=60, poll_s=0.5)
    final = _stored(app, job_id)
    assert final is not None and "stops" in (final.state.error or "")
    assert final.state.finished_at is not None
