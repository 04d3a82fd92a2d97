"""Sweeps on Dask against the sequential baseline: the same variants solved one after another
in this process and on a Dask LocalCluster of 2 worker processes, each variant with one search
process (``solver.workers: 1``) and the same time limit; the speed-up of the wall time and the
plans' quality (communes served, cost, objective) side by side.

    python -m benchmarks.sweeps [--sweep FILE] [--time-limit 5] [--workers 2]
    python -m benchmarks.sweeps --season [--days 14]

Without ``--sweep``: the default Hà Giang scenario, fleets {truck}, {van}, {truck, van} by
seasons dry and rainy (6 variants). With ``--season``: the embedded Hà Giang season (72
communes every 4 weeks) cut to ``--days`` days, planned as a season with 1, 2, 3 and 4
vehicles (4 variants; ``--time-limit`` is each period's routing search, by default the
season's own ``period_time_limit_s``); coverage counts communes served by their visit rule.
The Dask time includes starting the cluster (about 3 s);
the time of the batch alone is printed beside it. On a machine shared with other work the
speed-up is below the number of cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

from planner._dask import DaskEngine
from planner.scenario import load_scenario
from planner.sweep import (
    Axes,
    Base,
    SweepRun,
    SweepSpec,
    expand,
    load_sweep,
    run_sequential,
    seasonal_data,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "ha-giang-2026.yaml"
SEASON = ROOT / "scenarios" / "ha-giang-2026-season.yaml"
SEASON_FLEETS = ({"xe-tv": 1, "xe-van": 0}, {"xe-tv": 2, "xe-van": 0},
                 {"xe-tv": 2, "xe-van": 1}, {"xe-tv": 2, "xe-van": 2})


def default_variants(time_limit_s: float) -> list:
    scenario = load_scenario(DEFAULT)
    spec = SweepSpec(name="bench", time_limit_s=time_limit_s, axes=Axes(
        fleet=({"xe-tv-01": 1, "xe-van-02": 0}, {"xe-tv-01": 0, "xe-van-02": 1},
               {"xe-tv-01": 1, "xe-van-02": 1}),
        season=("dry", "rainy")))
    base = Base(scenario.name, str(DEFAULT), scenario.model_dump(mode="json", by_alias=True))
    return expand(spec, [base], file="benchmarks/sweeps.py")


def season_variants(days: int, time_limit_s: float | None) -> list:
    """The embedded season cut to ``days`` days, with fleets of 1 to 4 vehicles."""
    scenario = load_scenario(SEASON)
    assert scenario.periodic is not None
    limit = scenario.periodic.period_time_limit_s if time_limit_s is None else time_limit_s
    spec = SweepSpec(name="bench-season", time_limit_s=limit, axes=Axes(fleet=SEASON_FLEETS))
    base = Base(scenario.name, str(SEASON), scenario.model_dump(mode="json", by_alias=True))
    return expand(spec, [replace(base, data=seasonal_data(
        base.data, None, days=days, file="benchmarks/sweeps.py", field_name="--days"))],
        file="benchmarks/sweeps.py")


def _quality(run: SweepRun) -> dict[str, tuple]:
    out = {}
    for r in run.results:
        k = r.kpi() if r.ok else None
        out[r.key] = (r.status, k.communes_served if k else None, k.cost_vnd if k else None,
                      r.objective, r.wall_s, r.peak_rss_mb)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sweep", default=None, help="a sweep file (default: the built-in one)")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="seconds of search per variant (built-in sweeps; default 5, with "
                         "--season the season's period_time_limit_s)")
    ap.add_argument("--season", action="store_true",
                    help="the embedded Hà Giang season with 1-4 vehicles, instead")
    ap.add_argument("--days", type=int, default=14, help="the season's horizon (--season)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", default=None, help="write the figures to this file")
    args = ap.parse_args(argv)
    if args.sweep:
        _spec, variants = load_sweep(args.sweep)
    elif args.season:
        variants = season_variants(args.days, args.time_limit)
    else:
        variants = default_variants(5.0 if args.time_limit is None else args.time_limit)
    print(f"{len(variants)} variants, {variants[0].time_limit_s:g} s of search each; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"python {platform.python_version()}")
    # warm the road graph and matrix caches once, so neither run pays for building them
    run_sequential(variants[:1])
    seq = run_sequential(variants, name="sequential")
    t0 = time.perf_counter()
    with DaskEngine(n_workers=args.workers) as engine:
        dask_run = engine.run(variants, name="dask")
    total_dask = time.perf_counter() - t0  # with the cluster's start and stop
    overhead_s = total_dask - dask_run.wall_s
    sq, dq = _quality(seq), _quality(dask_run)
    if args.season:
        print("\nseason figures (sequential / dask): visits on trips of visits due, trips, "
              "nights away, km")
        for s, d in zip(seq.results, dask_run.results, strict=True):
            print(f"  {s.key:<44}" + " / ".join(
                f"{r.season.get('visits')} of {r.season.get('visits_due')}, "
                f"{r.kpi().trips} trips, {r.kpi().nights_away} nights, {r.kpi().km:,.0f} km"
                if r.ok else "failed" for r in (s, d)))
            for name, r in (("sequential", s), ("dask", d)):
                if r.unserved_reasons:
                    print(f"    {name}: left out {dict(r.unserved_reasons)}")
    print(f"\n{'variant':<44}{'served':>10}{'cost, M VND':>18}{'objective':>26}{'time, s':>14}")
    print(f"{'':<44}{'seq / dask':>10}{'seq / dask':>18}{'seq / dask':>26}{'seq / dask':>14}")
    for key in sq:
        s, d = sq[key], dq[key]
        cost = (f"{(s[2] or 0) / 1e6:.2f} / {(d[2] or 0) / 1e6:.2f}")
        print(f"{key:<44}{f'{s[1]} / {d[1]}':>10}{cost:>18}{f'{s[3]} / {d[3]}':>26}"
              f"{f'{s[4]:.1f} / {d[4]:.1f}':>14}")
    served_seq = sum(v[1] or 0 for v in sq.values())
    served_dask = sum(v[1] or 0 for v in dq.values())
    print(f"\nsequential: {seq.wall_s:.1f} s; {dask_run.engine}: {dask_run.wall_s:.1f} s "
          f"for the batch, {total_dask:.1f} s with the cluster's start and stop "
          f"({overhead_s:.1f} s)")
    print(f"speed-up: {seq.wall_s / dask_run.wall_s:.2f}x (batch), "
          f"{seq.wall_s / total_dask:.2f}x (with start-up); communes served in all variants: "
          f"{served_seq} sequential, {served_dask} on dask; failed: {len(seq.failed)} / "
          f"{len(dask_run.failed)}")
    print(f"peak memory per variant: {max(v[5] for v in sq.values()):.0f} MB sequential "
          f"(this process), {max(v[5] for v in dq.values()):.0f} MB on a dask worker")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "variants": len(variants), "sequential_s": seq.wall_s, "dask_batch_s": dask_run.wall_s,
            "dask_overhead_s": overhead_s, "speedup_batch": seq.wall_s / dask_run.wall_s,
            "sequential": sq, "dask": dq}, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
