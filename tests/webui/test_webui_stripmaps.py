"""Strip maps on the route sheet: one per leg, numbered as the instructions, closures in red;
the sheet's page budget; a golden file of one PDF page.

Page budget of a route sheet PDF (A4, strip map and turn-by-turn directions per leg, a stop
card per stop): a 6-stop trip takes at most 9 pages; every page but the last is at least
half full, the last at least a quarter. The PDF's drawing time is measured by
``python -m benchmarks.sheetpdf`` (target: under 3 s for the default plan's longest sheet),
not here.

The golden file ``golden/sheet-xe-tv-01.vi.page2.txt`` is the text of the sheet PDF's second
page (the first leg: its strip map and instructions); after an intended change::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/webui/test_webui_stripmaps.py -k golden
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image
from pypdf import PdfReader
from webui_testkit import FIXTURE_DIR, FIXTURE_RUN

from planner.outputs import load_scenario_for_plan, read_plan_folder
from render.closures import ClosureView
from render.directions import route_leg_lines, view_instructions
from render.pdf import sheet_pdf
from render.routeview import legs_by_vehicle, route_view
from render.sheetmap import load_basemap
from render.stripmap import leg_map_png

GOLDEN = Path(__file__).parent / "golden" / "sheet-xe-tv-01.vi.page2.txt"
MAX_PAGES_6_STOPS = 9


@pytest.fixture(scope="module")
def fixture():  # the plan, its scenario, routes and basemap
    plan = read_plan_folder(FIXTURE_DIR)
    scenario = load_scenario_for_plan(FIXTURE_DIR / "plan.json")[0]
    routes = json.loads((FIXTURE_DIR / "routes.geojson").read_text(encoding="utf-8"))
    return plan, scenario, routes, load_basemap(plan.network)


def _red(png: bytes) -> int:
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((img[..., 0] > 190) & (img[..., 1] < 40) & (img[..., 2] < 40)).sum())


def test_a_leg_map_draws_the_leg_and_a_closure_on_it(fixture) -> None:
    plan, _, routes, basemap = fixture
    view = route_view(plan, 0, legs_by_vehicle(routes).get(plan.routes[0].vehicle_id))
    lines = route_leg_lines(routes, view.route.vehicle_id)
    steps = view_instructions(view, routes, plan.network)
    assert lines is not None and steps is not None and len(lines) == len(steps) == 7
    plain = leg_map_png(lines[1], steps[1], basemap, stop_label="2")
    img = Image.open(io.BytesIO(plain))
    assert img.size == (1110, 450) and _red(plain) == 0
    # a closure across the middle of the leg is drawn in red
    mid = lines[1][len(lines[1]) // 2]
    closure = ClosureView("ui-closure-1", "Sạt lở", None, None, None, 0.0,
                          {"type": "LineString", "coordinates": [[mid[0] - 0.01, mid[1]],
                                                                  [mid[0] + 0.01, mid[1]]]},
                          True)
    assert _red(leg_map_png(lines[1], steps[1], basemap, stop_label="2",
                            closures=(closure,))) > 100


def test_sheet_page_has_a_strip_map_per_leg(client: FlaskClient) -> None:
    page = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01?lang=vi").get_data(as_text=True)
    assert page.count('<figure class="strip">') == 7
    resp = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01/leg/6.png?lang=vi")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.data.startswith(b"\x89PNG")
    assert client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01/leg/7.png").status_code == 404


@pytest.mark.parametrize("index", [0, 1])
def test_page_budget(fixture, index: int) -> None:
    plan, scenario, routes, basemap = fixture
    route = plan.routes[index]
    assert len(route.visits) == 6
    view = route_view(plan, index, legs_by_vehicle(routes).get(route.vehicle_id))
    fill: list[float] = []
    pdf = sheet_pdf(plan, view, run=FIXTURE_RUN, lang="vi", scenario=scenario, routes=routes,
                    basemap=basemap, page_fill=fill)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(fill) == len(pages) <= MAX_PAGES_6_STOPS
    assert all(f >= 0.5 for f in fill[:-1]), fill
    assert fill[-1] >= 0.25, fill
    # each footer counts the sheet's pages
    for k, p in enumerate(pages, start=1):
        assert f"Trang {k}/{len(pages)} · © OpenStreetMap contributors" in p.extract_text()
    # one strip map per leg, and the overview (none here: no map given)
    assert sum(len(p.images) for p in pages) == len(route.visits) + 1


def test_second_page_matches_golden_file(fixture) -> None:
    plan, scenario, routes, basemap = fixture
    view = route_view(plan, 0, legs_by_vehicle(routes).get(plan.routes[0].vehicle_id))
    pdf = sheet_pdf(plan, view, run=FIXTURE_RUN, lang="vi", scenario=scenario, routes=routes,
                    basemap=basemap)
    page = PdfReader(io.BytesIO(pdf)).pages[1]
    text = "\n".join(line.rstrip() for line in page.extract_text().splitlines()) + "\n"
    assert len(page.images) == 1  # the first leg's strip map
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.is_file(), f"missing {GOLDEN}; run with UPDATE_GOLDEN=1 to create it"
    assert text == GOLDEN.read_text(encoding="utf-8"), (
        f"page 2 of the sheet differs from {GOLDEN}; if intended, regenerate it with "
        "UPDATE_GOLDEN=1 and review the diff")
