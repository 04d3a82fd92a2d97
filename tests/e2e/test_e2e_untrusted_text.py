"""Untrusted text runs no script in a real browser: a plan, a scenario, a closure, a library
edit, a publication and an outcome note whose every text field carries a script and an
``<img onerror>`` (``webui_testkit.PAYLOAD``), shown on the plan page with its sandboxed map
(layer list, legend, a stop's popup, tooltips), the route sheet, the closures, communes,
library, scenario, versions and outcomes pages. A dialog opened by any of them fails the test.
(``tests/webui/test_webui_untrusted_text.py`` checks every route's markup.)"""

from __future__ import annotations

import json
import shutil
from typing import Any

from e2e_kit import Visit
from webui_testkit import PAYLOAD, untrusted_plan_folder, untrusted_scenario_yaml

PLAN = "xss-plan-e2e"
SCENARIO = "xss-scenario-e2e"
CODE = "00715"
LINE = {"type": "LineString", "coordinates": [[105.375, 23.22], [105.385, 23.23]]}


def _post(visit: Visit, path: str, form: dict[str, str]) -> Any:
    """A form POST with the page's session and CSRF token (as the page's own forms send)."""
    token = visit.page.locator('meta[name="csrf-token"]').get_attribute("content")
    resp = visit.page.request.post(visit.server.url(path), form=form,
                                   headers={"X-CSRF-Token": token or ""}, max_redirects=0)
    assert resp.status in (200, 303, 422), (path, resp.status, resp.text()[:500])
    return resp


def test_no_script_of_untrusted_text_runs(visit: Visit) -> None:
    runs = visit.server.root / "runs"
    untrusted_plan_folder(runs / PLAN, scenario_name="xss-probe-e2e")
    scenario_file = visit.server.root / "scenarios" / f"{SCENARIO}.yaml"
    scenario_file.write_text(untrusted_scenario_yaml(name=SCENARIO), encoding="utf-8")
    dialogs: list[str] = []
    page = visit.page

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{page.url}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        visit.goto("/")
        _post(visit, "/closures", {"name": f"Z {PAYLOAD}", "note": f"Y {PAYLOAD}",
                                   "from_date": "2026-12-01", "to_date": "2026-12-31",
                                   "geometry": json.dumps(LINE)})
        _post(visit, f"/communes/{CODE}", {"contact": f"K {PAYLOAD}", "lon": "", "lat": "",
                                            "opening_hours": ""})
        published = _post(visit, f"/plans/{PLAN}/publish", {"note": f"W {PAYLOAD}"})
        version = published.headers["location"].rsplit("/", 1)[-1]
        _post(visit, f"/versions/{version}/outcomes",
              {"vehicle_id": "xe-tv-01", "stop_seq": "1", "status": "failed",
               "note": f"O {PAYLOAD}"})

        visit.goto(f"/plans/{PLAN}")
        assert "<script>alert('xss')</script>" in page.locator("h1").inner_text()
        frame = page.wait_for_selector("iframe.plan-map").content_frame()
        frame.wait_for_selector(".mlp-num")
        frame.wait_for_selector(".mlp-legend")
        assert "<script>" in frame.locator(".mlp-legend h4").inner_text()
        assert "<script>" in frame.title()
        frame.locator(".leaflet-control-layers").hover()  # the layer list, names as text
        assert "<script>" in frame.locator(".leaflet-control-layers-overlays").inner_text()
        frame.locator(".mlp-num").first.click(force=True)
        frame.locator(".mlp-depot-icon").first.hover(force=True)
        page.wait_for_timeout(300)
        # The map is sandboxed: its scripts cannot reach the app's page.
        assert frame.evaluate("() => { try { return parent.document.title; } "
                              "catch (e) { return 'blocked'; } }") == "blocked"
        for path in (f"/plans/{PLAN}/sheet/xe-tv-01", f"/plans/{version}", "/versions",
                     f"/versions/{version}/outcomes", f"/closures?plan={PLAN}",
                     "/communes?scenario=" + SCENARIO, f"/communes/{CODE}",
                     "/communes/history", f"/scenarios/{SCENARIO}",
                     f"/scenarios/{SCENARIO}/edit", f"/plans/{PLAN}/edit", "/"):
            visit.goto(path)
            page.wait_for_load_state("load")
            if path.startswith("/closures"):
                page.wait_for_selector("#closure-map[data-ready='1']")
        page.wait_for_timeout(300)
        assert dialogs == [], dialogs
    finally:
        shutil.rmtree(runs / PLAN, ignore_errors=True)
        scenario_file.unlink(missing_ok=True)
