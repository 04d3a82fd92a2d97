"""The batch registry on the web (issue 13, item 7): import and export of its tables (all or
nothing), the registry page's filters, a batch's page (where it is, its history; the page a
crate label's QR code opens, where a driver confirms a hand-over and a dispatcher corrects
where it is), the trip screen that enters a printed sheet's ticks, the outcome form's batch
ticks, and a commune's batches and reader profile; each action for the roles that may."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from webui_testkit import FIXTURE_RUN, NEW_BATCH, OLD_BATCH, VEHICLE, add_batches
from webui_userkit import tie_vehicles

from storage import batches as registry
from webui.services import services_of

COMMUNE = "00715"  # Xã Lũng Cú, the truck's first stop
REGISTRY_CSV = (
    "mã lô,số thùng,ngôn ngữ,đối tượng,tên lô\n"
    f"{NEW_BATCH},2,hnj,children,Truyện tranh <script>alert(1)</script>\n"
    f"{OLD_BATCH},2,vie,adults,Sách pháp luật\n"
    "HG-2026-200,3,tyz; vie,farming,Trồng chè\n")
HISTORY_CSV = ("batch_id,commune_code,delivered_on,collected_on\n"
               f"{OLD_BATCH},{COMMUNE},2026-09-07,\n")
PROFILES_CSV = "mã xã,ngôn ngữ,đối tượng,sức chứa (thùng)\n00715,vie; hnj,children,6\n"


def _files(**tables: str) -> dict[str, tuple[io.BytesIO, str]]:
    return {name: (io.BytesIO(text.encode("utf-8")), f"{name}.csv")
            for name, text in tables.items()}


def _import(client: FlaskClient, **tables: str):  # type: ignore[no-untyped-def]
    return client.post("/batches/import", data=_files(**tables),
                       content_type="multipart/form-data")


def _where(app: Flask) -> dict[str, str]:
    with services_of(app).database.read() as s:
        return {b: str(p) for b, p in registry.ledger(s).where.items()}


def _move_count(app: Flask) -> int:
    with services_of(app).database.read() as s:
        return len(registry.move_history(s))


@pytest.fixture
def published(app: Flask, client: FlaskClient, runs_dir: Path) -> str:
    """The fixture plan with batches at the truck's first stop, its registry and history
    imported on the web, published: its version key."""
    add_batches(runs_dir)
    assert _import(client, batches=REGISTRY_CSV, history=HISTORY_CSV,
                   profiles=PROFILES_CSV).status_code == 303
    response = client.post(f"/plans/{FIXTURE_RUN}/publish")
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


def test_a_bad_row_anywhere_imports_nothing_and_names_row_column_value_and_fix(
        app: Flask, client: FlaskClient) -> None:
    bad_history = "batch_id,commune_code,delivered_on,collected_on\nHG-2026-200,00715,7/9/26,\n"
    response = _import(client, batches=REGISTRY_CSV.replace(",3,tyz", ",ba,tyz"),
                       history=bad_history)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Chưa ghi gì" in page
    assert "batches.csv" in page and "row 4, column số thùng" in page and "<code>ba</code>" in page
    assert "history.csv" in page and "7/9/26" in page
    assert _where(app) == {} and _move_count(app) == 0
    empty = client.post("/batches/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "Chưa chọn tệp nào" in empty.get_data(as_text=True)


def test_import_then_list_filter_and_export_read_back(app: Flask, client: FlaskClient) -> None:
    response = _import(client, batches=REGISTRY_CSV, history=HISTORY_CSV,
                       profiles=PROFILES_CSV)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "thêm 3 lô" in page and "1 hồ sơ" in page
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert page.count('data-batch="') == 3
    hmong = client.get("/batches?language=hnj").get_data(as_text=True)
    assert f'data-batch="{NEW_BATCH}"' in hmong and f'data-batch="{OLD_BATCH}"' not in hmong
    at_commune = client.get("/batches?at=commune").get_data(as_text=True)
    assert re.findall(r'data-batch="([^"]+)"', at_commune) == [OLD_BATCH]
    assert "Xã Lũng Cú (00715)" in at_commune
    farming = client.get("/batches?audience=farming&q=chè").get_data(as_text=True)
    assert re.findall(r'data-batch="([^"]+)"', farming) == ["HG-2026-200"]
    rows = list(csv.reader(io.StringIO(
        client.get("/batches/export/batches.csv").get_data().decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [NEW_BATCH, OLD_BATCH, "HG-2026-200"]
    history = client.get("/batches/export/history.xlsx")
    sheet = load_workbook(io.BytesIO(history.data)).active
    assert [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))][:2] == [OLD_BATCH,
                                                                                 COMMUNE]
    # what was exported imports again unchanged
    again = client.post("/batches/import", data={"batches": (io.BytesIO(
        client.get("/batches/export/batches.xlsx").data), "lo.xlsx")},
        content_type="multipart/form-data")
    assert "unchanged=3" in again.headers["Location"]
    assert client.get("/batches/export/nothing.csv").status_code == 404


def test_roles_read_the_registry_and_only_dispatchers_keep_it(
        client_as: Callable[..., FlaskClient]) -> None:
    for role in ("driver", "viewer", "planner"):
        c = client_as(role)
        assert c.get("/batches").status_code == 200
        assert 'action="/batches/import"' not in c.get("/batches").get_data(as_text=True)
        assert _import(c, batches=REGISTRY_CSV).status_code == 403
    assert client_as("driver").get("/batches/export/batches.csv").status_code == 403


def test_a_driver_confirms_a_hand_over_on_the_batch_page(
        app: Flask, published: str, client_as: Callable[..., FlaskClient]) -> None:
    driver = client_as("driver")
    tie_vehicles(app, "driver-user", VEHICLE)
    page = driver.get(f"/batches/{NEW_BATCH}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Đã giao tại Xã Lũng Cú" in text and "/correct" not in text
    assert "thư viện (chưa ghi nơi)" in text
    form = {"version": published, "vehicle_id": VEHICLE, "stop_seq": "1"}
    response = driver.post(f"/batches/{NEW_BATCH}/confirm", data=form | {"action": "delivered"})
    assert response.status_code == 303
    assert _where(app)[NEW_BATCH] == f"commune {COMMUNE}"
    after = driver.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã ghi: lô sách đã giao." in after and "Đã ghi nhận." in after
    assert "Xã Lũng Cú (00715)" in after and "chuyến đi" in after
    moves = _move_count(app)
    driver.post(f"/batches/{NEW_BATCH}/confirm", data=form | {"action": "delivered"})
    assert _move_count(app) == moves  # confirming twice moves nothing
    wrong = driver.post(f"/batches/{NEW_BATCH}/confirm",
                        data=form | {"stop_seq": "2", "action": "delivered"})
    assert wrong.status_code == 422 and "is not a batch of this stop" in wrong.get_data(
        as_text=True)
    assert driver.post(f"/batches/{NEW_BATCH}/correct",
                       data={"kind": "library", "ref": "tv-ha-giang", "note": "x",
                             "at": "2026-12-10T10:00"}).status_code == 403


def test_a_dispatcher_corrects_where_a_batch_is_and_bad_corrections_change_nothing(
        app: Flask, client: FlaskClient, published: str) -> None:
    url = f"/batches/{OLD_BATCH}/correct"
    base = {"kind": "commune", "ref": "00802", "note": "kiểm kê", "at": "2026-12-01T09:00"}
    for bad, message in (({"ref": "99999"}, "Không có xã mã 99999"),
                         ({"note": ""}, "Hãy ghi lý do"),
                         ({"at": "3026-01-01T00:00"}, "Thời điểm không hợp lệ"),
                         ({"kind": "moon"}, "Nơi phải là"),
                         ({"ref": COMMUNE}, "đã ở đó")):
        response = client.post(url, data=base | bad)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _where(app)[OLD_BATCH] == f"commune {COMMUNE}"
    assert client.post(url, data=base).status_code == 303
    assert _where(app)[OLD_BATCH] == "commune 00802"
    page = client.get(f"/batches/{OLD_BATCH}").get_data(as_text=True)
    assert "hiệu chỉnh" in page and "kiểm kê" in page and "Xã Khâu Vai (00802)" in page
    assert client.get("/batches/NO-SUCH").status_code == 404
    assert client.get("/batches/<script>").status_code == 404


def test_the_trip_screen_records_a_whole_printed_sheet_all_or_nothing(
        app: Flask, published: str, client_as: Callable[..., FlaskClient]) -> None:
    driver = client_as("driver")
    tie_vehicles(app, "driver-user", VEHICLE)
    url = f"/versions/{published}/trips/{VEHICLE}"
    page = driver.get(url).get_data(as_text=True)
    assert 'name="s1-delivered"' in page and 'name="s1-collected"' in page
    assert "Xã Lũng Cú" in page and 'name="returned"' in page
    bad = driver.post(url, data={"s1-status": "done", "s1-delivered": [NEW_BATCH, "HG-2026-200"]})
    assert bad.status_code == 422 and "HG-2026-200" in bad.get_data(as_text=True)
    assert _move_count(app) == 1  # the imported history only
    good = {"s1-status": "done", "s1-delivered": NEW_BATCH, "s1-collected": OLD_BATCH,
            "s2-status": "", "returned": "1"}
    response = driver.post(url, data=good)
    assert response.status_code == 303
    where = _where(app)
    assert where[NEW_BATCH] == f"commune {COMMUNE}"
    assert where[OLD_BATCH] == "library tv-ha-giang"  # taken back, unloaded on return
    moves = _move_count(app)
    assert driver.post(url, data=good).status_code == 303
    assert _move_count(app) == moves  # entered twice: no second move
    again = driver.get(url).get_data(as_text=True)
    assert "Đã ghi xe về thư viện." in again
    assert re.search(rf'name="s1-delivered" value="{NEW_BATCH}" checked', again)
    outcomes = driver.get(f"/versions/{published}/outcomes").get_data(as_text=True)
    assert "Hoàn thành" in outcomes or "done" in outcomes
    assert client_as("viewer").post(url, data=good).status_code == 403
    assert driver.get(f"/versions/{published}/trips/no-vehicle").status_code == 404


def test_the_outcome_form_of_a_stop_lists_its_batches(
        app: Flask, client: FlaskClient, published: str) -> None:
    page = client.get(f"/versions/{published}/outcomes").get_data(as_text=True)
    assert f'name="delivered" value="{NEW_BATCH}"' in page
    assert f'name="collected" value="{OLD_BATCH}"' in page
    assert f"/versions/{published}/trips/{VEHICLE}" in page
    response = client.post(f"/versions/{published}/outcomes",
                           data={"vehicle_id": VEHICLE, "stop_seq": "1", "status": "done",
                                 "missing": NEW_BATCH, "collected": OLD_BATCH})
    assert response.status_code == 303
    assert _where(app)[OLD_BATCH] == f"vehicle {VEHICLE}"
    history = client.get(f"/batches/{NEW_BATCH}").get_data(as_text=True)
    assert "báo thiếu" in history


def test_the_commune_page_shows_its_batches_and_keeps_its_reader_profile(
        app: Flask, client: FlaskClient, published: str,
        client_as: Callable[..., FlaskClient]) -> None:
    page = client.get(f"/communes/{COMMUNE}").get_data(as_text=True)
    assert 'id="reader-profile"' in page and "Tiếng Hmông" in page
    holdings = page[page.index('id="holdings"'):page.index("</ul>", page.index('id="holdings"'))]
    assert OLD_BATCH in holdings and NEW_BATCH not in holdings
    assert 'id="profile-form"' in page
    form = {"languages": ["vie", "tyz"], "audiences": ["children"], "shelf_crates": "8",
            "batches_per_visit": "2", "languages_required": "1"}
    assert client.post(f"/communes/{COMMUNE}/profile", data=form).status_code == 303
    with services_of(app).database.read() as s:
        profile = registry.profiles(s)[COMMUNE]
    assert (profile.languages, profile.shelf_crates, profile.batches_per_visit,
            profile.audiences_required) == (("vie", "tyz"), 8, 2, False)
    history = client.get(f"/communes/{COMMUNE}").get_data(as_text=True)
    assert "profile.shelf_crates" in history  # the change is in the library's audit trail
    for bad in ({"shelf_crates": "0"}, {"languages": []}, {"batches_per_visit": "x"}):
        response = client.post(f"/communes/{COMMUNE}/profile", data=form | bad)
        assert response.status_code == 422 and 'data-field="profile"' in response.get_data(
            as_text=True)
    planner = client_as("planner")
    assert 'id="profile-form"' not in planner.get(f"/communes/{COMMUNE}").get_data(
        as_text=True)
    assert planner.post(f"/communes/{COMMUNE}/profile", data=form).status_code == 403


def test_batch_pages_speak_english_when_asked(client: FlaskClient, published: str) -> None:
    page = client.get(f"/batches/{OLD_BATCH}?lang=en").get_data(as_text=True)
    assert "Now at" in page and "Correct where the batch is" in page and "Hiện đang ở" not in page
