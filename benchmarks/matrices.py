"""Matrix benchmark: 300 x 300 time+distance matrices on three road graphs, against networkx.

    python -m benchmarks.matrices [--points 300] [--baseline-sources 10] [--shared DIR]
                                  [--only hagiang,north14,grid]

Graphs: the shipped Hà Giang network (after importing the staged all-classes file with
``planner geodata import``, timed), the 14-province core network of the staged sources (its
764 communes inside the 14 outlines, the first 300 used as points) and a generated grid of at
least 500,000 directed edges. For each: the product's matrix (SciPy Dijkstra on the CSR core
graph, one search per source giving time and length, threads on both cores) cold and from the
cache, and a networkx baseline in the same run: per-source Dijkstra on travel time
(``dijkstra_predecessor_and_distance``) plus walking each target's predecessor chain for the
length, run on a sample of sources and extrapolated to all sources (said in the output).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from geodata.cache import cached, digest_of
from geodata.network import RoadGraph, build_road_graph
from geodata.profiles import get_profile
from geodata.routing import ProfileGraph, profile_graph, snap_points, travel_matrices

ROOT = Path(__file__).resolve().parents[1]


def _t(fn):  # noqa: ANN001, ANN202
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def networkx_baseline(pg: ProfileGraph, nodes: np.ndarray, sample: int
                      ) -> tuple[float, float, int]:
    """Seconds for the full matrix (time and length), and for times alone, extrapolated from
    ``sample`` sources."""
    g = nx.DiGraph()
    g.add_edges_from((int(a), int(b), {"t": float(t), "m": float(m)}) for a, b, t, m in
                     zip(pg.arc_from, pg.arc_to, pg.arc_time_s, pg.arc_length_m, strict=True))
    targets = [int(x) for x in nodes]
    k = min(sample, len(nodes))
    t0 = time.perf_counter()
    for s in targets[:k]:
        pred, dist = nx.dijkstra_predecessor_and_distance(g, s, weight="t")
        for target in targets:
            length, v = 0.0, target
            while v != s and pred.get(v):
                u = pred[v][0]
                length += g.edges[u, v]["m"]
                v = u
    full = (time.perf_counter() - t0) / k * len(nodes)
    t0 = time.perf_counter()
    for s in targets[:k]:
        nx.single_source_dijkstra_path_length(g, s, weight="t")
    time_only = (time.perf_counter() - t0) / k * len(nodes)
    return full, time_only, k


def run_case(name: str, graph: RoadGraph, points: np.ndarray, *, sample: int,
             extra: str = "") -> dict:
    pg, t_pg = _t(lambda: profile_graph(graph, get_profile("truck")))
    mat, t_cold = _t(lambda: travel_matrices(pg, points))
    key = digest_of("bench", name, points)
    cached("bench-matrices", key, lambda: mat)
    (_, hit), t_cached = _t(lambda: cached("bench-matrices", key, lambda: mat))
    assert hit
    t_nx, t_nx_time, k = networkx_baseline(pg, points, sample)
    n_arcs = len(pg.arc_from)
    reach = np.isfinite(mat.time_s).mean()
    print(f"\n== {name}: {graph.n_nodes:,} junctions, {n_arcs:,} directed arcs (truck), "
          f"{len(points)} points, {reach:.0%} of pairs reachable {extra}")
    print(f"   profile graph + SCC       {t_pg:8.3f} s")
    print(f"   matrix, cold              {t_cold:8.3f} s")
    print(f"   matrix, cached            {t_cached:8.3f} s")
    print(f"   networkx baseline         {t_nx:8.1f} s  (extrapolated from {k} sources)")
    print(f"   networkx, times only      {t_nx_time:8.1f} s  (no lengths; a lower bound)")
    print(f"   speed-up over networkx    {t_nx / t_cold:8.1f} x cold ({t_nx_time / t_cold:.1f} x "
          f"against times only), {t_nx / t_cached:,.0f} x cached")
    return {"case": name, "cold_s": t_cold, "cached_s": t_cached, "networkx_s": t_nx}


def hagiang(shared: Path, n_points: int, sample: int) -> None:
    from geodata.importer import import_dataset

    out = Path(tempfile.mkdtemp(prefix="bench-import-"))
    src = shared / "roads" / "osm2021_hagiang_roads_all.gpkg"
    _, t_import = _t(lambda: import_dataset(src, name="hg", out_dir=out))
    roads = gpd.read_parquet(out / "hg" / "roads.parquet")
    graph, t_build = _t(lambda: build_road_graph(roads))
    pg = profile_graph(graph, get_profile("truck"))
    rng = np.random.default_rng(0)
    communes = gpd.read_parquet(ROOT / "geodata" / "data" / "ha_giang" / "communes.parquet")
    snap = snap_points(pg, communes["lon"].to_numpy(), communes["lat"].to_numpy())
    main = np.flatnonzero(pg.in_main)
    extra_nodes = rng.choice(main, size=max(0, n_points - len(snap.node)), replace=False)
    points = np.concatenate([snap.node, extra_nodes])[:n_points]
    print(f"\nimport of the shipped network ({src.name}): {t_import:.1f} s; junction graph "
          f"build {t_build:.1f} s; total {t_import + t_build:.1f} s (target < 30 s)")
    run_case("Hà Giang (shipped, all classes)", graph, points, sample=sample,
             extra="(73 communes + random junctions)")


def north14(shared: Path, n_points: int, sample: int) -> None:
    roads, t_read = _t(lambda: gpd.read_file(shared / "roads" /
                                             "osm2021_north14_roads_core.gpkg"))
    graph, t_build = _t(lambda: build_road_graph(roads))
    outlines = gpd.read_file(shared / "roads" / "osm2021_north14_province_boundaries.geojson")
    communes = pd.read_csv(shared / "communes_2025_northern10.csv")
    pts = gpd.GeoDataFrame(communes, geometry=gpd.points_from_xy(communes.lon, communes.lat),
                           crs="EPSG:4326")
    inside = pts[pts.within(outlines.union_all())]
    pg = profile_graph(graph, get_profile("truck"))
    snap = snap_points(pg, inside["lon"].to_numpy(), inside["lat"].to_numpy())
    print(f"\n14-province core network: read {t_read:.1f} s, graph build {t_build:.1f} s; "
          f"{len(inside)} communes inside the 14 outlines")
    run_case("14 provinces (core)", graph, snap.node[:n_points], sample=sample,
             extra=f"(first {n_points} of {len(inside)} communes)")


def grid(n_points: int, sample: int, side: int = 360) -> None:
    """A side x side lattice of roads (about 4 * side^2 directed arcs), mixed classes."""
    rng = np.random.default_rng(1)
    step = 0.002
    classes = np.array(["minor", "tertiary", "secondary", "primary"])
    lines, cls = [], []
    for i in range(side):
        xs = 104.0 + np.arange(side) * step
        ys = np.full(side, 21.0 + i * step)
        lines.append(LineString(np.column_stack([xs, ys])))
        lines.append(LineString(np.column_stack([ys - 21.0 + 104.0, xs - 104.0 + 21.0])))
        cls += list(rng.choice(classes, 2))
    gdf = gpd.GeoDataFrame({"omt_class": cls, "oneway": 0}, geometry=lines, crs="EPSG:4326")
    graph, t_build = _t(lambda: build_road_graph(gdf))
    pg = profile_graph(graph, get_profile("truck"))
    points = rng.choice(np.flatnonzero(pg.in_main), size=n_points, replace=False)
    print(f"\ngenerated grid {side} x {side}: graph build {t_build:.1f} s")
    run_case("generated grid", graph, points, sample=sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--baseline-sources", type=int, default=10)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "geodata-src")
    parser.add_argument("--only", default="hagiang,north14,grid")
    args = parser.parse_args()
    os.environ["PLANNER_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-cache-")
    print(f"{os.cpu_count()} cores; matrices use {min(4, os.cpu_count() or 1)} threads")
    cases = args.only.split(",")
    if "hagiang" in cases:
        hagiang(args.shared, args.points, args.baseline_sources)
    if "north14" in cases:
        north14(args.shared, args.points, args.baseline_sources)
    if "grid" in cases:
        grid(args.points, args.baseline_sources)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this run: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
