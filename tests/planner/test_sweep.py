"""Sweeps (issue 18): the sweep file, a small sweep on a real 2-worker Dask LocalCluster, a
variant that fails alone (retried once, then reported), and the same code path sequentially.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from planner._dask import DaskEngine
from planner.kpis import coverage
from planner.sweep import (
    SweepError,
    Variant,
    VariantResult,
    load_sweep,
    run_sequential,
    share_of,
    solve_cycle,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "scenarios" / "ha-giang-2026.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(text.replace("BASE", str(BASE)), encoding="utf-8")
    return path


SMALL = """
name: small
scenarios: [BASE]
time_limit_s: 10
solution_limit: 3   # a few improving solutions: seconds, whatever the load
axes:
  fleet: [{xe-tv-01: 1, xe-van-02: 0}, {xe-tv-01: 1, xe-van-02: 1}]
  season: [dry, rainy]
"""


def test_a_sweep_file_makes_one_validated_variant_per_combination(tmp_path: Path) -> None:
    spec, variants = load_sweep(_write(tmp_path, SMALL + """  service_minutes: [90]
variants:
  - name: light-crates
    set: {crate_kg: 12}
"""))
    assert spec.name == "small"
    assert [v.key for v in variants] == [
        "ha-giang-2026_xe-tv-01x1_dry_90", "ha-giang-2026_xe-tv-01x1_rainy_90",
        "ha-giang-2026_xe-tv-01x1+xe-van-02x1_dry_90",
        "ha-giang-2026_xe-tv-01x1+xe-van-02x1_rainy_90", "ha-giang-2026_light-crates"]
    one_truck = variants[0].scenario()
    assert [(v.id, v.count) for v in one_truck.vehicles] == [("xe-tv-01", 1)]
    assert one_truck.road_conditions.season == "dry"
    assert {s.service_minutes for s in one_truck.stops} == {90}
    assert one_truck.solver.workers == 1  # Dask's daemonic workers start no search process
    assert variants[4].scenario().crate_kg == 12
    assert len(variants[4].scenario().vehicles) == 2


@pytest.mark.parametrize(("text", "field", "why"), [
    ("name: x\nscenarios: [BASE]\naxes: {fleet: [{xe-bus: 1}]}\n", "axes.fleet[0]",
     "no vehicle entry of this id"),
    ("name: x\nscenarios: [BASE]\naxes: {fleet: [{xe-tv-01@nowhere: 1}]}\n",
     "axes.fleet[0]", "no depot 'nowhere'"),
    ("name: x\nscenarios: [BASE]\naxes: {season: [monsoon]}\n", "axes.season.0", "Input"),
    ("name: x\nscenarios: [missing.yaml]\n", "scenarios[0]", "no such scenario file"),
    ("name: x\n", "scenarios", "no scenario to vary"),
    ("name: x\nscenarios: [BASE]\ncolour: red\n", "colour", "Extra inputs"),
    ("name: x\nscenarios: [BASE]\nvariants: [{name: a, set: {horizon: {days: 0}}}]\n",
     "horizon.days", "greater than or equal to 1"),
])
def test_a_bad_sweep_file_names_file_field_and_value(tmp_path: Path, text: str, field: str,
                                                     why: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SweepError) as err:
        load_sweep(path)
    message = str(err.value)
    assert str(path.resolve()) in message and field in message and why in message


def _check_result(result: VariantResult, variant: Variant) -> None:
    assert result.ok, result.error
    assert result.key == variant.key and dict(result.axes) == dict(variant.axes)
    kpis = result.kpi()
    assert 0 < kpis.communes_served <= len(variant.scenario().stops)
    assert share_of(result) == coverage(kpis.communes_served, kpis.service_area_communes)
    assert result.peak_rss_mb > 50 and result.wall_s > 0.5


@pytest.mark.slow
def test_a_small_sweep_on_a_two_worker_local_cluster(tmp_path: Path, shared_cache: Path
                                                     ) -> None:
    _spec, variants = load_sweep(_write(tmp_path, SMALL))
    seen: list[tuple[int, int]] = []
    with DaskEngine(n_workers=2) as engine:
        assert engine.workers == 2
        run = engine.run(variants, on_progress=lambda done, total, r: seen.append((done, total)))
    assert seen == [(i, 4) for i in range(1, 5)]
    assert [r.key for r in run.results] == [v.key for v in variants]
    for result, variant in zip(run.results, variants, strict=True):
        _check_result(result, variant)
    assert len({r.worker for r in run.results}) == 2  # both worker processes solved
    assert run.engine == "dask LocalCluster, 2 workers" and run.workers == 2
    # a second vehicle of the same plan serves at least what one truck alone does
    for season in ("dry", "rainy"):
        alone, both = (next(r for r in run.results if r.axes["fleet"] == f
                            and r.axes["season"] == season)
                       for f in ("xe-tv-01x1", "xe-tv-01x1+xe-van-02x1"))
        assert both.kpi().communes_served >= alone.kpi().communes_served - 1


def fail_first_attempt(marker: Path, variant: Variant) -> VariantResult:
    """``solve_cycle``, except that each variant's first attempt raises (a crashed solve);
    every attempt is written down in ``marker``."""
    with marker.open("a", encoding="utf-8") as fh:
        fh.write(variant.key + "\n")
    if marker.read_text(encoding="utf-8").splitlines().count(variant.key) == 1:
        raise RuntimeError(f"first attempt of {variant.key} crashed")
    return solve_cycle(variant)


BROKEN = """
name: broken
scenarios: [BASE]
time_limit_s: 10
solution_limit: 3   # a few improving solutions: seconds, whatever the load
variants:          # the base as it is, then this one
  - name: wrong-network   # Hà Giang's communes on Cao Bằng's roads: fails in the solve
    set: {network: cao_bang}
"""


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["dask", "sequential"])
def test_a_failed_variant_fails_alone_after_one_retry(tmp_path: Path, shared_cache: Path,
                                                      engine: str) -> None:
    _spec, variants = load_sweep(_write(tmp_path, BROKEN))
    marker = tmp_path / "attempts.txt"
    solver = functools.partial(fail_first_attempt, marker)
    if engine == "dask":
        with DaskEngine(n_workers=2) as dask:
            run = dask.run(variants, solver)
    else:
        run = run_sequential(variants, solver)
    good, wrong = run.results
    _check_result(good, variants[0])
    assert good.attempts == 2  # its first attempt crashed
    assert wrong.status == "failed" and wrong.kpis is None
    assert "no commune with this code in road dataset 'cao_bang'" in wrong.error
    assert wrong.attempts == 2 and run.failed == (wrong,)
    attempts = marker.read_text(encoding="utf-8").splitlines()
    assert sorted(attempts) == sorted([v.key for v in variants] * 2)  # each tried twice


@pytest.mark.slow
def test_the_region_has_a_base_for_every_province_with_road_data(tmp_path: Path,
                                                                 shared_cache: Path) -> None:
    """Hà Giang and Cao Bằng ship with their roads: each gets `planner scenario new`'s
    scenario of its 15% most remote communes, counted against its province."""
    _spec, variants = load_sweep(_write(tmp_path, "name: region\nprovinces: {names: all}\n"))
    assert [v.key for v in variants] == ["cao_bang", "ha_giang"]
    for variant, area in zip(variants, (56, 73), strict=True):
        scenario = variant.scenario()
        assert scenario.network == variant.key and scenario.solver.workers == 1
        assert len(scenario.stops) == -(-15 * area // 100)  # 15% rounded up
        assert scenario.service_area is not None
    _spec, one = load_sweep(_write(tmp_path, "name: r\nprovinces: {names: [Cao Bằng]}\n"))
    assert [v.key for v in one] == ["cao_bang"]
