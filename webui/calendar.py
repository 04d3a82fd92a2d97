"""Timetables for readers and the annual report, on the web.

- A commune's page shows its visits in the published plans, its A4 poster
  (``/communes/<code>/timetable.pdf``) and its calendar feeds; a vehicle's page
  (``/vehicles/<id>``) its trips' visits and feeds. A dispatcher (permission ``publish``)
  makes and revokes feed tokens there.
- ``/feeds/<token>.ics`` is the one page anyone may open without logging in (calendar apps
  cannot): it serves the published visits of the token's commune or vehicle, and nothing once
  the token is revoked (404, as for a token that never existed).
- ``/reports`` is the annual report (:mod:`planner.yearreport`), with its PDF and XLSX.

No logic here: :mod:`planner.timetable` and :mod:`planner.yearreport` compute, :mod:`storage`
keeps, :mod:`render` draws.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from planner.batches import CommuneProfile
from planner.timetable import PublishedPlan, TimetableVisit, timetable, vehicles_of, visit_offer
from render.i18n import Translator
from render.timetable import PosterContext, feed_ics, hours_text, offer_text, poster_pdf
from render.yearreport import (
    commune_table,
    coverage_chart_png,
    group_table,
    languages_chart_png,
    months_chart_png,
    report_pdf,
    report_xlsx,
    summary_rows,
)
from storage import InvalidRecordError, RecordNotFoundError, batches, calendar, reports
from storage.calendar import TokenInfo
from storage.models import FEED_KINDS
from webui.auth import can, current_user, requires
from webui.errors import BadRequestError, NotFoundError
from webui.services import database, today

log = logging.getLogger(__name__)

bp = Blueprint("calendar", __name__)

ICS_MIMETYPE = "text/calendar"
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True)
class TimetableRow:
    """A visit as the pages list it."""

    visit: TimetableVisit
    hours: str
    brings: str


def _published(unreadable: list[str] | None = None
               ) -> tuple[list[PublishedPlan], dict[str, CommuneProfile]]:
    """The plans in force and the commune profiles; a version whose record cannot be read
    is left out (and logged), its message added to ``unreadable`` when given."""
    problems: list[str] = []
    with database().read() as s:
        plans, profiles = (calendar.published_plans(s, newest_only=True, unreadable=problems),
                           batches.profiles(s))
    for problem in problems:
        log.error("timetables: a published version left out: %s", problem)
    if unreadable is not None:
        unreadable += problems
    return plans, profiles


def _rows(visits: list[TimetableVisit], profiles: dict[str, CommuneProfile]
          ) -> list[TimetableRow]:
    return [TimetableRow(v, hours_text(v), offer_text(visit_offer(v, profiles.get(
        v.commune_code)), g.tr)) for v in visits]


def feed_url(token: TokenInfo) -> str:
    """The full address of a feed (under ``PUBLIC_BASE_URL`` when set)."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.url_root
    return f"{base.rstrip('/')}{url_for('calendar.feed', token=token.token)}"


def _tokens(kind: str, ref: str) -> list[tuple[TokenInfo, str]]:
    if not can("publish"):
        return []
    with database().read() as s:
        return [(t, feed_url(t)) for t in calendar.tokens(s, kind=kind, ref=ref)]


def commune_timetable(code: str) -> dict[str, Any]:
    """What the commune page shows of its timetable (``_timetable.html``)."""
    unreadable: list[str] = []
    plans, profiles = _published(unreadable)
    visits = timetable(plans, commune_code=code)
    return {"kind": "commune", "ref": code, "rows": _rows(visits, profiles),
            "unreadable": unreadable,
            "tokens": _tokens("commune", code),
            "poster_url": url_for("calendar.poster", code=code, lang=g.lang)}


# --- the feed (public) ---------------------------------------------------------------------


@bp.get("/feeds/<token>.ics")
def feed(token: str) -> ResponseReturnValue:
    """The ICS feed a token opens: published visits only; 404 for a revoked or unknown
    token."""
    with database().read() as s:
        info = calendar.feed_of(s, token)
    if info is None:
        raise NotFoundError(g.tr("feed_unknown"))
    plans, profiles = _published()
    _ = Translator(g.lang)
    if info.kind == "commune":
        visits = timetable(plans, commune_code=info.ref)
        name = _("ics_commune_name", commune=visits[0].commune_name if visits else info.ref)
    else:
        visits = timetable(plans, vehicle_id=info.ref)
        name = _("ics_vehicle_name", vehicle=vehicles_of(plans).get(info.ref, info.ref))
    body = feed_ics(visits, name=name, lang=g.lang, profiles=profiles)
    response = Response(body, mimetype=ICS_MIMETYPE)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", info.ref)[:64]
    response.headers["Content-Disposition"] = f'inline; filename="{info.kind}-{safe}.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- tokens (dispatchers) ------------------------------------------------------------------


def _page_of(kind: str, ref: str) -> str:
    if kind == "commune":
        return url_for("communes.library_page", code=ref, _anchor="timetable")
    return url_for("calendar.vehicle_page", vehicle_id=ref, _anchor="feeds")


@bp.post("/feeds")
@requires("publish")
def create_feed() -> ResponseReturnValue:
    kind, ref = request.form.get("kind", ""), request.form.get("ref", "").strip()
    if kind not in FEED_KINDS:
        raise BadRequestError(g.tr("feed_bad_kind"))
    if kind == "commune":
        from webui.communes import find_commune

        find_commune(ref)  # 404 for a commune no dataset has
    elif ref not in vehicles_of(_published()[0]):
        raise NotFoundError(g.tr("vehicle_unknown", vehicle=ref))
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            info = calendar.create_token(s, kind=kind, ref=ref, user_id=user.id,
                                         note=request.form.get("note", ""))
    except InvalidRecordError as exc:
        raise BadRequestError(str(exc)) from None
    log.info("user %s made calendar feed %d of %s %s", user.username, info.id, kind, ref)
    return redirect(_page_of(kind, info.ref), code=303)


@bp.post("/feeds/<int:token_id>/revoke")
@requires("publish")
def revoke_feed(token_id: int) -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            info = calendar.revoke_token(s, token_id, user_id=user.id)
    except RecordNotFoundError:
        raise NotFoundError(g.tr("feed_unknown")) from None
    log.info("user %s revoked calendar feed %d of %s %s", user.username, info.id, info.kind,
             info.ref)
    return redirect(_page_of(info.kind, info.ref), code=303)


# --- poster and vehicle page ---------------------------------------------------------------


def _since(text: str | None) -> dt.date:
    """``?since=YYYY-MM-DD``, else today (:func:`webui.services.today`)."""
    if not text:
        return today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadRequestError(g.tr("tt_bad_since", value=text[:40])) from None


@bp.get("/communes/<code>/timetable.pdf")
def poster(code: str) -> ResponseReturnValue:
    """The commune's A4 timetable poster: its visits from today (``?since=``) on, with the
    QR code of its newest feed, if any."""
    from webui.communes import find_commune

    lib = find_commune(code)
    plans, profiles = _published()
    visits = timetable(plans, commune_code=code, since=_since(request.args.get("since")))
    with database().read() as s:
        tokens = calendar.tokens(s, kind="commune", ref=code)
    library = ", ".join(dict.fromkeys(v.depot_name for v in visits))
    context = PosterContext(code, lib.row.name, library or g.tr("tt_library"),
                            contact=current_app.config.get("LIBRARY_CONTACT") or "",
                            feed_url=feed_url(tokens[0]) if tokens else None,
                            printed_on=today(),
                            commune_contact=(lib.row.edited.values.contact or ""
                                             if lib.row.edited else ""))
    pdf = poster_pdf(visits, context, profile=profiles.get(code), lang=g.lang)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="lich-xe-{code}.pdf"'
    return response


@bp.get("/vehicles/<vehicle_id>")
def vehicle_page(vehicle_id: str) -> ResponseReturnValue:
    unreadable: list[str] = []
    plans, profiles = _published(unreadable)
    names = vehicles_of(plans)
    if vehicle_id not in names:
        raise NotFoundError(g.tr("vehicle_unknown", vehicle=vehicle_id))
    rows = _rows(timetable(plans, vehicle_id=vehicle_id), profiles)
    return render_template("vehicle.html", vehicle_id=vehicle_id, name=names[vehicle_id],
                           tt={"kind": "vehicle", "ref": vehicle_id, "rows": rows,
                               "unreadable": unreadable,
                               "tokens": _tokens("vehicle", vehicle_id), "poster_url": None})


# --- the annual report ---------------------------------------------------------------------


def _year(value: Any) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise BadRequestError(g.tr("report_bad_year", min=MIN_YEAR, max=MAX_YEAR)) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadRequestError(g.tr("report_bad_year", min=MIN_YEAR, max=MAX_YEAR))
    return year


def _report(year: int) -> Any:
    with database().read() as s:
        return reports.year_report(s, year)


@bp.get("/reports")
def report_page() -> ResponseReturnValue:
    year = _year(request.args.get("year", today().year))
    report = _report(year)
    return render_template("report.html", report=report, year=year, charts=list(CHARTS),
                           summary=summary_rows(report, g.lang),
                           communes=commune_table(report, g.lang),
                           by_language=group_table(report.languages, g.lang, kind="language"),
                           by_audience=group_table(report.audiences, g.lang, kind="audience"))


@bp.get("/reports/<int:year>.<fmt>")
def report_file(year: int, fmt: str) -> ResponseReturnValue:
    year = _year(year)
    if fmt not in ("pdf", "xlsx"):
        raise NotFoundError(g.tr("report_bad_format", fmt=fmt))
    report = _report(year)
    if fmt == "pdf":
        body, mimetype = report_pdf(report, lang=g.lang), "application/pdf"
    else:
        body = report_xlsx(report, lang=g.lang)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="bao-cao-{year}.{fmt}"')
    return response


CHARTS = {"months": months_chart_png, "coverage": coverage_chart_png,
          "languages": languages_chart_png}


@bp.get("/reports/<int:year>/chart-<name>.png")
def report_chart(year: int, name: str) -> ResponseReturnValue:
    """A chart of the report (the ones its PDF prints), for its page."""
    year = _year(year)
    if name not in CHARTS:
        raise NotFoundError(g.tr("report_bad_format", fmt=name))
    return Response(CHARTS[name](_report(year), g.lang), mimetype="image/png")


def init_app(app: Flask) -> None:
    app.config.setdefault("LIBRARY_CONTACT", "")
    app.register_blueprint(bp)
