"""The repair pass, the reasons given for unserved communes and stopping when converged.

The reasons are checked against a brute force: every insertion of every unserved stop into
every final route, judged by the OR-Tools model (the solver's own rules) and, for the rule a
reason names, by the model with that rule relaxed; crates are also checked by this file's
own load arithmetic."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from factories import line_problem, scenario_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import solve
from planner._ortools import RouteJudge
from planner.explain import (
    EXPLAIN_BUDGET_S,
    MIN_EXPLAIN_S,
    RELAXATIONS,
    explain_budget_s,
    explain_unserved,
)
from planner.problem import RoutingProblem
from planner.scenario import parse_scenario
from planner.schedule import time_trips
from planner.solution import (
    STOP_CONVERGED,
    STOP_TIME_LIMIT,
    Patience,
    RawSolution,
    SolverParams,
)

# real commune codes of the embedded dataset (Hà Giang), for scenarios with more stops
CODES = ("00778", "01108", "00802", "01096", "01141", "00817")
QUICK = SolverParams(time_limit_s=2, solution_limit=30, workers=1, seed_with_pyvrp=False,
                     repair=False)


def _peak(problem: RoutingProblem, stops: list[int]) -> int:
    """Crates on board at the fullest point (this test's own arithmetic): the trip leaves
    with every delivery; each stop hands its deliveries over, then takes its collections."""
    on_board = sum(problem.deliver[s] for s in stops)
    most = on_board
    for s in stops:
        on_board += problem.collect[s] - problem.deliver[s]
        most = max(most, on_board)
    return most


def _insertions(problem: RoutingProblem, routes: list[list[int]], loc: int):  # noqa: ANN202
    """Every way to put ``loc`` into ``routes``: (vehicle, the routes with it inserted)."""
    for k, route in enumerate(routes):
        for pos in range(len(route) + 1):
            trial = [list(r) for r in routes]
            trial[k] = route[:pos] + [loc] + route[pos:]
            yield k, trial


def _accepted(problem: RoutingProblem, routes: list[list[int]], loc: int) -> list[tuple]:
    judge = RouteJudge(problem)
    return [(k, trial) for k, trial in _insertions(problem, routes, loc)
            if judge.objective(trial) is not None]


@st.composite
def small_cases(draw: st.DrawFn) -> tuple:
    """A random small scenario (1-2 vehicles, 3-6 stops, 1-2 days, tight crates and
    windows) and a random subset of stops dropped from a solver's routes."""
    n = draw(st.integers(3, 6))
    data = scenario_dict()
    data["horizon"]["days"] = draw(st.integers(1, 2))
    data["vehicles"][0].update(capacity_crates=draw(st.integers(4, 14)),
                               max_trip_days=data["horizon"]["days"],
                               count=draw(st.integers(1, 2)),
                               shift={"start": "07:00",
                                      "end": draw(st.sampled_from(["12:00", "15:00", "17:00"]))})
    van = draw(st.booleans())
    if van:  # a second kind of vehicle, and stops only it may serve
        data["vehicles"].append({"id": "van", "name": "Xe 2", "profile": "van", "depot": "lib",
                                 "capacity_crates": draw(st.integers(4, 10)),
                                 "max_trip_days": data["horizon"]["days"]})
    stops = []
    for code in CODES[:n]:
        stop = {"commune_code": code, "deliver_crates": draw(st.integers(0, 6)),
                "collect_crates": draw(st.integers(0, 6)),
                "service_minutes": draw(st.sampled_from([30, 60, 120]))}
        if draw(st.booleans()):
            start = draw(st.sampled_from(["07:30", "09:00", "13:30"]))
            stop["time_windows"] = [{"start": start, "end": draw(
                st.sampled_from(["11:30", "16:00"])) if start < "11:00" else "16:00"}]
        if van and draw(st.integers(0, 3)) == 0:
            stop["allowed_profiles"] = ["van"]
        stops.append(stop)
    data["stops"] = stops
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    pts = rng.uniform(0, 3, size=(n + 1, 2))  # hours apart, on a plane: symmetric, metric
    hours = np.round(np.linalg.norm(pts[:, None] - pts[None], axis=2), 2)
    drop = draw(st.sets(st.integers(1, n), max_size=n))
    return data, hours.tolist(), drop


@given(small_cases())
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_reasons_agree_with_every_insertion(case: tuple) -> None:
    data, hours, drop = case
    scenario = parse_scenario(data)
    problem = line_problem(scenario, hours)
    raw = solve.solve(problem, QUICK)
    # a worse plan than the search's (random stops taken out), which the repair must mend
    cut = tuple(tuple(loc for loc in r if loc not in drop) for r in raw.routes)
    repaired = solve.repair(problem, replace(raw, routes=cut))
    routes = [list(r) for r in repaired.routes]
    if repaired.repaired:
        assert RouteJudge(problem).objective(routes) is not None
    served = {loc for r in routes for loc in r}
    timings = time_trips(problem, routes, hints=repaired.starts or None,
                         breaks=repaired.breaks or None)
    names = [f"place {i}" for i in range(problem.n_locations)]
    unserved = explain_unserved(problem, timings, served, names=names, codes=names,
                                profiles=problem.profiles)
    relax = {code: fn for code, fn, _ in RELAXATIONS}
    left_out = [loc for loc in range(problem.n_depots, problem.n_locations) if loc not in served]
    for u in unserved:
        loc = names.index(u.commune_code)
        fits = _accepted(problem, routes, loc)
        # the repair leaves no required stop that a single insertion places: never "search
        # stopped" after an unhurried repair
        assert u.reason_code != "search_limit"
        if u.reason_code == "not_worth_priority":
            assert fits and not u.required
            continue
        assert not fits, (u.reason_code, u.reason)
        if u.reason_code in relax:
            relaxed = relax[u.reason_code](problem, left_out)
            assert relaxed is not None
            opened = _accepted(relaxed, routes, loc)
            assert opened, u.reason
            if u.reason_code == "no_room_capacity":
                # crates bind: each insertion the relaxed model takes overloads the vehicle
                assert all(_peak(problem, trial[k]) > problem.vehicles[k].capacity
                           for k, trial in opened)
        elif u.reason_code == "no_room_time":
            for fn in relax.values():
                relaxed = fn(problem, left_out)
                assert relaxed is None or not _accepted(relaxed, routes, loc)


def test_repair_inserts_what_a_plan_left_out() -> None:
    """Routes missing a stop that fits: the repair puts it back, where the model accepts it."""
    data = scenario_dict()
    scenario = parse_scenario(data)
    problem = line_problem(scenario, [[0, 2, 3], [2, 0, 1.5], [3, 1.5, 0]])
    raw = RawSolution(routes=((1,),), objective=-1, status="SUCCESS", wall_s=0.0)
    fixed = solve.repair(problem, raw)
    assert fixed.repaired == 1 and sorted(fixed.routes[0]) == [1, 2]
    assert fixed.objective == RouteJudge(problem).objective([list(fixed.routes[0])])


def test_crates_not_days_when_the_vans_are_full() -> None:
    """The Lào Cai case of issue 12 on a line: the stops left out fail on crates, so the
    reason says crates (it said "add a vehicle or days" before)."""
    data = scenario_dict()
    data["horizon"]["days"] = 2
    data["vehicles"][0].update(capacity_crates=8, max_trip_days=2)
    data["stops"] = [{"commune_code": c, "deliver_crates": 4, "collect_crates": 4,
                      "service_minutes": 30} for c in CODES[:4]]
    scenario = parse_scenario(data)
    hours = [[0, 1, 1, 1, 1], [1, 0, .5, .5, .5], [1, .5, 0, .5, .5], [1, .5, .5, 0, .5],
             [1, .5, .5, .5, 0]]
    problem = line_problem(scenario, hours)
    raw = solve.solve(problem, replace(QUICK, repair=True))
    assert sum(map(len, raw.routes)) == 2  # 8 crates: two stops of 4 each way
    served = {loc for r in raw.routes for loc in r}
    names = [f"place {i}" for i in range(problem.n_locations)]
    unserved = explain_unserved(problem, time_trips(problem, raw.routes), served, names=names,
                                codes=names, profiles=problem.profiles)
    assert [u.reason_code for u in unserved] == ["no_room_capacity"] * 2
    assert "room for its crates" in unserved[0].reason
    assert "more day" not in unserved[0].reason


def test_crates_when_the_only_insertion_on_time_overloads() -> None:
    """The defect behind the Lào Cai case: C fits in time only first on the trip, where the
    van is full, and later on the trip both crates and its window fail. The old reasoning
    merged the causes of every insertion and said "add a vehicle or days" (more days give
    nothing); relaxing one rule at a time finds that crates alone bind."""
    data = scenario_dict()
    data["horizon"]["days"] = 1
    data["vehicles"][0].update(capacity_crates=8, max_trip_days=1)
    data["stops"] = [{"commune_code": c, "deliver_crates": 4, "collect_crates": 4,
                      "service_minutes": 60} for c in CODES[:3]]
    data["stops"][2]["time_windows"] = [{"start": "07:30", "end": "09:00"}]
    scenario = parse_scenario(data)
    problem = line_problem(scenario, [[0, 1, 1, 1], [1, 0, .5, .5], [1, .5, 0, .5],
                                      [1, .5, .5, 0]])
    names = ["lib", "A", "B", "C"]
    unserved = explain_unserved(problem, time_trips(problem, [[1, 2]]), {1, 2}, names=names,
                                codes=names, profiles=problem.profiles)
    assert [(u.commune_code, u.reason_code) for u in unserved] == [("C", "no_room_capacity")]
    assert "day" not in unserved[0].reason


def test_explanations_out_of_time_say_so_instead_of_guessing() -> None:
    """The explanations judge insertions for a share of the time limit: a stop they could not
    judge in time is ``explain_limit`` (here it would fit: no rule may be blamed), and the
    budget grows with the time limit within its bounds."""
    data = scenario_dict()
    data["horizon"]["days"] = 1
    data["vehicles"][0].update(capacity_crates=80, max_trip_days=1)
    data["stops"] = [{"commune_code": c, "deliver_crates": 4, "collect_crates": 4,
                      "service_minutes": 60} for c in CODES[:3]]
    problem = line_problem(parse_scenario(data), [[0, 1, 1, 1], [1, 0, .5, .5],
                                                  [1, .5, 0, .5], [1, .5, .5, 0]])
    names = ["lib", "A", "B", "C"]
    timings = time_trips(problem, [[1, 2]])
    hurried = explain_unserved(problem, timings, {1, 2}, names=names, codes=names,
                               profiles=problem.profiles, budget_s=0.0)
    assert [(u.commune_code, u.reason_code) for u in hurried] == [("C", "explain_limit")]
    unhurried = explain_unserved(problem, timings, {1, 2}, names=names, codes=names,
                                 profiles=problem.profiles)
    assert [u.reason_code for u in unhurried] in (["search_limit"], ["not_worth_priority"])
    assert explain_budget_s(1) == MIN_EXPLAIN_S < explain_budget_s(60) < explain_budget_s(600)
    assert explain_budget_s(600) == EXPLAIN_BUDGET_S


def test_days_when_the_horizon_is_short() -> None:
    """Stops that fail on time, with room for their crates: the reason names what would let
    them in (one more day, a longer working day), not crates."""
    data = scenario_dict()
    data["horizon"]["days"] = 1
    data["vehicles"][0].update(capacity_crates=40, max_trip_days=1)
    data["stops"] = [{"commune_code": c, "deliver_crates": 1, "collect_crates": 1,
                      "service_minutes": 180} for c in CODES[:4]]
    scenario = parse_scenario(data)
    hours = [[0, 1, 1, 1, 1], [1, 0, .5, .5, .5], [1, .5, 0, .5, .5], [1, .5, .5, 0, .5],
             [1, .5, .5, .5, 0]]
    problem = line_problem(scenario, hours)
    raw = solve.solve(problem, replace(QUICK, repair=True))
    served = {loc for r in raw.routes for loc in r}
    assert len(served) < 4
    names = [f"place {i}" for i in range(problem.n_locations)]
    unserved = explain_unserved(problem, time_trips(problem, raw.routes), served, names=names,
                                codes=names, profiles=problem.profiles)
    assert unserved and all(u.reason_code in ("no_room_shift", "no_room_days", "no_room_time")
                            for u in unserved)
    assert all("crates" not in u.reason for u in unserved)


def test_a_search_stops_once_converged_and_says_so() -> None:
    scenario = parse_scenario(scenario_dict())
    problem = line_problem(scenario, [[0, 2, 3], [2, 0, 1.5], [3, 1.5, 0]])
    params = SolverParams(time_limit_s=8, no_improvement_share=0.05, workers=1)
    t0 = time.perf_counter()
    raw = solve.solve(problem, params)
    assert time.perf_counter() - t0 < 4
    assert raw.stop_reason == STOP_CONVERGED
    assert raw.found_s is not None and raw.found_s <= raw.wall_s
    whole = solve.solve(problem, replace(params, time_limit_s=1, no_improvement_share=1.0))
    assert whole.stop_reason == STOP_TIME_LIMIT and whole.wall_s >= 0.9


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.001, 5.0), min_size=0, max_size=30), st.floats(0.5, 10.0),
       st.floats(0.0, 20.0))
def test_patience_converges_after_its_seconds_without_a_better_solution(
        gaps: list[float], seconds: float, after: float) -> None:
    patience, t, found = Patience(seconds), 0.0, []
    for gap in gaps:
        assert not patience.converged(t + gap * 0.999) or found  # (never before the first)
        t += gap
        patience.better(t)
        found.append(t)
    now = t + after
    assert patience.converged(now) == (bool(found) and now - found[-1] >= seconds)


def _found_better_here() -> bool:
    """(Run in a solve's helper process.) A search there finds a better plan."""
    assert solve._together is not None
    Patience(60.0, solve._together).better(0.0)
    return True


def test_searches_side_by_side_converge_together() -> None:
    """A search converges only once no search of its solve has found a better plan for its
    patience: the helper process's searches share the solving process's clock."""
    pool, together = solve._executor()
    mine = Patience(2.0, together)
    mine.better(0.0)
    with pool:
        assert pool.submit(_found_better_here).result()
        assert not mine.converged(2.5)  # its own 2 s are over, the helper's are not
        time.sleep(2.1)
        assert mine.converged(4.6)
    alone = Patience(2.0)
    alone.better(0.0)
    assert alone.converged(2.5)


def test_progress_reports_served_and_objective() -> None:
    scenario = parse_scenario(scenario_dict())
    problem = line_problem(scenario, [[0, 2, 3], [2, 0, 1.5], [3, 1.5, 0]])
    events = []
    raw = solve.solve(problem, replace(QUICK, solution_limit=None, time_limit_s=1),
                      on_progress=events.append)
    assert events
    assert [e.elapsed_s for e in events] == sorted(e.elapsed_s for e in events)
    last = events[-1]
    assert last.served == sum(map(len, raw.routes)) == 2
    assert last.objective == raw.objective and last.cost_vnd is None


def test_planner_solve_prints_progress_and_how_the_search_ended(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """On the embedded Hà Giang roads: ``planner solve`` prints a progress line (communes
    served and cost in VND of the best plan so far) and how the search ended; the plan
    records why it stopped and when its routes were found."""
    from cli import main

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(scenario_dict(), allow_unicode=True), encoding="utf-8")
    assert main(["solve", str(path), "--out", str(tmp_path / "o"), "--time-limit", "3"]) == 0
    captured = capsys.readouterr()
    lines = [x for x in captured.err.splitlines() if x.startswith("solving:")]
    plan = json.loads((tmp_path / "o" / "plan.json").read_text(encoding="utf-8"))
    served = plan["kpis"]["communes_served"]
    assert lines and lines[-1].endswith(" VND")
    assert f"communes served {served}, cost " in lines[-1]
    assert "search: stopped " in captured.out
    pv = plan["provenance"]
    assert pv["stop_reason"] in ("converged", "time_limit", "search_ended")
    assert 0 <= pv["best_found_s"] <= pv["solve_wall_s"] and pv["repaired_stops"] == 0


def test_the_new_solver_settings_at_their_defaults_keep_the_scenario_digest() -> None:
    """Plans and matrices stored before the early stop and the repair existed keep matching
    their scenarios; a setting changed from its default is content."""
    plain = parse_scenario(scenario_dict())
    data = scenario_dict()
    data["solver"].update(no_improvement_share=0.25, repair=True)
    assert parse_scenario(data).digest == plain.digest
    data["solver"]["no_improvement_share"] = 0.5
    assert parse_scenario(data).digest != plain.digest
    data = scenario_dict()
    data["solver"]["repair"] = False
    assert parse_scenario(data).digest != plain.digest


def test_a_stop_only_the_full_van_may_serve_names_access() -> None:
    """C may be served by the van only, whose day is full; the truck has time: the reason
    names access (another kind of vehicle could go) among what would let it in."""
    data = scenario_dict()
    data["horizon"]["days"] = 1
    data["vehicles"][0].update(max_trip_days=1)
    data["vehicles"].append({"id": "van", "name": "Xe 2", "profile": "van", "depot": "lib",
                             "capacity_crates": 10, "max_trip_days": 1,
                             "shift": {"start": "07:00", "end": "17:00"},
                             "max_continuous_driving_hours": None})
    data["stops"] = [{"commune_code": c, "deliver_crates": 1, "collect_crates": 1,
                      "service_minutes": 240, "allowed_profiles": ["van"]}
                     for c in CODES[:3]]
    scenario = parse_scenario(data)
    problem = line_problem(scenario, [[0, .5, .5, .5], [.5, 0, .5, .5], [.5, .5, 0, .5],
                                      [.5, .5, .5, 0]])
    names = ["lib", "A", "B", "C"]
    routes = [[], [1, 2]]
    assert RouteJudge(problem).objective(routes) is not None
    unserved = explain_unserved(problem, time_trips(problem, routes), {1, 2}, names=names,
                                codes=names, profiles=problem.profiles)
    assert [u.commune_code for u in unserved] == ["C"]
    assert unserved[0].reason_code.startswith("no_room_")
    assert "another kind" in unserved[0].reason and "crates" not in unserved[0].reason
