"""The process that runs one background solve: ``python -m webui.worker JOB_DIR``.

It composes the planner's public steps the way ``planner solve`` does (load the scenario,
solve, write the outputs and the map) and reports through files in the job folder (see
:mod:`webui.jobstore`): ``state.json`` for the status and stage, ``progress.tsv`` for every
improving solution. The finished plan is written to a hidden folder in ``RUNS_DIR`` and
renamed into place, so the plan list never shows half a plan.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import shutil
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from webui.jobstore import read_json, write_json_atomic

SLOT_POLL_S = 0.5


class _State:
    """Writes ``state.json`` of one job, keeping the fields already reported."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "state.json"
        self.data: dict[str, Any] = read_json(self.path) or {"status": "queued"}

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        write_json_atomic(self.path, self.data)


@contextlib.contextmanager
def _slot(jobs_dir: Path, count: int) -> Iterator[IO[str]]:
    """Wait for one of ``count`` solver slots (file locks, released when the process ends)."""
    while True:
        for i in range(max(1, count)):
            fh = (jobs_dir / f".slot-{i}.lock").open("a")
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


def _run_name(runs_dir: Path, scenario_name: str, created_at: float) -> str:
    stamp = dt.datetime.fromtimestamp(created_at).strftime("%Y%m%d-%H%M%S")
    base = f"{scenario_name}-{stamp}"
    name, n = base, 2
    while (runs_dir / name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def run_job(folder: Path) -> int:
    """Run the job in ``folder``; returns the process exit code."""
    from geodata.errors import GeodataError
    from planner.errors import PlannerError

    job = read_json(folder / "job.json")
    state = _State(folder)
    try:
        runs_dir = Path(job["runs_dir"])
        jobs_dir = Path(job["jobs_dir"])
        scenario_file = Path(job["scenario_file"])
    except KeyError as exc:
        state.update(status="failed", finished_at=time.time(),
                     error=f"{folder / 'job.json'}: field {exc.args[0]!r} missing")
        return 2
    with _slot(jobs_dir, int(job.get("max_concurrent") or 1)):
        state.update(status="running", stage="loading", started_at=time.time())
        progress = (folder / "progress.tsv").open("a", encoding="utf-8")
        try:
            from planner.pipeline import solve_scenario, write_outputs
            from planner.scenario import load_scenario
            from webui.maps import write_plan_map

            scenario = load_scenario(scenario_file)
            state.update(stage="network")

            def on_progress(elapsed_s: float, objective: int) -> None:
                if state.data.get("stage") != "solving":
                    state.update(stage="solving")
                progress.write(f"{elapsed_s:.3f}\t{int(objective)}\n")
                progress.flush()

            plan, net = solve_scenario(scenario, scenario_file=str(scenario_file.resolve()),
                                       time_limit_s=job.get("time_limit_s"),
                                       on_progress=on_progress)
            state.update(stage="writing")
            name = _run_name(runs_dir, scenario.name, float(job.get("created_at") or
                                                            time.time()))
            partial = runs_dir / f".{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            paths = write_outputs(plan, net, scenario, partial)
            write_plan_map(paths["plan"], paths["routes"], partial / "map.html")
            partial.rename(runs_dir / name)
        except (PlannerError, GeodataError) as exc:
            state.update(status="failed", finished_at=time.time(), error=str(exc))
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except Exception as exc:  # noqa: BLE001 - report anything to the job page
            traceback.print_exc()
            state.update(status="failed", finished_at=time.time(),
                         error=f"{type(exc).__name__}: {exc}")
            return 1
        finally:
            progress.close()
        state.update(status="done", stage="finished", finished_at=time.time(), run=name)
        print(f"wrote plan {runs_dir / name}")
        return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m webui.worker JOB_DIR", file=sys.stderr)
        return 2
    return run_job(Path(args[0]))


if __name__ == "__main__":
    sys.exit(main())
