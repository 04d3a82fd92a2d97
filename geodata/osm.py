"""Read road lines from OpenStreetMap files and road-line files into the planner's road schema.

Both kinds of input give tables with the :data:`ROAD_COLUMNS` schema (EPSG:4326, one
LineString per row), which :func:`geodata.network.build_road_graph` and the vehicle profiles
consume:

* OSM files (``.osm.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``) are streamed with pyosmium.
  Node locations live in osmium's location index (C++ memory, or a file on disk for big
  inputs), never in a Python dict. Each drivable highway way becomes one LineString with
  *every* node of the way, so ways that share a node share a vertex and the graph builder
  joins them there. Rows come out in chunks, so a caller can clip and store them without
  holding the whole network.
* road-line files (GeoPackage, GeoJSON, (Geo)Parquet, FlatGeobuf, Shapefile) carry either the
  OpenMapTiles ``transportation`` attributes (``omt_class`` or ``class``, like the tile-derived
  files in ``../shared/geodata-src/roads``) or OSM tags (a ``highway`` column, plus GDAL's
  ``other_tags`` if present).

OSM ``highway`` values map to OpenMapTiles classes the way OpenMapTiles does; anything a motor
vehicle cannot drive is dropped and counted. Nothing here touches the network.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely

from geodata.errors import DataFileMissingError, GeodataError, quoted_list

log = logging.getLogger(__name__)

# --- the road schema ---------------------------------------------------------------------

ROAD_COLUMNS: tuple[str, ...] = (
    "geometry", "omt_class", "omt_subclass", "name", "ref", "oneway", "brunnel", "service",
    "ramp", "surface", "access", "maxweight_t", "maxwidth_m", "maxheight_m", "osm_way_id",
    "duration_s",
)
"""Columns of a road table, in order; :func:`empty_roads` shows their dtypes."""

TEXT_COLUMNS: tuple[str, ...] = ("omt_class", "omt_subclass", "name", "ref", "brunnel",
                                 "service", "surface", "access")
INT8_COLUMNS: tuple[str, ...] = ("oneway", "ramp")
FLOAT_COLUMNS: tuple[str, ...] = ("maxweight_t", "maxwidth_m", "maxheight_m", "duration_s")

DRIVABLE_CLASSES: tuple[str, ...] = ("motorway", "trunk", "primary", "secondary", "tertiary",
                                     "minor", "service", "track", "ferry")
FERRY_CLASS = "ferry"
"""The class of a ferry crossing (OSM ``route=ferry``, OpenMapTiles class ``ferry``); its
time is the crossing's ``duration`` where OSM gives one (``duration_s``), else its length at
the profile's ``ferry`` speed, plus a wait (:data:`geodata.routing.FERRY_WAIT_S`)."""
MAX_FERRY_DURATION_S = 7 * 24 * 3600.0
"""The longest ``duration`` read: the longest ferry routes take days, not more; a longer one
("999...9" minutes, which is infinite as a float) is a typo, counted as unreadable."""
FERRY_VEHICLE_KEYS: tuple[str, ...] = ("motor_vehicle", "motorcar", "hgv", "vehicle")
"""A ``route=ferry`` way is imported when one of these says yes (it carries vehicles); a
ferry without them is counted as ``ferry (no motor vehicles)`` among the ways not imported."""

HIGHWAY_CLASS: Mapping[str, tuple[str, int]] = {
    "motorway": ("motorway", 0), "motorway_link": ("motorway", 1),
    "trunk": ("trunk", 0), "trunk_link": ("trunk", 1),
    "primary": ("primary", 0), "primary_link": ("primary", 1),
    "secondary": ("secondary", 0), "secondary_link": ("secondary", 1),
    "tertiary": ("tertiary", 0), "tertiary_link": ("tertiary", 1),
    "unclassified": ("minor", 0), "residential": ("minor", 0),
    "living_street": ("minor", 0), "road": ("minor", 0),
    "service": ("service", 0), "track": ("track", 0),
}
"""OSM ``highway`` value -> (OpenMapTiles class, ramp). Any other value (footway, path,
cycleway, steps, pedestrian, bridleway, construction, proposed, bus_guideway, busway, raceway,
corridor, platform, escape, rest_area, services, ...) is not drivable and is dropped."""

NAME_KEYS: tuple[str, ...] = ("name:vi", "name", "name:latin", "name:en", "int_name")
"""Tags a road's ``name`` comes from, first present wins: the Vietnamese name (what signs and
drivers use), the plain name, then a Latin-script, English or international name."""

ACCESS_KEYS: tuple[str, ...] = ("motor_vehicle", "vehicle", "access")
"""Access tags for a motor vehicle, most specific first; the first present wins."""

LIMIT_KEYS: Mapping[str, str] = {"maxweight": "maxweight_t", "maxwidth": "maxwidth_m",
                                 "maxheight": "maxheight_m", "duration": "duration_s"}

# oneway=* values; any other value present (reversible, alternating, ...) counts as two-way
_ONEWAY_VALUES: Mapping[str, int] = {"yes": 1, "true": 1, "1": 1, "-1": -1, "reverse": -1,
                                     "no": 0, "false": 0, "0": 0}
_IMPLIED_ONEWAY_HIGHWAY = frozenset({"motorway", "motorway_link"})
_IMPLIED_ONEWAY_JUNCTION = frozenset({"roundabout", "circular"})

# raw OSM tags kept per way, commonest first (the reader stops looking once all are found)
OSM_KEYS: tuple[str, ...] = (
    "highway", "name", "oneway", "surface", "ref", "service", "bridge", "access", "junction",
    "name:vi", "name:en", "tunnel", "maxweight", "motor_vehicle", "vehicle", "maxheight",
    "maxwidth", "ford", "int_name", "name:latin", "area", "route", "duration", "motorcar",
    "hgv",
)

OSM_SUFFIXES: tuple[str, ...] = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2")
LINE_SUFFIXES: tuple[str, ...] = (".gpkg", ".geojson", ".json", ".geojsonseq", ".parquet",
                                  ".geoparquet", ".fgb", ".shp")
ODBL_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"
AUTO_FILE_INDEX_BYTES = 1 << 30
"""OSM inputs bigger than this keep node locations in a file on disk, not in memory."""

DROP_REASONS: tuple[str, ...] = ("not_drivable", "area", "missing_locations", "degenerate")
"""Why a drivable way is not kept; ``degenerate``: fewer than two nodes, or no length."""

# what osmium raises on a file it cannot read: a truncated PBF, broken XML, a node
# coordinate that is no number ("wrong format for coordinate", an InvalidLocationError)
_OSMIUM_READ_ERRORS = (RuntimeError, ValueError, OSError, osmium.InvalidLocationError)


# --- errors ------------------------------------------------------------------------------

class UnsupportedFormatError(GeodataError, ValueError):
    """The input's file name does not name a format the importer reads."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        super().__init__(
            f"{path}: unknown road data format {_suffix(path) or '(no extension)'!r}. Give "
            f"an OpenStreetMap file ({', '.join(OSM_SUFFIXES)}) or a road-line file "
            f"({', '.join(LINE_SUFFIXES)}); rename the file if its extension is wrong.")


class OsmFileError(GeodataError, ValueError):
    """An OSM file osmium cannot read to the end (truncated download, broken XML, ...)."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = str(path)
        super().__init__(
            f"{path}: cannot read this OpenStreetMap file ({detail.strip().rstrip('.')}). The "
            f"file is truncated or corrupt: download it again and compare its size or "
            f"checksum with the mirror's, or export it again from the tool that wrote it.")


class RoadLinesError(GeodataError, ValueError):
    """A road-line file without readable geometry or road attributes."""


class NoDrivableRoadsError(GeodataError, ValueError):
    """An input (or the part of it inside the clip area) holds no road a vehicle can drive."""


# --- results -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadStats:
    """What a reader saw and dropped, in numbers a person can check."""

    source_format: str
    features_read: int
    dropped: Mapping[str, int]
    not_drivable_values: Mapping[str, int] = field(default_factory=dict)
    unparseable_limits: Mapping[str, int] = field(default_factory=dict)
    unparseable_examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    osm_timestamp: str = ""

    @property
    def is_osm_file(self) -> bool:
        return self.source_format.startswith("osm") or self.source_format == "pbf"

    def as_dict(self) -> dict:
        return {
            "source_format": self.source_format,
            "features_read": self.features_read,
            "dropped": dict(self.dropped),
            "not_drivable_values": dict(self.not_drivable_values),
            "unparseable_limits": dict(self.unparseable_limits),
            "unparseable_examples": {k: list(v) for k, v in self.unparseable_examples.items()},
            "osm_timestamp": self.osm_timestamp,
        }


@dataclass(frozen=True, eq=False)
class RoadLines:
    """A whole road table in the :data:`ROAD_COLUMNS` schema and how it was read."""

    roads: gpd.GeoDataFrame
    stats: ReadStats


class _Tally:
    """Counters a reader fills while it goes (private; frozen into :class:`ReadStats`)."""

    def __init__(self) -> None:
        self.read = 0
        self.dropped: Counter[str] = Counter()
        self.not_drivable: Counter[str] = Counter()
        self.unparseable: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}

    def bad_limit(self, key: str, values: Iterable[str]) -> None:
        values = list(values)
        self.unparseable[key] += len(values)
        seen = self.examples.setdefault(key, [])
        for v in values:
            if len(seen) >= 5:
                break
            if v not in seen:
                seen.append(v)

    def freeze(self, fmt: str, timestamp: str = "") -> ReadStats:
        dropped = dict(self.dropped)
        dropped["not_drivable"] = sum(self.not_drivable.values())
        return ReadStats(
            source_format=fmt, features_read=self.read,
            dropped={k: int(dropped.get(k, 0)) for k in DROP_REASONS},
            not_drivable_values={str(k): v for k, v in self.not_drivable.most_common()},
            unparseable_limits={k: self.unparseable.get(k, 0) for k in LIMIT_KEYS},
            unparseable_examples={k: tuple(v) for k, v in self.examples.items()},
            osm_timestamp=timestamp)


# --- tag interpretation (pure functions) -------------------------------------------------

_NUMBER = r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
_UNIT_VALUE = re.compile(rf"^{_NUMBER}\s*([a-z]*)\.?$")
_FEET_INCHES = re.compile(
    rf"^{_NUMBER}\s*(?:'|ft|feet|foot)\s*(?:{_NUMBER}\s*(?:\"|''|in|inch|inches))?$")
_INCHES = re.compile(rf"^{_NUMBER}\s*(?:\"|in|inch|inches)$")
_DECIMAL_COMMA = re.compile(r"^([0-9]+),([0-9]{1,2})(?![0-9])")
_NO_LIMIT = frozenset({"none", "no", "default", "below_default", "unsigned", "no_sign",
                       "no_indications", "unknown", "variable"})
"""Values that say "no numeric limit known" rather than being malformed."""
_WEIGHT_T = {"": 1.0, "t": 1.0, "tonne": 1.0, "tonnes": 1.0, "ton": 1.0, "tons": 1.0,
             "kg": 0.001, "st": 0.90718474, "lt": 1.0160469088, "lb": 0.00045359237,
             "lbs": 0.00045359237}
_LENGTH_M = {"": 1.0, "m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0,
             "cm": 0.01, "mm": 0.001, "ft": 0.3048, "feet": 0.3048}


def _number_text(text: str) -> str:
    """Lower case, trimmed, a decimal comma made a point ("3,5 t"; not "3,500 kg")."""
    return _DECIMAL_COMMA.sub(r"\1.\2", text.strip().lower())


@lru_cache(maxsize=4096)
def parse_weight_t(text: str) -> float | None:
    """An OSM ``maxweight`` in tonnes: ``"3.5"``, ``"3.5 t"``, ``"3500 kg"``, ``"7 st"`` (short
    tons), ``"lbs"``, ``"lt"``. NaN for words meaning "no numeric limit" (``none``,
    ``unsigned``, ...); None when the text cannot be read (callers count those)."""
    s = _number_text(text)
    if not s or s in _NO_LIMIT:
        return math.nan
    m = _UNIT_VALUE.match(s)
    if not m or m.group(2) not in _WEIGHT_T:
        return None
    value = float(m.group(1)) * _WEIGHT_T[m.group(2)]
    return value if value > 0 else None


@lru_cache(maxsize=4096)
def parse_length_m(text: str) -> float | None:
    """An OSM ``maxwidth``/``maxheight`` in metres: ``"2.5"``, ``"2.5 m"``, ``"250 cm"``,
    ``8'2"``, ``"8 ft"``. NaN for words meaning "no numeric limit" (``default``,
    ``below_default``, ...); None when the text cannot be read."""
    s = _number_text(text)
    if not s or s in _NO_LIMIT:
        return math.nan
    if (m := _UNIT_VALUE.match(s)) and m.group(2) in _LENGTH_M:
        value = float(m.group(1)) * _LENGTH_M[m.group(2)]
    elif m := _FEET_INCHES.match(s):
        value = float(m.group(1)) * 0.3048 + float(m.group(2) or 0.0) * 0.0254
    elif m := _INCHES.match(s):
        value = float(m.group(1)) * 0.0254
    else:
        return None
    return value if value > 0 else None


_CLOCK_DURATION = re.compile(r"^(\d{1,3}):([0-5]?\d)(?::([0-5]?\d))?$")
_ISO_DURATION = re.compile(r"^p(?:t)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?"
                           r"(?:(\d+(?:\.\d+)?)s)?$")


@lru_cache(maxsize=1024)
def parse_duration_s(text: str) -> float | None:
    """An OSM ``duration`` (of a ferry crossing) in seconds: ``"HH:MM"``, ``"HH:MM:SS"``, a
    bare number of minutes (``"30"``) or ISO 8601 (``"PT1H30M"``). None when unreadable, and
    when it is no time a crossing takes (zero, infinite, or over MAX_FERRY_DURATION_S)."""
    s = text.strip().lower()
    value: float
    if m := _CLOCK_DURATION.match(s):
        value = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)
    elif re.fullmatch(r"\d+(?:\.\d+)?", s):
        value = float(s) * 60
    elif (m := _ISO_DURATION.match(s)) and any(m.groups()):
        h, mi, sec = (float(g) if g else 0.0 for g in m.groups())
        value = h * 3600 + mi * 60 + sec
    else:
        return None
    return float(value) if 0 < value <= MAX_FERRY_DURATION_S else None


LIMIT_PARSERS: Mapping[str, Callable[[str], float | None]] = {
    "maxweight": parse_weight_t, "maxwidth": parse_length_m, "maxheight": parse_length_m,
    "duration": parse_duration_s}


def road_class(highway: str | None) -> tuple[str | None, int]:
    """The OpenMapTiles class and ramp flag of an OSM ``highway`` value (class None when a
    motor vehicle cannot drive it); ``"ferry"`` stands for a vehicle ferry."""
    if highway == FERRY_CLASS:
        return (FERRY_CLASS, 0)
    return HIGHWAY_CLASS.get(highway or "", (None, 0))


class _Tags(Protocol):
    def get(self, key: str, default: None = None, /) -> str | None: ...


def vehicle_ferry(tags: _Tags) -> bool:
    """Whether a ``route=ferry`` way carries motor vehicles (:data:`FERRY_VEHICLE_KEYS`)."""
    values = (tags.get(k) for k in FERRY_VEHICLE_KEYS)
    return any(isinstance(v, str) and v.strip().lower() in ("yes", "designated", "permissive")
               for v in values)


def oneway_of(oneway: str | None, *, highway: str | None = None,
              junction: str | None = None) -> int:
    """1 forward, -1 backward (``oneway=-1``/``reverse``), 0 both ways.

    Without a ``oneway`` tag, ``highway=motorway``/``motorway_link`` and
    ``junction=roundabout``/``circular`` imply ``oneway=yes``. Other values (``reversible``,
    ``alternating``) count as two-way.
    """
    if oneway is not None and oneway.strip():
        return _ONEWAY_VALUES.get(oneway.strip().lower(), 0)
    if highway in _IMPLIED_ONEWAY_HIGHWAY or junction in _IMPLIED_ONEWAY_JUNCTION:
        return 1
    return 0


# --- building road tables ----------------------------------------------------------------

def _present(series: pd.Series) -> pd.Series:
    """Object series with None wherever a value is missing or blank."""
    s = series.astype(object)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    blank = np.fromiter((not str(u).strip() for u in uniques), dtype=bool, count=len(uniques))
    ok = (codes >= 0) & ~np.append(blank, True)[codes]
    return s.where(ok, None)


def _column(raw: pd.DataFrame, key: str) -> pd.Series:
    if key in raw.columns:
        return _present(raw[key])
    return pd.Series([None] * len(raw), index=raw.index, dtype=object)


def _first_of(raw: pd.DataFrame, keys: Iterable[str]) -> pd.Series:
    out = pd.Series([None] * len(raw), index=raw.index, dtype=object)
    for key in reversed(tuple(keys)):
        col = _column(raw, key)
        out = col.where(col.notna(), out)
    return out


def _map_unique(series: pd.Series, fn: Callable[[str], object]) -> pd.Series:
    """``fn`` applied once per distinct non-null value (tag values repeat a lot); NaN where
    the series has no value, and ``fn``'s result kept as is (None stays None)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [fn(str(v)) for v in uniques]
    results[-1] = np.nan
    return pd.Series(results[codes], index=series.index, dtype=object)


def _limits(raw: pd.DataFrame, tally: _Tally) -> dict[str, pd.Series]:
    out = {}
    for key, column in LIMIT_KEYS.items():
        text = _column(raw, key)
        parsed = _map_unique(text, LIMIT_PARSERS[key])
        bad = (text.notna() & parsed.map(lambda v: v is None)).to_numpy(dtype=bool)
        if bad.any():
            tally.bad_limit(key, (str(v) for v in text[bad]))
        out[column] = pd.to_numeric(parsed.where(~bad, np.nan), errors="coerce").astype(float)
    return out


def _tags_to_roads(raw: pd.DataFrame, geometry: np.ndarray, way_ids: object,
                   tally: _Tally) -> gpd.GeoDataFrame:
    """Raw OSM tag columns (one row per drivable way) into the road schema."""
    raw = raw.reset_index(drop=True)
    highway = _column(raw, "highway")
    cls_ramp = _map_unique(highway, road_class)
    limits = _limits(raw, tally)
    # a crossing time only means something on a ferry
    limits["duration_s"] = limits["duration_s"].where(highway == FERRY_CLASS, np.nan)
    oneway_raw, junction = _column(raw, "oneway"), _column(raw, "junction")
    explicit = _map_unique(oneway_raw, oneway_of)
    implied = (highway.isin(_IMPLIED_ONEWAY_HIGHWAY) | junction.isin(_IMPLIED_ONEWAY_JUNCTION))
    oneway = explicit.where(oneway_raw.notna(), implied.astype(int))
    brunnel = pd.Series([None] * len(raw), dtype=object)
    for key, kind in (("ford", "ford"), ("tunnel", "tunnel"), ("bridge", "bridge")):
        col = _column(raw, key)
        brunnel = brunnel.mask(col.notna() & (col != "no"), kind)
    data: dict[str, object] = {
        "omt_class": cls_ramp.map(lambda cr: cr[0], na_action="ignore"),
        "omt_subclass": highway,
        "name": _first_of(raw, NAME_KEYS),
        "ref": _column(raw, "ref"),
        "oneway": oneway,
        "brunnel": brunnel,
        "service": _column(raw, "service"),
        "ramp": cls_ramp.map(lambda cr: cr[1], na_action="ignore"),
        "surface": _column(raw, "surface"),
        "access": _first_of(raw, ACCESS_KEYS),
        **limits,
        "osm_way_id": way_ids,
    }
    return _assemble(data, geometry)


def _assemble(data: Mapping[str, object], geometry: np.ndarray) -> gpd.GeoDataFrame:
    """The schema columns in order, each with its dtype; absent columns are empty."""
    n = len(geometry)
    cols: dict[str, object] = {}
    for name in ROAD_COLUMNS[1:]:
        values = data.get(name)
        if name in TEXT_COLUMNS:
            s = (pd.Series(values, dtype=object).reset_index(drop=True) if values is not None
                 else pd.Series([None] * n, dtype=object))
            cols[name] = _present(s)
        elif name in INT8_COLUMNS:
            cols[name] = (pd.to_numeric(pd.Series(values).reset_index(drop=True),
                                        errors="coerce").fillna(0).astype(np.int8)
                          if values is not None else np.zeros(n, dtype=np.int8))
        elif name in FLOAT_COLUMNS:
            cols[name] = (pd.Series(values).reset_index(drop=True).astype(float)
                          if values is not None else np.full(n, np.nan))
        else:  # osm_way_id
            cols[name] = (pd.array(np.asarray(values), dtype="Int64") if values is not None
                          else pd.array([pd.NA] * n, dtype="Int64"))
    frame = pd.DataFrame(cols, index=pd.RangeIndex(n))
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326").values,
                           crs="EPSG:4326")
    return gdf[list(ROAD_COLUMNS)]


def empty_roads() -> gpd.GeoDataFrame:
    """A road table with no rows and the exact :data:`ROAD_COLUMNS` dtypes."""
    return _assemble({}, np.zeros(0, dtype=object))


# --- file kinds --------------------------------------------------------------------------

def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(OSM_SUFFIXES + LINE_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def input_kind(path: str | Path) -> str:
    """``"osm"`` or ``"lines"``, from the file name; :class:`UnsupportedFormatError` else."""
    suffix = _suffix(Path(path))
    if suffix in OSM_SUFFIXES:
        return "osm"
    if suffix in LINE_SUFFIXES:
        return "lines"
    raise UnsupportedFormatError(Path(path))


def check_input(path: str | Path) -> str:
    """Fail early on an unknown extension or a missing file; returns :func:`input_kind`."""
    path = Path(path)
    kind = input_kind(path)
    if not path.is_file():
        raise DataFileMissingError(
            path, what="road data file",
            fix="Check the path and file name: an OpenStreetMap extract such as "
                "vietnam-latest.osm.pbf, or a GeoPackage/GeoJSON/Parquet of road lines.")
    return kind


# --- the reader --------------------------------------------------------------------------

class RoadReader:
    """Chunks of road rows from one input file; :attr:`stats` is final once they are all read.

    Iterating yields GeoDataFrames in the :data:`ROAD_COLUMNS` schema of at most
    ``chunk_rows`` rows; at the end it raises :class:`NoDrivableRoadsError` if no row came
    out, and :class:`OsmFileError` / :class:`RoadLinesError` if the file cannot be read to
    its end. ``location_index`` is an osmium index type (``"flex_mem"``,
    ``"sparse_file_array"``, ``"dense_file_array"``, ...) or ``"auto"``: in memory up to
    :data:`AUTO_FILE_INDEX_BYTES` of input, else a sparse file array in a temporary folder
    (under ``index_dir`` if given, else the system's temporary folder).
    """

    def __init__(self, path: str | Path, *, location_index: str = "auto",
                 chunk_rows: int = 25_000, index_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.kind = check_input(self.path)
        self.format = _suffix(self.path).lstrip(".")
        self.location_index = location_index
        self.index_dir = index_dir
        self.chunk_rows = int(chunk_rows)
        self._stats: ReadStats | None = None

    @property
    def osm_derived(self) -> bool:
        """Whether the roads are OpenStreetMap data (ODbL): always for OSM files, and for
        line files too, since the importer reads only OSM tags or the OpenMapTiles schema
        (built from OSM); a user who imports other data corrects the attribution."""
        return True

    @property
    def stats(self) -> ReadStats:
        if self._stats is None:
            raise RuntimeError("RoadReader.stats is known only after all chunks were read")
        return self._stats

    def __iter__(self) -> Iterator[gpd.GeoDataFrame]:
        chunks = self._osm_chunks() if self.kind == "osm" else self._line_chunks()
        rows = 0
        for chunk in chunks:
            rows += len(chunk)
            if len(chunk):
                yield chunk
        if rows == 0:
            raise _no_roads(self.path, self.stats)

    # -- OSM files ------------------------------------------------------------------------

    def _osm_chunks(self) -> Iterator[gpd.GeoDataFrame]:
        with tempfile.TemporaryDirectory(prefix="planner-osm-locations-",
                                         dir=self.index_dir) as tmp:
            yield from self._stream_osm(_location_index(self.path, self.location_index,
                                                        Path(tmp)))

    def _osmium_errors(self, source: osmium.FileProcessor) -> Iterator[osmium.osm.Way]:
        """``source``'s objects; osmium's read errors (truncated PBF, broken XML, a
        coordinate that is no number, ...) become :class:`OsmFileError`. Errors raised by the
        caller's loop are not caught."""
        try:
            yield from source  # type: ignore[misc]  # the EntityFilter passes ways only
        except _OSMIUM_READ_ERRORS as exc:
            raise OsmFileError(self.path, str(exc) or type(exc).__name__) from None

    def _stream_osm(self, index: str) -> Iterator[gpd.GeoDataFrame]:
        processor = (osmium.FileProcessor(str(self.path), osmium.osm.NODE | osmium.osm.WAY)
                     .with_locations(index)
                     .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                     .with_filter(osmium.filter.KeyFilter("highway", "route")))
        try:
            header = processor.header
            timestamp = header.get("osmosis_replication_timestamp", "") or header.get(
                "timestamp", "")
        except _OSMIUM_READ_ERRORS as exc:
            raise OsmFileError(self.path, str(exc) or type(exc).__name__) from None
        factory = osmium.geom.WKBFactory()
        all_nodes = osmium.geom.use_nodes.ALL
        invalid_location = osmium.InvalidLocationError
        drivable = HIGHWAY_CLASS
        keys = OSM_KEYS[1:]
        area_at = keys.index("area")
        nones: tuple[str | None, ...] = (None,) * len(keys)
        tally = _Tally()
        rows: list[tuple] = []
        wkbs: list[bytes] = []
        ids: list[int] = []

        def chunk() -> gpd.GeoDataFrame:
            geoms = shapely.from_wkb(np.asarray(wkbs, dtype=object))
            # a way whose nodes all sit at one place has no length: degenerate, like a way
            # of one node (osmium's coordinates are whole multiples of 1e-7 degree, the
            # graph builder's quantum, so a positive length is at least one step there)
            long = shapely.length(geoms) > 0
            tally.dropped["degenerate"] += int((~long).sum())
            raw = pd.DataFrame(rows, columns=list(OSM_KEYS), dtype=object)[long]
            out = _tags_to_roads(raw, geoms[long], np.asarray(ids, dtype=np.int64)[long],
                                 tally)
            rows.clear()
            wkbs.clear()
            ids.clear()
            return out

        for way in self._osmium_errors(processor):
            tags = way.tags
            highway = tags.get("highway")
            if highway is None:  # a route=* way: only vehicle ferries are roads to us
                if tags.get("route") != FERRY_CLASS:
                    continue
                tally.read += 1
                if not vehicle_ferry(tags):
                    tally.not_drivable["ferry (no motor vehicles)"] += 1
                    continue
                highway = FERRY_CLASS
            else:
                tally.read += 1
                if highway not in drivable:
                    tally.not_drivable[str(highway)] += 1
                    continue
            try:
                wkb = factory.create_linestring(way, use_nodes=all_nodes)
            except invalid_location:
                tally.dropped["missing_locations"] += 1
                continue
            except RuntimeError:  # fewer than two nodes (zero length: see chunk())
                tally.dropped["degenerate"] += 1
                continue
            left = len(tags) - (highway != FERRY_CLASS)  # tags besides highway
            values: tuple[str | None, ...]
            if left == 0:
                values = nones
            else:  # look tags up until all the way's tags are found
                found: list[str | None] = [None] * len(keys)
                for i, key in enumerate(keys):
                    value = tags.get(key)
                    if value is not None:
                        found[i] = value
                        left -= 1
                        if left == 0:
                            break
                values = tuple(found)
            if values[area_at] == "yes":  # area=yes: a square or parking lot, not a road
                tally.dropped["area"] += 1
                continue
            rows.append((highway, *values))
            wkbs.append(bytes.fromhex(wkb))
            ids.append(way.id)
            if len(ids) >= self.chunk_rows:
                log.info("%s: %d highway ways read", self.path.name, tally.read)
                yield chunk()
        if ids:
            yield chunk()
        self._stats = tally.freeze(self.format, str(timestamp or ""))

    # -- road-line files ------------------------------------------------------------------

    def _line_chunks(self) -> Iterator[gpd.GeoDataFrame]:
        tally = _Tally()
        gdf = _read_lines_file(self.path)
        tally.read = len(gdf)
        gdf = to_lonlat(gdf, self.path)
        gdf = gdf.rename(columns={k: v for k, v in _OMT_ALIASES.items()
                                  if k in gdf.columns and v not in gdf.columns})
        if "omt_class" not in gdf.columns and "highway" not in gdf.columns:
            raise RoadLinesError(
                f"{self.path}: no road class column (columns: "
                f"{quoted_list(gdf.columns)}). The importer needs OpenMapTiles "
                f"attributes (omt_class or class) or OSM tags (highway); export the roads "
                f"with one of them.")
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        gdf = gdf.set_geometry(shapely.force_2d(gdf.geometry.values))
        gdf = gdf.explode(index_parts=False, ignore_index=True)
        is_line = (gdf.geometry.geom_type == "LineString").to_numpy()
        tally.dropped["degenerate"] += int((~is_line).sum())
        gdf = gdf[is_line].reset_index(drop=True)
        if "omt_class" in gdf.columns:
            cls = _present(gdf["omt_class"])
            keep = cls.isin(DRIVABLE_CLASSES).to_numpy()
            tally.not_drivable.update(str(v) for v in cls[~keep])
            gdf = gdf[keep].reset_index(drop=True)
            convert = _omt_to_roads
        else:
            raw = _tag_table(gdf)
            ferry = (raw["highway"].isna() & (raw["route"] == FERRY_CLASS)).to_numpy()
            carries = raw.apply(vehicle_ferry, axis=1).to_numpy(dtype=bool) if ferry.any() \
                else np.zeros(len(raw), dtype=bool)
            if (ferry & ~carries).any():
                tally.not_drivable["ferry (no motor vehicles)"] += int((ferry & ~carries).sum())
            raw.loc[ferry & carries, "highway"] = FERRY_CLASS
            gdf = gdf.assign(highway=raw["highway"].to_numpy())
            ferry_skipped = ferry & ~carries
            drivable = (raw["highway"].isin([*HIGHWAY_CLASS, FERRY_CLASS]).to_numpy()
                        & ~ferry_skipped)
            area = (raw["area"] == "yes").to_numpy() & drivable
            tally.not_drivable.update(str(v) for v in raw["highway"][~drivable & ~ferry_skipped])
            tally.dropped["area"] += int(area.sum())
            gdf = gdf[drivable & ~area].reset_index(drop=True)
            convert = _osm_lines_to_roads
        for start in range(0, len(gdf), self.chunk_rows):
            yield convert(gdf.iloc[start:start + self.chunk_rows], tally)
        self._stats = tally.freeze(self.format)


def read_road_file(path: str | Path, *, location_index: str = "auto") -> RoadLines:
    """The whole road table of an OSM file or a road-line file (see :class:`RoadReader`)."""
    reader = RoadReader(path, location_index=location_index)
    chunks = list(reader)
    roads = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    return RoadLines(roads=gpd.GeoDataFrame(roads, geometry="geometry", crs="EPSG:4326"),
                     stats=reader.stats)


def _location_index(path: Path, requested: str, tmp: Path) -> str:
    if requested == "auto":
        requested = ("sparse_file_array" if path.stat().st_size > AUTO_FILE_INDEX_BYTES
                     else "flex_mem")
    if requested in ("sparse_file_array", "dense_file_array"):
        return f"{requested},{tmp / 'node-locations.bin'}"
    return requested


def _no_roads(path: Path, stats: ReadStats) -> NoDrivableRoadsError:
    what = "highway ways" if stats.is_osm_file else "lines"
    why = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in stats.dropped.items()
                    if n) or "the file holds none"
    hint = ""
    if stats.dropped.get("missing_locations"):
        hint = (" Ways whose nodes are not in the file were dropped: the extract may be "
                "truncated or cut without complete ways (`osmium extract --strategy "
                "complete_ways`), or list ways before their nodes (`osmium sort`).")
    return NoDrivableRoadsError(
        f"{path}: no drivable road among {stats.features_read} {what} ({why}). Give a file "
        f"with motor roads (OSM highway={'/'.join(list(HIGHWAY_CLASS)[:3])}/... or "
        f"OpenMapTiles classes {', '.join(DRIVABLE_CLASSES)}).{hint}")


# --- road-line files (geopandas / pyogrio) -----------------------------------------------

_HSTORE_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_OMT_ALIASES = {"class": "omt_class", "subclass": "omt_subclass"}
_WAY_ID_COLUMNS = ("osm_way_id", "osm_id", "@id", "id")


def _read_lines_file(path: Path) -> gpd.GeoDataFrame:
    suffix = _suffix(path)
    try:
        if suffix in (".parquet", ".geoparquet"):
            return _read_parquet_lines(path)
        return gpd.read_file(path, engine="pyogrio", layer=_line_layer(path))
    except GeodataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyogrio/arrow raise many types on bad files
        raise RoadLinesError(
            f"{path}: cannot read this road-line file ({type(exc).__name__}: {exc}). Check "
            f"that it is a complete {suffix.lstrip('.')} file; export it again if "
            f"needed.") from None


def _read_parquet_lines(path: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(path)
    except ValueError:  # plain Parquet: look for a WKB column, assume lon/lat
        frame = pd.read_parquet(path)
        geom = next((c for c in ("geometry", "geom", "wkb_geometry") if c in frame.columns),
                    None)
        if geom is None:
            raise RoadLinesError(
                f"{path}: no geometry (neither GeoParquet metadata nor a WKB column named "
                f"geometry/geom). Write it with GeoPandas `to_parquet`.") from None
        return gpd.GeoDataFrame(frame.drop(columns=[geom]),
                                geometry=shapely.from_wkb(frame[geom].to_numpy()),
                                crs="EPSG:4326")


def _line_layer(path: Path) -> str | None:
    import pyogrio

    layers = pyogrio.list_layers(path)
    if len(layers) <= 1:
        return None
    lines = [str(name) for name, gtype in layers if gtype and "LineString" in str(gtype)]
    if len(lines) == 1:
        return lines[0]
    for preferred in ("roads", "lines", "transportation"):
        if preferred in lines:
            return preferred
    raise RoadLinesError(
        f"{path}: several layers could hold the roads "
        f"({', '.join(lines or [str(n) for n, _ in layers])}); keep only the road layer "
        f"(e.g. `ogr2ogr roads.gpkg {path.name} LAYER`) or name it 'roads'.")


def to_lonlat(gdf: gpd.GeoDataFrame, path: Path,
              error: type[GeodataError] = RoadLinesError) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:4326; a file without a CRS is accepted only when its coordinates are
    longitude/latitude, else ``error`` names the file."""
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds if len(gdf) else (0.0, 0.0, 0.0, 0.0)
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise error(f"{path}: no coordinate reference system, and coordinates that are "
                        f"not longitude/latitude; save the file with its CRS.")
        return gdf.set_crs("EPSG:4326")
    return gdf if gdf.crs.equals("EPSG:4326") else gdf.to_crs("EPSG:4326")


def _tag_column(frame: pd.DataFrame, key: str) -> str | None:
    for cand in (key, key.replace(":", "_")):
        if cand in frame.columns:
            return cand
    return None


def _as_tag_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # oneway 1.0 -> "1"
    text = str(value)
    return text if text.strip() else None


def _tag_table(gdf: pd.DataFrame) -> pd.DataFrame:
    """OSM tag columns of a line file (``name:vi`` or ``name_vi``, plus GDAL's
    ``other_tags`` hstore) as strings or None."""
    out = pd.DataFrame(index=gdf.index)
    extra = (gdf["other_tags"].map(_parse_hstore, na_action="ignore")
             if "other_tags" in gdf.columns else None)
    for key in OSM_KEYS:
        col = _tag_column(gdf, key)
        values = (gdf[col].astype(object).map(_as_tag_text) if col
                  else pd.Series([None] * len(gdf), index=gdf.index, dtype=object))
        if extra is not None:
            more = extra.map(lambda d, k=key: d.get(k) if isinstance(d, dict) else None)
            values = values.where(values.notna(), more)
        out[key] = values.astype(object)
    return out


def _parse_hstore(text: str) -> dict[str, str]:
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _HSTORE_PAIR.findall(text)}


def _way_ids(frame: pd.DataFrame) -> pd.Series:
    for col in _WAY_ID_COLUMNS:
        if col in frame.columns:
            text = frame[col].astype(str).str.extract(r"^(?:way/|w)?(\d+)(?:\.0)?$")[0]
            return pd.to_numeric(text, errors="coerce").astype("Int64").reset_index(drop=True)
    return pd.Series(pd.array([pd.NA] * len(frame), dtype="Int64"))


def _osm_lines_to_roads(gdf: gpd.GeoDataFrame, tally: _Tally) -> gpd.GeoDataFrame:
    """Lines with OSM tag columns (``highway``, ...) into the road schema."""
    return _tags_to_roads(_tag_table(gdf), gdf.geometry.values, _way_ids(gdf), tally)


def _omt_to_roads(gdf: gpd.GeoDataFrame, tally: _Tally) -> gpd.GeoDataFrame:
    """Tile-derived lines (OpenMapTiles ``transportation`` attributes) into the road schema.

    The OpenMapTiles columns are taken as they are; OSM-style columns (``surface``,
    ``access``, ``maxweight``, ``name:vi``, ...) are used where the file has them.
    """
    gdf = gdf.reset_index(drop=True)
    raw = _tag_table(gdf)

    def text(col: str) -> pd.Series:
        name = _tag_column(gdf, col)
        if name is None:
            return pd.Series([None] * len(gdf), dtype=object)
        return _present(gdf[name])

    def sign(col: str) -> pd.Series:
        if col not in gdf.columns:
            return pd.Series(np.zeros(len(gdf), dtype=np.int8))
        return np.sign(pd.to_numeric(gdf[col], errors="coerce").fillna(0)).astype(np.int8)

    brunnel = text("brunnel")
    data: dict[str, object] = {
        "omt_class": text("omt_class"),
        "omt_subclass": text("omt_subclass"),
        "name": _first_of(raw, NAME_KEYS),
        "ref": text("ref"),
        "oneway": sign("oneway"),
        "brunnel": brunnel.where(brunnel.isin(["bridge", "tunnel", "ford"]), None),
        "service": text("service"),
        "ramp": sign("ramp"),
        "surface": text("surface"),
        "access": _first_of(raw, ACCESS_KEYS),
        **_limits(raw, tally),
        "osm_way_id": _way_ids(gdf),
    }
    for column in LIMIT_KEYS.values():  # already in the schema's units
        if column in gdf.columns:
            data[column] = pd.to_numeric(gdf[column], errors="coerce")
    return _assemble(data, gdf.geometry.values)
