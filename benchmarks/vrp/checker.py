"""Independent feasibility checker for benchmark solutions.

Written from the benchmark conventions alone (``shared/benchmarks/README.md``); it shares no
code with ``planner._ortools``, the integer scaling or any solver adapter, and works in the
instance's own units (double precision, or nint arcs for CVRPLIB X):

* every customer is visited exactly once; routes start and end at a depot;
* capacity per route (for pickup-and-delivery: the load on board at every point, within
  ``[0, capacity]``, each pair on one route with the pickup first);
* time windows: service starts within ``[ready, due]`` (waiting allowed), travel time equals
  distance, the vehicle is back by the depot's ``due``;
* route duration (travel + service) within the depot's limit; vehicles per depot within the
  fleet.

Periodic instances (``pvrp``, :func:`check_periodic_solution`) take routes with their day:
each customer is visited on exactly the days of one of its allowed combinations (once a
day), and each day's routes keep that day's capacity and duration limit, with at most the
fleet's vehicles out that day.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from benchmarks.vrp.instances import Instance

TOLERANCE = 1e-6  # time units; the solvers work in integers derived from these doubles


@dataclass(frozen=True)
class CheckReport:
    distance: float
    vehicles: int
    problems: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.problems


def _arc(inst: Instance, a: int, b: int) -> float:
    (xa, ya), (xb, yb) = inst.coords[a], inst.coords[b]
    d = math.hypot(xa - xb, ya - yb)
    return float(math.floor(d + 0.5)) if inst.rounding == "nint" else d


def check_solution(inst: Instance, routes: Sequence[tuple[int, Sequence[int]]]
                   ) -> CheckReport:
    """Check ``routes`` — ``(depot, [customer node, ...])`` per used vehicle — and recompute
    its distance. Empty routes are ignored."""
    problems: list[str] = []
    label = inst.labels or tuple(str(i) for i in range(inst.n_nodes))
    used = [(int(d), [int(v) for v in visits]) for d, visits in routes if len(visits)]
    total = 0.0
    seen: Counter[int] = Counter()
    per_depot: Counter[int] = Counter()
    where: dict[int, tuple[int, int]] = {}
    for r, (depot, visits) in enumerate(used):
        if not 0 <= depot < inst.n_depots:
            problems.append(f"route {r}: starts at {depot}, which is not a depot")
            continue
        per_depot[depot] += 1
        cap = inst.capacity[depot]
        path = [depot, *visits, depot]
        dist = sum(_arc(inst, a, b) for a, b in pairwise(path))
        total += dist
        for pos, v in enumerate(visits):
            if not inst.n_depots <= v < inst.n_nodes:
                problems.append(f"route {r}: node {v} is not a customer")
            else:
                seen[v] += 1
                where[v] = (r, pos)
        visits = [v for v in visits if inst.n_depots <= v < inst.n_nodes]
        if inst.kind == "pdptw":
            load = 0
            for v in visits:
                load += inst.demand[v]
                if load > cap or load < 0:
                    problems.append(f"route {r}: load {load} after {label[v]} outside [0, {cap}]")
                    break
        else:
            load = sum(inst.demand[v] for v in visits)
            if load > cap:
                problems.append(f"route {r}: load {load} > capacity {cap}")
        t = inst.ready[depot] if inst.ready is not None else 0.0
        service_total = 0.0
        prev = depot
        for v in visits:
            t += _arc(inst, prev, v)
            if inst.ready is not None and inst.due is not None:
                t = max(t, inst.ready[v])
                if t > inst.due[v] + TOLERANCE:
                    problems.append(f"route {r}: service at {label[v]} starts at {t:.4f} "
                                    f"> due {inst.due[v]}")
            t += inst.service[v]
            service_total += inst.service[v]
            prev = v
        t += _arc(inst, prev, depot)
        if inst.due is not None and t > inst.due[depot] + TOLERANCE:
            problems.append(f"route {r}: back at the depot at {t:.4f} > due {inst.due[depot]}")
        limit = inst.max_duration[depot]
        if limit is not None and dist + service_total > limit + TOLERANCE:
            problems.append(f"route {r}: duration {dist + service_total:.4f} > limit {limit}")
    for v in inst.customers:
        if seen[v] == 0:
            problems.append(f"customer {label[v]} not visited")
        elif seen[v] > 1:
            problems.append(f"customer {label[v]} visited {seen[v]} times")
    for p, d in inst.pairs:
        if p in where and d in where:
            (rp, ip), (rd, idl) = where[p], where[d]
            if rp != rd:
                problems.append(f"pair {label[p]}->{label[d]} on two routes")
            elif ip > idl:
                problems.append(f"pair {label[p]}->{label[d]}: delivery before pickup")
    for depot, count in per_depot.items():
        limit = inst.fleet[depot]
        if limit is not None and count > limit:
            problems.append(f"depot {label[depot]}: {count} vehicles > fleet {limit}")
    return CheckReport(distance=total, vehicles=len(used), problems=tuple(problems))


def check_periodic_solution(inst: Instance, routes: Sequence[tuple[int, Sequence[int]]]
                            ) -> CheckReport:
    """Check a periodic solution — ``(day, [customer node, ...])`` per route, days 0-based —
    and recompute its distance over all days. Empty routes are ignored."""
    problems: list[str] = []
    label = inst.labels or tuple(str(i) for i in range(inst.n_nodes))
    depot = 0
    used = [(int(t), [int(v) for v in visits]) for t, visits in routes if len(visits)]
    total = 0.0
    days_of: dict[int, list[int]] = defaultdict(list)
    per_day: Counter[int] = Counter()
    for r, (day, visits) in enumerate(used):
        if not 0 <= day < inst.days:
            problems.append(f"route {r}: day {day} is not one of the {inst.days} days")
            continue
        per_day[day] += 1
        bad = [v for v in visits if not inst.n_depots <= v < inst.n_nodes]
        problems += [f"route {r}: node {v} is not a customer" for v in bad]
        visits = [v for v in visits if v not in bad]
        path = [depot, *visits, depot]
        dist = sum(_arc(inst, a, b) for a, b in pairwise(path))
        total += dist
        for v in visits:
            days_of[v].append(day)
        load = sum(inst.demand[v] for v in visits)
        if load > inst.day_capacity[day]:
            problems.append(f"route {r} (day {day + 1}): load {load} > capacity "
                            f"{inst.day_capacity[day]}")
        limit = inst.day_duration[day]
        duration = dist + sum(inst.service[v] for v in visits)
        if limit is not None and duration > limit + TOLERANCE:
            problems.append(f"route {r} (day {day + 1}): duration {duration:.4f} > limit "
                            f"{limit}")
    for v in inst.customers:
        days = sorted(days_of.get(v, ()))
        if not days:
            problems.append(f"customer {label[v]} not visited")
        elif len(set(days)) < len(days):
            problems.append(f"customer {label[v]} visited twice on one day "
                            f"({', '.join(str(t + 1) for t in days)})")
        elif tuple(days) not in inst.patterns[v]:
            problems.append(f"customer {label[v]} visited on days "
                            f"{', '.join(str(t + 1) for t in days)}, not one of its allowed "
                            f"combinations")
    for day, count in sorted(per_day.items()):
        if count > (inst.fleet[0] or count):
            problems.append(f"day {day + 1}: {count} vehicles > fleet {inst.fleet[0]}")
    return CheckReport(distance=total, vehicles=len(used), problems=tuple(problems))
