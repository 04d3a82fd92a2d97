"""Calendar feed tokens (made, listed, revoked: a revoked token opens nothing), the published
plans timetables read (the newest version of each series), and the annual report's figures
recomputed here, independently, from the outcome and move records the test writes (on both
databases)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter

import pytest
from storage_testkit import changed, make_user, other_series, publish_version

from planner.batches import Batch, CommuneProfile, Stay
from planner.plan import TZ
from planner.timetable import timetable
from storage import Database, InvalidRecordError, RecordNotFoundError, batches, calendar, plans
from storage.reports import year_report

PRODUCED = dt.datetime(2026, 12, 20, 8, 0, tzinfo=dt.UTC)


def test_feed_tokens_open_their_feed_until_revoked(db: Database) -> None:
    user = make_user(db)
    with db.begin() as s:
        a = calendar.create_token(s, kind="commune", ref="00715", user_id=user, note="UBND xã")
        b = calendar.create_token(s, kind="vehicle", ref="xe-tv-01", user_id=user)
    assert a.token != b.token and len(a.token) >= 32
    with db.begin() as s:
        assert calendar.feed_of(s, a.token) == a
        assert [t.id for t in calendar.tokens(s, kind="commune", ref="00715")] == [a.id]
        revoked = calendar.revoke_token(s, a.id, user_id=user)
    assert not revoked.active
    with db.begin() as s:
        assert calendar.feed_of(s, a.token) is None
        assert calendar.feed_of(s, b.token) is not None
        assert calendar.feed_of(s, "short") is None and calendar.feed_of(s, "") is None
        assert calendar.tokens(s, kind="commune", ref="00715") == []
        assert len(calendar.tokens(s, kind="commune", ref="00715", include_revoked=True)) == 1
        again = calendar.revoke_token(s, a.id, user_id=user)  # revoking again changes nothing
        assert again.revoked_at == revoked.revoked_at
    with pytest.raises(InvalidRecordError, match="feed kind 'road'"), db.begin() as s:
        calendar.create_token(s, kind="road", ref="QL4C", user_id=user)
    with pytest.raises(InvalidRecordError, match="give its commune code"), db.begin() as s:
        calendar.create_token(s, kind="commune", ref="  ", user_id=user)
    with pytest.raises(RecordNotFoundError), db.begin() as s:
        calendar.revoke_token(s, 999, user_id=user)


def test_timetables_read_the_newest_version_of_each_series(db: Database,
                                                           plan_text: str) -> None:
    user = make_user(db)
    publish_version(db, plan_text, user)
    moved = json.loads(changed(plan_text, 5))
    visit = moved["routes"][0]["visits"][0]  # Lũng Cú an hour later in version 2
    for key in ("arrival_s", "start_s", "departure_s"):
        visit[key] += 3600
    publish_version(db, json.dumps(moved, ensure_ascii=False), user)
    publish_version(db, other_series(plan_text, "other-series"), user, name="run-b")
    with db.read() as s:
        every = calendar.published_plans(s)
        newest = calendar.published_plans(s, newest_only=True)
    assert sorted((p.series, p.number) for p in every) == [
        ("ha-giang-2026", 1), ("ha-giang-2026", 2), ("other-series", 1)]
    assert sorted((p.series, p.number) for p in newest) == [("ha-giang-2026", 2),
                                                            ("other-series", 1)]
    visits = timetable(every, commune_code=visit["commune_code"])
    assert [(v.series, v.version) for v in visits] == [("other-series", 1),
                                                       ("ha-giang-2026", 2)]
    assert visits[1].start == dt.datetime(2026, 12, 7, 14, 30, tzinfo=TZ)
    assert visits[0].start == dt.datetime(2026, 12, 7, 13, 30, tzinfo=TZ)


def _rotation_plan(plan_text: str) -> tuple[str, str, int, int, str, str]:
    """The fixture plan whose truck leaves HG-000 at its first stop and HG-001 at its
    second, taking back what each held."""
    data = json.loads(plan_text)
    data["format_version"] = 2
    route = data["routes"][0]
    a, b = route["visits"][0], route["visits"][1]
    a["deliver_batches"], a["collect_batches"] = ["HG-000"], ["HG-002"]
    b["deliver_batches"], b["collect_batches"] = ["HG-001"], []
    route["loading_batches"] = ["HG-000", "HG-001"]
    return (json.dumps(data, ensure_ascii=False), route["vehicle_id"], a["seq"], b["seq"],
            a["commune_code"], b["commune_code"])


def test_annual_report_figures_match_the_records(db: Database, plan_text: str) -> None:
    user = make_user(db)
    text, truck, first, second, a, b = _rotation_plan(plan_text)
    v1 = publish_version(db, text, user)
    v2 = publish_version(db, changed(text, 7), user)  # the same visits, republished
    registry = [Batch("HG-000", 2, ("vie", "hnj"), ("children",), books=120),
                Batch("HG-001", 3, ("vie",), ("adults",), books=None),
                Batch("HG-002", 1, ("hnj",), ("children",), books=50)]
    profiles = [CommuneProfile(a, ("vie", "hnj"), ("children",), 6),
                CommuneProfile(b, ("vie",), ("adults",), 6),
                CommuneProfile("00778", ("vie", "tyz"), ("children", "adults"), 6)]
    with db.begin() as s:
        batches.import_batches(s, registry, user_id=user)
        batches.import_history(s, [Stay("HG-002", a, dt.date(2025, 11, 3))], user_id=user)
        batches.save_profiles(s, profiles, user_id=user)
    # the truck's first two stops with their batches, on version 1
    with db.begin() as s:
        batches.record_trip(s, version_id=v1.id, vehicle_id=truck, returned=False,
                            user_id=user, stops=[
                                batches.StopRecord(first, "done", delivered=("HG-000",),
                                                   collected=("HG-002",)),
                                batches.StopRecord(second, "failed")])
    with db.read() as s:
        plan = plans.parse_plan_text(plans.version_content(s, v2.id).plan_json, file="v2")
    van = plan.routes[1]
    # outcomes as a driver records them, in this order: (version, trip, stop, status)
    records = [(v1, van.key, van.visits[0].seq, "failed"),
               (v2, van.key, van.visits[0].seq, "done"),      # the same visit, done later
               (v2, van.key, van.visits[1].seq, "done"),
               (v2, truck, second, "done"),                   # failed on v1, then done
               (v1, van.key, van.visits[2].seq, "failed")]
    for version, trip, seq, status in records:
        with db.begin() as s:
            plans.record_outcome(s, version_id=version.id, vehicle_id=trip, stop_seq=seq,
                                 status=status, user_id=user)
    with db.read() as s:
        report = year_report(s, 2026, produced_at=PRODUCED)

    # recomputed here from the records: a visit is (commune, date); the last record wins
    commune_of = {(r.key, v.seq): v.commune_code for r in plan.routes for v in r.visits}
    final = {commune_of[(truck, first)]: "done"}
    for _, trip, seq, status in [(v1, truck, second, "failed"), *records]:
        final[commune_of[(trip, seq)]] = status
    statuses = Counter(final.values())
    planned = sum(len(r.visits) for r in plan.routes)
    served = {c for c, st in final.items() if st == "done"}
    assert report.visits_planned == planned == 12
    assert (report.visits_done, report.visits_failed) == (statuses["done"],
                                                          statuses["failed"]) == (4, 1)
    assert report.visits_not_recorded == planned - 5
    assert report.communes_served == len(served)
    assert report.service_area_communes == plan.kpis.service_area_communes == 73
    assert report.coverage == pytest.approx(len(served) / 73)
    needed = {t.year: math.ceil(t.share * 73 - 1e-9) for t in _targets()}
    assert {t.year: (t.needed, t.missing) for t in report.targets} == {
        y: (n, max(0, n - len(served))) for y, n in needed.items()}
    # moves of 2026: HG-000 left at a, HG-002 taken back from it (2025's history is not)
    assert (report.batches_delivered, report.batches_collected) == (1, 1)
    assert (report.books_delivered, report.crates_delivered) == (120, 2)
    rows = {c.code: c for c in report.communes}
    assert (rows[a].done, rows[a].batches_delivered, rows[a].books_delivered) == (1, 1, 120)
    assert (rows[b].done, rows[b].failed) == (1, 0)
    assert rows[a].languages == ("vie", "hnj")
    langs = {g.code: g for g in report.languages}
    assert (langs["hnj"].communes, langs["hnj"].communes_served,
            langs["hnj"].batches_delivered) == (1, 1, 1)
    assert (langs["tyz"].communes, langs["tyz"].communes_served) == (1, 0)
    assert langs["vie"].communes == 3
    assert langs["vie"].communes_served == len({a, b} & served)
    audiences = {g.code: g for g in report.audiences}
    assert audiences["children"].communes == 2
    # the plan's own figures, from the newest version only (not twice)
    assert report.km == pytest.approx(plan.kpis.km)
    assert report.nights_away == plan.kpis.nights_away
    assert report.cost_vnd is None and report.uncosted_plans == 1  # the fixture is uncosted
    assert report.months == ((12, planned, 4, 1),)
    assert report.versions == (v1.key, v2.key)
    with db.read() as s:
        other = year_report(s, 2025, produced_at=PRODUCED)
    assert (other.visits_planned, other.batches_delivered, other.km) == (0, 1, 0)


def _targets():  # type: ignore[no-untyped-def]
    from planner.kpis import PROGRAMME_TARGETS

    return PROGRAMME_TARGETS
