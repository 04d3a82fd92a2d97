"""The app's stores, registered once per app by :func:`init_app`: the database (users,
plans, published versions...; see :mod:`storage`), the plans of ``RUNS_DIR`` and the
published versions (:class:`PlanStore`), the background jobs of ``JOBS_DIR`` and the
basemaps of the printed sheets' overview maps (loaded once per dataset)."""

from __future__ import annotations

import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from storage import Database, InvalidRecordError, RecordNotFoundError, jobs, open_database, plans
from storage.digest import sha256_hex
from storage.plans import parse_version_key
from webui.errors import NotFoundError
from webui.jobservice import JobService
from webui.runs import RunStore, RunSummary
from render.sheetmap import BasemapCache

log = logging.getLogger(__name__)

PUBLISHED_DIR_NAME = "published"


@dataclass(frozen=True)
class PlanStore(RunStore):
    """The plan folders of ``root`` (``RUNS_DIR``) and, under names ``<series>@v<N>``, the
    published versions of the database.

    A version's frozen files are written once to ``published_root/<version id>/`` (and
    written again if that copy no longer matches the version's digest), so the plan page,
    sheets, PDFs, maps and exports read a published version exactly as they read a run
    folder. Run folder names cannot contain ``@``, so the two never clash.
    """

    published_root: Path
    database: Database

    def folder(self, name: str) -> Path:
        key = parse_version_key(name)
        if key is None:
            return super().folder(name)
        return self._version_folder(*key)

    def _version_folder(self, series: str, number: int) -> Path:
        try:
            with self.database.begin() as s:
                info = plans.find_version(s, series, number)
                folder = self.published_root / str(info.id)
                if _copy_is_current(folder, info.digest):
                    return folder
                content = plans.version_content(s, info.id)
        except RecordNotFoundError:
            raise NotFoundError(f"unknown plan {series}@v{number}") from None
        _write_version_folder(folder, content)
        return folder

    def summaries(self) -> list[RunSummary]:
        """The plan list; every readable run folder is registered in the database."""
        out = super().summaries()
        self.sync()
        return out

    def sync(self) -> int:
        """Register new or changed run folders in the database (idempotent), with the job
        that made them if it is still known. Returns how many records were written."""
        with self.database.begin() as s:
            known = plans.plan_digests(s)
        written = 0
        made_by: dict[str, str] | None = None
        for name in self.names():
            folder = super().folder(name)
            try:
                text = (folder / "plan.json").read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if known.get(name) == (sha256_hex(text), str(folder)):
                continue
            try:
                with self.database.begin() as s:
                    if made_by is None:
                        made_by = jobs.plans_made_by_jobs(s)
                    plans.register_plan(s, name=name, folder=str(folder), plan_text=text,
                                        source_job=made_by.get(name))
                written += 1
            except InvalidRecordError as exc:
                log.debug("not registering %s: %s", folder, exc)
        return written


def _copy_is_current(folder: Path, digest: str) -> bool:
    try:
        return sha256_hex((folder / "plan.json").read_bytes()) == digest
    except OSError:
        return False


def _write_version_folder(folder: Path, content: plans.VersionContent) -> None:
    """Write a version's frozen files to ``folder`` in one step (a temporary folder renamed
    into place), so readers never see half a copy."""
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.tmp")
    tmp.mkdir(parents=True)
    try:
        (tmp / "plan.json").write_text(content.plan_json, encoding="utf-8")
        if content.routes_geojson is not None:
            (tmp / "routes.geojson").write_bytes(content.routes_geojson)
        if content.scenario_json is not None:
            (tmp / "scenario.json").write_text(content.scenario_json, encoding="utf-8")
        if folder.exists():
            stale = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.stale")
            folder.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        tmp.rename(folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not _copy_is_current(folder, sha256_hex(content.plan_json)):
            raise


def init_app(app: Flask) -> None:
    """Create the stores from the app's (already resolved) configuration; the database is
    migrated to the newest schema and the run folders are registered in it."""
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


def run_store() -> PlanStore:
    """The plans (run folders and published versions) of the current app."""
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
