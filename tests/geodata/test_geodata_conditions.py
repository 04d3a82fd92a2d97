"""Winding, access and size limits, closures and the rainy season change travel times."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from geodata_testkit import build, lines_gdf, node_at, pgraph, profile, pt, road
from shapely.geometry import LineString, Polygon

from geodata.closures import Closure, ClosureError, Season, normalise_ref, road_conditions
from geodata.network import build_road_graph
from geodata.routing import profile_graph, travel_matrices

A, B = pt(0, 0), pt(10, 0)


def zigzag(n: int = 20, amp: float = 1.0) -> list[tuple[float, float]]:
    return [pt(10 * i / n, amp if i % 2 else 0) for i in range(n + 1)]


def test_a_winding_road_is_slower_than_a_straight_one_of_the_same_length() -> None:
    straight = build([road([A, B])])
    g = build([road(zigzag())])
    assert g.seg_curvature.max() > 800 and straight.seg_curvature.max() < 1
    van = profile("van", winding=True)
    t_straight = profile_graph(straight, van).arc_time_s.min() / straight.edge_length_m[0]
    t_winding = profile_graph(g, van).arc_time_s.min() / g.edge_length_m[0]
    assert t_winding > 1.5 * t_straight  # seconds per metre


def _limited(**cols) -> object:
    gdf = lines_gdf([road([A, pt(5, 0)]), road([pt(5, 0), B], name="cầu")])
    for key, values in cols.items():
        gdf[key] = values
    return build_road_graph(gdf)


def test_weight_and_width_limits_and_access_close_roads_to_big_vehicles() -> None:
    g = _limited(maxweight_t=[np.nan, 3.5], maxwidth_m=[np.nan, 2.5])
    a, b = node_at(g, A), node_at(g, B)
    assert np.isinf(travel_matrices(pgraph(g, "truck"), np.array([a, b])).time_s[0, 1])
    assert np.isfinite(travel_matrices(pgraph(g, "van"), np.array([a, b])).time_s[0, 1])
    g = _limited(access=["yes", "no"])
    assert np.isinf(travel_matrices(pgraph(g, "van"), np.array([a, b])).time_s[0, 1])


def test_normalise_ref() -> None:
    assert normalise_ref("QL.4C") == normalise_ref("ql 4c") == "QL4C"
    assert normalise_ref("QL.2; DT.176") == "QL2;DT176"


@pytest.fixture
def ring():
    """QL.4C from A to B (via M), and a slow minor road as the alternative."""
    m = pt(5, 0)
    roads = [road([A, m], "primary", ref="QL.4C"), road([m, B], "primary", ref="QL 4C"),
             road([A, pt(0, 5), pt(10, 5), B], "minor", name="đường vòng")]
    return build(roads)


def test_closing_a_road_between_two_places_forces_the_detour(ring) -> None:
    a, b = node_at(ring, A), node_at(ring, B)
    before = travel_matrices(pgraph(ring), np.array([a, b])).time_s[0, 1]
    cond = road_conditions(ring, (Closure("sạt lở", ref="QL.4C", between=(pt(6, 0), B)),))
    assert cond.closed_km == pytest.approx(0.51, abs=0.05) and cond.closures == ("sạt lở",)
    after = travel_matrices(profile_graph(ring, profile("van"), speed_factor=cond.factor),
                            np.array([a, b])).time_s[0, 1]
    assert after > before and np.isfinite(after)


def test_closure_dates_area_line_and_slowdowns(ring) -> None:
    area = Polygon([pt(-1, 4), pt(11, 4), pt(11, 6), pt(-1, 6)])
    dec = (dt.date(2026, 12, 7), dt.date(2026, 12, 11))
    c = Closure("area", geometry=area, start=dt.date(2026, 12, 10), end=dt.date(2026, 12, 20))
    assert road_conditions(ring, (c,), first=dec[0], last=dec[1]).closures == ("area",)
    assert road_conditions(ring, (c,), first=dt.date(2027, 1, 1)).is_normal
    line = Closure("line", geometry=LineString([pt(2, -1), pt(2, 1)]), speed_factor=0.5)
    cond = road_conditions(ring, (line,))
    assert set(np.unique(cond.factor)) == {0.5, 1.0} and cond.closed_km == 0


def test_bad_closures_are_named(ring) -> None:
    with pytest.raises(ClosureError, match="QL.99"):
        road_conditions(ring, (Closure("x", ref="QL.99"),))
    with pytest.raises(ClosureError, match="no OSM way ids"):
        road_conditions(ring, (Closure("w", way_ids=(123,)),))
    with pytest.raises(ClosureError, match="selects no road"):
        road_conditions(ring, (Closure("far", geometry=Polygon(
            [pt(50, 50), pt(51, 50), pt(51, 51)])),))


def test_rainy_season_slows_by_class_only_in_its_months(ring) -> None:
    season = Season()
    dry = road_conditions(ring, (), first=dt.date(2026, 12, 7), last=dt.date(2026, 12, 11),
                          season=season)
    wet = road_conditions(ring, (), first=dt.date(2026, 7, 6), last=dt.date(2026, 7, 10),
                          season=season)
    assert dry.is_normal and wet.season == "rainy"
    minor = np.array(ring.classes)[ring.seg_class] == "minor"
    assert np.allclose(wet.factor[minor], 0.75) and np.allclose(wet.factor[~minor], 0.9)


@pytest.mark.parametrize("factor", [0.0, 0.5])
def test_closing_or_slowing_a_road_never_makes_a_trip_quicker(ring, factor: float) -> None:
    nodes = np.arange(ring.n_nodes)
    base = travel_matrices(pgraph(ring), nodes).time_s
    cond = road_conditions(ring, (Closure("c", ref="QL.4C", speed_factor=factor),))
    after = travel_matrices(profile_graph(ring, profile("van"), speed_factor=cond.factor),
                            nodes).time_s
    assert (after >= base - 0.01).all()


def test_a_truck_may_not_take_a_mud_road_but_a_motorbike_may() -> None:
    g = _limited(surface=["asphalt", "mud"])
    a, b = node_at(g, A), node_at(g, B)
    assert np.isinf(travel_matrices(pgraph(g, "truck"), np.array([a, b])).time_s[0, 1])
    assert np.isfinite(travel_matrices(pgraph(g, "motorbike"), np.array([a, b])).time_s[0, 1])
