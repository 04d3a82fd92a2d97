"""Messages the planner writes for people: a catalogue key and its values, never wording.

The planner states findings (a plan checker's violation, a broken batch rule) as a
:class:`Message`: a key of the UI's message catalogues (``render/translations``) and the
values it is filled with. Pages and sheets word it in their language through the catalogues
(:meth:`render.i18n.Translator.message`); the command line and logs print
:meth:`Message.english`, from :data:`ENGLISH` below, which is the one place the planner keeps
such wording. ``tests/webui/test_webui_language.py`` checks that every key here is in both
catalogues with the same placeholders, and that the planner's checkers make their findings
only through keys listed here.

Values are language-neutral: numbers, clock times ``HH:MM``, day numbers of the horizon
(1 = its first day), codes and names. Values named in :data:`CODED_VALUES` are codes that
pages word through the catalogues too (a vehicle profile, a field of the plan, a weekday);
values named in :data:`HOLIDAY_VALUES` name a public holiday, worded by its name in the
message's language (from the ``holidays`` package); values named in :data:`REASON_VALUES`
carry a message of their own (why a day is off: :func:`reason_value`), worded by the same
catalogue as the message holding it, so a finding reads in one language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

Value = str | int | float

# The values that are codes worded by the catalogues: value name -> key prefix (a value
# naming several codes separates them with ", ").
CODED_VALUES: Mapping[str, str] = {"field": "check_field_", "profile": "profile_",
                                   "profiles": "profile_", "weekday": "lib_wd_"}
# The values that name a public holiday (its country and date, ``VN 2027-02-06``): messages
# word it by its name in their language (:func:`planner.workdays.holiday_text`).
HOLIDAY_VALUES = frozenset({"holiday"})
# The values that carry a message of their own (a reason, :func:`reason_value`): messages
# word it in their language (a value that is not one, from a plan written before, as it is).
REASON_VALUES = frozenset({"why"})

ENGLISH: Mapping[str, str] = {
    # planner/check.py: the times people read
    "check_plan_start": "the plan counts its times from {plan_start}, the scenario starts on "
                        "{scenario_start}",
    "check_printed_not_local": "{field} {text} is not a local time (YYYY-MM-DDTHH:MM+07:00)",
    "check_printed_differs": "{field} is printed as {printed}, its time in seconds is "
                             "{expected}",
    "check_printed_day": "printed on day {printed_day}, its service starts on day "
                         "{service_day}",
    # planner/check.py: vehicles, depots, stops
    "check_unknown_vehicle": "vehicle {vehicle} is not in the scenario",
    "check_depot_start": "starts at {depot}, the vehicle belongs to {home}",
    "check_depot_end": "ends at {depot}, the vehicle ends at {home}",
    "check_profile_matrix": "no matrix for profile {profile}",
    "check_unknown_stop": "commune is not a stop of the scenario",
    "check_unknown_unserved": "unserved commune is not a stop of the scenario",
    "check_access": "a {profile} may not serve this commune (allowed: {profiles})",
    "check_duplicate": "also served by {vehicle}",
    "check_served_and_unserved": "listed both as served and unserved",
    "check_not_listed": "neither served nor listed as unserved",
    "check_no_reason": "unserved without a reason",
    # planner/check.py: crates
    "check_transfer_one_end": "transfer {from_code} -> {to_code}: only one end is on this trip",
    "check_transfer_order": "transfer {from_code} -> {to_code} is delivered before it is "
                            "collected",
    "check_load_start": "plan says {plan_crates} crates at the start, the stops need {crates}",
    "check_capacity_start": "leaves with {crates} crates, capacity {capacity}",
    "check_capacity_kg": "leaves with {crates} crates = {kg} kg, more than {capacity_kg} kg",
    "check_crates": "crates differ from the scenario",
    "check_load_after": "plan says {plan_crates} crates on board after the stop, recomputed "
                        "{crates}",
    "check_capacity_after": "{crates} crates on board after the stop, capacity {capacity}",
    # planner/check.py: times
    "check_depart_early": "departs at day {day} {time}, before the shift or the depot opens",
    "check_continuous_driving": "the {hours} h drive between day {from_day} {from_time} and "
                                "day {to_day} {to_time} leaves no {rest_min}-minute pause "
                                "after {limit_h} h of driving",
    "check_driving_hours": "the {hours} h drive between day {from_day} {from_time} and day "
                           "{to_day} {to_time} breaks the {limit_h} h a day driving limit",
    "check_drive_outside_shift": "the {hours} h drive does not fit in shift hours between day "
                                 "{from_day} {from_time} and day {to_day} {to_time}",
    "check_no_road": "no road for this vehicle on this leg",
    "check_arrives_before_leaving": "arrives before leaving the previous place",
    "check_service_before_arrival": "service starts before arrival",
    "check_time_window": "service starts day {day} {time}, outside the commune's time windows",
    "check_service_outside_shift": "service day {day} {time} + {minutes} min is outside the "
                                   "shift",
    "check_leaves_early": "leaves before the service is done",
    "check_lodging": "the night after {commune} falls where there is no lodging",
    "check_horizon": "returns day {day} {time}, after the horizon ends day {end_day} "
                     "{end_time}",
    "check_trip_days": "the trip takes {days} days, at most {max_days} allowed",
    # planner/check.py: a vehicle's several trips
    "check_trip_id": "trip {trip} of {vehicle} has the id {trip_id}, not {expected}",
    "check_trip_twice": "two routes are trip {trip} of the same vehicle",
    "check_trips_count": "makes {trips} trips (numbered up to {highest}); the scenario allows "
                         "{allowed}",
    "check_trip_order": "trip {trip} leaves before trip {before}",
    "check_trip_turnaround": "leaves day {day} {time}, before trip {before} is back and "
                             "reloaded ({minutes} min after day {back_day} {back_time})",
    "check_trip_same_day": "leaves on day {day}; trip {before} came back on day {back_day} and "
                           "a vehicle starts a trip on a later day, after {rest} rest day(s)",
    "check_distance": "plan says {plan_km} km, the matrix gives {km} km",
    "check_break_overlaps": "the break day {from_day} {from_time}–day {to_day} {to_time} "
                            "overlaps the service",
    "check_break_missing": "no {minutes}-minute break between day {from_day} {from_time} and "
                           "day {to_day} {to_time}",
    # planner/seasoncheck.py: a season's rules
    "check_season_vehicle_off": "the trip is out on {date}, a day its vehicle does not work: "
                                "{why}",
    "check_season_day_off": "visited on {date}, a day the commune cannot receive: {why}",
    "check_season_trip_holiday": "the trip is out on {date}, a public holiday: {holiday}",
    "check_season_day_holiday": "visited on {date}, a public holiday: {holiday}",
    # planner/workdays.py: why a day is not a working day of the calendar
    "day_off_holiday": "public holiday: {holiday}",
    "day_off_scenario": "day off: {note}",
    "day_off_weekday": "not a working weekday ({weekday})",
    "day_off_scenario_plain": "day off",
    # planner/workdays.py: why a vehicle, its library or a commune is off on a day
    "day_off_vehicle_unavailable": "vehicle {vehicle} unavailable",
    "day_off_vehicle_unavailable_note": "vehicle {vehicle} unavailable: {note}",
    "day_off_library_closed": "library {library} closed",
    "day_off_library_closed_note": "library {library} closed: {note}",
    "day_off_vehicle_weekday": "vehicle {vehicle} does not work on {weekday}",
    "day_off_commune_unavailable": "the commune cannot receive",
    "day_off_commune_unavailable_note": "the commune cannot receive: {note}",
    "day_off_no_vehicle": "no vehicle may serve it",
    "day_off_no_vehicle_works": "none of the vehicles that may serve it works on this day",
    "day_off_no_window": "none of its time windows opens on this day",
    "day_off_outside_season": "outside the season",
    "check_season_gap": "visits on {first} and {second} are {gap} days apart; the rule allows "
                        "{lo} to {most}",
    "check_season_day_set": "visited on days {days}, none of the rule's day sets",
    "check_season_count": "{visits} visits planned and {unserved} unserved; the rule asks for "
                          "{expected}",
    "check_season_fixed": "no visit on its fixed date {date}",
    "check_season_no_record": "a season plan without its season record",
    "check_season_record": "the season record and the trips disagree on the visit of day "
                           "{day}",
    "check_season_no_period": "the trip leaves on {date}, in no working period of the season",
    # planner/batchcheck.py
    "check_batch_twice": "batch {batch} is left at {n} communes",
    "check_batch_unknown": "batch {batch} is not in the registry",
    "check_batch_takes_back": "takes back {taken}, the commune holds {held}",
    "check_batch_elsewhere": "batch {batch} is at another commune on the day and is not taken "
                             "back earlier on this trip",
    "check_batch_shelf": "leaves {crates} crates of batches, the shelf holds {shelf}",
    "check_batch_count": "leaves {n} batches, the commune takes {most}",
    "check_batch_deliver_crates": "the scenario delivers {crates} crates, its batches from the "
                                  "library make {batch_crates}",
    "check_batch_loading": "loading list {loading} differs from the batches the trip takes "
                           "from the library {batches}",
    "check_batch_collect_crates": "the scenario takes back {crates} crates, the batches going "
                                  "back to the library make {batch_crates}",
    "check_batch_had": "batch {batch} was at this commune before",
    "check_batch_language": "batch {batch} is in {languages}, the commune reads {reads}",
    "check_batch_audience": "batch {batch} is for {audiences}, the commune serves {serves}",
}

# The codes of CODED_VALUES["field"] (the printed times of a plan) in English messages.
PRINTED_FIELDS: Mapping[str, str] = {"depart": "departure from the depot",
                                     "return_time": "return", "arrival": "arrival",
                                     "departure": "departure"}


@dataclass(frozen=True)
class Message:
    """A message for people: a key of :data:`ENGLISH` (and of the UI catalogues) and its
    values, in order."""

    key: str
    values: tuple[tuple[str, Value], ...] = ()

    def __post_init__(self) -> None:
        if self.key not in ENGLISH:
            raise KeyError(f"no message {self.key!r} in planner.messages.ENGLISH; add it there "
                           "and to the catalogues (python -m render.catalogs add)")

    @property
    def mapping(self) -> dict[str, Value]:
        return dict(self.values)

    def english(self) -> str:
        """The message in English, for the command line and logs."""
        values = self.mapping
        if "field" in values:
            values["field"] = PRINTED_FIELDS.get(str(values["field"]), values["field"])
        for name in HOLIDAY_VALUES & values.keys():
            from planner.workdays import holiday_text

            values[name] = holiday_text(str(values[name]), "en")
        for name in REASON_VALUES & values.keys():
            if (reason := reason_message(values[name])) is not None:
                values[name] = reason.english()
        return ENGLISH[self.key].format(**values)


def message(key: str, **values: Value) -> Message:
    """``Message(key, values)``, values given by name."""
    return Message(key, tuple(values.items()))


def reason_value(reason: Message) -> str:
    """A message as a value of another (a :data:`REASON_VALUES` value): language-neutral, its
    key and values, worded in the holding message's language."""
    return json.dumps([reason.key, [list(v) for v in reason.values]], ensure_ascii=False)


def reason_message(value: Value) -> Message | None:
    """The message a :func:`reason_value` carries (``None``: the value is plain text)."""
    try:
        key, values = json.loads(str(value))
        return Message(str(key), tuple((str(k), v) for k, v in values))
    except (ValueError, TypeError, KeyError):
        return None


def days_later(key: str, values: tuple[tuple[str, Value], ...], offset: int) -> Message:
    """The message ``key`` with its day numbers (the values named ``day`` or ``…_day``)
    counted from a first day ``offset`` days earlier: a finding on one period of a season,
    told in days of the season."""
    return Message(key, tuple((k, v + offset if (k == "day" or k.endswith("_day"))
                               and isinstance(v, int) else v) for k, v in values))


__all__ = ["CODED_VALUES", "ENGLISH", "HOLIDAY_VALUES", "PRINTED_FIELDS", "REASON_VALUES",
           "Message", "Value", "days_later", "message", "reason_message", "reason_value"]
