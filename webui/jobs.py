"""Background solves: start one from a scenario of ``SCENARIOS_DIR``, follow its progress,
cancel it, open the plan it made. Solving never happens inside a request."""

from __future__ import annotations

import math
import re
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webui.errors import BadRequestError, ConflictError, NotFoundError
from webui.jobstore import JobStatus
from webui.stores import job_store

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SCENARIO_SUFFIXES = (".yaml", ".yml")


def available_scenarios(folder: Path) -> dict[str, Path]:
    """``name -> file`` for the scenario files directly in ``folder``."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.iterdir())
            if p.suffix in SCENARIO_SUFFIXES and p.is_file() and SCENARIO_NAME.match(p.stem)}


def _time_limit(raw: str | None) -> float | None:
    """The optional time limit field: empty, or seconds in 1..MAX_TIME_LIMIT_S."""
    limit = float(current_app.config["MAX_TIME_LIMIT_S"])
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        value = math.nan
    if not (1 <= value <= limit):
        raise BadRequestError(g.tr("bad_time_limit", max=int(limit)))
    return value


def _status(job_id: str) -> JobStatus:
    try:
        return job_store().status(job_id)
    except NotFoundError:
        raise NotFoundError(g.tr("unknown_job", job=job_id)) from None


@bp.get("")
def jobs_page() -> ResponseReturnValue:
    folder = current_app.config["SCENARIOS_DIR"]
    return render_template("jobs.html", scenarios=list(available_scenarios(folder)),
                           scenarios_dir=folder, jobs=job_store().list())


@bp.post("")
def start_job() -> ResponseReturnValue:
    name = request.form.get("scenario", "")
    path = available_scenarios(current_app.config["SCENARIOS_DIR"]).get(name)
    if path is None:
        raise NotFoundError(g.tr("unknown_scenario", name=name))
    job_id = job_store().start(path, scenario_name=name,
                               time_limit_s=_time_limit(request.form.get("time_limit_s")))
    return redirect(url_for("jobs.job_page", job_id=job_id), code=303)


@bp.get("/<job_id>")
def job_page(job_id: str) -> ResponseReturnValue:
    return render_template("job.html", job=_status(job_id),
                           refresh_s=int(current_app.config["JOB_REFRESH_S"]))


@bp.get("/<job_id>/status.json")
def job_status_json(job_id: str) -> ResponseReturnValue:
    job = _status(job_id)
    return jsonify({"id": job.id, "scenario": job.scenario, "status": job.status,
                    "stage": job.stage, "elapsed_s": round(job.elapsed_s, 1),
                    "best_objective": job.best_objective, "improvements": len(job.progress),
                    "run": job.run, "error": job.error,
                    "plan_url": url_for("plans.plan_page", run=job.run) if job.run else None})


@bp.post("/<job_id>/cancel")
def cancel_job(job_id: str) -> ResponseReturnValue:
    _status(job_id)
    try:
        job_store().cancel(job_id)
    except ConflictError:
        raise ConflictError(g.tr("job_not_running", job=job_id)) from None
    return redirect(url_for("jobs.job_page", job_id=job_id), code=303)
