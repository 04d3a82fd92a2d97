"""The calendar's edits (:class:`planner.edit.ShiftTrip`, :class:`planner.edit.MoveVisit`) on
a small season plan solved on the embedded data (``tests/webui/data/ha-giang-2027-season``:
two libraries, April-May 2027, the rainy season's slower roads from 1 May): a shifted trip is
timed as a trip timed on its own days' road network, the checker then finds what ``planner
check`` finds (hypothesis), trips are numbered again in time order with the season record
following them, and edits that do not fit name the field, the value and what to do."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.edit import (
    EditContext,
    EditError,
    MoveVisit,
    ShiftTrip,
    apply_edit,
    check_stored_plan,
    edit_context,
)
from planner.pipeline import prepare_network, problem_for
from planner.plan import Plan, Route, assemble_plan, read_plan
from planner.problem import DAY_S, RoutingProblem
from planner.provenance import Provenance
from planner.scenario import Scenario
from planner.schedule import time_route
from planner.season import Period, period_scenario, season_with_trips, shifted_trip
from planner.seasoncheck import check_season

SEASON = Path(__file__).resolve().parents[1] / "webui" / "data" / "ha-giang-2027-season"
START = dt.date(2027, 4, 12)


@pytest.fixture(scope="module")
def ctx() -> EditContext:
    return edit_context(SEASON)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return read_plan(SEASON / "plan.json")


def _edit(plan: Plan, ctx: EditContext, edit: ShiftTrip | MoveVisit):  # type: ignore[no-untyped-def]
    return apply_edit(plan, ctx.scenario, ctx.problem, ctx.places, edit, editor="test",
                      base="season", problem_of=ctx.problem_of)


def _on_its_own_network(scenario: Scenario, route: Route, day: int) -> Route:
    """``route``'s stops timed leaving on season day ``day``, on a road network built for
    the days the trip may be out (not the plan's stored matrices)."""
    spec = next(v for v in scenario.vehicles if v.id == route.vehicle_id)
    codes = [x.commune_code for x in route.visits]
    sub = period_scenario(scenario, Period(day, spec.max_trip_days, (spec.id,)),
                          {c: range(day, day + spec.max_trip_days) for c in codes})
    net = prepare_network(sub)
    problem = problem_for(sub, net)
    index = {p.key: i for i, p in enumerate(net.places)}
    timing = time_route(problem, 0, [index[c] for c in codes])
    (own,) = assemble_plan(sub, net.places, problem, [timing], [], Provenance(),
                           service_area_communes=1).routes
    return shifted_trip(own, day, scenario.horizon.start_date)


def _planner_check(scenario: Scenario, plan: Plan) -> list[tuple]:
    """``planner check``'s findings (each period's network built from the road data)."""
    cache: dict[str, RoutingProblem] = {}

    def problem_of(sub: Scenario) -> RoutingProblem:
        if sub.digest not in cache:
            cache[sub.digest] = problem_for(sub, prepare_network(sub))
        return cache[sub.digest]

    return sorted((v.kind, v.vehicle_id, v.commune_code, v.key, v.values)
                  for v in check_season(scenario, plan, problem_of))


def _times(routes: tuple[Route, ...]) -> list[tuple]:
    return [(r.key, r.depart_s, r.return_s, r.km,
             [(x.commune_code, x.arrival_s, x.start_s, x.departure_s) for x in r.visits])
            for r in routes]


@given(trip=st.integers(0, 9), day=st.integers(0, 34))
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_shifted_trip_is_timed_and_checked_as_on_its_own_days(
        plan: Plan, ctx: EditContext, shared_cache: Path, trip: int, day: int) -> None:
    route = plan.routes[trip]
    if day == route.depart_s // DAY_S:
        day = (day + 7) % plan.horizon_days
    result = _edit(plan, ctx, ShiftTrip(route.key, START + dt.timedelta(days=day)))
    moved = _on_its_own_network(ctx.scenario, route, day)
    expected = season_with_trips(plan, [moved if r.key == route.key else r
                                        for r in plan.routes])
    assert _times(result.plan.routes) == _times(expected.routes)
    assert result.plan.season == expected.season
    found = sorted((v.kind, v.vehicle_id, v.commune_code, v.key, v.values)
                   for v in result.violations)
    assert found == _planner_check(ctx.scenario, result.plan)
    stored = result.plan.provenance.check
    assert stored is not None and len(stored.violations) == len(found)


def test_a_trip_shifted_into_may_drives_the_rainy_season_roads(plan: Plan,
                                                               ctx: EditContext) -> None:
    """The April trip of the Hà Giang van on a Monday in May: the same stops, slower legs
    (the rainy season from 1 May), the van's trips numbered again in time order."""
    first = next(r for r in plan.routes if r.key == "xe-hg")
    result = _edit(plan, ctx, ShiftTrip("xe-hg", dt.date(2027, 5, 10)))
    by_key = {r.key: r for r in result.plan.routes}
    moved = next(r for r in result.plan.routes
                 if r.vehicle_id == "xe-hg" and r.depart.startswith("2027-05-10"))
    assert [x.commune_code for x in moved.visits] == [x.commune_code for x in first.visits]
    assert moved.driving_hours > first.driving_hours
    # the van's later trips are numbered again: the shifted trip is now its fifth
    assert [r.key for r in result.plan.routes if r.vehicle_id == "xe-hg"] == [
        "xe-hg", "xe-hg-trip2", "xe-hg-trip3", "xe-hg-trip4", "xe-hg-trip5", "xe-hg-trip6"]
    assert moved.key == "xe-hg-trip5" and by_key["xe-hg"].visits[0].commune_code == "00706"
    assert result.changed_vehicles == ("xe-hg", "xe-hg-trip2", "xe-hg-trip3", "xe-hg-trip4",
                                       "xe-hg-trip5")
    # the season record follows the trips: Ngọc Đường (00700) now on 4 and 10 May
    record = {c.commune_code: c for c in result.plan.season.communes}  # type: ignore[union-attr]
    assert [(v.date, v.trip_id) for v in record["00700"].visits] == [
        ("2027-05-04", "xe-hg-trip3"), ("2027-05-10", "xe-hg-trip5")]
    kinds = {v.kind for v in result.violations}
    assert kinds == {"season_gap"}  # too close in May, and no visit in April
    assert result.plan.kpis.driving_hours > plan.kpis.driving_hours  # same km, slower
    assert result.plan.provenance.manual_edits[-1].edit == {
        "action": "shift", "trip_id": "xe-hg", "date": "2027-05-10"}
    assert check_stored_plan(plan, ctx) == ()  # the plan edited is as it was


def test_move_a_visit_to_another_trip_or_a_new_one(plan: Plan, ctx: EditContext) -> None:
    onto = _edit(plan, ctx, MoveVisit("00706", "xe-hg-trip2", "xe-hg"))
    trips = {r.key: r for r in onto.plan.routes}
    # put where it adds least driving, the trip it left timed again from its own day
    assert [x.commune_code for x in trips["xe-hg"].visits] == ["00706", "00700", "00919",
                                                               "00922"]
    assert [x.commune_code for x in trips["xe-hg-trip2"].visits] == ["01165"]
    assert trips["xe-hg-trip2"].depart.startswith("2027-04-22")
    assert onto.changed_vehicles == ("xe-hg", "xe-hg-trip2")
    assert onto.violations == ()
    # its only visit taken off, a trip is dropped; a new trip is opened on the day given
    alone = _edit(plan, ctx, MoveVisit("01171", "xe-bq-trip2", date=dt.date(2027, 4, 26),
                                       vehicle_id="xe-hg"))
    assert len(alone.plan.routes) == len(plan.routes)
    new = next(r for r in alone.plan.routes if [x.commune_code for x in r.visits] == ["01171"])
    assert new.vehicle_id == "xe-hg" and new.depart.startswith("2027-04-26")
    assert [r.key for r in alone.plan.routes if r.vehicle_id == "xe-bq"] == [
        "xe-bq", "xe-bq-trip2", "xe-bq-trip3"]
    assert _planner_check(ctx.scenario, alone.plan) == sorted(
        (v.kind, v.vehicle_id, v.commune_code, v.key, v.values) for v in alone.violations)


@pytest.mark.parametrize(("edit", "field", "value", "fix"), [
    (ShiftTrip("xe-zz", dt.date(2027, 4, 20)), "trip_id", "xe-zz", "use one of: xe-bq"),
    (ShiftTrip("xe-hg", dt.date(2027, 5, 17)), "date", "2027-05-17",
     "the plan runs from 2027-04-12 to 2027-05-16"),
    (ShiftTrip("xe-hg", dt.date(2027, 4, 19)), "date", "2027-04-19", "already leaves"),
    (MoveVisit("00706", "xe-hg"), "commune_code", "00706", "use one of its: 00700"),
    (MoveVisit("00706", "xe-hg-trip2", "xe-hg-trip2"), "to_trip", "xe-hg-trip2",
     "choose another trip"),
    (MoveVisit("00700", "xe-hg", "xe-hg-trip4"), "to_trip", "xe-hg-trip4",
     "visits commune 00700 already"),
    (MoveVisit("00706", "xe-hg-trip2", "xe-hg", position=9), "position", 9,
     "positions 1 to 4"),
    (MoveVisit("00706", "xe-hg-trip2"), "date", None, "give a date from 2027-04-12"),
    (MoveVisit("00706", "xe-hg-trip2", date=dt.date(2027, 4, 20), vehicle_id="xe-ghost"),
     "vehicle_id", "xe-ghost", "use one of: xe-hg, xe-bq"),
])
def test_edits_that_do_not_fit_name_field_value_and_fix(
        plan: Plan, ctx: EditContext, edit: ShiftTrip | MoveVisit, field: str, value: object,
        fix: str) -> None:
    with pytest.raises(EditError) as err:
        _edit(plan, ctx, edit)
    assert (err.value.field, err.value.value) == (field, value)
    assert fix in str(err.value)


def test_a_season_plan_needs_the_problems_of_its_periods(plan: Plan, ctx: EditContext) -> None:
    with pytest.raises(EditError, match="problem_of"):
        apply_edit(plan, ctx.scenario, ctx.problem, ctx.places,
                   ShiftTrip("xe-hg", dt.date(2027, 4, 20)))


def test_shift_a_trip_of_a_cycle_plan(ctx: EditContext) -> None:
    """A cycle plan (one trip per vehicle here): the trip leaves on the day given and is
    checked against the plan's own problem; the other vehicle's trip keeps its times."""
    folder = SEASON.parent / "ha-giang-2026"
    cycle, cycle_ctx = read_plan(folder / "plan.json"), edit_context(folder)
    result = apply_edit(cycle, cycle_ctx.scenario, cycle_ctx.problem, cycle_ctx.places,
                        ShiftTrip("xe-van-02", dt.date(2026, 12, 8)))
    van = next(r for r in result.plan.routes if r.key == "xe-van-02")
    assert van.depart.startswith("2026-12-08") and result.changed_vehicles == ("xe-van-02",)
    assert result.plan.routes[0] == cycle.routes[0]
    assert dataclasses.asdict(result.plan.kpis) != dataclasses.asdict(cycle.kpis)
