"""Road closures: the page and its map data, adding and deleting closures (with the errors
of each field), permissions, CSRF, and re-plan jobs with the closures in their scenario."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN, wait_for

from planner.closures import closure_specs
from planner.errors import ScenarioError
from planner.plan import read_plan
from storage.closures import ClosureInfo
from webui.closures import drawn, parse_geometry, scenario_closures
from webui.jobservice import JobService
from webui.services import services_of

# An area over QL.4C on the Mã Pí Lèng pass (see scenarios/ha-giang-2026-landslide.yaml).
MA_PI_LENG = {"type": "Polygon", "coordinates": [[[105.37, 23.215], [105.39, 23.215],
                                                  [105.39, 23.235], [105.37, 23.235],
                                                  [105.37, 23.215]]]}
LINE = {"type": "LineString", "coordinates": [[105.375, 23.22], [105.385, 23.23]]}


def _form(**changes: object) -> dict[str, str]:
    data = {"name": "QL.4C đèo Mã Pí Lèng", "from_date": "2026-12-01", "to_date": "2026-12-31",
            "note": "sạt lở", "geometry": json.dumps(LINE)}
    data.update({k: str(v) for k, v in changes.items()})
    return data


def _add(client: FlaskClient, **changes: object) -> int:
    resp = client.post("/closures", data=_form(**changes))
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rsplit("#closure-", 1)[1])


def _job_spec(app: Flask, location: str) -> tuple[str, dict]:
    job_id = location.rstrip("/").rsplit("/", 1)[-1]
    job = json.loads((Path(app.config["JOBS_DIR"]) / job_id / "job.json").read_text("utf-8"))
    return job_id, job


def test_page_lists_closures_and_offers_the_draw_tool(client: FlaskClient) -> None:
    cid = _add(client)
    html = client.get(f"/closures?plan={FIXTURE_RUN}").get_data(as_text=True)
    assert "QL.4C đèo Mã Pí Lèng" in html and f'id="closure-{cid}"' in html
    assert 'id="closure-map"' in html and "/assets/leaflet/leaflet.js" in html
    assert "closure-draw.js" in html and 'name="geometry"' in html
    # the closure is in force during the plan's dates: ticked for the re-plan
    assert f'value="{cid}" form="replan-form" checked' in html
    assert 'action="/closures/replan"' in html
    assert "Đường bị chặn" in client.get("/").get_data(as_text=True)  # the nav link
    # a new closure lasts the plan's days unless changed; deleting one asks first
    assert 'name="from_date" required value="2026-12-07"' in html
    assert 'name="to_date" required value="2026-12-11"' in html
    assert 'data-confirm="Xóa đoạn đường bị chặn này?' in html


def test_map_data_has_the_basemap_routes_and_closures(client: FlaskClient) -> None:
    cid = _add(client)
    data = client.get(f"/closures/map.json?plan={FIXTURE_RUN}").get_json()
    assert data["outline"]["features"] and [r["class"] for r in data["roads"]][-1] == "trunk"
    assert len(data["routes"]["features"]) == 2 and len(data["stops"]["features"]) == 12
    (closure,) = data["closures"]["features"]
    assert closure["properties"]["id"] == cid and closure["geometry"] == LINE
    assert "OpenStreetMap" in data["attribution"]
    # road numbers and names along the roads, communes and villages (issue 20, item 10)
    roads = {label["text"] for label in data["labels"]["roads"]}
    assert any(text.startswith("QL.4C") for text in roads), sorted(roads)[:20]
    places = {(p["kind"], p["text"]) for p in data["labels"]["places"]}
    assert ("commune", "Xã Lũng Cú") in places and any(k == "village" for k, _ in places)
    assert client.get("/closures/map.json?plan=nope").status_code == 404


@pytest.mark.parametrize(("changes", "needle"), [
    ({"from_date": "2026-12-31", "to_date": "2026-12-01"},
     "start date (2026-12-31) is after the end date (2026-12-01)"),
    ({"from_date": "31/12/2026"}, "Field from_date = “31/12/2026”: not a valid date"),
    ({"to_date": ""}, "Field to_date = “”: not a valid date"),
    ({"name": "  "}, "Field name = “”"),
    ({"geometry": "not json"}, "Field geometry cannot be used: not valid JSON"),
    ({"geometry": ""}, "Field geometry cannot be used"),
    ({"geometry": json.dumps({"type": "Point", "coordinates": [105.3, 23.2]})},
     "draw a line or an area"),
    ({"geometry": json.dumps({"type": "LineString", "coordinates": [[105.3, 23.2]]})},
     "a line needs at least 2 points"),
    ({"geometry": json.dumps({"type": "LineString", "coordinates": [[305.3, 23.2],
                                                                     [105, 23]]})},
     "not a longitude and latitude"),
    ({"geometry": json.dumps({"type": "Polygon", "coordinates": [[[105, 23], [105.1, 23],
                                                                   [105, 23]]]})},
     "at least 3 different points"),
])
def test_bad_closures_are_400_naming_the_field(client: FlaskClient, changes: dict,
                                               needle: str) -> None:
    resp = client.post("/closures?lang=en", data=_form(**changes))
    assert resp.status_code == 400
    assert needle in resp.get_data(as_text=True)
    assert "closure-" not in client.get("/closures").get_data(as_text=True).split(
        "closure-list", 1)[1].split("</section>", 1)[0].replace("closure-list", "")


def test_delete_a_closure(client: FlaskClient) -> None:
    cid = _add(client)
    resp = client.post(f"/closures/{cid}/delete", data={"plan": FIXTURE_RUN})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(
        f"/closures?plan={FIXTURE_RUN}")
    assert f'id="closure-{cid}"' not in client.get("/closures").get_data(as_text=True)
    assert client.post(f"/closures/{cid}/delete").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "driver", "planner"])
def test_only_dispatchers_change_closures(client: FlaskClient,
                                          client_as: Callable[..., FlaskClient],
                                          role: str) -> None:
    cid = _add(client)
    c = client_as(role)
    assert c.post("/closures", data=_form()).status_code == 403
    assert c.post(f"/closures/{cid}/delete").status_code == 403
    assert c.post("/closures/replan", data={"plan": FIXTURE_RUN,
                                            "closure": str(cid)}).status_code == 403
    page = c.get("/closures")
    if role == "driver":  # drivers read published plans only
        assert page.status_code == 403
    else:
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "QL.4C" in html
        assert 'method="post" action="/closures"' not in html and "/delete" not in html


def test_closure_forms_without_csrf_token_are_400(client: FlaskClient,
                                                  client_as: Callable[..., FlaskClient]) -> None:
    cid = _add(client)
    c = client_as("dispatcher", csrf=False)
    assert c.post("/closures", data=_form()).status_code == 400
    assert c.post(f"/closures/{cid}/delete").status_code == 400
    assert c.post("/closures/replan", data={"plan": FIXTURE_RUN}).status_code == 400


def test_replan_with_closures_starts_a_job_with_them_in_the_scenario(
        app: Flask, client: FlaskClient) -> None:
    line, area = _add(client), _add(client, name="Vùng sạt lở",
                                    geometry=json.dumps(MA_PI_LENG), to_date="2026-12-20")
    resp = client.post("/closures/replan", data={"plan": FIXTURE_RUN,
                                                 "closure": [str(line), str(area)],
                                                 "time_limit_s": "2"})
    assert resp.status_code == 303 and "/jobs/" in resp.headers["Location"]
    job_id, job = _job_spec(app, resp.headers["Location"])
    try:
        spec = job["replan"]
        assert (spec["kind"], spec["base"], spec["done"]) == ("closures", FIXTURE_RUN, [])
        assert spec["closures"] == [
            {"id": f"ui-closure-{line}", "note": "QL.4C đèo Mã Pí Lèng — sạt lở",
             "start": "2026-12-01", "end": "2026-12-31", "line": LINE["coordinates"],
             "tolerance_m": 30.0},
            {"id": f"ui-closure-{area}", "note": "Vùng sạt lở — sạt lở",
             "start": "2026-12-01", "end": "2026-12-20",
             "area": MA_PI_LENG["coordinates"][0]}]
    finally:
        services_of(app).jobs.cancel(job_id)


@pytest.mark.parametrize(("data", "status"), [({"plan": FIXTURE_RUN}, 400),
                                              ({"plan": FIXTURE_RUN, "closure": "x"}, 400),
                                              ({"plan": FIXTURE_RUN, "closure": "999"}, 404),
                                              ({"plan": "nope", "closure": "1"}, 404)])
def test_replan_with_bad_choices(client: FlaskClient, data: dict, status: int) -> None:
    _add(client)
    assert client.post("/closures/replan", data=data).status_code == status


def test_scenario_closures_of_each_geometry() -> None:
    day = dt.date(2026, 12, 1)
    multi = ClosureInfo(7, "Hai đoạn", {"type": "MultiLineString", "coordinates": [
        [[105, 23], [105.1, 23.1]], [[105.2, 23], [105.3, 23.1]]]}, day, day, "")
    out = scenario_closures([multi])
    assert [c["id"] for c in out] == ["ui-closure-7-1", "ui-closure-7-2"]
    assert out[1]["line"] == [[105.2, 23], [105.3, 23.1]] and out[0]["note"] == "Hai đoạn"
    assert [s.line for s in closure_specs([drawn(multi)])][1] == ((105.2, 23), (105.3, 23.1))
    point = ClosureInfo(8, "Điểm", {"type": "Point", "coordinates": [105, 23]}, day, day, "")
    with pytest.raises(ScenarioError, match=r"closures\[0\].*say which road"):
        closure_specs([drawn(point)])
    assert parse_geometry(json.dumps({"type": "Feature", "geometry": {
        "type": "Polygon", "coordinates": [[[105, 23], [105.1, 23], [105.1, 23.1]]]}}))[
        "coordinates"][0][-1] == [105, 23]  # the ring is closed


def test_a_closure_that_selects_no_road_fails_the_job_naming_it(
        app: Flask, client: FlaskClient) -> None:
    far = {"type": "Polygon", "coordinates": [[[100.0, 10.0], [100.001, 10.0],
                                               [100.001, 10.001], [100.0, 10.0]]]}
    cid = _add(client, geometry=json.dumps(far))
    resp = client.post("/closures/replan", data={"plan": FIXTURE_RUN, "closure": str(cid)})
    job_id, _job = _job_spec(app, resp.headers["Location"])
    service: JobService = services_of(app).jobs
    assert wait_for(lambda: not service.status(job_id).active, timeout_s=120, poll_s=0.5)
    status = service.status(job_id)
    assert status.status == "failed"
    assert f"ui-closure-{cid}" in status.error and "selects no road" in status.error


@pytest.mark.slow
def test_a_real_replan_with_a_closure(app: Flask, client: FlaskClient, runs_dir: Path) -> None:
    cid = _add(client, geometry=json.dumps(MA_PI_LENG))
    resp = client.post("/closures/replan", data={"plan": FIXTURE_RUN, "closure": str(cid),
                                                 "time_limit_s": "2"})
    job_id, _job = _job_spec(app, resp.headers["Location"])
    service: JobService = services_of(app).jobs
    assert wait_for(lambda: not service.status(job_id).active, timeout_s=150, poll_s=0.5)
    status = service.status(job_id)
    assert status.status == "done", (status.error, status.log_tail)
    plan = read_plan(runs_dir / status.plan_name / "plan.json")
    assert plan.provenance.road_conditions is not None
    assert plan.provenance.road_conditions.closures == (f"ui-closure-{cid}",)
    assert plan.provenance.replan is not None
    assert plan.provenance.replan.closures == (f"ui-closure-{cid}",)
    changes = plan.provenance.replan.changes
    page = client.get(f"/plans/{status.plan_name}?lang=en").get_data(as_text=True)
    assert "Re-planned for road closures" in page
    assert f"{changes.moved} stop(s) changed vehicle" in page
    # the closure by the dispatcher's name and dates, never its internal id, on the page,
    # the sheet and the map
    assert "QL.4C đèo Mã Pí Lèng — sạt lở · from 01/12/2026 to 31/12/2026 · closed" in page
    assert "ui-closure" not in page
    vehicle = plan.routes[0].vehicle_id
    sheet = client.get(f"/plans/{status.plan_name}/sheet/{vehicle}?lang=vi")
    assert "QL.4C đèo Mã Pí Lèng — sạt lở · từ 01/12/2026 đến 31/12/2026" in \
        sheet.get_data(as_text=True)
    assert "#d00000" in client.get(f"/plans/{status.plan_name}/map").get_data(as_text=True)


@pytest.mark.parametrize("geometry", ["[" * 100_000 + "]" * 100_000,
                                      '{"type": "LineString", "coordinates": ' + "[" * 50
                                      + "]" * 50 + "}",
                                      '{"type": "LineString", "coordinates": [[NaN, 1], [2, 3]]}'])
def test_a_hostile_geometry_is_refused_with_a_message(client: FlaskClient,
                                                       geometry: str) -> None:
    resp = client.post("/closures", data=_form(geometry=geometry))
    assert resp.status_code in (400, 422), resp.status_code
    assert "JSON" in resp.get_data(as_text=True) or "GeoJSON" in resp.get_data(as_text=True)
