"""The annual report's visit rule, as a property: whatever outcomes are recorded, on whichever
version of a series and in whatever order, each visit counts once with its latest outcome, and
planned = done + failed + not recorded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.plan import read_plan
from planner.timetable import PublishedPlan
from planner.yearreport import RecordedOutcome, annual_report

PLAN = read_plan(Path(__file__).resolve().parents[1] / "webui" / "data" / "ha-giang-2026"
                 / "plan.json")
STOPS = [(r.key, v.seq, v.commune_code) for r in PLAN.routes for v in r.visits]
T0 = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2), st.sampled_from(range(len(STOPS))),
                          st.sampled_from(["done", "failed"])), max_size=30))
def test_each_visit_counts_once_with_its_latest_outcome(records: list) -> None:
    plans = [PublishedPlan(PLAN.scenario_name, n, PLAN) for n in (1, 2)]
    outcomes = [RecordedOutcome(PLAN.scenario_name, version, STOPS[i][0], STOPS[i][1],
                                STOPS[i][2], status, T0 + dt.timedelta(minutes=k))
                for k, (version, i, status) in enumerate(records)]
    report = annual_report(2026, plans=plans, outcomes=outcomes[::-1], moves=(), registry=(),
                           profiles={}, produced_at=T0)
    latest = {STOPS[i][2]: status for _, i, status in records}
    assert report.visits_planned == len(STOPS)
    assert report.visits_done == sum(1 for s in latest.values() if s == "done")
    assert report.visits_failed == sum(1 for s in latest.values() if s == "failed")
    assert report.visits_not_recorded == len(STOPS) - len(latest)
    assert report.communes_served == report.visits_done  # each commune is visited once
    assert sum(c.planned for c in report.communes) == report.visits_planned
    assert report.km == PLAN.kpis.km  # the newest version's figures, not both
    assert {t.year: t.missing for t in report.targets} == {
        t.year: max(0, t.needed - report.communes_served) for t in report.targets}
    assert not [r for r in annual_report(2025, plans=plans, outcomes=outcomes, moves=(),
                                         registry=(), profiles={}, produced_at=T0).communes]
