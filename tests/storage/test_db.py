"""The database itself on SQLite and on PostgreSQL: migrations that match the models, where
the database is (``DATABASE_URL``, else SQLite in the instance folder), URLs, units of work
that leave nothing half-written, and times in UTC."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from storage_testkit import FAST_HASH, ROOT, make_user

from storage import (
    Database,
    DatabaseConfigError,
    database_url,
    normalise_url,
    open_database,
    plans,
    users,
)
from storage.db import alembic_config, current_revision, head_revision, instance_dir, upgrade
from storage.models import Base

TABLES = {"users", "scenarios", "plans", "plan_versions", "visit_outcomes", "closures",
          "library_edits", "library_overrides", "jobs", "login_failures"}


def test_migrations_make_every_table_and_match_the_models(db: Database) -> None:
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == [], "models and migrations disagree; write a migration"


def test_upgrade_is_idempotent_and_downgrade_removes_everything(db: Database) -> None:
    upgrade(db.engine)  # a second start changes nothing
    assert current_revision(db.engine) == head_revision()
    cfg = alembic_config(db.engine)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db.engine)
    assert set(inspect(db.engine).get_table_names()) >= TABLES


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


def test_where_the_database_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PLANNER_INSTANCE_DIR", raising=False)
    assert instance_dir() == ROOT / "instance"  # a checkout's, as the web UI has always had
    assert instance_dir(tmp_path / "given") == (tmp_path / "given").resolve()
    assert database_url() == f"sqlite:///{ROOT / 'instance' / 'planner.sqlite3'}"
    monkeypatch.setenv("PLANNER_INSTANCE_DIR", str(tmp_path / "inst"))
    assert instance_dir() == (tmp_path / "inst").resolve()
    assert database_url() == f"sqlite:///{(tmp_path / 'inst').resolve() / 'planner.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql://planner@db.example/planner")
    assert database_url() == "postgresql://planner@db.example/planner"
    assert database_url("sqlite:////srv/given.sqlite3") == "sqlite:////srv/given.sqlite3"


def test_open_database_finds_what_another_process_stored(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PLANNER_INSTANCE_DIR", str(tmp_path / "inst"))
    first = open_database()  # made and migrated on first use
    make_user(first, "lan")
    first.dispose()
    assert (tmp_path / "inst" / "planner.sqlite3").is_file()
    again = open_database(migrate=False)
    with again.begin() as s:
        assert [u.username for u in users.list_users(s)] == ["lan"]
    assert current_revision(again.engine) == head_revision()
    again.dispose()
    with pytest.raises(DatabaseConfigError, match="unsupported database 'mysql'"):
        open_database("mysql://u@h/db")


def test_an_error_inside_the_unit_of_work_rolls_everything_back(db: Database,
                                                                 plan_text: str) -> None:
    uid = make_user(db)
    with pytest.raises(RuntimeError), db.begin() as s:
        plans.publish_plan(s, plan_name="run-a", user_id=uid, plan_text=plan_text)
        users.create_user(s, username="other", password="password-1", role="viewer",
                          hash_method=FAST_HASH)
        raise RuntimeError("crash before the commit")
    with db.begin() as s:
        assert plans.list_versions(s) == []
        assert plans.plan_digests(s) == {}
        assert users.count_users(s) == 1


def test_times_come_back_in_utc(db: Database) -> None:
    make_user(db)
    with db.begin() as s:
        user = users.list_users(s)[0]
    assert user.created_at.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - user.created_at) < dt.timedelta(minutes=5)
