"""A dataset's road graph and travel-time matrices, built once and cached on disk.

The one home of the cache-key recipes: a graph is keyed by the graph format and the digests
of the dataset's files and of its elevation grid (when it has one); a matrix by the graph,
the vehicle profile, the snapped nodes and the road conditions. Everything that needs a
dataset's graph (planning, calibration, commune rankings) goes through
:func:`load_road_graph`, so they share one cache entry.
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np

from geodata.cache import cached, digest_of
from geodata.datasets import Dataset
from geodata.elevation import ELEVATION_FILE, read_ascii_grid, with_climbs
from geodata.network import GRAPH_FORMAT_VERSION, RoadGraph, build_road_graph
from geodata.routing import Matrices, ProfileGraph, travel_matrices

log = logging.getLogger(__name__)


def load_road_graph(dataset: Dataset) -> tuple[RoadGraph, bool]:
    """The dataset's junction graph (from the cache when its data has not changed) and
    whether it came from the cache; with per-segment climb and descent when the dataset
    folder holds an elevation grid."""
    elevation = dataset.file(ELEVATION_FILE)
    elev_digest = (hashlib.sha256(elevation.read_bytes()).hexdigest()[:16]
                   if elevation.is_file() else "")
    key = digest_of("graph", GRAPH_FORMAT_VERSION, dataset.digest, elev_digest)

    def build() -> RoadGraph:
        graph = build_road_graph(dataset.roads(), source_digest=dataset.digest + elev_digest)
        if elevation.is_file():
            graph, covered = with_climbs(graph, read_ascii_grid(elevation))
            log.info("elevation %s covers %.0f%% of road vertices", elevation, covered * 100)
        return graph

    return cached("graphs", key, build)


def cached_matrices(pg: ProfileGraph, nodes: np.ndarray, *, conditions: str = "open"
                    ) -> tuple[Matrices, bool]:
    """Travel matrices between ``nodes`` of ``pg`` (from the cache when computed before)
    and whether they came from the cache; ``conditions`` is the digest of the road
    conditions ``pg`` was made under (``"open"``: none)."""
    key = digest_of("matrix", pg.graph.source_digest, GRAPH_FORMAT_VERSION, pg.profile.digest,
                    nodes, conditions)
    return cached("matrices", key, lambda: travel_matrices(pg, nodes))


def cut_off(open_roads: Matrices, now: Matrices, n_sources: int) -> list[int]:
    """Points (indices past the first ``n_sources``) that some source reached, and could
    come back from, on ``open_roads`` but no source does on ``now`` (after closures)."""
    def linked(mat: Matrices) -> np.ndarray:
        t = mat.time_s
        return np.isfinite(t[:n_sources]).any(0) & np.isfinite(t[:, :n_sources]).any(1)

    lost = linked(open_roads) & ~linked(now)
    return [i for i in np.flatnonzero(lost).tolist() if i >= n_sources]


__all__ = ["cached_matrices", "cut_off", "load_road_graph"]
