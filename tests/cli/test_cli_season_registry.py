"""``planner solve`` and ``planner replan`` of a season with ``--registry database``: the
batch registry, history and commune profiles are read from the database (a SQLite file here)
as a cycle reads them, so each visit of the season carries batches from that registry, the
plan folder keeps copies of what it was planned from, and ``planner check`` passes it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from factories import database_with_dispatcher, scenario_dict

from cli import main
from planner.plan import read_plan

CODES = ("00778", "00802", "00820", "00913")


def _season(path: Path) -> Path:
    """One working week of April 2027 (Giỗ Tổ Hùng Vương on the Friday), four communes each
    visited once by two trucks; no `rotation:` of its own."""
    truck = {"id": "truck", "name": "Xe 1", "profile": "truck", "depot": "lib",
             "capacity_crates": 30, "max_trip_days": 3, "count": 2}
    data = scenario_dict(
        schema_version=4, name="season-db", horizon={"start_date": "2027-04-12", "days": 7},
        vehicles=[truck],
        stops=[{"commune_code": c, "deliver_crates": 2, "service_minutes": 60} for c in CODES],
        periodic={"default_rule": {"every_weeks": 1, "tolerance_days": 2},
                  "assignment_time_limit_s": 5, "period_time_limit_s": 1},
        solver={"time_limit_s": 1, "seed": 0, "solution_limit": 300, "workers": 1})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _database(tmp_path: Path) -> str:
    """A SQLite database with a user and a registry of six batches (one Hmông), the first
    commune holding one of them since March and having had another in 2026."""
    url = database_with_dispatcher(tmp_path / "planner.sqlite3")
    rows = ["mã lô,số thùng,ngôn ngữ,đối tượng,tên lô"]
    rows += [f"DB-{i:02d},2,{'hnj' if i == 5 else 'vie'},adults,Lô {i}" for i in range(6)]
    (tmp_path / "batches.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "history.csv").write_text(
        "mã lô,mã xã,ngày giao,ngày thu\n"
        f"DB-00,{CODES[0]},2027-03-01,\nDB-01,{CODES[0]},2026-05-01,2026-06-01\n",
        encoding="utf-8")
    (tmp_path / "profiles.csv").write_text(f"mã xã,ngôn ngữ\n{CODES[1]},hnj\n",
                                           encoding="utf-8")
    return url


def test_a_season_plans_its_batches_from_the_registry_in_the_database(
        tmp_path: Path, shared_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = _season(tmp_path / "season.yaml")
    url = _database(tmp_path)
    out = tmp_path / "plan"
    # no registry in the database yet: a clear error, nothing written
    assert main(["solve", str(scenario), "--out", str(out), "--registry", "database",
                 "--database", url]) == 2
    assert "holds no batch registry" in capsys.readouterr().err and not out.exists()
    assert main(["batches", "import", str(tmp_path / "batches.csv"), "--history",
                 str(tmp_path / "history.csv"), "--profiles", str(tmp_path / "profiles.csv"),
                 "--user", "thuthu", "--database", url]) == 0
    capsys.readouterr()
    assert main(["solve", str(scenario), "--out", str(out), "--registry", "database",
                 "--database", url]) == 0
    assert "season: 1 working periods" in capsys.readouterr().out
    assert (out / "rotation" / "batches.csv").is_file()
    plan = read_plan(out / "plan.json")
    got = {x.commune_code: x.deliver_batches for r in plan.routes for x in r.visits}
    assert set(got) == set(CODES)
    assert got[CODES[1]] == ("DB-05",)  # the Hmông commune gets the one Hmông batch
    assert got[CODES[0]] and not {"DB-00", "DB-01"} & set(got[CODES[0]])  # not had before
    taken = {x.commune_code: x.collect_batches for r in plan.routes for x in r.visits}
    assert taken[CODES[0]] == ("DB-00",)  # what it holds goes back
    assert main(["check", str(out)]) == 0
    capsys.readouterr()
    # a re-plan from mid-week reads the registry from the database too
    again = tmp_path / "again"
    assert main(["replan", str(out), "--out", str(again), "--from", "2027-04-14",
                 "--registry", "database", "--database", url]) == 0
    assert "re-plan from 2027-04-14" in capsys.readouterr().out
    replanned = read_plan(again / "plan.json")
    assert {x.commune_code for r in replanned.routes for x in r.visits} == set(CODES)
    assert all(x.deliver_batches for r in replanned.routes for x in r.visits)
    assert (again / "rotation" / "batches.csv").is_file()
