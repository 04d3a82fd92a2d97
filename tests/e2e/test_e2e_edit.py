"""Manual edits and closures in a real browser: move a stop with the plain forms of the edit
page, see the plan checker's verdict next to the stop, publish the edited plan and print
its route sheet; draw a road closure on the offline map. Every request outside localhost is
blocked (see ``conftest.py``)."""

from __future__ import annotations

import re

from e2e_kit import ARTIFACTS, Visit
from webui_testkit import FIXTURE_RUN

LATE = "00802"  # Xã Khâu Vai, open 07:30-11:00 only: late at the end of the van's trip
VAN = "xe-van-02"


def test_move_a_stop_see_the_check_publish_and_print(visit: Visit) -> None:
    page = visit.page
    visit.goto(f"/plans/{FIXTURE_RUN}")
    with page.expect_navigation():
        page.click(f'a.button[href="/plans/{FIXTURE_RUN}/edit"]')
    assert page.locator("h1").inner_text() == "Sửa kế hoạch"
    row = page.locator(f"tr#stop-{LATE}")
    assert "Xã Khâu Vai" in row.inner_text()
    # move Khâu Vai to the end of the van's route: vehicle chosen, position left empty
    form = row.locator("form.move-form")
    form.locator('select[name="vehicle_id"]').select_option(VAN)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    assert re.search(rf"/plans/{FIXTURE_RUN}-edit-\d{{8}}-\d{{6}}/edit$", page.url), page.url
    edited = page.url.split("/plans/", 1)[1].rsplit("/edit", 1)[0]
    # the checker's verdict: a red badge in the stop's row, now on the van, and a summary
    row = page.locator(f"tr#stop-{LATE}")
    assert "has-violation" in (row.get_attribute("class") or "")
    badge = row.locator(".violation-badge").first
    assert "Trễ giờ mở cửa" in badge.inner_text()
    assert "ngoài giờ mở cửa của xã" in (badge.get_attribute("title") or "")  # worded
    assert row.locator("xpath=ancestor::article").get_attribute("id") == f"route-{VAN}"
    assert page.locator("#check-summary .check-bad").inner_text().startswith(
        "Kiểm tra kế hoạch:")
    row.scroll_into_view_if_needed()
    visit.screenshot("edit-violation.png")
    # the plan page of the edited plan shows the badge too; publish it
    visit.goto(f"/plans/{edited}")
    assert page.locator(f"tr#stop-{LATE} .violation-badge").count() >= 1
    page.fill('form.publish-form input[name="note"]', "Sửa tay: Khâu Vai sang xe tải nhỏ")
    with page.expect_navigation():
        page.click('form.publish-form button[type="submit"]')
    assert re.search(r"@v\d+$", page.url), page.url
    assert page.locator("section.publication.published").count() == 1
    # its print view: the van's sheet ends at Khâu Vai
    with page.expect_navigation():
        page.locator(f'a[href*="/sheet/{VAN}?"]').first.click()
    names = [n for n in page.locator("section.stop h2").all_inner_texts()
             if n.startswith("Xã ")]  # the stops, without the return leg
    assert names[-1] == "Xã Khâu Vai" and len(names) == 7, names
    img = page.wait_for_selector("figure.overview img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 1000", arg=img)
    visit.screenshot("edited-sheet.png")
    page.emulate_media(media="print")
    assert page.locator("header.site").is_hidden()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "edited-sheet-print.pdf"), format="A4",
             print_background=True, prefer_css_page_size=True)


def test_draw_a_closure_on_the_offline_map(visit: Visit) -> None:
    page = visit.page
    visit.goto(f"/closures?plan={FIXTURE_RUN}")
    page.wait_for_selector("#closure-map[data-ready='1']")
    assert page.locator("#draw-tools").is_visible()
    # the map names its roads (no tiles: drawn from the road data), and communes and
    # villages when zoomed in
    names = page.locator("#closure-map .map-label").all_inner_texts()
    assert any(n.startswith("QL.4C") for n in names) and "Xã Lũng Cú" not in names
    page.evaluate("() => { window.mlpClosureMap.setView([23.3, 105.3], 12, {animate: false}); }")
    page.wait_for_function("""() => [...document.querySelectorAll('#closure-map .map-label')]
        .some(e => e.textContent === 'Xã Lũng Cú')""")
    names = page.locator("#closure-map .map-label").all_inner_texts()
    assert "Xã Lũng Cú" in names and len(names) > 10, names[:30]
    visit.screenshot("closures-map-names.png", page.locator("#closure-map"))
    page.evaluate("() => { window.mlpClosureMap.setView([22.9, 105.0], 9, {animate: false}); }")
    box = page.locator("#closure-map").bounding_box()
    assert box is not None
    # two clicks: a short line across the map's middle
    page.mouse.click(box["x"] + box["width"] / 2 - 40, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 + 10)
    assert page.locator("#draw-status").inner_text() == "2 điểm"
    page.locator("details.geometry-text summary").click()
    geometry = page.locator("#closure-geometry").input_value()
    assert geometry.startswith('{"type":"LineString","coordinates":[[')
    page.fill('#closure-form input[name="name"]', "Đường thử nghiệm")
    page.fill('#closure-form input[name="note"]', "vẽ trong trình duyệt")
    with page.expect_navigation():
        page.click('#closure-form button[type="submit"]')
    assert "Đường thử nghiệm" in page.locator("table.closures").inner_text()
    page.wait_for_selector("#closure-map[data-ready='1']")
    visit.screenshot("closures-page.png")
