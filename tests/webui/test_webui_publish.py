"""Publishing plans as immutable versions, reading them back (plan page, sheets, files),
visit outcomes, the dashboard, and run folders registered in the database."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from webui_testkit import FIXTURE_DIR, FIXTURE_RUN, edit_fixture_plan
from webui_userkit import tie_vehicles

from planner.plan import Plan
from storage import plans
from webui import create_app
from webui.services import services_of

VEHICLE = "xe-tv-01"


def _publish(client: FlaskClient, run: str = FIXTURE_RUN, note: str = "") -> str:
    resp = client.post(f"/plans/{run}/publish", data={"note": note})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return resp.headers["Location"]


def _versions(app: Flask) -> list[plans.VersionInfo]:
    with services_of(app).database.begin() as s:
        return plans.list_versions(s)


def test_plan_page_offers_publishing_to_dispatchers_only(client: FlaskClient,
                                                          client_as) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/plans/{FIXTURE_RUN}?lang=en").get_data(as_text=True)
    assert f'action="/plans/{FIXTURE_RUN}/publish"' in page
    assert "This plan has not been published." in page
    viewer = client_as("viewer").get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    assert "/publish" not in viewer


def _solved_again(runs_dir: Path, minute: int = 1) -> None:
    """The fixture plan made again (another time): publishing it makes a new version (an
    unchanged plan would not)."""
    edit_fixture_plan(runs_dir, lambda d: d.update(created_at=f"2026-12-01T08:{minute:02d}"
                                                                ":00+07:00"))


def test_publish_makes_version_1_then_2(app: Flask, client: FlaskClient, runs_dir: Path,
                                       fixture_plan: Plan) -> None:
    series = fixture_plan.scenario_name
    first = _publish(client, note="đợt 1")
    assert first == f"/plans/{series}@v1"
    page = client.get(first + "?lang=en").get_data(as_text=True)
    assert "Version 1" in page and "published by test-dispatcher" in page
    assert "đợt 1" in page and f'action="/plans/{series}@v1/publish"' not in page
    _solved_again(runs_dir)
    assert _publish(client) == f"/plans/{series}@v2"
    versions = _versions(app)
    assert [(v.number, v.published_by, v.plan_name) for v in versions] == [
        (2, "test-dispatcher", FIXTURE_RUN), (1, "test-dispatcher", FIXTURE_RUN)]
    old = client.get(first + "?lang=en").get_data(as_text=True)
    assert "A newer version exists (version 2)" in old
    draft = client.get(f"/plans/{FIXTURE_RUN}?lang=en").get_data(as_text=True)
    assert "Published as:" in draft and f"{series}@v2" in draft
    listing = client.get("/versions?lang=en").get_data(as_text=True)
    assert listing.count(f'href="/plans/{series}@v') == 2 and "current" in listing


def test_a_version_stays_as_published(app: Flask, client: FlaskClient, runs_dir: Path,
                                      fixture_plan: Plan) -> None:
    url = _publish(client)
    key = url.rsplit("/", 1)[1]
    frozen = (runs_dir / FIXTURE_RUN / "plan.json").read_text(encoding="utf-8")
    # The run folder is solved again (another title) and then deleted.
    data = json.loads(frozen)
    data["scenario"]["title"] = "Kế hoạch đã sửa sau khi công bố"
    (runs_dir / FIXTURE_RUN / "plan.json").write_text(json.dumps(data, ensure_ascii=False),
                                                      encoding="utf-8")
    assert "Kế hoạch đã sửa" in client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    shutil.rmtree(runs_dir / FIXTURE_RUN)
    page = client.get(url).get_data(as_text=True)
    assert str(escape(fixture_plan.scenario_title)) in page and "Kế hoạch đã sửa" not in page
    assert client.get(f"/plans/{key}/files/plan.json").get_data(as_text=True) == frozen
    sheet = client.get(f"/plans/{key}/sheet/{VEHICLE}")
    assert sheet.status_code == 200
    assert fixture_plan.routes[0].visits[0].commune_name in sheet.get_data(as_text=True)
    assert client.get(f"/plans/{key}/export.csv").status_code == 200
    # A local copy that no longer matches the version is written again from the database.
    copy = Path(app.instance_path) / "published" / str(_versions(app)[0].id) / "plan.json"
    copy.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert "Kế hoạch đã sửa" not in client.get(url).get_data(as_text=True)
    assert copy.read_text(encoding="utf-8") == frozen


def test_unknown_versions_and_bad_publications(client: FlaskClient, fixture_plan: Plan) -> None:
    series = fixture_plan.scenario_name
    assert client.get(f"/plans/{series}@v1").status_code == 404
    assert client.get("/versions/nothing@v1/outcomes").status_code == 404
    assert client.post("/plans/no-such-run/publish").status_code == 404
    url = _publish(client)
    key = url.rsplit("/", 1)[1]
    assert client.post(f"/plans/{key}/publish").status_code == 400
    assert client.get(f"/plans/{series}@v2").status_code == 404


def test_a_failed_publication_changes_nothing(app: Flask, client: FlaskClient, runs_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url = _publish(client)
    before = client.get(url).get_data(as_text=True)
    _solved_again(runs_dir)

    def broken(data: bytes | None) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(plans, "_freeze_routes", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post(f"/plans/{FIXTURE_RUN}/publish").status_code == 500
    assert [v.number for v in _versions(app)] == [1]
    assert client.get(url).get_data(as_text=True) == before


def test_an_unreadable_plan_is_not_published(app: Flask, client: FlaskClient,
                                             runs_dir: Path) -> None:
    broken = runs_dir / "broken"
    broken.mkdir()
    (broken / "plan.json").write_text('{"format": "something-else"}', encoding="utf-8")
    resp = client.post("/plans/broken/publish?lang=en")
    assert resp.status_code == 400
    assert "cannot be published" in resp.get_data(as_text=True)
    assert _versions(app) == []


def test_dashboard_shows_the_current_published_plan(client: FlaskClient,
                                                    fixture_plan: Plan) -> None:
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "No plan has been published yet" in page
    url = _publish(client)
    page = client.get("/?lang=en").get_data(as_text=True)
    k = fixture_plan.kpis
    assert f'href="{url}"' in page and "Version 1" in page
    assert f"{k.communes_served} of the {k.service_area_communes} communes" in page
    assert "Progress toward the programme targets" in page and "Target 2026" in page
    stops = sum(len(r.visits) for r in fixture_plan.routes)
    assert f"0 of {stops} stops done" in page


def test_drivers_record_outcomes(app: Flask, client: FlaskClient, client_as,  # type: ignore[no-untyped-def]
                                 fixture_plan: Plan) -> None:
    key = _publish(client).rsplit("/", 1)[1]
    route = next(r for r in fixture_plan.routes if r.visits)
    visit = route.visits[0]
    driver = client_as("driver")
    tie_vehicles(app, "driver-user", route.vehicle_id)
    page = driver.get(f"/versions/{key}/outcomes?lang=en").get_data(as_text=True)
    assert visit.commune_name in page and "not recorded" in page
    resp = driver.post(f"/versions/{key}/outcomes",
                       data={"vehicle_id": route.vehicle_id, "stop_seq": str(visit.seq),
                             "status": "failed", "note": "Đường sạt lở"})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"#stop-{route.vehicle_id}-{visit.seq}")
    page = driver.get(f"/versions/{key}/outcomes?lang=en").get_data(as_text=True)
    assert "Đường sạt lở" in page and "driver-user" in page
    for bad, code in (({"status": "maybe"}, 400), ({"stop_seq": "x"}, 400),
                      ({"stop_seq": "999"}, 404)):
        form = {"vehicle_id": route.vehicle_id, "stop_seq": str(visit.seq), "status": "done",
                **bad}
        assert driver.post(f"/versions/{key}/outcomes", data=form).status_code == code
    viewer_page = client_as("viewer").get(f"/versions/{key}/outcomes").get_data(as_text=True)
    assert "Đường sạt lở" in viewer_page and 'name="status"' not in viewer_page
    stops = sum(len(r.visits) for r in fixture_plan.routes)
    assert f"0 of {stops} stops done, 1 failed" in client.get("/?lang=en").get_data(as_text=True)


def test_run_folders_are_registered_on_start_and_on_listing(app: Flask, client: FlaskClient,
                                                            runs_dir: Path) -> None:
    db = services_of(app).database
    with db.begin() as s:
        assert set(plans.plan_digests(s)) == {FIXTURE_RUN}
    shutil.copytree(FIXTURE_DIR, runs_dir / "copy-b")  # `planner solve --out runs/copy-b`
    with db.begin() as s:
        assert set(plans.plan_digests(s)) == {FIXTURE_RUN}
    assert client.get("/").status_code == 200
    with db.begin() as s:
        digests = plans.plan_digests(s)
    assert set(digests) == {FIXTURE_RUN, "copy-b"}
    assert digests["copy-b"][1] == str(runs_dir / "copy-b")
    assert client.get("/").status_code == 200  # idempotent
    with db.begin() as s:
        assert plans.plan_digests(s) == digests


@pytest.fixture
def app_on(storage_url: str, runs_dir: Path, tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "RUNS_DIR": runs_dir, "JOBS_DIR": tmp_path / "jobs",
                      "SCENARIOS_DIR": tmp_path / "scenarios", "DATABASE_URL": storage_url,
                      "SECRET_KEY": "k", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"},
                     instance_path=tmp_path / "instance")
    yield app
    services_of(app).database.dispose()


def test_publishing_on_each_database(app_on: Flask, fixture_plan: Plan,
                                     runs_dir: Path) -> None:
    client = app_on.test_client()
    first = _publish(client)
    _solved_again(runs_dir)
    second = _publish(client)
    assert first.endswith("@v1") and second.endswith("@v2")
    assert client.get(first).status_code == 200
    driver = app_on.test_client(user="tuan", role="driver")
    route = next(r for r in fixture_plan.routes if r.visits)
    tie_vehicles(app_on, "tuan", route.vehicle_id)
    key = second.rsplit("/", 1)[1]
    assert driver.post(f"/versions/{key}/outcomes",
                       data={"vehicle_id": route.vehicle_id,
                             "stop_seq": str(route.visits[0].seq),
                             "status": "done"}).status_code == 303
    stops = sum(len(r.visits) for r in fixture_plan.routes)
    assert f"1 of {stops} stops done" in client.get("/?lang=en").get_data(as_text=True)
