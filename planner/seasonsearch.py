"""The search of a season, whatever routes its periods: visit dates, routing period by period,
repair and improving moves (steps 3 to 5 of :mod:`planner.season`).

Two callers route the periods differently and share this one search:

* :func:`planner.season.solve_season`: each period is a scenario on the road network, routed
  by the pipeline (dated road conditions, windows, several trips per vehicle);
* :func:`planner.periodic.solve_periodic`: each period is a day of a matrix-based
  :class:`~planner.problem.RoutingProblem` (the periodic VRP benchmarks).

What the search needs of a routed period is :class:`RoutedPeriod`: the visits no trip took
(with the reason code of :mod:`planner.explain`), its cost, and each trip's cost and visits.
A router routes period ``i`` with the communes due in it, each allowed on some days.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, Self, TypeVar

import numpy as np

from planner._assign import DateResult, VisitDemand
from planner.scenario import VisitRule

log = logging.getLogger(__name__)

SEARCH_LIMIT = "search_limit"  # the reason code of a visit its search ran out of time for
MIN_PERIOD_S = 0.5  # the least search time of a period capped by its size
ASSIGN_SHARE = 0.2  # of the time a deadline leaves, at most, for one date assignment
GROUP_MOST = 5  # communes a group move takes along (:func:`group_moves`), at most
GROUP_TRIES = 600  # group moves evaluated a call, at most


@dataclass(frozen=True)
class Period:
    """Consecutive working days routed together: from day ``start_day`` (0-based) of the
    season, ``days`` long, with the scenario vehicles ``vehicles`` available on each."""

    start_day: int
    days: int
    vehicles: tuple[str, ...]

    @property
    def day_range(self) -> range:
        return range(self.start_day, self.start_day + self.days)


class RoutedPeriod(Protocol):
    """What the search reads of a routed period."""

    def missed(self) -> Sequence[tuple[str, str]]:
        """``(commune, reason code)`` of each visit no trip took."""
        ...

    def cost(self) -> float:
        """What the period's trips cost (the unit is the router's; lower is better)."""
        ...

    def trips(self) -> Sequence[tuple[float, tuple[str, ...]]]:
        """Each trip with visits: its cost and the communes it visits."""
        ...

    def edited(self, code: str, *, add: bool) -> Self | None:
        """The period with a visit of ``code`` put into a trip (``add``) or taken out,
        the other visits staying as they are, without a search; ``None``: the router cannot
        (the move then routes the period again)."""
        ...

    def detour(self, code: str, *, room: bool = True) -> float | None:
        """What a visit of ``code`` adds to the period's trips: for a visit they make, what
        taking it out saves; otherwise the cheapest insertion into a trip with room (or
        into any trip, without ``room``: another visit is to leave it).
        ``None``: the router has no estimate (the moves of :func:`_move_visit` then skip
        this period)."""
        ...


R = TypeVar("R", bound=RoutedPeriod)
# route period ``i`` with these communes, each allowed on these days, within this time (s);
# None: nothing to route
Router = Callable[[int, Mapping[str, Sequence[int]], float], "R | None"]
# assign the dates again from ``hint`` without ``forbidden`` days, within this time (s)
Assigner = Callable[[Mapping[str, Sequence[int]], Mapping[str, frozenset[int]], float],
                    DateResult]

Move = tuple[tuple[str, tuple[int, ...]], ...]  # communes and the day sets they move to


@dataclass(frozen=True)
class SearchSettings:
    """How long and how hard the search works (from ``periodic:``, see
    :class:`planner.scenario.PeriodicSpec`). With a ``deadline`` (``time.perf_counter()``),
    improving moves go on until it, however many ``improve_rounds`` allows."""

    period_time_limit_s: float
    assignment_time_limit_s: float
    repair_rounds: int
    improve_rounds: int
    deadline: float | None = None
    time_per_visit_s: float = 0.0  # a period's limit by its size (0: none)


@dataclass
class SeasonSearch(Generic[R]):
    """Where the search ended: each commune's visit days and each period's routing."""

    dates: dict[str, tuple[int, ...]]
    routed: dict[int, R]
    assign_s: float = 0.0
    rounds: int = 0
    unrouted_first: int = 0
    tried: int = 0
    improved: int = 0
    saved: float = 0.0
    periods_routed: int = 0
    edited: set[int] = field(default_factory=set)  # periods edited by moves since searched
    # per period, its routing and the detours (:meth:`RoutedPeriod.detour`) asked of it
    detours: dict[int, tuple[R, dict[tuple[str, bool], float | None]]] = field(
        default_factory=dict)
    notes: list[str] = field(default_factory=list)


def groups_by_time(codes: Sequence[str], time_s: np.ndarray, n_depots: int, size: int
                   ) -> dict[str, int]:
    """Communes near each other by travel time (``time_s``: depots first, then the communes
    of ``codes``), in groups of at most ``size``: farthest-first seeds, then each commune to
    its nearest seed with room, the communes with most to lose first."""
    if len(codes) <= 1:
        return {c: 0 for c in codes}
    t = np.asarray(time_s, dtype=float)
    t = np.where(t >= 1e9, 1e9, t)
    stops = t[n_depots:, n_depots:]
    sym = stops + stops.T
    n_groups = math.ceil(len(codes) / size)
    seeds = [int(np.argmax(t[0, n_depots:]))]
    while len(seeds) < n_groups:
        seeds.append(int(np.argmax(sym[:, seeds].min(axis=1))))
    cost = sym[:, seeds]
    order = np.argsort(-(np.sort(cost, axis=1)[:, min(1, n_groups - 1)] - cost.min(axis=1)))
    room = [size] * n_groups
    out: dict[str, int] = {}
    for i in order:
        for g in np.argsort(cost[i]):
            if room[g]:
                out[codes[int(i)]] = int(g)
                room[g] -= 1
                break
    return out


def rule_demand(key: str, rule: VisitRule, horizon: int) -> VisitDemand:
    """The visits ``rule`` asks of commune ``key`` over ``horizon`` days, on any of them
    (the caller narrows the days, adds preferred and kept ones): ``every_weeks`` gives one
    visit a period (the first within the first period, the last within the last),
    ``count`` its gaps, ``day_sets`` one of the sets."""
    lo, hi = rule.gap_days
    first_by = last_from = None
    sets = None
    if rule.every_weeks is not None:
        period = rule.every_weeks * 7
        count = max(1, (horizon + rule.tolerance_days) // period)
        first_by = period - 1 + rule.tolerance_days
        last_from = horizon - period - rule.tolerance_days if count > 1 else None
    elif rule.count is not None:
        count = rule.count
    else:
        assert rule.day_sets is not None
        sets = tuple(tuple(sorted(set(ds))) for ds in rule.day_sets)
        count, lo, hi = len(sets[0]), 1, None
    return VisitDemand(key=key, days=tuple(range(horizon)), count=count, min_gap=lo,
                       max_gap=hi, first_by=first_by,
                       last_from=last_from if last_from is None or last_from > 0 else None,
                       day_sets=sets)


def gap_slack(days: Sequence[int], lo: int, hi: int | None, horizon: int) -> list[int]:
    """How many days each visit may move (either way) while its gaps stay within
    ``lo``..``hi`` days, even if its neighbours move as much: half the room of its tighter
    gap."""
    out = []
    for k in range(len(days)):
        room = horizon
        for a, b in ((k - 1, k), (k, k + 1)):
            if a >= 0 and b < len(days):
                gap = days[b] - days[a]
                room = min(room, gap - lo, (hi - gap) if hi is not None else horizon)
        out.append(max(0, room // 2))
    return out


def demand_slack(dm: VisitDemand, days: Sequence[int], horizon: int) -> list[int]:
    """:func:`gap_slack` of a commune's visits; none for a choice among day sets."""
    if dm.day_sets is not None:
        return [0] * len(days)
    return gap_slack(days, dm.min_gap, dm.max_gap, horizon)


def period_of(periods: Sequence[Period], day: int) -> int | None:
    for i, p in enumerate(periods):
        if day in p.day_range:
            return i
    return None


def _period_by_day(periods: Sequence[Period]) -> dict[int, int]:
    """The period of each day that is in one."""
    return {d: i for i, p in enumerate(periods) for d in p.day_range}


def period_numbers(periods: Sequence[Period], days: int) -> list[int]:
    """The period of each day (-1: a day in no period)."""
    out = [-1] * days
    for i, p in enumerate(periods):
        for d in p.day_range:
            out[d] = i
    return out


def period_visits(periods: Sequence[Period], dates: Mapping[str, Sequence[int]],
                  kept_days: Mapping[str, set[int]], demands: Sequence[VisitDemand],
                  forbidden: Mapping[str, frozenset[int]], horizon: int
                  ) -> dict[int, dict[str, list[int]]]:
    """Per period, the communes due in it and the days each may take there: around its
    assigned day by the visit's slack (none on a preferred date), within the period, on days
    its commune may receive (``demands``: the calendar, its reach, the first and last visit's
    bounds) and not ``forbidden``."""
    out: dict[int, dict[str, list[int]]] = {}
    for dm in demands:
        code = dm.key
        days = list(dates.get(code, ()))
        ok = set(dm.days) - forbidden.get(code, frozenset())
        slack = demand_slack(dm, days, horizon)
        fixed = {d for d, _, _ in dm.preferred}
        for k, (day, m) in enumerate(zip(days, slack, strict=True)):
            if day in kept_days.get(code, set()):
                continue
            i = period_of(periods, day)
            if i is None:
                continue
            m = 0 if day in fixed else m
            p = periods[i]
            allowed = [d for d in range(max(p.start_day, day - m),
                                        min(p.start_day + p.days, day + m + 1))
                       if (d in ok or d == day)
                       and not (k == 0 and dm.first_by is not None and d > dm.first_by
                                and not dm.kept)
                       and not (k == len(days) - 1 and dm.last_from is not None
                                and d < dm.last_from)]
            out.setdefault(i, {})[code] = allowed
    return out


def _left_time(settings: SearchSettings) -> float | None:
    return None if settings.deadline is None else settings.deadline - time.perf_counter()


def _limit(settings: SearchSettings, visits: int, factor: float = 1.0) -> float:
    """A period's search time: ``period_time_limit_s``, cut to ``time_per_visit_s`` per visit
    (at least :data:`MIN_PERIOD_S`), times ``factor``, cut to what the deadline leaves (at
    least 0.2 s)."""
    limit = settings.period_time_limit_s
    if settings.time_per_visit_s > 0:
        limit = min(limit, max(MIN_PERIOD_S, settings.time_per_visit_s * visits))
    limit *= factor
    left = _left_time(settings)
    return limit if left is None else max(0.2, min(limit, left))


def _assign_limit(settings: SearchSettings, most: float | None = None) -> float:
    """A date assignment's time: ``assignment_time_limit_s`` (at most ``most``), cut to
    :data:`ASSIGN_SHARE` of what the deadline leaves (at least 0.5 s)."""
    limit = settings.assignment_time_limit_s if most is None else min(
        most, settings.assignment_time_limit_s)
    left = _left_time(settings)
    return limit if left is None else max(0.5, min(limit, ASSIGN_SHARE * left))


def search_season(demands: Sequence[VisitDemand], periods: Sequence[Period],
                  first: Mapping[str, Sequence[int]], route: Router[R], assign: Assigner,
                  settings: SearchSettings, *,
                  kept_days: Mapping[str, set[int]] | None = None,
                  routed: Mapping[int, R] | None = None) -> SeasonSearch[R]:
    """Route every period from the ``first`` dates, repair, then improve (steps 4 and 5 of
    :mod:`planner.season`). The horizon is the last day of the last period. ``routed``:
    periods already routed with the ``first`` dates (not routed again)."""
    kept_days = kept_days or {}
    horizon = max((p.start_day + p.days for p in periods), default=0)
    out: SeasonSearch[R] = SeasonSearch(dates={k: tuple(v) for k, v in first.items()},
                                        routed=dict(routed or {}))
    forbidden: dict[str, frozenset[int]] = {}
    wanted: dict[int, dict[str, list[int]]] = {
        i: v for i, v in period_visits(periods, out.dates, kept_days, demands, forbidden,
                                       horizon).items() if i in out.routed}
    factors: dict[int, float] = {}  # a period searched again gets twice the time
    again: set[int] = set()
    unrouted_first = -1
    while True:
        now = period_visits(periods, out.dates, kept_days, demands, forbidden, horizon)
        for i in sorted(set(now) | set(wanted)):
            if now.get(i) == wanted.get(i) and i in out.routed and i not in again:
                continue
            one = route(i, now[i], _limit(settings, len(now[i]), factors.get(i, 1.0))) \
                if i in now else None
            out.periods_routed += one is not None
            if one is None:
                out.routed.pop(i, None)
            else:
                out.routed[i] = one
        wanted = now
        missed = {(code, i, why) for i, s in out.routed.items() for code, why in s.missed()}
        if unrouted_first < 0:
            unrouted_first = len(missed)
        if not missed or out.rounds >= settings.repair_rounds:
            break
        out.rounds += 1
        # a visit the search ran out of time for: its period searches again, longer; a visit
        # no trip of its period can take: other days (the dates are assigned again)
        again = {i for _, i, why in missed if why == SEARCH_LIMIT}
        for i in again:
            factors[i] = 2 * factors.get(i, 1.0)
        moved = [(code, i) for code, i, why in missed if why != SEARCH_LIMIT]
        if not moved:
            continue
        for code, i in moved:
            forbidden[code] = forbidden.get(code, frozenset()) | frozenset(
                periods[i].day_range)
        retry = assign(out.dates, forbidden, _assign_limit(settings))
        out.assign_s += retry.wall_s
        if not retry.days:
            log.info("season: repair round %d found no other dates (%s)", out.rounds,
                     retry.status)
            if not again:
                break
            continue
        out.dates = dict(retry.days)
    out.unrouted_first = max(0, unrouted_first)
    _improve(out, demands, periods, route, assign, settings, forbidden, kept_days, horizon)
    return out


def _improve(out: SeasonSearch[R], demands: Sequence[VisitDemand], periods: Sequence[Period],
             route: Router[R], assign: Assigner, settings: SearchSettings,
             forbidden: Mapping[str, frozenset[int]], kept_days: Mapping[str, set[int]],
             horizon: int) -> None:
    """Improving moves (:func:`_improve_once`) on the costliest trips first: without a
    deadline, one try for each of the ``improve_rounds`` costliest; with one, until it, from
    the costliest again after each kept move, and over again after a pass that kept one;
    each of those tries first moves one commune's visits by the trips' costs
    (:func:`_move_visit`)."""
    skip = kept_in_pass = 0
    refused: set[Move] = set()  # visit moves tried since the last kept
    while True:
        left = _left_time(settings)
        if (left is None and out.tried >= settings.improve_rounds) or (
                left is not None and left <= 0):
            break
        move = _costliest_trip(out.routed, skip)
        if move is None:
            if left is None or not kept_in_pass:
                break
            skip = kept_in_pass = 0
            continue
        out.tried += 1
        if left is not None:
            untried = len(refused)
            gain = _move_visit(out, demands, periods, route, assign, settings, forbidden,
                               kept_days, horizon, refused)
            if gain is not None:
                out.saved += gain
                out.improved += 1
                kept_in_pass += 1
                refused.clear()
                skip = 0
                continue
            if len(refused) > untried:  # there was a move to try: try the next one first
                continue
            if out.edited:  # no move left: search the edited periods again, then go on
                out.saved += _polish(out, demands, periods, route, settings, forbidden,
                                     kept_days, horizon)
                refused.clear()
                continue
        skip += 1
        gain = _improve_once(out, demands, periods, route, assign, settings, forbidden,
                             kept_days, horizon, move)
        if gain is not None:
            out.saved += gain
            out.improved += 1
            kept_in_pass += 1
            if left is not None:
                skip = 0
    log.info("season: %d of %d improving moves kept", out.improved, out.tried)


def _move_visit(out: SeasonSearch[R], demands: Sequence[VisitDemand],
                periods: Sequence[Period], route: Router[R], assign: Assigner,
                settings: SearchSettings, forbidden: Mapping[str, frozenset[int]],
                kept_days: Mapping[str, set[int]], horizon: int,
                refused: set[Move]) -> float | None:
    """A move guided by the trips' costs, the cheapest by the periods' detour estimates
    (:meth:`RoutedPeriod.detour`: saved where a visit leaves, added where it comes): one
    commune's visits to another day set of its rule, or two communes exchanging their day
    sets (a swap: on days full to capacity, one takes the other's room). The dates are
    checked by the assignment (every other visit keeps its day), the periods that changed
    are edited (or routed again) and the move is kept as in :func:`_improve_once`. A move
    tried is put in ``refused``; ``None`` when no move is left or the move is not kept."""
    where = _period_by_day(periods)

    def detour(day: int, code: str, room: bool = True) -> float | None:
        i = where.get(day)
        routed = None if i is None else out.routed.get(i)
        if i is None or routed is None:
            return None
        held = out.detours.get(i)
        if held is None or held[0] is not routed:  # asked again once its routing changes
            held = out.detours[i] = (routed, {})
        if (code, room) not in held[1]:
            held[1][code, room] = routed.detour(code, room=room)
        return held[1][code, room]

    def delta(code: str, now: tuple[int, ...], other: tuple[int, ...], room: bool
              ) -> float | None:
        saved = [detour(d, code) for d in now if d not in other]
        added = [detour(d, code, room) for d in other if d not in now]
        if any(x is None for x in saved + added):
            return None
        return sum(added) - sum(saved)  # type: ignore[arg-type]

    movable = [dm for dm in demands
               if dm.day_sets is not None and len(dm.day_sets) >= 2 and not dm.kept]
    now_of = {dm.key: tuple(out.dates.get(dm.key, ())) for dm in movable}
    best: tuple[float, Move] | None = None
    for dm in movable:
        banned = forbidden.get(dm.key, frozenset())
        assert dm.day_sets is not None
        for other in dm.day_sets:
            move: Move = ((dm.key, other),)
            if other == now_of[dm.key] or move in refused or banned.intersection(other):
                continue
            gain = delta(dm.key, now_of[dm.key], other, True)
            if gain is not None and gain < 0 and (best is None or gain < best[0]):
                best = (gain, move)
    # swaps: estimates whatever the load (the other's visit leaves room)
    by_set: dict[tuple[int, ...], list[VisitDemand]] = {}
    for dm in movable:
        by_set.setdefault(now_of[dm.key], []).append(dm)
    for dm in movable:
        banned = forbidden.get(dm.key, frozenset())
        assert dm.day_sets is not None
        mine = now_of[dm.key]
        for other in dm.day_sets:
            if other == mine or banned.intersection(other):
                continue
            there = delta(dm.key, mine, other, False)
            if there is None:
                continue
            for mate in by_set.get(other, ()):
                assert mate.day_sets is not None
                if mine not in mate.day_sets or forbidden.get(
                        mate.key, frozenset()).intersection(mine):
                    continue
                back = delta(mate.key, other, mine, False)
                if back is None:
                    continue
                gain = there + back
                move = tuple(sorted(((dm.key, other), (mate.key, mine))))
                if gain < 0 and (best is None or gain < best[0]) and move not in refused:
                    best = (gain, move)
    if best is None:
        return None
    _, move = best
    refused.add(move)
    dates = {**out.dates, **dict(move)}
    fixed = {dm.key: frozenset(set(dm.days) - set(dates.get(dm.key, ()))) for dm in demands}
    check = assign(dates, {**forbidden, **fixed}, _assign_limit(settings, 5.0))
    if not check.days:
        return None
    edits = _edits(out, where, move)
    if any(e is None for e in edits.values()):  # a period to search again
        return _try_dates(out, demands, periods, route, settings, forbidden, kept_days,
                          horizon, dict(check.days), tuple(code for code, _ in move))
    return _keep_edits(out, edits, dict(check.days))


def _edits(out: SeasonSearch[R], where: Mapping[int, int], move: Move) -> dict[int, R | None]:
    """The periods a move changes, edited without a search (:meth:`RoutedPeriod.edited`):
    every visit that leaves first (room for those coming in), then those that come, in the
    move's order; ``None`` for a period its router cannot edit."""
    changes = [(d, code, False) for code, other in move
               for d in out.dates.get(code, ()) if d not in other]
    changes += [(d, code, True) for code, other in move
                for d in other if d not in out.dates.get(code, ())]
    edits: dict[int, R | None] = {}
    for day, code, add in changes:
        i = where[day]
        base = edits[i] if i in edits else out.routed.get(i)
        edits[i] = base.edited(code, add=add) if base is not None else None
    return edits


def _edits_gain(out: SeasonSearch[R], edits: Mapping[int, R | None]) -> float | None:
    """What edited periods save against their routing now (``None``: one is not edited)."""
    if any(e is None or i not in out.routed for i, e in edits.items()):
        return None
    return sum(out.routed[i].cost() - e.cost() for i, e in edits.items()
               if e is not None)


def _keep_edits(out: SeasonSearch[R], edits: Mapping[int, R | None],
                dates: dict[str, tuple[int, ...]]) -> float | None:
    """Keep edited periods and the ``dates`` that go with them when they cost less; returns
    what they save."""
    gain = _edits_gain(out, edits)
    if gain is None or gain <= 0:
        return None
    for i, e in edits.items():
        assert e is not None
        out.routed[i] = e
        out.edited.add(i)
    out.dates = dates
    return gain


def group_moves(out: SeasonSearch[R], demands: Sequence[VisitDemand],
                periods: Sequence[Period], forbidden: Mapping[str, frozenset[int]], *,
                movable: Collection[str] | None = None, refused: Collection[Move] = (),
                deadline: float | None = None) -> list[tuple[float, Move]]:
    """Moves of groups, each with what it saves by the periods' edits (negative: costs more),
    best first. A group is a few communes on the same trip, with the same day set, that
    follow each other there (the others' visits aside); it moves to another day set each of
    them may take, or exchanges day sets with another group of about its size. One visit
    moved alone seldom pays where its neighbours stay (a cluster visited on the same days):
    the group takes its neighbours along. Each move is evaluated by editing the periods it
    changes (:func:`_edits`: the visits leave, then come one after another), on the costliest
    trips first, at most :data:`GROUP_TRIES` moves (and until ``deadline``); a move a router
    cannot edit is left out. ``movable``: the communes that may move (default: every one
    with a choice of day sets); ``refused``: moves not to evaluate."""
    where = _period_by_day(periods)
    sets = {dm.key: frozenset(dm.day_sets) for dm in demands
            if dm.day_sets is not None and len(dm.day_sets) >= 2 and not dm.kept
            and (movable is None or dm.key in movable)}
    trips = sorted(((cost / len(codes), i, codes) for i, s in out.routed.items()
                    for cost, codes in s.trips() if codes), reverse=True)
    # the groups: (communes in trip order, their day set, the day sets all of them may take)
    groups: list[tuple[tuple[str, ...], tuple[int, ...], frozenset[tuple[int, ...]]]] = []
    seen: set[frozenset[str]] = set()
    for _, _, codes in trips:
        runs: dict[tuple[int, ...], list[str]] = {}
        for code in codes:
            if code in sets:
                runs.setdefault(tuple(out.dates.get(code, ())), []).append(code)
        for mine, run in runs.items():
            for size in range(2, min(GROUP_MOST, len(run)) + 1):
                for a in range(len(run) - size + 1):
                    group = tuple(run[a:a + size])
                    if frozenset(group) in seen:
                        continue
                    seen.add(frozenset(group))
                    banned = frozenset().union(*(forbidden.get(c, frozenset())
                                                 for c in group))
                    options = frozenset(o for o in frozenset.intersection(
                        *(sets[c] for c in group)) if o != mine and not banned.intersection(o))
                    if options:
                        groups.append((group, mine, options))
    candidates: list[Move] = []
    for group, _, options in groups:  # one group to another day set
        for other in sorted(options):
            candidates += [tuple((c, other) for c in order) for order in (group, group[::-1])]
    for a, (group, mine, options) in enumerate(groups):  # two groups exchange day sets
        for mate, theirs, back in groups[a + 1:]:
            if theirs in options and mine in back and abs(len(mate) - len(group)) <= 1 \
                    and not set(group).intersection(mate):
                candidates.append(tuple((c, theirs) for c in group)
                                  + tuple((c, mine) for c in mate))
    found: list[tuple[float, Move]] = []
    for move in candidates:
        if len(found) >= GROUP_TRIES or (
                deadline is not None and time.perf_counter() >= deadline):
            break
        if move in refused:
            continue
        gain = _edits_gain(out, _edits(out, where, move))
        if gain is not None:
            found.append((gain, move))
    found.sort(key=lambda x: -x[0])
    return found


def _polish(out: SeasonSearch[R], demands: Sequence[VisitDemand], periods: Sequence[Period],
            route: Router[R], settings: SearchSettings, forbidden: Mapping[str, frozenset[int]],
            kept_days: Mapping[str, set[int]], horizon: int) -> float:
    """Search again the periods whose trips moves edited without a search; each new routing
    is kept when it leaves no more unserved and costs less. Returns what it saves."""
    saved = 0.0
    wanted = period_visits(periods, out.dates, kept_days, demands, forbidden, horizon)
    for i in sorted(out.edited):
        if _left_time(settings) is not None and (_left_time(settings) or 0) <= 0:
            break
        out.edited.discard(i)
        if i not in wanted or i not in out.routed:
            continue
        trial = route(i, wanted[i], _limit(settings, len(wanted[i])))
        if trial is not None and _period_cost(trial) < _period_cost(out.routed[i]):
            saved += out.routed[i].cost() - trial.cost()
            out.routed[i] = trial
    return saved


def _costliest_trip(routed: Mapping[int, RoutedPeriod], skip: int
                    ) -> tuple[int, tuple[str, ...]] | None:
    """The period and communes of the trip with the highest cost per visit, after the
    ``skip`` costliest (a destroy step: these visits are moved to other days)."""
    trips = []
    for i, s in routed.items():
        for cost, codes in s.trips():
            if codes:
                trips.append((cost / len(codes), i, codes))
    trips.sort(reverse=True)
    if skip >= len(trips):
        return None
    _, i, codes = trips[skip]
    return i, codes


def _period_cost(s: RoutedPeriod) -> tuple[int, float]:
    """What a period's routing leaves unserved, and its cost: the order a move keeps."""
    return len(s.missed()), s.cost()


def _improve_once(out: SeasonSearch[R], demands: Sequence[VisitDemand],
                  periods: Sequence[Period], route: Router[R], assign: Assigner,
                  settings: SearchSettings, forbidden: Mapping[str, frozenset[int]],
                  kept_days: Mapping[str, set[int]], horizon: int,
                  move: tuple[int, tuple[str, ...]]) -> float | None:
    """One large-neighbourhood move: the visits of one trip leave its period (every other
    visit keeps its day), the dates are assigned again, the periods that changed are routed
    again, and the move is kept (``out`` updated) only when the season then leaves no more
    unserved and costs less; returns what it saves."""
    i, codes = move
    days = set(periods[i].day_range)
    dates = out.dates
    fixed = {dm.key: frozenset(set(dm.days) - set(dates.get(dm.key, ())))
             for dm in demands if dm.key not in codes}
    # the others keep their days: every other day of theirs is forbidden
    banned = {**forbidden, **fixed, **{c: forbidden.get(c, frozenset()) | days
                                       for c in codes}}
    retry = assign(dates, banned, _assign_limit(settings, 5.0))
    if not retry.days:
        return None
    return _try_dates(out, demands, periods, route, settings, forbidden, kept_days, horizon,
                      dict(retry.days), codes)


def _try_dates(out: SeasonSearch[R], demands: Sequence[VisitDemand],
               periods: Sequence[Period], route: Router[R], settings: SearchSettings,
               forbidden: Mapping[str, frozenset[int]], kept_days: Mapping[str, set[int]],
               horizon: int, dates: dict[str, tuple[int, ...]], codes: Sequence[str]
               ) -> float | None:
    """Route the periods whose visits ``dates`` change, and keep the new dates and routes
    (``out`` updated) only when the season then leaves no more unserved and costs less;
    returns what it saves."""
    before = period_visits(periods, out.dates, kept_days, demands, forbidden, horizon)
    after = period_visits(periods, dates, kept_days, demands, forbidden, horizon)
    changed = sorted(j for j in set(before) | set(after) if before.get(j) != after.get(j))
    trial: dict[int, R | None] = {}
    for j in changed:
        trial[j] = route(j, after[j], _limit(settings, len(after[j]))) \
            if j in after else None
    old = [_period_cost(out.routed[j]) for j in changed if j in out.routed]
    new = [_period_cost(t) for t in trial.values() if t is not None]
    lost_old, cost_old = sum(x for x, _ in old), sum(c for _, c in old)
    lost_new, cost_new = sum(x for x, _ in new), sum(c for _, c in new)
    if lost_new > lost_old or (lost_new == lost_old and cost_new >= cost_old):
        return None
    for j, t in trial.items():
        if t is None:
            out.routed.pop(j, None)
        else:
            out.routed[j] = t
    log.info("season: moving the visits of %s saves %.0f", tuple(codes), cost_old - cost_new)
    out.dates = dates
    return cost_old - cost_new


__all__ = ["Move", "Period", "RoutedPeriod", "SearchSettings", "SeasonSearch", "demand_slack",
           "gap_slack", "group_moves", "groups_by_time", "period_numbers", "period_of",
           "period_visits", "rule_demand", "search_season"]
