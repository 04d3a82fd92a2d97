"""The app's stores, registered once per app by :func:`init_app`: the database (users,
plans, published versions...; see :mod:`storage`), the plans of ``RUNS_DIR`` and the
published versions (:mod:`webui.planstore`), the background jobs of ``JOBS_DIR`` and the
basemaps of the printed sheets' overview maps (loaded once per dataset)."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app

from render.sheetmap import BasemapCache
from storage import Database, open_database
from webui.jobservice import JobService
from webui.planstore import PUBLISHED_DIR_NAME, PlanStore

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Create the stores from the app's (already resolved) configuration; the database is
    migrated to the newest schema and the plan folders are registered in it."""
    db = open_database(app.config.get("DATABASE_URL"), instance_path=app.instance_path)
    log.info("database %s", db.url)
    app.extensions["mlp.db"] = db
    service = JobService(db, Path(app.config["JOBS_DIR"]), Path(app.config["RUNS_DIR"]),
                         max_concurrent=int(app.config["MAX_CONCURRENT_JOBS"]))
    runs = PlanStore(Path(app.config["RUNS_DIR"]),
                     published_root=Path(app.instance_path) / PUBLISHED_DIR_NAME, database=db)
    app.extensions["mlp.jobs"] = service
    app.extensions["mlp.runs"] = runs
    app.extensions["mlp.basemaps"] = BasemapCache()
    runs.sync()


def database() -> Database:
    """The database of the current app."""
    db: Database = current_app.extensions["mlp.db"]
    return db


def plan_store() -> PlanStore:
    """The plans (plan folders and published versions) of the current app."""
    store: PlanStore = current_app.extensions["mlp.runs"]
    return store


def job_service() -> JobService:
    """The background jobs of the current app."""
    service: JobService = current_app.extensions["mlp.jobs"]
    return service


def basemaps() -> BasemapCache:
    """The basemaps (province outline, main roads) of the current app, by dataset."""
    cache: BasemapCache = current_app.extensions["mlp.basemaps"]
    return cache
