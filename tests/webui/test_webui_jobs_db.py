"""Solve jobs in the database: the stored state (SQLite and PostgreSQL), the mirror of the
job folders that the job pages refresh, the list that outlives the folders, and the hook that
stores a job's final state when its worker ends."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN, job_folder, wait_for

from storage import jobs
from webui.jobrecords import FOLDER_GONE

FAST_HASH = "pbkdf2:sha256:1000"
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


# --- the web process mirrors the job folders ---------------------------------------------

def _stored(app: Flask, job_id: str) -> jobs.JobInfo | None:
    with app.extensions["mlp.db"].begin() as s:
        return jobs.get_job(s, job_id)


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
