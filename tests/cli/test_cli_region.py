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
