"""Daily breaks and a trip ending at another depot, on the HTML sheet and in the PDF."""

from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient
from pypdf import PdfReader
from webui_testkit import FIXTURE_RUN, edit_fixture_plan


def _add_break_and_hub(runs_dir: Path) -> str:
    def edit(data: dict) -> None:
        route = data["routes"][0]
        day = route["depart_s"] // 86_400
        route["breaks_s"] = [[day * 86_400 + 41_400, day * 86_400 + 44_100]]  # 11:30-12:15
        route["end_depot_id"], route["end_depot_name"] = "hub", "Điểm trung chuyển Mèo Vạc"
    return edit_fixture_plan(runs_dir, edit)


def test_sheet_shows_the_break_and_where_the_trip_ends(client: FlaskClient,
                                                        runs_dir: Path) -> None:
    vid = _add_break_and_hub(runs_dir)
    page = client.get(f"/plans/{FIXTURE_RUN}/sheet/{vid}").get_data(as_text=True)
    assert "Nghỉ giữa ca" in page and "11:30</span> – 12:15" in page
    assert "Chặng về: Điểm trung chuyển Mèo Vạc" in page
    en = client.get(f"/plans/{FIXTURE_RUN}/sheet/{vid}?lang=en").get_data(as_text=True)
    assert "Breaks" in en


def test_pdf_sheet_shows_the_break_and_the_end_depot(client: FlaskClient,
                                                     runs_dir: Path) -> None:
    vid = _add_break_and_hub(runs_dir)
    resp = client.get(f"/plans/{FIXTURE_RUN}/sheet/{vid}.pdf")
    assert resp.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert "Nghỉ giữa ca" in text and "12:15" in text
    assert "Điểm trung chuyển Mèo Vạc" in text

