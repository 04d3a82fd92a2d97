"""Stop cards: service start and end, the wait and why, where the crew sleeps each night,
opening hours and market days, contact and the stop's point, on the sheet and its PDF."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from webui_testkit import FIXTURE_DIR, FIXTURE_RUN

from planner.outputs import load_scenario_for_plan, read_plan_folder
from planner.plan import Plan, Route, Visit
from planner.scenario import Scenario
from render.i18n import Translator
from render.routeview import route_view
from render.stopcard import Night, opening_hours, stop_cards, trip_nights

H = 3600
DAY = 24 * H


@pytest.fixture(scope="module")
def plan() -> Plan:
    return read_plan_folder(FIXTURE_DIR)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario_for_plan(FIXTURE_DIR / "plan.json")[0]


def _truck(plan: Plan) -> int:
    return next(i for i, r in enumerate(plan.routes) if r.vehicle_id == "xe-tv-01")


def test_khau_vai_waits_for_its_wednesday_and_the_crew_sleeps_there(plan: Plan,
                                                                   scenario: Scenario) -> None:
    view = route_view(plan, _truck(plan), None)
    cards = {s.visit.commune_name: c for s, c in zip(view.stops, stop_cards(view, scenario),
                                                      strict=True)}
    khau_vai = cards["Xã Khâu Vai"]
    assert khau_vai.wait is not None and khau_vai.wait.reason == "open_day"
    assert khau_vai.wait.weekday == "wed" and khau_vai.service_start.when.weekday() == 2
    assert khau_vai.service_start.clock == "09/12 07:30"
    # 150 minutes on site, as the scenario says
    assert khau_vai.service_end.when - khau_vai.service_start.when == dt.timedelta(minutes=150)
    assert [n.date for n in khau_vai.nights_here] == [dt.date(2026, 12, 8)]
    # after the night the crew leaves in the morning: the card says when it is next due
    lung_cu = cards["Xã Lũng Cú"]
    assert lung_cu.leaves_on == dt.date(2026, 12, 8) and lung_cu.next_place == "Xã Khâu Vai"
    assert lung_cu.next_arrival is not None and lung_cu.next_arrival.clock == "08/12 09:23"
    assert cards["Xã Niêm Sơn"].next_arrival is None  # no night there
    text = Translator("vi").wait(khau_vai.wait)
    assert "Thứ Tư" in text and "09/12" in text and "07:30" in text
    assert [h.weekdays for h in khau_vai.hours] == [("wed", "thu")]
    assert Translator("vi").open_days(khau_vai.hours[0]) == "Thứ Tư, Thứ Năm"
    # Mèo Vạc: arrives after its hours, served next morning, the crew sleeps there
    meo_vac = cards["Xã Mèo Vạc"]
    assert meo_vac.wait is not None and meo_vac.wait.reason == "after_closing"
    assert meo_vac.nights_here and meo_vac.nights_here[0].date == dt.date(2026, 12, 9)
    # a stop served on arrival waits for nothing
    assert cards["Xã Lũng Cú"].wait is None
    # no library point recorded: only the commune's published point
    assert not any(c.library_point for c in cards.values())


def test_every_night_of_a_trip_is_placed_once(plan: Plan, scenario: Scenario) -> None:
    for i, route in enumerate(plan.routes):
        view = route_view(plan, i, None)
        nights = trip_nights(view, scenario)
        dates = [n.date for n in nights]
        first, last = view.first_day, view.last_day
        assert dates == [first + dt.timedelta(days=d) for d in range((last - first).days)]
        assert len(nights) == route.nights or route.nights == 0
        assert all(n.kind == "stop" for n in nights)  # the fixture has no night on the road


def _visit(seq: int, name: str, arrival_s: int, start_s: int, departure_s: int, *,
           night_before: bool = False, on_road: int = 0, km: float = 100.0,
           hours: float = 5.0) -> Visit:
    return Visit(seq=seq, commune_code=f"0{seq}", commune_name=name, lon=105.0, lat=23.0,
                 day=start_s // DAY, arrival_s=arrival_s, start_s=start_s,
                 departure_s=departure_s, arrival="", departure="", deliver_crates=1,
                 collect_crates=1, load_after_crates=1, leg_km=km, leg_hours=hours,
                 night_before=night_before, nights_on_road=on_road)


def _synthetic(plan: Plan, visits: tuple[Visit, ...], *, depart_s: int, return_s: int,
               return_on_road: int = 0, return_km: float = 50.0) -> Plan:
    """The fixture plan with its first route replaced by ``visits`` (times from midnight of
    the plan's first day)."""
    from planner.plan import clock

    visits = tuple(dataclasses.replace(v, arrival=clock(plan.start_date, v.arrival_s),
                                       departure=clock(plan.start_date, v.departure_s))
                   for v in visits)
    route: Route = dataclasses.replace(
        plan.routes[0], visits=visits, depart_s=depart_s, depart=clock(plan.start_date, depart_s),
        return_s=return_s, return_time=clock(plan.start_date, return_s),
        return_night_before=False, return_nights_on_road=return_on_road,
        return_leg_km=return_km, return_leg_hours=return_km / 25, vehicle_id="xe-tv-01",
        breaks_s=())
    return dataclasses.replace(plan, routes=(route,))


def test_a_night_on_the_road_is_placed_at_the_km_driven_by_the_end_of_the_day(
        plan: Plan, scenario: Scenario) -> None:
    # leaves at 13:00, a 10-hour leg of 200 km; the shift ends at 17:00: 4 h driven, 80 km
    v1 = _visit(1, "Xã A", DAY + 13 * H, DAY + 13 * H, DAY + 15 * H, on_road=1, km=200.0,
                hours=10.0)
    p = _synthetic(plan, (v1,), depart_s=13 * H, return_s=DAY + 16 * H)
    view = route_view(p, 0, None)
    nights = trip_nights(view, scenario)
    assert nights == (Night(p.start_date, "road", "Xã A", 1, 80.0, 200.0),)
    assert "km 80" in Translator("vi").night(nights[0])
    assert stop_cards(view, scenario)[0].nights_here == ()


def test_a_night_before_a_leg_is_spent_where_the_crew_is(plan: Plan,
                                                         scenario: Scenario) -> None:
    v1 = _visit(1, "Xã A", 12 * H, 13 * H, 15 * H)
    v2 = _visit(2, "Xã B", DAY + 10 * H, DAY + 10 * H, DAY + 12 * H, night_before=True)
    p = _synthetic(plan, (v1, v2), depart_s=8 * H, return_s=DAY + 15 * H)
    view = route_view(p, 0, None)
    nights = trip_nights(view, scenario)
    assert [(n.kind, n.place) for n in nights] == [("stop", "Xã A")]
    cards = stop_cards(view, scenario)
    assert [len(c.nights_here) for c in cards] == [1, 0]
    # without the scenario the card still has its times and night, not the hours
    bare = stop_cards(view, None)
    assert bare[0].hours == () and len(bare[0].nights_here) == 1
    assert bare[0].service_start.clock == cards[0].service_start.clock


def test_opening_hours_group_windows_by_their_days(scenario: Scenario) -> None:
    stop = next(s for s in scenario.stops if s.commune_code == "00778")
    (hours,) = opening_hours(stop.time_windows)
    assert hours.spans == ("07:30–11:30", "13:30–16:00") and not hours.restricted
    assert Translator("en").opening(hours) == "07:30–11:30, 13:30–16:00, every day"


def test_library_point_and_contact_come_from_the_scenario(plan: Plan,
                                                          scenario: Scenario) -> None:
    code = plan.routes[_truck(plan)].visits[0].commune_code
    stops = tuple(s.model_copy(update={"location": {"lon": 105.3, "lat": 23.3},
                                       "contact": "Chị Lan 0912 345 678"})
                  if s.commune_code == code else s for s in scenario.stops)
    edited = scenario.model_copy(update={"stops": stops})
    card = stop_cards(route_view(plan, _truck(plan), None), edited)[0]
    assert card.library_point and card.contact == "Chị Lan 0912 345 678"


def test_sheet_and_pdf_print_the_stop_card(client: FlaskClient) -> None:
    page = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01?lang=vi").get_data(as_text=True)
    assert "Chờ 22h07: hôm đến xã không mở; chờ ngày phục vụ Thứ Tư 09/12 lúc 07:30" in page
    assert "Đêm 08/12: nghỉ tại Xã Khâu Vai" in page
    assert page.count('class="night-here"') == 4
    assert "sau đêm nghỉ, sáng 08/12; đến Xã Khâu Vai lúc 09:23" in page
    assert page.count("Chỉ là điểm công bố của xã") == 6
    assert "Giờ mở cửa" in page and "Thứ Tư, Thứ Năm" in page
    en = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01?lang=en").get_data(as_text=True)
    assert "the commune is closed on the arrival day; service on its open day" in en
    pdf = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01.pdf?lang=vi")
    assert pdf.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    text = " ".join(text.split())
    assert "Nghỉ đêm tại đây" in text and "Chờ 22h07" in text
    assert "Giờ mở cửa" in text and "Chỉ là điểm công bố của xã" in text


def test_the_librarys_recorded_address_is_printed_on_its_stop_card(
        client: FlaskClient, runs_dir: Path, plan: Plan, scenario: Scenario) -> None:
    code = plan.routes[_truck(plan)].visits[0].commune_code
    address = "Thôn Lô Lô Chải, xã Lũng Cú"
    stops = tuple(s.model_copy(update={"address": address}) if s.commune_code == code else s
                  for s in scenario.stops)
    card = stop_cards(route_view(plan, _truck(plan), None),
                      scenario.model_copy(update={"stops": stops}))[0]
    assert card.address == address
    assert stop_cards(route_view(plan, _truck(plan), None), scenario)[0].address == ""
    # the plan's own scenario.json carries it (a web solve applies the library's values)
    path = runs_dir / FIXTURE_RUN / "scenario.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    next(s for s in data["stops"] if s["commune_code"] == code)["address"] = address
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    page = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01?lang=vi").get_data(as_text=True)
    assert page.count(f"Địa chỉ thư viện: {address}") == 1
    pdf = client.get(f"/plans/{FIXTURE_RUN}/sheet/xe-tv-01.pdf?lang=vi")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
                    .split())
    assert f"Địa chỉ thư viện: {address}" in text
