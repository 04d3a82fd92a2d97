"""Plans: registered plan folders, published versions (numbering per series, immutability,
publications that fail or race) and visit outcomes."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from storage_testkit import changed, make_user, other_series, publish_version

from storage import Database, ImmutableError, InvalidRecordError, RecordNotFoundError, plans
from storage.digest import sha256_hex
from storage.models import PlanRecord, PlanVersion


def test_register_plan_is_idempotent_and_follows_changes(db: Database, plan_text: str) -> None:
    with db.begin() as s:
        first = plans.register_plan(s, name="run-a", folder="/runs/run-a",
                                    plan_text=plan_text, source_job="aaaaaaaaaaaa")
    with db.begin() as s:
        again = plans.register_plan(s, name="run-a", folder="/runs/run-a",
                                    plan_text=plan_text)
        assert again == first
        record = s.get(PlanRecord, first)
        assert record.seed == 0 and record.source_job == "aaaaaaaaaaaa"
        assert record.scenario_name == json.loads(plan_text)["scenario"]["name"]
        assert record.objective == json.loads(plan_text)["provenance"]["objective"]
        old_digest = record.digest
    changed = other_series(plan_text, "renamed")
    with db.begin() as s:
        assert plans.register_plan(s, name="run-a", folder="/runs/run-a",
                                   plan_text=changed) == first
    with db.begin() as s:
        record = s.get(PlanRecord, first)
        assert record.digest != old_digest and record.scenario_name == "renamed"
        assert s.scalar(select(PlanRecord.id).where(PlanRecord.name == "run-b")) is None
    with pytest.raises(InvalidRecordError, match="not a plan file"), db.begin() as s:
        plans.register_plan(s, name="run-b", folder=None, plan_text='{"format": "x"}')
    with db.begin() as s:
        assert set(plans.plan_digests(s)) == {"run-a"}


def test_publishing_numbers_versions_per_series(db: Database, plan_text: str) -> None:
    uid = make_user(db)
    empty = b'{"type": "FeatureCollection", "features": []}'
    v1 = publish_version(db, plan_text, uid, routes=empty)
    v2 = publish_version(db, changed(plan_text, 1), uid)
    other = publish_version(db, other_series(plan_text, "lao-cai-2026"), uid, name="run-b")
    series = json.loads(plan_text)["scenario"]["name"]
    assert (v1.series, v1.number, v2.number) == (series, 1, 2)
    assert (other.series, other.number) == ("lao-cai-2026", 1)
    assert v1.key == f"{series}@v1" and plans.parse_version_key(v1.key) == (series, 1)
    assert v1.published_by == "dispatcher" and v1.published_at.tzinfo is not None
    with db.begin() as s:
        content = plans.version_content(s, v1.id)
        assert content.plan_json == plan_text
        assert content.routes_geojson == empty
        assert plans.version_content(s, v2.id).routes_geojson is None
        assert [v.number for v in plans.list_versions(s, series=series)] == [2, 1]
        assert plans.find_version(s, series, 2).id == v2.id
        assert plans.latest_version(s).id == other.id
        assert [v.number for v in plans.versions_of_plan(s, "run-a")] == [2, 1]
        with pytest.raises(RecordNotFoundError):
            plans.find_version(s, series, 3)
    # the newest version's plan published again unchanged is that version: no identical v3
    assert publish_version(db, changed(plan_text, 1), uid).id == v2.id
    assert publish_version(db, plan_text, uid).number == 3  # an older version's plan is new


def test_published_versions_cannot_be_changed(db: Database, plan_text: str,
                                              storage_url: str) -> None:
    uid = make_user(db)
    v1 = publish_version(db, plan_text, uid)
    with pytest.raises(ImmutableError), db.begin() as s:
        s.get(PlanVersion, v1.id).note = "changed afterwards"
        s.flush()
    with pytest.raises(ImmutableError), db.begin() as s:
        s.delete(s.get(PlanVersion, v1.id))
        s.flush()
    # Not through the ORM either: the database's triggers refuse.
    for statement in ("UPDATE plan_versions SET note = 'x'", "DELETE FROM plan_versions"):
        with pytest.raises(DBAPIError, match="immutable"), db.begin() as s:
            s.execute(text(statement))
    with db.begin() as s:
        content = plans.version_content(s, v1.id)
        assert content.info.note == "" and content.plan_json == plan_text


def test_a_failing_publication_leaves_nothing_written(db: Database, plan_text: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    uid = make_user(db)
    v1 = publish_version(db, plan_text, uid)
    changed = other_series(plan_text, json.loads(plan_text)["scenario"]["name"])
    changed = changed.replace('"seed": 0', '"seed": 7')

    def broken(data: bytes | None) -> bytes:
        raise OSError("disk full while freezing the routes")

    monkeypatch.setattr(plans, "_freeze_routes", broken)
    with pytest.raises(OSError, match="disk full"):
        publish_version(db, changed, uid, routes=b"{}")
    with db.begin() as s:
        assert [v.id for v in plans.list_versions(s)] == [v1.id]
        record = s.scalar(select(PlanRecord).where(PlanRecord.name == "run-a"))
        assert record.digest == sha256_hex(plan_text)  # not the half-done update
        assert record.seed == 0


def test_concurrent_publications_get_distinct_numbers(db: Database, plan_text: str) -> None:
    uid = make_user(db)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def publish(n: int) -> None:
        try:
            numbers.append(publish_version(db, changed(plan_text, n), uid).number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(numbers) == [1, 2, 3, 4]


def test_visit_outcomes(db: Database, plan_text: str) -> None:
    uid = make_user(db)
    driver = make_user(db, "tuan", "driver")
    v1 = publish_version(db, plan_text, uid)
    route = next(r for r in json.loads(plan_text)["routes"] if r["visits"])
    vehicle, visit = route["vehicle_id"], route["visits"][0]
    with db.begin() as s:
        plans.record_outcome(s, version_id=v1.id, vehicle_id=vehicle,
                             stop_seq=visit["seq"], status="failed", note="bridge out",
                             user_id=driver)
    with db.begin() as s:
        plans.record_outcome(s, version_id=v1.id, vehicle_id=vehicle,
                             stop_seq=visit["seq"], status="done", user_id=uid)
    with db.begin() as s:
        current = plans.current_outcomes(s, v1.id)
    assert list(current) == [(vehicle, visit["seq"])]
    latest = current[(vehicle, visit["seq"])]
    assert (latest.status, latest.recorded_by, latest.commune_code) == (
        "done", "dispatcher", visit["commune_code"])
    with pytest.raises(RecordNotFoundError, match="no stop 999"), db.begin() as s:
        plans.record_outcome(s, version_id=v1.id, vehicle_id=vehicle, stop_seq=999,
                             status="done", user_id=uid)
    with pytest.raises(InvalidRecordError, match="outcome 'maybe'"), db.begin() as s:
        plans.record_outcome(s, version_id=v1.id, vehicle_id=vehicle,
                             stop_seq=visit["seq"], status="maybe", user_id=uid)
