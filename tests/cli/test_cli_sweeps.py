"""``planner sweep``, ``fleet-size`` and ``sweeps`` on the command line: a sweep solved,
reported, charted and stored; bad input is one clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import main

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "scenarios" / "ha-giang-2026.yaml"


def test_a_sequential_sweep_is_reported_charted_and_stored(
        tmp_path: Path, shared_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = tmp_path / "one.yaml"
    sweep.write_text(f"name: one\nscenarios: [{BASE}]\ntime_limit_s: 10\nsolution_limit: 3\n"
                     "axes: {fleet: [{xe-tv-01: 1, xe-van-02: 1}]}\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    out = tmp_path / "report"
    assert main(["sweep", str(sweep), "--sequential", "--out", str(out), "--database", url,
                 "--lang", "en"]) == 0
    printed = capsys.readouterr()
    assert "ha-giang-2026_xe-tv-01x1+xe-van-02x1" in printed.out
    assert "1 variants in" in printed.out and "on sequential" in printed.out
    assert "stored as sweep 1" in printed.out and "1/1" in printed.err
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv = (out / "results.csv").read_text(encoding="utf-8-sig")
    assert csv.startswith("variant,status,served") and "xe-tv-01x1+xe-van-02x1,ok" in csv
    assert main(["sweeps", "--database", url]) == 0
    assert "one" in capsys.readouterr().out
    assert main(["sweeps", "1", "--database", url]) == 0
    assert "sweep 1 (sweep) one: 1 variants, 0 failed" in capsys.readouterr().out
    assert main(["sweeps", "7", "--database", url]) == 2
    assert "no sweep 7" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["fleet-size", str(BASE), "--target", "1.5", "--no-store"], "--target 1.5"),
    (["fleet-size", str(BASE), "--target", "0.5", "--no-store"], "lists 12 stops"),
    (["sweep", "missing.yaml", "--no-store"], "no such file"),
    (["sweep", str(BASE), "--no-store"], "1 problem in sweep file:\n  - " + str(BASE)
     + ": field `(file)` = (missing): this is a scenario, not a sweep file"),
    (["sweep", str(BASE), "--sequential", "--scheduler", "tcp://x:8786"], "choose one"),
    (["region", "--provinces", "Atlantis", "--no-store"], "no road data of this province"),
])
def test_bad_input_is_one_clear_message(args: list[str], message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(args)
    captured = capsys.readouterr()
    assert message in captured.out + captured.err
    assert code != 0
