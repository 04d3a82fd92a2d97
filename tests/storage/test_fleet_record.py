"""The fleet record: vehicles under the ids scenarios give them (numbered copies of a
``count:`` entry), users tied to vehicles, and what cannot be stored."""

from __future__ import annotations

import pytest
from storage_testkit import make_user

from planner.scenario import load_scenario_text
from storage import Database, RecordNotFoundError, fleet
from storage.fleet import FleetFieldError

SCENARIO = """
schema_version: 2
name: fleet-test
network: ha_giang
horizon: {start_date: 2026-12-07, days: 5}
depots:
  - {id: tv-ha-giang, name: "Thư viện tỉnh", location: {lon: 104.963, lat: 22.8605}}
vehicles:
  - {id: xe-tv, name: "Xe thư viện", profile: truck, depot: tv-ha-giang, capacity_crates: 60,
     count: 2}
  - {id: xe-may-01, name: "Xe máy 01", profile: motorbike, depot: tv-ha-giang,
     capacity_crates: 2}
stops:
  - {commune_code: "00715", deliver_crates: 1}
"""


def test_a_scenario_names_each_copy_of_a_count_entry_under_its_number() -> None:
    scenario = load_scenario_text(SCENARIO, label="fleet.yaml")
    vehicles = fleet.scenario_vehicles(scenario)
    assert [(v.vehicle_id, v.name, v.profile) for v in vehicles] == [
        ("xe-tv-1", "Xe thư viện · 1", "truck"), ("xe-tv-2", "Xe thư viện · 2", "truck"),
        ("xe-may-01", "Xe máy 01", "motorbike")]
    assert {v.capacity_crates for v in vehicles[:2]} == {60}


def test_vehicles_are_kept_changed_retired_and_tied_to_users(db: Database) -> None:
    uid = make_user(db)
    make_user(db, "tuan", "driver")
    make_user(db, "hoa", "driver")
    with db.begin() as s:
        fleet.save_vehicle(s, vehicle_id="xe-tv-1", name="Xe thư viện · 1", profile="truck",
                           depot_id="tv-ha-giang", plate="23C-012.34", capacity_crates=60,
                           user_id=uid)
        fleet.save_vehicle(s, vehicle_id="xe-tv-2", name="Xe thư viện · 2", user_id=uid)
        assert fleet.set_user_vehicles(s, "tuan", ["xe-tv-1", "xe-tv-2", "xe-tv-1"]) == (
            "xe-tv-1", "xe-tv-2")
        fleet.set_user_vehicles(s, "hoa", ["xe-tv-1"])  # a crew shares a vehicle
    with db.begin() as s:
        tuan = [u for u in fleet.list_vehicles(s) if "tuan" in u.users]
        assert [v.vehicle_id for v in tuan] == ["xe-tv-1", "xe-tv-2"]
        assert fleet.get_vehicle(s, "xe-tv-1").users == ("hoa", "tuan")
        assert fleet.get_vehicle(s, "xe-tv-1").plate == "23C-012.34"
        tuan_id = next(u for u, vs in fleet.vehicles_of_users(s).items() if len(vs) == 2)
        assert fleet.user_vehicle_ids(s, tuan_id) == {"xe-tv-1", "xe-tv-2"}
        # changed in place (one row per id), then retired: no longer the user's to record
        fleet.save_vehicle(s, vehicle_id="xe-tv-2", name="Xe 2 (hỏng)", active=False,
                           user_id=uid)
        assert len(fleet.list_vehicles(s)) == 2
        assert [v.vehicle_id for v in fleet.list_vehicles(s, active_only=True)] == ["xe-tv-1"]
        assert fleet.user_vehicle_ids(s, tuan_id) == {"xe-tv-1"}
        assert fleet.set_user_vehicles(s, "tuan", []) == ()
        assert fleet.user_vehicle_ids(s, tuan_id) == frozenset()


def test_what_the_fleet_refuses_changes_nothing(db: Database) -> None:
    uid = make_user(db)
    make_user(db, "tuan", "driver")
    with db.begin() as s:
        fleet.save_vehicle(s, vehicle_id="xe-tv-1", name="Xe 1", user_id=uid)
        fleet.set_user_vehicles(s, "tuan", ["xe-tv-1"])
    for fields, field in (({"vehicle_id": "xe tv"}, "vehicle_id"),
                          ({"vehicle_id": "xe-tv-trip2"}, "vehicle_id"),
                          ({"vehicle_id": "-x"}, "vehicle_id"),
                          ({"name": "  "}, "name"),
                          ({"capacity_crates": 0}, "capacity_crates"),
                          ({"plate": "x" * 33}, "plate"),
                          ({"depot_id": "thư viện"}, "depot_id")):
        args = {"vehicle_id": "xe-new", "name": "Xe mới", "user_id": uid} | fields
        with pytest.raises(FleetFieldError) as caught, db.begin() as s:
            fleet.save_vehicle(s, **args)  # type: ignore[arg-type]
        assert caught.value.field == field
    with pytest.raises(RecordNotFoundError, match="xe-none"), db.begin() as s:
        fleet.set_user_vehicles(s, "tuan", ["xe-tv-1", "xe-none"])
    with pytest.raises(RecordNotFoundError, match="nobody"), db.begin() as s:
        fleet.set_user_vehicles(s, "nobody", [])
    with db.begin() as s:
        assert [v.vehicle_id for v in fleet.list_vehicles(s)] == ["xe-tv-1"]
        assert fleet.get_vehicle(s, "xe-tv-1").users == ("tuan",)
