"""Where the planner's database is, and its engine, sessions and migrations.

The web UI, its solve workers and the command line open the same database by one rule
(:func:`database_url`): a URL given explicitly, else ``DATABASE_URL`` from the environment,
else the SQLite file ``planner.sqlite3`` in the instance folder (:func:`instance_dir`).
SQLite runs in WAL mode with foreign keys on; a ``postgresql://`` URL is driven by
psycopg 3. Every unit of work is one transaction: ``with db.begin() as session: ...``
commits at the end of the block and rolls everything back if the block raises.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from storage.errors import DatabaseConfigError, DatabaseUnavailableError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQLITE_FILE_NAME = "planner.sqlite3"
SQLITE_BUSY_TIMEOUT_S = 30
DATABASE_URL_ENV = "DATABASE_URL"
INSTANCE_DIR_ENV = "PLANNER_INSTANCE_DIR"


def instance_dir(path: str | Path | None = None, *,
                 environ: Mapping[str, str] | None = None) -> Path:
    """The instance folder (database, secret key, job folders): ``path`` if given, else
    ``PLANNER_INSTANCE_DIR``, else ``instance/`` in the project of a checkout (as Flask
    places an app's instance folder; an installed package uses ``<prefix>/var/webui-instance``
    as Flask does). Not created here."""
    env = os.environ if environ is None else environ
    chosen = path or env.get(INSTANCE_DIR_ENV) or None
    if chosen:
        return Path(chosen).resolve()
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "instance"
    return Path(sys.prefix) / "var" / "webui-instance"


def default_sqlite_url(instance_path: str | Path) -> str:
    """The URL of the default database, ``planner.sqlite3`` in the instance folder."""
    return f"sqlite:///{Path(instance_path).resolve() / SQLITE_FILE_NAME}"


def database_url(url: str | None = None, *, instance_path: str | Path | None = None,
                 environ: Mapping[str, str] | None = None) -> str:
    """The database to open: ``url`` if given, else ``DATABASE_URL`` from the environment,
    else ``planner.sqlite3`` in the instance folder (see :func:`instance_dir`)."""
    env = os.environ if environ is None else environ
    chosen = url or env.get(DATABASE_URL_ENV) or None
    if chosen:
        return str(chosen)
    return default_sqlite_url(instance_dir(instance_path, environ=env))


def normalise_url(url: str) -> str:
    """``url`` with the driver this project uses: ``postgres://`` and ``postgresql://``
    become ``postgresql+psycopg://`` (psycopg 3); SQLite URLs are kept."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseConfigError(f"DATABASE_URL {url!r} is not a database URL ({exc}); "
                                  "use sqlite:///PATH or postgresql://USER@HOST/DB") from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        if parsed.drivername in ("postgres", "postgresql"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    if backend == "sqlite":
        return url
    raise DatabaseConfigError(f"DATABASE_URL {parsed.render_as_string()!r}: unsupported "
                              f"database {backend!r}; use sqlite or postgresql")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own transaction
    # handling would begin too late and break transactional DDL and savepoints).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


READ_ONLY = "mlp_read_only"  # execution option of the connection of Database.read()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock at the start, so a transaction that reads and then
    # writes (such as numbering a new plan version) waits for another writer instead of
    # failing half-way with "database is locked". A unit of work that only reads
    # (Database.read) begins a deferred transaction: in WAL mode it never waits for a writer
    # nor makes one wait, so pages are not queued behind each other's sessions checks.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _private_sqlite_file(path: Path) -> None:
    """Make the SQLite file (and its folder) if missing, readable by its owner only: it
    holds password hashes. SQLite gives its ``-wal`` and ``-shm`` files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            continue


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (see :func:`normalise_url`); SQLite files get their folder."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            # One connection shared by all threads, or each would see its own empty database.
            engine = create_engine(url, poolclass=StaticPool,
                                   connect_args={"check_same_thread": False})
        else:
            _private_sqlite_file(Path(parsed.database))
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration for the migrations shipped in this package (no ini file)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url",
                            engine.url.render_as_string(hide_password=False).replace("%",
                                                                                     "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (all migrations run in one transaction)."""
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@dataclass(frozen=True)
class Database:
    """An engine and its session factory."""

    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def from_url(cls, url: str, *, migrate: bool = True) -> Database:
        """Open the database at ``url`` and (unless ``migrate`` is false) bring its schema
        to the newest migration, so a fresh machine just works."""
        engine = make_engine(url)
        if migrate:
            upgrade(engine)
        return cls(engine, sessionmaker(engine, expire_on_commit=False))

    @property
    def url(self) -> str:
        """The URL without its password, for messages and logs."""
        return self.engine.url.render_as_string(hide_password=True)

    def secret_url(self) -> str:
        """The URL with its password, for a process that opens this database too (passed
        in its environment; never logged or written to a file)."""
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def shareable(self) -> bool:
        """Whether another process can open this database (not an in-memory SQLite)."""
        url = self.engine.url
        in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "",
                                                                              ":memory:")
        return not in_memory

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """One unit of work: a session in a transaction, committed at the end of the block,
        rolled back (leaving nothing written) if it raises. A database that cannot be reached
        or is busy past its timeout raises :class:`DatabaseUnavailableError`."""
        try:
            with self.sessions.begin() as session:
                yield session
        except OperationalError as exc:
            raise DatabaseUnavailableError(f"database {self.url}: {exc.orig}") from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A unit of work that only reads (it must not write): like :meth:`begin`, but on
        SQLite a deferred transaction, which runs beside a writer instead of after it."""
        try:
            with self.sessions.begin() as session:
                session.connection(execution_options={READ_ONLY: True})
                yield session
        except OperationalError as exc:
            raise DatabaseUnavailableError(f"database {self.url}: {exc.orig}") from exc

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str | None = None, *, instance_path: str | Path | None = None,
                  migrate: bool = True) -> Database:
    """Open the database the web UI uses (see :func:`database_url`), migrated to the newest
    schema unless ``migrate`` is false: ``open_database()`` on the command line finds what
    ``python -m webui serve`` stored."""
    return Database.from_url(database_url(url, instance_path=instance_path), migrate=migrate)
