"""Alembic environment of the planner's database.

Run by :func:`storage.db.upgrade` (which hands over an open connection in
``config.attributes["connection"]``) or by the ``alembic`` command with ``-x url=...``
or ``sqlalchemy.url`` set, e.g. to write a new migration::

    alembic -c storage/alembic.ini -x url=sqlite:///instance/planner.sqlite3 \\
        revision --autogenerate -m "what changed"
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    # SQLite's DDL is transactional too (storage.db makes it issue BEGIN itself): a
    # failed migration leaves the schema as it was.
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=sqlite, compare_type=True,
                      transactional_ddl=True if sqlite else None)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or \
        config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or \
        config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database with -x url=... (or sqlalchemy.url)")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
