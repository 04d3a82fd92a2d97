"""Continuous driving: a pause after every 4 h of driving (vehicle setting), planned by the
model and the scheduler, enforced by the checker."""

from __future__ import annotations

from factories import line_problem, plan_for, scenario_dict
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import solve as search
from planner.check import check_plan
from planner.scenario import Scenario, parse_scenario
from planner.schedule import time_route
from planner.solution import SolverParams

H = 3600


def one_leg(hours: float, *, rule: float | None = 4.0, rest: int = 15, window: tuple = (),
            breaks: tuple = (), service: int = 60) -> tuple[Scenario, object]:
    """The library and one commune ``hours`` away; a 07:00–19:00 shift, 11 h of driving."""
    data = scenario_dict(horizon={"start_date": "2026-12-07", "days": 1})
    data["vehicles"][0].update(shift={"start": "07:00", "end": "19:00"}, max_trip_days=1,
                               max_driving_hours_per_day=11, max_continuous_driving_hours=rule,
                               continuous_driving_rest_minutes=rest, breaks=list(breaks))
    data["stops"] = [{"commune_code": "00778", "deliver_crates": 1, "service_minutes": service,
                      "time_windows": list(window)}]
    s = parse_scenario(data)
    return s, line_problem(s, [[0, hours], [hours, 0]])


def test_a_five_hour_leg_holds_a_fifteen_minute_pause() -> None:
    _, p = one_leg(5)
    t = time_route(p, 0, [1])
    assert (t.depart_s, t.visits[0].arrival_s) == (7 * H, 12 * H + 15 * 60)
    # leaves 13:15 after an hour on site, back 18:30 after a pause on the way
    assert t.return_leg.arrival_s == 18 * H + 30 * 60
    _, free = one_leg(5, rule=None)
    assert time_route(free, 0, [1]).visits[0].arrival_s == 12 * H


def test_a_lunch_break_on_the_road_is_the_pause() -> None:
    lunch = {"start": "11:00", "end": "11:45", "minutes": 45}
    _, p = one_leg(5, breaks=(lunch,))
    # 07:00–11:00 driving, lunch, 11:45–12:45 driving: no extra pause
    assert time_route(p, 0, [1]).visits[0].arrival_s == 12 * H + 45 * 60


def test_a_short_stop_is_lengthened_to_a_pause() -> None:
    _, p = one_leg(3, service=5)
    v = time_route(p, 0, [1]).visits[0]
    assert v.departure_s - v.start_s == 15 * 60


def test_the_solver_plans_the_pause_and_drops_a_stop_it_makes_late() -> None:
    late = ({"start": "07:00", "end": "12:20"},)
    s, p = one_leg(5, window=late)
    raw = search.solve(p, SolverParams(time_limit_s=2, solution_limit=20, workers=1))
    assert raw.routes[0] == (1,) and raw.starts[0][0] >= 12 * H + 15 * 60
    plan, timings = plan_for(s, p, [list(r) for r in raw.routes])
    assert timings[0].feasible and check_plan(s, p, plan) == []
    too_late = ({"start": "07:00", "end": "12:10"},)
    s2, p2 = one_leg(5, window=too_late)
    raw2 = search.solve(p2, SolverParams(time_limit_s=2, solution_limit=20, workers=1))
    assert raw2.routes[0] == ()  # without the pause it would arrive at 12:00, in time


def test_the_checker_flags_a_long_drive_without_a_pause() -> None:
    s_free, p_free = one_leg(5, rule=None)
    plan, _ = plan_for(s_free, p_free, [[1]])  # arrives 12:00: no pause on the road
    assert check_plan(s_free, p_free, plan) == []
    s, p = one_leg(5)
    kinds = [v.kind for v in check_plan(s, p, plan)]
    assert kinds == ["continuous_driving", "continuous_driving"]  # out and back


@settings(max_examples=40, deadline=None)
@given(st.floats(0.2, 10.5), st.floats(1.0, 5.0), st.integers(5, 60))
def test_every_leg_takes_its_driving_plus_one_pause_per_limit_and_passes_the_checker(
        hours: float, limit: float, rest: int) -> None:
    s, p = one_leg(hours / 2, rule=limit, rest=rest)
    t = time_route(p, 0, [1])
    v = p.vehicles[0]
    travel = p.travel_s(0, 0, 1)
    assert t.visits[0].arrival_s - t.depart_s == travel + v.roadside_rests(travel) * rest * 60
    if t.feasible:
        plan, _ = plan_for(s, p, [[1]])
        assert check_plan(s, p, plan) == []
