"""The batch assignment of a rotation cycle as a CP-SAT model: the only module that imports
OR-Tools CP-SAT (``ortools.sat``).

Given the visits of a plan in trip order, which batch may go to which visit (the eligibility
rule and where the batch is: at the library, or held by a commune visited earlier on the
same trip, which hands it on), each visit's shelf, and a score per (visit, batch):

* a batch goes to at most one visit;
* the crates a visit receives fit its shelf;
* the objective serves as many visits as possible with at least one batch, then maximises the
  score of the batches sent, then prefers batches handed on along the trip to batches loaded
  at the library (fewer crates carried out and back).

Plain data in, plain data out (:mod:`planner.rotation` builds the inputs and reads the
result).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

SERVE_WEIGHT = 10_000  # serving one more visit outweighs any gain in score
SCORE_WEIGHT = 100
HAND_ON_WEIGHT = 1


@dataclass(frozen=True)
class Option:
    """Batch ``batch`` may go to visit ``visit`` with ``score``; ``from_visit`` is the visit
    of the same trip that collects it (a hand-on), ``None`` when it is loaded at the library."""

    visit: int
    batch: str
    score: int
    from_visit: int | None = None


@dataclass(frozen=True)
class AssignmentResult:
    """The batches chosen for each visit (an :class:`Option` each), and how the solve went."""

    chosen: tuple[Option, ...]
    status: str
    wall_s: float


def assign(options: Sequence[Option], crates: Mapping[str, int], shelf: Sequence[int], *,
           time_limit_s: float = 10.0, workers: int = 2, seed: int = 0) -> AssignmentResult:
    """Choose the batches of each visit (see the module docstring); ``crates`` per batch,
    ``shelf`` crates per visit (indexed by visit)."""
    t0 = time.perf_counter()
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(options))]
    by_batch: dict[str, list[int]] = {}
    by_visit: dict[int, list[int]] = {}
    for i, opt in enumerate(options):
        by_batch.setdefault(opt.batch, []).append(i)
        by_visit.setdefault(opt.visit, []).append(i)
    for members in by_batch.values():
        if len(members) > 1:
            model.add_at_most_one(x[i] for i in members)
    served = {}
    for visit, members in by_visit.items():
        model.add(sum(crates[options[i].batch] * x[i] for i in members) <= shelf[visit])
        served[visit] = model.new_bool_var(f"served{visit}")
        model.add_bool_or([x[i] for i in members]).only_enforce_if(served[visit])
        model.add_bool_and([~x[i] for i in members]).only_enforce_if(~served[visit])
    model.maximize(
        SERVE_WEIGHT * sum(served.values())
        + sum((SCORE_WEIGHT * opt.score + (HAND_ON_WEIGHT if opt.from_visit is not None else 0))
              * x[i] for i, opt in enumerate(options)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = max(1, int(workers))
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return AssignmentResult((), name, time.perf_counter() - t0)
    chosen = tuple(opt for i, opt in enumerate(options) if solver.value(x[i]))
    return AssignmentResult(chosen, name, time.perf_counter() - t0)


__all__ = ["AssignmentResult", "Option", "assign"]
