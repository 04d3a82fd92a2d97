"""Newcomer traps of issue 17 at the road-graph level: motorways open to the profiles that
may use them (trap 5), closed classes counted, ferries with their crossing time (trap 8)."""

from __future__ import annotations

import numpy as np
import pytest
from geodata_testkit import build, node_at, pgraph, pt, road, seconds, utm_length

from geodata.routing import travel_matrices

# A ---- motorway (straight, 2 km) ---- B
#  \______ minor detour via C (4 km) __/
A, B, C = pt(0, 0), pt(20, 0), pt(10, 17)
MOTORWAY = [road([A, B], omt_class="motorway")]
DETOUR = [road([A, C], omt_class="minor"), road([C, B], omt_class="minor")]


def test_trucks_and_vans_take_the_motorway_motorbikes_do_not() -> None:
    graph = build(MOTORWAY + DETOUR)
    a, b = node_at(graph, A), node_at(graph, B)
    for name in ("truck", "van"):
        pg = pgraph(graph, name)
        mat = travel_matrices(pg, np.array([a, b]))
        assert np.isclose(mat.distance_m[0, 1], utm_length([A, B]), rtol=1e-3), name
        assert pg.report.closed_km_by_class.get("motorway") is None
    bike = pgraph(graph, "motorbike")
    mat = travel_matrices(bike, np.array([a, b]))
    detour_m = utm_length([A, C]) + utm_length([C, B])
    assert np.isclose(mat.distance_m[0, 1], detour_m, rtol=1e-3)
    assert np.isclose(mat.time_s[0, 1], seconds(detour_m, 39.8), rtol=1e-3)
    # the motorway the motorbike may not use is counted, not silently left out
    assert np.isclose(bike.report.closed_km_by_class["motorway"], utm_length([A, B]) / 1000,
                      atol=0.1)


def test_closed_classes_are_counted_per_profile() -> None:
    graph = build(DETOUR + [road([B, pt(30, 0)], omt_class="track")])
    assert "track" in pgraph(graph, "truck").report.closed_km_by_class
    assert "track" not in pgraph(graph, "van").report.closed_km_by_class


# --- ferries (trap 8): OSM files the test writes itself ------------------------------------

def _ferry_graph(tmp_path, ways=None):
    from osm_fixtures import write_osm

    from geodata.datasets import load_dataset
    from geodata.graphs import load_road_graph
    from geodata.importer import import_dataset

    result = import_dataset(write_osm(tmp_path / "f.osm.pbf", ways=ways), name="f",
                            out_dir=tmp_path / "ds")
    graph, _ = load_road_graph(load_dataset(result.path))
    return result, graph


def test_a_vehicle_ferry_is_imported_with_its_crossing_time(tmp_path) -> None:
    from osm_fixtures import NODES

    from geodata.routing import FERRY_WAIT_S, leg_path

    result, graph = _ferry_graph(tmp_path)
    assert "ferry" in result.report["kept"]["by_class"]
    w, q = node_at(graph, NODES[5]), node_at(graph, NODES[7])
    pg = pgraph(graph, "van")
    mat = travel_matrices(pg, np.array([w, q]))
    # 10 minutes on board (OSM duration) plus the assumed wait, both ways
    assert mat.time_s[0, 1] == pytest.approx(600 + FERRY_WAIT_S, abs=1)
    assert mat.time_s[1, 0] == pytest.approx(600 + FERRY_WAIT_S, abs=1)
    leg = leg_path(pg, mat, 0, 1)
    assert [d["road_class"] for d in leg.directions] == ["ferry"]
    assert leg.directions[0]["name"] == "Phà Tạ Bú"  # shown on the driver's sheet


def test_without_the_ferry_the_crossing_is_a_long_detour(tmp_path) -> None:
    from osm_fixtures import NODES, WAYS

    from geodata.routing import FERRY_WAIT_S

    ways = {k: v for k, v in WAYS.items() if k != 205}
    _, graph = _ferry_graph(tmp_path, ways)
    w, q = node_at(graph, NODES[5]), node_at(graph, NODES[7])
    mat = travel_matrices(pgraph(graph, "van"), np.array([w, q]))
    # 38 km round the lake instead of a 4.4 km crossing, and longer even with the ferry's wait
    assert mat.distance_m[0, 1] > 30_000
    assert mat.time_s[0, 1] > 600 + FERRY_WAIT_S + 15 * 60


def test_a_ferry_without_duration_takes_its_length_at_the_ferry_speed(tmp_path) -> None:
    from osm_fixtures import NODES, WAYS

    from geodata.routing import FERRY_WAIT_S

    ways = dict(WAYS)
    refs, tags = ways[205]
    ways[205] = (refs, {k: v for k, v in tags.items() if k != "duration"})
    _, graph = _ferry_graph(tmp_path, ways)
    w, q = node_at(graph, NODES[5]), node_at(graph, NODES[7])
    pg = pgraph(graph, "truck")
    mat = travel_matrices(pg, np.array([w, q]))
    length = utm_length([NODES[5], NODES[7]])
    assert mat.time_s[0, 1] == pytest.approx(seconds(length, 10.0) + FERRY_WAIT_S, rel=1e-3)


def test_a_ferry_for_people_only_is_not_imported_and_is_counted(tmp_path) -> None:
    from osm_fixtures import WAYS

    ways = dict(WAYS)
    refs, _ = ways[205]
    ways[205] = (refs, {"route": "ferry", "foot": "yes"})
    result, _ = _ferry_graph(tmp_path, ways)
    assert "ferry" not in result.report["kept"]["by_class"]
    assert result.report["not_drivable_values"] == {"ferry (no motor vehicles)": 1}


@pytest.mark.parametrize(("text", "seconds_"), [
    ("00:30", 1800), ("1:05", 3900), ("0:10:30", 630), ("45", 2700), ("PT1H30M", 5400),
    ("pt20m", 1200)])
def test_osm_durations(text: str, seconds_: float) -> None:
    from geodata.osm import parse_duration_s

    assert parse_duration_s(text) == seconds_


@pytest.mark.parametrize("text", ["half an hour", "", "00:75", "-5",
                                  # found by fuzzing: infinite as a float, or no crossing's
                                  # time (over 7 days), these made a ferry of infinite time
                                  "9" * 400, "1" * 400 + ".5", "PT99999999999999999999H",
                                  "169:00"])
def test_unreadable_durations(text: str) -> None:
    from geodata.osm import parse_duration_s

    assert parse_duration_s(text) is None


def test_a_ferry_in_a_road_line_file_with_osm_tags(tmp_path) -> None:
    import geopandas as gpd
    from shapely.geometry import LineString

    from geodata.osm import read_road_file

    path = tmp_path / "lines.geojson"
    gpd.GeoDataFrame(
        {"highway": ["primary", None, None], "route": [None, "ferry", "ferry"],
         "motor_vehicle": [None, "yes", None], "duration": [None, "00:20", None],
         "osm_id": ["1", "2", "3"]},
        geometry=[LineString([A, B]), LineString([B, C]), LineString([C, A])],
        crs="EPSG:4326").to_file(path)
    lines = read_road_file(path)
    w = lines.roads.set_index(lines.roads["osm_way_id"].astype(int))
    assert list(w.index) == [1, 2]
    assert w.loc[2, "omt_class"] == "ferry" and w.loc[2, "duration_s"] == 1200
    assert np.isnan(w.loc[1, "duration_s"])
    assert lines.stats.not_drivable_values == {"ferry (no motor vehicles)": 1}


def test_the_sheet_gets_the_crossing_time_of_a_ferry(tmp_path) -> None:
    from osm_fixtures import NODES

    from geodata.routing import FERRY_WAIT_S, leg_path

    _, graph = _ferry_graph(tmp_path)
    w, q = node_at(graph, NODES[5]), node_at(graph, NODES[7])
    pg = pgraph(graph, "van")
    leg = leg_path(pg, travel_matrices(pg, np.array([w, q])), 0, 1)
    assert leg.directions[0]["minutes"] == round((600 + FERRY_WAIT_S) / 60)
