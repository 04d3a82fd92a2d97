"""Roadside pauses (continuous-driving rule) on the HTML sheet, the plan page and the PDF."""

from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient
from pypdf import PdfReader
from webui_testkit import FIXTURE_RUN, edit_fixture_plan


def _add_pauses(runs_dir: Path) -> str:
    def edit(data: dict) -> None:
        route = data["routes"][0]
        route["visits"][0]["roadside_pauses"] = 1
        route["return_roadside_pauses"] = 2
    return edit_fixture_plan(runs_dir, edit)


def test_the_sheet_says_how_many_pauses_each_leg_holds(client: FlaskClient,
                                                       runs_dir: Path) -> None:
    vid = _add_pauses(runs_dir)
    page = client.get(f"/plans/{FIXTURE_RUN}/sheet/{vid}").get_data(as_text=True)
    assert "Dừng nghỉ 1 lần dọc đường trong chặng này" in page
    assert "Dừng nghỉ 2 lần dọc đường trong chặng này" in page
    en = client.get(f"/plans/{FIXTURE_RUN}/sheet/{vid}?lang=en").get_data(as_text=True)
    assert "1 roadside pause(s) during this leg" in en
    plan_page = client.get(f"/plans/{FIXTURE_RUN}?lang=vi").get_data(as_text=True)
    assert "Dừng nghỉ 2 lần dọc đường" in plan_page


def test_the_pdf_sheet_says_it_too(client: FlaskClient, runs_dir: Path) -> None:
    vid = _add_pauses(runs_dir)
    resp = client.get(f"/plans/{FIXTURE_RUN}/sheet/{vid}.pdf")
    assert resp.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    assert "Dừng nghỉ 1 lần" in " ".join(text.split())


def test_a_plan_written_before_the_rule_reads_as_without_pauses(client: FlaskClient) -> None:
    # the fixture plan has no roadside_pauses fields at all
    page = client.get(f"/plans/{FIXTURE_RUN}?lang=vi").get_data(as_text=True)
    assert "Xe thư viện lưu động 01" in page and "Dừng nghỉ" not in page
