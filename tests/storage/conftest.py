"""Fixtures of the storage tests: a freshly migrated database of each kind (SQLite, and
PostgreSQL under ``tests/pg/with-postgres.sh``; see ``storage_url`` in ``tests/conftest.py``)
and the text of a real plan.

This folder is called ``storage`` like the package under test; putting the project root
first on ``sys.path`` makes ``import storage`` find the package whatever pytest's import mode
(see ``tests/geodata/conftest.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parents[1]
for _p in (str(_ROOT), str(_HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from storage_testkit import PLAN_FILE  # noqa: E402

from storage import Database  # noqa: E402


@pytest.fixture
def db(storage_url: str) -> Iterator[Database]:
    database = Database.from_url(storage_url)
    yield database
    database.dispose()


@pytest.fixture
def plan_text() -> str:
    """The ``plan.json`` of the web UI tests' fixture plan (two vehicles, twelve communes)."""
    return PLAN_FILE.read_text(encoding="utf-8")
