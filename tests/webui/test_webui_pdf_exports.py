"""PDF route sheets, the overview map PNG, the printed sheet's HTML (golden file) and the
plan exports (GeoJSON, GPX, KML, CSV, XLSX).

The golden file ``golden/sheet-xe-tv-01.vi.html`` is the printed HTML sheet of the fixture
plan's first vehicle. After an intended change to the sheet, regenerate it with

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/webui/test_webui_pdf_exports.py -k golden

and review the diff before committing it.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader
from webui_testkit import FIXTURE_DIR, FIXTURE_RUN, HERE, OSM

from planner.plan import Plan
from render.exports import GPX_NS, KML_NS, kml_colour, manifest_header
from render.sheetmap import map_extent, nice_scale_km
from webui import create_app

GOLDEN_DIR = HERE / "golden"
VEHICLE = "xe-tv-01"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the read-only tests of this module, so the basemap is loaded once."""
    root = tmp_path_factory.mktemp("pdf-exports")
    shutil.copytree(FIXTURE_DIR, root / "runs" / FIXTURE_RUN,
                    ignore=shutil.ignore_patterns("map*.html"))
    yield create_app({"TESTING": True, "RUNS_DIR": root / "runs",
                      "SCENARIOS_DIR": root / "scenarios", "JOBS_DIR": root / "jobs"})


@pytest.fixture
def shared(shared_app: Flask) -> FlaskClient:
    return shared_app.test_client()


def _pdf(client: FlaskClient, url: str) -> PdfReader:
    resp = client.get(url)
    assert resp.status_code == 200, url
    assert resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(resp.data))


def _text(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def _used(plan: Plan) -> list:
    return [r for r in plan.routes if r.visits]


# --- PDF sheets --------------------------------------------------------------------------------


def test_sheet_pdf_lists_stops_in_order_with_diacritics(shared: FlaskClient,
                                                        fixture_plan: Plan) -> None:
    route = next(r for r in fixture_plan.routes if r.vehicle_id == VEHICLE)
    resp = shared.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}.pdf")
    assert f'filename="{FIXTURE_RUN}-{VEHICLE}-vi.pdf"' in resp.headers["Content-Disposition"]
    text = _text(_pdf(shared, f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}.pdf"))
    assert "Xã Đồng Văn" in text and "Xã Lũng Cú" in text
    # Each stop's heading is its number, then the commune name, in visit order.
    positions = []
    for v in route.visits:
        found = re.search(rf"(?m)^{v.seq}\n{re.escape(v.commune_name)}$", text)
        assert found, (v.seq, v.commune_name)
        positions.append(found.start())
    assert positions == sorted(positions)
    assert route.vehicle_name in text and route.driver in text
    assert "Phiếu lộ trình" in text and "Giờ đến thực tế" in text and "Chữ ký người nhận" in text
    assert "+1 ngày" in text  # day offsets
    assert "Vị trí gần đúng" in text  # the fixture's depot position is approximate
    assert "QL.4C" in text  # leg directions
    assert "Chặng về" in text
    assert OSM in text


def test_sheet_pdf_embeds_dejavu_and_nothing_else(shared: FlaskClient) -> None:
    reader = _pdf(shared, f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}.pdf")
    names = set()
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            names.add(str(font["/BaseFont"]).split("+")[-1])
            descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor  # embedded TrueType (subset)
    assert names == {"DejaVuSans", "DejaVuSans-Bold"}


def test_sheet_pdf_in_english(shared: FlaskClient) -> None:
    text = _text(_pdf(shared, f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}.pdf?lang=en"))
    assert "Route sheet" in text and "Actual arrival" in text and "Return leg" in text
    assert "+1 day" in text
    assert "Xã Đồng Văn" in text  # names stay as they are


def test_all_sheets_pdf_has_one_section_per_vehicle(shared: FlaskClient,
                                                    fixture_plan: Plan) -> None:
    reader = _pdf(shared, f"/plans/{FIXTURE_RUN}/sheets.pdf")
    used = _used(fixture_plan)
    outline = reader.outline
    assert [o.title for o in outline] == [f"{r.vehicle_name} ({r.vehicle_id})" for r in used]
    starts = [reader.get_destination_page_number(o) for o in outline]
    assert starts[0] == 0 and starts == sorted(set(starts))
    bounds = [*starts, len(reader.pages)]
    for i, route in enumerate(used):
        section = "\n".join(reader.pages[p].extract_text()
                            for p in range(bounds[i], bounds[i + 1]))
        assert section.startswith(f"Phiếu lộ trình: {route.vehicle_name}")
        for v in route.visits:
            assert v.commune_name in section
        others = [v.commune_name for r in used if r is not route for v in r.visits]
        assert not any(f"\n{name}\n" in section for name in others)


def test_overview_map_png(shared: FlaskClient) -> None:
    resp = shared.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}/map.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(resp.data))
    width, height = image.size
    assert 1000 <= width <= 3000 and 1.2 < width / height < 2.0
    grey = image.convert("L")
    dark = sum(grey.histogram()[:80])
    assert dark > 0.005 * width * height  # route, stops and labels were drawn


def test_pages_link_pdfs_map_and_exports(shared: FlaskClient) -> None:
    page = shared.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    assert f'href="/plans/{FIXTURE_RUN}/sheets.pdf?lang=vi"' in page
    assert f'href="/plans/{FIXTURE_RUN}/sheet/{VEHICLE}.pdf?lang=vi"' in page
    for fmt in ("geojson", "gpx", "kml", "csv", "xlsx"):
        assert f'href="/plans/{FIXTURE_RUN}/export.{fmt}?lang=vi"' in page
    sheet = shared.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}").get_data(as_text=True)
    assert f'href="/plans/{FIXTURE_RUN}/sheet/{VEHICLE}.pdf?lang=vi"' in sheet
    assert f'src="/plans/{FIXTURE_RUN}/sheet/{VEHICLE}/map.png?lang=vi"' in sheet


# --- golden HTML sheet -------------------------------------------------------------------------


def normalise_html(page: str) -> str:
    """Drop what may change without the sheet changing: trailing spaces, line ends, and the
    clock time at which the plan was written (``lập lúc 2026-11-22 10:14``) and the session's
    random CSRF token."""
    page = re.sub(r"(lập lúc|created) \d{4}-\d\d-\d\d \d\d:\d\d", r"\1 <created>", page)
    page = re.sub(r'(name="csrf[-_]token" (?:content|value)=")[^"]*"', r'\1<csrf>"', page)
    return "\n".join(line.rstrip() for line in page.splitlines()) + "\n"


def test_printed_sheet_html_matches_golden_file(shared: FlaskClient) -> None:
    resp = shared.get(f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}?lang=vi")
    assert resp.status_code == 200
    page = normalise_html(resp.get_data(as_text=True))
    golden = GOLDEN_DIR / f"sheet-{VEHICLE}.vi.html"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(page, encoding="utf-8")
    assert golden.is_file(), f"missing {golden}; run with UPDATE_GOLDEN=1 to create it"
    assert page == golden.read_text(encoding="utf-8"), (
        f"the printed sheet differs from {golden}; if the change is intended, regenerate it "
        "with UPDATE_GOLDEN=1 and review the diff")


# --- exports -----------------------------------------------------------------------------------


def _download(client: FlaskClient, fmt: str, mimetype: str, *, lang: str = "vi") -> bytes:
    resp = client.get(f"/plans/{FIXTURE_RUN}/export.{fmt}?lang={lang}")
    assert resp.status_code == 200, fmt
    assert resp.mimetype == mimetype
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and f".{fmt}" in disposition
    assert FIXTURE_RUN in disposition
    return resp.data


def test_geojson_export_is_the_routes_file(shared: FlaskClient) -> None:
    data = _download(shared, "geojson", "application/geo+json")
    assert data == (FIXTURE_DIR / "routes.geojson").read_bytes()


def test_gpx_export(shared: FlaskClient, fixture_plan: Plan) -> None:
    data = _download(shared, "gpx", "application/gpx+xml")
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(data)
    ns = {"g": GPX_NS}
    assert root.tag == f"{{{GPX_NS}}}gpx" and root.get("version") == "1.1"
    used = _used(fixture_plan)
    tracks = root.findall("g:trk", ns)
    assert len(tracks) == len(used)
    for trk, route in zip(tracks, used, strict=True):
        assert route.vehicle_name in trk.findtext("g:name", namespaces=ns)
        points = trk.findall("g:trkseg/g:trkpt", ns)
        assert len(points) > 100  # follows the roads, not straight lines
        first = points[0]
        assert math.isclose(float(first.get("lat")), route.depot_lat, abs_tol=0.05)
        assert math.isclose(float(first.get("lon")), route.depot_lon, abs_tol=0.05)
    waypoints = root.findall("g:wpt", ns)
    assert len(waypoints) == sum(len(r.visits) for r in used)
    names = [w.findtext("g:name", namespaces=ns) for w in waypoints]
    assert "6. Xã Đồng Văn" in names
    # GPX 1.1 puts every wpt before the first trk.
    tags = [child.tag.split("}")[1] for child in root]
    assert tags.index("trk") > max(i for i, t in enumerate(tags) if t == "wpt")


def test_gpx_tracks_are_simplified_within_tolerance(shared: FlaskClient,
                                                    fixture_plan: Plan) -> None:
    """Every vertex of the road-following line stays within the tolerance (5 m) of the
    exported track, which is much smaller than the unsimplified one."""
    import json

    import pyproj
    import shapely

    from render.exports import TRACK_TOLERANCE_M, gpx_document, route_coordinates

    routes = json.loads((FIXTURE_DIR / "routes.geojson").read_text(encoding="utf-8"))
    data = _download(shared, "gpx", "application/gpx+xml")
    full = gpx_document(fixture_plan, routes, tolerance_m=0)
    assert len(data) < len(full) / 3
    root = ET.fromstring(data)
    ns = {"g": GPX_NS}
    to_m = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    for trk, route in zip(root.findall("g:trk", ns), _used(fixture_plan), strict=True):
        track = [(float(p.get("lon")), float(p.get("lat")))
                 for p in trk.findall("g:trkseg/g:trkpt", ns)]
        (original,) = route_coordinates(routes, route.vehicle_id)
        assert len(track) < len(original) / 2
        assert track[0] == pytest.approx(original[0]) and track[-1] == pytest.approx(original[-1])
        line = shapely.linestrings(list(zip(*to_m.transform(*zip(*track, strict=True)),
                                            strict=True)))
        points = shapely.points(list(zip(*to_m.transform(*zip(*original, strict=True)),
                                         strict=True)))
        # + 0.2 m: coordinates are written with 6 decimals (about 0.1 m).
        assert shapely.distance(points, line).max() <= TRACK_TOLERANCE_M + 0.2
    # Named waypoints are all kept.
    assert len(root.findall("g:wpt", ns)) == sum(len(r.visits) for r in _used(fixture_plan))


def test_kml_export(shared: FlaskClient, fixture_plan: Plan) -> None:
    root = ET.fromstring(_download(shared, "kml", "application/vnd.google-earth.kml+xml"))
    ns = {"k": KML_NS}
    assert root.tag == f"{{{KML_NS}}}kml"
    used = _used(fixture_plan)
    lines = root.findall(".//k:Placemark/k:LineString", ns)
    points = root.findall(".//k:Placemark/k:Point", ns)
    assert len(lines) == len(used)
    assert len(points) == sum(len(r.visits) for r in used)
    lon, lat = map(float, points[0].findtext("k:coordinates", namespaces=ns).split(","))
    first = used[0].visits[0]
    assert (round(lon, 4), round(lat, 4)) == (round(first.lon, 4), round(first.lat, 4))
    assert kml_colour("#0b4f9c") == "ff9c4f0b"


def test_csv_manifest(shared: FlaskClient, fixture_plan: Plan) -> None:
    data = _download(shared, "csv", "text/csv")
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == manifest_header("vi")
    assert rows[0][:3] == ["Mã xe", "Xe", "TT"]
    visits = [(r, v) for r in fixture_plan.routes for v in r.visits]
    assert len(rows) == 1 + len(visits)
    for row, (route, v) in zip(rows[1:], visits, strict=True):
        assert row[0] == route.vehicle_id and row[2] == str(v.seq)
        assert row[3] == v.commune_code and row[4] == v.commune_name
        assert row[6] == v.arrival[:16].replace("T", " ")
        assert row[8:11] == [str(v.deliver_crates), str(v.collect_crates),
                             str(v.load_after_crates)]
    assert any(row[4] == "Xã Đồng Văn" for row in rows)
    english = _download(shared, "csv", "text/csv", lang="en").decode("utf-8-sig")
    assert english.splitlines()[0].startswith("Vehicle ID,Vehicle,No.,Commune code")


def test_xlsx_manifest(shared: FlaskClient, fixture_plan: Plan) -> None:
    data = _download(shared, "xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Tổng hợp", *[r.vehicle_id for r in fixture_plan.routes]]
    summary = wb["Tổng hợp"]
    assert [summary.cell(row=i + 2, column=1).value
            for i in range(len(fixture_plan.routes))] == [r.vehicle_id
                                                          for r in fixture_plan.routes]
    for route in fixture_plan.routes:
        ws = wb[route.vehicle_id]
        assert ws.max_row == 1 + len(route.visits)
        assert [ws.cell(row=i + 2, column=3).value for i in range(len(route.visits))] == \
            [v.commune_name for v in route.visits]
        arrival = ws.cell(row=2, column=5).value
        assert arrival.strftime("%Y-%m-%dT%H:%M") == route.visits[0].arrival[:16]


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/plans/nope/sheet/xe-tv-01.pdf",
    "/plans/nope/sheets.pdf",
    "/plans/nope/sheet/xe-tv-01/map.png",
    "/plans/nope/export.gpx",
    f"/plans/{FIXTURE_RUN}/sheet/no-such-truck.pdf",
    f"/plans/{FIXTURE_RUN}/sheet/no-such-truck/map.png",
    f"/plans/{FIXTURE_RUN}/export.zip",
    f"/plans/{FIXTURE_RUN}/export.GPX",
    f"/plans/{FIXTURE_RUN}/export.",
    "/plans/..%2Fetc/export.csv",
])
def test_unknown_run_vehicle_or_format_is_404(shared: FlaskClient, url: str) -> None:
    assert shared.get(url).status_code == 404


def test_without_routes_file(client: FlaskClient, runs_dir: Path) -> None:
    """Geometry exports need routes.geojson; sheets and manifests do not."""
    (runs_dir / FIXTURE_RUN / "routes.geojson").unlink()
    for fmt in ("geojson", "gpx", "kml"):
        resp = client.get(f"/plans/{FIXTURE_RUN}/export.{fmt}?lang=en")
        assert resp.status_code == 404
        assert "routes.geojson" in resp.get_data(as_text=True)
    assert client.get(f"/plans/{FIXTURE_RUN}/export.csv").status_code == 200
    text = _text(_pdf(client, f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}.pdf?lang=en"))
    assert "No directions for this leg" in text


# --- small pieces ------------------------------------------------------------------------------


def test_scale_bar_lengths_are_round() -> None:
    assert nice_scale_km(100) == 20
    assert nice_scale_km(60) == 10
    assert nice_scale_km(8) == 1
    assert nice_scale_km(0.3) == 0.05


def test_map_extent_fills_the_frame_with_true_shape() -> None:
    import numpy as np

    points = np.array([[104.9, 22.8], [105.5, 23.4]])
    x0, x1, y0, y1 = map_extent(points, 1.6)
    assert x0 < 104.9 and x1 > 105.5 and y0 < 22.8 and y1 > 23.4
    km_wide = (x1 - x0) * math.cos(math.radians((y0 + y1) / 2))
    assert math.isclose(km_wide / (y1 - y0), 1.6, rel_tol=1e-9)
