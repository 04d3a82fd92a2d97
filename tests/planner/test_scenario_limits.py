"""Bounded reading of scenario texts (issue 19): YAML aliases, size, nesting, repeated keys,
values YAML cannot hold, ``extends:`` values, and problems that quote only a short prefix of
a value. Each case must end in one clear :class:`ScenarioError`, quickly."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from factories import make_scenario, scenario_dict

from planner.errors import MAX_PROBLEMS, Problem, ScenarioError
from planner.inputlimits import InputLimitError, InputLimits, load_json, load_yaml
from planner.scenario import (
    SCENARIO_LIMITS,
    Stop,
    _cross_check,
    load_scenario,
    load_scenario_json,
    load_scenario_text,
)


def base_text(**overrides: object) -> str:
    return yaml.safe_dump(scenario_dict(**overrides), allow_unicode=True, sort_keys=False)


def refused(text: str | bytes, *needles: str, within_s: float = 5.0) -> ScenarioError:
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(text, label="s.yaml")
    assert time.perf_counter() - t0 < within_s
    message = str(err.value)
    assert len(message) < 5_000  # a short message, whatever the input held
    for needle in needles:
        assert needle in message, message
    return err.value


def alias_bomb(levels: int, *, key: str = "bogus") -> str:
    """``levels`` nested lists of 9 aliases each: 9 ** levels values once expanded."""
    lines = [f"{key}0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{key}{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]"
              for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_once_with_a_short_message() -> None:
    """Depth 7 took 61 s, 5.9 GB and a 1.48 GB message (its repr)."""
    refused(base_text() + alias_bomb(7), "refused", "values (aliases expanded)", within_s=2)


def test_a_small_alias_tree_in_an_unknown_field_is_quoted_briefly() -> None:
    err = refused(base_text() + alias_bomb(3), "unknown field")
    assert all(len(str(p)) < 1_000 for p in err.problems)


def test_aliases_of_a_long_text_cannot_make_a_valid_scenario_huge() -> None:
    """2,000 aliases of a 100 KB string: a valid 120 KB scenario that stood for 200 MB."""
    text = base_text() + "assumptions:\n  - &s " + "y" * 100_000 + "\n" + "  - *s\n" * 2_000
    refused(text, "of text (aliases expanded)")


def test_plain_aliases_of_a_shift_still_work() -> None:
    data = scenario_dict()
    shift = {"start": "07:00", "end": "16:00"}
    data["vehicles"] = [dict(data["vehicles"][0], id=f"v{i}", shift=shift) for i in range(3)]
    text = yaml.safe_dump(data, sort_keys=False)
    assert "&id001" in text and "*id001" in text  # the dumper wrote anchors and aliases
    scenario = load_scenario_text(text, label="s.yaml")
    assert {v.shift.end_min for v in scenario.vehicles} == {16 * 60}


def test_an_alias_inside_the_node_it_names_is_refused() -> None:
    refused(base_text() + "bogus: &a [1, *a]\n", "cycle")


def test_deep_nesting_is_a_clear_error_not_a_recursion_error() -> None:
    for depth in (40, 900, 100_000):
        refused(base_text() + "bogus: " + "[" * depth + "]" * depth + "\n",
                "nested deeper than 32 levels")
    refused(base_text() + "bogus:\n" + "".join("  " * i + f"k{i}:\n" for i in range(60)),
            "nested deeper")


def test_repeated_keys_are_errors() -> None:
    refused(base_text() + "name: other\n", "the key 'name' is repeated (first at line")
    nested = base_text().replace("deliver_crates: 4", "deliver_crates: 4\n  deliver_crates: 9")
    refused(nested, "'deliver_crates' is repeated")


def test_merge_keys_may_still_be_overridden() -> None:
    text = base_text() + ("x-shift: &shift {start: '07:00', end: '17:00'}\n").replace(
        "x-shift", "bogus")
    refused(text, "bogus", "unknown field")  # the anchor's key is unknown, not repeated
    data = scenario_dict()
    del data["vehicles"]
    text = yaml.safe_dump(data, sort_keys=False) + (
        "vehicles:\n"
        "  - &v {id: a, name: A, depot: lib, capacity_crates: 10, max_trip_days: 2}\n"
        "  - {<<: *v, id: b}\n")
    assert [v.id for v in load_scenario_text(text, label="s.yaml").vehicles] == ["a", "b"]


def test_a_text_larger_than_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    big = base_text() + "description: |\n" + ("  " + "x" * 98 + "\n") * 22_000
    assert len(big) > SCENARIO_LIMITS.max_bytes
    refused(big, "larger than 2.0 MB", within_s=1)
    path = tmp_path / "big.yaml"
    path.write_text(big, encoding="utf-8")
    with pytest.raises(ScenarioError, match="scenario file refused: the file is larger"):
        load_scenario(path)


def test_values_yaml_cannot_hold_are_problems() -> None:
    refused(base_text() + "crate_kg: " + "1" * 5_000 + "\n", "a number has thousands of digits")
    refused(base_text().replace("'2026-12-07'", "2026-13-45"), "a value cannot be read")


def test_unusable_extends_values_are_problems(tmp_path: Path) -> None:
    refused(base_text() + 'extends: "a\\0b"\n', "field `extends`", "expected the name or path")
    refused(base_text() + "extends: [a, b]\n", "field `extends`")
    refused(base_text() + "extends: ''\n", "field `extends`")
    (tmp_path / "dir.yaml").mkdir()
    path = tmp_path / "s.yaml"
    path.write_text(base_text() + "extends: dir.yaml\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(path)


def test_a_long_chain_of_extends_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s0.yaml").write_text(base_text(), encoding="utf-8")
    for i in range(1, 30):
        (tmp_path / f"s{i}.yaml").write_text(f"extends: s{i - 1}.yaml\n", encoding="utf-8")
    assert load_scenario(tmp_path / "s10.yaml").name == "tiny"
    with pytest.raises(ScenarioError, match="more than 16 scenarios in one chain"):
        load_scenario(tmp_path / "s29.yaml")


def test_a_problem_quotes_a_short_prefix_of_its_value() -> None:
    problem = Problem("f.yaml", "title", "x" * 1_000_000, "too long")
    assert len(str(problem)) < 300 and "xxx…" in str(problem)
    nested: list = ["x"]
    for _ in range(30):
        nested = [nested] * 9
    assert len(str(Problem("f.yaml", "bogus", nested, "unknown field"))) < 300
    assert "digits" in str(Problem("f.yaml", "n", 10**5000, "too big"))


def test_an_error_lists_at_most_max_problems() -> None:
    err = ScenarioError([Problem("f", f"stops[{i}]", i, "bad") for i in range(1_000)])
    assert len(err.problems) == MAX_PROBLEMS + 1
    assert str(err).startswith("1000 problems") and "800 more problems not listed" in str(err)


def test_cross_checks_are_linear() -> None:
    """The duplicate-stop check counted in a list for every stop (quadratic)."""
    s = make_scenario()
    stops = tuple(Stop(commune_code=f"{i:06d}") for i in range(40_000))
    big = s.model_copy(update={"stops": stops + stops[:1]})
    t0 = time.perf_counter()
    problems = _cross_check(big, "f.yaml")
    assert time.perf_counter() - t0 < 1.0
    assert [p.field for p in problems] == ["stops[40000].commune_code"]


def test_scenario_json_is_read_within_limits(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    good = make_scenario().model_dump(mode="json", by_alias=True)
    path.write_text(json.dumps(good), encoding="utf-8")
    assert load_scenario_json(path) == make_scenario()
    for text in ("[1, 2", "[" * 100_000 + "]" * 100_000, '"x"', '{"crate_kg": NaN}'):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ScenarioError):
            load_scenario_json(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ScenarioError, match="not a readable scenario JSON file"):
        load_scenario_json(path)
    with pytest.raises(FileNotFoundError):
        load_scenario_json(tmp_path / "missing.json")


def test_the_limits_of_the_readers() -> None:
    limits = InputLimits(max_bytes=1_000, max_depth=4, max_nodes=50, max_aliases=3)
    assert load_yaml("a: [1, {b: 2}]", limits) == {"a": [1, {"b": 2}]}
    for text, why in [("a: [[[[1]]]]", "nested deeper"), ("a: &x 1\nb: [*x, *x, *x, *x]",
                                                          "aliases"),
                      ("a: [" + ", ".join(["1"] * 60) + "]", "values"),
                      ("a: " + "x" * 1_001, "larger")]:
        with pytest.raises(InputLimitError, match=why):
            load_yaml(text, limits)
    assert load_json('{"a": [1, 2]}', limits) == {"a": [1, 2]}
    for text, why in [('{"a": [[[[1]]]]}', "nested deeper"), ('{"a": 1, "a": 2}', "repeated"),
                      ("[" + ", ".join(["1"] * 60) + "]", "values"), ("[Infinity]", "JSON")]:
        with pytest.raises(ValueError, match=why):
            load_json(text, limits)
