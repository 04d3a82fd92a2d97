"""geodata.network.build_road_graph on hand-checkable fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from geodata_testkit import (
    M_PER_DEG_LAT,
    UTM,
    build,
    geod_length,
    has_node_at,
    lines_gdf,
    node_at,
    pgraph,
    pt,
    road,
    utm_length,
)

from geodata.errors import GeodataError
from geodata.network import build_road_graph, metric_crs_for
from geodata.routing import travel_matrices

ONE_M = 1e3 / M_PER_DEG_LAT  # one metre of latitude, in the thousandths of a degree pt() takes

# matrices are exact to 1 ms and 0.1 m per arc (one Dijkstra gives both figures)
MATRIX_TOL = 0.5


def test_metric_crs_is_utm_48n_here():
    assert metric_crs_for(105.0, 22.8) == UTM == "EPSG:32648"


# --- 1. lines meet at shared interior vertices --------------------------------------------

W, C, E = pt(0, 0), pt(5, 0), pt(10, 0)
S, N = pt(5, -5), pt(5, 5)


def test_crossing_at_shared_interior_vertex_connects_the_lines():
    g = build([road([W, C, E], name="ew"), road([S, C, N], name="sn")])
    assert g.n_nodes == 5 and g.n_edges == 4
    assert g.report.split_nodes == 5 and g.report.segments == 4
    c = node_at(g, C)  # the shared interior vertex became a junction
    ends = [node_at(g, p) for p in (W, E, S, N)]
    pg = pgraph(g)
    m = travel_matrices(pg, np.array(ends))
    assert np.isfinite(m.time_s).all(), "every end reaches every other end through C"
    assert pg.in_main[c] and pg.in_main[ends].all()
    # W -> N is W-C then C-N: 2 * ~0.5 km
    expected = utm_length([W, C]) + utm_length([C, N])
    assert m.distance_m[0, 3] == pytest.approx(expected, abs=MATRIX_TOL)


def test_lines_crossing_without_a_shared_vertex_stay_apart():
    # the same geometry but neither line has a vertex at the crossing (a bridge over a road):
    # a graph from line ends only
    g = build([road([W, E], name="ew"), road([S, N], name="sn")])
    assert g.n_nodes == 4 and g.n_edges == 2
    assert not has_node_at(g, C)
    ends = [node_at(g, p) for p in (W, E, S, N)]
    m = travel_matrices(pgraph(g), np.array(ends))
    assert np.isfinite(m.time_s[0, 1]) and np.isfinite(m.time_s[2, 3])
    assert np.isinf(m.time_s[0, 3]) and np.isinf(m.time_s[3, 0])
    assert np.isinf(m.distance_m[0, 3])


def test_shared_vertex_in_the_middle_of_both_lines_splits_both():
    # three lines through one vertex, each interior there: 6 arms
    a, b = pt(-5, -5), pt(5, 5)
    g = build([road([W, C, E]), road([S, C, N]), road([pt(0, -5), C, pt(10, 5)])])
    assert g.n_edges == 6 and g.n_nodes == 7
    c = node_at(g, C)
    assert np.count_nonzero((g.edge_u == c) | (g.edge_v == c)) == 6
    del a, b


# --- 2. dangling ends are joined within join_tolerance_m ------------------------------------

# main road W-C-E with a south branch from C (so the main part has 4 junctions), and a north
# road whose south end stops `gap` metres north of C, where the main road has a vertex.
NORTH_END = pt(5, 10)


def _dangle(gap_m: float):
    return [
        road([W, C, E], name="main", omt_class="secondary"),
        road([C, S], name="south"),
        road([NORTH_END, pt(5, gap_m * ONE_M)], name="north"),
    ]


def test_dangling_end_2m_from_a_vertex_is_joined():
    g = build(_dangle(2.0), join_tolerance_m=5)
    assert g.report.joined_ends == 1
    assert g.n_nodes == 5 and g.n_edges == 4  # C now joins 4 arms: W, E, S, north
    north = node_at(g, NORTH_END)
    w = node_at(g, W)
    pg = pgraph(g)
    assert pg.in_main[north]
    assert pg.report.dropped_parts == 0 and pg.report.dropped_km == 0.0
    m = travel_matrices(pg, np.array([w, north]))
    assert np.isfinite(m.time_s).all()
    # the joined road keeps its exact geometry (it does not grow the 2 m)
    expected = utm_length([W, C]) + utm_length([pt(5, 2 * ONE_M), NORTH_END])
    assert m.distance_m[0, 1] == pytest.approx(expected, abs=MATRIX_TOL)


def test_dangling_end_joins_whatever_the_line_direction():
    roads = _dangle(2.0)
    roads[2] = road(roads[2]["coords"][::-1], name="north")
    g = build(roads, join_tolerance_m=5)
    assert g.report.joined_ends == 1 and g.n_edges == 4


def test_dangling_end_20m_away_is_not_joined_and_is_dropped_by_the_profile():
    g = build(_dangle(20.0), join_tolerance_m=5)
    assert g.report.joined_ends == 0
    # main: W, E, S ends and C (3 arms); north road: its two ends
    assert g.n_nodes == 6 and g.n_edges == 4
    north = node_at(g, NORTH_END)
    pg = pgraph(g)
    assert not pg.in_main[north]
    assert pg.in_main[node_at(g, W)] and pg.in_main[node_at(g, C)]
    rep = pg.report
    north_km = utm_length([pt(5, 20 * ONE_M), NORTH_END]) / 1000
    assert north_km == pytest.approx(1.09, abs=0.01)
    assert rep.dropped_parts == 1
    assert rep.dropped_km == pytest.approx(round(north_km, 1), abs=0.051)
    assert rep.usable_km == pytest.approx(rep.kept_km + rep.dropped_km, abs=0.051)
    assert rep.kept_nodes == 4
    w = node_at(g, W)
    m = travel_matrices(pg, np.array([w, north]))
    assert np.isinf(m.time_s[0, 1]) and np.isinf(m.time_s[1, 0])


def test_dangling_end_20m_away_is_joined_with_a_larger_tolerance():
    g = build(_dangle(20.0), join_tolerance_m=25)
    assert g.report.joined_ends == 1 and g.n_edges == 4


def test_join_tolerance_zero_disables_joining():
    g = build(_dangle(2.0), join_tolerance_m=0)
    assert g.report.joined_ends == 0


def test_dangling_end_is_not_joined_to_its_own_line():
    # a hairpin: the end of the line comes back within 2 m of one of its own vertices
    hook = road([W, C, pt(5, 5), pt(5 + 2 * ONE_M, 0)])
    g = build([hook], join_tolerance_m=5)
    assert g.report.joined_ends == 0
    assert g.n_nodes == 2 and g.n_edges == 1


def test_dangling_end_is_joined_even_when_its_own_line_has_dense_vertices():
    # the north road ends 4 m from C; its last 8 vertices are 0.4 m apart (all within 3.2 m
    # of its end, closer than C): they fill the 6 nearest-neighbour slots
    dense = [NORTH_END] + [pt(5, (4 + 0.4 * i) * ONE_M) for i in range(8, -1, -1)]
    roads = _dangle(4.0)
    roads[2] = road(dense, name="north")
    g = build(roads, join_tolerance_m=5)
    assert g.report.joined_ends == 1


# --- 3. degree-2 chains are contracted ---------------------------------------------------

P = [pt(0, 0), pt(1, 0.5), pt(2, 0), pt(3, 1), pt(4, 1), pt(5, 0.2)]


def _chain(ow=(0, 0, 0), reverse_middle=False):
    mid = [P[2], P[3]]
    if reverse_middle:
        mid = mid[::-1]
    return [road(P[0:3], name="Đường A", oneway=ow[0]),
            road(mid, name="Đường B", oneway=ow[1]),
            road(P[3:6], name="Đường C", oneway=ow[2])]


def _edge_coords_from(g, edge, start):
    """Edge coordinates read from the junction at ``start``."""
    fwd = node_at(g, start) == g.edge_u[edge]
    assert fwd or node_at(g, start) == g.edge_v[edge]
    return g.edge_coords(edge, forward=fwd)


def test_chain_of_three_lines_is_one_edge_between_two_junctions():
    g = build(_chain())
    assert g.report.input_lines == 3 and g.report.segments == 3
    assert g.n_nodes == 2 and g.n_edges == 1
    assert {node_at(g, P[0]), node_at(g, P[-1])} == {0, 1}
    assert g.edge_dir[0] == 0
    # exact input coordinates, in order, no repeated vertex at the line joins
    coords = _edge_coords_from(g, 0, P[0])
    np.testing.assert_array_equal(coords, np.array(P))
    np.testing.assert_array_equal(_edge_coords_from(g, 0, P[-1]), np.array(P[::-1]))
    # the segments keep their own names, in order along the edge
    segs = g.edge_segments(0)
    names = [g.seg_name[s] for s, _ in segs]
    if node_at(g, P[0]) != g.edge_u[0]:
        names = names[::-1]
    assert names == ["Đường A", "Đường B", "Đường C"]


def test_edge_length_is_the_geodesic_length():
    g = build(_chain())
    length = float(g.edge_length_m[0])
    assert length == pytest.approx(geod_length(P), rel=0.005)
    assert length == pytest.approx(utm_length(P), rel=1e-9)
    assert g.seg_length_m.sum() == pytest.approx(length, rel=1e-12)
    assert g.report.input_km == round(length / 1000, 1)


def test_chain_with_reversed_middle_line_still_contracts_with_exact_geometry():
    g = build(_chain(reverse_middle=True))
    assert g.n_nodes == 2 and g.n_edges == 1
    np.testing.assert_array_equal(_edge_coords_from(g, 0, P[0]), np.array(P))


def test_chain_of_consistent_oneways_contracts_and_keeps_the_direction():
    # middle line drawn backwards with oneway=-1: still P0 -> P5 all along
    g = build(_chain(ow=(1, -1, 1), reverse_middle=True))
    assert g.n_nodes == 2 and g.n_edges == 1
    a, b = node_at(g, P[0]), node_at(g, P[-1])
    allowed_forward = g.edge_dir[0] == (1 if g.edge_u[0] == a else -1)
    assert allowed_forward
    m = travel_matrices(pgraph(g), np.array([a, b]))
    assert np.isfinite(m.time_s[0, 1]) and np.isinf(m.time_s[1, 0])


@pytest.mark.parametrize("ow, n_edges", [((0, 1, 0), 3), ((1, 0, 1), 3), ((1, -1, 1), 3),
                                         ((1, 1, -1), 2), ((0, 0, 1), 2)])
def test_chain_is_not_contracted_where_oneway_changes(ow, n_edges):
    # two-way next to oneway, or two oneways that meet head to head, keep their junction;
    # same-direction neighbours still merge
    g = build(_chain(ow=ow))
    assert g.n_edges == n_edges and g.n_nodes == n_edges + 1


def test_repeated_and_degenerate_vertices_are_harmless():
    lines = [road([P[0], P[0], P[1], P[2], P[2]]), road([P[2], P[3]]), road([P[4], P[4]])]
    g = build(lines)
    assert g.n_edges == 1 and g.n_nodes == 2
    np.testing.assert_array_equal(_edge_coords_from(g, 0, P[0]), np.array(P[:4]))


def test_isolated_two_line_ring_is_dropped_as_a_self_loop():
    g = build([road([W, C, E]), road([E, pt(5, 5), W]), road([pt(20, 0), pt(21, 0)])])
    assert g.report.dropped_self_loops == 1
    assert g.n_edges == 1


def test_no_linestring_raises():
    with pytest.raises(GeodataError):
        build_road_graph(lines_gdf([]))


def test_lines_without_length_raise_instead_of_a_nan_crs():
    # found by fuzzing: lines whose points all sit at one place left no vertex, and the
    # median of nothing made metric_crs_for raise "cannot convert float NaN to integer"
    with pytest.raises(GeodataError, match="none of the 2 road lines has any length"):
        build([road([W, W]), road([E, pt(10.00001, 0), E])])


def test_lines_too_far_apart_for_one_utm_zone_raise_instead_of_a_nan_graph():
    # found by fuzzing the OSM importer: a node with lon and lat swapped (22.8, 0) cannot be
    # placed in the UTM zone of the others (48N); its infinite coordinates reached cKDTree
    with pytest.raises(GeodataError) as err:
        build([road([W, C, E]), road([E, (22.8, 0.0)]), road([W, pt(0, 5)])])
    assert "1 of their points (the first at lon 22.8, lat 0) cannot be placed in EPSG:32648" \
        in str(err.value)
    assert "swapped lon and lat?" in str(err.value)


def test_missing_class_column_raises_naming_it():
    gdf = lines_gdf([road([W, E])]).drop(columns=["omt_class"])
    with pytest.raises(GeodataError, match="omt_class"):
        build_road_graph(gdf)


def test_projected_input_is_reprojected():
    gdf = lines_gdf(_chain())
    g1 = build_road_graph(gdf)
    g2 = build_road_graph(gdf.to_crs(UTM))
    assert g2.n_edges == 1
    assert float(g2.edge_length_m[0]) == pytest.approx(float(g1.edge_length_m[0]), rel=1e-6)


def test_missing_oneway_column_means_two_way_and_nan_means_two_way():
    gdf = lines_gdf(_chain())
    g = build_road_graph(gdf.drop(columns=["oneway"]))
    assert (g.edge_dir == 0).all()
    gdf["oneway"] = [np.nan, np.nan, np.nan]
    g = build_road_graph(gdf)
    assert (g.edge_dir == 0).all() and g.n_edges == 1
