"""Helpers for the geodata tests: tiny road networks built in code near lon 105.0, lat 22.8.

At lat 22.8, 0.001 degree of latitude is about 110.8 m and 0.001 degree of longitude about
102.6 m. Every fixture is small enough to check by hand.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cache

import geopandas as gpd
import numpy as np
import pyproj
from shapely.geometry import LineString

from geodata.network import RoadGraph, build_road_graph
from geodata.profiles import VehicleProfile, load_profiles
from geodata.routing import ProfileGraph, profile_graph

LON0, LAT0 = 105.0, 22.8
UTM = "EPSG:32648"  # the UTM zone of lon 105 (what geodata.network.metric_crs_for picks)
GEOD = pyproj.Geod(ellps="WGS84")
_TO_UTM = pyproj.Transformer.from_crs("EPSG:4326", UTM, always_xy=True)

M_PER_DEG_LAT = 110_800.0  # rough, only for choosing offsets in metres


def pt(dx: float, dy: float) -> tuple[float, float]:
    """A point ``dx`` thousandths of a degree east and ``dy`` north of (LON0, LAT0)."""
    return (LON0 + dx * 1e-3, LAT0 + dy * 1e-3)


def road(coords, omt_class="minor", oneway=0, name="", ref="", brunnel="") -> dict:
    return {"coords": [tuple(map(float, c)) for c in coords], "omt_class": omt_class,
            "oneway": oneway, "name": name, "ref": ref, "brunnel": brunnel}


def lines_gdf(roads: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "omt_class": [r["omt_class"] for r in roads],
            "oneway": [r["oneway"] for r in roads],
            "name": [r["name"] for r in roads],
            "ref": [r["ref"] for r in roads],
            "brunnel": [r["brunnel"] for r in roads],
        },
        geometry=[LineString(r["coords"]) for r in roads],
        crs="EPSG:4326",
    )


def build(roads: list[dict], **kw) -> RoadGraph:
    return build_road_graph(lines_gdf(roads), **kw)


@cache
def _profiles() -> dict[str, VehicleProfile]:
    return load_profiles()


def profile(name: str, *, winding: bool = False) -> VehicleProfile:
    """A shipped profile; by default without the winding slow-down, so hand-computed times
    are length / class speed (tests of the speed model pass ``winding=True``)."""
    p = _profiles()[name]
    if winding:
        return p
    return dataclasses.replace(p, model=dataclasses.replace(p.model, curvature_k=0.0))


def pgraph(graph: RoadGraph, name: str = "van") -> ProfileGraph:
    return profile_graph(graph, profile(name))


def node_at(graph: RoadGraph, lonlat: tuple[float, float], tol_deg: float = 1e-9) -> int:
    """The junction id at exactly these coordinates (raises if none)."""
    d = np.hypot(graph.node_lon - lonlat[0], graph.node_lat - lonlat[1])
    i = int(np.argmin(d))
    if d[i] > tol_deg:
        raise AssertionError(f"no junction at {lonlat}; nearest is {d[i]:.2e} degree away")
    return i


def has_node_at(graph: RoadGraph, lonlat: tuple[float, float], tol_deg: float = 1e-9) -> bool:
    return bool(np.min(np.hypot(graph.node_lon - lonlat[0], graph.node_lat - lonlat[1])) <= tol_deg)


def utm_length(coords) -> float:
    """Length in metres of a lon/lat polyline measured in UTM 48N (what the builder uses)."""
    c = np.asarray(coords, dtype=float)
    x, y = _TO_UTM.transform(c[:, 0], c[:, 1])
    return float(np.hypot(np.diff(x), np.diff(y)).sum())


def geod_length(coords) -> float:
    c = np.asarray(coords, dtype=float)
    return float(GEOD.line_length(c[:, 0], c[:, 1]))


def seconds(length_m: float, kmh: float) -> float:
    return length_m / (kmh / 3.6)


def approx_rel(a: float, b: float, rel: float) -> bool:
    return math.isclose(a, b, rel_tol=rel)
