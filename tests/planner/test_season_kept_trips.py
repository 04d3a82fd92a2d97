"""The trips a season re-plan kept (``season.kept_trip_ids``) stay marked by their new ids
when an edit numbers the trips again, and read back from ``plan.json`` as written."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from planner.plan import plan_from_dict, read_plan
from planner.problem import DAY_S
from planner.season import season_with_trips

SEASON = Path(__file__).resolve().parents[1] / "webui" / "data" / "ha-giang-2027-season"


def test_kept_trips_follow_their_new_numbers_and_read_back(tmp_path: Path) -> None:
    plan = read_plan(SEASON / "plan.json")
    assert plan.season is not None
    plan = replace(plan, season=replace(plan.season, replan_from="2027-04-26", kept_trips=1,
                                        kept_trip_ids=("xe-hg-trip2",)))
    # the first trip of xe-hg moved after its second: they swap numbers
    routes = tuple(replace(r, depart_s=r.depart_s + 4 * DAY_S, return_s=r.return_s + 4 * DAY_S)
                   if r.key == "xe-hg" else r for r in plan.routes)
    edited = season_with_trips(plan, routes)
    assert edited.season is not None and edited.season.kept_trip_ids == ("xe-hg",)
    first = next(r for r in edited.routes if r.key == "xe-hg")
    assert first.depart.startswith("2027-04-22")
    edited.write(tmp_path / "plan.json")
    data = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert data["season"]["kept_trip_ids"] == ["xe-hg"]
    assert plan_from_dict(data) == edited
