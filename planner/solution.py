"""What a search takes and gives: its parameters, the re-planning constraints on visits and
the raw solution (stop order per vehicle). Plain data, shared by the public solver surface
(:mod:`planner.solve`) and the solver back-ends (:mod:`planner._ortools`,
:mod:`planner._pyvrp`).

The parameters a scenario sets (``solver:`` in the scenario file, :class:`~planner.scenario.
SolverSettings`) have their defaults and names there, once; :meth:`SolverParams.from_settings`
is the one place they are mapped, with the command line's overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planner.scenario import SolverSettings

_SCENARIO_DEFAULTS = SolverSettings()


@dataclass(frozen=True)
class SolverParams:
    """How to search. The first eight fields are the scenario's ``solver:`` settings (same
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
    gls_lambda: float = 0.1  # guided local search penalty factor (OR-Tools' default)
    hgs_iterations: int = 20_000  # PyVRP's budget in a reproducible run (solution_limit set)
    polish_share: float = 0.05  # share of the time OR-Tools searches on from the best start

    @classmethod
    def from_settings(cls, settings: SolverSettings, *, time_limit_s: float | None = None,
                      seed: int | None = None, solution_limit: int | None = None
                      ) -> SolverParams:
        """The parameters of a scenario's ``solver:`` settings; the keyword arguments (the
        command line's ``--time-limit``, ``--seed``, ``--solution-limit``) win when given."""
        return cls(
            time_limit_s=time_limit_s if time_limit_s is not None else settings.time_limit_s,
            seed=seed if seed is not None else settings.seed,
            solution_limit=(solution_limit if solution_limit is not None
                            else settings.solution_limit),
            first_solution=settings.first_solution, local_search=settings.local_search,
            workers=settings.workers, seed_with_pyvrp=settings.seed_with_pyvrp,
            iterated_local_search=settings.iterated_local_search)


@dataclass(frozen=True)
class VisitConstraints:
    """Re-planning constraints, by location index: ``vehicles`` limits which vehicles may
    serve a stop, ``start_s`` pins a service start (a visit already done), ``required``
    makes a stop mandatory (never dropped)."""

    vehicles: dict[int, tuple[int, ...]] = field(default_factory=dict)
    start_s: dict[int, int] = field(default_factory=dict)
    required: frozenset[int] = frozenset()


ITERATED_LOCAL_SEARCH = "ITERATED_LOCAL_SEARCH"


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


__all__ = ["ITERATED_LOCAL_SEARCH", "RawSolution", "SolverParams", "VisitConstraints"]
