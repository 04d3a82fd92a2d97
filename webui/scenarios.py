"""Scenario pages: list the scenarios (the files of ``SCENARIOS_DIR`` and those stored in the
database), show one (a readable summary and its YAML), upload a YAML file, edit the main
parameters in a form (vehicles, solver time limit, communes served), validate with the
command line's own problems, and start a solve.

The UI never writes into ``SCENARIOS_DIR``: uploads and edits are stored in the database
(see :mod:`webui.scenariostore`), with who and when. Editing a file scenario saves a new
stored scenario that ``extends:`` the file by name and replaces the edited parts. Solves
go through :mod:`webui.jobservice`: the job gets the resolved scenario with the edited
values of the communes' libraries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from geodata.datasets import load_dataset
from geodata.errors import GeodataError
from planner.errors import Problem, ScenarioError
from planner.inputlimits import load_yaml
from planner.scenario import SCENARIO_LIMITS, Scenario
from storage import fleet, scenarios
from storage.fleet import FleetGaps
from webui.auth import current_user, requires
from webui.communes import dataset_records
from webui.errors import BadRequestError, NotFoundError
from webui.jobs import scenario_sources, time_limit_field
from webui.scenariostore import (
    SCENARIO_NAME,
    InvalidScenarioError,
    ScenarioEntry,
    UnknownScenarioError,
    database_label,
    scenario_yaml,
)
from webui.services import database, job_service

log = logging.getLogger(__name__)

bp = Blueprint("scenarios", __name__, url_prefix="/scenarios")

DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024
UPLOAD_FIELD = "file"
VEHICLE_FIELDS = ("count", "capacity_crates", "shift.start", "shift.end",
                  "max_driving_hours_per_day")
NEW_STOP_FIELDS = ("deliver_crates", "collect_crates", "service_minutes")


@dataclass(frozen=True)
class CommuneChoice:
    """A commune of the scenario's dataset in the form's list of stops."""

    code: str
    name: str
    checked: bool
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class ListedScenario:
    entry: ScenarioEntry
    scenario: Scenario | None
    error: str | None


def _entry(name: str) -> ScenarioEntry:
    try:
        return scenario_sources().get(name)
    except UnknownScenarioError:
        raise NotFoundError(g.tr("scen_unknown", name=name)) from None


def _user_id() -> int | None:
    user = current_user()
    return user.id if user is not None else None


def cli_text(problems: Sequence[Problem]) -> str:
    """The problems as ``planner validate`` prints them."""
    return f"error: {ScenarioError(list(problems))}"


def by_field(problems: Sequence[Problem]) -> dict[str, list[Problem]]:
    out: dict[str, list[Problem]] = {}
    for p in problems:
        out.setdefault(p.field, []).append(p)
    return out


def value_text(value: Any) -> str:
    """A problem's value as the command line shows it."""
    return repr(value) if value is not None else "(missing)"


def _communes(network: str) -> list[tuple[str, str]]:
    """``(code, name)`` of the communes of dataset ``network`` (empty if it cannot be read)."""
    try:
        communes, _ = dataset_records(load_dataset(network))
    except (GeodataError, OSError) as exc:
        log.warning("scenario form: dataset %r unreadable: %s", network, exc)
        return []
    return sorted((str(r["commune_code"]), str(r["name"])) for r in communes)


def _commune_names(network: str) -> dict[str, str]:
    return dict(_communes(network))


def _fleet_gaps(scenario: Scenario | None) -> FleetGaps | None:
    """The vehicles ``scenario`` names that the stored fleet lacks or keeps retired (a
    warning on its pages: the scenario still solves)."""
    if scenario is None:
        return None
    with database().read() as s:
        return fleet.fleet_gaps(s, scenario)


def _load(entry: ScenarioEntry) -> tuple[Scenario | None, list[Problem]]:
    """The scenario (with the problems of the full check, if any; the summary still shows
    when only the dataset check fails)."""
    sources = scenario_sources()
    try:
        return sources.load(entry), []
    except ScenarioError as exc:
        problems = exc.problems
    try:
        return sources.load(entry, check_data=False), problems
    except ScenarioError:
        return None, problems


# --- list and upload ---------------------------------------------------------------------

def _listing() -> list[ListedScenario]:
    sources = scenario_sources()
    out = []
    for entry in sources.entries():
        try:
            out.append(ListedScenario(entry, sources.load(entry, check_data=False), None))
        except ScenarioError as exc:
            out.append(ListedScenario(entry, None, str(exc)))
    return out


def _list_page(*, problems: Sequence[Problem] = (), status: int = 200,
               upload_name: str = "") -> ResponseReturnValue:
    return render_template("scenarios.html", scenarios=_listing(), problems=problems,
                           cli=cli_text(problems) if problems else "", upload_name=upload_name,
                           scenarios_dir=current_app.config["SCENARIOS_DIR"],
                           max_upload_kb=_max_upload_bytes() // 1024,
                           value_text=value_text), status


def _max_upload_bytes() -> int:
    return int(current_app.config.get("SCENARIO_MAX_BYTES") or DEFAULT_MAX_UPLOAD_BYTES)


@bp.get("")
@requires("scenarios")
def scenarios_page() -> ResponseReturnValue:
    return _list_page()


def _name_problems(name: str, label: str, *, current: str | None,
                   replace: bool) -> list[Problem]:
    """Whether ``name`` can be stored: a plain name, not a file's, not another stored
    scenario's unless replacing it is asked for."""
    if not SCENARIO_NAME.match(name):
        return [Problem(label, "name", name, g.tr("scen_bad_name"), g.tr("scen_bad_name_fix"))]
    sources = scenario_sources()
    if name in sources.files():
        return [Problem(label, "name", name, g.tr("scen_name_is_file"),
                        g.tr("scen_name_taken_fix"))]
    if name != current and not replace and sources.exists(name):
        return [Problem(label, "name", name, g.tr("scen_name_stored"),
                        g.tr("scen_name_stored_fix"))]
    return []


def _declared_name(text: bytes) -> str | None:
    """The ``name:`` a scenario text declares, if it can be read."""
    try:
        data = load_yaml(text, SCENARIO_LIMITS)
    except (yaml.YAMLError, ValueError):  # syntax, limits, encoding: the validator says which
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


@bp.post("/upload")
@requires("scenarios")
def upload() -> ResponseReturnValue:
    limit = _max_upload_bytes()
    upload_file = request.files.get(UPLOAD_FIELD)
    if upload_file is None or not upload_file.filename:
        raise BadRequestError(g.tr("scen_no_file"))
    data = upload_file.stream.read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge(g.tr("scen_too_large", kb=limit // 1024))
    if not data.strip():
        raise BadRequestError(g.tr("scen_empty_file"))
    label = secure_filename(upload_file.filename) or "upload.yaml"
    try:
        scenario = scenario_sources().check_text(data, label=label, name=_declared_name(data))
    except ScenarioError as exc:
        return _list_page(problems=exc.problems, status=422, upload_name=label)
    problems = _name_problems(scenario.name, label, current=None,
                              replace=request.form.get("replace") == "1")
    if problems:
        return _list_page(problems=problems, status=422, upload_name=label)
    with database().begin() as s:
        scenarios.save_scenario(s, name=scenario.name, yaml_text=data.decode("utf-8"),
                                user_id=_user_id())
    log.info("scenario %s uploaded from %s (user id %s)", scenario.name, label, _user_id())
    return redirect(url_for("scenarios.scenario_page", name=scenario.name), code=303)


# --- one scenario ------------------------------------------------------------------------

def _view(entry: ScenarioEntry, *, problems: Sequence[Problem] | None = None,
          status: int = 200) -> ResponseReturnValue:
    scenario, found = _load(entry)
    problems = found if problems is None else problems
    names = _commune_names(scenario.network) if scenario else {}
    return render_template("scenario.html", entry=entry, scenario=scenario, problems=problems,
                           cli=cli_text(problems) if problems else "", names=names,
                           value_text=value_text, fleet_gaps=_fleet_gaps(scenario),
                           max_time_limit=int(current_app.config["MAX_TIME_LIMIT_S"])), status


@bp.get("/<name>")
@requires("scenarios")
def scenario_page(name: str) -> ResponseReturnValue:
    return _view(_entry(name))


@bp.get("/<name>/yaml")
@requires("scenarios")
def scenario_yaml_file(name: str) -> ResponseReturnValue:
    entry = _entry(name)
    return Response(entry.yaml_text, mimetype="text/yaml; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{entry.name}.yaml"'})


@bp.post("/<name>/solve")
@requires("solve")
def solve(name: str) -> ResponseReturnValue:
    entry = _entry(name)
    time_limit_s = time_limit_field(request.form.get("time_limit_s"))
    try:
        job_id = job_service().start_solve(scenario_sources(), entry.name, user_id=_user_id(),
                                           time_limit_s=time_limit_s)
    except InvalidScenarioError as exc:
        return _view(entry, problems=exc.problems, status=422)
    return redirect(url_for("jobs.job_page", job_id=job_id), code=303)


# --- the form ----------------------------------------------------------------------------

def _form_value(text: str | None) -> Any:
    """A number where the text is one (``7,5`` too), else the text as typed, so the schema
    reports it like a wrong value in a file."""
    if text is None:
        return None
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text.replace(",", ".") if kind is float else text)
        except ValueError:
            continue
    return text


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def edited_mapping(entry: ScenarioEntry, scenario: Scenario, form: Mapping[str, Any],
                   checked: Sequence[str], *, save_as: str) -> dict[str, Any]:
    """The scenario mapping the form describes: the stored scenario's own fields (or, for
    a file, ``extends:`` that file) with the edited vehicles, time limit and stops."""
    if entry.stored:
        own = load_yaml(entry.yaml_text, SCENARIO_LIMITS)  # checked when it was stored
        data: dict[str, Any] = dict(own) if isinstance(own, dict) else {}
    else:
        data = {"extends": entry.name}
    data["name"] = save_as
    title = form.get("title")
    if title is not None and title.strip() != scenario.title:
        data["title"] = title.strip()
    vehicles = []
    for i, vehicle in enumerate(scenario.vehicles):
        v = _dump(vehicle)
        shift = {**vehicle.shift.model_dump(mode="json", exclude_defaults=True),
                 "start": vehicle.shift.start.strftime("%H:%M"),
                 "end": vehicle.shift.end.strftime("%H:%M")}
        for key in VEHICLE_FIELDS:
            raw = form.get(f"vehicles[{i}].{key}")
            if raw is None:
                continue
            if key.startswith("shift."):
                shift[key.split(".", 1)[1]] = raw.strip()
            else:
                v[key] = _form_value(raw)
        v["shift"] = shift
        vehicles.append(v)
    data["vehicles"] = vehicles
    limit = form.get("solver.time_limit_s")
    if limit is not None:
        solver = dict(data.get("solver") or {}) if entry.stored else {}
        solver["time_limit_s"] = _form_value(limit)
        data["solver"] = solver
    existing = {st.commune_code: st for st in scenario.stops}
    wanted = set(checked)
    stops = [_dump(st) for st in scenario.stops if st.commune_code in wanted]
    for code in sorted(wanted - set(existing)):
        stop: dict[str, Any] = {"commune_code": code}
        for key in NEW_STOP_FIELDS:
            raw = form.get(f"new_stop.{key}")
            if raw is not None and raw.strip():
                stop[key] = _form_value(raw)
        stops.append(stop)
    data["stops"] = stops
    return data


def _form_page(entry: ScenarioEntry, scenario: Scenario, *, form: Mapping[str, Any] | None,
               checked: Sequence[str] | None, problems: Sequence[Problem] = (),
               stop_codes: Sequence[str] = (), valid: bool = False,
               fleet_gaps: FleetGaps | None = None, status: int = 200) -> ResponseReturnValue:
    wanted = set(checked if checked is not None else (s.commune_code for s in scenario.stops))
    per_stop: dict[str, list[Problem]] = {}
    for p in problems:
        if p.field.startswith("stops["):
            index = p.field[6:].split("]", 1)[0]
            if index.isdigit() and int(index) < len(stop_codes):
                per_stop.setdefault(stop_codes[int(index)], []).append(p)
    communes = [CommuneChoice(code, name, code in wanted, tuple(per_stop.get(code, ())))
                for code, name in _communes(scenario.network)]
    suggested = entry.name if entry.stored else f"{entry.name}-web"
    defaults = _new_stop_defaults(scenario)
    return render_template(
        "scenario_edit.html", entry=entry, scenario=scenario, form=form or {},
        communes=communes, problems=problems, fields=by_field(problems),
        cli=cli_text(problems) if problems else "", valid=valid, value_text=value_text,
        save_as=(form or {}).get("save_as", suggested), new_stop=defaults,
        fleet_gaps=fleet_gaps), status


def _new_stop_defaults(scenario: Scenario) -> dict[str, int]:
    """What a newly ticked commune gets unless the form says otherwise: the most common
    values of the scenario's stops."""
    def common(values: list[int], default: int) -> int:
        return max(set(values), key=values.count) if values else default

    stops = scenario.stops
    return {"deliver_crates": common([s.deliver_crates for s in stops], 5),
            "collect_crates": common([s.collect_crates for s in stops], 5),
            "service_minutes": common([s.service_minutes for s in stops], 60)}


@bp.get("/<name>/edit")
@requires("scenarios")
def edit_page(name: str) -> ResponseReturnValue:
    entry = _entry(name)
    scenario, problems = _load(entry)
    if scenario is None:
        return _view(entry, problems=problems, status=422)
    return _form_page(entry, scenario, form=None, checked=None, problems=problems)


@bp.post("/<name>/edit")
@requires("scenarios")
def edit(name: str) -> ResponseReturnValue:
    entry = _entry(name)
    scenario, problems = _load(entry)
    if scenario is None:
        return _view(entry, problems=problems, status=422)
    form = request.form
    checked = [c for c in form.getlist("stop") if isinstance(c, str)]
    save_as = (form.get("save_as") or "").strip() if not entry.stored else entry.name
    label = database_label(save_as or entry.name)
    data = edited_mapping(entry, scenario, form, checked, save_as=save_as)
    stop_codes = [s["commune_code"] for s in data["stops"]]
    text = scenario_yaml(data)
    edited: Scenario | None = None
    try:
        edited = scenario_sources().check_text(text, label=label, name=save_as)
        problems = []
    except ScenarioError as exc:
        problems = list(exc.problems)
    if not problems and form.get("action") == "save":
        problems = _name_problems(save_as, label, current=entry.name if entry.stored else None,
                                  replace=False)
    if problems:
        return _form_page(entry, scenario, form=form, checked=checked, problems=problems,
                          stop_codes=stop_codes, status=422)
    if form.get("action") != "save":
        return _form_page(entry, scenario, form=form, checked=checked, valid=True,
                          fleet_gaps=_fleet_gaps(edited))
    with database().begin() as s:
        scenarios.save_scenario(s, name=save_as, yaml_text=text, user_id=_user_id())
    log.info("scenario %s saved from the form (from %s)", save_as, entry.name)
    return redirect(url_for("scenarios.scenario_page", name=save_as), code=303)
