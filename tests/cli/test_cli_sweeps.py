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


# four communes beside Hà Giang city, three hours on site each: one vehicle visits two in a
# day, two vehicles all four
TINY_CYCLE = """
schema_version: 1
name: tiny-fleet
network: ha_giang
horizon: {start_date: 2027-04-12, days: 1}
depots: [{id: lib, name: "Thư viện", location: {lon: 104.963, lat: 22.8605}}]
vehicles:
  - {id: truck, name: "Xe 1", profile: truck, depot: lib, capacity_crates: 30,
     max_trip_days: 1, cost_vnd_per_km: 5000, cost_vnd_per_trip: 200000}
  - {id: van, name: "Xe 2", profile: van, depot: lib, capacity_crates: 20,
     max_trip_days: 1, cost_vnd_per_km: 3000, cost_vnd_per_trip: 150000}
stops:
  - {commune_code: "00922", deliver_crates: 4, service_minutes: 180}
  - {commune_code: "00928", deliver_crates: 4, service_minutes: 180}
  - {commune_code: "00919", deliver_crates: 4, service_minutes: 180}
  - {commune_code: "00706", deliver_crates: 4, service_minutes: 180}
"""
TINY_SEASON = """
schema_version: 4
name: tiny-season
network: ha_giang
horizon: {start_date: 2027-04-12, days: 5}
calendar: {public_holidays: VN}
periodic:
  default_rule: {count: 1}
  assignment_time_limit_s: 5
  period_time_limit_s: 1
  repair_rounds: 1
depots: [{id: lib, name: "Thư viện", location: {lon: 104.963, lat: 22.8605}}]
vehicles: [{id: truck, name: "Xe 1", profile: truck, depot: lib, capacity_crates: 30}]
stops: [{commune_code: "00922", deliver_crates: 4}]
"""


def test_fleet_size_under_a_season_visit_rule(tmp_path: Path, shared_cache: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Every fleet is planned as the season (cut to one day); a commune counts when its due
    visit is on a trip; coverage never falls when a vehicle is added; the answer is the
    cheapest fleet reaching 5% of Hà Giang's 73 communes (4), stored and drawn."""
    import itertools
    import json

    from planner.fleet import contains

    (tmp_path / "cycle.yaml").write_text(TINY_CYCLE, encoding="utf-8")
    (tmp_path / "season.yaml").write_text(TINY_SEASON, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    out = tmp_path / "fleet"
    assert main(["fleet-size", str(tmp_path / "cycle.yaml"), "--target", "0.05", "--season",
                 str(tmp_path / "season.yaml"), "--season-days", "1", "--sequential",
                 "--max-fleets", "4", "--time-limit", "1", "--out", str(out),
                 "--database", url]) == 0
    printed = capsys.readouterr()
    assert "as a season of 1 days from 2027-04-12" in printed.err
    assert "the season of 1 days (communes served by their visit rule)" in printed.out
    answer = json.loads((out / "answer.json").read_text(encoding="utf-8"))
    assert answer["season"] == {"start_date": "2027-04-12", "days": 1, "rule": {"count": 1}}
    trials = {tuple(t["counts"]): t for t in answer["trials"]}
    assert list(trials) == [(1, 0), (0, 1), (2, 0), (1, 1)]
    for small, big in itertools.permutations(trials, 2):
        if contains(big, small):
            assert trials[big]["served"] >= trials[small]["served"]
    assert all(not trials[c]["reached"] and "the target needs 4" in trials[c]["why_short"]
               for c in ((1, 0), (0, 1)))  # one vehicle: two communes in the day
    chosen = answer["chosen"]
    assert chosen["reached"] and chosen["served"] >= 4 and chosen["vehicles"] == 2
    assert chosen["cost_vnd"] == min(t["cost_vnd"] for t in trials.values() if t["reached"])
    assert (out / "fleet.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "stored as sweep 1" in printed.out
    assert main(["sweeps", "1", "--database", url]) == 0
    assert f"answer: {chosen['label']}" in capsys.readouterr().out
