"""The sweep, fleet sizing and region pages in a real browser, as a planner: sweeps of each
kind (seasons among them) stored as ``planner sweep``, ``fleet-size --season`` and ``region``
store them; each page shows its table and its chart image loads, with no error in the console
and no failed request."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from e2e_kit import Visit, page_as

from planner.kpis import PROGRAMME_TARGETS, coverage
from planner.sweep import SweepRun, VariantResult
from storage import open_database
from storage.sweeps import save_sweep

PLANNER, PLANNER_PASSWORD = "e2e-planner-lan", "e2e-planner-password-1"
SEASON = {"start_date": "2027-04-12", "days": 14, "periods": 2, "visits_due": 12,
          "visits": 11, "visits_missed": 1, "communes_visited": 11, "communes_on_rule": 11}
IMAGE_LOADED_JS = "img => img.complete && img.naturalWidth > 0"


def _result(key: str, served: int, area: int, cost: float, **axes: str) -> VariantResult:
    share = coverage(served, area)
    return VariantResult(
        key=key, base=key.split("_")[0], axes=axes, status="ok",
        kpis={"communes_served": served, "service_area_communes": area,
              "service_area_share": round(share, 4), "cost_vnd": cost, "km": 640.0,
              "trips": 4, "nights_away": 6,
              "meets_target": {t.year: share >= t.share for t in PROGRAMME_TARGETS}},
        wall_s=6.1, peak_rss_mb=360.0, vehicles=2, season=SEASON)


def _store_sweeps(visit: Visit) -> dict[str, int]:
    """A season sweep, a season fleet sizing and a season region run, in the server's
    database."""
    one, two = (_result("hg-season_xe-tvx1", 6, 73, 9.5e6, fleet="xe-tvx1"),
                _result("hg-season_xe-tvx2", 11, 73, 1.6e7, fleet="xe-tvx2"))
    failed = VariantResult(key="hg-season_wrong", base="hg-season", axes={}, status="failed",
                           attempts=2, error="Traceback…\nPlannerError: no period to route")
    trials = [{"counts": [c], "label": r.key.split("_")[1], "vehicles": c,
               "served": r.kpi().communes_served, "cost_vnd": r.kpi().cost_vnd,
               "share": coverage(r.kpi().communes_served, 73),
               "reached": r.kpi().communes_served >= 11, "source": [c], "status": "ok",
               "error": "", "wall_s": 6.1,
               "unserved_reasons": {} if c == 2 else {"no_room_days": 5},
               "why_short": ""} for c, r in ((1, one), (2, two))]
    summary = {"scenario": "hg-season", "target": 0.15, "service_area": 73, "needed": 11,
               "options": ["xe-tv"], "budget": {"max_fleets": 4, "time_limit_s": 2,
                                                "max_vehicles": 3},
               "trials": trials, "chosen": trials[1], "stopped": "…", "stopped_code": "reached",
               "stopped_values": {"vehicles": 2, "next": 3},
               "season": {"start_date": "2027-04-12", "days": 14, "rule": {"count": 1}}}
    db = open_database(f"sqlite:///{visit.server.root / 'planner.sqlite3'}")
    try:
        with db.begin() as s:
            return {
                "sweep": save_sweep(s, SweepRun("hg-season", (one, two, failed), 14.0,
                                                "dask LocalCluster, 2 workers", 2),
                                    kind="sweep", spec={}, title="Hà Giang: mùa 14 ngày"),
                "fleet": save_sweep(s, SweepRun("fleet-hg-season", (one, two), 12.2,
                                                "sequential", 1),
                                    kind="fleet", spec={}, summary=summary),
                "region": save_sweep(s, SweepRun("region", (
                    replace(_result("cao_bang", 9, 56, 8e6), base="cao_bang"),
                    replace(_result("ha_giang", 11, 73, 9e6), base="ha_giang")), 23.8,
                    "dask LocalCluster, 2 workers", 2), kind="region", spec={},
                    title="15%, truck:1,van:1, 5 days, season of 14 days")}
    finally:
        db.dispose()


def test_a_planner_sees_the_sweep_fleet_and_region_pages(visit: Visit) -> None:
    ids = _store_sweeps(visit)
    page = page_as(visit, PLANNER, PLANNER_PASSWORD, role="planner")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}")
            if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)

    def open_page(path: str, table: str, rows: int, shot: str) -> Any:
        page.goto(visit.server.url(path))
        page.wait_for_load_state("load")
        body = page.locator(table)
        assert body.count() == rows and body.first.is_visible(), (path, page.content()[:1500])
        chart = page.locator("img.chart")
        if chart.count():
            chart.wait_for(state="visible")
            assert chart.evaluate(IMAGE_LOADED_JS), f"{path}: the chart did not load"
            box = chart.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 150
        _shot(page, shot)
        return page

    try:
        open_page("/sweeps/?lang=vi", "table.sweeps tbody tr", 3, "sweeps.png")
        assert page.locator('a[href="/sweeps/region"]').count() >= 1
        open_page(f"/sweeps/{ids['sweep']}", "table.sweep-results tbody tr", 3,
                  "sweep-season.png")
        assert page.locator("table.sweep-results thead").inner_text().count("Lượt thăm") == 1
        assert "lỗi sau 2 lần thử" in page.locator("tr.failed").inner_text()
        open_page(f"/sweeps/{ids['fleet']}", "table.fleet-trials tbody tr", 2,
                  "fleet-season.png")
        assert "cho cả mùa" in page.locator("p.answer").inner_text()
        assert page.locator("table.fleet-trials tr.chosen").count() == 1
        assert "lịch thăm của một mùa 14 ngày" in page.locator("p.season-terms").inner_text()
        open_page("/sweeps/region", ".targets .target", 2, "region-season.png")
        assert page.locator(".targets .season").count() == 2
        assert "Mùa 14 ngày từ 12/04/2027" in page.locator(".targets").inner_text()
        page.goto(visit.server.url(f"/sweeps/{ids['region']}?lang=en"))  # its own page too
        page.wait_for_load_state("load")
        assert "Season of 14 days" in page.locator(".targets").inner_text()
        assert page.locator("img.chart").evaluate(IMAGE_LOADED_JS)
    finally:
        page.context.close()
    assert not errors, errors


def _shot(page: Any, name: str) -> None:
    from e2e_kit import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    print(f"e2e artefact: {ARTIFACTS / name}")
