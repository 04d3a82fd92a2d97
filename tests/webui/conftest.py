"""Fixtures for the web UI tests: an app over a temporary copy of a real plan folder.

The fixture plan ``data/ha-giang-2026`` is a copy of ``runs/ha-giang-2026`` written by
``planner solve scenarios/ha-giang-2026.yaml`` (two vehicles, twelve communes).

This folder is called ``webui`` like the package under test; putting the project root first
on ``sys.path`` makes ``import webui`` find the package whatever pytest's import mode (see
``tests/geodata/conftest.py``).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parents[1]
for _p in (str(_ROOT), str(_HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from webui_testkit import FIXTURE_DIR, FIXTURE_RUN  # noqa: E402

from planner.plan import Plan, read_plan  # noqa: E402
from webui import create_app  # noqa: E402


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
def app(runs_dir: Path, scenarios_dir: Path, tmp_path: Path) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "RUNS_DIR": runs_dir, "SCENARIOS_DIR": scenarios_dir,
                      "JOBS_DIR": tmp_path / "jobs", "JOB_REFRESH_S": 1})
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
