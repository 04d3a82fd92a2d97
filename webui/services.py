"""The web UI's per-app objects, registered once in ``app.extensions`` by :func:`init_app`
and reached through typed accessors: the database (:mod:`storage`), the plan store
(:mod:`webui.planstore`), the job service (:mod:`webui.jobservice`), the basemaps of the
printed sheets' overview maps (loaded once per dataset), the cache of drawn files
(:mod:`webui.derived`). No other module puts objects in
``app.extensions``; blueprints and template helpers are registered by their own modules.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from planner.plan import TZ
from render.sheetmap import BasemapCache
from storage import Database, open_database
from webui.derived import DerivedCache
from webui.jobservice import JobService
from webui.planstore import PUBLISHED_DIR_NAME, PlanStore

log = logging.getLogger(__name__)

EXTENSION = "mlp"


@dataclass(frozen=True)
class Services:
    """Everything one app keeps beyond a request."""

    database: Database
    plans: PlanStore
    jobs: JobService
    basemaps: BasemapCache
    derived: DerivedCache


def init_app(app: Flask) -> Services:
    """Create the app's objects from its (already resolved) configuration and register
    them; the database is migrated to the newest schema and the plan folders are registered
    in it."""
    db = open_database(app.config.get("DATABASE_URL"), instance_path=app.instance_path)
    log.info("database %s", db.url)
    runs_dir = Path(app.config["RUNS_DIR"])
    services = Services(
        database=db,
        plans=PlanStore(runs_dir, published_root=Path(app.instance_path) / PUBLISHED_DIR_NAME,
                        database=db),
        jobs=JobService(db, Path(app.config["JOBS_DIR"]), runs_dir,
                        max_concurrent=int(app.config["MAX_CONCURRENT_JOBS"])),
        basemaps=BasemapCache(),
        derived=DerivedCache(Path(app.instance_path) / "cache" / "derived",
                             max_bytes=int(float(app.config["DERIVED_CACHE_MAX_MB"]) * 1e6)))
    app.extensions[EXTENSION] = services
    services.plans.sync()
    return services


def services_of(app: Flask) -> Services:
    """The objects of ``app`` (outside a request too: commands, tests)."""
    services: Services = app.extensions[EXTENSION]
    return services


def database() -> Database:
    """The database of the current app."""
    return services_of(current_app).database


def plan_store() -> PlanStore:
    """The plans (plan folders and published versions) of the current app."""
    return services_of(current_app).plans


def job_service() -> JobService:
    """The background jobs of the current app."""
    return services_of(current_app).jobs


def derived_files() -> DerivedCache:
    """The cache of drawn files (PDFs, sheet maps, exports) of the current app."""
    return services_of(current_app).derived


def today() -> dt.date:
    """Today for the current app: its ``TODAY`` setting, else the date in Vietnam."""
    fixed: dt.date | None = current_app.config.get("TODAY")
    return fixed or dt.datetime.now(TZ).date()


def basemaps() -> BasemapCache:
    """The basemaps (province outline, main roads) of the current app, by dataset."""
    return services_of(current_app).basemaps
