"""geodata.osm and geodata.importer: OSM files the tests write themselves, imported into
dataset folders the planner can load.

The fixture network (near lon 105.0, lat 22.8; ``pt(dx, dy)`` is in thousandths of a degree)::

      K . . . . . . . .                                    island: M - N - P (pt 20..21)
      |           F ---103 oneway---> G
   108 footway    |                   |  104 (drawn H -> G, oneway=-1: G -> H only)
      |          102                  H
      |           |                   | 105 track
      |           E                   Q
      |           |                   | 106 bridge, maxweight=3.5
      A --------- B ------- C ------- D        101 primary, name:vi preferred
                            | 107 unnamed
                            J
                            | 112 trunk_link, maxweight "heavy" (unreadable)
                            L               110: J -> missing node 999 (dropped)
"""

from __future__ import annotations

import bz2
import gzip
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import shapely
from geodata_testkit import node_at, pgraph, pt
from osmium.osm.mutable import Node, Way
from shapely.geometry import LineString, Polygon

from geodata.datasets import load_dataset
from geodata.errors import GeodataError
from geodata.importer import (
    LIBRARY_COLUMNS,
    BoundaryFileError,
    CommunesFileError,
    DatasetExistsError,
    LibrariesFileError,
    clip_roads,
    import_dataset,
    main,
)
from geodata.network import build_road_graph
from geodata.osm import (
    ROAD_COLUMNS,
    NoDrivableRoadsError,
    OsmFileError,
    RoadLinesError,
    UnsupportedFormatError,
    oneway_of,
    parse_length_m,
    parse_weight_t,
    read_road_file,
    road_class,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED_ROADS = ROOT.parent / "shared" / "geodata-src" / "roads"
SHARED_CORE = SHARED_ROADS / "osm2021_hagiang_roads_core.geojson"
HA_GIANG_LICENSE = ROOT / "geodata" / "data" / "ha_giang" / "LICENSE-ODbL.md"

A, B, C, D = pt(0, 0), pt(1, 0), pt(2, 0), pt(3, 0)
E, F, G, H, Q = pt(1, 1), pt(1, 2), pt(2, 2), pt(3, 2), pt(3, 1)
J, K, L = pt(2, -1), pt(0, 1), pt(2, -2)
M, N, P = pt(20, 20), pt(21, 20), pt(21, 21)
NODES = {1: A, 2: B, 3: C, 4: D, 5: E, 6: F, 7: G, 8: H, 9: Q, 10: J, 11: K, 12: M, 13: N,
         14: P, 15: L}
WAYS: dict[int, tuple[list[int], dict[str, str]]] = {
    101: ([1, 2, 3, 4], {"highway": "primary", "name": "QL4C", "name:vi": "Quốc lộ 4C",
                         "ref": "QL.4C", "surface": "asphalt"}),
    102: ([2, 5, 6], {"highway": "residential", "name": "Ngõ 1"}),
    103: ([6, 7], {"highway": "tertiary", "oneway": "yes"}),
    104: ([8, 7], {"highway": "unclassified", "oneway": "-1"}),
    105: ([8, 9], {"highway": "track", "tracktype": "grade3"}),
    106: ([4, 9], {"highway": "secondary", "bridge": "yes", "maxweight": "3.5",
                   "maxwidth": "8'2\"", "maxheight": "3.5 m", "access": "no",
                   "motor_vehicle": "destination", "name": "Cầu Bản Phùng"}),
    107: ([3, 10], {"highway": "residential"}),
    108: ([1, 11], {"highway": "footway", "name": "Đường mòn"}),
    109: ([12, 13, 14], {"highway": "residential", "name": "Bản Đảo"}),
    110: ([10, 999], {"highway": "service"}),
    112: ([10, 15], {"highway": "trunk_link", "maxweight": "heavy"}),
}
DRIVABLE = {101, 102, 103, 104, 105, 106, 107, 109, 112}


def write_osm(path: Path, ways: dict = WAYS, nodes: dict = NODES) -> Path:
    """Write the fixture with pyosmium's writer (format from the suffix: pbf, osm, gz, bz2)."""
    with osmium.SimpleWriter(str(path), overwrite=True) as writer:
        for nid, (lon, lat) in sorted(nodes.items()):
            writer.add_node(Node(id=nid, location=(lon, lat)))
        for wid, (refs, tags) in sorted(ways.items()):
            writer.add_way(Way(id=wid, nodes=refs, tags=tags))
    return path


@pytest.fixture
def pbf(tmp_path: Path) -> Path:
    return write_osm(tmp_path / "fixture.osm.pbf")


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("imported")
    src = write_osm(tmp / "fixture.osm.pbf")
    return import_dataset(src, name="fixture", out_dir=tmp / "datasets").path


def by_way(roads: gpd.GeoDataFrame) -> pd.DataFrame:
    return roads.set_index(roads["osm_way_id"].astype(int))


def assert_clean_error(capsys: pytest.CaptureFixture, code: int, *needles: str) -> str:
    out = capsys.readouterr()
    assert code == 2
    assert out.err.startswith("error: "), out.err
    assert "Traceback" not in out.err + out.out
    for needle in needles:
        assert needle in out.err, out.err
    return out.err


# --- tag interpretation ------------------------------------------------------------------

@pytest.mark.parametrize("text, tonnes", [
    ("3.5", 3.5), ("3.5 t", 3.5), ("3.5t", 3.5), ("3500 kg", 3.5), ("3,5 t", 3.5),
    ("7 st", 7 * 0.90718474), ("10 tonnes", 10.0), ("2000 lbs", 2000 * 0.00045359237),
])
def test_maxweight_in_tonnes(text: str, tonnes: float) -> None:
    assert parse_weight_t(text) == pytest.approx(tonnes)


@pytest.mark.parametrize("text, metres", [
    ("2.5", 2.5), ("2.5 m", 2.5), ("2.5m", 2.5), ("250 cm", 2.5), ("8'2\"", 8 * 0.3048 + 0.0508),
    ("8'", 8 * 0.3048), ("7 ft", 7 * 0.3048),
])
def test_maxwidth_and_maxheight_in_metres(text: str, metres: float) -> None:
    assert parse_length_m(text) == pytest.approx(metres)


@pytest.mark.parametrize("text", ["heavy", "3.5 tons?", "-2", "0", "3;7", "2 m 3"])
def test_unreadable_limits_are_none(text: str) -> None:
    assert parse_weight_t(text) is None and parse_length_m(text) is None


@pytest.mark.parametrize("text", ["none", "default", "below_default", "unsigned"])
def test_no_limit_words_are_nan_not_errors(text: str) -> None:
    assert math.isnan(parse_weight_t(text)) and math.isnan(parse_length_m(text))


@pytest.mark.parametrize("highway, expected", [
    ("motorway_link", ("motorway", 1)), ("primary_link", ("primary", 1)),
    ("residential", ("minor", 0)), ("unclassified", ("minor", 0)),
    ("living_street", ("minor", 0)), ("road", ("minor", 0)), ("service", ("service", 0)),
    ("track", ("track", 0)), ("footway", (None, 0)), ("construction", (None, 0)),
    ("proposed", (None, 0)), ("steps", (None, 0)), ("bus_guideway", (None, 0)),
])
def test_highway_values_map_like_openmaptiles(highway: str, expected: tuple) -> None:
    assert road_class(highway) == expected


@pytest.mark.parametrize("tags, expected", [
    ({"oneway": "yes"}, 1), ({"oneway": "-1"}, -1), ({"oneway": "reverse"}, -1),
    ({"oneway": "no"}, 0), ({}, 0), ({"highway": "motorway"}, 1),
    ({"highway": "motorway", "oneway": "no"}, 0), ({"junction": "roundabout"}, 1),
    ({"oneway": "reversible"}, 0),
])
def test_oneway_explicit_and_implied(tags: dict, expected: int) -> None:
    assert oneway_of(tags.get("oneway"), highway=tags.get("highway"),
                     junction=tags.get("junction")) == expected


# --- reading OSM files -------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".osm.pbf", ".osm", ".osm.gz", ".osm.bz2"])
def test_osm_file_gives_the_road_schema(tmp_path: Path, suffix: str) -> None:
    lines = read_road_file(write_osm(tmp_path / f"fixture{suffix}"))
    roads = lines.roads
    assert tuple(roads.columns) == ROAD_COLUMNS
    assert roads.crs.equals("EPSG:4326")
    assert set(roads.geom_type) == {"LineString"}
    assert roads["oneway"].dtype == np.int8 and roads["ramp"].dtype == np.int8
    assert str(roads["osm_way_id"].dtype) == "Int64"
    assert set(roads["osm_way_id"].astype(int)) == DRIVABLE
    w = by_way(roads)
    assert w.loc[101, "name"] == "Quốc lộ 4C"  # name:vi before name
    assert (w.loc[101, "omt_class"], w.loc[101, "omt_subclass"]) == ("primary", "primary")
    assert (w.loc[101, "ref"], w.loc[101, "surface"]) == ("QL.4C", "asphalt")
    assert (w.loc[103, "oneway"], w.loc[104, "oneway"], w.loc[101, "oneway"]) == (1, -1, 0)
    assert w.loc[105, "omt_class"] == "track"
    assert w.loc[106, "brunnel"] == "bridge" and w.loc[106, "maxweight_t"] == 3.5
    assert w.loc[106, "maxwidth_m"] == pytest.approx(2.4892)
    assert w.loc[106, "maxheight_m"] == 3.5
    assert w.loc[106, "access"] == "destination"  # motor_vehicle beats access
    assert pd.isna(w.loc[107, "name"]) and w.loc[107, "omt_class"] == "minor"
    assert (w.loc[112, "omt_class"], w.loc[112, "ramp"]) == ("trunk", 1)
    assert math.isnan(w.loc[112, "maxweight_t"])
    stats = lines.stats
    assert stats.features_read == len(WAYS)
    assert stats.dropped["not_drivable"] == 1 and stats.not_drivable_values == {"footway": 1}
    assert stats.dropped["missing_locations"] == 1
    assert stats.unparseable_limits["maxweight"] == 1
    assert stats.unparseable_examples["maxweight"] == ("heavy",)


def test_ways_keep_every_node_in_order(pbf: Path) -> None:
    w = by_way(read_road_file(pbf).roads)
    for wid in (101, 102, 104, 109):
        expected = [NODES[n] for n in WAYS[wid][0]]
        got = shapely.get_coordinates(w.loc[wid, "geometry"])
        np.testing.assert_allclose(got, expected, atol=1e-9)


def test_literal_osm_xml_is_read(tmp_path: Path) -> None:
    path = tmp_path / "literal.osm"
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='test'>\n"
        f"<node id='1' lat='{A[1]}' lon='{A[0]}'/><node id='2' lat='{B[1]}' lon='{B[0]}'/>\n"
        f"<node id='3' lat='{C[1]}' lon='{C[0]}'/>\n"
        "<way id='7'><nd ref='1'/><nd ref='2'/><nd ref='3'/>"
        "<tag k='highway' v='tertiary'/><tag k='name' v='Duong 176'/>"
        "<tag k='name:vi' v='Đường 176'/><tag k='junction' v='roundabout'/></way>\n"
        "<way id='8'><nd ref='1'/><nd ref='3'/><tag k='highway' v='path'/></way>\n"
        "</osm>\n", encoding="utf-8")
    lines = read_road_file(path)
    assert lines.roads["name"].tolist() == ["Đường 176"]
    assert lines.roads["oneway"].tolist() == [1]  # roundabout implies oneway
    assert lines.stats.not_drivable_values == {"path": 1}


# --- the dataset folder ------------------------------------------------------------------

def test_imported_folder_loads_with_a_digest_and_the_licence(imported: Path) -> None:
    ds = load_dataset(imported)
    assert len(ds.digest) == 64 and int(ds.digest, 16) >= 0
    assert ds.attribution == "© OpenStreetMap contributors (ODbL 1.0)"
    assert ds.manifest["source"]["file"] == "fixture.osm.pbf"
    assert len(ds.manifest["source"]["sha256"]) == 64 and ds.manifest["imported"]
    assert (imported / "LICENSE-ODbL.md").read_bytes() == HA_GIANG_LICENSE.read_bytes()
    roads = ds.roads()
    assert tuple(roads.columns) == ROAD_COLUMNS and len(roads) == len(DRIVABLE)
    assert str(roads["osm_way_id"].dtype) == "Int64"
    assert roads.crs.equals("EPSG:4326")
    assert ds.boundary().geom_type.tolist() == ["Polygon"]
    assert shapely.covers(ds.boundary().geometry[0], roads.geometry.values).all()
    assert list(ds.libraries.columns) == list(LIBRARY_COLUMNS) and len(ds.libraries) == 0
    assert len(ds.communes) == 0
    assert {"commune_code", "name", "lon", "lat", "geometry"} <= set(ds.communes.columns)
    assert not [p for p in imported.parent.iterdir() if p.name.startswith(".")]


def test_import_report_counts_what_was_kept_and_dropped(imported: Path) -> None:
    report = json.loads((imported / "import-report.json").read_text(encoding="utf-8"))
    assert report["input"] == {"ways_read": len(WAYS)}
    assert report["kept"]["lines"] == len(DRIVABLE)
    assert set(report["kept"]["by_class"]) == {"trunk", "primary", "secondary", "tertiary",
                                               "minor", "track"}
    primary_km = 3 * 102.6 / 1000  # three steps of 0.001 degree of longitude at lat 22.8
    assert report["kept"]["by_class"]["primary"]["km"] == pytest.approx(primary_km, rel=0.01)
    assert report["dropped"] == {"not_drivable": 1, "area": 0, "missing_locations": 1,
                                 "degenerate": 0, "outside_boundary": 0}
    assert report["unparseable_limits"]["maxweight"] == 1
    assert report["peak_memory_mb"] > 0 and report["wall_time_s"] >= 0
    assert report["source"]["sha256"] == load_dataset(imported).manifest["source"]["sha256"]


def test_graph_joins_ways_at_a_shared_middle_node_and_sees_the_island(imported: Path) -> None:
    graph = build_road_graph(load_dataset(imported).roads())
    b = node_at(graph, B)  # the middle node of way 101 where way 102 starts
    assert np.count_nonzero((graph.edge_u == b) | (graph.edge_v == b)) == 3
    pg = pgraph(graph, "van")
    main_nodes = [node_at(graph, p) for p in (A, B, C, D, F, G, H, Q)]
    assert pg.in_main[main_nodes].all()
    assert not pg.in_main[node_at(graph, M)] and not pg.in_main[node_at(graph, P)]
    assert pg.report.dropped_parts >= 1
    arcs = set(zip(pg.arc_from.tolist(), pg.arc_to.tolist(), strict=True))
    f, g, h = node_at(graph, F), node_at(graph, G), node_at(graph, H)
    assert (f, g) in arcs and (g, f) not in arcs  # oneway=yes along F -> G
    assert (g, h) in arcs and (h, g) not in arcs  # oneway=-1 on a way drawn H -> G


def test_clip_to_a_boundary_polygon_file(tmp_path: Path, pbf: Path) -> None:
    outline = Polygon([pt(-0.5, -3), pt(2.5, -3), pt(2.5, 3), pt(-0.5, 3)])
    boundary = tmp_path / "outline.geojson"
    gpd.GeoDataFrame({"name": ["test area"]}, geometry=[outline], crs="EPSG:4326").to_file(
        boundary)
    result = import_dataset(pbf, name="clipped", out_dir=tmp_path / "out", boundary=boundary)
    ds = load_dataset(result.path)
    w = by_way(ds.roads())
    assert set(w.index) == {101, 102, 103, 104, 107, 112}
    cut = shapely.get_coordinates(w.loc[101, "geometry"])
    np.testing.assert_allclose(cut, [A, B, C, pt(2.5, 0)], atol=1e-9)
    np.testing.assert_allclose(shapely.get_coordinates(w.loc[104, "geometry"]),
                               [pt(2.5, 2), G], atol=1e-9)  # drawn H -> G, cut near H
    assert w.loc[104, "oneway"] == -1
    assert result.report["dropped"]["outside_boundary"] == 3  # 105, 106 and the island
    assert result.report["kept"]["lines_cut_at_boundary"] == 2  # 101 and 104
    assert result.report["clip"]["kind"] == "boundary"
    assert shapely.equals(ds.boundary().geometry[0], outline)


def test_a_line_leaving_and_coming_back_becomes_pieces_in_its_direction() -> None:
    notched = shapely.difference(shapely.box(*pt(-1, -1), *pt(10, 1)),
                                 shapely.box(*pt(3, -2), *pt(5, 2)))
    roads = gpd.GeoDataFrame({"osm_way_id": pd.array([7, 8], dtype="Int64"),
                              "oneway": np.array([-1, 0], dtype=np.int8)},
                             geometry=[LineString([pt(8, 0), pt(0, 0)]),
                                       LineString([pt(20, 0), pt(21, 0)])], crs="EPSG:4326")
    out, outside, cut = clip_roads(roads, notched)
    assert (outside, cut) == (1, 1)
    assert out["osm_way_id"].tolist() == [7, 7] and out["oneway"].tolist() == [-1, -1]
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.values),
                               [pt(8, 0), pt(5, 0), pt(3, 0), pt(0, 0)], atol=1e-9)


def test_library_ids_read_back_as_written(tmp_path: Path, pbf: Path) -> None:
    # found by fuzzing (tests/planner/test_fuzz_tables.py): libraries.csv was read back with
    # numeric ids, so "7" and "007" became one id 7, twice
    libraries = tmp_path / "libraries.csv"
    libraries.write_text(f"library_id,name,lon,lat\n7,A,{A[0]},{A[1]}\n007,B,{B[0]},{B[1]}\n",
                         encoding="utf-8")
    result = import_dataset(pbf, name="libs", out_dir=tmp_path / "out", libraries=libraries)
    assert load_dataset(result.path).libraries["library_id"].tolist() == ["7", "007"]


@pytest.mark.parametrize("text", [
    "x" * 3000 + ",lon,lat\nA,105,22.8\n",  # a heading of 3,000 characters, no name column
    "library_id,name,lon,lat\n" + f"{'9' * 3000},A,105,22.8\n" * 2,  # a long id, twice
])
def test_a_libraries_error_stays_a_line_whatever_the_file_holds(tmp_path: Path, pbf: Path,
                                                                text: str) -> None:
    # found by fuzzing: the message quoted every column name and id in full
    libraries = tmp_path / "libraries.csv"
    libraries.write_text(text, encoding="utf-8")
    with pytest.raises(LibrariesFileError) as err:
        import_dataset(pbf, name="x", out_dir=tmp_path / "out", libraries=libraries)
    assert str(libraries) in str(err.value) and len(str(err.value)) < 800, str(err.value)


def test_communes_hull_clip_and_stored_communes(tmp_path: Path, pbf: Path) -> None:
    communes = tmp_path / "communes.csv"
    communes.write_text("commune_code,name,lon,lat,population\n"
                        f"00691,Phường Hà Giang 2,{A[0]},{A[1]},331\n"
                        f"00694,Phường Hà Giang 1,{H[0]},{H[1]},21652\n", encoding="utf-8")
    result = import_dataset(pbf, name="hull", out_dir=tmp_path / "out", communes=communes,
                            buffer_km=1.0)
    ds = load_dataset(result.path)
    assert 109 not in set(ds.roads()["osm_way_id"].astype(int))  # the island is 2.6 km off
    assert result.report["dropped"]["outside_boundary"] == 1
    assert ds.communes.index.tolist() == ["00691", "00694"]
    assert ds.communes.loc["00694", "name"] == "Phường Hà Giang 1"
    assert result.report["clip"]["kind"] == "communes_hull"


def test_communes_file_problems_are_reported_together(tmp_path: Path, pbf: Path) -> None:
    bad = tmp_path / "communes.csv"
    bad.write_text("code,name,lon\n1,X,105\n", encoding="utf-8")
    with pytest.raises(CommunesFileError) as err:
        import_dataset(pbf, name="x", out_dir=tmp_path / "out", communes=bad)
    assert "commune_code" in str(err.value) and "lon and lat" in str(err.value)


def test_a_communes_row_without_code_or_point_is_named_in_the_error(tmp_path: Path,
                                                                     pbf: Path) -> None:
    # found by fuzzing (tests/planner/test_fuzz_tables.py): a row of one empty quoted cell
    # has neither a code nor a point, and the message listing it raised a TypeError
    bad = tmp_path / "communes.csv"
    bad.write_text('commune_code,name,lon,lat\r\n""\r\n00691,X,105.0,22.8\r\n',
                   encoding="utf-8")
    with pytest.raises(CommunesFileError) as err:
        import_dataset(pbf, name="x", out_dir=tmp_path / "out", communes=bad)
    assert str(bad) in str(err.value)
    assert "1 rows without a valid lon/lat (commune_code (none)...)" in str(err.value)
    assert "1 rows without a commune_code" in str(err.value)


@pytest.mark.parametrize("text", [
    "x" * 3000 + ",name,lon,lat\n1,A,105,22.8\n",  # a heading of 3,000 characters
    "commune_code,name,lon,lat\n" + f"{'9' * 3000},A,105,22.8\n" * 2,  # a long code, twice
    "commune_code,name,lon,lat\n" + f"{'9' * 3000},A,105,222\n",  # and no valid point
    ",".join(f"c{i}" for i in range(500)) + "\n",  # 500 columns, none of them needed
])
def test_a_communes_error_stays_a_line_whatever_the_file_holds(tmp_path: Path, pbf: Path,
                                                               text: str) -> None:
    # found by fuzzing: the message quoted every column name and code in full
    communes = tmp_path / "communes.csv"
    communes.write_text(text, encoding="utf-8")
    with pytest.raises(CommunesFileError) as err:
        import_dataset(pbf, name="x", out_dir=tmp_path / "out", communes=communes)
    assert str(communes) in str(err.value) and len(str(err.value)) < 800, str(err.value)


@pytest.mark.parametrize("far", [(180, 90), (180, 22.8), (-75, 22.8), (105, 90)])
def test_communes_too_far_apart_for_a_hull_are_a_clear_error(tmp_path: Path, pbf: Path,
                                                              far: tuple[float, float]) -> None:
    # found by fuzzing: a point at the pole or across the world made GEOS raise a
    # TopologyException, or made a hull that left the other communes (and their roads) out
    communes = tmp_path / "communes.csv"
    communes.write_text("commune_code,name,lon,lat\n"
                        f"00691,A,{A[0]},{A[1]}\n00694,B,{far[0]},{far[1]}\n", encoding="utf-8")
    with pytest.raises(CommunesFileError) as err:
        import_dataset(pbf, name="far", out_dir=tmp_path / "out", communes=communes)
    assert str(err.value).startswith(f"{communes}: the commune points spread over lon ")
    assert "Check the lon and lat columns" in str(err.value) and "--boundary" in str(err.value)
    assert not (tmp_path / "out" / "far").exists()


def test_line_file_with_osm_highway_column(tmp_path: Path) -> None:
    path = tmp_path / "roads.geojson"
    gpd.GeoDataFrame(
        {"highway": ["secondary", "footway", "residential"], "name": ["Duong A", "x", None],
         "oneway": ["-1", None, None], "bridge": ["yes", None, None],
         "maxweight": ["10 t", None, None], "osm_id": ["123", "124", "125"],
         "other_tags": [None, None, '"surface"=>"unpaved","name:vi"=>"Đường B"']},
        geometry=[LineString([A, B]), LineString([B, C]), LineString([C, D])],
        crs="EPSG:4326").to_file(path)
    lines = read_road_file(path)
    w = by_way(lines.roads)
    assert list(w.index) == [123, 125]
    assert (w.loc[123, "omt_class"], w.loc[123, "oneway"], w.loc[123, "brunnel"]) == (
        "secondary", -1, "bridge")
    assert w.loc[123, "maxweight_t"] == 10.0
    assert (w.loc[125, "name"], w.loc[125, "surface"]) == ("Đường B", "unpaved")
    assert lines.stats.not_drivable_values == {"footway": 1}


@pytest.mark.skipif(not SHARED_CORE.is_file(), reason="../shared/geodata-src is not present")
def test_shipped_tile_derived_geojson_imports(tmp_path: Path) -> None:
    result = import_dataset(SHARED_CORE, name="ha_giang_core", out_dir=tmp_path)
    ds = load_dataset(result.path)
    roads = ds.roads()
    assert tuple(roads.columns) == ROAD_COLUMNS
    assert roads["osm_way_id"].isna().all()
    assert set(roads["omt_class"]) == {"trunk", "primary", "secondary", "tertiary", "minor"}
    assert (roads["brunnel"] == "bridge").sum() > 100
    assert 4500 < result.report["kept"]["km"] < 6000  # "core selection, 5,200 km"
    assert result.report["input"] == {"lines_read": len(roads)}
    assert ds.attribution == "© OpenStreetMap contributors (ODbL 1.0)"
    graph = build_road_graph(roads)
    assert graph.n_edges > 1000


# --- errors ------------------------------------------------------------------------------

def truncated_pbf(tmp_path: Path) -> Path:
    whole = write_osm(tmp_path / "whole.osm.pbf").read_bytes()
    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(whole[: len(whole) // 2])
    return path


def broken_xml(tmp_path: Path) -> Path:
    path = tmp_path / "broken.osm"
    path.write_text("<?xml version='1.0'?><osm version='0.6'><node id='1' lat='22.8' "
                    "lon='105'/><way id='2'><nd ref='1'/><tag k='highway' v='primary'></way>",
                    encoding="utf-8")
    return path


def test_truncated_pbf_is_a_clear_error(tmp_path: Path) -> None:
    path = truncated_pbf(tmp_path)
    with pytest.raises(OsmFileError) as err:
        read_road_file(path)
    assert str(path) in str(err.value) and "truncated" in str(err.value)


def test_broken_xml_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OsmFileError, match="XML"):
        read_road_file(broken_xml(tmp_path))


@pytest.mark.parametrize("lat", ["abc", "nan", ""])
def test_a_node_coordinate_that_is_no_number_is_a_clear_error(tmp_path: Path, lat: str) -> None:
    # found by fuzzing: osmium's InvalidLocationError came out of the reader as it was
    path = tmp_path / "bad-node.osm"
    path.write_text("<?xml version='1.0'?><osm version='0.6'>"
                    f"<node id='1' lat='{lat}' lon='105'/><node id='2' lat='22.8' lon='105.1'/>"
                    "<way id='3'><nd ref='1'/><nd ref='2'/><tag k='highway' v='primary'/>"
                    "</way></osm>", encoding="utf-8")
    with pytest.raises(OsmFileError) as err:
        read_road_file(path)
    assert str(err.value).startswith(f"{path}: cannot read this OpenStreetMap file (wrong "
                                     f"format for coordinate: '{lat}')")


def test_a_way_without_length_is_dropped_as_degenerate(tmp_path: Path) -> None:
    # found by fuzzing: a way whose nodes all sit at one place was kept, and a dataset of
    # only such ways was imported, then its graph could not be built
    same = {**NODES, 21: A, 22: A, 23: pt(0, 0.00001)}  # 23 is A within osmium's 1e-7 degree
    ways = {**WAYS, 120: ([1, 21, 22], {"highway": "primary"}), 121: ([1, 23], {
        "highway": "service"})}
    lines = read_road_file(write_osm(tmp_path / "zero.osm.pbf", ways=ways, nodes=same))
    assert set(lines.roads["osm_way_id"].astype(int)) == DRIVABLE
    assert lines.stats.dropped["degenerate"] == 2
    only = write_osm(tmp_path / "only.osm", ways={120: ways[120]}, nodes=same)
    with pytest.raises(NoDrivableRoadsError, match="1 degenerate"):
        import_dataset(only, name="zero", out_dir=tmp_path / "out")


def _no_polygon(tmp_path: Path) -> list[str]:
    src = write_osm(tmp_path / "ok.osm.pbf")
    boundary = tmp_path / "line.geojson"
    gpd.GeoDataFrame(geometry=[LineString([A, D])], crs="EPSG:4326").to_file(boundary)
    return [str(src), "--boundary", str(boundary)]


def _footways_only(tmp_path: Path) -> list[str]:
    return [str(write_osm(tmp_path / "paths.osm.pbf",
                          ways={1: ([1, 2], {"highway": "footway"}),
                                2: ([2, 3], {"highway": "steps"})}))]


def _nothing_inside(tmp_path: Path) -> list[str]:
    src = write_osm(tmp_path / "ok.osm.pbf")
    boundary = tmp_path / "far.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(100, 10, 100.1, 10.1)], crs="EPSG:4326").to_file(
        boundary)
    return [str(src), "--boundary", str(boundary)]


@pytest.mark.parametrize("make_args, error, needles", [
    (lambda t: [str(truncated_pbf(t))], OsmFileError, ["cut.osm.pbf", "truncated"]),
    (lambda t: [str(broken_xml(t))], OsmFileError, ["broken.osm", "XML"]),
    (lambda t: [str(t / "missing.osm.pbf")], GeodataError, ["missing.osm.pbf", "missing"]),
    (lambda t: [str((t / "roads.txt").resolve())], UnsupportedFormatError,
     ["roads.txt", "unknown road data format"]),
    (_no_polygon, BoundaryFileError, ["line.geojson", "no polygon", "1 LineString"]),
    (_footways_only, NoDrivableRoadsError, ["paths.osm.pbf", "no drivable road"]),
    (_nothing_inside, NoDrivableRoadsError, ["ok.osm.pbf", "inside the clip area"]),
], ids=["truncated-pbf", "broken-xml", "missing-file", "unknown-extension",
        "boundary-without-polygon", "no-drivable-road", "nothing-inside-boundary"])
def test_bad_inputs_raise_and_main_exits_2_without_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture, make_args, error, needles) -> None:
    (tmp_path / "roads.txt").write_text("not roads")
    args = make_args(tmp_path)
    out_dir = tmp_path / "out"
    main_args = [*args, "--name", "bad", "--out-dir", str(out_dir)]
    with pytest.raises(error):
        import_dataset(args[0], name="bad", out_dir=out_dir,
                       boundary=args[2] if len(args) > 2 else None)
    code = main(main_args)
    assert_clean_error(capsys, code, *needles)
    assert not (out_dir / "bad").exists()
    assert not out_dir.exists() or not list(out_dir.iterdir())  # no temporary folder left


def test_bad_line_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "roads.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(RoadLinesError, match="roads.geojson"):
        read_road_file(path)


def test_missing_arguments_exit_2(capsys: pytest.CaptureFixture) -> None:
    assert main([]) == 2
    assert "--name" in capsys.readouterr().err


def test_existing_dataset_needs_force(tmp_path: Path, pbf: Path,
                                      capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main([str(pbf), "--name", "hg", "--out-dir", str(out)]) == 0
    assert "imported 9 road lines" in capsys.readouterr().out
    code = main([str(pbf), "--name", "hg", "--out-dir", str(out)])
    assert_clean_error(capsys, code, "already exists", "--force")
    with pytest.raises(DatasetExistsError):
        import_dataset(pbf, name="hg", out_dir=out)
    smaller = write_osm(tmp_path / "smaller.osm.pbf", ways={101: WAYS[101]})
    assert main([str(smaller), "--name", "hg", "--out-dir", str(out), "--force"]) == 0
    assert len(load_dataset(out / "hg").roads()) == 1
    # no temporary folder is left; the replaced dataset is kept for the plans made on it
    assert sorted(p.name for p in out.iterdir()) == [".versions", "hg"]
    (kept,) = (out / ".versions" / "hg").iterdir()
    assert len(load_dataset(kept).roads()) == 9


def test_failed_import_leaves_the_existing_dataset_untouched(
        tmp_path: Path, pbf: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    path = import_dataset(pbf, name="hg", out_dir=out).path
    before = {p.name: p.read_bytes() for p in path.iterdir()}
    digest = load_dataset(path).digest
    code = main([str(truncated_pbf(tmp_path)), "--name", "hg", "--out-dir", str(out),
                 "--force"])
    assert_clean_error(capsys, code, "cut.osm.pbf")
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert load_dataset(path).digest == digest
    assert sorted(p.name for p in out.iterdir()) == ["hg"]


def test_force_never_replaces_a_folder_that_is_not_a_dataset(tmp_path: Path, pbf: Path) -> None:
    (tmp_path / "out" / "docs").mkdir(parents=True)
    (tmp_path / "out" / "docs" / "keep.txt").write_text("mine")
    with pytest.raises(DatasetExistsError, match="not a dataset folder"):
        import_dataset(pbf, name="docs", out_dir=tmp_path / "out", force=True)
    assert (tmp_path / "out" / "docs" / "keep.txt").read_text() == "mine"


def test_compressed_xml_matches_pbf(tmp_path: Path, pbf: Path) -> None:
    xml = write_osm(tmp_path / "plain.osm").read_bytes()
    (tmp_path / "g.osm.gz").write_bytes(gzip.compress(xml))
    (tmp_path / "b.osm.bz2").write_bytes(bz2.compress(xml))
    ref = read_road_file(pbf).roads
    for name in ("g.osm.gz", "b.osm.bz2"):
        got = read_road_file(tmp_path / name).roads
        pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns="geometry")),
                                      pd.DataFrame(ref.drop(columns="geometry")))
        assert shapely.equals_exact(got.geometry.values, ref.geometry.values, 0).all()


def test_names_are_one_line_and_a_blank_name_is_missing(tmp_path: Path) -> None:
    """A name holding a bare carriage return split its row when the dataset's CSV was read
    back (found by the table fuzzer): names become one line, and a name of only control
    characters or spaces is reported as missing."""
    from geodata.importer import LibrariesFileError, read_libraries

    path = tmp_path / "libraries.csv"
    path.write_bytes("name,lon,lat\r\n\"Thư viện\r\nBắc Mê\t\",105.0,22.8\r\n".encode())
    assert read_libraries(path)["name"].tolist() == ["Thư viện Bắc Mê"]
    path.write_bytes(b'name,lon,lat\r\n"\r",105.0,22.8\r\nB,105.1,22.9\r\n')
    with pytest.raises(LibrariesFileError, match="1 row.s. without a name"):
        read_libraries(path)


def test_a_blank_library_id_is_made_as_an_absent_one(tmp_path: Path) -> None:
    """A library_id of only a tab was kept as the library's id (found by the table fuzzer):
    ids are one line, and a blank one is made from the row number, as an absent one is."""
    from geodata.importer import read_libraries

    path = tmp_path / "libraries.csv"
    path.write_bytes(b"library_id,name,lon,lat\r\n\t,A,105.0,22.8\r\n HG-LIB ,B,105.1,22.9\r\n")
    assert read_libraries(path)["library_id"].tolist() == ["LIB-01", "HG-LIB"]
