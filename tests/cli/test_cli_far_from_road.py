"""Points far from the road network (issue 17, trap 4): beyond 10 km an error unless the
scenario allows that stop or depot, the gap then counted in km and hours at the stated
speed; between 2 and 10 km counted and warned about in the summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from osm_fixtures import LIBRARY, pt, write_communes, write_libraries, write_osm

from cli import main
from geodata.routing import Matrices
from planner.access import ACCESS_SPEED_KMH, ERROR_M, counted_gaps_m, with_access_gaps


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("far")
    assert main(["geodata", "import", str(write_osm(tmp / "thu.osm.pbf")), "--name", "thu",
                 "--out-dir", str(tmp / "datasets"),
                 "--communes", str(write_communes(tmp / "c.csv")),
                 "--libraries", str(write_libraries(tmp / "l.csv"))]) == 0
    return tmp / "datasets" / "thu"


def scenario(tmp_path: Path, dataset: Path, stops: list[dict], *, version: int = 1,
             depot: dict | None = None) -> Path:
    lon, lat = LIBRARY[1]
    data = {"schema_version": version, "name": "far", "network": str(dataset),
            "horizon": {"start_date": "2026-12-07", "days": 1},
            "depots": [depot or {"id": "lib", "name": LIBRARY[0],
                                 "location": {"lon": lon, "lat": lat}}],
            "vehicles": [{"id": "v", "name": "Van", "profile": "van", "depot": "lib",
                          "capacity_crates": 10, "shift": {"start": "06:00", "end": "20:00"}}],
            "stops": stops, "solver": {"time_limit_s": 1, "seed": 0}}
    path = tmp_path / "far.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def solve(path: Path, out: Path) -> dict:
    assert main(["solve", str(path), "--out", str(out), "--solution-limit", "5"]) == 0
    return json.loads((out / "plan.json").read_text(encoding="utf-8"))


def test_a_stop_beyond_10_km_is_an_error_naming_the_stop_and_the_fix(
        tmp_path: Path, dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, dataset, [{"commune_code": "00001"}, {"commune_code": "00004"}])
    assert main(["solve", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "stops[1].far_from_road_ok" in err and "00004" in err
    assert "16." in err and "far_from_road_ok: true" in err and "schema_version: 3" in err
    assert not (tmp_path / "o").exists()


def test_a_depot_beyond_10_km_is_an_error(tmp_path: Path, dataset: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    lon, lat = pt(0, 500)  # 44 km north of the nearest junction
    depot = {"id": "lib", "name": "Xa", "location": {"lon": lon, "lat": lat}}
    path = scenario(tmp_path, dataset, [{"commune_code": "00001"}], depot=depot)
    assert main(["validate", str(path)]) == 0  # the schema is fine; the roads are not
    assert main(["solve", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "depots[0].far_from_road_ok" in capsys.readouterr().err


def test_the_flag_needs_schema_version_3(tmp_path: Path, dataset: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path, dataset, [{"commune_code": "00004", "far_from_road_ok": True}])
    assert main(["validate", str(path)]) == 2
    assert "needs `schema_version: 3`" in capsys.readouterr().err


def test_an_allowed_far_stop_is_planned_with_its_gap_counted_both_ways(
        tmp_path: Path, dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    near = solve(scenario(tmp_path, dataset, [{"commune_code": "00001"}]), tmp_path / "near")
    far = solve(scenario(tmp_path, dataset, [{"commune_code": "00004",
                                              "far_from_road_ok": True}], version=3),
                tmp_path / "far")
    out = capsys.readouterr().out
    # both points snap to junction A: the plans differ by the far stop's gap, both ways
    gap_m = far["provenance"]["access"]["gaps_m"]["van"]["00004"]
    assert 10_000 < gap_m < 17_000
    assert far["provenance"]["access"]["speed_kmh"] == ACCESS_SPEED_KMH
    (r_near,), (r_far,) = near["routes"], far["routes"]
    assert r_far["km"] - r_near["km"] == pytest.approx(2 * gap_m / 1000, abs=0.1)
    assert r_far["driving_hours"] - r_near["driving_hours"] == pytest.approx(
        2 * gap_m / 1000 / ACCESS_SPEED_KMH, abs=0.02)
    assert "WARNING: 1 place(s) more than 2 km from the road network" in out
    assert "00004 Xã Bốn: gap" in out and f"{ACCESS_SPEED_KMH:g} km/h" in out
    # the independent check uses the same gaps
    assert main(["check", str(tmp_path / "far")]) == 0


def test_a_point_between_2_and_10_km_is_planned_warned_about_and_counted(
        tmp_path: Path, dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = solve(scenario(tmp_path, dataset, [{"commune_code": "00003"}]), tmp_path / "p")
    gaps = plan["provenance"]["access"]["gaps_m"]["van"]
    assert set(gaps) == {"00003"} and 2000 < gaps["00003"] < ERROR_M
    assert "00003 Xã Ba: gap 3." in capsys.readouterr().out


def test_gaps_lengthen_each_leg_by_both_ends() -> None:
    mat = Matrices(nodes=np.array([0, 1, 2]), time_s=np.full((3, 3), 100.0),
                   distance_m=np.full((3, 3), 1000.0))
    np.fill_diagonal(mat.time_s, 0)
    np.fill_diagonal(mat.distance_m, 0)
    gaps = counted_gaps_m(np.array([50.0, 3000.0, 12_000.0]))
    assert gaps.tolist() == [0.0, 3000.0, 12_000.0]
    out = with_access_gaps(mat, gaps)
    assert out.distance_m[0, 1] == 4000 and out.distance_m[1, 2] == 16_000
    assert out.distance_m[2, 2] == 0
    assert out.time_s[0, 2] == pytest.approx(100 + 12 / ACCESS_SPEED_KMH * 3600)
