"""Background jobs: the job service starts, reads, lists and cancels them. A job solves a
scenario (or re-plans from a plan), or draws an edited plan's routes along the roads
again (``kind: geometry``: :func:`planner.outputs.refresh_route_geometry`, the part of an
edit that needs the road network, which no request builds).

The database's ``jobs`` row of a job (see :mod:`storage.jobs`) is its one source of truth.
A request only writes the job's folder, adds the row and starts the worker process
(``python -m webui.worker JOB_DIR``, see :mod:`webui.worker`), which opens the same database
(its URL passed in the worker's environment, never written to a file) and reports its
status, stage, progress, error and plan into the row. Pages read only the row, so the web
process holds no job state and survives restarts.

A worker that ended without reporting (it crashed, or was killed) is found through the
process id in the row, as this process reaps its workers or as a page reads the job, and
the job is reported failed once. Cancelling marks the row cancelled, then terminates the
worker's process group; a worker that is not stopped in time reports nothing more.

Job folder (what the worker needs as files)::

    job.json       what to do (``kind``: ``solve`` or ``geometry``); for a solve the scenario
                   file, time limit and where to put the plan (for a re-plan also its
                   ``replan`` spec, see :class:`ReplanSpec`); for ``geometry`` the plan
                   folder
    previous.json  a re-plan's previous plan, copied when the job starts
    scenario.json  a re-plan's scenario (the one saved beside the previous plan), copied
    scenario.yaml  the scenario text the web process resolved, when it gave one (a scenario
                   of the database, with the edited values of the communes' libraries)
    log.txt        the worker's output (its end is kept in the row when the worker ends)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import ScenarioError
from storage import Database, RecordNotFoundError, jobs
from storage.db import DATABASE_URL_ENV
from storage.jobs import JobInfo
from storage.models import JOB_STATUSES, utcnow
from webui.errors import ConflictError, JobError, NotFoundError
from webui.files import DIR_MODE, open_private, private_dir, write_private
from webui.scenariostore import InvalidScenarioError, ScenarioSources, solvable_text

log = logging.getLogger(__name__)

JOB_ID = re.compile(r"^[0-9a-f]{12}$")
STATUSES = JOB_STATUSES
REPLAN_KINDS = ("resolve", "closures", "outcomes", "season")
GEOMETRY = "geometry"  # job.json ``kind`` of a job drawing a plan's routes along the roads
PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOG_FILE = "log.txt"
LOG_TAIL_CHARS = 4000
# A job whose worker's process id is not recorded this long after it was added never had
# a worker (the request that started it died half-way).
START_GRACE = dt.timedelta(seconds=10)
WORKER_LOST = "the worker process ended without reporting a result; see the log below"


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON in one step (readers never see half a file),
    readable by its owner only (see :mod:`webui.files`)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    write_private(tmp, json.dumps(data, ensure_ascii=False, indent=1))
    tmp.replace(path)


def wrong_replan_kind(kind: str, *, season_plan: bool) -> str | None:
    """The catalogue key of the refusal of a re-plan of ``kind`` from a plan (a season plan
    if ``season_plan``) when the kinds do not match, else ``None``: a season plan is
    re-planned from a date (``kind`` ``season``), a cycle plan from its visits and closures.
    The web form and the worker both refuse (the stored plan can change kind between)."""
    if (kind == "season") == season_plan:
        return None
    return "season_replan_only_from_date" if season_plan else "season_replan_not_season"


@dataclass(frozen=True)
class ReplanSpec:
    """A re-plan job: solve the scenario again from ``previous_plan`` (a ``plan.json``, the
    scenario being the ``scenario.json`` beside it) with :func:`planner.pipeline.solve_scenario`
    (``previous=``, ``done=``, ``locked=``).

    ``kind`` says why (``resolve``: a dispatcher locked some visits and re-solves the rest;
    ``closures``: road closures were added; ``outcomes``: visits were done or failed);
    ``free`` are stops taken off the previous routes so that the solver may place them
    anywhere (failed visits, stops not locked); ``closures`` are added to the scenario's
    ``road_conditions.closures`` (scenario format); ``base`` names the plan re-planned from
    (a plan folder or a published version), for the result's provenance.

    A season plan is re-planned from a date (``kind`` ``season``, ``replan_from`` an ISO date):
    :func:`planner.season.solve_season` keeps the trips leaving before it and plans the rest
    of the season again."""

    kind: str
    base: str
    previous_plan: Path
    done: tuple[str, ...] = ()
    locked: tuple[str, ...] = ()
    free: tuple[str, ...] = ()
    closures: tuple[dict[str, Any], ...] = field(default=())
    replan_from: str = ""

    def __post_init__(self) -> None:
        if self.kind not in REPLAN_KINDS:
            raise ValueError(f"re-plan kind {self.kind!r}: use one of {', '.join(REPLAN_KINDS)}")
        if (self.kind == "season") != bool(self.replan_from):
            raise ValueError("a season re-plan, and only it, has the date it re-plans from")

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["previous_plan"] = str(self.previous_plan)
        for key in ("done", "locked", "free", "closures"):
            data[key] = list(data[key])
        return data


def _process_alive(pid: int, job_id: str) -> bool:
    """Whether process ``pid`` is running and is this job's worker (not a recycled pid)."""
    proc = Path("/proc") / str(pid)
    if Path("/proc/self").exists():
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False
        state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else "?"
        return state not in ("Z", "X") and job_id in cmdline
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def log_tail(path: Path, n_chars: int = LOG_TAIL_CHARS) -> str:
    """The last ``n_chars`` of the log file at ``path`` (empty if there is none)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - n_chars))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class JobService:
    """Start, read, list and cancel the background solves of one app: their rows in
    ``database``, their folders under ``root``; finished plans go to ``runs_dir``; at most
    ``max_concurrent`` solve at once (file locks in ``root``, see :mod:`webui.worker`)."""

    database: Database
    root: Path
    runs_dir: Path
    max_concurrent: int = 1

    def start(self, scenario_file: Path | None, *, scenario_name: str,
              user_id: int | None = None, scenario_source: str = "file",
              time_limit_s: float | None = None, replan: ReplanSpec | None = None,
              scenario_text: str | None = None) -> str:
        """Add a job for ``scenario_file`` (a YAML scenario, or for a re-plan the
        ``scenario.json`` beside its previous plan), started by ``user_id``, and start its
        worker process; returns the job id. A re-plan's previous plan and scenario are
        copied into the job folder, so the job solves what was asked even if the plan folder
        changes meanwhile. With ``scenario_text`` that text is written to the job folder and
        solved instead."""
        if not self.database.shareable:
            raise JobError(f"database {self.database.url} lives in this process only; solve "
                           "jobs need one their worker processes can open (a file or a "
                           "server)", key="job_database_private", url=self.database.url)
        job_id = uuid.uuid4().hex[:12]
        folder = self.root / job_id
        private_dir(self.root)
        folder.mkdir(mode=DIR_MODE)
        try:
            job = self._write_folder(folder, job_id, scenario_file, scenario_name=scenario_name,
                                     time_limit_s=time_limit_s, replan=replan,
                                     scenario_text=scenario_text)
            # a season's time limit is each period's search time, no bound on the job's
            # own: its page draws no bar of the time used against it
            whole = None if replan is not None and replan.kind == "season" else time_limit_s
            with self.database.begin() as s:
                jobs.add_job(s, job_id=job_id, scenario_name=scenario_name,
                             scenario_source=scenario_source, time_limit_s=whole,
                             started_by_id=user_id)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._start_worker(job_id, folder, job)
        return job_id

    def _write_folder(self, folder: Path, job_id: str, scenario_file: Path | None, *,
                      scenario_name: str, time_limit_s: float | None,
                      replan: ReplanSpec | None, scenario_text: str | None) -> dict[str, Any]:
        """Write what the worker reads (see the module docstring); returns ``job.json``."""
        if scenario_text is not None:  # a scenario the web process resolved (database, edits)
            scenario_file = folder / "scenario.yaml"
            write_private(scenario_file, scenario_text)
        spec = None
        if replan is not None:
            if scenario_file is None:
                raise JobError("a re-plan needs the scenario saved beside its previous plan",
                               key="job_replan_no_scenario")
            try:
                write_private(folder / "previous.json", Path(replan.previous_plan).read_bytes())
                write_private(folder / "scenario.json", Path(scenario_file).read_bytes())
            except OSError as exc:
                raise JobError(f"could not copy the plan to re-plan: {exc}",
                               key="job_replan_copy_failed", detail=str(exc)) from None
            scenario_file = folder / "scenario.json"
            spec = {**replan.as_json(), "previous_plan": str(folder / "previous.json")}
        if scenario_file is None:
            raise JobError("a job needs a scenario file or a scenario text",
                           key="job_no_scenario")
        job = {"id": job_id, "scenario": scenario_name, "scenario_file": str(scenario_file),
               "time_limit_s": time_limit_s, "runs_dir": str(self.runs_dir.resolve()),
               "jobs_dir": str(self.root.resolve()), "max_concurrent": self.max_concurrent,
               "created_at": time.time(), **({"replan": spec} if spec else {})}
        write_json_atomic(folder / "job.json", job)
        return job

    def _start_worker(self, job_id: str, folder: Path, job: dict[str, Any]) -> None:
        """Start the worker process of a job added to the database, and record its pid."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(PROJECT_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env["PYTHONUNBUFFERED"] = "1"
        env[DATABASE_URL_ENV] = self.database.secret_url()
        with open_private(folder / LOG_FILE) as out:
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "webui.worker", str(folder.resolve())],
                    cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                message = f"could not start the worker process: {exc}"
                with self.database.begin() as s:
                    jobs.fail_job(s, job_id, error=message)
                raise JobError(message, key="job_worker_failed", detail=str(exc)) from None
        try:
            with self.database.begin() as s:
                jobs.set_worker_pid(s, job_id, proc.pid)
        except BaseException:
            # A worker nobody can follow or cancel must not run on.
            _terminate(proc.pid, job_id)
            raise
        # Reap the child when it ends, so it does not linger as a zombie, and settle its job.
        threading.Thread(target=self._reap, args=(proc, job_id), name=f"reap-{job_id}",
                         daemon=True).start()

    def _reap(self, proc: subprocess.Popen[bytes], job_id: str) -> None:
        proc.wait()
        try:
            tail = log_tail(self.root / job_id / LOG_FILE)
            with self.database.begin() as s:
                if not jobs.fail_job(s, job_id, error=WORKER_LOST, log_tail=tail):
                    jobs.record_log_tail(s, job_id, tail)
        except Exception:  # noqa: BLE001 - a reporting thread never raises; pages settle it
            log.exception("could not record the end of job %s", job_id)

    def status(self, job_id: str) -> JobInfo:
        """Job ``job_id`` as its row says; :class:`NotFoundError` if there is none."""
        if not JOB_ID.match(job_id or ""):
            raise NotFoundError(f"unknown job {job_id!r}", key="unknown_job", job=job_id)
        with self.database.begin() as s:
            info = jobs.get_job(s, job_id)
        if info is None:
            raise NotFoundError(f"unknown job {job_id!r}", key="unknown_job", job=job_id)
        return self._settled(info)

    def list(self, *, limit: int = 30) -> list[JobInfo]:
        """The most recent jobs, newest first."""
        with self.database.begin() as s:
            infos = jobs.list_jobs(s, limit=limit)
        return [self._settled(info) for info in infos]

    def cancel(self, job_id: str) -> JobInfo:
        """Stop a queued or running job: its row is marked cancelled, then its worker's
        process group is terminated. :class:`ConflictError` if the job is not active."""
        self.status(job_id)  # a worker found gone makes the job failed, not cancelled
        try:
            with self.database.begin() as s:
                cancelled = jobs.cancel_job(s, job_id)
                info = jobs.get_job(s, job_id)
        except RecordNotFoundError:
            raise NotFoundError(f"unknown job {job_id!r}", key="unknown_job",
                                job=job_id) from None
        assert info is not None
        if not cancelled:
            raise ConflictError(f"job {job_id} is {info.status}; only queued or running jobs "
                                "can be cancelled", key="job_not_running", job=job_id)
        if info.worker_pid is not None:  # else it is starting, and stops when it sees the row
            _terminate(info.worker_pid, job_id)
        return info

    def _settled(self, info: JobInfo) -> JobInfo:
        """``info``, or the job reported failed if it is active but its worker is gone (or
        never started)."""
        if not info.active:
            return info
        if info.worker_pid is None:
            if utcnow() - info.created_at < START_GRACE:
                return info  # the request that starts it is still running
        elif _process_alive(info.worker_pid, info.job_id):
            return info
        tail = log_tail(self.root / info.job_id / LOG_FILE)
        with self.database.begin() as s:
            jobs.fail_job(s, info.job_id, error=WORKER_LOST, log_tail=tail)
            return jobs.get_job(s, info.job_id) or info

    def start_geometry(self, plan_name: str, folder: Path, *, user_id: int | None) -> str:
        """Start drawing the routes of the plan in ``folder`` along the roads again (and
        writing its matrices); returns the job id. A job already doing it is reused."""
        with self.database.begin() as s:
            running = [j for j in jobs.list_jobs(s, limit=50)
                       if j.active and j.scenario_name == geometry_job_name(plan_name)]
        if running:
            return self._settled(running[0]).job_id
        if not self.database.shareable:
            raise JobError(f"database {self.database.url} lives in this process only; "
                           "background jobs need one their worker processes can open",
                           key="job_database_private", url=self.database.url)
        job_id = uuid.uuid4().hex[:12]
        job_folder = self.root / job_id
        private_dir(self.root)
        job_folder.mkdir(mode=DIR_MODE)
        try:
            job = {"id": job_id, "kind": GEOMETRY, "plan_name": plan_name,
                   "plan_folder": str(Path(folder).resolve()),
                   "jobs_dir": str(self.root.resolve()), "max_concurrent": self.max_concurrent,
                   "created_at": time.time()}
            write_json_atomic(job_folder / "job.json", job)
            with self.database.begin() as s:
                jobs.add_job(s, job_id=job_id, scenario_name=geometry_job_name(plan_name),
                             scenario_source="file", time_limit_s=None, started_by_id=user_id)
        except BaseException:
            shutil.rmtree(job_folder, ignore_errors=True)
            raise
        self._start_worker(job_id, job_folder, job)
        return job_id

    def start_solve(self, sources: ScenarioSources, name: str, *, user_id: int | None,
                    time_limit_s: float | None, worker_reports_problems: bool = False) -> str:
        """Start solving scenario ``name`` (a file or a stored one) as the web UI solves: the
        job gets the resolved text with the libraries' edited values. An invalid scenario
        raises :class:`InvalidScenarioError`, unless ``worker_reports_problems`` and it is a
        file: then the job gets the file and its worker reports the problems (the jobs page's
        behaviour)."""
        entry = sources.get(name)
        try:
            text = solvable_text(sources, entry)
        except ScenarioError as exc:
            if worker_reports_problems and entry.path is not None:
                return self.start(entry.path, scenario_name=name, user_id=user_id,
                                  scenario_source=entry.source, time_limit_s=time_limit_s)
            raise InvalidScenarioError(exc) from None
        return self.start(None, scenario_name=name, user_id=user_id,
                          scenario_source=entry.source, time_limit_s=time_limit_s,
                          scenario_text=text)


def geometry_job_name(plan_name: str) -> str:
    """What the job list calls a job drawing plan ``plan_name``'s routes (the jobs table
    names every job by what it works on)."""
    return f"{plan_name}: routes along the roads"[:128]


def _terminate(pid: int, job_id: str) -> None:
    """Terminate the process group of job ``job_id``'s worker, if it still runs."""
    if _process_alive(pid, job_id):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGTERM)  # the worker leads its own session
