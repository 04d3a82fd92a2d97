"""Property tests on random small lattice networks (5 x 5 junctions, about 100 m apart).

Each row and column of the lattice is a run of 4 possible edges; a present edge either starts
a new road line or continues the previous one (so lines share interior vertices), may have a
bend vertex, and has a random class, oneway flag and drawing direction.
"""

from __future__ import annotations

import math

import numpy as np
from geodata_testkit import build, pgraph, pt, road
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geodata.routing import leg_path, snap_points, travel_matrices

N = 5
CLASSES = ["trunk", "secondary", "minor", "service", "track"]
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

_present = st.fixed_dictionaries({
    "omt_class": st.sampled_from(CLASSES),
    "oneway": st.sampled_from([0, 0, 0, 0, math.nan, 1, -1]),
    "reverse": st.booleans(),
    "bend": st.booleans(),
    "continue_line": st.booleans(),
})
edge_state = st.one_of(st.none(), _present, _present)  # about two edges in three present


@st.composite
def lattice_roads(draw, min_lines=1):
    runs = draw(st.lists(st.lists(edge_state, min_size=N - 1, max_size=N - 1),
                         min_size=2 * N, max_size=2 * N))
    roads = []
    for r, run in enumerate(runs):
        def at(i, r=r):  # i-th point of the run: rows first, then columns
            return (i, r % N) if r < N else (r % N, i)

        current = None
        for i, state in enumerate(run):
            if state is None:
                if current:
                    roads.append(current)
                current = None
                continue
            a, b = at(i), at(i + 1)
            pts = [pt(*a)]
            if state["bend"]:
                mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
                pts.append(pt(mx + 0.15 * (b[1] - a[1]), my + 0.15 * (b[0] - a[0])))
            pts.append(pt(*b))
            if current and state["continue_line"]:
                current["pts"].extend(pts[1:])
            else:
                if current:
                    roads.append(current)
                current = {"pts": pts, "state": state}
        if current:
            roads.append(current)
    assume(len(roads) >= min_lines)
    out = []
    for k, rd in enumerate(roads):
        s = rd["state"]
        pts = rd["pts"][::-1] if s["reverse"] else rd["pts"]
        out.append(road(pts, omt_class=s["omt_class"], oneway=s["oneway"], name=f"road {k}"))
    return out


profiles = st.sampled_from(["truck", "van", "motorbike"])


def _all_pairs(pg):
    return travel_matrices(pg, np.arange(pg.graph.n_nodes))


@SETTINGS
@given(lattice_roads(), profiles)
def test_time_matrix_obeys_the_triangle_inequality(roads, prof):
    pg = pgraph(build(roads), prof)
    t = _all_pairs(pg).time_s
    # t[i, k] <= t[i, j] + t[j, k]   (inf on the right-hand side always holds)
    via = t[:, :, None] + t[None, :, :]  # [i, j, k]
    assert (t[:, None, :] <= via + 1e-6).all()
    assert (np.diag(t) == 0).all()


@SETTINGS
@given(lattice_roads(), profiles, st.data())
def test_legs_match_the_matrix(roads, prof, data):
    pg = pgraph(build(roads), prof)
    m = _all_pairs(pg)
    finite = np.argwhere(np.isfinite(m.time_s))
    distance_ok = np.isfinite(m.distance_m) == np.isfinite(m.time_s)
    assert distance_ok.all()
    # the fastest path is at least as long as the straight line between its ends
    n = pg.graph
    straight = np.hypot(n.node_x[:, None] - n.node_x[None, :],
                        n.node_y[:, None] - n.node_y[None, :])
    reach = np.isfinite(m.distance_m)
    assert (m.distance_m[reach] >= straight[reach] - 0.5).all()  # lengths exact to 0.1 m per arc
    for i, j in data.draw(st.lists(st.sampled_from(finite.tolist()), max_size=4)):
        leg = leg_path(pg, m, i, j)
        assert math.isclose(leg.time_s, m.time_s[i, j], rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(leg.length_m, m.distance_m[i, j], rel_tol=1e-9, abs_tol=1e-9)
        if i != j:
            np.testing.assert_array_equal(leg.coords[0], [n.node_lon[i], n.node_lat[i]])
            np.testing.assert_array_equal(leg.coords[-1], [n.node_lon[j], n.node_lat[j]])
            assert math.isclose(sum(d["km"] for d in leg.directions), leg.length_m / 1000,
                                abs_tol=0.005 * len(leg.directions) + 1e-9)


@SETTINGS
@given(lattice_roads(), profiles, st.data())
def test_matrix_of_a_subset_is_the_subset_of_the_full_matrix(roads, prof, data):
    pg = pgraph(build(roads), prof)
    n = pg.graph.n_nodes
    full = _all_pairs(pg)
    idx = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8)))
    sub = travel_matrices(pg, idx)
    np.testing.assert_array_equal(sub.nodes, idx)
    np.testing.assert_allclose(sub.time_s, full.time_s[np.ix_(idx, idx)], rtol=1e-12)
    np.testing.assert_allclose(sub.distance_m, full.distance_m[np.ix_(idx, idx)], rtol=1e-12)


@SETTINGS
@given(lattice_roads(), profiles)
def test_snapping_a_snapped_node_returns_it(roads, prof):
    g = build(roads)
    pg = pgraph(g, prof)
    main = np.flatnonzero(pg.in_main)
    assume(len(main) > 0)
    s = snap_points(pg, g.node_lon[main], g.node_lat[main])
    np.testing.assert_array_equal(s.node, main)
    assert (s.distance_m < 1e-6).all()
    # and snapping twice is snapping once, for points off the network too
    rng = np.random.default_rng(len(roads))
    lon = 105.0 + rng.uniform(-0.001, 0.005, 10)
    lat = 22.8 + rng.uniform(-0.001, 0.005, 10)
    first = snap_points(pg, lon, lat)
    again = snap_points(pg, g.node_lon[first.node], g.node_lat[first.node])
    np.testing.assert_array_equal(again.node, first.node)
    assert (again.distance_m < 1e-6).all()
    assert pg.in_main[first.node].all()


def _times_by_coordinate(roads, prof):
    g = build(roads)
    t = _all_pairs(pgraph(g, prof)).time_s
    keys = [(round(x, 9), round(y, 9)) for x, y in zip(g.node_lon, g.node_lat, strict=True)]
    return {k: i for i, k in enumerate(keys)}, t


@SETTINGS
@given(lattice_roads(min_lines=2), profiles, st.data())
def test_removing_a_road_never_makes_a_trip_quicker(roads, prof, data):
    drop = data.draw(st.integers(0, len(roads) - 1))
    fewer = roads[:drop] + roads[drop + 1:]
    full_idx, t_full = _times_by_coordinate(roads, prof)
    less_idx, t_less = _times_by_coordinate(fewer, prof)
    common = sorted(set(full_idx) & set(less_idx))
    a = np.array([full_idx[k] for k in common], dtype=int)
    b = np.array([less_idx[k] for k in common], dtype=int)
    before, after = t_full[np.ix_(a, a)], t_less[np.ix_(b, b)]
    # (times are exact to 1 ms per arc, and removing a road re-cuts the arcs around it)
    assert (after >= before - 0.01).all(), "a trip got quicker after a road was removed"
    # in particular no unreachable pair became reachable
    assert not (np.isinf(before) & np.isfinite(after)).any()
