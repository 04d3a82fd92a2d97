"""The UI in a real browser: plan list, plan page with its offline map, the printable sheet,
the communes search, the language switch and a background solve, with every request outside
localhost blocked (see ``conftest.py``)."""

from __future__ import annotations

import time
from typing import Any

from e2e_kit import ARTIFACTS, Visit
from webui_testkit import FIXTURE_RUN

SOLVE_TIMEOUT_S = 240

# Route lines of a folium map: Leaflet polylines (drawn on a canvas, so not in the DOM)
# with the number of points they follow.
POLYLINES_JS = """() => {
  const out = [];
  for (const key of Object.keys(window)) {
    let layer;
    try { layer = window[key]; } catch (e) { continue; }  // localStorage: the map is sandboxed
    if (layer instanceof L.Polyline && !(layer instanceof L.Polygon)) {
      out.push(layer.getLatLngs().length);
    }
  }
  return out;
}"""


def _map_frame(v: Visit) -> tuple[Any, Any]:
    frame_el = v.page.wait_for_selector("iframe.plan-map")
    frame = frame_el.content_frame()
    frame.wait_for_load_state("load")
    frame.wait_for_selector(".mlp-num")
    return frame_el, frame


def test_plan_list_plan_page_and_offline_map(visit: Visit) -> None:
    visit.goto("/")
    link = visit.page.locator(f'a[href="/plans/{FIXTURE_RUN}"]').first
    link.wait_for()
    with visit.page.expect_navigation():
        link.click()
    assert visit.page.url.endswith(f"/plans/{FIXTURE_RUN}")
    assert visit.page.locator("h1").inner_text().startswith("Luân chuyển sách")
    assert visit.page.locator("table.stops tbody tr").count() == 12 + 2 * 2  # stops + depot rows

    frame_el, frame = _map_frame(visit)
    # Twelve numbered stops, the library, and one route line per vehicle along the roads
    # (each drawn twice: a white casing under the coloured line).
    assert frame.locator(".mlp-num").count() == 12
    assert frame.locator(".mlp-depot-icon").count() == 1  # the library marker
    lines = frame.evaluate(POLYLINES_JS)
    long_lines = [n for n in lines if n > 100]
    assert len(long_lines) == 2 * 2, lines
    # The offline basemap is drawn; the OpenStreetMap tile layer is off (no tile requested).
    assert frame.locator("img.leaflet-tile").count() == 0
    assert frame.locator("canvas").count() >= 1
    # A stop's popup lists its crates. (A click while the map still pans into place after
    # scrolling is taken by the map: try again.)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    frame_el.scroll_into_view_if_needed()
    popup = frame.locator(".leaflet-popup-content")
    for _attempt in range(5):
        frame.locator(".mlp-num").first.click()
        try:
            popup.wait_for(timeout=2_000)
            break
        except PlaywrightTimeout:
            continue
    assert "thùng" in popup.inner_text()
    visit.page.wait_for_timeout(300)  # let the popup animation end before the screenshot
    visit.screenshot("plan-map.png", frame_el)
    visit.screenshot("plan-page.png")


def test_printable_route_sheet(visit: Visit) -> None:
    visit.goto(f"/plans/{FIXTURE_RUN}")
    sheet_link = visit.page.locator(f'a[href^="/plans/{FIXTURE_RUN}/sheet/xe-tv-01?"]')
    with visit.page.expect_navigation():
        sheet_link.click()
    page = visit.page
    assert page.title().startswith("Phiếu lộ trình: Xe thư viện lưu động 01")
    names = page.locator("section.stop h2").all_inner_texts()
    assert names[0] == "Xã Lũng Cú" and "Xã Đồng Văn" in names
    # The overview map (a PNG drawn from the road network) has loaded.
    img = page.wait_for_selector("figure.overview img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 1000", arg=img)
    visit.screenshot("route-sheet.png")
    page.emulate_media(media="print")
    assert page.locator("header.site").is_hidden()  # print CSS hides the site header
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "route-sheet-print.pdf"), format="A4",
             print_background=True, prefer_css_page_size=True)
    assert (ARTIFACTS / "route-sheet-print.pdf").read_bytes().startswith(b"%PDF-")


def test_communes_search_without_diacritics(visit: Visit) -> None:
    visit.goto("/communes")
    page = visit.page
    rows = page.locator("#communes tbody tr")
    assert rows.count() == 73
    page.fill("#commune-q", "dong van")  # filtered as one types, diacritics ignored
    visible = page.locator("#communes tbody tr:not([hidden])")
    assert visible.count() == 1
    assert "Xã Đồng Văn" in visible.first.inner_text()
    assert page.locator("#commune-count").inner_text().startswith("Đang hiển thị 1/73")
    page.fill("#commune-q", "")
    page.press("#commune-q", "Enter")  # and the server search gives the same
    page.fill("#commune-q", "ĐỒNG VĂN")
    with page.expect_navigation():
        page.press("#commune-q", "Enter")
    assert page.locator("#communes tbody tr").count() == 1


def test_language_switch_is_remembered(visit: Visit) -> None:
    visit.goto(f"/plans/{FIXTURE_RUN}")
    with visit.page.expect_navigation():
        visit.page.click('.langs a[hreflang="en"]')
    assert visit.page.locator("html").get_attribute("lang") == "en"
    assert "Key figures" in visit.page.content()
    visit.goto("/")  # the cookie keeps English
    assert visit.page.locator("html").get_attribute("lang") == "en"


def test_start_a_solve_and_open_its_plan(visit: Visit) -> None:
    page = visit.page
    visit.goto("/jobs")
    page.select_option('select[name="scenario"]', "tiny")
    page.fill('input[name="time_limit_s"]', "2")
    with page.expect_navigation():
        page.click('form.job-form button[type="submit"]')
    job_url = page.url
    assert "/jobs/" in job_url
    deadline = time.monotonic() + SOLVE_TIMEOUT_S
    while True:
        if page.locator(".status-done").count():
            break
        if page.locator(".status-failed, .status-cancelled").count():
            raise AssertionError(f"the solve failed:\n{page.locator('main').inner_text()}\n"
                                 f"server log:\n{visit.server.log_tail()}")
        assert time.monotonic() < deadline, f"no result in {SOLVE_TIMEOUT_S} s"
        page.wait_for_timeout(1000)
        page.goto(job_url)
    with page.expect_navigation():
        page.click("p.done a.button")
    assert "/plans/" in page.url
    assert page.locator("h1").inner_text() == "Thử nghiệm hai xã"
    _frame_el, frame = _map_frame(visit)
    assert frame.locator(".mlp-num").count() == 2
    visit.screenshot("solved-plan.png")
