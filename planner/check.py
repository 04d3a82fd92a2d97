"""Plan checker: every violation of a plan against its scenario and travel-time matrices.

Written independently of the OR-Tools model and of the scheduler that put times on the
routes: it re-derives time windows and shifts from the scenario itself and recomputes loads,
travel and working time from the matrices. Used by the tests, ``planner check`` and the UI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from planner.batchcheck import check_batches
from planner.messages import Message, Value, message
from planner.plan import Plan, Route
from planner.problem import RoutingProblem
from planner.scenario import Scenario, Vehicle

_DAY = 86_400
_TOLERANCE_S = 60  # rounding of clock times in the plan
_LOCAL = dt.timezone(dt.timedelta(hours=7))  # the plan's printed times: Vietnam, UTC+7


@dataclass(frozen=True)
class Violation:
    """A rule a plan breaks: its ``kind`` (capacity | time_window | driver_hours |
    continuous_driving | horizon | printed_time | ...), the message in English (``planner
    check``, logs) and as a catalogue ``key`` with its ``values`` (pages word it in their
    language: :mod:`planner.messages`), and where."""

    kind: str
    message: str
    vehicle_id: str = ""
    commune_code: str = ""
    key: str = ""
    values: tuple[tuple[str, Value], ...] = ()

    def __str__(self) -> str:
        where = " ".join(x for x in (self.vehicle_id, self.commune_code) if x)
        return f"[{self.kind}] {where + ': ' if where else ''}{self.message}"


def _v(kind: str, msg: Message, vehicle_id: str = "", commune_code: str = "") -> Violation:
    return Violation(kind, msg.english(), vehicle_id, commune_code, msg.key, msg.values)


def _dt(seconds: int, prefix: str = "") -> dict[str, Value]:
    """``{prefix}day`` (1 = the horizon's first day) and ``{prefix}time`` (``HH:MM``) of a
    time in seconds from the horizon's start."""
    day, rest = divmod(int(seconds), _DAY)
    return {f"{prefix}day": day + 1, f"{prefix}time": f"{rest // 3600:02d}:{rest % 3600 // 60:02d}"}


def _span(a: int, b: int) -> dict[str, Value]:
    return {**_dt(a, "from_"), **_dt(b, "to_")}


def _shifts(v: Vehicle, days: int) -> list[tuple[int, int]]:
    s, e = v.shift.start_min * 60, v.shift.end_min * 60
    return [(d * _DAY + s, d * _DAY + e) for d in range(days + 1)]


def _fit_drive(shifts: list[tuple[int, int]], a: int, b: int, travel: int,
               room_on: dict[int, int] | None, rule: tuple[int, int] | None = None,
               continuous: int = 0) -> tuple[dict[int, int], int] | None:
    """Seconds driven per day by a leg of ``travel`` seconds driven inside shift hours
    between ``a`` and ``b``, as early as possible and within ``room_on`` (seconds a day
    still allowed under a daily cap; ``None``: no cap), and the driving done since the last
    pause on arrival. With ``rule`` = (most driving without a pause, the pause), driving
    stops for the pause whenever it reaches the limit; ``continuous`` is the driving already
    done without one when the leg starts. ``None`` when the leg does not fit."""
    out: dict[int, int] = {}
    remaining, last = travel, a
    for s, e in shifts:
        lo, hi = max(a, s), min(b, e)
        if hi <= lo or remaining <= 0:
            continue
        day = s // _DAY
        if rule is not None and lo - last >= rule[1]:
            continuous = 0  # rested before this stretch of shift hours
        while lo < hi and remaining > 0:
            part = min(remaining, hi - lo)
            if room_on is not None:
                part = min(part, max(0, room_on.get(day, 0) - out.get(day, 0)))
            if rule is not None:
                part = min(part, rule[0] - continuous)
            if part <= 0:
                if rule is None or continuous < rule[0]:
                    break
                lo += rule[1]  # pause by the road
                continuous = 0
                continue
            out[day] = out.get(day, 0) + part
            remaining -= part
            lo += part
            continuous += part
            last = lo
    return (out, continuous) if remaining <= _TOLERANCE_S else None


def _minus(intervals: list[tuple[int, int]], holes: tuple[tuple[int, int], ...]
           ) -> list[tuple[int, int]]:
    """``intervals`` with the ``holes`` cut out."""
    out = list(intervals)
    for hs, he in holes:
        nxt = []
        for s, e in out:
            if he <= s or e <= hs:
                nxt.append((s, e))
                continue
            if s < hs:
                nxt.append((s, hs))
            if he < e:
                nxt.append((he, e))
        out = nxt
    return out


def _check_breaks(v: Vehicle, route: Route, stops: dict, days: int) -> list[Violation]:
    """Each working day of the trip has each daily break, inside its window, with no service
    in it (a break that fits before the departure or after the return was taken at home)."""
    out: list[Violation] = []
    vid = route.key
    taken = list(route.breaks_s)
    for a, b in taken:
        for x in route.visits:
            svc_end = x.start_s + stops[x.commune_code].service_minutes * 60
            if a + _TOLERANCE_S < svc_end and x.start_s + _TOLERANCE_S < b:
                out.append(_v("break", message("check_break_overlaps", **_span(a, b)), vid,
                              x.commune_code))
    for day in range(route.depart_s // _DAY, route.return_s // _DAY + 1):
        for rule in v.breaks:
            lo, hi = day * _DAY + rule.start_min * 60, day * _DAY + rule.end_min * 60
            need = rule.minutes * 60
            if lo + need <= route.depart_s + _TOLERANCE_S or \
                    hi - need + _TOLERANCE_S >= route.return_s:
                continue  # room for it before leaving or after coming back
            if not any(lo - _TOLERANCE_S <= a and b <= hi + _TOLERANCE_S
                       and b - a + _TOLERANCE_S >= need for a, b in taken):
                out.append(_v("break", message("check_break_missing", minutes=rule.minutes,
                                               **_span(lo, hi)), vid))
    return out


def _in_one_shift(shifts: list[tuple[int, int]], a: int, b: int) -> bool:
    return any(s <= a and b <= e + _TOLERANCE_S for s, e in shifts)


def _windows_on(scenario: Scenario, stop_index: int, day: int) -> list[tuple[int, int]]:
    stop = scenario.stops[stop_index]
    date = scenario.horizon.start_date + dt.timedelta(days=day)
    if not stop.time_windows:
        return [(day * _DAY, day * _DAY + _DAY)]
    return [(day * _DAY + w.start_min * 60, day * _DAY + w.end_min * 60)
            for w in stop.time_windows if w.applies_on(date)]


def _vehicle_entry(scenario: Scenario, vehicle_id: str) -> Vehicle | None:
    for v in scenario.vehicles:
        if any(vehicle_id == unit for unit, _ in v.units()):
            return v
    return None


def _check_trips(scenario: Scenario, plan: Plan) -> list[Violation]:
    """A vehicle's trips: no more than the scenario allows (one before schema version 3),
    ids that say which trip each is, and each trip home, unloaded and reloaded
    (``turnaround_minutes``) before the next leaves, on a later day after the rest days."""
    out: list[Violation] = []
    by_vehicle: dict[str, list[Route]] = {}
    for route in plan.routes:
        expected = route.vehicle_id if route.trip_number == 1 else \
            f"{route.vehicle_id}-trip{route.trip_number}"
        if route.trip_id and route.trip_id != expected:
            out.append(_v("trips", message("check_trip_id", trip=route.trip_number,
                                           vehicle=route.vehicle_id, trip_id=route.trip_id,
                                           expected=expected), route.key))
        if route.visits:
            by_vehicle.setdefault(route.vehicle_id, []).append(route)
    for vid, trips in by_vehicle.items():
        v = _vehicle_entry(scenario, vid)
        if v is None:
            continue
        rule = v.trips
        allowed = 1 if scenario.schema_version < 3 else min(
            rule.max if rule is not None else scenario.horizon.days, scenario.horizon.days)
        numbers = [r.trip_number for r in trips]
        if len(set(numbers)) != len(numbers):
            out.append(_v("trips", message("check_trip_twice", trip=max(numbers)), vid))
        if len(trips) > allowed or max(numbers) > allowed:
            out.append(_v("trips", message("check_trips_count", trips=len(trips),
                                           highest=max(numbers), allowed=allowed), vid))
        turnaround = (rule.turnaround_minutes if rule is not None else 60) * 60
        rest = rule.rest_days if rule is not None else 0
        ordered = sorted(trips, key=lambda r: r.depart_s)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if after.trip_number < before.trip_number:
                out.append(_v("trips", message("check_trip_order", trip=after.trip_number,
                                               before=before.trip_number), after.key))
            if after.depart_s + _TOLERANCE_S < before.return_s + turnaround:
                out.append(_v("trips", message("check_trip_turnaround", **_dt(after.depart_s),
                                               before=before.trip_number,
                                               minutes=turnaround // 60,
                                               **_dt(before.return_s, "back_")), after.key))
            elif after.depart_s // _DAY <= before.return_s // _DAY + rest:
                out.append(_v("trips", message("check_trip_same_day",
                                               day=after.depart_s // _DAY + 1,
                                               before=before.trip_number,
                                               back_day=before.return_s // _DAY + 1, rest=rest),
                              after.key))
    return out


def _printed_times(scenario: Scenario, plan: Plan) -> list[Violation]:
    """The times people read (the ISO strings ``arrival``, ``departure``, ``depart``,
    ``return_time`` and the ``day`` of a visit, printed on sheets and in exports) must say
    what the seconds the rest of the check verifies say: local time UTC+7, to the minute."""
    out: list[Violation] = []
    start = scenario.horizon.start_date
    if plan.start_date != start:
        out.append(_v("printed_time", message("check_plan_start",
                                              plan_start=plan.start_date.isoformat(),
                                              scenario_start=start.isoformat())))
    midnight = dt.datetime.combine(start, dt.time(0), _LOCAL)

    def compare(what: str, text: object, seconds: int, vid: str, code: str = "") -> None:
        try:
            expected = midnight + dt.timedelta(seconds=seconds)
            when = dt.datetime.fromisoformat(text) if isinstance(text, str) else None
        except (ValueError, OverflowError):
            when = None
        if when is None or when.utcoffset() != _LOCAL.utcoffset(None):
            out.append(_v("printed_time", message("check_printed_not_local", field=what,
                                                  text=repr(str(text)[:40])), vid, code))
        elif abs((when - expected).total_seconds()) >= _TOLERANCE_S:
            out.append(_v("printed_time", message("check_printed_differs", field=what,
                                                  printed=f"{when:%Y-%m-%d %H:%M}",
                                                  expected=f"{expected:%Y-%m-%d %H:%M}"),
                          vid, code))

    for route in plan.routes:
        vid = route.key
        if route.visits:
            compare("depart", route.depart, route.depart_s, vid)
            compare("return_time", route.return_time, route.return_s, vid)
        for x in route.visits:
            compare("arrival", x.arrival, x.arrival_s, vid, x.commune_code)
            compare("departure", x.departure, x.departure_s, vid, x.commune_code)
            if x.day != x.start_s // _DAY:
                out.append(_v("printed_time", message("check_printed_day",
                                                      printed_day=x.day + 1,
                                                      service_day=x.start_s // _DAY + 1),
                              vid, x.commune_code))
    return out


def check_plan(scenario: Scenario, problem: RoutingProblem, plan: Plan) -> list[Violation]:
    """Return every violation found (an empty list means the plan is valid)."""
    out: list[Violation] = _printed_times(scenario, plan)
    n_dep = len(scenario.depots)
    depot_loc = {d.id: i for i, d in enumerate(scenario.depots)}
    stop_loc = {s.commune_code: n_dep + i for i, s in enumerate(scenario.stops)}
    stops = {s.commune_code: s for s in scenario.stops}
    days = scenario.horizon.days
    seen: dict[str, str] = {}

    out += _check_trips(scenario, plan)
    for route in plan.routes:
        vid = route.key
        v = _vehicle_entry(scenario, route.vehicle_id)
        if v is None:
            out.append(_v("unknown_vehicle", message("check_unknown_vehicle", vehicle=vid),
                          vid))
            continue
        if not route.visits:
            continue
        if route.depot_id != v.depot:
            out.append(_v("depot", message("check_depot_start", depot=route.depot_id,
                                           home=v.depot), vid))
        prof = problem.profiles.index(v.profile) if v.profile in problem.profiles else None
        if prof is None:
            out.append(_v("profile", message("check_profile_matrix", profile=v.profile), vid))
            continue
        shifts = _shifts(v, days)
        home = depot_loc.get(v.depot, 0)

        # --- loads (swap-correct: all deliveries on board at the start) ---
        codes = [x.commune_code for x in route.visits]
        unknown = [c for c in codes if c not in stops]
        for c in unknown:
            out.append(_v("unknown_stop", message("check_unknown_stop"), vid, c))
        if unknown:
            continue
        load = sum(stops[c].deliver_crates for c in codes)
        for t in scenario.transfers:
            if (t.from_code in codes) != (t.to_code in codes):
                out.append(_v("transfer", message("check_transfer_one_end",
                                                  from_code=t.from_code, to_code=t.to_code),
                              vid))
            elif t.from_code in codes and codes.index(t.from_code) > codes.index(t.to_code):
                out.append(_v("transfer", message("check_transfer_order",
                                                  from_code=t.from_code, to_code=t.to_code),
                              vid, t.to_code))
        if route.load_start_crates != load:
            out.append(_v("load", message("check_load_start",
                                          plan_crates=route.load_start_crates, crates=load),
                          vid))
        if load > v.capacity_crates:
            out.append(_v("capacity", message("check_capacity_start", crates=load,
                                              capacity=v.capacity_crates), vid))
        cap = v.capacity_crates if v.capacity_kg is None else min(
            v.capacity_crates, int(v.capacity_kg // scenario.crate_kg))
        if cap < load <= v.capacity_crates:
            out.append(_v("capacity", message("check_capacity_kg", crates=load,
                                              kg=round(load * scenario.crate_kg),
                                              capacity_kg=float(v.capacity_kg or 0)), vid))
        for x in route.visits:
            st = stops[x.commune_code]
            if st.allowed_profiles is not None and v.profile not in st.allowed_profiles:
                out.append(_v("access", message("check_access", profile=v.profile,
                                                profiles=", ".join(st.allowed_profiles)),
                              vid, x.commune_code))
            if (x.deliver_crates, x.collect_crates) != (st.deliver_crates, st.collect_crates):
                out.append(_v("crates", message("check_crates"), vid, x.commune_code))
            load += st.collect_crates - st.deliver_crates
            load += sum(t.crates for t in scenario.transfers if t.from_code == x.commune_code)
            load -= sum(t.crates for t in scenario.transfers if t.to_code == x.commune_code)
            if x.load_after_crates != load:
                out.append(_v("load", message("check_load_after",
                                              plan_crates=x.load_after_crates, crates=load),
                              vid, x.commune_code))
            if load > cap:
                out.append(_v("capacity", message("check_capacity_after", crates=load,
                                                  capacity=cap), vid, x.commune_code))

        # --- times ---
        day0_start = shifts[0][0]
        depot = scenario.depots[home]
        if route.depart_s < max(day0_start, depot.opening.start_min * 60) - _TOLERANCE_S:
            out.append(_v("driver_hours", message("check_depart_early",
                                                  **_dt(route.depart_s)), vid))
        prev_t, prev_loc, km = route.depart_s, home, 0.0
        driven: dict[int, int] = {}  # seconds driven per day
        shift_s = (v.shift.end_min - v.shift.start_min) * 60
        cap_s: float | None = v.max_driving_hours_per_day * 3600
        if cap_s is not None and cap_s >= shift_s:
            cap_s = None  # the shift ends the day's driving first
        legs = [(x.commune_code, stop_loc[x.commune_code], x.arrival_s) for x in route.visits]
        end = depot_loc.get(v.end_depot or v.depot, home)
        if (route.end_depot_id or route.depot_id) != (v.end_depot or v.depot):
            out.append(_v("depot", message("check_depot_end",
                                           depot=route.end_depot_id or route.depot_id,
                                           home=v.end_depot or v.depot), vid))
        legs.append(("", end, route.return_s))
        out.extend(_check_breaks(v, route, stops, days))
        drive_hours = _minus(shifts, route.breaks_s)  # shift hours not spent on a break
        rule = (None if v.max_continuous_driving_hours is None else
                (round(v.max_continuous_driving_hours * 3600),
                 v.continuous_driving_rest_minutes * 60))
        continuous = 0  # driving since the last pause of at least the rule's length
        for i, (code, loc, arrival) in enumerate(legs):
            travel, metres, _ = problem.leg_on(prof, prev_loc, loc, prev_t, arrival)
            km += metres / 1000
            if travel >= 10**9 or not np.isfinite(travel):
                out.append(_v("no_road", message("check_no_road"), vid, code))
            elif arrival < prev_t:
                out.append(_v("time_order", message("check_arrives_before_leaving"), vid, code))
            else:
                room = None if cap_s is None else {
                    d: int(cap_s) - driven.get(d, 0) for d in range(days + 1)}
                fit = _fit_drive(drive_hours, prev_t, arrival, travel, room, rule, continuous)
                if fit is None and rule is not None:
                    fit = _fit_drive(drive_hours, prev_t, arrival, travel, room)
                    if fit is not None:
                        out.append(_v("continuous_driving", message(
                            "check_continuous_driving", hours=round(travel / 3600, 1),
                            rest_min=v.continuous_driving_rest_minutes,
                            limit_h=float(v.max_continuous_driving_hours or 0),
                            **_span(prev_t, arrival)), vid, code))
                split = None if fit is None else fit[0]
                continuous = 0 if fit is None else fit[1]
                if split is None and room is not None and \
                        _fit_drive(drive_hours, prev_t, arrival, travel, None) is not None:
                    out.append(_v("driving_hours", message(
                        "check_driving_hours", hours=round(travel / 3600, 1),
                        limit_h=float(v.max_driving_hours_per_day),
                        **_span(prev_t, arrival)), vid, code))
                elif split is None:
                    out.append(_v("driver_hours", message(
                        "check_drive_outside_shift", hours=round(travel / 3600, 1),
                        **_span(prev_t, arrival)), vid, code))
                else:
                    for d, secs in split.items():
                        driven[d] = driven.get(d, 0) + secs
            if i == len(route.visits):
                break
            x = route.visits[i]
            st = stops[code]
            svc = st.service_minutes * 60
            if x.start_s + _TOLERANCE_S < x.arrival_s:
                out.append(_v("time_order", message("check_service_before_arrival"), vid, code))
            day = x.start_s // _DAY
            wins = _windows_on(scenario, scenario.stops.index(st), day)
            if day >= days or not any(a - _TOLERANCE_S <= x.start_s <= b + _TOLERANCE_S
                                      for a, b in wins):
                out.append(_v("time_window", message("check_time_window", **_dt(x.start_s)),
                              vid, code))
            if not _in_one_shift(shifts, x.start_s, x.start_s + svc):
                out.append(_v("driver_hours", message("check_service_outside_shift",
                                                      minutes=st.service_minutes,
                                                      **_dt(x.start_s)), vid, code))
            if x.departure_s + _TOLERANCE_S < x.start_s + svc:
                out.append(_v("time_order", message("check_leaves_early"), vid, code))
            if i > 0:
                before = route.visits[i - 1]
                if not stops[before.commune_code].lodging and \
                        x.start_s // _DAY != before.departure_s // _DAY:
                    out.append(_v("lodging", message("check_lodging",
                                                     commune=before.commune_name), vid, code))
            if code in seen:
                out.append(_v("duplicate", message("check_duplicate", vehicle=seen[code]), vid,
                              code))
            seen[code] = vid
            if rule is not None and x.departure_s - x.arrival_s + _TOLERANCE_S >= rule[1]:
                continuous = 0  # the stop was a pause
            prev_t, prev_loc = x.departure_s, loc
        last = route.visits[-1]
        if not stops[last.commune_code].lodging and route.return_s // _DAY != \
                last.departure_s // _DAY:
            out.append(_v("lodging", message("check_lodging", commune=last.commune_name), vid))
        last_end = (days - 1) * _DAY + v.shift.end_min * 60
        if route.return_s > last_end + _TOLERANCE_S:
            out.append(_v("horizon", message("check_horizon", **_dt(route.return_s),
                                             **_dt(last_end, "end_")), vid))
        trip_days = route.return_s // _DAY - route.depart_s // _DAY + 1
        if trip_days > v.max_trip_days:
            out.append(_v("trip_days", message("check_trip_days", days=trip_days,
                                               max_days=v.max_trip_days), vid))
        if abs(km - route.km) > 0.5 + 0.01 * km:
            out.append(_v("distance", message("check_distance", plan_km=route.km,
                                              km=round(km, 1)), vid))

    # --- coverage ---
    unserved = {u.commune_code: u for u in plan.unserved}
    for code, stop in stops.items():
        if code in seen:
            if code in unserved:
                out.append(_v("coverage", message("check_served_and_unserved"),
                              commune_code=code))
            continue
        u = unserved.get(code)
        if u is None:
            out.append(_v("missing", message("check_not_listed"), commune_code=code))
        elif not u.reason.strip():
            kind = "missing" if stop.required else "reason"
            out.append(_v(kind, message("check_no_reason"), commune_code=code))
    for code in unserved:
        if code not in stops:
            out.append(_v("unknown_stop", message("check_unknown_unserved"), commune_code=code))
    out += [_v("batch", msg, vid, code) for msg, vid, code in check_batches(scenario, plan)]
    return out
