"""Manual edits: moves, reorders and removals re-time the changed routes, and the plan
checker names every rule the edited plan breaks, with its vehicle and commune."""

from __future__ import annotations

import pytest
from factories import CODES, line_problem, places_for, plan_for, scenario_dict

from planner.check import check_plan
from planner.edit import (
    REMOVED_REASON_CODE,
    EditError,
    MoveStop,
    RemoveStop,
    ReorderRoute,
    add_closures,
    apply_edit,
    without_visits,
)
from planner.errors import ScenarioError
from planner.provenance import CheckRecord, ManualEdit, PlanChanges
from planner.replan import plan_changes
from planner.scenario import parse_scenario

H = 3600
# depot, A (2 h away), B (3 h away, 1.5 h from A), C (2 h away, 1.5 h from A and B)
HOURS = [[0, 2, 3, 2], [2, 0, 1.5, 1.5], [3, 1.5, 0, 1.5], [2, 1.5, 1.5, 0]]


def two_vehicles(**stop_c: object):  # noqa: ANN201
    """Two trucks of 10 crates, one day; stops A, B (as in the factories) and C."""
    data = scenario_dict(horizon={"start_date": "2026-12-07", "days": 1})
    data["vehicles"] = [{"id": vid, "name": f"Xe {vid}", "profile": "truck", "depot": "lib",
                         "capacity_crates": 10, "shift": {"start": "07:00", "end": "19:00"},
                         "max_trip_days": 1} for vid in ("v1", "v2")]
    data["stops"].append({"commune_code": CODES[2], "deliver_crates": 2, "collect_crates": 2,
                          "service_minutes": 60, **stop_c})
    s = parse_scenario(data)
    return s, line_problem(s, HOURS)


def edit(s, p, plan, e, **kw):  # noqa: ANN001, ANN003, ANN201
    return apply_edit(plan, s, p, places_for(s), e, **kw)


def test_a_move_that_makes_a_stop_late_is_a_time_window_violation_on_that_stop() -> None:
    s, p = two_vehicles(time_windows=[{"start": "07:00", "end": "10:00"}])
    plan, _ = plan_for(s, p, [[1], [3]])  # v1: A; v2: C, reached at 09:00
    assert check_plan(s, p, plan) == []
    result = edit(s, p, plan, MoveStop(CODES[2], "v1", 2), editor="lan")  # C after A
    assert result.changed_vehicles == ("v1", "v2")
    late = [v for v in result.violations if v.kind == "time_window"]
    assert [(v.vehicle_id, v.commune_code) for v in late] == [("v1", CODES[2])]
    r1 = result.plan.routes[0]
    assert [x.commune_code for x in r1.visits] == [CODES[0], CODES[2]]
    assert r1.visits[1].arrival_s == int(11.5 * H)  # A 09:00-10:00, then 1.5 h
    assert result.plan.routes[1].visits == ()
    # moved to the front it is on time again
    again = edit(s, p, result.plan, MoveStop(CODES[2], "v1", 1))
    assert again.ok and again.violations == ()
    assert again.plan.provenance.check == CheckRecord(at=again.plan.created_at, ok=True)


def test_a_move_that_overloads_a_truck_is_a_capacity_violation() -> None:
    s, p = two_vehicles(deliver_crates=5, collect_crates=1)
    plan, _ = plan_for(s, p, [[1, 2], [3]])
    result = edit(s, p, plan, MoveStop(CODES[2], "v1"))  # at the end: 4 + 3 + 5 > 10
    kinds = {v.kind for v in result.violations}
    assert "capacity" in kinds
    assert all(v.vehicle_id == "v1" for v in result.violations)
    assert result.plan.routes[0].load_start_crates == 12
    assert not result.ok


def test_untouched_routes_keep_their_times_and_kpis_are_recomputed() -> None:
    s, p = two_vehicles()
    plan, _ = plan_for(s, p, [[1, 2], [3]])
    result = edit(s, p, plan, ReorderRoute("v1", (CODES[1], CODES[0])))
    assert result.changed_vehicles == ("v1",)
    assert result.plan.routes[1] == plan.routes[1]  # v2 is not re-timed
    assert [x.seq for x in result.plan.routes[0].visits] == [1, 2]
    assert result.plan.kpis.communes_served == 3
    assert result.plan.kpis.km == round(sum(r.km for r in result.plan.routes), 1)
    assert result.violations == ()


def test_removing_a_stop_lists_it_unserved_and_back_again() -> None:
    s, p = two_vehicles()
    plan, _ = plan_for(s, p, [[1, 2], [3]])
    removed = edit(s, p, plan, RemoveStop(CODES[1]), editor="lan")
    assert [u.commune_code for u in removed.plan.unserved] == [CODES[1]]
    u = removed.plan.unserved[0]
    assert u.reason_code == REMOVED_REASON_CODE and "by lan" in u.reason
    assert removed.violations == ()  # unserved with a reason: not "missing"
    assert removed.plan.kpis.communes_served == 2
    back = edit(s, p, removed.plan, MoveStop(CODES[1], "v2", 1))
    assert back.plan.unserved == ()
    assert [x.commune_code for x in back.plan.routes[1].visits] == [CODES[1], CODES[2]]


def test_provenance_keeps_every_edit_with_who_and_when() -> None:
    s, p = two_vehicles()
    plan, _ = plan_for(s, p, [[1, 2], [3]])
    one = edit(s, p, plan, MoveStop(CODES[0], "v2", 1), editor="lan", base="run-a",
               at="2026-12-01T08:00:00+07:00")
    two = edit(s, p, one.plan, RemoveStop(CODES[2]), editor="minh", base="run-b")
    edits = two.plan.provenance.manual_edits
    assert [e.by for e in edits] == ["lan", "minh"]
    assert edits[0] == ManualEdit(at="2026-12-01T08:00:00+07:00", by="lan", base="run-a",
                                  base_created_at=plan.created_at,
                                  edit={"action": "move", "commune_code": CODES[0],
                                        "to_vehicle": "v2", "position": 1},
                                  from_vehicle="v1", changed_vehicles=("v1", "v2"),
                                  violations=0)
    assert edits[1].edit == {"action": "remove", "commune_code": CODES[2]}
    assert one.plan.created_at == "2026-12-01T08:00:00+07:00"
    assert plan.provenance.manual_edits == ()  # the input plan is not changed


@pytest.mark.parametrize(("bad", "field"), [
    (MoveStop("99999", "v1"), "commune_code"),
    (RemoveStop("99999"), "commune_code"),
    (MoveStop(CODES[0], "v9"), "vehicle_id"),
    (MoveStop(CODES[0], "v2", 3), "position"),
    (MoveStop(CODES[0], "v2", 0), "position"),
    (MoveStop(CODES[0], "v1", 1), "position"),  # already there
    (ReorderRoute("v1", (CODES[0],)), "order"),
    (ReorderRoute("v3", ()), "vehicle_id"),
])
def test_edits_that_do_not_fit_name_the_field(bad: object, field: str) -> None:
    s, p = two_vehicles()
    plan, _ = plan_for(s, p, [[1, 2], [3]])
    with pytest.raises(EditError) as info:
        edit(s, p, plan, bad)
    assert info.value.field == field and f"`{field}`" in str(info.value)


def test_without_visits_frees_stops_and_plan_changes_counts_them() -> None:
    s, p = two_vehicles()
    plan, _ = plan_for(s, p, [[1, 2], [3]])
    free = without_visits(plan, {CODES[1]})
    assert [x.commune_code for x in free.routes[0].visits] == [CODES[0]]
    assert free.unserved == ()
    moved = edit(s, p, plan, MoveStop(CODES[1], "v2", 1)).plan
    assert plan_changes(plan, moved) == PlanChanges(moved=1, reordered=1)  # C now follows B
    assert plan_changes(free, plan) == PlanChanges(added=1)


def test_add_closures_validates_like_a_scenario() -> None:
    s, _ = two_vehicles()
    line = {"id": "ui-1", "line": [[105.3, 23.2], [105.31, 23.21]], "tolerance_m": 50,
            "start": "2026-12-01", "end": "2026-12-31", "note": "sạt lở"}
    closed = add_closures(s, [line])
    assert [c.id for c in closed.road_conditions.closures] == ["ui-1"]
    assert closed.road_conditions.closures[0].line == ((105.3, 23.2), (105.31, 23.21))
    assert add_closures(closed, [{**line, "tolerance_m": 80}]).road_conditions.closures[
        0].tolerance_m == 80  # same id: replaced
    with pytest.raises(ScenarioError, match=r"closures\[0\]"):
        add_closures(s, [{**line, "start": "2027-01-01"}])
