"""Re-planning a season plan from the web UI, as ``planner replan --from`` does: the form on
a season plan's page (its date today within the season), the 400s naming the field for a bad
date or one outside the season and the 409s for a re-plan of the wrong kind (Vietnamese and
English), and a job that keeps the trips leaving before the date and shows which."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN, SEASON_DIR, SEASON_RUN

from planner.plan import read_plan
from planner.problem import DAY_S
from webui.jobservice import JobService
from webui.services import services_of
from webui.worker import run_job

REPLAN = f"/plans/{SEASON_RUN}/replan-season"


@pytest.fixture
def season(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The season plan in the runs folder; jobs are added but their worker processes are not
    started (their ids are listed: a test runs one in this process)."""
    shutil.copytree(SEASON_DIR, runs_dir / SEASON_RUN)
    started: list[str] = []

    def start_worker(self: JobService, job_id: str, folder: Path, job: dict) -> None:
        started.append(job_id)

    monkeypatch.setattr(JobService, "_start_worker", start_worker)
    return started


def test_a_season_plan_page_offers_the_re_plan_from_a_date(client: FlaskClient,
                                                           season: list[str]) -> None:
    page = client.get(f"/plans/{SEASON_RUN}").get_data(as_text=True)
    form = re.search(r'<section class="season-replan-form no-print".*?</section>', page, re.S)
    assert form, "no season re-plan form"
    assert f'action="{REPLAN}"' in form.group(0)
    assert "Lập lại kế hoạch mùa từ một ngày" in form.group(0)
    # today (December 2026 or later) within the season, 12 April to 16 May 2027
    value = re.search(r'name="replan_from" required value="([\d-]+)" min="2027-04-12" '
                      r'max="2027-05-16"', form.group(0))
    assert value and "2027-04-12" <= value.group(1) <= "2027-05-16"
    english = client.get(f"/plans/{SEASON_RUN}?lang=en").get_data(as_text=True)
    assert "Re-plan the season from a date" in english and "Re-plan from" in english
    # a cycle plan has no such form; its edit page re-solves, a season's points to the form
    assert "season-replan-form" not in client.get(f"/plans/{FIXTURE_RUN}").get_data(
        as_text=True)
    edit = client.get(f"/plans/{SEASON_RUN}/edit").get_data(as_text=True)
    assert 'id="resolve-form"' not in edit and "#season-replan-form" in edit


@pytest.mark.parametrize(("value", "vi", "en"), [
    ("", "Trường replan_from = “”", "Field replan_from = “”"),
    ("10/05/2027", "Hãy nhập một ngày dạng YYYY-MM-DD", "Give a date as YYYY-MM-DD"),
    ("2027-05-17", "Ngày phải nằm trong mùa, từ 12/04/2027 đến 16/05/2027",
     "The date must fall within the season, 12/04/2027 to 16/05/2027"),
    ("2027-04-11", "Trường replan_from = “2027-04-11”", "Field replan_from = “2027-04-11”"),
])
def test_a_bad_date_is_400_naming_the_field(client: FlaskClient, season: list[str],
                                            value: str, vi: str, en: str) -> None:
    resp = client.post(REPLAN, data={"replan_from": value})
    assert resp.status_code == 400 and vi in resp.get_data(as_text=True)
    resp = client.post(f"{REPLAN}?lang=en", data={"replan_from": value})
    assert resp.status_code == 400 and en in resp.get_data(as_text=True)
    assert season == []  # no job


def test_re_plans_of_the_wrong_kind_are_refused(client: FlaskClient, season: list[str],
                                                client_as) -> None:  # type: ignore[no-untyped-def]
    resp = client.post(f"/plans/{FIXTURE_RUN}/replan-season",
                       data={"replan_from": "2026-12-08"})
    assert resp.status_code == 409
    assert "không phải kế hoạch cả mùa" in resp.get_data(as_text=True)
    resp = client.post(f"/plans/{FIXTURE_RUN}/replan-season?lang=en",
                       data={"replan_from": "2026-12-08"})
    assert resp.status_code == 409 and "is not a season plan" in resp.get_data(as_text=True)
    # a cycle's re-solve of a season plan: re-planned from a date instead
    resp = client.post(f"/plans/{SEASON_RUN}/edit/resolve?lang=vi", data={"locked": []})
    assert resp.status_code == 409
    assert "là kế hoạch cả mùa: hãy lập lại nó từ một ngày" in resp.get_data(as_text=True)
    resp = client.post(f"/plans/{SEASON_RUN}/edit/resolve?lang=en", data={"locked": []})
    assert resp.status_code == 409 and "is a season plan: re-plan it from a date" in \
        resp.get_data(as_text=True)
    assert client.post("/plans/no-such-plan/replan-season",
                       data={"replan_from": "2027-05-10"}).status_code == 404
    assert client_as("viewer").post(REPLAN, data={"replan_from": "2027-05-10"}
                                    ).status_code == 403
    assert season == []


@pytest.mark.slow
def test_the_re_plan_job_keeps_the_trips_before_the_date_and_shows_them(
        app: Flask, client: FlaskClient, runs_dir: Path, season: list[str],
        shared_cache: Path) -> None:
    resp = client.post(REPLAN, data={"replan_from": "2027-05-10"})
    assert resp.status_code == 303 and "/jobs/" in resp.headers["Location"]
    assert len(season) == 1
    job_id = season[0]
    folder = Path(app.config["JOBS_DIR"]) / job_id
    spec = json.loads((folder / "job.json").read_text(encoding="utf-8"))["replan"]
    assert (spec["kind"], spec["base"], spec["replan_from"]) == ("season", SEASON_RUN,
                                                                 "2027-05-10")
    service: JobService = services_of(app).jobs
    assert run_job(folder, service.database) == 0  # the worker, in this process
    status = service.status(job_id)
    assert status.status == "done", (status.error, status.log_tail)
    previous = read_plan(runs_dir / SEASON_RUN / "plan.json")
    plan = read_plan(runs_dir / status.plan_name / "plan.json")
    cut = 28 * DAY_S  # 10 May 2027, day 28 of the season
    before = [(r.key, r.depart_s, [x.commune_code for x in r.visits])
              for r in previous.routes if r.visits and r.depart_s < cut]
    assert before and plan.season is not None and plan.season.replan_from == "2027-05-10"
    assert [(r.key, r.depart_s, [x.commune_code for x in r.visits])
            for r in plan.routes if r.visits and r.depart_s < cut] == before
    assert plan.season.kept_trip_ids == tuple(k for k, _, _ in before)
    assert plan.provenance.replan is not None
    assert (plan.provenance.replan.kind, plan.provenance.replan.base) == ("season", SEASON_RUN)
    page = client.get(f"/plans/{status.plan_name}").get_data(as_text=True)
    facts = re.search(r'<section class="replan-facts no-print".*?</section>', page, re.S)
    assert facts and "Lập lại kế hoạch mùa từ một ngày" in facts.group(0)
    assert f"Lập lại từ ngày 10/05/2027: giữ {len(before)} chuyến" in facts.group(0)
    assert all(f'href="#trip-{k}"' in facts.group(0) for k, _, _ in before)
    assert page.count('class="status kept-trip"') == len(before)
    english = client.get(f"/plans/{status.plan_name}?lang=en").get_data(as_text=True)
    assert f"Re-planned from 10/05/2027: {len(before)} trip(s) kept" in english


def _queued_job(app: Flask, client: FlaskClient, season: list[str], **form: str) -> Path:
    """A season re-plan job from the form (its worker not started): its folder."""
    resp = client.post(REPLAN, data={"replan_from": "2027-05-10", **form})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return Path(app.config["JOBS_DIR"]) / season[-1]


def test_the_form_takes_a_time_limit_for_each_period(app: Flask, client: FlaskClient,
                                                     season: list[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The form's time limit (each period's search time, as `planner replan --time-limit`;
    empty: the scenario's) goes to the job and from the worker to the season's solve."""
    page = client.get(f"/plans/{SEASON_RUN}?lang=en").get_data(as_text=True)
    form = re.search(r'<section class="season-replan-form no-print".*?</section>', page, re.S)
    assert form and 'name="time_limit_s"' in form.group(0)
    assert "Search time limit of each period" in form.group(0)
    assert "Giới hạn thời gian tìm kiếm mỗi đợt" in client.get(
        f"/plans/{SEASON_RUN}?lang=vi").get_data(as_text=True)
    folder = _queued_job(app, client, season, time_limit_s="7")
    assert json.loads((folder / "job.json").read_text(encoding="utf-8"))["time_limit_s"] == 7
    # each period's limit, not the job's: its page draws no bar of the time used against it
    assert services_of(app).jobs.status(season[-1]).time_limit_s is None
    empty = _queued_job(app, client, season, time_limit_s="")
    assert json.loads((empty / "job.json").read_text(encoding="utf-8"))["time_limit_s"] is None
    seen: list[object] = []

    def solve_season(scenario: object, **kwargs: object) -> None:
        from planner.errors import PlannerError

        seen.append(kwargs.get("time_limit_s"))
        raise PlannerError("stopped by the test")

    monkeypatch.setattr("planner.season.solve_season", solve_season)
    service: JobService = services_of(app).jobs
    assert run_job(folder, service.database) == 2
    assert run_job(empty, service.database) == 2
    assert seen == [7, None]


@pytest.mark.parametrize("value", ["abc", "0", "100000", "nan", "-3"])
def test_a_bad_time_limit_is_400_naming_the_field_the_value_and_the_fix(
        client: FlaskClient, season: list[str], value: str) -> None:
    data = {"replan_from": "2027-05-10", "time_limit_s": value}
    resp = client.post(f"{REPLAN}?lang=vi", data=data)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert f"Trường time_limit_s = “{value}”" in text
    assert "Giới hạn thời gian phải là số giây từ 1 đến" in text
    resp = client.post(f"{REPLAN}?lang=en", data=data)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and f"Field time_limit_s = “{value}”" in text
    assert "The time limit must be a number of seconds from 1 to" in text
    assert season == []  # no job


@pytest.mark.parametrize(("kind", "scenario", "vi", "en"), [
    ("season", "ha-giang-2026", "không phải kế hoạch cả mùa", "is not a season plan"),
    ("resolve", SEASON_RUN, "là kế hoạch cả mùa: hãy lập lại nó từ một ngày",
     "is a season plan: re-plan it from a date")])
def test_the_worker_refuses_a_re_plan_of_the_wrong_kind_in_the_page_language(
        app: Flask, client: FlaskClient, season: list[str], kind: str, scenario: str,
        vi: str, en: str) -> None:
    """A re-plan job whose stored plan changed kind after the form (or queued otherwise)
    fails with the refusal the form gives, worded by the job page in its language."""
    folder = _queued_job(app, client, season)
    job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    job["replan"]["kind"] = kind
    (folder / "job.json").write_text(json.dumps(job), encoding="utf-8")
    source = SEASON_DIR.parent / scenario / "scenario.json"
    (folder / "scenario.json").write_bytes(source.read_bytes())
    service: JobService = services_of(app).jobs
    assert run_job(folder, service.database) == 2
    status = service.status(season[-1])
    assert status.status == "failed" and status.error_key
    assert en in (status.error or "")  # the English text, for the log and status.json
    page = client.get(f"/jobs/{season[-1]}?lang=vi").get_data(as_text=True)
    error = re.search(r'<pre class="error-text">(.*?)</pre>', page, re.S)
    assert error and vi in error.group(0) and SEASON_RUN in error.group(0)
    words = error.group(1).replace(SEASON_RUN, "")
    assert not [w for w in ("season", "plan", "re-plan", "date") if w in words], words
    page = client.get(f"/jobs/{season[-1]}?lang=en").get_data(as_text=True)
    error = re.search(r'<pre class="error-text">(.*?)</pre>', page, re.S)
    assert error and en in error.group(0)
