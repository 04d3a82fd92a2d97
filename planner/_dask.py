"""Sweeps on Dask distributed: the only module that imports Dask.

:class:`DaskEngine` holds a client of a Dask cluster: a :class:`~distributed.LocalCluster` of
worker processes on this machine by default, or the scheduler at ``tcp://HOST:8786`` of a
real cluster (the same code path: a client and futures). :meth:`DaskEngine.run` submits one
task per variant; a task that raises, or whose worker died, is submitted once more (on any
worker) and then reported as failed without stopping the others; each result says how many
attempts it took. One engine runs several batches (fleet
sizing solves one batch per fleet size) on the same workers.

Dask's worker processes are daemonic and cannot start child processes, so every variant
solves with one search process (:meth:`planner.sweep.Variant.scenario` sets
``solver.workers: 1``). Each worker runs one task at a time (one thread per worker).
On a real cluster the workers need this package installed and the scenarios' files (the
batch tables of ``rotation:``, imported datasets) at the same paths.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from planner.sweep import (
    Progress,
    SweepRun,
    Variant,
    VariantResult,
    VariantSolver,
    failed_result,
    solve_variant,
)

log = logging.getLogger(__name__)

RETRIES = 1


class DaskEngine:
    """A Dask client (and the LocalCluster it started, if any) for the sweeps of a run."""

    def __init__(self, *, scheduler: str | None = None, n_workers: int = 2) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers
        self._cluster: Any = None
        self._client: Any = None

    def __enter__(self) -> DaskEngine:
        from distributed import Client, LocalCluster

        # distributed logs every worker's start and stop at INFO on import; keep the
        # command's output to what the user asked for unless they asked for INFO
        if logging.getLogger().getEffectiveLevel() > logging.INFO:
            logging.getLogger("distributed").setLevel(logging.ERROR)
        if self.scheduler is None:
            self._cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None,
                                         silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
        else:
            self._client = Client(self.scheduler, timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    @property
    def description(self) -> str:
        if self.scheduler is None:
            return f"dask LocalCluster, {self.n_workers} workers"
        return f"dask {self.scheduler}"

    @property
    def workers(self) -> int:
        return len(self._client.scheduler_info().get("workers", {}))

    def run(self, variants: Sequence[Variant], solver: VariantSolver = solve_variant, *,
            name: str = "sweep", on_progress: Progress | None = None) -> SweepRun:
        """Solve ``variants`` on the cluster; results in the order of ``variants``."""
        from distributed import as_completed

        t0 = time.perf_counter()
        stamp = time.time_ns()

        def submit(i: int, attempt: int) -> Any:
            return self._client.submit(solver, variants[i], pure=False,
                                       key=f"variant-{stamp}-{i}-{attempt}-{variants[i].key}")

        futures = [submit(i, 1) for i in range(len(variants))]
        where = {f.key: (i, 1) for i, f in enumerate(futures)}
        results: list[VariantResult | None] = [None] * len(variants)
        done = 0
        pending = as_completed(futures)
        for future in pending:
            i, attempt = where.pop(future.key)
            if future.status == "finished":
                result: VariantResult = replace(future.result(), attempts=attempt)
            elif attempt <= RETRIES:  # retried once, on any worker
                log.info("variant %s failed (attempt %d), retrying: %s", variants[i].key,
                         attempt, future.exception())
                again = submit(i, attempt + 1)
                where[again.key] = (i, attempt + 1)
                pending.add(again)
                continue
            else:
                error = future.exception()
                log.warning("variant %s failed after %d attempts: %s", variants[i].key,
                            attempt, error)
                result = failed_result(variants[i], error, attempts=attempt)
            results[i] = result
            done += 1
            if on_progress is not None:
                on_progress(done, len(variants), result)
        return SweepRun(name, tuple(r for r in results if r is not None),
                        round(time.perf_counter() - t0, 3), self.description, self.workers)


def run_distributed(variants: Sequence[Variant], solver: VariantSolver = solve_variant, *,
                    name: str = "sweep", scheduler: str | None = None, n_workers: int = 2,
                    on_progress: Progress | None = None) -> SweepRun:
    """Solve ``variants`` on Dask (see :class:`DaskEngine`), the cluster's start included in
    the time."""
    t0 = time.perf_counter()
    with DaskEngine(scheduler=scheduler, n_workers=n_workers) as engine:
        run = engine.run(variants, solver, name=name, on_progress=on_progress)
    return SweepRun(run.name, run.results, round(time.perf_counter() - t0, 3), run.engine,
                    run.workers)
