"""OR-Tools' iterated local search: where the model runs it, and that its plans are valid."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from factories import line_problem, plan_for, scenario_dict

from planner._ortools import ils_unsupported, solve_routing
from planner.check import check_plan
from planner.scenario import Scenario, parse_scenario
from planner.solution import ITERATED_LOCAL_SEARCH, SolverParams, VisitConstraints


def many_stops(n: int, seed: int, *, days: int = 1) -> tuple[Scenario, object]:
    """``n`` stops scattered within about an hour of the library, six trucks, one day; the
    objective is travel time only (no span cost), as in the benchmark mapping."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 1, size=(n + 1, 2))
    hours = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    data = scenario_dict(horizon={"start_date": "2026-12-07", "days": days})
    data["vehicles"] = [{"id": "xe", "name": "Xe", "profile": "truck", "depot": "lib",
                         "count": 6, "capacity_crates": 20, "max_trip_days": days}]
    data["stops"] = [{"commune_code": f"9{i:04d}", "deliver_crates": int(rng.integers(1, 4)),
                      "collect_crates": int(rng.integers(0, 3)), "service_minutes": 15,
                      "time_windows": [{"start": "08:00", "end": "16:00"}]}
                     for i in range(n)]
    s = parse_scenario(data)
    return s, replace(line_problem(s, hours.tolist()), span_cost_coeff=0)


def test_it_runs_on_a_one_day_problem_reproducibly_and_its_plan_passes_the_checker() -> None:
    s, p = many_stops(30, 1)
    assert ils_unsupported(p) is None
    params = SolverParams(time_limit_s=30, solution_limit=300, workers=1)
    raw = solve_routing(p, params)
    assert raw.local_search == ITERATED_LOCAL_SEARCH and raw.status == "SUCCESS"
    assert sorted(loc for r in raw.routes for loc in r) == list(range(1, 31))
    plan, timings = plan_for(s, p, [list(r) for r in raw.routes])
    assert all(t.feasible for t in timings) and check_plan(s, p, plan) == []
    # the same problem and solution limit give the same routes
    assert solve_routing(p, params).routes == raw.routes


def test_it_escapes_the_local_optimum_where_greedy_descent_stops() -> None:
    _, p = many_stops(25, 2)  # (3% below greedy descent's optimum in about 2 s)
    greedy = solve_routing(p, SolverParams(time_limit_s=60, solution_limit=100_000,
                                           local_search="GREEDY_DESCENT",
                                           iterated_local_search=False, workers=1))
    ils = solve_routing(p, SolverParams(time_limit_s=60, solution_limit=400, workers=1))
    assert greedy.local_search == "GREEDY_DESCENT" and ils.local_search == ITERATED_LOCAL_SEARCH
    # both start from the same first solution; only the perturbations can go further
    assert greedy.progress[0][1] == ils.progress[0][1]
    assert ils.objective < greedy.objective


@pytest.mark.parametrize("case", ["span cost", "several days", "re-planning", "from routes",
                                  "switched off"])
def test_guided_local_search_runs_where_the_iterated_search_cannot(case: str) -> None:
    s, p = many_stops(8, 3, days=2 if case == "several days" else 1)
    if case == "span cost":
        p = replace(p, span_cost_coeff=1)  # OR-Tools 9.15's ILS aborts the process here
    constraints = VisitConstraints(vehicles={1: (0,)}) if case == "re-planning" else None
    initial = ((1, 2), (3, 4)) if case == "from routes" else None
    params = SolverParams(time_limit_s=5, solution_limit=50, workers=1,
                          iterated_local_search=case != "switched off")
    if case in ("span cost", "several days", "re-planning"):
        assert ils_unsupported(p, constraints)
    raw = solve_routing(p, params, constraints=constraints, initial_routes=initial)
    assert raw.local_search == "GUIDED_LOCAL_SEARCH" and raw.objective >= 0
    assert sorted(loc for r in raw.routes for loc in r) == list(range(1, 9))
    plan, timings = plan_for(s, p, [list(r) for r in raw.routes])
    assert all(t.feasible for t in timings) and check_plan(s, p, plan) == []


def test_it_keeps_access_limits_daily_driving_caps_and_breaks() -> None:
    s, p = many_stops(24, 4)
    data = s.model_dump(mode="json")
    data["vehicles"] = [
        {"id": "xe", "name": "Xe", "profile": "truck", "depot": "lib", "count": 4,
         "capacity_crates": 20, "max_trip_days": 1, "max_driving_hours_per_day": 2.5,
         "breaks": [{"start": "11:30", "end": "13:30", "minutes": 45}]},
        {"id": "moto", "name": "Xe máy", "profile": "motorbike", "depot": "lib", "count": 2,
         "capacity_crates": 20, "max_trip_days": 1}]
    for i, stop in enumerate(data["stops"]):
        if i % 4 == 0:
            stop["allowed_profiles"] = ["motorbike"]
    s = parse_scenario(data)
    hours = p.time_s[0] / 3600
    p = replace(line_problem(s, hours.tolist()), span_cost_coeff=0)
    assert ils_unsupported(p) is None
    raw = solve_routing(p, SolverParams(time_limit_s=30, solution_limit=300, workers=1))
    assert raw.local_search == ITERATED_LOCAL_SEARCH and raw.objective >= 0
    plan, timings = plan_for(s, p, [list(r) for r in raw.routes],
                             breaks=raw.breaks, not_before=raw.starts)
    assert all(t.feasible for t in timings) and check_plan(s, p, plan) == []
    moto = {k for k, v in enumerate(p.vehicles) if v.id.startswith("moto")}
    for k, r in enumerate(raw.routes):
        for loc in r:
            if (loc - 1) % 4 == 0:
                assert k in moto
