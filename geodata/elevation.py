"""Elevation grids for slope-aware travel times (optional).

A dataset folder may hold ``elevation.asc``: an ESRI ASCII grid in WGS84 degrees (the plain
text format GDAL writes with ``gdal_translate -of AAIGrid``, e.g. from SRTM tiles). The graph
then records, per segment, the metres climbed and descended along its drawing direction, and
travel times depend on the direction (geodata.speeds.segment_slope_factor).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from geodata.errors import GeodataError
from geodata.network import RoadGraph
from geodata.speeds import segment_climb

ELEVATION_FILE = "elevation.asc"


class ElevationGridError(GeodataError, ValueError):
    """An elevation grid file cannot be read."""


@dataclass(frozen=True, eq=False)
class ElevationGrid:
    """Cell-centre grid: ``values[row, col]``, row 0 at the north edge."""

    x0: float  # lon of the centre of the west column
    y0: float  # lat of the centre of the south row
    cell: float
    values: np.ndarray  # NaN where no data

    def sample(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Bilinear elevation at points (NaN outside the grid or next to no-data cells)."""
        nrows, ncols = self.values.shape
        fx = (np.asarray(lon, float) - self.x0) / self.cell
        fy = (np.asarray(lat, float) - self.y0) / self.cell
        c0 = np.clip(np.floor(fx).astype(int), 0, max(ncols - 2, 0))
        r0 = np.clip(np.floor(fy).astype(int), 0, max(nrows - 2, 0))
        tx, ty = fx - c0, fy - r0
        south = nrows - 1 - r0  # array row of grid row r0 (rows counted from the south)
        north = np.maximum(south - 1, 0)
        c1 = np.minimum(c0 + 1, ncols - 1)
        v = self.values
        z = ((1 - tx) * (1 - ty) * v[south, c0] + tx * (1 - ty) * v[south, c1]
             + (1 - tx) * ty * v[north, c0] + tx * ty * v[north, c1])
        outside = (fx < -1e-9) | (fy < -1e-9) | (fx > ncols - 1 + 1e-9) | (fy > nrows - 1 + 1e-9)
        return np.where(outside, np.nan, z)


def read_ascii_grid(path: str | Path) -> ElevationGrid:
    """Read an ESRI ASCII grid (``ncols``, ``nrows``, ``xllcorner``/``xllcenter``,
    ``yllcorner``/``yllcenter``, ``cellsize``, optional ``NODATA_value``, then rows)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ElevationGridError(f"{path}: cannot read the elevation grid ({exc})") from None
    lines = text.split("\n")
    header: dict[str, float] = {}
    i = 0
    while i < len(lines) and lines[i].strip() and lines[i].split()[0][0].isalpha():
        key, *rest = lines[i].split()
        try:
            header[key.lower()] = float(rest[0])
        except (IndexError, ValueError):
            raise ElevationGridError(f"{path}: line {i + 1}: bad header {lines[i]!r}") from None
        i += 1
    need = {"ncols", "nrows", "cellsize"}
    if not need <= set(header) or not ({"xllcorner", "xllcenter"} & set(header)) or not (
            {"yllcorner", "yllcenter"} & set(header)):
        raise ElevationGridError(f"{path}: an ESRI ASCII grid needs ncols, nrows, xllcorner "
                                 "(or xllcenter), yllcorner (or yllcenter) and cellsize")
    ncols, nrows, cell = int(header["ncols"]), int(header["nrows"]), header["cellsize"]
    try:
        values = np.array(" ".join(lines[i:]).split(), dtype=float)
    except ValueError:
        raise ElevationGridError(f"{path}: the grid holds a value that is not a number") from None
    if values.size != ncols * nrows or cell <= 0:
        raise ElevationGridError(f"{path}: expected {ncols} x {nrows} values, found "
                                 f"{values.size}; the file is truncated or the header is wrong")
    values = values.reshape(nrows, ncols)
    if "nodata_value" in header:
        values[values == header["nodata_value"]] = np.nan
    x0 = header.get("xllcenter", header.get("xllcorner", 0.0) + cell / 2)
    y0 = header.get("yllcenter", header.get("yllcorner", 0.0) + cell / 2)
    return ElevationGrid(x0=x0, y0=y0, cell=cell, values=values)


def segment_climbs(seg_coords: np.ndarray, seg_coord_ptr: np.ndarray, grid: ElevationGrid
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """Metres climbed and descended along each segment, and the share of vertices that had
    an elevation (vertices outside the grid count as flat)."""
    z = grid.sample(seg_coords[:, 0], seg_coords[:, 1])
    covered = float(np.isfinite(z).mean()) if len(z) else 0.0
    # a missing value takes its predecessor's, so a gap adds no climb
    z = np.where(np.isfinite(z), z, np.nan)
    if np.isnan(z).any():
        idx = np.where(np.isfinite(z), np.arange(len(z)), 0)
        np.maximum.accumulate(idx, out=idx)
        z = z[idx]
        z = np.where(np.isfinite(z), z, 0.0)
    climb, descent = segment_climb(seg_coords, seg_coord_ptr, z)
    return climb, descent, covered


def with_climbs(graph: RoadGraph, grid: ElevationGrid) -> tuple[RoadGraph, float]:
    """A copy of ``graph`` whose segments carry the metres they climb and descend on
    ``grid`` (``seg_climb_m``, ``seg_descent_m`` in ``extra``), and the share of road vertices
    the grid covers; ``graph`` itself is left as it is."""
    climb, descent, covered = segment_climbs(graph.seg_coords, graph.seg_coord_ptr, grid)
    return replace(graph, extra={**graph.extra, "seg_climb_m": climb,
                                 "seg_descent_m": descent}), covered
