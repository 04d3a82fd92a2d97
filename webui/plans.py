"""Plan list, plan page (map, KPIs, route tables, unserved communes, data notes) and the
plan's map, files and exports (GPX, KML, CSV, XLSX; see :mod:`render.exports`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, g, render_template, request, send_file
from flask.typing import ResponseReturnValue

from planner.kpis import COMPARE_ROWS
from planner.plan import Plan
from render import exports
from render.maps import plan_map_file
from render.routeview import route_views
from webui.auth import requires
from webui.errors import NotFoundError
from webui.services import plan_store

bp = Blueprint("plans", __name__)

DOWNLOADS = {"plan.json": "application/json", "routes.geojson": "application/geo+json"}


@dataclass(frozen=True)
class TargetProgress:
    """Where a plan stands against one programme target (share of the service area's
    communes served)."""

    year: str
    target: float
    needed: int
    missing: int

    @property
    def met(self) -> bool:
        return self.missing == 0


def target_progress(kpis: Mapping[str, Any]) -> tuple[TargetProgress, ...]:
    """The programme targets (15% 2026, 50% 2030, 90% 2045 unless the plan says otherwise)
    with the number of communes each needs and how many are still missing."""
    total = int(kpis.get("service_area_communes") or 0)
    served = int(kpis.get("communes_served") or 0)
    targets = kpis.get("targets") or {"2026": 0.15, "2030": 0.50, "2045": 0.90}
    out = []
    for year, target in sorted(targets.items()):
        needed = math.ceil(round(float(target) * total, 6))
        out.append(TargetProgress(str(year), float(target), needed, max(0, needed - served)))
    return tuple(out)


def load_plan(run: str) -> Plan:
    """Plan ``run`` or a 404 page naming it."""
    try:
        return plan_store().plan(run)
    except NotFoundError:
        raise NotFoundError(g.tr("unknown_plan", name=run)) from None


@bp.get("/")
def index() -> ResponseReturnValue:
    store = plan_store()
    return render_template("index.html", runs=store.summaries(), runs_dir=store.root)


@bp.get("/plans/<run>")
def plan_page(run: str) -> ResponseReturnValue:
    plan = load_plan(run)
    store = plan_store()
    return render_template("plan.html", run=run, plan=plan,
                           views=route_views(plan, transfers=store.transfers(run)),
                           targets=target_progress(plan.kpis),
                           assumptions=store.assumptions(run),
                           export_formats=tuple(exports.EXPORT_FORMATS))


def kpi_value(kpis: Mapping[str, Any], key: str) -> Any:
    """The value of comparison row ``key`` (see :data:`planner.kpis.COMPARE_ROWS`)."""
    if key.startswith("meets_"):
        return kpis.get("meets_target", {}).get(key.removeprefix("meets_"))
    if key == "crates_moved":
        if "crates_delivered" not in kpis:
            return None
        return kpis.get("crates_delivered", 0) + kpis.get("crates_collected", 0)
    return kpis.get(key)


@bp.get("/plans/<run>/compare")
@requires("compare")
def compare_page(run: str) -> ResponseReturnValue:
    """This plan's KPIs side by side with another plan's (``?with=NAME``), as
    ``planner compare`` prints them."""
    plan = load_plan(run)
    others = [n for n in plan_store().names() if n != run]
    other_name = request.args.get("with") or None
    other = load_plan(other_name) if other_name else None
    rows = [(key, kpi_value(plan.kpis, key), kpi_value(other.kpis, key) if other else None)
            for key, _, _ in COMPARE_ROWS]
    return render_template("compare.html", run=run, plan=plan, other=other,
                           other_name=other_name, others=others, rows=rows)


@bp.get("/plans/<run>/map")
def map_page(run: str) -> ResponseReturnValue:
    load_plan(run)
    path = plan_map_file(plan_store().folder(run), g.lang)
    return send_file(path, mimetype="text/html", max_age=0)


@bp.get("/plans/<run>/files/<name>")
def download(run: str, name: str) -> ResponseReturnValue:
    load_plan(run)
    if name not in DOWNLOADS:
        raise NotFoundError(name)
    path = plan_store().folder(run) / name
    if not path.is_file():
        raise NotFoundError(name)
    return send_file(path, mimetype=DOWNLOADS[name], as_attachment=True, download_name=name)


@bp.get("/plans/<run>/export.<fmt>")
def export(run: str, fmt: str) -> ResponseReturnValue:
    """The plan as GeoJSON, GPX, KML, CSV or XLSX, downloaded as ``<run>-<what>.<fmt>``."""
    plan = load_plan(run)
    spec = exports.EXPORT_FORMATS.get(fmt)
    if spec is None:
        raise NotFoundError(g.tr("unknown_export", fmt=fmt))
    store = plan_store()
    routes = store.routes(run) if fmt in exports.NEEDS_GEOMETRY else None
    if fmt in exports.NEEDS_GEOMETRY and routes is None:
        raise NotFoundError(g.tr("routes_missing", run=run))
    name = f"{run}-{spec.suffix}"
    if fmt == "geojson":
        return send_file(store.folder(run) / "routes.geojson", mimetype=spec.mimetype,
                         as_attachment=True, download_name=name, max_age=0)
    if fmt == "gpx":
        data = exports.gpx_document(plan, routes, lang=g.lang)
    elif fmt == "kml":
        data = exports.kml_document(plan, routes, lang=g.lang)
    elif fmt == "csv":
        data = exports.csv_manifest(plan, lang=g.lang, transfers=store.transfers(run))
    else:
        data = exports.xlsx_manifest(plan, lang=g.lang, transfers=store.transfers(run))
    resp = Response(data, mimetype=spec.mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp
