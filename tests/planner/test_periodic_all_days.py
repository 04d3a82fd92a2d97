"""The periodic season's all-days routing (:func:`planner.periodic.all_days_problem`) and the
date check a move makes without CP-SAT (:func:`planner._assign.assign_dates` when every
commune's days are given)."""

from __future__ import annotations

from benchmarks.vrp.product import build_routing_problem
from planner._assign import VisitDemand, assign_dates, demand_fits
from planner.periodic import all_days_problem, free_days
from tests.benchmarks.test_vrp_periodic import tiny


def test_every_day_is_one_problem_with_each_visit_on_its_days() -> None:
    problem = build_routing_problem(tiny())
    joint = all_days_problem(problem, [(1, (0,)), (1, (1,)), (2, (0, 1)), (4, (1,))], 2)
    assert [v.id for v in joint.vehicles] == ["d0-v1-day1", "d0-v1-day2"]
    assert joint.n_stops == 4 and joint.allowed_vehicles == (None, (0,), (1,), (0, 1), (1,))
    assert joint.deliver[1:] == (3, 3, 4, 4)


def test_a_stop_visited_once_on_any_of_its_days_is_free() -> None:
    once = VisitDemand("2", (0, 1), 1, day_sets=((0,), (1,)))
    assert free_days(once) == (0, 1)
    assert free_days(VisitDemand("1", (0, 1), 2, day_sets=((0, 1),))) is None


def test_given_days_are_checked_without_a_search() -> None:
    a = VisitDemand("a", tuple(range(10)), 2, min_gap=3, max_gap=5)
    b = VisitDemand("b", tuple(range(10)), 1, day_sets=((2,), (4,)))
    only = {"a": frozenset(range(10)) - {1, 5}, "b": frozenset({4})}
    ok = assign_dates([a, b], [1] * 10, forbidden=only)
    assert ok.status == "FIXED" and ok.days == {"a": (1, 5), "b": (2,)}
    full = assign_dates([a, b], [1, 1, 0, 1, 1, 1, 1, 1, 1, 1], forbidden=only)
    assert full.status == "INFEASIBLE" and not full.days  # day 2 takes no visit
    assert not demand_fits(a, (1, 8)) and demand_fits(a, (1, 4))
