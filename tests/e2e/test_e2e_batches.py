"""Book batches in a real browser: a dispatcher imports the registry through the upload form
and publishes a plan whose first stop leaves one batch and takes one back; on a phone-sized
screen (360×740, as a driver who scanned a crate label's QR code) the batch's page fits the
screen and confirms the hand-over; back at the library, the trip screen enters the printed
sheet's ticks and the return. Every request outside localhost is blocked (``conftest.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from e2e_kit import Visit
from webui_testkit import FIXTURE_DIR, NEW_BATCH, OLD_BATCH, VEHICLE, add_batches

RUN = "batches-e2e"
REGISTRY = ("mã lô,số thùng,ngôn ngữ,đối tượng,tên lô\n"
            f"{NEW_BATCH},2,hnj,children,Truyện tranh tiếng Hmông\n"
            f"{OLD_BATCH},2,vie,adults,Sách pháp luật\n")
HISTORY = f"mã lô,mã xã,ngày giao,ngày thu\n{OLD_BATCH},00715,2026-09-07,\n"


def _plan_with_batches(runs: Path) -> None:
    """A copy of the fixture plan under its own name, with batches at the truck's first
    stop (``add_batches`` edits the fixture run's folder of a runs folder)."""
    scratch = runs.parent / "batches-scratch"
    shutil.copytree(FIXTURE_DIR, scratch / FIXTURE_DIR.name,
                    ignore=shutil.ignore_patterns("map*.html"), dirs_exist_ok=True)
    add_batches(scratch)
    shutil.copytree(scratch / FIXTURE_DIR.name, runs / RUN, dirs_exist_ok=True)


def test_import_publish_confirm_on_a_phone_and_enter_the_trip(visit: Visit,
                                                              tmp_path: Path) -> None:
    page, root = visit.page, visit.server.root
    _plan_with_batches(root / "runs")
    # the dispatcher imports the registry and its history through the form
    (tmp_path / "lo-sach.csv").write_text(REGISTRY, encoding="utf-8")
    (tmp_path / "luan-chuyen.csv").write_text(HISTORY, encoding="utf-8")
    visit.goto("/batches")
    page.set_input_files('form.import-form input[name="batches"]', str(tmp_path / "lo-sach.csv"))
    page.set_input_files('form.import-form input[name="history"]',
                         str(tmp_path / "luan-chuyen.csv"))
    with page.expect_navigation():
        page.click('form.import-form button[type="submit"]')
    assert "thêm 2 lô" in page.locator("#imported").inner_text()
    assert page.locator(f'tr[data-batch="{OLD_BATCH}"][data-place="commune"]').count() == 1
    # publishes the plan
    visit.goto(f"/plans/{RUN}")
    with page.expect_navigation():
        page.click('form.publish-form button[type="submit"]')
    key = page.url.rsplit("/", 1)[1].replace("%40", "@")
    assert "@v" in key, page.url

    # a driver's phone: the page a label's QR code opens
    page.set_viewport_size({"width": 360, "height": 740})
    visit.goto(f"/batches/{NEW_BATCH}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    confirm = page.locator('#confirm button[value="delivered"]')
    assert confirm.inner_text() == "Đã giao tại Xã Lũng Cú"
    box = confirm.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert box["height"] >= 40  # a thumb's target
    visit.screenshot("batch-page-phone.png")
    with page.expect_navigation():
        confirm.click()
    assert page.locator("#confirmed").inner_text() == "Đã ghi: lô sách đã giao."
    assert "Xã Lũng Cú (00715)" in page.locator(".where-now").inner_text()

    # back at the library: the whole trip from the printed sheet
    page.set_viewport_size({"width": 1366, "height": 900})
    visit.goto(f"/versions/{key}/outcomes")
    with page.expect_navigation():
        page.click(f'a[href="/versions/{key.replace("@", "%40")}/trips/{VEHICLE}"], '
                   f'a[href="/versions/{key}/trips/{VEHICLE}"]')
    delivered = page.locator(f'input[name="s1-delivered"][value="{NEW_BATCH}"]')
    assert delivered.is_checked()  # confirmed on the phone
    page.check(f'input[name="s1-collected"][value="{OLD_BATCH}"]')
    page.select_option('select[name="s1-status"]', "done")
    page.check('input[name="returned"]')
    with page.expect_navigation():
        page.click('#trip-form button[type="submit"]')
    assert page.locator("#saved").inner_text() == "Đã lưu kết quả chuyến đi."
    assert page.locator(f'input[name="s1-collected"][value="{OLD_BATCH}"]').is_checked()
    visit.screenshot("trip-screen.png")
    visit.goto(f"/batches/{OLD_BATCH}")
    assert "thư viện tv-ha-giang" in page.locator(".where-now").inner_text()
