"""The process that runs one background solve: ``python -m webui.worker JOB_DIR``.

It composes the planner's public steps the way ``planner solve`` does (load the scenario,
solve, write the outputs and the map) and reports through files in the job folder (see
:mod:`webui.jobstore`): ``state.json`` for the status and stage, ``progress.tsv`` for every
improving solution. The finished plan is written to a hidden folder in ``RUNS_DIR`` and
renamed into place, so the plan list never shows half a plan.

A re-plan job (``replan`` in ``job.json``, see :class:`webui.jobstore.ReplanSpec`) solves
from its previous plan: road closures added to the scenario, ``free`` stops taken off the
previous routes, ``done`` and ``locked`` visits kept; the plan's provenance records the spec
and what changed against the previous plan (``provenance.replan``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import faulthandler
import json
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


def _load_scenario(path: Path) -> Any:
    """A scenario YAML file, or the resolved ``scenario.json`` saved beside a plan."""
    from planner.scenario import load_scenario, parse_scenario

    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return parse_scenario(data, file=str(path))
    return load_scenario(path)


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
            from planner.pipeline import solve_scenario
            from render.folder import write_plan_folder

            scenario = _load_scenario(scenario_file)
            spec = job.get("replan")
            replan_args: dict[str, Any] = {}
            if spec:
                scenario, previous, given, kept = _replan_inputs(spec, scenario)
                replan_args = {"previous": given, "compare_with": previous, **kept}
            state.update(stage="network")

            def on_progress(elapsed_s: float, objective: int) -> None:
                if state.data.get("stage") != "solving":
                    state.update(stage="solving")
                progress.write(f"{elapsed_s:.3f}\t{int(objective)}\n")
                progress.flush()

            plan, net = solve_scenario(scenario, scenario_file=str(scenario_file.resolve()),
                                       time_limit_s=job.get("time_limit_s"),
                                       on_progress=on_progress, **replan_args)
            if spec:
                plan = _with_replan_record(plan, spec, previous)
            state.update(stage="writing")
            name = _run_name(runs_dir, scenario.name, float(job.get("created_at") or
                                                            time.time()))
            folder = write_plan_folder(plan, net, scenario, runs_dir / name)
            if folder.map_error:
                print(f"warning: map.html not written: {folder.map_error}", file=sys.stderr)
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


def _with_replan_record(plan: Any, spec: dict[str, Any], previous: Any) -> Any:
    """``plan`` with why and from what the web UI re-planned it in ``provenance.replan``
    (what changed is counted there against the whole previous plan)."""
    replan = dataclasses.replace(
        plan.provenance.replan, kind=str(spec.get("kind") or ""),
        base=str(spec.get("base") or ""), free=tuple(sorted(spec.get("free") or ())),
        closures=tuple(str(c.get("id")) for c in spec.get("closures") or ()))
    return dataclasses.replace(plan, provenance=dataclasses.replace(plan.provenance,
                                                                    replan=replan))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    faulthandler.enable()  # a crash in native code (the solvers) still leaves a trace in the log
    if len(args) != 1:
        print("usage: python -m webui.worker JOB_DIR", file=sys.stderr)
        return 2
    return run_job(Path(args[0]))


if __name__ == "__main__":
    sys.exit(main())
