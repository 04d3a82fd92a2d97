"""Shared fixtures: every test gets its own cache folder so nothing leaks between runs, and the
database tests (``tests/storage``, ``tests/webui``) get an empty database of each kind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "scenarios" / "ha-giang-2026.yaml"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                    request: pytest.FixtureRequest) -> None:
    # tests that build the real Hà Giang graph share one session cache (seconds, not minutes)
    if "shared_cache" in request.fixturenames:
        return
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    # datasets imported without --out-dir go to the user data folder: a fresh one per test
    monkeypatch.setenv("PLANNER_DATA_DIR", str(tmp_path_factory.mktemp("user-data")))


@pytest.fixture(scope="session")
def shared_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared-cache")


@pytest.fixture
def shared_cache(shared_cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(shared_cache_dir))
    return shared_cache_dir


def _empty_postgresql(url: str) -> None:
    """Drop everything in the test database's ``public`` schema (tables, triggers...)."""
    from sqlalchemy import create_engine, text

    from storage import normalise_url

    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def _worker_database(url: str) -> str:
    """Under pytest-xdist (``make test`` runs the suite on every core) each worker empties
    and fills a database of its own on the one server: ``<database>_<worker>``, made on first
    use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from sqlalchemy import create_engine, make_url, text

    from storage import normalise_url

    base = make_url(normalise_url(url))
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a SQLite file, and the PostgreSQL database of
    ``TEST_DATABASE_URL`` (started by ``tests/pg/with-postgres.sh``, which ``make test``
    uses), emptied before and after the test. Without it the PostgreSQL cases are skipped,
    except under ``CI=true``, where they fail."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'storage.sqlite3'}"
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        message = ("TEST_DATABASE_URL is not set: run the tests with "
                   "tests/pg/with-postgres.sh (make test does) to test PostgreSQL")
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    url = _worker_database(url)
    _empty_postgresql(url)
    yield url
    _empty_postgresql(url)
