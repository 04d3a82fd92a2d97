"""A new province from an OSM file, as a newcomer does it (issue 17, traps 1, 2, 3 and 6):
the import says what is missing, communes outside the outline are left out and counted,
``planner communes`` fails clearly on an empty dataset or one without a library."""

from __future__ import annotations

from pathlib import Path

import pytest
from osm_fixtures import write_communes, write_libraries, write_osm, write_outline

from cli import main


def _import(tmp_path: Path, *extra: str, name: str = "thu") -> Path:
    pbf = write_osm(tmp_path / "thu.osm.pbf")
    out = tmp_path / "datasets"
    assert main(["geodata", "import", str(pbf), "--name", name, "--out-dir", str(out),
                 *extra]) == 0
    return out / name


def test_import_without_communes_or_library_says_so_in_the_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _import(tmp_path)
    out = capsys.readouterr().out
    assert "communes: 0 attached; libraries: 0" in out
    assert "NOTE: communes.parquet is empty" in out and "--communes FILE" in out
    assert "NOTE: libraries.csv is empty" in out and "--libraries FILE" in out


def test_planner_communes_on_an_empty_dataset_is_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _import(tmp_path)
    capsys.readouterr()
    assert main(["communes", "--network", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "has no communes" in err and "--communes" in err


def test_remoteness_without_a_library_is_an_error_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _import(tmp_path, "--communes", str(write_communes(tmp_path / "c.csv")))
    capsys.readouterr()
    assert main(["communes", "--network", str(folder), "--rank", "remoteness"]) == 2
    err = capsys.readouterr().err
    assert "has no library" in err and "--libraries" in err and "Traceback" not in err


def test_libraries_option_makes_the_remoteness_ranking_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _import(tmp_path, "--communes", str(write_communes(tmp_path / "c.csv")),
                     "--libraries", str(write_libraries(tmp_path / "l.csv")))
    assert "communes: 5 attached; libraries: 1" in capsys.readouterr().out
    assert main(["communes", "--network", str(folder), "--rank", "remoteness",
                 "--profile", "van"]) == 0
    captured = capsys.readouterr()
    assert "from Thư viện tỉnh Thử (TV-01" in captured.out
    lines = [ln for ln in captured.out.splitlines() if ln[:5].isdigit()]
    assert len(lines) == 5
    # the two points far from any road are flagged on their line and counted
    flagged = {ln[:5] for ln in lines if "FAR FROM ROADS" in ln}
    assert flagged == {"00003", "00004", "09999"}
    # their hours count the gap to the road as a plan does: 00003 lies 3.3 km from junction
    # B, beside which 00002 lies, so it is 3.3 km / 10 km/h = 0.33 h farther from the library
    import re

    hours = {ln[:5]: float(re.search(r"(\d+\.\d+) h", ln).group(1)) for ln in lines}
    assert hours["00003"] - hours["00002"] == pytest.approx(0.33, abs=0.02)
    assert "km each way counted at 10 km/h" in captured.out
    assert "3 of 5 commune point(s)" in captured.err


def test_communes_outside_the_boundary_are_left_out_and_counted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _import(tmp_path, "--communes", str(write_communes(tmp_path / "c.csv")),
                     "--boundary", str(write_outline(tmp_path / "outline.geojson")))
    out = capsys.readouterr().out
    assert "communes: 4 attached" in out
    assert "1 commune(s) of the communes file lie outside the boundary" in out
    assert "09999 Xã Ngoài" in out
    assert main(["communes", "--network", str(folder)]) == 0
    listed = capsys.readouterr().out
    assert "09999" not in listed and "4 communes of dataset thu" in listed


# --- trap 3: where datasets go and how scenarios find them --------------------------------

def test_import_without_out_dir_goes_to_the_user_data_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import geodata

    user = tmp_path / "user-data"
    monkeypatch.setenv("PLANNER_DATA_DIR", str(user))
    pbf = write_osm(tmp_path / "thu.osm.pbf")
    assert main(["geodata", "import", str(pbf), "--name", "thu_user", "--communes",
                 str(write_communes(tmp_path / "c.csv"))]) == 0
    assert (user / "thu_user" / "dataset.yaml").is_file()
    package = Path(geodata.__file__).parent
    assert not (package / "data" / "thu_user").exists()  # never inside the installed package
    capsys.readouterr()
    assert main(["communes", "--network", "thu_user"]) == 0  # found by name
    assert "5 communes of dataset thu_user" in capsys.readouterr().out


def test_an_embedded_name_is_refused_for_a_user_import(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pbf = write_osm(tmp_path / "thu.osm.pbf")
    assert main(["geodata", "import", str(pbf), "--name", "ha_giang"]) == 2
    assert "taken by a dataset shipped with the planner" in capsys.readouterr().err


def test_a_network_path_is_taken_from_the_scenario_file_not_the_current_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    _import(project, "--communes", str(write_communes(tmp_path / "c.csv")))
    scenario = project / "scenarios" / "thu.yaml"
    scenario.parent.mkdir()
    scenario.write_text(
        "name: thu\nnetwork: ../datasets/thu\n"
        "horizon: {start_date: 2026-12-07, days: 1}\n"
        "depots: [{id: lib, name: L, location: {lon: 105.002, lat: 22.802}}]\n"
        "vehicles: [{id: v, name: V, profile: van, depot: lib, capacity_crates: 5}]\n"
        "stops: [{commune_code: '00001'}, {commune_code: '00002'}]\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert main(["validate", str(scenario)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"network {(project / 'datasets' / 'thu').resolve()}" in out


# --- item 2: one command per province ---------------------------------------------------

def test_one_command_imports_a_merged_province_with_its_communes_and_both_libraries(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from geodata.datasets import load_dataset

    pbf = write_osm(tmp_path / "vietnam-latest.osm.pbf")
    assert main(["geodata", "import", str(pbf), "--province", "Tuyên Quang"]) == 0
    out = capsys.readouterr().out
    ds = load_dataset("tuyen_quang")  # the user data folder, found by name
    assert len(ds.communes) == 124 and "00715" in ds.communes.index
    assert set(ds.libraries["name"]) == {"Thư viện tỉnh Hà Giang", "Thư viện tỉnh Tuyên Quang"}
    assert ds.libraries["location_method"].str.startswith("APPROXIMATE").all()
    assert "province: Tuyên Quang (2025 province, 124 communes)" in out
    assert "coverage: 9 of 124 communes lie within 10 km of the imported roads" in out
    assert "NOT COVERED by the road data (115)" in out
    assert "closed to motorbike: motorway 20 km" in out
    manifest = yaml.safe_load((ds.path / "dataset.yaml").read_text(encoding="utf-8"))
    assert manifest["province"]["key"] == "tuyen-quang"
    assert manifest["province"]["successor"] == ""


def test_a_former_province_by_name_and_an_embedded_name_avoided(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from geodata.datasets import load_dataset

    pbf = write_osm(tmp_path / "f.osm.pbf")
    assert main(["geodata", "import", str(pbf), "--province", "ha giang"]) == 0
    ds = load_dataset("former_ha_giang")
    assert len(ds.communes) == 73 and ds.libraries["library_id"].tolist() == ["TV-02"]
    assert "province: Hà Giang (former province, 73 communes)" in capsys.readouterr().out


def test_province_from_a_road_line_file_and_files_that_override(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import geopandas as gpd
    from osm_fixtures import NODES, WAYS
    from shapely.geometry import LineString

    from geodata.datasets import load_dataset

    rows = [{**tags, "osm_id": str(wid)} for wid, (_, tags) in WAYS.items()]
    geoms = [LineString([NODES[n] for n in refs]) for refs, _ in WAYS.values()]
    lines = tmp_path / "roads.geojson"
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326").to_file(lines)
    libs = write_libraries(tmp_path / "l.csv")
    assert main(["geodata", "import", str(lines), "--province", "Tuyên Quang", "--name", "tq",
                 "--libraries", str(libs)]) == 0
    ds = load_dataset("tq")
    assert ds.libraries["library_id"].tolist() == ["TV-01"] and len(ds.communes) == 124
    assert "ferry" in set(ds.roads()["omt_class"])


@pytest.mark.parametrize(("args", "needle"), [
    (["--province", "Đắk Lắk"], "unknown province 'Đắk Lắk'"),
    (["--province", "Lào Cai", "--boundary", "x.geojson"], "not both"),
    ([], "give --name NAME"),
])
def test_bad_province_options_are_clear_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
        needle: str) -> None:
    pbf = write_osm(tmp_path / "f.osm.pbf")
    assert main(["geodata", "import", str(pbf), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and "Traceback" not in err


# --- item 4: a scenario to start from ----------------------------------------------------

def test_scenario_new_writes_a_commented_scenario_that_validates_and_solves(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from planner.scenario import load_scenario

    pbf = write_osm(tmp_path / "f.osm.pbf")
    assert main(["geodata", "import", str(pbf), "--province", "Tuyên Quang"]) == 0
    out = tmp_path / "new.yaml"
    assert main(["scenario", "new", "--network", "tuyen_quang", "--share", "0.05",
                 "--vehicles", "van:1,motorbike:2", "--days", "2", "--start", "2026-12-07",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "service area Tuyên Quang" in printed
    text = out.read_text(encoding="utf-8")
    assert text.count("ASSUMPTION") >= 5 and 'province: "Tuyên Quang"' in text
    s = load_scenario(out)
    assert s.schema_version == 3 and s.service_area.province == "Tuyên Quang"
    # ceil(5% of 124) = 7 stops, among the communes the fixture's roads reach
    assert len(s.stops) == 7
    assert [v.count for v in s.vehicles] == [1, 2]
    # both libraries of the merged province are depots; trips start at the first
    assert [d.id for d in s.depots] == ["TV-02", "TV-08"]
    assert {v.depot for v in s.vehicles} == {"TV-02"}
    # the former district seats are hub candidates, commented out; one uncommented is a depot
    # the 11 former districts of Hà Giang and the 7 of the former Tuyên Quang
    assert text.count('  # - {id: "hub-') == 18
    hub = tmp_path / "hub.yaml"
    hub.write_text(text.replace('  # - {id: "hub-026"', '  - {id: "hub-026"'), encoding="utf-8")
    assert "hub-026" in [d.id for d in load_scenario(hub).depots]
    assert "not reached by the road data" in text
    # communes only the van reaches (motorbikes stay off the motorway) are the van's
    assert "allowed_profiles: [van]" in text
    plan_dir = tmp_path / "plan"
    assert main(["solve", str(out), "--out", str(plan_dir), "--time-limit", "2"]) == 0
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    assert plan["kpis"]["service_area_communes"] == 124
    assert plan["kpis"]["service_area_name"] == "Tuyên Quang"


@pytest.mark.parametrize(("args", "needle"), [
    (["--vehicles", "bus:2"], "not PROFILE:COUNT"),
    (["--share", "1.5"], "between 0 and 1"),
    (["--library", "TV-99"], "the dataset's libraries are"),
])
def test_scenario_new_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  args: list[str], needle: str) -> None:
    assert main(["scenario", "new", "--network", "ha_giang", "--out",
                 str(tmp_path / "x.yaml"), *args]) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "x.yaml").exists()


# --- item 6: plans pinned to their data ---------------------------------------------------

def test_a_plan_is_checked_on_the_roads_it_was_made_with_after_a_re_import(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import shutil

    from osm_fixtures import WAYS

    from geodata.datasets import load_dataset, user_data_dir

    communes = write_communes(tmp_path / "c.csv", ("00001", "00002"))
    libs = write_libraries(tmp_path / "l.csv")
    common = ["--name", "pin", "--communes", str(communes), "--libraries", str(libs)]
    assert main(["geodata", "import", str(write_osm(tmp_path / "a.osm.pbf")), *common]) == 0
    first = load_dataset("pin").digest
    scenario = tmp_path / "pin.yaml"
    scenario.write_text(
        "name: pin\nnetwork: pin\nhorizon: {start_date: 2026-12-07, days: 1}\n"
        "depots: [{id: lib, name: L, location: {lon: 105.002, lat: 22.802}}]\n"
        "vehicles: [{id: v, name: V, profile: van, depot: lib, capacity_crates: 5}]\n"
        "stops: [{commune_code: '00001'}, {commune_code: '00002'}]\n", encoding="utf-8")
    assert main(["solve", str(scenario), "--out", str(tmp_path / "plan"),
                 "--time-limit", "1"]) == 0
    plan = json.loads((tmp_path / "plan" / "plan.json").read_text(encoding="utf-8"))
    assert plan["provenance"]["data_digest"] == first
    # re-import other roads (no primary road between A and B) over the same name
    fewer = {k: v for k, v in WAYS.items() if k != 201}
    assert main(["geodata", "import", str(write_osm(tmp_path / "b.osm.pbf", ways=fewer)),
                 *common, "--force"]) == 0
    assert load_dataset("pin").digest != first
    kept = user_data_dir() / ".versions" / "pin" / first[:16]
    assert (kept / "roads.parquet").is_file()
    capsys.readouterr()
    assert main(["check", str(tmp_path / "plan")]) == 0
    out = capsys.readouterr().out
    assert "re-imported since this plan was made" in out and "OK, no violations" in out
    # without the kept version, the check refuses rather than use other roads
    shutil.rmtree(kept)
    assert main(["check", str(tmp_path / "plan")]) == 2
    assert "is no longer available" in capsys.readouterr().err
