"""Turn-by-turn directions from a route's road geometry: the instructions add up to the
leg, a T junction turns the right way, villages passed are named, and the sheet and its PDF
print them with the coordinates of each junction."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from webui_testkit import FIXTURE_DIR, FIXTURE_RUN

from geodata.datasets import Place
from planner.plan import Plan
from render.directions import dataset_places, leg_instructions, route_instructions
from render.i18n import Translator

LON0, LAT0 = 105.0, 22.8


def _pt(dx_m: float, dy_m: float) -> list[float]:
    return [LON0 + dx_m / (111_195.0 * np.cos(np.radians(LAT0))), LAT0 + dy_m / 111_195.0]


def _t_leg(arm: int) -> tuple[np.ndarray, list[dict]]:
    """1 km east on QL.4C, then 1 km north (``arm=1``) or south (``-1``) on a commune road."""
    coords = np.array([_pt(x, 0) for x in range(0, 1001, 100)]
                      + [_pt(1000, arm * y) for y in range(100, 1001, 100)])
    return coords, [{"name": "Quốc lộ 4C", "ref": "QL.4C", "road_class": "primary", "km": 1.0},
                    {"name": "", "ref": "", "road_class": "tertiary", "km": 1.0}]


@pytest.mark.parametrize(("arm", "turn", "vi"), [(1, "left", "Rẽ trái vào đường liên xã"),
                                                 (-1, "right", "Rẽ phải vào đường liên xã")])
def test_a_t_junction_gives_the_expected_turn(arm: int, turn: str, vi: str) -> None:
    coords, directions = _t_leg(arm)
    village = Place("Thôn Nà Mạ", "village", "place", *_pt(1050, arm * 600))
    school = Place("Trường Tiểu học", "school", "poi", *_pt(1030, 40))
    depart, junction, arrive = leg_instructions(coords, directions, (village, school),
                                                destination="Xã Khâu Vai")
    assert (depart.turn, depart.heading, depart.road.ref) == ("depart", "e", "QL.4C")
    assert junction.turn == turn and abs(abs(junction.angle_deg) - 90) <= 2
    assert (junction.lon, junction.lat) == pytest.approx(_pt(1000, 0), abs=1e-5)
    assert junction.at_km == 1.0 and junction.near == "Trường Tiểu học"
    assert junction.villages == ("Thôn Nà Mạ",) and depart.villages == ()
    assert arrive.turn == "arrive" and arrive.at_km == 2.0 and arrive.near == "Xã Khâu Vai"
    text = Translator("vi").instruction(junction)
    assert text.startswith(vi) and "gần Trường Tiểu học" in text and "qua Thôn Nà Mạ" in text
    assert Translator("en").instruction(depart) == "Start on QL.4C (Quốc lộ 4C), heading east"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-3000, 3000), st.floats(-3000, 3000)), min_size=2,
                max_size=15),
       st.lists(st.tuples(st.sampled_from(["QL.4C", "", "ĐT.176"]),
                          st.sampled_from(["", "Đường A", "Đường B"]),
                          st.sampled_from(["primary", "minor", "tertiary"]),
                          st.floats(0.01, 30.0)), min_size=1, max_size=12))
def test_instructions_reproduce_the_length_of_the_leg(points, roads) -> None:
    coords = np.array([_pt(x, y) for x, y in points])
    directions = [{"ref": r, "name": n, "road_class": c, "km": round(km, 2)}
                  for r, n, c, km in roads]
    found = leg_instructions(coords, directions)
    total = sum(d["km"] for d in directions)
    assert sum(i.km for i in found) == pytest.approx(total, abs=0.051)
    assert found[-1].turn == "arrive" and found[-1].at_km == pytest.approx(total, abs=0.051)
    assert [i.number for i in found] == list(range(1, len(found) + 1))
    at = [i.at_km for i in found]
    assert at == sorted(at)
    # every instruction's coordinate lies on the leg's line (within its bounding box)
    lo, hi = coords.min(axis=0) - 1e-5, coords.max(axis=0) + 1e-5  # printed to 5 decimals
    assert all(lo[0] <= i.lon <= hi[0] and lo[1] <= i.lat <= hi[1] for i in found)


def test_fixture_routes_add_up_leg_by_leg(fixture_plan: Plan) -> None:
    routes = json.loads((FIXTURE_DIR / "routes.geojson").read_text(encoding="utf-8"))
    places = dataset_places(fixture_plan.network)
    assert len(places) > 300  # the shipped OSM places of Hà Giang
    for r in fixture_plan.routes:
        dest = [v.commune_name for v in r.visits] + [r.depot_name]
        legs = route_instructions(routes, r.vehicle_id, dest, places)
        assert legs is not None and len(legs) == len(r.visits) + 1
        for steps, km in zip(legs, [v.leg_km for v in r.visits] + [r.return_leg_km],
                             strict=True):
            assert sum(i.km for i in steps) == pytest.approx(km, abs=0.05 + 0.01 * len(steps))
            assert steps[-1].turn == "arrive"
        # the first leg leaves Hà Giang city on QL.4C, through named villages
        first = legs[0]
        assert any(i.road is not None and i.road.ref == "QL.4C" for i in first)
        assert any(i.villages for i in first)


def test_sheet_and_pdf_print_turns_with_coordinates(client: FlaskClient) -> None:
    page = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01?lang=vi").get_data(as_text=True)
    assert "Chỉ dẫn" in page and "Tọa độ (vĩ độ, kinh độ)" in page
    assert "Xuất phát theo" in page and "Đến Xã Lũng Cú" in page and "qua " in page
    assert "22.86011, 104.96290" in page  # the library's end of the first leg
    en = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01?lang=en").get_data(as_text=True)
    assert "Arrive at Xã Lũng Cú" in en and "Start on" in en
    pdf = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01.pdf?lang=vi")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
                    .split())
    assert "Xuất phát theo" in text and "Đến Xã Lũng Cú" in text
