"""The geometry of directions: turns measured on a route line, places along it, and a line
cut into legs; on a T junction built as a road network."""

from __future__ import annotations

import numpy as np
import pytest
from geodata_testkit import build, node_at, pgraph, pt, road
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.directions import (
    compass,
    cumulative_m,
    places_along,
    split_by_lengths,
    turn_angle_deg,
    turn_class,
)
from geodata.routing import leg_path, travel_matrices

WEST, JUNCTION, NORTH, SOUTH = pt(0, 0), pt(10, 0), pt(10, 10), pt(10, -10)


@pytest.fixture(scope="module")
def t_junction():
    """A road from the west ending at a T: one arm north, one south, each a named road."""
    return build([road([WEST, pt(5, 0), JUNCTION], name="Đường Tây"),
                  road([JUNCTION, pt(10, 5), NORTH], name="Đường Bắc"),
                  road([JUNCTION, pt(10, -5), SOUTH], name="Đường Nam")])


@pytest.mark.parametrize(("end", "expected"), [(NORTH, "left"), (SOUTH, "right")])
def test_a_t_junction_turns_the_expected_way(t_junction, end, expected) -> None:
    pg = pgraph(t_junction)
    m = travel_matrices(pg, np.array([node_at(t_junction, WEST), node_at(t_junction, end)]))
    leg = leg_path(pg, m, 0, 1)
    assert [d["name"] for d in leg.directions] == ["Đường Tây", "Đường Bắc" if end == NORTH
                                                   else "Đường Nam"]
    cum = cumulative_m(leg.coords)
    at = cum[int(np.argmin(np.hypot(*(leg.coords - np.array(JUNCTION)).T)))]
    angle = turn_angle_deg(leg.coords, cum, at)
    assert turn_class(angle) == expected
    assert abs(abs(angle) - 90) < 2


@pytest.mark.parametrize(("angle", "name"), [
    (0, "straight"), (-15, "straight"), (30, "slight_right"), (-40, "slight_left"),
    (90, "right"), (-90, "left"), (140, "sharp_right"), (-150, "sharp_left"), (175, "uturn"),
    (-179, "uturn")])
def test_turn_classes(angle: float, name: str) -> None:
    assert turn_class(angle) == name


def test_compass_points() -> None:
    assert [compass(b) for b in (0, 44, 46, 90, 180, 270, 350)] == \
        ["n", "ne", "ne", "e", "s", "w", "n"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.02, 0.02), st.floats(-0.02, 0.02)), min_size=2,
                max_size=12),
       st.lists(st.floats(0.1, 10.0), min_size=1, max_size=5))
def test_a_line_cut_into_legs_keeps_its_length_and_points(offsets, weights) -> None:
    coords = np.array([[105.0 + dx, 22.8 + dy] for dx, dy in offsets])
    total = cumulative_m(coords)[-1]
    pieces = split_by_lengths(coords, weights)
    assert len(pieces) == len(weights)
    lengths = [cumulative_m(p)[-1] for p in pieces]
    assert sum(lengths) == pytest.approx(total, abs=1e-6 * max(total, 1.0) + 1e-6)
    if total > 0:
        share = np.array(lengths) / total
        # (points are interpolated in degrees: a few metres in 100 km)
        assert share == pytest.approx(np.array(weights) / sum(weights), abs=1e-4)
    np.testing.assert_allclose(pieces[0][0], coords[0])
    np.testing.assert_allclose(pieces[-1][-1], coords[-1])
    for a, b in zip(pieces, pieces[1:], strict=False):
        np.testing.assert_allclose(a[-1], b[0])


def test_places_along_a_line_in_the_order_passed() -> None:
    line = np.array([pt(0, 0), pt(20, 0)])
    places = np.array([pt(15, 1), pt(5, -2), pt(10, 30)])  # 110 m, 220 m, 3.3 km off the road
    found = places_along(line, cumulative_m(line), places, within_m=400)
    assert [i for i, _ in found] == [1, 0]
    assert found[0][1] == pytest.approx(cumulative_m(np.array([pt(0, 0), pt(5, 0)]))[-1],
                                        rel=1e-3)
