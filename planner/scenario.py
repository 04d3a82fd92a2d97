"""Scenario schema (version 1) and loading: YAML -> validated, immutable :class:`Scenario`.

The schema is documented field by field in ``docs/scenario-schema.md``; the default scenario
``scenarios/ha-giang-2026.yaml`` is a complete example. A scenario may ``extends:`` another
file (a path relative to it): mappings are merged key by key, lists and scalars replace.

Validation collects every problem (unknown fields, wrong types, negative capacities, windows
that close before they open, unknown ids, commune codes missing from the road dataset) and
raises one :class:`~planner.errors.ScenarioError` naming file, field, value and fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from planner.errors import Problem, ScenarioError
from planner.inputlimits import InputLimitError, InputLimits, load_json, load_yaml, read_limited

SCHEMA_VERSION = 1
PartT = TypeVar("PartT", bound=BaseModel)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# How much a scenario text may hold (docs/scenario-schema.md, "Limits"): 2 MB is room for
# every commune of Vietnam as a stop with its windows, and closures drawn with 2,000 points.
SCENARIO_LIMITS = InputLimits(max_bytes=2 * 1024 * 1024, max_depth=32, max_nodes=200_000,
                              max_aliases=5_000)
MAX_EXTENDS = 16  # scenarios in one chain of `extends:`
# Upper bounds of numbers (far above any real library's, far below what overflows the
# solver's 64-bit integers or the calendar)
MAX_CRATES = 10_000
MAX_CAPACITY_KG = 100_000
MAX_VND = 1_000_000_000
MAX_TIME_LIMIT_S = 3600
MAX_SEED = 2**31 - 1
MAX_SOLUTION_LIMIT = 1_000_000
MAX_WAY_ID = 2**53
MIN_DATE, MAX_DATE = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class KeyedValueError(ValueError):
    """A validator's refusal with its catalogue key and values beside the English text, so
    that pages word it in their language (see :func:`_problem_key`)."""

    def __init__(self, key: str, message: str, **values: Any) -> None:
        super().__init__(message)
        self.key, self.values = key, tuple(values.items())


def _number(value: Any) -> Any:
    if isinstance(value, bool):  # YAML's true/false would otherwise count as 1/0
        raise KeyedValueError("problem_number_bool", "expected a number, not true/false")
    return value


Int = Annotated[int, BeforeValidator(_number)]
Float = Annotated[float, BeforeValidator(_number)]


def written_code(value: int) -> str:
    """The text an unquoted commune code most likely had before YAML 1.1 made it a number:
    a leading 0 and digits 0-7 read as octal (``02701`` -> 1473), else the digits as such."""
    if 0 <= value < 8**4:  # a 5-digit code with a leading zero, read as octal
        return "0" + format(value, "o").zfill(4)
    return str(value)


def _commune_code(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        guess = written_code(int(value)) if isinstance(value, int) else str(value)
        octal = guess.startswith("0")
        why = (f"probably written {guess}: a leading 0 makes YAML read the digits as an "
               f"octal number" if octal else f"written {guess}")
        raise KeyedValueError("problem_code_octal" if octal else "problem_code_number",
                              f"a commune code must be text: YAML read this unquoted code as "
                              f"the number {value} ({why}). Write commune codes in quotes, "
                              f"e.g. commune_code: \"{guess}\"", number=value, guess=guess)
    return value


CommuneCode = Annotated[str, BeforeValidator(_commune_code)]


def _date_input(value: Any) -> Any:
    if isinstance(value, int | float):  # pydantic would read a number as a Unix time
        raise KeyedValueError("problem_date_parsing", "expected a date such as 2026-12-07")
    return value


def _date_in_range(value: dt.date) -> dt.date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise KeyedValueError("problem_date_range", f"the date {value.isoformat()} is outside "
                              f"{MIN_DATE.isoformat()} .. {MAX_DATE.isoformat()}",
                              date=value.isoformat(), min=MIN_DATE.isoformat(),
                              max=MAX_DATE.isoformat())
    return value


Date = Annotated[dt.date, BeforeValidator(_date_input), AfterValidator(_date_in_range)]


def _clock(value: Any) -> Any:
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise KeyedValueError("problem_clock_zone",
                                  "expected a local clock time, without a time zone")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 07:30 as the number 450
        raise KeyedValueError("problem_clock_unquoted", "write clock times in quotes, e.g. "
                              "\"07:30\" (YAML reads an unquoted 07:30 as a number)")
    if isinstance(value, str):
        for fmt in ("%H:%M", "%H:%M:%S"):
            try:
                return dt.datetime.strptime(value.strip(), fmt).time()
            except ValueError:
                continue
        raise KeyedValueError("problem_clock", "expected a clock time HH:MM such as \"07:30\"")
    raise KeyedValueError("problem_clock", "expected a clock time like \"07:30\"")


ClockTime = Annotated[dt.time, BeforeValidator(_clock),
                      PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)]


class _Model(BaseModel):
    # non-finite numbers (.nan, .inf) are refused everywhere
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        """Text holds no control characters (other than tab and line breaks) and no lone
        surrogates: they cannot be printed, encoded as UTF-8 or written to XML exports."""
        texts = (value,) if isinstance(value, str) else value if isinstance(value, tuple) \
            else ()
        for text in texts:
            found = _CONTROL.search(text) if isinstance(text, str) else None
            if found:
                char = f"U+{ord(found.group()):04X}"
                raise KeyedValueError("problem_control_char", f"the text holds the character "
                                      f"{char} (a control character or a lone surrogate); "
                                      "remove it", char=char)
        return value


class _ClockSpan(_Model):
    """A start and an end clock time, with both in minutes after midnight."""

    start: ClockTime
    end: ClockTime

    @property
    def start_min(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def end_min(self) -> int:
        return self.end.hour * 60 + self.end.minute


class TimeWindow(_ClockSpan):
    """An interval of clock time on every day, or only on some weekdays, on listed dates, or
    every N days from an anchor date (a market that drifts through the week: a "chợ lùi"
    every 6 days comes one weekday earlier each week)."""

    weekdays: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] | None = Field(
        default=None, min_length=1)
    dates: tuple[Date, ...] | None = None
    every_days: Int | None = Field(default=None, ge=1, le=366)
    anchor: Date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end <= self.start:
            raise KeyedValueError(
                "problem_window_order", f"the window closes ({self.end:%H:%M}) before or when "
                f"it opens ({self.start:%H:%M})", start=f"{self.start:%H:%M}",
                end=f"{self.end:%H:%M}")
        if (self.every_days is None) != (self.anchor is None):
            raise KeyedValueError("problem_window_repeat", "a repeating window needs both "
                                  "`every_days` and `anchor` (a date it falls on)")
        return self

    def applies_on(self, date: dt.date) -> bool:
        """True when the window is open on ``date`` (all its conditions hold)."""
        if self.weekdays is not None and WEEKDAYS[date.weekday()] not in self.weekdays:
            return False
        if self.dates is not None and date not in self.dates:
            return False
        if self.every_days is not None and self.anchor is not None:
            return (date - self.anchor).days % self.every_days == 0
        return True



class DailyBreak(_ClockSpan):
    """A rest the crew takes every working day: ``minutes`` long, starting and ending
    between ``start`` and ``end`` (e.g. lunch 45 minutes between 11:30 and 13:30)."""

    minutes: Int = Field(ge=1, le=240)

    @model_validator(mode="after")
    def _fits(self) -> DailyBreak:
        if self.end_min - self.start_min < self.minutes:
            raise KeyedValueError("problem_break_fit", f"a {self.minutes}-minute break does "
                                  f"not fit between {self.start:%H:%M} and {self.end:%H:%M}",
                                  minutes=self.minutes, start=f"{self.start:%H:%M}",
                                  end=f"{self.end:%H:%M}")
        return self


def _drop_unset_v3(data: Any) -> Any:
    """A dumped part without the schema-3 fields left at their defaults (so a scenario of an
    older version dumps, and digests, as it did before they existed)."""
    if isinstance(data, dict):
        if data.get("far_from_road_ok", ...) is False:
            del data["far_from_road_ok"]
        if "service_area" in data and data["service_area"] is None:
            del data["service_area"]
    return data



# --- season planning (schema version 4) -------------------------------------------------------

_SEASON_FIELDS = ("visit_rule", "preferred_dates", "unavailable_dates", "working_weekdays",
                  "closed_dates", "calendar", "periodic")


def _drop_unset_v4(data: Any) -> Any:
    """A dumped part without the schema-4 (season) fields left unset, so a scenario of an
    older version dumps, and digests, as it did before they existed."""
    if isinstance(data, dict):
        for key in _SEASON_FIELDS:
            if key in data and data[key] in (None, (), []):
                del data[key]
    return data


def _date_span(value: Any) -> Any:
    if isinstance(value, dt.date | str):  # a single day: `2027-02-11`
        return {"start": value}
    return value


class DateSpan(_Model):
    """A day, or the days from ``start`` to ``end`` (both included): a holiday, a harvest
    fortnight, a vehicle in the garage. Written as a date, or as ``{start, end, note}``."""

    start: Date
    end: Date | None = None
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> DateSpan:
        if self.end is not None and self.end < self.start:
            raise KeyedValueError("problem_span_order", f"the span ends ({self.end}) before "
                                  f"it starts ({self.start})", start=str(self.start),
                                  end=str(self.end))
        if self.end is not None and (self.end - self.start).days > 366:
            raise KeyedValueError("problem_span_year",
                                  "a span of more than a year: split it or shorten it")
        return self

    @property
    def last(self) -> dt.date:
        return self.end if self.end is not None else self.start

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i)
                for i in range((self.last - self.start).days + 1)]


DateSpans = tuple[Annotated[DateSpan, BeforeValidator(_date_span)], ...]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class CalendarSpec(_Model):
    """The working calendar of a season (schema version 4): working weekdays, public holidays
    (from the ``holidays`` package, Tết by the lunar calendar), and the days the scenario adds:
    days off (a province's own holidays, bridging days) and swapped working days (a Saturday
    worked to make up for a bridging day: the package lists past ones only)."""

    public_holidays: str = Field(default="VN", pattern=r"^([A-Z]{2}|none)$")
    working_weekdays: tuple[Weekday, ...] = Field(
        default=("mon", "tue", "wed", "thu", "fri"), min_length=1)
    days_off: DateSpans = ()
    working_days: DateSpans = ()


class VisitRule(_Model):
    """How often a commune is visited over the season: every ``every_weeks`` weeks give or
    take ``tolerance_days``; or ``count`` visits at ``min_gap_days`` to ``max_gap_days``
    apart; or one of the ``day_sets`` (lists of 0-based days of the horizon: short
    horizons, the periodic-routing benchmarks)."""

    every_weeks: Int | None = Field(default=None, ge=1, le=52)
    tolerance_days: Int = Field(default=0, ge=0, le=60)
    count: Int | None = Field(default=None, ge=1, le=366)
    min_gap_days: Int = Field(default=1, ge=1, le=366)
    max_gap_days: Int | None = Field(default=None, ge=1, le=366)
    day_sets: tuple[tuple[Annotated[Int, Field(ge=0, le=365)], ...], ...] | None = Field(
        default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_kind(self) -> VisitRule:
        kinds = [k for k, v in (("every_weeks", self.every_weeks), ("count", self.count),
                                ("day_sets", self.day_sets)) if v is not None]
        if len(kinds) != 1:
            given = ", ".join(kinds)
            raise KeyedValueError("problem_rule_kinds" if kinds else "problem_rule_kind",
                                  "give one kind of rule: `every_weeks` (with "
                                  "`tolerance_days`), `count` (with `min_gap_days`, "
                                  "`max_gap_days`) or `day_sets`"
                                  + (f"; this one gives {given}" if kinds else ""),
                                  **({"given": given} if kinds else {}))
        if self.every_weeks is not None and self.tolerance_days >= self.every_weeks * 7:
            raise KeyedValueError("problem_rule_tolerance", f"a tolerance of "
                                  f"{self.tolerance_days} days is a whole period of "
                                  f"{self.every_weeks} week(s) or more: lower it",
                                  tolerance=self.tolerance_days, weeks=self.every_weeks)
        if self.max_gap_days is not None and self.max_gap_days < self.min_gap_days:
            raise KeyedValueError("problem_rule_gaps", f"`max_gap_days` ({self.max_gap_days}) "
                                  f"is below `min_gap_days` ({self.min_gap_days})",
                                  max_gap=self.max_gap_days, min_gap=self.min_gap_days)
        if self.day_sets is not None:
            sizes = {len(set(d)) for d in self.day_sets}
            if len(sizes) != 1 or 0 in sizes or any(len(set(d)) != len(d)
                                                     for d in self.day_sets):
                raise KeyedValueError("problem_rule_day_sets", "each of `day_sets` lists the "
                                      "same number of different days (e.g. [[0, 3], [1, 4]])")
        return self

    @property
    def gap_days(self) -> tuple[int, int | None]:
        """The fewest and most days between two visits in a row (``None``: no most)."""
        if self.every_weeks is not None:
            period = self.every_weeks * 7
            return period - self.tolerance_days, period + self.tolerance_days
        return self.min_gap_days, self.max_gap_days


class PreferredDate(_Model):
    """A day a commune would like its visit (a reading-promotion day, a school's reading
    day): earns ``weight`` when a visit falls on it; ``fixed: true`` makes it a must."""

    date: Date
    weight: Int = Field(default=10, ge=1, le=1000)
    fixed: bool = False
    note: str = ""


class PeriodicSpec(_Model):
    """Settings of a season plan (schema version 4): the rule of communes without their own,
    how many visits a vehicle can make a day (to spread visits over the days before routing)
    and how long each step searches (``planner/season.py``)."""

    default_rule: VisitRule | None = None
    # ASSUMPTION: two commune visits a working day per vehicle (2 h on site, mountain roads)
    visits_per_vehicle_day: Int = Field(default=2, ge=1, le=50)
    max_period_days: Int = Field(default=7, ge=1, le=31)  # days routed together, at most
    group_size: Int = Field(default=6, ge=1, le=100)  # communes kept on the same days
    assignment_time_limit_s: Float = Field(default=20.0, gt=0, le=MAX_TIME_LIMIT_S)
    period_time_limit_s: Float = Field(default=3.0, gt=0, le=MAX_TIME_LIMIT_S)
    # a period's routing gets at most this much per visit (at least MIN_PERIOD_S): a small
    # period converges long before period_time_limit_s, the time goes to the moves; 0: none
    period_time_per_visit_s: Float = Field(default=0.05, ge=0, le=MAX_TIME_LIMIT_S)
    repair_rounds: Int = Field(default=2, ge=0, le=20)
    # moves of a costly trip's visits to other days, each kept only if the season costs less
    improve_rounds: Int = Field(default=0, ge=0, le=1000)
    # plan one cycle first, and start the season's dates from its trips repeated
    seed_with_cycle: bool = False


class Location(_Model):
    lon: Float = Field(ge=-180, le=180)
    lat: Float = Field(ge=-90, le=90)


class Depot(_Model):
    """A provincial library or hub where trips start and end."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    commune_code: CommuneCode | None = None
    location: Location | None = None
    location_approximate: bool = False
    location_note: str = ""
    opening: TimeWindow = TimeWindow(start="07:00", end="17:00")  # type: ignore[arg-type]
    # schema version 3: plan from a point more than 10 km from any usable road, the gap
    # counted at an assumed speed (planner/access.py)
    far_from_road_ok: bool = False
    closed_dates: DateSpans = ()  # schema version 4: days the library sends no trip out

    @model_validator(mode="after")
    def _placed(self) -> Depot:
        if self.location is None and self.commune_code is None:
            raise KeyedValueError("problem_depot_place", "give `location` (with `lon` and "
                                  "`lat`) or a `commune_code` to place the depot")
        return self

    @model_serializer(mode="wrap")
    def _without_defaults_of_v3(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Left out when unset, so older scenarios dump (and digest) as before.
        return _drop_unset_v4(_drop_unset_v3(handler(self)))


class Trips(_Model):
    """How often a vehicle may go out within the horizon (schema version 3): at most ``max``
    trips, each back at its library (or end depot) before the next. Between two trips the
    crew unloads and reloads (``turnaround_minutes``) and the next trip starts on a later
    working day (after ``rest_days`` more days off): a vehicle starts at most one trip a day,
    so shifts and daily driving caps hold per calendar day across trips."""

    max: Int = Field(default=31, ge=1, le=31)
    # ASSUMPTION default: an hour to unload the collected batches and load the next trip's
    turnaround_minutes: Int = Field(default=60, ge=0, le=7 * 24 * 60)
    rest_days: Int = Field(default=0, ge=0, le=30)


TRIP_SUFFIX = re.compile(r"-trip[0-9]+$")  # trip ids: "<vehicle>", "<vehicle>-trip2", …


def trip_id(vehicle_id: str, trip: int) -> str:
    """The id of a vehicle's trip (``trip`` counted from 0): the vehicle's own id for its
    first trip (plans of one trip per vehicle read as before), ``<id>-trip<N>`` after."""
    return vehicle_id if trip == 0 else f"{vehicle_id}-trip{trip + 1}"


class Vehicle(_Model):
    """A vehicle type and how many of it the library has. With schema version 3 each may
    make several trips (``trips``); before, each made at most one."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    profile: str = "truck"
    depot: str
    end_depot: str | None = None  # where trips end (a hub); default: back at `depot`
    count: Int = Field(default=1, ge=1, le=50)
    capacity_crates: Int = Field(gt=0, le=MAX_CRATES)
    capacity_kg: Float | None = Field(default=None, gt=0, le=MAX_CAPACITY_KG)
    shift: TimeWindow = TimeWindow(start="07:00", end="17:00")  # type: ignore[arg-type]
    max_trip_days: Int = Field(default=1, ge=1, le=31)
    # ASSUMPTION default: Vietnam's Law on Road Traffic Order and Safety (2024, art. 64) caps a
    # professional driver's driving at 10 h a day; set a lower figure for mountain roads
    max_driving_hours_per_day: Float = Field(default=10.0, gt=0, le=24)
    # ASSUMPTION default: the same article forbids driving more than 4 h without a break; the
    # 15-minute pause is an assumption (set the library's own rule; null switches it off)
    max_continuous_driving_hours: Float | None = Field(default=4.0, gt=0, le=24)
    continuous_driving_rest_minutes: Int = Field(default=15, ge=1, le=240)
    breaks: tuple[DailyBreak, ...] = ()  # daily rests (lunch), outside driving and service
    driver: str = ""
    phone: str = ""
    # costs and fuel (ASSUMPTION defaults for a diesel library truck; set the library's own)
    cost_vnd_per_km: Float = Field(default=5_000, ge=0, le=MAX_VND)
    cost_vnd_per_hour: Float = Field(default=60_000, ge=0, le=MAX_VND)
    cost_vnd_per_trip: Float = Field(default=0, ge=0, le=MAX_VND)
    cost_vnd_per_night: Float = Field(default=300_000, ge=0, le=MAX_VND)
    fuel: Literal["diesel", "gasoline"] = "diesel"
    fuel_l_per_100km: Float = Field(default=15, ge=0, le=100)
    trips: Trips | None = None  # schema version 3; default: as many as the horizon allows
    # schema version 4 (seasons): the weekdays it works (default: the calendar's) and the
    # days it is away (garage, another programme)
    working_weekdays: tuple[Weekday, ...] | None = Field(default=None, min_length=1)
    unavailable_dates: DateSpans = ()

    def unit_id(self, copy: int) -> str:
        """The id of copy ``copy`` (counted from 0) of this entry: the entry's own id when
        the library has one (``count: 1``), else ``<id>-1``, ``<id>-2``, … (the ids plans,
        outcomes and the fleet record use)."""
        return self.id if self.count == 1 else f"{self.id}-{copy + 1}"

    def units(self) -> tuple[tuple[str, str], ...]:
        """The vehicles this entry stands for, as ``(id, name)``: itself, or the ``count``
        copies numbered in their ids and names (``Xe 01 · 2``) so lists tell them apart."""
        if self.count == 1:
            return ((self.id, self.name),)
        return tuple((self.unit_id(k), f"{self.name} · {k + 1}") for k in range(self.count))

    @model_serializer(mode="wrap")
    def _without_unset_trips(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Left out when absent, so scenarios without it dump (and digest) as before it existed.
        data = _drop_unset_v4(handler(self))
        if isinstance(data, dict) and data.get("trips", ...) is None:
            del data["trips"]
        return data


class Stop(_Model):
    """A commune library to serve: crates of books delivered and collected, time on site."""

    commune_code: CommuneCode = Field(min_length=1)
    deliver_crates: Int = Field(default=0, ge=0, le=MAX_CRATES)
    collect_crates: Int = Field(default=0, ge=0, le=MAX_CRATES)
    service_minutes: Int = Field(default=60, ge=0, le=24 * 60)
    time_windows: tuple[TimeWindow, ...] = ()
    required: bool = True
    priority: Int = Field(default=5, ge=1, le=10)
    allowed_profiles: tuple[str, ...] | None = None
    lodging: bool = True
    contact: str = ""
    note: str = ""
    # where the commune library really is, when known better than the commune's point in
    # the dataset (the web UI sets it from a library's edited location), and its address
    location: Location | None = None
    address: str = Field(default="", max_length=500)
    # schema version 3: see Depot.far_from_road_ok
    far_from_road_ok: bool = False
    # schema version 4 (seasons): how often it is visited, the days it would like and the
    # days it cannot receive (commune events, harvest)
    visit_rule: VisitRule | None = None
    preferred_dates: tuple[PreferredDate, ...] = ()
    unavailable_dates: DateSpans = ()

    @model_serializer(mode="wrap")
    def _without_unset_location(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Left out when absent, so scenarios without it dump (and digest) as before it existed.
        data = _drop_unset_v4(_drop_unset_v3(handler(self)))
        if isinstance(data, dict) and data.get("location", ...) is None:
            del data["location"]
        if isinstance(data, dict) and data.get("address", ...) == "":
            del data["address"]
        return data


class Transfer(_Model):
    """Crates collected at one commune and delivered to another on the same trip (a batch
    handed on from commune to commune)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              populate_by_name=True)

    from_code: CommuneCode = Field(alias="from", min_length=1)
    to_code: CommuneCode = Field(alias="to", min_length=1)
    crates: Int = Field(gt=0, le=MAX_CRATES)
    note: str = ""


MAX_SEASON_DAYS = 366  # a season plans at most a year


class Horizon(_Model):
    start_date: Date
    # up to 31 days; a season (schema version 4, `periodic`) up to a year
    days: Int = Field(default=1, ge=1, le=MAX_SEASON_DAYS)

    def date_of(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)


def _lon_lat(value: Any) -> Any:
    if isinstance(value, list | tuple) and len(value) == 2 and all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in value):
        lon, lat = float(value[0]), float(value[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise KeyedValueError("problem_lonlat", f"[{lon}, {lat}] is not a longitude and "
                                  "latitude (-180..180, -90..90)", lon=lon, lat=lat)
    return value


LonLat = Annotated[tuple[Float, Float], BeforeValidator(_lon_lat)]
MAX_SHAPE_POINTS = 2000  # points of a closure's line or area


class ClosureSpec(_Model):
    """A road closed (or slowed) between two dates: by road number between two places, by
    area, by line, or by OSM way id."""

    id: str = Field(min_length=1)
    note: str = ""
    start: Date | None = None
    end: Date | None = None
    speed_factor: Float = Field(default=0.0, ge=0, lt=1)
    ref: str | None = None
    between: tuple[Location, Location] | None = None
    area: tuple[LonLat, ...] | None = Field(default=None, max_length=MAX_SHAPE_POINTS)
    line: tuple[LonLat, ...] | None = Field(default=None, max_length=MAX_SHAPE_POINTS)
    tolerance_m: Float = Field(default=30.0, gt=0, le=5000)
    way_ids: tuple[Annotated[Int, Field(ge=1, le=MAX_WAY_ID)], ...] = ()

    @model_validator(mode="after")
    def _selects(self) -> ClosureSpec:
        if self.line is not None and len(self.line) < 2:
            raise KeyedValueError("problem_closure_line", "a line needs at least 2 points")
        if self.area is not None and len(set(self.area)) < 3:
            raise KeyedValueError("problem_closure_area",
                                  "an area needs at least 3 different points")
        if not (self.ref or self.area or self.line or self.way_ids):
            raise KeyedValueError("problem_closure_which", "say which road: give `ref` (with "
                                  "optional `between`), `area`, `line` or `way_ids`")
        if self.between is not None and not self.ref:
            raise KeyedValueError("problem_closure_between",
                                  "`between` needs the road number in `ref`")
        if self.start and self.end and self.end < self.start:
            raise KeyedValueError("problem_closure_order", f"the closure ends ({self.end}) "
                                  f"before it starts ({self.start})",
                                  start=str(self.start), end=str(self.end))
        return self


class RoadConditionsSpec(_Model):
    """``season: auto`` applies the rainy-season slow-down when the horizon touches its months
    (May to September); ``dry`` or ``rainy`` force it off or on."""

    season: Literal["auto", "dry", "rainy"] = "auto"
    closures: tuple[ClosureSpec, ...] = ()


class SolverSettings(_Model):
    time_limit_s: Float = Field(default=30.0, gt=0, le=MAX_TIME_LIMIT_S)
    seed: Int = Field(default=0, ge=0, le=MAX_SEED)
    solution_limit: Int | None = Field(default=None, ge=1, le=MAX_SOLUTION_LIMIT)
    first_solution: Literal["PATH_CHEAPEST_ARC", "PARALLEL_CHEAPEST_INSERTION",
                            "LOCAL_CHEAPEST_INSERTION", "SAVINGS", "CHRISTOFIDES",
                            "AUTOMATIC"] = "PARALLEL_CHEAPEST_INSERTION"
    local_search: Literal["GUIDED_LOCAL_SEARCH", "SIMULATED_ANNEALING", "TABU_SEARCH",
                          "GREEDY_DESCENT", "AUTOMATIC"] = "GUIDED_LOCAL_SEARCH"
    # the portfolio (planner.search): processes a solve may use, and whether OR-Tools starts
    # from PyVRP's routes where PyVRP can model the problem
    workers: Int = Field(default=2, ge=1, le=16)
    seed_with_pyvrp: bool = True
    # searches that start from nothing use OR-Tools' iterated local search (ruin and
    # recreate) where the model allows it, `local_search` elsewhere (planner._ortools)
    iterated_local_search: bool = True
    # stop early once the best plan has not improved for this share of the time limit
    # (planner.solution.Patience)
    # (1: always search to the limit); planner.solve, docs/scenario-schema.md
    no_improvement_share: Float = Field(default=0.25, gt=0, le=1)
    # after the search, insert every left-out stop that fits (planner.solve.repair)
    repair: bool = True


# solver settings added after plans were stored: at their defaults they stay out of the
# scenario digest, so every scenario (and the plans and matrices stored with its digest)
# keeps the digest it had before they existed
DIGEST_SKIPS_DEFAULT_SOLVER: dict[str, object] = {
    key: SolverSettings.model_fields[key].default for key in ("no_improvement_share", "repair")}
DIGEST_SKIPS_DEFAULT_PERIODIC: dict[str, object] = {
    key: PeriodicSpec.model_fields[key].default for key in ("period_time_per_visit_s",)}


class RotationSpec(_Model):
    """Book batches for the cycle (schema version 2): the registry of batches, the history of
    their stays at communes and the commune library profiles, as CSV or XLSX files (paths
    relative to the scenario file). The plan then says which batch each visit leaves and takes
    back (``planner.rotation``)."""

    batches: str = Field(min_length=1, max_length=4096)
    history: str | None = Field(default=None, min_length=1, max_length=4096)
    profiles: str | None = Field(default=None, min_length=1, max_length=4096)
    state_on: Date | None = None  # where the batches are on this day (default: horizon start)
    rounds: Int = Field(default=3, ge=1, le=10)  # route / assign rounds at most
    default_shelf_crates: Int = Field(default=4, ge=1, le=100)


ROTATION_PATHS = ("batches", "history", "profiles")


class ServiceAreaSpec(_Model):
    """The communes a plan's coverage counts against (schema version 3): a province of the
    region (a 2025 one, or a former one: "former Lào Cai", "Hà Giang") or a list of codes."""

    province: str | None = Field(default=None, min_length=1, max_length=80)
    communes: tuple[CommuneCode, ...] | None = Field(default=None, min_length=1)
    name: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _one(self) -> ServiceAreaSpec:
        if (self.province is None) == (self.communes is None):
            raise KeyedValueError("problem_service_area_one",
                                  "give either `province: NAME` or `communes: [codes]`")
        return self


class Scenario(_Model):
    """A complete planning question: who serves which communes, with what, and when."""

    schema_version: Literal[1, 2, 3, 4] = 1
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    description: str = ""
    network: str = "ha_giang"
    horizon: Horizon
    depots: tuple[Depot, ...] = Field(min_length=1)
    vehicles: tuple[Vehicle, ...] = Field(min_length=1)
    stops: tuple[Stop, ...] = Field(min_length=1)
    crate_kg: Float = Field(default=15.0, gt=0, le=200)
    transfers: tuple[Transfer, ...] = ()
    road_conditions: RoadConditionsSpec = RoadConditionsSpec()
    solver: SolverSettings = SolverSettings()
    assumptions: tuple[str, ...] = ()
    rotation: RotationSpec | None = None
    service_area: ServiceAreaSpec | None = None  # schema version 3 (planner/servicearea.py)
    # schema version 4: a season of periodic visits (planner/season.py)
    calendar: CalendarSpec | None = None
    periodic: PeriodicSpec | None = None

    @model_validator(mode="after")
    def _versioned(self) -> Scenario:
        if self.rotation is not None and self.schema_version < 2:
            raise KeyedValueError("problem_needs_v2",
                                  "`rotation` (book batches) needs `schema_version: 2`")
        for v in self.vehicles:
            if v.trips is not None and self.schema_version < 3:
                raise KeyedValueError("problem_trips_v3", f"vehicle {v.id}: `trips` (several "
                                      "trips per vehicle) needs `schema_version: 3`",
                                      vehicle=v.id)
            if TRIP_SUFFIX.search(v.id):
                raise KeyedValueError("problem_vehicle_trip_suffix", f"vehicle id '{v.id}' "
                                      "ends like a trip id (-trip2, -trip3…): rename the "
                                      "vehicle", vehicle=v.id)
        if self.schema_version < 3:
            v3 = [f"depots[{i}].far_from_road_ok" for i, d in enumerate(self.depots)
                  if d.far_from_road_ok]
            v3 += [f"stops[{i}].far_from_road_ok" for i, st in enumerate(self.stops)
                   if st.far_from_road_ok]
            if self.service_area is not None:
                v3.append("service_area")
            if v3:
                fields = ", ".join(v3[:5])
                raise KeyedValueError("problem_needs_v3", f"{fields} needs `schema_version: 3`",
                                      fields=fields)
        v4 = self._season_fields()
        if self.schema_version < 4 and v4:
            fields = ", ".join(v4[:5])
            raise KeyedValueError("problem_needs_v4", f"{fields} (season planning) needs "
                                  "`schema_version: 4`", fields=fields)
        if self.periodic is None:
            if self.horizon.days > 31:
                raise KeyedValueError(
                    "problem_horizon_season", f"a horizon of {self.horizon.days} days: a plan "
                    "covers at most 31 days; a longer one is a season (add a `periodic:` "
                    "section with `schema_version: 4`, see docs/scenario-schema.md)",
                    days=self.horizon.days)
            rules = [f for f in v4 if f.startswith("stops[")]
            if rules:
                fields = ", ".join(rules[:5])
                raise KeyedValueError("problem_rules_need_periodic", f"{fields}: visit rules "
                                      "and dates plan a season: add a `periodic:` section",
                                      fields=fields)
        return self

    def _season_fields(self) -> list[str]:
        """The schema-4 fields the scenario sets, as field paths."""
        out = [k for k in ("calendar", "periodic") if getattr(self, k) is not None]
        for i, d in enumerate(self.depots):
            if d.closed_dates:
                out.append(f"depots[{i}].closed_dates")
        for i, v in enumerate(self.vehicles):
            out += [f"vehicles[{i}].{k}" for k in ("working_weekdays", "unavailable_dates")
                    if getattr(v, k)]
        for i, st in enumerate(self.stops):
            out += [f"stops[{i}].{k}" for k in ("visit_rule", "preferred_dates",
                                                 "unavailable_dates") if getattr(st, k)]
        return out

    @property
    def is_season(self) -> bool:
        """A season of periodic visits (``periodic:``), planned by :mod:`planner.season`."""
        return self.periodic is not None

    def max_trips(self, vehicle: Vehicle) -> int:
        """Trips ``vehicle`` may make within the horizon: one before schema version 3; since,
        its ``trips.max`` (default: as many as there are days, one a day at most)."""
        if self.schema_version < 3:
            return 1
        wanted = vehicle.trips.max if vehicle.trips is not None else self.horizon.days
        return max(1, min(wanted, self.horizon.days))

    @model_serializer(mode="wrap")
    def _without_unset_rotation(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Left out when absent, so scenarios without batches dump (and digest) as before.
        data = _drop_unset_v4(_drop_unset_v3(handler(self)))
        if isinstance(data, dict) and data.get("rotation", ...) is None:
            del data["rotation"]
        return data

    @property
    def digest(self) -> str:
        """The SHA-256 of the scenario's content. Where its batch files lie is not content
        (a plan folder keeps copies of them): their contents are digested on their own
        (``provenance.rotation.file_digests``)."""
        data = self.model_dump(mode="json")
        for section, skips in (("solver", DIGEST_SKIPS_DEFAULT_SOLVER),
                               ("periodic", DIGEST_SKIPS_DEFAULT_PERIODIC)):
            settings = data.get(section)
            if isinstance(settings, dict):  # settings added later, at their defaults: not
                for key, default in skips.items():  # content (stored plans keep their digest)
                    if settings.get(key) == default:
                        settings.pop(key)
        if isinstance(data.get("rotation"), dict):
            data["rotation"] = {k: v for k, v in data["rotation"].items()
                                if k not in ROTATION_PATHS}
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def depot(self, depot_id: str) -> Depot:
        return next(d for d in self.depots if d.id == depot_id)


# ---------------------------------------------------------------------------------------------
# loading


def deep_merge(base: Any, override: Any) -> Any:
    """``override`` laid over ``base``: mappings merged key by key, anything else replaced
    (how a scenario ``extends`` another, and a sweep's variant changes its scenario)."""
    # recursion bounded by the nesting limit of a scenario text (SCENARIO_LIMITS.max_depth)
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base.get(key), value) if key in base else value
        return merged
    return override


@dataclass(frozen=True)
class ScenarioText:
    """The text of a scenario and the label its problems are reported under (a file's path,
    or for instance ``NAME.yaml (database)``)."""

    text: str | bytes
    label: str


# (the value of `extends:`, the label of the scenario that extends) -> the scenario it names
ExtendsLookup = Callable[[Any, str], ScenarioText]


def _read_scenario_file(path: Path, *, label: str, field: str) -> bytes:
    """The bytes of a scenario file, at most :data:`SCENARIO_LIMITS` ``.max_bytes``; a
    :class:`ScenarioError` naming ``label`` and ``field`` when it cannot be read."""
    extends = field == "extends"
    try:
        return read_limited(path, SCENARIO_LIMITS.max_bytes)
    except FileNotFoundError:
        problem, fix, detail = "scenario file not found", "check the path", ""
        key, fix_key = "problem_file_not_found", "problem_fix_path"
    except InputLimitError as exc:
        problem, fix, detail = (f"scenario file refused: {exc}",
                                "split it, or remove what is not needed (see "
                                "docs/scenario-schema.md, Limits)", str(exc))
        key, fix_key = "problem_file_refused", "problem_fix_file_limits"
    except (OSError, ValueError) as exc:  # a folder, no permission, a NUL byte in the path
        detail = str(getattr(exc, "strerror", None) or exc)
        problem, fix = f"scenario file cannot be read ({detail})", "check the path"
        key, fix_key = "problem_file_unreadable", "problem_fix_path"
    if extends:
        fix += " (relative paths in `extends:` are taken from the extending file's folder)"
        if fix_key == "problem_fix_path":
            fix_key = "problem_fix_path_extends"
    raise ScenarioError([Problem(label, field, str(path), problem, fix, key=key,
                                 fix_key=fix_key, values=(("detail", detail),))])


def file_lookup(value: Any, label: str) -> ScenarioText:
    """``extends:`` as the command line reads it: a path relative to the extending file's
    folder."""
    try:
        path = (Path(label).parent / str(value)).resolve()
    except (OSError, ValueError, RuntimeError):
        raise ScenarioError([Problem(label, "extends", value, "not a usable file path",
                                     "name a scenario file, relative to this one",
                                     key="problem_extends_path",
                                     fix_key="problem_fix_extends_path")]) from None
    return ScenarioText(_read_scenario_file(path, label=label, field="extends"), str(path))


def _parse_yaml(source: ScenarioText) -> dict[str, Any]:
    label = source.label
    try:
        data = load_yaml(source.text, SCENARIO_LIMITS)
    except InputLimitError as exc:
        raise ScenarioError([Problem(label, "(file)", None, f"refused: {exc}",
                                     "write the scenario out plainly: each key once, without "
                                     "deep nesting or many aliases (*name); see "
                                     "docs/scenario-schema.md, Limits",
                                     key="problem_text_refused", fix_key="problem_fix_plain_yaml",
                                     values=(("detail", str(exc)),))]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        detail = str(getattr(exc, "problem", exc))
        place = (("line", mark.line + 1), ("column", mark.column + 1)) if mark else ()
        raise ScenarioError([Problem(label, "(file)", None, f"not valid YAML{where}: {detail}",
                                     "fix the YAML syntax",
                                     key="problem_yaml_at" if mark else "problem_yaml",
                                     fix_key="problem_fix_yaml",
                                     values=(*place, ("detail", detail)))]) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem(label, "(file)", None, "not UTF-8 text",
                                     "save the file as UTF-8", key="problem_not_utf8",
                                     fix_key="problem_fix_utf8")]) from None
    except ValueError as exc:  # a value YAML cannot hold: 2026-13-45, a 5,000-digit number
        huge = "integer string conversion" in str(exc)
        why = "a number has thousands of digits" if huge else str(exc)[:200]
        raise ScenarioError([Problem(label, "(file)", None, f"a value cannot be read: {why}",
                                     "correct the value",
                                     key="problem_value_huge" if huge else "problem_value_unread",
                                     fix_key="problem_fix_value",
                                     values=() if huge else (("detail", why),))]) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem(label, "(file)", type(data).__name__,
                                     "a scenario must be a YAML mapping of fields",
                                     "start from scenarios/ha-giang-2026.yaml",
                                     key="problem_not_mapping", fix_key="problem_fix_start_from")])
    return data


def _extends_value(value: Any, label: str) -> None:
    """``extends:`` names one scenario: a text (or a number, a name made of digits)."""
    if isinstance(value, bool) or not isinstance(value, str | int) or \
            (isinstance(value, str) and (not value.strip() or _CONTROL.search(value))):
        raise ScenarioError([Problem(label, "extends", value,
                                     "expected the name or path of one scenario file",
                                     "e.g. `extends: ha-giang-2026.yaml`",
                                     key="problem_extends_value",
                                     fix_key="problem_fix_extends_value")])


def _merged(source: ScenarioText, lookup: ExtendsLookup) -> dict[str, Any]:
    """The mapping of ``source`` merged over the scenarios it extends, found by ``lookup``
    (a loop, and chains longer than :data:`MAX_EXTENDS`, are refused)."""
    texts: list[dict[str, Any]] = []
    labels: list[str] = []
    while True:  # no recursion: the chain is followed in a loop
        if source.label in labels:
            raise ScenarioError([Problem(source.label, "extends", source.label,
                                         "the scenario extends itself in a loop",
                                         "remove the cycle of `extends:`",
                                         key="problem_extends_loop",
                                         fix_key="problem_fix_extends_loop")])
        if len(labels) >= MAX_EXTENDS:
            raise ScenarioError([Problem(labels[-1], "extends", source.label,
                                         f"more than {MAX_EXTENDS} scenarios in one chain of "
                                         "`extends:`", "extend a scenario nearer the base",
                                         key="problem_extends_chain",
                                         fix_key="problem_fix_extends_chain",
                                         values=(("max", MAX_EXTENDS),))])
        data = _parse_yaml(source)
        if Path(source.label).is_absolute() and Path(source.label).is_file():
            _resolve_paths(data, Path(source.label).parent)
        parent = data.pop("extends", None)
        texts.append(data)
        labels.append(source.label)
        if parent is None:
            break
        _extends_value(parent, source.label)
        source = lookup(parent, source.label)
    merged = texts.pop()
    while texts:
        merged = deep_merge(merged, texts.pop())
    return merged


def _resolve_paths(data: dict[str, Any], folder: Path) -> None:
    """Make the file paths of a scenario file absolute, from the file's own folder (a
    scenario that ``extends:`` another from elsewhere keeps each file's paths its own).
    ``network`` is a path when it holds a path separator or starts with ``.`` or ``~``
    (``./lao-cai``, ``../datasets/lao_cai``); a bare name is a dataset name."""
    network = data.get("network")
    if isinstance(network, str) and is_dataset_path(network):
        path = Path(network).expanduser()
        data["network"] = str(path if path.is_absolute() else (folder / path).resolve())
    rotation = data.get("rotation")
    if isinstance(rotation, dict):
        for key in ROTATION_PATHS:
            value = rotation.get(key)
            if isinstance(value, str) and value and not Path(value).is_absolute():
                rotation[key] = str((folder / value).resolve())


def is_dataset_path(network: str) -> bool:
    """Whether a scenario's ``network`` names a folder rather than a dataset by name."""
    return "/" in network or "\\" in network or network.startswith((".", "~"))


def _loc_text(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("function-after["):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _lookup(data: Any, loc: tuple) -> Any:
    cur = data
    for part in loc:
        if (isinstance(cur, dict) and part in cur) or (
                isinstance(cur, list) and isinstance(part, int) and part < len(cur)):
            cur = cur[part]
        elif isinstance(part, str) and part.startswith("function-"):
            continue
        else:
            return None
    return cur


def _model_at(loc: tuple, root: type[BaseModel]) -> type[BaseModel] | None:
    """The pydantic model class that owns the field at ``loc`` (for listing allowed fields)."""
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int) or (isinstance(part, str) and part.startswith("function-")):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return None
        ann = field.annotation
        for candidate in getattr(ann, "__args__", ()) + (ann,):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                model = candidate
                break
            inner = getattr(candidate, "__args__", ())
            hit = [c for c in inner if isinstance(c, type) and issubclass(c, BaseModel)]
            if hit:
                model = hit[0]
                break
        else:
            return None
    return model if isinstance(model, type) else None


def _problems_from_validation(file: str, data: Any, exc: ValidationError, *,
                              root: type[BaseModel] = Scenario, prefix: str = ""
                              ) -> list[Problem]:
    problems = []
    errors = exc.errors()
    locs = [tuple(e["loc"]) for e in errors]
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(o[:len(loc)] == loc and o != loc for o in locs):
            continue  # a list emptied by its own invalid items: those items are reported
        field = _loc_text(loc)
        if prefix:
            field = prefix if field == "(top level)" else (
                prefix + field if field.startswith("[") else f"{prefix}.{field}")
        value = _lookup(data, loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            model = _model_at(loc, root)
            allowed = ", ".join(model.model_fields) if model else "see docs/scenario-schema.md"
            problems.append(Problem(file, field, value, "unknown field",
                                    f"remove it or correct the spelling; allowed here: {allowed}",
                                    key="problem_extra_forbidden", fix_key="problem_fix_extra",
                                    values=(("allowed", allowed),)))
        elif kind == "missing":
            problems.append(Problem(file, field, None, "required field is missing",
                                    "add it (see docs/scenario-schema.md for an example)",
                                    key="problem_missing", fix_key="problem_fix_missing"))
        else:
            msg = err["msg"].removeprefix("Value error, ")
            key, values = _problem_key(err)
            problems.append(Problem(file, field, value, msg,
                                    "see docs/scenario-schema.md for the allowed values",
                                    key=key, fix_key="problem_fix_docs", values=values))
    return problems


# pydantic's error types worded by the catalogues (``problem_<…>``), several types to a key
PYDANTIC_KEYS: dict[str, str] = {
    "greater_than": "problem_greater_than", "greater_than_equal": "problem_greater_than_equal",
    "less_than": "problem_less_than", "less_than_equal": "problem_less_than_equal",
    "string_too_long": "problem_string_too_long", "string_too_short": "problem_string_too_short",
    "too_short": "problem_too_short", "too_long": "problem_too_long",
    "int_parsing": "problem_int", "int_type": "problem_int", "int_from_float": "problem_int",
    "float_parsing": "problem_float", "float_type": "problem_float",
    "finite_number": "problem_finite_number",
    "bool_parsing": "problem_bool", "bool_type": "problem_bool",
    "string_type": "problem_string_type", "literal_error": "problem_literal_error",
    "list_type": "problem_list_type", "tuple_type": "problem_list_type",
    "dict_type": "problem_dict_type", "model_type": "problem_dict_type",
    "model_attributes_type": "problem_dict_type",
    "date_parsing": "problem_date_parsing", "date_type": "problem_date_parsing",
    "date_from_datetime_parsing": "problem_date_parsing",
    "date_from_datetime_inexact": "problem_date_parsing",
}


def _problem_key(err: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """The catalogue key and values of a pydantic error: our validators' own
    (:class:`KeyedValueError`), else pydantic's type with its context (limits, choices);
    ``("", ())`` when no catalogue words it (pages then show the English text)."""
    ctx = err.get("ctx") or {}
    error = ctx.get("error")
    if isinstance(error, KeyedValueError):
        return error.key, error.values
    key = PYDANTIC_KEYS.get(str(err.get("type")), "")
    values = tuple((k, v if isinstance(v, int | float) and not isinstance(v, bool) else str(v))
                   for k, v in ctx.items() if k != "error")
    return key, values if key else ()


def parse_scenario(data: dict, *, file: str = "<scenario>") -> Scenario:
    """Validate a scenario mapping (already merged with what it extends)."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems_from_validation(file, data, exc)) from None
    problems = _cross_check(scenario, file)
    if problems:
        raise ScenarioError(problems)
    return scenario


def parse_part(model: type[PartT], data: Any, *, file: str, field: str = "") -> PartT:
    """Validate a part of a scenario (a stop, its time windows, a closure) with the scenario
    model's own rules, as the web UI's forms build them; problems name ``file`` and the field
    under ``field`` (e.g. ``stops[3]``), as they would in a scenario file."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems_from_validation(file, data, exc, root=model,
                                                      prefix=field)) from None


def _repeats(ids: list[str]) -> list[int]:
    """Positions of the ids that an earlier position already has (linear time)."""
    seen: set[str] = set()
    out = []
    for i, x in enumerate(ids):
        if x in seen:
            out.append(i)
        seen.add(x)
    return out


def _cross_check(s: Scenario, file: str) -> list[Problem]:
    """References between the parts of a scenario: unique ids, known depots, transfers
    between stops. Linear in the size of the scenario (sets and dicts, no list scans)."""
    problems: list[Problem] = []
    depot_ids = [d.id for d in s.depots]
    known_depots = set(depot_ids)
    depot_list = ", ".join(depot_ids[:20]) + (", …" if len(depot_ids) > 20 else "")
    for i in _repeats(depot_ids):
        problems.append(Problem(file, f"depots[{i}].id", depot_ids[i], "duplicate depot id",
                                "give each depot its own id", key="problem_duplicate_depot",
                                fix_key="problem_fix_own_depot_id"))
    for i in _repeats([v.id for v in s.vehicles]):
        problems.append(Problem(file, f"vehicles[{i}].id", s.vehicles[i].id,
                                "duplicate vehicle id", "give each vehicle its own id",
                                key="problem_duplicate_vehicle",
                                fix_key="problem_fix_own_vehicle_id"))
    for i, v in enumerate(s.vehicles):
        if v.depot not in known_depots:
            problems.append(Problem(file, f"vehicles[{i}].depot", v.depot, "no depot has this id",
                                    f"use one of: {depot_list}", key="problem_unknown_depot",
                                    fix_key="problem_fix_use_depot",
                                    values=(("depots", depot_list),)))
        if v.end_depot is not None and v.end_depot not in known_depots:
            problems.append(Problem(file, f"vehicles[{i}].end_depot", v.end_depot,
                                    "no depot has this id",
                                    f"use one of: {depot_list}, or leave it out to "
                                    "end where the trip starts", key="problem_unknown_depot",
                                    fix_key="problem_fix_use_end_depot",
                                    values=(("depots", depot_list),)))
        if v.max_trip_days > s.horizon.days:
            problems.append(Problem(file, f"vehicles[{i}].max_trip_days", v.max_trip_days,
                                    f"longer than the horizon of {s.horizon.days} days",
                                    "lower it or lengthen `horizon.days`",
                                    key="problem_trip_days_horizon",
                                    fix_key="problem_fix_trip_days",
                                    values=(("days", s.horizon.days),)))
    codes = codes_set(s)
    pairs: dict[tuple[str, str], int] = {}
    for i, t in enumerate(s.transfers):
        for field_name, code in (("from", t.from_code), ("to", t.to_code)):
            if code not in codes:
                problems.append(Problem(file, f"transfers[{i}].{field_name}", code,
                                        "this commune is not a stop of the scenario",
                                        "add it to `stops` or correct the code",
                                        key="problem_transfer_not_stop",
                                        fix_key="problem_fix_transfer_stop"))
        pair = (t.from_code, t.to_code)
        if pair in pairs:
            other = f"transfers[{pairs[pair]}]"
            problems.append(Problem(file, f"transfers[{i}]", f"{pair[0]} -> {pair[1]}",
                                    f"the same two communes as {other}",
                                    "merge the two into one transfer of their crates",
                                    key="problem_transfer_twice",
                                    fix_key="problem_fix_transfer_merge",
                                    values=(("other", other),)))
        pairs.setdefault(pair, i)
        if t.from_code == t.to_code:
            problems.append(Problem(file, f"transfers[{i}].to", t.to_code,
                                    "a transfer goes from one commune to another",
                                    "use two different communes", key="problem_transfer_self",
                                    fix_key="problem_fix_transfer_two"))
    loop = _transfer_loop(s.transfers)
    if loop:
        problems.append(Problem(file, "transfers", " -> ".join(loop),
                                "these transfers form a loop: each commune would have to be "
                                "visited before the one it receives from",
                                "remove one of the transfers of the loop",
                                key="problem_transfer_loop", fix_key="problem_fix_transfer_loop"))
    closures = s.road_conditions.closures
    for i in _repeats([c.id for c in closures]):
        problems.append(Problem(file, f"road_conditions.closures[{i}].id", closures[i].id,
                                "duplicate closure id", "give each closure its own id",
                                key="problem_duplicate_closure",
                                fix_key="problem_fix_own_closure_id"))
    for i in _repeats([st.commune_code for st in s.stops]):
        problems.append(Problem(file, f"stops[{i}].commune_code", s.stops[i].commune_code,
                                "this commune is listed twice",
                                "merge the two entries into one stop",
                                key="problem_duplicate_stop", fix_key="problem_fix_merge_stop"))
    if s.periodic is not None:
        problems += _season_check(s, file)
    return problems


def _season_check(s: Scenario, file: str) -> list[Problem]:
    """A season's rules against its horizon: each stop has a rule, its days and dates fall
    within the horizon, and its visits fit in it."""
    assert s.periodic is not None
    problems: list[Problem] = []
    first, days = s.horizon.start_date, s.horizon.days
    last = s.horizon.date_of(days - 1)
    for i, st in enumerate(s.stops):
        rule = st.visit_rule or s.periodic.default_rule
        where = f"stops[{i}].visit_rule"
        if rule is None:
            problems.append(Problem(file, where, None, "this commune has no visit rule",
                                    "give it a `visit_rule` (e.g. `every_weeks: 4` with "
                                    "`tolerance_days: 5`) or give `periodic.default_rule`",
                                    key="problem_no_visit_rule",
                                    fix_key="problem_fix_visit_rule"))
            continue
        if rule.day_sets is not None:
            late = sorted({d for ds in rule.day_sets for d in ds if d >= days})
            if late:
                problems.append(Problem(file, f"{where}.day_sets", late[:5],
                                        f"days beyond the horizon of {days} days (day 0 is "
                                        f"{first.isoformat()})",
                                        f"use days 0 to {days - 1}",
                                        key="problem_days_beyond_horizon",
                                        fix_key="problem_fix_days_range",
                                        values=(("days", days), ("first", first.isoformat()),
                                                ("last_day", days - 1))))
        elif rule.count is not None and (rule.count - 1) * rule.min_gap_days >= days:
            problems.append(Problem(file, f"{where}.count", rule.count,
                                    f"{rule.count} visits at least {rule.min_gap_days} days "
                                    f"apart do not fit in {days} days",
                                    "lower `count` or `min_gap_days`, or lengthen the horizon",
                                    key="problem_visits_do_not_fit",
                                    fix_key="problem_fix_visits_fit",
                                    values=(("count", rule.count), ("gap", rule.min_gap_days),
                                            ("days", days))))
        for j, p in enumerate(st.preferred_dates):
            if not first <= p.date <= last:
                problems.append(Problem(file, f"stops[{i}].preferred_dates[{j}].date",
                                        p.date.isoformat(),
                                        f"outside the horizon ({first} to {last})",
                                        "give a date within the horizon, or remove it",
                                        key="problem_date_outside_horizon",
                                        fix_key="problem_fix_date_in_horizon",
                                        values=(("first", first.isoformat()),
                                                ("last", last.isoformat()))))
    return problems


def _transfer_loop(transfers: tuple[Transfer, ...]) -> list[str]:
    """A loop of communes in the transfers (A hands on to B, B to A...), or ``[]``: on one
    trip each transfer's giver comes before its receiver, so a loop cannot be served."""
    after: dict[str, list[str]] = {}
    for t in transfers:
        after.setdefault(t.from_code, []).append(t.to_code)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(after):
        if state.get(start):
            continue
        path, stack = [start], [iter(after.get(start, ()))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(after.get(nxt, ())))
    return []


def codes_set(s: Scenario) -> set[str]:
    return {st.commune_code for st in s.stops}


def load_scenario(path: str | Path, *, lookup: ExtendsLookup = file_lookup) -> Scenario:
    """Read, merge (``extends:``, by default a path relative to the file) and validate a
    scenario YAML file."""
    path = Path(path).resolve()
    text = _read_scenario_file(path, label=str(path), field="(file)")
    return load_scenario_text(text, label=str(path), lookup=lookup)


def load_scenario_json(path: str | Path) -> Scenario:
    """Read and validate a resolved scenario written as JSON (``scenario.json`` beside a
    plan), within the limits of a scenario text. ``FileNotFoundError`` when it is absent;
    :class:`ScenarioError` when it is unreadable or invalid."""
    path = Path(path)
    label = str(path)
    try:
        data = load_json(read_limited(path, SCENARIO_LIMITS.max_bytes), SCENARIO_LIMITS)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:  # InputLimitError, JSON syntax, encoding
        raise ScenarioError([Problem(label, "(file)", None, f"not a readable scenario JSON "
                                     f"file: {str(exc)[:200]}",
                                     "re-run `planner solve` to write it again",
                                     key="problem_json_unread", fix_key="problem_fix_resolve",
                                     values=(("detail", str(exc)[:200]),))]) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem(label, "(file)", type(data).__name__,
                                     "a scenario must be a mapping of fields",
                                     "re-run `planner solve` to write it again",
                                     key="problem_json_not_mapping",
                                     fix_key="problem_fix_resolve")])
    return parse_scenario(data, file=label)


def load_scenario_text(text: str | bytes, *, label: str,
                       lookup: ExtendsLookup = file_lookup) -> Scenario:
    """Merge (``extends:``, each parent found by ``lookup``) and validate a scenario text;
    problems name ``label`` (or the label of the scenario extended where they are)."""
    return parse_scenario(_merged(ScenarioText(text, label), lookup), file=label)


def check_against_data(s: Scenario, *, commune_codes: set[str], profiles: set[str],
                       file: str) -> None:
    """Check the references a scenario makes into the road dataset and the profiles."""
    problems: list[Problem] = []
    for i, st in enumerate(s.stops):
        if st.commune_code not in commune_codes:
            problems.append(Problem(file, f"stops[{i}].commune_code", st.commune_code,
                                    f"no commune with this code in road dataset {s.network!r}",
                                    "use a 5-digit 2025 GSO commune code of the dataset (list "
                                    "them with `planner communes`)",
                                    key="problem_code_not_in_dataset",
                                    fix_key="problem_fix_stop_code",
                                    values=(("network", s.network),)))
    for i, d in enumerate(s.depots):
        if d.location is None and d.commune_code not in commune_codes:
            problems.append(Problem(file, f"depots[{i}].commune_code", d.commune_code,
                                    f"no commune with this code in road dataset {s.network!r}",
                                    "give `location` (with `lon` and `lat`) or a valid "
                                    "commune code",
                                    key="problem_code_not_in_dataset",
                                    fix_key="problem_fix_depot_code",
                                    values=(("network", s.network),)))
    known = ", ".join(sorted(profiles))
    for i, st in enumerate(s.stops):
        for prof in st.allowed_profiles or ():
            if prof not in profiles:
                problems.append(Problem(file, f"stops[{i}].allowed_profiles", prof,
                                        "unknown vehicle profile", f"use one of: {known}",
                                        key="problem_unknown_profile",
                                        fix_key="problem_fix_use_profile",
                                        values=(("profiles", known),)))
    for i, v in enumerate(s.vehicles):
        if v.profile not in profiles:
            problems.append(Problem(file, f"vehicles[{i}].profile", v.profile,
                                    "unknown vehicle profile", f"use one of: {known}",
                                    key="problem_unknown_profile",
                                    fix_key="problem_fix_use_profile",
                                    values=(("profiles", known),)))
    if problems:
        raise ScenarioError(problems)
