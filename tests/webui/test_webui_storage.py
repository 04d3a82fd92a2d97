"""The database layer (webui.storage) on SQLite and on PostgreSQL: migrations, users, plans,
published versions (numbering, immutability), outcomes, closures, library edits, and
transactions that leave nothing half-written."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from webui_testkit import FIXTURE_DIR

from webui.storage import (
    Database,
    DatabaseConfigError,
    DuplicateError,
    ImmutableError,
    InvalidRecordError,
    RecordNotFoundError,
    normalise_url,
    repository,
)
from webui.storage.db import current_revision, head_revision, upgrade
from webui.storage.models import Base, LoginFailure, PlanRecord, PlanVersion, User

FAST_HASH = "pbkdf2:sha256:1000"
TABLES = {"users", "scenarios", "plans", "plan_versions", "visit_outcomes", "closures",
          "library_edits"}


@pytest.fixture
def db(storage_url: str) -> Iterator[Database]:
    database = Database.from_url(storage_url)
    yield database
    database.dispose()


@pytest.fixture
def plan_text() -> str:
    return (FIXTURE_DIR / "plan.json").read_text(encoding="utf-8")


def _other_series(plan_text: str, name: str) -> str:
    data = json.loads(plan_text)
    data["scenario"]["name"] = name
    return json.dumps(data, ensure_ascii=False)


def _user(db: Database, name: str = "dispatcher", role: str = "dispatcher") -> int:
    with db.begin() as s:
        return repository.create_user(s, username=name, password="password-1", role=role,
                                      hash_method=FAST_HASH).id


def _publish(db: Database, plan_text: str, user_id: int, *, name: str = "run-a",
             routes: bytes | None = None) -> repository.VersionInfo:
    return repository.publish(db, plan_name=name, user_id=user_id, plan_text=plan_text,
                              routes_geojson=routes, folder=f"/runs/{name}")


# --- schema and migrations -----------------------------------------------------------------

def test_migrations_make_every_table_and_match_the_models(db: Database) -> None:
    assert TABLES <= set(inspect(db.engine).get_table_names())
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == [], "models and migrations disagree; write a migration"


def test_upgrade_is_idempotent_and_downgrade_removes_everything(db: Database) -> None:
    upgrade(db.engine)  # a second start changes nothing
    assert current_revision(db.engine) == head_revision()
    from alembic import command

    from webui.storage.db import alembic_config

    cfg = alembic_config(db.engine)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db.engine)
    assert TABLES <= set(inspect(db.engine).get_table_names())


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_database_urls() -> None:
    assert normalise_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgresql://u@h:5433/db") == "postgresql+psycopg://u@h:5433/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:////tmp/a.sqlite3") == "sqlite:////tmp/a.sqlite3"
    with pytest.raises(DatabaseConfigError, match="unsupported database 'mysql'"):
        normalise_url("mysql://u@h/db")
    with pytest.raises(DatabaseConfigError, match="not a database URL"):
        normalise_url("not a url")


# --- users ---------------------------------------------------------------------------------

def test_users_passwords_are_hashed_and_checked(db: Database) -> None:
    _user(db, "lan", "driver")
    with db.begin() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "lan"))
        assert stored and "password-1" not in stored and stored.startswith("pbkdf2:")
        assert repository.authenticate(s, "lan", "password-1").role == "driver"
        assert repository.authenticate(s, "lan", "wrong-password") is None
        assert repository.authenticate(s, "nobody", "password-1") is None
        repository.update_user(s, "lan", active=False)
    with db.begin() as s:
        assert repository.authenticate(s, "lan", "password-1") is None  # switched off
        assert repository.count_users(s) == 1


def test_user_validation(db: Database) -> None:
    _user(db, "lan")
    with pytest.raises(DuplicateError, match="exists already"):
        _user(db, "lan")
    with pytest.raises(InvalidRecordError, match="unknown role 'boss'"):
        _user(db, "minh", "boss")
    with pytest.raises(InvalidRecordError, match="at least 8"):
        with db.begin() as s:
            repository.create_user(s, username="minh", password="short", role="viewer")
    with pytest.raises(InvalidRecordError, match="user name"):
        _user(db, "bad name!")
    with pytest.raises(RecordNotFoundError):
        with db.begin() as s:
            repository.set_password(s, "nobody", "password-2")
    with db.begin() as s:
        assert [u.username for u in repository.list_users(s)] == ["lan"]


def test_the_database_itself_refuses_an_unknown_role(db: Database) -> None:
    with pytest.raises(IntegrityError):
        with db.begin() as s:
            s.add(User(username="x", password_hash="x", role="boss", active=True))
            s.flush()


# --- plans and published versions ----------------------------------------------------------

def test_register_run_is_idempotent_and_follows_changes(db: Database, plan_text: str) -> None:
    with db.begin() as s:
        first = repository.register_run(s, name="run-a", folder="/runs/run-a",
                                        plan_text=plan_text, source_job="aaaaaaaaaaaa")
    with db.begin() as s:
        again = repository.register_run(s, name="run-a", folder="/runs/run-a",
                                        plan_text=plan_text)
        assert again == first
        record = s.get(PlanRecord, first)
        assert record.seed == 0 and record.source_job == "aaaaaaaaaaaa"
        assert record.scenario_name == json.loads(plan_text)["scenario"]["name"]
        assert record.objective == json.loads(plan_text)["provenance"]["objective"]
        old_digest = record.digest
    changed = _other_series(plan_text, "renamed")
    with db.begin() as s:
        assert repository.register_run(s, name="run-a", folder="/runs/run-a",
                                       plan_text=changed) == first
    with db.begin() as s:
        record = s.get(PlanRecord, first)
        assert record.digest != old_digest and record.scenario_name == "renamed"
        assert s.scalar(select(PlanRecord.id).where(PlanRecord.name == "run-b")) is None
    with pytest.raises(InvalidRecordError, match="not a plan file"):
        with db.begin() as s:
            repository.register_run(s, name="run-b", folder=None, plan_text='{"format": "x"}')
    with db.begin() as s:
        assert set(repository.plan_digests(s)) == {"run-a"}


def test_publishing_numbers_versions_per_series(db: Database, plan_text: str) -> None:
    uid = _user(db)
    v1 = _publish(db, plan_text, uid, routes=b'{"type": "FeatureCollection", "features": []}')
    v2 = _publish(db, plan_text, uid)
    other = _publish(db, _other_series(plan_text, "lao-cai-2026"), uid, name="run-b")
    series = json.loads(plan_text)["scenario"]["name"]
    assert (v1.series, v1.number, v2.number) == (series, 1, 2)
    assert (other.series, other.number) == ("lao-cai-2026", 1)
    assert v1.key == f"{series}@v1" and repository.parse_version_key(v1.key) == (series, 1)
    assert v1.published_by == "dispatcher" and v1.published_at.tzinfo is not None
    with db.begin() as s:
        content = repository.version_content(s, v1.id)
        assert content.plan_json == plan_text
        assert content.routes_geojson == b'{"type": "FeatureCollection", "features": []}'
        assert repository.version_content(s, v2.id).routes_geojson is None
        assert [v.number for v in repository.list_versions(s, series=series)] == [2, 1]
        assert repository.find_version(s, series, 2).id == v2.id
        assert repository.latest_version(s).id == other.id
        assert [v.number for v in repository.versions_of_plan(s, "run-a")] == [2, 1]
        with pytest.raises(RecordNotFoundError):
            repository.find_version(s, series, 3)


def test_published_versions_cannot_be_changed(db: Database, plan_text: str,
                                              storage_url: str) -> None:
    uid = _user(db)
    v1 = _publish(db, plan_text, uid)
    with pytest.raises(ImmutableError):
        with db.begin() as s:
            s.get(PlanVersion, v1.id).note = "changed afterwards"
            s.flush()
    with pytest.raises(ImmutableError):
        with db.begin() as s:
            s.delete(s.get(PlanVersion, v1.id))
            s.flush()
    # Not through the ORM either: the database's triggers refuse.
    for statement in ("UPDATE plan_versions SET note = 'x'", "DELETE FROM plan_versions"):
        with pytest.raises(DBAPIError, match="immutable"):
            with db.begin() as s:
                s.execute(text(statement))
    with db.begin() as s:
        content = repository.version_content(s, v1.id)
        assert content.info.note == "" and content.plan_json == plan_text


def test_a_failing_publication_leaves_nothing_written(db: Database, plan_text: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    uid = _user(db)
    v1 = _publish(db, plan_text, uid)
    changed = _other_series(plan_text, json.loads(plan_text)["scenario"]["name"])
    changed = changed.replace('"seed": 0', '"seed": 7')

    def broken(data: bytes | None) -> bytes:
        raise OSError("disk full while freezing the routes")

    monkeypatch.setattr(repository, "_freeze_routes", broken)
    with pytest.raises(OSError, match="disk full"):
        _publish(db, changed, uid, routes=b"{}")
    with db.begin() as s:
        assert [v.id for v in repository.list_versions(s)] == [v1.id]
        record = s.scalar(select(PlanRecord).where(PlanRecord.name == "run-a"))
        assert record.digest == repository.sha256_hex(plan_text)  # not the half-done update
        assert record.seed == 0


def test_an_error_inside_the_unit_of_work_rolls_everything_back(db: Database,
                                                                 plan_text: str) -> None:
    uid = _user(db)
    with pytest.raises(RuntimeError):
        with db.begin() as s:
            repository.publish_plan(s, plan_name="run-a", user_id=uid, plan_text=plan_text)
            repository.create_user(s, username="other", password="password-1", role="viewer",
                                   hash_method=FAST_HASH)
            raise RuntimeError("crash before the commit")
    with db.begin() as s:
        assert repository.list_versions(s) == []
        assert repository.plan_digests(s) == {}
        assert repository.count_users(s) == 1


def test_concurrent_publications_get_distinct_numbers(db: Database, plan_text: str) -> None:
    uid = _user(db)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            numbers.append(_publish(db, plan_text, uid).number)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(numbers) == [1, 2, 3, 4]


# --- outcomes, closures, library edits, scenarios ------------------------------------------

def test_visit_outcomes(db: Database, plan_text: str) -> None:
    uid = _user(db)
    driver = _user(db, "tuan", "driver")
    v1 = _publish(db, plan_text, uid)
    route = next(r for r in json.loads(plan_text)["routes"] if r["visits"])
    vehicle, visit = route["vehicle_id"], route["visits"][0]
    with db.begin() as s:
        repository.record_outcome(s, version_id=v1.id, vehicle_id=vehicle,
                                  stop_seq=visit["seq"], status="failed", note="bridge out",
                                  user_id=driver)
    with db.begin() as s:
        repository.record_outcome(s, version_id=v1.id, vehicle_id=vehicle,
                                  stop_seq=visit["seq"], status="done", user_id=uid)
    with db.begin() as s:
        current = repository.current_outcomes(s, v1.id)
    assert list(current) == [(vehicle, visit["seq"])]
    latest = current[(vehicle, visit["seq"])]
    assert (latest.status, latest.recorded_by, latest.commune_code) == (
        "done", "dispatcher", visit["commune_code"])
    with pytest.raises(RecordNotFoundError, match="no stop 999"):
        with db.begin() as s:
            repository.record_outcome(s, version_id=v1.id, vehicle_id=vehicle, stop_seq=999,
                                      status="done", user_id=uid)
    with pytest.raises(InvalidRecordError, match="outcome 'maybe'"):
        with db.begin() as s:
            repository.record_outcome(s, version_id=v1.id, vehicle_id=vehicle,
                                      stop_seq=visit["seq"], status="maybe", user_id=uid)


def test_closures(db: Database) -> None:
    uid = _user(db)
    line = {"type": "LineString", "coordinates": [[105.3, 23.2], [105.4, 23.25]]}
    with db.begin() as s:
        c = repository.add_closure(s, name="QL.4C Mã Pí Lèng", user_id=uid,
                                   geometry={"type": "Feature", "geometry": line,
                                             "properties": {}},
                                   from_date=dt.date(2026, 6, 1), to_date=dt.date(2026, 6, 5),
                                   note="sạt lở")
    assert c.geometry == line and c.name == "QL.4C Mã Pí Lèng"
    with db.begin() as s:
        assert [x.id for x in repository.list_closures(s, on=dt.date(2026, 6, 3))] == [c.id]
        assert repository.list_closures(s, on=dt.date(2026, 6, 6)) == []
    with pytest.raises(InvalidRecordError, match="ends"):
        with db.begin() as s:
            repository.add_closure(s, name="x", geometry=line, user_id=uid,
                                   from_date=dt.date(2026, 6, 5), to_date=dt.date(2026, 6, 1))
    for bad in ('{"type": "Circle"}', "not json", {"type": "Polygon", "coordinates": []}):
        with pytest.raises(InvalidRecordError, match="geometry"):
            with db.begin() as s:
                repository.add_closure(s, name="x", geometry=bad, user_id=uid,
                                       from_date=dt.date(2026, 6, 1),
                                       to_date=dt.date(2026, 6, 1))


def test_library_edits_are_audited(db: Database) -> None:
    uid = _user(db)
    with db.begin() as s:
        n = repository.record_library_edits(
            s, commune_code="00715", user_id=uid,
            changes=[("phone", None, "0219 3 856 123"), ("lodging", "nhà văn hóa", "nhà văn hóa"),
                     ("lat", "23.36", "23.3612")])
    assert n == 2
    with db.begin() as s:
        history = repository.library_history(s, commune_code="00715")
        assert {(e.field, e.old_value, e.new_value) for e in history} == {
            ("phone", None, "0219 3 856 123"), ("lat", "23.36", "23.3612")}
        assert all(e.edited_by == "dispatcher" and e.edited_at.tzinfo for e in history)
        assert repository.library_history(s, commune_code="00721") == []


def test_scenarios_are_stored_with_their_digest(db: Database) -> None:
    uid = _user(db)
    with db.begin() as s:
        first = repository.save_scenario(s, name="tiny", yaml_text="name: tiny\n", user_id=uid)
    with db.begin() as s:
        second = repository.save_scenario(s, name="tiny", yaml_text="name: tiny2\n",
                                          user_id=uid)
        assert second.id == first.id and second.digest != first.digest
        assert repository.get_scenario(s, "tiny").yaml_text == "name: tiny2\n"
        with pytest.raises(RecordNotFoundError):
            repository.get_scenario(s, "other")


def test_times_come_back_in_utc(db: Database) -> None:
    _user(db)
    with db.begin() as s:
        user = repository.list_users(s)[0]
    assert user.created_at.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - user.created_at) < dt.timedelta(minutes=5)


def test_failed_logins_block_a_name_or_an_address_for_a_while(db: Database) -> None:
    t0 = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
    window = dt.timedelta(minutes=15)

    def blocked(name: str, address: str, at: dt.datetime) -> dt.datetime | None:
        with db.begin() as s:
            return repository.login_blocked(s, name, address, max_per_name=3,
                                            max_per_address=5, window=window, now=at)

    with db.begin() as s:
        for i in range(3):  # one name, three failures a minute apart
            repository.record_login_failure(s, "lan", "10.0.0.1",
                                            now=t0 + dt.timedelta(minutes=i))
    assert blocked("lan", "10.0.0.9", t0 + dt.timedelta(minutes=3)) == t0 + window
    assert blocked("minh", "10.0.0.9", t0 + dt.timedelta(minutes=3)) is None
    assert blocked("lan", "10.0.0.9", t0 + window + dt.timedelta(seconds=1)) is None
    with db.begin() as s:
        for i, name in enumerate(["a", "b"]):  # five failures from one address
            repository.record_login_failure(s, name, "10.0.0.1",
                                            now=t0 + dt.timedelta(minutes=3 + i))
    assert blocked("minh", "10.0.0.1", t0 + dt.timedelta(minutes=5)) == t0 + window
    with db.begin() as s:
        repository.clear_login_failures(s, "lan")  # it logged in
    assert blocked("lan", "10.0.0.9", t0 + dt.timedelta(minutes=5)) is None
    # failures older than a day are dropped when the next one is recorded
    with db.begin() as s:
        repository.record_login_failure(s, "b", "10.0.0.2", now=t0 + dt.timedelta(days=2))
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 1
