"""The planner's database, below the web UI and the command line: what they keep beyond plan
folders, one module per concept, each function taking the caller's session.

- :mod:`.db`: where the database is (:func:`open_database`: ``DATABASE_URL``, else SQLite
  in the instance folder), engine, sessions (one transaction per unit of work) and the
  Alembic migrations of ``migrations/``; :mod:`.models`: the tables;
- :mod:`.users`: users, passwords, roles, failed logins;
- :mod:`.fleet`: the library's vehicles (under the ids scenarios give them) and the users
  tied to each;
- :mod:`.sessions`: logged-in sessions of the web UI, ended on the server;
- :mod:`.scenarios`: scenarios uploaded or edited in the UI;
- :mod:`.plans`: registered plan folders, published versions, visit outcomes;
- :mod:`.libraries`: edited values of commune libraries and their history;
- :mod:`.closures`: road closures;
- :mod:`.jobs`: background solve jobs, as their workers report them;
- :mod:`.sweeps`: sweeps of scenario variants, fleet sizings and region runs, with results;
- :mod:`.calendar`: the revocable tokens of calendar feeds, and the published plans that
  timetables read;
- :mod:`.reports`: the records of the annual report (outcomes, batch moves).

Independent of Flask: ``storage`` may use :mod:`planner`, never ``webui``, ``render`` or
``cli``.
"""

from storage.db import Database, database_url, default_sqlite_url, normalise_url, open_database
from storage.errors import (
    DatabaseConfigError,
    DatabaseUnavailableError,
    DuplicateError,
    ImmutableError,
    InvalidRecordError,
    RecordNotFoundError,
    StorageError,
)

__all__ = ["Database", "DatabaseConfigError", "DatabaseUnavailableError", "DuplicateError",
           "ImmutableError", "InvalidRecordError", "RecordNotFoundError", "StorageError",
           "database_url", "default_sqlite_url", "normalise_url", "open_database"]
