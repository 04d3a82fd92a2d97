"""The ``planner`` command: solve, check, sheets, labels, batches, re-plan, compare, validate,
communes, geodata import, timetables (ics, poster), the annual report, and sweep, fleet-size,
region and sweeps (:mod:`cli.sweeps`). No logic of its own: it composes :mod:`planner` (the
core), :mod:`render` (maps, tables), :mod:`storage` (the batch registry, published plans,
outcomes, sweeps) and :mod:`geodata`, which is why it is its own package (``planner`` knows
nothing of rendering or storage)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geodata.errors import GeodataError
from planner.errors import PlannerError

if TYPE_CHECKING:
    from planner.pipeline import Solved
    from planner.plan import Plan
    from planner.scenario import Scenario
    from planner.season import SeasonSolved
    from planner.solution import SolveProgress
    from render.folder import PlanFolder
    from storage import Database


def _cmd_solve(args: argparse.Namespace) -> int:
    from planner.pipeline import solve_scenario
    from planner.scenario import load_scenario

    t0 = time.perf_counter()
    with _registry(args, load_scenario(args.scenario)) as scenario:
        if scenario.is_season:
            return _solve_season(args, scenario, t0)
        progress = ProgressLine(sys.stderr)
        solved = solve_scenario(scenario, scenario_file=str(Path(args.scenario).resolve()),
                                time_limit_s=args.time_limit, seed=args.seed,
                                solution_limit=args.solution_limit, on_progress=progress)
        progress.close()
        plan = solved.plan
        folder = _write_folder(solved, Path(args.out))
    total = time.perf_counter() - t0
    print(_summary(plan))
    pv = plan.provenance
    tm = pv.timings_s
    print(f"\ntimes: graph {tm['graph_s']:.1f} s ({'cached' if pv.graph_cache_hit else 'built'}), "
          f"matrices {tm['matrices_s']:.1f} s "
          f"({'cached' if pv.matrices_cache_hit else 'computed'}), "
          f"solve {pv.solve_wall_s or 0:.1f} s, explanations {tm.get('explain_s', 0):.1f} s, "
          f"total {total:.1f} s")
    print(search_line(pv))
    print(f"wrote {', '.join(str(p) for p in folder.files)}")
    return 0


class ProgressLine:
    """``planner solve``'s progress line on ``out``: elapsed time, communes served and cost
    of the best plan so far, rewritten in place on a terminal, else one line per report at
    most every :attr:`every_s` seconds (the last one always)."""

    every_s = 1.0

    def __init__(self, out: Any) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self._last: float | None = None
        self._pending = ""

    def __call__(self, event: SolveProgress) -> None:
        cost = "" if event.cost_vnd is None else f", cost {event.cost_vnd:,} VND"
        text = f"solving: {event.elapsed_s:5.1f} s, communes served {event.served}{cost}"
        now = time.monotonic()
        if self.tty:
            self.out.write("\r" + text.ljust(72))
            self.out.flush()
        elif self._last is None or now - self._last >= self.every_s:
            self._last = now
            self._pending = ""
            print(text, file=self.out, flush=True)
        else:
            self._pending = text

    def close(self) -> None:
        if self.tty:
            self.out.write("\n")
        elif self._pending:
            print(self._pending, file=self.out)
        self.out.flush()


def search_line(pv: Any) -> str:
    """How the search ended, from a plan's provenance."""
    why = {"converged": "no better plan for a while (converged)",
           "time_limit": "at the time limit", "search_ended": "the search ended by itself",
           "no_solution": "no plan found"}.get(pv.stop_reason or "", pv.stop_reason or "?")
    found = "" if pv.best_found_s is None else f"; final plan found at {pv.best_found_s:.1f} s"
    repaired = f"; repair pass inserted {pv.repaired_stops}" if pv.repaired_stops else ""
    return f"search: stopped {why} after {pv.solve_wall_s or 0:.1f} s{found}{repaired}"


def _solve_season(args: argparse.Namespace, scenario: Scenario, t0: float) -> int:
    """``planner solve`` on a season scenario: the season plan's folder."""
    from planner.season import solve_season

    solved = solve_season(scenario, scenario_file=str(Path(args.scenario).resolve()),
                          time_limit_s=args.time_limit, seed=args.seed)
    plan = solved.plan
    folder = _write_folder(solved, Path(args.out))
    print(_summary(plan))
    season = plan.season
    assert season is not None
    visits = sum(len(c.visits) for c in season.communes)
    print(f"\nseason: {len(season.periods)} working periods, {visits} visits of "
          f"{len(season.communes)} communes ({len(plan.unserved)} unserved), "
          f"{len(plan.routes)} trips; visit dates {season.assignment_status} in "
          f"{season.assignment_wall_s:.1f} s, {season.repair_rounds} repair round(s)")
    print(f"total {time.perf_counter() - t0:.1f} s")
    print(f"wrote {', '.join(str(p) for p in folder.files)}")
    return 0


@contextlib.contextmanager
def _registry(args: argparse.Namespace, scenario: Scenario) -> Iterator[Scenario]:
    """``scenario`` as ``--registry`` asks: reading its book batches from its own files, or
    (``database``) from the registry kept in ``--database``, written for the time of the
    command into a temporary folder (:func:`_database_rotation`); a cycle or a season."""
    with tempfile.TemporaryDirectory(prefix="planner-registry-") as tmp:
        if args.registry == "database":
            scenario = _database_rotation(scenario, args.database, Path(tmp))
        yield scenario


def _database_rotation(scenario: Scenario, url: str | None, folder: Path) -> Scenario:
    """``scenario`` reading the batch registry, history and profiles kept in the database,
    written as the files of its ``rotation:`` into ``folder`` (the plan folder keeps copies of
    them: :func:`planner.outputs.write_outputs`)."""
    from planner.rotation import with_rotation_files
    from render.exports import csv_table
    from storage import batches

    db = _open_database(url)
    try:
        with db.read() as session:
            if not batches.has_registry(session):
                raise PlannerError(f"the database {db.url} holds no batch registry: import "
                                   "one with `planner batches import FILE --user NAME`")
            files = batches.write_rotation_files(session, folder, csv_table)
    finally:
        db.dispose()
    return with_rotation_files(scenario, files)


def _open_database(url: str | None) -> Database:
    from storage import StorageError, open_database

    try:
        return open_database(url)
    except StorageError as exc:
        raise PlannerError(f"database: {exc}") from None


def _cmd_batches_import(args: argparse.Namespace) -> int:
    from planner.batches import read_batches, read_profiles, read_stays, read_titles
    from storage import batches, users

    tables = batches.Tables(
        batches=read_batches(args.file),
        titles=read_titles(args.titles) if args.titles else (),
        stays=read_stays(args.history) if args.history else (),
        profiles=tuple((read_profiles(args.profiles) if args.profiles else {}).values()),
        titles_file=args.titles or "<titles>", history_file=args.history or "<history>")
    db = _open_database(args.database)
    try:
        with db.begin() as session:
            user = users.find_user(session, args.user)
            if user is None or not user.active:
                raise PlannerError(f"--user {args.user!r}: no active user of that name in "
                                   f"{db.url}; add one with `python -m webui create-user NAME "
                                   "--role dispatcher`")
            report = batches.import_tables(session, tables, user_id=user.id)
    except batches.BatchRecordError as exc:
        print(f"error: nothing was imported; {len(exc.problems)} problem(s):", file=sys.stderr)
        for p in exc.problems[:200]:
            print(f"  - {p}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print(f"imported into {db.url}: {report.added} batch(es) added, {report.updated} "
          f"updated, {report.unchanged} unchanged; {report.titles} title(s); {report.moves} "
          f"move(s) of history; {report.profiles} commune profile(s) changed")
    return 0


def _cmd_batches_export(args: argparse.Namespace) -> int:
    from render.exports import csv_table, xlsx_table
    from storage import batches

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = _open_database(args.database)
    try:
        with db.read() as session:
            tables = batches.export_tables(session)
            problems = batches.ledger(session).problems
    finally:
        db.dispose()
    for name, rows in tables.items():
        path = out / f"{name}.{args.format}"
        path.write_bytes(csv_table(rows) if args.format == "csv" else
                         xlsx_table(rows, sheet=name, title=f"Book batches: {name}"))
        print(f"wrote {path} ({len(rows) - 1} row(s))")
    for p in problems:
        print(f"warning: broken history, reported and not repaired: {p}", file=sys.stderr)
    return 0


def _summary(plan: Plan) -> str:
    from planner.kpis import targets_text

    k, pv = plan.kpis, plan.provenance
    lines = [f"{plan.scenario_title or plan.scenario_name}  ({plan.start_date}, "
             f"{plan.horizon_days} days)", ""]
    header = f"{'vehicle':<14}{'stops':>6}{'km':>8}{'drive h':>9}{'days':>6}{'nights':>7}" \
             f"{'crates out/in':>15}  depart -> return"
    lines += [header, "-" * len(header)]
    for r in plan.routes:
        lines.append(f"{r.vehicle_id:<14}{len(r.visits):>6}{r.km:>8.1f}{r.driving_hours:>9.1f}"
                     f"{r.days:>6}{r.nights:>7}{r.crates_delivered:>8}/{r.crates_collected:<6}"
                     f"  {r.depart[5:16]} -> {r.return_time[5:16]}")
    lines.append("")
    lines.append(f"served {k.communes_served} communes = {k.service_area_share:.0%} of "
                 f"the {k.service_area_communes} in the service area "
                 f"(targets {targets_text()}); unserved {k.communes_unserved}")
    if k.service_area_name:
        uncovered = k.service_area_communes - (k.service_area_covered or 0)
        lines.append(f"  service area: {k.service_area_name}, {k.service_area_communes} "
                     f"communes" + (f"; the road data covers {k.service_area_covered} of "
                                    f"them: {uncovered} cannot be served on it and count as "
                                    "not served" if uncovered else ""))
    if k.province_2025_name and k.province_2025_share is not None \
            and k.province_2025_name != k.service_area_name:
        lines.append(f"  {k.province_2025_name} (2025 province): {k.communes_served} of "
                     f"{k.province_2025_communes} communes = {k.province_2025_share:.0%}")
    if pv.precheck:
        lines.append(f"  checked before solving: {len(pv.precheck)} stop(s) no trip can serve "
                     f"({', '.join(p.commune_code for p in pv.precheck)})")
    for u in plan.unserved:
        lines.append(f"  unserved {u.commune_code} {u.commune_name}: {u.reason}")
    if pv.rotation is not None:
        visits = [v for r in plan.routes for v in r.visits]
        loaded = sum(len(r.loading_batches) for r in plan.routes)
        left = sum(len(v.deliver_batches) for v in visits)
        lines.append(f"book batches: {left} left ({loaded} loaded at the library, "
                     f"{left - loaded} handed on), {sum(len(v.collect_batches) for v in visits)}"
                     f" taken back; {pv.rotation.batches_at_library} at the library before")
        lines += [f"  {v.commune_code} {v.commune_name}: {v.batch_note}" for v in visits
                  if v.batch_note]
    if pv.search_strategy:
        skipped = pv.pyvrp_seed_skipped
        lines.append(f"search: {pv.search_strategy}"
                     + (f" (no PyVRP seed: {skipped})" if skipped else ""))
    g = pv.graph_report
    lines.append("")
    lines.append(f"road network {plan.network}: {g.get('input_km', 0):,.0f} km of road, "
                 f"{g.get('junctions', 0):,} junctions")
    for name, c in pv.components.items():
        lines.append(f"  {name}: routes on {c['kept_km']:,.0f} km; left out {c['dropped_km']:,.0f}"
                     f" km in {c['dropped_parts']} pieces not connected both ways to the rest")
        closed = c.get("closed_km_by_class") or {}
        if closed:
            lines.append(f"    closed to {name}: " + ", ".join(
                f"{cls} {km:,.0f} km" for cls, km in closed.items()))
    lines += far_from_roads_lines(plan)
    return "\n".join(lines)


def far_from_roads_lines(plan: Plan) -> list[str]:
    """The summary's warning about places far from the road network and what was counted."""
    from planner.access import WARN_M, far_notes

    notes = far_notes(plan)
    if not notes:
        return []
    lines = [f"WARNING: {len(notes)} place(s) more than {WARN_M / 1000:.0f} km from the road "
             "network (check their points and the road data):"]
    for n in notes:
        counted = (f"gap {n.counted_m / 1000:.1f} km counted each way" if n.counted_m else
                   f"{n.snap_m / 1000:.1f} km, not counted (plan made before gaps were)")
        lines.append(f"  {n.key} {n.name}: {counted}")
    if any(n.counted_m for n in notes):
        lines.append(f"  gaps are counted in the km, and in the hours at an assumed "
                     f"{notes[0].speed_kmh:g} km/h (ASSUMPTION: no data on the way from the "
                     "point to the road)")
    return lines


def _cmd_check(args: argparse.Namespace) -> int:
    from planner.outputs import load_scenario_for_plan
    from planner.pipeline import prepare_network, problem_for
    from planner.plan import read_plan
    from planner.seasoncheck import check_any_plan

    plan_path = Path(args.plan)
    if plan_path.is_dir():
        plan_path = plan_path / "plan.json"
    plan = read_plan(plan_path)
    try:
        scenario, sc_file = load_scenario_for_plan(plan_path)
    except FileNotFoundError as exc:
        raise PlannerError(f"{exc.args[0]}: the resolved scenario written beside the plan is "
                           "missing; re-run `planner solve`") from None
    net = prepare_network(scenario, scenario_file=sc_file,
                          data_digest=plan.provenance.data_digest)
    if ".versions" in net.dataset.path.parts:
        print(f"note: dataset {net.dataset.name} was re-imported since this plan was made; "
              f"checked on the version it was made with ({net.dataset.path})")
    violations = check_any_plan(scenario, plan, lambda sub: problem_for(
        sub, net if sub is scenario else prepare_network(
            sub, scenario_file=sc_file, data_digest=plan.provenance.data_digest)))
    if plan.provenance.scenario_digest not in (None, scenario.digest):
        print(f"warning: {sc_file} does not match the scenario digest recorded in the plan")
    if not violations:
        print(f"{plan_path}: OK, no violations ({sum(len(r.visits) for r in plan.routes)} "
              f"visits on {len(plan.routes)} routes checked)")
        return 0
    print(f"{plan_path}: {len(violations)} violation(s)")
    for v in violations:
        print(f"  - {v}")
    return 1


def _cmd_labels(args: argparse.Namespace) -> int:
    from planner.plan import read_plan
    from render.labels import labels_pdf, plan_labels

    plan_path = Path(args.plan)
    if plan_path.is_dir():
        plan_path = plan_path / "plan.json"
    plan = read_plan(plan_path)
    labels = plan_labels(plan, lang=args.lang)
    Path(args.out).write_bytes(labels_pdf(labels, lang=args.lang, base_url=args.base_url,
                                          title=plan.scenario_title or plan.scenario_name))
    print(f"{args.out}: {len(labels)} crate label(s)")
    return 0


def _cmd_sheets(args: argparse.Namespace) -> int:
    import json

    from planner.outputs import ROUTES_FILE, load_scenario_for_plan, read_plan_folder
    from render.pdf import plan_sheets_pdf
    from render.sheetmap import load_basemap

    folder = Path(args.run)
    if folder.is_file():
        folder = folder.parent
    plan = read_plan_folder(folder)
    indices = [i for i, r in enumerate(plan.routes)
               if r.visits and args.vehicle in (None, r.vehicle_id)]
    if args.vehicle is not None and not any(r.vehicle_id == args.vehicle for r in plan.routes):
        known = ", ".join(dict.fromkeys(r.vehicle_id for r in plan.routes))
        print(f"error: {folder}: no vehicle {args.vehicle!r} in the plan; its vehicles: "
              f"{known}", file=sys.stderr)
        return 2
    if args.trip is not None:  # the vehicle's n-th trip, in the plan's order
        if args.vehicle is None:
            print("error: --trip needs --vehicle (the trip of which vehicle)", file=sys.stderr)
            return 2
        if not 1 <= args.trip <= len(indices):
            print(f"error: vehicle {args.vehicle!r} has {len(indices)} trip(s) with stops in "
                  f"this plan; --trip {args.trip} is not one of them", file=sys.stderr)
            return 2
        indices = [indices[args.trip - 1]]
    try:
        scenario = load_scenario_for_plan(folder / "plan.json")[0]
    except (FileNotFoundError, PlannerError, ValueError) as exc:
        print(f"warning: {folder}: no usable scenario.json ({exc}); the sheets go without "
              "opening hours and closures", file=sys.stderr)
        scenario = None
    routes_path = folder / ROUTES_FILE
    routes = (json.loads(routes_path.read_text(encoding="utf-8"))
              if routes_path.is_file() else None)
    try:
        basemap = load_basemap(plan.network)
    except (GeodataError, OSError) as exc:
        print(f"warning: no basemap of dataset {plan.network!r} ({exc}); the maps show the "
              "routes alone", file=sys.stderr)
        basemap = None
    pdf = plan_sheets_pdf(plan, indices, run=folder.name, lang=args.lang, scenario=scenario,
                          routes=routes, basemap=basemap)
    Path(args.out).write_bytes(pdf)
    print(f"{args.out}: {len(indices)} route sheet(s), {len(pdf) // 1024} KB")
    return 0


def _cmd_replan(args: argparse.Namespace) -> int:
    from planner.outputs import load_scenario_for_plan
    from planner.pipeline import solve_scenario
    from planner.plan import read_plan
    from planner.scenario import load_scenario

    base = Path(args.plan)
    base = base / "plan.json" if base.is_dir() else base
    previous = read_plan(base)
    if args.scenario:
        scenario, sc_file = load_scenario(args.scenario), str(Path(args.scenario).resolve())
    else:
        try:
            scenario, sc_file = load_scenario_for_plan(base)
        except FileNotFoundError as exc:
            raise PlannerError(f"{exc.args[0]}: no scenario beside the plan; pass "
                               "--scenario") from None
    with _registry(args, scenario) as scenario:
        if previous.season is not None:
            return _replan_season(args, scenario, sc_file, previous)
        split = lambda text: frozenset(c.strip() for c in (text or "").split(",") if c.strip())  # noqa: E731
        solved = solve_scenario(scenario, scenario_file=sc_file, time_limit_s=args.time_limit,
                                previous=previous, done=split(args.done),
                                locked=split(args.lock))
        plan = solved.plan
        _write_folder(solved, Path(args.out))
    print(_summary(plan))
    r = plan.provenance.replan
    assert r is not None  # a re-plan always records it
    if r.kept_unchanged:
        print("\nre-plan: every route is still feasible; the previous plan is kept, 0 stops moved")
    else:
        print(f"\nre-plan: {r.changes.moved} stop(s) changed vehicle, {r.changes.reordered} "
              f"changed position, {r.changes.added} added, {r.changes.dropped} dropped; routes "
              f"that broke: {', '.join(r.broken_routes) or 'none'}")
    return 0


def _published(url: str | None) -> tuple[list[Any], dict[str, Any]]:
    """The plans in force (newest published version of each series) and the commune
    profiles, from the database."""
    from storage import StorageError, batches, calendar

    db = _open_database(url)
    try:
        with db.read() as session:
            return (calendar.published_plans(session, newest_only=True),
                    batches.profiles(session))
    except StorageError as exc:
        raise PlannerError(f"database {db.url}: {exc}") from None
    finally:
        db.dispose()


def _since(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PlannerError(f"--since {text!r}: give a date as YYYY-MM-DD") from None


def _cmd_ics(args: argparse.Namespace) -> int:
    from planner.timetable import timetable, vehicles_of
    from render.i18n import Translator
    from render.timetable import feed_ics

    plans, profiles = _published(args.database)
    visits = timetable(plans, commune_code=args.commune, vehicle_id=args.vehicle,
                       since=_since(args.since))
    _ = Translator(args.lang)
    if args.commune is not None:
        name = _("ics_commune_name",
                 commune=visits[0].commune_name if visits else args.commune)
    else:
        known = vehicles_of(plans)
        if args.vehicle not in known:
            print(f"error: --vehicle {args.vehicle!r}: no published plan has this vehicle; "
                  f"the vehicles of the plans in force: {', '.join(known) or 'none'}",
                  file=sys.stderr)
            return 2
        name = _("ics_vehicle_name", vehicle=known[args.vehicle])
    Path(args.out).write_bytes(feed_ics(visits, name=name, lang=args.lang, profiles=profiles))
    print(f"{args.out}: {len(visits)} visit(s) of the published plans")
    return 0


def _cmd_poster(args: argparse.Namespace) -> int:
    from planner.timetable import timetable
    from render.timetable import PosterContext, poster_pdf

    plans, profiles = _published(args.database)
    visits = timetable(plans, commune_code=args.commune, since=_since(args.since))
    library = args.library or ", ".join(dict.fromkeys(v.depot_name for v in visits))
    context = PosterContext(args.commune, visits[0].commune_name if visits else args.commune,
                            library, contact=args.contact, feed_url=args.feed_url)
    Path(args.out).write_bytes(poster_pdf(visits, context, profile=profiles.get(args.commune),
                                          lang=args.lang))
    print(f"{args.out}: timetable poster of {context.commune_name}, {len(visits)} visit(s)")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from render.yearreport import report_pdf, report_xlsx, summary_rows
    from storage import StorageError, reports

    db = _open_database(args.database)
    try:
        with db.read() as session:
            report = reports.year_report(session, args.year)
    except StorageError as exc:
        raise PlannerError(f"database {db.url}: {exc}") from None
    finally:
        db.dispose()
    for label, value in summary_rows(report, args.lang):
        print(f"{label}: {value}")
    for path, write in ((args.pdf, report_pdf), (args.xlsx, report_xlsx)):
        if path:
            Path(path).write_bytes(write(report, lang=args.lang))
            print(f"wrote {path}")
    return 0


def _replan_season(args: argparse.Namespace, scenario: Scenario, sc_file: str,
                   previous: Plan) -> int:
    """``planner replan`` of a season plan: the trips leaving before ``--from`` are kept
    (done or published), the rest of the season planned again."""
    import datetime as dt

    from planner.season import solve_season

    if not args.replan_from:
        raise PlannerError("a season plan is re-planned from a date: give --from YYYY-MM-DD "
                           "(trips leaving before it are kept)")
    try:
        start = dt.date.fromisoformat(args.replan_from)
    except ValueError:
        raise PlannerError(f"--from {args.replan_from!r}: not a date; give YYYY-MM-DD") from None
    solved = solve_season(scenario, scenario_file=sc_file, time_limit_s=args.time_limit,
                          previous=previous, replan_from=start)
    _write_folder(solved, Path(args.out))
    print(_summary(solved.plan))
    season = solved.plan.season
    assert season is not None
    print(f"\nre-plan from {start}: {season.kept_trips} trip(s) kept, "
          f"{len(solved.plan.routes) - season.kept_trips} planned again, "
          f"{len(solved.plan.unserved)} visit(s) unserved")
    return 0


def _write_folder(solved: Solved | SeasonSolved, out: Path) -> PlanFolder:
    from render.folder import write_plan_folder

    folder = write_plan_folder(solved.plan, solved.network, solved.scenario, out)
    if folder.map_error:  # the plan stands; only its map could not be drawn
        print(f"warning: map.html not written: {folder.map_error}", file=sys.stderr)
    return folder


def _cmd_compare(args: argparse.Namespace) -> int:
    from planner.kpis import CO2_SOURCE, TARGETS_SOURCE, comparison_rows, targets_text
    from planner.plan import read_plan

    plans = []
    for item in args.plans:
        path = Path(item)
        plans.append(read_plan(path / "plan.json" if path.is_dir() else path))
    names = [p.scenario_name for p in plans]
    rows = comparison_rows([p.kpis for p in plans])
    width = max(len(label) for label, _ in rows) + 2
    col = max(14, *(len(n) + 2 for n in names))
    print(" " * width + "".join(f"{n:>{col}}" for n in names))
    for label, cells in rows:
        print(f"{label:<{width}}" + "".join(f"{c:>{col}}" for c in cells))
    area = {p.kpis.service_area_communes for p in plans}
    print(f"\nservice area: {', '.join(str(a) for a in sorted(area))} communes; "
          f"targets of {TARGETS_SOURCE}: {targets_text()}")
    print(f"cost = per trip + per km + per hour away + per night (scenario `vehicles`); "
          f"CO₂: {CO2_SOURCE}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from planner.pipeline import check_scenario, dataset_of
    from planner.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    file = str(Path(args.scenario).resolve())
    check_scenario(scenario, dataset_of(scenario, file=file), file=file)
    print(f"{args.scenario}: valid ({len(scenario.stops)} stops, {len(scenario.vehicles)} "
          f"vehicle entries, network {scenario.network})")
    return 0


def _cmd_communes(args: argparse.Namespace) -> int:
    from geodata.datasets import load_dataset
    from planner.access import ACCESS_SPEED_KMH, WARN_M
    from planner.newscenario import rank_by_remoteness

    ds = load_dataset(args.network or "ha_giang")
    which = (f"dataset {ds.name}" if args.network else
             f"dataset {ds.name} (the default; name another with --network NAME or a folder)")
    communes = ds.communes
    if len(communes) == 0:
        raise PlannerError(f"{which} ({ds.path}) has no communes, so nothing can be listed or "
                           "planned: import it again with --communes FILE (a CSV with "
                           "commune_code, name, lon, lat)")
    if args.rank != "remoteness":
        print(f"{len(communes)} communes of {which}")
        for code, row in communes.iterrows():
            print(f"{code}  {row['name']}")
        return 0
    libs = ds.libraries
    if len(libs) == 0:
        raise PlannerError(f"{which} ({ds.path}) has no library to rank the communes from: "
                           "import it again with --libraries FILE (a CSV with name, lon, lat)")
    ids = libs["library_id"].astype(str).tolist()
    if args.library is not None and args.library not in ids:
        raise PlannerError(f"--library {args.library!r}: no library of that id in {which}; "
                           f"its libraries: {', '.join(ids)}")
    index = ids.index(args.library) if args.library else 0
    lib = libs.iloc[index]
    ranked, lib_snap = rank_by_remoteness(ds, profile=args.profile, library_index=index)
    print(f"communes of {which} by {args.profile} travel time from {lib['name']} "
          f"({lib['library_id']}; approximate point)")
    if len(libs) > 1 and args.library is None:
        print(f"  {len(libs)} libraries in this dataset; ranked from the first, choose with "
              f"--library {' / '.join(ids)}")
    far = 0
    for c in ranked:
        flag = ""
        if c.snap_m > WARN_M:
            far += 1
            flag = (f"  FAR FROM ROADS: {c.snap_m / 1000:.1f} km each way counted at "
                    f"{ACCESS_SPEED_KMH:g} km/h")
        print(f"{c.code}  {c.name:<28}{c.hours:6.2f} h{c.km:8.1f} km  snap {c.snap_m:5.0f} m"
              f"{flag}")
    if far or lib_snap > WARN_M:
        print(f"\nwarning: {far} of {len(communes)} commune point(s)"
              + (f" and the library ({lib_snap / 1000:.1f} km)" if lib_snap > WARN_M else "")
              + f" lie more than {WARN_M / 1000:.0f} km from a road the "
              f"{args.profile} may use", file=sys.stderr)
    return 0


def _cmd_scenario_new(args: argparse.Namespace) -> int:
    import datetime as dt

    from geodata.datasets import load_dataset
    from geodata.profiles import load_profiles
    from planner.newscenario import parse_vehicles, starter_scenario_text
    from planner.pipeline import check_scenario
    from planner.scenario import load_scenario

    try:
        vehicles = parse_vehicles(args.vehicles, sorted(load_profiles()))
        start = dt.date.fromisoformat(args.start) if args.start else None
    except ValueError as exc:
        raise PlannerError(str(exc)) from None
    ds = load_dataset(args.network)
    text, province = starter_scenario_text(ds, network=args.network, share=args.share,
                                           vehicles=vehicles, days=args.days,
                                           library_id=args.library, start=start,
                                           name=args.name)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise PlannerError(f"{out}: exists; give --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    scenario = load_scenario(out)
    check_scenario(scenario, load_dataset(args.network), file=str(out.resolve()))
    print(f"wrote {out}: {len(scenario.stops)} stops, "
          f"{sum(v.count for v in scenario.vehicles)} vehicle(s), {scenario.horizon.days} days"
          f", service area {province or 'the dataset communes'}; "
          "values marked ASSUMPTION are to be replaced with the library's own")
    return 0


def _cmd_geodata_import(args: argparse.Namespace) -> int:
    from geodata.importer import run

    return int(run(args) or 0)


def _flag(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type`` that reports the planner's own message for a bad value."""
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = parse.__name__.removeprefix("parse_")
    return convert


def _registry_options(p: argparse.ArgumentParser) -> None:
    """``--registry`` and ``--database`` of the commands that plan book batches (a cycle or
    a season: :func:`_registry`)."""
    p.add_argument("--registry", choices=["files", "database"], default="files",
                   help="book batches from the scenario's rotation files (default) or from "
                        "the registry kept in the database")
    _database_option(p)


def _database_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database", default=None, help="database URL (default: DATABASE_URL, "
                                                    "else the web UI's SQLite file)")


def _language_option(p: argparse.ArgumentParser) -> None:
    """``--lang``: the language of what the command writes for people (one a file)."""
    from render.i18n import DEFAULT_LANGUAGE, LANGUAGES

    p.add_argument("--lang", choices=list(LANGUAGES), default=DEFAULT_LANGUAGE)


def build_parser() -> argparse.ArgumentParser:
    from planner.solution import parse_seed, parse_solution_limit, parse_time_limit

    parser = argparse.ArgumentParser(prog="planner", description="Mobile-library trip planner")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("solve", help="plan a scenario and write plan.json, routes.geojson, "
                                     "map.html")
    p.add_argument("scenario")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--time-limit", type=_flag(parse_time_limit), default=None,
                   help="seconds (overrides the scenario)")
    p.add_argument("--seed", type=_flag(parse_seed), default=None)
    p.add_argument("--solution-limit", type=_flag(parse_solution_limit), default=None,
                   help="stop after this many improving solutions (deterministic runs)")
    _registry_options(p)
    p.set_defaults(func=_cmd_solve)
    p = sub.add_parser("check", help="check a plan against its scenario and road matrices")
    p.add_argument("plan", help="plan.json or the folder holding it")
    p.set_defaults(func=_cmd_check)
    p = sub.add_parser("batches", help="the book-batch registry kept in the database: import "
                                       "and export its tables")
    bsub = p.add_subparsers(dest="batches_command", required=True)
    imp = bsub.add_parser("import", help="add or update batches (and titles, history, commune "
                                         "profiles) from CSV/XLSX; nothing is written when "
                                         "any row is bad")
    imp.add_argument("file", help="the batch registry (mã lô, số thùng, ngôn ngữ, ...)")
    imp.add_argument("--titles", help="book lists: mã lô, nhan đề, ISBN, tác giả")
    imp.add_argument("--history", help="stays: mã lô, mã xã, ngày giao, ngày thu (only for "
                                       "batches with no recorded move yet)")
    imp.add_argument("--profiles", help="commune profiles: mã xã, ngôn ngữ, đối tượng, "
                                        "sức chứa (thùng), ...")
    imp.add_argument("--user", required=True, help="the user the import is recorded as")
    _database_option(imp)
    imp.set_defaults(func=_cmd_batches_import)
    exp = bsub.add_parser("export", help="write the registry, titles, history and profiles")
    exp.add_argument("--out", required=True, help="folder to write into")
    exp.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    _database_option(exp)
    exp.set_defaults(func=_cmd_batches_export)
    p = sub.add_parser("labels", help="crate labels (PDF, 8 to an A4 page) for the book "
                                      "batches a plan leaves")
    p.add_argument("plan", help="plan.json or the folder holding it")
    p.add_argument("--out", required=True, help="PDF file to write")
    p.add_argument("--base-url", default=None,
                   help="the web app's public address; QR codes open <URL>/batches/<id> "
                        "(default: the QR code holds the bare batch id)")
    _language_option(p)
    p.set_defaults(func=_cmd_labels)
    p = sub.add_parser("sheets", help="the printed route sheets of a plan (PDF), as the web "
                                      "app serves them")
    p.add_argument("run", help="a plan folder (plan.json, routes.geojson, scenario.json)")
    p.add_argument("--out", required=True, help="PDF file to write")
    _language_option(p)
    p.add_argument("--vehicle", default=None, help="only this vehicle's sheet(s)")
    p.add_argument("--trip", type=int, default=None,
                   help="with --vehicle: only its n-th trip (1 = the first) in the plan")
    p.set_defaults(func=_cmd_sheets)
    p = sub.add_parser("ics", help="the calendar feed (ICS) of a commune's or a vehicle's "
                                   "visits in the published plans")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--commune", help="commune code")
    who.add_argument("--vehicle", help="vehicle id")
    p.add_argument("--out", required=True, help="ICS file to write")
    p.add_argument("--since", default=None, help="only visits from this date, YYYY-MM-DD")
    _language_option(p)
    _database_option(p)
    p.set_defaults(func=_cmd_ics)
    p = sub.add_parser("poster", help="a commune's timetable as an A4 poster (PDF) from the "
                                      "published plans")
    p.add_argument("--commune", required=True, help="commune code")
    p.add_argument("--out", required=True, help="PDF file to write")
    p.add_argument("--library", default="", help="the library's name (default: the library "
                                                 "the trips start from)")
    p.add_argument("--contact", default="", help="how to reach the library (phone, address)")
    p.add_argument("--feed-url", default=None, help="the commune's calendar feed address, "
                                                    "printed as a QR code")
    p.add_argument("--since", default=None, help="only visits from this date, YYYY-MM-DD")
    _language_option(p)
    _database_option(p)
    p.set_defaults(func=_cmd_poster)
    p = sub.add_parser("report", help="the annual report: visits, batches, coverage against "
                                      "the programme's targets, km, hours, cost")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--pdf", default=None, help="PDF file to write")
    p.add_argument("--xlsx", default=None, help="XLSX file to write")
    _language_option(p)
    _database_option(p)
    p.set_defaults(func=_cmd_report)
    p = sub.add_parser("replan", help="solve again from a plan, moving as few stops as "
                                      "needed (after a closure, a done or locked visit)")
    p.add_argument("plan", help="the previous plan.json or its folder")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--scenario", default=None,
                   help="changed scenario (default: the one beside the plan)")
    p.add_argument("--done", default="", help="commune codes already visited, comma-separated")
    p.add_argument("--lock", default="", help="commune codes to keep on their vehicle")
    p.add_argument("--from", dest="replan_from", default=None, metavar="DATE",
                   help="a season plan: re-plan from this date (trips leaving before it are "
                        "kept)")
    p.add_argument("--time-limit", type=_flag(parse_time_limit), default=None,
                   help="seconds (overrides the scenario)")
    _registry_options(p)
    p.set_defaults(func=_cmd_replan)
    p = sub.add_parser("compare", help="KPIs of several plans side by side")
    p.add_argument("plans", nargs="+", help="plan.json files or the folders holding them")
    p.set_defaults(func=_cmd_compare)
    p = sub.add_parser("validate", help="validate a scenario file")
    p.add_argument("scenario")
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("geodata", help="road datasets: import an OSM extract or road lines")
    geo = p.add_subparsers(dest="geodata_command", required=True)
    from geodata.importer import configure_parser

    imp = geo.add_parser("import", help="import .osm.pbf/.osm or road-line files as a dataset")
    configure_parser(imp)
    imp.set_defaults(func=_cmd_geodata_import)
    p = sub.add_parser("scenario", help="scenario files: write one to start from")
    ssub = p.add_subparsers(dest="scenario_command", required=True)
    new = ssub.add_parser("new", help="write a commented scenario of a dataset (the most remote "
                                      "share of its province's communes, the vehicles given), "
                                      "which validates and solves as is")
    new.add_argument("--network", required=True, help="dataset name or folder")
    new.add_argument("--share", type=float, default=0.15,
                     help="share of the service area's communes to serve (default 0.15, the "
                          "programme's 2026 target)")
    new.add_argument("--rank", choices=["remoteness"], default="remoteness",
                     help="which communes first: the farthest from the library by road")
    new.add_argument("--vehicles", default="truck:1,van:1",
                     help="PROFILE:COUNT,... (default truck:1,van:1)")
    new.add_argument("--days", type=int, choices=range(1, 32), default=5, metavar="1-31")
    new.add_argument("--library", default=None, help="library_id trips start from (default: "
                                                     "the dataset's first)")
    new.add_argument("--start", default=None, help="first day, YYYY-MM-DD (default: next "
                                                   "Monday)")
    new.add_argument("--name", default=None, help="scenario name")
    new.add_argument("--out", required=True, help="the YAML file to write")
    new.add_argument("--force", action="store_true", help="replace an existing file")
    new.set_defaults(func=_cmd_scenario_new)
    p = sub.add_parser("communes", help="list a dataset's communes, optionally by remoteness")
    p.add_argument("--network", default=None,
                   help="dataset name or folder (default: the embedded ha_giang)")
    p.add_argument("--rank", choices=["code", "remoteness"], default="code")
    p.add_argument("--profile", default="truck")
    p.add_argument("--library", default=None,
                   help="library_id to rank from (default: the dataset's first library)")
    p.set_defaults(func=_cmd_communes)
    from cli.sweeps import add_parsers
    add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (PlannerError, GeodataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
