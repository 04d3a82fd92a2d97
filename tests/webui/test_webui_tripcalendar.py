"""The trip calendar (``/plans/<run>/calendar``): a season plan's month view with its trips
per vehicle grouped by library and each commune's last and next visit, the drag-and-drop
edits' endpoints (a trip to another date, a visit to another trip) saving new checked drafts,
who may do what, and a season published as one immutable version holding every trip."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN, SEASON_DIR, SEASON_RUN

from planner.plan import read_plan
from storage import plans
from webui.jobservice import JobService
from webui.services import services_of

APRIL = f"/plans/{SEASON_RUN}/calendar?month=2027-04&on=2027-04-26"


@pytest.fixture
def season(runs_dir: Path, app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The season plan in the runs folder; the background jobs that draw an edited plan's
    routes are recorded instead of started (their names)."""
    shutil.copytree(SEASON_DIR, runs_dir / SEASON_RUN)
    drawn: list[str] = []

    def start_geometry(self: JobService, plan_name: str, folder: Path, *,
                       user_id: int | None) -> str:
        drawn.append(plan_name)
        return "job-not-started"

    monkeypatch.setattr(JobService, "start_geometry", start_geometry)
    return drawn


def _edited(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    match = re.fullmatch(rf"/plans/({SEASON_RUN}-edit-\d{{8}}-\d{{6}}(?:-\d+)?)/calendar"
                         r"\?month=2027-04&on=2027-04-26", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def test_month_view_of_a_season_by_library_with_last_and_next_visits(
        client: FlaskClient, season: list[str]) -> None:
    page = client.get(APRIL).get_data(as_text=True)
    assert "<h2 id=\"cal-month\">Tháng 4 năm 2027</h2>" in page
    # two libraries, one van each; trips as bars over their days
    assert "Thư viện: Thư viện tỉnh Hà Giang" in page and "Thư viện: Thư viện Bắc Quang" in page
    for trip in ("xe-hg", "xe-bq", "xe-hg-trip2", "xe-bq-trip2", "xe-hg-trip3"):
        assert f'id="trip-{trip}"' in page
    assert 'id="trip-xe-hg-trip4"' not in page  # in May
    # xe-hg-trip2 is out 22-23 April: a bar two days wide
    assert re.search(r'<td colspan="2" class="cal-trip-cell">\s*<div class="cal-trip" '
                     r'id="trip-xe-hg-trip2"', page)
    # 16 April (Giỗ Tổ Hùng Vương) is marked as a day off, named in the page's language
    assert 'class="cal-day off" title="Ngày lễ: Ngày Giỗ Tổ Hùng Vương"' in page
    assert 'title="Không phải ngày làm việc trong tuần (Thứ Bảy)"' in page
    assert 'data-editable="1"' in page and 'draggable="true"' in page
    assert 'src="/static/tripcalendar.js"' in page
    # the next month is there, not the one before the season
    assert 'href="/plans/ha-giang-2027-season/calendar?month=2027-05' in page
    assert "month=2027-03" not in page
    # as of 26 April, Ngọc Đường (00700) was visited on 19 April and is next on 4 May
    row = re.search(r'<tr id="commune-00700".*?</tr>', page, re.S)
    assert row and "19/04/2027" in row.group(0) and "04/05/2027" in row.group(0)
    assert "sau 15 ngày" in row.group(0)
    # the plan straight from the solver is checked for the page: no violation
    assert 'class="check-summary ok"' in page
    # the plan page links to it
    plan_page = client.get(f"/plans/{SEASON_RUN}").get_data(as_text=True)
    assert f'href="/plans/{SEASON_RUN}/calendar"' in plan_page
    assert "Lịch chuyến của mùa" in plan_page


def test_english_next_month_and_one_commune(client: FlaskClient, season: list[str]) -> None:
    page = client.get(f"/plans/{SEASON_RUN}/calendar?month=2027-05&on=2027-04-26"
                      "&commune=00700&lang=en").get_data(as_text=True)
    assert "May 2027" in page and 'id="trip-xe-hg-trip4"' in page
    assert 'title="Public holiday: International Labor Day"' in page  # 1 May
    assert "Each commune&#39;s last and next visit" in page
    visits = re.search(r'<section id="cal-commune">.*?</section>', page, re.S)
    assert visits and "Visits to Xã Ngọc Đường" in visits.group(0)
    assert visits.group(0).count("<li") == 2
    assert page.count('cal-chip chosen') == 1  # its visit in May
    assert client.get(f"/plans/{SEASON_RUN}/calendar?month=April").status_code == 400
    assert client.get(f"/plans/{SEASON_RUN}/calendar?on=26-04-2027").status_code == 400
    assert client.get("/plans/no-such-plan/calendar").status_code == 404


def test_a_cycle_plan_of_several_trips_has_a_calendar_too(client: FlaskClient) -> None:
    page = client.get(f"/plans/{FIXTURE_RUN}/calendar").get_data(as_text=True)
    assert "Tháng 12 năm 2026" in page
    assert 'id="trip-xe-tv-01"' in page and 'id="trip-xe-van-02"' in page
    assert "Thư viện:" not in page  # one library: no groups
    assert f'href="/plans/{FIXTURE_RUN}/calendar"' in client.get(
        f"/plans/{FIXTURE_RUN}").get_data(as_text=True)


def test_shift_a_trip_onto_a_holiday_makes_a_checked_draft(
        client: FlaskClient, runs_dir: Path, season: list[str]) -> None:
    before = (runs_dir / SEASON_RUN / "plan.json").read_bytes()
    name = _edited(client.post(f"/plans/{SEASON_RUN}/calendar/shift", data={
        "trip_id": "xe-hg", "date": "2027-04-16", "month": "2027-04", "on": "2027-04-26"}))
    assert (runs_dir / SEASON_RUN / "plan.json").read_bytes() == before  # a new draft
    assert season == [name]  # its routes are drawn along the roads by a job
    edited = read_plan(runs_dir / name / "plan.json")
    first = next(r for r in edited.routes if r.key == "xe-hg")
    assert first.depart.startswith("2027-04-16")
    assert edited.provenance.manual_edits[-1].edit == {
        "action": "shift", "trip_id": "xe-hg", "date": "2027-04-16"}
    kinds = {f.kind for f in edited.provenance.check.violations}  # type: ignore[union-attr]
    assert {"season_day", "season_gap"} <= kinds
    page = client.get(f"/plans/{name}/calendar?month=2027-04&on=2027-04-26"
                      ).get_data(as_text=True)
    assert 'class="check-summary bad"' in page and "Ngày không làm việc" in page
    assert re.search(r'class="cal-trip has-violation" id="trip-xe-hg"', page)
    # the holiday of the findings by its name in the page's language
    assert "chuyến đi đang trên đường ngày 2027-04-16, ngày lễ: Ngày Giỗ Tổ Hùng Vương" in page
    assert "Hung Kings" not in page
    english = client.get(f"/plans/{name}/calendar?month=2027-04&on=2027-04-26&lang=en"
                         ).get_data(as_text=True)
    assert "the trip is out on 2027-04-16, a public holiday: Hung Kings&#39; Commemoration " \
           "Day" in english
    history = client.get(f"/plans/{name}/edit?lang=vi").get_data(as_text=True)
    assert "Dời chuyến" in history and "→ 2027-04-16" in history


def test_move_a_visit_onto_another_trip_and_onto_a_new_trip(
        client: FlaskClient, runs_dir: Path, season: list[str]) -> None:
    name = _edited(client.post(f"/plans/{SEASON_RUN}/calendar/move", data={
        "visit": "00706|xe-hg-trip2", "to_trip": "xe-hg", "month": "2027-04",
        "on": "2027-04-26"}))
    edited = read_plan(runs_dir / name / "plan.json")
    trip = next(r for r in edited.routes if r.key == "xe-hg")
    assert "00706" in [x.commune_code for x in trip.visits]
    assert edited.provenance.check is not None
    # a new trip of the Bắc Quang van on 26 April with Tân Quang's visit (01171)
    again = _edited(client.post(f"/plans/{name}/calendar/move", data={
        "commune_code": "01171", "from_trip": "xe-bq-trip2", "date": "2027-04-26",
        "vehicle_id": "xe-bq", "month": "2027-04", "on": "2027-04-26"}))
    plan = read_plan(runs_dir / again / "plan.json")
    (moved,) = [r for r in plan.routes if [x.commune_code for x in r.visits] == ["01171"]
                and r.depart.startswith("2027-04-26")]
    assert moved.vehicle_id == "xe-bq"
    assert plan.provenance.manual_edits[-1].base == name


@pytest.mark.parametrize(("data", "field"), [
    ({"trip_id": "xe-zz", "date": "2027-04-20"}, "trip_id"),
    ({"trip_id": "xe-hg", "date": "2027-07-01"}, "date"),
    ({"trip_id": "xe-hg", "date": "2027-04-19"}, "date"),  # where it is already
    ({"trip_id": "xe-hg", "date": "19/04/2027"}, "date"),
    ({"trip_id": "xe-hg"}, "date"),
])
def test_shifts_that_do_not_fit_name_the_field(client: FlaskClient, season: list[str],
                                               data: dict[str, str], field: str) -> None:
    response = client.post(f"/plans/{SEASON_RUN}/calendar/shift", data=data)
    assert response.status_code == 400
    assert f"Trường {field} =" in response.get_data(as_text=True)
    assert season == []


def test_moves_that_do_not_fit_name_the_field(client: FlaskClient, season: list[str]) -> None:
    for data, field in (({"visit": "00706|xe-bq", "to_trip": "xe-hg"}, "commune_code"),
                        ({"visit": "00706|xe-hg-trip2", "to_trip": "xe-hg-trip2"}, "to_trip"),
                        ({"visit": "00706"}, "visit"),
                        ({"visit": "00706|xe-hg-trip2", "date": "2026-01-01"}, "date")):
        response = client.post(f"/plans/{SEASON_RUN}/calendar/move", data=data)
        assert response.status_code == 400, data
        assert f"Trường {field} =" in response.get_data(as_text=True), data


def test_who_may_see_and_drag(client_as, season: list[str]) -> None:  # type: ignore[no-untyped-def]
    shift = {"trip_id": "xe-hg", "date": "2027-04-20"}
    viewer = client_as("viewer")
    page = viewer.get(APRIL).get_data(as_text=True)
    assert 'id="trip-xe-hg"' in page and 'draggable="true"' not in page
    assert 'id="shift-form"' not in page
    assert viewer.post(f"/plans/{SEASON_RUN}/calendar/shift", data=shift).status_code == 403
    assert client_as("planner").post(f"/plans/{SEASON_RUN}/calendar/move", data={
        "visit": "00706|xe-hg-trip2", "to_trip": "xe-hg"}).status_code == 403
    driver = client_as("driver")
    assert driver.get(APRIL).status_code == 403  # drafts are not for drivers
    no_token = client_as("dispatcher", csrf=False)
    assert no_token.post(f"/plans/{SEASON_RUN}/calendar/shift", data=shift).status_code == 400
    assert season == []


def test_a_season_is_published_as_one_version_of_every_trip(
        app: Flask, client: FlaskClient, client_as, runs_dir: Path,  # type: ignore[no-untyped-def]
        season: list[str]) -> None:
    draft = read_plan(runs_dir / SEASON_RUN / "plan.json")
    response = client.post(f"/plans/{SEASON_RUN}/publish", data={"note": "mùa thử"})
    assert response.status_code == 303
    key = response.headers["Location"].rsplit("/", 1)[1]
    assert key == f"{SEASON_RUN}@v1"
    with services_of(app).database.begin() as s:
        versions = plans.list_versions(s)
        content = plans.version_content(s, versions[0].id)
    assert [(v.series, v.number) for v in versions] == [(SEASON_RUN, 1)]
    published = plans.parse_plan_text(content.plan_json, file="v1")
    assert [r.key for r in published.routes] == [r.key for r in draft.routes]
    assert len(published.routes) == 10 and published.season == draft.season
    # publishing it again makes no second version
    assert client.post(f"/plans/{SEASON_RUN}/publish").headers["Location"] == (
        f"/plans/{key}?unchanged=1")
    with services_of(app).database.begin() as s:
        assert len(plans.list_versions(s)) == 1
    # a version's calendar is read by every role, drivers included, and never edited
    page = client_as("driver").get(f"/plans/{key}/calendar?month=2027-05").get_data(
        as_text=True)
    assert 'id="trip-xe-hg-trip6"' in page and 'draggable="true"' not in page
    assert "bản đã công bố" in client.get(f"/plans/{key}/calendar").get_data(as_text=True)
    refused = client.post(f"/plans/{key}/calendar/shift",
                          data={"trip_id": "xe-hg", "date": "2027-04-20"})
    assert refused.status_code == 409
    assert season == []


def test_a_trip_shifted_onto_a_weekend_is_found_in_one_language(
        client: FlaskClient, runs_dir: Path, season: list[str]) -> None:
    """The reason a day is off (here a Saturday the calendar does not work) is worded with its
    finding, in the page's language only."""
    name = _edited(client.post(f"/plans/{SEASON_RUN}/calendar/shift", data={
        "trip_id": "xe-hg", "date": "2027-04-17", "month": "2027-04", "on": "2027-04-26"}))
    page = client.get(f"/plans/{name}/calendar?month=2027-04&on=2027-04-26&lang=vi"
                      ).get_data(as_text=True)
    assert "chuyến đi đang trên đường ngày 2027-04-17, ngày xe không làm việc: Không phải " \
           "ngày làm việc trong tuần (Thứ Bảy)" in page
    assert "đến xã ngày 2027-04-17, ngày xã không thể nhận: Không phải ngày làm việc trong " \
           "tuần (Thứ Bảy)" in page
    assert "working weekday" not in page and '["day_off' not in page
    english = client.get(f"/plans/{name}/calendar?month=2027-04&on=2027-04-26&lang=en"
                         ).get_data(as_text=True)
    assert "the trip is out on 2027-04-17, a day its vehicle does not work: Not a working " \
           "weekday (Saturday)" in english
    assert "Thứ Bảy" not in english
