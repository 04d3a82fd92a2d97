"""Editing commune libraries: the stored current values and their audit trail (SQLite and
PostgreSQL), the library page (map, form, history, permissions, CSRF, validation) and the
edited values applied to a scenario the web UI solves."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import PROJECT_ROOT, tiny_scenario_yaml

from geodata.datasets import load_dataset
from planner.libraries import LibraryValues, apply_library_values
from planner.pipeline import places_of
from planner.scenario import load_scenario
from storage import libraries
from webui.services import services_of

FAST_HASH = "pbkdf2:sha256:1000"
LUNG_CU = "00715"
DEFAULT = PROJECT_ROOT / "scenarios" / "ha-giang-2026.yaml"


# --- applied to a scenario ------------------------------------------------------------------

def test_overrides_change_the_stops_of_a_scenario() -> None:
    scenario = load_scenario(DEFAULT)
    khau_vai = next(s for s in scenario.stops if s.commune_code == "00802")
    assert khau_vai.time_windows[0].weekdays == ("wed", "thu")
    overrides = {
        "00778": LibraryValues(lon=104.5, lat=23.3, contact="Chị Hoa", lodging=False),
        "00802": LibraryValues(market_every_days=6, market_anchor=dt.date(2026, 12, 9)),
        "01108": LibraryValues(opening_hours=(("08:00", "11:00"),),
                               market_weekdays=("tue", "fri")),
        "01096": LibraryValues(opening_hours=(("08:00", "16:00"),)),
        "99999": LibraryValues(contact="not a stop"),
    }
    out = apply_library_values(scenario, overrides, file="x")
    stops = {s.commune_code: s for s in out.stops}
    assert stops["00778"].location is not None and stops["00778"].location.lon == 104.5
    assert stops["00778"].contact == "Chị Hoa" and stops["00778"].lodging is False
    assert stops["00778"].time_windows == next(
        s for s in scenario.stops if s.commune_code == "00778").time_windows
    # Market days keep the scenario's hours, on the market's cycle only.
    (w,) = stops["00802"].time_windows
    assert (w.start_min, w.end_min, w.weekdays) == (450, 660, None)
    assert (w.every_days, w.anchor) == (6, dt.date(2026, 12, 9))
    (w,) = stops["01108"].time_windows
    assert (w.start_min, w.end_min, w.weekdays) == (480, 660, ("tue", "fri"))
    assert [(w.start_min, w.end_min, w.weekdays) for w in stops["01096"].time_windows] == [
        (480, 960, None)]
    assert stops["01141"] == next(s for s in scenario.stops if s.commune_code == "01141")
    assert apply_library_values(scenario, {"99999": overrides["99999"]}) is scenario
    # The planner snaps the stop at the library's point.
    located = {loc.key: loc for loc in places_of(out, load_dataset(out.network))}
    assert (located["00778"].lon, located["00778"].lat) == (104.5, 23.3)


# --- the library page -----------------------------------------------------------------------

def _form(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"lat": "23.3652", "lon": "105.3108", "contact": "",
                               "opening_hours": "", "market_mode": "none", "lodging": ""}
    base.update(fields)
    return base


def _page(resp: object) -> str:
    return html.unescape(resp.get_data(as_text=True))  # type: ignore[attr-defined]


def test_library_page_shows_map_form_and_empty_history(client: FlaskClient) -> None:
    resp = client.get(f"/communes/{LUNG_CU}")
    assert resp.status_code == 200
    page = _page(resp)
    assert "Xã Lũng Cú" in page and 'id="library-map"' in page
    assert "/assets/leaflet/leaflet.js" in page and "unpkg" not in page
    assert 'id="library-form"' in page and 'id="history-empty"' in page
    assert "≈ Vị trí gần đúng" in page  # not placed yet: the commune's point
    basemap = client.get(f"/communes/{LUNG_CU}/basemap.json").get_json()
    assert basemap["roads"]["features"] and len(basemap["communes"]["features"]) == 73
    assert basemap["outline"]["features"] and "OpenStreetMap" in basemap["attribution"]
    assert client.get("/communes/99999").status_code == 404
    assert client.get("/communes/..%2F..").status_code == 404


@pytest.mark.parametrize("role", ["viewer", "driver", "planner"])
def test_only_dispatchers_edit_libraries(client_as: Callable[..., FlaskClient],
                                        role: str) -> None:
    c = client_as(role)
    page = c.get(f"/communes/{LUNG_CU}").get_data(as_text=True)
    assert 'id="library-map"' in page and 'id="library-form"' not in page
    assert 'data-editable="0"' in page
    assert c.post(f"/communes/{LUNG_CU}", data=_form(contact="x")).status_code == 403


def test_edit_without_csrf_token_is_400(client_as: Callable[..., FlaskClient]) -> None:
    c = client_as("dispatcher", csrf=False)
    assert c.post(f"/communes/{LUNG_CU}", data=_form(contact="x")).status_code == 400


def test_an_edit_is_recorded_with_who_and_when_and_shown(app: Flask,
                                                         client: FlaskClient) -> None:
    before = dt.datetime.now(dt.UTC)
    resp = client.post(f"/communes/{LUNG_CU}", data=_form(
        lat="23.36", lon="105.30", contact="Chị Mai, 0912 345 678",
        opening_hours="7:30-11:30; 13h30-16h00", market_mode="weekdays",
        market_weekdays=["sun", "wed"], lodging="no", address="Thôn  Lô Lô Chải"))
    assert resp.status_code == 303 and resp.headers["Location"].endswith("saved=6#saved")
    with services_of(app).database.begin() as s:
        history = libraries.library_history(s, commune_code=LUNG_CU)
        current = libraries.library_overrides(s)[LUNG_CU].values
    assert {e.field for e in history} == {"location", "contact", "opening_hours",
                                          "market_days", "lodging", "address"}
    assert current.address == "Thôn Lô Lô Chải"  # spaces as one
    assert {e.edited_by for e in history} == {"test-dispatcher"}
    assert all(before <= e.edited_at <= dt.datetime.now(dt.UTC) for e in history)
    assert current.opening_hours == (("07:30", "11:30"), ("13:30", "16:00"))
    assert current.market_weekdays == ("wed", "sun") and current.lodging is False
    page = _page(client.get(f"/communes/{LUNG_CU}?saved=6"))
    assert "Đã lưu (6 trường thay đổi)." in page and "Thôn Lô Lô Chải" in page
    rows = re.findall(r'<tr data-field="([a-z_]+)">', page)
    assert sorted(rows) == ["address", "contact", "location", "lodging", "market_days",
                            "opening_hours"]
    assert "test-dispatcher" in page and "Chị Mai, 0912 345 678" in page
    assert "Thứ Tư, Chủ Nhật" in page and "07:30–11:30, 13:30–16:00" in page
    assert "23.360000, 105.300000" in page and "đặt bởi test-dispatcher" in page
    # The communes list shows the placed library; the history page lists the change.
    listing = _page(client.get("/communes?q=lung+cu"))
    assert "23.3600, 105.3000" in listing and "✎ đặt bởi test-dispatcher" in listing
    everything = _page(client.get("/communes/history"))
    assert everything.count(f'data-code="{LUNG_CU}"') == 6 and "Xã Lũng Cú" in everything
    # Every role reads the history.
    assert client.application.test_client(user="v", role="viewer").get(
        "/communes/history").status_code == 200


def test_unchanged_location_is_not_an_edit_and_reset_goes_back(app: Flask,
                                                               client: FlaskClient) -> None:
    record = load_dataset("ha_giang").communes.loc[LUNG_CU]
    lat, lon = f"{float(record['lat']):.6f}", f"{float(record['lon']):.6f}"
    resp = client.post(f"/communes/{LUNG_CU}", data=_form(lat=lat, lon=lon, contact="A"))
    assert resp.status_code == 303 and "saved=1" in resp.headers["Location"]
    with services_of(app).database.begin() as s:
        assert libraries.library_overrides(s)[LUNG_CU].values.lon is None
    client.post(f"/communes/{LUNG_CU}", data=_form(lat="23.35", lon="105.31", contact="A"))
    resp = client.post(f"/communes/{LUNG_CU}", data=_form(reset_location="1", contact="A"))
    assert "saved=1" in resp.headers["Location"]
    with services_of(app).database.begin() as s:
        assert libraries.library_overrides(s)[LUNG_CU].values.lon is None
        fields = [e.field for e in libraries.library_history(s, commune_code=LUNG_CU)]
    assert fields == ["location", "location", "contact"]


@pytest.mark.parametrize(("fields", "key", "message"), [
    ({"lat": "abc"}, "location", "Vị trí không hợp lệ"),
    ({"lat": "22.0", "lon": "104.0"}, "location", "quá 30 km"),
    ({"opening_hours": "7:30 đến 11:30"}, "opening_hours", "“7:30 đến 11:30”"),
    ({"opening_hours": "11:30-07:30"}, "opening_hours", "Giờ mở cửa không đọc được"),
    ({"market_mode": "weekdays"}, "market_days", "ít nhất một thứ"),
    ({"market_mode": "every", "market_every_days": "0", "market_anchor": "2026-12-09"},
     "market_days", "từ 1 đến 366"),
    ({"market_mode": "every", "market_every_days": "6", "market_anchor": "9/12"},
     "market_days", "Nhập một ngày có chợ"),
    ({"contact": "x" * 600}, "contact", "tối đa 500 ký tự"),
])
def test_invalid_library_values_are_explained(app: Flask, client: FlaskClient,
                                              fields: dict[str, str], key: str,
                                              message: str) -> None:
    resp = client.post(f"/communes/{LUNG_CU}", data=_form(**fields))
    assert resp.status_code == 422
    page = _page(resp)
    problem = re.search(rf'<span class="field-problem" data-field="{key}">([^<]*)</span>', page)
    assert problem and message in problem.group(1)
    with services_of(app).database.begin() as s:
        assert libraries.library_history(s) == []


def test_solving_from_the_web_applies_the_library_values(app: Flask, client: FlaskClient,
                                                         scenarios_dir: Path) -> None:
    shutil.copy(DEFAULT, scenarios_dir)
    (scenarios_dir / "tiny.yaml").write_text(tiny_scenario_yaml(), encoding="utf-8")
    client.post(f"/communes/{LUNG_CU}", data=_form(
        lat="23.3601", lon="105.3102", contact="Chị Mai", opening_hours="08:00-10:00",
        market_mode="weekdays", market_weekdays=["wed"], lodging="no",
        address="Thôn Thèn Pả"))
    for url, data in (("/scenarios/tiny/solve", {}), ("/jobs", {"scenario": "tiny"})):
        resp = client.post(url, data={**data, "time_limit_s": "1"})
        assert resp.status_code == 303, url
        job_id = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        client.post(f"/jobs/{job_id}/cancel")
        text = (Path(app.config["JOBS_DIR"]) / job_id / "scenario.yaml").read_text("utf-8")
        assert f"edited library values of communes {LUNG_CU}" in text
        stop = next(s for s in yaml.safe_load(text)["stops"] if s["commune_code"] == LUNG_CU)
        assert stop["location"] == {"lon": 105.3102, "lat": 23.3601}
        assert stop["contact"] == "Chị Mai" and stop["lodging"] is False
        assert stop["address"] == "Thôn Thèn Pả"  # printed on the stop card
        (window,) = stop["time_windows"]
        assert {k: v for k, v in window.items() if v is not None} == {
            "start": "08:00", "end": "10:00", "weekdays": ["wed"]}
