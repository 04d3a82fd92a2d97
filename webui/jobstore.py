"""Background solves: each job is a folder under ``JOBS_DIR`` and a separate process.

A request only creates the folder and starts ``python -m webui.worker JOB_DIR``; the worker
(see :mod:`webui.worker`) runs the planner, appends ``elapsed<TAB>objective`` lines to
``progress.tsv`` as the solver improves, writes its state to ``state.json`` and finally
moves the finished plan into ``RUNS_DIR``. Everything a page shows is read back from the
job folder, so the web process holds no job state and survives restarts.

Job folder::

    job.json       what to solve (scenario file, time limit, where to put the plan; for a
                   re-plan also its ``replan`` spec, see :class:`ReplanSpec`)
    previous.json  a re-plan's previous plan, copied when the job starts
    scenario.json  a re-plan's scenario (the one saved beside the previous plan), copied
    scenario.yaml  the scenario text the web process resolved, when it gave one (a scenario
                   of the database, with the edited values of the communes' libraries)
    state.json     status, stage, times, run name, error (written by the worker)
    progress.tsv   one line per improving solution
    worker.pid     the worker's process id
    cancel         present once a cancel was requested
    log.txt        the worker's output
"""

from __future__ import annotations

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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from webui.errors import ConflictError, JobError, NotFoundError

JOB_ID = re.compile(r"^[0-9a-f]{12}$")
ACTIVE = ("queued", "running")
STATUSES = ("queued", "running", "done", "failed", "cancelled")
REPLAN_KINDS = ("resolve", "closures", "outcomes")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON in one step (readers never see half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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
    (a run or a published version), for the result's provenance."""

    kind: str
    base: str
    previous_plan: Path
    done: tuple[str, ...] = ()
    locked: tuple[str, ...] = ()
    free: tuple[str, ...] = ()
    closures: tuple[dict[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind not in REPLAN_KINDS:
            raise ValueError(f"re-plan kind {self.kind!r}: use one of {', '.join(REPLAN_KINDS)}")

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["previous_plan"] = str(self.previous_plan)
        for key in ("done", "locked", "free", "closures"):
            data[key] = list(data[key])
        return data


@dataclass(frozen=True)
class JobStatus:
    """What the job page shows, read from the job folder."""

    id: str
    scenario: str
    status: str
    stage: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    run: str | None
    error: str | None
    progress: tuple[tuple[float, int], ...]
    log_tail: str

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def elapsed_s(self) -> float:
        """Seconds since the job started (or was queued), up to its end."""
        start = self.started_at or self.created_at
        end = self.finished_at or time.time()
        return max(0.0, end - start)

    @property
    def best_objective(self) -> int | None:
        return min((obj for _, obj in self.progress), default=None)

    @property
    def created(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.created_at).astimezone()


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


def _read_progress(path: Path) -> tuple[tuple[float, int], ...]:
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ()
    for line in lines:
        parts = line.split("\t")
        if len(parts) == 2:
            try:
                out.append((float(parts[0]), int(parts[1])))
            except ValueError:
                continue  # a line being written
    return tuple(out)


def _tail(path: Path, n_chars: int = 4000) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - n_chars))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True)
class JobStore:
    """Start, read and cancel background solves kept under ``root``."""

    root: Path
    runs_dir: Path
    max_concurrent: int = 1
    # called with the job id once a worker started by this store has ended (the web
    # process mirrors the job's final state into its database, see webui.jobrecords)
    on_finish: Callable[[str], None] | None = field(default=None, compare=False, repr=False)

    def _folder(self, job_id: str) -> Path:
        if not JOB_ID.match(job_id or ""):
            raise NotFoundError(f"unknown job {job_id!r}")
        for entry in self.root.iterdir() if self.root.is_dir() else ():
            if entry.name == job_id and (entry / "job.json").is_file():
                return entry
        raise NotFoundError(f"unknown job {job_id!r}")

    def start(self, scenario_file: Path | None, *, scenario_name: str,
              time_limit_s: float | None = None, replan: ReplanSpec | None = None,
              scenario_text: str | None = None) -> str:
        """Create a job for ``scenario_file`` (a YAML scenario, or for a re-plan the
        ``scenario.json`` beside its previous plan) and start its worker process; returns
        the id. A re-plan's previous plan and scenario are copied into the job folder, so
        the job solves what was asked even if the plan folder changes meanwhile. With
        ``scenario_text`` that text is written to the job folder and solved instead."""
        job_id = uuid.uuid4().hex[:12]
        folder = self.root / job_id
        folder.mkdir(parents=True)
        now = time.time()
        if scenario_text is not None:  # a scenario the web process resolved (database, edits)
            scenario_file = folder / "scenario.yaml"
            scenario_file.write_text(scenario_text, encoding="utf-8")
        spec = None
        if replan is not None:
            if scenario_file is None:
                shutil.rmtree(folder, ignore_errors=True)
                raise JobError("a re-plan needs the scenario saved beside its previous plan")
            try:
                shutil.copyfile(replan.previous_plan, folder / "previous.json")
                shutil.copyfile(scenario_file, folder / "scenario.json")
            except OSError as exc:
                shutil.rmtree(folder, ignore_errors=True)
                raise JobError(f"could not copy the plan to re-plan: {exc}") from None
            scenario_file = folder / "scenario.json"
            spec = {**replan.as_json(), "previous_plan": str(folder / "previous.json")}
        write_json_atomic(folder / "job.json", {
            "id": job_id, "scenario": scenario_name, "scenario_file": str(scenario_file),
            "time_limit_s": time_limit_s, "runs_dir": str(self.runs_dir.resolve()),
            "jobs_dir": str(self.root.resolve()), "max_concurrent": self.max_concurrent,
            "created_at": now, **({"replan": spec} if spec else {})})
        write_json_atomic(folder / "state.json", {"status": "queued", "stage": "queued"})
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(PROJECT_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env["PYTHONUNBUFFERED"] = "1"
        with (folder / "log.txt").open("ab") as log:
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "webui.worker", str(folder.resolve())],
                    cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                write_json_atomic(folder / "state.json", {
                    "status": "failed", "stage": "queued", "finished_at": time.time(),
                    "error": f"could not start the worker process: {exc}"})
                raise JobError(f"could not start the worker process: {exc}") from None
        (folder / "worker.pid").write_text(str(proc.pid), encoding="ascii")
        # Reap the child when it ends so it does not linger as a zombie.
        threading.Thread(target=self._reap, args=(proc, job_id), name=f"reap-{job_id}",
                         daemon=True).start()
        return job_id

    def _reap(self, proc: subprocess.Popen[bytes], job_id: str) -> None:
        proc.wait()
        if self.on_finish is not None:
            try:
                self.on_finish(job_id)
            except Exception:  # noqa: BLE001 - a reporting hook never breaks the reaper
                logging.getLogger(__name__).exception("on_finish of job %s failed", job_id)

    def status(self, job_id: str) -> JobStatus:
        folder = self._folder(job_id)
        job = read_json(folder / "job.json")
        state = read_json(folder / "state.json")
        status = str(state.get("status", "queued"))
        error = state.get("error")
        finished = state.get("finished_at")
        if status in ACTIVE:
            if (folder / "cancel").exists():
                status, error = "cancelled", None
                finished = finished or (folder / "cancel").stat().st_mtime
            elif not self._worker_alive(folder, job_id):
                status = "failed"
                error = error or ("the worker process ended without reporting a result; "
                                  "see the log below")
                finished = finished or time.time()
        return JobStatus(
            id=job_id, scenario=str(job.get("scenario", "")),
            status=status if status in STATUSES else "failed",
            stage=str(state.get("stage", "queued")),
            created_at=float(job.get("created_at") or (folder / "job.json").stat().st_mtime),
            started_at=state.get("started_at"), finished_at=finished,
            run=state.get("run"), error=error,
            progress=_read_progress(folder / "progress.tsv"),
            log_tail=_tail(folder / "log.txt"))

    def _worker_alive(self, folder: Path, job_id: str) -> bool:
        try:
            pid = int((folder / "worker.pid").read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            # Not written yet: the request that starts the job is still running.
            return time.time() - (folder / "job.json").stat().st_mtime < 10
        return _process_alive(pid, job_id)

    def list(self, *, limit: int = 20) -> list[JobStatus]:
        """The most recent jobs, newest first."""
        if not self.root.is_dir():
            return []
        ids = [p.name for p in self.root.iterdir()
               if JOB_ID.match(p.name) and (p / "job.json").is_file()]
        statuses = [self.status(i) for i in ids]
        return sorted(statuses, key=lambda s: s.created_at, reverse=True)[:limit]

    def cancel(self, job_id: str) -> JobStatus:
        """Stop a queued or running job (its worker's process group is terminated)."""
        current = self.status(job_id)
        if not current.active:
            raise ConflictError(f"job {job_id} is {current.status}; only queued or running "
                                "jobs can be cancelled")
        folder = self._folder(job_id)
        (folder / "cancel").write_text(dt.datetime.now().isoformat(), encoding="utf-8")
        try:
            pid = int((folder / "worker.pid").read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            pid = None
        if pid is not None and _process_alive(pid, job_id):
            try:
                os.killpg(pid, signal.SIGTERM)  # the worker leads its own session
            except OSError:
                pass
        return self.status(job_id)
