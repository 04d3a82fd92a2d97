"""Transfers (crates handed on from one commune to another on the same trip) on the plan
page, the printed sheet and the PDF sheet; and the route sheet's title."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from openpyxl import load_workbook
from pypdf import PdfReader
from webui_testkit import FIXTURE_RUN

from planner.plan import Plan
from render.routeview import route_view

VEHICLE = "xe-tv-01"
# On xe-tv-01: stop 2 is Xã Khâu Vai, stop 4 Xã Mèo Vạc.
FROM_CODE, FROM_NAME = "00802", "Xã Khâu Vai"
TO_CODE, TO_NAME = "00769", "Xã Mèo Vạc"


def _add_transfer(runs_dir: Path, *, partners_in: str = "plan") -> None:
    """Give the fixture plan a transfer of 3 crates from Khâu Vai to Mèo Vạc, its partner
    communes named by the visits (``plan``: format version 2), or only by the scenario beside
    a plan of format version 1 (``scenario``)."""
    folder = runs_dir / FIXTURE_RUN
    plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    plan["format_version"] = 2 if partners_in == "plan" else 1
    for v in plan["routes"][0]["visits"]:
        if v["commune_code"] == FROM_CODE:
            v["transfer_collect_crates"] = 3
            if partners_in == "plan":
                v["transfers_to"] = [[TO_CODE, 3]]
        if v["commune_code"] == TO_CODE:
            v["transfer_deliver_crates"] = 3
            if partners_in == "plan":
                v["transfers_from"] = [[FROM_CODE, 3]]
    (folder / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    if partners_in == "scenario":
        scenario = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
        scenario["transfers"] = [{"from_code": FROM_CODE, "to_code": TO_CODE, "crates": 3,
                                  "note": ""}]
        (folder / "scenario.json").write_text(json.dumps(scenario, ensure_ascii=False),
                                              encoding="utf-8")


COLLECT_VI = f"Chuyển tiếp: nhận 3 thùng để giao cho {TO_NAME}"
DELIVER_VI = f"Chuyển tiếp: giao 3 thùng nhận từ {FROM_NAME}"


@pytest.mark.parametrize("partners_in", ["plan", "scenario"])
def test_plan_page_and_sheet_show_transfers(client: FlaskClient, runs_dir: Path,
                                            partners_in: str) -> None:
    _add_transfer(runs_dir, partners_in=partners_in)
    page = client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    assert str(escape(COLLECT_VI)) in page and str(escape(DELIVER_VI)) in page
    assert page.index(str(escape(COLLECT_VI))) < page.index(str(escape(DELIVER_VI)))
    sheet = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}").get_data(as_text=True)
    assert sheet.count('<tr class="transfer">') == 2
    assert str(escape(f"nhận 3 thùng để giao cho {TO_NAME}")) in sheet
    english = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}?lang=en").get_data(as_text=True)
    assert str(escape(f"collect 3 crates for {TO_NAME}")) in english
    assert str(escape(f"deliver 3 crates collected at {FROM_NAME}")) in english


def test_pdf_sheet_shows_transfers(client: FlaskClient, runs_dir: Path) -> None:
    _add_transfer(runs_dir)
    resp = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}.pdf")
    assert resp.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    text = " ".join(text.split())
    assert f"nhận 3 thùng để giao cho {TO_NAME}" in text
    assert f"giao 3 thùng nhận từ {FROM_NAME}" in text
    assert text.count("Chuyển tiếp") == 2


def test_manifests_carry_the_transfers(client: FlaskClient, runs_dir: Path) -> None:
    _add_transfer(runs_dir)
    data = client.get(f"/plans/{FIXTURE_RUN}/export.csv").get_data()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    col = rows[0].index("Chuyển tiếp")
    by_code = {row[3]: row[col] for row in rows[1:] if row[0] == VEHICLE}
    assert by_code[FROM_CODE] == f"nhận 3 thùng để giao cho {TO_NAME}"
    assert by_code[TO_CODE] == f"giao 3 thùng nhận từ {FROM_NAME}"
    assert sum(1 for row in rows[1:] if row[col]) == 2  # no other visit has one
    english = client.get(f"/plans/{FIXTURE_RUN}/export.xlsx?lang=en").get_data()
    ws = load_workbook(io.BytesIO(english))[VEHICLE]
    header = [c.value for c in ws[1]]
    column = header.index("Hand-on")
    cells = {row[1].value: row[column].value for row in ws.iter_rows(min_row=2)}
    assert cells[FROM_CODE] == f"collect 3 crates for {TO_NAME}"
    assert cells[TO_CODE] == f"deliver 3 crates collected at {FROM_NAME}"


def test_no_transfers_no_transfer_lines(client: FlaskClient) -> None:
    page = client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    assert "Chuyển tiếp" not in page
    sheet = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}").get_data(as_text=True)
    assert "Chuyển tiếp" not in sheet


def test_transfer_partners_are_named_by_the_visits(fixture_plan: Plan) -> None:
    route = fixture_plan.routes[0]
    visits = list(route.visits)
    a, b = visits[1].commune_code, visits[3].commune_code
    visits[1] = dataclasses.replace(visits[1], transfer_collect_crates=4, transfers_to=((b, 4),))
    visits[3] = dataclasses.replace(visits[3], transfer_deliver_crates=4,
                                    transfers_from=((a, 4),))
    visits[5] = dataclasses.replace(visits[5], transfer_deliver_crates=2)  # partner unknown
    plan = dataclasses.replace(fixture_plan, routes=(
        dataclasses.replace(route, visits=tuple(visits)), *fixture_plan.routes[1:]))
    stops = route_view(plan, 0, None).stops
    assert stops[1].transfers_out[0].partner_name == visits[3].commune_name
    assert stops[3].transfers_in[0].partner_code == a
    assert stops[2].transfers_out == () and stops[2].transfers_in == ()
    assert stops[5].transfers_in[0].crates == 2
    assert stops[5].transfers_in[0].partner_name is None  # nothing is guessed


def test_route_sheet_title_names_the_vehicle_once(client: FlaskClient,
                                                  fixture_plan: Plan) -> None:
    name = fixture_plan.routes[0].vehicle_name  # "Xe thư viện lưu động 01"
    page = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}").get_data(as_text=True)
    assert f"<title>Phiếu lộ trình: {name} · " in page
    assert "xe Xe" not in page
    page = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}?lang=en").get_data(as_text=True)
    assert f"<title>Route sheet: {name} · " in page


def test_map_popups_show_transfers(client: FlaskClient, runs_dir: Path) -> None:
    _add_transfer(runs_dir)
    page = client.get(f"/plans/{FIXTURE_RUN}/map").get_data(as_text=True)
    assert f"nhận 3 thùng để giao cho {TO_NAME}" in page
    assert f"giao 3 thùng nhận từ {FROM_NAME}" in page
