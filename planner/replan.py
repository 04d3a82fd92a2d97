"""Re-planning: solve again from a published plan, changing as little as needed.

Rules, in order:

1. if every route of the previous plan is still feasible under the new inputs (road
   conditions, scenario changes) and no stop is new, the previous routes are kept as they are
   (re-timed): nothing moves;
2. otherwise visits already **done** keep their vehicle and service time, visits **locked** by
   a dispatcher keep their vehicle, and every stop of a route that is still feasible stays on
   that vehicle; only the stops of broken routes, and new stops, are free to move.

The result records how many stops changed vehicle (moved) and how many kept their vehicle but
changed position (reordered).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.errors import PlannerError
from planner.plan import Plan
from planner.problem import RoutingProblem
from planner.provenance import PlanChanges, ReplanRecord
from planner.schedule import time_trips
from planner.solution import VisitConstraints


@dataclass(frozen=True)
class ReplanSetup:
    previous: tuple[tuple[int, ...], ...]  # previous stop order per vehicle (new indices)
    keep: bool  # keep the previous routes unchanged, no search needed
    constraints: VisitConstraints
    broken_vehicles: tuple[str, ...]
    new_stops: tuple[str, ...]
    dropped_stops: tuple[str, ...]


def replan_setup(problem: RoutingProblem, codes: list[str], previous: Plan, *,
                 done: frozenset[str] = frozenset(), locked: frozenset[str] = frozenset()
                 ) -> ReplanSetup:
    """Map the previous plan onto the new problem and decide what may move.

    ``codes`` are the location keys of the new problem (depot ids, then commune codes).
    """
    loc_of = {code: i for i, code in enumerate(codes) if i >= problem.n_depots}
    vehicle_of = {v.id: k for k, v in enumerate(problem.vehicles)}
    prev_routes: list[list[int]] = [[] for _ in problem.vehicles]
    prev_start: dict[int, int] = {}
    prev_vehicle: dict[int, int] = {}
    dropped: list[str] = []
    for route in previous.routes:
        k = vehicle_of.get(route.key)
        for visit in route.visits:
            loc = loc_of.get(visit.commune_code)
            if k is None or loc is None:
                dropped.append(visit.commune_code)
                continue
            prev_routes[k].append(loc)
            prev_start[loc] = visit.start_s
            prev_vehicle[loc] = k
    unknown = sorted((done | locked) - {codes[loc] for loc in prev_vehicle})
    if unknown:
        raise PlannerError(f"--done/--lock name communes that the previous plan does not "
                           f"serve: {', '.join(unknown)}; use codes from its routes")
    known = set(prev_vehicle) | {loc_of[u.commune_code] for u in previous.unserved
                                 if u.commune_code in loc_of}
    new_stops = tuple(codes[loc] for loc in range(problem.n_depots, problem.n_locations)
                      if loc not in known)
    feasible = [t.feasible for t in time_trips(problem, prev_routes)]
    broken = tuple(problem.vehicles[k].id for k, ok in enumerate(feasible) if not ok)
    keep = not broken and not new_stops and not dropped
    vehicles: dict[int, tuple[int, ...]] = {}
    start_s: dict[int, int] = {}
    required: set[int] = set()
    for loc, k in prev_vehicle.items():
        code = codes[loc]
        if code in done:
            vehicles[loc] = (k,)
            start_s[loc] = prev_start[loc]
            required.add(loc)
        elif code in locked or feasible[k]:
            vehicles[loc] = (k,)
            required.add(loc)
    return ReplanSetup(previous=tuple(tuple(r) for r in prev_routes), keep=keep,
                       constraints=VisitConstraints(vehicles=vehicles, start_s=start_s,
                                                    required=frozenset(required)),
                       broken_vehicles=broken, new_stops=new_stops,
                       dropped_stops=tuple(dropped))


def plan_changes(before: Plan, after: Plan) -> PlanChanges:
    """What changed from ``before`` to ``after``, by commune: stops that changed vehicle
    (``moved``), kept their vehicle but not their predecessor (``reordered``), were newly
    served (``added``) or are no longer served (``dropped``). The one rule every re-plan
    and edit counts by."""

    def where(plan: Plan) -> dict[str, tuple[str, str]]:
        out = {}
        for r in plan.routes:
            prev = ""
            for x in r.visits:
                out[x.commune_code] = (r.key, prev)
                prev = x.commune_code
        return out

    a, b = where(before), where(after)
    return PlanChanges(moved=sum(1 for c, (v, _) in a.items() if c in b and b[c][0] != v),
                       reordered=sum(1 for c, (v, p) in a.items()
                                     if c in b and b[c][0] == v and b[c][1] != p),
                       added=sum(1 for c in b if c not in a),
                       dropped=sum(1 for c in a if c not in b))


def replan_record(setup: ReplanSetup, previous: Plan, plan: Plan, *,
                  done: frozenset[str], locked: frozenset[str],
                  compare_with: Plan | None = None) -> ReplanRecord:
    """The ``replan`` record of a plan re-planned from ``previous``; its changes are counted
    against ``compare_with`` (the whole plan a re-plan started from, when stops were taken
    off ``previous`` to be placed freely), else against ``previous``."""
    base = compare_with or previous
    return ReplanRecord(base_plan_created_at=base.created_at,
                        base_scenario=previous.scenario_name, kept_unchanged=setup.keep,
                        broken_routes=setup.broken_vehicles, new_stops=setup.new_stops,
                        dropped_stops=setup.dropped_stops, done=tuple(sorted(done)),
                        locked=tuple(sorted(locked)), changes=plan_changes(base, plan))
