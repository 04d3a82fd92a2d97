"""Timetables for readers and the annual report on the web (issue 16): a commune's and a
vehicle's calendar feeds at revocable token addresses that calendar apps open without logging
in (published visits only; a revoked token is a 404), read back with a real ICS parser; the
commune's A4 poster (golden file of its text); the annual report page and its PDF and XLSX.

The golden file ``golden/poster-00715.vi.txt`` is the text of the poster of Xã Lũng Cú drawn
from the fixture plan (with a batch on the visit); after an intended change::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/webui/test_webui_calendar.py -k golden
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from webui_testkit import FIXTURE_RUN, NEW_BATCH, add_batches

from planner.batches import CommuneProfile
from planner.plan import read_plan
from planner.timetable import PublishedPlan, timetable
from render.timetable import PosterContext, poster_pdf
from storage import calendar
from webui.services import services_of

GOLDEN = Path(__file__).parent / "golden" / "poster-00715.vi.txt"
COMMUNE = "00715"  # Xã Lũng Cú, the truck's first stop
TRUCK = "xe-tv-01"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def published(client: FlaskClient, runs_dir: Path) -> str:
    """The fixture plan, with a batch at Lũng Cú, published: its version key."""
    add_batches(runs_dir)
    response = client.post(f"/plans/{FIXTURE_RUN}/publish")
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


def _tokens(app: Flask, kind: str, ref: str) -> list[calendar.TokenInfo]:
    with services_of(app).database.read() as s:
        return calendar.tokens(s, kind=kind, ref=ref)


def _events(data: bytes) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    assert cal["version"] == "2.0" and cal.get("x-wr-timezone") == "Asia/Ho_Chi_Minh"
    events = list(cal.walk("VEVENT"))
    if events:  # times are given in Vietnam's zone, which the feed defines
        assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Ho_Chi_Minh"]
    return events


def test_a_feed_token_opens_published_visits_without_login_until_revoked(
        app: Flask, client: FlaskClient, anon_client: FlaskClient, runs_dir: Path) -> None:
    response = client.post("/feeds", data={"kind": "commune", "ref": COMMUNE, "note": "UBND"})
    assert response.status_code == 303 and f"/communes/{COMMUNE}" in response.headers["Location"]
    (token,) = _tokens(app, "commune", COMMUNE)
    url = f"/feeds/{token.token}.ics"
    # nothing published yet: the plan folder is a draft, the feed is empty
    assert _events(anon_client.get(url).data) == []

    add_batches(runs_dir)
    assert client.post(f"/plans/{FIXTURE_RUN}/publish").status_code == 303
    plan = read_plan(runs_dir / FIXTURE_RUN / "plan.json")
    response = anon_client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    (event,) = _events(response.data)
    visit = plan.routes[0].visits[0]
    assert visit.commune_code == COMMUNE
    start = event.decoded("dtstart")
    assert start == dt.datetime.combine(plan.start_date, dt.time(0), HCM) + dt.timedelta(
        seconds=visit.start_s)
    assert start.tzinfo is not None and start.utcoffset() == dt.timedelta(hours=7)
    assert event.decoded("dtend") - start == dt.timedelta(
        seconds=visit.departure_s - visit.start_s)
    assert str(event["summary"]) == "Xe thư viện lưu động tại Xã Lũng Cú"
    assert "Hmông" in str(event["description"]) and "thiếu nhi" in str(event["description"])
    assert str(event["uid"]).startswith(f"ha-giang-2026/{TRUCK}/{COMMUNE}@")
    assert int(event["sequence"]) == 1

    # the commune page lists the visit and, for a dispatcher, the feed's address
    page = client.get(f"/communes/{COMMUNE}").get_data(as_text=True)
    assert 'id="timetable-visits"' in page and token.token in page
    assert "ha-giang-2026@v1" in page
    # a driver reads the timetable but neither sees nor makes feed addresses
    driver = app.test_client(user="driver-user", role="driver")
    driver_page = driver.get(f"/communes/{COMMUNE}").get_data(as_text=True)
    assert 'id="timetable-visits"' in driver_page and token.token not in driver_page
    assert driver.post("/feeds", data={"kind": "commune", "ref": COMMUNE}).status_code == 403
    assert driver.post(f"/feeds/{token.id}/revoke").status_code == 403

    assert client.post(f"/feeds/{token.id}/revoke").status_code == 303
    assert anon_client.get(url).status_code == 404
    assert client.get(url).status_code == 404
    assert anon_client.get("/feeds/not-a-token-at-all-0000000.ics").status_code == 404
    # everything else still needs a login
    assert anon_client.get(f"/communes/{COMMUNE}").status_code == 302
    assert anon_client.get("/reports").status_code == 302


def test_a_vehicle_feed_has_every_visit_of_its_trips(
        app: Flask, client: FlaskClient, anon_client: FlaskClient, published: str,
        fixture_plan) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/vehicles/{TRUCK}")
    assert page.status_code == 200
    assert client.post("/feeds", data={"kind": "vehicle", "ref": TRUCK}).status_code == 303
    (token,) = _tokens(app, "vehicle", TRUCK)
    assert token.token in client.get(f"/vehicles/{TRUCK}").get_data(as_text=True)
    events = _events(anon_client.get(f"/feeds/{token.token}.ics?lang=en").data)
    route = fixture_plan.routes[0]
    base = dt.datetime.combine(fixture_plan.start_date, dt.time(0), HCM)
    assert [(str(e["location"]), e.decoded("dtstart")) for e in events] == [
        (v.commune_name, base + dt.timedelta(seconds=v.start_s // 60 * 60))  # as plans print
        for v in route.visits]
    assert str(events[0]["summary"]) == "Mobile library at Xã Lũng Cú"
    assert len({str(e["uid"]) for e in events}) == len(events)
    assert client.get("/vehicles/no-such-vehicle").status_code == 404
    assert client.post("/feeds", data={"kind": "road", "ref": "x"}).status_code == 400
    assert client.post("/feeds", data={"kind": "vehicle", "ref": "nope"}).status_code == 404
    assert client.post("/feeds", data={"kind": "commune", "ref": "99999"}).status_code == 404


def _poster_text(pdf: bytes) -> str:
    (page,) = PdfReader(io.BytesIO(pdf)).pages
    return "\n".join(line.rstrip() for line in page.extract_text().splitlines()) + "\n"


def test_poster_matches_golden_file(runs_dir: Path) -> None:
    add_batches(runs_dir)
    plan = read_plan(runs_dir / FIXTURE_RUN / "plan.json")
    visits = timetable([PublishedPlan(plan.scenario_name, 3, plan)], commune_code=COMMUNE)
    assert [v.batches[0].batch_id for v in visits] == [NEW_BATCH]
    profile = CommuneProfile(COMMUNE, ("vie", "hnj"), ("children",), 6)
    context = PosterContext(COMMUNE, "Xã Lũng Cú", "Thư viện tỉnh Hà Giang",
                            contact="Điện thoại: 0219 3866 000",
                            feed_url="https://thuvien.example.vn/feeds/abc.ics",
                            printed_on=dt.date(2026, 12, 1),
                            commune_contact="Chị Giàng Thị Mai, 0912 000 111")
    text = _poster_text(poster_pdf(visits, context, profile=profile, lang="vi"))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.is_file(), f"missing {GOLDEN}; run with UPDATE_GOLDEN=1 to create it"
    assert text == GOLDEN.read_text(encoding="utf-8"), (
        f"the poster differs from {GOLDEN}; if intended, regenerate it with UPDATE_GOLDEN=1 "
        "and review the diff")
    # a visit without batches brings what the commune's profile asks for, said so
    bare = timetable([PublishedPlan(plan.scenario_name, 3, plan)], commune_code="00721")
    other = _poster_text(poster_pdf(bare, context, profile=CommuneProfile(
        "00721", ("tyz",), ("adults",), 6), lang="en"))
    other = " ".join(other.split())
    assert "Books in Tày · for adults (as the commune's readers ask)" in other


def test_the_web_poster_speaks_the_page_language(client: FlaskClient, published: str) -> None:
    for lang, words in (("vi", "LỊCH XE THƯ VIỆN LƯU ĐỘNG"), ("en", "MOBILE LIBRARY TIMETABLE")):
        response = client.get(f"/communes/{COMMUNE}/timetable.pdf?lang={lang}"
                              "&since=2026-12-01")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        text = _poster_text(response.data)
        assert words in text and "Xã Lũng Cú" in text and published in text
        assert "13:30–15:30" in text
    # a poster shows the visits to come (from today by default): none after the cycle
    later = _poster_text(client.get(
        f"/communes/{COMMUNE}/timetable.pdf?since=2026-12-08&lang=vi").data)
    assert "13:30" not in later and "Chưa có lịch xe đến xã" in later
    assert client.get(f"/communes/{COMMUNE}/timetable.pdf?since=7/12").status_code == 400


def test_the_poster_lists_visits_from_the_apps_today(app: Flask, client: FlaskClient,
                                                     published: str) -> None:
    """Without ``?since=`` the poster starts at today: the ``TODAY`` setting, else the date
    in Vietnam; the date it was printed on is that day too."""
    assert app.config["TODAY"] == dt.date(2026, 12, 7)  # the fixture plan's first day
    first = _poster_text(client.get(f"/communes/{COMMUNE}/timetable.pdf?lang=vi").data)
    assert "13:30–15:30" in first and "07/12/2026" in first
    app.config["TODAY"] = dt.date(2026, 12, 8)
    later = _poster_text(client.get(f"/communes/{COMMUNE}/timetable.pdf?lang=vi").data)
    assert "13:30" not in later and "In ngày 08/12/2026" in " ".join(later.split())


def test_annual_report_page_pdf_and_xlsx(client: FlaskClient, published: str,
                                         fixture_plan) -> None:  # type: ignore[no-untyped-def]
    van = fixture_plan.routes[1]
    for seq, status in ((van.visits[0].seq, "done"), (van.visits[1].seq, "failed")):
        assert client.post(f"/versions/{published}/outcomes", data={
            "vehicle_id": van.vehicle_id, "stop_seq": seq, "status": status}).status_code == 303
    page = client.get("/reports?year=2026").get_data(as_text=True)
    assert "Báo cáo năm 2026" in page and 'id="report-communes"' in page
    chart = client.get("/reports/2026/chart-months.png")
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")
    assert "/reports/2026/chart-months.png" in page
    assert client.get("/reports/2026/chart-pie.png").status_code == 404
    assert published in page
    pdf = client.get("/reports/2026.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Báo cáo năm 2026" in text and "Lập ngày" in text
    assert "Lượt đã thực hiện\n1" in text or "Lượt đã thực hiện 1" in text
    assert len(PdfReader(io.BytesIO(pdf.data)).pages[0].images) >= 1 or any(
        p.images for p in PdfReader(io.BytesIO(pdf.data)).pages)  # the charts
    xlsx = client.get("/reports/2026.xlsx?lang=en")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.data))
    summary = {row[0]: row[1] for row in wb.worksheets[0].iter_rows(values_only=True)}
    assert summary["Visits planned"] == "12" and summary["Visits done"] == "1"
    assert summary["Visits failed"] == "1" and "Produced" in summary
    assert "By month" in wb.sheetnames and wb["By month"]._charts
    assert client.get("/reports?year=nineteen").status_code == 400
    assert client.get("/reports/2026.docx").status_code == 404
