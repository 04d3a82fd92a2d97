"""Per-profile routable graphs, snapping, travel-time/distance matrices and leg geometry.

One Dijkstra search per source on travel time (SciPy's compiled routine over a CSR matrix)
gives both the time and, by walking the shortest-path tree, the length of the fastest path.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyproj
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geodata.errors import UnreachableError
from geodata.network import RoadGraph
from geodata.osm import FERRY_CLASS
from geodata.profiles import VehicleProfile
from geodata.speeds import segment_slope_factor, segment_speeds_kmh

_MIN_ARC_S = 0.01  # every arc takes some time, so shortest-path trees are well ordered


# a place farther than this from the road network it is snapped to is reported (warnings,
# the solve summary): its travel times leave out the way from it to the road
FAR_FROM_ROADS_M = 2000.0

# ASSUMPTION: waiting for a ferry's departure and boarding, added once per crossing (no
# timetables in OSM); the crossing itself takes its OSM `duration`, else its length at the
# profile's `ferry` speed (profiles.yaml)
FERRY_WAIT_S = 30 * 60.0

@dataclass(frozen=True)
class ComponentReport:
    profile: str
    usable_km: float
    kept_km: float
    dropped_km: float
    dropped_parts: int
    kept_nodes: int
    # km of road of each class the profile may not use at all (a truck on a track, a
    # motorbike on a motorway), so what a plan cannot use is never silent
    closed_km_by_class: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {**self.__dict__, "closed_km_by_class": dict(self.closed_km_by_class)}


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

    def arc_index(self, frm: np.ndarray, to: np.ndarray) -> np.ndarray:
        n = self.graph.n_nodes
        keys = self.arc_from * n + self.arc_to
        idx = np.searchsorted(keys, np.asarray(frm, dtype=np.int64) * n
                              + np.asarray(to, dtype=np.int64))
        return np.minimum(idx, len(keys) - 1)


_CLOSED_ACCESS = ("no", "private", "agricultural", "forestry", "delivery;no")


def segment_open(graph: RoadGraph, profile: VehicleProfile) -> np.ndarray:
    """Segments the profile may legally and physically use: its road classes and surfaces,
    OSM access for motor vehicles, and weight/width/height limits where the data has them."""
    ok = np.array([profile.allows(c) for c in graph.classes])[graph.seg_class]
    if profile.closed_surfaces:
        surface = np.char.lower(np.asarray(graph.seg_surface, dtype=object).astype(str))
        ok &= ~np.isin(surface, [x.lower() for x in profile.closed_surfaces])
    access = graph.extra.get("seg_access")
    if access is not None:
        ok &= ~np.isin(np.asarray(access, dtype=object).astype(str), _CLOSED_ACCESS)
    for key, size in (("seg_maxweight_t", profile.weight_t), ("seg_maxwidth_m", profile.width_m),
                      ("seg_maxheight_m", profile.height_m)):
        limit = graph.extra.get(key)
        if limit is not None and size > 0:
            with np.errstate(invalid="ignore"):
                ok &= ~(limit < size)  # NaN = no limit
    return ok


def segment_times_s(graph: RoadGraph, profile: VehicleProfile,
                    speed_factor: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Travel time of every segment for the profile along and against its drawing direction
    (``inf`` where it may not go): class speed x surface, slowed by winding and, where the
    graph has elevations, by climbing and descending (:mod:`geodata.speeds`), times
    ``speed_factor`` (road conditions: 0 closes a segment)."""
    base = np.array([profile.speeds_kmh.get(c, np.nan) for c in graph.classes])[graph.seg_class]
    kmh = segment_speeds_kmh(base, graph.seg_curvature, graph.seg_surface, profile.model)
    if speed_factor is not None:
        kmh = kmh * speed_factor
    closed = ~segment_open(graph, profile) | ~(kmh > 0)
    climb, descent = graph.extra.get("seg_climb_m"), graph.extra.get("seg_descent_m")
    times = []
    for up, down in ((climb, descent), (descent, climb)):
        v = kmh
        if up is not None and down is not None:
            v = kmh * segment_slope_factor(graph.seg_length_m, up, down, model=profile.model)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = graph.seg_length_m / (v / 3.6)
        t[closed] = np.inf
        times.append(t)
    ferry = _ferry_times_s(graph, profile, speed_factor)
    if ferry is not None:
        idx, t_ferry = ferry
        for t in times:
            t[idx] = np.where(np.isfinite(t[idx]), t_ferry, np.inf)
    return times[0], times[1]


def _ferry_times_s(graph: RoadGraph, profile: VehicleProfile,
                   speed_factor: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The ferry segments and their times: each segment's share of its crossing (the OSM
    ``duration``, else the line's length at the profile's ``ferry`` speed) plus the same share
    of :data:`FERRY_WAIT_S`; a road condition's factor divides it (0 closes the ferry)."""
    share = graph.extra.get("seg_line_share")
    if share is None or not profile.allows(FERRY_CLASS):
        return None
    idx = np.flatnonzero(np.isfinite(share))
    part = share[idx]
    line_m = graph.seg_length_m[idx] / np.maximum(part, 1e-12)
    duration = graph.extra["seg_duration_s"][idx]
    crossing = np.where(np.isfinite(duration), duration,
                        line_m / (profile.speeds_kmh[FERRY_CLASS] / 3.6))
    t = part * (crossing + FERRY_WAIT_S)
    if speed_factor is not None:
        with np.errstate(divide="ignore"):
            t = np.where(speed_factor[idx] > 0, t / speed_factor[idx], np.inf)
    return idx, t


def profile_graph(graph: RoadGraph, profile: VehicleProfile, *,
                  speed_factor: np.ndarray | None = None) -> ProfileGraph:
    """Arcs usable by ``profile`` with their times; nodes of its largest strongly connected
    component are flagged ``in_main`` and the rest is reported as dropped. ``speed_factor``
    (per segment, from :func:`geodata.closures.road_conditions`) slows or closes roads."""
    along, against = segment_times_s(graph, profile, speed_factor)
    sf = graph.edge_seg_fwd
    seg = graph.edge_seg
    edge_fwd = np.add.reduceat(np.where(sf, along[seg], against[seg]), graph.edge_seg_ptr[:-1])
    edge_bwd = np.add.reduceat(np.where(sf, against[seg], along[seg]), graph.edge_seg_ptr[:-1])
    usable = np.isfinite(edge_fwd)
    edge_fwd = np.maximum(edge_fwd, _MIN_ARC_S)
    edge_bwd = np.maximum(edge_bwd, _MIN_ARC_S)
    e = np.arange(graph.n_edges)
    fwd = usable & (graph.edge_dir >= 0)
    bwd = usable & (graph.edge_dir <= 0)
    frm = np.concatenate([graph.edge_u[fwd], graph.edge_v[bwd]])
    to = np.concatenate([graph.edge_v[fwd], graph.edge_u[bwd]])
    t = np.concatenate([edge_fwd[fwd], edge_bwd[bwd]])
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
    closed_class = ~np.array([profile.allows(c) for c in graph.classes], dtype=bool)
    seg_closed = closed_class[graph.seg_class]
    closed_km = np.bincount(graph.seg_class[seg_closed], weights=graph.seg_length_m[seg_closed],
                            minlength=len(graph.classes)) / 1000
    report = ComponentReport(profile=profile.name, usable_km=round(usable_km, 1),
                             kept_km=round(kept_km, 1), dropped_km=round(usable_km - kept_km, 1),
                             dropped_parts=int(len(dropped_labels)),
                             kept_nodes=int(in_main.sum()),
                             closed_km_by_class={graph.classes[i]: round(float(km), 1)
                                                 for i, km in enumerate(closed_km) if km > 0})
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


# One Dijkstra gives both figures: arcs weigh ``time_ms * 2**24 + length_dm`` (exact integers
# in float64 up to 2**53), so the fastest path wins (ties go to the shorter one) and the
# length of that path is the remainder. Exact to 1 ms and 0.1 m per arc for paths up to 149 h
# and 1,677 km; longer paths switch to metres (16,777 km).
_LEN_SLOTS = float(2**24)
_TIME_Q_S = 1e-3


def _quantised(pg: ProfileGraph, len_unit_m: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    return np.round(pg.arc_time_s / _TIME_Q_S), np.round(pg.arc_length_m / len_unit_m)


def _combined_weights(pg: ProfileGraph, len_unit_m: float = 0.1) -> np.ndarray:
    t_q, l_q = _quantised(pg, len_unit_m)
    return t_q * _LEN_SLOTS + l_q


def _split(d: np.ndarray, len_unit_m: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore"):
        t_q = np.floor(d / _LEN_SLOTS)
        length = (d - t_q * _LEN_SLOTS) * len_unit_m
    time = t_q * _TIME_Q_S
    length[~np.isfinite(d)] = np.inf
    return time, length


def _max_speed_ms(pg: ProfileGraph) -> float:
    return float(np.max(pg.arc_length_m / pg.arc_time_s)) if len(pg.arc_time_s) else 1.0


def core_nodes(pg: ProfileGraph, keep: np.ndarray) -> np.ndarray:
    """Nodes with a usable road minus the dead-end trees that hold none of ``keep``.

    No shortest path between kept nodes enters such a tree (it would have to come back
    through the same junction), so matrices on the core equal matrices on the whole graph;
    on mountain networks the core is a third of the junctions.
    """
    n = pg.graph.n_nodes
    alive = np.zeros(n, dtype=bool)
    alive[pg.arc_from] = True
    alive[pg.arc_to] = True
    pinned = np.zeros(n, dtype=bool)
    pinned[np.asarray(keep, dtype=np.int64)] = True
    a = np.minimum(pg.arc_from, pg.arc_to)
    b = np.maximum(pg.arc_from, pg.arc_to)
    pair = np.unique(a * n + b)
    ua, ub = pair // n, pair % n
    live = alive[ua] & alive[ub]
    while True:
        deg = (np.bincount(ua[live], minlength=n) + np.bincount(ub[live], minlength=n))
        leaves = alive & (deg <= 1) & ~pinned
        if not leaves.any():
            return alive
        alive &= ~leaves
        live &= alive[ua] & alive[ub]


def travel_matrices(pg: ProfileGraph, nodes: np.ndarray, *, workers: int | None = None
                    ) -> Matrices:
    """Time and distance of the fastest path between every pair of ``nodes``.

    Runs on the graph's core (dead-end trees without a point pruned), one Dijkstra per
    distinct source, spread over ``workers`` threads (SciPy releases the GIL); unreachable
    pairs are ``inf``.
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    uniq, inv = np.unique(nodes, return_inverse=True)
    alive = core_nodes(pg, uniq)
    alive[uniq] = True
    keep_idx = np.flatnonzero(alive)
    remap = np.full(pg.graph.n_nodes, -1, dtype=np.int64)
    remap[keep_idx] = np.arange(len(keep_idx))
    arcs = alive[pg.arc_from] & alive[pg.arc_to]
    m = len(keep_idx)
    sources, targets = remap[uniq], remap[nodes]
    for len_unit in (0.1, 1.0):
        csr = csr_matrix((_combined_weights(pg, len_unit)[arcs],
                          (remap[pg.arc_from[arcs]], remap[pg.arc_to[arcs]])), shape=(m, m))
        time, dist = _split(_dijkstra_rows(csr, sources, targets, workers), len_unit)
        finite = np.isfinite(time)
        longest = float(time[finite].max()) * _max_speed_ms(pg) if finite.any() else 0.0
        if longest < _LEN_SLOTS * len_unit * 0.99:
            break
    return Matrices(nodes=nodes, time_s=time[inv], distance_m=dist[inv])


def _dijkstra_rows(csr: csr_matrix, sources: np.ndarray, targets: np.ndarray,
                   workers: int | None) -> np.ndarray:
    workers = workers or min(4, os.cpu_count() or 1)
    chunks = [c for c in np.array_split(sources, max(1, min(workers, len(sources)))) if len(c)]

    def run(chunk: np.ndarray) -> np.ndarray:
        return dijkstra(csr, directed=True, indices=chunk)[:, targets]

    if len(chunks) == 1:
        parts = [run(chunks[0])]
    else:
        with ThreadPoolExecutor(len(chunks)) as pool:
            parts = list(pool.map(run, chunks))
    return np.vstack(parts)


@dataclass(frozen=True)
class Leg:
    """The road path of one leg: exact geometry, length, time and road-by-road directions."""

    coords: np.ndarray
    length_m: float
    time_s: float
    directions: list[dict]


def leg_path(pg: ProfileGraph, mat: Matrices, i: int, j: int) -> Leg:
    """Geometry and directions of the fastest path from matrix point ``i`` to point ``j``
    (the same path, time and length as the matrix entry)."""
    graph = pg.graph
    src, dst = int(mat.nodes[i]), int(mat.nodes[j])
    if src == dst:
        c = np.array([[graph.node_lon[src], graph.node_lat[src]]] * 2)
        return Leg(coords=c, length_m=0.0, time_s=0.0, directions=[])
    n = graph.n_nodes
    csr = csr_matrix((_combined_weights(pg), (pg.arc_from, pg.arc_to)), shape=(n, n))
    _, pred = dijkstra(csr, directed=True, indices=src, return_predecessors=True)
    if pred[dst] < 0:
        raise ValueError(f"no path from node {src} to node {dst} for {pg.profile.name}")
    path = [dst]
    while path[-1] != src:
        path.append(int(pred[path[-1]]))
    path.reverse()
    arcs = pg.arc_index(np.array(path[:-1]), np.array(path[1:]))
    parts = []
    steps: list[dict] = []
    ferry = _ferry_times_s(graph, pg.profile, None)
    ferry_s = dict(zip(ferry[0].tolist(), ferry[1].tolist(), strict=True)) if ferry else {}
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
            on_ferry = road_class == FERRY_CLASS
            if steps and steps[-1]["name"] == name and steps[-1]["ref"] == ref \
                    and ("minutes" in steps[-1]) == on_ferry:
                steps[-1]["km"] += km
            else:
                steps.append({"name": name, "ref": ref, "road_class": road_class, "km": km})
                if on_ferry:
                    steps[-1]["minutes"] = 0.0
            if on_ferry:  # a crossing: its time (with the wait) is what the driver needs
                steps[-1]["minutes"] += ferry_s.get(s, 0.0) / 60
    for st in steps:
        st["km"] = round(st["km"], 2)
        if "minutes" in st:
            st["minutes"] = round(st["minutes"])
    coords = np.concatenate([parts[0]] + [p[1:] for p in parts[1:]])
    t_q, l_q = _quantised(pg)
    return Leg(coords=coords, length_m=float(l_q[arcs].sum()) * 0.1,
               time_s=float(t_q[arcs].sum()) * _TIME_Q_S, directions=steps)
