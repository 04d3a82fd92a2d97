"""The moves that start a round of the periodic search: group moves
(:func:`planner.seasonsearch.group_moves`: neighbours visited on the same days change days
together, or two groups exchange their days) and a stop's own day set changed by the days'
detours (:func:`planner.periodic.pattern_changes`)."""

from __future__ import annotations

from benchmarks.vrp.instances import Instance
from benchmarks.vrp.product import build_routing_problem
from planner._assign import VisitDemand
from planner.periodic import _DayRoutes, pattern_changes, route_cost
from planner.seasonsearch import Period, SeasonSearch, group_moves

# four pairs of customers, east, west, north and south of the depot
EAST, WEST, NORTH, SOUTH = ("1", "2"), ("3", "4"), ("5", "6"), ("7", "8")


def compass() -> Instance:
    """Two days, one vehicle of capacity 4 a day, eight customers of demand 1 (two on each
    side of the depot), each on either day."""
    coords = ((0.0, 0.0), (10.0, 0.0), (11.0, 0.0), (-10.0, 0.0), (-11.0, 0.0),
              (0.0, 10.0), (0.0, 11.0), (0.0, -10.0), (0.0, -11.0))
    return Instance(
        name="compass", family="PVRP", kind="pvrp", coords=coords, n_depots=1,
        demand=(0,) + (1,) * 8, service=(0.0,) * 9, ready=None, due=None, capacity=(4,),
        fleet=(1,), max_duration=(None,), days=2,
        patterns=((),) + (((0,), (1,)),) * 8, day_capacity=(4, 4),
        day_duration=(None, None))


def day(*stops: str) -> _DayRoutes:
    """One vehicle's route over ``stops`` of :func:`compass`."""
    problem = build_routing_problem(compass())
    route = tuple(int(s) for s in stops)
    arcs = (problem.arc_cost_matrix(*problem.arc_cost_key(0)),)
    return _DayRoutes(problem=problem, arcs=arcs, routes=(route,),
                      route_costs=(route_cost(problem, 0, route),), left_out=())


def test_two_groups_on_full_days_exchange_their_days() -> None:
    # east with west on day 1, north with south on day 2: each route crosses the depot
    routed = {0: day(*EAST, *WEST[::-1]), 1: day(*NORTH, *SOUTH[::-1])}
    dates = {c: (0,) for c in EAST + WEST} | {c: (1,) for c in NORTH + SOUTH}
    out = SeasonSearch(dates=dates, routed=routed)
    demands = [VisitDemand(c, (0, 1), 1, day_sets=((0,), (1,))) for c in dates]
    periods = [Period(0, 1, ("v",)), Period(1, 1, ("v",))]
    found = group_moves(out, demands, periods, {})
    gain, move = found[0]
    # both days are full: no group moves alone; a pair of each day exchange their days
    assert all(len({c for c, _ in m}) == 4 for g, m in found if g > 0)
    moved = {c: days for c, days in move}
    assert len(moved) == 4 and sorted(moved.values()).count((0,)) == 2
    assert tuple(sorted(c for c in moved if moved[c] == (1,))) in (EAST, WEST)
    before = sum(r.cost() for r in routed.values())
    assert gain > 0.1 * before  # two routes at right angles, not across the depot
    assert not group_moves(out, demands, periods, {}, movable=EAST + WEST)  # only one day's


def test_a_stop_takes_the_day_set_its_detours_favour() -> None:
    # "2" (east) travels west with "3" and "4" on day 2; "1", its neighbour, is on day 1
    routed = {0: day("1"), 1: day("2", *WEST[::-1])}
    dates = {"1": (0,), "2": (1,), "3": (1,), "4": (1,)}
    out = SeasonSearch(dates=dates, routed=routed)
    demands = [VisitDemand("1", (0, 1), 1, day_sets=((0,),))] + [
        VisitDemand(c, (0, 1), 1, day_sets=((0,), (1,))) for c in ("2", "3", "4")]
    found = pattern_changes(out, demands, dates)
    assert [move for _, move in found] == [(("2", (0,)),)]
    saved = day("2", *WEST[::-1]).cost() - day(*WEST[::-1]).cost()
    assert found[0][0] == saved - (day("1", "2").cost() - day("1").cost())
    assert not pattern_changes(out, demands, dates, refused=[move for _, move in found])
