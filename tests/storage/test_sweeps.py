"""Sweeps kept in the database: a run's variants read back as they were, newest first."""

from __future__ import annotations

import pytest

from planner.sweep import SweepRun, VariantResult
from storage import Database, InvalidRecordError, RecordNotFoundError
from storage.sweeps import get_sweep, latest_sweep, list_sweeps, save_sweep

OK = VariantResult(key="hg_truck_dry", base="ha-giang-2026", axes={"fleet": "xe-tv-01x1"},
                   status="ok", kpis={"communes_served": 8, "service_area_communes": 73,
                                      "service_area_share": 0.1096, "cost_vnd": 10_839_000},
                   objective=123, unserved_reasons={"no_time": 4}, vehicles=1, wall_s=2.4,
                   peak_rss_mb=329.6, worker="vm:1")
FAILED = VariantResult(key="hg_wrong", base="ha-giang-2026", axes={"variant": "wrong"},
                       status="failed", attempts=2, error="ScenarioError: Xã Lũng Cú …")


def test_a_sweep_reads_back_as_it_ran(db: Database) -> None:
    run = SweepRun("hg-test", (OK, FAILED), 6.1, "dask LocalCluster, 2 workers", 2)
    with db.begin() as s:
        first = save_sweep(s, run, kind="sweep", spec={"name": "hg-test"}, title="thử")
        second = save_sweep(s, SweepRun("region", (OK,), 3.0, "sequential", 1), kind="region",
                            spec={"share": 0.15})
    with db.read() as s:
        back = get_sweep(s, first)
        assert back.results == (OK, FAILED)
        assert (back.name, back.kind, back.title, back.variants, back.failed, back.workers) == (
            "hg-test", "sweep", "thử", 2, 1, 2)
        assert back.spec == {"name": "hg-test"} and back.summary is None
        assert [x.id for x in list_sweeps(s)] == [second, first]
        assert [x.id for x in list_sweeps(s, kind="sweep")] == [first]
        latest = latest_sweep(s, kind="region")
        assert latest is not None and latest.id == second and latest.results == (OK,)
        assert latest_sweep(s, kind="fleet") is None
        with pytest.raises(RecordNotFoundError, match="no sweep 999"):
            get_sweep(s, 999)
    with pytest.raises(InvalidRecordError, match="sweep kind"), db.begin() as s:
        save_sweep(s, run, kind="other", spec={})
