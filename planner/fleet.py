"""Fleet sizing: the cheapest fleet that reaches a share of the service area's communes.

The fleet is counted by **option**: each vehicle entry of the scenario (a vehicle type: its
profile, capacity, shift, rates), and, where the scenario has several depots (the library
and hubs), that entry based at each of them. A fleet is a count per option.

Search, within a stated budget (:class:`FleetBudget`: fleets solved at most, the time of each
solve, vehicles at most): fleets are tried by size, 1 vehicle, then 2, ...; every fleet of a
size is solved (as one sweep, on the sweep engine the caller gives), until a size has a fleet
that reaches the target; then the next size too (a larger fleet can run cheaper: fewer nights
away), budget allowing. The answer is the cheapest fleet reaching the target (cost: the
plan's cost of the cycle, :attr:`planner.kpis.Kpis.cost_vnd`), ties broken by fewer vehicles;
every smaller fleet tried is listed with why it fell short (communes served, how many the
target needs, why the others were left out).

A season scenario (``periodic:``) is sized under its visit rule: every fleet is planned as a
season (:func:`planner.sweep.solve_season_variant`, which the engines pick by the scenario),
a commune counts as served when every visit its rule makes due is on a trip, and the cost is
the whole season's.

Coverage is :func:`planner.kpis.coverage` and never falls when a vehicle is added: a plan of
a fleet is also a plan of any larger fleet (the extra vehicles stay at the library), so each
fleet counts the best plan among its own solve and those of the smaller fleets it contains
(:func:`best_within`); the answer says when a fleet's plan is a smaller fleet's.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from planner.kpis import coverage
from planner.scenario import Scenario
from planner.sweep import Variant, VariantResult, fleet_data, fleet_label

Counts = tuple[int, ...]
# why a search stopped (FleetAnswer.stopped_code): worded by the catalogues (fleet_stopped_*)
STOP_CODES = ("too_few_stops", "reached", "budget", "max_vehicles", "none_reached")
SolveBatch = Callable[[Sequence[Variant]], Sequence[VariantResult]]


@dataclass(frozen=True)
class FleetOption:
    """One vehicle entry based at one depot: ``key`` is the entry's id, or ``id@depot``."""

    key: str
    vehicle_id: str
    depot: str
    profile: str
    capacity_crates: int


@dataclass(frozen=True)
class FleetBudget:
    """What the search may spend: fleets solved, seconds of search per fleet, vehicles."""

    max_fleets: int = 12
    time_limit_s: float = 10.0
    max_vehicles: int = 8

    def text(self) -> str:
        return (f"at most {self.max_fleets} fleets solved, {self.time_limit_s:g} s of search "
                f"each, at most {self.max_vehicles} vehicles")


@dataclass(frozen=True)
class Outcome:
    """What a fleet achieves: communes served and the plan's cost, from its own solve or
    from a smaller fleet's (``source``)."""

    served: int
    cost_vnd: float
    source: Counts
    result: VariantResult | None = None


@dataclass(frozen=True)
class FleetTrial:
    counts: Counts
    label: str
    vehicles: int
    result: VariantResult
    outcome: Outcome
    share: float
    reached: bool
    why_short: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"counts": list(self.counts), "label": self.label, "vehicles": self.vehicles,
                "served": self.outcome.served, "cost_vnd": self.outcome.cost_vnd,
                "share": self.share, "reached": self.reached, "why_short": self.why_short,
                "source": list(self.outcome.source), "status": self.result.status,
                "error": self.result.error, "wall_s": self.result.wall_s,
                "unserved_reasons": dict(self.result.unserved_reasons)}


@dataclass(frozen=True)
class FleetAnswer:
    scenario: str
    target: float
    service_area: int
    needed: int
    options: tuple[FleetOption, ...]
    budget: FleetBudget
    trials: tuple[FleetTrial, ...] = ()
    chosen: FleetTrial | None = None
    stopped: str = ""  # why the search stopped, in English (the command line)
    stopped_code: str = ""  # the same as a code and values (pages word it): STOP_CODES
    stopped_values: Mapping[str, Any] = field(default_factory=dict)
    results: tuple[VariantResult, ...] = field(default=(), repr=False)
    # a season's sizing (see season_terms): its start, days and visit rule
    season: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "target": self.target,
                "service_area": self.service_area, "needed": self.needed,
                "options": [o.key for o in self.options],
                "budget": {"max_fleets": self.budget.max_fleets,
                           "time_limit_s": self.budget.time_limit_s,
                           "max_vehicles": self.budget.max_vehicles,
                           "text": self.budget.text()},
                "trials": [t.to_dict() for t in self.trials],
                "chosen": self.chosen.to_dict() if self.chosen else None,
                "stopped": self.stopped, "stopped_code": self.stopped_code,
                "stopped_values": dict(self.stopped_values),
                "season": dict(self.season) if self.season else None}


def season_terms(scenario: Scenario) -> dict[str, Any] | None:
    """What a season's sizing is under: the season's first day, its days and the visit rule
    of communes without their own; None for a cycle."""
    if scenario.periodic is None:
        return None
    rule = scenario.periodic.default_rule
    return {"start_date": scenario.horizon.start_date.isoformat(),
            "days": scenario.horizon.days,
            "rule": rule.model_dump(mode="json", exclude_none=True,
                                     exclude_defaults=True) if rule else {}}


def fleet_options(scenario: Scenario) -> tuple[FleetOption, ...]:
    """Every vehicle entry, at its own depot and, where the scenario has several, at each
    other depot."""
    depots = [d.id for d in scenario.depots]
    out = []
    for v in scenario.vehicles:
        for d in ([v.depot] + [d for d in depots if d != v.depot]):
            key = v.id if d == v.depot else f"{v.id}@{d}"
            out.append(FleetOption(key, v.id, d, v.profile, v.capacity_crates))
    return tuple(out)


def fleets_of_size(n: int, k: int) -> list[Counts]:
    """Every count vector of ``k`` options summing to ``n`` (largest first option first)."""
    out = []
    for cut in itertools.combinations(range(n + k - 1), k - 1):
        bounds = (-1, *cut, n + k - 1)
        out.append(tuple(bounds[i + 1] - bounds[i] - 1 for i in range(k)))
    return sorted(out, reverse=True)


def contains(big: Counts, small: Counts) -> bool:
    return all(b >= s for b, s in zip(big, small, strict=True))


def best_within(counts: Counts, solved: Mapping[Counts, Outcome]) -> Outcome | None:
    """The best plan a fleet has: its own or a smaller fleet's it contains (most communes
    served, then cheapest, then fewest vehicles); None when no such fleet was solved."""
    inside = [o for c, o in solved.items() if contains(counts, c)]
    if not inside:
        return None
    return min(inside, key=lambda o: (-o.served, o.cost_vnd, sum(o.source), o.source))


def _why_short(outcome: Outcome, *, area: int, needed: int, own: VariantResult,
               labels: Mapping[Counts, str], counts: Counts) -> str:
    if not own.ok and outcome.source == counts:
        return f"the solve failed: {own.error.splitlines()[-1] if own.error else '?'}"
    parts = [f"serves {outcome.served} of {area} communes "
             f"({coverage(outcome.served, area):.1%}); the target needs {needed}"]
    reasons = (outcome.result.unserved_reasons if outcome.result else {}) or {}
    if reasons:
        parts.append("left out: " + ", ".join(f"{n} {code}" for code, n in
                                              sorted(reasons.items(), key=lambda x: -x[1])))
    if outcome.source != counts:
        parts.append(f"best plan is that of {labels.get(outcome.source, '?')} (its own solve "
                     "found no better)")
    return "; ".join(parts)


def size_fleet(scenario: Scenario, scenario_data: dict[str, Any], *, file: str, target: float,
               solve_batch: SolveBatch, budget: FleetBudget = FleetBudget(), seed: int = 0,
               ) -> FleetAnswer:
    """The cheapest fleet reaching ``target`` (see the module doc); ``solve_batch`` solves a
    list of variants (the sweep engine: sequential or on Dask)."""
    from planner.pipeline import check_scenario, dataset_of
    from planner.servicearea import service_area_of

    dataset = dataset_of(scenario, file=file)
    check_scenario(scenario, dataset, file=file)
    area = service_area_of(scenario, dataset, file=file).size
    needed = math.ceil(round(target * area, 6))
    options = fleet_options(scenario)
    season = season_terms(scenario)
    answer = FleetAnswer(scenario.name, target, area, needed, options, budget)
    if len(scenario.stops) < needed:
        return FleetAnswer(
            scenario.name, target, area, needed, options, budget, season=season,
            stopped=f"no fleet can reach it: the scenario lists {len(scenario.stops)} stops "
                    f"and the target needs {needed} of {area} communes; add stops (`planner "
                    f"scenario new --share {target:g}` writes a scenario with enough)",
            stopped_code="too_few_stops",
            stopped_values={"stops": len(scenario.stops), "needed": needed, "area": area})
    keys = [o.key for o in options]
    solved: dict[Counts, Outcome] = {}
    own: dict[Counts, VariantResult] = {}
    labels: dict[Counts, str] = {}
    order: list[Counts] = []
    reached_at: int | None = None
    stopped, code, values, cut = "", "", {}, ""
    for n in range(1, budget.max_vehicles + 1):
        left = budget.max_fleets - len(order)
        if reached_at is not None and n > reached_at + 1:
            stopped = (f"fleets of {reached_at} vehicles reach the target; fleets of "
                       f"{reached_at + 1} were tried for a cheaper one{cut}")
            code, values = "reached", {"vehicles": reached_at, "next": reached_at + 1}
            break
        if left <= 0:
            stopped = f"the budget ({budget.text()}) was used up before fleets of {n} vehicles"
            code, values = "budget", {"vehicles": n}
            break
        every = fleets_of_size(n, len(options))
        level = every[:left]
        cut = f" ({len(level)} of {len(every)}, the budget)" if len(level) < len(every) else ""
        variants = []
        for counts in level:
            fleet = dict(zip(keys, counts, strict=True))
            fleet = {k: c for k, c in fleet.items() if c or "@" not in k}
            labels[counts] = fleet_label(fleet)
            data = fleet_data(scenario_data, fleet, file=file, field_name="fleet")
            variants.append(Variant(labels[counts], scenario.name, {"fleet": labels[counts]},
                                    data, file, budget.time_limit_s, seed))
        for counts, result in zip(level, solve_batch(variants), strict=True):
            own[counts] = result
            order.append(counts)
            if result.ok:
                kpis = result.kpi()
                solved[counts] = Outcome(kpis.communes_served, float(kpis.cost_vnd or 0.0),
                                         counts, result)
        if reached_at is None and any(
                (o := best_within(c, solved)) is not None and o.served >= needed
                for c in level):
            reached_at = n
    else:
        stopped = f"no fleet of at most {budget.max_vehicles} vehicles was left to try"
        code, values = "max_vehicles", {"vehicles": budget.max_vehicles}
    trials = []
    for counts in order:
        outcome = best_within(counts, solved) or Outcome(0, 0.0, counts, None)
        reached = outcome.served >= needed
        trials.append(FleetTrial(
            counts, labels[counts], sum(counts), own[counts], outcome,
            coverage(outcome.served, area), reached,
            "" if reached else _why_short(outcome, area=area, needed=needed, own=own[counts],
                                          labels=labels, counts=counts)))
    reaching = [t for t in trials if t.reached]
    chosen = min(reaching, key=lambda t: (t.outcome.cost_vnd, t.vehicles, t.counts),
                 default=None)
    if chosen is None and not stopped:
        stopped, code = "no fleet tried reaches the target", "none_reached"
    return FleetAnswer(answer.scenario, target, area, needed, options, budget, tuple(trials),
                       chosen, stopped, code, values, tuple(own[c] for c in order), season)
