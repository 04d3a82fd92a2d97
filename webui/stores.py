"""The app's stores, registered once per app by :func:`init_app`: the plans of
``RUNS_DIR``, the background jobs of ``JOBS_DIR`` and the basemaps of the printed sheets'
overview maps (loaded once per dataset)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from webui.jobstore import JobStore
from webui.runs import RunStore
from webui.sheetmap import BasemapCache


def init_app(app: Flask) -> None:
    """Create the stores from the app's (already resolved) configuration."""
    app.extensions["mlp.runs"] = RunStore(Path(app.config["RUNS_DIR"]))
    app.extensions["mlp.jobs"] = JobStore(Path(app.config["JOBS_DIR"]),
                                          Path(app.config["RUNS_DIR"]),
                                          max_concurrent=int(app.config["MAX_CONCURRENT_JOBS"]))
    app.extensions["mlp.basemaps"] = BasemapCache()


def run_store() -> RunStore:
    """The plans of the current app."""
    store: RunStore = current_app.extensions["mlp.runs"]
    return store


def job_store() -> JobStore:
    """The background jobs of the current app."""
    store: JobStore = current_app.extensions["mlp.jobs"]
    return store


def basemaps() -> BasemapCache:
    """The basemaps (province outline, main roads) of the current app, by dataset."""
    cache: BasemapCache = current_app.extensions["mlp.basemaps"]
    return cache
