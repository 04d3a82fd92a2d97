"""Background solves: the form, validation, job pages, and real worker processes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN, job_record, tiny_scenario_yaml, wait_for

from webui.jobservice import JobService
from webui.services import services_of


def _job_id(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


def test_jobs_page_lists_scenarios(client: FlaskClient, scenarios_dir: Path) -> None:
    (scenarios_dir / "tiny.yaml").write_text(tiny_scenario_yaml(), encoding="utf-8")
    (scenarios_dir / "notes.txt").write_text("not a scenario", encoding="utf-8")
    page = client.get("/jobs").get_data(as_text=True)
    assert '<option value="tiny">' in page and "notes" not in page


@pytest.mark.parametrize("name", ["nope", "../scenarios/tiny", "tiny.yaml", "", "/etc/passwd"])
def test_start_with_unknown_scenario_is_404(client: FlaskClient, scenarios_dir: Path,
                                            name: str) -> None:
    (scenarios_dir / "tiny.yaml").write_text(tiny_scenario_yaml(), encoding="utf-8")
    assert client.post("/jobs", data={"scenario": name}).status_code == 404


@pytest.mark.parametrize("limit", ["abc", "0", "-5", "100000", "nan", "inf", "1e308", "0.5"])
def test_start_with_bad_time_limit_is_400(client: FlaskClient, scenarios_dir: Path,
                                          limit: str) -> None:
    (scenarios_dir / "tiny.yaml").write_text(tiny_scenario_yaml(), encoding="utf-8")
    resp = client.post("/jobs", data={"scenario": "tiny", "time_limit_s": limit})
    assert resp.status_code == 400


@pytest.mark.parametrize("job_id", ["0123456789ab", "..", "..%2F..%2Fetc", "ZZZ"])
def test_unknown_job_is_404(client: FlaskClient, job_id: str) -> None:
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.post(f"/jobs/{job_id}/cancel").status_code == 404


def test_done_job_links_to_its_plan(app: Flask, client: FlaskClient) -> None:
    job_record(app, "aaaaaaaaaaaa", status="done", stage="finished",
               progress=((0.2, 900), (0.5, 850)), started_s_ago=20, finished_s_ago=5,
               plan_name=FIXTURE_RUN)
    page = client.get("/jobs/aaaaaaaaaaaa?lang=en").get_data(as_text=True)
    assert "done" in page and f'href="/plans/{FIXTURE_RUN}"' in page
    assert "850" in page and "http-equiv=\"refresh\"" not in page
    data = client.get("/jobs/aaaaaaaaaaaa/status.json").get_json()
    assert data["status"] == "done" and data["best_objective"] == 850
    assert data["plan_url"] == f"/plans/{FIXTURE_RUN}" and data["improvements"] == 2
    assert 14 < data["elapsed_s"] < 16
    assert client.post("/jobs/aaaaaaaaaaaa/cancel").status_code == 409
    assert "aaaaaaaaaaaa" in client.get("/jobs").get_data(as_text=True)


def test_failed_job_shows_the_error(app: Flask, client: FlaskClient) -> None:
    job_record(app, "bbbbbbbbbbbb", status="failed", finished_s_ago=0,
               error="scenario.yaml: field `stops` missing")
    page = client.get("/jobs/bbbbbbbbbbbb").get_data(as_text=True)
    assert "thất bại" in page and "field `stops` missing" in page and "log line" in page


def test_job_whose_worker_vanished_is_failed_once(app: Flask, client: FlaskClient) -> None:
    job_record(app, "cccccccccccc", status="running", stage="solving", started_s_ago=20,
               worker_pid=999999999, log="Segmentation fault\n")
    data = client.get("/jobs/cccccccccccc/status.json").get_json()
    assert data["status"] == "failed" and "ended without reporting" in data["error"]
    service: JobService = services_of(app).jobs
    first = service.status("cccccccccccc")
    assert first.finished_at is not None and "Segmentation fault" in first.log_tail
    assert service.list()[0] == first  # found once, then read as it was stored


def test_job_without_a_worker_is_failed_after_a_while(app: Flask, client: FlaskClient) -> None:
    job_record(app, "eeeeeeeeeeee", status="queued", created_s_ago=0)  # its worker starts
    assert client.get("/jobs/eeeeeeeeeeee/status.json").get_json()["status"] == "queued"
    job_record(app, "ffffffffffff", status="queued", created_s_ago=60)  # it never started
    data = client.get("/jobs/ffffffffffff/status.json").get_json()
    assert data["status"] == "failed" and "ended without reporting" in data["error"]


def test_running_job_page_refreshes_and_offers_cancel(app: Flask, client: FlaskClient) -> None:
    job_record(app, "dddddddddddd", status="running", stage="solving", started_s_ago=1,
               worker_pid=1)  # alive, but not our worker
    service: JobService = services_of(app).jobs
    assert service.status("dddddddddddd").status == "failed"
    # No worker recorded yet and the job was added seconds ago: its worker is starting up.
    job_record(app, "aaaaaaaaaaaa", status="running", stage="solving", created_s_ago=1,
               started_s_ago=0, progress=((0.1, 123456),))
    page = client.get("/jobs/aaaaaaaaaaaa").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and "Hủy tác vụ" in page
    assert "123.456" in page  # best objective so far, Vietnamese digit grouping


def test_job_page_shows_the_best_plans_communes_and_cost(app: Flask,
                                                          client: FlaskClient) -> None:
    """The worker's progress carries the best plan's communes served and cost: the page
    says them in words, Vietnamese by default, English on request."""
    job_record(app, "aaaaaaaaaaaa", status="running", stage="solving", created_s_ago=1,
               started_s_ago=0, progress=((0.1, 990, 60, 38_000_000),
                                          (4.2, 900, 61, 38_556_400)))
    page = client.get("/jobs/aaaaaaaaaaaa").get_data(as_text=True)
    assert "Phương án tốt nhất đến giờ" in page
    assert "phục vụ 61 xã, chi phí 38.556.400 đồng" in page
    page = client.get("/jobs/aaaaaaaaaaaa?lang=en").get_data(as_text=True)
    assert "61 communes served, cost 38,556,400 VND" in page
    data = client.get("/jobs/aaaaaaaaaaaa/status.json").get_json()
    assert (data["served"], data["cost_vnd"], data["best_objective"]) == (61, 38_556_400, 900)
    job_record(app, "bbbbbbbbbbbb", status="running", stage="solving", created_s_ago=1,
               started_s_ago=0, progress=((0.1, 990, 60, None),))
    assert "phục vụ 60 xã (chưa tính chi phí)" in client.get(
        "/jobs/bbbbbbbbbbbb?lang=vi").get_data(as_text=True)


def test_worker_reports_an_invalid_scenario(client: FlaskClient, scenarios_dir: Path) -> None:
    (scenarios_dir / "bad.yaml").write_text("schema_version: 1\nname: bad\n", encoding="utf-8")
    resp = client.post("/jobs", data={"scenario": "bad"})
    assert resp.status_code == 303
    job_id = _job_id(resp.headers["Location"])
    url = f"/jobs/{job_id}/status.json"
    assert wait_for(lambda: client.get(url).get_json()["status"] == "failed", timeout_s=30)
    data = client.get(url).get_json()
    assert "problem" in data["error"] and "stops" in data["error"]


def _ended(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie not yet reaped); it may end
    between looking and reading."""
    try:
        return "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1][:3]
    except OSError:  # (FileNotFoundError, ProcessLookupError: gone)
        return True


def test_cancel_a_running_job(app: Flask, client: FlaskClient, scenarios_dir: Path) -> None:
    (scenarios_dir / "tiny.yaml").write_text(tiny_scenario_yaml(time_limit_s=120),
                                             encoding="utf-8")
    resp = client.post("/jobs", data={"scenario": "tiny"})
    job_id = _job_id(resp.headers["Location"])
    assert client.get(f"/jobs/{job_id}/status.json").get_json()["status"] in ("queued",
                                                                              "running")
    service: JobService = services_of(app).jobs
    pid = service.status(job_id).worker_pid
    assert pid is not None
    resp = client.post(f"/jobs/{job_id}/cancel")
    assert resp.status_code == 303
    assert client.get(f"/jobs/{job_id}/status.json").get_json()["status"] == "cancelled"
    assert wait_for(lambda: _ended(pid), timeout_s=10)
    time.sleep(0.5)  # the reaper has seen the worker end: the job stays cancelled
    assert service.status(job_id).status == "cancelled"
    assert client.post(f"/jobs/{job_id}/cancel").status_code == 409


@pytest.mark.slow
def test_real_solve_of_a_tiny_scenario(app: Flask, client: FlaskClient, scenarios_dir: Path,
                                       runs_dir: Path) -> None:
    (scenarios_dir / "tiny.yaml").write_text(tiny_scenario_yaml(time_limit_s=2),
                                             encoding="utf-8")
    resp = client.post("/jobs", data={"scenario": "tiny", "time_limit_s": "2"})
    assert resp.status_code == 303
    job_id = _job_id(resp.headers["Location"])
    url = f"/jobs/{job_id}/status.json"
    assert wait_for(lambda: client.get(url).get_json()["status"] not in ("queued", "running"),
                    timeout_s=90, poll_s=0.5)
    data = client.get(url).get_json()
    assert data["status"] == "done", data
    assert data["best_objective"] is not None and data["improvements"] >= 1
    run = runs_dir / data["run"]
    assert {"plan.json", "routes.geojson", "scenario.json", "map.html"} <= {
        p.name for p in run.iterdir()}
    assert not any(p.name.startswith(".") for p in runs_dir.iterdir())
    # The job's state is in the database only; its folder keeps what the worker read.
    folder = Path(app.config["JOBS_DIR"]) / job_id
    assert {p.name for p in folder.iterdir()} == {"job.json", "scenario.yaml", "log.txt"}
    plan = json.loads((run / "plan.json").read_text(encoding="utf-8"))
    assert {v["commune_name"] for r in plan["routes"] for v in r["visits"]} == {
        "Xã Lũng Cú", "Xã Đồng Văn"}
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f'href="/plans/{data["run"]}"' in page
    assert data["run"] in client.get("/").get_data(as_text=True)
    assert client.get(f"/plans/{data['run']}").status_code == 200


@pytest.mark.slow
def test_a_solve_plans_with_the_registry_kept_in_the_database(
        app: Flask, client: FlaskClient, scenarios_dir: Path, runs_dir: Path) -> None:
    """With a batch registry kept in the database, a web solve assigns its batches (the
    job folder holds the tables it read, the plan folder copies of them)."""
    import datetime as dt

    from webui_userkit import ensure_user

    from planner.batches import Batch, CommuneProfile, Stay
    from storage import batches
    from webui.services import services_of

    user = ensure_user(app, "registrar", "dispatcher")
    with services_of(app).database.begin() as s:
        batches.import_batches(s, [Batch("HG-A", 2, ("vie",), ()), Batch("HG-B", 2, ("hnj",), ()),
                                   Batch("HG-C", 1, ("vie",), ())], user_id=user.id)
        batches.import_history(s, [Stay("HG-C", "00715", dt.date(2026, 9, 1))],
                               user_id=user.id)
        batches.save_profiles(s, [CommuneProfile("00721", ("hnj",))], user_id=user.id)
    (scenarios_dir / "tiny.yaml").write_text(tiny_scenario_yaml(time_limit_s=2),
                                             encoding="utf-8")
    job_id = _job_id(client.post("/jobs", data={"scenario": "tiny", "time_limit_s": "2"})
                     .headers["Location"])
    url = f"/jobs/{job_id}/status.json"
    assert wait_for(lambda: client.get(url).get_json()["status"] not in ("queued", "running"),
                    timeout_s=90, poll_s=0.5)
    data = client.get(url).get_json()
    assert data["status"] == "done", data
    run = runs_dir / data["run"]
    plan = json.loads((run / "plan.json").read_text(encoding="utf-8"))
    visits = {v["commune_code"]: v for r in plan["routes"] for v in r["visits"]}
    assert visits["00715"]["collect_batches"] == ["HG-C"]
    assert visits["00715"]["deliver_batches"] == ["HG-A"]  # HG-C it has had, HG-B is Hmông
    assert visits["00721"]["deliver_batches"] == ["HG-B"]
    assert (Path(app.config["JOBS_DIR"]) / job_id / "registry" / "batches.csv").is_file()
    assert (run / "rotation" / "history.csv").is_file()


def test_job_pages_and_run_names_use_the_provinces_time(app: Flask, client: FlaskClient,
                                                        tmp_path: Path) -> None:
    """One time zone everywhere: Vietnam's (+07), whatever the server's."""
    import datetime as dt

    from planner.plan import TZ
    from webui.worker import _plan_name

    job_record(app, "dddddddddddd", status="done", stage="finished", created_s_ago=0)
    now = dt.datetime.now(TZ)
    page = client.get("/jobs/dddddddddddd?lang=vi").get_data(as_text=True)
    assert now.strftime("%d/%m/%Y %H:%M") in page or \
        (now - dt.timedelta(minutes=1)).strftime("%d/%m/%Y %H:%M") in page
    listing = client.get("/jobs?lang=vi").get_data(as_text=True)
    assert now.strftime("%d/%m/%Y") in listing
    stamp = dt.datetime(2026, 12, 7, 1, 30, tzinfo=dt.UTC).timestamp()  # 08:30 in Hà Giang
    assert _plan_name(tmp_path, "ha-giang", stamp) == "ha-giang-20261207-083000"


def test_a_running_job_shows_its_time_against_the_limit_and_follows_to_its_plan(
        app: Flask, client: FlaskClient) -> None:
    from storage.models import JobRecord

    job_record(app, "eeeeeeeeeeee", status="running", stage="solving", started_s_ago=5,
               created_s_ago=0)  # (a worker not yet known: still starting)
    from sqlalchemy import update

    with services_of(app).database.begin() as s:
        s.execute(update(JobRecord).where(JobRecord.job_id == "eeeeeeeeeeee")
                  .values(time_limit_s=20.0))
    page = client.get("/jobs/eeeeeeeeeeee?lang=vi").get_data(as_text=True)
    assert '<progress max="20.0" value="5' in page
    assert "trong giới hạn 20 giây; còn tối đa 1" in page
    assert 'url=/jobs/eeeeeeeeeeee?follow=1' in page  # the page refreshes itself, following
    # still running: the followed page stays; done: it opens the plan
    assert client.get("/jobs/eeeeeeeeeeee?follow=1").status_code == 200
    job_record(app, "ffffffffffff", status="done", stage="finished", plan_name=FIXTURE_RUN,
               finished_s_ago=0)
    resp = client.get("/jobs/ffffffffffff?follow=1")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/plans/{FIXTURE_RUN}")
    assert client.get("/jobs/ffffffffffff").status_code == 200  # opened by hand: its page
