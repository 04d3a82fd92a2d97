"""Clock times and loads of a route, computed from a stop order (the earliest return, the
latest departure that keeps it).

Rules (the same ones the OR-Tools model enforces, written independently):

* the driver drives and serves only inside the vehicle's daily shift. A leg that cannot end
  before the shift does is preferably driven the next morning after a night where the truck
  already is (``night_before``); when that makes the trip infeasible the leg is driven until
  the shift ends and finished the next morning after a night on the road
  (``nights_on_road``, a stop at a roadside village), which is the earliest schedule and the
  one the OR-Tools model admits;
* service starts inside one of the stop's windows and ends inside the shift;
* a trip sets out no earlier than its first service needs; but one whose first leg takes
  more than a day's driving sets out as early as it may when the late setting-out leaves
  too little of the next day's driving for the legs after it (:func:`_first_leg_split`);
* under a continuous-driving rule the crew pauses after every ``max_continuous_drive_s`` of
  driving without a pause of ``drive_rest_s`` (a break or the night counts), and stays at a
  stop at least that long;
* the trip leaves with every crate it will deliver; each stop removes its deliveries and adds
  its collections.

Used to put times on solver routes and to test insertions when explaining unserved stops.
"""

from __future__ import annotations

import weakref
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Any

from planner.problem import DAY_S, NO_PATH_S, RoutingProblem


@dataclass(frozen=True)
class ScheduleProblem:
    """A rule a route breaks: ``code`` names the rule (the plan checker's names:
    ``capacity``, ``access``, ``transfer``, ``no_road``, ``time_window``, ``lodging``,
    ``driving_hours``, ``horizon``, ``trip_days``; and ``working_hours``, a quick refusal
    of :func:`time_route`), ``message`` says how, for people."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class TimedVisit:
    location: int
    leg_travel_s: int
    leg_distance_m: int
    night_before: bool  # the crew rested overnight where it was before driving this leg
    nights_on_road: int  # nights spent on the road during this leg
    arrival_s: int
    start_s: int
    departure_s: int
    load_after: int
    roadside_pauses: int = 0  # pauses on this leg under the continuous-driving rule


@dataclass(frozen=True)
class RouteTiming:
    vehicle: int
    depart_s: int
    load_start: int
    visits: tuple[TimedVisit, ...]
    return_leg: TimedVisit  # arrival back at the depot (start/departure = arrival)
    problems: tuple[ScheduleProblem, ...]
    breaks: tuple[tuple[int, int], ...] = ()  # daily breaks taken during the trip

    @property
    def feasible(self) -> bool:
        return not self.problems

    @property
    def nights_away(self) -> int:
        """Nights between the departure and the return (none for a trip without stops)."""
        if not self.visits:
            return 0
        return self.return_leg.arrival_s // DAY_S - self.depart_s // DAY_S


Blocks = tuple[tuple[int, int], ...]  # break intervals (start, end), sorted

# the problem of a route :func:`time_route` refuses before timing it (:func:`overworked`)
WORKING_HOURS = "working_hours"


def _free(problem: RoutingProblem, k: int, t: int, blocks: Blocks) -> int:
    """The first moment at or after ``t`` inside the shift and outside every break."""
    v = problem.vehicles[k]
    while True:
        start, end = v.shift_on(t // DAY_S)
        if t < start:
            t = start
        if t >= end:
            t = v.shift_on(t // DAY_S + 1)[0]
            continue
        inside = next((be for bs, be in blocks if bs <= t < be), None)
        if inside is None:
            return t
        t = inside


def _room(problem: RoutingProblem, k: int, t: int, driven_today: int,
          blocks: Blocks) -> int:
    """Seconds vehicle ``k`` may drive on from ``t`` before the shift ends, a break starts
    or its daily driving cap is reached."""
    v = problem.vehicles[k]
    room = v.shift_on(t // DAY_S)[1] - t
    for bs, _ in blocks:
        if bs > t:
            room = min(room, bs - t)
            break
    if v.drive_cap_binds and v.max_drive_s_per_day is not None:
        room = min(room, v.max_drive_s_per_day - driven_today)
    return max(0, room)


Leg = tuple[int, int, int, tuple[tuple[int, int], ...], int]

# Legs driven, remembered per problem (:func:`_leg`), at most this many: the route judge
# times thousands of trials a second that share all their legs but the one or two around
# an insertion (ruin and recreate, 15 s: 85% of the legs of tq-80's trials and 89% of
# hg-40's had been driven before, at the same time, and its trials timed went from 8,273
# to 9,915 and from 10,088 to 12,331)
LEG_MEMO_SIZE = 60_000
_legs: weakref.WeakKeyDictionary[RoutingProblem, dict[tuple, Leg]] = \
    weakref.WeakKeyDictionary()


def _leg(problem: RoutingProblem, k: int, t: int, travel: int, driven: dict[int, int],
         blocks: Blocks) -> Leg:
    """Drive ``travel`` seconds from ``t`` (or the first free moment after it), pausing for
    breaks, by the road under a continuous-driving rule, and stopping for the night at the
    shift end or the daily cap. Returns (departure, arrival, nights on the road, seconds
    driven per day as (day, seconds) pairs, roadside pauses). Remembered per problem: the
    seconds already ``driven`` per day count only under a daily cap that binds."""
    v = problem.vehicles[k]
    key = (k, t, travel, blocks, tuple(sorted(driven.items())) if v.drive_cap_binds else ())
    memo = _legs.get(problem)
    if memo is None:
        memo = _legs[problem] = {}
    leg = memo.get(key)
    if leg is None:
        if len(memo) >= LEG_MEMO_SIZE:
            memo.clear()
        leg = memo[key] = _drive_leg(problem, k, t, travel, driven, blocks)
    return leg


def _drive_leg(problem: RoutingProblem, k: int, t: int, travel: int, driven: dict[int, int],
               blocks: Blocks) -> Leg:
    """:func:`_leg`, driven."""
    v = problem.vehicles[k]
    t = _free(problem, k, t, blocks)
    depart, remaining, nights = t, travel, 0
    per_day: dict[int, int] = {}
    rule = v.max_continuous_drive_s
    continuous = 0  # driving since the last pause; the crew sets out rested
    pauses = 0
    while True:
        day = t // DAY_S
        today = driven.get(day, 0) + per_day.get(day, 0)
        part = min(remaining, _room(problem, k, t, today, blocks))
        if rule is not None:
            part = min(part, rule - continuous)
        if part:
            per_day[day] = per_day.get(day, 0) + part
            remaining -= part
            t += part
            continuous += part
        if remaining <= 0:
            return depart, t, nights, tuple(per_day.items()), pauses
        stopped = t
        if rule is not None and continuous >= rule:
            t += v.drive_rest_s  # a pause by the road
            pauses += 1
        cap = v.max_drive_s_per_day if v.drive_cap_binds else None
        if cap is not None and today + part >= cap:
            t = max(t, v.shift_on(day + 1)[0])
        nxt = _free(problem, k, t, blocks)
        if nxt - stopped >= v.drive_rest_s:
            continuous = 0  # the pause, a break or the night rested the crew
        nights += nxt // DAY_S - day
        t = nxt


def _drive(problem: RoutingProblem, k: int, t: int, travel: int, *, stay: bool,
           driven: dict[int, int] | None = None, blocks: Blocks = ()
           ) -> tuple[int, int, bool, int]:
    """Return (departure, arrival, night_before, nights_on_road) for a leg leaving at or
    after ``t``; with ``stay`` a leg that does not fit today waits for the next morning.
    Driving happens inside the shift, outside breaks and, where the vehicle has a daily cap,
    only while ``driven`` (seconds already driven per day) leaves room under it."""
    driven = driven or {}
    leave, arrive, nights, _, _ = _leg(problem, k, t, travel, driven, blocks)
    if nights == 0:
        return leave, arrive, False, 0
    if stay:
        morning = problem.vehicles[k].shift_on(leave // DAY_S + 1)[0]
        leave2, arrive2, nights2, _, _ = _leg(problem, k, morning, travel, driven, blocks)
        if nights2 == 0:
            return leave2, arrive2, True, 0
    return leave, arrive, False, nights


def _driving_by_day(problem: RoutingProblem, k: int, leave: int, travel: int,
                    driven: dict[int, int], blocks: Blocks = ()
                    ) -> tuple[tuple[tuple[int, int], ...], int]:
    """Seconds driven on each day by a leg that leaves at ``leave``, as :func:`_drive`
    schedules it, and its roadside pauses."""
    return _leg(problem, k, leave, travel, driven, blocks)[3:]


def _latest_departure(problem: RoutingProblem, k: int, leave: int, arrive: int, start: int,
                      travel: int, night: bool, on_road: int,
                      driven: dict[int, int] | None = None, blocks: Blocks = ()
                      ) -> tuple[int, int, bool, int]:
    """Leave as late as possible without delaying the next service: on the day of the
    service if the leg fits in one piece that morning, else the evening before (a night at
    the stop)."""
    v = problem.vehicles[k]
    leg = v.leg_s(travel)  # with its roadside pauses
    for day in range(start // DAY_S, leave // DAY_S - 1, -1):
        shift_start, shift_end = v.shift_on(day)
        latest = min(shift_end, start) - leg
        if latest < max(shift_start, leave):
            continue
        dep, arr, nights, _, _ = _leg(problem, k, latest, travel, driven or {}, blocks)
        if dep == latest and arr == latest + leg and nights == 0:
            return latest, latest + leg, False, 0
    return leave, arrive, night, on_road


def _latest_setting_out(problem: RoutingProblem, k: int, leave: int, start: int, travel: int,
                        blocks: Blocks = ()) -> tuple[int, int, bool, int]:
    """The latest departure from the depot, at or after ``leave``, whose first leg still
    arrives by ``start``, however it is driven (around breaks, with nights on the road):
    a trip sets out no earlier than its first service needs. Arrival never comes earlier
    for a later departure, so the latest one is found by bisection (to the minute)."""
    def arrival(t: int) -> tuple[int, int, int]:
        dep, arr, nights, _, _ = _leg(problem, k, t, travel, {}, blocks)
        return dep, arr, nights

    lo, hi = leave, max(leave, start - travel)
    while hi - lo > 60:
        mid = (lo + hi) // 2
        if arrival(mid)[1] <= start:
            lo = mid
        else:
            hi = mid
    for t in (hi, lo):
        dep, arr, nights = arrival(t)
        if arr <= start:
            return dep, arr, False, nights
    dep, arr, nights = arrival(leave)
    return dep, arr, False, nights


def _service_start(problem: RoutingProblem, k: int, loc: int, arrival: int,
                   blocks: Blocks = ()) -> int | None:
    v = problem.vehicles[k]
    svc = problem.service_s[loc]
    for a, b in problem.windows[loc]:
        if b < arrival:
            continue
        s = max(arrival, a)
        while True:
            shift_start, _ = v.shift_on(s // DAY_S)
            if s < shift_start:
                s = shift_start
            clash = next((be for bs, be in blocks if bs < s + svc and s < be), None)
            if clash is None:
                break
            s = clash
        if s <= b and s + svc <= v.shift_on(s // DAY_S)[1]:
            return s
    return None


def _break_blocks(problem: RoutingProblem, k: int, *, latest: bool) -> Blocks:
    """The vehicle's daily breaks on every day of the horizon, each at the earliest (or
    latest) moment its window allows."""
    v = problem.vehicles[k]
    out = []
    for day in range(problem.horizon_days):
        for b_start, b_end, b_len in v.breaks:
            start = day * DAY_S + (b_end - b_len if latest else b_start)
            out.append((start, start + b_len))
    return tuple(sorted(out))


def time_route(problem: RoutingProblem, k: int, stops: tuple[int, ...] | list[int], *,
               not_before: tuple[int, ...] | None = None,
               breaks: Blocks | None = None, earliest: int | None = None,
               next_depart: int | None = None, feasibility: bool = False,
               set_out_later: bool = True) -> RouteTiming:
    """Schedule of vehicle ``k`` visiting ``stops`` (location indices) in order: back as
    early as it can be, and setting out as late as that allows (:func:`_set_out_later`: no
    day spent waiting that a later departure saves); preferring nights at a stop to nights
    on the road when both are feasible (with the solver's times, when both end the trip as
    early).

    ``not_before`` (one time per stop, e.g. the solver's service starts) delays services:
    with lodging limits the earliest schedule may spend a night where there is no lodging,
    the solver's times place it where there is. ``breaks`` (the solver's placement of the
    vehicle's daily breaks) are kept free of driving and service; without them each day's
    break is tried at the start, then at the end of its window.

    A vehicle's second and later trips leave no earlier than ``earliest`` (see
    :func:`trip_windows`); a trip followed by another must be back in time for it to leave
    at ``next_depart`` (else the problem ``trips``).

    With ``feasibility`` only whether the route is feasible counts: a schedule that breaks a
    rule stops at the first problem found, with its visits so far (the route judge's trials,
    most of them refused, time in a fraction of the time); a route whose driving and
    service alone exceed the working hours of the longest trip the vehicle may make is
    refused before any timing (:func:`overworked`, problem ``working_hours``); and a feasible
    one keeps its earliest departure, as every one does without ``set_out_later``. (The
    judge's trials take their times from the plan they start from: with every trip set out
    late, a search building trips from none served fewer communes sooner, tq-124 on one
    core 86 at 4.7 s against 88 at 3.6 s.)"""
    timing = _earliest(problem, k, stops, not_before=not_before, breaks=breaks,
                       earliest=earliest, next_depart=next_depart, feasibility=feasibility)
    if feasibility or not set_out_later or not timing.feasible or not stops:
        return timing
    return _set_out_later(problem, k, stops, timing, not_before=not_before, breaks=breaks,
                          next_depart=next_depart)


# A trip waits (for a window, a market day) at least this much of its working time before
# :func:`_set_out_later` looks for a later departure, which it finds to this step, with at
# most this many schedules
SET_OUT_MIN_WAIT_S = 15 * 60
SET_OUT_STEP_S = 5 * 60
SET_OUT_PROBES = 6


def _set_out_later(problem: RoutingProblem, k: int, stops: tuple[int, ...] | list[int],
                   timing: RouteTiming, **kwargs: Any) -> RouteTiming:
    """``timing`` (the earliest schedule of ``stops``) with the latest departure that brings
    the trip back no later: the earliest schedule serves each stop as soon as it can and
    then waits (for a market day, say: days away, each paid), while setting out later serves
    the stops before the wait later and comes back as early (with no more nights on the
    road: a night at a stop stays one). A trip that waits less than
    :data:`SET_OUT_MIN_WAIT_S` of working time stays as it is; otherwise the delays
    :func:`_departure_slack` bounds are tried
    first, then bisection between the longest that worked and the shortest that did not (a
    later departure never brings the trip back earlier), at most :data:`SET_OUT_PROBES`
    schedules in all, each the earliest setting out no sooner."""
    if sum(_idle(problem, k, x) for x in timing.visits) < SET_OUT_MIN_WAIT_S:
        return timing  # (a night at a stop, say: a later departure would not shorten it)
    most, within = _departure_slack(problem, k, timing)
    back = timing.return_leg.arrival_s
    on_road = _nights_on_road(timing)
    best = timing
    lo, hi = 0, most + 1  # delays known to work, and not to
    tries = [most, within] if SET_OUT_MIN_WAIT_S <= within < most else [most]
    for _ in range(SET_OUT_PROBES):
        delay = tries.pop(0) if tries else (lo + hi) // 2
        if not lo < delay < hi:
            continue
        trial = _earliest(problem, k, stops, earliest=timing.depart_s + delay, **kwargs)
        if trial.feasible and trial.return_leg.arrival_s <= back and \
                _nights_on_road(trial) <= on_road:
            lo = delay
            if trial.return_leg.arrival_s - trial.depart_s < \
                    best.return_leg.arrival_s - best.depart_s:
                best = trial
        else:
            hi = delay
        if hi - lo <= SET_OUT_STEP_S:
            break
    return best


def idle_s(problem: RoutingProblem, timing: RouteTiming) -> int:
    """The working time a trip's crew spends neither driving nor serving: its shifts' hours
    between setting out and coming back, less each leg's travel and each service (a day
    waiting for a market counts its shift, a night away does not). The whole trip's, as the
    insertions weigh it; :func:`_idle` is one visit's wait that setting out later could
    save."""
    v = problem.vehicles[timing.vehicle]
    out, back = timing.depart_s, timing.return_leg.arrival_s
    working = 0
    for day in range(out // DAY_S, back // DAY_S + 1):
        start, end = v.shift_on(day)
        working += max(0, min(end, back) - max(start, out))
    busy = timing.return_leg.leg_travel_s + sum(
        x.leg_travel_s + problem.service_s[x.location] for x in timing.visits)
    return max(0, working - busy)


def _idle(problem: RoutingProblem, k: int, visit: TimedVisit) -> int:
    """Working time the crew waits at ``visit`` before its service that a later departure
    could save: the shift's hours between the arrival and the service start, but for the
    morning of a later day (after a night the crew waits for the window to open however
    late it set out)."""
    v = problem.vehicles[k]
    idle = 0
    first = visit.arrival_s // DAY_S
    for day in range(first, max(first + 1, visit.start_s // DAY_S)):
        start, end = v.shift_on(day)
        idle += max(0, min(end, visit.start_s) - max(start, visit.arrival_s))
    return idle


def _departure_slack(problem: RoutingProblem, k: int, timing: RouteTiming) -> tuple[int, int]:
    """How much later ``timing`` could set out and come back as early, as far as waiting
    and windows tell (nights and breaks aside): at most as long as the trip waits in all,
    and no stop pushed past its last window, or the shift, by more than the waiting before
    it absorbs; and the same with each stop kept in the window it is served in (a shorter
    delay, often the one that works)."""
    v = problem.vehicles[k]
    waited = 0
    most = within = sum(x.start_s - x.arrival_s for x in timing.visits)
    for x in timing.visits:
        waited += x.start_s - x.arrival_s
        windows = problem.windows[x.location]
        end = next((b for a, b in windows if a <= x.start_s <= b), x.start_s)
        last = max((b for _, b in windows), default=x.start_s)
        service = problem.service_s[x.location]
        day_end = v.shift_on(x.start_s // DAY_S)[1] - service
        last_end = v.shift_on(last // DAY_S)[1] - service
        within = min(within, waited + max(0, min(end, day_end) - x.start_s))
        most = min(most, waited + max(0, min(last, last_end) - x.start_s))
    return most, within


def _nights_on_road(timing: RouteTiming) -> int:
    return sum(v.nights_on_road for v in (*timing.visits, timing.return_leg))


# A trip too long for its days only because it waits (for a market day, say) sets out later
# by as much as it is too long, up to this many times (setting out later, it may wait anew):
# its first stops are served later, its wait is shorter. Timed from its earliest setting out
# alone, a trip to a commune whose market falls days after the others were served was
# refused, and ruin and recreate never placed it (tq-80: 01147, markets on days 0 and 4, left
# out of a 79-commune plan; 30 s of ruin and recreate from it, seeds 0-2: 80 served at
# every seed, where without this 79 at every seed). Only where one wait is as long as the
# excess: a trip too long for waiting overnight at many stops (past a window's close) is
# not saved by setting out later, and trying cost ruin and recreate a tenth of its timings
# (tq-124, 20 s: 833 tries, 15 of them feasible; with the rule 27 tries, 14 feasible)
LATER_SETTING_OUT_TRIES = 3


def _earliest(problem: RoutingProblem, k: int, stops: tuple[int, ...] | list[int], *,
              earliest: int | None = None, **kwargs: Any) -> RouteTiming:
    """The earliest schedule of ``stops`` (:func:`_earliest_from` the earliest setting out
    allowed), or, if that trip is too long for its days and breaks no other rule, and one of
    its waits, and its windows (:func:`_departure_slack`), could absorb the excess, the one
    setting out later by the excess (:data:`LATER_SETTING_OUT_TRIES`) that keeps every
    rule."""
    timing = first = _earliest_from(problem, k, stops, earliest=earliest, **kwargs)
    span = problem.vehicles[k].max_span_s
    for _ in range(LATER_SETTING_OUT_TRIES):
        if [p.code for p in timing.problems] != ["trip_days"]:
            break
        excess = timing.return_leg.arrival_s - timing.depart_s - span
        if max((x.start_s - x.arrival_s for x in timing.visits), default=0) < excess or \
                _departure_slack(problem, k, timing)[0] < excess:
            break  # (no one wait, or the windows, can absorb it)
        timing = _earliest_from(problem, k, stops, earliest=timing.depart_s + excess,
                                **kwargs)
        if timing.feasible:
            return timing
    return first


def _earliest_from(problem: RoutingProblem, k: int, stops: tuple[int, ...] | list[int], *,
                   not_before: tuple[int, ...] | None = None,
                   breaks: Blocks | None = None, earliest: int | None = None,
                   next_depart: int | None = None, feasibility: bool = False) -> RouteTiming:
    if feasibility and overworked(problem, k, stops):
        v = problem.vehicles[k]
        load = sum(problem.deliver[s] for s in stops)
        return _refused(k, v.start, v.earliest_start_s, load, load, [], [ScheduleProblem(
            WORKING_HOURS, "its driving and service take longer than the shifts of its "
                           "longest possible trip")])
    options: list[Blocks] = [()]
    if problem.vehicles[k].breaks:
        options = [_break_blocks(problem, k, latest=False),
                   _break_blocks(problem, k, latest=True)]
        if breaks is not None:
            options.insert(0, tuple(sorted(breaks)))
    fallback = None
    for blocks in options:
        if not_before is not None:
            # the solver's times, with nights at a stop where a leg does not fit the day,
            # or on the road as the model may drive them: the shorter trip (a night at a
            # stop can make every later service wait, and the trip end a day later)
            hinted = [t for t in (
                _time_route(problem, k, list(stops), stay=stay, not_before=not_before,
                            blocks=blocks, earliest=earliest, next_depart=next_depart,
                            feasibility=feasibility)
                for stay in (True, False)) if t.feasible]
            if hinted:
                return min(hinted, key=lambda t: t.return_leg.arrival_s - t.depart_s)
        stay = _time_route(problem, k, list(stops), stay=True, blocks=blocks,
                           earliest=earliest, next_depart=next_depart, feasibility=feasibility)
        if stay.feasible:
            return stay
        last = _time_route(problem, k, list(stops), stay=False, blocks=blocks,
                           earliest=earliest, next_depart=next_depart, feasibility=feasibility)
        if last.feasible:
            return last
        fallback = fallback or last
    assert fallback is not None
    if _first_leg_split(problem, k, stops):
        # a first leg driven over two days sets out as late as its first service allows,
        # which can leave too little of the next day's driving cap for the legs after it:
        # then the trip sets out as early as it may instead
        for blocks in options:
            for night_at_stop in (True, False):
                early = _time_route(problem, k, list(stops), stay=night_at_stop, blocks=blocks,
                                    not_before=not_before, earliest=earliest,
                                    next_depart=next_depart, feasibility=feasibility,
                                    set_out_late=False)
                if early.feasible:
                    return early
    return fallback


def _first_leg_split(problem: RoutingProblem, k: int, stops: Sequence[int]) -> bool:
    """Whether vehicle ``k``'s first leg to ``stops`` takes more than a day's driving (its
    daily cap, or its shift), so that it is driven over two days."""
    v = problem.vehicles[k]
    if not stops:
        return False
    day = v.shift_end_s - v.shift_start_s
    if v.drive_cap_binds and v.max_drive_s_per_day is not None:
        day = min(day, v.max_drive_s_per_day)
    # (time_s holds the slowest of the road periods' legs)
    return v.leg_s(int(problem.time_s[v.profile][v.start, stops[0]])) > day


def _refused(k: int, here: int, t: int, load_start: int, load: int,
             visits: list[TimedVisit], problems: list[ScheduleProblem]) -> RouteTiming:
    """A schedule refused with ``feasibility``: its visits so far, ending where it stopped
    (``here`` at ``t``), and its problems."""
    at = TimedVisit(here, 0, 0, False, 0, t, t, t, load, 0)
    return RouteTiming(vehicle=k, depart_s=t, load_start=load_start, visits=tuple(visits),
                       return_leg=at, problems=tuple(problems))


def overworked(problem: RoutingProblem, k: int, stops: Sequence[int]) -> bool:
    """Whether vehicle ``k``'s driving (each leg at its fastest road conditions) and service
    of ``stops`` in order take longer than the shifts within the longest trip it may make
    (``max_span_s``, within its earliest start and latest end): driving and service happen
    only inside the shift, so no schedule fits them. About a third to a half of the
    insertions ruin and recreate tries at province scale are refused so, before the 4-12
    timings a refusal otherwise takes (hg-72, tq-80)."""
    v = problem.vehicles[k]
    shift = v.shift_end_s - v.shift_start_s
    span = min(v.max_span_s, v.latest_end_s - v.earliest_start_s)
    if not stops or shift >= DAY_S or span < 0:
        return False
    most = span // DAY_S * shift + min(shift, span % DAY_S)
    work = sum(problem.service_s[loc] for loc in stops)
    if work > most:
        return True
    matrices = ([p.time_s[v.profile] for p in problem.periods] if problem.periods
                else [problem.time_s[v.profile]])
    here = v.start
    for loc in (*stops, v.end):
        work += min(int(m[here, loc]) for m in matrices)
        here = loc
    return work > most


@dataclass(frozen=True, slots=True)
class _Rules:
    """How a tree of :class:`_TimedPrefixes` times its trips (see :func:`_time_route`)."""

    stay: bool
    blocks: Blocks
    set_out_late: bool


@dataclass(eq=False, slots=True)
class _Prefix:
    """A trip's stops timed so far (a node of :class:`_TimedPrefixes`): by its root's
    rules (nights at a stop or on the road, the breaks' blocks, setting out late), where
    and when the crew leaves the last, the trip's departure (``None`` before the first
    stop), the seconds driven per day, the last visit (its load aside) and its leg's
    problems."""

    rules: _Rules
    vehicle: int
    here: int
    t: int
    depart: int | None
    driven: dict[int, int]  # (never changed once the node is made)
    visit: TimedVisit | None
    problems: tuple[ScheduleProblem, ...]
    after: dict[tuple[int, int | None], _Prefix]  # the next stop and its hint: its node


# Trips' stops timed, remembered per problem as a tree of prefixes (:class:`_TimedPrefixes`),
# at most this many nodes (tens of MB): the route judge's trials of a route share everything
# before the place they insert at (55% of the stops ruin and recreate timed on tq-124 had
# been timed so before; from a 113-commune plan, 20 s, seeds 0-2, trips timed 5,046 / 5,932 /
# 5,562 without, 6,536 / 6,816 / 6,430 with). Loads are not remembered: a trip leaves with
# all it delivers, so a stop's load depends on the stops after it.
PREFIX_MEMO_SIZE = 40_000


class _TimedPrefixes:
    """The timed prefixes of trips of one problem: a tree per vehicle, setting out,
    night rule, breaks and late setting out, each node the stops timed so far."""

    def __init__(self, problem: RoutingProblem) -> None:
        self.problem = problem
        self.roots: dict[tuple, _Prefix] = {}
        self.size = 0

    def root(self, k: int, t: int, stay: bool, blocks: Blocks, set_out_late: bool
             ) -> _Prefix:
        key = (k, t, stay, blocks, set_out_late)
        node = self.roots.get(key)
        if node is None:
            self._grow()
            node = self.roots[key] = _Prefix(_Rules(stay, blocks, set_out_late), k,
                                             self.problem.vehicles[k].start, t, None, {},
                                             None, (), {})
        return node

    def then(self, node: _Prefix, loc: int, hint: int | None) -> _Prefix:
        """``node`` followed by a visit of ``loc`` (served no sooner than ``hint``)."""
        after = node.after.get((loc, hint))
        if after is None:
            self._grow()
            after = node.after[(loc, hint)] = _timed_visit(self.problem, node, loc, hint)
        return after

    def _grow(self) -> None:
        self.size += 1
        if self.size > PREFIX_MEMO_SIZE:
            self.roots.clear()
            self.size = 1


_prefixes: weakref.WeakKeyDictionary[RoutingProblem, _TimedPrefixes] = \
    weakref.WeakKeyDictionary()


def _timed_prefixes(problem: RoutingProblem) -> _TimedPrefixes:
    found = _prefixes.get(problem)
    if found is None:
        found = _prefixes[problem] = _TimedPrefixes(problem)
    return found


def _timed_visit(problem: RoutingProblem, node: _Prefix, loc: int, hint: int | None
                 ) -> _Prefix:
    """The stops of ``node`` followed by ``loc``, served no sooner than ``hint`` (the
    solver's time, see :func:`time_route`), by ``node``'s rules."""
    k, here, t, driven = node.vehicle, node.here, node.t, node.driven
    stay, blocks, set_out_late = node.rules.stay, node.rules.blocks, node.rules.set_out_late
    v = problem.vehicles[k]
    leg_problems: list[ScheduleProblem] = []
    first_leg = node.depart is None
    leave, arrive = t, t
    for _ in range(2 * len(problem.periods) + 1):
        # dated road conditions: the leg's time depends on the days it is driven, which
        # depend on its time (problem.leg_on); without them this runs once
        raw, dist = problem.leg_at(k, here, loc, leave if first_leg else t, arrive)
        travel = raw
        leg_problems = []
        if raw >= NO_PATH_S:
            leg_problems.append(ScheduleProblem(
                "no_road", f"no road from location {here} to {loc} for this vehicle"))
            travel = 0
        leave, arrive, night, on_road = _drive(problem, k, t, travel, stay=stay,
                                               driven=driven, blocks=blocks)
        if hint is not None and hint > arrive:
            arrive = hint  # wait for the solver's time (see time_route)
        start = _service_start(problem, k, loc, arrive, blocks)
        if hint is not None and start is not None and start // DAY_S > leave // DAY_S:
            # a night falls before this service: spend it where the crew is, leave next day
            leave, arrive, night, on_road = _latest_departure(
                problem, k, t, arrive, start, travel, True, 0, driven, blocks)
            night = leave // DAY_S > t // DAY_S
        if start is None:
            leg_problems.append(ScheduleProblem(
                "time_window", f"arrives at location {loc} after its last time window"))
            start = arrive
        if problem.lodging is not None and not problem.lodging[here] and \
                start // DAY_S != t // DAY_S:
            leg_problems.append(ScheduleProblem(
                "lodging", f"no lodging at location {here} for the night before "
                           f"location {loc}"))
        if first_leg and set_out_late:
            before = leave
            leave, arrive, night, on_road = _latest_departure(
                problem, k, leave, arrive, start, travel, night, on_road, driven, blocks)
            if leave == before and start // DAY_S > leave // DAY_S:
                # not in one piece on the service's day nor the evening before (a night at
                # the stop): set out as late as the leg, its breaks and its nights on the
                # road allow
                leave, arrive, night, on_road = _latest_setting_out(
                    problem, k, leave, start, travel, blocks)
        if raw >= NO_PATH_S or not problem.periods or problem.leg_at(
                k, here, loc, leave if first_leg else t, arrive) == (raw, dist):
            break
    assert start is not None  # a missed window starts it at the arrival
    per_day, pauses = _driving_by_day(problem, k, leave, travel, driven, blocks)
    now_driven = dict(driven)
    for d, secs in per_day:
        now_driven[d] = now_driven.get(d, 0) + secs
    # the crew leaves after the service, and not before a pause under a continuous-driving
    # rule
    leave_at = start + v.dwell_s(problem.service_s[loc])
    visit = TimedVisit(loc, travel, dist, night, on_road, arrive, start, leave_at, 0, pauses)
    return _Prefix(node.rules, k, loc, leave_at, leave if first_leg else node.depart,
                   now_driven, visit, tuple(leg_problems), {})


def _time_route(problem: RoutingProblem, k: int, stops: list[int], *, stay: bool,
                not_before: tuple[int, ...] | None = None, blocks: Blocks = (),
                earliest: int | None = None, next_depart: int | None = None,
                feasibility: bool = False, set_out_late: bool = True) -> RouteTiming:
    v = problem.vehicles[k]
    cap = v.capacity
    problems: list[ScheduleProblem] = []
    load = sum(problem.deliver[s] for s in stops)
    load_start = load
    if load > cap:
        problems.append(ScheduleProblem(
            "capacity", f"leaves the depot with {load} crates, more than its {cap}"))
    for loc in stops:
        ks = problem.allowed_vehicles[loc] if problem.allowed_vehicles else None
        if ks is not None and k not in ks:
            problems.append(ScheduleProblem(
                "access", f"location {loc} may not be served by this vehicle (profile)"))
    pair = problem.pair_load or (0,) * problem.n_locations
    position = {loc: i for i, loc in enumerate(stops)}
    for pickup, delivery in problem.pickup_delivery:
        if (pickup in position) != (delivery in position):
            problems.append(ScheduleProblem(
                "transfer", f"transfer between locations {pickup} and {delivery}: only one "
                            "of the two is on this trip"))
        elif pickup in position and position[pickup] > position[delivery]:
            problems.append(ScheduleProblem(
                "transfer", f"transfer delivered at location {delivery} before it is "
                            f"collected at {pickup}"))
    t = v.earliest_start_s if earliest is None else max(earliest, v.earliest_start_s)
    here = v.start
    visits: list[TimedVisit] = []

    def refused() -> RouteTiming:
        return _refused(k, here, t, load_start, load, visits, problems)

    if feasibility and problems:
        return refused()
    drive_cap = v.max_drive_s_per_day if v.drive_cap_binds else None
    prefixes = _timed_prefixes(problem)
    node = prefixes.root(k, t, stay, blocks, set_out_late)
    for pos, loc in enumerate(stops):
        node = prefixes.then(node, loc, None if not_before is None else not_before[pos])
        problems.extend(node.problems)
        load += problem.collect[loc] - problem.deliver[loc] + pair[loc]
        if load > v.capacity:
            problems.append(ScheduleProblem(
                "capacity", f"carries {load} crates after location {loc}, more than its "
                            f"{v.capacity}"))
        assert node.visit is not None
        x = node.visit
        visits.append(TimedVisit(x.location, x.leg_travel_s, x.leg_distance_m, x.night_before,
                                 x.nights_on_road, x.arrival_s, x.start_s, x.departure_s, load,
                                 x.roadside_pauses))
        t, here = node.t, loc
        if feasibility and problems:
            return refused()
    depart = node.depart
    driven = dict(node.driven)  # seconds of driving per day
    back = t
    for _ in range(2 * len(problem.periods) + 1):
        travel, dist = problem.leg_at(k, here, v.end, t, back)
        no_road = travel >= NO_PATH_S
        if no_road:
            travel = 0
        leave, back, night, on_road = _drive(problem, k, t, travel, stay=stay, driven=driven,
                                             blocks=blocks)
        if no_road or problem.leg_at(k, here, v.end, t, back)[0] == travel:
            break
    if no_road:
        problems.append(ScheduleProblem(
            "no_road", f"no road back to the depot from location {here}"))
    per_day, pauses = _driving_by_day(problem, k, leave, travel, driven, blocks)
    for d, secs in per_day:
        driven[d] = driven.get(d, 0) + secs
    for d, secs in sorted(driven.items()):
        if drive_cap is not None and secs > drive_cap:
            problems.append(ScheduleProblem(
                "driving_hours", f"drives {secs / 3600:.1f} h on day {d + 1}, more than its "
                                 f"{drive_cap / 3600:.1f} h a day"))
    if problem.lodging is not None and not problem.lodging[here] and back // DAY_S != t // DAY_S:
        problems.append(ScheduleProblem(
            "lodging", f"no lodging at location {here} for the night before the return"))
    if depart is None:
        depart = t if not stops else v.earliest_start_s
    if back > v.latest_end_s:
        problems.append(ScheduleProblem("horizon", "returns after the end of the planning horizon"))
    if stops and next_depart is not None and v.next_trip_earliest(back) > next_depart:
        problems.append(ScheduleProblem(
            "trips", "returns too late for the vehicle's next trip (its turnaround, or a "
                     "later working day)"))
    if back - depart > v.max_span_s:
        problems.append(ScheduleProblem(
            "trip_days", "the trip lasts longer than the vehicle's maximum trip days"))
    ret = TimedVisit(v.end, travel, dist, night, on_road, back, back, back, load, pauses)
    taken = tuple((a, b) for a, b in blocks if depart < b and a < back)
    return RouteTiming(vehicle=k, depart_s=depart, load_start=load_start, visits=tuple(visits),
                       return_leg=ret, problems=tuple(problems), breaks=taken)



def trip_bounds(problem: RoutingProblem, timings: Sequence[RouteTiming | None], k: int
                ) -> tuple[int | None, int | None]:
    """``(earliest, next_depart)`` of trip ``k`` among the timed trips of its vehicle: the
    earliest departure its vehicle's last earlier trip with stops allows, and the departure of
    the next trip with stops (``None`` where there is none)."""
    earliest = None
    prev = problem.previous_trip(k)
    while prev is not None:
        before = timings[prev]
        if before is not None and before.visits:
            earliest = problem.vehicles[prev].next_trip_earliest(before.return_leg.arrival_s)
            break
        prev = problem.previous_trip(prev)
    next_depart = None
    nxt = k + 1
    while nxt < len(problem.vehicles) and problem.previous_trip(nxt) is not None \
            and problem.vehicles[nxt].vehicle_id == problem.vehicles[k].vehicle_id:
        after = timings[nxt]
        if after is not None and after.visits:
            next_depart = after.depart_s
            break
        nxt += 1
    return earliest, next_depart


def time_trips(problem: RoutingProblem, routes: Sequence[Sequence[int]], *,
               hints: Sequence[tuple[int, ...]] | None = None,
               breaks: Sequence[Blocks] | None = None,
               vehicles: Sequence[int] | None = None,
               feasibility: bool = False, kept: Container[int] = (),
               set_out_later: bool = True) -> list[RouteTiming]:
    """:func:`time_route` of every vehicle's route (of ``vehicles`` only, whole vehicles'
    trips, when given), a vehicle's trips in order: each trip leaves no earlier than the
    one before it allows (``feasibility``: see :func:`time_route`). A trip through a stop
    of ``kept`` (a visit a re-plan keeps at its time, given in ``hints``) keeps its earliest
    departure: setting out later would move that visit; without ``set_out_later`` every
    trip does."""
    timings: list[RouteTiming | None] = [None] * len(problem.vehicles)
    for k in range(len(problem.vehicles)) if vehicles is None else vehicles:
        earliest, _ = trip_bounds(problem, timings, k)
        timings[k] = time_route(problem, k, list(routes[k]),
                                not_before=hints[k] if hints else None,
                                breaks=breaks[k] if breaks else None, earliest=earliest,
                                feasibility=feasibility,
                                set_out_later=set_out_later and not any(
                                    loc in kept for loc in routes[k]))
    return [t for t in timings if t is not None]
