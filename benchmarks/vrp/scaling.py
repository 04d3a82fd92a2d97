"""Integer scaling for the solvers: the one place where benchmark doubles become solver integers.

Two scales, chosen per instance:

* ``cost_scale`` for the objective: ``nint`` instances (CVRPLIB X) are already integral after
  rounding each arc, so 1; ``double`` instances use 10,000, so the integer sum of rounded arcs
  is within ~0.01 % of the double-precision distance (the checker recomputes it exactly).
* ``time_scale`` for the time dimension. The product's time dimension runs over
  ``horizon_days * 86,400`` units with nightly breaks between days; putting the whole
  benchmark horizon inside *one* day avoids any night, so the model is a plain VRPTW. Hence
  ``time_scale = min(1000, 86_000 // horizon)`` (86,000 leaves headroom below 86,400; 1000 is
  three decimals, enough). Travel times are rounded *up* and due times *down*, so an integer
  schedule that fits is feasible in double precision too (conservative by < 1/time_scale per
  arc). Instances without windows or duration limits get no time at all (zeros).

The same scaled data feed the product model, the plain OR-Tools baseline and PyVRP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from benchmarks.vrp.instances import Instance

TIME_UNITS = 86_000
MAX_TIME_SCALE = 1000
DOUBLE_COST_SCALE = 10_000


def euclidean(inst: Instance) -> np.ndarray:
    """(N, N) float distances in the instance's convention (double, or nint per arc)."""
    xy = np.asarray(inst.coords, dtype=float)
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    if inst.rounding == "nint":
        d = np.floor(d + 0.5)
    return d


def horizon(inst: Instance) -> float | None:
    """Largest time that matters: the latest depot return, else the largest route-duration
    limit; ``None`` when time is not constrained."""
    if inst.due is not None:
        return max(inst.due[:inst.n_depots])
    limits = [d for d in inst.max_duration if d is not None]
    return max(limits) if limits else None


@dataclass(frozen=True, eq=False)
class Scaled:
    """Integer data shared by all solver adapters (node order = ``Instance`` order)."""

    cost: np.ndarray  # (N, N) int64, cost_scale units
    travel: np.ndarray  # (N, N) int64, time_scale units, rounded up
    service: tuple[int, ...]
    ready: tuple[int, ...]  # all 0 without windows
    due: tuple[int, ...]  # all `time_cap` without windows
    max_duration: tuple[int | None, ...]  # per depot
    fleet: tuple[int, ...]  # per depot (an unlimited fleet gets a generous bound)
    cost_scale: int
    time_scale: int  # 0: time is not constrained (travel and service are 0)
    time_cap: int  # upper bound on any time value

    def distance(self, cost: int) -> float:
        return cost / self.cost_scale


def unlimited_fleet_bound(inst: Instance) -> int:
    """Vehicles to offer when the fleet is not limited: 30 % + 2 over the capacity lower bound
    ``ceil(total demand / capacity)``, at most one per customer."""
    total = sum(q for q in inst.demand if q > 0)
    lower = math.ceil(total / max(1, min(inst.capacity)))
    return max(1, min(len(inst.customers), math.ceil(1.3 * lower) + 2))


def scale(inst: Instance) -> Scaled:
    d = euclidean(inst)
    cost_scale = 1 if inst.rounding == "nint" else DOUBLE_COST_SCALE
    cost = np.rint(d * cost_scale).astype(np.int64)
    h = horizon(inst)
    n = inst.n_nodes
    if h is None:
        ts, cap = 0, TIME_UNITS
        travel = np.zeros((n, n), dtype=np.int64)
        service = (0,) * n
    else:
        ts = max(1, min(MAX_TIME_SCALE, TIME_UNITS // max(1, math.ceil(h))))
        cap = math.floor(h * ts)
        travel = np.ceil(d * ts - 1e-9).astype(np.int64)
        service = tuple(math.ceil(s * ts - 1e-9) for s in inst.service)
    if inst.ready is not None and inst.due is not None:
        ready = tuple(math.ceil(r * ts - 1e-9) for r in inst.ready)
        due = tuple(math.floor(u * ts + 1e-9) for u in inst.due)
    else:
        ready, due = (0,) * n, (cap,) * n
    fleet = tuple(f if f is not None else unlimited_fleet_bound(inst) for f in inst.fleet)
    max_dur = tuple(None if m is None or ts == 0 else math.floor(m * ts + 1e-9)
                    for m in inst.max_duration)
    return Scaled(cost=cost, travel=travel, service=service, ready=ready, due=due,
                  max_duration=max_dur, fleet=fleet, cost_scale=cost_scale, time_scale=ts,
                  time_cap=cap)


def vehicle_cost(sc: Scaled) -> int:
    """Fixed cost per used vehicle for "vehicles first, then distance" objectives: the sum of
    every node's longest outgoing arc, more than any distance a vehicle fewer could save."""
    return int(sc.cost.max(axis=1).sum()) + 1
