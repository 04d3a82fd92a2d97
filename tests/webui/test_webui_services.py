"""The app's per-app objects: registered by one ``init_app``, reached through typed accessors,
and the database found by the same rule as the command line's (``storage.open_database``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from webui_userkit import FAST_HASH

from render.sheetmap import BasemapCache
from storage import open_database, users
from webui import create_app
from webui.jobservice import JobService
from webui.planstore import PlanStore
from webui.services import (
    Services,
    basemaps,
    database,
    job_service,
    plan_store,
    services_of,
)


def test_one_init_app_registers_every_per_app_object(app: Flask) -> None:
    services = services_of(app)
    assert list(app.extensions.values()) == [services] and isinstance(services, Services)
    assert isinstance(services.plans, PlanStore) and isinstance(services.jobs, JobService)
    assert isinstance(services.basemaps, BasemapCache)
    assert services.plans.root == app.config["RUNS_DIR"]
    assert services.jobs.root == app.config["JOBS_DIR"]
    assert services.plans.database is services.jobs.database is services.database
    with app.app_context():
        assert database() is services.database and plan_store() is services.plans
        assert job_service() is services.jobs and basemaps() is services.basemaps


def test_the_app_and_the_command_line_open_the_same_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PLANNER_INSTANCE_DIR", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "RUNS_DIR": tmp_path / "runs",
                      "SCENARIOS_DIR": tmp_path / "scenarios", "SECRET_KEY": "test"})
    db = services_of(app).database
    try:
        assert app.instance_path == str((tmp_path / "instance").resolve())
        with db.begin() as s:
            users.create_user(s, username="lan", password="password-1", role="driver",
                              hash_method=FAST_HASH)
    finally:
        db.dispose()
    cli_db = open_database()  # what `planner report` will do, with the same environment
    try:
        assert cli_db.url == db.url
        with cli_db.begin() as s:
            assert [u.username for u in users.list_users(s)] == ["lan"]
    finally:
        cli_db.dispose()


@pytest.mark.parametrize("value", ["7/12/2026", "tomorrow", "2026-13-01"])
def test_a_bad_today_setting_names_the_setting_and_the_fix(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match=r"setting TODAY: .* YYYY-MM-DD"):
        create_app({"TESTING": True, "RUNS_DIR": tmp_path / "runs", "TODAY": value,
                    "SCENARIOS_DIR": tmp_path / "scenarios", "SECRET_KEY": "test",
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
                   instance_path=tmp_path / "instance")
