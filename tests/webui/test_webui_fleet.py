"""The fleet, drivers tied to vehicles and "my trip": a driver sees and records the trips of
their own vehicles only (the server refuses the rest, on every form), a dispatcher records
for any, and no link leads a driver to a page it may not open."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask, g, request
from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN, NEW_BATCH, OLD_BATCH, VEHICLE, add_batches
from webui_userkit import tie_vehicles

from planner.plan import Plan
from storage import batches as registry
from storage import fleet, users
from webui.auth import CurrentUser, can, permission_for_request
from webui.services import services_of

VAN = "xe-van-02"
HREF = re.compile(r'(<a\b[^>]*\bhref="([^"#]*)[^"]*"[^>]*>)')
DOWNLOADS = (".pdf", ".png", ".json", ".geojson", ".gpx", ".kml", ".csv", ".xlsx")
COUNT_SCENARIO = """schema_version: 2
name: two-trucks
network: ha_giang
horizon: {start_date: 2026-12-07, days: 5}
depots:
  - {id: tv-ha-giang, name: "Thư viện tỉnh Hà Giang", location: {lon: 104.963, lat: 22.8605}}
vehicles:
  - {id: xe-tv, name: "Xe thư viện", profile: truck, depot: tv-ha-giang, capacity_crates: 60,
     count: 2}
stops:
  - {commune_code: "00715", deliver_crates: 5}
"""


@pytest.fixture
def published(client: FlaskClient, runs_dir: Path) -> str:
    """The fixture plan (truck ``xe-tv-01``, van ``xe-van-02``) with a batch at the truck's
    first stop, the registry imported and the plan published: its version key."""
    add_batches(runs_dir)
    registry = (f"batch_id,crates,languages\n{NEW_BATCH},2,hnj\n{OLD_BATCH},2,vie\n")
    assert client.post("/batches/import", content_type="multipart/form-data", data={
        "batches": (io.BytesIO(registry.encode()), "batches.csv")}).status_code == 303
    response = client.post(f"/plans/{FIXTURE_RUN}/publish")
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


def _outcome(client: FlaskClient, key: str, vehicle: str) -> int:
    return client.post(f"/versions/{key}/outcomes", data={
        "vehicle_id": vehicle, "stop_seq": "1", "status": "done"}).status_code


def test_the_fleet_takes_the_vehicles_scenarios_name_numbering_count_copies(
        client: FlaskClient, client_as: Callable[..., FlaskClient],
        scenarios_dir: Path) -> None:
    (scenarios_dir / "two-trucks.yaml").write_text(COUNT_SCENARIO, encoding="utf-8")
    page = client.get("/fleet").get_data(as_text=True)
    for copy in ("1", "2"):  # each copy of `count: 2` is a vehicle of its own, numbered
        assert f'id="missing-xe-tv-{copy}"' in page and f"Xe thư viện · {copy}" in page
    added = client.post("/fleet", data={"vehicle_id": "xe-tv-2", "name": "Xe thư viện · 2",
                                        "profile": "truck", "depot_id": "tv-ha-giang",
                                        "capacity_crates": "60", "active": "1"})
    assert added.status_code == 303
    page = client.get("/fleet").get_data(as_text=True)
    assert 'id="vehicle-xe-tv-2"' in page and 'id="missing-xe-tv-2"' not in page
    assert 'id="missing-xe-tv-1"' in page
    row = page.split('id="vehicle-xe-tv-2"')[1].split("</tr>")[0]
    assert "two-trucks" in row and "xe thư viện" in row  # its scenario, its type in words
    # a refusal names the field in the page's language, and keeps what was typed
    for bad, field in (({"vehicle_id": "xe tv 3"}, "Mã xe"), ({"name": " "}, "Tên xe"),
                       ({"capacity_crates": "nhiều"}, "Sức chở"),
                       ({"profile": "tank"}, "Loại xe")):
        form = {"vehicle_id": "xe-3", "name": "Xe 3", "capacity_crates": "", **bad}
        response = client.post("/fleet", data=form)
        text = response.get_data(as_text=True)
        assert response.status_code == 422 and f"ô «{field}" in text, text[-2000:]
        assert "Not saved" not in text and 'id="vehicle-xe-3"' not in text
    for role in ("driver", "planner", "viewer"):
        c = client_as(role)
        assert c.get("/fleet").status_code == 403 and c.get("/accounts").status_code == 403
        assert c.post("/fleet", data={"vehicle_id": "x", "name": "x"}).status_code == 403
        assert 'href="/fleet"' not in c.get("/").get_data(as_text=True)
    assert 'href="/fleet"' in client.get("/").get_data(as_text=True)


def test_a_dispatcher_ties_drivers_to_vehicles_on_the_accounts_page(
        app: Flask, client: FlaskClient, client_as: Callable[..., FlaskClient]) -> None:
    client_as("driver").get("/")  # the account exists
    for vehicle in (VEHICLE, VAN):
        assert client.post("/fleet", data={"vehicle_id": vehicle, "name": vehicle,
                                           "active": "1"}).status_code == 303
    page = client.get("/accounts").get_data(as_text=True)
    assert 'id="user-driver-user"' in page and f'value="{VAN}"' in page
    response = client.post("/accounts/driver-user/vehicles", data={"vehicle": [VEHICLE]})
    assert response.status_code == 303
    with services_of(app).database.read() as s:
        assert fleet.get_vehicle(s, VEHICLE).users == ("driver-user",)
        assert fleet.get_vehicle(s, VAN).users == ()
    row = client.get("/accounts").get_data(as_text=True).split('id="user-driver-user"')[1]
    assert f'value="{VEHICLE}" checked' in row.split("</tr>")[0]
    assert client.post("/accounts/driver-user/vehicles",
                       data={"vehicle": ["no-such-van"]}).status_code == 404
    assert client.post("/accounts/nobody/vehicles", data={}).status_code == 404
    with services_of(app).database.read() as s:  # nothing changed by the refusals
        assert fleet.get_vehicle(s, VEHICLE).users == ("driver-user",)
    assert client_as("driver").post("/accounts/driver-user/vehicles",
                                    data={"vehicle": [VAN]}).status_code == 403


def test_a_driver_records_for_their_own_vehicle_only_on_every_form(
        app: Flask, client: FlaskClient, client_as: Callable[..., FlaskClient],
        published: str, fixture_plan: Plan) -> None:
    driver = client_as("driver")
    # not tied to any vehicle yet: nothing can be recorded, and the pages offer no form
    assert _outcome(driver, published, VEHICLE) == 403
    assert 'name="status"' not in driver.get(
        f"/versions/{published}/outcomes").get_data(as_text=True)
    assert "chưa được gắn với xe nào" in driver.get("/my-trip").get_data(as_text=True)
    tie_vehicles(app, "driver-user", VAN)
    # the van's driver: the truck's stop, trip screen and hand-over are refused on the server
    refused = driver.post(f"/versions/{published}/outcomes?lang=en", data={
        "vehicle_id": VEHICLE, "stop_seq": "1", "status": "done"})
    assert refused.status_code == 403
    assert f"vehicle {VEHICLE} is not tied to your account" in refused.get_data(as_text=True)
    trip_form = {"s1-status": "done", "s1-delivered": NEW_BATCH}
    assert driver.post(f"/versions/{published}/trips/{VEHICLE}",
                       data=trip_form).status_code == 403
    confirm = {"version": published, "vehicle_id": VEHICLE, "stop_seq": "1",
               "action": "delivered"}
    assert driver.post(f"/batches/{NEW_BATCH}/confirm", data=confirm).status_code == 403
    truck_trip = driver.get(f"/versions/{published}/trips/{VEHICLE}").get_data(as_text=True)
    assert 'name="s1-status"' not in truck_trip  # read only
    assert 'class="confirm-form"' not in driver.get(
        f"/batches/{NEW_BATCH}").get_data(as_text=True)
    outcomes = driver.get(f"/versions/{published}/outcomes").get_data(as_text=True)
    van_stops = len(next(r for r in fixture_plan.routes if r.key == VAN).visits)
    assert outcomes.count('class="outcome-form"') == van_stops  # the van's stops only
    assert f'name="vehicle_id" value="{VEHICLE}"' not in outcomes
    with services_of(app).database.read() as s:  # nothing was recorded by the refusals
        assert registry.move_history(s) == []
    # the van's own stop is the driver's to record; the dispatcher records for any vehicle
    assert _outcome(driver, published, VAN) == 303
    assert _outcome(client, published, VEHICLE) == 303
    tie_vehicles(app, "driver-user", VEHICLE)  # now the truck's driver
    assert driver.post(f"/batches/{NEW_BATCH}/confirm", data=confirm).status_code == 303
    assert driver.post(f"/versions/{published}/trips/{VEHICLE}",
                       data={"s1-status": "done"}).status_code == 303
    assert _outcome(driver, published, VAN) == 403


def _may_open(app: Flask, username: str, url: str) -> int:
    """200 if the permission rules (:func:`webui.auth.guard`, :func:`webui.auth.requires`)
    let ``username`` open ``url``, else 403, without drawing it (PDFs take seconds)."""
    with app.test_request_context(url):
        with services_of(app).database.read() as s:
            info = users.find_user(s, username)
            assert info is not None
            g.user = CurrentUser(info.id, info.username, info.role,
                                 fleet.user_vehicle_ids(s, info.id))
        endpoint = request.endpoint or ""
        view = app.view_functions[endpoint]
        needed = getattr(view, "required_permission", None) or permission_for_request()
        return 200 if needed is None or can(needed) else 403


def _crawl(client: FlaskClient, username: str, starts: list[str]) -> dict[str, int]:
    """Every kind of page of this site reachable by links from ``starts`` (one address of
    each kind: ``/communes/00715`` and ``/communes/00721`` are one kind): HTML pages are
    opened, PDFs, drawings and downloads checked against the permission rules; language
    switches are not followed."""
    seen: dict[str, int] = {}
    kinds: set[str] = set()
    queue = list(starts)
    while queue:
        url = queue.pop(0)
        kind = re.sub(r"[0-9]+", "N", urlsplit(url).path)
        if url in seen or kind in kinds:
            continue
        kinds.add(kind)
        if urlsplit(url).path.endswith(DOWNLOADS) or "/export" in url or "/map" in url:
            seen[url] = _may_open(client.application, username, url)
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        for tag, href in HREF.findall(response.get_data(as_text=True)):
            parts = urlsplit(unescape(href))
            if "hreflang=" not in tag and not parts.netloc and parts.path.startswith("/"):
                queue.append(unescape(href))
    return seen


def test_my_trip_shows_the_drivers_published_sheets_and_no_link_leads_to_a_refusal(
        app: Flask, client: FlaskClient, client_as: Callable[..., FlaskClient],
        published: str) -> None:
    tie_vehicles(app, "driver-user", VEHICLE)
    driver = client_as("driver")
    home = driver.get("/").get_data(as_text=True)
    assert 'href="/my-trip"' in home
    page = driver.get("/my-trip?lang=en").get_data(as_text=True)
    assert f'id="trip-{published}-{VEHICLE}"' in page and f"-{VAN}" not in page
    for link in (f"/plans/{published}/sheet/{VEHICLE}", f"/plans/{published}/sheet/"
                 f"{VEHICLE}.pdf", f"/versions/{published}/trips/{VEHICLE}"):
        assert f'href="{link}' in page
    sheet = driver.get(f"/plans/{published}/sheet/{VEHICLE}")
    assert sheet.status_code == 200 and "Lũng Cú" in sheet.get_data(as_text=True)
    seen = _crawl(driver, "driver-user", ["/", "/my-trip", f"/plans/{published}",
                           f"/versions/{published}/outcomes", f"/batches/{NEW_BATCH}"])
    assert len(seen) > 15, seen
    refused = {url: code for url, code in seen.items() if code >= 400}
    assert not refused, refused
    assert f"/plans/{FIXTURE_RUN}" not in seen  # the draft it was published from
    # the check of drawn files refuses what the driver may not open (the draft's PDF)
    assert _may_open(app, "driver-user", f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}.pdf") == 403
    assert _may_open(app, "driver-user", "/fleet") == 403
