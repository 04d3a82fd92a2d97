"""Scenario schema: the default validates; bad input gets one clear message per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from factories import make_scenario, scenario_dict

from planner.errors import Problem, ScenarioError
from planner.scenario import (
    ScenarioText,
    Stop,
    TimeWindow,
    check_against_data,
    load_scenario,
    load_scenario_text,
    parse_part,
)

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_default_scenario_is_valid_and_meets_the_15_percent_target() -> None:
    s = load_scenario(ROOT / "scenarios" / "ha-giang-2026.yaml")
    assert len(s.stops) >= 11  # 15% of the 73 communes of the former Hà Giang
    assert {v.profile for v in s.vehicles} == {"truck", "van"}
    assert s.depots[0].location_approximate
    assert all(st.time_windows for st in s.stops)


def test_digest_is_stable_and_changes_with_content() -> None:
    a, b = make_scenario(), make_scenario()
    assert a.digest == b.digest
    assert make_scenario(name="other").digest != a.digest


def test_unknown_field_names_file_field_value_and_allowed_fields(tmp_path: Path) -> None:
    data = scenario_dict()
    data["vehicles"][0]["capacity_boxes"] = 12
    path = write(tmp_path, data)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert str(path) in text
    assert "vehicles[0].capacity_boxes" in text and "12" in text
    assert "unknown field" in text and "capacity_crates" in text  # the fix lists allowed fields


def test_negative_capacity(tmp_path: Path) -> None:
    data = scenario_dict()
    data["vehicles"][0]["capacity_crates"] = -5
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, data))
    assert "vehicles[0].capacity_crates" in str(err.value) and "-5" in str(err.value)


def test_window_closing_before_it_opens(tmp_path: Path) -> None:
    data = scenario_dict()
    data["stops"][0]["time_windows"] = [{"start": "15:00", "end": "09:00"}]
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, data))
    text = str(err.value)
    assert "stops[0].time_windows[0]" in text and "closes" in text


def test_unquoted_clock_time_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    text = yaml.safe_dump(scenario_dict(), allow_unicode=True).replace("'17:00'", "17:00")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "quotes" in str(err.value)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    data = scenario_dict()
    data["vehicles"][0]["capacity_crates"] = 0
    data["stops"][1]["service_minutes"] = -1
    data["bogus"] = True
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, data))
    assert len(err.value.problems) == 3


def test_unknown_commune_code_and_profile() -> None:
    s = make_scenario(stops=[{"commune_code": "99999"}])
    with pytest.raises(ScenarioError) as err:
        check_against_data(s, commune_codes={"00778"}, profiles={"truck"}, file="x.yaml")
    assert "stops[0].commune_code" in str(err.value) and "99999" in str(err.value)
    s = make_scenario()
    with pytest.raises(ScenarioError) as err:
        check_against_data(s, commune_codes={"00778", "01108"}, profiles={"van"}, file="x.yaml")
    assert "vehicles[0].profile" in str(err.value) and "'truck'" in str(err.value)


def test_vehicle_depot_must_exist() -> None:
    data = scenario_dict()
    data["vehicles"][0]["depot"] = "nowhere"
    with pytest.raises(ScenarioError, match=r"vehicles\[0\]\.depot"):
        make_scenario(**{k: v for k, v in data.items()})
    data = scenario_dict()
    data["vehicles"][0]["end_depot"] = "nowhere"
    with pytest.raises(ScenarioError, match=r"vehicles\[0\]\.end_depot.*leave it out"):
        make_scenario(**{k: v for k, v in data.items()})


def test_duplicate_commune(tmp_path: Path) -> None:
    data = scenario_dict()
    data["stops"].append(dict(data["stops"][0]))
    with pytest.raises(ScenarioError, match="listed twice"):
        load_scenario(write(tmp_path, data))


def test_extends_merges_mappings_and_replaces_lists(tmp_path: Path) -> None:
    write(tmp_path, scenario_dict(), "base.yaml")
    child = {"extends": "base.yaml", "name": "child", "solver": {"time_limit_s": 7},
             "stops": [{"commune_code": "00802", "deliver_crates": 1}]}
    s = load_scenario(write(tmp_path, child, "child.yaml"))
    assert s.name == "child"
    assert s.solver.time_limit_s == 7 and s.solver.seed == 0  # merged
    assert [st.commune_code for st in s.stops] == ["00802"]  # replaced
    assert s.vehicles[0].capacity_crates == 10  # inherited


def test_missing_file_and_broken_yaml(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML at line"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(write(tmp_path, {"extends": "missing.yaml"}, "c.yaml"))


def test_transfers_are_validated() -> None:
    with pytest.raises(ScenarioError, match=r"transfers\[0\]\.crates"):
        make_scenario(transfers=[{"from": "00778", "to": "01108", "crates": 0}])
    with pytest.raises(ScenarioError) as err:
        make_scenario(transfers=[{"from": "00778", "to": "99999", "crates": 2},
                                 {"from": "00778", "to": "01108", "crates": 1},
                                 {"from": "00778", "to": "01108", "crates": 3}])
    text = str(err.value)
    assert "transfers[0].to" in text and "99999" in text
    assert "transfers[2]" in text and "the same two communes as transfers[1]" in text
    # a commune may hand on to several and receive from several (a chain A -> B -> C) ...
    chain = make_scenario(stops=[{"commune_code": c, "deliver_crates": 1} for c in
                                 ("00778", "01108", "00802")],
                          transfers=[{"from": "00778", "to": "01108", "crates": 1},
                                     {"from": "01108", "to": "00802", "crates": 1},
                                     {"from": "00778", "to": "00802", "crates": 2}])
    assert len(chain.transfers) == 3
    # ... but not in a loop, which no trip can serve
    with pytest.raises(ScenarioError, match="00778 -> 01108 -> 00778.*form a loop"):
        make_scenario(transfers=[{"from": "00778", "to": "01108", "crates": 1},
                                 {"from": "01108", "to": "00778", "crates": 1}])


def test_a_break_longer_than_its_window_is_refused() -> None:
    data = scenario_dict()
    data["vehicles"][0]["breaks"] = [{"start": "12:00", "end": "12:30", "minutes": 45}]
    with pytest.raises(ScenarioError, match=r"vehicles\[0\]\.breaks.*45-minute break"):
        make_scenario(**{k: v for k, v in data.items()})


def test_extends_is_resolved_by_the_lookup_it_is_given() -> None:
    """A scenario held anywhere (a database, a form) extends others found by a lookup;
    problems carry the labels the lookup gives, loops are reported, nothing touches disk."""
    base = yaml.safe_dump(scenario_dict(), allow_unicode=True)
    texts = {"base": ScenarioText(base, "base (db)"),
             "loop-a": ScenarioText("extends: loop-b\n", "loop-a (db)"),
             "loop-b": ScenarioText("extends: loop-a\n", "loop-b (db)")}

    def lookup(value: object, extender: str) -> ScenarioText:
        if value not in texts:
            raise ScenarioError([Problem(extender, "extends", value, "unknown name")])
        return texts[str(value)]

    child = load_scenario_text("extends: base\nname: child\ncrate_kg: 12\n", label="child (db)",
                               lookup=lookup)
    assert (child.name, child.crate_kg) == ("child", 12)
    assert child.stops == make_scenario().stops
    with pytest.raises(ScenarioError, match=r"child \(db\): field `extends` = 'nope'"):
        load_scenario_text("extends: nope\n", label="child (db)", lookup=lookup)
    with pytest.raises(ScenarioError, match="extends itself in a loop"):
        load_scenario_text("extends: loop-a\n", label="x (db)", lookup=lookup)
    with pytest.raises(ScenarioError, match=r"child \(db\): field `crate_kg` = -1"):
        load_scenario_text("extends: base\ncrate_kg: -1\n", label="child (db)", lookup=lookup)


def test_a_part_of_a_scenario_is_validated_by_the_same_rules() -> None:
    """The web UI's forms build parts of a scenario (a stop's library values, a closure);
    the scenario model validates them and names each field as a scenario file would."""
    with pytest.raises(ScenarioError) as err:
        parse_part(Stop, {"commune_code": "00715", "location": {"lon": 200, "lat": 22.9},
                          "time_windows": [{"start": "10:00", "end": "09:00"}], "colour": 1},
                   file="library of 00715", field="stops[0]")
    fields = {p.field for p in err.value.problems}
    assert fields == {"stops[0].location.lon", "stops[0].time_windows[0]", "stops[0].colour"}
    assert all(p.file == "library of 00715" for p in err.value.problems)
    window = parse_part(TimeWindow, {"start": "07:30", "end": "11:00", "weekdays": ["sat"]},
                        file="form")
    assert window.start_min == 450 and window.weekdays == ("sat",)
