"""The checker of a season plan: every trip as :func:`planner.check.check_plan` checks a
cycle plan (each period's trips against that period's scenario and road conditions), and
the season's own rules, re-derived from the scenario: visit gaps within each commune's rule,
fixed dates kept, no visit on a day its commune cannot receive (a public holiday, a day
off, an unavailable date, a day none of its windows opens), no trip on a day its vehicle
does not work or its library is closed, and a ``season`` record that says what the trips do.

It reads the calendar through :mod:`planner.workdays` (the one home of the working
calendar) and nothing of the date assignment or the routing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import replace

from planner.batchcheck import batch_ids
from planner.batches import BatchState
from planner.check import Violation, check_plan
from planner.messages import Message, days_later, message, reason_value
from planner.plan import Plan, Route
from planner.problem import DAY_S, RoutingProblem
from planner.scenario import Scenario, Vehicle, VisitRule
from planner.workdays import SeasonCalendar, season_calendar

# (period scenario) -> its routing problem: the matrices of the period's road conditions
ProblemOf = Callable[[Scenario], RoutingProblem]


def _v(kind: str, msg: Message, vehicle_id: str = "", commune_code: str = "") -> Violation:
    return Violation(kind, msg.english(), vehicle_id, commune_code, msg.key, msg.values)


def _vehicle_spec(scenario: Scenario, vehicle_id: str) -> Vehicle | None:
    for v in scenario.vehicles:
        if vehicle_id == v.id or (v.count > 1 and vehicle_id.rsplit("-", 1)[0] == v.id):
            return v
    return None


def _expected_count(rule: VisitRule, days: int) -> int:
    if rule.every_weeks is not None:
        return max(1, (days + rule.tolerance_days) // (rule.every_weeks * 7))
    if rule.count is not None:
        return rule.count
    assert rule.day_sets is not None
    return len(set(rule.day_sets[0]))


def season_rule_violations(scenario: Scenario, plan: Plan,
                           cal: SeasonCalendar | None = None) -> list[Violation]:
    """The season's rules (see the module docstring) on ``plan``'s trips."""
    assert scenario.periodic is not None
    cal = cal or season_calendar(scenario)
    out: list[Violation] = []
    date = cal.date_of
    served: dict[str, list[tuple[int, str]]] = {}
    for r in plan.routes:
        spec = _vehicle_spec(scenario, r.vehicle_id)
        if r.visits and spec is not None:
            for day in range(r.depart_s // DAY_S, r.return_s // DAY_S + 1):
                why = cal.vehicle_off[spec.id].get(day)
                if why is not None and day < cal.days:
                    # on a public holiday, the holiday (named in each page's language)
                    holiday = cal.holidays.get(day)
                    out.append(_v("season_day", message(
                        "check_season_trip_holiday", date=date(day).isoformat(),
                        holiday=holiday) if holiday is not None else message(
                        "check_season_vehicle_off", date=date(day).isoformat(),
                        why=reason_value(why)),
                        r.key))
        for x in r.visits:
            day = x.start_s // DAY_S
            served.setdefault(x.commune_code, []).append((day, r.key))
    missed = {(c.commune_code, v.day) for c in (plan.season.communes if plan.season else ())
              for v in c.visits if not v.trip_id}
    for st in scenario.stops:
        code = st.commune_code
        rule = st.visit_rule or scenario.periodic.default_rule
        if rule is None:
            continue
        visits = sorted(served.get(code, []))
        for day, key in visits:
            why = cal.why_not(code, day)
            holiday = cal.holidays.get(day)
            if why is not None:
                out.append(_v("season_day", message(
                    "check_season_day_holiday", date=date(day).isoformat(),
                    holiday=holiday) if holiday is not None else message(
                    "check_season_day_off", date=date(day).isoformat(),
                    why=reason_value(why)), key, code))
        days = [d for d, _ in visits]
        lost = sorted(d for c, d in missed if c == code)
        if rule.day_sets is not None:
            if not any(set(days) | set(lost) == set(ds) for ds in rule.day_sets):
                out.append(_v("season_gap", message(
                    "check_season_day_set", days=", ".join(str(d) for d in days)),
                    commune_code=code))
        else:
            lo, hi = rule.gap_days
            for a, b in zip(days, days[1:], strict=False):
                if any(a < d < b for d in lost):
                    continue  # a visit between them is listed unserved, with its reason
                gap = b - a
                if gap < lo or (hi is not None and gap > hi):
                    out.append(_v("season_gap", message(
                        "check_season_gap", first=date(a).isoformat(),
                        second=date(b).isoformat(), gap=gap, lo=lo,
                        most=hi if hi is not None else "-"), commune_code=code))
        expected = _expected_count(rule, cal.days)
        if len(days) + len(lost) != expected:
            out.append(_v("season_count", message(
                "check_season_count", visits=len(days), unserved=len(lost),
                expected=expected), commune_code=code))
        for p in st.preferred_dates:
            day = (p.date - cal.start_date).days
            if p.fixed and day not in days and day not in lost:
                out.append(_v("season_fixed", message(
                    "check_season_fixed", date=p.date.isoformat()), commune_code=code))
    out += _record_violations(plan, served)
    return out


def batch_violations(plan: Plan, state: BatchState) -> list[Violation]:
    """Book batches replayed along the season's trips from where the registry's history puts
    them (``state``): a visit takes back what its commune holds (and lists it so); a batch
    it leaves is at the library, or was taken back earlier on the same trip, or on a trip
    already home; and no commune receives a batch it had before (in the season or its
    history)."""
    out: list[Violation] = []
    holds = {c: set(bs) for c, bs in state.holdings.items()}
    had = {c: set(bs) for c, bs in state.had.items()}
    free_at = dict.fromkeys(state.at_library, -1)  # batch -> when it is back at the library
    on_trip: dict[str, str] = {}  # batch -> trip that took it back and carries it
    visits = sorted((x.start_s, r.key, r.depart_s, r.return_s, x) for r in plan.routes
                    for x in r.visits)
    for _, key, depart_s, return_s, x in visits:
        code = x.commune_code
        held = holds.pop(code, set())
        if set(x.collect_batches) != held:
            out.append(_v("season_batch", message(
                "check_batch_takes_back", taken=batch_ids(x.collect_batches),
                held=batch_ids(held)), key, code))
        for b in held:
            on_trip[b], free_at[b] = key, return_s
        for b in x.deliver_batches:
            ready = on_trip.get(b) == key or (b in free_at and free_at[b] <= depart_s)
            if not ready:
                out.append(_v("season_batch", message("check_batch_elsewhere", batch=b), key,
                              code))
            if b in had.get(code, set()):
                out.append(_v("season_batch", message("check_batch_had", batch=b), key, code))
            free_at.pop(b, None)
            on_trip.pop(b, None)
            holds.setdefault(code, set()).add(b)
            had.setdefault(code, set()).add(b)
    return out


def _record_violations(plan: Plan, served: Mapping[str, list[tuple[int, str]]]
                       ) -> list[Violation]:
    """The ``season`` record lists each trip's visits where the trips make them."""
    if plan.season is None:
        return [_v("season_record", message("check_season_no_record"))]
    out = []
    recorded = {(c.commune_code, v.day, v.trip_id) for c in plan.season.communes
                for v in c.visits if v.trip_id}
    made = {(code, day, key) for code, visits in served.items() for day, key in visits}
    for code, day, key in sorted(made ^ recorded):
        out.append(_v("season_record", message("check_season_record", day=day + 1), key,
                      code))
    return out


def _period_routes(plan: Plan, first: int, days: int) -> list[Route]:
    return [r for r in plan.routes if r.visits and first <= r.depart_s // DAY_S < first + days]


def _renumbered(routes: list[Route], offset_days: int, start: dt.date) -> dict[str, Route]:
    """The period's trips with times from the period's first day and numbered from 1 per
    vehicle, by their season trip id."""
    from planner.plan import numbered_trips
    from planner.season import shifted_trip

    ordered = sorted(routes, key=lambda r: r.depart_s)
    return {r.key: trip for r, trip in zip(ordered, numbered_trips(
        [shifted_trip(r, -offset_days, start) for r in ordered]), strict=True)}


def _shift_days(v: Violation, offset: int, key: str) -> Violation:
    msg = days_later(v.key, v.values, offset)
    return replace(v, message=msg.english(), values=msg.values, vehicle_id=key)


def check_season(scenario: Scenario, plan: Plan, problem_of: ProblemOf) -> list[Violation]:
    """Every violation of a season plan: each period's trips checked by
    :func:`planner.check.check_plan` against the period's scenario (``problem_of`` gives its
    matrices), then the season's rules."""
    from planner.season import Period, period_scenario, season_periods

    cal = season_calendar(scenario)
    out: list[Violation] = []
    placed: set[str] = set()
    for period in season_periods(scenario, cal):
        routes = _period_routes(plan, period.start_day, period.days)
        if not routes:
            continue
        placed |= {r.key for r in routes}
        vehicles = {s.id for r in routes if (s := _vehicle_spec(scenario, r.vehicle_id))}
        visits = {x.commune_code: list(period.day_range) for r in routes for x in r.visits}
        checked = Period(period.start_day, period.days,
                         tuple(v for v in period.vehicles if v in vehicles) or period.vehicles)
        sub = period_scenario(scenario, checked, visits)
        start = sub.horizon.start_date
        trips = _renumbered(routes, period.start_day, start)
        back = {r.key: key for key, r in trips.items()}
        sub_plan = replace(plan, start_date=start, horizon_days=period.days,
                           routes=tuple(trips.values()), unserved=(), season=None,
                           batches=())
        for v in check_plan(sub, problem_of(sub), sub_plan):
            if v.kind in ("missing", "coverage"):
                continue
            out.append(_shift_days(v, period.start_day, back.get(v.vehicle_id, v.vehicle_id)))
    for r in plan.routes:
        if r.visits and r.key not in placed:
            out.append(_v("season_day", message(
                "check_season_no_period", date=cal.date_of(r.depart_s // DAY_S).isoformat()),
                r.key))
    out += season_rule_violations(scenario, plan, cal)
    if scenario.rotation is not None:
        from planner.rotation import load_rotation

        inputs = load_rotation(scenario.rotation, start=scenario.horizon.start_date)
        out += batch_violations(plan, inputs.state)
    return out


def check_any_plan(scenario: Scenario, plan: Plan, problem_of: ProblemOf) -> list[Violation]:
    """What ``planner check`` finds on ``plan``: a season plan (of a season scenario) by
    :func:`check_season`, any other plan by :func:`planner.check.check_plan` against
    ``problem_of(scenario)``."""
    if plan.season is not None and scenario.is_season:
        return check_season(scenario, plan, problem_of)
    return check_plan(scenario, problem_of(scenario), plan)


__all__ = ["batch_violations", "check_any_plan", "check_season", "season_rule_violations"]
