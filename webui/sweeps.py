"""Sweeps, fleet sizings and the region, as ``planner sweep``, ``planner fleet-size`` and
``planner region`` stored them (:mod:`storage.sweeps`): the list, a sweep's comparison table
and chart, a fleet sizing's answer with the fleets tried, and the region page (each
province's progress toward 15/50/90%, from the newest region run). Read-only: sweeps run on
the command line, on Dask (see ``docs/sweeps.md``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, g, render_template
from flask.typing import ResponseReturnValue

from planner.kpis import PROGRAMME_TARGETS
from planner.sweep import COMPARISON_COLUMNS, comparison_value, share_of
from render.sweepcharts import fleet_chart_png, region_chart_png, sweep_chart_png
from storage import RecordNotFoundError
from storage.sweeps import SweepInfo, get_sweep, latest_sweep, list_sweeps
from webui.auth import requires
from webui.errors import NotFoundError
from webui.services import database

bp = Blueprint("sweeps", __name__, url_prefix="/sweeps")


def _sweep(sweep_id: int) -> SweepInfo:
    try:
        with database().read() as session:
            return get_sweep(session, sweep_id)
    except RecordNotFoundError:
        raise NotFoundError(g.tr("sweep_unknown", id=sweep_id)) from None


@bp.get("/")
@requires("read_plans")
def sweeps_page() -> ResponseReturnValue:
    with database().read() as session:
        sweeps = list_sweeps(session)
    return render_template("sweeps.html", sweeps=sweeps)


@bp.get("/<int:sweep_id>")
@requires("read_plans")
def sweep_page(sweep_id: int) -> ResponseReturnValue:
    sweep = _sweep(sweep_id)
    if sweep.kind == "region":
        return _region(sweep)
    return render_template("sweep.html", sweep=sweep, columns=COMPARISON_COLUMNS,
                           value=comparison_value,
                           targets={t.year: t.share for t in PROGRAMME_TARGETS},
                           fleet=sweep.summary if sweep.kind == "fleet" else None,
                           season_start=_season_start((sweep.summary or {}).get("season")))


def _season_start(season: Mapping[str, Any] | None) -> dt.date | None:
    """The first day of a season sweep's or sizing's season (None: a cycle, or unreadable)."""
    try:
        return dt.date.fromisoformat(str(season["start_date"])) if season else None
    except (KeyError, ValueError):
        return None


@bp.get("/<int:sweep_id>/chart.png")
@requires("read_plans")
def sweep_chart(sweep_id: int) -> ResponseReturnValue:
    sweep = _sweep(sweep_id)
    if sweep.kind == "fleet" and sweep.summary:
        png = fleet_chart_png(sweep.summary, lang=g.lang)
    elif sweep.kind == "region":
        png = region_chart_png(sweep.results, lang=g.lang)
    else:
        png = sweep_chart_png(sweep.results, lang=g.lang, title=sweep.title or sweep.name)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})


@bp.get("/region")
@requires("read_plans")
def region_page() -> ResponseReturnValue:
    with database().read() as session:
        sweep = latest_sweep(session, kind="region")
    return _region(sweep)


def _region(sweep: SweepInfo | None) -> ResponseReturnValue:
    rows = []
    for r in sweep.results if sweep else ():
        rows.append({"result": r, "share": share_of(r),
                     "progress": r.kpi().target_progress() if r.ok else (),
                     "season_start": _season_start(r.season) if r.ok else None})
    return render_template("region.html", sweep=sweep, rows=rows,
                           target_shares=[t.share for t in PROGRAMME_TARGETS])
