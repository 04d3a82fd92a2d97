"""Plan list, plan page (map, KPIs, route tables, unserved communes, data notes) and the
plan's map, files and exports (GPX, KML, CSV, XLSX; see :mod:`render.exports`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue

from planner.access import WARN_M, far_notes
from planner.kpis import COMPARE_ROWS, PROGRAMME_TARGETS, compare_value, difference_sense
from planner.outputs import has_approximate_routes
from planner.plan import Plan
from render import exports
from render.closures import plan_closures
from render.maps import plan_map_file
from render.notes import plan_notes
from render.routeview import route_views
from storage.plans import list_versions, parse_version_key, version_key
from webui.auth import requires
from webui.errors import NotFoundError, UnreadablePlanError
from webui.files import FILE_MODE
from webui.services import database, derived_files, plan_store

bp = Blueprint("plans", __name__)

DOWNLOADS = {"plan.json": "application/json", "routes.geojson": "application/geo+json"}
# A folium map is a page of inline scripts (Leaflet and the plan's layers, inlined so that it
# works offline), drawn from text anyone with a scenario upload can write. Besides escaping
# that text (render.maps), the map is served in a sandbox: ``sandbox allow-scripts`` without
# ``allow-same-origin`` gives it an opaque origin whether it is shown in the plan page's
# iframe (which has the same ``sandbox`` attribute) or opened on its own, so its scripts can
# reach neither the app's cookies, pages and CSRF token nor make requests as the user; it
# loads nothing but the optional OSM tiles, and may be framed by the app's pages only.
MAP_CONTENT_SECURITY_POLICY = ("sandbox allow-scripts; default-src 'none'; "
                               "script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                               "img-src data: https://tile.openstreetmap.org; font-src data:; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")


def load_plan(run: str) -> Plan:
    """Plan ``run``; a 404 page naming it if there is none, an error page naming it if it
    cannot be read."""
    try:
        return plan_store().plan(run)
    except NotFoundError:
        raise NotFoundError(g.tr("unknown_plan", name=run)) from None
    except UnreadablePlanError as exc:
        raise UnreadablePlanError(run, exc.detail, message=g.tr(
            "plan_unreadable_page", name=run, detail=exc.detail)) from None


@bp.get("/")
def index() -> ResponseReturnValue:
    store = plan_store()
    runs = store.summaries()
    published: dict[str, list[int]] = {}
    with database().begin() as s:
        for v in list_versions(s):
            published.setdefault(v.plan_name, []).append(v.number)
    return render_template("index.html", runs=runs, runs_dir=store.root,
                           published={k: ", ".join(f"v{n}" for n in sorted(v))
                                      for k, v in published.items()})


@bp.get("/plans/<run>")
def plan_page(run: str) -> ResponseReturnValue:
    plan = load_plan(run)
    store = plan_store()
    return render_template("plan.html", run=run, plan=plan,
                           approximate_routes=has_approximate_routes(store.routes(run)),
                           views=route_views(plan),
                           closures=plan_closures(plan, store.scenario(run)),
                           notes=plan_notes(plan, g.lang),
                           targets=plan.kpis.target_progress(),
                           far_places=far_notes(plan), far_warn_km=round(WARN_M / 1000),
                           assumptions=store.assumptions(run),
                           export_formats=tuple(exports.EXPORT_FORMATS))


@bp.get("/plans/<run>/compare")
@requires("compare")
def compare_page(run: str) -> ResponseReturnValue:
    """This plan's KPIs side by side with another plan's (``?with=NAME``), as
    ``planner compare`` prints them."""
    chosen = request.args.get("a")
    other_name = request.args.get("with") or None
    if chosen and chosen != run:  # plan A chosen in the form: its own page, B kept
        load_plan(chosen)  # 404 for an unknown plan
        keep: dict[str, Any] = {"with": other_name} if other_name else {}
        return redirect(url_for("plans.compare_page", run=chosen, **keep), code=303)
    plan = load_plan(run)
    with database().begin() as s:
        versions = [version_key(v.series, v.number) for v in list_versions(s)]
    choices = [*plan_store().names(), *versions]
    other = load_plan(other_name) if other_name else None
    return render_template("compare.html", run=run, plan=plan, other=other,
                           rows=kpi_comparison(plan, other), targets=TARGET_ROWS,
                           target_shares=[t.share for t in PROGRAMME_TARGETS],
                           other_name=other_name, choices=choices)


TARGET_ROWS = {"meets_" + t.year: t.share for t in PROGRAMME_TARGETS}  # rows of COMPARE_ROWS


def kpi_comparison(plan: Plan, other: Plan | None) -> list[tuple[str, Any, Any, Any, str]]:
    """The rows of a KPI comparison of plans A (``plan``) and B (``other``): ``(key, a, b,
    b − a, "better"/"worse"/"")`` for each row of :data:`planner.kpis.COMPARE_ROWS` (the
    compare page, and the edit page's before and after)."""
    rows = []
    for key, _, _ in COMPARE_ROWS:
        a, b = compare_value(plan.kpis, key), compare_value(other.kpis, key) if other else None
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
        difference = b - a if numbers else None
        rows.append((key, a, b, difference,
                     difference_sense(key, difference) if difference is not None else ""))
    return rows


@bp.get("/plans/<run>/map")
def map_page(run: str) -> ResponseReturnValue:
    """The plan's offline map page, sandboxed (see :data:`MAP_CONTENT_SECURITY_POLICY`)."""
    load_plan(run)
    private = parse_version_key(run) is not None  # in the instance folder
    path = plan_map_file(plan_store().folder(run), g.lang, mode=FILE_MODE if private else 0o644)
    resp = send_file(path, mimetype="text/html", max_age=0)
    resp.headers["Content-Security-Policy"] = MAP_CONTENT_SECURITY_POLICY
    return resp


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

    def make() -> bytes:
        if fmt == "gpx":
            return exports.gpx_document(plan, routes, lang=g.lang)
        if fmt == "kml":
            return exports.kml_document(plan, routes, lang=g.lang)
        if fmt == "csv":
            return exports.csv_manifest(plan, lang=g.lang)
        return exports.xlsx_manifest(plan, lang=g.lang)

    cache = derived_files()
    data = cache.get(cache.key(f"export.{fmt}", store.folder(run), run, g.lang), make)
    resp = Response(data, mimetype=spec.mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp
