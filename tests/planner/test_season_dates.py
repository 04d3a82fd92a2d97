"""The visit dates of a season (CP-SAT, planner._assign.assign_dates through
planner.season): whatever the rule, the days off and the fixed dates, the dates found keep
every gap within the rule's tolerance, fall on days the commune can receive, keep the fixed
dates, and a rule the calendar cannot meet is named."""

from __future__ import annotations

import datetime as dt

import pytest
from factories import CODES, scenario_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import ScenarioError
from planner.scenario import parse_scenario
from planner.season import assign_visit_dates, season_periods, visit_slack
from planner.workdays import season_calendar

START = dt.date(2027, 3, 1)  # a Monday, after Tết


def _scenario(days: int, rules: list[dict], *, off: list[int] = (),  # type: ignore[assignment]
              fixed: dict[int, int] | None = None, start: dt.date = START) -> object:
    stops = []
    for i, rule in enumerate(rules):
        stop: dict = {"commune_code": CODES[i], "visit_rule": rule}
        if fixed and i in fixed:
            stop["preferred_dates"] = [{"date": (start + dt.timedelta(days=fixed[i]))
                                        .isoformat(), "fixed": True}]
        stops.append(stop)
    data = scenario_dict(
        schema_version=4, horizon={"start_date": start.isoformat(), "days": days},
        stops=stops, periodic={"assignment_time_limit_s": 5},
        calendar={"days_off": [(start + dt.timedelta(days=d)).isoformat() for d in off]})
    return parse_scenario(data, file="season.yaml")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weeks=st.integers(1, 3), tolerance=st.integers(0, 4), periods=st.integers(2, 5),
       off=st.sets(st.integers(0, 100), max_size=12), fixed=st.integers(0, 6))
def test_dates_keep_the_gaps_the_days_and_the_fixed_dates(weeks: int, tolerance: int,
                                                          periods: int, off: set[int],
                                                          fixed: int) -> None:
    days = weeks * 7 * periods
    off_days = sorted(d for d in off if d < days)
    rules = [{"every_weeks": weeks, "tolerance_days": tolerance},
             {"count": 2, "min_gap_days": 5, "max_gap_days": days - 1}]
    fixed_day = fixed if fixed not in off_days and START.weekday() + fixed % 7 < 5 else None
    scenario = _scenario(days, rules, off=off_days,
                         fixed={0: fixed_day} if fixed_day is not None else None)
    cal = season_calendar(scenario)  # type: ignore[arg-type]
    try:
        result = assign_visit_dates(scenario, cal, {})  # type: ignore[arg-type]
    except ScenarioError as exc:  # the calendar leaves no days: the commune is named
        assert "visit_rule" in str(exc) and "no visit days meet this rule" in str(exc)
        return
    every = result.days[CODES[0]]
    lo, hi = weeks * 7 - tolerance, weeks * 7 + tolerance
    assert len(every) == max(1, (days + tolerance) // (weeks * 7))
    assert all(lo <= b - a <= hi for a, b in zip(every, every[1:], strict=False))
    assert every[0] <= weeks * 7 - 1 + tolerance
    if len(every) > 1:
        assert every[-1] >= days - weeks * 7 - tolerance
    counted = result.days[CODES[1]]
    assert len(counted) == 2 and counted[1] - counted[0] >= 5
    for d in (*every, *counted):
        assert d not in cal.off and d not in off_days
        assert cal.date_of(d).weekday() < 5
    if fixed_day is not None:
        assert fixed_day in every
    # each visit moved within its slack keeps its gaps within the rule
    slack = visit_slack(every, scenario.stops[0].visit_rule, days)  # type: ignore[attr-defined]
    for k in range(len(every) - 1):
        moved = (every[k + 1] - slack[k + 1]) - (every[k] + slack[k])
        stretched = (every[k + 1] + slack[k + 1]) - (every[k] - slack[k])
        assert lo <= moved and stretched <= hi


def test_tolerance_moves_a_visit_around_tet() -> None:
    # every 2 weeks +-4 from Monday 25 January 2027: Tết (4-10 February) and the weekends
    # leave the visits their tolerance to get round it
    start = dt.date(2027, 1, 25)
    strict = _scenario(28, [{"every_weeks": 2, "tolerance_days": 0}], start=start,
                       fixed={0: 2})
    with pytest.raises(ScenarioError, match=r"stops\[0\]\.visit_rule.*no visit days"):
        assign_visit_dates(strict, season_calendar(strict), {})  # type: ignore[arg-type]
    loose = _scenario(28, [{"every_weeks": 2, "tolerance_days": 4}], start=start,
                      fixed={0: 2})
    cal = season_calendar(loose)  # type: ignore[arg-type]
    days = assign_visit_dates(loose, cal, {}).days[CODES[0]]  # type: ignore[arg-type]
    assert days[0] == 2 and 10 <= days[1] - days[0] <= 18
    assert all(d not in cal.off for d in days)
    assert cal.date_of(days[1]) >= dt.date(2027, 2, 11)  # after Tết


def test_day_sets_pick_one_combination() -> None:
    scenario = _scenario(14, [{"day_sets": [[0, 7], [1, 8], [2, 9]]}])
    cal = season_calendar(scenario)  # type: ignore[arg-type]
    days = assign_visit_dates(scenario, cal, {}).days[CODES[0]]  # type: ignore[arg-type]
    assert days in ((0, 7), (1, 8), (2, 9))


def test_periods_are_runs_of_working_days_with_the_same_fleet() -> None:
    scenario = _scenario(21, [{"every_weeks": 1, "tolerance_days": 1}], off=[9])
    cal = season_calendar(scenario)  # type: ignore[arg-type]
    periods = season_periods(scenario, cal)  # type: ignore[arg-type]
    assert [(p.start_day, p.days) for p in periods] == [(0, 5), (7, 2), (10, 2), (14, 5)]
    assert all(p.vehicles == ("truck",) for p in periods)
