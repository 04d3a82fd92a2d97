"""Route sheets: the printable HTML page of one vehicle, its PDF, the PDF of every sheet of a
plan, and the overview map PNG they show. PDFs and maps are drawn once per plan, language
and version of the code, then read from the cache of drawn files (:mod:`webui.derived`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request
from flask.typing import ResponseReturnValue

from geodata.errors import GeodataError
from planner.outputs import has_approximate_routes
from planner.plan import Plan
from render.closures import plan_closures
from render.directions import dataset_places, route_leg_lines, view_instructions
from render.labels import labels_pdf, plan_labels
from render.pdf import plan_sheets_pdf
from render.routeview import RouteView, legs_by_vehicle, route_view
from render.sheetmap import Basemap, route_lines, route_map_png
from render.stopcard import stop_cards, trip_nights
from render.stripmap import leg_map_png
from webui.errors import NotFoundError
from webui.plans import load_plan
from webui.services import basemaps, derived_files, plan_store

log = logging.getLogger(__name__)

bp = Blueprint("sheets", __name__)


def _vehicle_index(plan: Plan, run: str, vehicle_id: str) -> int:
    """The index of ``vehicle_id``'s route in ``plan``, or a 404 naming it."""
    index = next((i for i, r in enumerate(plan.routes) if r.key == vehicle_id), None)
    if index is None:
        raise NotFoundError(g.tr("unknown_vehicle", run=run, vehicle=vehicle_id))
    return index


def _view(plan: Plan, run: str, index: int, routes: dict[str, Any] | None) -> RouteView:
    legs = legs_by_vehicle(routes).get(plan.routes[index].key) if routes else None
    return route_view(plan, index, legs)


def _basemap(plan: Plan) -> Basemap | None:
    """The plan dataset's basemap; ``None`` (the map shows the route alone) if the dataset
    cannot be read here."""
    try:
        return basemaps().get(plan.network)
    except (GeodataError, OSError) as exc:
        log.warning("no basemap for dataset %r on the sheet maps: %s", plan.network, exc)
        return None


def _overview_png(plan: Plan, run: str, view: RouteView, routes: dict[str, Any] | None
                  ) -> bytes:
    return route_map_png(view, route_lines(routes, view.route.key), _basemap(plan),
                         lang=g.lang,
                         closures=plan_closures(plan, plan_store().scenario(run)))


def _drawn(kind: str, run: str, *parts: object, make: Callable[[], bytes]) -> tuple[bytes, str]:
    """File ``kind`` of plan ``run`` drawn by ``make``, through the cache of drawn files
    (:mod:`webui.derived`); with its key (the response's ETag)."""
    cache = derived_files()
    key = cache.key(kind, plan_store().folder(run), run, g.lang, *parts)
    return cache.get(key, make), key


def _file_response(data: bytes, key: str, mimetype: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Cache-Control"] = "no-cache"  # asked again each time: 304 while unchanged
    resp.set_etag(key)
    resp.make_conditional(request)
    return resp


def _pdf_response(data: bytes, key: str, filename: str) -> Response:
    resp = _file_response(data, key, "application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return resp


@bp.get("/plans/<run>/sheet/<vehicle_id>")
def sheet(run: str, vehicle_id: str) -> ResponseReturnValue:
    plan = load_plan(run)
    index = _vehicle_index(plan, run, vehicle_id)
    routes = plan_store().routes(run)
    view = _view(plan, run, index, routes)
    scenario = plan_store().scenario(run)
    return render_template("sheet.html", run=run, plan=plan, view=view,
                           instructions=view_instructions(view, routes, plan.network),
                           cards=stop_cards(view, scenario),
                           nights=trip_nights(view, scenario),
                           closures=plan_closures(plan, scenario),
                           approximate_routes=has_approximate_routes(routes))


@bp.get("/plans/<run>/sheet/<vehicle_id>.pdf")
def sheet_pdf_file(run: str, vehicle_id: str) -> ResponseReturnValue:
    plan = load_plan(run)
    index = _vehicle_index(plan, run, vehicle_id)

    def make() -> bytes:
        return plan_sheets_pdf(plan, [index], run=run, lang=g.lang,
                               scenario=plan_store().scenario(run),
                               routes=plan_store().routes(run), basemap=_basemap(plan))

    data, key = _drawn("sheet.pdf", run, vehicle_id, make=make)
    return _pdf_response(data, key, f"{run}-{vehicle_id}-{g.lang}.pdf")


@bp.get("/plans/<run>/sheets.pdf")
def sheets_pdf_file(run: str) -> ResponseReturnValue:
    """Every vehicle with a trip, one section (bookmark) each; vehicles without a trip in the
    plan have no sheet here (their own sheet says so)."""
    plan = load_plan(run)

    def make() -> bytes:
        return plan_sheets_pdf(plan, [i for i, r in enumerate(plan.routes) if r.visits],
                               run=run, lang=g.lang, scenario=plan_store().scenario(run),
                               routes=plan_store().routes(run), basemap=_basemap(plan))

    data, key = _drawn("sheets.pdf", run, make=make)
    return _pdf_response(data, key, f"{run}-sheets-{g.lang}.pdf")


@bp.get("/plans/<run>/labels.pdf")
def labels_pdf_file(run: str) -> ResponseReturnValue:
    """A crate label for every batch the plan leaves (see :mod:`render.labels`); QR codes
    open the batch's page under ``PUBLIC_BASE_URL`` (default: this server)."""
    plan = load_plan(run)
    base = current_app.config.get("PUBLIC_BASE_URL") or request.url_root

    def make() -> bytes:
        return labels_pdf(plan_labels(plan, lang=g.lang), lang=g.lang, base_url=base,
                          title=f"{plan.scenario_title or plan.scenario_name} · {run}")

    data, key = _drawn("labels.pdf", run, base, make=make)
    return _pdf_response(data, key, f"{run}-labels.pdf")


@bp.get("/plans/<run>/sheet/<vehicle_id>/leg/<int:leg>.png")
def leg_map(run: str, vehicle_id: str, leg: int) -> ResponseReturnValue:
    """The strip map of leg ``leg`` (0: from the depot to the first stop; the last: the way
    back) of a vehicle's route, numbered as its turn-by-turn instructions."""
    plan = load_plan(run)
    index = _vehicle_index(plan, run, vehicle_id)

    def make() -> bytes:
        routes = plan_store().routes(run)
        view = _view(plan, run, index, routes)
        turns = view_instructions(view, routes, plan.network)
        lines = route_leg_lines(routes, vehicle_id)
        if turns is None or lines is None or not 0 <= leg < len(turns):
            raise NotFoundError(g.tr("unknown_leg", vehicle=vehicle_id, leg=leg + 1))
        labels = [str(s.visit.seq) for s in view.stops] + ["↩"]
        return leg_map_png(lines[leg], turns[leg], _basemap(plan), lang=g.lang,
                           places=dataset_places(plan.network), stop_label=labels[leg],
                           closures=plan_closures(plan, plan_store().scenario(run)))

    data, key = _drawn("leg-map.png", run, vehicle_id, leg, make=make)
    return _file_response(data, key, "image/png")


@bp.get("/plans/<run>/sheet/<vehicle_id>/map.png")
def sheet_map(run: str, vehicle_id: str) -> ResponseReturnValue:
    plan = load_plan(run)
    index = _vehicle_index(plan, run, vehicle_id)

    def make() -> bytes:
        routes = plan_store().routes(run)
        return _overview_png(plan, run, _view(plan, run, index, routes), routes)

    data, key = _drawn("sheet-map.png", run, vehicle_id, make=make)
    return _file_response(data, key, "image/png")
