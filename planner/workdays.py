"""The working calendar of a season: which days trips may run and visits may fall on.

Public holidays come from the ``holidays`` package (Vietnam's Tết by the lunar calendar, in
Vietnam's own time zone: Tết 2030 falls on 2 February there, a day before China's). The
package lists past swapped working days only, so the scenario gives future ones
(``calendar.working_days``) and the province's own days off (``calendar.days_off``). On top
of that: a vehicle's weekdays and unavailable dates, a library's closed days, a commune's
unavailable dates and the days its time windows open (``docs/scenario-schema.md``,
"Seasons").
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from planner.errors import Problem, ScenarioError
from planner.messages import Message, message
from planner.scenario import WEEKDAYS, CalendarSpec, Scenario, Stop, Vehicle

# The UI languages and the language codes the ``holidays`` package names holidays in (a
# country's calendar without the language names them in its own default language).
HOLIDAY_LANGUAGES: Mapping[str, str] = {"en": "en_US", "vi": "vi"}


@functools.cache
def public_holidays(country: str, year: int, lang: str = "en") -> dict[dt.date, str]:
    """The public holidays of ``country`` (an ISO code the ``holidays`` package knows, or
    ``none``) in ``year``, each with its name in ``lang`` (a UI language: ``en``, ``vi``).
    The language is always given: the package's default follows the process's locale."""
    if country == "none":
        return {}
    import holidays

    try:
        found = holidays.country_holidays(country, years=year,
                                          language=HOLIDAY_LANGUAGES.get(lang, lang))
    except NotImplementedError:
        raise ScenarioError([Problem("<scenario>", "calendar.public_holidays", country,
                                     "the holidays package has no calendar for this country",
                                     "use an ISO country code such as VN, or `none` and list "
                                     "the days off in `calendar.days_off`")]) from None
    return dict(found.items())


def holiday_name(country: str, date: dt.date, lang: str = "en") -> str | None:
    """The name of the public holiday of ``country`` on ``date`` in ``lang`` (``None``: no
    holiday): the one way a holiday's name is got."""
    return public_holidays(country, date.year, lang).get(date)


def holiday_value(country: str, date: dt.date) -> str:
    """A public holiday as a message value (``VN 2027-02-06``): language-neutral, worded by
    :func:`holiday_text` in each message's language (:data:`planner.messages.HOLIDAY_VALUES`)."""
    return f"{country} {date.isoformat()}"


def holiday_text(value: str, lang: str) -> str:
    """The holiday a :func:`holiday_value` names, by its name in ``lang`` (the value as it is
    when it names none)."""
    country, _, day = str(value).partition(" ")
    try:
        name = holiday_name(country, dt.date.fromisoformat(day), lang)
    except (ValueError, ScenarioError):
        name = None
    return name or str(value)


def calendar_days_off(spec: CalendarSpec, start: dt.date, days: int) -> dict[int, Message]:
    """Why each of the ``days`` from ``start`` (0-based) is not a working day of the calendar
    ``spec`` (a public holiday, a day off of the scenario, a weekday not worked), as a message
    pages word in their language; a day absent is a working day."""
    worked = {d for span in spec.working_days for d in span.days()}
    extra = {d: span.note for span in spec.days_off for d in span.days()}
    out: dict[int, Message] = {}
    for i in range(days):
        date = start + dt.timedelta(days=i)
        if holiday_name(spec.public_holidays, date) is not None:
            out[i] = message("day_off_holiday",
                             holiday=holiday_value(spec.public_holidays, date))
        elif date in extra:
            note = extra[date]
            out[i] = message("day_off_scenario", note=note) if note else message(
                "day_off_scenario_plain")
        elif date in worked:
            continue
        elif WEEKDAYS[date.weekday()] not in spec.working_weekdays:
            out[i] = message("day_off_weekday", weekday=WEEKDAYS[date.weekday()])
    return out


@dataclass(frozen=True)
class SeasonCalendar:
    """Per day of the horizon (0-based): why it is not a working day of the calendar, of
    each vehicle (by its scenario id) and of each commune (by code), as messages pages word
    in their language (``day_off_*``); a day absent from a mapping is a working day for it."""

    start_date: dt.date
    days: int
    off: dict[int, Message]
    vehicle_off: dict[str, dict[int, Message]]
    commune_off: dict[str, dict[int, Message]]
    # the public holidays of the horizon, as message values (:func:`holiday_value`)
    holidays: dict[int, str] = field(default_factory=dict)

    def date_of(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)

    def vehicles_on(self, day: int) -> tuple[str, ...]:
        """The scenario vehicles that may be out on ``day``."""
        return tuple(v for v, off in self.vehicle_off.items() if day not in off)

    def visit_days(self, code: str) -> list[int]:
        """The days a visit to commune ``code`` may fall on."""
        off = self.commune_off.get(code, {})
        return [d for d in range(self.days) if d not in off]

    def why_not(self, code: str, day: int) -> Message | None:
        """Why commune ``code`` cannot be visited on ``day`` (``None``: it can)."""
        if not 0 <= day < self.days:
            return message("day_off_outside_season")
        return self.commune_off.get(code, {}).get(day)


def _vehicle_off(scenario: Scenario, v: Vehicle, calendar_off: dict[int, Message],
                 worked: set[dt.date]) -> dict[int, Message]:
    out = dict(calendar_off)
    start, days = scenario.horizon.start_date, scenario.horizon.days
    away = {d: span.note for span in v.unavailable_dates for d in span.days()}
    depot = scenario.depot(v.depot)
    closed = {d: span.note for span in depot.closed_dates for d in span.days()}
    for i in range(days):
        date = start + dt.timedelta(days=i)
        if i in out:
            continue
        if date in away:
            note = away[date]
            out[i] = message("day_off_vehicle_unavailable_note", vehicle=v.id, note=note) \
                if note else message("day_off_vehicle_unavailable", vehicle=v.id)
        elif date in closed:
            note = closed[date]
            out[i] = message("day_off_library_closed_note", library=depot.id, note=note) \
                if note else message("day_off_library_closed", library=depot.id)
        elif v.working_weekdays is not None and date not in worked and \
                WEEKDAYS[date.weekday()] not in v.working_weekdays:
            out[i] = message("day_off_vehicle_weekday", vehicle=v.id,
                             weekday=WEEKDAYS[date.weekday()])
    return out


def _commune_off(scenario: Scenario, st: Stop, vehicle_off: dict[str, dict[int, Message]]
                 ) -> dict[int, Message]:
    start, days = scenario.horizon.start_date, scenario.horizon.days
    away = {d: span.note for span in st.unavailable_dates for d in span.days()}
    fleet = [v.id for v in scenario.vehicles
             if st.allowed_profiles is None or v.profile in st.allowed_profiles]
    out: dict[int, Message] = {}
    for i in range(days):
        date = start + dt.timedelta(days=i)
        if date in away:
            note = away[date]
            out[i] = message("day_off_commune_unavailable_note", note=note) if note else \
                message("day_off_commune_unavailable")
        elif not any(i not in vehicle_off[v] for v in fleet):
            # the vehicles' one reason (a day off of the calendar), else each vehicle's own
            # is on its trips' findings
            why = {vehicle_off[v][i] for v in fleet}
            out[i] = (why.pop() if len(why) == 1 else message("day_off_no_vehicle_works")
                      if why else message("day_off_no_vehicle"))
        elif st.time_windows and not any(w.applies_on(date) for w in st.time_windows):
            out[i] = message("day_off_no_window")
    return out


def season_calendar(scenario: Scenario) -> SeasonCalendar:
    """The working days of ``scenario``'s calendar, vehicles and communes."""
    spec = scenario.calendar or CalendarSpec()
    start, days = scenario.horizon.start_date, scenario.horizon.days
    off = calendar_days_off(spec, start, days)
    holidays = {d: str(why.mapping["holiday"]) for d, why in off.items()
                if why.key == "day_off_holiday"}
    worked = {d for span in spec.working_days for d in span.days()}
    vehicle_off = {v.id: _vehicle_off(scenario, v, off, worked) for v in scenario.vehicles}
    commune_off = {st.commune_code: _commune_off(scenario, st, vehicle_off)
                   for st in scenario.stops}
    return SeasonCalendar(start_date=start, days=days, off=off, vehicle_off=vehicle_off,
                          commune_off=commune_off, holidays=holidays)


__all__ = ["HOLIDAY_LANGUAGES", "SeasonCalendar", "calendar_days_off", "holiday_name",
           "holiday_text", "holiday_value", "public_holidays", "season_calendar"]
