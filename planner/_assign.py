"""The batch assignment of a rotation cycle and the visit dates of a season: the only module
that imports OR-Tools' min-cost flow (``ortools.graph``) and CP-SAT (``ortools.sat``).

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



def _run(model: cp_model.CpModel, time_limit_s: float, workers: int, seed: int
         ) -> tuple[cp_model.CpSolver, Any, str]:
    """Solve ``model`` within the limits: the solver (to read values), status and its name."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = max(1, int(workers))
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    return solver, status, solver.status_name(status)

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
    solver, status, name = _run(model, time_limit_s, workers, seed)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return AssignmentResult((), name, time.perf_counter() - t0)
    chosen = tuple(opt for i, opt in enumerate(options) if solver.value(x[i]))
    return AssignmentResult(chosen, name, time.perf_counter() - t0)


def _at_most_per_day(model: cp_model.CpModel, visits: Sequence[Any], amounts: Sequence[int],
                     capacity: Sequence[int]) -> None:
    """The ``amounts`` of the one-day ``visits`` on a day add up to at most its
    ``capacity``: one cumulative at the largest capacity, where days of a smaller one hold
    fixed intervals of what the others leave."""
    top = max(capacity) if capacity else 0
    fillers = [model.new_fixed_size_interval_var(d, 1, f"cap{d}")
               for d, cap in enumerate(capacity) if cap < top]
    model.add_cumulative(list(visits) + fillers,
                         list(amounts) + [top - c for c in capacity if c < top], top)


# --- the visit dates of a season (planner/season.py builds the inputs) ---------------------

SPREAD_WEIGHT = 1  # per day between the first and the last of a group's k-th visits


@dataclass(frozen=True)
class VisitDemand:
    """The visits one commune needs over a season, on days (0-based) of the horizon.

    ``count`` visits on ``days`` (the days it may receive), consecutive visits ``min_gap`` to
    ``max_gap`` days apart (``None``: no most), the first no later than ``first_by`` and the
    last no earlier than ``last_from``; or, with ``day_sets``, exactly one of those sets.
    ``preferred`` days earn their weight (``fixed`` ones are a must). ``kept`` days are the
    first visits, already made or published (a re-plan); the others fall on ``not_before``
    or later. ``group``: communes near each other, whose k-th visits are kept close in time
    (so one trip can serve them)."""

    key: str
    days: tuple[int, ...]
    count: int
    min_gap: int = 1
    max_gap: int | None = None
    first_by: int | None = None
    last_from: int | None = None
    day_sets: tuple[tuple[int, ...], ...] | None = None
    preferred: tuple[tuple[int, int, bool], ...] = ()
    kept: tuple[int, ...] = ()
    not_before: int = 0
    group: int = -1


@dataclass(frozen=True)
class DateResult:
    """The days of each commune's visits (sorted), and how the solve went."""

    days: dict[str, tuple[int, ...]]
    status: str
    objective: float
    wall_s: float


def assign_dates(demands: Sequence[VisitDemand], capacity: Sequence[int], *,
                 time_limit_s: float = 20.0, workers: int = 2, seed: int = 0,
                 hint: Mapping[str, Sequence[int]] | None = None,
                 forbidden: Mapping[str, frozenset[int]] | None = None,
                 period_of: Sequence[int] | None = None,
                 loads: Mapping[str, int] | None = None,
                 load_capacity: Sequence[int] | None = None,
                 pairs: Sequence[tuple[str, str, int]] = ()) -> DateResult:
    """Choose the visit days of every commune (see :class:`VisitDemand`): at most
    ``capacity[d]`` visits on day ``d`` and, with ``loads`` (per commune, each visit's) and
    ``load_capacity`` (per day), at most that much load on day ``d``; the objective keeps
    each group's k-th visits close and earns the preferred days' weights. ``forbidden``
    days of a commune are left out (a day its visit could not be routed on), ``hint``
    starts the search from given days.
    ``period_of`` (a period number per day) keeps two visits of a commune out of one period
    (they are routed together). ``pairs`` ``(a, b, weight)`` of communes with ``day_sets``
    earn ``weight`` for each day both are visited (what serving them on one trip saves).
    ``status`` is CP-SAT's (``INFEASIBLE``: no days meet every rule)."""
    t0 = time.perf_counter()
    only = _determined(demands, forbidden or {})
    if only is not None:  # a check of given dates (a move): no search to make
        ok = _dates_fit(demands, only, capacity, period_of=period_of, loads=loads,
                        load_capacity=load_capacity)
        return DateResult(only if ok else {}, "FIXED" if ok else "INFEASIBLE", 0.0,
                          time.perf_counter() - t0)
    model = cp_model.CpModel()
    horizon = len(capacity)
    day_vars: dict[str, list[Any]] = {}
    intervals = []
    objective: list[Any] = []
    on_day: dict[str, dict[int, Any]] = {}  # commune -> day -> 1 when visited (day sets)
    for dm in demands:
        banned = (forbidden or {}).get(dm.key, frozenset())
        allowed = [d for d in dm.days if d not in banned and d >= dm.not_before]
        xs = []
        for k in range(dm.count):
            if k < len(dm.kept):
                x = model.new_constant(dm.kept[k])
            else:
                x = model.new_int_var_from_domain(
                    cp_model.Domain.from_values(allowed), f"{dm.key}_{k}")
            xs.append(x)
            intervals.append(model.new_fixed_size_interval_var(x, 1, f"i{dm.key}_{k}"))
        if period_of is not None and len(xs) > 1:
            blocks = []
            for k, x in enumerate(xs):
                block = model.new_int_var(-1, max(period_of, default=0), f"p{dm.key}_{k}")
                model.add_element(x, list(period_of), block)
                blocks.append(block)
            for a, b in zip(blocks, blocks[1:], strict=False):
                model.add(b > a)
        for a, b in zip(xs, xs[1:], strict=False):
            model.add(b - a >= dm.min_gap)
            if dm.max_gap is not None:
                model.add(b - a <= dm.max_gap)
        if dm.day_sets is not None:
            sets = [tuple(sorted(ds)) for ds in dm.day_sets]
            if pairs:  # one flag per set: the days a commune is visited, as sums of flags
                chosen = [model.new_bool_var("") for _ in sets]
                model.add_exactly_one(chosen)
                for k, x in enumerate(xs):
                    model.add(x == sum(ds[k] * f for ds, f in zip(sets, chosen, strict=True)))
                on_day[dm.key] = {d: sum(f for ds, f in zip(sets, chosen, strict=True)
                                         if d in ds) for d in {d for ds in sets for d in ds}}
            else:
                model.add_allowed_assignments(xs, sets)
        if dm.first_by is not None and xs and len(dm.kept) == 0:
            model.add(xs[0] <= dm.first_by)
        if dm.last_from is not None and xs:
            model.add(xs[-1] >= dm.last_from)
        for day, weight, fixed in dm.preferred:
            hits = []
            for x in xs:
                hit = model.new_bool_var("")
                model.add(x == day).only_enforce_if(hit)
                hits.append(hit)
            if fixed:
                model.add_bool_or(hits)
            else:
                on = model.new_bool_var("")
                model.add_max_equality(on, hits)
                objective.append(-weight * on)
        if hint and dm.key in hint and len(hint[dm.key]) == dm.count:
            for x, d in zip(xs, hint[dm.key], strict=True):
                if d in allowed:
                    model.add_hint(x, d)
        day_vars[dm.key] = xs
    _at_most_per_day(model, intervals, [1] * len(intervals), capacity)
    if loads is not None and load_capacity is not None:
        _at_most_per_day(model, intervals, [loads.get(dm.key, 0) for dm in demands
                                            for _ in range(dm.count)], load_capacity)
    groups: dict[tuple[int, int], list[str]] = {}
    for dm in demands:
        if dm.group >= 0:
            groups.setdefault((dm.group, dm.count), []).append(dm.key)
    for members in groups.values():
        if len(members) < 2:
            continue
        for k in range(len(day_vars[members[0]])):
            lo = model.new_int_var(0, horizon, "")
            hi = model.new_int_var(0, horizon, "")
            model.add_min_equality(lo, [day_vars[m][k] for m in members])
            model.add_max_equality(hi, [day_vars[m][k] for m in members])
            objective.append(SPREAD_WEIGHT * (hi - lo))
    for one, other, weight in pairs:
        for d in on_day.get(one, {}).keys() & on_day.get(other, {}).keys():
            both = model.new_bool_var("")
            model.add(both <= on_day[one][d])
            model.add(both <= on_day[other][d])
            objective.append(-weight * both)
    model.minimize(sum(objective))
    solver, status, name = _run(model, time_limit_s, workers, seed)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return DateResult({}, name, 0.0, time.perf_counter() - t0)
    days = {key: tuple(sorted(int(solver.value(x)) for x in xs))
            for key, xs in day_vars.items()}
    return DateResult(days, name, float(solver.objective_value), time.perf_counter() - t0)


def _determined(demands: Sequence[VisitDemand], forbidden: Mapping[str, frozenset[int]]
                ) -> dict[str, tuple[int, ...]] | None:
    """The days of every commune when ``forbidden`` leaves each one choice (its kept days,
    one day set, or exactly ``count`` days); ``None`` when some commune has a choice."""
    out = {}
    for dm in demands:
        banned = forbidden.get(dm.key, frozenset())
        allowed = [d for d in dm.days if d not in banned and d >= dm.not_before]
        if dm.day_sets is not None:
            fits = [tuple(sorted(ds)) for ds in dm.day_sets if set(ds) <= set(allowed)]
            if len(fits) != 1 or dm.kept:
                return None
            out[dm.key] = fits[0]
        elif len(dm.kept) >= dm.count:
            out[dm.key] = tuple(sorted(dm.kept[:dm.count]))
        elif len(dm.kept) + len(allowed) == dm.count:
            out[dm.key] = tuple(sorted((*dm.kept, *allowed)))
        else:
            return None
    return out


def demand_fits(dm: VisitDemand, days: Sequence[int]) -> bool:
    """Whether ``days`` (sorted) meet one commune's rule by themselves: their count, gaps,
    the first and last visit's bounds and its fixed dates (not the days' capacities)."""
    if len(set(days)) != dm.count:
        return False
    if dm.day_sets is not None and tuple(days) not in {tuple(sorted(x)) for x in dm.day_sets}:
        return False
    gaps = [b - a for a, b in zip(days, days[1:], strict=False)]
    if any(g < dm.min_gap or (dm.max_gap is not None and g > dm.max_gap) for g in gaps):
        return False
    if days and ((dm.first_by is not None and not dm.kept and days[0] > dm.first_by)
                 or (dm.last_from is not None and days[-1] < dm.last_from)):
        return False
    return all(day in days for day, _, fixed in dm.preferred if fixed)


def _dates_fit(demands: Sequence[VisitDemand], days: Mapping[str, tuple[int, ...]],
               capacity: Sequence[int], *, period_of: Sequence[int] | None,
               loads: Mapping[str, int] | None, load_capacity: Sequence[int] | None) -> bool:
    """Whether ``days`` keep every rule of :func:`assign_dates` (its constraints, not its
    objective)."""
    count = [0] * len(capacity)
    load = [0] * len(capacity)
    for dm in demands:
        ds = days[dm.key]
        if any(d < 0 or d >= len(capacity) for d in ds) or not demand_fits(dm, ds):
            return False
        if period_of is not None and len({period_of[d] for d in ds}) != len(ds):
            return False
        for d in ds:
            count[d] += 1
            load[d] += (loads or {}).get(dm.key, 0)
    if any(c > cap for c, cap in zip(count, capacity, strict=True)):
        return False
    return load_capacity is None or loads is None or all(
        x <= cap for x, cap in zip(load, load_capacity, strict=True))


__all__ = ["AssignmentResult", "DateResult", "Option", "VisitDemand", "assign",
           "assign_dates", "demand_fits"]
