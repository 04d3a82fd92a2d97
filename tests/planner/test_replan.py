"""Re-planning moves as few stops as needed, keeps done and locked visits."""

from __future__ import annotations

import pytest
from factories import line_problem, plan_for, scenario_dict

from planner._ortools import solve_routing
from planner.check import check_plan
from planner.errors import PlannerError
from planner.provenance import PlanChanges
from planner.replan import plan_changes, replan_setup
from planner.scenario import parse_scenario
from planner.solution import SolverParams

FAST = SolverParams(time_limit_s=2, solution_limit=100)
CODES = ["00778", "01108", "00802", "01096"]


def two_vehicle_scenario():  # noqa: ANN201
    data = scenario_dict(horizon={"start_date": "2026-12-07", "days": 1})
    data["vehicles"] = [{"id": f"v{i}", "name": f"Xe {i}", "profile": "truck", "depot": "lib",
                         "capacity_crates": 20, "max_trip_days": 1} for i in (1, 2)]
    data["stops"] = [{"commune_code": c, "deliver_crates": 2, "collect_crates": 2,
                      "service_minutes": 60} for c in CODES]
    return parse_scenario(data)


# depot, two stops to the west (1, 2), two to the east (3, 4)
HOURS = [[0, 1, 1.2, 1, 1.2], [1, 0, .3, 2, 2.2], [1.2, .3, 0, 2.2, 2.4],
         [1, 2, 2.2, 0, .3], [1.2, 2.2, 2.4, .3, 0]]


def codes_of(s) -> list[str]:  # noqa: ANN001
    return [d.id for d in s.depots] + [st.commune_code for st in s.stops]


def solve(s, p, constraints=None):  # noqa: ANN001, ANN201
    raw = solve_routing(p, FAST, constraints=constraints)
    plan, _ = plan_for(s, p, [list(r) for r in raw.routes])
    return raw, plan


def test_nothing_changed_moves_nothing() -> None:
    s = two_vehicle_scenario()
    p = line_problem(s, HOURS)
    raw, plan = solve(s, p)
    setup = replan_setup(p, codes_of(s), plan)
    assert setup.keep and setup.previous == raw.routes
    assert plan_changes(plan, plan) == PlanChanges()


def test_a_closure_moves_only_the_stops_of_the_broken_route() -> None:
    s = two_vehicle_scenario()
    p = line_problem(s, HOURS)
    west = 0
    plan, _ = plan_for(s, p, [[1, 2], [3, 4]])  # the published plan: one vehicle per valley
    raw = type("Raw", (), {"routes": ((1, 2), (3, 4))})
    assert check_plan(s, p, plan) == []
    # a landslide: the east vehicle's stops now take 9 h from the depot, only from the west
    # stops (through another valley) are they close
    hours = [row[:] for row in HOURS]
    for east in (3, 4):
        hours[0][east] = hours[east][0] = 9
        hours[1][east] = hours[east][1] = 0.8
    p2 = line_problem(s, hours)
    setup = replan_setup(p2, codes_of(s), plan)
    assert not setup.keep and setup.broken_vehicles == (p2.vehicles[1 - west].id,)
    # the stops of the feasible (west) route stay on it
    assert all(setup.constraints.vehicles[loc] == (west,) for loc in raw.routes[west])
    raw2, plan2 = solve(s, p2, setup.constraints)
    assert set(raw2.routes[west]) >= set(raw.routes[west])
    changes = plan_changes(plan, plan2)
    assert changes.moved == len(raw.routes[1 - west])  # only the east stops moved
    assert changes.dropped == changes.added == 0
    assert check_plan(s, p2, plan2) == []


def test_done_and_locked_visits_keep_vehicle_and_time() -> None:
    s = two_vehicle_scenario()
    p = line_problem(s, HOURS)
    raw, plan = solve(s, p)
    k = next(k for k, r in enumerate(raw.routes) if r)
    first = plan.routes[k].visits[0]
    setup = replan_setup(p, codes_of(s), plan, done=frozenset({first.commune_code}))
    loc = codes_of(s).index(first.commune_code)
    assert setup.constraints.start_s[loc] == first.start_s
    assert setup.constraints.vehicles[loc] == (k,) and loc in setup.constraints.required
    with pytest.raises(PlannerError, match="99999"):
        replan_setup(p, codes_of(s), plan, locked=frozenset({"99999"}))
