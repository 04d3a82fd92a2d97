"""Why a stop is left out: checked by trying to serve it, not guessed.

For each stop the solver did not route, in order:

1. ``closed_road`` / ``unreachable``: no vehicle's profile has a road from its depot to the
   stop and back (because of the scenario's road closures, or at all);
2. ``capacity``: it needs more crates in or out than any vehicle carries;
3. ``direct_trip``: not even a trip from the depot to this stop alone fits the windows,
   shifts and horizon;
4. otherwise every insertion into every final route is tried with the schedule rules:
   ``no_room_capacity`` / ``no_room_time`` when none fits (the blocking constraint named),
   ``not_worth_priority`` when an insertion fits but the solver judged it not worth its
   priority (optional stops), ``search_limit`` for a required stop that fits (try a longer
   time limit).
"""

from __future__ import annotations

from planner.plan import Unserved
from planner.problem import NO_PATH_S, RoutingProblem
from planner.schedule import RouteTiming, time_route, trip_bounds


def _insertion_failures(problem: RoutingProblem, timings: list[RouteTiming], loc: int
                        ) -> tuple[bool, set[str]]:
    causes: set[str] = set()
    for t in timings:
        base = [v.location for v in t.visits]
        if not t.feasible:
            continue
        prev = problem.previous_trip(t.vehicle)
        if not base and prev is not None and not timings[prev].visits:
            continue  # a vehicle's trips are used in order
        earliest, next_depart = trip_bounds(problem, timings, t.vehicle)
        for pos in range(len(base) + 1):
            trial = time_route(problem, t.vehicle, base[:pos] + [loc] + base[pos:],
                               earliest=earliest, next_depart=next_depart)
            if trial.feasible:
                return True, set()
            for p in trial.problems:
                causes.add(p.code if p.code in ("capacity", "transfer") else "time")
    return False, causes


def _with_partners(problem: RoutingProblem, loc: int) -> list[int]:
    """``loc`` and every stop linked to it by transfers, givers before receivers (a trip
    that serves one end of a transfer serves all of it)."""
    linked = {loc}
    grew = True
    while grew:
        grew = False
        for a, b in problem.pickup_delivery:
            if (a in linked) != (b in linked):
                linked |= {a, b}
                grew = True
    pairs = [(a, b) for a, b in problem.pickup_delivery if a in linked]
    order: list[int] = []
    pending = sorted(linked)
    while pending:  # givers first: the scenario refuses loops, so this ends
        ready = [n for n in pending if not any(b == n and a in pending for a, b in pairs)]
        nxt = ready[0] if ready else pending[0]
        order.append(nxt)
        pending.remove(nxt)
    return order


def precheck(problem: RoutingProblem, *, names: list[str], codes: list[str],
             profiles: tuple[str, ...], cut_off: dict[int, str] | None = None
             ) -> list[Unserved]:
    """Before solving: the stops no route can serve whatever the search does (no usable
    road or allowed vehicle, more crates than any vehicle carries, not even a direct trip
    fits), each with its cause."""
    return explain_unserved(problem, [], set(), names=names, codes=codes, profiles=profiles,
                            cut_off=cut_off, static_only=True)


def explain_unserved(problem: RoutingProblem, timings: list[RouteTiming], served: set[int], *,
                     names: list[str], codes: list[str], profiles: tuple[str, ...],
                     cut_off: dict[int, str] | None = None,
                     static_only: bool = False) -> list[Unserved]:
    """The reason each stop not in ``served`` is left out (see the module docstring); with
    ``static_only`` only the reasons that hold whatever the routes (1 to 3)."""
    out = []
    max_cap = max(v.capacity for v in problem.vehicles)
    for loc in range(problem.n_depots, problem.n_locations):
        if loc in served:
            continue
        required = problem.required[loc]
        allowed = problem.allowed_vehicles[loc] if problem.allowed_vehicles else None
        if allowed is not None and not allowed:
            out.append(Unserved(codes[loc], names[loc], required, "no_allowed_vehicle",
                                "the fleet has no vehicle of the profiles allowed here "
                                "(`allowed_profiles`)"))
            continue
        reach = [k for k, v in enumerate(problem.vehicles)
                 if (allowed is None or k in allowed)
                 and problem.travel_s(k, v.start, loc) < NO_PATH_S
                 and problem.travel_s(k, loc, v.end) < NO_PATH_S]
        need = max(problem.deliver[loc], problem.collect[loc])

        def add(code: str, text: str, loc: int = loc, required: bool = required) -> None:
            out.append(Unserved(codes[loc], names[loc], required, code, text))

        if not reach and cut_off and loc in cut_off:
            add("closed_road", f"cut off from the depot by road closures: {cut_off[loc]}")
            continue
        if not reach:
            used = ", ".join(profiles)
            add("unreachable", f"no road usable by the fleet's vehicles ({used}) links it to "
                               "the depot")
            continue
        if need > max_cap:
            add("capacity", f"needs {need} crates at once, more than the largest vehicle "
                            f"carries ({max_cap})")
            continue
        alone = _with_partners(problem, loc)  # a transfer is tried with its partners
        direct = [time_route(problem, k, alone) for k in reach]
        if not any(t.feasible for t in direct):
            why = direct[0].problems[0]
            add("direct_trip", f"even a trip to this commune alone does not fit: {why}")
            continue
        if static_only:
            continue
        fits, causes = _insertion_failures(problem, timings, loc)
        if fits and not required:
            add("not_worth_priority", "it fits into a trip, but the extra driving is not worth "
                                      "its priority; raise `priority` or make it required")
        elif fits:
            add("search_limit", "it fits into a trip but the search stopped before placing it; "
                                "raise `solver.time_limit_s`")
        elif "transfer" in causes:
            add("transfer_pair", "it is one end of a transfer whose other commune could not "
                                 "be served on the same trip")
        elif causes == {"capacity"}:
            add("no_room_capacity", "no trip has room for its crates; add a vehicle or "
                                    "lower the crates")
        else:
            add("no_room_time", "no trip has time left for it within the shifts, its time "
                                "windows and the horizon; add a vehicle or days")
    return out
