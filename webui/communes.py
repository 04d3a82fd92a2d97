"""Communes and libraries: the communes of a dataset with their library point, searchable with
or without diacritics, and whether a scenario serves them; each commune library's page shows
its values and their history, and lets a dispatcher (permission ``edit``) move the library on
a small offline map (drag the marker) and change its contact, opening hours, market days and
lodging.

The dataset is the one the chosen scenario plans on (``?scenario=NAME`` among the scenarios
of ``SCENARIOS_DIR`` and the database; by default the scenario of the newest plan). Commune
points are the published seat or centroid points of the 2025 units, so a commune library
placed there is flagged as approximate until someone places it; the dataset's
``libraries.csv`` adds the libraries it knows (the provincial library, with its precision).

Edited values are kept in the database (``library_overrides``, every change also in
``library_edits`` with who and when) and applied to a scenario's stops whenever the web UI
solves it (see :mod:`planner.libraries`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from geodata.datasets import Dataset, known_datasets, load_dataset
from geodata.errors import GeodataError
from planner.batches import AUDIENCES, languages
from planner.errors import PlannerError, Problem, ScenarioError
from planner.libraries import LibraryValues, check_library_values
from planner.scenario import WEEKDAYS, Scenario, Stop, parse_scenario
from storage import InvalidRecordError, StorageError, libraries, plans
from storage.libraries import LibraryOverrideInfo
from webui.auth import can, current_user, requires
from webui.errors import NotFoundError, UnreadablePlanError
from webui.scenariostore import ScenarioSources, UnknownScenarioError
from webui.services import database, plan_store
from webui.textsearch import fold_vietnamese, matches_field, query_terms

log = logging.getLogger(__name__)

bp = Blueprint("communes", __name__, url_prefix="/communes")

DEFAULT_DATASET = "ha_giang"
MAX_QUERY_CHARS = 200
# A library point this close to the library (km) is taken as exact.
EXACT_WITHIN_KM = 0.1


@dataclass(frozen=True)
class LibraryPoint:
    """Where a library is taken to be, and how well that is known."""

    name: str
    lon: float
    lat: float
    approximate: bool
    precision_km: float | None  # None: unknown (a commune centre)
    method: str  # how the point was found (from the dataset, in English)


@dataclass(frozen=True)
class CommuneRow:
    """One commune of the dataset as the page shows it."""

    code: str
    name: str
    kind: str  # "Xã" or "Phường"
    district: str  # former district, when the dataset records it
    province: str
    population: int | None
    area_km2: float | None
    predecessors: str  # the pre-2025 units merged into it
    library: LibraryPoint  # the commune library's point
    other_libraries: tuple[LibraryPoint, ...]  # libraries.csv entries in the commune
    stop: Stop | None  # the scenario's stop here, if any
    depots: tuple[str, ...]  # names of the scenario's depots placed in the commune
    search_fields: tuple[str, ...]  # folded code, names, district, each former unit
    edited: LibraryOverrideInfo | None = None  # the library's edited values, if any

    @property
    def in_scenario(self) -> bool:
        return self.stop is not None


@dataclass(frozen=True)
class ScenarioChoice:
    """The scenario the page compares with: its name, and it or why it cannot be read."""

    name: str
    scenario: Scenario | None
    error: str | None = None


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _number(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


@functools.lru_cache(maxsize=8)
def _dataset_records(path: str, stamp: tuple[float, ...]
                     ) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    """The communes and libraries tables of the dataset at ``path`` as plain records, read
    once per version of the files (``stamp``: their modification times)."""
    dataset = load_dataset(path)
    communes = dataset.communes.drop(columns="geometry", errors="ignore")
    return (tuple(communes.to_dict("records")),
            tuple(dataset.libraries.to_dict("records")))


def dataset_records(dataset: Dataset) -> tuple[tuple[dict[str, Any], ...],
                                               tuple[dict[str, Any], ...]]:
    stamp = tuple((dataset.path / n).stat().st_mtime for n in ("communes.parquet",
                                                                  "libraries.csv"))
    return _dataset_records(str(dataset.path), stamp)


def _library_point(rec: Mapping[str, Any]) -> LibraryPoint:
    precision = _number(rec.get("location_precision_km"))
    return LibraryPoint(name=_text(rec.get("name")), lon=float(rec["lon"]), lat=float(rec["lat"]),
                        approximate=precision is None or precision > EXACT_WITHIN_KM,
                        precision_km=precision, method=_text(rec.get("location_method")))


def commune_rows(communes: Sequence[Mapping[str, Any]], libraries: Sequence[Mapping[str, Any]],
                 scenario: Scenario | None, *,
                 edited: Mapping[str, LibraryOverrideInfo] | None = None
                 ) -> tuple[CommuneRow, ...]:
    """The page's rows, in the dataset's order (commune code); a library placed by hand
    (``edited``) is at its edited point."""
    edited = edited or {}
    libs: dict[str, list[LibraryPoint]] = {}
    for rec in libraries:
        libs.setdefault(_text(rec.get("commune_2025_code")), []).append(_library_point(rec))
    stops = {s.commune_code: s for s in scenario.stops} if scenario else {}
    depots: dict[str, list[str]] = {}
    for d in scenario.depots if scenario else ():
        if d.commune_code:
            depots.setdefault(d.commune_code, []).append(d.name)
    rows = []
    for rec in communes:
        code = _text(rec.get("commune_code"))
        name = _text(rec.get("name"))
        district = _text(rec.get("district") or rec.get("former_district"))
        predecessors = _text(rec.get("predecessor_units"))
        population = _number(rec.get("population"))
        centre = library_point(rec, edited.get(code))
        rows.append(CommuneRow(
            code=code, name=name, kind=_text(rec.get("type")), district=district,
            province=_text(rec.get("province_2025")),
            population=int(population) if population is not None else None,
            area_km2=_number(rec.get("area_km2")), predecessors=predecessors,
            library=centre, other_libraries=tuple(libs.get(code, ())),
            stop=stops.get(code), depots=tuple(depots.get(code, ())), edited=edited.get(code),
            search_fields=tuple(fold_vietnamese(f) for f in (
                code, name, _text(rec.get("short_name")), district,
                *predecessors.split(","), *(lib.name for lib in libs.get(code, ())))
                if f.strip())))
    return tuple(sorted(rows, key=lambda r: r.code))


def filter_rows(rows: Sequence[CommuneRow], query: str, *, only_in_scenario: bool = False
                ) -> list[CommuneRow]:
    """The rows with a field (name, code, former unit...) holding every word of ``query``
    (diacritics and case ignored)."""
    terms = query_terms(query)
    return [r for r in rows if matches_field(terms, r.search_fields)
            and (r.in_scenario or not only_in_scenario)]


def library_point(rec: Mapping[str, Any], edited: LibraryOverrideInfo | None) -> LibraryPoint:
    """Where the commune library of dataset record ``rec`` is: its edited point, else the
    commune's point (approximate)."""
    name = _text(rec.get("name"))
    if edited is not None and edited.values.lon is not None and edited.values.lat is not None:
        return LibraryPoint(name=name, lon=edited.values.lon, lat=edited.values.lat,
                            approximate=False, precision_km=None,
                            method=f"placed by {edited.updated_by} on "
                                   f"{edited.updated_at:%Y-%m-%d}")
    return LibraryPoint(name=name, lon=float(rec["lon"]), lat=float(rec["lat"]),
                        approximate=True, precision_km=None,
                        method="commune seat or centroid point of the 2025 unit")


def _default_scenario(names: Sequence[str]) -> str:
    """The scenario of the newest readable plan, if it is among ``names``; else the first."""
    store = plan_store()
    for run in store.names()[:5]:
        try:
            name = store.plan(run).scenario_name
        except (PlannerError, NotFoundError, UnreadablePlanError):
            continue
        if name in names:
            return name
    return names[0] if names else ""


def _sources() -> ScenarioSources:
    return ScenarioSources(Path(current_app.config["SCENARIOS_DIR"]), database())


def choose_scenario(asked: str | None, sources: ScenarioSources) -> ScenarioChoice | None:
    """The scenario named by ``?scenario=`` (``""`` = none), else the default one."""
    names = sources.names()
    name = _default_scenario(names) if asked is None else asked
    if not name:
        return None
    try:
        entry = sources.get(name)
    except UnknownScenarioError:
        raise NotFoundError(g.tr("unknown_scenario", name=name)) from None
    try:
        return ScenarioChoice(name, sources.load(entry, check_data=False))
    except (PlannerError, OSError) as exc:
        log.warning("communes page: scenario %s unreadable: %s", entry.label, exc)
        return ScenarioChoice(name, None, str(exc))


def published_scenarios() -> dict[str, Scenario | str]:
    """The scenario of the newest published version of each series, as published (its
    frozen ``scenario.json``), or why it cannot be read: what a user who reads published
    plans only (a driver) may see of the scenarios."""
    out: dict[str, Scenario | str] = {}
    with database().begin() as s:
        for v in plans.list_versions(s):  # by series, newest first
            if v.series in out:
                continue
            try:
                text = plans.version_content(s, v.id).scenario_json
                data = json.loads(text) if text else None
                out[v.series] = parse_scenario(data, file=v.key) if isinstance(data, dict) \
                    else f"{v.key}: no scenario was published with this version"
            except (StorageError, PlannerError, ValueError) as exc:
                out[v.series] = str(exc)
    return out


def choose_published(asked: str | None) -> tuple[ScenarioChoice | None, list[str]]:
    """Like :func:`choose_scenario` among the published scenarios only; the default is the
    series of the newest published version. An unpublished name is unknown (404)."""
    published = published_scenarios()
    with database().begin() as s:
        newest = plans.latest_version(s)
    name = (newest.series if newest else "") if asked is None else asked
    if not name:
        return None, list(published)
    if name not in published:
        raise NotFoundError(g.tr("unknown_scenario", name=name))
    found = published[name]
    return (ScenarioChoice(name, found) if isinstance(found, Scenario)
            else ScenarioChoice(name, None, found)), list(published)


def _dataset_name(choice: ScenarioChoice | None) -> str:
    if choice and choice.scenario:
        return choice.scenario.network
    known = known_datasets()
    return DEFAULT_DATASET if DEFAULT_DATASET in known or not known else known[0]


def _edited(codes: Sequence[str] | None = None) -> dict[str, LibraryOverrideInfo]:
    with database().begin() as s:
        return libraries.library_overrides(s, codes=codes)


@bp.get("")
def communes_page() -> ResponseReturnValue:
    query = request.args.get("q", "")[:MAX_QUERY_CHARS]
    only = request.args.get("only") == "1"
    if can("read_plans"):
        sources = _sources()
        choice = choose_scenario(request.args.get("scenario"), sources)
        scenarios = sources.names()
    else:  # drivers see published plans only, and so published scenarios only
        choice, scenarios = choose_published(request.args.get("scenario"))
    network = _dataset_name(choice)
    try:
        dataset = load_dataset(network)
        communes, libraries = dataset_records(dataset)
    except (GeodataError, OSError) as exc:
        log.error("communes page: dataset %r unreadable: %s", network, exc)
        return render_template("communes.html", dataset=None, dataset_error=str(exc),
                               network=network, rows=[], total=0, query=query, only=only,
                               choice=choice, scenarios=scenarios, has_district=False), 500
    rows = commune_rows(communes, libraries, choice.scenario if choice else None,
                        edited=_edited())
    shown = filter_rows(rows, query, only_in_scenario=only)
    return render_template("communes.html", dataset=dataset, dataset_error=None,
                           network=network, rows=shown, total=len(rows), query=query,
                           only=only, choice=choice, scenarios=scenarios,
                           in_scenario=sum(r.in_scenario for r in rows),
                           has_district=any(r.district for r in rows))


# --- one commune library: values, edits, history -----------------------------------------

COMMUNE_CODE = re.compile(r"^[0-9A-Za-z]{1,16}$")
# A library dragged farther than this from its commune's point is most likely a slip.
MAX_MOVE_KM = 30.0
BASEMAP_MARGIN_DEG = 0.15  # roads shown around the library on its small map (about 16 km)
CONTACT_MAX_CHARS = 500
HOURS_SEPARATORS = re.compile(r"[,;\n]+")
HOURS_INTERVAL = re.compile(r"^\s*(\d{1,2})[:h.](\d{2})\s*[-–—]\s*(\d{1,2})[:h.](\d{2})\s*$")


@dataclass(frozen=True)
class CommuneLibrary:
    """A commune of a dataset and its library as the library page shows it."""

    dataset: Dataset
    record: Mapping[str, Any]
    row: CommuneRow

    @property
    def centre(self) -> tuple[float, float]:
        """The commune's own point (lon, lat)."""
        return float(self.record["lon"]), float(self.record["lat"])


def find_commune(code: str) -> CommuneLibrary:
    """The commune ``code`` of the first dataset that has it; 404 otherwise."""
    if not COMMUNE_CODE.match(code or ""):
        raise NotFoundError(g.tr("lib_unknown_commune", code=code))
    edited = _edited([code])
    for name in sorted(known_datasets(), key=lambda n: n != DEFAULT_DATASET):
        try:
            dataset = load_dataset(name)
            communes, libraries = dataset_records(dataset)
        except (GeodataError, OSError):
            continue
        for rec in communes:
            if _text(rec.get("commune_code")) == code:
                (row,) = commune_rows([rec], libraries, None, edited=edited)
                return CommuneLibrary(dataset, rec, row)
    raise NotFoundError(g.tr("lib_unknown_commune", code=code))


def _distance_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


def parse_hours(text: str) -> tuple[tuple[str, str], ...]:
    """``"7:30-11:30, 13:30-16:00"`` -> ``(("07:30", "11:30"), ("13:30", "16:00"))``;
    :class:`ValueError` naming the part that is not written as an interval. (Whether the
    times are valid is the scenario model's rule: :func:`planner.libraries.
    check_library_values`.)"""
    out = []
    for part in HOURS_SEPARATORS.split(text):
        if not part.strip():
            continue
        m = HOURS_INTERVAL.match(part)
        if m is None:
            raise ValueError(part.strip())
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        out.append((f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"))
    return tuple(out)


def hours_text(hours: Sequence[tuple[str, str]] | None) -> str:
    return ", ".join(f"{a}–{b}" for a, b in hours or ())


def _float(text: str | None) -> float | None:
    try:
        value = float((text or "").strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def library_values_from_form(form: Mapping[str, Any], getlist: Any, lib: CommuneLibrary,
                             current: LibraryValues) -> tuple[LibraryValues, dict[str, str]]:
    """The values the library form asks for and, by form field, what is wrong with them.

    The location stays unset while the marker sits on the commune's own point (nobody
    placed the library); ``reset_location`` puts it back there."""
    errors: dict[str, str] = {}
    lon = lat = None
    if form.get("reset_location") != "1":
        lon, lat = _float(form.get("lon")), _float(form.get("lat"))
        if lon is None or lat is None:
            errors["location"] = g.tr("lib_bad_location")
            lon = lat = None
        else:
            lon, lat = round(lon, 6), round(lat, 6)
            centre_lon, centre_lat = lib.centre
            if current.lon is None and (lon, lat) == (round(centre_lon, 6), round(centre_lat, 6)):
                lon = lat = None  # not moved from the commune's point
            elif -90 <= lat <= 90 and _distance_km(lon, lat, centre_lon,
                                                    centre_lat) > MAX_MOVE_KM:
                errors["location"] = g.tr("lib_too_far", km=round(_distance_km(
                    lon, lat, centre_lon, centre_lat)), max=int(MAX_MOVE_KM))
    contact = (form.get("contact") or "").strip() or None
    if contact is not None and len(contact) > CONTACT_MAX_CHARS:
        errors["contact"] = g.tr("lib_contact_too_long", n=CONTACT_MAX_CHARS)
    address = " ".join((form.get("address") or "").split()) or None
    if address is not None and len(address) > CONTACT_MAX_CHARS:
        errors["address"] = g.tr("lib_address_too_long", n=CONTACT_MAX_CHARS)
    hours = None
    if (form.get("opening_hours") or "").strip():
        try:
            hours = parse_hours(form.get("opening_hours") or "")
        except ValueError as exc:
            errors["opening_hours"] = g.tr("lib_bad_hours", part=str(exc))
    mode = form.get("market_mode") or "none"
    weekdays = every = anchor = None
    if mode == "weekdays":
        weekdays = tuple(d for d in WEEKDAYS if d in set(getlist("market_weekdays")))
        if not weekdays:
            errors["market_days"] = g.tr("lib_no_weekday")
    elif mode == "every":
        try:
            every = int((form.get("market_every_days") or "").strip())
        except ValueError:
            errors["market_days"] = g.tr("lib_bad_every_days")
            every = None
        try:
            anchor = dt.date.fromisoformat((form.get("market_anchor") or "").strip())
        except ValueError:
            errors["market_days"] = g.tr("lib_bad_anchor")
        if every is None or anchor is None:
            every = anchor = None
    elif mode != "none":
        errors["market_days"] = g.tr("lib_bad_market_mode")
    lodging = {"yes": True, "no": False}.get(form.get("lodging") or "")
    values = LibraryValues(lon=lon, lat=lat, contact=contact, opening_hours=hours,
                           market_weekdays=weekdays, market_every_days=every,
                           market_anchor=anchor, lodging=lodging, address=address)
    try:
        check_library_values(lib.row.code, values)
    except ScenarioError as exc:
        for problem in exc.problems:
            errors.setdefault(*_form_error(problem, values))
    return values, errors


def _form_error(problem: Problem, values: LibraryValues) -> tuple[str, str]:
    """The form field a problem of the stop the values make belongs to, and its message."""
    field = problem.field.removeprefix("stop.")
    if field.startswith("location"):
        return "location", g.tr("lib_bad_location")
    if any(key in field for key in ("weekdays", "every_days", "anchor")) or (
            values.opening_hours is None and field.startswith("time_windows")):
        key = ("lib_no_weekday" if "weekdays" in field else
               "lib_bad_anchor" if "anchor" in field or "every_days" not in field else
               "lib_bad_every_days")
        return "market_days", g.tr(key)
    if field.startswith("time_windows") and values.opening_hours:
        index = int(field.split("[", 1)[1].split("]", 1)[0])
        start, end = values.opening_hours[min(index, len(values.opening_hours) - 1)]
        return "opening_hours", g.tr("lib_bad_hours", part=f"{start}-{end}")
    return field.split(".", 1)[0], g.tr.problem(problem)


def weekday_labels() -> dict[str, str]:
    """The weekdays of market days in the page's language, Monday first."""
    tr = g.tr
    return {"mon": tr("lib_wd_mon"), "tue": tr("lib_wd_tue"), "wed": tr("lib_wd_wed"),
            "thu": tr("lib_wd_thu"), "fri": tr("lib_wd_fri"), "sat": tr("lib_wd_sat"),
            "sun": tr("lib_wd_sun")}


def render_library_page(lib: CommuneLibrary, *, values: LibraryValues | None = None,
                        errors: Mapping[str, str] | None = None, saved: int | None = None,
                        profile_problems: Sequence[str] = (),
                        status: int = 200) -> ResponseReturnValue:
    """A commune's library page: its values, its map, its history of edits, and its book
    batches (:func:`webui.batches.commune_batches`)."""
    from webui.batches import commune_batches  # it reads this module's communes
    from webui.calendar import commune_timetable

    code = lib.row.code
    with database().begin() as s:
        history = libraries.library_history(s, commune_code=code)
    current = lib.row.edited.values if lib.row.edited else LibraryValues()
    shown = values or current
    point = lib.row.library
    return render_template(
        "library.html", lib=lib, row=lib.row, edited=lib.row.edited, values=shown,
        errors=errors or {}, history=history, saved=saved, weekday_label=weekday_labels(),
        hours=hours_text(shown.opening_hours), hours_of=hours_text,
        marker={"lon": shown.lon if shown.lon is not None else point.lon,
                "lat": shown.lat if shown.lat is not None else point.lat},
        centre={"lon": lib.centre[0], "lat": lib.centre[1]},
        scenarios=_stop_in_scenarios(code), batches=commune_batches(code),
        profile_problems=profile_problems, language_names=languages(),
        audience_names=AUDIENCES, tt=commune_timetable(code)), status


def _stop_in_scenarios(code: str) -> list[str]:
    """The names of the scenarios (readable ones, published ones for a user who reads
    published plans only) that serve commune ``code``."""
    if not can("read_plans"):
        return [name for name, sc in published_scenarios().items()
                if isinstance(sc, Scenario) and any(st.commune_code == code for st in sc.stops)]
    sources = _sources()
    out = []
    for entry in sources.entries():
        try:
            scenario = sources.load(entry, check_data=False)
        except (PlannerError, OSError):
            continue
        if any(st.commune_code == code for st in scenario.stops):
            out.append(entry.name)
    return out


@bp.get("/<code>")
def library_page(code: str) -> ResponseReturnValue:
    return render_library_page(find_commune(code), saved=request.args.get("saved", type=int))


@bp.post("/<code>")
@requires("edit")
def edit_library(code: str) -> ResponseReturnValue:
    lib = find_commune(code)
    current = lib.row.edited.values if lib.row.edited else LibraryValues()
    values, errors = library_values_from_form(request.form, request.form.getlist, lib, current)
    if errors:
        return render_library_page(lib, values=values, errors=errors, status=422)
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            changed = libraries.save_library_values(s, commune_code=lib.row.code,
                                                    values=values, user_id=user.id)
    except InvalidRecordError as exc:
        return render_library_page(lib, values=values, errors={"form": str(exc)}, status=422)
    log.info("library of %s edited by %s: %d field(s)", lib.row.code, user.username, changed)
    return redirect(url_for("communes.library_page", code=lib.row.code, saved=changed,
                            _anchor="saved"), code=303)


@functools.lru_cache(maxsize=2)
def _basemap(path: str, stamp: float) -> tuple[list[dict[str, Any]], dict[str, list[dict]]]:
    from render.maps import basemap_features

    return basemap_features(path)


def _bbox(geometry: Mapping[str, Any]) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        else:
            for inner in c:
                walk(inner)

    walk(geometry.get("coordinates") or [])
    return (min(xs), min(ys), max(xs), max(ys)) if xs else (0.0, 0.0, 0.0, 0.0)


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


@bp.get("/<code>/basemap.json")
def library_basemap(code: str) -> ResponseReturnValue:
    """The province outline, the main roads within about 16 km of the library and the
    communes' points, for the library page's small map (no tiles: it works offline)."""
    lib = find_commune(code)
    stamp = (lib.dataset.path / "roads.parquet").stat().st_mtime
    outline, roads = _basemap(str(lib.dataset.path), stamp)
    lon, lat, m = lib.row.library.lon, lib.row.library.lat, BASEMAP_MARGIN_DEG
    window = (lon - m, lat - m, lon + m, lat + m)
    near = [f | {"properties": {**f.get("properties", {}), "class": cls}}
            for cls, features in roads.items() for f in features
            if _overlaps(_bbox(f["geometry"]), window)]
    communes, _ = dataset_records(lib.dataset)
    points = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [
                  float(r["lon"]), float(r["lat"])]},
               "properties": {"code": _text(r.get("commune_code")), "name": _text(r.get("name"))}}
              for r in communes]
    return jsonify({"outline": {"type": "FeatureCollection", "features": outline},
                    "roads": {"type": "FeatureCollection", "features": near},
                    "communes": {"type": "FeatureCollection", "features": points},
                    "attribution": lib.dataset.attribution})


@bp.get("/history")
def history_page() -> ResponseReturnValue:
    """The latest changes of every commune library, newest first."""
    with database().begin() as s:
        history = libraries.library_history(s, limit=300)
    return render_template("library_history.html", history=history, names=commune_names())


def commune_names() -> dict[str, str]:
    """The name of every commune of the datasets, by code (the first dataset naming it)."""
    names: dict[str, str] = {}
    for name in known_datasets():
        try:
            communes, _ = dataset_records(load_dataset(name))
        except (GeodataError, OSError):
            continue
        for r in communes:
            names.setdefault(_text(r.get("commune_code")), _text(r.get("name")))
    return names
