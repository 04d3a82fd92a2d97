"""Road closures where they matter: drawn on the plan's map and the sheets' maps, named as
the dispatcher wrote them, with their dates, on the plan page, the sheet and its PDF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from webui_testkit import CLOSURE_LINE as LINE
from webui_testkit import CLOSURE_NAME as NAME
from webui_testkit import FIXTURE_RUN, close_road_in

from planner.outputs import load_scenario_for_plan, read_plan_folder
from render.closures import plan_closures
from render.i18n import Translator


@pytest.fixture
def closed(runs_dir: Path) -> Path:
    folder = runs_dir / FIXTURE_RUN
    close_road_in(folder)
    return folder


def test_plan_closures_come_named_with_dates_and_shape(closed: Path) -> None:
    plan = read_plan_folder(closed)
    scenario = load_scenario_for_plan(closed / "plan.json")[0]
    (c,) = plan_closures(plan, scenario)
    assert (c.id, c.name, c.closed) == ("ui-closure-1", NAME, True)
    assert c.geometry == {"type": "LineString", "coordinates": LINE}
    text = Translator("vi").closure(c)
    assert text == f"{NAME} · từ 01/12/2026 đến 20/12/2026 · chặn hoàn toàn"
    # without its scenario the plan still names what it recorded
    assert [x.name for x in plan_closures(plan, None)] == ["1"]


def test_plan_page_sheet_pdf_and_maps_show_the_closure(client: FlaskClient,
                                                      closed: Path) -> None:
    page = client.get(f"/plans/{FIXTURE_RUN}?lang=vi").get_data(as_text=True)
    section = page.split('id="plan-closures"', 1)[1].split("</section>", 1)[0]
    assert NAME in section and "từ 01/12/2026 đến 20/12/2026" in section
    assert "ui-closure" not in page  # the re-plan note names it too
    sheet = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01?lang=vi").get_data(as_text=True)
    assert f"X1 · {NAME} · từ 01/12/2026 đến 20/12/2026" in sheet
    pdf = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01.pdf?lang=vi")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
                    .split())
    assert NAME in text and "01/12/2026" in text
    html = client.get(f"/plans/{FIXTURE_RUN}/map?lang=vi").get_data(as_text=True)
    assert NAME in html and "#d00000" in html and "đường bị chặn" in html
    # the overview map of a sheet draws it (red pixels where the line runs)
    import numpy as np
    from PIL import Image

    png = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01/map.png?lang=vi").data
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    red = (img[..., 0] > 190) & (img[..., 1] < 40) & (img[..., 2] < 40)
    assert red.sum() > 200
