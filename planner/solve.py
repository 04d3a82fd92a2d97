"""The public solver surface: :func:`solve` finds routes for a
:class:`~planner.problem.RoutingProblem`, :func:`time_solution` puts clock times on them.
Parameters, re-planning constraints and the raw solution are :mod:`planner.solution`'s
plain data (re-exported here); the back-ends :mod:`planner._ortools` and
:mod:`planner._pyvrp` are the only homes of those libraries.

The search is a small portfolio around the OR-Tools model, using both cores.
``solve(problem, params)`` runs, within ``params.time_limit_s``:

* **seeded** (the default, when :func:`planner._pyvrp.seed_unsupported` allows it and no
  re-planning constraints are given): PyVRP's hybrid genetic search in a second process while
  OR-Tools searches from its own first solution in this one; then OR-Tools starts from the
  better of the two and searches for the rest of the time (``polish_share``). OR-Tools thus
  checks every route it returns against the full model: a seed it rejects is simply not used;
* **unseeded** (``seed_with_pyvrp=False``, or the problem has night rests, lodging or re-planning
  constraints): two OR-Tools searches, one per core, from different first solutions
  (parallel cheapest insertion and savings), and the better result is kept.

* **several trips per vehicle** (scenario schema 3): OR-Tools on the whole model and, in the
  other process, on one trip per vehicle; the better plan wins (:func:`_solve_trips`), so
  allowing more trips never gives a worse plan than one trip each.

A search that starts from its own first solution is OR-Tools' iterated local search where
the model allows it (:func:`planner._ortools.ils_unsupported`), ``params.local_search``
otherwise; a search that starts from given routes always uses ``params.local_search``.

With ``workers=1`` everything runs in this process: PyVRP then OR-Tools when seeded, one
OR-Tools search otherwise. A ``solution_limit`` asks for a reproducible run: PyVRP then
stops after ``hgs_iterations`` iterations instead of on the clock (as long as that happens
within the time limit) and the OR-Tools searches stop on their solution count.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace

from planner._ortools import ils_unsupported, solve_routing
from planner._pyvrp import Seed, hgs_seed, seed_unsupported
from planner.problem import RoutingProblem
from planner.schedule import RouteTiming, time_trips
from planner.solution import ITERATED_LOCAL_SEARCH, RawSolution, SolverParams, VisitConstraints

log = logging.getLogger(__name__)

# the second OR-Tools search of the unseeded portfolio starts from a savings solution: a
# different basin than parallel cheapest insertion, which pays off on the R/RC families
ALT_FIRST_SOLUTION = "SAVINGS"
MIN_POLISH_S = 0.3


def _run_hgs(problem: RoutingProblem, time_limit_s: float, seed: int,
             iterations: int | None) -> Seed | None:
    return hgs_seed(problem, time_limit_s=time_limit_s, seed=seed, max_iterations=iterations)


def _run_ortools(problem: RoutingProblem, params: SolverParams,
                 constraints: VisitConstraints | None) -> RawSolution:
    return solve_routing(problem, params, constraints=constraints)


def _die_with_parent() -> None:
    """Linux: end the helper process when the solving process ends (a cancelled job)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _executor() -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_die_with_parent)


def seeding_possible(problem: RoutingProblem, params: SolverParams,
                     constraints: VisitConstraints | None) -> str | None:
    """Why this solve will not be seeded by PyVRP (``None``: it will)."""
    if not params.seed_with_pyvrp:
        return "seeding switched off"
    if constraints is not None:
        return "re-planning keeps visits fixed, which only the OR-Tools model expresses"
    return seed_unsupported(problem)


def solve(problem: RoutingProblem, params: SolverParams, *,
          on_progress: Callable[[float, int], None] | None = None,
          constraints: VisitConstraints | None = None) -> RawSolution:
    """Best routes for ``problem`` found within ``params.time_limit_s`` (see the module
    docstring); the result's ``strategy`` says which search produced them."""
    if constraints is None and any(v.trip for v in problem.vehicles):
        return _solve_trips(problem, params, on_progress)
    t0 = time.perf_counter()
    why_not = seeding_possible(problem, params, constraints)
    seeded = why_not is None
    total = params.time_limit_s
    polish_s = max(MIN_POLISH_S, params.polish_share * total) if seeded else 0.0
    first_s = max(0.1, total - polish_s)
    reproducible = params.solution_limit is not None
    iterations = params.hgs_iterations if reproducible else None

    main_params = replace(params, time_limit_s=first_s)
    if params.workers <= 1:
        if seeded:
            hgs = _run_hgs(problem, first_s, params.seed, iterations)
            return _finish(problem, params, None, hgs, polish_s, t0, on_progress, constraints)
        raw = solve_routing(problem, main_params, on_progress=on_progress,
                            constraints=constraints)
        return replace(raw, strategy="ortools", wall_s=time.perf_counter() - t0)

    with _executor() as pool:
        other: Future
        if seeded:
            other = pool.submit(_run_hgs, problem, first_s, params.seed, iterations)
        else:
            # the same re-planning constraints: its routes may win
            other = pool.submit(_run_ortools, problem,
                                replace(main_params, first_solution=ALT_FIRST_SOLUTION),
                                constraints)
        main = solve_routing(problem, main_params, on_progress=on_progress,
                             constraints=constraints)
        try:
            result = other.result()
        except Exception:  # a helper that fails must not lose the main search's plan
            log.exception("the second search failed; keeping the first one's routes")
            result = None
    if seeded:
        return _finish(problem, params, main, result, polish_s, t0, on_progress, constraints)
    best, strategy = main, "ortools"
    if isinstance(result, RawSolution) and _better(result, main):
        best, strategy = result, "ortools-portfolio"
        if on_progress is not None:
            on_progress(round(time.perf_counter() - t0, 3), result.objective)
    return replace(best, strategy=strategy, wall_s=time.perf_counter() - t0)


def first_trips(problem: RoutingProblem) -> tuple[RoutingProblem, list[int]]:
    """``problem`` with each vehicle's first trip only, and the index in ``problem`` of each
    of its vehicles."""
    keep = [k for k, v in enumerate(problem.vehicles) if v.trip == 0]
    new_of = {k: i for i, k in enumerate(keep)}
    allowed = None if problem.allowed_vehicles is None else tuple(
        None if ks is None else tuple(new_of[k] for k in ks if k in new_of)
        for ks in problem.allowed_vehicles)
    fixed = None if problem.vehicle_fixed_cost is None else tuple(
        problem.vehicle_fixed_cost[k] for k in keep)
    return replace(problem, vehicles=tuple(problem.vehicles[k] for k in keep),
                   allowed_vehicles=allowed, vehicle_fixed_cost=fixed), keep


def _solve_trips(problem: RoutingProblem, params: SolverParams,
                 on_progress: Callable[[float, int], None] | None) -> RawSolution:
    """Vehicles with several trips: OR-Tools on the whole model, and beside it (in the second
    process, or after it with ``workers=1``) on one trip per vehicle; the better plan wins,
    so allowing more trips never gives a worse plan than one trip each does. (Starting the
    whole model from the one-trip plan was measured worse: its local search did not open
    second trips; ``benchmarks/trips``.)"""
    t0 = time.perf_counter()
    sub, index = first_trips(problem)
    if params.workers <= 1:
        half = replace(params, time_limit_s=params.time_limit_s / 2)
        whole = solve_routing(problem, half, on_progress=on_progress)
        single: RawSolution | None = solve_routing(sub, half)
    else:
        with _executor() as pool:
            other: Future = pool.submit(_run_ortools, sub,
                                        replace(params, first_solution=ALT_FIRST_SOLUTION), None)
            whole = solve_routing(problem, params, on_progress=on_progress)
            try:
                single = other.result()
            except Exception:  # the whole model's plan is kept
                log.exception("the one-trip search failed; keeping the whole model's plan")
                single = None
    best, strategy = whole, "ortools-trips"
    if single is not None and _better(single, whole):
        def spread(per_vehicle: tuple) -> tuple:
            out: list = [()] * len(problem.vehicles)
            for i, k in enumerate(index):
                if i < len(per_vehicle):
                    out[k] = per_vehicle[i]
            return tuple(out)

        best = replace(single, routes=spread(single.routes), starts=spread(single.starts),
                       breaks=spread(single.breaks))
        strategy = "ortools"
        if on_progress is not None:
            on_progress(round(time.perf_counter() - t0, 3), single.objective)
    return replace(best, strategy=strategy, wall_s=time.perf_counter() - t0)


def _better(a: RawSolution, b: RawSolution) -> bool:
    if a.objective < 0:
        return False
    return b.objective < 0 or a.objective < b.objective


def _finish(problem: RoutingProblem, params: SolverParams, main: RawSolution | None,
            hgs: Seed | None, polish_s: float, t0: float,
            on_progress: Callable[[float, int], None] | None,
            constraints: VisitConstraints | None) -> RawSolution:
    """OR-Tools searches on from the better of its own routes and PyVRP's."""
    start = main.routes if main is not None and main.objective >= 0 else None
    strategy = "ortools"
    if hgs is not None and hgs.feasible and (
            start is None or main is None or hgs.cost < main.objective):
        start, strategy = hgs.routes, "pyvrp-seed+ortools"
    offset = time.perf_counter() - t0
    polish_s = max(polish_s, params.time_limit_s - offset)  # all the time that is left

    def shifted(elapsed: float, objective: int) -> None:
        if on_progress is not None:
            on_progress(round(offset + elapsed, 3), objective)

    progress = list(main.progress) if main is not None else []
    if hgs is not None and hgs.feasible and (not progress or hgs.cost < progress[-1][1]):
        progress.append((round(offset, 3), hgs.cost))
        if on_progress is not None:
            on_progress(round(offset, 3), hgs.cost)
    polish = solve_routing(problem, replace(params, time_limit_s=polish_s),
                           on_progress=shifted, constraints=constraints, initial_routes=start)
    for elapsed, objective in polish.progress:
        if not progress or objective < progress[-1][1]:
            progress.append((round(offset + elapsed, 3), objective))
    if not polish.seeded and start is not None:
        log.warning("the OR-Tools model rejected the %s start routes", strategy)
        strategy = "ortools"
    best = polish
    if main is not None and _better(main, polish):
        best, strategy = main, "ortools"
    return replace(best, strategy=strategy, wall_s=time.perf_counter() - t0,
                   progress=tuple(progress))


def iterated_search_skipped(problem: RoutingProblem, params: SolverParams,
                            constraints: VisitConstraints | None) -> str | None:
    """Why OR-Tools' iterated local search will not run in this solve (``None``: it will)."""
    if not params.iterated_local_search:
        return "switched off"
    return ils_unsupported(problem, constraints)


def time_solution(problem: RoutingProblem, raw: RawSolution) -> list[RouteTiming]:
    """Clock times, loads, nights and breaks of every route of ``raw`` (one per vehicle),
    by the schedule rules of :mod:`planner.schedule`.

    Where the day a service falls on matters to the model (lodging limits, daily driving
    caps, daily breaks) the solver's service starts and break placements guide the schedule,
    so it keeps the nights where the solver put them; otherwise each route gets its earliest
    schedule."""
    follow_solver = problem.lodging is not None or any(v.drive_cap_binds or v.breaks
                                                        for v in problem.vehicles)
    hints = raw.starts if follow_solver and raw.starts else None
    breaks = raw.breaks if raw.breaks else None
    timings = time_trips(problem, raw.routes, hints=hints, breaks=breaks)
    if hints is None and raw.starts and not all(t.feasible for t in timings):
        # an earliest schedule may set out days before the solver did and wait at a market
        # day longer than a trip may last: the solver's times then guide it
        guided = time_trips(problem, raw.routes, hints=raw.starts, breaks=breaks)
        if sum(not t.feasible for t in guided) < sum(not t.feasible for t in timings):
            return guided
    return timings


__all__ = ["ITERATED_LOCAL_SEARCH", "RawSolution", "SolverParams", "VisitConstraints",
           "iterated_search_skipped", "seeding_possible", "solve", "time_solution"]
