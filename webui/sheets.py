"""Printable route sheets, one per vehicle: A4, large type, legible in black and white."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from flask.typing import ResponseReturnValue

from webui.errors import NotFoundError
from webui.plans import load_plan
from webui.routeview import legs_by_vehicle, route_view
from webui.stores import run_store

bp = Blueprint("sheets", __name__)


@bp.get("/plans/<run>/sheet/<vehicle_id>")
def sheet(run: str, vehicle_id: str) -> ResponseReturnValue:
    plan = load_plan(run)
    index = next((i for i, r in enumerate(plan.routes) if r.vehicle_id == vehicle_id), None)
    if index is None:
        raise NotFoundError(g.tr("unknown_vehicle", run=run, vehicle=vehicle_id))
    routes = run_store().routes(run)
    legs = legs_by_vehicle(routes).get(vehicle_id) if routes is not None else None
    return render_template("sheet.html", run=run, plan=plan,
                           view=route_view(plan, index, legs))
