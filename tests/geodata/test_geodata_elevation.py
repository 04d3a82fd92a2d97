"""Elevation grids: reading, sampling, and uphill slower than downhill."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from geodata_testkit import build, node_at, profile, pt, road

from geodata.elevation import ElevationGridError, read_ascii_grid, segment_climbs
from geodata.routing import profile_graph, travel_matrices


def write_grid(path: Path, values: np.ndarray, *, x0: float = 104.99, y0: float = 22.79,
               cell: float = 0.005, nodata: float | None = -9999) -> Path:
    nrows, ncols = values.shape
    head = [f"ncols {ncols}", f"nrows {nrows}", f"xllcorner {x0}", f"yllcorner {y0}",
            f"cellsize {cell}"] + ([f"NODATA_value {nodata}"] if nodata is not None else [])
    body = [" ".join(f"{v:g}" for v in row) for row in values]
    path.write_text("\n".join(head + body) + "\n", encoding="ascii")
    return path


def ramp(ncols: int = 8, nrows: int = 6, rise_per_col: float = 40.0) -> np.ndarray:
    """Elevation rising eastwards, the same in every row."""
    return np.tile(np.arange(ncols) * rise_per_col + 500.0, (nrows, 1))


def test_bilinear_sampling_of_a_ramp(tmp_path: Path) -> None:
    grid = read_ascii_grid(write_grid(tmp_path / "e.asc", ramp()))
    lon0 = grid.x0
    z = grid.sample(np.array([lon0, lon0 + 0.0025, lon0 + 0.005]), np.full(3, grid.y0 + 0.01))
    assert np.allclose(z, [500.0, 520.0, 540.0])
    assert np.isnan(grid.sample(np.array([100.0]), np.array([20.0]))[0])


def test_uphill_takes_longer_than_downhill(tmp_path: Path) -> None:
    g = build([road([pt(0, 0), pt(10, 0), pt(20, 0)])])
    grid = read_ascii_grid(write_grid(tmp_path / "e.asc", ramp()))
    climb, descent, covered = segment_climbs(g.seg_coords, g.seg_coord_ptr, grid)
    assert covered == 1.0 and climb.sum() > 100 and descent.sum() == pytest.approx(0)
    g.extra.update(seg_climb_m=climb, seg_descent_m=descent)
    pg = profile_graph(g, profile("van"))
    a, b = node_at(g, pt(0, 0)), node_at(g, pt(20, 0))
    m = travel_matrices(pg, np.array([a, b]))
    assert m.time_s[0, 1] > m.time_s[1, 0] * 1.05  # east is uphill
    flat = travel_matrices(profile_graph(build([road([pt(0, 0), pt(10, 0), pt(20, 0)])]),
                                         profile("van")), np.array([a, b]))
    assert m.time_s[1, 0] > flat.time_s[1, 0]  # descending is slower than the flat too


def test_broken_grids_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.asc"
    bad.write_text("ncols 3\nnrows 2\nxllcorner 105\nyllcorner 22\ncellsize 0.01\n1 2 3\n4 5\n")
    with pytest.raises(ElevationGridError, match="truncated"):
        read_ascii_grid(bad)
    bad.write_text("ncols 3\nnrows 1\ncellsize 0.01\n1 2 3\n")
    with pytest.raises(ElevationGridError, match="xllcorner"):
        read_ascii_grid(bad)
    with pytest.raises(ElevationGridError, match="cannot read"):
        read_ascii_grid(tmp_path / "missing.asc")
