"""The communes and libraries page: every commune of the dataset, search with or without
diacritics, library points and the scenario's stops."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from webui_testkit import tiny_scenario_yaml

from webui.communes import commune_rows, filter_rows

N_COMMUNES = 73  # the embedded Hà Giang dataset


@pytest.fixture
def with_scenario(scenarios_dir: Path) -> str:
    """A two-stop scenario (Lũng Cú 00715 and Đồng Văn 00721) in SCENARIOS_DIR."""
    (scenarios_dir / "tiny.yaml").write_text(tiny_scenario_yaml(), encoding="utf-8")
    return "tiny"


def _codes(page: str) -> list[str]:
    return re.findall(r'data-code="(\d+)"', page)


def test_lists_every_commune_with_library_points(client: FlaskClient) -> None:
    resp = client.get("/communes")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    codes = _codes(page)
    assert len(codes) == N_COMMUNES and codes == sorted(codes)
    assert "Xã, phường và thư viện" in page and "Xã Đồng Văn" in page
    assert f"Đang hiển thị {N_COMMUNES}/{N_COMMUNES} xã, phường" in page
    assert "Vị trí gần đúng" in page  # commune-centre library points are approximate
    # The dataset's provincial library, in its ward, with its precision.
    assert "Thư viện tỉnh Hà Giang" in page and "sai số khoảng 5,0 km" in page
    assert "22.8605, 104.9630" in page
    assert "Cấp huyện đã bãi bỏ" in page  # the dataset has no (former) district


@pytest.mark.parametrize("query", ["dong van", "Đồng Văn", "ĐỒNG VĂN", "đong van", "Dong  Van",
                                   unicodedata.normalize("NFD", "Đồng Văn")])
def test_search_with_or_without_diacritics(client: FlaskClient, query: str) -> None:
    page = client.get("/communes", query_string={"q": query}).get_data(as_text=True)
    # Xã Đồng Văn only: not Xã Yên Minh, merged from Xã Đông Minh and Xã Vần Chải.
    assert _codes(page) == ["00721"]
    assert f"Đang hiển thị 1/{N_COMMUNES} xã, phường" in page


def test_search_d_matches_d_stroke_codes_and_former_units(client: FlaskClient) -> None:
    page = client.get("/communes?q=ngoc+duong").get_data(as_text=True)
    assert _codes(page) == ["00700"]  # Xã Ngọc Đường
    assert _codes(client.get("/communes?q=00715").get_data(as_text=True)) == ["00715"]
    # Xã Má Lé was merged into Xã Lũng Cú in 2025.
    assert "00715" in _codes(client.get("/communes?q=ma+le").get_data(as_text=True))
    page = client.get("/communes?q=zzzz").get_data(as_text=True)
    assert _codes(page) == [] and "Không có xã nào khớp với “zzzz”." in page


def test_scenario_column_and_filter(client: FlaskClient, with_scenario: str) -> None:
    page = client.get(f"/communes?scenario={with_scenario}").get_data(as_text=True)
    assert "2 xã có trong kịch bản" in page
    row = re.search(r'<tr data-search="[^"]*" data-code="00715" class="in-scenario">(.*?)</tr>',
                    page, re.DOTALL)
    assert row and "giao 5 thùng, thu về 5 thùng" in row.group(1)
    # The default scenario's depot, placed in ward 00691, is shown there.
    assert "Điểm xuất phát: Thư viện tỉnh Hà Giang" in page
    only = client.get(f"/communes?scenario={with_scenario}&only=1").get_data(as_text=True)
    assert _codes(only) == ["00715", "00721"]
    # The only scenario of the folder is the default one.
    assert "2 xã có trong kịch bản" in client.get("/communes").get_data(as_text=True)
    none = client.get("/communes?scenario=").get_data(as_text=True)
    assert "xã có trong kịch bản" not in none and len(_codes(none)) == N_COMMUNES


def test_unknown_or_broken_scenario(client: FlaskClient, scenarios_dir: Path) -> None:
    resp = client.get("/communes?scenario=nope")
    assert resp.status_code == 404 and "nope" in resp.get_data(as_text=True)
    (scenarios_dir / "broken.yaml").write_text("name: broken\nstops: 3\n", encoding="utf-8")
    resp = client.get("/communes?scenario=broken")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Không đọc được kịch bản broken" in page
    assert len(_codes(page)) == N_COMMUNES


def test_english_page(client: FlaskClient) -> None:
    page = client.get("/communes?lang=en&q=lung+cu").get_data(as_text=True)
    assert "Communes, wards and libraries" in page and "Xã Lũng Cú" in page
    assert f"Showing 1 of {N_COMMUNES} communes and wards" in page


def test_every_role_may_read_it_and_anonymous_users_log_in(client_as, anon_client) -> None:
    for role in ("driver", "viewer", "planner"):
        assert client_as(role).get("/communes").status_code == 200, role
    resp = anon_client.get("/communes")
    assert resp.status_code in (302, 303) and "login" in resp.headers["Location"]


def test_rows_and_filter_without_flask() -> None:
    communes = [{"commune_code": "00002", "name": "Xã Đồng Văn", "short_name": "Đồng Văn",
                 "type": "Xã", "lon": 105.0, "lat": 23.0, "population": 100.0,
                 "predecessor_units": "Xã Cũ"},
                {"commune_code": "00001", "name": "Phường Hà Giang 1", "type": "Phường",
                 "lon": 104.9, "lat": 22.8, "population": float("nan"), "district": "Thành phố"}]
    libraries = [{"library_id": "L", "name": "Thư viện", "commune_2025_code": "00001",
                  "lon": 104.9, "lat": 22.8, "location_precision_km": 0.05}]
    rows = commune_rows(communes, libraries, None)
    assert [r.code for r in rows] == ["00001", "00002"]
    assert rows[0].population is None and rows[0].district == "Thành phố"
    assert rows[0].other_libraries[0].approximate is False  # surveyed to 50 m
    assert rows[1].library.approximate and not rows[1].in_scenario
    assert [r.code for r in filter_rows(rows, "cu")] == ["00002"]  # former unit "Xã Cũ"
    assert [r.code for r in filter_rows(rows, "thu vien")] == ["00001"]
    assert filter_rows(rows, "", only_in_scenario=True) == []
