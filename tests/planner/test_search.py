"""The search portfolio: PyVRP seeds the OR-Tools model, which checks what it is given."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from factories import line_problem, plan_for, scenario_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import solve as search
from planner._ortools import solve_routing
from planner._pyvrp import hgs_seed, seed_unsupported
from planner.check import check_plan
from planner.scenario import parse_scenario
from planner.solution import SolverParams, VisitConstraints

CODES = ["00778", "01108", "00802", "01096", "01141", "00787"]


def one_day(n: int, rng: np.random.Generator, *, optional: bool = False) -> tuple:
    pts = rng.uniform(0, 2, size=(n + 1, 2))
    hours = np.abs(pts[:, None, :] - pts[None, :, :]).sum(axis=2)
    data = scenario_dict(horizon={"start_date": "2026-12-07", "days": 1})
    data["vehicles"] = [{"id": f"v{i}", "name": f"Xe {i}", "profile": "truck", "depot": "lib",
                         "capacity_crates": int(rng.integers(6, 12)), "max_trip_days": 1}
                        for i in range(2)]
    data["stops"] = [{"commune_code": c, "deliver_crates": int(rng.integers(0, 4)),
                      "collect_crates": int(rng.integers(0, 4)),
                      "service_minutes": 30, "required": not optional or i % 2 == 0,
                      "time_windows": [{"start": "08:00", "end": "15:00"}]}
                     for i, c in enumerate(CODES[:n])]
    s = parse_scenario(data)
    return s, line_problem(s, hours.tolist())


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 6), st.integers(0, 10_000), st.booleans())
def test_pyvrp_cost_is_the_ortools_objective_of_the_same_routes(n: int, seed: int,
                                                                 optional: bool) -> None:
    s, p = one_day(n, np.random.default_rng(seed), optional=optional)
    assert seed_unsupported(p) is None
    hgs = hgs_seed(p, time_limit_s=0.3, max_iterations=200)
    assert hgs is not None
    if not hgs.feasible:
        return
    raw = solve_routing(p, SolverParams(time_limit_s=2, solution_limit=1),
                        initial_routes=hgs.routes)
    assert raw.seeded
    assert raw.progress[0][1] == hgs.cost  # both solvers price the routes the same way
    plan, timings = plan_for(s, p, [list(r) for r in raw.routes])
    assert all(t.feasible for t in timings) and check_plan(s, p, plan) == []


def test_the_default_search_is_seeded_and_its_plan_passes_the_checker() -> None:
    s, p = one_day(6, np.random.default_rng(3))
    raw = search.solve(p, SolverParams(time_limit_s=2))
    assert raw.strategy in ("pyvrp-seed+ortools", "ortools")
    assert raw.progress and raw.objective > 0
    plan, timings = plan_for(s, p, [list(r) for r in raw.routes])
    assert all(t.feasible for t in timings) and check_plan(s, p, plan) == []


def test_a_seeded_run_with_a_solution_limit_is_reproducible() -> None:
    s, p = one_day(6, np.random.default_rng(5))
    params = SolverParams(time_limit_s=20, solution_limit=30, hgs_iterations=300)
    runs = {search.solve(p, params).routes for _ in range(2)}
    assert len(runs) == 1


def test_trips_over_several_days_are_not_seeded_and_use_two_ortools_searches() -> None:
    s = parse_scenario(scenario_dict())  # two days
    p = line_problem(s, [[0, 2, 3], [2, 0, 1.5], [3, 1.5, 0]])
    assert "several days" in (seed_unsupported(p) or "")
    raw = search.solve(p, SolverParams(time_limit_s=1))
    assert raw.strategy in ("ortools", "ortools-portfolio") and not raw.seeded
    assert sorted(raw.routes[0]) == [1, 2]


def test_both_searches_of_the_unseeded_portfolio_keep_the_replanning_constraints() -> None:
    # each stop locked to its own truck: dearer than one trip through both, so a second
    # search that ignored the locks would win the portfolio with a plan that breaks them
    data = scenario_dict()
    data["vehicles"].append({**data["vehicles"][0], "id": "truck2", "name": "Xe 2"})
    s = parse_scenario(data)
    p = line_problem(s, [[0, 2, 3], [2, 0, 1.5], [3, 1.5, 0]])
    locked = VisitConstraints(vehicles={1: (1,), 2: (0,)}, required=frozenset({1, 2}))
    free = search.solve(p, SolverParams(time_limit_s=1, seed_with_pyvrp=False, workers=1))
    raw = search.solve(p, SolverParams(time_limit_s=1, seed_with_pyvrp=False, workers=2),
                       constraints=locked)
    assert 0 < free.objective < raw.objective
    assert raw.routes == ((2,), (1,))


def test_the_model_rejects_start_routes_that_break_its_constraints() -> None:
    data = scenario_dict(horizon={"start_date": "2026-12-07", "days": 1})
    data["vehicles"][0].update(capacity_crates=5, max_trip_days=1)
    data["stops"][0].update(deliver_crates=4, collect_crates=0)
    data["stops"][1].update(deliver_crates=4, collect_crates=0)
    data["stops"][1]["required"] = False
    s = parse_scenario(data)
    p = line_problem(s, [[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    raw = solve_routing(p, SolverParams(time_limit_s=1), initial_routes=((1, 2),))
    assert not raw.seeded  # 8 crates on a 5-crate truck: not a solution
    assert len(raw.routes[0]) == 1


def test_one_worker_runs_everything_in_this_process() -> None:
    s, p = one_day(4, np.random.default_rng(11))
    raw = search.solve(p, SolverParams(time_limit_s=1, workers=1))
    plan, timings = plan_for(s, p, [list(r) for r in raw.routes])
    assert check_plan(s, p, plan) == []


def test_at_province_scale_over_days_both_searches_start_from_every_stop_left_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Constructive first plans take most of the time limit at province scale over many days:
    both portfolio searches then start from every stop left out, with different
    metaheuristics; a first solution the scenario chose is kept, and one-day problems keep
    the scenario's and the savings heuristic whatever their size. The search from savings
    schedules breaks by their linear relaxation (planner._ortools.search_parameters), the
    searches that insert stops one by one by the exact scheduling."""
    s = parse_scenario(scenario_dict())  # two days
    small = line_problem(s, [[0, 2, 3], [2, 0, 1.5], [3, 1.5, 0]])
    params = SolverParams()
    assert search.portfolio_params(small, params) == (
        params, replace(params, first_solution="SAVINGS", lp_scheduling=True))
    middle = replace(small, horizon_days=search.LARGE_STOP_DAYS // small.n_stops)
    assert search.portfolio_params(middle, params) == (
        params, replace(params, first_solution="ALL_UNPERFORMED"))
    large = replace(small, horizon_days=search.VERY_LARGE_STOP_DAYS // small.n_stops)
    main, alt = search.portfolio_params(large, params)
    assert main.first_solution == alt.first_solution == "ALL_UNPERFORMED"
    assert not main.lp_scheduling and not alt.lp_scheduling
    assert (main.local_search, alt.local_search) == ("GUIDED_LOCAL_SEARCH",
                                                     "SIMULATED_ANNEALING")
    chosen = replace(params, first_solution="LOCAL_CHEAPEST_INSERTION")
    assert search.portfolio_params(large, chosen)[0] == chosen
    monkeypatch.setattr(search, "VERY_LARGE_STOP_DAYS", 2)  # 2 stops: large but for its day
    assert search.portfolio_params(replace(small, horizon_days=1), params)[0] == params
