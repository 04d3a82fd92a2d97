"""Numbers, dates, clock times and texts the schema refuses (issue 19): each value that
crashed a solve or a validation (OverflowError, TypeError, UnicodeEncodeError...) or was
silently accepted is now one problem naming its field; the solver's own parameters given on
the command line or in a form follow one rule."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from factories import line_problem, make_scenario, scenario_dict

from planner.errors import ScenarioError
from planner.problem import MAX_FIXED_COST_S, REQUIRED_PENALTY
from planner.scenario import MAX_TIME_LIMIT_S, parse_scenario
from planner.solution import (
    SolverParameterError,
    SolverParams,
    parse_seed,
    parse_solution_limit,
    parse_time_limit,
)

BIG = 2**63


def _set(data: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data[int(part)] if part.isdigit() else data.setdefault(part, {})  # type: ignore
    if last.isdigit():
        data[int(last)] = value  # type: ignore[index]
    else:
        data[last] = value


@pytest.mark.parametrize(("path", "value", "field", "why"), [
    ("stops.0.deliver_crates", True, "stops[0].deliver_crates", "not true/false"),
    ("stops.0.collect_crates", BIG, "stops[0].collect_crates", "less than or equal"),
    ("vehicles.0.capacity_crates", 2**64, "vehicles[0].capacity_crates", "less than"),
    ("vehicles.0.capacity_kg", 1e12, "vehicles[0].capacity_kg", "less than"),
    ("vehicles.0.count", False, "vehicles[0].count", "not true/false"),
    ("vehicles.0.cost_vnd_per_km", math.inf, "vehicles[0].cost_vnd_per_km", "finite"),
    ("vehicles.0.cost_vnd_per_km", 1e300, "vehicles[0].cost_vnd_per_km", "less than"),
    ("vehicles.0.cost_vnd_per_hour", math.nan, "vehicles[0].cost_vnd_per_hour", "finite"),
    ("vehicles.0.max_driving_hours_per_day", math.nan, "vehicles[0].max_driving_hours_per_day",
     "finite"),
    ("vehicles.0.shift", {"start": 1.5, "end": "17:00"}, "vehicles[0].shift.start",
     "clock time"),
    ("vehicles.0.shift", {"start": True, "end": "17:00"}, "vehicles[0].shift.start",
     "clock time"),
    ("vehicles.0.shift", {"start": dt.time(7, tzinfo=dt.UTC), "end": "17:00"},
     "vehicles[0].shift.start", "without a time zone"),
    ("solver.solution_limit", BIG, "solver.solution_limit", "less than"),
    ("solver.seed", 2**40, "solver.seed", "less than"),
    ("solver.time_limit_s", math.nan, "solver.time_limit_s", "finite"),
    ("solver.time_limit_s", math.inf, "solver.time_limit_s", "finite"),
    ("horizon.start_date", dt.date(9999, 12, 30), "horizon.start_date", "outside"),
    ("horizon.start_date", 1_700_000_000, "horizon.start_date", "expected a date"),
    ("crate_kg", math.nan, "crate_kg", "finite"),
    ("network", "a\0b", "network", "U+0000"),
    ("title", "\ud800", "title", "U+D800"),
    ("stops.0.note", "bell\x07", "stops[0].note", "U+0007"),
    ("name", "n" * 200, "name", "at most 128"),
    ("road_conditions", {"closures": [{"id": "c", "area": [[105.3, 23.2], [math.nan, 23.2],
                                                           [105.4, 23.3]]}]},
     "road_conditions.closures[0].area[1]", "longitude"),
    ("road_conditions", {"closures": [{"id": "c", "area": [[True, False], [105.4, 23.2],
                                                           [105.4, 23.3]]}]},
     "road_conditions.closures[0].area[0][0]", "not true/false"),
    ("road_conditions", {"closures": [{"id": "c", "way_ids": [BIG]}]},
     "road_conditions.closures[0].way_ids[0]", "less than"),
    ("road_conditions", {"closures": [{"id": "c", "ref": "QL.4C",
                                       "start": dt.date(1, 1, 1)}]},
     "road_conditions.closures[0].start", "outside"),
    ("stops.0.time_windows", [{"start": "08:00", "end": "10:00", "every_days": 3,
                               "anchor": dt.date(9999, 12, 31)}],
     "stops[0].time_windows[0].anchor", "outside"),
])
def test_values_that_crashed_or_slipped_through_are_problems(path: str, value: Any, field: str,
                                                              why: str) -> None:
    data = scenario_dict()
    _set(data, path, value)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data, file="s.yaml")
    fields = {p.field: p for p in err.value.problems}
    assert field in fields, str(err.value)
    assert why in fields[field].message, str(err.value)


def test_the_extremes_that_stay_allowed_build_a_problem_without_overflow() -> None:
    data = scenario_dict()
    data["vehicles"][0].update(capacity_crates=10_000, cost_vnd_per_trip=1e9,
                               cost_vnd_per_hour=1e-300, cost_vnd_per_km=1e9)
    data["stops"][0].update(deliver_crates=10_000, collect_crates=10_000)
    data["solver"].update(solution_limit=1_000_000, seed=2**31 - 1, time_limit_s=3600)
    data["horizon"]["start_date"] = "2100-12-01"
    s = parse_scenario(data, file="s.yaml")
    p = line_problem(s, [[0, 2, 3], [2, 0, 1.5], [3, 1.5, 0]])
    assert p.vehicle_fixed_cost == (MAX_FIXED_COST_S,)
    assert MAX_FIXED_COST_S < REQUIRED_PENALTY  # a required stop still outweighs a trip


@pytest.mark.parametrize("raw", ["inf", "1e308", "nan", "-1", "0", "", "abc", "3601", True,
                                 math.inf, -0.0])
def test_a_bad_time_limit_is_refused_by_one_rule(raw: Any) -> None:
    with pytest.raises(SolverParameterError, match="give a number of seconds"):
        parse_time_limit(raw)


def test_good_time_limits_and_the_web_minimum() -> None:
    assert parse_time_limit("0.5") == 0.5
    assert parse_time_limit(" 7,5 ") == 7.5
    assert parse_time_limit(12) == 12.0
    assert parse_time_limit(str(MAX_TIME_LIMIT_S)) == MAX_TIME_LIMIT_S
    assert parse_time_limit("1", minimum=1, maximum=10) == 1
    with pytest.raises(SolverParameterError, match="from 1 to at most 10"):
        parse_time_limit("0.5", minimum=1, maximum=10)


def test_seed_and_solution_limit_flags() -> None:
    assert parse_seed("0") == 0 and parse_solution_limit("5") == 5
    for bad in ("-1", "2147483648", "x", "1.5"):
        with pytest.raises(SolverParameterError):
            parse_seed(bad)
    for bad in ("0", str(2**63), "x"):
        with pytest.raises(SolverParameterError):
            parse_solution_limit(bad)


def test_solver_params_check_the_overrides_they_are_given() -> None:
    settings = make_scenario().solver
    assert SolverParams.from_settings(settings, time_limit_s=3).time_limit_s == 3
    for kwargs in ({"time_limit_s": math.inf}, {"time_limit_s": -1.0},
                   {"solution_limit": 2**63}, {"seed": -5}):
        with pytest.raises(SolverParameterError):
            SolverParams.from_settings(settings, **kwargs)  # type: ignore[arg-type]
