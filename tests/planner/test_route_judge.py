"""The route judge (:class:`planner._ortools.RouteJudge`) judges each vehicle's trips in a
model of their own, from the schedule's times: whatever it accepts, the whole fleet's model
accepts with the same times (but for the continuous-driving rule, the schedule's to judge),
and the schedule times."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from factories import line_problem, scenario_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import solve
from planner._ortools import RouteJudge, _build_model, search_parameters, solve_routing
from planner.problem import RoutingProblem
from planner.scenario import parse_scenario
from planner.schedule import overworked, time_route, time_trips
from planner.solution import RawSolution, SolverParams, VisitConstraints

# real commune codes of the embedded dataset (Hà Giang)
CODES = ("00778", "01108", "00802", "01096", "01141", "00817")
# the plan fleets() perturbs: the search's first solution (any plan the search returns will
# do: the tests judge routes made from it; 30 solutions took ~1 s an example, 95% of the time)
QUICK = SolverParams(time_limit_s=2, solution_limit=1, workers=1, seed_with_pyvrp=False,
                     repair=False)


def _whole_fleet(problem: RoutingProblem, routes: list[list[int]],
                 starts: tuple[tuple[int, ...], ...]) -> int | None:
    """The objective of the whole fleet's model of ``routes`` served at ``starts`` (the
    model as the search uses it, but for the continuous-driving rule, which the judge leaves
    to the schedule), ``None`` if it refuses them."""
    fixed = {loc: t for r, ts in zip(routes, starts, strict=True)
             for loc, t in zip(r, ts, strict=True)}
    problem = replace(problem, vehicles=tuple(replace(v, max_continuous_drive_s=None)
                                              for v in problem.vehicles))
    model = _build_model(problem, None, fixed)
    model.routing.CloseModelWithParameters(
        search_parameters(SolverParams(time_limit_s=10, solution_limit=1)))
    assignment = model.routing.ReadAssignmentFromRoutes(
        [[model.index(loc) for loc in r] for r in routes], True)
    return None if assignment is None else int(assignment.ObjectiveValue())


@st.composite
def fleets(draw: st.DrawFn) -> tuple[RoutingProblem, RawSolution, list[list[int]]]:
    """A random problem over several days (a truck with a driving cap, a van with lunch,
    lodging in some communes, windows), a plan of it, and random routes made from it."""
    n = draw(st.integers(3, 6))
    days = draw(st.integers(1, 3))
    data = scenario_dict()
    data["horizon"]["days"] = days
    data["vehicles"][0].update(capacity_crates=draw(st.integers(6, 14)), max_trip_days=days,
                               max_driving_hours_per_day=draw(st.sampled_from([3.0, 10.0])),
                               shift={"start": "07:00", "end": draw(
                                   st.sampled_from(["12:00", "15:00", "17:00"]))})
    data["vehicles"].append({
        "id": "van", "name": "Xe 2", "profile": "van", "depot": "lib",
        "capacity_crates": draw(st.integers(4, 10)), "max_trip_days": days,
        "breaks": [{"start": "11:00", "end": "13:30", "minutes": 45}]})
    stops = []
    for code in CODES[:n]:
        stop = {"commune_code": code, "deliver_crates": draw(st.integers(0, 4)),
                "collect_crates": draw(st.integers(0, 4)),
                "service_minutes": draw(st.sampled_from([30, 60, 120])),
                "lodging": draw(st.booleans())}
        if draw(st.booleans()):
            stop["time_windows"] = [{"start": "07:30", "end": "11:30"},
                                    {"start": "13:30", "end": "16:30"}]
        stops.append(stop)
    data["stops"] = stops
    problem = line_problem(parse_scenario(data), _hours(draw, n))
    raw = solve.solve(problem, QUICK)
    routes = [list(r) for r in raw.routes]
    # a stop moved to another place on any route (or left out)
    served = [loc for r in routes for loc in r]
    left_out = [loc for loc in range(problem.n_depots, problem.n_locations)
                if loc not in served]
    loc = draw(st.sampled_from(served + left_out))
    for r in routes:
        if loc in r:
            r.remove(loc)
    k = draw(st.integers(0, len(routes) - 1))
    routes[k].insert(draw(st.integers(0, len(routes[k]))), loc)
    return problem, raw, routes


def _hours(draw: st.DrawFn, n: int) -> list[list[float]]:
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    pts = rng.uniform(0, 4, size=(n + 1, 2))  # hours apart, on a plane: symmetric, metric
    return np.round(np.linalg.norm(pts[:, None] - pts[None], axis=2), 2).tolist()


@given(fleets())
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_what_the_judge_accepts_the_whole_model_and_the_schedule_accept(case: tuple) -> None:
    problem, raw, routes = case
    judge = RouteJudge(problem, hints=solve.starts_by_stop(raw.routes, raw.starts))
    search = [list(r) for r in raw.routes]
    if all(t.feasible for t in time_trips(problem, search, hints=raw.starts,
                                          breaks=raw.breaks)):
        # the search's own plan, which the schedule times, is accepted (one the schedule
        # cannot time, the model's daily driving bound being looser, is not)
        assert judge.objective(search) is not None
    judged = judge.solution(routes)
    if judged is None:
        return
    # (the objective is the model's for those times; it may place the departures, which
    # no rule fixes, elsewhere)
    assert _whole_fleet(problem, routes, judged.starts) is not None
    timings = time_trips(problem, routes, hints=judged.starts, breaks=judged.breaks)
    assert all(t.feasible for t in timings), [t.problems for t in timings]
    quickly = RouteJudge(problem, hints=solve.starts_by_stop(raw.routes, raw.starts))
    # a quick verdict is the same verdict, when it is given
    quick = quickly.objective(routes, quick=True)
    assert quick is None or quick == judged.objective


@given(fleets(), st.booleans())
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_timing_for_feasibility_gives_the_full_timings_verdict(case: tuple,
                                                               hinted: bool) -> None:
    """The judge times trials for feasibility only (stopping at the first problem): the
    same verdict as the full timing, and the same schedule where it is feasible, but for
    the full timing's later departure where the trip waits (back as early)."""
    problem, raw, routes = case
    hints = None
    if hinted:  # the search's times, as the judge hints them (a moved stop waits for none)
        starts = solve.starts_by_stop(raw.routes, raw.starts)
        hints = [tuple(starts.get(loc, 0) for loc in r) for r in routes]
    full = time_trips(problem, routes, hints=hints)
    fast = time_trips(problem, routes, hints=hints, feasibility=True)
    earliest = time_trips(problem, routes, hints=hints, set_out_later=False)
    assert [t.feasible for t in fast] == [t.feasible for t in full]
    for f, t, e in zip(fast, full, earliest, strict=True):
        if t.feasible:
            assert f == e
            assert t.return_leg.arrival_s <= f.return_leg.arrival_s and t.depart_s >= f.depart_s
        elif f.problems[0].code != "working_hours":  # (refused before any timing)
            assert f.problems[0] == t.problems[0]


@given(fleets())
@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_the_schedules_verdict_is_the_quick_judgements_without_the_models_check(
        case: tuple) -> None:
    """Ruin and recreate judges each insertion by the schedule alone and its result whole:
    what the schedule refuses the quick judgement refuses, and what both accept is served
    at the schedule's times; asked in either order."""
    problem, raw, routes = case
    hints = solve.starts_by_stop(raw.routes, raw.starts)
    first = RouteJudge(problem, hints=hints)
    scheduled = first.scheduled(routes)
    judged = first.solution(routes, quick=True)
    assert judged is None or judged.starts == scheduled
    if scheduled is None:
        assert judged is None
    after = RouteJudge(problem, hints=hints)
    again = after.solution(routes, quick=True)
    assert again == judged and after.scheduled(routes) == (None if again is None
                                                           else again.starts)


@given(fleets(), st.randoms(use_true_random=False), st.booleans())
@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_legs_and_prefixes_remembered_time_a_route_as_afresh(case: tuple, rnd: Any,
                                                             hinted: bool) -> None:
    """The schedule remembers the legs it drove and the trips' stops it timed, per problem:
    routes timed after others of the same problem, which share legs or first stops with
    them or not, are timed as by a schedule that remembers none."""
    problem, raw, routes = case
    stops = [loc for r in routes for loc in r]
    for _ in range(6):
        rnd.shuffle(stops)
        cut = rnd.randint(0, len(stops))
        trial = [stops[:cut], stops[cut:]] + [[] for _ in problem.vehicles[2:]]
        time_trips(problem, trial, feasibility=rnd.random() < 0.5)
    hints = None
    if hinted:
        starts = solve.starts_by_stop(raw.routes, raw.starts)
        hints = [tuple(starts.get(loc, 0) for loc in r) for r in routes]
    for feasibility in (False, True):
        afresh = replace(problem)  # (the same problem: nothing remembered)
        assert time_trips(problem, routes, hints=hints, feasibility=feasibility) == \
            time_trips(afresh, routes, hints=hints, feasibility=feasibility)


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(-3, 3)),
                min_size=3, max_size=14), st.integers(0, 12), st.integers(1, 3))
def test_the_peak_load_of_every_insertion_at_once(loads: list, n_route: int,
                                                  n_block: int) -> None:
    """Insertion candidates find the peak load of a block at every place of a route in one
    pass: the same as the model's rule applied to each route so made."""
    n = len(loads)
    n_route = min(n_route, n - 1)
    n_block = min(n_block, n - n_route)
    problem = replace(line_problem(parse_scenario(scenario_dict()), _hours_apart(1)),
                      n_stops=n, deliver=(0, *(d for d, _, _ in loads)),
                      collect=(0, *(c for _, c, _ in loads)),
                      pair_load=(0, *(x for _, _, x in loads)))
    route = list(range(1, n_route + 1))
    block = list(range(n_route + 1, n_route + 1 + n_block))
    assert solve.peak_loads(problem, route, block) == [
        solve.peak_load(problem, route[:i] + block + route[i:]) for i in range(n_route + 1)]


def test_a_trip_longer_than_its_shifts_is_refused_before_timing() -> None:
    data = scenario_dict()
    data["horizon"]["days"] = 1
    data["vehicles"][0].update(max_trip_days=1, shift={"start": "07:00", "end": "12:00"})
    data["stops"] = [{"commune_code": code, "deliver_crates": 1, "service_minutes": 60}
                     for code in CODES[:3]]
    hours = [[0.0 if a == b else 0.75 for b in range(4)] for a in range(4)]
    problem = line_problem(parse_scenario(data), hours)
    two, three = [1, 2], [1, 2, 3]  # 2 h 15 / 3 h of driving, 2 / 3 h of service
    assert not overworked(problem, 0, two) and time_route(problem, 0, two).feasible
    assert overworked(problem, 0, three)
    assert time_route(problem, 0, three, feasibility=True).problems[0].code == "working_hours"
    assert not time_route(problem, 0, three).feasible


@given(fleets(), st.integers(0, 2**31))
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_a_trip_refused_for_its_working_hours_has_no_schedule(case: tuple, seed: int) -> None:
    """The quick refusal of a trip too long for the vehicle's shifts
    (:func:`~planner.schedule.overworked`) is never wrong: random trips of many stops, some
    of them within the hours, none of them refused but the full timing refuses them too."""
    problem, _, _ = case
    rng = np.random.default_rng(seed)
    stops = list(range(problem.n_depots, problem.n_locations))
    for _ in range(20):
        k = int(rng.integers(len(problem.vehicles)))
        trip = [int(x) for x in rng.permutation(stops)[:rng.integers(1, len(stops) + 1)]]
        if overworked(problem, k, trip):
            assert not time_route(problem, k, trip).feasible


def test_a_vehicle_alone_keeps_the_fleets_driving_cap() -> None:
    """The model applies the fleet's smallest daily driving cap at every stop, whichever
    vehicle serves it: a problem of the uncapped vehicle alone keeps that rule."""
    data = scenario_dict()
    data["vehicles"][0]["max_driving_hours_per_day"] = 3.0
    data["vehicles"].append({"id": "van", "name": "Xe 2", "profile": "van", "depot": "lib",
                             "capacity_crates": 10, "max_trip_days": 2,
                             "max_driving_hours_per_day": 12.0})
    problem = line_problem(parse_scenario(data), [[0, 1, 2], [1, 0, 1], [2, 1, 0]])
    assert problem.stop_drive_cap_s == 3 * 3600
    van = [k for k, v in enumerate(problem.vehicles) if v.id == "van"]
    alone = problem.with_vehicles(van)
    assert [v.id for v in alone.vehicles] == ["van"]
    assert alone.stop_drive_cap_s == 3 * 3600
    uncapped = replace(problem, vehicles=tuple(replace(v, max_drive_s_per_day=None)
                                               for v in problem.vehicles))
    assert uncapped.with_vehicles(van).stop_drive_cap_s is None


def test_a_long_trip_over_many_days_is_judged() -> None:
    """Eight communes on a ring four hours apart, one truck, eight days: the trip through
    seven of them is accepted, and so is the trip with the eighth added where the schedule
    fits it; over three days the same trip is refused."""
    data = scenario_dict()
    data["horizon"]["days"] = 8
    data["vehicles"][0].update(max_trip_days=8, capacity_crates=40,
                               breaks=[{"start": "11:00", "end": "13:30", "minutes": 45}])
    codes = CODES + ("00829", "00811")
    data["stops"] = [{"commune_code": c, "deliver_crates": 2, "collect_crates": 2,
                      "service_minutes": 90} for c in codes]
    n = len(codes)
    ring = [[4.0 * min(abs(i - j), n + 1 - abs(i - j)) for j in range(n + 1)]
            for i in range(n + 1)]
    problem = line_problem(parse_scenario(data), ring)
    route = list(range(1, n))
    timed = time_trips(problem, [route])[0]
    assert timed.feasible
    judge = RouteJudge(problem, hints={v.location: v.start_s for v in timed.visits})
    assert judge.objective([route]) is not None
    longer = [*route, n]
    assert time_trips(problem, [longer])[0].feasible
    assert judge.objective([longer]) is not None
    data["horizon"]["days"] = 3
    data["vehicles"][0]["max_trip_days"] = 3
    short = line_problem(parse_scenario(data), ring)
    assert RouteJudge(short).objective([route]) is None


def test_the_insertion_search_builds_what_the_judge_accepts() -> None:
    """The portfolio's second search at the largest scale inserts every commune that fits
    into routes built from none; the routes are the judge's."""
    data = scenario_dict()
    data["horizon"]["days"] = 2
    data["stops"] = [{"commune_code": c, "deliver_crates": 2, "collect_crates": 2,
                      "service_minutes": 60} for c in CODES[:4]]
    problem = line_problem(parse_scenario(data), _hours_apart(4))
    built = solve._run_insertion(problem, 2.0)
    assert sorted(loc for r in built.routes for loc in r) == [1, 2, 3, 4]
    assert built.repaired == 0 and built.local_search == solve.INSERTION_SEARCH
    assert RouteJudge(problem).objective([list(r) for r in built.routes]) is not None
    assert all(t.feasible for t in time_trips(problem, built.routes, hints=built.starts))
    params = SolverParams(time_limit_s=60)
    assert not solve.builds_by_insertion(problem, params, None)
    # (only the size counts: 100 stops over 10 days)
    big = replace(problem, n_stops=100, horizon_days=10)
    assert solve.builds_by_insertion(big, params, None)
    assert not solve.builds_by_insertion(big, replace(params, solution_limit=10), None)
    assert not solve.builds_by_insertion(replace(big, horizon_days=1, n_stops=1000), params,
                                         None)


def _hours_apart(n: int) -> list[list[float]]:
    """A depot and ``n`` stops, each an hour from the depot and from each other."""
    return [[0.0 if i == j else 1.0 for j in range(n + 1)] for i in range(n + 1)]


def _four_stops_over_two_days() -> RoutingProblem:
    data = scenario_dict()
    data["horizon"]["days"] = 2
    data["stops"] = [{"commune_code": c, "deliver_crates": 2, "collect_crates": 2,
                      "service_minutes": 60} for c in CODES[:4]]
    return line_problem(parse_scenario(data), _hours_apart(4))


def test_ruin_and_recreate_after_the_search_improves_its_plan() -> None:
    """Over several days the portfolio's plan is improved by ruin and recreate (here and in
    the helper process): a plan serving one of four communes comes back serving all four,
    as the judge accepts them, saying when it was found and why it stopped."""
    problem = _four_stops_over_two_days()
    params = SolverParams(time_limit_s=4, seed_with_pyvrp=False)
    assert solve.lns_after_search(problem, params, None)
    judge = RouteJudge(problem)
    poor = judge.solution([[1]] + [[] for _ in problem.vehicles[1:]])
    assert poor is not None
    poor = replace(poor, strategy="ortools", progress=((0.5, poor.objective),))
    heard: list[int] = []
    t0 = time.perf_counter()
    pool, together = solve._executor()
    with pool:
        better = solve._lns(problem, params, poor, t0=t0, pool=pool,
                            on_progress=lambda p: heard.append(p.served), together=together)
    assert sorted(loc for r in better.routes for loc in r) == [1, 2, 3, 4]
    assert RouteJudge(problem).objective([list(r) for r in better.routes]) == better.objective
    assert all(t.feasible for t in time_trips(problem, better.routes, hints=better.starts))
    assert better.strategy == "ortools+lns" and better.objective < poor.objective
    assert better.progress[0] == (0.5, poor.objective)
    assert better.found_s == better.progress[-1][0] and better.found_s is not None
    assert better.stop_reason in (solve.STOP_CONVERGED, solve.STOP_TIME_LIMIT)
    assert heard and heard[-1] == 4 and heard == sorted(heard)
    # a plan serving all four comes back as it was (its search ran on, or converged)
    assert solve._lns(problem, params, better, t0=time.perf_counter(), pool=None,
                      on_progress=None) == better
    # no time left: not begun
    assert solve._lns(problem, params, poor, t0=t0 - 10, pool=None, on_progress=None) == poor


def test_ruin_and_recreate_starts_from_a_plan_the_schedule_can_time() -> None:
    """A searches' plan the schedule cannot time (one day's trip too long for the day; the
    model bounds a few rules more loosely) is not given up: ruin and recreate starts from it
    less the stops the pipeline would take off, and puts them back where they fit (here on
    the second vehicle); the plan it returns the schedule times."""
    data = scenario_dict()
    data["stops"] = [{"commune_code": c, "deliver_crates": 2, "collect_crates": 2,
                      "service_minutes": 60} for c in CODES[:3]]
    data["vehicles"][0]["max_trip_days"] = 1
    data["vehicles"].append({**data["vehicles"][0], "id": "van", "name": "Xe 2"})
    # three hours out to each commune, eight between them: one commune a day trip
    problem = line_problem(parse_scenario(data), [[0, 3, 3, 3], [3, 0, 8, 8],
                                                  [3, 8, 0, 8], [3, 8, 8, 0]])
    assert solve.lns_after_search(problem, SolverParams(), None)
    raw = RawSolution(routes=((1, 2), ()), objective=10**9 // 4, status="SUCCESS",
                      wall_s=0.0, strategy="ortools")
    assert RouteJudge(problem).solution([[1, 2], []]) is None
    assert not solve.time_solution(problem, raw)[0].feasible
    params = SolverParams(time_limit_s=4, seed_with_pyvrp=False)
    better = solve._lns(problem, params, raw, t0=time.perf_counter(), pool=None,
                        on_progress=None)
    assert len({loc for r in better.routes for loc in r}) == 2
    assert all(len(r) == 1 for r in better.routes)
    assert all(t.feasible for t in solve.time_solution(problem, better))


def test_the_helpers_ruin_and_recreate_ends_with_the_ortools_search_from_its_plan() -> None:
    """The last share of the helper's ruin and recreate is OR-Tools' search from its best
    plan: from a plan visiting four communes on a line out of order, the search's plan is
    kept, judged as ruin and recreate judges its own, when it costs less."""
    data = scenario_dict()
    data["horizon"]["days"] = 2
    data["stops"] = [{"commune_code": c, "deliver_crates": 2, "collect_crates": 2,
                      "service_minutes": 60} for c in CODES[:4]]
    line = [0.0, 0.5, 1.0, 1.5, 2.0]  # hours from the depot along one road
    problem = line_problem(parse_scenario(data), [[abs(a - b) for b in line] for a in line])
    params = SolverParams(time_limit_s=10, seed_with_pyvrp=False)
    assert solve.lns_polish_s(problem, params) == pytest.approx(1.0)
    assert solve.lns_polish_s(replace(problem, horizon_days=70), params) == 0  # 280 stop-days
    judge = RouteJudge(problem)
    poor = judge.solution([[3, 1, 4, 2]] + [[] for _ in problem.vehicles[1:]])
    assert poor is not None
    polished = solve._polish(problem, params, poor, 1.0)
    assert polished is not None and polished.objective < poor.objective
    assert sorted(loc for r in polished.routes for loc in r) == [1, 2, 3, 4]
    assert RouteJudge(problem).objective([list(r) for r in polished.routes]) <= poor.objective
    assert all(t.feasible for t in time_trips(problem, polished.routes,
                                              hints=polished.starts))
    assert solve._polish(problem, params, poor, solve.MIN_POLISH_S / 2) is None
    best, progress = solve._lns_run(problem, params, poor, 2.0, 1)
    assert best.objective <= polished.objective and progress


def test_ruin_and_recreate_runs_only_where_it_may() -> None:
    problem = _four_stops_over_two_days()
    params = SolverParams(time_limit_s=60)
    assert solve.lns_after_search(problem, params, None)
    assert not solve.lns_after_search(problem, replace(params, solution_limit=10), None)
    assert not solve.lns_after_search(problem, params, VisitConstraints(required=frozenset()))
    assert solve.lns_after_search(replace(problem, horizon_days=1), params, None)


def test_a_one_day_solve_seeded_by_pyvrp_ruins_and_recreates_a_plan_leaving_stops_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One day, four communes an hour apart and one van for a short day: the search's plan
    leaves communes out, so at half the limit it hands over to ruin and recreate (while
    PyVRP searches on in the helper process), and the plan OR-Tools polishes is the better
    of the two."""
    data = scenario_dict()
    data["horizon"]["days"] = 1
    data["stops"] = [{"commune_code": c, "deliver_crates": 2, "collect_crates": 2,
                      "service_minutes": 60} for c in CODES[:4]]
    data["vehicles"] = [{**data["vehicles"][0], "count": 1, "max_trip_days": 1,
                         "shift": {"start": "08:00", "end": "12:00"}}]
    problem = line_problem(parse_scenario(data), _hours_apart(4))
    params = SolverParams(time_limit_s=4)
    assert solve.seeding_possible(problem, params, None) is None
    handed: list[tuple[int, float | None]] = []
    real_lns = solve._lns

    def lns(problem: RoutingProblem, params: SolverParams, raw: RawSolution, **kw: Any
            ) -> RawSolution:
        handed.append((sum(map(len, raw.routes)), kw.get("end_s")))
        return real_lns(problem, params, raw, **kw)

    monkeypatch.setattr(solve, "_lns", lns)
    raw = solve.solve(problem, params)
    assert handed and handed[0][0] < 4 and handed[0][1] is not None and handed[0][1] < 4
    assert 0 < sum(map(len, raw.routes)) < 4
    assert all(t.feasible for t in solve.time_solution(problem, raw))


def test_ruin_and_recreate_stops_when_it_stops_improving() -> None:
    problem = _four_stops_over_two_days()
    judge = RouteJudge(problem)
    start = judge.solution([[1, 2, 3, 4]] + [[] for _ in problem.vehicles[1:]])
    assert start is not None
    t0 = time.perf_counter()
    progress: list[tuple[float, int]] = []
    best = solve._ruin_and_recreate(problem, judge, start, deadline=t0 + 600, seed=0, t0=t0,
                                    progress=progress, patience_s=0.5)
    assert time.perf_counter() - t0 < 600  # stopped by its patience, not the clock
    assert best.objective <= start.objective


# fifteen communes of the embedded data: seven in one valley, eight in another
VALLEYS = ("01216", "01255", "01261", "01156", "01234", "00778", "01246",
           "00715", "01147", "00802", "01201", "00721", "01096", "01237", "01108")


def _two_valleys() -> RoutingProblem:
    """One van for one day, an hour from two valleys two hours apart: a day's shift serves
    all seven communes of the first or all eight of the second, and never one more."""
    data = scenario_dict()
    data["horizon"]["days"] = 1
    data["vehicles"][0].update(capacity_crates=20, max_trip_days=1,
                               shift={"start": "08:00", "end": "15:00"})
    data["stops"] = [{"commune_code": c, "deliver_crates": 1, "collect_crates": 1,
                      "service_minutes": 30} for c in VALLEYS]
    valley = [0] + [1] * 7 + [2] * 8
    hours = [[0.0 if i == j else 1.0 if 0 in (valley[i], valley[j])
              else 0.1 if valley[i] == valley[j] else 2.0 for j in range(16)]
             for i in range(16)]
    return line_problem(parse_scenario(data), hours)


@pytest.mark.parametrize("seed", [0, 1])
def test_ruin_and_recreate_moves_a_trip_to_the_valley_where_it_serves_more(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan leaving many communes out may serve more with another selection: ruin and
    recreate takes out a whole trip now and then and rebuilds it from the communes left out,
    so the van leaves the valley of seven for the valley of eight; ruins of a few communes
    nearby never get there (each of the eight fits only once the seven are gone)."""
    problem = _two_valleys()
    judge = RouteJudge(problem)
    start = judge.solution([list(range(1, 8))])
    assert start is not None and judge.solution([list(range(1, 9))]) is None

    def run() -> list[int]:
        t0 = time.perf_counter()
        best = solve._ruin_and_recreate(problem, RouteJudge(problem), start,
                                        deadline=t0 + 3, seed=seed, t0=t0, progress=[],
                                        patience_s=1.0)
        return sorted(best.routes[0])

    assert run() == list(range(8, 16))
    monkeypatch.setattr(solve, "ROUTE_RUIN_SHARE", 0.0)
    assert run() == list(range(1, 8))


@given(fleets(), st.integers(0, 3))
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_ruin_and_recreate_walks_through_worse_plans_but_returns_the_best(
        case: tuple, seed: int) -> None:
    """However its walk goes (it may go on from a plan a little worse than its current
    one), ruin and recreate returns a plan no worse than it was given, each better plan it
    reports better than the last, and the plan it returns the whole fleet's model accepts."""
    problem, raw, _ = case
    judge = RouteJudge(problem, hints=solve.starts_by_stop(raw.routes, raw.starts))
    start = judge.solution([list(r) for r in raw.routes])
    if start is None:  # (a plan the schedule cannot time: see the first test)
        return
    t0 = time.perf_counter()
    progress: list[tuple[float, int]] = []
    best = solve._ruin_and_recreate(problem, judge, start, deadline=t0 + 0.4, seed=seed,
                                    t0=t0, progress=progress)
    assert best.objective <= start.objective
    objectives = [start.objective] + [o for _, o in progress]
    assert all(b < a for a, b in zip(objectives, objectives[1:], strict=False))
    assert (progress[-1][1] if progress else start.objective) == best.objective
    assert _whole_fleet(problem, [list(r) for r in best.routes], best.starts) is not None


def test_a_search_leaving_communes_out_hands_over_at_its_share() -> None:
    """A search whose best plan leaves a stop out stops at its handover share of the time,
    for ruin and recreate to take over; one serving every stop searches on to its limit."""
    problem = _four_stops_over_two_days()
    params = SolverParams(time_limit_s=6, workers=1, seed_with_pyvrp=False, repair=False,
                          no_improvement_share=1.0, handover_share=0.2)
    served_all = solve_routing(problem, params)
    assert sum(map(len, served_all.routes)) == 4
    assert served_all.wall_s >= 0.9 * params.time_limit_s
    # day trips of three hours: one commune a day, two of four left out
    data = scenario_dict()
    data["horizon"]["days"] = 2
    data["stops"] = [{"commune_code": c, "deliver_crates": 2, "collect_crates": 2,
                      "service_minutes": 60} for c in CODES[:4]]
    data["vehicles"][0]["shift"] = {"start": "07:00", "end": "10:00"}
    data["vehicles"][0]["max_trip_days"] = 1
    short = line_problem(parse_scenario(data), _hours_apart(4))
    left_out = solve_routing(short, params)
    assert 0 < sum(map(len, left_out.routes)) < 4
    assert left_out.wall_s < 0.6 * params.time_limit_s
    assert left_out.stop_reason == solve.STOP_TIME_LIMIT


def test_an_insertion_goes_where_it_adds_the_least_crew_time_waiting_included() -> None:
    """The Friday-market commune is half an hour from Monday's commune and an hour from
    Friday's: added to Monday's trip it adds the least travel, but its crew then waits four
    days for the market; added to Friday's trip it adds an hour and a service. The
    insertions weigh the crew time each really adds, as the objective does, and put it on
    Friday's trip."""
    data = scenario_dict(horizon={"start_date": "2026-12-07", "days": 5})  # Mon..Fri
    truck = data["vehicles"][0]
    truck["max_trip_days"] = 5
    data["vehicles"].append({**truck, "id": "truck-2", "name": "Xe 2"})
    market = [{"start": "07:00", "end": "11:00", "weekdays": ["fri"]}]
    data["stops"] = [
        {"commune_code": CODES[0], "deliver_crates": 1, "collect_crates": 1,
         "service_minutes": 60,
         "time_windows": [{"start": "07:00", "end": "11:00", "weekdays": ["mon"]}]},
        {"commune_code": CODES[1], "deliver_crates": 1, "collect_crates": 1,
         "service_minutes": 60, "time_windows": market},
        {"commune_code": CODES[2], "deliver_crates": 1, "collect_crates": 1,
         "service_minutes": 60, "time_windows": market}]
    hours = [[0, 1, 1, 1], [1, 0, 1, 0.5], [1, 1, 0, 1], [1, 0.5, 1, 0]]
    problem = line_problem(parse_scenario(data), hours)
    routes = [[1], [2]]
    cheapest = solve.insertion_candidates(problem, routes, [3])[0]
    assert cheapest[1] == 0  # (the least travel: after Monday's commune)
    judge = RouteJudge(problem)
    assert judge.scheduled([[1, 3], [2]]) is not None  # (which the schedule accepts)
    placed, timed, inserted = solve._insert_blocks(problem, judge, routes, [[3]],
                                                   deadline=math.inf, quick_only=True)
    assert inserted == 1 and placed[0] == [1] and sorted(placed[1]) == [2, 3]
    assert timed is not None
    whole = RouteJudge(problem).objective([[1, 3], [2]])
    assert whole is not None and timed.objective < whole
