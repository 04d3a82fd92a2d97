"""A stop's optional ``location``: validated like any point, and used instead of the
commune's dataset point when the network snaps the stops."""

from __future__ import annotations

import pytest
from factories import CODES, scenario_dict

from geodata.datasets import load_dataset
from planner.errors import ScenarioError
from planner.pipeline import places_of
from planner.scenario import parse_scenario


def test_stop_location_replaces_the_commune_point() -> None:
    data = scenario_dict()
    data["stops"][0]["location"] = {"lon": 104.5, "lat": 23.25}
    scenario = parse_scenario(data)
    assert scenario.stops[0].location is not None
    assert scenario.stops[1].location is None
    dataset = load_dataset(scenario.network)
    located = {loc.key: loc for loc in places_of(scenario, dataset) if loc.kind == "stop"}
    assert (located[CODES[0]].lon, located[CODES[0]].lat) == (104.5, 23.25)
    row = dataset.communes.loc[CODES[1]]
    assert (located[CODES[1]].lon, located[CODES[1]].lat) == (float(row["lon"]),
                                                            float(row["lat"]))
    assert located[CODES[0]].name == str(dataset.communes.loc[CODES[0], "name"])


def test_stop_location_out_of_range_is_reported_with_its_field() -> None:
    data = scenario_dict()
    data["stops"][1]["location"] = {"lon": 104.5, "lat": 123.0}
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data, file="s.yaml")
    (problem,) = err.value.problems
    assert problem.field == "stops[1].location.lat" and problem.value == 123.0


def test_a_stop_without_location_dumps_as_before_the_field_existed() -> None:
    # Left out of dumps (scenario.json, the digest) when absent; kept and read back when set.
    assert "location" not in parse_scenario(scenario_dict()).stops[0].model_dump()
    data = scenario_dict()
    data["stops"][0]["location"] = {"lon": 104.5, "lat": 23.25}
    dumped = parse_scenario(data).model_dump(mode="json")
    assert dumped["stops"][0]["location"] == {"lon": 104.5, "lat": 23.25}
    assert "location" not in dumped["stops"][1]
    assert parse_scenario(dumped).stops[0].location is not None  # round trip

