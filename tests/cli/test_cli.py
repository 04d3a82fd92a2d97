"""Bad input on the command line: one clear message, non-zero exit, no traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from factories import scenario_dict

from cli import main

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


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Exit status and stderr of ``planner ARGS`` run in this process (argparse's own
    errors exit through SystemExit)."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("limit", ["inf", "1e308", "nan", "-1", "0", "abc"])
def test_a_bad_time_limit_flag_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          limit: str) -> None:
    """``inf`` and ``1e308`` crashed in OR-Tools; ``nan``, ``-1`` and ``0`` were accepted."""
    path = write(tmp_path, scenario_dict())
    for command in (["solve", str(path), "--out", str(tmp_path / "o")],
                    ["replan", str(tmp_path / "o"), "--out", str(tmp_path / "p")]):
        code, err = in_process(capsys, *command, f"--time-limit={limit}")
        assert code == 2 and "give a number of seconds above 0 and at most 3600" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("flag", "value"), [("--seed", "-1"), ("--seed", str(2**63)),
                                             ("--solution-limit", str(2**63)),
                                             ("--solution-limit", "0")])
def test_bad_seed_and_solution_limit_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           flag: str, value: str) -> None:
    path = write(tmp_path, scenario_dict())
    code, err = in_process(capsys, "solve", str(path), "--out", str(tmp_path / "o"),
                           f"{flag}={value}")
    assert code == 2 and "give a whole number" in err


def test_check_with_a_garbage_scenario_json(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from factories import line_problem, make_scenario, plan_for

    s = make_scenario()
    plan, _ = plan_for(s, line_problem(s, [[0, 2, 3], [2, 0, 1.5], [3, 1.5, 0]]), [[1, 2]])
    plan.write(tmp_path / "plan.json")
    for garbage in (b"[1, 2", b"[" * 50_000 + b"]" * 50_000, b"\xff\xfe", b'{"name": NaN}',
                    b"[]"):
        (tmp_path / "scenario.json").write_bytes(garbage)
        code, err = in_process(capsys, "check", str(tmp_path))
        assert code == 2 and "scenario.json" in err and "Traceback" not in err


def test_validate_refuses_an_alias_bomb_quickly(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """It ran past 60 s at 3.4 GB."""
    text = yaml.safe_dump(scenario_dict(), sort_keys=False) + "bogus0: &a0 [x, x, x, x, x]\n"
    text += "".join(f"bogus{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
                    for i in range(1, 9))
    path = tmp_path / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    code, err = in_process(capsys, "validate", str(path))
    assert code == 2 and "aliases expanded" in err and len(err) < 2_000
    assert time.perf_counter() - t0 < 5
