"""The process that runs one background solve: ``python -m webui.worker JOB_DIR``.

It composes the planner's public steps the way ``planner solve`` does (load the scenario,
solve, write the outputs and the map) and reports into the job's row of the database (see
:mod:`storage.jobs`), which it opens with the URL the job service passes in its environment
(``DATABASE_URL``): status and stage as they change, the improving solutions at most once a
second and all of them at the end, the error or the plan it made, and the end of its log.
The worker runs at a lower CPU priority than the web server (``os.nice(WORKER_NICE)``),
so pages stay quick while it solves. Every report is conditional on the job being still
active: once it is cancelled the worker writes nothing more, and no plan. The finished
plan is written to a hidden folder in ``RUNS_DIR`` and renamed into place, so the plan list
never shows half a plan.

A re-plan job (``replan`` in ``job.json``, see :class:`webui.jobservice.ReplanSpec`) solves
from its previous plan: road closures added to the scenario, ``free`` stops taken off the
previous routes, ``done`` and ``locked`` visits kept; the plan's provenance records the spec
and what changed against the previous plan (``provenance.replan``). A season plan is
re-planned from a date (``kind: season``): the trips leaving before it are kept, the rest of
the season planned again (:func:`planner.season.solve_season`; the plan's ``season`` record
lists the trips kept).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import faulthandler
import fcntl
import json
import os
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from planner.plan import TZ
from planner.solution import SolveProgress
from storage import Database, StorageError, jobs
from storage.db import DATABASE_URL_ENV
from storage.jobs import ProgressRow
from webui.errors import ConflictError, WebUIError
from webui.jobservice import GEOMETRY, LOG_FILE, log_tail, wrong_replan_kind

SLOT_POLL_S = 0.5
WORKER_NICE = 10  # added to the worker's niceness: requests are served before solves
PROGRESS_WRITE_S = 1.0  # the improving solutions are written at most this often


class JobReporter:
    """Writes what one job's worker reports into the job's row, while the job is active;
    :attr:`active` turns false once a report finds it cancelled (or failed as lost)."""

    def __init__(self, db: Database, job_id: str, log_path: Path) -> None:
        self.db, self.job_id, self.log_path = db, job_id, log_path
        self.active = True
        self.progress: list[ProgressRow] = []
        self._progress_written_at: float | None = None

    def still_active(self) -> bool:
        """Whether the job is still queued or running (read, not written)."""
        with self.db.begin() as s:
            info = jobs.get_job(s, self.job_id)
        self.active = info is not None and info.active
        return self.active

    def report(self, **fields: Any) -> bool:
        """Write ``fields`` (see :func:`storage.jobs.report_job`); whether the job is active."""
        if self.active:
            with self.db.begin() as s:
                self.active = jobs.report_job(s, self.job_id, **fields)
        return self.active

    def improved(self, event: SolveProgress) -> None:
        """A better plan (its time, communes served, cost and objective): kept, and written
        unless the last write was under :data:`PROGRESS_WRITE_S` ago (a busy database never
        stops the solve)."""
        self.progress.append((round(float(event.elapsed_s), 3), int(event.objective),
                              int(event.served), event.cost_vnd))
        now = time.monotonic()
        last = self._progress_written_at
        if last is not None and now - last < PROGRESS_WRITE_S:
            return
        self._progress_written_at = now
        try:
            self.report(stage="solving", progress=tuple(self.progress))
        except StorageError as exc:
            print(f"warning: progress not stored: {exc}", file=sys.stderr)

    def finish(self, status: str, **fields: Any) -> bool:
        """The final report: ``status``, every improving solution and the end of the log."""
        sys.stdout.flush()
        sys.stderr.flush()
        return self.report(status=status, progress=tuple(self.progress),
                           log_tail=log_tail(self.log_path), **fields)


@contextlib.contextmanager
def _slot(jobs_dir: Path, count: int) -> Iterator[IO[str]]:
    """Wait for one of ``count`` solver slots (file locks, released when the process ends)."""
    while True:
        for i in range(max(1, count)):
            fh = os.fdopen(os.open(jobs_dir / f".slot-{i}.lock", os.O_WRONLY | os.O_CREAT
                                   | os.O_APPEND, 0o600), "a")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            try:
                yield fh
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()
            return
        time.sleep(SLOT_POLL_S)


def _read_job(path: Path) -> dict[str, Any]:
    """``job.json`` of a job folder (empty if unreadable: the fields are checked by name)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _plan_name(runs_dir: Path, scenario_name: str, created_at: float) -> str:
    """``<scenario>-<YYYYmmdd-HHMMSS>`` of when the job was made, unique in ``runs_dir``."""
    stamp = dt.datetime.fromtimestamp(created_at, TZ).strftime("%Y%m%d-%H%M%S")  # +07
    base = f"{scenario_name}-{stamp}"
    name, n = base, 2
    while (runs_dir / name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def _load_scenario(path: Path) -> Any:
    """A scenario YAML file, or the resolved ``scenario.json`` saved beside a plan."""
    from planner.scenario import load_scenario, load_scenario_json

    return load_scenario_json(path) if path.suffix == ".json" else load_scenario(path)


def _with_stored_registry(scenario: Any, db: Database, folder: Path) -> Any:
    """``scenario`` reading its book batches from the registry kept in the database, when
    one is kept there (written into the job folder; the plan folder keeps copies): the web UI
    plans with the registry its dispatchers keep, whatever files the scenario names."""
    from planner.rotation import with_rotation_files
    from render.exports import csv_table
    from storage import batches

    with db.read() as session:
        if not batches.has_registry(session):
            return scenario
        files = batches.write_rotation_files(session, folder / "registry", csv_table)
    return with_rotation_files(scenario, files)


def _replan_inputs(spec: dict[str, Any], scenario: Any) -> tuple[Any, Any, Any, dict[str, Any]]:
    """The scenario with the spec's closures, the full previous plan, the previous plan
    given to the solver (without the ``free`` stops) and the solver's keyword arguments."""
    from planner.edit import add_closures, without_visits
    from planner.plan import read_plan

    scenario = add_closures(scenario, spec.get("closures") or [], file="closures of the job")
    previous = read_plan(spec["previous_plan"])
    given = without_visits(previous, frozenset(spec.get("free") or ()))
    return scenario, previous, given, {"done": frozenset(spec.get("done") or ()),
                                       "locked": frozenset(spec.get("locked") or ())}


def run_job(folder: Path, db: Database) -> int:
    """Run the job in ``folder``, reporting into its row of ``db``; returns the exit code."""

    job = _read_job(folder / "job.json")
    reporter = JobReporter(db, str(job.get("id") or folder.name), folder / LOG_FILE)
    if job.get("kind") == GEOMETRY:
        return _run_geometry(job, folder, reporter)
    try:
        runs_dir = Path(job["runs_dir"])
        jobs_dir = Path(job["jobs_dir"])
        scenario_file = Path(job["scenario_file"])
    except KeyError as exc:
        reporter.finish("failed", error=f"{folder / 'job.json'}: field {exc.args[0]!r} missing")
        return 2
    if not reporter.still_active():
        print(f"job {reporter.job_id} is not queued in {db.url} (cancelled?); nothing to do")
        return 0
    with _slot(jobs_dir, int(job.get("max_concurrent") or 1)):
        if not reporter.report(status="running", stage="loading"):
            print("the job was cancelled before it started")
            return 0
        try:
            from planner.pipeline import solve_scenario
            from planner.plan import read_plan
            from render.folder import write_plan_folder

            scenario = _with_stored_registry(_load_scenario(scenario_file), db, folder)
            spec = job.get("replan")
            replan_args: dict[str, Any] = {}
            season_args: dict[str, Any] = {}
            if spec and (wrong := wrong_replan_kind(str(spec.get("kind")),
                                                    season_plan=scenario.is_season)):
                raise _refused(wrong, spec)
            if spec and scenario.is_season:
                previous = read_plan(spec["previous_plan"])
                season_args = {"previous": previous,
                               "replan_from": dt.date.fromisoformat(spec["replan_from"])}
            elif spec:
                scenario, previous, given, kept = _replan_inputs(spec, scenario)
                replan_args = {"previous": given, "compare_with": previous, **kept}
            reporter.report(stage="network")
            solved: Any
            if scenario.is_season:
                from planner.season import solve_season

                # the job's time limit is each period's search time, as `planner replan
                # --time-limit` (none: the scenario's `periodic.period_time_limit_s`)
                solved = solve_season(scenario, scenario_file=str(scenario_file.resolve()),
                                      time_limit_s=job.get("time_limit_s"), **season_args)
            else:
                solved = solve_scenario(scenario, scenario_file=str(scenario_file.resolve()),
                                        time_limit_s=job.get("time_limit_s"),
                                        on_progress=reporter.improved, **replan_args)
            plan = solved.plan
            if spec:
                plan = _with_replan_record(plan, spec, previous)
            if not reporter.report(stage="writing", progress=tuple(reporter.progress)):
                print("the job was cancelled; no plan written")
                return 0
            name = _plan_name(runs_dir, scenario.name, float(job.get("created_at") or
                                                             time.time()))
            written = write_plan_folder(plan, solved.network, solved.scenario, runs_dir / name)
            if written.map_error:
                print(f"warning: map.html not written: {written.map_error}", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - report anything to the job page
            return _failed(reporter, exc)
        print(f"wrote plan {runs_dir / name}")
        if not reporter.finish("done", stage="finished", plan_name=name):
            print(f"the job was cancelled while its plan was written; {runs_dir / name} is "
                  "kept as a plan of its own")
        return 0


def _refused(key: str, spec: dict[str, Any]) -> ConflictError:
    """The refusal ``key`` (:func:`webui.jobservice.wrong_replan_kind`) of the re-plan
    ``spec``, in the words the web form answers 409 with."""
    from render.i18n import translate

    name = str(spec.get("base") or "")
    return ConflictError(translate(key, "en", name=name), key=key, name=name)


def _failed(reporter: JobReporter, exc: Exception) -> int:
    """Report a job that failed with ``exc``; its exit code (2: bad input, said in one line;
    1: anything else, with the traceback in the log). An error with a catalogue key is
    reported with it, so the job page words it in its language."""
    from geodata.errors import GeodataError
    from planner.errors import PlannerError

    if isinstance(exc, WebUIError) and exc.key:
        print(f"error: {exc}", file=sys.stderr)
        reporter.finish("failed", error=str(exc), error_key=exc.key, error_values=exc.values)
        return 2
    if isinstance(exc, PlannerError | GeodataError):
        print(f"error: {exc}", file=sys.stderr)
        reporter.finish("failed", error=str(exc))
        return 2
    traceback.print_exception(exc)
    reporter.finish("failed", error=f"{type(exc).__name__}: {exc}")
    return 1


def _with_replan_record(plan: Any, spec: dict[str, Any], previous: Any) -> Any:
    """``plan`` with why and from what the web UI re-planned it in ``provenance.replan``
    (what changed is counted there against the whole previous plan)."""
    replan = dataclasses.replace(
        plan.provenance.replan, kind=str(spec.get("kind") or ""),
        base=str(spec.get("base") or ""), free=tuple(sorted(spec.get("free") or ())),
        closures=tuple(str(c.get("id")) for c in spec.get("closures") or ()))
    return dataclasses.replace(plan, provenance=dataclasses.replace(plan.provenance,
                                                                    replan=replan))


def _run_geometry(job: dict[str, Any], folder: Path, reporter: JobReporter) -> int:
    """Draw the routes of an edited plan along the roads again (see
    :func:`planner.outputs.refresh_route_geometry`); its map is drawn again when a page asks
    for it (the routes file is newer)."""
    from planner.outputs import refresh_route_geometry

    try:
        plan_folder, plan_name = Path(job["plan_folder"]), str(job["plan_name"])
        jobs_dir = Path(job["jobs_dir"])
    except KeyError as exc:
        reporter.finish("failed", error=f"{folder / 'job.json'}: field {exc.args[0]!r} missing")
        return 2
    with _slot(jobs_dir, int(job.get("max_concurrent") or 1)):
        if not reporter.report(status="running", stage="network"):
            return 0
        try:
            refresh_route_geometry(plan_folder)
        except Exception as exc:  # noqa: BLE001 - report anything to the job page
            return _failed(reporter, exc)
    print(f"drew the routes of {plan_folder} along the roads")
    reporter.finish("done", stage="finished", plan_name=plan_name)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    faulthandler.enable()  # a crash in native code (the solvers) still leaves a trace in the log
    if len(args) != 1:
        print("usage: python -m webui.worker JOB_DIR (started by the web UI's job service, "
              f"with the database in ${DATABASE_URL_ENV})", file=sys.stderr)
        return 2
    with contextlib.suppress(OSError):  # solving yields the processors to the web server
        os.nice(WORKER_NICE)
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        print(f"error: ${DATABASE_URL_ENV} is not set: the worker reports into the database "
              "of the web UI that started it", file=sys.stderr)
        return 2
    db = Database.from_url(url, migrate=False)  # the web UI migrated it when it started
    try:
        return run_job(Path(args[0]), db)
    finally:
        db.dispose()


if __name__ == "__main__":
    sys.exit(main())
