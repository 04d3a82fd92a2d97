"""An offline basemap drawn from a dataset: province outline and main roads as GeoJSON.

Simplified and rounded so a self-contained map page stays small; no tiles, no network.
Drawn once per process and dataset version (:func:`basemap_layers` reads the road file and
simplifies every road: most of a second for Hà Giang, which every map page paid).
"""

from __future__ import annotations

import functools
import html
import json
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from geodata.datasets import load_dataset

BASEMAP_CLASSES: tuple[str, ...] = ("trunk", "primary", "secondary", "tertiary")
BASEMAP_FILES = ("boundary.parquet", "roads.parquet")  # what the basemap is drawn from


def _rounded(geoms: Any, decimals: int) -> Any:
    coords = shapely.get_coordinates(geoms)
    return shapely.set_coordinates(geoms.copy(), np.round(coords, decimals))


def basemap_layers(network: str, *, classes: tuple[str, ...] = BASEMAP_CLASSES,
                   tolerance_deg: float = 0.0002, decimals: int = 5
                   ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """``(outline_features, {road_class: road_features})`` for dataset ``network``; road
    features carry an HTML-escaped ``label`` (ref and name). The caller owns what it gets:
    a fresh copy of the layers drawn for this version of the dataset's files."""
    dataset = load_dataset(network)
    files = tuple((name, st.st_mtime_ns, st.st_size) for name in BASEMAP_FILES
                  for st in [dataset.file(name).stat()])
    outline, roads = json.loads(_drawn(str(dataset.path), files, tuple(classes),
                                       tolerance_deg, decimals))
    return outline, roads


# basemaps of this many dataset versions and settings are kept (a few kB to a few MB each)
_DRAWN_KEPT = 8


@functools.lru_cache(maxsize=_DRAWN_KEPT)
def _drawn(path: str, files: tuple[tuple[str, int, int], ...], classes: tuple[str, ...],
           tolerance_deg: float, decimals: int) -> str:
    """The layers of the dataset in folder ``path`` as JSON; ``files`` (name, modification
    time, size of :data:`BASEMAP_FILES`) tells a re-imported dataset from the one cached."""
    dataset = load_dataset(path)
    outline = _rounded(dataset.boundary().geometry.simplify(tolerance_deg).values, decimals)
    outline_features = [{"type": "Feature", "geometry": mapping(g), "properties": {}}
                        for g in outline if g is not None and not g.is_empty]
    roads = dataset.roads()
    roads = roads[roads["omt_class"].isin(classes)]
    geoms = _rounded(roads.geometry.simplify(tolerance_deg).values, decimals)
    by_class: dict[str, list[dict[str, Any]]] = {c: [] for c in classes}
    for geom, cls, name, ref in zip(geoms, roads["omt_class"], roads["name"], roads["ref"],
                                    strict=True):
        if geom is None or geom.is_empty:
            continue
        label = " ".join(str(x) for x in (ref, name) if isinstance(x, str) and x.strip())
        by_class[str(cls)].append({"type": "Feature", "geometry": mapping(geom),
                                   "properties": {"label": html.escape(label)}})
    return json.dumps([outline_features, by_class])
