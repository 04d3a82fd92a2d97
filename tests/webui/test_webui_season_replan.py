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
