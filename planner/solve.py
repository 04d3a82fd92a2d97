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
  checks every route it returns against the full model: a seed it rejects is simply not used.
  If OR-Tools' plan here still leaves communes out at half the time, ruin and recreate
  (below) improves it while PyVRP searches on, and the better of the two is polished;
* **unseeded** (``seed_with_pyvrp=False``, or the problem has night rests, lodging or re-planning
  constraints): two OR-Tools searches, one per core, from different first solutions
  (parallel cheapest insertion and savings, the latter scheduling breaks by their linear
  relaxation; at province scale over many days the second from every stop left out, at
  the largest both, with guided local search and simulated annealing:
  :func:`portfolio_params`; but at the largest both are the insertion search of
  :func:`builds_by_insertion`), and the better result is kept. A search whose best plan
  still leaves communes out at all but :data:`LNS_SHARE` of the time stops there
  (``SolverParams.handover_share``; one serving all searches on), and **ruin and
  recreate** improves the better plan for the rest, and for what the searches left by
  converging early, on both cores (:func:`_lns`; strategy ``…+lns`` where it won communes
  or cost); on smaller problems the helper's run ends with OR-Tools' search from its
  best plan (:func:`lns_polish_s`);

* **several trips per vehicle** (scenario schema 3): OR-Tools on the whole model and, in the
  other process, on one trip per vehicle; the better plan wins (:func:`_solve_trips`), so
  allowing more trips never gives a worse plan than one trip each.

A search that starts from its own first solution is OR-Tools' iterated local search where
the model allows it (:func:`planner._ortools.ils_unsupported`), ``params.local_search``
otherwise; a search that starts from given routes always uses ``params.local_search``.

Every search stops early once its best plan has not improved for
``params.no_improvement_share`` of its time (:func:`planner._ortools.patience_s`,
:class:`~planner.solution.Patience`; PyVRP the same way); two searches side by side (the
unseeded portfolio's, ruin and recreate's, several trips') stop together, once neither has
improved its own for that long, so one that stalls first goes on using its core; the result
records why the search stopped (``stop_reason``) and when its routes were found
(``found_s``). Then the **repair pass** (:func:`repair`) inserts every left-out
stop that a single insertion places by the OR-Tools model's own rules. ``on_progress``
hears of each better plan as a :class:`~planner.solution.SolveProgress` (elapsed seconds,
communes served, objective; the pipeline adds its cost in VND).

With ``workers=1`` everything runs in this process: PyVRP then OR-Tools when seeded, one
OR-Tools search otherwise. A ``solution_limit`` asks for a reproducible run: PyVRP then
stops after ``hgs_iterations`` iterations instead of on the clock (as long as that happens
within the time limit) and the OR-Tools searches stop on their solution count.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import multiprocessing
import random
import signal
import sys
import time
from collections.abc import Callable, Container
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace

import numpy as np

from planner._ortools import RouteJudge, ils_unsupported, patience_s, solve_routing
from planner._pyvrp import Seed, hgs_seed, seed_unsupported
from planner.problem import RoutingProblem
from planner.schedule import RouteTiming, time_trips
from planner.solution import (
    ITERATED_LOCAL_SEARCH,
    STOP_CONVERGED,
    STOP_NO_SOLUTION,
    STOP_TIME_LIMIT,
    Patience,
    ProgressCallback,
    RawSolution,
    SharedClock,
    SolveProgress,
    SolverParams,
    VisitConstraints,
    starts_by_stop,
    together_clock,
)

log = logging.getLogger(__name__)

# the second OR-Tools search of the unseeded portfolio starts from a savings solution: a
# different basin than parallel cheapest insertion, which pays off on the R/RC families
ALT_FIRST_SOLUTION = "SAVINGS"
# ... except at province scale over many days (stops x horizon days at least this): there
# OR-Tools' constructive first solutions take most of the time limit, while a search that
# starts with every stop left out inserts them from the first second (tq-124, 122 communes
# over 10 days, 60 s on one core: parallel cheapest insertion found its first plan at 59.4 s
# serving 8; from none left in, 66 served; benchmarks/scenarios). From twice that size *both*
# searches start so (unless the scenario asks for another first solution than the default),
# with different metaheuristics: tq-124 at 60 s, one process each, load ~3 on 2 cores: guided
# local search 74 served, simulated annealing 75, tabu search 52, and the whole solve 59 -> 68
# served; while on tq-80 (80 communes, 7 days: 560) parallel cheapest insertion still gives the
# best plan (71 served, 50.7 M VND; from every stop left out 69, 58.8 M VND)
LARGE_STOP_DAYS = 500
LARGE_FIRST_SOLUTION = "ALL_UNPERFORMED"
VERY_LARGE_STOP_DAYS = 1000
LARGE_ALT_LOCAL_SEARCH = "SIMULATED_ANNEALING"
DEFAULT_FIRST_SOLUTION = SolverParams().first_solution
MIN_POLISH_S = 0.3
# PyVRP's genetic search stalls longer before it improves again than OR-Tools' local search:
# it stops early after this many times the OR-Tools searches' patience (Solomon R105 at 10 s:
# with the same patience as OR-Tools it stopped after 2.4 s without a better plan, and the
# plan lost 0.13 points of gap and one vehicle; with twice that it was as without early stop)
HGS_PATIENCE_FACTOR = 2.0
# At the largest scale both searches of the portfolio are the insertion search instead
# (builds_by_insertion): each stop inserted where the route judge accepts it, which decides
# a 10-day trip in milliseconds where the OR-Tools model's search takes seconds (tq-124 on
# one core: 86 communes served in 8 s, 87 in 15 s, where both OR-Tools searches serve 74-76
# in 60 s; at 60 s on both cores, another solve running, the OR-Tools search had 45 at
# 47 s, and the whole solve, its ruin and recreate from the insertion search's plan, 109;
# on tq-80 and hg-72 the insertion search served 65 and 47 in 6 and 5 s, against 71 and
# 59: not there)
INSERTION_SEARCH = "JUDGED_INSERTION"
# Over several days the unseeded portfolio's searches whose plan leaves communes out stop
# at all but this share of the time limit; ruin and recreate then improves their plan for
# the rest, and for whatever they leave by converging early (lns_after_search); not begun
# with less than MIN_LNS_S left. (Real scenarios at 60 s, against the searches alone, with
# 0.3: tq-80 71 -> 79 served, hg-72 59 -> 63, tq-124 97 -> 100, hg-40 24 -> 26; the others,
# which serve all or converge, the same: benchmarks/scenarios/results/lns_60s.csv. Since ruin
# and recreate got ~20x faster, 0.5 against 0.3, seeds 0 and 1, another 60 s solve on the
# two cores: tq-80 79, 79, 79 served against 80, 77, 76; hg-40 27, 25, 27 against 25, 26,
# 26; hg-72 63 every time)
LNS_SHARE = 0.5
MIN_LNS_S = 1.0
# the repair pass's time, after the search: this share of the time limit, at least
# MIN_REPAIR_S (repair_budget_s); ruin and recreate, which runs only when stops are left
# out, ends that much before the limit, so that the repair pass ends by it
REPAIR_SHARE = 0.1
MIN_REPAIR_S = 2.0


def repair_budget_s(params: SolverParams) -> float:
    """The repair pass's time in a solve of ``params`` (none when it is off)."""
    return max(MIN_REPAIR_S, REPAIR_SHARE * params.time_limit_s) if params.repair else 0.0


def _run_hgs(problem: RoutingProblem, time_limit_s: float, seed: int,
             iterations: int | None, patience: float | None = None) -> Seed | None:
    return hgs_seed(problem, time_limit_s=time_limit_s, seed=seed, max_iterations=iterations,
                    patience_s=None if patience is None else HGS_PATIENCE_FACTOR * patience)


def _run_ortools(problem: RoutingProblem, params: SolverParams,
                 constraints: VisitConstraints | None) -> RawSolution:
    return solve_routing(problem, params, constraints=constraints, together=_together)


def _run_insertion(problem: RoutingProblem, time_limit_s: float, seed: int = 0,
                   on_progress: ProgressCallback | None = None) -> RawSolution:
    """Routes built from none by the repair pass's insertions (:func:`_insert_blocks`: each
    stop, required ones first, where it adds the least cost among the insertions the route
    judge accepts, judged quickly, at its :data:`RECREATE_TRIES` cheapest places), until no
    stop fits; then ruined and recreated for the rest of ``time_limit_s``
    (:func:`_ruin_and_recreate`)."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    judge = RouteJudge(problem)
    none: list[list[int]] = [[] for _ in problem.vehicles]
    _, built, _ = _insert_blocks(problem, judge, none, left_out_blocks(problem, none),
                                 deadline=deadline, quick_only=True,
                                 max_tries=RECREATE_TRIES)
    if built is None:
        return RawSolution(routes=tuple(() for _ in problem.vehicles), objective=-1,
                           status="NO_SOLUTION", wall_s=time.perf_counter() - t0,
                           local_search=INSERTION_SEARCH, stop_reason=STOP_NO_SOLUTION)
    found = round(time.perf_counter() - t0, 3)
    log.info("the insertion search served %d stop(s) in %.1f s", sum(map(len, built.routes)),
             found)
    progress = [(found, built.objective)]
    _tell(on_progress, found, built)
    best = _ruin_and_recreate(
        problem, judge, built, deadline=deadline, seed=seed, t0=t0, progress=progress,
        on_better=lambda b: _tell(on_progress, time.perf_counter() - t0, b))
    return replace(best, wall_s=time.perf_counter() - t0, progress=tuple(progress),
                   found_s=progress[-1][0], local_search=INSERTION_SEARCH,
                   stop_reason=STOP_TIME_LIMIT)


# the ruins of :func:`_ruin_and_recreate`: this many served stops nearest a random one
RUIN_SIZES = (2, 6)
# ... and this many of the stops left out nearest it are tried first, each at no more than
# its LEFT_OUT_TRIES cheapest places, before the stops taken out are put back: a stop left
# out rarely fits, and tried at every place a removed stop may go (and again after each one
# put back) it took most of an iteration's timings. Phase by phase, 3 places: 20 s from the
# same plans on one core, 8 seeds, communes served summed: hg-72 506 against 505 (and its
# 63-commune plans 37.7-38.0M VND against 38.0-38.4M), tq-80 631 against 630, hg-40 212
# against 209, cb-30 148 against 147; with every left-out stop at 16 places but phase by
# phase, no better than before
RECREATE_NEARBY = 4
LEFT_OUT_TRIES = 3
# ... each at no more than its this many cheapest places: a stop that fits nowhere else
# would otherwise have every place of every trip timed (a multi-day trip timed in a
# millisecond or two, ~200 trials an iteration on tq-80). From the same plan, 20 s on one
# core (another busy): tq-80 71 -> 75 served with every place (33 iterations, in 15 s), 79
# with 12 (585 iterations) and with 24 (761); hg-72 59 -> 60 with every place, 61 with 24,
# 62 with 12. The insertion search builds its first plan so too (tq-124: 88 served in
# 3.9 s, where every place gave 86 in 7.8 s; with 40 s of ruin and recreate, one seed: 111
# and 106 served)
RECREATE_TRIES = 16
# A plan leaving many stops out may serve more with another selection: a trip in another
# valley. Ruins of a few stops nearby never move a whole trip there, so while the plan
# leaves at least ROUTE_RUIN_FROM of the stops out, this share of the ruins take out a whole
# trip and rebuild it from the stops left out then, nearest a random one first. hg-40 (40
# communes over 3 days, 26 served where the best-known plan then served 27, in other
# valleys), 20 s from a 26-commune plan on one core: 27 served at 7 of 12 seeds, at 0 of 8
# without; at 60 s, seeds 0-2: 27, 28, 28 against 26, 26, 26. Not where few are left out:
# a whole multi-day trip is slow to rebuild (hg-72, 5-day trips of ~18 communes: ~150 ms,
# against ~30 ms for a ruin nearby), and with as large a share as the stops left out (at
# most 0.3) hg-72 served 63, 63, 63 and tq-80 79, 78, 78 at 60 s (64, 64, 64 and 79, 80, 79
# without, three days before)
ROUTE_RUIN_SHARE = 0.3
ROUTE_RUIN_FROM = 0.25
# A recreated plan is kept as the one to ruin next when its objective is below the current
# one's plus this share of the best plan's cost (its objective without the penalties of the
# stops it leaves out), the share falling to none by the deadline (threshold accepting):
# short climbs out of a local optimum (the best plan is still the one of least objective;
# a commune that must be served is worth far more than the share). From the same
# plans, 600 iterations, 3 seeds: tq-80 79, 80, 80 served where taking only better plans
# served 79, 77, 78; hg-72 63, 63, 63 against 61, 62, 62
ACCEPT_SHARE = 0.01


def _ruin_and_recreate(problem: RoutingProblem, judge: RouteJudge, raw: RawSolution, *,
                       deadline: float, seed: int, t0: float,
                       progress: list[tuple[float, int]], patience_s: float | None = None,
                       on_better: Callable[[RawSolution], None] | None = None,
                       together: SharedClock | None = None) -> RawSolution:
    """``raw`` (routes ``judge`` accepted, with the judge's objective) improved until
    ``deadline``, or until ``patience_s`` pass without a better plan (:class:`~planner.
    solution.Patience`, shared through ``together`` with a run beside it): take out a few
    served stops near a random one, insert the stops left out near it (each at its
    :data:`LEFT_OUT_TRIES` cheapest places), then the ones taken out (at their
    :data:`RECREATE_TRIES`; :func:`_insertions`, judged by the schedule, the result then
    quickly, whole); ruin the result next if
    the judge's objective is not much worse (:data:`ACCEPT_SHARE`), and keep it when it is
    lower than the best's (more communes served, or the same for less): the best plan, each
    added to ``progress`` (seconds since ``t0``, objective) and told to ``on_better``."""
    routes = [list(r) for r in raw.routes]
    best = current = raw
    rng = random.Random(seed)
    near = np.asarray(problem.time_s[0])
    begun = time.perf_counter()
    span = max(deadline - begun, 1e-9)
    best_cost = _travel_part(problem, best)  # (the threshold's footing)
    stall = Patience(patience_s, together) if patience_s is not None else None
    if stall is not None:
        stall.better(begun)
    while (now := time.perf_counter()) < deadline and (
            stall is None or not stall.converged(now)):
        if not any(routes):
            break
        ruined, others, back = _ruin(problem, routes, rng, near)
        trial, first = _insertions(problem, judge, ruined, others, deadline=deadline,
                                   max_tries=LEFT_OUT_TRIES, scheduled=True)
        trial, then = _insertions(problem, judge, trial, back, deadline=deadline,
                                  max_tries=RECREATE_TRIES, scheduled=True)
        # each insertion judged by the schedule, the result by the model too (its times)
        timed = judge.solution(trial, quick=True) if first or then else None
        if timed is None:
            continue
        threshold = ACCEPT_SHARE * best_cost * max(0.0, 1 - (now - begun) / span)
        if timed.objective < current.objective + threshold:
            routes, current = trial, timed
        if timed.objective < best.objective:
            best = timed
            best_cost = _travel_part(problem, best)
            found = time.perf_counter()
            if stall is not None:
                stall.better(found)
            progress.append((round(found - t0, 3), best.objective))
            if on_better is not None:
                on_better(best)
    return best


def _ruin(problem: RoutingProblem, routes: list[list[int]], rng: random.Random,
          near: np.ndarray) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    """One ruin of :func:`_ruin_and_recreate`: the routes ruined, the blocks left out to
    insert first (each at its :data:`LEFT_OUT_TRIES` cheapest places), and the blocks to
    insert then (at their :data:`RECREATE_TRIES`). Mostly a few served stops near a random
    one (:data:`RUIN_SIZES`), back in random order after the stops left out nearest it
    (:data:`RECREATE_NEARBY`); but, in :data:`ROUTE_RUIN_SHARE` of the ruins of a plan that
    leaves at least :data:`ROUTE_RUIN_FROM` of the stops out, a whole trip, everything left
    out then put back nearest a random one of them first, so that the trip may serve
    another valley."""
    served = [loc for r in routes for loc in r]
    whole = (len(served) <= (1 - ROUTE_RUIN_FROM) * problem.n_stops
             and rng.random() < ROUTE_RUIN_SHARE)
    if whole:
        removed = {x for loc in rng.choice([r for r in routes if r])
                   for x in with_partners(problem, loc)}
    else:
        centre = rng.choice(served)
        removed = {x for loc in sorted(served, key=lambda x: int(near[centre, x]))[
            :rng.randint(*RUIN_SIZES)] for x in with_partners(problem, loc)}
    ruined = [[loc for loc in r if loc not in removed] for r in routes]
    blocks = left_out_blocks(problem, ruined)
    if whole:
        centre = rng.choice(blocks)[0]
        return ruined, [], sorted(blocks, key=lambda b: int(near[centre, b[0]]))
    back = [b for b in blocks if removed.intersection(b)]
    rng.shuffle(back)
    return ruined, sorted((b for b in blocks if not removed.intersection(b)),
                          key=lambda b: int(near[centre, b[0]]))[:RECREATE_NEARBY], back


def _travel_part(problem: RoutingProblem, raw: RawSolution) -> int:
    """``raw``'s objective without the penalties of the stops it leaves out."""
    return raw.objective - problem.penalty_left_out({loc for r in raw.routes for loc in r})


def lns_after_search(problem: RoutingProblem, params: SolverParams,
                     constraints: VisitConstraints | None) -> bool:
    """Whether a plan the searches leave stops out of is improved by ruin and recreate
    (:func:`_lns`): a run on the clock, no re-planning constraints (which pin stops the
    ruins would take out)."""
    return constraints is None and params.solution_limit is None and problem.n_stops > 0


def _lns_run(problem: RoutingProblem, params: SolverParams, start: RawSolution,
             time_limit_s: float, seed: int) -> tuple[RawSolution, list[tuple[float, int]]]:
    """One ruin-and-recreate run from ``start`` (judged routes) for ``time_limit_s`` (with
    the searches' patience), the last :func:`lns_polish_s` of it OR-Tools' search from its
    best plan (:func:`_polish`): the best plan and its progress (seconds since it began,
    objective); a helper process's."""
    t0 = time.perf_counter()
    judge = RouteJudge(problem, hints=starts_by_stop(start.routes, start.starts))
    progress: list[tuple[float, int]] = []
    polish_s = min(lns_polish_s(problem, params), time_limit_s / 2)
    best = _ruin_and_recreate(problem, judge, start,
                              deadline=t0 + time_limit_s - polish_s, seed=seed, t0=t0,
                              progress=progress, patience_s=patience_s(params),
                              together=_together)
    if polish_s > 0:
        polished = _polish(problem, params, best, t0 + time_limit_s - time.perf_counter())
        if polished is not None and polished.objective < best.objective:
            best = polished
            progress.append((round(time.perf_counter() - t0, 3), best.objective))
    return best, progress


# Over fewer stop-days than LNS_POLISH_STOP_DAYS, the helper's ruin and recreate gives the
# last this share of its time to OR-Tools' search from its best plan, while ruin and recreate
# runs on here: the search moves times and stops between trips where ruin and recreate,
# which times each trial by the schedule rules, pays for a plan it cannot improve by
# reinsertion (cb-30, 19 communes served over 2 days: from the plan ruin and recreate had at
# 45 s, 2 s of guided local search took 3.8% off its cost without the communes' penalties;
# at 60 s, seeds 0-2: +3.60/+3.20/+3.40% -> +1.08/+0.72/+0.23% against its best-known plan).
# Not from hg-72 (72 communes over 5 days): its helper's ruin and recreate wins communes to
# the last seconds, and with the search in its last 10% it served 63, 63, 63 where it
# served 64, 64, 64 without
LNS_POLISH_SHARE = 0.1
LNS_POLISH_STOP_DAYS = 250


def lns_polish_s(problem: RoutingProblem, params: SolverParams) -> float:
    """Seconds of OR-Tools' search at the end of the helper's ruin and recreate (none from
    :data:`LNS_POLISH_STOP_DAYS`)."""
    if _large(problem, LNS_POLISH_STOP_DAYS):
        return 0.0
    return LNS_POLISH_SHARE * params.time_limit_s


def _polish(problem: RoutingProblem, params: SolverParams, raw: RawSolution,
            time_limit_s: float) -> RawSolution | None:
    """OR-Tools' search from ``raw``'s routes for ``time_limit_s``, its plan judged as ruin
    and recreate judges its own (the model at the schedule's times, guided by the
    search's): ``None`` when the model refuses ``raw`` or the schedule cannot time its
    plan."""
    if time_limit_s < MIN_POLISH_S:
        return None
    found = solve_routing(problem, replace(params, time_limit_s=time_limit_s,
                                           handover_share=1.0, no_improvement_share=1.0),
                          initial_routes=raw.routes)
    if not found.seeded or found.objective < 0:
        return None
    judge = RouteJudge(problem, hints=starts_by_stop(found.routes, found.starts))
    return judge.solution([list(r) for r in found.routes], quick=True)


def _lns(problem: RoutingProblem, params: SolverParams, raw: RawSolution, *, t0: float,
         pool: ProcessPoolExecutor | None, on_progress: ProgressCallback | None,
         together: SharedClock | None = None, end_s: float | None = None) -> RawSolution:
    """``raw`` (the searches' plan, leaving stops out) improved by ruin and recreate until
    ``end_s`` after ``t0`` (by default the repair pass's time before the time limit,
    ``params.time_limit_s`` - :func:`repair_budget_s`), or until it has not improved for the
    searches' patience: one run here and, with ``pool``, one with another seed in the helper
    process (sharing its convergence clock, ``together``); the better plan is kept if it
    beats ``raw`` by the route judge's objective (the model's, at the schedule's times: the
    footing of every plan the judge compares). At province scale over several days this is
    where most communes are won: OR-Tools' moves rarely place a stop without first moving
    others across days (tq-80 at 40 s on one core: the search converged at 71 served; 20 s
    of ruin and recreate from its plan served 78)."""
    if end_s is None:
        end_s = params.time_limit_s - repair_budget_s(params)
    left = t0 + end_s - time.perf_counter()
    routes = [list(r) for r in raw.routes]
    if raw.objective < 0 or left < MIN_LNS_S or not left_out_blocks(problem, routes):
        return raw  # (a search serving every stop ran to its limit or converged)
    judge = RouteJudge(problem, hints=starts_by_stop(raw.routes, raw.starts))
    start = judge.solution(routes, quick=True) or judge.solution(routes)
    if start is None:
        # a plan the model accepts and the schedule cannot time (the model bounds a few rules
        # more loosely: see timed_within_rules), which the pipeline would write with stops
        # taken off: ruin and recreate starts from it so, and may put them back (hg-40 at
        # 60 s: the searches' 23 communes, 22 written, the ruins skipped; from the 22, 26)
        kept, _, dropped = timed_within_rules(problem, raw)
        judge = RouteJudge(problem, hints=starts_by_stop(kept.routes, kept.starts))
        routes = [list(r) for r in kept.routes]
        start = judge.solution(routes, quick=True) or judge.solution(routes)
        if start is None:
            log.warning("the route judge refused the search's plan; no ruin and recreate")
            return raw
        log.info("ruin and recreate starts from the search's plan less %d stop(s) the "
                 "schedule could not time", len(dropped))
        raw = replace(raw, routes=start.routes, objective=start.objective,
                      starts=start.starts, breaks=start.breaks)
    patience = patience_s(params)
    other = (pool.submit(_lns_run, problem, params, start, left, params.seed + 1)
             if pool is not None else None)
    begun = time.perf_counter()
    progress: list[tuple[float, int]] = []
    best = _ruin_and_recreate(
        problem, judge, start, deadline=begun + left, seed=params.seed, t0=t0,
        progress=progress, patience_s=patience, together=together,
        on_better=lambda b: _tell(on_progress, time.perf_counter() - t0, b))
    if other is not None:
        try:
            theirs, their_progress = other.result()
        except Exception:  # the run here is kept
            log.exception("the helper's ruin and recreate failed")
        else:
            if theirs.objective < best.objective:
                best = theirs
                progress = [(round(begun - t0 + s, 3), o) for s, o in their_progress]
                _tell(on_progress, progress[-1][0], best)
    stopped = STOP_TIME_LIMIT if time.perf_counter() >= begun + left else STOP_CONVERGED
    if best.objective >= start.objective or not progress:
        return replace(raw, stop_reason=stopped)
    log.info("after the search: %d -> %d communes served, objective %d -> %d",
             sum(map(len, raw.routes)), sum(map(len, best.routes)), start.objective,
             best.objective)
    return replace(best, progress=(*raw.progress, *progress), found_s=progress[-1][0],
                   strategy=f"{raw.strategy}+lns", local_search=raw.local_search,
                   stop_reason=stopped, wall_s=raw.wall_s)


def builds_by_insertion(problem: RoutingProblem, params: SolverParams,
                        constraints: VisitConstraints | None) -> bool:
    """Whether the unseeded portfolio's searches are both insertion searches
    (:func:`_run_insertion`, with different seeds) instead of OR-Tools: from
    :data:`VERY_LARGE_STOP_DAYS`, as :func:`portfolio_params` switches, for a run on the
    clock without re-planning constraints (which the ruins would break)."""
    return (constraints is None and params.solution_limit is None
            and _large(problem, VERY_LARGE_STOP_DAYS)
            and params.first_solution == DEFAULT_FIRST_SOLUTION)


# in the helper process: the convergence clock it shares with the solving process's searches
# (planner.solution.Patience), set when the helper starts (_start_helper)
_together: SharedClock | None = None


def _start_helper(together: SharedClock) -> None:
    """The helper process's set-up: share ``together``; on Linux, end when the solving
    process ends (a cancelled job)."""
    global _together
    _together = together
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _executor() -> tuple[ProcessPoolExecutor, SharedClock]:
    """A helper process, and the convergence clock its searches share with this process's."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    together = together_clock(ctx)
    return (ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_start_helper,
                                initargs=(together,)), together)


def seeding_possible(problem: RoutingProblem, params: SolverParams,
                     constraints: VisitConstraints | None) -> str | None:
    """Why this solve will not be seeded by PyVRP (``None``: it will)."""
    if not params.seed_with_pyvrp:
        return "seeding switched off"
    if constraints is not None:
        return "re-planning keeps visits fixed, which only the OR-Tools model expresses"
    return seed_unsupported(problem)


def solve(problem: RoutingProblem, params: SolverParams, *,
          on_progress: ProgressCallback | None = None,
          constraints: VisitConstraints | None = None) -> RawSolution:
    """Best routes for ``problem`` found within ``params.time_limit_s`` (see the module
    docstring), then the repair pass (:func:`repair`, when ``params.repair``); the result's
    ``strategy`` says which search produced them, ``stop_reason`` why the search stopped and
    ``found_s`` when the routes were found. ``on_progress`` hears of every better plan."""
    t0 = time.perf_counter()
    if constraints is None and any(v.trip for v in problem.vehicles):
        raw = _solve_trips(problem, params, on_progress)
    else:
        raw = _portfolio(problem, params, on_progress, constraints)
    if params.repair and raw.objective >= 0:
        raw = repair(problem, raw, constraints=constraints,
                     budget_s=repair_budget_s(params),
                     t0=t0, on_progress=on_progress)
    return replace(raw, wall_s=time.perf_counter() - t0)


def _tell(on_progress: ProgressCallback | None, elapsed_s: float, raw: RawSolution) -> None:
    """Report ``raw`` (a better plan than any reported so far) at ``elapsed_s``."""
    if on_progress is not None:
        on_progress(SolveProgress(elapsed_s=round(elapsed_s, 3),
                                  served=sum(map(len, raw.routes)), cost_vnd=None,
                                  objective=raw.objective, routes=raw.routes,
                                  starts=raw.starts, breaks=raw.breaks))


def _shifted(on_progress: ProgressCallback | None, offset: float
             ) -> Callable[[SolveProgress], None]:
    """``on_progress`` for a search begun ``offset`` seconds into the solve."""
    def shifted(event: SolveProgress) -> None:
        if on_progress is not None:
            on_progress(replace(event, elapsed_s=round(offset + event.elapsed_s, 3)))
    return shifted


def _portfolio(problem: RoutingProblem, params: SolverParams,
               on_progress: ProgressCallback | None,
               constraints: VisitConstraints | None) -> RawSolution:
    """The searches of the module docstring (one trip per vehicle)."""
    t0 = time.perf_counter()
    why_not = seeding_possible(problem, params, constraints)
    seeded = why_not is None
    total = params.time_limit_s
    polish_s = max(MIN_POLISH_S, params.polish_share * total) if seeded else 0.0
    first_s = max(0.1, total - polish_s)
    reproducible = params.solution_limit is not None
    iterations = params.hgs_iterations if reproducible else None

    lns = lns_after_search(problem, params, constraints)
    main_params = replace(params, time_limit_s=first_s)
    if lns:  # searches that still leave stops out hand over to ruin and recreate
        if not seeded:  # (PyVRP's genetic search keeps its time)
            first_s = (1 - LNS_SHARE) * total
        main_params = replace(main_params, handover_share=1 - LNS_SHARE)
    by_insertion = not seeded and builds_by_insertion(problem, params, constraints)
    if params.workers <= 1:
        if seeded:
            hgs = _run_hgs(problem, first_s, params.seed, iterations, patience_s(main_params))
            return _finish(problem, params, None, hgs, polish_s, t0, on_progress, constraints)
        if by_insertion:
            raw = replace(_run_insertion(problem, first_s, params.seed, on_progress),
                          strategy="insertion")
        else:
            raw = solve_routing(problem, portfolio_params(problem, main_params)[0],
                                on_progress=on_progress, constraints=constraints)
            raw = replace(raw, strategy="ortools")
        if lns:
            raw = _lns(problem, params, raw, t0=t0, pool=None, on_progress=on_progress)
        return replace(raw, wall_s=time.perf_counter() - t0)

    pool, together = _executor()
    with pool:
        other: Future
        if seeded:
            other = pool.submit(_run_hgs, problem, first_s, params.seed, iterations,
                                patience_s(main_params))
        else:
            # the same re-planning constraints: its routes may win
            main_params, alt = portfolio_params(problem, main_params)
            if by_insertion:
                other = pool.submit(_run_insertion, problem, first_s, params.seed + 1)
            else:
                other = pool.submit(_run_ortools, problem, alt, constraints)
        main = (_run_insertion(problem, first_s, params.seed, on_progress) if by_insertion
                else solve_routing(problem, main_params, on_progress=on_progress,
                                   constraints=constraints, together=together))
        if seeded and lns:  # while PyVRP searches on: ruin and recreate here
            main = _lns(problem, params, replace(main, strategy="ortools"), t0=t0, pool=None,
                        on_progress=on_progress, together=together, end_s=first_s)
        try:
            result = other.result()
        except Exception:  # a helper that fails must not lose the main search's plan
            log.exception("the second search failed; keeping the first one's routes")
            result = None
        if seeded:
            return _finish(problem, params, main, result, polish_s, t0, on_progress,
                           constraints)
        best = replace(main, strategy="insertion" if by_insertion else "ortools")
        if isinstance(result, RawSolution) and _better(result, main):
            best = replace(result, strategy="insertion"
                           if result.local_search == INSERTION_SEARCH else "ortools-portfolio")
            _tell(on_progress, time.perf_counter() - t0, result)
        if lns:
            best = _lns(problem, params, best, t0=t0, pool=pool, on_progress=on_progress,
                        together=together)
    return replace(best, wall_s=time.perf_counter() - t0)


def _large(problem: RoutingProblem, stop_days: int = LARGE_STOP_DAYS) -> bool:
    """Province scale over several days (one-day problems build their first plans quickly
    at any size the benchmarks have: Cordeau's periodic days routed at once, X up to 1000)."""
    return problem.horizon_days > 1 and problem.n_stops * problem.horizon_days >= stop_days


def alt_first_solution(problem: RoutingProblem) -> str:
    """The first solution of the portfolio's second OR-Tools search."""
    return LARGE_FIRST_SOLUTION if _large(problem) else ALT_FIRST_SOLUTION


def portfolio_params(problem: RoutingProblem, params: SolverParams
                     ) -> tuple[SolverParams, SolverParams]:
    """The settings of the unseeded portfolio's two OR-Tools searches (see the constants
    above): the scenario's and the alternative first solution, which from savings schedules
    breaks by their linear relaxation (``lp_scheduling``: see :func:`planner._ortools.
    search_parameters`); from :data:`VERY_LARGE_STOP_DAYS`, when the scenario keeps the
    default first solution, both start from every stop left out, the second with
    :data:`LARGE_ALT_LOCAL_SEARCH`."""
    alt = replace(params, first_solution=alt_first_solution(problem))
    if alt.first_solution == ALT_FIRST_SOLUTION:
        alt = replace(alt, lp_scheduling=True)
    if not _large(problem, VERY_LARGE_STOP_DAYS) or \
            params.first_solution != DEFAULT_FIRST_SOLUTION:
        return params, alt
    return (replace(params, first_solution=LARGE_FIRST_SOLUTION),
            replace(alt, local_search=LARGE_ALT_LOCAL_SEARCH))


def first_trips(problem: RoutingProblem) -> tuple[RoutingProblem, list[int]]:
    """``problem`` with each vehicle's first trip only, and the index in ``problem`` of each
    of its vehicles."""
    keep = [k for k, v in enumerate(problem.vehicles) if v.trip == 0]
    return problem.with_vehicles(keep), keep


def _solve_trips(problem: RoutingProblem, params: SolverParams,
                 on_progress: ProgressCallback | None) -> RawSolution:
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
        pool, together = _executor()
        with pool:
            alt = replace(params, first_solution=alt_first_solution(sub))
            other: Future = pool.submit(_run_ortools, sub, alt, None)
            whole = solve_routing(problem, params, on_progress=on_progress, together=together)
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
        _tell(on_progress, time.perf_counter() - t0, best)
    return replace(best, strategy=strategy, wall_s=time.perf_counter() - t0)


def _better(a: RawSolution, b: RawSolution) -> bool:
    if a.objective < 0:
        return False
    return b.objective < 0 or a.objective < b.objective


def _finish(problem: RoutingProblem, params: SolverParams, main: RawSolution | None,
            hgs: Seed | None, polish_s: float, t0: float,
            on_progress: ProgressCallback | None,
            constraints: VisitConstraints | None) -> RawSolution:
    """OR-Tools searches on from the better of its own routes and PyVRP's."""
    start = main.routes if main is not None and main.objective >= 0 else None
    own = (main.strategy if main is not None else "") or "ortools"  # (…+lns: see _portfolio)
    strategy = own
    if hgs is not None and hgs.feasible and (
            start is None or main is None or hgs.cost < main.objective):
        start, strategy = hgs.routes, "pyvrp-seed+ortools"
    offset = time.perf_counter() - t0
    polish_s = max(polish_s, params.time_limit_s - offset)  # all the time that is left
    shifted = _shifted(on_progress, offset)

    progress = list(main.progress) if main is not None else []
    if hgs is not None and hgs.feasible and (not progress or hgs.cost < progress[-1][1]):
        progress.append((round(offset, 3), hgs.cost))
        _tell(on_progress, offset, RawSolution(routes=hgs.routes, objective=hgs.cost,
                                               status="SUCCESS", wall_s=0.0))
    polish = solve_routing(problem, replace(params, time_limit_s=polish_s),
                           on_progress=shifted, constraints=constraints, initial_routes=start)
    for elapsed, objective in polish.progress:
        if not progress or objective < progress[-1][1]:
            progress.append((round(offset + elapsed, 3), objective))
    if not polish.seeded and start is not None:
        log.warning("the OR-Tools model rejected the %s start routes", strategy)
        strategy = "ortools"
    best = replace(polish, found_s=None if polish.found_s is None
                   else round(offset + polish.found_s, 3))
    if main is not None and _better(main, polish):
        best, strategy = main, own
    return replace(best, strategy=strategy, wall_s=time.perf_counter() - t0,
                   progress=tuple(progress))


def repair(problem: RoutingProblem, raw: RawSolution, *,
           constraints: VisitConstraints | None = None, budget_s: float = math.inf,
           t0: float | None = None, on_progress: ProgressCallback | None = None
           ) -> RawSolution:
    """``raw`` with every left-out stop inserted that a single insertion can place: each
    stop (with the communes linked to it by transfers, as one block), required ones first,
    goes where it adds the least cost among the insertions the OR-Tools model and the
    schedule accept (:class:`planner._ortools.RouteJudge`: every product constraint): the
    travel and the idle working time it adds (:func:`_insertions`); an optional stop only where
    that cost is less than its penalty (worth its priority). Repeated until no stop can be
    placed or ``budget_s`` is spent; the insertions are judged quickly first, and by the
    model timing the trips itself only once none is accepted so. A search that stopped
    early, or whose moves cannot place a stop without moving others first, leaves such
    stops behind."""
    start = time.perf_counter()
    t0 = start if t0 is None else t0
    routes = [list(r) for r in raw.routes]
    pending = left_out_blocks(problem, routes)
    if not pending:
        return raw
    # the schedule times each trial from the stops' times in the search's plan (then in the
    # last plan kept), which the model checks: see RouteJudge
    judge = RouteJudge(problem, constraints, hints=starts_by_stop(raw.routes, raw.starts))
    routes, timed, inserted = _insert_blocks(problem, judge, routes, pending,
                                             deadline=start + budget_s)
    if timed is None:
        return raw
    now = time.perf_counter() - t0
    _tell(on_progress, now, timed)
    log.info("the repair pass inserted %d stop(s) in %.1f s (%d checks)", inserted,
             time.perf_counter() - start, judge.checks)
    return replace(raw, routes=timed.routes, objective=timed.objective, starts=timed.starts,
                   breaks=timed.breaks, found_s=round(now, 3), repaired=inserted,
                   progress=(*raw.progress, (round(now, 3), timed.objective)))


def _insert_blocks(problem: RoutingProblem, judge: RouteJudge, routes: list[list[int]],
                   pending: list[list[int]], *, deadline: float, quick_only: bool = False,
                   max_tries: int | None = None
                   ) -> tuple[list[list[int]], RawSolution | None, int]:
    """The insertions of :func:`repair`: ``routes`` with each block of ``pending`` (in that
    order of preference) placed where it adds the least cost among the insertions
    ``judge`` accepts (trying only its ``max_tries`` cheapest places, if given), until none
    fits or the clock passes ``deadline``: the routes, the judge's timing of them (``None`` if
    nothing was placed), the stops placed. With ``quick_only`` each insertion is judged by
    the schedule alone (:meth:`~planner._ortools.RouteJudge.scheduled`) and the last
    routes by the quick judgement whole; should the model refuse those, every insertion is
    judged whole again."""
    if quick_only:
        placed, inserted = _insertions(problem, judge, routes, pending, deadline=deadline,
                                       max_tries=max_tries, scheduled=True)
        if not inserted:
            return routes, None, 0
        timed = judge.solution(placed, quick=True)
        if timed is not None:
            return placed, timed, inserted
        log.info("the model refused the schedule's times of %d stop(s) inserted; judging "
                 "each insertion whole", inserted)
    placed, inserted = _insertions(problem, judge, routes, pending, deadline=deadline,
                                   max_tries=max_tries, quick_only=quick_only)
    return placed, judge.solution(placed) if inserted else None, inserted


def _insertions(problem: RoutingProblem, judge: RouteJudge, routes: list[list[int]],
                pending: list[list[int]], *, deadline: float, max_tries: int | None,
                quick_only: bool = False, scheduled: bool = False
                ) -> tuple[list[list[int]], int]:
    """:func:`_insert_blocks`' insertions, each judged by ``judge``'s schedule alone
    (``scheduled``), or quickly and, once none is accepted so (unless ``quick_only``), with
    the model timing the trips itself: the routes and the stops placed.

    A block goes where it adds the least cost among the places tried: the arcs' cost it adds
    (:func:`insertion_candidates`, the order they are tried in) and the idle working time it
    adds to its trip (:meth:`~planner._ortools.RouteJudge.idle`: shift hours spent neither
    driving nor serving, a day waiting for a market say, paid as the objective pays the
    crew's time; none where it fills a wait, which does not shorten the trip), trying places
    until the arcs alone cost more than the best so far. Where the idle time is not known
    (the model timing the trips itself) the first place accepted is taken. By the arcs alone
    a trip took a commune whose market was days after its other stops as readily as a
    neighbour, and spent those days waiting (docs/benchmarks.md, "Insertions that weigh the
    waiting they add")."""
    inserted = 0
    pending = list(pending)
    # every insertion judged quickly first (milliseconds each), then, when none is
    # accepted, with the model timing the trips itself (a second or more each at scale)
    quick = True
    while pending and time.perf_counter() < deadline:
        placed = None
        placed_starts: tuple[tuple[int, ...], ...] = ()  # (the service starts after it)
        # each trip's idle working time now, where the schedule times the routes (not when
        # the model times each trial itself: a second or more each)
        idle = judge.idle(routes) if quick and judge.scheduled(routes) else None
        for block in pending:
            worth = (math.inf if all(problem.required[x] for x in block)
                     else sum(problem.penalty[x] for x in block))
            best: tuple[int, list[list[int]], tuple[tuple[int, ...], ...]] | None = None
            for added, k, pos in insertion_candidates(problem, routes, block)[:max_tries]:
                if added >= min(worth, best[0] if best else worth) or \
                        time.perf_counter() >= deadline:
                    break
                trial = [list(r) for r in routes]
                trial[k][pos:pos] = block
                if scheduled:
                    starts = judge.scheduled(trial)
                else:
                    accepted = judge.solution(trial, quick=quick)
                    starts = None if accepted is None else accepted.starts
                if starts is None:
                    continue
                old, new = (idle[k], judge.idle(trial)[k]) if idle else (None, None)
                if old is None or new is None:
                    best = (added, trial, starts)
                    break
                # the waiting it adds is paid crew time; the waiting it fills does not
                # shorten the trip
                cost = added + problem.span_cost_coeff * max(0, new - old)
                if cost < worth and (best is None or cost < best[0]):
                    best = (cost, trial, starts)
            if best is not None:
                _, routes, placed_starts = best
                placed = block
                inserted += len(block)
                judge.hints.update(starts_by_stop(routes, placed_starts))
                break
        if placed is None and (quick_only or scheduled or not quick):
            break
        quick = placed is not None
        if placed is not None:
            pending.remove(placed)
    return routes, inserted


def left_out_blocks(problem: RoutingProblem, routes: list[list[int]]) -> list[list[int]]:
    """The stops no route serves, each with the communes transfers link it to (givers
    first), required blocks first, then by penalty."""
    served = {loc for r in routes for loc in r}
    blocks: list[list[int]] = []
    seen: set[int] = set()
    for loc in range(problem.n_depots, problem.n_locations):
        if loc in served or loc in seen:
            continue
        block = with_partners(problem, loc)
        seen.update(block)
        if not served.intersection(block):
            blocks.append(block)
    blocks.sort(key=lambda b: (not all(problem.required[x] for x in b),
                               -sum(problem.penalty[x] for x in b)))
    return blocks


def with_partners(problem: RoutingProblem, loc: int) -> list[int]:
    """``loc`` and every stop linked to it by transfers, givers before receivers (a trip
    that serves one end of a transfer serves all of it)."""
    linked = {loc}
    grew = True
    while grew:
        grew = False
        for a, b in problem.pickup_delivery:
            if (a in linked) != (b in linked):
                linked |= {a, b}
                grew = True
    pairs = [(a, b) for a, b in problem.pickup_delivery if a in linked]
    order: list[int] = []
    pending = sorted(linked)
    while pending:  # givers first: the scenario refuses loops, so this ends
        ready = [n for n in pending if not any(b == n and a in pending for a, b in pairs)]
        nxt = ready[0] if ready else pending[0]
        order.append(nxt)
        pending.remove(nxt)
    return order


def insertion_candidates(problem: RoutingProblem, routes: list[list[int]], block: list[int]
                         ) -> list[tuple[int, int, int]]:
    """Every place ``block`` may go as one piece: ``(added travel cost, vehicle, position)``,
    cheapest first, among the vehicles allowed to serve all of it and whose loads stay within
    capacity (the model's swap-correct load rule, :func:`peak_load`, found for every
    position of a route at once by :func:`peak_loads`)."""
    out = []
    allowed = [problem.allowed_vehicles[x] for x in block] if problem.allowed_vehicles else []
    for k, v in enumerate(problem.vehicles):
        if any(ks is not None and k not in ks for ks in allowed):
            continue
        cost = problem.arc_cost_matrix(*problem.arc_cost_key(k))
        route = routes[k]
        inner = sum(int(cost[a, b]) for a, b in zip(block, block[1:], strict=False))
        for pos, peak in enumerate(peak_loads(problem, route, block)):
            if peak > v.capacity:
                continue
            before = route[pos - 1] if pos > 0 else v.start
            after = route[pos] if pos < len(route) else v.end
            added = (int(cost[before, block[0]]) + inner + int(cost[block[-1], after])
                     - int(cost[before, after]))
            out.append((added, k, pos))
    out.sort()
    return out


def peak_load(problem: RoutingProblem, stops: list[int]) -> int:
    """The most crates on board along ``stops`` by the model's swap-correct rule: the trip
    leaves with every crate it delivers; each stop removes its deliveries and adds its
    collections (and the crates of transfers)."""
    pair = problem.pair_load or (0,) * problem.n_locations
    load = peak = sum(problem.deliver[s] for s in stops)
    for s in stops:
        load += problem.collect[s] - problem.deliver[s] + pair[s]
        peak = max(peak, load)
    return peak


def peak_loads(problem: RoutingProblem, route: list[int], block: list[int]) -> list[int]:
    """:func:`peak_load` of ``route`` with ``block`` inserted at each position
    ``0..len(route)``, in one pass: the load after the first ``i`` stops is the one leaving
    the depot plus their changes, so the peak with the block at ``pos`` is the greatest of
    the peak before it, the block's own and the peak after it, shifted by the block's
    change."""
    pair = problem.pair_load or (0,) * problem.n_locations

    def change(s: int) -> int:
        return problem.collect[s] - problem.deliver[s] + pair[s]

    leaving = sum(problem.deliver[s] for s in route) + sum(problem.deliver[s] for s in block)
    within, inner = 0, -math.inf  # the block's change so far, its highest point
    for s in block:
        within += change(s)
        inner = max(inner, within)
    prefix = [0]  # the change after the first i stops of the route
    for s in route:
        prefix.append(prefix[-1] + change(s))
    after = [-math.inf] * (len(route) + 1)  # the highest change after position i
    for i in range(len(route) - 1, -1, -1):
        after[i] = max(after[i + 1], prefix[i + 1])
    peaks, before = [], 0
    for pos in range(len(route) + 1):
        before = max(before, prefix[pos])
        peaks.append(leaving + int(max(before, prefix[pos] + inner, within + after[pos])))
    return peaks


def iterated_search_skipped(problem: RoutingProblem, params: SolverParams,
                            constraints: VisitConstraints | None) -> str | None:
    """Why OR-Tools' iterated local search will not run in this solve (``None``: it will)."""
    if not params.iterated_local_search:
        return "switched off"
    return ils_unsupported(problem, constraints)


def time_solution(problem: RoutingProblem, raw: RawSolution,
                  kept: Container[int] = ()) -> list[RouteTiming]:
    """Clock times, loads, nights and breaks of every route of ``raw`` (one per vehicle),
    by the schedule rules of :mod:`planner.schedule`.

    Where the day a service falls on matters to the model (lodging limits, daily driving
    caps, daily breaks) the solver's service starts and break placements guide the schedule,
    so it keeps the nights where the solver put them; otherwise each route gets the
    schedule's own times (back as early as it can be, setting out as late as that allows),
    or the solver's where they cost the plan less crew time (:func:`crew_time`) or fit
    the rules where the schedule's own do not.
    Either way a trip sets out no sooner than its return needs
    (:func:`planner.schedule.time_route`), but for one through a visit of ``kept`` (a
    re-plan's visits kept at their times)."""
    follow_solver = problem.lodging is not None or any(v.drive_cap_binds or v.breaks
                                                        for v in problem.vehicles)
    hints = raw.starts if follow_solver and raw.starts else None
    breaks = raw.breaks if raw.breaks else None
    timings = time_trips(problem, raw.routes, hints=hints, breaks=breaks, kept=kept)
    if hints is None and raw.starts:
        guided = time_trips(problem, raw.routes, hints=raw.starts, breaks=breaks, kept=kept)
        if not all(t.feasible for t in timings):
            # an earliest schedule may set out days before the solver did and wait at a
            # market day longer than a trip may last: the solver's times then guide it
            if sum(not t.feasible for t in guided) < sum(not t.feasible for t in timings):
                return guided
        elif all(t.feasible for t in guided) and crew_time(problem, guided) < crew_time(
                problem, timings):
            # the solver's times may also cost less: a trip back sooner, a night fewer (the
            # default scenario at 20 s: 13.97M VND against 14.32M by the schedule's own)
            return guided
    return timings


def crew_time(problem: RoutingProblem, timings: list[RouteTiming]) -> int:
    """What the objective charges for the clock times of ``timings``: each trip's hours
    from departure to return and its nights away, in seconds of crew time (the routes' km
    are the same however they are timed)."""
    total = 0
    for t in timings:
        if t.visits:
            total += (problem.span_cost_coeff * (t.return_leg.arrival_s - t.depart_s)
                      + problem.vehicles[t.vehicle].night_cost * t.nights_away)
    return total


def timed_within_rules(problem: RoutingProblem, raw: RawSolution,
                       constraints: VisitConstraints | None = None
                       ) -> tuple[RawSolution, list[RouteTiming], tuple[int, ...]]:
    """:func:`time_solution`; then, where the schedule cannot time a route within the rules
    although the model accepted it (the model bounds a few rules more loosely than the
    clock: a leg's driving split freely around a night under a daily driving cap), the
    route loses stops one at a time, each time the one whose removal leaves the fewest
    schedule problems (the least important first on a tie; visits pinned by a re-plan
    never), until it can be timed. Returns the routes kept, their timings and the stops
    taken off: a plan the pipeline writes keeps every rule its checker applies."""
    pinned = set(constraints.start_s) if constraints is not None else set()
    timings = time_solution(problem, raw, pinned)
    if all(t.feasible for t in timings):
        return raw, timings, ()
    routes = [list(r) for r in raw.routes]
    starts = [list(x) for x in raw.starts] if raw.starts else None
    dropped: list[int] = []

    def with_routes(rs: list[list[int]], ss: list[list[int]] | None) -> RawSolution:
        return replace(raw, routes=tuple(tuple(r) for r in rs),
                       starts=tuple(tuple(x) for x in ss) if ss is not None else raw.starts)

    for k in range(len(routes)):
        while not timings[k].feasible and any(x not in pinned for x in routes[k]):
            best: tuple[tuple[bool, int, int], int, list[RouteTiming]] | None = None
            for i, stop in enumerate(routes[k]):
                if stop in pinned:
                    continue
                trial = [r if j != k else r[:i] + r[i + 1:] for j, r in enumerate(routes)]
                trial_starts = None if starts is None else [
                    x if j != k else x[:i] + x[i + 1:] for j, x in enumerate(starts)]
                timed = time_solution(problem, with_routes(trial, trial_starts), pinned)
                key = (not timed[k].feasible, len(timed[k].problems), problem.penalty[stop])
                if best is None or key < best[0]:
                    best = (key, i, timed)
            assert best is not None
            _, i, timings = best
            dropped.append(routes[k].pop(i))
            if starts is not None:
                starts[k].pop(i)
    if dropped:
        log.warning("the schedule could not time %d stop(s) where the model placed them; "
                    "left out: locations %s", len(dropped), sorted(dropped))
    return with_routes(routes, starts), timings, tuple(dropped)


__all__ = ["ITERATED_LOCAL_SEARCH", "RawSolution", "SolverParams", "VisitConstraints",
           "iterated_search_skipped", "seeding_possible", "solve", "time_solution",
           "timed_within_rules"]
