"""Run the real-scenario benchmark set: every instance solved by the product at the time
limit, optionally by the product at 10x the limit, and by the plain OR-Tools baseline, in the
same run; each plan audited as ``planner check`` does; compared with the best-known plans.

    python -m benchmarks.scenarios DIR [--time-limit 60] [--with-10x] [--instances a,b]
                                   [--best-known DIR] [--out PREFIX] [--make-best-known]
    python -m benchmarks.scenarios build [--src ../shared/geodata-src] [--data-dir DIR]
    python -m benchmarks.scenarios make-instances [--out DIR]

Printed per instance and method: communes served against the best-known plan, the gap of
``kpis.cost_vnd`` to the best-known cost when as many communes are served (else ``-``), the
time into the solve of the first plan that serves as many communes as the best-known one
(from the solve's progress callback), and the number of ``planner check`` findings. Without a
best-known file for an instance, the best plan of the run (fewest unserved, then cheapest, no
findings) stands in for it, marked ``run`` in the ``ref`` column. Results go to
``PREFIX.json`` (every run with its progress and findings) and ``PREFIX.csv`` (one row per
run).

Methods:

* ``product``: ``planner solve``'s default search (``solve_scenario``) at the time limit;
* ``product-10x``: the same at ten times the limit (``--with-10x``);
* ``baseline``: the plain OR-Tools baseline on the same model: one process (``workers: 1``),
  no PyVRP seed, no iterated local search, parallel cheapest insertion then guided local
  search, set through the scenario's own ``solver:`` settings;
* ``product-trips`` (``--several-trips``): the product's search on the instance read as a
  schema-3 scenario, so each vehicle may make several trips within the horizon (the
  instances are schema 2: one trip per vehicle), to measure what several trips bring.

``--make-best-known`` runs the product at 10x over 3 seeds and the baseline at 10x, and
writes each instance's best plan without findings to its best-known file when it beats the
one there (:mod:`benchmarks.scenarios.bestknown`); ``--update-best-known`` does the same
with the plans of an ordinary run, so a better plan found later by any method replaces one.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import logging
import shlex
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.scenarios import bestknown, data
from benchmarks.scenarios.bestknown import BestKnown
from planner.check import check_plan
from planner.outputs import load_scenario_for_plan, read_plan_folder, write_outputs
from planner.pipeline import (
    Network,
    Solved,
    plan_cost_vnd,
    prepare_network,
    problem_for,
    solve_scenario,
)
from planner.scenario import Scenario, parse_scenario
from planner.schedule import time_trips
from planner.solution import SolveProgress

HERE = Path(__file__).resolve().parent
INSTANCES = HERE / "instances"
BEST_KNOWN = HERE / "best-known"

# the plain OR-Tools baseline, as scenario solver settings (docs/scenario-schema.md, `solver`)
BASELINE = {"workers": 1, "seed_with_pyvrp": False, "iterated_local_search": False,
            "first_solution": "PARALLEL_CHEAPEST_INSERTION",
            "local_search": "GUIDED_LOCAL_SEARCH"}
CSV_FIELDS = ("instance", "stops", "method", "seed", "time_limit_s", "served", "cost_vnd",
              "km", "ref_served", "ref_cost_vnd", "ref_source", "gap_pct", "t_first_s",
              "findings", "solve_s", "wall_s", "strategy", "error")


@dataclass
class Run:
    """One solve of one instance by one method."""

    instance: str
    method: str
    seed: int
    time_limit_s: float
    stops: int = 0
    served: int | None = None
    cost_vnd: float | None = None
    km: float | None = None
    findings: list[str] = field(default_factory=list)
    solve_s: float | None = None
    wall_s: float | None = None
    strategy: str = ""
    # (seconds into the solve, objective, communes served by that plan)
    progress: list[tuple[float, int, int]] = field(default_factory=list)
    routes: dict[str, list[str]] = field(default_factory=dict)
    instance_sha256: str = ""
    error: str = ""
    # filled in against the reference
    ref_served: int | None = None
    ref_cost_vnd: float | None = None
    ref_source: str = ""
    gap_pct: float | None = None
    t_first_s: float | None = None

    @property
    def ok(self) -> bool:
        return not self.error and self.served is not None and not self.findings

    def key(self) -> tuple[int, float]:
        """Smaller is better: more served, then cheaper."""
        return (-(self.served or 0), self.cost_vnd if self.cost_vnd is not None else 1e30)


# ---------------------------------------------------------------------------------------------
# one solve


def instance_files(folder: Path, names: set[str] | None = None) -> list[Path]:
    files = sorted(folder.glob("*.yaml"), key=_size_order)
    return [f for f in files if names is None or f.stem in names]


def _size_order(path: Path) -> tuple[int, str]:
    text = path.read_text(encoding="utf-8")
    return text.count("commune_code:"), path.stem


def load_instance(path: Path, method: str) -> Scenario:
    """The instance's scenario, with the baseline's solver settings for the baseline."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: not a scenario (a YAML mapping)")
    if method.startswith("baseline"):
        raw["solver"] = {**(raw.get("solver") or {}), **BASELINE}
    if method.endswith("-trips"):  # several trips per vehicle: schema 3's default
        raw["schema_version"] = max(3, int(raw.get("schema_version", 1)))
    return parse_scenario(raw, file=str(path))


def audit(solved: Solved) -> list[str]:
    """``planner check`` of the plan as written: plan.json and scenario.json read back, the
    scenario's routing problem rebuilt on the same road network, the independent checker."""
    with tempfile.TemporaryDirectory(prefix="bench-scenarios-") as tmp:
        folder = Path(tmp)
        write_outputs(solved.plan, solved.network, solved.scenario, folder)
        plan = read_plan_folder(folder)
        scenario, _ = load_scenario_for_plan(folder / "plan.json")
    problem = problem_for(scenario, solved.network)
    return [str(v) for v in check_plan(scenario, problem, plan)]


def solve_one(path: Path, method: str, time_limit_s: float, seed: int
              ) -> tuple[Run, Network | None]:
    """One solve: its record and the road network it was planned on (``None`` if it
    failed before)."""
    network = None
    run = Run(instance=path.stem, method=method, seed=seed, time_limit_s=time_limit_s)
    raw_progress: list[tuple[float, int, int]] = []

    def on_progress(p: SolveProgress) -> None:
        raw_progress.append((p.elapsed_s, p.objective, p.served))

    t0 = time.perf_counter()
    try:
        run.instance_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        scenario = load_instance(path, method)
        run.stops = len(scenario.stops)
        solved = solve_scenario(scenario, scenario_file=str(path), time_limit_s=time_limit_s,
                                seed=seed, on_progress=on_progress)
        run.wall_s = round(time.perf_counter() - t0, 2)
        network = solved.network
        plan = solved.plan
        run.served = plan.kpis.communes_served
        run.cost_vnd = plan.kpis.cost_vnd
        run.km = round(plan.kpis.km, 1)
        run.solve_s = plan.provenance.solve_wall_s
        run.strategy = plan.provenance.search_strategy or ""
        run.routes = {(r.trip_id or r.vehicle_id): [v.commune_code for v in r.visits]
                      for r in plan.routes if r.visits}
        run.progress = list(raw_progress)
        run.findings = audit(solved)
    except Exception as exc:  # a crash is a result too; keep the run going
        run.error = f"{type(exc).__name__}: {exc}"
        run.wall_s = round(time.perf_counter() - t0, 2)
        traceback.print_exc(file=sys.stderr)
    return run, network


# ---------------------------------------------------------------------------------------------
# against the reference


def retimed_cost(path: Path, known: BestKnown, network: Network | None = None
                 ) -> float | None:
    """The cost of the best-known plan's routes timed by today's schedule rules (which may
    time the same routes more cheaply than when the plan was found: a trip now sets out as
    late as its return allows), ``None`` if they no longer fit them. ``network``: the
    instance's, if a solve of the product's scenario has prepared it."""
    scenario = load_instance(path, "product")
    net = network or prepare_network(scenario, scenario_file=str(path))
    problem = problem_for(scenario, net)
    index = {p.key: i for i, p in enumerate(net.places) if p.kind == "stop"}
    try:
        routes = tuple(tuple(index[c] for c in known.routes.get(v.id, ()))
                       for v in problem.vehicles)
    except KeyError:
        return None
    timings = time_trips(problem, routes)
    if sum(map(len, routes)) != known.served or not all(t.feasible for t in timings):
        return None
    return plan_cost_vnd(scenario, net.places, problem, timings)


def compare(runs: list[Run], known: BestKnown | None, retimed: float | None = None) -> None:
    """Fill in each run's reference, cost gap and time to the reference's served count; the
    best-known plan's cost is the lower of the file's and ``retimed`` (its routes timed by
    today's rules: :func:`retimed_cost`)."""
    if known is not None and runs and known.instance_sha256 != runs[0].instance_sha256:
        print(f"  note: the best-known plan of {known.instance} was found for another "
              "version of the instance file (stale); measuring against this run's best",
              flush=True)
        known = None
    ref_served: int | None
    ref_cost: float | None
    if known is not None:
        ref_served, ref_cost, source = known.served, known.cost_vnd, "file"
        if retimed is not None and retimed < known.cost_vnd:
            print(f"  {known.instance}: the best-known routes timed by today's rules cost "
                  f"{retimed:,.0f} VND (file: {known.cost_vnd:,.0f}); measuring against that",
                  flush=True)
            ref_cost, source = retimed, "retimed"
    else:
        good = sorted((r for r in runs if r.ok), key=Run.key)
        if not good:
            return
        ref_served, ref_cost, source = good[0].served, good[0].cost_vnd, "run"
    for r in runs:
        r.ref_served, r.ref_cost_vnd, r.ref_source = ref_served, ref_cost, source
        r.gap_pct = r.t_first_s = None
        if r.served is None:
            continue
        if r.served == ref_served and r.cost_vnd is not None and ref_cost:
            r.gap_pct = round(100.0 * (r.cost_vnd - ref_cost) / ref_cost, 3)
        r.t_first_s = next((e for e, _o, s in r.progress if s >= (ref_served or 0)), None)


def best_known_entry(run: Run, command: str, commit: str) -> BestKnown:
    return BestKnown(instance=run.instance, instance_sha256=run.instance_sha256,
                     stops=run.stops, served=run.served or 0, cost_vnd=run.cost_vnd or 0.0,
                     km=run.km or 0.0, method=run.method, seed=run.seed,
                     time_limit_s=run.time_limit_s, commit=commit,
                     command=command, date=dt.date.today().isoformat(), routes=run.routes)


# ---------------------------------------------------------------------------------------------
# output


def _f(x: Any, fmt: str = "{}") -> str:
    return "-" if x is None or x == "" else fmt.format(x)


def table(runs: list[Run]) -> str:
    head = (f"{'instance':<20}{'stops':>6} {'method':<14}{'seed':>4}{'limit s':>8}"
            f"{'served':>7}{'ref':>5} {'src':<8}{'cost M VND':>11}{'gap %':>8}"
            f"{'t_first s':>10}{'check':>6}{'solve s':>8}")
    lines = [head, "-" * len(head)]
    for r in runs:
        if r.error:
            lines.append(f"{r.instance:<20}{r.stops:>6} {r.method:<14}{r.seed:>4}"
                         f"{r.time_limit_s:>8g}  ERROR {r.error[:60]}")
            continue
        cost = None if r.cost_vnd is None else r.cost_vnd / 1e6
        lines.append(
            f"{r.instance:<20}{r.stops:>6} {r.method:<14}{r.seed:>4}{r.time_limit_s:>8g}"
            f"{_f(r.served):>7}{_f(r.ref_served):>5} {r.ref_source:<8}"
            f"{_f(cost, '{:.2f}'):>11}{_f(r.gap_pct, '{:.2f}'):>8}"
            f"{_f(r.t_first_s, '{:.1f}'):>10}{len(r.findings):>6}{_f(r.solve_s, '{:.1f}'):>8}")
    return "\n".join(lines)


def summary(runs: list[Run]) -> str:
    """Per method: runs at the reference's served count, mean and worst cost gap among
    them, findings; with several seeds, each instance's served counts and gaps by seed."""
    lines = []
    for method in dict.fromkeys(r.method for r in runs):
        rs = [r for r in runs if r.method == method]
        at_ref = [r for r in rs if r.served is not None and r.served == r.ref_served]
        gaps = [r.gap_pct for r in at_ref if r.gap_pct is not None]
        mean = f"{sum(gaps) / len(gaps):.2f}" if gaps else "-"
        worst = f"{max(gaps):.2f}" if gaps else "-"
        seeds = sorted({r.seed for r in rs})
        over = f" ({len(seeds)} seeds)" if len(seeds) > 1 else ""
        lines.append(f"{method:<14} served as the reference: {len(at_ref)}/{len(rs)}{over}; "
                     f"cost gap mean {mean}%, worst {worst}%; findings "
                     f"{sum(len(r.findings) for r in rs)}; errors {sum(1 for r in rs if r.error)}")
        if len(seeds) > 1:
            for instance in dict.fromkeys(r.instance for r in rs):
                mine = [r for r in rs if r.instance == instance]
                cells = ", ".join(
                    f"{_f(r.served)}" + (f" {r.gap_pct:+.2f}%" if r.gap_pct is not None
                                         and r.served == r.ref_served else "")
                    for r in mine)
                lines.append(f"  {instance:<20} ref {_f(mine[0].ref_served)}: {cells}")
    return "\n".join(lines)


def write_results(runs: list[Run], prefix: Path, meta: dict[str, Any]) -> tuple[Path, Path]:
    json_path, csv_path = prefix.with_suffix(".json"), prefix.with_suffix(".csv")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({**meta, "runs": [asdict(r) for r in runs]},
                                    ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in runs:
            row = {k: getattr(r, k) for k in CSV_FIELDS if k != "findings"}
            w.writerow({**row, "findings": len(r.findings)})
    return json_path, csv_path


# ---------------------------------------------------------------------------------------------
# command line


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.scenarios",
        description="Real-scenario benchmark: product, product at 10x and the plain OR-Tools "
                    "baseline against best-known plans (subcommands: build, make-instances).")
    ap.add_argument("folder", type=Path, nargs="?", default=INSTANCES,
                    help=f"folder of instance scenarios (default {INSTANCES})")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    ap.add_argument("--with-10x", action="store_true",
                    help="also solve with the product at 10x the time limit")
    ap.add_argument("--no-baseline", action="store_true", help="skip the OR-Tools baseline")
    ap.add_argument("--several-trips", action="store_true",
                    help="also solve each instance with several trips per vehicle allowed "
                         "(method product-trips)")
    ap.add_argument("--seed", type=_seeds, default=(0,),
                    help="seed of the product runs, or several (0,1,2): each product method "
                         "runs once per seed, and the summary gives each instance's spread")
    ap.add_argument("--instances", default=None, help="comma-separated instance names")
    ap.add_argument("--best-known", type=Path, default=BEST_KNOWN,
                    help=f"folder of best-known plan files (default {BEST_KNOWN})")
    ap.add_argument("--out", type=Path, default=None,
                    help="results PREFIX (.json and .csv; default "
                         "bench-scenarios-<limit>s in the current folder)")
    ap.add_argument("--make-best-known", action="store_true",
                    help="product at 10x over --seeds seeds and the baseline at 10x; write a "
                         "best-known file where the best plan beats the one on file")
    ap.add_argument("--seeds", type=int, default=3, help="seeds for --make-best-known")
    ap.add_argument("--update-best-known", action="store_true",
                    help="write a run's plan to the best-known file where it beats the one "
                         "there (any method; the file names it)")
    ap.add_argument("--src", type=Path, default=data.DEFAULT_SRC,
                    help="staged geodata sources, to build a missing benchmark dataset")
    args = ap.parse_args(argv)
    if args.time_limit <= 0:
        ap.error("--time-limit must be positive")
    if not args.folder.is_dir():
        ap.error(f"{args.folder} is not a folder of instance scenarios")
    if args.out is None:
        tag = "best-known-" if args.make_best_known else ""
        args.out = Path(f"bench-scenarios-{tag}{args.time_limit:g}s")
    return args


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a seed or comma-separated seeds, e.g. 0 or 0,1,2") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: seeds must be distinct and not negative")
    return seeds


def methods_of(args: argparse.Namespace) -> list[tuple[str, float, int]]:
    limit = args.time_limit
    if args.make_best_known:
        out = [("product-10x", 10 * limit, s) for s in range(args.seeds)]
        return out + [("baseline-10x", 10 * limit, 0)]
    out = [("product", limit, s) for s in args.seed]
    if args.with_10x:
        out += [("product-10x", 10 * limit, s) for s in args.seed]
    if args.several_trips:
        out += [("product-trips", limit, s) for s in args.seed]
    if not args.no_baseline:
        out.append(("baseline", limit, 0))
    return out


def _networks(files: list[Path]) -> set[str]:
    out = set()
    for f in files:
        raw = yaml.safe_load(f.read_text(encoding="utf-8"))
        out.add(str(raw.get("network", "ha_giang")) if isinstance(raw, dict) else "")
    return out


def run_set(args: argparse.Namespace, command: str) -> list[Run]:
    names = {s.strip() for s in args.instances.split(",")} if args.instances else None
    files = instance_files(args.folder, names)
    if not files:
        raise SystemExit(f"no instance scenarios (*.yaml) in {args.folder}"
                         + (f" named {args.instances}" if names else ""))
    data.ensure(_networks(files), args.src)
    with data.benchmark_data():
        return _run_files(args, files, command)


def _run_files(args: argparse.Namespace, files: list[Path], command: str) -> list[Run]:
    methods = methods_of(args)
    print(f"{len(files)} instances x {len(methods)} solves "
          f"({', '.join(f'{m} {t:g} s seed {s}' for m, t, s in methods)}); "
          f"results {args.out}.json/.csv", flush=True)
    runs: list[Run] = []
    for path in files:
        mine = []
        network = None  # the product's, for the best-known plan's re-timing
        for method, limit, seed in methods:
            run, net = solve_one(path, method, limit, seed)
            if method == "product":
                network = network or net
            print(f"  {run.instance:<20} {method:<13} seed {seed}: served {run.served}/"
                  f"{run.stops}, cost {_f(run.cost_vnd, '{:,.0f}')} VND, "
                  f"{len(run.findings)} findings, {run.wall_s} s {run.error}", flush=True)
            mine.append(run)
        known = bestknown.read(args.best_known, path.stem)
        retimed = retimed_cost(path, known, network) if known is not None and known.routes else None
        compare(mine, known, retimed)
        if args.make_best_known or args.update_best_known:
            good = sorted((r for r in mine if r.ok), key=Run.key)
            if good:
                entry = best_known_entry(good[0], command, args.commit)
                written = bestknown.update(args.best_known, entry)
                print(f"  {path.stem}: best of the run {good[0].method} seed {good[0].seed} "
                      f"({entry.served} served, {entry.cost_vnd:,.0f} VND): "
                      f"{'written' if written else 'not better than the file'}", flush=True)
        runs.extend(mine)
    return runs


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    if argv[:1] == ["build"]:
        return _build(argv[1:])
    if argv[:1] == ["make-instances"]:
        return _make_instances(argv[1:])
    args = parse_args(argv)
    # the code that runs is the code at the start (edits during a long run do not reach it)
    args.commit = bestknown.git_commit()
    command = "python -m benchmarks.scenarios " + shlex.join(argv)
    started = time.perf_counter()
    try:
        runs = run_set(args, command)
    except data.BenchDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    meta = {"command": command, "commit": args.commit,
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "time_limit_s": args.time_limit, "wall_s": round(time.perf_counter() - started, 1)}
    json_path, csv_path = write_results(runs, args.out, meta)
    print()
    print(f"{args.folder}: time limit {args.time_limit:g} s; served vs the best-known plan "
          "(ref; src: file = best-known file, run = best plan of this run); gap % = cost_vnd "
          "against the reference's at the same served count; t_first = seconds into the solve "
          "to the first plan serving as many; check = planner check findings")
    print(table(runs))
    for r in runs:
        for finding in r.findings[:5]:
            print(f"  {r.instance} {r.method}: {finding}")
        if len(r.findings) > 5:
            print(f"  {r.instance} {r.method}: … {len(r.findings) - 5} more (in the JSON)")
    print()
    print(summary(runs))
    print(f"\nresults: {json_path}, {csv_path}")
    return 1 if any(r.error for r in runs) else 0


def _build(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scenarios build",
                                 description="Import the benchmark's own road datasets.")
    ap.add_argument("--src", type=Path, default=data.DEFAULT_SRC)
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="default $PLANNER_BENCH_DATA_DIR, else the cache folder's "
                         "benchmark-datasets")
    ap.add_argument("--force", action="store_true", help="re-import datasets already there")
    args = ap.parse_args(argv)
    try:
        built = data.build(args.src, args.data_dir, force=args.force)
    except data.BenchDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    folder = args.data_dir or data.bench_data_dir()
    print(f"benchmark datasets in {folder}: "
          + (", ".join(p.name for p in built) + " built" if built else "all present"))
    return 0


def _make_instances(argv: list[str]) -> int:
    from benchmarks.scenarios.make_instances import write_instances

    ap = argparse.ArgumentParser(prog="python -m benchmarks.scenarios make-instances")
    ap.add_argument("--out", type=Path, default=INSTANCES)
    args = ap.parse_args(argv)
    for path in write_instances(args.out):
        print(path)
    return 0
