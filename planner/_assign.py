"""The batch assignment of a rotation cycle: the only module that imports OR-Tools' min-cost
flow (``ortools.graph``) and CP-SAT (``ortools.sat``).

Given the visits of a plan in trip order, which batch may go to which visit (the eligibility
rule and where the batch is: at the library, or held by a commune visited earlier on the
same trip, which hands it on), each visit's shelf, and a score per (visit, batch):

* a batch goes to at most one visit;
* a visit receives at most the number of batches it wants (one, by default: a swap), and
  their crates fit its shelf;
* the objective serves as many visits as possible with at least one batch, then maximises the
  score of the batches sent, then prefers batches handed on along the trip to batches loaded
  at the library (fewer crates carried out and back).

Weighted this way the problem is a matching of batches to visits: a **min-cost flow**
(source → batch → visit → sink, a visit's first batch earning the serve weight) solves it
exactly in milliseconds, since every option's batch fits the visit's shelf by itself. Only
when a visit wants several batches whose crates together may not fit its shelf (a knapsack
the flow cannot express) does the **CP-SAT** model run, started from the flow's answer.
Measured (``python -m benchmarks.rotation``): 150 communes, 600 batches, 41,563 options,
CP-SAT alone proved the optimum in 13 s; the flow takes well under a second.

Plain data in, plain data out (:mod:`planner.rotation` builds the inputs and reads the
result).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model

SERVE_WEIGHT = 10_000  # serving one more visit outweighs any gain in score
SCORE_WEIGHT = 100
HAND_ON_WEIGHT = 1
KEEP_WEIGHT = 1_000  # a re-plan keeps a commune's batch over any better fit (labels are printed)


@dataclass(frozen=True)
class Option:
    """Batch ``batch`` may go to visit ``visit`` with ``score``; ``from_visit`` is the visit
    of the same trip that collects it (a hand-on), ``None`` when it is loaded at the library."""

    visit: int
    batch: str
    score: int
    from_visit: int | None = None
    kept: bool = False  # the batch this visit had in the plan being re-planned


@dataclass(frozen=True)
class AssignmentResult:
    """The batches chosen for each visit (an :class:`Option` each), and how the solve went."""

    chosen: tuple[Option, ...]
    status: str
    wall_s: float


def _weight(opt: Option) -> int:
    return (SCORE_WEIGHT * opt.score + (HAND_ON_WEIGHT if opt.from_visit is not None else 0)
            + (KEEP_WEIGHT if opt.kept else 0))


def assign(options: Sequence[Option], crates: Mapping[str, int], shelf: Sequence[int],
           wanted: Sequence[int], *, time_limit_s: float = 10.0, workers: int = 2,
           seed: int = 0) -> AssignmentResult:
    """Choose the batches of each visit (see the module docstring); ``crates`` per batch,
    ``shelf`` crates and ``wanted`` batches at most per visit (indexed by visit)."""
    t0 = time.perf_counter()
    flow = _flow(options, wanted)
    loads: dict[int, int] = {}
    for opt in flow:
        loads[opt.visit] = loads.get(opt.visit, 0) + crates[opt.batch]
    if all(load <= shelf[visit] for visit, load in loads.items()):
        return AssignmentResult(flow, "OPTIMAL", time.perf_counter() - t0)
    return _cp_sat(options, crates, shelf, wanted, hint=flow, time_limit_s=time_limit_s,
                   workers=workers, seed=seed, t0=t0)


def _flow(options: Sequence[Option], wanted: Sequence[int]) -> tuple[Option, ...]:
    """The best matching of batches to visits, each visit taking at most ``wanted``."""
    batch_ids = sorted({o.batch for o in options})
    visits = sorted({o.visit for o in options})
    source, sink = 0, 1
    batch_node = {b: 2 + i for i, b in enumerate(batch_ids)}
    visit_node = {v: 2 + len(batch_ids) + i for i, v in enumerate(visits)}
    net = min_cost_flow.SimpleMinCostFlow()
    for node in batch_node.values():
        net.add_arc_with_capacity_and_unit_cost(source, node, 1, 0)
    arcs = [net.add_arc_with_capacity_and_unit_cost(batch_node[o.batch], visit_node[o.visit],
                                                    1, -_weight(o)) for o in options]
    for v, node in visit_node.items():
        net.add_arc_with_capacity_and_unit_cost(node, sink, 1, -SERVE_WEIGHT)
        if wanted[v] > 1:
            net.add_arc_with_capacity_and_unit_cost(node, sink, wanted[v] - 1, 0)
    net.add_arc_with_capacity_and_unit_cost(source, sink, len(batch_ids), 0)  # unsent
    net.set_node_supply(source, len(batch_ids))
    net.set_node_supply(sink, -len(batch_ids))
    if net.solve() != net.OPTIMAL:
        return ()
    return tuple(o for o, arc in zip(options, arcs, strict=True) if net.flow(arc))


def _cp_sat(options: Sequence[Option], crates: Mapping[str, int], shelf: Sequence[int],
            wanted: Sequence[int], *, hint: Sequence[Option], time_limit_s: float,
            workers: int, seed: int, t0: float) -> AssignmentResult:
    """The same choice with each visit's shelf as a knapsack, started from ``hint``."""
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(options))]
    by_batch: dict[str, list[int]] = {}
    by_visit: dict[int, list[int]] = {}
    hinted = set(hint)
    for i, opt in enumerate(options):
        by_batch.setdefault(opt.batch, []).append(i)
        by_visit.setdefault(opt.visit, []).append(i)
        model.add_hint(x[i], opt in hinted)
    for members in by_batch.values():
        if len(members) > 1:
            model.add_at_most_one(x[i] for i in members)
    served: list[Any] = []  # one term per visit: 1 when it receives a batch
    for visit, members in by_visit.items():
        if max(crates[options[i].batch] for i in members) * min(wanted[visit], len(members)) \
                > shelf[visit]:
            model.add(sum(crates[options[i].batch] * x[i] for i in members) <= shelf[visit])
        if wanted[visit] < len(members):
            model.add(sum(x[i] for i in members) <= wanted[visit])
        if wanted[visit] == 1:
            served.append(sum(x[i] for i in members))  # at most one: the sum is the flag
            continue
        flag = model.new_bool_var(f"served{visit}")
        model.add_bool_or([x[i] for i in members]).only_enforce_if(flag)
        model.add_bool_and([~x[i] for i in members]).only_enforce_if(~flag)
        served.append(flag)
    model.maximize(
        SERVE_WEIGHT * sum(served)
        + sum(_weight(opt) * x[i] for i, opt in enumerate(options)))
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
