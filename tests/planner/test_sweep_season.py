"""Seasons in sweeps (issue 18): a sweep file's ``season:`` makes every base a season (the
calendar, horizon and visit rule of a season scenario), its variants are solved as seasons by
the season solver, picked by the scenario; the region in one run planned as seasons on a real
2-worker Dask LocalCluster, each province's coverage by the visit rule against the targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner._dask import DaskEngine
from planner.kpis import coverage
from planner.sweep import SweepError, load_sweep, share_of, solve_variant

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "scenarios" / "ha-giang-2026.yaml"
SEASON = ROOT / "scenarios" / "ha-giang-2026-season.yaml"

# a short season: every commune once in a working week (the horizon of a test)
SHORT_SEASON = """
schema_version: 4
name: short-season
network: ha_giang
horizon: {start_date: 2027-04-12, days: 5}
calendar: {public_holidays: VN}
periodic:
  default_rule: {count: 1}
  assignment_time_limit_s: 5
  period_time_limit_s: 2
  repair_rounds: 1
depots: [{id: lib, name: "Thư viện", location: {lon: 104.963, lat: 22.8605}}]
vehicles: [{id: truck, name: "Xe 1", profile: truck, depot: lib, capacity_crates: 30}]
stops: [{commune_code: "00922", deliver_crates: 4}]
"""


def _write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text.replace("BASE", str(BASE)).replace("SEASON", str(SEASON)),
                    encoding="utf-8")
    return path


def test_a_sweep_season_plans_every_base_as_that_season(tmp_path: Path) -> None:
    _spec, variants = load_sweep(_write(tmp_path, """
name: hg-season
scenarios: [BASE]
season: {file: SEASON, days: 14}
axes: {fleet: [{xe-tv-01: 1, xe-van-02: 0}, {xe-tv-01: 1, xe-van-02: 1}]}
"""))
    for variant in variants:
        scenario = variant.scenario()
        assert scenario.is_season and scenario.schema_version == 4
        assert scenario.horizon.days == 14 and str(scenario.horizon.start_date) == "2026-12-07"
        assert scenario.periodic is not None and scenario.periodic.max_period_days == 5
        assert scenario.periodic.default_rule is not None
        assert scenario.periodic.default_rule.every_weeks == 4
        assert len(scenario.stops) == 12  # the base's communes and vehicles, not the season's
        assert scenario.solver.workers == 1
    assert [len(v.scenario().vehicles) for v in variants] == [1, 2]
    # a season scenario as base: `days` alone shortens its horizon
    _spec, own = load_sweep(_write(tmp_path, "name: s\nscenarios: [SEASON]\n"
                                             "season: {days: 10}\n"))
    assert own[0].scenario().horizon.days == 10 and own[0].scenario().is_season


@pytest.mark.parametrize(("text", "field", "why"), [
    ("name: x\nscenarios: [BASE]\nseason: {file: nowhere.yaml}\n", "season.file",
     "no such season scenario file"),
    ("name: x\nscenarios: [BASE]\nseason: {file: BASE}\n", "season.file",
     "not a season scenario"),
    ("name: x\nscenarios: [BASE]\nseason: {days: 14}\n", "season",
     "not a season scenario (no `periodic:`)"),
    ("name: x\nscenarios: [BASE]\nseason: {file: SEASON, days: 0}\n", "season.days",
     "greater than or equal to 1"),
])
def test_a_bad_season_names_the_sweep_file_and_field(tmp_path: Path, text: str, field: str,
                                                     why: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    message = str(err.value)
    assert str(path.resolve()) in message and field in message and why in message


@pytest.mark.slow
def test_the_region_as_seasons_on_a_two_worker_local_cluster(tmp_path: Path,
                                                             shared_cache: Path) -> None:
    """Hà Giang and Cao Bằng, each its 15% most remote communes planned as a season of a
    working week on its own Dask worker; coverage counts the communes served by their rule."""
    _write(tmp_path, SHORT_SEASON, "season.yaml")
    _spec, variants = load_sweep(_write(tmp_path, """
name: region-season
provinces: {names: all}
season: {file: season.yaml}
time_limit_s: 2
solution_limit: 3
"""))
    assert [v.key for v in variants] == ["cao_bang", "ha_giang"]
    assert all(v.scenario().is_season for v in variants)
    with DaskEngine(n_workers=2) as engine:
        run = engine.run(variants)  # the default solver picks the season solver
    assert run.engine == "dask LocalCluster, 2 workers" and not run.failed
    assert len({r.worker for r in run.results}) == 2
    for result, area in zip(run.results, (56, 73), strict=True):
        season = result.season
        assert season["days"] == 5 and season["start_date"] == "2027-04-12"
        kpis = result.kpi()
        assert kpis.service_area_communes == area
        assert kpis.communes_served == season["communes_on_rule"] <= season["communes_visited"]
        assert season["visits"] + season["visits_missed"] == season["visits_due"]
        assert share_of(result) == coverage(season["communes_on_rule"], area)
        assert kpis.meets_target["2026"] == (share_of(result) >= 0.15)
        assert kpis.trips >= 1 and kpis.km > 0 and (kpis.cost_vnd or 0) > 0
        assert result.wall_s > 0 and result.peak_rss_mb > 50


def test_the_default_solver_picks_by_the_scenario(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A season scenario's variant goes to the season solver, any other to the cycle's."""
    import planner.sweep as sweep

    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(sweep, "solve_cycle", lambda v: seen.append(("cycle", v.key)))
    monkeypatch.setattr(sweep, "solve_season_variant", lambda v: seen.append(("season", v.key)))
    _spec, variants = load_sweep(_write(tmp_path, "name: c\nscenarios: [BASE, SEASON]\n"))
    for variant in variants:
        solve_variant(variant)
    assert seen == [("cycle", "ha-giang-2026"), ("season", "ha-giang-2026-season")]


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_the_shipped_sweep_files_load(path: Path) -> None:
    spec, variants = load_sweep(path)
    assert variants
    if spec.season is not None:
        assert all(v.scenario().is_season for v in variants)
