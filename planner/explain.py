"""Why a stop is left out: checked by trying to serve it, not guessed.

For each stop the solver did not route, in order:

1. ``closed_road`` / ``unreachable``: no vehicle's profile has a road from its depot to the
   stop and back (because of the scenario's road closures, or at all);
2. ``capacity``: it needs more crates in or out than any vehicle carries;
3. ``direct_trip``: not even a trip from the depot to this stop alone fits the windows,
   shifts and horizon (the schedule rules);
4. otherwise every insertion into every final route (the stop with the communes transfers
   link it to, as one block) is judged by the OR-Tools model itself and the schedule
   (:class:`planner._ortools.RouteJudge`), the rules the search enforces and the plan is
   timed by; quickly first (the schedule's times checked by the model), then with the model
   timing the trip itself:

   * an insertion the model accepts: ``not_worth_priority`` for an optional stop (the
     repair pass places every one whose added travel is worth its priority),
     ``search_limit`` for a required one, which the repair pass then ran out of time to
     place (raise the limit);
   * none: the constraint that binds is found by relaxing one rule at a time, and trying
     every insertion again: the vehicles' crates (``no_room_capacity``), the stop's time
     windows (``no_room_window``), a longer working day (``no_room_shift``, two hours),
     the daily driving cap (``no_room_drive_cap``), lodging (``no_room_lodging``), the
     vehicle kinds allowed there (``no_room_access``), one more day (``no_room_days``);
     the first found to let it in is the code (each stop gets its first reason before
     the other rules are judged for any: quickly, then fully), and every one found within
     the time is named in the text. When no single rule does, ``no_room_time`` (several
     bind together; a vehicle more is the remedy). A transfer whose ends cannot share a trip is
     ``transfer_pair``.

The insertions are judged for at most :func:`explain_budget_s` of the solve's time limit:
a stop reached after that is ``explain_limit`` (what binds was not worked out; a longer time
limit tells), one whose relaxations were not all judged ``no_room_time``.

A stop the search placed on a trip that the schedule could not then time within the rules
(:func:`planner.solve.timed_within_rules` took it off) is ``untimed`` (:func:`untimed`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from planner._ortools import RouteJudge
from planner.plan import Unserved
from planner.problem import DAY_S, NO_PATH_S, RoutingProblem
from planner.schedule import RouteTiming, time_route
from planner.solution import VisitConstraints
from planner.solve import peak_load, with_partners

# a working day this much longer is the "shift" relaxation
LONGER_SHIFT_S = 2 * 3600
# explanations of one plan stop judging insertions after this share of the solve's time
# limit, at least MIN_EXPLAIN_S and at most EXPLAIN_BUDGET_S (the stops left then get the
# reason of the rules judged so far, or EXPLAIN_LIMIT_REASON_CODE)
EXPLAIN_SHARE = 0.2
MIN_EXPLAIN_S = 3.0
EXPLAIN_BUDGET_S = 30.0
EXPLAIN_LIMIT_REASON_CODE = "explain_limit"


def explain_budget_s(time_limit_s: float) -> float:
    """How long the explanations of a solve with this time limit may judge insertions."""
    return min(EXPLAIN_BUDGET_S, max(MIN_EXPLAIN_S, EXPLAIN_SHARE * time_limit_s))

# a relaxation: the problem with one rule relaxed, given the stops left out (None: the
# problem has no such rule)
Relaxation = Callable[[RoutingProblem, list[int]], RoutingProblem | None]


def _more_crates(problem: RoutingProblem, block: list[int]) -> RoutingProblem | None:
    big = sum(problem.deliver) + sum(problem.collect) + sum(
        abs(x) for x in problem.pair_load or ()) + 1
    return replace(problem, vehicles=tuple(replace(v, capacity=big) for v in problem.vehicles))


def _open_windows(problem: RoutingProblem, left_out: list[int]) -> RoutingProblem | None:
    wins = list(problem.windows)
    for loc in left_out:
        wins[loc] = ((0, problem.horizon_s - 1),)
    return replace(problem, windows=tuple(wins))


def _longer_shift(problem: RoutingProblem, block: list[int]) -> RoutingProblem | None:
    vehicles = []
    for v in problem.vehicles:
        end = min(v.shift_end_s + LONGER_SHIFT_S, DAY_S + v.shift_start_s - 1)
        grow = end - v.shift_end_s
        vehicles.append(replace(v, shift_end_s=end, latest_end_s=v.latest_end_s + grow,
                                max_span_s=v.max_span_s + grow))
    return replace(problem, vehicles=tuple(vehicles))


def _no_drive_cap(problem: RoutingProblem, block: list[int]) -> RoutingProblem | None:
    if not any(v.drive_cap_binds for v in problem.vehicles):
        return None
    return replace(problem, vehicles=tuple(replace(v, max_drive_s_per_day=None)
                                           for v in problem.vehicles))


def _lodging_everywhere(problem: RoutingProblem, block: list[int]) -> RoutingProblem | None:
    return None if problem.lodging is None else replace(problem, lodging=None)


def _any_vehicle(problem: RoutingProblem, left_out: list[int]) -> RoutingProblem | None:
    allowed = problem.allowed_vehicles
    if allowed is None or all(allowed[loc] is None for loc in left_out):
        return None
    return replace(problem, allowed_vehicles=tuple(None if loc in left_out else ks
                                                   for loc, ks in enumerate(allowed)))


def _one_more_day(problem: RoutingProblem, block: list[int]) -> RoutingProblem | None:
    last = (problem.horizon_days - 1) * DAY_S
    wins = tuple(w if loc < problem.n_depots else
                 w + tuple((a + DAY_S, b + DAY_S) for a, b in w if a >= last)
                 for loc, w in enumerate(problem.windows))
    # dated road conditions: the extra day keeps the last period's roads
    periods = problem.periods[:-1] + tuple(
        replace(p, last_day=p.last_day + 1) for p in problem.periods[-1:])
    return replace(problem, horizon_days=problem.horizon_days + 1, windows=wins,
                   vehicles=tuple(replace(v, latest_end_s=v.latest_end_s + DAY_S,
                                          max_span_s=v.max_span_s + DAY_S)
                                  for v in problem.vehicles), periods=periods)


# code, the relaxation, what it means for people (in "it would fit if ...")
RELAXATIONS: tuple[tuple[str, Relaxation, str], ...] = (
    ("no_room_capacity", _more_crates,
     "a vehicle had room for its crates (their number or their weight)"),
    ("no_room_window", _open_windows, "its time windows were wider"),
    ("no_room_shift", _longer_shift, "the working day were two hours longer"),
    ("no_room_drive_cap", _no_drive_cap, "the daily driving cap were higher"),
    ("no_room_lodging", _lodging_everywhere, "the crew could lodge in more communes"),
    ("no_room_access", _any_vehicle, "a vehicle of another kind could go there"),
    ("no_room_days", _one_more_day, "the horizon and trips had one more day"),
)


class InsertionTrials:
    """Every insertion of a left-out stop into given routes, judged by the OR-Tools model
    of a problem and of its relaxations (each model built once, when first asked)."""

    def __init__(self, problem: RoutingProblem, routes: Sequence[Sequence[int]],
                 constraints: VisitConstraints | None = None, *,
                 hints: dict[int, int] | None = None) -> None:
        self.problem, self.constraints, self.hints = problem, constraints, hints
        self.routes = [list(r) for r in routes]
        served = {loc for r in self.routes for loc in r}
        self.left_out = [loc for loc in range(problem.n_depots, problem.n_locations)
                         if loc not in served]
        self._judges: dict[str, RouteJudge | None] = {}

    def _judge(self, key: str, relaxed: RoutingProblem | None) -> RouteJudge | None:
        if key not in self._judges:
            self._judges[key] = None if relaxed is None else RouteJudge(
                relaxed, self.constraints, hints=self.hints)
        return self._judges[key]

    def fits(self, block: list[int], *, relax: str | None = None,
             capacity_only: bool = False, deadline: float = math.inf,
             quick_only: bool = False) -> bool | None:
        """Whether some insertion of ``block`` into the routes is accepted by the model
        (``relax``: with that rule of :data:`RELAXATIONS` relaxed). ``capacity_only``: try
        only the insertions that overload the vehicle (the others do not depend on it).
        ``None`` when ``deadline`` (a :func:`time.perf_counter` time) passed before every
        insertion was judged and none was accepted. ``quick_only``: judged quickly only
        (``False`` then says only that no quick judgement accepted one)."""
        problem = self.problem
        if time.perf_counter() > deadline:
            return None
        if relax is None:
            judge = self._judge("", problem)
        else:
            fn = next(f for code, f, _ in RELAXATIONS if code == relax)
            # the windows opened are those of every stop left out (one model for all: only
            # the block tried is ever added to the routes)
            judge = self._judge(relax, fn(problem, self.left_out)) if relax not in \
                self._judges else self._judges[relax]
        if judge is None:
            return False
        allowed = judge.problem.allowed_vehicles  # (relaxed by the access relaxation)
        trials = []
        for k, v in enumerate(problem.vehicles):
            route = self.routes[k]
            if allowed is not None and any(
                    (ks := allowed[x]) is not None and k not in ks for x in block):
                continue
            for pos in range(len(route) + 1):
                trial_route = route[:pos] + block + route[pos:]
                over = peak_load(problem, trial_route) > v.capacity
                if over != capacity_only:
                    continue
                trial = [list(r) for r in self.routes]
                trial[k] = trial_route
                trials.append(trial)
        # every insertion judged quickly first, then by the model timing the trips itself
        for quick in (True, False)[:1 if quick_only else 2]:
            for trial in trials:
                if time.perf_counter() > deadline:
                    return None
                if judge.objective(trial, quick=quick) is not None:
                    return True
        return False


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
                     static_only: bool = False,
                     constraints: VisitConstraints | None = None,
                     budget_s: float = EXPLAIN_BUDGET_S) -> list[Unserved]:
    """The reason each stop not in ``served`` is left out (see the module docstring); with
    ``static_only`` only the reasons that hold whatever the routes (1 to 3). ``timings``
    are the final routes (one per vehicle), ``constraints`` the re-planning constraints the
    solve ran with."""
    out: list[Unserved] = []
    deadline = time.perf_counter() + budget_s
    trials: InsertionTrials | None = None
    # the stops no insertion fits: their place in ``out``, the block tried, and each
    # relaxation's verdict (True: it lets the block in; False: not; None: not judged yet)
    binding: list[tuple[int, list[int], dict[str, bool | None]]] = []
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
        alone = with_partners(problem, loc)  # a transfer is tried with its partners
        direct = [time_route(problem, k, alone) for k in reach]
        if not any(t.feasible for t in direct):
            why = direct[0].problems[0]
            add("direct_trip", f"even a trip to this commune alone does not fit: {why}")
            continue
        if static_only:
            continue
        if trials is None:
            trials = InsertionTrials(problem, [[tv.location for tv in t.visits]
                                               for t in timings], constraints,
                                     hints={tv.location: tv.start_s
                                            for t in timings for tv in t.visits})
        block = with_partners(problem, loc)
        fits = trials.fits(block, deadline=deadline)
        if fits is None:
            add(EXPLAIN_LIMIT_REASON_CODE,
                "the explanations ran out of time before judging every place it could go on "
                "the trips; plan again with a longer `solver.time_limit_s` to learn why")
            continue
        if fits:
            if not required:
                add("not_worth_priority", "it fits into a trip, but the extra driving is not "
                                          "worth its priority; raise `priority` or make it "
                                          "required")
            else:
                add("search_limit", "it fits into a trip by the solver's own rules, but the "
                                    "repair pass ran out of time before placing it; raise "
                                    "`solver.time_limit_s`")
            continue
        # the first rule found to let it in now; the others once every stop has a reason
        verdicts = _first_binding(trials, block, deadline)
        out.append(Unserved(codes[loc], names[loc], required, "", ""))
        binding.append((len(out) - 1, block, verdicts))
    for i, block, verdicts in binding:
        if trials is not None:
            for code in verdicts:
                if verdicts[code] is None and time.perf_counter() < deadline:
                    verdicts[code] = trials.fits(block, relax=code, deadline=deadline,
                                                 capacity_only=code == "no_room_capacity")
        code, text = _binding_reason(block, verdicts)
        out[i] = replace(out[i], reason_code=code, reason=text)
    return out


def _first_binding(trials: InsertionTrials, block: list[int], deadline: float
                   ) -> dict[str, bool | None]:
    """Each relaxation's verdict on ``block`` as far as the first found to let it in: the
    relaxations judged quickly, in order, until one does; when none did, fully, in order,
    until one does (``None``: not judged yet)."""
    verdicts: dict[str, bool | None] = {code: None for code, _, _ in RELAXATIONS}
    for quick_only in (True, False):
        for code in verdicts:
            ok = trials.fits(block, relax=code, deadline=deadline, quick_only=quick_only,
                             capacity_only=code == "no_room_capacity")
            if ok or not quick_only:
                verdicts[code] = ok
            if ok:
                return verdicts
    return verdicts


def _binding_reason(block: list[int], verdicts: dict[str, bool | None]) -> tuple[str, str]:
    """The reason code and text of a stop no insertion fits, from the relaxations' verdicts
    (every rule found to let it in is named; the first in :data:`RELAXATIONS` order is the
    code)."""
    binds = [what for code, _, what in RELAXATIONS if verdicts.get(code)]
    if binds:
        first = next(code for code, _, _ in RELAXATIONS if verdicts.get(code))
        return first, (f"no trip as planned has room for it; it would fit if "
                       f"{' or '.join(binds)}. Change that, or add a vehicle")
    if any(v is None for v in verdicts.values()):
        return "no_room_time", ("no trip as planned has room for it (what binds was not "
                                "worked out: the explanations ran out of time); add a vehicle")
    if len(block) > 1:
        return "transfer_pair", ("it is one end of a transfer whose other commune could not "
                                 "be served on the same trip")
    return "no_room_time", ("no trip as planned has room for it, and relaxing one rule "
                            "(crates, time windows, working day, driving cap, lodging, "
                            "days) is not enough: several bind together; add a vehicle")


UNTIMED_REASON_CODE = "untimed"


def untimed(unserved: Sequence[Unserved], codes: Sequence[str]) -> list[Unserved]:
    """``unserved`` with the stops of ``codes`` (taken off their trips by
    :func:`planner.solve.timed_within_rules`) given the reason that says so."""
    taken = set(codes)
    return [replace(u, reason_code=UNTIMED_REASON_CODE,
                    reason="the search placed it on a trip that could not then be timed "
                           "within the driving rules on the clock (the model's daily driving "
                           "bound is looser), so it was left out to keep the plan valid; plan "
                           "again with more time, or add a vehicle or days")
            if u.commune_code in taken else u for u in unserved]
