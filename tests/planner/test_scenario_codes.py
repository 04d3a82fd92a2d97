"""Commune codes are text: an unquoted code that YAML turned into a number is refused with a
message that says to quote it (issue 17, trap 9)."""

from __future__ import annotations

import pytest

from planner.errors import ScenarioError
from planner.scenario import load_scenario_text, written_code

TEXT = """
schema_version: 1
name: codes
horizon: {{start_date: 2026-12-07, days: 1}}
depots: [{{id: lib, name: L, {depot}}}]
vehicles: [{{id: v, name: V, depot: lib, capacity_crates: 5}}]
stops:
  - {{commune_code: {code}}}
transfers: {transfers}
"""


def _problems(code: str, depot: str = "location: {lon: 105, lat: 22.8}",
              transfers: str = "[]") -> list:
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(TEXT.format(code=code, depot=depot, transfers=transfers),
                           label="s.yaml")
    return info.value.problems


def test_an_octal_looking_code_names_the_code_as_written_and_says_to_quote_it() -> None:
    (p,) = _problems("02701")
    assert p.field == "stops[0].commune_code"
    assert p.value == 1473  # what YAML made of it
    assert '"02701"' in p.message and "quotes" in p.message and "1473" in p.message


def test_a_code_without_a_leading_zero_is_refused_too() -> None:
    (p,) = _problems("12345")
    assert '"12345"' in p.message and "octal" not in p.message


def test_depot_and_transfer_codes_are_checked_alike() -> None:
    problems = _problems('"00778"', depot="commune_code: 00771",
                         transfers="[{from: 00771, to: '00778', crates: 1}]")
    assert {p.field for p in problems} >= {"depots[0].commune_code", "transfers[0].from"}
    assert all('"00771"' in p.message for p in problems if p.value == 0o771)


def test_a_quoted_code_and_a_code_yaml_keeps_as_text_load() -> None:
    s = load_scenario_text(TEXT.format(code='"02701"', depot="location: {lon: 105, lat: 22.8}",
                                       transfers="[]"), label="s.yaml")
    assert s.stops[0].commune_code == "02701"
    # 00691 holds a 9, so YAML 1.1 keeps it as text: valid as it is
    s = load_scenario_text(TEXT.format(code="00691", depot="location: {lon: 105, lat: 22.8}",
                                       transfers="[]"), label="s.yaml")
    assert s.stops[0].commune_code == "00691"


@pytest.mark.parametrize(("number", "text"), [(0o2701, "02701"), (0o771, "00771"),
                                              (12345, "12345")])
def test_written_code(number: int, text: str) -> None:
    assert written_code(number) == text
