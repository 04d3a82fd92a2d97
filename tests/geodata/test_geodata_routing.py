"""geodata.routing: profile graphs, oneways, snapping, matrices and leg geometry."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest
from geodata_testkit import build, node_at, pgraph, profile, pt, road, seconds, utm_length

from geodata.profiles import VehicleProfile
from geodata.routing import leg_path, profile_graph, snap_points, travel_matrices

A, B = pt(0, 0), pt(10, 0)
DETOUR = [A, pt(5, 5), B]

# matrices are exact to 1 ms and 0.1 m per arc (one Dijkstra gives both figures)
MATRIX_TOL = 0.5


# --- 4. oneway -----------------------------------------------------------------------------

@pytest.mark.parametrize("coords, oneway, allowed", [
    ([A, B], 1, "AB"),
    ([A, B], -1, "BA"),
    ([B, A], 1, "BA"),
    ([B, A], -1, "AB"),
    ([A, B], 0, "both"),
    ([A, B], np.nan, "both"),
])
def test_single_oneway_line_is_passable_one_way_only(coords, oneway, allowed):
    g = build([road(coords, oneway=oneway)])
    a, b = node_at(g, A), node_at(g, B)
    m = travel_matrices(pgraph(g), np.array([a, b]))
    t_ab, t_ba = m.time_s[0, 1], m.time_s[1, 0]
    expected = seconds(utm_length([A, B]), profile("van").speeds_kmh["minor"])
    if allowed in ("AB", "both"):
        assert t_ab == pytest.approx(expected, abs=MATRIX_TOL)
    else:
        assert np.isinf(t_ab) and np.isinf(m.distance_m[0, 1])
    if allowed in ("BA", "both"):
        assert t_ba == pytest.approx(expected, abs=MATRIX_TOL)
    else:
        assert np.isinf(t_ba) and np.isinf(m.distance_m[1, 0])


@pytest.mark.parametrize("coords, oneway, fast", [
    ([A, B], 1, "AB"), ([A, B], -1, "BA"), ([B, A], 1, "BA"), ([B, A], -1, "AB"),
])
def test_oneway_shortcut_forces_a_detour_the_other_way(coords, oneway, fast):
    g = build([road(coords, oneway=oneway, name="một chiều"), road(DETOUR, name="vòng")])
    assert g.n_nodes == 2 and g.n_edges == 2
    a, b = node_at(g, A), node_at(g, B)
    pg = pgraph(g)
    assert pg.in_main.all()
    m = travel_matrices(pg, np.array([a, b]))
    kmh = profile("van").speeds_kmh["minor"]
    direct, detour = utm_length([A, B]), utm_length(DETOUR)
    fwd, back = (0, 1), (1, 0)
    if fast == "BA":
        fwd, back = back, fwd
    assert m.time_s[fwd] == pytest.approx(seconds(direct, kmh), abs=MATRIX_TOL)
    assert m.distance_m[fwd] == pytest.approx(direct, abs=MATRIX_TOL)
    assert m.time_s[back] == pytest.approx(seconds(detour, kmh), abs=MATRIX_TOL)
    assert m.distance_m[back] == pytest.approx(detour, abs=MATRIX_TOL)
    # the leg of the slow direction draws the detour
    i, j = back
    leg = leg_path(pg, m, i, j)
    assert [d["name"] for d in leg.directions] == ["vòng"]
    assert any(np.allclose(c, pt(5, 5)) for c in leg.coords)


# --- 5. profiles ---------------------------------------------------------------------------

W, C, E, S = pt(0, 0), pt(5, 0), pt(10, 0), pt(5, -5)
P = pt(15, 5)  # reachable only over a track
END_OF_PAVED = pt(5, 5)
Q = pt(5, 10)  # reachable over a minor road that turns into a track at END_OF_PAVED


def _track_net():
    return [
        road([W, C, E], name="main"),
        road([C, S], name="south"),
        road([C, P], omt_class="track", name="đường mòn"),
        road([C, END_OF_PAVED], name="north, paved part"),
        road([END_OF_PAVED, Q], omt_class="track", name="north, track part"),
    ]


def test_profiles_yaml_closes_tracks_to_trucks_only():
    assert not profile("truck").allows("track")
    assert profile("van").allows("track") and profile("motorbike").allows("track")
    for name in ("truck", "van", "motorbike"):
        assert all(v > 0 for v in profile(name).speeds_kmh.values())


def test_truck_cannot_use_a_track_but_the_van_can():
    g = build(_track_net())
    # the minor+track north road is split where the class changes: C .. (5,5) .. Q
    assert g.n_nodes == 7 and g.n_edges == 6
    p, q, w = node_at(g, P), node_at(g, Q), node_at(g, W)
    truck, van = pgraph(g, "truck"), pgraph(g, "van")
    assert not truck.in_main[p] and not truck.in_main[q]
    assert van.in_main[p] and van.in_main[q]
    assert truck.in_main[w] and truck.report.kept_nodes == 5 and van.report.kept_nodes == 7
    # closed roads are not "usable" for the truck, so they are not reported as dropped
    closed_km = (utm_length([C, P]) + utm_length([END_OF_PAVED, Q])) / 1000
    assert van.report.usable_km - truck.report.usable_km == pytest.approx(closed_km, abs=0.11)
    assert truck.report.dropped_parts == 0 and truck.report.dropped_km == 0.0
    # a truck matrix has no path to P or Q; the van's has
    mt = travel_matrices(truck, np.array([w, p, q]))
    assert np.isinf(mt.time_s[0, 1:]).all() and np.isinf(mt.time_s[1:, 0]).all()
    mv = travel_matrices(van, np.array([w, p, q]))
    assert np.isfinite(mv.time_s).all()
    vk = profile("van").speeds_kmh
    expected = seconds(utm_length([W, C]), vk["minor"]) + seconds(utm_length([C, P]), vk["track"])
    assert mv.time_s[0, 1] == pytest.approx(expected, abs=MATRIX_TOL)


def test_snapping_a_track_only_point_goes_to_the_trucks_network():
    g = build(_track_net())
    truck, van = pgraph(g, "truck"), pgraph(g, "van")
    s = snap_points(truck, np.array([P[0]]), np.array([P[1]]))
    assert int(s.node[0]) == node_at(g, E)
    assert s.distance_m[0] == pytest.approx(utm_length([E, P]), rel=1e-6)
    s = snap_points(van, np.array([P[0]]), np.array([P[1]]))
    assert int(s.node[0]) == node_at(g, P) and s.distance_m[0] < 1e-6


def test_truck_keeps_the_paved_road_up_to_where_a_track_starts():
    g = build(_track_net())
    truck = pgraph(g, "truck")
    s = snap_points(truck, np.array([END_OF_PAVED[0]]), np.array([END_OF_PAVED[1]]))
    assert s.distance_m[0] < 1.0  # the truck can drive to the end of the paved road


def test_snap_accepts_scalars_and_a_point_off_the_road():
    g = build(_track_net())
    van = pgraph(g, "van")
    near_c = pt(5.2, 0.3)  # about 35 m from C
    s = snap_points(van, near_c[0], near_c[1])
    assert int(s.node[0]) == node_at(g, C)
    assert s.distance_m[0] == pytest.approx(utm_length([C, near_c]), rel=1e-6)


# --- 6. matrices and legs --------------------------------------------------------------------

SW, SE = pt(-3, 0), pt(13, 0)
TOP = pt(5, 4)
FAST = [A, pt(0, 3), TOP, pt(10, 3), B]  # trunk, long way round


def _two_roads():
    return [
        road([SW, A], name="Đường Tây", omt_class="minor"),
        road([A, B], name="Đường tắt", omt_class="service"),
        road(FAST[:3], name="Quốc lộ 4C", ref="QL.4C", omt_class="trunk"),
        road(FAST[2:], name="Quốc lộ 4C", ref="QL.4C", omt_class="trunk"),
        road([SE, B], name="Đường Đông", omt_class="minor"),  # drawn towards B
    ]


@pytest.fixture(scope="module")
def two_roads():
    g = build(_two_roads())
    assert g.n_nodes == 4 and g.n_edges == 4
    return g


def test_matrix_returns_time_and_length_of_the_fastest_path(two_roads):
    g = two_roads
    truck = pgraph(g, "truck")
    sw, se = node_at(g, SW), node_at(g, SE)
    m = travel_matrices(truck, np.array([sw, se]))
    kmh = profile("truck").speeds_kmh
    stub_w, stub_e = utm_length([SW, A]), utm_length([B, SE])
    fast, short = utm_length(FAST), utm_length([A, B])
    assert short < fast  # the fast road is the long one...
    t_fast = seconds(stub_w, kmh["minor"]) + seconds(fast, kmh["trunk"]) + seconds(
        stub_e, kmh["minor"])
    t_short = seconds(stub_w, kmh["minor"]) + seconds(short, kmh["service"]) + seconds(
        stub_e, kmh["minor"])
    assert t_fast < t_short  # ...and the quicker one
    for i, j in ((0, 1), (1, 0)):
        assert m.time_s[i, j] == pytest.approx(t_fast, abs=MATRIX_TOL)
        assert m.distance_m[i, j] == pytest.approx(stub_w + fast + stub_e, abs=MATRIX_TOL)
    assert m.time_s[0, 0] == 0 and m.distance_m[1, 1] == 0


def test_matrix_follows_the_speeds_when_the_short_road_becomes_the_fast_one(two_roads):
    g = two_roads
    quick_service = VehicleProfile(name="test", label="test", speeds_kmh=MappingProxyType(
        {"minor": 20, "service": 60, "trunk": 30}))
    pg = profile_graph(g, quick_service)
    a, b = node_at(g, A), node_at(g, B)
    m = travel_matrices(pg, np.array([a, b]))
    assert m.distance_m[0, 1] == pytest.approx(utm_length([A, B]), abs=MATRIX_TOL)
    assert m.time_s[0, 1] == pytest.approx(seconds(utm_length([A, B]), 60), abs=MATRIX_TOL)


def test_leg_path_matches_the_matrix_and_lists_roads_in_order(two_roads):
    g = two_roads
    truck = pgraph(g, "truck")
    sw, se = node_at(g, SW), node_at(g, SE)
    m = travel_matrices(truck, np.array([sw, se]))
    leg = leg_path(truck, m, 0, 1)
    assert leg.length_m == pytest.approx(m.distance_m[0, 1], rel=1e-12)
    assert leg.time_s == pytest.approx(m.time_s[0, 1], rel=1e-12)
    np.testing.assert_array_equal(leg.coords, np.array([SW] + FAST + [SE]))
    assert leg.directions == [
        {"name": "Đường Tây", "ref": "", "road_class": "minor",
         "km": round(utm_length([SW, A]) / 1000, 2)},
        {"name": "Quốc lộ 4C", "ref": "QL.4C", "road_class": "trunk",
         "km": round(utm_length(FAST) / 1000, 2)},
        {"name": "Đường Đông", "ref": "", "road_class": "minor",
         "km": round(utm_length([B, SE]) / 1000, 2)},
    ]
    back = leg_path(truck, m, 1, 0)
    assert back.length_m == pytest.approx(m.distance_m[1, 0], rel=1e-12)
    assert back.time_s == pytest.approx(m.time_s[1, 0], rel=1e-12)
    np.testing.assert_array_equal(back.coords, np.array([SE] + FAST[::-1] + [SW]))
    assert [d["name"] for d in back.directions] == ["Đường Đông", "Quốc lộ 4C", "Đường Tây"]
    # the leg's km add up to its length (to the rounding of each step)
    assert sum(d["km"] for d in leg.directions) == pytest.approx(leg.length_m / 1000, abs=0.015)


def test_leg_to_itself_is_empty(two_roads):
    g = two_roads
    truck = pgraph(g, "truck")
    a = node_at(g, A)
    m = travel_matrices(truck, np.array([a, a]))
    leg = leg_path(truck, m, 0, 1)
    assert leg.length_m == 0 and leg.time_s == 0 and leg.directions == []
    np.testing.assert_array_equal(leg.coords, np.array([A, A]))


def test_leg_path_raises_without_a_path():
    g = build([road([A, B], oneway=1)])
    pg = pgraph(g)
    m = travel_matrices(pg, np.array([node_at(g, A), node_at(g, B)]))
    with pytest.raises(ValueError, match="no path"):
        leg_path(pg, m, 1, 0)


def test_matrix_for_repeated_and_single_points(two_roads):
    g = two_roads
    pg = pgraph(g, "van")
    sw, se = node_at(g, SW), node_at(g, SE)
    full = travel_matrices(pg, np.array([sw, se]))
    rep = travel_matrices(pg, np.array([se, sw, se]))
    np.testing.assert_array_equal(rep.time_s[[1, 0]][:, [1, 0]], full.time_s)
    np.testing.assert_array_equal(rep.time_s[0], rep.time_s[2])
    assert rep.time_s.shape == (3, 3) and rep.distance_m.shape == (3, 3)
    one = travel_matrices(pg, np.array([sw]))
    assert one.time_s.shape == (1, 1) and one.time_s[0, 0] == 0
    assert one.distance_m.shape == (1, 1)
