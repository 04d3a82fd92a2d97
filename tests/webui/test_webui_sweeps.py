"""The sweep pages: the list, a sweep's comparison, a fleet sizing's answer with the fleets
tried and why they fell short, the region's progress toward 15/50/90%, and their charts."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from matplotlib.image import imread

from planner.sweep import SweepRun, VariantResult
from storage.sweeps import save_sweep
from webui.services import services_of


def _result(key: str, base: str, served: int, area: int, *, cost: float = 1e7,
            **axes: str) -> VariantResult:
    from planner.kpis import PROGRAMME_TARGETS, coverage

    share = coverage(served, area)
    return VariantResult(
        key=key, base=base, axes=axes, status="ok",
        kpis={"communes_served": served, "service_area_communes": area,
              "service_area_share": round(share, 4), "cost_vnd": cost, "km": 600.0,
              "meets_target": {t.year: share >= t.share for t in PROGRAMME_TARGETS}},
        wall_s=3.2, peak_rss_mb=340.0, vehicles=2)


FAILED = VariantResult(key="ha-giang-2026_wrong", base="ha-giang-2026",
                       axes={"variant": "wrong"}, status="failed", attempts=2,
                       error="Traceback…\nScenarioError: no commune 00778 in cao_bang")


def _store(app: Flask, run: SweepRun, kind: str, **kw: object) -> int:
    with services_of(app).database.begin() as session:
        return save_sweep(session, run, kind=kind, spec={}, **kw)  # type: ignore[arg-type]


def _png_size(data: bytes) -> tuple[int, int]:
    image = imread(io.BytesIO(data), format="png")
    return image.shape[1], image.shape[0]


def test_a_sweep_page_compares_its_variants(app: Flask, client: FlaskClient) -> None:
    run = SweepRun("hg-fleet-season", (
        _result("ha-giang-2026_xe-tv-01x1_dry", "ha-giang-2026", 8, 73, fleet="xe-tv-01x1"),
        _result("ha-giang-2026_xe-tv-01x1+xe-van-02x1_dry", "ha-giang-2026", 12, 73),
        FAILED), 6.1, "dask LocalCluster, 2 workers", 2)
    sweep_id = _store(app, run, "sweep", title="Hà Giang: đội xe và mùa")
    page = client.get("/sweeps/").get_data(as_text=True)
    assert f"/sweeps/{sweep_id}" in page and "hg-fleet-season" in page
    assert "So sánh phương án" in page
    page = client.get(f"/sweeps/{sweep_id}").get_data(as_text=True)
    assert "3 phương án, 1 lỗi" in page and "dask LocalCluster, 2 workers" in page
    assert "ha-giang-2026_xe-tv-01x1+xe-van-02x1_dry" in page and "16,4%" in page
    assert "Đạt mục tiêu 15% (2026)" in page and "Bộ nhớ cao nhất (MB)" in page
    assert "lỗi sau 2 lần thử" in page and "no commune 00778 in cao_bang" in page
    en = client.get(f"/sweeps/{sweep_id}?lang=en").get_data(as_text=True)
    assert "3 variants, 1 failed" in en and "failed after 2 attempts" in en
    chart = client.get(f"/sweeps/{sweep_id}/chart.png")
    assert chart.status_code == 200 and chart.mimetype == "image/png"
    width, height = _png_size(chart.data)
    assert width > 300 and height > 200
    assert client.get("/sweeps/999").status_code == 404


def test_a_fleet_sizing_page_says_which_smaller_fleets_fell_short(app: Flask,
                                                                  client: FlaskClient) -> None:
    trials = [
        {"counts": [1, 0], "label": "xe-tv-01x1", "vehicles": 1, "served": 8, "cost_vnd": 1.08e7,
         "share": 8 / 73, "reached": False, "source": [1, 0], "status": "ok", "error": "",
         "wall_s": 3.0, "unserved_reasons": {"no_time": 4}, "why_short": "…"},
        {"counts": [1, 1], "label": "xe-tv-01x1+xe-van-02x1", "vehicles": 2, "served": 12,
         "cost_vnd": 1.5e7, "share": 12 / 73, "reached": True, "source": [1, 1],
         "status": "ok", "error": "", "wall_s": 3.0, "unserved_reasons": {}, "why_short": ""}]
    summary = {"scenario": "ha-giang-2026", "target": 0.15, "service_area": 73, "needed": 11,
               "options": ["xe-tv-01", "xe-van-02"],
               "budget": {"max_fleets": 5, "time_limit_s": 10, "max_vehicles": 3},
               "trials": trials, "chosen": trials[1], "stopped": "…", "stopped_code": "budget",
               "stopped_values": {"vehicles": 3}}
    run = SweepRun("fleet-ha-giang-2026", (
        _result("xe-tv-01x1", "ha-giang-2026", 8, 73),
        _result("xe-tv-01x1+xe-van-02x1", "ha-giang-2026", 12, 73)), 6.0, "sequential", 1)
    sweep_id = _store(app, run, "fleet", summary=summary)
    page = client.get(f"/sweeps/{sweep_id}").get_data(as_text=True)
    assert "Đội xe rẻ nhất đạt mục tiêu" in page
    assert "Mục tiêu 15% của 73 xã: cần phục vụ 11 xã." in page
    assert "Đội xe xe-tv-01x1+xe-van-02x1 (2 xe) phục vụ 12 xã" in page
    assert "tối đa 5 đội xe được giải" in page and "trước khi thử đội 3 xe" in page
    assert "phục vụ 8 xã, mục tiêu cần 11; 4 ×" in page
    chart = client.get(f"/sweeps/{sweep_id}/chart.png?lang=en")
    assert chart.status_code == 200 and _png_size(chart.data)[0] > 300


def test_the_region_page_shows_each_province_toward_the_targets(
        app: Flask, client: FlaskClient, client_as: Callable[..., FlaskClient]) -> None:
    page = client.get("/sweeps/region").get_data(as_text=True)
    assert "Chưa có lần chạy toàn vùng nào" in page
    run = SweepRun("region", (_result("cao_bang", "cao_bang", 9, 56),
                              _result("ha_giang", "ha_giang", 38, 73)), 20.0,
                   "dask LocalCluster, 2 workers", 2)
    _store(app, run, "region", title="15%, truck:1,van:1, 5 days")
    page = client.get("/sweeps/region").get_data(as_text=True)
    assert "Toàn vùng: tiến độ từng tỉnh" in page
    assert "phục vụ 9 trong 56 xã (16,1%)" in page and "15% (2026): đạt" in page
    assert "50% (2030): còn thiếu 19 trong 28 xã" in page  # 9 of 56: 28 needed for 50%
    assert "50% (2030): đạt" in page  # Hà Giang: 38 of 73
    assert "90% (2045): còn thiếu 28 trong 66 xã" in page
    assert "bộ nhớ cao nhất 340 MB" in page
    assert client_as("viewer").get("/sweeps/region").status_code == 200
    assert client_as("driver").get("/sweeps/region").status_code == 403


SEASON = {"start_date": "2027-04-12", "days": 14, "periods": 2, "visits_due": 12,
          "visits": 11, "visits_missed": 1, "communes_visited": 11, "communes_on_rule": 11}


def test_season_sweeps_show_the_season_on_the_region_sweep_and_fleet_pages(
        app: Flask, client: FlaskClient) -> None:
    from dataclasses import replace

    province = replace(_result("ha_giang", "ha_giang", 11, 73), season=SEASON)
    province = replace(province, kpis={**province.kpis, "trips": 4, "nights_away": 6})
    _store(app, SweepRun("region-season", (province,), 20.0, "sequential", 1), "region")
    page = client.get("/sweeps/region").get_data(as_text=True)
    assert "Mùa 14 ngày từ 12/04/2027: 11/12 lượt thăm có chuyến, 4 chuyến, 6 đêm" in page
    assert "mọi lượt thăm đến hạn đều có chuyến" in page
    en = client.get("/sweeps/region?lang=en").get_data(as_text=True)
    assert "Season of 14 days from" in en and "11 of 12 visits on trips" in en
    sweep_id = _store(app, SweepRun("s", (province,), 20.0, "sequential", 1), "sweep")
    page = client.get(f"/sweeps/{sweep_id}?lang=vi").get_data(as_text=True)
    assert "Lượt thăm" in page and "Số đêm ngủ lại" in page
    trial = {"counts": [2], "label": "xe-tvx2", "vehicles": 2, "served": 11,
             "cost_vnd": 2.5e7, "share": 11 / 73, "reached": True, "source": [2],
             "status": "ok", "error": "", "wall_s": 3.0, "unserved_reasons": {},
             "why_short": ""}
    summary = {"scenario": "hg-season", "target": 0.15, "service_area": 73, "needed": 11,
               "options": ["xe-tv"], "budget": {"max_fleets": 4, "time_limit_s": 2,
                                                "max_vehicles": 3},
               "trials": [trial], "chosen": trial, "stopped": "…", "stopped_code": "",
               "stopped_values": {},
               "season": {"start_date": "2027-04-12", "days": 14, "rule": {"count": 1}}}
    fleet_id = _store(app, SweepRun("fleet-hg-season", (province,), 3.0, "sequential", 1),
                      "fleet", summary=summary)
    page = client.get(f"/sweeps/{fleet_id}").get_data(as_text=True)
    assert "lịch thăm của một mùa 14 ngày từ 12/04/2027" in page
    assert "phục vụ 11 xã (15,1%) đúng lịch thăm" in page and "cho cả mùa" in page
