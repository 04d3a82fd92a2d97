"""Communes and libraries: the communes of a dataset with their library point, searchable with
or without diacritics, and whether a scenario serves them. Read-only for now (editing a
library's location, contact and hours comes with the database).

The dataset is the one the chosen scenario plans on (``?scenario=NAME`` among the files of
``SCENARIOS_DIR``; by default the scenario of the newest plan). Commune points are the
published seat or centroid points of the 2025 units, so a commune library placed there is
flagged as approximate; the dataset's ``libraries.csv`` adds the libraries it knows (the
provincial library, with its precision).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask.typing import ResponseReturnValue

from geodata.datasets import Dataset, known_datasets, load_dataset
from geodata.errors import GeodataError
from planner.errors import PlannerError
from planner.scenario import Scenario, Stop, load_scenario
from webui.errors import NotFoundError
from webui.jobs import available_scenarios
from webui.stores import run_store
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
                 scenario: Scenario | None) -> tuple[CommuneRow, ...]:
    """The page's rows, in the dataset's order (commune code)."""
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
        centre = LibraryPoint(name=name, lon=float(rec["lon"]), lat=float(rec["lat"]),
                              approximate=True, precision_km=None,
                              method="commune seat or centroid point of the 2025 unit")
        rows.append(CommuneRow(
            code=code, name=name, kind=_text(rec.get("type")), district=district,
            province=_text(rec.get("province_2025")),
            population=int(population) if population is not None else None,
            area_km2=_number(rec.get("area_km2")), predecessors=predecessors,
            library=centre, other_libraries=tuple(libs.get(code, ())),
            stop=stops.get(code), depots=tuple(depots.get(code, ())),
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


def _default_scenario(names: Sequence[str]) -> str:
    """The scenario of the newest readable plan, if it is among ``names``; else the first."""
    store = run_store()
    for run in store.names()[:5]:
        try:
            name = store.plan(run).scenario_name
        except (PlannerError, NotFoundError):
            continue
        if name in names:
            return name
    return names[0] if names else ""


def choose_scenario(asked: str | None, folder: Path) -> ScenarioChoice | None:
    """The scenario named by ``?scenario=`` (``""`` = none), else the default one."""
    files = available_scenarios(folder)
    name = _default_scenario(list(files)) if asked is None else asked
    if not name:
        return None
    path = files.get(name)
    if path is None:
        raise NotFoundError(g.tr("unknown_scenario", name=name))
    try:
        return ScenarioChoice(name, load_scenario(path))
    except (PlannerError, OSError) as exc:
        log.warning("communes page: scenario %s unreadable: %s", path, exc)
        return ScenarioChoice(name, None, str(exc))


def _dataset_name(choice: ScenarioChoice | None) -> str:
    if choice and choice.scenario:
        return choice.scenario.network
    known = known_datasets()
    return DEFAULT_DATASET if DEFAULT_DATASET in known or not known else known[0]


@bp.get("")
def communes_page() -> ResponseReturnValue:
    query = request.args.get("q", "")[:MAX_QUERY_CHARS]
    only = request.args.get("only") == "1"
    folder = current_app.config["SCENARIOS_DIR"]
    choice = choose_scenario(request.args.get("scenario"), folder)
    network = _dataset_name(choice)
    try:
        dataset = load_dataset(network)
        communes, libraries = dataset_records(dataset)
    except (GeodataError, OSError) as exc:
        log.error("communes page: dataset %r unreadable: %s", network, exc)
        return render_template("communes.html", dataset=None, dataset_error=str(exc),
                               network=network, rows=[], total=0, query=query, only=only,
                               choice=choice, scenarios=list(available_scenarios(folder)),
                               has_district=False), 500
    rows = commune_rows(communes, libraries, choice.scenario if choice else None)
    shown = filter_rows(rows, query, only_in_scenario=only)
    return render_template("communes.html", dataset=dataset, dataset_error=None,
                           network=network, rows=shown, total=len(rows), query=query,
                           only=only, choice=choice,
                           scenarios=list(available_scenarios(folder)),
                           in_scenario=sum(r.in_scenario for r in rows),
                           has_district=any(r.district for r in rows))
