"""The periodic VRP (Cordeau PVRP) in the benchmark runner: the instance and published-solution
readers, the independent checker's periodic rules, and a tiny instance solved end to end by
the product's season solver (:func:`planner.periodic.solve_periodic`) and accepted by the
checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.vrp.checker import check_periodic_solution
from benchmarks.vrp.instances import (
    Instance,
    pattern_days,
    read_bks,
    read_instance,
    read_periodic_solution,
)
from benchmarks.vrp.runner import run_job

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "vrp" / "data" / "pvrp_cordeau"


def tiny() -> Instance:
    """Depot at the origin; customers 1 and 2 east, 3 and 4 west, 2 days, one vehicle of
    capacity 10 a day. 1 and 3 come on both days, 2 on day 1 or day 2, 4 on day 2 only."""
    return Instance(
        name="tiny", family="PVRP", kind="pvrp",
        coords=((0.0, 0.0), (2.0, 0.0), (4.0, 0.0), (-2.0, 0.0), (-4.0, 0.0)), n_depots=1,
        demand=(0, 3, 4, 3, 4), service=(0.0,) * 5, ready=None, due=None, capacity=(10,),
        fleet=(1,), max_duration=(None,), days=2,
        patterns=((), ((0, 1),), ((0,), (1,)), ((0, 1),), ((1,),)),
        day_capacity=(10, 10), day_duration=(None, None))


def test_combinations_read_leftmost_bit_as_day_one() -> None:
    assert pattern_days(10, 5) == (1, 3)  # 01010: days 2 and 4
    assert pattern_days(1, 4) == (3,) and pattern_days(8, 4) == (0,)
    assert pattern_days(31, 5) == (0, 1, 2, 3, 4)


def test_parses_a_pvrp_instance_and_its_published_solution() -> None:
    p14 = read_instance(DATA / "p14.txt")
    assert (p14.kind, p14.family, p14.days, p14.fleet) == ("pvrp", "PVRP", 4, (2,))
    assert len(p14.customers) == 20 and p14.day_capacity == (20,) * 4
    assert p14.day_duration == (None,) * 4 and p14.demand[0] == 0
    assert p14.patterns[20] == ((0,), (1,), (2,), (3,))  # "1 4 1 2 4 8": any one day
    pr01 = read_instance(DATA / "pr01.txt")
    assert pr01.family == "PVRP-pr" and pr01.day_duration == (500.0,) * 4
    assert pr01.service[1] == 2 and pr01.demand[1] == 12
    assert pr01.patterns[1] == ((0, 1, 2, 3),)  # 15 = 1111: every day
    assert read_instance(DATA / "p11.txt").patterns[131] == ((0,), (1,), (2,), (3,), (4,))
    stated, routes = read_periodic_solution(DATA / "solutions_1996" / "p14.res", p14)
    report = check_periodic_solution(p14, routes)
    assert report.feasible, report.problems
    assert report.distance == pytest.approx(stated, abs=0.01)
    assert read_bks(DATA)["p14"].distance == 954.81


def test_checker_accepts_a_valid_plan_and_names_each_broken_rule() -> None:
    inst = tiny()
    good = [(0, [1, 2, 3]), (1, [1, 3, 4])]
    report = check_periodic_solution(inst, good)
    assert report.feasible, report.problems
    assert report.distance == pytest.approx(12 + 12) and report.vehicles == 2
    broken = {
        "not one of its allowed": [(0, [1, 3, 4]), (1, [1, 2, 3])],  # 4 on day 1
        "not visited": [(0, [1, 3]), (1, [1, 3, 4])],  # 2 missing
        "load 14 > capacity 10": [(0, [1, 3]), (1, [1, 2, 3, 4])],  # day 2 overloaded
        "2 vehicles > fleet 1": [(0, [1, 2]), (0, [3]), (1, [1, 3, 4])],
        "twice on one day": [(0, [1, 2, 3, 1]), (1, [1, 3, 4])],
    }
    for expected, routes in broken.items():
        problems = check_periodic_solution(inst, routes).problems
        assert any(expected in p for p in problems), (expected, problems)
    short = Instance(**{**inst.__dict__, "day_duration": (None, 11.0)})
    assert any("duration 12.0000 > limit 11.0" in p
               for p in check_periodic_solution(short, good).problems)


def test_a_tiny_pvrp_solved_by_the_season_solver_passes_the_checker() -> None:
    from benchmarks.vrp.periodic import solve_season_product

    inst = tiny()
    outcome = solve_season_product(inst, 3.0)
    report = check_periodic_solution(inst, [(r.day, r.visits) for r in outcome.routes])
    assert report.feasible, report.problems
    assert report.distance == pytest.approx(24.0)  # 2 with 1 and 3 on day 1 (day 2 is full)


def test_the_runner_checks_season_and_published_rows() -> None:
    row = run_job(str(DATA / "p14.txt"), "published", 1.0, read_bks(DATA)["p14"])
    assert row["feasible"] is True and abs(float(row["gap_bks"])) < 0.01
    other = run_job(str(DATA / "p14.txt"), "ortools", 1.0, None)
    assert other["status"] == "unsupported"
