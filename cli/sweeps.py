"""``planner sweep``, ``planner fleet-size``, ``planner region`` and ``planner sweeps``: scenario
variants solved on Dask (or one after another), compared, stored in the database and drawn.
No logic of its own: :mod:`planner.sweep`, :mod:`planner.fleet`, :mod:`planner.region` decide,
:mod:`planner._dask` runs, :mod:`render.sweepcharts` draws, :mod:`storage.sweeps` keeps."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.errors import PlannerError

if TYPE_CHECKING:
    from planner._dask import DaskEngine
    from planner.sweep import SequentialEngine, SweepRun, VariantResult

BAR_WIDTH = 30


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:8786",
                   help="the Dask scheduler of a cluster (default: a LocalCluster here)")
    p.add_argument("--workers", type=int, default=2,
                   help="worker processes of the LocalCluster (default 2)")
    p.add_argument("--sequential", action="store_true",
                   help="solve the variants one after another in this process, no Dask (the "
                        "baseline)")
    p.add_argument("--out", default=None, help="folder for the report: results.csv and "
                                               "PNG charts")
    p.add_argument("--lang", choices=["vi", "en"], default="vi", help="language of the charts")
    p.add_argument("--no-store", action="store_true",
                   help="do not keep the results in the database")
    p.add_argument("--database", default=None, help="database URL (default: DATABASE_URL, "
                                                    "else the web UI's SQLite file)")


def add_season_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--season", default=None, metavar="FILE",
                   help="plan a season: the calendar, horizon and visit rule of this season "
                        "scenario (schema 4, `periodic:`)")
    p.add_argument("--season-days", type=int, default=None, metavar="N",
                   help="cut the season's horizon to N days (a quick what-if)")


def _season_spec(args: argparse.Namespace) -> Any:
    """The ``season:`` of a sweep from ``--season``/``--season-days`` (None: neither)."""
    from planner.sweep import SeasonSpec

    if args.season is None and args.season_days is None:
        return None
    if args.season_days is not None and not 1 <= args.season_days <= 366:
        raise PlannerError(f"--season-days {args.season_days}: give 1 to 366 days")
    return SeasonSpec(file=str(Path(args.season).resolve()) if args.season else None,
                      days=args.season_days)


def engine_of(args: argparse.Namespace) -> DaskEngine | SequentialEngine:
    if args.sequential:
        if args.scheduler:
            raise PlannerError("--sequential and --scheduler: choose one")
        from planner.sweep import SequentialEngine
        return SequentialEngine()
    if args.workers < 1:
        raise PlannerError(f"--workers {args.workers}: give 1 or more worker processes")
    if args.scheduler is not None and not args.scheduler.startswith(("tcp://", "tls://")):
        raise PlannerError(f"--scheduler {args.scheduler!r}: give the scheduler's address, "
                           "e.g. tcp://10.0.0.5:8786")
    from planner._dask import DaskEngine
    return DaskEngine(scheduler=args.scheduler, n_workers=args.workers)


def progress_bar(done: int, total: int, result: VariantResult) -> None:
    """One line on stderr, redrawn: ``[#####.....] 3/8 key ok 3.1 s``."""
    filled = round(BAR_WIDTH * done / total) if total else BAR_WIDTH
    state = "ok" if result.ok else "FAILED"
    line = (f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} "
            f"{result.key[:40]} {state} {result.wall_s:.1f} s")
    print(f"{line:<100}", end="\n" if done == total else "", file=sys.stderr, flush=True)


def table_rows(results: list[VariantResult] | tuple[VariantResult, ...]) -> list[list[Any]]:
    from planner.sweep import COMPARISON_COLUMNS, comparison_value

    rows: list[list[Any]] = [["variant", "status", *(label for _, label in COMPARISON_COLUMNS),
                              "error"]]
    for r in results:
        cells: list[Any] = [r.key, r.status]
        for key, _label in COMPARISON_COLUMNS:
            value = comparison_value(r, key)
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, float):
                value = f"{value:.1%}" if key == "service_area_share" else f"{value:,.1f}"
            elif isinstance(value, int):
                value = f"{value:,d}"
            cells.append("–" if value is None else value)
        cells.append(r.error.splitlines()[-1][:80] if r.error else "")
        rows.append(cells)
    return rows


def print_table(rows: list[list[Any]]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(f"{str(c):<{w}}" for c, w in zip(row, widths, strict=True)).rstrip())


def _store(args: argparse.Namespace, run: SweepRun, *, kind: str, spec: dict[str, Any],
           title: str, summary: dict[str, Any] | None = None) -> None:
    if args.no_store:
        return
    from cli import _open_database
    from storage.sweeps import save_sweep

    db = _open_database(args.database)
    try:
        with db.begin() as session:
            sweep_id = save_sweep(session, run, kind=kind, spec=spec, title=title,
                                  summary=summary)
    finally:
        db.dispose()
    print(f"stored as sweep {sweep_id} in {db.url} (`planner sweeps {sweep_id}`; web: "
          f"/sweeps/{sweep_id})")


def _write_report(out: Path, rows: list[list[Any]], charts: dict[str, bytes],
                  extra: dict[str, Any] | None = None) -> None:
    from render.exports import csv_table

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.csv").write_bytes(csv_table(rows))
    for name, png in charts.items():
        (out / name).write_bytes(png)
    if extra is not None:
        (out / "answer.json").write_text(json.dumps(extra, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    print(f"wrote {out / 'results.csv'}, {', '.join(str(out / n) for n in charts)}")


def _summary_line(run: SweepRun) -> str:
    failed = run.failed
    text = (f"{len(run.results)} variants in {run.wall_s:.1f} s on {run.engine} "
            f"({run.workers} worker(s)); {len(failed)} failed")
    for r in failed:
        text += f"\n  FAILED {r.key} after {r.attempts} attempts: " \
                f"{r.error.splitlines()[-1] if r.error else '?'}"
    return text


def cmd_sweep(args: argparse.Namespace) -> int:
    from planner.sweep import load_sweep
    from render.sweepcharts import sweep_chart_png

    engine = engine_of(args)
    spec, variants = load_sweep(args.sweep)
    print(f"sweep {spec.name}: {len(variants)} variants, {spec.time_limit_s:g} s of search "
          "each, one search process per variant", file=sys.stderr)
    with engine:
        run = engine.run(variants, name=spec.name, on_progress=progress_bar)
    rows = table_rows(run.results)
    print_table(rows)
    print(_summary_line(run))
    if args.out:
        _write_report(Path(args.out), rows, {"chart.png": sweep_chart_png(
            run.results, lang=args.lang, title=spec.title or spec.name)})
    _store(args, run, kind="region" if spec.provinces and not spec.scenarios else "sweep",
           spec=spec.model_dump(mode="json"), title=spec.title)
    return 1 if len(run.failed) == len(run.results) else 0


def cmd_region(args: argparse.Namespace) -> int:
    from planner.sweep import ProvincesSpec, SweepSpec, bases_of, expand
    from render.sweepcharts import region_chart_png

    names: Any = "all" if not args.provinces else tuple(
        n.strip() for n in args.provinces.split(",") if n.strip())
    try:
        spec = SweepSpec(name="region", title="region", time_limit_s=args.time_limit,
                         provinces=ProvincesSpec(names=names, share=args.share,
                                                 vehicles=args.vehicles, days=args.days),
                         season=_season_spec(args))
    except ValueError as exc:
        raise PlannerError(f"region settings: {exc}") from None
    label = "planner region"
    variants = expand(spec, bases_of(spec, file=label), file=label)
    print(f"region: {len(variants)} provinces with road data ({', '.join(v.key for v in variants)})"
          f", the {args.share:.0%} most remote communes each"
          + (", each planned as a season" if spec.season else ""), file=sys.stderr)
    with engine_of(args) as engine:
        run = engine.run(variants, name="region", on_progress=progress_bar)
    rows = table_rows(run.results)
    print_table(rows)
    print(_summary_line(run))
    for r in run.results:
        if r.ok:
            kpis = r.kpi()
            steps = ", ".join(f"{t.target:.0%} ({t.year}): "
                              + ("met" if t.met else f"{t.missing} more of {t.needed}")
                              for t in kpis.target_progress())
            print(f"  {r.base}: {kpis.communes_served} of {kpis.service_area_communes} "
                  f"communes ({kpis.service_area_share:.1%}){_season_text(r)}; {steps}; "
                  f"{r.wall_s:.1f} s, peak {r.peak_rss_mb:.0f} MB")
    if args.out:
        _write_report(Path(args.out), rows,
                      {"region.png": region_chart_png(run.results, lang=args.lang)})
    season = (f", season of {variants[0].scenario().horizon.days} days"
              if spec.season and variants else "")
    _store(args, run, kind="region", spec=spec.model_dump(mode="json"),
           title=f"{args.share:.0%}, {args.vehicles}, {args.days} days{season}")
    return 1 if len(run.failed) == len(run.results) else 0


def _season_text(result: VariantResult) -> str:
    """`` by the visit rule over a season of 14 days: 40 of 44 visits, 6 trips, 12 nights``"""
    s, kpis = result.season, result.kpi()
    if not s:
        return ""
    return (f" by the visit rule over a season of {s['days']} days from {s['start_date']}: "
            f"{s['visits']} of {s['visits_due']} visits, {kpis.trips} trips, "
            f"{kpis.nights_away} nights")


def cmd_fleet_size(args: argparse.Namespace) -> int:
    from planner.fleet import FleetBudget, size_fleet
    from planner.scenario import load_scenario, parse_scenario
    from planner.sweep import SweepRun, load_season, seasonal_data
    from render.sweepcharts import fleet_chart_png

    if not 0 < args.target <= 1:
        raise PlannerError(f"--target {args.target}: give a share of the communes between 0 "
                           "and 1 (0.5 for the programme's 2030 target)")
    if args.max_fleets < 1 or args.max_vehicles < 1 or args.time_limit <= 0:
        raise PlannerError("--max-fleets, --max-vehicles and --time-limit must be positive")
    file = str(Path(args.scenario).resolve())
    scenario = load_scenario(file)
    season = _season_spec(args)
    if season is not None:  # sized as a season: its calendar, horizon and visit rule
        terms = None if season.file is None else load_season(
            season.file, file="planner fleet-size", field_name="--season")
        data = seasonal_data(scenario.model_dump(mode="json", by_alias=True), terms,
                             days=season.days, file="planner fleet-size",
                             field_name="--season")
        scenario = parse_scenario(data, file=f"{file} (with --season)")
    budget = FleetBudget(max_fleets=args.max_fleets, time_limit_s=args.time_limit,
                         max_vehicles=args.max_vehicles)
    print(f"fleet sizing {scenario.name} for {args.target:.0%}"
          + (f" as a season of {scenario.horizon.days} days from {scenario.horizon.start_date}"
             if scenario.is_season else "") + f": budget {budget.text()}", file=sys.stderr)
    with engine_of(args) as engine:
        def solve_batch(variants: Any) -> Any:
            return engine.run(variants, name=scenario.name, on_progress=progress_bar).results

        answer = size_fleet(scenario, scenario.model_dump(mode="json", by_alias=True),
                            file=file, target=args.target, solve_batch=solve_batch,
                            budget=budget, seed=scenario.solver.seed)
        description, workers = engine.description, engine.workers
    summary = answer.to_dict()
    rows: list[list[Any]] = [["fleet", "vehicles", "served", "share", "cost, VND", "reached",
                              "why it fell short"]]
    for t in answer.trials:
        rows.append([t.label, t.vehicles, t.outcome.served, f"{t.share:.1%}",
                     f"{t.outcome.cost_vnd:,.0f}", "yes" if t.reached else "no", t.why_short])
    print(f"target {args.target:.0%} of {answer.service_area} communes = {answer.needed}; "
          f"options: {', '.join(o.key for o in answer.options)}")
    if answer.trials:
        print_table(rows)
    if answer.chosen is not None:
        c = answer.chosen
        per = (f"the season of {answer.season['days']} days (communes served by their visit "
               "rule)" if answer.season else "a cycle")
        print(f"answer: {c.label} ({c.vehicles} vehicle(s)) serves {c.outcome.served} "
              f"communes ({c.share:.1%}) for {c.outcome.cost_vnd:,.0f} VND {per}")
    else:
        print("answer: no fleet found")
    print(f"search: {answer.stopped}")
    run = SweepRun(f"fleet-{scenario.name}", answer.results,
                   round(sum(r.wall_s for r in answer.results), 3), description, workers)
    if args.out:
        _write_report(Path(args.out), rows,
                      {"fleet.png": fleet_chart_png(summary, lang=args.lang)}, summary)
    _store(args, run, kind="fleet", spec={"scenario": file, "target": args.target,
                                          **summary["budget"],
                                          "season": season.model_dump() if season else None},
           title=f"{scenario.name} → {args.target:.0%}"
                 + (f", season {scenario.horizon.days} days" if scenario.is_season else ""),
           summary=summary)
    return 0 if answer.chosen is not None else 1


def cmd_sweeps(args: argparse.Namespace) -> int:
    from cli import _open_database
    from storage import StorageError
    from storage.sweeps import get_sweep, list_sweeps

    db = _open_database(args.database)
    try:
        with db.read() as session:
            if args.id is None:
                for s in list_sweeps(session):
                    print(f"{s.id:>5}  {s.kind:<6} {s.name:<32} {s.variants:>4} variants "
                          f"{s.failed:>3} failed  {s.wall_s:8.1f} s  {s.engine}  "
                          f"{s.created_at:%Y-%m-%d %H:%M}")
                return 0
            try:
                sweep = get_sweep(session, args.id)
            except StorageError as exc:
                raise PlannerError(str(exc)) from None
    finally:
        db.dispose()
    print(f"sweep {sweep.id} ({sweep.kind}) {sweep.name}: {sweep.variants} variants, "
          f"{sweep.failed} failed, {sweep.wall_s:.1f} s on {sweep.engine}")
    print_table(table_rows(sweep.results))
    if sweep.summary and sweep.kind == "fleet":
        chosen = sweep.summary.get("chosen")
        print(f"answer: {chosen['label'] if chosen else 'none'}; {sweep.summary.get('stopped')}")
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("sweep", help="solve the variants of a sweep file on Dask (a "
                                     "LocalCluster, or --scheduler) and compare them")
    p.add_argument("sweep", help="the sweep YAML file (docs/sweeps.md)")
    add_engine_arguments(p)
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("fleet-size", help="the cheapest fleet reaching a share of the "
                                          "communes, by vehicle type and depot")
    p.add_argument("scenario")
    p.add_argument("--target", type=float, default=0.5,
                   help="share of the service area's communes (default 0.5, the 2030 target)")
    p.add_argument("--max-fleets", type=int, default=12, help="fleets solved at most")
    p.add_argument("--time-limit", type=float, default=10.0,
                   help="seconds of search per fleet (default 10)")
    p.add_argument("--max-vehicles", type=int, default=8, help="vehicles at most")
    add_season_arguments(p)
    add_engine_arguments(p)
    p.set_defaults(func=cmd_fleet_size)
    p = sub.add_parser("region", help="plan every province whose road data is available, "
                                      "against the 15/50/90%% targets")
    p.add_argument("--provinces", default=None,
                   help="comma-separated dataset or province names (default: all)")
    p.add_argument("--share", type=float, default=0.15,
                   help="share of each province's communes to plan (default 0.15)")
    p.add_argument("--vehicles", default="truck:1,van:1")
    p.add_argument("--days", type=int, default=5)
    p.add_argument("--time-limit", type=float, default=10.0,
                   help="seconds of search per province")
    add_season_arguments(p)
    add_engine_arguments(p)
    p.set_defaults(func=cmd_region)
    p = sub.add_parser("sweeps", help="sweeps kept in the database: list them, or show one")
    p.add_argument("id", nargs="?", type=int, default=None)
    p.add_argument("--database", default=None)
    p.set_defaults(func=cmd_sweeps)
