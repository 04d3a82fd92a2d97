"""Sweeps on Dask distributed: the only module that imports Dask.

:func:`run_distributed` submits one task per variant to a Dask cluster: a
:class:`~distributed.LocalCluster` of worker processes on this machine by default, or the
scheduler at ``tcp://HOST:8786`` of a real cluster (the same code path: a client, futures,
``retries=1``). A task that raises is retried once (on any worker) and then reported as
failed without stopping the others; a worker that dies is replaced by the cluster and its
task resubmitted by the scheduler.

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

from planner.sweep import (
    Progress,
    SweepRun,
    Variant,
    VariantResult,
    VariantSolver,
    failed_result,
    solve_cycle,
)

log = logging.getLogger(__name__)

RETRIES = 1


def run_distributed(variants: Sequence[Variant], solver: VariantSolver = solve_cycle, *,
                    name: str = "sweep", scheduler: str | None = None, n_workers: int = 2,
                    on_progress: Progress | None = None) -> SweepRun:
    """Solve ``variants`` on Dask: a LocalCluster of ``n_workers`` processes, or the
    scheduler at ``scheduler``; results in the order of ``variants``."""
    from distributed import Client, LocalCluster, as_completed

    t0 = time.perf_counter()
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        engine = f"dask LocalCluster, {n_workers} workers"
    else:
        client = Client(scheduler)
        engine = f"dask {scheduler}"
    try:
        workers = len(client.scheduler_info().get("workers", {}))
        futures = [client.submit(solver, v, retries=RETRIES, pure=False,
                                 key=f"variant-{i}-{v.key}")
                   for i, v in enumerate(variants)]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[VariantResult | None] = [None] * len(variants)
        done = 0
        for future in as_completed(futures):
            i = index[future.key]
            if future.status == "finished":
                result: VariantResult = future.result()
            else:
                error = future.exception()
                log.warning("variant %s failed after %d attempts: %s", variants[i].key,
                            RETRIES + 1, error)
                result = failed_result(variants[i], error, attempts=RETRIES + 1)
            results[i] = result
            done += 1
            if on_progress is not None:
                on_progress(done, len(variants), result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return SweepRun(name, tuple(r for r in results if r is not None),
                    round(time.perf_counter() - t0, 3), engine, workers)
