"""Simplifying lon/lat lines with a tolerance in metres."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.simplify import simplify_lonlat_lines

UTM48N = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)


def _metric(line: np.ndarray) -> np.ndarray:
    return np.column_stack(UTM48N.transform(line[:, 0], line[:, 1]))


def _max_offset_m(original: np.ndarray, simplified: np.ndarray) -> float:
    """The largest distance from a vertex of ``original`` to the ``simplified`` line."""
    line = shapely.linestrings(_metric(simplified))
    points = shapely.points(_metric(original))
    return float(shapely.distance(points, line).max())


def _walk(seed: int, n: int) -> np.ndarray:
    """A winding line of ``n`` points with 1-30 m steps around Hà Giang."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.6, n))
    step_m = rng.uniform(1, 30, n)
    dx, dy = step_m * np.cos(heading), step_m * np.sin(heading)
    lat = 22.8 + np.cumsum(dy) / 111_000
    lon = 104.98 + np.cumsum(dx) / (111_000 * np.cos(np.radians(22.8)))
    return np.column_stack([lon, lat])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 400),
       tolerance_m=st.sampled_from([0.5, 2.0, 5.0, 25.0]))
def test_vertices_stay_within_tolerance_and_ends_are_kept(seed: int, n: int,
                                                          tolerance_m: float) -> None:
    line = _walk(seed, n)
    (out,) = simplify_lonlat_lines([line], tolerance_m)
    assert 2 <= len(out) <= len(line)
    assert np.array_equal(out[0], line[0]) and np.array_equal(out[-1], line[-1])
    # A subset of the input vertices, in order.
    rows = [int(np.flatnonzero((line == p).all(axis=1))[0]) for p in out]
    assert rows == sorted(rows)
    # UTM zone 48 is the zone the function picks here; 1 cm for floating point.
    assert _max_offset_m(line, out) <= tolerance_m + 0.01


def test_straight_line_keeps_its_ends_and_short_lines_are_unchanged() -> None:
    straight = np.column_stack([np.linspace(105.0, 105.1, 50), np.full(50, 23.0)])
    (out,) = simplify_lonlat_lines([straight], 1.0)
    assert out.tolist() == [straight[0].tolist(), straight[-1].tolist()]
    short = [[105.0, 23.0], [105.1, 23.1]]
    assert simplify_lonlat_lines([short], 5.0)[0].tolist() == short
    assert simplify_lonlat_lines([], 5.0) == []
    with pytest.raises(ValueError, match="tolerance_m"):
        simplify_lonlat_lines([short], -1)
