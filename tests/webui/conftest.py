"""Fixtures for the web UI tests: an app over a temporary copy of a real plan folder, with
its own SQLite database, and test clients logged in with a role.

The fixture plan ``data/ha-giang-2026`` is a copy of ``runs/ha-giang-2026`` written by
``planner solve scenarios/ha-giang-2026.yaml`` (two vehicles, twelve communes).

Every page needs a logged-in user, so every Flask test client of these tests is a
:class:`PlannerTestClient`: logged in as a dispatcher unless asked otherwise
(``app.test_client(role="driver")``, ``app.test_client(user=None)`` for an anonymous one),
sending the session's CSRF token with each POST (``csrf=False`` to leave it out); see
``webui_userkit``. Apps that a
test builds itself without a database or instance folder get a temporary one of the test
session (``PLANNER_INSTANCE_DIR``, ``DATABASE_URL``), never the checkout's ``instance/``.

This folder is called ``webui`` like the package under test; putting the project root first
on ``sys.path`` makes ``import webui`` find the package whatever pytest's import mode (see
``tests/geodata/conftest.py``).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parents[1]
for _p in (str(_ROOT), str(_HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from webui_testkit import FIXTURE_DIR, FIXTURE_RUN, FIXTURE_TODAY  # noqa: E402
from webui_userkit import FAST_HASH, PlannerTestClient  # noqa: E402

from planner.plan import Plan, read_plan  # noqa: E402
from webui import create_app  # noqa: E402
from webui.services import services_of  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _test_clients_and_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Logged-in test clients for every app; a temporary instance folder and database for
    apps built without one."""
    instance = tmp_path_factory.mktemp("instance")
    saved = {k: os.environ.get(k) for k in ("PLANNER_INSTANCE_DIR", "DATABASE_URL")}
    os.environ["PLANNER_INSTANCE_DIR"] = str(instance)
    os.environ["DATABASE_URL"] = f"sqlite:///{instance / 'planner.sqlite3'}"
    previous = Flask.test_client_class
    Flask.test_client_class = PlannerTestClient
    try:
        yield
    finally:
        Flask.test_client_class = previous
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def fixture_plan() -> Plan:
    return read_plan(FIXTURE_DIR / "plan.json")


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """A RUNS_DIR holding a fresh copy of the fixture plan (without any map)."""
    runs = tmp_path / "runs"
    shutil.copytree(FIXTURE_DIR, runs / FIXTURE_RUN,
                    ignore=shutil.ignore_patterns("map*.html"))
    return runs


@pytest.fixture
def scenarios_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    return folder


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The app's database: a fresh SQLite file (``storage_url`` of ``tests/conftest.py`` gives
    PostgreSQL too)."""
    return f"sqlite:///{tmp_path / 'planner.sqlite3'}"


@pytest.fixture
def app(runs_dir: Path, scenarios_dir: Path, tmp_path: Path, database_url: str) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "RUNS_DIR": runs_dir, "SCENARIOS_DIR": scenarios_dir,
                      "JOBS_DIR": tmp_path / "jobs", "JOB_REFRESH_S": 1,
                      "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key",
                      "PASSWORD_HASH_METHOD": FAST_HASH,
                      "TODAY": FIXTURE_TODAY},
                     instance_path=tmp_path / "instance")
    yield app
    services_of(app).database.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Logged in as a dispatcher (every permission)."""
    return app.test_client()


@pytest.fixture
def anon_client(app: Flask) -> FlaskClient:
    """Not logged in."""
    return app.test_client(user=None)


@pytest.fixture
def client_as(app: Flask) -> Callable[..., FlaskClient]:
    """``client_as("driver")``: a client logged in as user ``<role>-user`` with that role."""

    def make(role: str, *, csrf: bool = True) -> FlaskClient:
        return app.test_client(user=f"{role}-user", role=role, csrf=csrf)

    return make
