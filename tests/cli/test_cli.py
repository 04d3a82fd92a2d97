"""Bad input on the command line: one clear message, non-zero exit, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from factories import scenario_dict

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True,
                          text=True, cwd=ROOT, stdin=subprocess.DEVNULL, timeout=120)


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def test_unknown_field(tmp_path: Path) -> None:
    data = scenario_dict(colour="red")
    path = write(tmp_path, data)
    assert_clean_error(run("solve", str(path), "--out", str(tmp_path / "o")), str(path),
                       "colour", "'red'", "unknown field")


def test_unknown_commune_code(tmp_path: Path) -> None:
    data = scenario_dict()
    data["stops"][0]["commune_code"] = "12345"
    path = write(tmp_path, data)
    assert_clean_error(run("validate", str(path)), str(path), "stops[0].commune_code", "12345")


def test_negative_capacity_and_reversed_window(tmp_path: Path) -> None:
    data = scenario_dict()
    data["vehicles"][0]["capacity_crates"] = -1
    data["stops"][0]["time_windows"] = [{"start": "12:00", "end": "08:00"}]
    path = write(tmp_path, data)
    assert_clean_error(run("solve", str(path), "--out", str(tmp_path / "o")),
                       "vehicles[0].capacity_crates", "-1", "stops[0].time_windows[0]")
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_missing_scenario_file_and_missing_plan(tmp_path: Path) -> None:
    assert_clean_error(run("solve", str(tmp_path / "nope.yaml"), "--out", str(tmp_path)),
                       "nope.yaml", "not found")
    assert_clean_error(run("check", str(tmp_path / "plan.json")), "plan.json", "not found")


def test_unknown_network_names_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, scenario_dict(network="atlantis"))
    assert_clean_error(run("validate", str(path)), "atlantis", "ha_giang")


def test_missing_data_file(tmp_path: Path) -> None:
    import shutil

    ds = tmp_path / "ds"
    shutil.copytree(ROOT / "geodata" / "data" / "ha_giang", ds)
    (ds / "roads.parquet").unlink()
    path = write(tmp_path, scenario_dict(network=str(ds)))
    assert_clean_error(run("validate", str(path)), "roads.parquet", "missing")
