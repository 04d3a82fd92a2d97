"""Cost, CO₂ and `planner compare`."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import line_problem, make_scenario, plan_for

from cli import main
from planner.kpis import comparison_rows, route_co2_kg, route_cost_vnd


def test_route_cost_and_co2_by_hand() -> None:
    assert route_cost_vnd(km=100, hours=10, nights=1, used=True, per_km=5000, per_hour=60_000,
                          per_trip=100_000, per_night=300_000) == 100_000 + 500_000 + 600_000 \
        + 300_000
    assert route_cost_vnd(km=0, hours=0, nights=0, used=False, per_km=1, per_hour=1,
                          per_trip=1, per_night=1) == 0
    assert route_co2_kg(km=200, fuel="diesel", l_per_100km=15) == pytest.approx(30 * 2.68)


def test_comparison_rows_mark_missing_values() -> None:
    rows = dict(comparison_rows([{"km": 12.0, "meets_target": {"2026": True}}, {}]))
    assert rows["km"] == ["12.0", "–"]
    assert rows["meets 15% (2026)"] == ["yes", "–"]


def test_planner_compare_prints_plans_side_by_side(tmp_path: Path, capsys) -> None:
    s = make_scenario()
    p = line_problem(s, [[0, 2, 3], [2, 0, 1.5], [3, 1.5, 0]])
    both, _ = plan_for(s, p, [[1, 2]])
    one, _ = plan_for(s, p, [[1]])
    both.write(tmp_path / "a.json")
    (tmp_path / "b").mkdir()
    one.write(tmp_path / "b" / "plan.json")
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "communes served" in out and "CO₂" in out and "IPCC" in out
    served = next(line for line in out.splitlines() if line.startswith("communes served"))
    assert served.split()[-2:] == ["2", "1"]
