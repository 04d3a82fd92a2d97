"""The web UI's database: SQLAlchemy models (:mod:`.models`), engine, sessions and Alembic
migrations (:mod:`.db`, ``migrations/``) and the operations the pages need
(:mod:`.repository`). Independent of Flask; :mod:`webui.stores` opens it for an app."""

from webui.storage.db import Database, default_sqlite_url, normalise_url
from webui.storage.errors import (
    DatabaseConfigError,
    DuplicateError,
    ImmutableError,
    InvalidRecordError,
    RecordNotFoundError,
    StorageError,
)

__all__ = ["Database", "DatabaseConfigError", "DuplicateError", "ImmutableError",
           "InvalidRecordError", "RecordNotFoundError", "StorageError", "default_sqlite_url",
           "normalise_url"]
