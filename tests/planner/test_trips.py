"""Several trips per vehicle (issue 14): a vehicle back at its library goes out again on a
later day after its turnaround (and rest days); the model, the schedule, the explanations and
the independent checker agree, and a plan of one trip per vehicle reads as before."""

from __future__ import annotations

import dataclasses

from factories import CODES, line_problem, plan_for, scenario_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner._ortools import solve_routing
from planner.check import check_plan
from planner.plan import plan_from_dict
from planner.problem import DAY_S
from planner.scenario import parse_scenario
from planner.solution import SolverParams

FAST = SolverParams(time_limit_s=2, solution_limit=200)
# the library and three communes an hour apart: a trip serves two of them in a day
HOURS = [[0, 1, 1, 1], [1, 0, 1, 1], [1, 1, 0, 1], [1, 1, 1, 0]]


def _scenario(*, version: int = 3, days: int = 3, trips: dict | None = None,
              crates: int = 5, capacity: int = 10):
    van = {"id": "van", "name": "Xe tải nhỏ", "profile": "van", "depot": "lib",
           "capacity_crates": capacity, "shift": {"start": "07:00", "end": "17:00"},
           "max_trip_days": 1, "max_continuous_driving_hours": None}
    if trips is not None:
        van["trips"] = trips
    stops = [{"commune_code": c, "deliver_crates": crates, "service_minutes": 60}
             for c in (*CODES, "00691")][:3]
    return parse_scenario(scenario_dict(schema_version=version, vehicles=[van], stops=stops,
                                        horizon={"start_date": "2026-12-07", "days": days}),
                          file="trips.yaml")


def _solve(scenario):  # type: ignore[no-untyped-def]
    problem = line_problem(scenario, HOURS)
    raw = solve_routing(problem, FAST)
    plan, timings = plan_for(scenario, problem, [list(r) for r in raw.routes])
    return problem, plan


def test_a_van_goes_out_twice_to_carry_what_it_cannot_at_once() -> None:
    scenario = _scenario()
    problem, plan = _solve(scenario)
    used = [r for r in plan.routes if r.visits]
    assert [r.trip_id for r in used] == ["van", "van-trip2"]
    assert {r.vehicle_id for r in used} == {"van"} and [r.trip_number for r in used] == [1, 2]
    assert sum(len(r.visits) for r in used) == 3 and not plan.unserved
    first, second = used
    assert second.depart_s // DAY_S > first.return_s // DAY_S  # a later working day
    assert check_plan(scenario, problem, plan) == []
    assert plan.kpis.trips == 2 and plan.kpis.trip_days == 2
    again = plan_from_dict(plan.to_dict())
    assert [r.key for r in again.routes if r.visits] == ["van", "van-trip2"]


def test_before_schema_3_a_vehicle_makes_one_trip() -> None:
    scenario = _scenario(version=2)
    problem, plan = _solve(scenario)
    assert [r.trip_id for r in plan.routes] == ["van"]
    assert len(plan.routes[0].visits) == 2 and len(plan.unserved) == 1
    assert len(problem.vehicles) == 1


def test_rest_days_and_the_trip_limit_are_kept() -> None:
    rested = _scenario(trips={"rest_days": 1})
    problem, plan = _solve(rested)
    first, second = [r for r in plan.routes if r.visits]
    assert second.depart_s // DAY_S >= first.return_s // DAY_S + 2
    assert check_plan(rested, problem, plan) == []
    one = _scenario(trips={"max": 1})
    problem, plan = _solve(one)
    assert len([r for r in plan.routes if r.visits]) == 1 and len(plan.unserved) == 1
    assert plan.unserved[0].reason_code == "no_room_capacity"


def test_the_checker_flags_overlapping_trips_and_a_skipped_turnaround() -> None:
    scenario = _scenario()
    problem, plan = _solve(scenario)
    routes = list(plan.routes)
    i = next(i for i, r in enumerate(routes) if r.trip_number == 2)
    first = next(r for r in routes if r.trip_number == 1)
    shift = first.return_s - 600 - routes[i].depart_s  # leaves 10 min before trip 1 is back
    moved = dataclasses.replace(
        routes[i], depart_s=routes[i].depart_s + shift,
        visits=tuple(dataclasses.replace(v, arrival_s=v.arrival_s + shift)
                     for v in routes[i].visits))
    routes[i] = moved
    found = check_plan(scenario, problem, dataclasses.replace(plan, routes=tuple(routes)))
    assert any(v.kind == "trips" and "before trip 1 is back" in v.message for v in found)
    same_day = first.return_s + 3600 - routes[i].depart_s
    routes[i] = dataclasses.replace(moved, depart_s=moved.depart_s + same_day)
    found = check_plan(scenario, problem, dataclasses.replace(plan, routes=tuple(routes)))
    assert any(v.kind == "trips" and "later day" in v.message for v in found)


def test_a_vehicle_id_that_looks_like_a_trip_id_is_refused() -> None:
    import pytest

    from planner.errors import ScenarioError

    data = scenario_dict(schema_version=3)
    data["vehicles"][0]["id"] = "truck-trip2"
    with pytest.raises(ScenarioError, match="ends like a trip id"):
        parse_scenario(data, file="t.yaml")
    data = scenario_dict(schema_version=2)
    data["vehicles"][0]["trips"] = {"max": 2}
    with pytest.raises(ScenarioError, match="schema_version: 3"):
        parse_scenario(data, file="t.yaml")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crates=st.integers(1, 9), capacity=st.integers(5, 20), days=st.integers(1, 4),
       rest=st.integers(0, 1), turnaround=st.sampled_from([0, 60, 600]))
def test_every_multi_trip_plan_passes_the_checker(crates: int, capacity: int, days: int,
                                                 rest: int, turnaround: int) -> None:
    scenario = _scenario(days=days, crates=crates, capacity=capacity,
                         trips={"rest_days": rest, "turnaround_minutes": turnaround})
    problem, plan = _solve(scenario)
    assert check_plan(scenario, problem, plan) == []
    served = sum(len(r.visits) for r in plan.routes)
    assert served + len(plan.unserved) == 3


def test_the_solver_keeps_the_better_of_several_trips_and_one_trip_each() -> None:
    from planner.solve import solve

    scenario = _scenario()
    problem = line_problem(scenario, HOURS)
    raw = solve(problem, SolverParams(time_limit_s=2, solution_limit=200, workers=1))
    assert raw.strategy == "ortools-trips"  # one trip each leaves a commune out
    assert sum(len(r) for r in raw.routes) == 3 and len([r for r in raw.routes if r]) == 2
    plan, _ = plan_for(scenario, problem, [list(r) for r in raw.routes])
    assert check_plan(scenario, problem, plan) == []
