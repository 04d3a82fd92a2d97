"""The driver's sheet and the dispatcher's plan in a real browser: the stop card, the
turn-by-turn directions with a strip map per leg, a road closure drawn on the plan's map and
named on its page and sheet, and Vietnamese pages free of the English the product used to
show (see ``conftest.py`` for the server and the offline guard)."""

from __future__ import annotations

import shutil

from e2e_kit import Visit
from webui_testkit import CLOSURE_NAME, FIXTURE_DIR, FIXTURE_RUN, close_road_in

# English the Vietnamese pages showed before (issue 20): checker findings, solver statuses,
# the assumption label, weekday and profile codes, the dataset's notes
ENGLISH = ("returns day", "after the horizon ends", "ASSUMPTION", "KEPT_PREVIOUS_PLAN",
           "PARTIAL_SUCCESS", "(wed, thu)", "Road network: OpenStreetMap", "ui-closure")

CLOSURE_LINES_JS = """() => {
  let n = 0;
  for (const key of Object.keys(window)) {
    let layer;
    try { layer = window[key]; } catch (e) { continue; }
    if (layer instanceof L.Polyline && layer.options.color === '#d00000') n += 1;
  }
  return n;
}"""


def test_stop_card_directions_and_strip_maps(visit: Visit) -> None:
    visit.goto(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01?lang=vi")
    page = visit.page
    card = page.locator("section.stop").nth(1)  # Khâu Vai: waits for its Wednesday
    assert "Chờ 22h07" in card.inner_text() and "Thứ Tư" in card.inner_text()
    assert page.locator("tr.night-here").count() == 4
    assert page.locator("tr.nights td").inner_text().count("Đêm") == 4
    assert page.locator("table.dir.turns").count() == 7  # six legs and the way back
    assert page.locator("table.dir.turns tr.turn-arrive").count() == 7
    first = page.locator("table.dir.turns").first.inner_text()
    assert "Xuất phát theo" in first and "Đến Xã Lũng Cú" in first
    strips = page.locator("figure.strip img")
    assert strips.count() == 7
    for i in range(7):
        img = strips.nth(i)
        img.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth >= 1000",
                               arg=img.element_handle())
    text = page.content()
    assert not [s for s in ENGLISH if s in text]
    visit.screenshot("route-sheet-turns.png")


def test_a_closure_is_drawn_on_the_plan_map_and_named(visit: Visit) -> None:
    name = "closure-e2e"
    folder = visit.server.root / "runs" / name
    if not folder.exists():
        shutil.copytree(FIXTURE_DIR, folder, ignore=shutil.ignore_patterns("map*.html"))
        close_road_in(folder)
    visit.goto(f"/plans/{name}?lang=vi")
    page = visit.page
    section = page.locator("#plan-closures").inner_text()
    assert CLOSURE_NAME in section and "01/12/2026" in section
    frame_el = page.wait_for_selector("iframe.plan-map")
    frame = frame_el.content_frame()
    frame.wait_for_load_state("load")
    frame.wait_for_selector(".mlp-num")
    assert frame.evaluate(CLOSURE_LINES_JS) >= 1
    assert "đường bị chặn" in frame.locator(".mlp-legend").inner_text()
    assert not [s for s in ENGLISH if s in page.content()]
    frame_el.scroll_into_view_if_needed()
    page.wait_for_timeout(800)  # the map pans into place
    visit.screenshot("plan-closure-map.png", frame_el)
    visit.goto(f"/plans/{name}/sheet/xe-tv-01?lang=vi")
    assert CLOSURE_NAME in visit.page.locator("tr.closures").inner_text()


def test_the_full_screen_map_leads_back_to_its_plan(visit: Visit) -> None:
    visit.goto(f"/plans/{FIXTURE_RUN}/map?lang=vi")
    page = visit.page
    back = page.wait_for_selector("a.mlp-back")
    assert back.inner_text() == "← Về trang kế hoạch"
    with page.expect_navigation():
        back.click()
    assert page.url.endswith(f"/plans/{FIXTURE_RUN}?lang=vi")
    # inside the plan page's frame the map has no such link
    frame = page.wait_for_selector("iframe.plan-map").content_frame()
    frame.wait_for_selector(".mlp-num")
    assert frame.locator("a.mlp-back").count() == 0
