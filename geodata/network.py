"""Build a routable junction graph from road lines.

Road lines in OSM-derived data meet at shared *interior* vertices, not only at their ends, so
the graph is built in four steps:

1. every vertex that two lines share (or that ends a line) becomes a node, and line ends that
   dangle within ``join_tolerance_m`` of another line's vertex are joined to it;
2. lines are split at those nodes into *segments* (exact geometry, one road class each);
3. chains of segments through nodes of degree two are contracted into *edges*, so routing runs
   on junctions only while each edge keeps the list of segments it is made of (for drawing and
   directions);
4. per vehicle profile, :func:`geodata.routing.profile_graph` keeps the largest strongly
   connected component and reports what it drops.

Everything is vectorised with NumPy except the chain walk, which is linear in the number of
segments.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geodata.errors import GeodataError, quoted_list
from geodata.osm import FERRY_CLASS
from geodata.speeds import segment_curvature

log = logging.getLogger(__name__)

GRAPH_FORMAT_VERSION = 4  # 4: ferries (seg_line_share, seg_duration_s)
_QUANT = 1e7  # vertex identity: coordinates quantised to 1e-7 degree (about 1 cm)


@dataclass(frozen=True)
class BuildReport:
    """What the graph builder did, in numbers a person can check."""

    input_lines: int
    input_km: float
    input_vertices: int
    joined_ends: int
    split_nodes: int
    segments: int
    junctions: int
    edges: int
    dropped_self_loops: int

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """An undirected-with-oneways junction graph with exact segment geometry.

    Node arrays are indexed by junction id; ``edge_*`` arrays by edge id; segments are the
    pieces of input lines between split nodes (``seg_coord_ptr`` indexes ``seg_coords``, and
    ``edge_seg_ptr`` indexes ``edge_seg`` / ``edge_seg_fwd``). ``edge_dir`` is 0 for two-way
    edges, 1 when only ``u -> v`` is allowed and -1 when only ``v -> u`` is.
    """

    metric_crs: str
    node_lon: np.ndarray
    node_lat: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    seg_coords: np.ndarray
    seg_coord_ptr: np.ndarray
    seg_length_m: np.ndarray
    seg_class: np.ndarray
    seg_name: np.ndarray
    seg_ref: np.ndarray
    seg_brunnel: np.ndarray
    seg_surface: np.ndarray
    seg_curvature: np.ndarray  # degrees of turning per km (geodata.speeds.segment_curvature)
    classes: tuple[str, ...]
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_dir: np.ndarray
    edge_seg_ptr: np.ndarray
    edge_seg: np.ndarray
    edge_seg_fwd: np.ndarray
    edge_length_m: np.ndarray
    report: BuildReport
    source_digest: str = ""
    # optional per-segment attributes of real OSM data: seg_access (str), seg_maxweight_t,
    # seg_maxwidth_m, seg_maxheight_m (float, NaN = none), seg_osm_way_id (int, -1 = none);
    # of ferries: seg_line_share (the segment's share of its ferry line, NaN elsewhere) and
    # seg_duration_s (the whole crossing's OSM duration, NaN when unknown)
    extra: dict = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return int(self.node_lon.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    def edge_segments(self, edge: int) -> list[tuple[int, bool]]:
        lo, hi = self.edge_seg_ptr[edge], self.edge_seg_ptr[edge + 1]
        return list(zip(self.edge_seg[lo:hi].tolist(), self.edge_seg_fwd[lo:hi].tolist(),
                        strict=True))

    def segment_coords(self, seg: int, *, forward: bool = True) -> np.ndarray:
        c = self.seg_coords[self.seg_coord_ptr[seg]:self.seg_coord_ptr[seg + 1]]
        return c if forward else c[::-1]

    def edge_coords(self, edge: int, *, forward: bool = True) -> np.ndarray:
        """Exact lon/lat coordinates of an edge in the direction ``u -> v`` (or reverse)."""
        parts = [self.segment_coords(s, forward=f) for s, f in self.edge_segments(edge)]
        if not forward:
            parts = [p[::-1] for p in reversed(parts)]
        out = [parts[0]] + [p[1:] for p in parts[1:]]
        return np.concatenate(out)


def metric_crs_for(lon: float, lat: float) -> str:
    """The UTM zone (WGS84) containing a point, as an EPSG code string."""
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(a, b)`` for each pair without a Python loop."""
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(stops - lengths.cumsum(), lengths)
    return np.arange(total, dtype=np.int64) + offsets


def build_road_graph(lines: gpd.GeoDataFrame, *, join_tolerance_m: float = 5.0,
                     class_column: str = "omt_class", oneway_column: str = "oneway",
                     source_digest: str = "") -> RoadGraph:
    """Build a :class:`RoadGraph` from road LineStrings (WGS84) with class and oneway columns.

    ``oneway`` follows OSM/OpenMapTiles: 1 forward along the geometry, -1 backward, 0 or empty
    both ways. Dangling line ends within ``join_tolerance_m`` of a vertex of another line are
    joined to it.
    """
    if lines.crs is not None and not lines.crs.equals("EPSG:4326"):
        lines = lines.to_crs("EPSG:4326")
    for col in (class_column,):
        if col not in lines.columns:
            raise GeodataError(f"road lines have no column {col!r} (columns: "
                               f"{quoted_list(lines.columns)})")
    lines = lines[lines.geometry.notna()].explode(index_parts=False)
    lines = lines[lines.geometry.geom_type == "LineString"].reset_index(drop=True)
    if len(lines) == 0:
        raise GeodataError("no LineString road geometry in the input")

    coords, line_of = shapely.get_coordinates(lines.geometry.values, return_index=True)
    coords = coords[:, :2]
    qx = np.round((coords[:, 0] + 180.0) * _QUANT).astype(np.int64)
    qy = np.round((coords[:, 1] + 90.0) * _QUANT).astype(np.int64)
    key = (qx << 32) | qy
    # drop repeated consecutive vertices within a line
    keep = np.ones(len(key), dtype=bool)
    keep[1:] = ~((line_of[1:] == line_of[:-1]) & (key[1:] == key[:-1]))
    coords, line_of, key = coords[keep], line_of[keep], key[keep]
    # drop lines left with fewer than two vertices
    counts = np.bincount(line_of, minlength=len(lines))
    good = counts[line_of] >= 2
    coords, line_of, key = coords[good], line_of[good], key[good]
    if len(coords) == 0:
        raise GeodataError(
            f"none of the {len(lines)} road lines has any length (each has all its points at "
            f"one place, within {1 / _QUANT:g} degree): no road to route on. Import the road "
            f"data again (`planner geodata import`, which drops such lines).")

    uniq_key, vid = np.unique(key, return_inverse=True)
    n_v = len(uniq_key)
    first_pos = np.ones(len(vid), dtype=bool)
    first_pos[1:] = line_of[1:] != line_of[:-1]
    last_pos = np.ones(len(vid), dtype=bool)
    last_pos[:-1] = line_of[1:] != line_of[:-1]
    is_end = first_pos | last_pos

    center_lon, center_lat = float(np.median(coords[:, 0])), float(np.median(coords[:, 1]))
    crs = metric_crs_for(center_lon, center_lat)
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    px, py = to_metric.transform(coords[:, 0], coords[:, 1])
    lost = ~(np.isfinite(px) & np.isfinite(py))
    if lost.any():  # e.g. a point a quarter of the world away from the others
        far = coords[lost][0]
        raise GeodataError(
            f"road lines spread over lon {coords[:, 0].min():g} to {coords[:, 0].max():g}, "
            f"lat {coords[:, 1].min():g} to {coords[:, 1].max():g}: {int(lost.sum())} of their "
            f"points (the first at lon {far[0]:g}, lat {far[1]:g}) cannot be placed in "
            f"{crs}, the UTM zone of their middle, which the graph measures in. Road data "
            f"covers one region: correct the coordinates far from the others (swapped lon "
            f"and lat?), or import the region only (`planner geodata import --boundary`).")
    pos_xy = np.column_stack([px, py])
    v_xy = np.zeros((n_v, 2))
    v_xy[vid] = pos_xy
    v_lonlat = np.zeros((n_v, 2))
    v_lonlat[vid] = coords

    # --- join dangling ends to a nearby vertex of another line ---------------------------
    occ = np.bincount(vid, minlength=n_v)
    v_line_min = np.full(n_v, np.iinfo(np.int64).max)
    v_line_max = np.full(n_v, -1)
    np.minimum.at(v_line_min, vid, line_of)
    np.maximum.at(v_line_max, vid, line_of)
    dangling_pos = np.flatnonzero(is_end & (occ[vid] == 1))
    pairs_a: list[np.ndarray] = []
    pairs_b: list[np.ndarray] = []
    joined = 0
    if len(dangling_pos) and join_tolerance_m > 0:
        tree = cKDTree(v_xy)
        k = min(32, n_v)  # enough to see past the dangling line's own dense vertices
        dist, cand = tree.query(pos_xy[dangling_pos], k=k, distance_upper_bound=join_tolerance_m)
        dist = dist.reshape(len(dangling_pos), k)
        cand = cand.reshape(len(dangling_pos), k)
        d_vid = vid[dangling_pos][:, None]
        d_line = line_of[dangling_pos][:, None]
        valid = np.isfinite(dist) & (cand < n_v)
        cand_c = np.where(valid, cand, 0)
        same_line_only = (v_line_min[cand_c] == d_line) & (v_line_max[cand_c] == d_line)
        valid &= (cand_c != d_vid) & ~same_line_only
        has = valid.any(axis=1)
        best = np.argmax(valid, axis=1)
        a = vid[dangling_pos][has]
        b = cand_c[has, best[has]]
        pairs_a.append(a)
        pairs_b.append(b)
        joined = int(has.sum())
    if joined:
        a = np.concatenate(pairs_a)
        b = np.concatenate(pairs_b)
        merge = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_v, n_v))
        _, label = connected_components(merge, directed=False)
        vid = label[vid]
        n_v = int(label.max()) + 1
        v_xy2 = np.zeros((n_v, 2))
        v_ll2 = np.zeros((n_v, 2))
        v_xy2[vid] = pos_xy
        v_ll2[vid] = coords
        # a joined node sits on the road it was joined to, not on the dangling end
        fixed = np.ones(len(vid), dtype=bool)
        fixed[dangling_pos] = False
        v_xy2[vid[fixed]] = pos_xy[fixed]
        v_ll2[vid[fixed]] = coords[fixed]
        v_xy, v_lonlat = v_xy2, v_ll2
        # a line may now repeat a vertex consecutively (a join across a short gap): keep those
        # positions, the zero-length step is harmless and the geometry stays exact.

    occ = np.bincount(vid, minlength=n_v)
    is_node_pos = is_end | (occ[vid] >= 2)
    node_pos = np.flatnonzero(is_node_pos)

    # --- split lines at nodes into segments ------------------------------------------------
    step = np.zeros(len(vid))
    same = ~first_pos
    step[1:] = np.hypot(np.diff(pos_xy[:, 0]), np.diff(pos_xy[:, 1]))
    step[~same] = 0.0
    cum = np.cumsum(step)
    a_pos, b_pos = node_pos[:-1], node_pos[1:]
    in_line = line_of[a_pos] == line_of[b_pos]
    a_pos, b_pos = a_pos[in_line], b_pos[in_line]
    seg_u = vid[a_pos]
    seg_v = vid[b_pos]
    seg_len = cum[b_pos] - cum[a_pos]
    seg_line = line_of[a_pos]
    loops = seg_u == seg_v
    dropped_loops = int(loops.sum())
    a_pos, b_pos, seg_u, seg_v = a_pos[~loops], b_pos[~loops], seg_u[~loops], seg_v[~loops]
    seg_len, seg_line = seg_len[~loops], seg_line[~loops]
    n_seg = len(seg_u)
    if n_seg == 0:
        raise GeodataError("the road lines form no segment between two distinct junctions")
    coord_idx = _ranges(a_pos, b_pos + 1)
    seg_coords = coords[coord_idx]
    seg_coord_ptr = np.zeros(n_seg + 1, dtype=np.int64)
    seg_coord_ptr[1:] = np.cumsum(b_pos - a_pos + 1)

    attrs = lines.iloc[seg_line]
    class_names = attrs[class_column].fillna("unknown").astype(str).to_numpy()
    classes, seg_class = np.unique(class_names, return_inverse=True)
    seg_class_all = seg_class
    if oneway_column in lines.columns:
        ow = np.nan_to_num(np.asarray(attrs[oneway_column], dtype=float)).astype(np.int8)
    else:
        ow = np.zeros(n_seg, dtype=np.int8)

    def _text(col: str) -> np.ndarray:
        if col not in attrs.columns:
            return np.full(n_seg, "", dtype=object)
        return attrs[col].fillna("").astype(str).to_numpy(dtype=object)

    seg_curv = segment_curvature(pos_xy[coord_idx], seg_coord_ptr)
    extra: dict[str, np.ndarray] = {}
    if "access" in attrs.columns:
        extra["seg_access"] = _text("access")
    for col in ("maxweight_t", "maxwidth_m", "maxheight_m"):
        if col in attrs.columns:
            extra[f"seg_{col}"] = pd.to_numeric(attrs[col], errors="coerce").to_numpy(float)
    if "osm_way_id" in attrs.columns:
        ids = pd.to_numeric(attrs["osm_way_id"], errors="coerce")
        extra["seg_osm_way_id"] = ids.fillna(-1).to_numpy(np.int64)
    if FERRY_CLASS in classes:
        # a ferry's crossing time belongs to its whole line: each segment takes its share
        line_m = np.bincount(seg_line, weights=seg_len, minlength=len(lines))
        ferry = class_names == FERRY_CLASS
        extra["seg_line_share"] = np.where(ferry, seg_len / np.maximum(line_m[seg_line], 1e-9),
                                           np.nan)
        duration = (pd.to_numeric(attrs["duration_s"], errors="coerce").to_numpy(float)
                    if "duration_s" in attrs.columns else np.full(n_seg, np.nan))
        extra["seg_duration_s"] = np.where(ferry, duration, np.nan)

    # --- contract chains through degree-2 nodes --------------------------------------------
    ends = np.concatenate([seg_u, seg_v])
    deg = np.bincount(ends, minlength=n_v)
    inc_seg = np.concatenate([np.arange(n_seg), np.arange(n_seg)])
    order = np.argsort(ends, kind="stable")
    inc_ptr = np.zeros(n_v + 1, dtype=np.int64)
    inc_ptr[1:] = np.cumsum(deg)
    inc_sorted = inc_seg[order]

    contractible = deg == 2
    cand_nodes = np.flatnonzero(contractible)
    s1 = inc_sorted[inc_ptr[cand_nodes]]
    s2 = inc_sorted[inc_ptr[cand_nodes] + 1]
    # oneway compatibility: both two-way, or one enters and the other leaves the node
    def _enters(seg: np.ndarray, node: np.ndarray) -> np.ndarray:
        # +1 when the allowed direction enters `node`, -1 when it leaves, 0 two-way
        d = ow[seg].astype(np.int64)
        at_v = seg_v[seg] == node
        return np.where(d == 0, 0, np.where(at_v, d, -d))
    e1, e2 = _enters(s1, cand_nodes), _enters(s2, cand_nodes)
    # same road class on both sides too, so a profile that may not use one class (a truck
    # on a track) keeps the road up to where that class starts
    ok = (s1 != s2) & (((e1 == 0) & (e2 == 0)) | (e1 * e2 == -1))
    ok &= seg_class_all[s1] == seg_class_all[s2]
    contractible[cand_nodes[~ok]] = False

    seg_u_l, seg_v_l = seg_u.tolist(), seg_v.tolist()
    inc_ptr_l, inc_l = inc_ptr.tolist(), inc_sorted.tolist()
    contr_l = contractible.tolist()
    visited = bytearray(n_seg)
    e_u: list[int] = []
    e_v: list[int] = []
    e_ptr: list[int] = [0]
    e_seg: list[int] = []
    e_fwd: list[bool] = []

    def walk(start: int, first_seg: int) -> None:
        cur, seg = start, first_seg
        while True:
            visited[seg] = 1
            fwd = seg_u_l[seg] == cur
            e_seg.append(seg)
            e_fwd.append(fwd)
            nxt = seg_v_l[seg] if fwd else seg_u_l[seg]
            if not contr_l[nxt] or nxt == start:
                break
            lo = inc_ptr_l[nxt]
            a, b = inc_l[lo], inc_l[lo + 1]
            seg = b if a == seg else a
            if visited[seg]:
                break
            cur = nxt
        e_u.append(start)
        e_v.append(nxt)
        e_ptr.append(len(e_seg))

    for node in np.flatnonzero(~contractible & (deg > 0)).tolist():
        for k in range(inc_ptr_l[node], inc_ptr_l[node + 1]):
            seg = inc_l[k]
            if not visited[seg]:
                walk(node, seg)
    # cycles made only of degree-2 nodes: cut each at one node
    for seg in range(n_seg):
        if not visited[seg]:
            node = seg_u_l[seg]
            contr_l[node] = False
            walk(node, seg)

    edge_u = np.asarray(e_u, dtype=np.int64)
    edge_v = np.asarray(e_v, dtype=np.int64)
    edge_seg_ptr = np.asarray(e_ptr, dtype=np.int64)
    edge_seg = np.asarray(e_seg, dtype=np.int64)
    edge_seg_fwd = np.asarray(e_fwd, dtype=bool)
    first_seg = edge_seg[edge_seg_ptr[:-1]]
    first_fwd = edge_seg_fwd[edge_seg_ptr[:-1]]
    d_first = ow[first_seg].astype(np.int8)
    edge_dir = np.where(first_fwd, d_first, -d_first).astype(np.int8)
    edge_length = np.add.reduceat(seg_len[edge_seg], edge_seg_ptr[:-1])
    # drop edges that start and end at the same junction (closed loops): no routing value
    keep_e = edge_u != edge_v
    dropped_loops += int((~keep_e).sum())
    if not keep_e.all():
        idx = np.flatnonzero(keep_e)
        new_ptr = np.zeros(len(idx) + 1, dtype=np.int64)
        lens = edge_seg_ptr[idx + 1] - edge_seg_ptr[idx]
        new_ptr[1:] = np.cumsum(lens)
        sel = _ranges(edge_seg_ptr[idx], edge_seg_ptr[idx + 1])
        edge_seg, edge_seg_fwd = edge_seg[sel], edge_seg_fwd[sel]
        edge_u, edge_v, edge_dir = edge_u[idx], edge_v[idx], edge_dir[idx]
        edge_length, edge_seg_ptr = edge_length[idx], new_ptr

    # renumber junctions 0..J-1
    junction = np.unique(np.concatenate([edge_u, edge_v]))
    remap = np.full(n_v, -1, dtype=np.int64)
    remap[junction] = np.arange(len(junction))
    edge_u, edge_v = remap[edge_u], remap[edge_v]

    report = BuildReport(
        input_lines=int(len(lines)),
        input_km=round(float(step.sum()) / 1000.0, 1),
        input_vertices=int(len(uniq_key)),
        joined_ends=joined,
        split_nodes=int(np.count_nonzero(deg)),
        segments=n_seg,
        junctions=int(len(junction)),
        edges=int(len(edge_u)),
        dropped_self_loops=dropped_loops,
    )
    log.info("road graph: %s", report)
    return RoadGraph(
        metric_crs=crs,
        node_lon=v_lonlat[junction, 0].copy(), node_lat=v_lonlat[junction, 1].copy(),
        node_x=v_xy[junction, 0].copy(), node_y=v_xy[junction, 1].copy(),
        seg_coords=seg_coords, seg_coord_ptr=seg_coord_ptr, seg_length_m=seg_len,
        seg_class=seg_class.astype(np.int16), seg_name=_text("name"), seg_ref=_text("ref"),
        seg_brunnel=_text("brunnel"), seg_surface=_text("surface"), seg_curvature=seg_curv,
        classes=tuple(str(c) for c in classes),
        edge_u=edge_u, edge_v=edge_v, edge_dir=edge_dir, edge_seg_ptr=edge_seg_ptr,
        edge_seg=edge_seg, edge_seg_fwd=edge_seg_fwd, edge_length_m=edge_length,
        report=report, source_digest=source_digest, extra=extra,
    )
