"""What a search takes and gives: its parameters, the re-planning constraints on visits and
the raw solution (stop order per vehicle). Plain data, shared by the public solver surface
(:mod:`planner.solve`) and the solver back-ends (:mod:`planner._ortools`,
:mod:`planner._pyvrp`).

The parameters a scenario sets (``solver:`` in the scenario file, :class:`~planner.scenario.
SolverSettings`) have their defaults and names there, once; :meth:`SolverParams.from_settings`
is the one place they are mapped, with the command line's overrides.
"""

from __future__ import annotations

import ctypes
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from typing import Any

from planner.errors import PlannerError
from planner.scenario import MAX_SEED, MAX_SOLUTION_LIMIT, MAX_TIME_LIMIT_S, SolverSettings

_SCENARIO_DEFAULTS = SolverSettings()
# a double in memory shared by a solve's processes (multiprocessing.sharedctypes.RawValue)
SharedClock = Any


class SolverParameterError(PlannerError, ValueError):
    """A search parameter given outside a scenario (a command-line flag, a form field) is
    not a usable value; the message says which values are."""


def parse_time_limit(raw: str | float, *, minimum: float = 0.0,
                     maximum: float = MAX_TIME_LIMIT_S) -> float:
    """Seconds of search from a flag or form field (``"30"``, ``"7,5"``, ``7.5``): a finite
    number above 0, from ``minimum`` to ``maximum`` (by default the scenario field's own
    bound, ``solver.time_limit_s``). :class:`SolverParameterError` otherwise (``inf``,
    ``nan``, ``-1``, ``0``, ``1e308`` or a word). The command line and the web UI use it."""
    value: float
    if isinstance(raw, bool):
        value = math.nan
    elif isinstance(raw, int | float):
        value = float(raw)
    else:
        try:
            value = float(str(raw).strip().replace(",", "."))
        except ValueError:
            value = math.nan
    if not (math.isfinite(value) and value > 0 and minimum <= value <= maximum):
        low = "above 0 and" if minimum <= 0 else f"from {minimum:g} to"
        raise SolverParameterError(f"time limit {str(raw)[:40]!r}: give a number of seconds "
                                   f"{low} at most {maximum:g}")
    return value


def _bounded_int(raw: str | int, what: str, low: int, high: int) -> int:
    try:
        value = raw if isinstance(raw, int) and not isinstance(raw, bool) else int(str(raw))
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise SolverParameterError(f"{what} {str(raw)[:40]!r}: give a whole number from "
                                   f"{low} to {high:,}")
    return value


def parse_seed(raw: str | int) -> int:
    """A random seed from a flag: a whole number from 0 to MAX_SEED (as ``solver.seed``)."""
    return _bounded_int(raw, "seed", 0, MAX_SEED)


def parse_solution_limit(raw: str | int) -> int:
    """A solution limit from a flag: 1 to MAX_SOLUTION_LIMIT (as ``solver.solution_limit``)."""
    return _bounded_int(raw, "solution limit", 1, MAX_SOLUTION_LIMIT)


@dataclass(frozen=True)
class SolverParams:
    """How to search. The first ten fields are the scenario's ``solver:`` settings (same
    names and defaults); the rest are the search's own tuning, not exposed in scenarios."""

    time_limit_s: float = _SCENARIO_DEFAULTS.time_limit_s
    seed: int = _SCENARIO_DEFAULTS.seed  # PyVRP's random seed
    solution_limit: int | None = _SCENARIO_DEFAULTS.solution_limit  # a reproducible run
    first_solution: str = _SCENARIO_DEFAULTS.first_solution
    local_search: str = _SCENARIO_DEFAULTS.local_search
    workers: int = _SCENARIO_DEFAULTS.workers  # processes (cores) one solve may use
    # start OR-Tools from PyVRP's routes where PyVRP can model the problem
    seed_with_pyvrp: bool = _SCENARIO_DEFAULTS.seed_with_pyvrp
    # searches that start from nothing use OR-Tools' iterated local search where the model
    # allows it (planner._ortools.ils_unsupported); ``local_search`` otherwise
    iterated_local_search: bool = _SCENARIO_DEFAULTS.iterated_local_search
    # stop once the best plan has not improved for this share of the time limit (1: never)
    no_improvement_share: float = _SCENARIO_DEFAULTS.no_improvement_share
    # after the search, insert every left-out stop a single insertion can place
    repair: bool = _SCENARIO_DEFAULTS.repair
    gls_lambda: float = 0.1  # guided local search penalty factor (OR-Tools' default)
    hgs_iterations: int = 20_000  # PyVRP's budget in a reproducible run (solution_limit set)
    polish_share: float = 0.05  # share of the time OR-Tools searches on from the best start
    # a search whose best plan still leaves stops out at this share of its time limit stops
    # there, for ruin and recreate to take over (planner.solve; 1: never)
    handover_share: float = 1.0
    # the scheduling of breaks (nights away, daily breaks) in the search's filters by its
    # linear relaxation instead of a mixed-integer solve (planner._ortools.search_parameters)
    lp_scheduling: bool = False

    @classmethod
    def from_settings(cls, settings: SolverSettings, *, time_limit_s: float | None = None,
                      seed: int | None = None, solution_limit: int | None = None
                      ) -> SolverParams:
        """The parameters of a scenario's ``solver:`` settings; the keyword arguments (the
        command line's ``--time-limit``, ``--seed``, ``--solution-limit``) win when given,
        checked by the same rules (:class:`SolverParameterError`)."""
        return cls(
            time_limit_s=(parse_time_limit(time_limit_s) if time_limit_s is not None
                          else settings.time_limit_s),
            seed=parse_seed(seed) if seed is not None else settings.seed,
            solution_limit=(parse_solution_limit(solution_limit) if solution_limit is not None
                            else settings.solution_limit),
            first_solution=settings.first_solution, local_search=settings.local_search,
            workers=settings.workers, seed_with_pyvrp=settings.seed_with_pyvrp,
            iterated_local_search=settings.iterated_local_search,
            no_improvement_share=settings.no_improvement_share, repair=settings.repair)


@dataclass(frozen=True)
class VisitConstraints:
    """Re-planning constraints, by location index: ``vehicles`` limits which vehicles may
    serve a stop, ``start_s`` pins a service start (a visit already done), ``required``
    makes a stop mandatory (never dropped)."""

    vehicles: dict[int, tuple[int, ...]] = field(default_factory=dict)
    start_s: dict[int, int] = field(default_factory=dict)
    required: frozenset[int] = frozenset()


ITERATED_LOCAL_SEARCH = "ITERATED_LOCAL_SEARCH"

# why a search stopped (RawSolution.stop_reason, the plan's provenance.stop_reason)
STOP_CONVERGED = "converged"  # no improvement for a share of the limit (Patience)
STOP_TIME_LIMIT = "time_limit"
STOP_SEARCH_ENDED = "search_ended"  # the search ended by itself (solution limit, local optimum)
STOP_NO_SOLUTION = "no_solution"


class Patience:
    """When a search has converged: no better solution for ``seconds`` since its last one
    (none before its first). Every improvement counts, however small: OR-Tools' guided local
    search on hg-12 improves by a unit of its objective every ~60 ms for a whole minute, and
    those steps are worth having (counting only gains over 0.05% of the cost in the window
    stopped it at 22 s, its plan costing 1.4% more than at 60 s). Times are the caller's
    clock.

    Searches that run side by side in one solve (one per core) may share ``together``
    (:func:`together_clock`: the :func:`time.monotonic` of the latest better solution any of
    them found, in memory the processes share): then a search converges only once none of
    them has found a better solution of its own for ``seconds``. The solve waits for the
    last search to end anyway, and a search that stalls first goes on using its core (cb-55
    at 60 s: guided local search from savings stalled for 20 s at 7 s and stopped at 21 s,
    its plan 37.68M VND, while the other search ran to 57 s; run on, it finds a plan of 4%
    less objective by 28 s); the solve ends when it did before, unless that search finds a
    better plan."""

    def __init__(self, seconds: float, together: SharedClock | None = None) -> None:
        self.seconds = seconds
        self._last: float | None = None
        self._together = together

    def better(self, t: float) -> None:
        """A better solution than any before, found at ``t``."""
        self._last = t
        if self._together is not None:
            self._together.value = time.monotonic()

    def converged(self, t: float) -> bool:
        """Whether the search has converged by ``t``."""
        if self._last is None or t - self._last < self.seconds:
            return False
        return (self._together is None
                or time.monotonic() - self._together.value >= self.seconds)


def together_clock(context: BaseContext) -> SharedClock:
    """A clock for :class:`Patience` shared by the processes of ``context`` (``-inf``: no
    better solution yet)."""
    return context.RawValue(ctypes.c_double, -math.inf)


@dataclass(frozen=True)
class SolveProgress:
    """A better plan during a solve: seconds since the solve started, communes served and
    cost of the best plan so far (``cost_vnd``: the plan's KPI, filled in by the pipeline,
    which knows the vehicles' rates; ``None`` from the solver alone), and the search's own
    objective. ``routes`` (stop order per vehicle), with the search's service ``starts`` and
    daily ``breaks`` where it has them (as :class:`RawSolution`'s), let the pipeline time and
    price the plan as it would write it."""

    elapsed_s: float
    served: int
    cost_vnd: int | None
    objective: int
    routes: tuple[tuple[int, ...], ...] = field(default=(), repr=False, compare=False)
    starts: tuple[tuple[int, ...], ...] = field(default=(), repr=False, compare=False)
    breaks: tuple[tuple[tuple[int, int], ...], ...] = field(default=(), repr=False,
                                                          compare=False)


ProgressCallback = Callable[[SolveProgress], None]


@dataclass(frozen=True)
class RawSolution:
    """Stop order per vehicle (location indices, depots excluded) and how the search went."""

    routes: tuple[tuple[int, ...], ...]
    objective: int
    status: str
    wall_s: float
    progress: tuple[tuple[float, int], ...] = field(default=())
    starts: tuple[tuple[int, ...], ...] = ()  # earliest service start of each stop, per route
    # daily breaks per vehicle as the solver placed them: (start, end) seconds
    breaks: tuple[tuple[tuple[int, int], ...], ...] = ()
    seeded: bool = False  # the search started from the given initial routes
    strategy: str = "ortools"  # which search of planner.solve produced the routes
    local_search: str = ""  # the metaheuristic that ran: ITERATED_LOCAL_SEARCH or as asked
    stop_reason: str = ""  # STOP_CONVERGED, STOP_TIME_LIMIT, ...
    found_s: float | None = None  # seconds into the solve when these routes were found
    repaired: int = 0  # stops the repair pass inserted after the search


__all__ = ["ITERATED_LOCAL_SEARCH", "STOP_CONVERGED", "STOP_NO_SOLUTION", "STOP_SEARCH_ENDED",
           "STOP_TIME_LIMIT", "ProgressCallback", "RawSolution", "SolveProgress",
           "SolverParameterError", "SolverParams",
           "VisitConstraints", "parse_seed", "parse_solution_limit", "parse_time_limit"]


def starts_by_stop(routes: Sequence[Sequence[int]], starts: Sequence[Sequence[int]]
                   ) -> dict[int, int]:
    """Each routed stop's service start (``starts``: per route, as ``routes``; a route
    whose starts do not match it, as when the routes were not timed, has none)."""
    return {loc: t for r, ts in zip(routes, starts, strict=False) if len(ts) == len(r)
            for loc, t in zip(r, ts, strict=True)}
