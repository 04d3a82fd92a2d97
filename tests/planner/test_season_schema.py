"""Season scenarios (schema version 4): the new fields validate with clear errors, older
scenarios load and digest as before, and the working calendar (public holidays with Tết by
the lunar calendar, days off, swapped working days, vehicles, libraries, communes) says which
days trips and visits may fall on."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from factories import CODES, scenario_dict

from planner.errors import ScenarioError
from planner.messages import message
from planner.plan import read_plan
from planner.problem import DAY_S
from planner.scenario import load_scenario, parse_scenario
from planner.seasoncheck import season_rule_violations
from planner.workdays import (
    holiday_name,
    holiday_text,
    holiday_value,
    public_holidays,
    season_calendar,
)
from render.i18n import Translator

ROOT = Path(__file__).resolve().parents[2]


def _season(**overrides: object) -> dict:
    data = scenario_dict(schema_version=4, horizon={"start_date": "2027-01-04", "days": 56},
                         periodic={"default_rule": {"every_weeks": 2, "tolerance_days": 2}})
    data.update(overrides)
    return data


def _problems(data: dict) -> str:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data, file="season.yaml")
    return str(err.value)


def test_older_scenarios_load_and_keep_their_digest() -> None:
    one = load_scenario(ROOT / "scenarios" / "ha-giang-2026.yaml")
    assert not one.is_season and one.calendar is None and one.periodic is None
    dumped = one.model_dump(mode="json")
    assert "calendar" not in dumped and "periodic" not in dumped
    assert all("visit_rule" not in s for s in dumped["stops"])
    assert all("unavailable_dates" not in v for v in dumped["vehicles"])
    # the digest recorded by plans made before seasons existed
    assert one.digest.startswith("77695f85b5cd79d0")


def test_the_embedded_season_covers_72_communes_for_a_year() -> None:
    season = load_scenario(ROOT / "scenarios" / "ha-giang-2026-season.yaml")
    assert season.is_season and season.schema_version == 4
    assert season.horizon.days == 364 and len(season.stops) == 72
    assert sum(v.count for v in season.vehicles) == 4
    assert "00691" not in {s.commune_code for s in season.stops}  # the library's ward


def test_season_fields_need_schema_version_4() -> None:
    data = _season(schema_version=3)
    assert "needs `schema_version: 4`" in _problems(data)


def test_a_long_horizon_needs_a_periodic_section() -> None:
    data = scenario_dict(schema_version=4, horizon={"start_date": "2027-01-04", "days": 90})
    text = _problems(data)
    assert "90 days" in text and "periodic" in text


def test_a_visit_rule_gives_one_kind() -> None:
    stops = [{"commune_code": CODES[0], "visit_rule": {"every_weeks": 2, "count": 3}}]
    text = _problems(_season(stops=stops))
    assert "stops[0].visit_rule" in text and "one kind of rule" in text
    stops = [{"commune_code": CODES[0], "visit_rule": {"every_weeks": 1, "tolerance_days": 7}}]
    assert "whole period" in _problems(_season(stops=stops))
    stops = [{"commune_code": CODES[0], "visit_rule": {"count": 2, "min_gap_days": 10,
                                                       "max_gap_days": 5}}]
    assert "below `min_gap_days`" in _problems(_season(stops=stops))


def test_day_sets_and_dates_fall_within_the_horizon() -> None:
    stops = [{"commune_code": CODES[0], "visit_rule": {"day_sets": [[0, 60], [1, 3]]},
              "preferred_dates": [{"date": "2027-06-01"}]}]
    text = _problems(_season(stops=stops))
    assert "stops[0].visit_rule.day_sets" in text and "[60]" in text
    assert "stops[0].preferred_dates[0].date" in text and "outside the horizon" in text
    stops = [{"commune_code": CODES[0], "visit_rule": {"day_sets": [[0, 1], [2]]}}]
    assert "same number of different days" in _problems(_season(stops=stops))


def test_a_stop_without_a_rule_is_named() -> None:
    data = _season(periodic={})
    text = _problems(data)
    assert "stops[0].visit_rule" in text and "default_rule" in text


def test_a_count_that_cannot_fit_is_refused() -> None:
    stops = [{"commune_code": CODES[0], "visit_rule": {"count": 10, "min_gap_days": 7}}]
    text = _problems(_season(stops=stops))
    assert "stops[0].visit_rule.count" in text and "do not fit in 56 days" in text


def test_tet_2027_and_2030_by_the_lunar_calendar_in_vietnam() -> None:
    y2027 = public_holidays("VN", 2027)
    assert "Lunar New Year" in y2027[dt.date(2027, 2, 6)]
    assert {dt.date(2027, 2, d) for d in range(4, 11)} <= set(y2027)
    # 2030: the new moon falls before midnight in Vietnam (UTC+7), after it in China (UTC+8):
    # Tết is on 2 February in Vietnam, a day before China's Spring Festival
    y2030 = public_holidays("VN", 2030)
    assert y2030[dt.date(2030, 2, 2)] == "Lunar New Year"
    assert dt.date(2030, 2, 3) in y2030 and dt.date(2030, 2, 7) not in y2030
    assert dt.date(2030, 9, 2) in y2030  # National Day


def test_holidays_are_named_in_the_language_asked_whatever_the_locale(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tet = dt.date(2027, 2, 6)
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")  # the package's default follows the locale
    public_holidays.cache_clear()
    try:
        assert public_holidays("VN", 2027)[tet] == "Lunar New Year"
        assert public_holidays("VN", 2027, "vi")[tet] == "Tết Nguyên Đán"
        assert holiday_name("VN", dt.date(2027, 4, 16), "vi") == "Ngày Giỗ Tổ Hùng Vương"
        assert holiday_name("VN", dt.date(2027, 4, 16), "en") == \
            "Hung Kings' Commemoration Day"
        assert holiday_name("VN", dt.date(2027, 4, 15), "vi") is None
    finally:
        public_holidays.cache_clear()
    # a finding on Tết, worded by each language with the holiday's own name
    value = holiday_value("VN", tet)
    found = message("check_season_day_holiday", date=tet.isoformat(), holiday=value)
    assert found.english() == "visited on 2027-02-06, a public holiday: Lunar New Year"
    assert Translator("vi").message(found.key, found.values) == \
        "đến xã ngày 2027-02-06, ngày lễ: Tết Nguyên Đán"
    assert Translator("en").message(found.key, found.values) == found.english()
    assert holiday_text("VN 2027-02-07", "vi") == "Mùng hai Tết Nguyên Đán"
    assert holiday_text("VN 2027-02-16", "vi") == "VN 2027-02-16"  # no holiday: as it is
    assert holiday_text("garbled", "en") == "garbled"


def test_a_visit_on_tet_is_found_with_the_holidays_name() -> None:
    """The season checker names the holiday a visit falls on (Tết 2027), as a value the
    pages word in their language."""
    stops = [{"commune_code": CODES[0]}]
    scenario = parse_scenario(_season(horizon={"start_date": "2027-02-01", "days": 14},
                                      stops=stops), file="season.yaml")
    cal = season_calendar(scenario)
    assert cal.holidays[5] == "VN 2027-02-06" and 12 not in cal.holidays
    # a trip of the web tests' season plan, moved onto 6 February with one visit
    some = read_plan(ROOT / "tests" / "webui" / "data" / "ha-giang-2027-season" / "plan.json")
    route = next(r for r in some.routes if r.visits)
    visit = replace(route.visits[0], commune_code=CODES[0], day=5,
                    arrival_s=5 * DAY_S + 9 * 3600, start_s=5 * DAY_S + 9 * 3600,
                    departure_s=5 * DAY_S + 10 * 3600)
    route = replace(route, vehicle_id="truck", visits=(visit,), depart_s=5 * DAY_S + 8 * 3600,
                    return_s=5 * DAY_S + 11 * 3600)
    plan = replace(some, routes=(route,), season=None)
    found = [v for v in season_rule_violations(scenario, plan) if v.key.endswith("holiday")]
    assert {v.key for v in found} == {"check_season_day_holiday", "check_season_trip_holiday"}
    on_tet = next(v for v in found if v.key == "check_season_day_holiday")
    assert on_tet.message == "visited on 2027-02-06, a public holiday: Lunar New Year"
    assert "ngày lễ: Tết Nguyên Đán" in Translator("vi").finding(on_tet)
    assert "a public holiday: Lunar New Year" in Translator("en").finding(on_tet)


def test_the_calendar_of_vehicles_libraries_and_communes() -> None:
    vehicles = [{"id": "truck", "name": "Xe 1", "profile": "truck", "depot": "lib",
                 "capacity_crates": 10, "max_trip_days": 2,
                 "unavailable_dates": [{"start": "2027-02-22", "end": "2027-02-23"}],
                 "working_weekdays": ["mon", "tue", "wed", "thu"]},
                {"id": "van", "name": "Xe 2", "profile": "van", "depot": "lib",
                 "capacity_crates": 10, "max_trip_days": 2}]
    depots = [{"id": "lib", "name": "Thư viện", "location": {"lon": 104.963, "lat": 22.8605},
               "closed_dates": ["2027-03-01"]}]
    stops = [{"commune_code": CODES[0], "unavailable_dates": [
        {"start": "2027-01-18", "end": "2027-01-19", "note": "harvest"}]},
             {"commune_code": CODES[1], "time_windows": [
                 {"start": "08:00", "end": "11:00", "weekdays": ["wed"]}]}]
    data = _season(horizon={"start_date": "2027-01-04", "days": 70}, vehicles=vehicles,
                   depots=depots, stops=stops,
                   calendar={"days_off": [{"start": "2027-02-11", "note": "bridging day"}],
                             "working_days": ["2027-02-20"]})
    cal = season_calendar(parse_scenario(data, file="season.yaml"))

    def day(date: str) -> int:
        return (dt.date.fromisoformat(date) - cal.start_date).days

    assert "Lunar New Year" in cal.off[day("2027-02-06")].english()
    assert cal.off[day("2027-02-11")].english() == "day off: bridging day"
    assert day("2027-02-20") not in cal.off  # a Saturday worked to make up for it
    assert "sat" in cal.off[day("2027-02-13")].english()
    assert cal.vehicle_off["truck"][day("2027-02-22")].english() == "vehicle truck unavailable"
    assert day("2027-02-22") not in cal.vehicle_off["van"]
    assert "fri" in cal.vehicle_off["truck"][day("2027-01-08")].english()
    assert cal.vehicle_off["van"][day("2027-03-01")].english() == "library lib closed"
    why = cal.why_not(CODES[0], day("2027-01-18"))
    assert why is not None and why.english() == "the commune cannot receive: harvest"
    assert cal.why_not(CODES[0], day("2027-01-20")) is None
    assert cal.visit_days(CODES[1]) == [d for d in range(70) if d not in cal.off
                                        and cal.date_of(d).weekday() == 2]


# English words of the reasons a day is off, which a Vietnamese finding must not hold
ENGLISH_FRAGMENTS = ("vehicle", "unavailable", "closed", "does not work", "cannot receive",
                     "time windows", "day off", "outside the season", "working weekday",
                     "public holiday", "library", "commune")


def test_findings_on_days_off_read_in_one_language() -> None:
    """Every reason a day is off (a vehicle unavailable, its library closed, a weekday it
    does not work, a day off of the calendar, a commune that cannot receive, no window that
    day, a day outside the season) is worded with its finding by one catalogue: no English
    fragment in a Vietnamese finding, no Vietnamese one in an English finding."""
    vehicles = [{"id": "truck", "name": "Xe 1", "profile": "truck", "depot": "lib",
                 "capacity_crates": 10, "max_trip_days": 2,
                 "unavailable_dates": ["2027-01-12", {"start": "2027-01-13", "note": "repair"}],
                 "working_weekdays": ["mon", "tue", "wed", "thu"]},
                {"id": "van", "name": "Xe 2", "profile": "van", "depot": "lib",
                 "capacity_crates": 10, "max_trip_days": 2}]
    depots = [{"id": "lib", "name": "Thư viện", "location": {"lon": 104.963, "lat": 22.8605},
               "closed_dates": ["2027-01-19", {"start": "2027-01-20", "note": "audit"}]}]
    stops = [{"commune_code": CODES[0], "unavailable_dates": ["2027-01-05"]},
             {"commune_code": CODES[1], "unavailable_dates": [
                 {"start": "2027-01-06", "note": "market"}],
              "time_windows": [{"start": "08:00", "end": "11:00", "weekdays": ["mon", "tue",
                                                                                "wed"]}]},
             {"commune_code": CODES[2]}]
    scenario = parse_scenario(_season(
        vehicles=vehicles, depots=depots, stops=stops,
        calendar={"days_off": ["2027-01-26", {"start": "2027-01-27", "note": "bridge"}]}),
        file="season.yaml")
    some = read_plan(ROOT / "tests" / "webui" / "data" / "ha-giang-2027-season" / "plan.json")
    base = next(r for r in some.routes if r.visits)

    def trip(vehicle: str, day: int, code: str) -> object:
        visit = replace(base.visits[0], commune_code=code, day=day,
                        arrival_s=day * DAY_S + 9 * 3600, start_s=day * DAY_S + 9 * 3600,
                        departure_s=day * DAY_S + 10 * 3600)
        return replace(base, vehicle_id=vehicle, visits=(visit,),
                       depart_s=day * DAY_S + 8 * 3600, return_s=day * DAY_S + 11 * 3600)

    # days of the season from 4 January 2027 (a Monday)
    trips = [trip("truck", 8, CODES[2]), trip("truck", 9, CODES[2]),  # unavailable, repair
             trip("truck", 4, CODES[2]),  # a Friday the truck does not work
             trip("van", 15, CODES[2]), trip("van", 16, CODES[2]),  # library closed, audit
             trip("van", 22, CODES[2]), trip("van", 23, CODES[2]),  # days off, bridge
             trip("van", 5, CODES[2]),  # a Saturday
             trip("van", 1, CODES[0]),  # the commune cannot receive
             trip("van", 2, CODES[1]),  # ... with a note
             trip("van", 3, CODES[1]),  # no window on a Thursday
             trip("van", 60, CODES[2])]  # outside the season
    plan = replace(some, routes=tuple(trips), season=None)  # type: ignore[arg-type]
    found = [v for v in season_rule_violations(scenario, plan) if v.kind == "season_day"]
    keys = {v.key for v in found}
    assert keys == {"check_season_vehicle_off", "check_season_day_off"}, keys
    english = {v.message for v in found}
    for text in ("vehicle truck unavailable", "vehicle truck unavailable: repair",
                 "vehicle truck does not work on fri", "library lib closed",
                 "library lib closed: audit", "day off", "day off: bridge",
                 "not a working weekday (sat)", "the commune cannot receive",
                 "the commune cannot receive: market",
                 "none of its time windows opens on this day", "outside the season"):
        assert any(m.endswith(": " + text) for m in english), (text, english)
    vi, en = Translator("vi"), Translator("en")
    for v in found:
        in_vi, in_en = vi.finding(v), en.finding(v)
        assert in_en.lower() == v.message.replace("on fri", "on Friday").replace(
            "(sat)", "(Saturday)").lower()
        assert not [w for w in ENGLISH_FRAGMENTS if w in in_vi.lower()], in_vi
        assert all(ord(c) < 128 for c in in_en), in_en
    texts = {vi.finding(v) for v in found}
    assert "chuyến đi đang trên đường ngày 2027-01-12, ngày xe không làm việc: " \
           "xe truck không sẵn sàng" in texts
    assert any(t.endswith("thư viện lib đóng cửa: audit") for t in texts)
    assert any(t.endswith("ngoài mùa") for t in texts)
