"""Import a user's road data into a dataset folder: ``planner geodata import FILE --name NAME``.

:func:`import_dataset` streams the road rows of an OSM file or a road-line file
(:class:`geodata.osm.RoadReader`), clips them to a boundary polygon (``--boundary``) or to the
buffered convex hull of the commune points (``--communes``), and writes the dataset files
(``roads.parquet``, ``boundary.parquet``, ``communes.parquet``, ``libraries.csv``,
``dataset.yaml``, ``import-report.json`` and, for OpenStreetMap data, ``LICENSE-ODbL.md``)
into a hidden sibling folder that is renamed into place only when everything is written. A
failed import never leaves a half-written dataset, and an existing dataset is replaced only
with ``force`` (and then atomically). :func:`main` is the command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import logging
import math
import os
import re
import resource
import shutil
import sys
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyproj
import shapely
import yaml
from shapely.geometry import LineString

from geodata import osm
from geodata.datasets import (
    DATA_DIR,
    embedded_datasets,
    load_dataset,
    user_data_dir,
    version_folder,
)
from geodata.errors import DataFileMissingError, GeodataError, quoted_list
from geodata.network import metric_crs_for

log = logging.getLogger(__name__)

LIBRARY_COLUMNS: tuple[str, ...] = ("library_id", "name", "commune_2025_code", "commune_2025",
                                    "lon", "lat", "location_method", "location_precision_km")
COMMUNE_COLUMNS: tuple[str, ...] = ("commune_code", "name", "lon", "lat")
ODBL_LICENSE = Path(__file__).resolve().parent / "data" / "ha_giang" / "LICENSE-ODbL.md"
DEFAULT_BUFFER_KM = 10.0
PROVINCE_BUFFER_KM = 3.0  # a province's roads and the strip beyond its (simplified) outline
COVERED_KM = 10.0  # a commune farther than this from every imported road is not covered
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_GEOD = pyproj.Geod(ellps="WGS84")


# --- errors ------------------------------------------------------------------------------

class DatasetNameError(GeodataError, ValueError):
    """A dataset name that cannot be a folder name."""


class DatasetExistsError(GeodataError, FileExistsError):
    """The target dataset folder exists and ``--force`` was not given (or it is no dataset)."""


class BoundaryFileError(GeodataError, ValueError):
    """A boundary file that cannot be read or holds no polygon."""


class CommunesFileError(GeodataError, ValueError):
    """A communes file without codes, names or point locations."""


class LibrariesFileError(GeodataError, ValueError):
    """A libraries file without names or point locations."""


class ImportOptionError(GeodataError, ValueError):
    """An import option with a value that makes no sense (e.g. a negative buffer)."""


class DatasetWriteError(GeodataError, OSError):
    """The dataset folder could not be written (permissions, disk full, ...)."""


# --- results -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ClipArea:
    """The polygon roads are clipped to (None: no clip) and where it came from."""

    polygon: shapely.Geometry | None
    kind: str  # "boundary", "communes_hull" or "none"
    description: str
    source: str = ""
    buffer_km: float | None = None


@dataclass(frozen=True)
class ImportResult:
    """Where the dataset went and the report written beside it (``import-report.json``)."""

    path: Path
    report: Mapping[str, Any]


# --- inputs besides the roads ------------------------------------------------------------

def _require_file(path: Path, what: str, fix: str) -> None:
    if not path.is_file():
        raise DataFileMissingError(path, what=what, fix=fix)


def _read_any(path: Path, error: type[GeodataError], what: str) -> gpd.GeoDataFrame:
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            return gpd.read_parquet(path)
        return gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 - pyogrio/arrow raise many types on bad files
        raise error(f"{path}: cannot read this {what} file ({type(exc).__name__}: {exc}). "
                    f"Give a file GeoPandas reads (GeoJSON, GeoPackage, GeoParquet, "
                    f"Shapefile, ...).") from None


def read_boundary(path: str | Path) -> shapely.Geometry:
    """The union of the polygons in a boundary file, in lon/lat (a (Multi)Polygon)."""
    path = Path(path)
    _require_file(path, "boundary file", "Check the path given to --boundary.")
    gdf = osm.to_lonlat(_read_any(path, BoundaryFileError, "boundary"), path, BoundaryFileError)
    geoms = gdf.geometry.values
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6]) & ~shapely.is_empty(geoms)
    if not polygonal.any():
        found = pd.Series(gdf.geometry.geom_type).value_counts(dropna=False)
        held = ", ".join(f"{n} {t}" for t, n in found.items()) or "no features"
        raise BoundaryFileError(
            f"{path}: no polygon to clip the roads to (the file holds {held}). Give the "
            f"outline of the area as a Polygon or MultiPolygon (e.g. a province boundary "
            f"GeoJSON), or leave out --boundary.")
    area = shapely.make_valid(shapely.union_all(geoms[polygonal]))
    parts = shapely.get_parts(area)
    parts = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
    return shapely.union_all(parts)


def read_communes(path: str | Path) -> gpd.GeoDataFrame:
    """Commune points with ``commune_code``, ``name``, ``lon``, ``lat`` (other columns kept).

    A CSV needs ``lon``/``lat`` columns; other formats need point geometry (or lon/lat).
    Every problem found is reported at once.
    """
    path = Path(path)
    _require_file(path, "communes file", "Check the path given to --communes.")
    if path.suffix.lower() in (".csv", ".txt"):
        try:
            frame = pd.read_csv(path, dtype={"commune_code": str})
        except Exception as exc:  # noqa: BLE001 - pandas raises many types on bad CSV
            raise CommunesFileError(f"{path}: cannot read this CSV file ({exc}).") from None
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)),
                               crs="EPSG:4326")
    else:
        gdf = osm.to_lonlat(_read_any(path, CommunesFileError, "communes"), path,
                          CommunesFileError)
    problems: list[str] = []
    missing = [c for c in ("commune_code", "name") if c not in gdf.columns]
    if missing:
        problems.append(f"no column {' or '.join(missing)} (columns: "
                        f"{quoted_list(gdf.columns)})")
    has_points = gdf.geometry.notna().any() and bool(
        (gdf.geometry.geom_type == "Point").all())
    if has_points:
        lon, lat = gdf.geometry.x, gdf.geometry.y
    elif {"lon", "lat"} <= set(gdf.columns):
        lon = pd.to_numeric(gdf["lon"], errors="coerce")
        lat = pd.to_numeric(gdf["lat"], errors="coerce")
        gdf = gdf.set_geometry(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    else:
        kinds = ", ".join(sorted(set(gdf.geometry.geom_type.dropna()))) or "none"
        problems.append(f"no point locations: give lon and lat columns or Point geometry "
                        f"(geometry found: {kinds})")
        lon = lat = pd.Series(np.nan, index=gdf.index)
    if not problems:
        bad_xy = ~(lon.between(-180, 180) & lat.between(-90, 90))
        if bad_xy.any():
            codes = ["(none)" if pd.isna(c) else str(c)
                     for c in gdf.loc[bad_xy, "commune_code"].tolist()[:5]]
            problems.append(f"{int(bad_xy.sum())} rows without a valid lon/lat "
                            f"(commune_code {quoted_list(codes, shown=5)}...)")
        code = gdf["commune_code"].astype(object)
        blank = code.isna() | (code.astype(str).str.strip() == "")
        if blank.any():
            problems.append(f"{int(blank.sum())} rows without a commune_code")
        dup = code[~blank & code.duplicated(keep=False)].astype(str).unique().tolist()
        if dup:
            problems.append(f"duplicate commune_code {quoted_list(dup, shown=5)}")
        gdf["name"] = one_line_text(gdf["name"])
        if gdf["name"].isna().any():
            problems.append(f"{int(gdf['name'].isna().sum())} rows without a name")
    if problems:
        raise CommunesFileError(f"{path}: not a usable communes file: " + "; ".join(problems)
                                + ". Fix the file (one row per commune: commune_code, name "
                                "and a point).")
    gdf = gdf.assign(commune_code=gdf["commune_code"].astype(str), lon=lon.astype(float),
                     lat=lat.astype(float))
    rest = [c for c in gdf.columns if c not in (*COMMUNE_COLUMNS, gdf.geometry.name)]
    gdf = gdf[[*COMMUNE_COLUMNS[:2], *rest, "lon", "lat", gdf.geometry.name]]
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    return gdf.reset_index(drop=True)


def empty_communes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"commune_code": pd.Series([], dtype=object), "name": pd.Series([], dtype=object),
         "lon": pd.Series([], dtype=float), "lat": pd.Series([], dtype=float)},
        geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def one_line_text(values: pd.Series) -> pd.Series:
    """Names as one line of text: line breaks, tabs and other control characters become
    spaces, runs of spaces one, the ends trimmed; a name left blank is missing (NA). A name
    with a bare carriage return would otherwise split its row when the dataset's CSV is
    read back."""
    def clean(x: object) -> object:
        if x is None or (isinstance(x, float) and np.isnan(x)):
            return pd.NA
        text = " ".join("".join(" " if unicodedata.category(c) == "Cc" else c
                                for c in str(x)).split())
        return text or pd.NA
    return values.map(clean).astype(object)


def read_libraries(path: str | Path) -> pd.DataFrame:
    """Provincial libraries and hubs (the depots) in the ``libraries.csv`` columns.

    A CSV needs ``name``, ``lon`` and ``lat`` (``library_id`` is made from the row number
    when absent or blank); other formats need a ``name`` and point geometry. Every problem found is
    reported at once.
    """
    path = Path(path)
    _require_file(path, "libraries file", "Check the path given to --libraries.")
    if path.suffix.lower() in (".csv", ".txt"):
        try:
            frame = pd.read_csv(path, dtype={"commune_2025_code": str, "library_id": str})
        except Exception as exc:  # noqa: BLE001 - pandas raises many types on bad CSV
            raise LibrariesFileError(f"{path}: cannot read this CSV file ({exc}).") from None
    else:
        gdf = osm.to_lonlat(_read_any(path, LibrariesFileError, "libraries"), path,
                            LibrariesFileError)
        points = gdf.geometry.notna() & (gdf.geometry.geom_type == "Point")
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        frame["lon"] = np.where(points, gdf.geometry.x, np.nan)
        frame["lat"] = np.where(points, gdf.geometry.y, np.nan)
    problems: list[str] = []
    missing = [c for c in ("name", "lon", "lat") if c not in frame.columns]
    if missing:
        problems.append(f"no column {' or '.join(missing)} (columns: "
                        f"{quoted_list(frame.columns)})")
    elif len(frame) == 0:
        problems.append("no row")
    else:
        lon = pd.to_numeric(frame["lon"], errors="coerce")
        lat = pd.to_numeric(frame["lat"], errors="coerce")
        bad = ~(lon.between(-180, 180) & lat.between(-90, 90))
        if bad.any():
            problems.append(f"{int(bad.sum())} row(s) without a valid lon/lat (rows "
                            f"{', '.join(str(i + 2) for i in np.flatnonzero(bad)[:5])})")
        frame["name"] = one_line_text(frame["name"])
        if frame["name"].isna().any():
            problems.append(f"{int(frame['name'].isna().sum())} row(s) without a name")
    if problems:
        raise LibrariesFileError(f"{path}: not a usable libraries file: " + "; ".join(problems)
                                 + ". Give one row per library: name, lon, lat (and optionally "
                                 "library_id, commune_2025_code, location_precision_km).")
    out = pd.DataFrame({c: frame[c] if c in frame.columns else None for c in LIBRARY_COLUMNS})
    if "library_id" in frame.columns:  # an id left blank (or only spaces) is made, as absent
        out["library_id"] = one_line_text(out["library_id"])
    if "library_id" not in frame.columns or out["library_id"].isna().any():
        made = pd.Series([f"LIB-{i + 1:02d}" for i in range(len(out))])
        out["library_id"] = out["library_id"].where(out["library_id"].notna(), made)
    if out["library_id"].duplicated().any():
        dup = out.loc[out["library_id"].duplicated(), "library_id"].tolist()[:5]
        raise LibrariesFileError(f"{path}: duplicate library_id {quoted_list(dup)}; "
                                 "give each library its own id.")
    out["location_method"] = out["location_method"].fillna(f"given in {path.name}")
    out["lon"] = pd.to_numeric(out["lon"]).astype(float)
    out["lat"] = pd.to_numeric(out["lat"]).astype(float)
    return out


_HULL_TOLERANCE_DEG = 1e-5  # about a metre: how far a commune point may fall outside its hull


def communes_hull(communes: gpd.GeoDataFrame, *, buffer_km: float,
                  source: str = "the communes file") -> shapely.Geometry:
    """The convex hull of the commune points buffered by ``buffer_km`` (in the UTM zone of
    their centre). Points too far apart for one UTM zone to hold them (a pole, the other side
    of the world: a lon/lat mistake) give no usable hull: :class:`CommunesFileError` naming
    ``source`` and the points' extent, never a hull that leaves some of them out."""
    xy = np.column_stack([communes["lon"], communes["lat"]])
    pts = shapely.multipoints(xy)
    centre = shapely.centroid(pts)
    crs = metric_crs_for(centre.x, centre.y)
    fwd = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    back = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    try:
        hull = shapely.convex_hull(shapely.transform(pts, lambda xy: np.column_stack(
            fwd.transform(xy[:, 0], xy[:, 1]))))
        area = shapely.buffer(hull, buffer_km * 1000.0, quad_segs=16)
        area = shapely.transform(area, lambda xy: np.column_stack(back.transform(xy[:, 0],
                                                                                xy[:, 1])))
        finite = bool(np.isfinite(shapely.get_coordinates(area)).all())
        if shapely.is_empty(area):  # one point, or points on a line, with no buffer
            usable = finite and buffer_km == 0
        else:
            off = shapely.distance(area, shapely.points(xy))
            usable = finite and bool((off <= _HULL_TOLERANCE_DEG).all())
    except shapely.errors.GEOSException:
        usable = False
    if not usable:
        raise CommunesFileError(
            f"{source}: the commune points spread over lon {xy[:, 0].min():g} to "
            f"{xy[:, 0].max():g}, lat {xy[:, 1].min():g} to {xy[:, 1].max():g}, too far apart "
            f"to clip the roads around them. Check the lon and lat columns (swapped, a wrong "
            f"sign, a point at 0, 0?), or give the area's outline with --boundary.")
    return area


def clip_area(*, boundary: Path | None, communes: gpd.GeoDataFrame | None,
              communes_path: Path | None, buffer_km: float) -> ClipArea:
    """The clip polygon: ``boundary``'s polygons, else the communes' buffered hull, else none."""
    if boundary is not None:
        return ClipArea(read_boundary(boundary), "boundary",
                        f"polygons of {boundary.name}", source=boundary.name)
    if communes is not None and len(communes):
        hull = communes_hull(communes, buffer_km=buffer_km,
                             source=str(communes_path or "the communes file"))
        return ClipArea(hull, "communes_hull",
                        f"convex hull of the {len(communes)} commune points of "
                        f"{communes_path.name if communes_path else 'the communes file'}, "
                        f"buffered by {buffer_km:g} km",
                        source=communes_path.name if communes_path else "",
                        buffer_km=buffer_km)
    return ClipArea(None, "none", "none (the stored boundary is the roads' convex hull)")


# --- road processing ---------------------------------------------------------------------

def clip_roads(roads: gpd.GeoDataFrame, area: shapely.Geometry
               ) -> tuple[gpd.GeoDataFrame, int, int]:
    """The parts of ``roads`` inside ``area``, as LineStrings (a line leaving and coming
    back becomes several rows); also the number of lines wholly outside and of lines cut."""
    shapely.prepare(area)
    geoms = roads.geometry.values
    inside = shapely.contains(area, geoms)
    touching = shapely.intersects(area, geoms) & ~inside
    cut_idx = np.flatnonzero(touching)
    pieces = shapely.intersection(geoms[cut_idx], area)
    parts, of = shapely.get_parts(pieces, return_index=True)
    good = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 0)
    parts, of = parts[good], cut_idx[of[good]]
    # keep each piece in its line's direction (oneway) and the pieces in order along it
    original = np.asarray(geoms[of])
    at_start = shapely.line_locate_point(original, shapely.get_point(parts, 0))
    at_end = shapely.line_locate_point(original, shapely.get_point(parts, -1))
    backwards = at_end < at_start
    parts[backwards] = shapely.reverse(parts[backwards])
    keep_idx = np.flatnonzero(inside)
    rows = np.concatenate([keep_idx, of])
    geometry = np.concatenate([np.asarray(geoms[keep_idx]), parts])
    along = np.concatenate([np.zeros(len(keep_idx)), np.minimum(at_start, at_end)])
    order = np.lexsort((along, rows))
    out = roads.iloc[rows[order]].reset_index(drop=True)
    out = out.set_geometry(gpd.GeoSeries(geometry[order], crs=roads.crs).values)
    kept_lines = np.zeros(len(roads), dtype=bool)
    kept_lines[rows] = True
    return out, int((~kept_lines).sum()), len(np.unique(of))


def line_lengths_m(geoms: np.ndarray) -> np.ndarray:
    """Geodesic length (WGS84 ellipsoid) of each lon/lat line, in metres."""
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    if len(coords) < 2:
        return np.zeros(len(geoms))
    _, _, step = _GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    same = idx[1:] == idx[:-1]
    return np.bincount(idx[1:][same], weights=step[same], minlength=len(geoms))


class _GeoParquetWriter:
    """Appends road chunks to one GeoParquet file (zstd), one row group per chunk, with the
    same schema and metadata ``GeoDataFrame.to_parquet`` writes (minus the optional bbox)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.schema = _road_schema()
        self._writer = pq.ParquetWriter(path, self.schema, compression="zstd")
        self.rows = 0

    def write(self, chunk: gpd.GeoDataFrame) -> None:
        arrays = []
        for fld in self.schema:
            if fld.name == "geometry":
                arrays.append(pa.array(shapely.to_wkb(chunk.geometry.values), type=fld.type))
            else:
                arrays.append(pa.array(chunk[fld.name], type=fld.type, from_pandas=True))
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self.rows += len(chunk)

    def close(self) -> None:
        self._writer.close()


def _road_schema() -> pa.Schema:
    """Arrow schema and GeoParquet metadata of a road table, as GeoPandas writes them."""
    sample: dict[str, object] = {c: ["x"] for c in osm.TEXT_COLUMNS}
    sample.update({c: np.zeros(1, dtype=np.int8) for c in osm.INT8_COLUMNS})
    sample.update({c: [0.0] for c in osm.FLOAT_COLUMNS})
    sample["osm_way_id"] = pd.array([1], dtype="Int64")
    frame = gpd.GeoDataFrame(sample, geometry=[LineString([(0, 0), (1, 1)])], crs="EPSG:4326")
    frame = frame[list(osm.ROAD_COLUMNS)]
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    schema = pq.read_schema(pa.BufferReader(buf.getvalue()))
    geo = json.loads(schema.metadata[b"geo"])
    for column in geo["columns"].values():
        column.pop("bbox", None)  # optional; the template's bbox is not the data's
    return schema.with_metadata({**schema.metadata, b"geo": json.dumps(geo).encode()})


@dataclass
class _RoadTotals:
    """Running totals over the chunks written (private)."""

    lines: int = 0
    outside: int = 0
    cut: int = 0

    def __post_init__(self) -> None:
        self.km: dict[str, float] = {}
        self.lines_by_class: dict[str, int] = {}
        self.flags: dict[str, int] = {"oneway": 0, "bridge": 0, "tunnel": 0, "ford": 0,
                                      "named": 0, "with_surface": 0, "with_access": 0,
                                      "with_maxweight": 0, "with_maxwidth": 0,
                                      "with_maxheight": 0}
        self.hulls: list[shapely.Geometry] = []

    def add(self, chunk: gpd.GeoDataFrame, *, track_hull: bool) -> None:
        length = line_lengths_m(chunk.geometry.values)
        by = pd.DataFrame({"c": chunk["omt_class"].to_numpy(), "km": length / 1000.0})
        for cls, grp in by.groupby("c", sort=False):
            self.km[str(cls)] = self.km.get(str(cls), 0.0) + float(grp["km"].sum())
            self.lines_by_class[str(cls)] = self.lines_by_class.get(str(cls), 0) + len(grp)
        self.lines += len(chunk)
        f = self.flags
        f["oneway"] += int((chunk["oneway"] != 0).sum())
        for kind in ("bridge", "tunnel", "ford"):
            f[kind] += int((chunk["brunnel"] == kind).sum())
        f["named"] += int(chunk["name"].notna().sum())
        f["with_surface"] += int(chunk["surface"].notna().sum())
        f["with_access"] += int(chunk["access"].notna().sum())
        for column, key in (("maxweight_t", "with_maxweight"), ("maxwidth_m", "with_maxwidth"),
                            ("maxheight_m", "with_maxheight")):
            f[key] += int(chunk[column].notna().sum())
        if track_hull:
            coords = shapely.get_coordinates(chunk.geometry.values)
            self.hulls.append(shapely.convex_hull(shapely.linestrings(coords)))

    def hull(self) -> shapely.Geometry:
        hull = shapely.convex_hull(shapely.GeometryCollection(self.hulls))
        if shapely.get_type_id(hull) != 3:  # all roads on one straight line
            hull = shapely.buffer(hull, 1e-4)
        return hull

    def by_class(self) -> dict[str, dict[str, float | int]]:
        order = {c: i for i, c in enumerate(osm.DRIVABLE_CLASSES)}
        return {c: {"lines": self.lines_by_class[c], "km": round(self.km[c], 3)}
                for c in sorted(self.km, key=lambda c: (order.get(c, 99), c))}


# --- the import --------------------------------------------------------------------------

def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise DatasetNameError(
            f"dataset name {name!r} cannot be a folder name: use letters, digits, '-', '_' "
            f"or '.', starting with a letter or digit (e.g. 'lao-cai' or 'son_la_2025').")
    return name


def _check_target(target: Path, *, force: bool) -> None:
    if not (target.exists() or target.is_symlink()):
        return
    if not target.is_dir() or not (target / "dataset.yaml").is_file():
        raise DatasetExistsError(
            f"{target}: exists and is not a dataset folder (no dataset.yaml); the importer "
            f"will not replace it, even with --force. Choose another --name or --out-dir.")
    if not force:
        raise DatasetExistsError(
            f"{target}: dataset {target.name!r} already exists. Give --force to replace it, "
            f"or choose another --name.")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (``ru_maxrss``), in MiB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _area_km2(polygon: shapely.Geometry) -> float:
    return round(abs(_GEOD.geometry_area_perimeter(polygon)[0]) / 1e6, 1)


def default_name(province: str) -> str:
    """The dataset name ``--province`` gives when ``--name`` is left out (``lao_cai``; a name
    an embedded dataset has gets ``_osm``)."""
    from geodata.region import load_region

    key = load_region().province(province).key.replace("-", "_")
    return f"{key}_osm" if key in embedded_datasets() else key


def _province_inputs(province: str, *, communes: Path | None, libraries: Path | None
                     ) -> tuple[Any, ClipArea, gpd.GeoDataFrame | None, pd.DataFrame | None]:
    """The province, its clip area (outline + :data:`PROVINCE_BUFFER_KM`), and its communes
    and libraries from the region's reference data unless files are given."""
    from geodata.region import load_region

    region = load_region()
    prov = region.province(province)
    outline = region.outline(prov)
    polygon = _buffer_km(outline, PROVINCE_BUFFER_KM)
    partial = " (PARTIAL: " + prov.note + ")" if prov.partial else ""
    area = ClipArea(polygon, "province", f"outline of {prov.label}{partial}, simplified to "
                    f"about 100 m, buffered by {PROVINCE_BUFFER_KM:g} km",
                    source=prov.key, buffer_km=PROVINCE_BUFFER_KM)
    table = None
    if communes is None:
        c = region.communes_of(prov).reset_index(drop=True)
        c = c.rename(columns={"province_2025": "province_2025_name"})
        table = gpd.GeoDataFrame(c, geometry=gpd.points_from_xy(c["lon"], c["lat"]),
                                 crs="EPSG:4326")
        rest = [k for k in table.columns if k not in (*COMMUNE_COLUMNS, "geometry")]
        table = table[[*COMMUNE_COLUMNS[:2], *rest, "lon", "lat", "geometry"]]
    libs = None
    if libraries is None:
        lb = region.libraries_of(prov)
        libs = pd.DataFrame({c: lb[c] for c in LIBRARY_COLUMNS if c in lb.columns})
        libs["location_method"] = ("APPROXIMATE point: " + lb["location_method"].astype(str))
        libs = libs[list(LIBRARY_COLUMNS)].reset_index(drop=True)
    return prov, area, table, libs


def _buffer_km(polygon: shapely.Geometry, km: float) -> shapely.Geometry:
    centre = shapely.centroid(polygon)
    crs = metric_crs_for(centre.x, centre.y)
    fwd = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    back = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    metric = shapely.transform(polygon, lambda xy: np.column_stack(fwd.transform(xy[:, 0],
                                                                                xy[:, 1])))
    grown = shapely.buffer(metric, km * 1000.0, quad_segs=8)
    return shapely.transform(grown, lambda xy: np.column_stack(back.transform(xy[:, 0],
                                                                              xy[:, 1])))


def road_coverage(roads_path: Path, communes: gpd.GeoDataFrame) -> dict[str, Any]:
    """How far each commune point lies from the nearest imported road line: the communes the
    road data covers (within :data:`COVERED_KM`) and those more than 2 km from any road."""
    if not len(communes):
        return {"communes": 0, "covered": 0, "more_than_2km": [], "not_covered": []}
    roads = gpd.read_parquet(roads_path, columns=["geometry"])
    centre = shapely.centroid(shapely.multipoints(
        np.column_stack([communes["lon"], communes["lat"]])))
    crs = metric_crs_for(centre.x, centre.y)
    lines = roads.to_crs(crs).geometry.values
    points = gpd.GeoSeries(gpd.points_from_xy(communes["lon"], communes["lat"]),
                           crs="EPSG:4326").to_crs(crs).values
    tree = shapely.STRtree(lines)
    (pt_idx, _), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    metres = np.full(len(points), np.inf)
    metres[pt_idx] = dist
    codes = communes["commune_code"].astype(str).to_numpy()
    names = communes["name"].astype(str).to_numpy()
    far = np.flatnonzero((metres > 2000) & (metres <= COVERED_KM * 1000))
    out = np.flatnonzero(metres > COVERED_KM * 1000)
    return {"communes": len(points), "covered": int((metres <= COVERED_KM * 1000).sum()),
            "more_than_2km": [f"{codes[i]} {names[i]} ({metres[i] / 1000:.1f} km)"
                              for i in far[np.argsort(-metres[far])]],
            "not_covered": [f"{codes[i]} {names[i]}" for i in out]}


def closed_classes_by_profile(by_class: Mapping[str, Mapping[str, float]]
                              ) -> dict[str, dict[str, float]]:
    """Per vehicle profile, the km of the imported classes it may not use."""
    from geodata.profiles import load_profiles

    return {name: {cls: round(float(v["km"]), 1) for cls, v in by_class.items()
                   if not p.allows(cls)}
            for name, p in load_profiles().items()}


def import_dataset(source: str | Path, *, name: str, out_dir: str | Path | None = None,
                   boundary: str | Path | None = None, communes: str | Path | None = None,
                   libraries: str | Path | None = None, province: str | None = None,
                   buffer_km: float = DEFAULT_BUFFER_KM, force: bool = False,
                   title: str | None = None, location_index: str = "auto",
                   chunk_rows: int = 25_000) -> ImportResult:
    """Import ``source`` as dataset ``name`` under ``out_dir`` (see the module doc).

    Raises a :class:`geodata.errors.GeodataError` subclass for every problem with the inputs
    or the target; nothing is left behind when it does.
    """
    started = time.perf_counter()
    source = Path(source)
    boundary = Path(boundary) if boundary is not None else None
    communes_path = Path(communes) if communes is not None else None
    check_name(name)
    if not (math.isfinite(buffer_km) and buffer_km >= 0):
        raise ImportOptionError(f"--buffer-km {buffer_km}: give a distance of 0 km or more.")
    kind = osm.check_input(source)
    if out_dir is None:
        out_dir = user_data_dir()
        if name in embedded_datasets():
            raise DatasetNameError(
                f"dataset name {name!r} is taken by a dataset shipped with the planner, which "
                f"would hide the imported one; choose another --name (e.g. '{name}_osm').")
    out_dir = Path(out_dir)
    if out_dir.resolve() == DATA_DIR.resolve() and name in embedded_datasets() and not force:
        raise DatasetNameError(f"{DATA_DIR / name}: a dataset shipped with the planner; "
                               f"choose another --name (maintainers rebuild it with --force).")
    target = out_dir / name
    _check_target(target, force=force)  # fail before the long part

    commune_table = read_communes(communes_path) if communes_path is not None else None
    library_table = read_libraries(libraries) if libraries is not None else None
    prov = None
    if province is not None:
        if boundary is not None:
            raise ImportOptionError("give --province or --boundary, not both: --province "
                                    "clips to the province's outline")
        libraries_path = Path(libraries) if libraries is not None else None
        prov, area, from_region, region_libs = _province_inputs(
            province, communes=communes_path, libraries=libraries_path)
        commune_table = commune_table if commune_table is not None else from_region
        library_table = library_table if library_table is not None else region_libs
    else:
        area = clip_area(boundary=boundary, communes=commune_table,
                         communes_path=communes_path, buffer_km=buffer_km)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.importing-", dir=out_dir))
    except OSError as exc:
        raise DatasetWriteError(f"{out_dir}: cannot create the dataset folder here ({exc}). "
                                f"Choose a writable --out-dir.") from None
    published = False
    try:
        reader = osm.RoadReader(source, location_index=location_index, chunk_rows=chunk_rows,
                                index_dir=tmp)
        totals = _write_roads(reader, tmp / "roads.parquet", area)
        stats = reader.stats
        if totals.lines == 0:
            raise osm.NoDrivableRoadsError(
                f"{source}: none of its {stats.features_read} drivable "
                f"{'ways' if kind == 'osm' else 'lines'} lies inside the clip area "
                f"({area.description}). Check that the file covers that area, or give "
                f"another --boundary / --communes.")
        polygon = area.polygon if area.polygon is not None else totals.hull()
        boundary_name = {"boundary": Path(area.source).stem,
                         "communes_hull": area.description}.get(
            area.kind, f"convex hull of the roads of {source.name}")
        gpd.GeoDataFrame({"name": [boundary_name]}, geometry=[polygon], crs="EPSG:4326")[
            ["geometry", "name"]].to_parquet(tmp / "boundary.parquet", compression="zstd")
        table = commune_table if commune_table is not None else empty_communes()
        outside: list[str] = []
        if len(table) and area.kind == "boundary":
            # a commune whose point lies outside the outline is not the area's: keeping it
            # would silently make it part of every scenario's service area
            out_mask = ~shapely.covers(polygon, table.geometry.values)
            outside = [f"{c} {n}" for c, n in zip(table["commune_code"][out_mask],
                                                  table["name"][out_mask], strict=True)]
            table = table[~out_mask].reset_index(drop=True)
        table.to_parquet(tmp / "communes.parquet", compression="zstd")
        libs = (library_table if library_table is not None
                else pd.DataFrame(columns=list(LIBRARY_COLUMNS)))
        libs.to_csv(tmp / "libraries.csv", index=False)
        osm_derived = reader.osm_derived
        if osm_derived:
            _write_licence(tmp / "LICENSE-ODbL.md")
        outside_communes = len(outside)
        report = _report(name=name, target=target, source=source, kind=kind, stats=stats,
                         totals=totals, area=area, polygon=polygon,
                         communes=len(table), outside_communes=outside_communes,
                         outside_examples=outside[:10], libraries=len(libs), started=started)
        report["coverage"] = road_coverage(tmp / "roads.parquet", table)
        report["closed_classes_by_profile"] = closed_classes_by_profile(
            report["kept"]["by_class"])
        if prov is not None:
            report["province"] = {"key": prov.key, "name": prov.name, "kind": prov.kind,
                                  "code": prov.code, "partial": prov.partial,
                                  "note": prov.note, "successor": prov.successor,
                                  "communes": prov.communes}
        (tmp / "import-report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        manifest = _manifest(name=name, title=title, source=source, kind=kind, report=report,
                             area=area, osm_derived=osm_derived, stats=stats,
                             outside_communes=outside_communes)
        if prov is not None:
            manifest["province"] = report["province"]
            manifest["service_area"] = (f"the {prov.communes} communes of {prov.label} "
                                        "(region reference data, by the official crosswalk)")
        (tmp / "dataset.yaml").write_text(
            yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=100),
            encoding="utf-8")
        os.chmod(tmp, 0o755)
        _publish(tmp, target, force=force)
        published = True
        log.info("imported %s into %s", source, target)
        return ImportResult(path=target, report=report)
    except OSError as exc:
        if isinstance(exc, GeodataError):
            raise
        raise DatasetWriteError(f"{target}: cannot write the dataset ({exc}). Check the "
                                f"free space and permissions of {out_dir}.") from None
    finally:
        if not published:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_roads(reader: osm.RoadReader, path: Path, area: ClipArea) -> _RoadTotals:
    totals = _RoadTotals()
    writer = _GeoParquetWriter(path)
    try:
        for chunk in reader:
            if area.polygon is not None:
                chunk, outside, cut = clip_roads(chunk, area.polygon)
                totals.outside += outside
                totals.cut += cut
            if len(chunk):
                writer.write(chunk)
                totals.add(chunk, track_hull=area.polygon is None)
    finally:
        writer.close()
    return totals


def _write_licence(path: Path) -> None:
    if ODBL_LICENSE.is_file():
        shutil.copyfile(ODBL_LICENSE, path)
    else:  # an installation without the embedded dataset: a minimal notice
        path.write_text(
            "# Open Database License notice\n\nThe road data in this folder contains "
            "information from OpenStreetMap, © OpenStreetMap contributors, made available "
            "under the Open Database License (ODbL) v1.0: "
            "https://opendatacommons.org/licenses/odbl/1-0/\n", encoding="utf-8")


def _versions() -> dict[str, str]:
    import osmium.version

    return {"pyosmium": osmium.version.pyosmium_release,
            "libosmium": osmium.version.libosmium_version,
            "geopandas": gpd.__version__, "shapely": shapely.__version__,
            "pyarrow": pa.__version__}


def _report(*, name: str, target: Path, source: Path, kind: str, stats: osm.ReadStats,
            totals: _RoadTotals, area: ClipArea, polygon: shapely.Geometry, communes: int,
            outside_communes: int, outside_examples: list[str], libraries: int,
            started: float) -> dict:
    read_key = "ways_read" if kind == "osm" else "lines_read"
    s = stats.as_dict()
    return {
        "dataset": name,
        "path": str(target.resolve()),
        "source": {"file": source.name, "format": stats.source_format,
                   "size_bytes": source.stat().st_size, "sha256": file_sha256(source),
                   "osm_timestamp": stats.osm_timestamp or None},
        "input": {read_key: stats.features_read},
        "kept": {"lines": totals.lines,
                 "km": round(sum(totals.km.values()), 3),
                 "by_class": totals.by_class(),
                 "attributes": totals.flags,
                 "lines_cut_at_boundary": totals.cut},
        "dropped": {**s["dropped"], "outside_boundary": totals.outside},
        "not_drivable_values": s["not_drivable_values"],
        "unparseable_limits": s["unparseable_limits"],
        "unparseable_examples": s["unparseable_examples"],
        "clip": {"kind": area.kind, "description": area.description,
                 "source": area.source or None, "buffer_km": area.buffer_km,
                 "area_km2": _area_km2(polygon)},
        "communes": {"count": communes, "outside_boundary": outside_communes,
                     "outside_examples": outside_examples},
        "libraries": {"count": libraries},
        "peak_memory_mb": peak_memory_mb(),
        "wall_time_s": round(time.perf_counter() - started, 2),
        "versions": _versions(),
    }


def _manifest(*, name: str, title: str | None, source: Path, kind: str, report: dict,
              area: ClipArea, osm_derived: bool, stats: osm.ReadStats,
              outside_communes: int) -> dict:
    now = dt.datetime.now(dt.UTC)
    what = "OpenStreetMap file" if kind == "osm" else "road-line file"
    notes = [
        (f"Roads imported from {source.name} ({what}): {report['kept']['lines']} lines, "
         f"{report['kept']['km']:.1f} km; clip: {area.description}. See import-report.json "
         f"for what was dropped and why."),
        *missing_parts(report),
    ]
    if outside_communes:
        notes.append(f"{outside_communes} commune points lay outside the boundary and were "
                     f"left out of communes.parquet (see import-report.json).")
    if kind == "lines":
        notes.append("Attribution assumed from the input's OpenMapTiles/OSM road attributes; "
                     "correct it here if the roads come from another source.")
    if stats.osm_timestamp:
        notes.append(f"OSM data as of {stats.osm_timestamp} (from the file header).")
    manifest: dict[str, object] = {
        "title": title or f"{name}: roads imported from {source.name}",
        "attribution": (osm.ODBL_ATTRIBUTION if osm_derived
                        else f"Roads from {source.name}"),
        "source": {"file": source.name, "sha256": report["source"]["sha256"],
                   "format": stats.source_format, "size_bytes": report["source"]["size_bytes"]},
        "imported": now.date().isoformat(),
        "imported_at": now.replace(microsecond=0).isoformat(),
        "clip": {"kind": area.kind, "description": area.description},
        "notes": notes,
    }
    if stats.osm_timestamp:
        manifest["osm_date"] = stats.osm_timestamp[:10]
    return manifest


def missing_parts(report: Mapping[str, Any]) -> list[str]:
    """What a dataset still lacks before anything can be planned on it, as sentences that say
    how to add it (shown by the import summary and kept in ``dataset.yaml``)."""
    out = []
    if not report["communes"]["count"]:
        out.append("communes.parquet is empty: nothing can be planned until the communes to "
                   "serve are attached; import again with --communes FILE (a CSV with "
                   "commune_code, name, lon, lat).")
    if not report.get("libraries", {}).get("count"):
        out.append("libraries.csv is empty: trips start at a library; import again with "
                   "--libraries FILE (a CSV with name, lon, lat), or give each scenario depot "
                   "a `location: {lon, lat}`.")
    return out


def _publish(tmp: Path, target: Path, *, force: bool) -> None:
    """Rename the finished folder into place; an old dataset is moved away first and
    deleted only once the new one is in."""
    if target.exists() or target.is_symlink():
        _check_target(target, force=force)
        digest = _digest_or_none(target)
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        target.rename(old)
        try:
            tmp.rename(target)
        except OSError:
            old.rename(target)
            raise
        if digest is None:  # not a loadable dataset: nothing a plan could have used
            shutil.rmtree(old, ignore_errors=True)
            return
        keep = version_folder(target, target.name, digest)
        if keep.exists():  # the same data was kept before
            shutil.rmtree(old, ignore_errors=True)
        else:
            keep.parent.mkdir(parents=True, exist_ok=True)
            old.rename(keep)
            log.info("kept the replaced dataset for the plans made on it: %s", keep)
    else:
        tmp.rename(target)


def _digest_or_none(folder: Path) -> str | None:
    try:
        return load_dataset(folder).digest
    except (GeodataError, OSError):
        return None


# --- command line ------------------------------------------------------------------------

def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``geodata import`` arguments to ``parser`` (for the ``planner`` CLI too)."""
    parser.add_argument("file", type=Path,
                        help="road data: .osm.pbf, .osm, .osm.gz, .osm.bz2, or road lines in "
                             ".gpkg, .geojson, .parquet (OpenMapTiles or OSM highway columns)")
    parser.add_argument("--province", default=None,
                        help="the province to import, in one step: a 2025 province (Cao Bằng, "
                             "Điện Biên, Lai Châu, Lạng Sơn, Lào Cai, Phú Thọ, Sơn La, Thái "
                             "Nguyên, Tuyên Quang, Bắc Ninh) or a former one (before July "
                             "2025: Hà Giang, Yên Bái, Bắc Kạn, Hòa Bình, Bắc Giang..., and "
                             "'former Lào Cai' where a 2025 province has the same name); "
                             "clips to its outline + 3 km and attaches its communes (by the "
                             "official crosswalk) and every provincial library it has, from "
                             "the shipped region data (--communes / --libraries override them)")
    parser.add_argument("--name", default=None,
                        help="dataset name (the folder name); default with --province: the "
                             "province's name, e.g. lao_cai")
    parser.add_argument("--boundary", type=Path, default=None,
                        help="polygon file to clip the roads to (any format GeoPandas reads)")
    parser.add_argument("--communes", type=Path, default=None,
                        help="the communes to serve: needed before anything can be planned "
                             "(CSV with columns commune_code, name, lon, lat, or a point file "
                             "with commune_code and name); without --boundary the roads are "
                             "clipped to their convex hull plus --buffer-km; with --boundary, "
                             "communes outside it are left out and counted")
    parser.add_argument("--libraries", "--library", dest="libraries", type=Path, default=None,
                        help="the provincial library and hubs trips start from (CSV with "
                             "columns name, lon, lat and optionally library_id, "
                             "commune_2025_code, location_precision_km, or a point file)")
    parser.add_argument("--buffer-km", type=float, default=DEFAULT_BUFFER_KM,
                        help=f"buffer around the communes' hull (default {DEFAULT_BUFFER_KM:g})")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="folder the dataset folder goes into (default: the user data "
                             "folder, $PLANNER_DATA_DIR or "
                             "~/.local/share/mobile-library-planner/datasets, where scenarios "
                             "find it by name)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing dataset of that name (the replaced one is "
                             "kept under .versions/ beside it, for the plans made on it)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run an import from parsed arguments; print a summary, or ``error: ...`` and return 2."""
    try:
        name = args.name
        if name is None:
            if args.province is None:
                raise ImportOptionError("give --name NAME (the dataset's folder name), or "
                                        "--province NAME to import a province of the region")
            name = default_name(args.province)
        result = import_dataset(args.file, name=name, out_dir=args.out_dir,
                                boundary=args.boundary, communes=args.communes,
                                libraries=args.libraries, province=args.province,
                                buffer_km=args.buffer_km, force=args.force)
    except GeodataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(result))
    return 0


def summary(result: ImportResult) -> str:
    r = result.report
    kept = r["kept"]
    lines = [f"imported {kept['lines']:,} road lines, {kept['km']:,.1f} km, into {result.path}"]
    for cls, v in kept["by_class"].items():
        lines.append(f"  {cls:<10} {v['lines']:>9,} lines {v['km']:>11,.1f} km")
    dropped = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in r["dropped"].items() if v)
    lines.append(f"dropped: {dropped or 'nothing'}")
    bad = {k: v for k, v in r["unparseable_limits"].items() if v}
    if bad:
        lines.append("unreadable limits (kept as unknown): "
                     + ", ".join(f"{k} {v:,}" for k, v in bad.items()))
    lines.append(f"clip: {r['clip']['description']}")
    c = r["communes"]
    lines.append(f"communes: {c['count']} attached; libraries: "
                 f"{r.get('libraries', {}).get('count', 0)}")
    p = r.get("province")
    if p:
        kind = "former province" if p["kind"] == "former" else "2025 province"
        lines.append(f"province: {p['name']} ({kind}, {p['communes']} communes)"
                     + (f"; PARTIAL outline: {p['note']}" if p["partial"] else ""))
    cov = r.get("coverage")
    if cov and cov["communes"]:
        lines.append(f"coverage: {cov['covered']} of {cov['communes']} communes lie within "
                     f"{COVERED_KM:g} km of the imported roads; {len(cov['more_than_2km'])} "
                     "more than 2 km from any road (their gap is counted when planned)")
        if cov["not_covered"]:
            lines.append(f"  NOT COVERED by the road data ({len(cov['not_covered'])}): "
                         f"{', '.join(cov['not_covered'][:8])}"
                         + (" ..." if len(cov["not_covered"]) > 8 else ""))
        if cov["more_than_2km"]:
            lines.append(f"  more than 2 km from a road: {', '.join(cov['more_than_2km'][:8])}"
                         + (" ..." if len(cov["more_than_2km"]) > 8 else ""))
    for prof, closed in (r.get("closed_classes_by_profile") or {}).items():
        if closed:
            lines.append(f"closed to {prof}: " + ", ".join(f"{cls} {km:,.0f} km"
                                                          for cls, km in closed.items()))
    if c.get("outside_boundary"):
        lines.append(f"  {c['outside_boundary']} commune(s) of the communes file lie outside "
                     f"the boundary and were left out, e.g. "
                     f"{', '.join(c.get('outside_examples', [])[:5])}")
    lines += [f"NOTE: {note}" for note in missing_parts(r)]
    lines.append(f"{r['wall_time_s']} s, peak memory {r['peak_memory_mb']} MiB; report: "
                 f"{result.path / 'import-report.json'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``planner geodata import FILE --name NAME [--boundary FILE] [--communes FILE]
    [--buffer-km KM] [--out-dir DIR] [--force]``; returns the exit status (2 on errors)."""
    parser = configure_parser(argparse.ArgumentParser(
        prog="planner geodata import",
        description="Import road data (an OpenStreetMap extract or road lines) as a dataset."))
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse has printed the usage error (or --help)
        return int(exc.code) if isinstance(exc.code, int) else 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
