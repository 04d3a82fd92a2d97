"""A driver's "my trip" in a real browser: the dispatcher publishes the plan, takes the truck
the scenarios name into the fleet and ties a driver to it on the accounts page; the driver
logs in, finds "my trip" in the menu, sees the truck's published trip (not the van's),
opens its printable sheet, and is offered outcome forms for the truck only. Every request
outside localhost is blocked (``conftest.py``)."""

from __future__ import annotations

import subprocess
from typing import Any

from e2e_kit import ARTIFACTS, Visit, webui_command, webui_env
from webui_testkit import FIXTURE_RUN, VEHICLE

DRIVER, DRIVER_PASSWORD = "e2e-driver-tuan", "e2e-driver-password-1"
VAN = "xe-van-02"


def _log_in_as_driver(visit: Visit) -> Any:
    """A second browser context, logged in through the form as the driver."""
    context = visit.page.context.browser.new_context(viewport={"width": 1366, "height": 900},
                                                     locale="vi-VN")
    context.set_default_timeout(30_000)

    def only_local(route: Any) -> None:  # as the visit's own context (conftest.py)
        if route.request.url.startswith(visit.server.base_url):
            route.continue_()
        else:
            visit.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto(visit.server.url("/login"))
    page.fill('input[name="username"]', DRIVER)
    page.fill('input[name="password"]', DRIVER_PASSWORD)
    with page.expect_navigation():
        page.click('form.login-form button[type="submit"]')
    assert "/login" not in page.url
    return page


def test_a_driver_tied_to_the_truck_finds_and_prints_its_trip(visit: Visit) -> None:
    made = subprocess.run(webui_command("create-user", DRIVER, "--role", "driver", "--password",
                                        DRIVER_PASSWORD, root=visit.server.root),
                          env=webui_env(), cwd=visit.server.root, capture_output=True,
                          text=True, timeout=120, check=False)
    assert made.returncode == 0 or "exists" in made.stderr + made.stdout, made.stderr
    page = visit.page
    # the dispatcher publishes the plan and takes the truck into the fleet
    visit.goto(f"/plans/{FIXTURE_RUN}")
    with page.expect_navigation():
        page.click('form.publish-form button[type="submit"]')
    key = page.url.split("/plans/", 1)[1].split("?")[0].replace("%40", "@")
    assert "@v" in key, page.url
    with page.expect_navigation():
        page.click('header.site nav .nav-more summary')  # the menu of pages used now and then
        page.click('header.site nav a[href="/fleet"]')
    if page.locator(f"#missing-{VEHICLE}").count():
        with page.expect_navigation():
            page.click(f"#missing-{VEHICLE} button")
    assert page.locator(f"#vehicle-{VEHICLE}").count() == 1
    # and ties the driver to it on the accounts page
    with page.expect_navigation():
        page.click('a[href="/accounts"]')
    row = page.locator(f"#user-{DRIVER}")
    row.locator(f'input[value="{VEHICLE}"]').check()
    with page.expect_navigation():
        row.locator('button[type="submit"]').click()
    assert page.locator("#saved").count() == 1

    driver = _log_in_as_driver(visit)
    try:
        with driver.expect_navigation():
            driver.click('header.site nav a[href="/my-trip"]')
        trip = driver.locator(f'[id="trip-{key}-{VEHICLE}"]')
        assert trip.count() == 1 and driver.locator(f'[id="trip-{key}-{VAN}"]').count() == 0
        assert "Xã Lũng Cú" in trip.locator("ol.my-stops").inner_text()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        driver.screenshot(path=str(ARTIFACTS / "my-trip.png"), full_page=True)
        with driver.expect_navigation():
            trip.locator(f'a[href^="/plans/{key.replace("@", "%40")}/sheet/{VEHICLE}?"], '
                         f'a[href^="/plans/{key}/sheet/{VEHICLE}?"]').first.click()
        assert driver.title().startswith("Phiếu lộ trình: Xe thư viện lưu động 01")
        driver.emulate_media(media="print")
        assert driver.locator("header.site").is_hidden()  # printable as every sheet
        driver.emulate_media(media="screen")
        # the outcomes page offers forms for the truck's stops only
        driver.goto(visit.server.url(f"/versions/{key}/outcomes"))
        forms = driver.locator("form.outcome-form")
        assert forms.count() > 0
        assert set(forms.locator('input[name="vehicle_id"]').evaluate_all(
            "els => els.map(e => e.value)")) == {VEHICLE}
    finally:
        driver.context.close()
