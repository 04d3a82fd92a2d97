"""Simplifying road-following lines with a tolerance in metres.

Lines are stored in lon/lat degrees, where a tolerance in degrees means different distances
east-west and north-south. :func:`simplify_lonlat_lines` projects the lines to the UTM zone
of their centre, simplifies them there (Douglas-Peucker: every input vertex stays within the
tolerance of the output line, and the end points are kept) and returns lon/lat again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike

from geodata.network import metric_crs_for


def simplify_lonlat_lines(lines: Sequence[ArrayLike], tolerance_m: float
                          ) -> list[np.ndarray]:
    """``lines`` (each an ``(n, 2)`` array of lon/lat) simplified to ``tolerance_m`` metres.

    Each output line is a subset of its input vertices, in order, with the first and last
    kept; lines of fewer than three points come back unchanged.
    """
    if tolerance_m < 0:
        raise ValueError(f"tolerance_m must be >= 0, got {tolerance_m}")
    arrays = [np.asarray(line, dtype=float).reshape(-1, 2) for line in lines]
    todo = [i for i, a in enumerate(arrays) if len(a) >= 3]
    if not todo or tolerance_m == 0:
        return arrays
    allpts = np.concatenate([arrays[i] for i in todo])
    centre = allpts.mean(axis=0)
    crs = metric_crs_for(float(centre[0]), float(centre[1]))
    fwd = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = fwd.transform(allpts[:, 0], allpts[:, 1])
    metric = np.column_stack([x, y])
    # Map the simplified metric vertices back to the original lon/lat vertices (no inverse
    # projection, so kept points are bit-identical to the input).
    out = list(arrays)
    start = 0
    for i in todo:
        n = len(arrays[i])
        xy = metric[start:start + n]
        kept = shapely.get_coordinates(
            shapely.simplify(shapely.linestrings(xy), tolerance_m, preserve_topology=False))
        idx = _vertex_indices(xy, kept) if len(kept) >= 2 else np.array([0, n - 1])
        out[i] = arrays[i][idx]
        start += n
    return out


def _vertex_indices(xy: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Indices in ``xy`` of the vertices ``kept`` (an in-order subset of ``xy``; where a
    point occurs twice, either index gives the same coordinates)."""
    idx = np.empty(len(kept), dtype=np.int64)
    j = 0
    for k, (px, py) in enumerate(kept.tolist()):
        while xy[j, 0] != px or xy[j, 1] != py:
            j += 1
        idx[k] = j
        j += 1
    return idx
