"""The site header on a desktop screen: every link on one line, none broken over two."""

from __future__ import annotations

from e2e_kit import Visit

LINK_LINES_JS = """() => [...document.querySelectorAll(
    'header.site nav > a, header.site nav > details > summary')].map(
    a => a.getClientRects().length)"""


def test_nav_links_do_not_wrap_at_1400_px(visit: Visit) -> None:
    visit.page.set_viewport_size({"width": 1400, "height": 900})
    visit.goto("/?lang=vi")
    lines = visit.page.evaluate(LINK_LINES_JS)
    assert lines and all(n == 1 for n in lines), lines  # no link broken over two lines
    tops = visit.page.evaluate("""() => new Set([...document.querySelectorAll(
        'header.site nav > a, header.site nav > details > summary')].map(
        a => Math.round(a.getBoundingClientRect().top))).size""")
    assert tops == 1  # all on one row
    visit.screenshot("nav-1400.png", visit.page.locator("header.site"))
