"""Printable route sheets: one per vehicle, stops in plan order, both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from webui_testkit import FIXTURE_RUN, OSM

from planner.plan import Plan


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_sheet_lists_stops_in_plan_order(client: FlaskClient, fixture_plan: Plan,
                                         lang: str) -> None:
    for route in fixture_plan.routes:
        resp = client.get(f"/plans/{FIXTURE_RUN}/sheet/{route.vehicle_id}?lang={lang}")
        assert resp.status_code == 200
        page = resp.get_data(as_text=True)
        assert f'<html lang="{lang}">' in page
        positions = [page.index(f"<h2>{escape(v.commune_name)}</h2>") for v in route.visits]
        assert positions == sorted(positions), route.vehicle_id
        for v in route.visits:
            assert f"{v.departure[8:10]}/{v.departure[5:7]} {v.departure[11:16]}" in page
        assert str(escape(route.vehicle_name)) in page
        assert str(escape(route.driver)) in page
        assert OSM in page
        if lang == "vi":
            assert "Phiếu lộ trình" in page and "Giờ đến thực tế" in page
            assert "Chặng về" in page and "Vị trí gần đúng" in page
        else:
            assert "Route sheet" in page and "Actual arrival" in page
            assert "Return leg" in page and "Approximate position" in page


def test_sheet_shows_leg_directions(client: FlaskClient, fixture_plan: Plan) -> None:
    route = fixture_plan.routes[0]
    page = client.get(f"/plans/{FIXTURE_RUN}/sheet/{route.vehicle_id}").get_data(as_text=True)
    # turn-by-turn for every leg and the return
    assert page.count('class="dir turns"') == len(route.visits) + 1
    assert "QL.4C" in page  # the road out of Hà Giang city
    assert "Rẽ gắt sang phải vào" in page and "Xuất phát theo" in page


def test_sheet_without_routes_file_still_prints(client: FlaskClient, runs_dir: Path,
                                                fixture_plan: Plan) -> None:
    (runs_dir / FIXTURE_RUN / "routes.geojson").unlink()
    route = fixture_plan.routes[0]
    resp = client.get(f"/plans/{FIXTURE_RUN}/sheet/{route.vehicle_id}?lang=en")
    assert resp.status_code == 200
    assert "No directions for this leg" in resp.get_data(as_text=True)


def test_sheet_stylesheet_is_a4_print(client: FlaskClient) -> None:
    css = client.get("/static/sheet.css").get_data(as_text=True)
    assert "@page" in css and "size: A4" in css


def test_unknown_vehicle_or_plan_is_404(client: FlaskClient) -> None:
    resp = client.get(f"/plans/{FIXTURE_RUN}/sheet/no-such-truck")
    assert resp.status_code == 404
    assert "no-such-truck" in resp.get_data(as_text=True)
    assert client.get("/plans/nope/sheet/xe-tv-01").status_code == 404
    assert client.get(f"/plans/{FIXTURE_RUN}/sheet/..%2F..%2Fplan.json").status_code == 404
    assert client.get("/plans/..%2Fetc/sheet/xe-tv-01").status_code == 404
