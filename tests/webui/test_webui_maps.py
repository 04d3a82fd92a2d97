"""The plan map: self-contained (no CDN), attribution, stops, depot note, unserved, languages."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from webui_testkit import FIXTURE_DIR, OSM

from planner.plan import Plan, Unserved
from render.maps import OfflineMap, plan_map, render_map_html, write_plan_map

EXTERNAL_TAG = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?"
                          r"(https?:)?//", re.I)


@pytest.fixture(scope="module")
def map_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("map") / "map.html"
    return write_plan_map(FIXTURE_DIR, out)


@pytest.fixture(scope="module")
def map_html(map_file: Path) -> str:
    return map_file.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def routes() -> dict[str, Any]:
    return json.loads((FIXTURE_DIR / "routes.geojson").read_text(encoding="utf-8"))


def _outside_leaflet(page: str) -> str:
    """The page without the inlined Leaflet source and stylesheet (which mention URLs in
    comments and its own attribution link)."""
    blocks = re.split(r"(<script>.*?</script>|<style>.*?</style>)", page, flags=re.S)
    return "".join(b for b in blocks
                   if 'version="1.9.4"' not in b and ".leaflet-pane" not in b)


def test_map_loads_no_script_or_style_from_the_network(map_html: str) -> None:
    assert not EXTERNAL_TAG.search(map_html)
    assert "<script src" not in map_html and "<link" not in map_html
    for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "awesome-markers",
                "fontawesome"):
        assert cdn not in map_html
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", _outside_leaflet(map_html)))
    assert urls == {"https://tile.openstreetmap.org/{z}/{x}/{y}.png"}


def test_map_inlines_the_vendored_leaflet(map_html: str) -> None:
    assert 'version="1.9.4"' in map_html
    assert ".leaflet-pane" in map_html
    assert "url(data:image/png;base64," in map_html  # layer control icon


def test_map_has_attribution_stops_and_depot_note(map_html: str, fixture_plan: Plan) -> None:
    assert OSM in map_html
    assert '<html lang="vi">' in map_html
    for route in fixture_plan.routes:
        for v in route.visits:
            assert v.commune_name in map_html
    assert "Vị trí gần đúng" in map_html
    assert "Giao" in map_html and "Thu về" in map_html


def test_map_osm_tiles_are_optional_and_off(map_html: str) -> None:
    tile_var = re.search(r"var (tile_layer_\w+) = L\.tileLayer\(", map_html)
    assert tile_var
    assert f"{tile_var.group(1)}.addTo(" not in map_html  # only in the layer control
    assert "L.control.layers(" in map_html


def test_map_file_is_small(map_file: Path) -> None:
    assert map_file.stat().st_size < 3_000_000


def test_offline_map_needs_only_leaflet() -> None:
    page = render_map_html(OfflineMap(location=[22.8, 105.0]))
    assert not EXTERNAL_TAG.search(page)
    assert "$(" not in _outside_leaflet(page)  # no jQuery calls


def _with_unserved(plan: Plan, routes: dict[str, Any]) -> tuple[Plan, dict[str, Any]]:
    """The fixture plan with one more commune left out, and its point in the routes."""
    u = Unserved(commune_code="00999", commune_name="Xã Thử Nghiệm", required=True,
                 reason_code="no_room_time", reason="no insertion fits the time windows")
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.1, 23.0]},
               "properties": {"kind": "unserved", "commune_code": "00999",
                              "name": u.commune_name, "reason": u.reason}}
    return (dataclasses.replace(plan, unserved=(u,)),
            {**routes, "features": [*routes["features"], feature]})


def test_map_marks_unserved_communes_with_their_reason(fixture_plan: Plan,
                                                       routes: dict[str, Any]) -> None:
    plan, routes2 = _with_unserved(fixture_plan, routes)
    page = render_map_html(plan_map(plan, routes2, basemap=False))
    assert "Xã Thử Nghiệm" in page and "mlp-unserved" in page
    # the reason in words; the planner's English detail only on the English map
    assert "nhiều giới hạn cùng lúc" in page and "no insertion fits the time windows" not in page
    english = render_map_html(plan_map(plan, routes2, basemap=False, lang="en"), lang="en")
    assert "no insertion fits the time windows" in english


def test_map_in_english(fixture_plan: Plan, routes: dict[str, Any]) -> None:
    page = render_map_html(plan_map(fixture_plan, routes, lang="en", basemap=False), lang="en")
    assert '<html lang="en">' in page
    assert "Approximate position" in page and "Deliver" in page and OSM in page


def test_map_escapes_text_from_the_scenario(fixture_plan: Plan, routes: dict[str, Any]) -> None:
    route = fixture_plan.routes[0]
    evil = "</script><script>alert(1)</script>"
    visits = (dataclasses.replace(route.visits[0], contact=evil), *route.visits[1:])
    plan = dataclasses.replace(fixture_plan, routes=(dataclasses.replace(route, visits=visits),
                                                     *fixture_plan.routes[1:]))
    page = render_map_html(plan_map(plan, routes, basemap=False))
    assert evil not in page
    assert "alert(1)" in page  # present, but escaped text


def test_route_lines_carry_direction_arrows(fixture_plan: Plan) -> None:
    """An arrow every 12 km along each route, pointing the way it is driven (the first
    leaves Hà Giang city northwards, towards Lũng Cú)."""
    import json as _json

    from render.maps import ARROW_EVERY_M, _arrows, _route_line

    routes = _json.loads((FIXTURE_DIR / "routes.geojson").read_text(encoding="utf-8"))
    line = _route_line(routes, "xe-tv-01")
    arrows = _arrows(line)
    km = fixture_plan.routes[0].km
    assert abs(len(arrows) - km * 1000 / ARROW_EVERY_M) <= 2
    first_bearing = arrows[1][2]
    assert first_bearing < 90 or first_bearing > 270  # heading north out of the city
    page = render_map_html(plan_map(fixture_plan, routes, basemap=False))
    assert page.count('"mlp-arrow-icon"') == len(arrows) + len(_arrows(
        _route_line(routes, "xe-van-02")))
