"""Route views: clock times with trip days, merged directions, the approximate depot."""

from __future__ import annotations

import dataclasses
import json
import re

from webui_testkit import FIXTURE_DIR

from planner.plan import Plan
from render.formatting import hours_text, number, percent
from render.routeview import depot_location_note, route_view, route_views, summarise_directions


def test_route_views_put_day_offsets_from_the_departure_day(fixture_plan: Plan) -> None:
    routes = json.loads((FIXTURE_DIR / "routes.geojson").read_text(encoding="utf-8"))
    views = route_views(fixture_plan, routes)
    assert [v.route.vehicle_id for v in views] == [r.vehicle_id for r in fixture_plan.routes]
    for view in views:
        assert view.depart.day_offset == 0
        offsets = [s.arrival.day_offset for s in view.stops]
        assert offsets == sorted(offsets)
        for s in view.stops:
            assert re.fullmatch(r"\d\d/\d\d \d\d:\d\d", s.arrival.clock)
            assert s.arrival.day_offset == (s.arrival.when.date() - view.first_day).days
            assert s.leg.directions is not None
            assert abs(s.leg.directions[-1].cumulative_km - s.leg.km) < 0.5 + 0.02 * s.leg.km
        assert view.return_leg.directions is not None
        assert view.back.day_offset == view.route.days - 1


def test_directions_are_dropped_when_legs_do_not_match(fixture_plan: Plan) -> None:
    view = route_view(fixture_plan, 0, [[]])  # wrong number of legs
    assert all(s.leg.directions is None for s in view.stops)


def test_summarise_directions_merges_pieces_of_one_road() -> None:
    steps = summarise_directions([
        {"name": "Đường Nguyễn Văn Linh", "ref": "QL.4C", "road_class": "primary", "km": 1.0},
        {"name": "Quốc lộ 4C, Thuận Hòa, Vị Xuyên", "ref": "QL.4C", "road_class": "primary",
         "km": 2.0},
        {"name": "", "ref": "QL.4C", "road_class": "primary", "km": 0.5},
        {"name": "", "ref": "", "road_class": "minor", "km": 0.3},
        {"name": "", "ref": "", "road_class": "minor", "km": 0.2},
        {"name": "TL 178", "ref": "178", "road_class": "secondary", "km": 4.0},
        {"name": "TL 177", "ref": "", "road_class": "secondary", "km": 1.0},
        {"name": "TL177", "ref": "", "road_class": "secondary", "km": 1.0},
    ])
    assert [(s.ref, s.names, s.km, s.cumulative_km) for s in steps] == [
        ("QL.4C", ("Đường Nguyễn Văn Linh", "Quốc lộ 4C"), 3.5, 3.5),
        ("", (), 0.5, 4.0),
        ("TL 178", (), 4.0, 8.0),
        ("", ("TL 177",), 2.0, 10.0),
    ]


def test_depot_location_note(fixture_plan: Plan) -> None:
    depot = fixture_plan.routes[0].depot_name
    note = depot_location_note(fixture_plan, depot)
    assert note is not None and "approximate" in note and not note.startswith(depot)
    exact = dataclasses.replace(fixture_plan, notes=("Road network: OpenStreetMap 2021.",))
    assert depot_location_note(exact, depot) is None


def test_number_formats() -> None:
    assert number(1234.5, "vi") == "1.234,5" and number(1234.5, "en") == "1,234.5"
    assert percent(0.1644, "vi") == "16,4%" and percent(0.15, "en", digits=0) == "15%"
    assert hours_text(5.43) == "5h26" and hours_text(0.99) == "0h59"


def test_a_ferry_crossing_is_its_own_step_with_its_time() -> None:
    from render.i18n import Translator
    from render.pdf import _road_markup

    steps = summarise_directions([
        {"name": "Quốc lộ 6", "ref": "QL.6", "road_class": "trunk", "km": 12.0},
        {"name": "Phà Tạ Bú", "ref": "", "road_class": "ferry", "km": 2.1, "minutes": 40},
        {"name": "Quốc lộ 6", "ref": "QL.6", "road_class": "trunk", "km": 3.0}])
    assert [s.road_class for s in steps] == ["trunk", "ferry", "trunk"]
    assert steps[1].minutes == 40 and steps[0].minutes is None
    en = _road_markup(steps[1], Translator("en"))
    assert "Ferry Phà Tạ Bú: about 40 min to cross (waiting included)" in en
    assert "qua phà khoảng 40 phút" in _road_markup(steps[1], Translator("vi"))
