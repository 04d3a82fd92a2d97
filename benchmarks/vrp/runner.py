"""Run solvers over a folder of benchmark instances, check every solution, write a per-instance
CSV and print mean gaps per family.

Each job is one (instance, solver) solve in its own worker process (single-threaded solvers;
``--jobs`` of them at a time). Every solution goes through :func:`check_solution`; infeasible
ones are counted as such and never enter a gap.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
import traceback
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from benchmarks.vrp.checker import check_periodic_solution, check_solution
from benchmarks.vrp.instances import (
    BestKnown,
    Instance,
    instance_files,
    read_bks,
    read_instance,
    read_periodic_solution,
)
from benchmarks.vrp.result import NotSupported, Outcome, Route

SOLVERS = ("product", "product-unseeded", "ortools", "pyvrp", "season", "published")
CSV_FIELDS = ("instance", "family", "solver", "time_limit", "distance", "vehicles", "feasible",
              "gap_bks", "gap_anchor", "wall_s", "bks", "bks_vehicles", "anchor", "status",
              "problems")
FAMILY_ORDER = ("C1", "C2", "R1", "R2", "RC1", "RC2", "X", "CVRP", "LC1", "LC2", "LR1", "LR2",
                "LRC1", "LRC2", "p", "PVRP", "PVRP-pr")
PERIODIC_SOLVERS = ("season", "published")  # the ones that take PVRP instances (only)
# the solutions published with an instance: ``solutions_1996/<name>.res`` beside a PVRP file
PUBLISHED_FOLDER = "solutions_1996"


def solver_function(name: str) -> Callable[[object, float], Outcome]:
    if name == "product":
        from benchmarks.vrp.product import solve_product
        return solve_product
    if name == "product-unseeded":
        from benchmarks.vrp.product import solve_product_unseeded
        return solve_product_unseeded
    if name == "ortools":
        from benchmarks.vrp.plain_ortools import solve_plain_ortools
        return solve_plain_ortools
    if name == "pyvrp":
        from benchmarks.vrp.pyvrp_runner import solve_pyvrp
        return solve_pyvrp
    if name == "season":
        from benchmarks.vrp.periodic import solve_season_product
        return solve_season_product
    raise ValueError(f"unknown solver {name!r}; choose from {', '.join(SOLVERS)}")


def _gap(value: float, reference: float | None) -> float | None:
    return None if not reference else 100.0 * (value - reference) / reference


def published(path: Path, inst: Instance) -> Outcome:
    """The solution published with a periodic instance (``solutions_1996/<name>.res``),
    checked like any solver's; :class:`NotSupported` when there is none."""
    res = path.parent / PUBLISHED_FOLDER / f"{path.stem}.res"
    if inst.kind != "pvrp" or not res.exists():
        raise NotSupported(f"no published solution ({PUBLISHED_FOLDER}/{path.stem}.res)")
    stated, routes = read_periodic_solution(res, inst)
    return Outcome(routes=tuple(Route(depot=0, visits=v, day=d) for d, v in routes),
                   status=f"published ({stated:g})", wall_s=0.0)


def run_job(path: str, solver: str, time_limit_s: float, bks: BestKnown | None) -> dict:
    """Solve one instance with one solver, check it, and return its CSV row."""
    inst = read_instance(path)
    row = {"instance": inst.name, "family": inst.family, "solver": solver,
           "time_limit": time_limit_s, "distance": "", "vehicles": "", "feasible": "",
           "gap_bks": "", "gap_anchor": "", "wall_s": "",
           "bks": bks.distance if bks else "",
           "bks_vehicles": bks.vehicles if bks and bks.vehicles is not None else "",
           "anchor": bks.anchor if bks and bks.anchor is not None else "",
           "status": "", "problems": ""}
    try:
        if (inst.kind == "pvrp") != (solver in PERIODIC_SOLVERS):
            raise NotSupported(f"{solver} does not take {inst.kind} instances")
        outcome = (published(Path(path), inst) if solver == "published"
                   else solver_function(solver)(inst, time_limit_s))
    except NotSupported as exc:
        row.update(status="unsupported", problems=str(exc))
        return row
    except Exception as exc:  # a crash is a result too; keep the run going
        row.update(status="error", problems=f"{type(exc).__name__}: {exc}")
        traceback.print_exc(file=sys.stderr)
        return row
    report = (check_periodic_solution(inst, [(r.day, r.visits) for r in outcome.routes])
              if inst.kind == "pvrp"
              else check_solution(inst, [(r.depot, r.visits) for r in outcome.routes]))
    row.update(distance=round(report.distance, 4), vehicles=report.vehicles,
               feasible=report.feasible, wall_s=round(outcome.wall_s, 2),
               status=outcome.status, problems="; ".join(report.problems[:5]))
    if report.feasible and bks:
        row["gap_bks"] = round(_gap(report.distance, bks.distance), 4)
        if bks.anchor is not None:
            row["gap_anchor"] = round(_gap(report.distance, bks.anchor), 4)
    return row


# ---------------------------------------------------------------------------------------------
# CSV


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _key(instance: str, solver: str, time_limit: float | str) -> tuple[str, str, float]:
    return instance, solver, float(time_limit)


# ---------------------------------------------------------------------------------------------
# table


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def family_table(rows: list[dict], solvers: list[str]) -> str:
    """Per family: instances, then per solver mean gap to BKS and to the anchor (%), mean
    vehicles, and infeasible/failed count. Gaps average feasible solutions only."""
    by_family: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_family[r["family"]][r["solver"]].append(r)
    order = sorted(by_family, key=lambda f: (FAMILY_ORDER.index(f) if f in FAMILY_ORDER
                                             else len(FAMILY_ORDER), f))
    head1 = f"{'family':<7}{'n':>4} {'BKSveh':>6} |"
    head2 = f"{'':<7}{'':>4} {'':>6} |"
    for s in solvers:
        head1 += f" {s:^29} |"
        head2 += f" {'gap%':>7} {'anch%':>7} {'veh':>6} {'bad':>6} |"
    lines = [head1, head2, "-" * len(head2)]
    for fam in order:
        per = by_family[fam]
        names = {r["instance"] for rs in per.values() for r in rs}
        bks_veh = {r["instance"]: float(r["bks_vehicles"]) for rs in per.values() for r in rs
                   if r["bks_vehicles"] not in ("", None)}
        line = f"{fam:<7}{len(names):>4} {_fmt(_mean(list(bks_veh.values())), 1):>6} |"
        for s in solvers:
            rs = per.get(s, [])
            if rs and all(r["status"] == "unsupported" for r in rs):
                line += f" {'not supported yet':^29} |"
                continue
            ok = [r for r in rs if str(r["feasible"]) == "True"]
            bad = len(rs) - len(ok)
            gaps = [float(r["gap_bks"]) for r in ok if r["gap_bks"] not in ("", None)]
            anch = [float(r["gap_anchor"]) for r in ok if r["gap_anchor"] not in ("", None)]
            veh = [float(r["vehicles"]) for r in ok]
            line += (f" {_fmt(_mean(gaps)):>7} {_fmt(_mean(anch)):>7} {_fmt(_mean(veh), 1):>6}"
                     f" {f'{bad}/{len(rs)}':>6} |")
        lines.append(line)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.vrp",
        description="Solve VRP benchmark instances with the product model, plain OR-Tools and "
                    "PyVRP; check every solution; print mean gaps per family.")
    ap.add_argument("folder", type=Path, help="folder of instances (Solomon, Li & Lim, "
                    "CVRPLIB .vrp, Cordeau), with an optional bks.csv")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per solve")
    ap.add_argument("--solvers", default=",".join(SOLVERS),
                    help=f"comma-separated, from {','.join(SOLVERS)}")
    ap.add_argument("--jobs", type=int, default=1, help="solves in parallel (processes)")
    ap.add_argument("--sample", type=int, default=None, help="solve K random instances")
    ap.add_argument("--seed", type=int, default=0, help="seed for --sample")
    ap.add_argument("--instances", default=None,
                    help="comma-separated instance names (file stems) to keep")
    ap.add_argument("--csv", type=Path, default=None,
                    help="per-instance CSV (default: vrp_<folder>_<limit>s.csv here)")
    ap.add_argument("--resume", action="store_true",
                    help="skip (instance, solver, time limit) rows already in the CSV")
    args = ap.parse_args(argv)
    args.solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    unknown = [s for s in args.solvers if s not in SOLVERS]
    if unknown:
        ap.error(f"unknown solver(s) {', '.join(unknown)}; choose from {', '.join(SOLVERS)}")
    if not args.folder.is_dir():
        ap.error(f"{args.folder} is not a folder")
    if args.csv is None:
        args.csv = Path(f"vrp_{args.folder.resolve().name}_{args.time_limit:g}s.csv")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    files = instance_files(args.folder)
    if args.instances:
        keep = {s.strip() for s in args.instances.split(",")}
        files = [f for f in files if f.stem in keep]
    if args.sample is not None and args.sample < len(files):
        files = sorted(random.Random(args.seed).sample(files, args.sample))
    if not files:
        print(f"no instances in {args.folder}", file=sys.stderr)
        return 1
    bks = read_bks(args.folder)
    existing = read_rows(args.csv) if args.resume else []
    done = {_key(r["instance"], r["solver"], r["time_limit"]) for r in existing}
    name_of = {f: read_instance(f).name for f in files}
    jobs = [(f, s) for f in files for s in args.solvers
            if _key(name_of[f], s, args.time_limit) not in done]
    print(f"{len(files)} instances x {len(args.solvers)} solvers at {args.time_limit:g} s: "
          f"{len(jobs)} solves to run, {args.jobs} at a time; CSV {args.csv}", flush=True)

    write_header = not (args.resume and args.csv.exists())
    new_rows: list[dict] = []
    with args.csv.open("w" if write_header else "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        if write_header:
            writer.writeheader()
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_job, str(path), solver, args.time_limit,
                                   bks.get(name_of[path]))
                       for path, solver in jobs]
            for fut in as_completed(futures):
                row = fut.result()
                writer.writerow(row)
                fh.flush()
                new_rows.append(row)
                print(f"  {row['instance']:<12} {row['solver']:<8} dist={row['distance']!s:<11}"
                      f" veh={row['vehicles']!s:<3} feasible={row['feasible']!s:<5} "
                      f"gap={row['gap_bks']!s:<8} {row['status']}", flush=True)

    names = set(name_of.values())
    rows = [r for r in existing + new_rows
            if r["instance"] in names and r["solver"] in args.solvers
            and float(r["time_limit"]) == args.time_limit]
    print()
    print(f"{args.folder} — time limit {args.time_limit:g} s per solve; gap% = mean gap to the "
          "BKS column (Solomon: bks_distance_only), anch% = to best_anchor_distance; "
          "feasible solutions only; bad = infeasible or failed / solved")
    print(family_table(rows, args.solvers))
    return 0
