"""Road conditions that hold only on their dates (issue 14): a closure or the rainy season
changes a leg's time only on the days it is driven; the routing model plans with the slowest
period, the schedule, the checker and the route maps time each leg by its own days."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from factories import line_problem, plan_for, scenario_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.check import check_plan
from planner.problem import DAY_S, RoadPeriod, slowest_period, worst_matrices
from planner.scenario import parse_scenario
from planner.schedule import time_route

ROOT = Path(__file__).resolve().parents[2]
LANDSLIDE = ROOT / "scenarios" / "ha-giang-2026-landslide.yaml"
MEO_VAC, DONG_VAN = "00769", "00721"


def test_the_slowest_period_of_the_days_a_leg_is_driven_times_it() -> None:
    days = [(0, 1), (2, 2), (3, 4)]
    times = [60.0, 300.0, 120.0]
    assert slowest_period(days, times, 0, 3600) == 0  # day 0 only
    assert slowest_period(days, times, DAY_S + 3600, 2 * DAY_S + 60) == 1  # days 1-2
    assert slowest_period(days, times, 3 * DAY_S, 4 * DAY_S) == 2
    assert slowest_period(days, times, 0, 4 * DAY_S) == 1
    # before the horizon or after it: its first or last period
    assert slowest_period(days, times, 9 * DAY_S, 9 * DAY_S) == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 1e5), st.floats(1, 1e6)), min_size=1, max_size=4))
def test_the_model_matrix_is_never_faster_than_any_day(entries: list) -> None:
    periods = [(np.array([[0.0, t]]), np.array([[0.0, d]])) for t, d in entries]
    t, d = worst_matrices(periods)
    assert t[0, 1] == max(e[0] for e in entries)
    assert (t[0, 1], d[0, 1]) in [(e[0], e[1]) for e in entries]


def _dated(problem, slow_from: int, factor: float):  # type: ignore[no-untyped-def]
    """``problem`` whose roads are ``factor`` times slower from day ``slow_from`` on."""
    fast = RoadPeriod(0, slow_from - 1, problem.time_s, problem.distance_m)
    slow = RoadPeriod(slow_from, problem.horizon_days - 1,
                      tuple((m * factor).astype(np.int64) for m in problem.time_s),
                      tuple((m * 1.5).astype(np.int64) for m in problem.distance_m))
    worst = [worst_matrices([(fast.time_s[i], fast.distance_m[i]),
                             (slow.time_s[i], slow.distance_m[i])])
             for i in range(len(problem.time_s))]
    return dataclasses.replace(problem, periods=(fast, slow),
                               time_s=tuple(t.astype(np.int64) for t, _ in worst),
                               distance_m=tuple(d.astype(np.int64) for _, d in worst))


def _three_communes(days: int):  # type: ignore[no-untyped-def]
    van = {"id": "van", "name": "Xe tải nhỏ", "profile": "van", "depot": "lib",
           "capacity_crates": 20, "shift": {"start": "07:00", "end": "17:00"},
           "max_trip_days": days, "max_continuous_driving_hours": None, "trips": {"max": 1}}
    stops = [{"commune_code": c, "deliver_crates": 1, "service_minutes": 60}
             for c in ("00688", "00691", "00694")]
    return parse_scenario(scenario_dict(schema_version=3, vehicles=[van], stops=stops,
                                        horizon={"start_date": "2026-12-07", "days": days}),
                          file="dated.yaml")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days=st.integers(2, 4), slow_from=st.integers(1, 3), factor=st.sampled_from([1.5, 3.0]),
       order=st.permutations([1, 2, 3]), start_day=st.integers(0, 3), scale=st.sampled_from([1, 3]))
def test_every_dated_plan_passes_the_checker_and_each_leg_takes_its_days_time(
        days: int, slow_from: int, factor: float, order: list[int], start_day: int,
        scale: int) -> None:
    slow_from = min(slow_from, days - 1)
    start_day = min(start_day, days - 1)
    scenario = _three_communes(days)
    hours = np.array([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]]) * scale
    base = line_problem(scenario, hours.tolist())
    problem = _dated(base, slow_from, factor)
    routes = [list(order)]
    timing = time_route(problem, 0, routes[0], earliest=start_day * DAY_S)
    plan, (first,) = plan_for(scenario, problem, routes)
    # the plan is timed as time_route times it: the checker accepts it when it is feasible
    if first.feasible:
        assert check_plan(scenario, problem, plan) == []
    prev, here = timing.depart_s, 0
    for v in (*timing.visits, timing.return_leg):
        slow = (prev // DAY_S >= slow_from) or (v.arrival_s // DAY_S >= slow_from)
        expected = int(base.time_s[0][here, v.location] * (factor if slow else 1))
        assert v.leg_travel_s == expected
        prev, here = v.departure_s, v.location


def test_a_plan_timed_before_a_closure_fails_the_check_once_the_closure_starts_earlier(
        ) -> None:
    scenario = _three_communes(4)
    hours = np.array([[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 1], [1, 2, 1, 0]]) * 3
    base = line_problem(scenario, hours.tolist())
    plan, (timing,) = plan_for(scenario, _dated(base, 3, 3.0), [[1, 2, 3]])
    assert timing.return_leg.arrival_s // DAY_S == 1  # the trip takes two days
    assert check_plan(scenario, _dated(base, 3, 3.0), plan) == []
    kinds = {v.kind for v in check_plan(scenario, _dated(base, 1, 3.0), plan)}
    assert kinds & {"driver_hours", "time_order", "distance"}


@pytest.fixture(scope="module")
def landslide_network(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    import os

    from planner.pipeline import prepare_network, problem_for
    from planner.scenario import load_scenario

    os.environ["PLANNER_CACHE_DIR"] = str(tmp_path_factory.mktemp("dated-cache"))
    scenario = load_scenario(LANDSLIDE)
    net = prepare_network(scenario, scenario_file=str(LANDSLIDE))
    return scenario, net, problem_for(scenario, net)


def test_the_landslide_closes_qL4c_only_from_its_first_day(landslide_network) -> None:
    """On the embedded Hà Giang roads: Mèo Vạc to Đồng Văn runs over the Mã Pí Lèng pass
    (QL.4C) on the days before the landslide's closure, and around it from its first day; the
    route map draws the leg that way."""
    from geodata.closures import closure_segments
    from geodata.routing import leg_path
    from planner.outputs import _leg_roads
    from planner.pipeline import _closures

    scenario, net, problem = landslide_network
    closure = scenario.road_conditions.closures[0]
    first_closed = (closure.start - scenario.horizon.start_date).days
    assert [(p.first_day, p.last_day) for p in net.periods] == [
        (0, first_closed - 1), (first_closed, scenario.horizon.days - 1)]
    loc = {p.key: i for i, p in enumerate(net.places)}
    k = next(i for i, v in enumerate(problem.vehicles) if problem.profiles[v.profile] == "truck")
    profile = problem.vehicles[k].profile
    a, b = loc[MEO_VAC], loc[DONG_VAN]
    open_s, closed_s = (int(p.time_s[profile][a, b]) for p in problem.periods)
    assert closed_s > open_s
    assert int(problem.time_s[profile][a, b]) == closed_s  # the model plans safe

    graph, ptr = net.graph, net.graph.seg_coord_ptr
    closed_points = {tuple(np.round(graph.seg_coords[j], 5))
                     for s in closure_segments(graph, _closures(scenario)[0])
                     for j in range(ptr[s], ptr[s + 1])}
    for day, expected in ((0, open_s), (first_closed, closed_s)):
        timing = time_route(problem, k, [a, b], earliest=day * DAY_S)
        leg = timing.visits[1]
        assert leg.leg_travel_s == expected
        pg, mat = _leg_roads(net, "truck", a, b, timing.visits[0].departure_s, leg.arrival_s)
        path = leg_path(pg, mat, a, b)
        crosses = any(tuple(np.round(c, 5)) in closed_points for c in path.coords)
        assert crosses == (day < first_closed)


def test_plan_matrices_keep_the_road_periods(landslide_network, tmp_path: Path) -> None:
    from planner.outputs import PlanMatrices, read_matrices, write_matrices

    scenario, net, _ = landslide_network
    write_matrices(PlanMatrices.of(net, scenario), tmp_path / "matrices.npz")
    back = read_matrices(tmp_path)
    assert back is not None
    assert [(p.first_day, p.last_day) for p in back.periods] == [
        (p.first_day, p.last_day) for p in net.periods]
    for mine, theirs in zip(back.periods, net.periods, strict=True):
        assert np.array_equal(mine.time_s["truck"], theirs.matrices["truck"].time_s)
