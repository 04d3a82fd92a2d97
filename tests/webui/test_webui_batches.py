"""Book batches on what people read: the route sheet (HTML and PDF) lists per stop the
batches to leave and to take back with tick boxes, and the trip's loading list; the plan page,
the map popups and the CSV manifest name them too."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from webui_testkit import FIXTURE_RUN, NEW_BATCH, OLD_BATCH, VEHICLE, add_batches


def test_the_route_sheet_lists_batches_with_tick_boxes(client: FlaskClient,
                                                       runs_dir: Path) -> None:
    add_batches(runs_dir)
    sheet = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}").get_data(as_text=True)
    assert "Lô sách xếp lên xe tại thư viện" in sheet
    new = f"{NEW_BATCH} · 2 thùng · Tiếng Hmông Xanh (Hmông Njua) · thiếu nhi"
    assert new in sheet and f"{OLD_BATCH} · 2 thùng · Tiếng Việt · người lớn" in sheet
    assert "☐ đã giao ☐ thiếu" in sheet and "☐ đã thu ☐ thiếu" in sheet
    # why no batch is left there: worded on the Vietnamese sheet, the planner's note in English
    assert "Không còn lô sách phù hợp nào mà xã chưa có" in sheet
    assert "no batch it has not had in Tày" not in sheet
    english = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}?lang=en").get_data(as_text=True)
    assert f"{NEW_BATCH} · 2 crates · Hmong Njua (Green Hmong) · children" in english
    pdf = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}.pdf?lang=vi")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
                    .split())
    assert "Lô sách xếp lên xe tại thư viện" in text and text.count(NEW_BATCH) >= 2
    assert OLD_BATCH in text and "đã thu" in text


def test_plan_page_map_and_manifest_name_the_batches(client: FlaskClient,
                                                      runs_dir: Path) -> None:
    code = add_batches(runs_dir)
    page = client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    assert f"Giao lô sách: {NEW_BATCH}" in page and f"Thu lô sách: {OLD_BATCH}" in page
    assert NEW_BATCH in client.get(f"/plans/{FIXTURE_RUN}/map").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(
        client.get(f"/plans/{FIXTURE_RUN}/export.csv").get_data().decode("utf-8-sig"))))
    deliver, collect = rows[0].index("Giao lô sách"), rows[0].index("Thu lô sách")
    row = next(r for r in rows[1:] if r[3] == code)
    assert (row[deliver], row[collect]) == (NEW_BATCH, OLD_BATCH)


def test_crate_labels_name_each_batch_and_their_qr_codes_open_its_page(
        client: FlaskClient, runs_dir: Path) -> None:
    pdfium = pytest.importorskip("pypdfium2")
    zxingcpp = pytest.importorskip("zxingcpp")
    code = add_batches(runs_dir)
    page = client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    assert f"/plans/{FIXTURE_RUN}/labels.pdf" in page
    response = client.get(f"/plans/{FIXTURE_RUN}/labels.pdf?lang=vi")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(response.data)).pages[0].extract_text().split())
    assert NEW_BATCH in text and "Truyện tranh" in text and "đã giao" in text
    assert OLD_BATCH not in text  # only what the plan leaves gets a label
    plan = json.loads((runs_dir / FIXTURE_RUN / "plan.json").read_text(encoding="utf-8"))
    commune = next(v["commune_name"] for v in plan["routes"][0]["visits"]
                   if v["commune_code"] == code)
    assert f"Giao đến: {commune}" in text
    image = pdfium.PdfDocument(response.data)[0].render(scale=3).to_pil()
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    assert decoded == [f"http://localhost/batches/{NEW_BATCH}"]


def test_a_plan_without_batches_has_no_label_link_and_an_empty_label_sheet(
        client: FlaskClient) -> None:
    page = client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    assert "labels.pdf" not in page
    response = client.get(f"/plans/{FIXTURE_RUN}/labels.pdf?lang=en")
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "This plan leaves no book batch." in text
