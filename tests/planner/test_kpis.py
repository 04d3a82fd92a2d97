"""Cost, CO₂ and `planner compare`."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import line_problem, make_scenario, plan_for
from hypothesis import given
from hypothesis import strategies as st

from cli import main
from planner.kpis import (
    BETTER_HIGHER,
    BETTER_LOWER,
    COMPARE_ROWS,
    PROGRAMME_TARGETS,
    Kpis,
    comparison_rows,
    coverage,
    difference_sense,
    route_co2_kg,
    route_cost_vnd,
)


def test_route_cost_and_co2_by_hand() -> None:
    assert route_cost_vnd(km=100, hours=10, nights=1, used=True, per_km=5000, per_hour=60_000,
                          per_trip=100_000, per_night=300_000) == 100_000 + 500_000 + 600_000 \
        + 300_000
    assert route_cost_vnd(km=0, hours=0, nights=0, used=False, per_km=1, per_hour=1,
                          per_trip=1, per_night=1) == 0
    assert route_co2_kg(km=200, fuel="diesel", l_per_100km=15) == pytest.approx(30 * 2.68)


def test_comparison_rows_mark_missing_values() -> None:
    costed = Kpis.from_dict({"km": 12.0, "meets_target": {"2026": True}, "cost_vnd": 1500})
    rows = dict(comparison_rows([costed, Kpis.from_dict({})]))  # a plan of an older version
    assert rows["km"] == ["12.0", "0.0"]
    assert rows["cost, VND"] == ["1,500", "–"]
    assert rows["meets 15% (2026)"] == ["yes", "–"]


def test_coverage_and_target_progress_have_one_definition() -> None:
    kpis = Kpis(communes_served=12, service_area_communes=73)
    assert coverage(12, 73) == pytest.approx(12 / 73) and coverage(3, 0) == 0.0
    progress = {t.year: t for t in kpis.target_progress()}
    assert [t.year for t in PROGRAMME_TARGETS] == sorted(progress)
    assert (progress["2026"].needed, progress["2026"].missing, progress["2026"].met) == \
        (11, 0, True)  # ceil(0.15 x 73) = 11
    assert (progress["2030"].needed, progress["2030"].missing) == (37, 25)
    assert Kpis.from_dict(kpis.to_dict()) == kpis


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


@given(st.sampled_from([key for key, _, _ in COMPARE_ROWS]),
       st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_a_difference_is_better_or_worse_by_the_rows_sense(key: str, d: float) -> None:
    """B − A marked better or worse: opposite differences get opposite marks, none for no
    difference, a target row, or a row that is neither (trips)."""
    assert not BETTER_HIGHER & BETTER_LOWER
    sense, opposite = difference_sense(key, d), difference_sense(key, -d)
    if d == 0 or key not in BETTER_HIGHER | BETTER_LOWER:
        assert sense == opposite == ""
    else:
        assert {sense, opposite} == {"better", "worse"}
        assert (sense == "better") == ((d > 0) == (key in BETTER_HIGHER))
