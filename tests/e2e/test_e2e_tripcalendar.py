"""The trip calendar in a real browser: from a season plan's page to its month view, drag a
trip onto a public holiday and see the season checks turn red on the new draft, then drag a
commune's visit onto another library's trip. Every request outside localhost is blocked (see
``conftest.py``)."""

from __future__ import annotations

import re
import shutil

from e2e_kit import Visit
from webui_testkit import SEASON_DIR, SEASON_RUN


def test_drag_a_trip_and_a_visit_and_see_the_checks(visit: Visit) -> None:
    runs = visit.server.root / "runs"
    if not (runs / SEASON_RUN).exists():
        shutil.copytree(SEASON_DIR, runs / SEASON_RUN)
    page = visit.page
    # tall enough for the drags' both ends to be on screen (a drag does not scroll)
    page.set_viewport_size({"width": 1366, "height": 1400})
    visit.goto(f"/plans/{SEASON_RUN}")
    with page.expect_navigation():
        page.click("#calendar-link")
    assert page.locator("#cal-month").inner_text() == "Tháng 4 năm 2027"
    assert page.locator("#check-summary .check-ok").count() == 1
    assert page.locator("tbody.cal-library").count() == 2  # two libraries
    # the Hà Giang van's first trip (19 April), by its head (its communes are dragged on
    # their own), onto 16 April, Giỗ Tổ Hùng Vương
    bar = page.locator("#trip-xe-hg .cal-trip-head")
    holiday = page.locator('tr[data-vehicle="xe-hg"] td.cal-free[data-date="2027-04-16"]')
    with page.expect_navigation():
        bar.drag_to(holiday)
    assert re.search(rf"/plans/{SEASON_RUN}-edit-\d{{8}}-\d{{6}}/calendar\?month=2027-04",
                     page.url), page.url
    summary = page.locator("#check-summary")
    assert "bad" in (summary.get_attribute("class") or "")
    assert summary.locator(".check-bad").inner_text().startswith("Kiểm tra kế hoạch:")
    labels = summary.locator(".violation-badge").all_inner_texts()
    assert "Ngày không làm việc" in labels and "Khoảng cách giữa hai lần đến" in labels
    moved = page.locator("#trip-xe-hg")
    assert moved.get_attribute("data-first") == "2027-04-16"
    assert moved.locator(".cal-chip").count() == 3  # the whole trip moved
    assert "has-violation" in (moved.get_attribute("class") or "")
    visit.screenshot("trip-calendar-after-drag.png")
    # a visit: Đồng Tâm (01165) off the Hà Giang van's second trip onto the Bắc Quang van's
    chip = page.locator('#trip-xe-hg-trip2 .cal-chip[data-commune="01165"]')
    with page.expect_navigation():
        chip.drag_to(page.locator("#trip-xe-bq"))
    assert page.locator('#trip-xe-bq .cal-chip[data-commune="01165"]').count() == 1
    assert page.locator('#trip-xe-hg-trip2 .cal-chip[data-commune="01165"]').count() == 0
    history = page.url.split("/plans/", 1)[1].split("/calendar", 1)[0]
    visit.goto(f"/plans/{history}/edit")
    steps = page.locator("section.edit-history li").all_inner_texts()
    assert len(steps) == 2 and "Dời chuyến" in steps[0] and "Chuyển lần đến" in steps[1]
