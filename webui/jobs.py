"""Background solves: start one from a scenario (a file of ``SCENARIOS_DIR`` or one stored
in the database), follow its progress, cancel it, open the plan it made. Solving never
happens inside a request. Every page reads the jobs from the database, where their workers
report (see :mod:`webui.jobservice`), so the list outlives the job folders."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from planner.solution import SolverParameterError, parse_time_limit
from storage.jobs import JobInfo
from webui.auth import current_user
from webui.errors import BadRequestError, ConflictError, NotFoundError
from webui.scenariostore import ScenarioSources, UnknownScenarioError
from webui.services import database, job_service

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def scenario_sources() -> ScenarioSources:
    """The scenarios of the current app: the files of ``SCENARIOS_DIR`` and the database's."""
    return ScenarioSources(Path(current_app.config["SCENARIOS_DIR"]), database())


def time_limit_field(raw: str | None) -> float | None:
    """The optional time limit field (``time_limit_s``) of a solve or re-plan form: empty,
    or seconds in 1..MAX_TIME_LIMIT_S by the command line's rule
    (:func:`planner.solution.parse_time_limit`); a 400 naming the field, the value and the
    fix otherwise."""
    limit = float(current_app.config["MAX_TIME_LIMIT_S"])
    if raw is None or not raw.strip():
        return None
    try:
        return parse_time_limit(raw, minimum=1, maximum=limit)
    except SolverParameterError:
        raise BadRequestError(g.tr("edit_invalid", field="time_limit_s", value=raw.strip()[:40],
                                   detail=g.tr("bad_time_limit", max=int(limit)))) from None


def _status(job_id: str) -> JobInfo:
    """The job from the database, or a 404 page naming it."""
    try:
        return job_service().status(job_id)
    except NotFoundError:
        raise NotFoundError(g.tr("unknown_job", job=job_id)) from None


@bp.get("")
def jobs_page() -> ResponseReturnValue:
    folder = current_app.config["SCENARIOS_DIR"]
    return render_template("jobs.html", scenarios=scenario_sources().names(),
                           scenarios_dir=folder,
                           jobs=job_service().list())


@bp.post("")
def start_job() -> ResponseReturnValue:
    name = request.form.get("scenario", "")
    time_limit_s = time_limit_field(request.form.get("time_limit_s"))
    user = current_user()
    try:
        job_id = job_service().start_solve(scenario_sources(), name,
                                           user_id=user.id if user else None,
                                           time_limit_s=time_limit_s,
                                           worker_reports_problems=True)
    except UnknownScenarioError:
        raise NotFoundError(g.tr("unknown_scenario", name=name)) from None
    return redirect(url_for("jobs.job_page", job_id=job_id), code=303)


@bp.get("/<job_id>")
def job_page(job_id: str) -> ResponseReturnValue:
    """The job's page; followed by its own refresh (``?follow=1``) when the job is done, the
    plan it made."""
    job = _status(job_id)
    if request.args.get("follow") and job.status == "done" and job.plan_name:
        return redirect(url_for("plans.plan_page", run=job.plan_name), code=303)
    return render_template("job.html", job=job,
                           refresh_s=int(current_app.config["JOB_REFRESH_S"]))


@bp.get("/<job_id>/status.json")
def job_status_json(job_id: str) -> ResponseReturnValue:
    job = _status(job_id)
    plan = job.plan_name
    return jsonify({"id": job.job_id, "scenario": job.scenario_name, "status": job.status,
                    "stage": job.stage, "elapsed_s": round(job.elapsed_s, 1),
                    "best_objective": job.best_objective, "improvements": len(job.progress),
                    "served": job.best_served, "cost_vnd": job.best_cost_vnd,
                    "run": plan, "error": job.error,
                    "plan_url": url_for("plans.plan_page", run=plan) if plan else None})


@bp.post("/<job_id>/cancel")
def cancel_job(job_id: str) -> ResponseReturnValue:
    _status(job_id)
    try:
        job_service().cancel(job_id)
    except ConflictError:
        raise ConflictError(g.tr("job_not_running", job=job_id)) from None
    return redirect(url_for("jobs.job_page", job_id=job_id), code=303)
