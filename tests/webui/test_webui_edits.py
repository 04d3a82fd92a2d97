"""Manual edits of a draft plan: the edit page, moves and removals saved as new plans with the
checker's findings next to each stop, re-solve and re-plan-from-outcomes jobs, permissions,
CSRF and errors naming the field."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN, wait_for

from planner.plan import read_plan
from webui.jobservice import JobService, ReplanSpec
from webui.services import services_of

LATE = "00802"  # Xã Khâu Vai, open 07:30-11:00: late at the end of the van's trip
VAN, TRUCK = "xe-van-02", "xe-tv-01"
EDIT = f"/plans/{FIXTURE_RUN}/edit"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_of(location: str) -> str:
    """``/plans/<run>/edit`` -> ``<run>``."""
    return location.split("/plans/", 1)[1].rsplit("/edit", 1)[0]


def _job_of(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


def _cancel(app: Flask, job_id: str) -> None:
    service: JobService = services_of(app).jobs
    if service.status(job_id).active:
        service.cancel(job_id)


def _publish(client: FlaskClient, run: str = FIXTURE_RUN) -> str:
    resp = client.post(f"/plans/{run}/publish", data={"note": ""})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return resp.headers["Location"].rsplit("/", 1)[-1]


def test_edit_page_checks_the_plan_and_offers_every_control(client: FlaskClient) -> None:
    page = client.get(EDIT)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sửa kế hoạch" in html and 'id="check-summary"' in html
    # every stop can be locked, moved up/down, moved to a vehicle, removed
    assert html.count('name="locked"') == 12 and html.count('form="resolve-form"') == 12
    assert html.count('class="inline move-form"') == 12
    assert html.count("↑</button>") == 10 and html.count("↓</button>") == 10
    assert f'<option value="{VAN}"' in html and 'id="resolve-form"' in html


def test_a_move_is_saved_as_a_new_plan_with_violations_next_to_the_stop(
        client: FlaskClient, runs_dir: Path) -> None:
    original = runs_dir / FIXTURE_RUN / "plan.json"
    before = _digest(original)
    resp = client.post(f"{EDIT}/move", data={"commune_code": LATE, "vehicle_id": VAN,
                                              "position": ""})
    assert resp.status_code == 303
    new_run = _run_of(resp.headers["Location"])
    assert new_run.startswith(f"{FIXTURE_RUN}-edit-")
    assert _digest(original) == before  # the edited plan is untouched
    folder = runs_dir / new_run
    assert {"plan.json", "routes.geojson", "scenario.json"} <= {p.name for p in folder.iterdir()}
    assert not [p for p in runs_dir.iterdir() if p.name.startswith(".")]
    plan = read_plan(folder / "plan.json")
    van = next(r for r in plan.routes if r.vehicle_id == VAN)
    assert van.visits[-1].commune_code == LATE
    edits = plan.provenance.manual_edits
    assert edits[-1].by == "test-dispatcher" and edits[-1].base == FIXTURE_RUN
    assert edits[-1].edit == {"action": "move", "commune_code": LATE, "to_vehicle": VAN,
                              "position": None}
    assert plan.provenance.check is not None
    found = plan.provenance.check.violations
    assert ("time_window", VAN, LATE) in [(v.kind, v.vehicle_id, v.commune_code) for v in found]
    # the edit page of the new plan: a red badge in the row of the late stop, a summary
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    row = html.split(f'<tr id="stop-{LATE}"', 1)[1].split("</tr>", 1)[0]
    assert 'class="has-violation"' in row and "Trễ giờ mở cửa" in row
    assert "violation-badge" in row and "ngoài giờ mở cửa của xã" in row
    # the summary names the commune and the vehicle, not their codes
    assert f'<a href="#stop-{LATE}">Xã Khâu Vai</a>' in html
    assert "Kiểm tra kế hoạch:" in html and "sửa từ" in html
    # before and after: the plan solved (A) against this draft (B), beside the draft's map
    overview = html.split('<section class="edit-overview">', 1)[1].split("</section>", 1)[0]
    assert "Trước và sau khi sửa" in overview and f"{FIXTURE_RUN}</small>" in overview
    assert f'src="/plans/{new_run}/map?lang=vi"' in overview
    assert client.get(f"/plans/{new_run}/map?lang=vi").status_code == 200
    # the edit history names the commune and vehicle, not their codes
    history = html.split('<section class="edit-history">', 1)[1]
    assert "Xã Khâu Vai → Xe tải nhỏ 02" in history and LATE not in history
    # and the plan page shows it too, with the edit link
    page = client.get(f"/plans/{new_run}?lang=en").get_data(as_text=True)
    assert "Outside opening hours" in page and "violation-badge" in page
    assert f'href="/plans/{new_run}/edit"' in page and "Edited by hand 1 time(s)" in page
    # a further edit of the edited plan keeps the history and replaces the edit suffix
    resp = client.post(f"/plans/{new_run}/edit/move", data={
        "commune_code": LATE, "vehicle_id": VAN, "position": "1"})
    assert resp.status_code == 303
    third = _run_of(resp.headers["Location"])
    assert third.count("-edit-") == 1 and third != new_run
    assert len(read_plan(runs_dir / third / "plan.json").provenance.manual_edits) == 2


def test_up_down_remove_and_add_back(client: FlaskClient, runs_dir: Path) -> None:
    resp = client.post(f"{EDIT}/move", data={"commune_code": "00802", "vehicle_id": TRUCK,
                                              "position": "1"})  # second stop moved up
    run = _run_of(resp.headers["Location"])
    truck = next(r for r in read_plan(runs_dir / run / "plan.json").routes
                 if r.vehicle_id == TRUCK)
    assert [x.commune_code for x in truck.visits][:2] == ["00802", "00715"]
    resp = client.post(f"/plans/{run}/edit/remove", data={"commune_code": "00715"})
    assert resp.status_code == 303
    run2 = _run_of(resp.headers["Location"])
    plan = read_plan(runs_dir / run2 / "plan.json")
    assert [u.commune_code for u in plan.unserved] == ["00715"]
    html = client.get(f"/plans/{run2}/edit").get_data(as_text=True)
    assert "Bỏ ra khỏi kế hoạch bằng tay" in html and "by test-dispatcher" in html
    resp = client.post(f"/plans/{run2}/edit/move", data={"commune_code": "00715",
                                                         "vehicle_id": TRUCK, "position": "1"})
    plan = read_plan(runs_dir / _run_of(resp.headers["Location"]) / "plan.json")
    assert plan.unserved == () and plan.routes[0].visits[0].commune_code == "00715"


@pytest.mark.parametrize(("data", "field", "value"), [
    ({"commune_code": "99999", "vehicle_id": VAN}, "commune_code", "99999"),
    ({"commune_code": "../etc", "vehicle_id": VAN}, "commune_code", "../etc"),
    ({"commune_code": "", "vehicle_id": VAN}, "commune_code", ""),
    ({"commune_code": LATE, "vehicle_id": "xe-99"}, "vehicle_id", "xe-99"),
    ({"commune_code": LATE, "vehicle_id": ""}, "vehicle_id", ""),
    ({"commune_code": LATE, "vehicle_id": VAN, "position": "abc"}, "position", "abc"),
    ({"commune_code": LATE, "vehicle_id": VAN, "position": "99"}, "position", "99"),
    ({"commune_code": LATE, "vehicle_id": TRUCK, "position": "2"}, "position", "2"),  # no-op
])
def test_bad_moves_are_400_naming_the_field_and_value(client: FlaskClient, runs_dir: Path,
                                                     data: dict, field: str,
                                                     value: str) -> None:
    names = sorted(p.name for p in runs_dir.iterdir())
    resp = client.post(f"{EDIT}/move?lang=en", data=data)
    assert resp.status_code == 400
    text = resp.get_data(as_text=True)
    assert f"Field {field} = “{value}”" in text
    assert sorted(p.name for p in runs_dir.iterdir()) == names  # nothing saved


def test_remove_of_a_stop_not_on_a_route_is_400(client: FlaskClient) -> None:
    resp = client.post(f"{EDIT}/remove?lang=en", data={"commune_code": "00000"})
    assert resp.status_code == 400 and "commune_code = “00000”" in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["viewer", "driver", "planner"])
def test_edits_are_forbidden_without_the_edit_permission(
        client_as: Callable[..., FlaskClient], role: str) -> None:
    c = client_as(role)
    assert c.get(EDIT).status_code == 403
    for action, data in (("move", {"commune_code": LATE, "vehicle_id": VAN}),
                         ("remove", {"commune_code": LATE}), ("resolve", {})):
        assert c.post(f"{EDIT}/{action}", data=data).status_code == 403
    if role != "driver":  # the plan page offers no edit controls to them
        page = c.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
        assert f'href="{EDIT}"' not in page


def test_edit_without_csrf_token_is_400(client_as: Callable[..., FlaskClient],
                                        runs_dir: Path) -> None:
    c = client_as("dispatcher", csrf=False)
    names = sorted(p.name for p in runs_dir.iterdir())
    resp = c.post(f"{EDIT}/move", data={"commune_code": LATE, "vehicle_id": VAN})
    assert resp.status_code == 400
    assert c.post(f"{EDIT}/resolve", data={}).status_code == 400
    assert sorted(p.name for p in runs_dir.iterdir()) == names


def test_unknown_plan_is_404_and_a_published_version_is_409(client: FlaskClient) -> None:
    assert client.get("/plans/nope/edit").status_code == 404
    assert client.post("/plans/nope/edit/move", data={"commune_code": LATE,
                                                      "vehicle_id": VAN}).status_code == 404
    key = _publish(client)
    resp = client.get(f"/plans/{key}/edit?lang=en")
    assert resp.status_code == 409 and "published version" in resp.get_data(as_text=True)
    assert client.post(f"/plans/{key}/edit/move", data={"commune_code": LATE,
                                                        "vehicle_id": VAN}).status_code == 409
    page = client.get(f"/plans/{key}").get_data(as_text=True)
    assert f'href="/plans/{key}/edit"' not in page  # no edit button on a version


def test_plan_without_scenario_cannot_be_edited(client: FlaskClient, runs_dir: Path) -> None:
    (runs_dir / FIXTURE_RUN / "scenario.json").unlink()
    resp = client.post(f"{EDIT}/move?lang=en", data={"commune_code": LATE, "vehicle_id": VAN})
    assert resp.status_code == 409 and "scenario" in resp.get_data(as_text=True)


def test_resolve_the_rest_starts_a_replan_job_with_the_locked_visits(
        app: Flask, client: FlaskClient) -> None:
    resp = client.post(f"{EDIT}/resolve", data={"locked": ["00715", "01144"],
                                                 "time_limit_s": "2"})
    assert resp.status_code == 303 and "/jobs/" in resp.headers["Location"]
    job_id = _job_of(resp.headers["Location"])
    try:
        folder = Path(app.config["JOBS_DIR"]) / job_id
        job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        spec = job["replan"]
        assert spec["kind"] == "resolve" and spec["base"] == FIXTURE_RUN
        assert spec["locked"] == ["00715", "01144"] and len(spec["free"]) == 10
        assert "00715" not in spec["free"] and spec["done"] == []
        assert job["time_limit_s"] == 2
        assert (folder / "previous.json").is_file() and job["scenario_file"] == str(
            folder / "scenario.json")
    finally:
        _cancel(app, job_id)


@pytest.mark.parametrize(("data", "field"), [({"locked": "99999"}, "locked"),
                                             ({"time_limit_s": "abc"}, None)])
def test_resolve_with_bad_fields_is_400(client: FlaskClient, data: dict,
                                        field: str | None) -> None:
    resp = client.post(f"{EDIT}/resolve?lang=en", data=data)
    assert resp.status_code == 400
    if field:
        assert f"Field {field} = “99999”" in resp.get_data(as_text=True)


def test_replan_from_outcomes_fixes_done_visits_and_frees_failed_ones(
        app: Flask, client: FlaskClient, client_as: Callable[..., FlaskClient]) -> None:
    key = _publish(client)
    assert client.post(f"/versions/{key}/replan").status_code == 409  # nothing recorded
    page = client.get(f"/versions/{key}/outcomes").get_data(as_text=True)
    assert f'action="/versions/{key}/replan"' in page
    assert "Lập lại kế hoạch từ đây" in page
    for vehicle, seq, status in ((TRUCK, 1, "done"), (VAN, 2, "failed")):
        assert client.post(f"/versions/{key}/outcomes", data={
            "vehicle_id": vehicle, "stop_seq": str(seq), "status": status}).status_code == 303
    driver = client_as("driver")
    assert f'action="/versions/{key}/replan"' not in driver.get(
        f"/versions/{key}/outcomes").get_data(as_text=True)
    assert driver.post(f"/versions/{key}/replan").status_code == 403
    assert client_as("viewer").post(f"/versions/{key}/replan").status_code == 403
    assert client_as("dispatcher", csrf=False).post(f"/versions/{key}/replan").status_code == 400
    assert client.post("/versions/nope@v9/replan").status_code == 404
    resp = client.post(f"/versions/{key}/replan")
    assert resp.status_code == 303
    job_id = _job_of(resp.headers["Location"])
    try:
        spec = json.loads((Path(app.config["JOBS_DIR"]) / job_id / "job.json").read_text(
            encoding="utf-8"))["replan"]
        assert (spec["kind"], spec["base"], spec["done"], spec["free"]) == (
            "outcomes", key, ["00715"], ["01141"])
    finally:
        _cancel(app, job_id)


@pytest.mark.slow
def test_a_real_replan_job_keeps_done_visits_and_reports_changes(
        app: Flask, client: FlaskClient, runs_dir: Path) -> None:
    service: JobService = services_of(app).jobs
    folder = runs_dir / FIXTURE_RUN
    spec = ReplanSpec(kind="outcomes", base=FIXTURE_RUN, previous_plan=folder / "plan.json",
                      done=("00715",), free=("01141",))
    job_id = service.start(folder / "scenario.json", scenario_name="ha-giang-2026",
                           time_limit_s=2, replan=spec)
    assert wait_for(lambda: not service.status(job_id).active, timeout_s=120, poll_s=0.5)
    status = service.status(job_id)
    assert status.status == "done", (status.error, status.log_tail)
    plan = read_plan(runs_dir / status.plan_name / "plan.json")
    record = plan.provenance.replan
    assert record is not None
    assert record.kind == "outcomes" and record.done == ("00715",)
    assert record.changes.dropped == 0  # the failed visit is served again
    first = next(r for r in plan.routes if r.vehicle_id == TRUCK).visits[0]
    previous = read_plan(folder / "plan.json").routes[0].visits[0]
    assert (first.commune_code, first.start_s) == ("00715", previous.start_s)
    page = client.get(f"/plans/{status.plan_name}").get_data(as_text=True)
    assert 'id="replan-facts"' in page and "điểm dừng đổi xe" in page


def _geometry_job(app: Flask, plan_name: str) -> str:
    from webui.jobservice import geometry_job_name

    with app.app_context():
        infos = [j for j in services_of(app).jobs.list()
                 if j.scenario_name == geometry_job_name(plan_name)]
    assert len(infos) == 1, [j.scenario_name for j in services_of(app).jobs.list()]
    return infos[0].job_id


def test_an_edited_route_is_drawn_along_the_roads_by_a_background_job(
        app: Flask, client: FlaskClient, runs_dir: Path, shared_cache: Path) -> None:
    """The edit request draws the changed routes in straight legs (it builds no road graph)
    and starts a job that draws them along the roads; the pages say so meanwhile."""
    resp = client.post(f"{EDIT}/move", data={"commune_code": LATE, "vehicle_id": VAN,
                                              "position": "1"})
    assert resp.status_code == 303
    new_run = _run_of(resp.headers["Location"])
    routes = json.loads((runs_dir / new_run / "routes.geojson").read_text(encoding="utf-8"))
    van = next(f for f in routes["features"] if f["properties"].get("vehicle_id") == VAN
               and f["properties"]["kind"] == "route")
    truck = next(f for f in routes["features"] if f["properties"].get("vehicle_id") == TRUCK
                 and f["properties"]["kind"] == "route")
    assert van["properties"].get("approximate") and truck["properties"].get("approximate")
    job_id = _geometry_job(app, new_run)
    service: JobService = services_of(app).jobs
    assert wait_for(lambda: not service.status(job_id).active, timeout_s=150, poll_s=0.5)
    status = service.status(job_id)
    assert status.status == "done", (status.error, status.log_tail)
    assert status.plan_name == new_run
    routes = json.loads((runs_dir / new_run / "routes.geojson").read_text(encoding="utf-8"))
    lines = [f for f in routes["features"] if f["properties"]["kind"] == "route"]
    assert lines and not any(f["properties"].get("approximate") for f in lines)
    assert all(len(f["geometry"]["coordinates"]) > 100 for f in lines)  # along the roads
    page = client.get(f"/plans/{new_run}").get_data(as_text=True)
    assert 'id="routes-approximate"' not in page


def test_a_plan_without_matrices_is_prepared_by_a_job_before_it_is_edited(
        app: Flask, client: FlaskClient, runs_dir: Path, shared_cache: Path) -> None:
    (runs_dir / FIXTURE_RUN / "matrices.npz").unlink()  # a plan written before they were
    resp = client.get(EDIT)
    assert resp.status_code == 303 and "/jobs/" in resp.headers["Location"]
    job_id = _job_of(resp.headers["Location"])
    assert client.get(EDIT).headers["Location"].endswith(job_id)  # the same job, not another
    service: JobService = services_of(app).jobs
    assert wait_for(lambda: not service.status(job_id).active, timeout_s=150, poll_s=0.5)
    assert service.status(job_id).status == "done"
    assert (runs_dir / FIXTURE_RUN / "matrices.npz").is_file()
    assert client.get(EDIT).status_code == 200


def test_pages_say_when_routes_are_drawn_in_straight_legs(client: FlaskClient,
                                                          runs_dir: Path) -> None:
    path = runs_dir / FIXTURE_RUN / "routes.geojson"
    routes = json.loads(path.read_text(encoding="utf-8"))
    assert 'id="routes-approximate"' not in client.get(f"/plans/{FIXTURE_RUN}").get_data(
        as_text=True)
    for f in routes["features"]:
        if f["properties"]["kind"] == "route" and f["properties"]["vehicle_id"] == VAN:
            f["properties"]["approximate"] = True
    path.write_text(json.dumps(routes), encoding="utf-8")
    page = client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    assert 'id="routes-approximate"' in page and "tạm vẽ thẳng" in page
    sheet = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VAN}?lang=en").get_data(as_text=True)
    assert 'id="routes-approximate"' in sheet and "straight lines" in sheet
