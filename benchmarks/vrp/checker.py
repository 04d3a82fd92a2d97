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
"""

from __future__ import annotations

import math
from collections import Counter
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
