"""Map pages load nothing they may not: no request refused by the map's content policy and
no error in the browser console (Leaflet's default marker images come inlined)."""

from __future__ import annotations

from e2e_kit import Visit
from webui_testkit import FIXTURE_RUN


def test_map_pages_have_a_clean_console(visit: Visit) -> None:
    errors: list[str] = []
    visit.page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    visit.page.on("response",
                  lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    for path in (f"/plans/{FIXTURE_RUN}", f"/plans/{FIXTURE_RUN}/map", "/communes/00715",
                 f"/closures?plan={FIXTURE_RUN}"):
        visit.goto(path)
        visit.page.wait_for_load_state("load")
        visit.page.wait_for_timeout(800)
    assert not errors, errors
