"""Per-profile routable graphs, snapping, travel-time/distance matrices and leg geometry.

One Dijkstra search per source on travel time (SciPy's compiled routine over a CSR matrix)
gives both the time and, by walking the shortest-path tree, the length of the fastest path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geodata.errors import UnreachableError
from geodata.network import RoadGraph
from geodata.profiles import VehicleProfile

_MIN_ARC_S = 0.01  # every arc takes some time, so shortest-path trees are well ordered


@dataclass(frozen=True)
class ComponentReport:
    profile: str
    usable_km: float
    kept_km: float
    dropped_km: float
    dropped_parts: int
    kept_nodes: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class ProfileGraph:
    """The directed arcs a profile may use, sorted by (from, to), with one arc per pair."""

    graph: RoadGraph
    profile: VehicleProfile
    arc_from: np.ndarray
    arc_to: np.ndarray
    arc_time_s: np.ndarray
    arc_length_m: np.ndarray
    arc_edge: np.ndarray
    arc_forward: np.ndarray
    in_main: np.ndarray
    report: ComponentReport

    @property
    def csr_time(self) -> csr_matrix:
        n = self.graph.n_nodes
        return csr_matrix((self.arc_time_s, (self.arc_from, self.arc_to)), shape=(n, n))

    def arc_index(self, frm: np.ndarray, to: np.ndarray) -> np.ndarray:
        n = self.graph.n_nodes
        keys = self.arc_from * n + self.arc_to
        idx = np.searchsorted(keys, np.asarray(frm, dtype=np.int64) * n
                              + np.asarray(to, dtype=np.int64))
        return np.minimum(idx, len(keys) - 1)


def profile_graph(graph: RoadGraph, profile: VehicleProfile) -> ProfileGraph:
    """Arcs usable by ``profile`` with their times; nodes of its largest strongly connected
    component are flagged ``in_main`` and the rest is reported as dropped."""
    speed_ms = np.array([profile.speeds_kmh.get(c, np.nan) / 3.6 for c in graph.classes])
    seg_time = graph.seg_length_m / speed_ms[graph.seg_class]
    edge_time = np.add.reduceat(seg_time[graph.edge_seg], graph.edge_seg_ptr[:-1])
    usable = np.isfinite(edge_time)
    edge_time = np.maximum(edge_time, _MIN_ARC_S)
    e = np.arange(graph.n_edges)
    fwd = usable & (graph.edge_dir >= 0)
    bwd = usable & (graph.edge_dir <= 0)
    frm = np.concatenate([graph.edge_u[fwd], graph.edge_v[bwd]])
    to = np.concatenate([graph.edge_v[fwd], graph.edge_u[bwd]])
    t = np.concatenate([edge_time[fwd], edge_time[bwd]])
    length = np.concatenate([graph.edge_length_m[fwd], graph.edge_length_m[bwd]])
    edge = np.concatenate([e[fwd], e[bwd]])
    forward = np.concatenate([np.ones(fwd.sum(), bool), np.zeros(bwd.sum(), bool)])
    order = np.lexsort((t, to, frm))
    frm, to, t, length, edge, forward = (a[order] for a in (frm, to, t, length, edge, forward))
    first = np.ones(len(frm), dtype=bool)
    first[1:] = (frm[1:] != frm[:-1]) | (to[1:] != to[:-1])
    frm, to, t, length, edge, forward = (a[first] for a in (frm, to, t, length, edge, forward))

    n = graph.n_nodes
    mat = csr_matrix((t, (frm, to)), shape=(n, n))
    touched = np.zeros(n, dtype=bool)
    touched[frm] = True
    touched[to] = True
    _, label = connected_components(mat, directed=True, connection="strong")
    sizes = np.bincount(label[touched]) if touched.any() else np.zeros(1, int)
    main = int(np.argmax(sizes))
    in_main = (label == main) & touched
    kept_edges = usable & in_main[graph.edge_u] & in_main[graph.edge_v]
    usable_km = float(graph.edge_length_m[usable].sum() / 1000)
    kept_km = float(graph.edge_length_m[kept_edges].sum() / 1000)
    dropped_labels = np.unique(label[touched & ~in_main])
    report = ComponentReport(profile=profile.name, usable_km=round(usable_km, 1),
                             kept_km=round(kept_km, 1), dropped_km=round(usable_km - kept_km, 1),
                             dropped_parts=int(len(dropped_labels)),
                             kept_nodes=int(in_main.sum()))
    return ProfileGraph(graph=graph, profile=profile, arc_from=frm, arc_to=to, arc_time_s=t,
                        arc_length_m=length, arc_edge=edge, arc_forward=forward,
                        in_main=in_main, report=report)


@dataclass(frozen=True)
class Snap:
    node: np.ndarray
    distance_m: np.ndarray


def snap_points(pg: ProfileGraph, lon: np.ndarray, lat: np.ndarray) -> Snap:
    """Snap WGS84 points to the nearest junction of the profile's main component."""
    graph = pg.graph
    idx = np.flatnonzero(pg.in_main)
    if len(idx) == 0:
        raise UnreachableError(f"no road in the network is usable by profile "
                               f"{pg.profile.name!r}; nothing to snap to")
    tree = cKDTree(np.column_stack([graph.node_x[idx], graph.node_y[idx]]))
    tr = pyproj.Transformer.from_crs("EPSG:4326", graph.metric_crs, always_xy=True)
    x, y = tr.transform(np.asarray(lon, float), np.asarray(lat, float))
    dist, k = tree.query(np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]))
    return Snap(node=idx[k], distance_m=np.asarray(dist))


@dataclass(frozen=True, eq=False)
class Matrices:
    """Fastest-path times and the lengths of those paths among ``nodes`` (row = origin)."""

    nodes: np.ndarray
    time_s: np.ndarray
    distance_m: np.ndarray
    predecessors: np.ndarray


def travel_matrices(pg: ProfileGraph, nodes: np.ndarray) -> Matrices:
    """One Dijkstra per distinct source node; unreachable pairs are ``inf``."""
    nodes = np.asarray(nodes, dtype=np.int64)
    uniq, inv = np.unique(nodes, return_inverse=True)
    time_all, pred = dijkstra(pg.csr_time, directed=True, indices=uniq, return_predecessors=True)
    dist_all = _tree_lengths(pg, pred)
    time = time_all[inv][:, nodes]
    dist = dist_all[inv][:, nodes]
    dist[~np.isfinite(time)] = np.inf
    return Matrices(nodes=nodes, time_s=time, distance_m=dist,
                    predecessors=pred[inv].astype(np.int32))


def _tree_lengths(pg: ProfileGraph, pred: np.ndarray) -> np.ndarray:
    """Length from the root to every node along each shortest-path tree (pointer jumping)."""
    pred = np.atleast_2d(pred)
    n_src, n = pred.shape
    has = pred >= 0
    length = np.zeros(pred.shape)
    rows, cols = np.nonzero(has)
    length[rows, cols] = pg.arc_length_m[pg.arc_index(pred[rows, cols], cols)]
    parent = np.where(has, pred, np.arange(n)[None, :])
    # the root and unreachable nodes point to themselves with length 0
    for _ in range(64):
        grand = np.take_along_axis(parent, parent, axis=1)
        length = length + np.where(parent != np.arange(n)[None, :],
                                   np.take_along_axis(length, parent, axis=1), 0.0)
        if np.array_equal(grand, parent):
            break
        parent = grand
    return length


@dataclass(frozen=True)
class Leg:
    """The road path of one leg: exact geometry, length, time and road-by-road directions."""

    coords: np.ndarray
    length_m: float
    time_s: float
    directions: list[dict]


def leg_path(pg: ProfileGraph, mat: Matrices, i: int, j: int) -> Leg:
    """Geometry and directions of the fastest path from matrix point ``i`` to point ``j``."""
    graph = pg.graph
    src, dst = int(mat.nodes[i]), int(mat.nodes[j])
    pred = mat.predecessors[i]
    if src == dst:
        c = np.array([[graph.node_lon[src], graph.node_lat[src]]] * 2)
        return Leg(coords=c, length_m=0.0, time_s=0.0, directions=[])
    if pred[dst] < 0:
        raise ValueError(f"no path from node {src} to node {dst} for {pg.profile.name}")
    path = [dst]
    while path[-1] != src:
        path.append(int(pred[path[-1]]))
    path.reverse()
    arcs = pg.arc_index(np.array(path[:-1]), np.array(path[1:]))
    parts = []
    steps: list[dict] = []
    for a in arcs.tolist():
        edge, fwd = int(pg.arc_edge[a]), bool(pg.arc_forward[a])
        parts.append(graph.edge_coords(edge, forward=fwd))
        segs = graph.edge_segments(edge)
        if not fwd:
            segs = [(s, not f) for s, f in reversed(segs)]
        for s, _ in segs:
            name, ref = str(graph.seg_name[s]), str(graph.seg_ref[s])
            road_class = graph.classes[int(graph.seg_class[s])]
            km = float(graph.seg_length_m[s]) / 1000
            if steps and steps[-1]["name"] == name and steps[-1]["ref"] == ref:
                steps[-1]["km"] += km
            else:
                steps.append({"name": name, "ref": ref, "road_class": road_class, "km": km})
    for st in steps:
        st["km"] = round(st["km"], 2)
    coords = np.concatenate([parts[0]] + [p[1:] for p in parts[1:]])
    return Leg(coords=coords, length_m=float(pg.arc_length_m[arcs].sum()),
               time_s=float(pg.arc_time_s[arcs].sum()), directions=steps)
