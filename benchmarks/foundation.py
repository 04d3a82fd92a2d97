"""Foundation benchmark on the embedded Hà Giang data.

Measures, in one run: reading the road lines and building the junction graph (cold), loading
it from the cache, the per-profile graph, the time+distance matrix among the library and the
73 communes with SciPy (cold, then cached) against a networkx baseline (per-source Dijkstra on
a sample of sources, extrapolated to all sources), and optionally one solve of the default
scenario.

    python -m benchmarks.foundation [--baseline-sources 8] [--solve]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import networkx as nx
import numpy as np

from geodata.cache import cached
from geodata.datasets import load_dataset
from geodata.network import build_road_graph
from geodata.profiles import get_profile
from geodata.routing import profile_graph, snap_points, travel_matrices


def timed(fn):  # noqa: ANN001, ANN201
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-sources", type=int, default=8)
    parser.add_argument("--solve", action="store_true", help="also time one default solve")
    args = parser.parse_args()
    os.environ["PLANNER_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-cache-")

    ds = load_dataset("ha_giang")
    roads, t_read = timed(ds.roads)
    graph, t_build = timed(lambda: build_road_graph(roads))
    _, t_store = timed(lambda: cached("graphs", "bench", lambda: graph))
    (_, hit), t_load = timed(lambda: cached("graphs", "bench", lambda: graph))
    assert hit
    pg, t_pg = timed(lambda: profile_graph(graph, get_profile("truck")))
    lib = ds.libraries.iloc[0]
    lon = np.r_[lib["lon"], ds.communes["lon"].to_numpy()]
    lat = np.r_[lib["lat"], ds.communes["lat"].to_numpy()]
    snap, t_snap = timed(lambda: snap_points(pg, lon, lat))
    n = len(snap.node)
    mat, t_mat = timed(lambda: travel_matrices(pg, snap.node))
    cached("matrices", "bench", lambda: mat)
    (_, hit), t_mat_cached = timed(lambda: cached("matrices", "bench", lambda: mat))

    # networkx baseline: same arcs, per-source Dijkstra on time, then the length of that path
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(pg.arc_from.tolist(), pg.arc_to.tolist(),
                                  pg.arc_time_s.tolist(), strict=True), weight="t")
    k = min(args.baseline_sources, n)
    t0 = time.perf_counter()
    for s in snap.node[:k].tolist():
        _, paths = nx.single_source_dijkstra(g, s, weight="t")
        for target in snap.node.tolist():
            path = paths.get(target)
            if path and len(path) > 1:
                idx = pg.arc_index(np.array(path[:-1]), np.array(path[1:]))
                float(pg.arc_length_m[idx].sum())
    t_nx = (time.perf_counter() - t0) / k * n

    r = graph.report
    print(f"road lines {r.input_lines}, {r.input_km:.0f} km, {r.input_vertices} vertices -> "
          f"{r.junctions} junctions, {r.edges} edges ({r.joined_ends} ends joined)")
    print(f"truck main component: {pg.report.kept_nodes} junctions, {pg.report.kept_km:.0f} km "
          f"kept, {pg.report.dropped_km:.0f} km in {pg.report.dropped_parts} parts dropped")
    print(f"{'step':<44}{'seconds':>10}")
    for name, val in [("read roads.parquet", t_read), ("build junction graph (cold)", t_build),
                      ("write graph to cache", t_store), ("load graph from cache", t_load),
                      ("truck profile graph + SCC", t_pg), (f"snap {n} points", t_snap),
                      (f"{n}x{n} time+distance matrix, scipy (cold)", t_mat),
                      (f"{n}x{n} matrix from cache", t_mat_cached),
                      (f"{n}x{n} matrix, networkx baseline (extrapolated from {k} sources)",
                       t_nx)]:
        print(f"{name:<44}{val:>10.3f}")
    print(f"matrix speed-up over networkx: cold {t_nx / t_mat:.1f}x, cached "
          f"{t_nx / t_mat_cached:.0f}x")
    if args.solve:
        from pathlib import Path

        from planner.pipeline import solve_scenario
        from planner.scenario import load_scenario

        sc = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "ha-giang-2026.yaml")
        for label in ("cold cache", "warm cache"):
            solved, t = timed(lambda: solve_scenario(sc))
            plan = solved.plan
            tm = plan.provenance.timings_s
            print(f"solve default scenario ({label}): total {t:.1f} s (graph {tm['graph_s']:.2f} "
                  f"s, matrices {tm['matrices_s']:.2f} s, search "
                  f"{plan.provenance.solve_wall_s or 0:.1f} s), served "
                  f"{plan.kpis.communes_served}, {plan.kpis.km} km")


if __name__ == "__main__":
    main()
