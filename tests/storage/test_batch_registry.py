"""The book-batch registry in the database: imports that write nothing when a row is bad,
where each batch is from its moves, a trip recorded as its crew ticked it, corrections,
profiles with their audit trail, exports that read back as the same tables, and moves that
are only ever added (on both databases)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from storage_testkit import make_user, publish_version

from planner.batches import (
    Batch,
    CommuneProfile,
    Stay,
    Title,
    read_batches,
    read_profiles,
    read_stays,
    read_titles,
)
from planner.batchmoves import LIBRARY, Move, Place
from planner.plan import TZ
from render.exports import csv_table
from storage import Database, ImmutableError, InvalidRecordError, batches, plans
from storage.models import BatchMove

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=TZ)


def _registry(n: int = 4) -> list[Batch]:
    return [Batch(f"HG-{i:03d}", 1 + i % 2, ("vie", "hnj") if i % 2 else ("vie",),
                  ("children",), title=f"Lô {i}") for i in range(n)]


def _with_batches(plan_text: str) -> tuple[str, str, list[int], str, str]:
    """The fixture plan with the first trip leaving HG-000 at its first stop and taking back
    HG-001, which is handed on to its second stop, whose HG-002 comes back."""
    data = json.loads(plan_text)
    data["format_version"] = 2
    route = data["routes"][0]
    a, b = route["visits"][0], route["visits"][1]
    a["deliver_batches"], a["collect_batches"] = ["HG-000"], ["HG-001"]
    b["deliver_batches"], b["collect_batches"] = ["HG-001"], ["HG-002"]
    route["loading_batches"] = ["HG-000"]
    return (json.dumps(data, ensure_ascii=False), route["vehicle_id"], [a["seq"], b["seq"]],
            a["commune_code"], b["commune_code"])


def test_import_adds_updates_and_keeps_title_lists(db: Database) -> None:
    user = make_user(db)
    with db.begin() as s:
        report = batches.import_batches(s, _registry(), [Title("HG-001", "Dế Mèn",
                                                               "9786042123456", "Tô Hoài")],
                                        user_id=user)
        assert (report.added, report.updated, report.titles) == (4, 0, 1)
    changed = [*_registry(3), Batch("HG-003", 3, ("tyz",), ())]
    with db.begin() as s:
        report = batches.import_batches(s, changed, user_id=user)
        assert (report.added, report.updated, report.unchanged) == (0, 1, 3)
        assert batches.get_batch(s, "HG-003").languages == ("tyz",)
        assert [t.title for t in batches.titles(s, "HG-001")] == ["Dế Mèn"]
    with pytest.raises(batches.BatchRecordError, match="not a batch of the registry"), \
            db.begin() as s:
        batches.import_batches(s, [Batch("HG-100", 1, ("vie",), ())],
                               [Title("HG-999", "Không có")], user_id=user)
    with db.begin() as s:  # nothing of the refused import was written
        assert "HG-100" not in {b.batch_id for b in batches.registry(s)}


def test_where_each_batch_is_comes_from_its_history(db: Database) -> None:
    user = make_user(db)
    history = [Stay("HG-000", "00715", dt.date(2025, 3, 1), dt.date(2025, 9, 1)),
               Stay("HG-000", "00778", dt.date(2025, 9, 1)),
               Stay("HG-001", "00715", dt.date(2025, 9, 1))]
    with db.begin() as s:
        batches.import_batches(s, _registry(), user_id=user)
        assert batches.import_history(s, history, user_id=user) == 4
    with db.begin() as s:
        ledger = batches.ledger(s)
        assert ledger.problems == ()
        assert ledger.where["HG-000"] == Place("commune", "00778")
        assert ledger.where["HG-002"] == LIBRARY
        assert set(ledger.stays) == set(history)
        # a second history for batches that have moves is refused, and nothing is written
        with pytest.raises(batches.BatchRecordError, match="already has recorded moves"):
            batches.import_history(s, [Stay("HG-000", "01108", dt.date(2026, 1, 1))],
                                   user_id=user)
    broken = [Stay("HG-002", "00715", dt.date(2025, 1, 1)),
              Stay("HG-002", "00778", dt.date(2025, 2, 1))]  # never collected from 00715
    with pytest.raises(batches.BatchRecordError, match="HG-002"), db.begin() as s:
        batches.import_history(s, broken, user_id=user)
    with db.begin() as s:
        assert batches.ledger(s).where["HG-002"] == LIBRARY


def test_a_move_from_where_the_batch_is_not_is_refused(db: Database) -> None:
    user = make_user(db)
    with db.begin() as s:
        batches.import_batches(s, _registry(), user_id=user)
        c = Place("commune", "00715")
        batches.record_moves(s, [Move("HG-000", LIBRARY, c, T0)], kind="correction",
                             user_id=user, note="found at the commune")
        with pytest.raises(batches.BatchRecordError, match="HG-001 is at library"):
            batches.record_moves(s, [Move("HG-001", c, LIBRARY, T0)], kind="correction",
                                 user_id=user)
        history = batches.move_history(s, batch_id="HG-000")
        assert [(m.kind, m.note, m.recorded_by) for m in history] == [
            ("correction", "found at the commune", "dispatcher")]


def test_a_recorded_trip_moves_its_batches_and_writes_its_outcomes(db: Database,
                                                                   plan_text: str) -> None:
    user = make_user(db)
    text_, vehicle, (first, second), a, b = _with_batches(plan_text)
    version = publish_version(db, text_, user)
    with db.begin() as s:
        batches.import_batches(s, _registry(), user_id=user)
        batches.import_history(s, [Stay("HG-001", a, dt.date(2026, 1, 5)),
                                   Stay("HG-002", b, dt.date(2026, 1, 5))], user_id=user)
    stops = [batches.StopRecord(first, "done", "ok", delivered=("HG-000",),
                                collected=("HG-001",)),
             batches.StopRecord(second, "done", delivered=("HG-001",), collected=(),
                                missing=("HG-002",))]
    with db.begin() as s:
        report = batches.record_trip(s, version_id=version.id, vehicle_id=vehicle,
                                     stops=stops, returned=True, user_id=user)
    assert (report.outcomes, report.moves, report.missing) == (2, 4, 1)
    with db.begin() as s:
        ledger = batches.ledger(s)
        assert ledger.problems == ()
        assert ledger.where["HG-000"] == Place("commune", a)
        assert ledger.where["HG-001"] == Place("commune", b)  # handed on
        assert ledger.where["HG-002"] == Place("commune", b)  # missing: still where recorded
        assert ledger.where["HG-003"] == LIBRARY
        outcomes = plans.current_outcomes(s, version.id)
        assert outcomes[(vehicle, first)].status == "done"
        moves = batches.move_history(s, commune_code=b)
        assert {m.kind for m in moves} >= {"trip", "missing"}
        assert all(m.version_key == version.key for m in moves if m.kind != "import")
    with db.begin() as s:  # recording the same ticks again moves nothing
        again = batches.record_trip(s, version_id=version.id, vehicle_id=vehicle,
                                    stops=stops[:1], returned=True, user_id=user)
        assert again.moves == 0
    with pytest.raises(batches.BatchRecordError, match="not a batch of this stop"), \
            db.begin() as s:
        batches.record_trip(s, version_id=version.id, vehicle_id=vehicle, returned=False,
                            stops=[batches.StopRecord(first, delivered=("HG-003",))],
                            user_id=user)


def test_profiles_are_kept_with_an_audit_trail_and_tables_read_back(db: Database) -> None:
    from storage.libraries import library_history

    user = make_user(db)
    with db.begin() as s:
        batches.import_batches(s, _registry(), [Title("HG-000", "Truyện cổ", "", "")],
                               user_id=user)
        batches.import_history(s, [Stay("HG-001", "00715", dt.date(2025, 3, 1))],
                               user_id=user)
        assert batches.save_profiles(s, [CommuneProfile("00715", ("vie", "hnj"),
                                                        ("children",), 3)], user_id=user) == 1
        assert batches.save_profiles(s, [CommuneProfile("00715", ("vie", "hnj"),
                                                        ("children",), 3)], user_id=user) == 0
        batches.save_profiles(s, [CommuneProfile("00715", ("hnj",), ("children",), 3)],
                              user_id=user)
        edits = library_history(s, commune_code="00715")
        assert any(e.field == "profile.languages" and e.new_value == "hnj" for e in edits)
        tables = batches.export_tables(s)
        registry, profiles = batches.registry(s), batches.profiles(s)
    assert read_batches(csv_table(tables["batches"])) == registry
    assert read_profiles(csv_table(tables["profiles"])) == profiles
    assert read_stays(csv_table(tables["history"])) == (
        Stay("HG-001", "00715", dt.date(2025, 3, 1)),)
    assert read_titles(csv_table(tables["titles"])) == (Title("HG-000", "Truyện cổ"),)


def test_recorded_moves_cannot_be_changed_by_any_client(db: Database) -> None:
    user = make_user(db)
    with db.begin() as s:
        batches.import_batches(s, _registry(1), user_id=user)
        batches.record_moves(s, [Move("HG-000", LIBRARY, Place("commune", "00715"), T0)],
                             kind="correction", user_id=user)
    with pytest.raises(ImmutableError), db.begin() as s:
        s.scalars(select(BatchMove)).one().note = "changed"
    with pytest.raises(DBAPIError), db.begin() as s:
        s.execute(text("UPDATE batch_moves SET note = 'changed'"))
    with pytest.raises(DBAPIError), db.begin() as s:
        s.execute(text("DELETE FROM batch_moves"))
    with pytest.raises(InvalidRecordError), db.begin() as s:
        batches.record_moves(s, [], kind="missing", user_id=user)
