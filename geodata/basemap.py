"""An offline basemap drawn from a dataset: province outline and main roads as GeoJSON.

Simplified and rounded so a self-contained map page stays small; no tiles, no network.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from geodata.datasets import load_dataset

BASEMAP_CLASSES: tuple[str, ...] = ("trunk", "primary", "secondary", "tertiary")


def _rounded(geoms: Any, decimals: int) -> Any:
    coords = shapely.get_coordinates(geoms)
    return shapely.set_coordinates(geoms.copy(), np.round(coords, decimals))


def basemap_layers(network: str, *, classes: tuple[str, ...] = BASEMAP_CLASSES,
                   tolerance_deg: float = 0.0002, decimals: int = 5
                   ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """``(outline_features, {road_class: road_features})`` for dataset ``network``; road
    features carry an HTML-escaped ``label`` (ref and name)."""
    dataset = load_dataset(network)
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
    return outline_features, by_class
