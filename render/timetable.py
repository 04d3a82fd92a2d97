"""Timetables for readers (:mod:`planner.timetable`): the A4 poster of a commune's visits for
its office wall (ReportLab, DejaVu Sans as the route sheets), and the ICS calendar feeds of a
commune's or a vehicle's visits for phones (``icalendar``, RFC 5545).

Times are Vietnam's (``Asia/Ho_Chi_Minh``, UTC+7, no daylight saving): the feed gives each
event in that zone with its ``VTIMEZONE``, so a calendar app anywhere shows the local hours.
An event's ``UID`` stays the same across the versions of a series (series, trip, commune) and
its ``SEQUENCE`` is the version number, so a subscribed calendar moves the event when a newer
version is published instead of showing it twice.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import icalendar
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
)

from planner.batches import AUDIENCES, CommuneProfile, languages
from planner.timetable import Offer, TimetableVisit, visit_offer
from render import formatting
from render.i18n import Translator
from render.pdf import FONT, FONT_BOLD, _table_style, register_fonts

TIMEZONE = "Asia/Ho_Chi_Minh"
PRODID = "-//mobile-library-planner//timetable//VI"
UID_DOMAIN = "mobile-library-planner"
QR_SIZE = 34 * mm


@dataclass(frozen=True)
class PosterContext:
    """What a poster prints besides the visits: the commune, the library and how to reach
    it, the address of the commune's calendar feed (a QR code; none when ``None``) and the
    day it was printed."""

    commune_code: str
    commune_name: str
    library: str
    contact: str = ""
    feed_url: str | None = None
    printed_on: dt.date | None = None
    commune_contact: str = ""  # the commune library's own contact, when known


# --- what a visit brings, in words -----------------------------------------------------------


def offer_text(offer: Offer, _: Translator) -> str:
    """``"Sách tiếng Việt, tiếng Hmông · cho thiếu nhi, người lớn · có sách thiếu nhi"``."""
    names = languages()
    parts = []
    # "Sách tiếng Hmông": a language's Vietnamese name starts with "Tiếng", lower case here
    langs = [(names[c].name_vi.replace("Tiếng ", "tiếng ", 1) if _.lang == "vi"
              else names[c].name_en) if c in names else c for c in offer.languages]
    if langs:
        parts.append(_("tt_books_in", languages=", ".join(langs)))
    audiences = [AUDIENCES[a][0 if _.lang == "vi" else 1] if a in AUDIENCES else a
                 for a in offer.audiences if a != "children"]
    if offer.children:
        parts.append(_("tt_children"))
    if audiences:
        parts.append(_("tt_for", audiences=", ".join(audiences)))
    if not parts:
        return _("tt_books_unknown")
    text = " · ".join(parts)
    if offer.source == "profile":
        text += " " + _("tt_from_profile")
    return text


def hours_text(visit: TimetableVisit) -> str:
    end = formatting.time_text(visit.end)
    if visit.end.date() != visit.start.date():
        end += f" ({visit.end.strftime('%d/%m')})"
    return f"{formatting.time_text(visit.start)}–{end}"


def version_keys(visits: Sequence[TimetableVisit]) -> list[str]:
    return sorted({f"{v.series}@v{v.version}" for v in visits})


# --- the poster ----------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    def style(name: str, size: float, *, bold: bool = False, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=FONT_BOLD if bold else FONT, fontSize=size,
                              leading=size * 1.25, textColor=colors.black, **kw)

    return {"title": style("title", 20, bold=True, alignment=TA_CENTER, spaceAfter=3 * mm),
            "commune": style("commune", 34, bold=True, alignment=TA_CENTER, spaceAfter=3 * mm),
            "subtitle": style("subtitle", 13, alignment=TA_CENTER, spaceAfter=6 * mm),
            "head": style("head", 12, bold=True),
            "cell": style("cell", 13),
            "cell_bold": style("cell_bold", 13, bold=True),
            "small": style("small", 10),
            "contact": style("contact", 12.5)}


def poster_pdf(visits: Sequence[TimetableVisit], context: PosterContext, *,
               profile: CommuneProfile | None = None, lang: str = "vi") -> bytes:
    """The A4 poster of a commune's visits (``visits``, of that commune, in time order):
    date and weekday, hours, vehicle, what it brings; the library's contact, the feed's QR
    code and the published versions it was read from."""
    register_fonts()
    _ = Translator(lang)
    st = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm,
                            title=_("tt_pdf_title", commune=context.commune_name),
                            author=context.library, creator="mobile-library-planner",
                            pageCompression=1)
    story: list = [Paragraph(escape(_("tt_title")), st["title"]),
                   Paragraph(escape(context.commune_name), st["commune"]),
                   Paragraph(escape(_("tt_subtitle", library=context.library)), st["subtitle"])]
    if visits:
        rows = [[Paragraph(escape(_(k)), st["head"])
                 for k in ("tt_col_date", "tt_col_hours", "tt_col_vehicle", "tt_col_brings")]]
        for v in visits:
            rows.append([
                Paragraph(escape(formatting.date_text(v.start.date(), lang, weekday=True)),
                          st["cell_bold"]),
                Paragraph(escape(hours_text(v)), st["cell_bold"]),
                Paragraph(escape(v.vehicle_name), st["cell"]),
                Paragraph(escape(offer_text(visit_offer(v, profile), _)), st["cell"])])
        width = doc.width
        table = Table(rows, colWidths=[0.27 * width, 0.2 * width, 0.2 * width, 0.33 * width],
                      repeatRows=1)
        table.setStyle(_table_style([
            ("GRID", (0, 0), (-1, -1), 0.8, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5 * mm),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5 * mm)]))
        story.append(table)
    else:
        story.append(Paragraph(escape(_("tt_none")), st["cell"]))
    story += [Spacer(1, 6 * mm), Paragraph(escape(_("tt_times_note")), st["small"]),
              Spacer(1, 5 * mm)]
    contact_lines = [f"<b>{escape(_('tt_contact'))}</b>: {escape(context.library)}"]
    if context.contact:
        contact_lines.append(escape(context.contact))
    if context.commune_contact:
        contact_lines.append(escape(_("tt_commune_contact", contact=context.commune_contact)))
    phones = dict.fromkeys((v.vehicle_name, v.vehicle_phone) for v in visits if v.vehicle_phone)
    contact_lines += [escape(_("tt_vehicle_phone", vehicle=name, phone=phone))
                      for name, phone in phones]
    contact = [Paragraph(line, st["contact"]) for line in contact_lines]
    if context.feed_url:
        qr = _qr(context.feed_url)
        text = [*contact, Spacer(1, 2 * mm), Paragraph(escape(_("tt_subscribe")), st["small"])]
        box = Table([[text, qr]], colWidths=[doc.width - QR_SIZE - 4 * mm, QR_SIZE + 4 * mm])
        box.setStyle(_table_style([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(box)
    else:
        story += contact
    printed = context.printed_on or dt.date.today()
    story += [Spacer(1, 5 * mm), Paragraph(escape(_(
        "tt_source", versions=", ".join(version_keys(visits)) or "—",
        date=formatting.date_text(printed, lang))), st["small"])]
    doc.build(story)
    return buf.getvalue()


def _qr(url: str) -> Drawing:
    widget = QrCodeWidget(url)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (right - left), 0, 0,
                                                   QR_SIZE / (top - bottom), 0, 0])
    drawing.add(widget)
    return drawing


# --- calendar feeds ------------------------------------------------------------------------


def feed_ics(visits: Sequence[TimetableVisit], *, name: str, lang: str = "vi",
             profiles: Mapping[str, CommuneProfile] | None = None,
             stamp: dt.datetime | None = None) -> bytes:
    """An ICS calendar named ``name`` with one event per visit: the commune, the hours of
    service (Vietnam time), the vehicle, the library and what it brings."""
    _ = Translator(lang)
    zone = ZoneInfo(TIMEZONE)
    stamp = (stamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", TIMEZONE)
    for v in visits:
        event = icalendar.Event()
        event.add("uid", f"{v.uid}@{UID_DOMAIN}")
        event.add("sequence", v.version)
        event.add("dtstamp", stamp)
        event.add("dtstart", v.start.astimezone(zone))
        event.add("dtend", v.end.astimezone(zone))
        event.add("summary", _("ics_summary", commune=v.commune_name))
        event.add("location", v.commune_name)
        event.add("geo", (v.lat, v.lon))
        offer = visit_offer(v, (profiles or {}).get(v.commune_code))
        lines = [_("ics_vehicle", vehicle=v.vehicle_name, library=v.depot_name),
                 offer_text(offer, _)]
        if v.vehicle_phone:
            lines.append(_("tt_vehicle_phone", vehicle=v.vehicle_name, phone=v.vehicle_phone))
        lines.append(_("ics_version", version=f"{v.series}@v{v.version}"))
        event.add("description", "\n".join(lines))
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


__all__ = ["PosterContext", "feed_ics", "hours_text", "offer_text", "poster_pdf",
           "version_keys"]
