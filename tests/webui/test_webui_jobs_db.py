"""Solve jobs in the database, their one source of truth: pages read only the rows (the job
folders can go), a worker that ends without reporting is found through the process id in its
row, and real workers write their state, who started them and the plan they made."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from webui_testkit import FIXTURE_RUN, job_record, wait_for

from planner.solution import SolveProgress
from storage import jobs
from storage.models import PlanRecord
from webui.jobservice import WORKER_LOST
from webui.services import services_of
from webui.worker import PROGRESS_WRITE_S, JobReporter


def _stored(app: Flask, job_id: str) -> jobs.JobInfo | None:
    with services_of(app).database.begin() as s:
        return jobs.get_job(s, job_id)


def test_job_list_comes_from_the_database_and_outlives_the_folders(
        app: Flask, client: FlaskClient) -> None:
    folder = job_record(app, "aaaaaaaaaaaa", status="done", stage="finished",
                        progress=((0.2, 900), (0.5, 850)), started_s_ago=20, finished_s_ago=5,
                        plan_name=FIXTURE_RUN)
    assert 'data-job="aaaaaaaaaaaa"' in client.get("/jobs").get_data(as_text=True)
    shutil.rmtree(folder)
    page = client.get("/jobs").get_data(as_text=True)
    assert 'data-job="aaaaaaaaaaaa"' in page and f'href="/plans/{FIXTURE_RUN}"' in page
    job_page = client.get("/jobs/aaaaaaaaaaaa?lang=en").get_data(as_text=True)
    assert "done" in job_page and "850" in job_page
    data = client.get("/jobs/aaaaaaaaaaaa/status.json").get_json()
    assert data["status"] == "done" and data["best_objective"] == 850
    assert 14 < data["elapsed_s"] < 16
    assert client.post("/jobs/aaaaaaaaaaaa/cancel").status_code == 409
    assert client.get("/jobs/bbbbbbbbbbbb").status_code == 404


def test_a_running_job_is_failed_once_its_worker_is_gone(app: Flask,
                                                         client: FlaskClient) -> None:
    job_id = "dddddddddddd"
    # A stand-in worker: a live process whose command line names the job, as the real one's.
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", job_id])
    try:
        folder = job_record(app, job_id, status="running", stage="solving", started_s_ago=3,
                            worker_pid=worker.pid, log="solving...\n")
        shutil.rmtree(folder)  # the row alone says how the job stands
        data = client.get(f"/jobs/{job_id}/status.json").get_json()
        assert data["status"] == "running" and data["stage"] == "solving"
    finally:
        worker.kill()
        worker.wait()
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "thất bại" in page and WORKER_LOST in page
    stored = _stored(app, job_id)
    assert stored is not None and stored.status == "failed" and stored.error == WORKER_LOST
    assert stored.finished_at is not None
    client.get("/jobs")
    assert _stored(app, job_id) == stored  # reported once: read again, nothing changes


def test_a_started_job_records_who_and_its_end_without_a_page_read(
        app: Flask, client_as, scenarios_dir: Path) -> None:
    (scenarios_dir / "bad.yaml").write_text("schema_version: 1\nname: bad\n", encoding="utf-8")
    planner = client_as("planner")
    resp = planner.post("/jobs", data={"scenario": "bad"})
    assert resp.status_code == 303
    job_id = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    info = _stored(app, job_id)
    assert info is not None and info.started_by == "planner-user"
    assert info.scenario_source == "file" and info.worker_pid is not None
    # The worker fails on the invalid file and writes that down by itself.
    assert wait_for(lambda: (_stored(app, job_id) or info).status == "failed",
                    timeout_s=60, poll_s=0.5)
    final = _stored(app, job_id)
    assert final is not None and "stops" in (final.error or "")
    assert final.finished_at is not None and "problem" in final.log_tail
    folder = Path(app.config["JOBS_DIR"]) / job_id
    assert {p.name for p in folder.iterdir()} <= {"job.json", "scenario.yaml", "log.txt"}


def test_plans_made_by_jobs_are_registered_with_their_job(app: Flask,
                                                          client: FlaskClient,
                                                          runs_dir: Path) -> None:
    job_record(app, "aaaaaaaaaaaa", status="done", stage="finished", finished_s_ago=1,
               plan_name="made-by-a-job")
    shutil.copytree(runs_dir / FIXTURE_RUN, runs_dir / "made-by-a-job")
    assert "made-by-a-job" in client.get("/").get_data(as_text=True)
    with services_of(app).database.begin() as s:
        source = s.scalar(select(PlanRecord.source_job)
                          .where(PlanRecord.name == "made-by-a-job"))
    assert source == "aaaaaaaaaaaa"


def test_the_worker_writes_progress_at_most_once_a_second(app: Flask) -> None:
    db = services_of(app).database
    folder = job_record(app, "aaaaaaaaaaaa", status="queued", created_s_ago=0, log="solving\n")
    reporter = JobReporter(db, "aaaaaaaaaaaa", folder / "log.txt")
    assert reporter.report(status="running", stage="loading")
    for i, objective in enumerate((900, 880, 870)):  # three improvements within a second
        reporter.improved(SolveProgress(0.1 * i, 10 + i, 1_000_000 - i, objective))
    stored = _stored(app, "aaaaaaaaaaaa")
    assert stored is not None and stored.progress == ((0.0, 900, 10, 1_000_000),)  # the first
    assert stored.stage == "solving"
    assert (stored.best_served, stored.best_cost_vnd) == (10, 1_000_000)
    time.sleep(PROGRESS_WRITE_S)
    reporter.improved(SolveProgress(1.5, 13, None, 860))  # later: written with those before
    assert _stored(app, "aaaaaaaaaaaa").progress == (  # type: ignore[union-attr]
        (0.0, 900, 10, 1_000_000), (0.1, 880, 11, 999_999), (0.2, 870, 12, 999_998),
        (1.5, 860, 13, None))
    reporter.improved(SolveProgress(1.6, 14, 950_000, 850))
    assert reporter.finish("done", stage="finished", plan_name="p")  # the final write has all
    final = _stored(app, "aaaaaaaaaaaa")
    assert final is not None and final.best_objective == 850 and len(final.progress) == 5
    assert (final.best_served, final.best_cost_vnd) == (14, 950_000)
    assert final.log_tail == "solving\n" and final.plan_name == "p"


def test_a_cancelled_job_takes_no_more_reports(app: Flask) -> None:
    db = services_of(app).database
    folder = job_record(app, "aaaaaaaaaaaa", status="running", stage="solving",
                        created_s_ago=0)
    reporter = JobReporter(db, "aaaaaaaaaaaa", folder / "log.txt")
    assert reporter.still_active()
    with db.begin() as s:
        jobs.cancel_job(s, "aaaaaaaaaaaa")
    reporter.improved(SolveProgress(0.5, 3, None, 900))
    assert not reporter.active  # the worker now knows: it writes no plan
    assert not reporter.finish("done", stage="finished", plan_name="late")
    stored = _stored(app, "aaaaaaaaaaaa")
    assert stored is not None and (stored.status, stored.plan_name) == ("cancelled", None)
    assert stored.progress == ()
