"""Route sheets as PDF (ReportLab): one vehicle's sheet, or every sheet of a plan in one file.

The content follows the printed HTML sheet (``templates/sheet.html``): A4, large type, black
and white; a header with the vehicle, driver, dates, depot (and the note when its position
is approximate), departure, crates loaded; the overview map (:mod:`render.sheetmap`); then
for every stop the leg's directions and a box with times, crates, contact, note and fields
to fill in by hand.

Text is set in DejaVu Sans (``render/assets/fonts``), embedded as subsets, which has every
Vietnamese letter. ReportLab keeps registered fonts in a process-wide registry;
:func:`register_fonts` adds ours once, lazily (never at import time).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from planner.plan import Plan
from planner.scenario import Scenario
from render import formatting
from render.closures import ClosureView, plan_closures
from render.directions import (
    Instruction,
    dataset_places,
    route_leg_lines,
    view_instructions,
)
from render.i18n import Translator
from render.routeview import (
    DirectionStep,
    Leg,
    Moment,
    RouteView,
    legs_by_vehicle,
    route_view,
)
from render.sheetmap import (
    FONT_BOLD_FILE,
    FONT_REGULAR_FILE,
    MAP_SIZE_IN,
    Basemap,
    route_lines,
    route_map_png,
)
from render.stopcard import StopCard, stop_cards, trip_nights
from render.stripmap import STRIP_SIZE_IN, leg_map_png

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
PAGE_W, PAGE_H = A4
MARGIN_X = 11 * mm
MARGIN_TOP = 11 * mm
MARGIN_BOTTOM = 15 * mm  # room for the footer line
TEXT_W = PAGE_W - 2 * MARGIN_X
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

_FONT_LOCK = threading.Lock()


def register_fonts() -> None:
    """Register DejaVu Sans and DejaVu Sans Bold with ReportLab (idempotent)."""
    with _FONT_LOCK:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_REGULAR_FILE)))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_BOLD_FILE)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                      boldItalic=FONT_BOLD)


# --- styles ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetStyles:
    """Paragraph styles of a sheet: large type for reading in a cab, small labels."""

    title: ParagraphStyle
    subtitle: ParagraphStyle
    body: ParagraphStyle
    big: ParagraphStyle
    label: ParagraphStyle
    small: ParagraphStyle
    leg_head: ParagraphStyle
    night: ParagraphStyle
    stop_name: ParagraphStyle
    num: ParagraphStyle
    dir: ParagraphStyle
    dir_num: ParagraphStyle
    tiny: ParagraphStyle


def sheet_styles() -> SheetStyles:
    def style(name: str, size: float, *, bold: bool = False, leading: float | None = None,
              **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=FONT_BOLD if bold else FONT, fontSize=size,
                              leading=leading or size * 1.22, textColor=colors.black, **kw)

    return SheetStyles(
        title=style("title", 18, bold=True, spaceAfter=1 * mm),
        subtitle=style("subtitle", 11.5, spaceAfter=2 * mm),
        body=style("body", 11.5),
        big=style("big", 14, bold=True),
        label=style("label", 10),
        small=style("small", 9),
        leg_head=style("leg_head", 12, bold=True, spaceAfter=0.8 * mm),
        night=style("night", 10.5),
        stop_name=style("stop_name", 17, bold=True),
        num=style("num", 11, alignment=TA_RIGHT),
        dir=style("dir", 9.8, leading=11.6),
        dir_num=style("dir_num", 9.8, leading=11.6, alignment=TA_RIGHT),
        tiny=style("tiny", 7.6, leading=9.4),
    )


# --- small flowables ---------------------------------------------------------------------------


class SeqBadge(Flowable):
    """The stop number in a black disc, as on the HTML sheet and the map."""

    def __init__(self, text: str, *, size: float = 11 * mm) -> None:
        super().__init__()
        self.text = text
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        c = self.canv
        r = self.size / 2
        c.setFillColor(colors.black)
        c.circle(r, r, r, stroke=0, fill=1)
        c.setFillColor(colors.white)
        font_size = 15 if len(self.text) < 3 else 12
        c.setFont(FONT_BOLD, font_size)
        c.drawCentredString(r, r - font_size * 0.36, self.text)


class SectionStart(Flowable):
    """Zero-size marker at the start of a vehicle's sheet: adds a PDF bookmark (outline
    entry) and tells the page footer which sheet it is on."""

    def __init__(self, key: str, title: str, footer: str) -> None:
        super().__init__()
        self.key = key
        self.title = title
        self.footer = footer
        self.width = self.height = 0

    def draw(self) -> None:
        c = self.canv
        pending = getattr(c, "_mlp_bookmarks", None)
        if pending is not None:  # a _SheetCanvas: bookmarked when its page is written
            pending.append((len(c._mlp_pages), self.key, self.title))
        else:
            c.bookmarkPage(self.key)
            c.addOutlineEntry(self.title, self.key, level=0, closed=False)
        doc_state = getattr(c, "_mlp_sections", None)
        if doc_state is None:
            doc_state = c._mlp_sections = {}
        doc_state["footer"] = self.footer
        doc_state["first_page"] = c.getPageNumber()


# --- building blocks ---------------------------------------------------------------------------


def _table_style(commands: Sequence[Any]) -> TableStyle:
    """A table style in our font: a table sets its font before drawing, even for empty
    cells, and ReportLab's default would add an unembedded Helvetica to the PDF."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *commands])


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped; ReportLab paragraphs take mini-HTML)."""
    return Paragraph(escape(text), style)


def _nobreak(text: str) -> str:
    return escape(text).replace(" ", "&nbsp;")


def _moment_markup(m: Moment, _: Translator) -> str:
    """``07/12 13:30`` followed, when the moment is on a later day of the trip, by
    ``+1 ngày`` in white on black (reads in black and white like the HTML sheet's box)."""
    text = _nobreak(m.clock)
    if m.day_offset > 0:
        text += (f' <span backColor="#000000" color="#ffffff">&nbsp;'
                 f"{_nobreak(_.day_offset(m.day_offset))}&nbsp;</span>")
    return text


def _facts_table(rows: Sequence[Sequence[Any]], *, spans: Sequence[tuple[int, int]] = (),
                 col_widths: Sequence[float] | None = None) -> Table:
    """A bordered 4-column table of label / value pairs (labels in the 1st and 3rd
    columns); ``spans`` are the row indices whose value spans columns 2-4."""
    widths = col_widths or (0.19 * TEXT_W, 0.31 * TEXT_W, 0.19 * TEXT_W, 0.31 * TEXT_W)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6 * mm),
    ]
    for row, start in spans:
        style.append(("SPAN", (start, row), (-1, row)))
    return Table([list(r) for r in rows], colWidths=list(widths), style=_table_style(style))


def _boxes(labels: Sequence[str], st: SheetStyles, *, width: float = TEXT_W,
           weights: Sequence[float] | None = None, height: float = 15 * mm) -> Table:
    """Empty boxes to write in by hand, each with a small label, 2 mm apart."""
    weights = list(weights or [1.0] * len(labels))
    gap = 2 * mm
    usable = width - gap * (len(labels) - 1)
    widths: list[float] = []
    cells: list[Any] = []
    style: list[Any] = [("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 1.5 * mm),
                        ("RIGHTPADDING", (0, 0), (-1, -1), 1.5 * mm),
                        ("TOPPADDING", (0, 0), (-1, -1), 1 * mm)]
    for i, (label, w) in enumerate(zip(labels, weights, strict=True)):
        if i:
            widths.append(gap)
            cells.append("")
        col = len(cells)
        widths.append(usable * w / sum(weights))
        cells.append(_p(label, st.label))
        style.append(("BOX", (col, 0), (col, 0), 1.3, colors.black))
    return Table([cells], colWidths=widths, rowHeights=[height], style=_table_style(style))


def _road_markup(step: DirectionStep, _: Translator) -> str:
    if step.minutes is not None:
        return f"<b>{escape(_('ferry_step', name=', '.join(step.names), minutes=round(step.minutes)))}</b>"  # noqa: E501
    if step.ref:
        text = f"<b>{escape(step.ref)}</b>"
        if step.names:
            text += f" ({escape(', '.join(step.names))})"
        return text
    if step.names:
        return escape(", ".join(step.names))
    return escape(_("road_unnamed", kind=_.road_class(step.road_class)))


def _instruction_table(steps: Sequence[Instruction], st: SheetStyles, _: Translator,
                       lang: str) -> Table:
    """Turn-by-turn instructions: number (as on the leg's map), what to do, km to the next,
    km so far, the junction's coordinates."""
    rows: list[list[Any]] = [[_p("#", st.tiny), _p(_("dir_instruction"), st.tiny),
                              _p(_("dir_to_next"), st.tiny), _p(_("cumulative_km"), st.tiny),
                              _p(_("dir_coordinates"), st.tiny)]]
    for ins in steps:
        rows.append([Paragraph(f"<b>{ins.number}</b>", st.dir),
                     Paragraph(escape(_.instruction(ins)), st.dir),
                     _p(formatting.number(ins.km, lang) if ins.turn != "arrive" else "",
                        st.dir_num),
                     _p(formatting.number(ins.at_km, lang), st.dir_num),
                     _p(f"{ins.lat:.5f} {ins.lon:.5f}", st.tiny)])
    return Table(rows, colWidths=[10 * mm, TEXT_W - 10 * mm - 14 * mm - 15 * mm - 32 * mm,
                                  14 * mm, 15 * mm, 32 * mm], repeatRows=1,
                 style=_table_style([
                     ("LINEBEFORE", (0, 0), (0, -1), 2.2, colors.black),
                     ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                     ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.grey, None, (1, 2)),
                     ("VALIGN", (0, 0), (-1, -1), "TOP"),
                     ("TOPPADDING", (0, 0), (-1, -1), 0.5 * mm),
                     ("BOTTOMPADDING", (0, 0), (-1, -1), 0.8 * mm),
                     ("LEFTPADDING", (0, 0), (0, -1), 3 * mm),
                     ("LEFTPADDING", (1, 0), (-1, -1), 1.5 * mm),
                     ("RIGHTPADDING", (0, 0), (-1, -1), 1.5 * mm)]))


def _leg_flowables(leg: Leg, from_place: str, to_place: str, st: SheetStyles,
                   _: Translator, lang: str,
                   steps: Sequence[Instruction] | None = None,
                   strip_png: bytes | None = None) -> list[Any]:
    """The directions of one leg: a heading line, overnight notes and the turn-by-turn
    instructions (the road table when the plan has no route line)."""
    head = (f"{escape(_('directions'))}: {escape(from_place)} → {escape(to_place)} · "
            f"{escape(formatting.number(leg.km, lang))}&nbsp;km · "
            f"{escape(formatting.hours_text(leg.hours))}")
    out: list[Any] = [Spacer(1, 2.5 * mm), Paragraph(head, st.leg_head)]
    if leg.night_before:
        out.append(_p(_("night_before"), st.night))
    if leg.nights_on_road:
        out.append(_p(_("nights_on_road", n=leg.nights_on_road), st.night))
    if leg.roadside_pauses:
        out.append(_p(_("roadside_pauses", n=leg.roadside_pauses), st.night))
    if strip_png:
        w = TEXT_W
        out.append(Image(io.BytesIO(strip_png), width=w, height=w * STRIP_SIZE_IN[1]
                         / STRIP_SIZE_IN[0]))
        out.append(Spacer(1, 1 * mm))
    if steps:
        out.append(_instruction_table(steps, st, _, lang))
    elif leg.directions is None:
        out.append(_p(_("directions_missing"), st.small))
    elif leg.directions:
        rows: list[list[Any]] = [[_p(_("road"), st.label), _p("km", st.label),
                                  _p(_("cumulative_km"), st.label)]]
        for step in leg.directions:
            rows.append([Paragraph(_road_markup(step, _), st.body),
                         _p(formatting.number(step.km, lang), st.num),
                         _p(formatting.number(step.cumulative_km, lang), st.num)])
        # Splits across pages (the header row repeats); the thick rule on the left marks
        # directions apart from stops, as on the HTML sheet.
        out.append(Table(rows, colWidths=[TEXT_W - 50 * mm, 22 * mm, 28 * mm], repeatRows=1,
                         style=_table_style([
                             ("LINEBEFORE", (0, 0), (0, -1), 2.2, colors.black),
                             ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                             ("LINEBELOW", (0, 1), (-1, -1), 0.3, colors.grey, None, (1, 2)),
                             ("VALIGN", (0, 0), (-1, -1), "TOP"),
                             ("TOPPADDING", (0, 0), (-1, -1), 0.6 * mm),
                             ("BOTTOMPADDING", (0, 0), (-1, -1), 1.0 * mm),
                             ("LEFTPADDING", (0, 0), (0, -1), 3 * mm),
                             ("LEFTPADDING", (1, 0), (-1, -1), 1.5 * mm),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 1.5 * mm),
                         ])))
    return out


def _framed(content: list[Any], *, double: bool = False) -> KeepTogether:
    """A stop's box: a thick black frame around its content (double for the return)."""
    style = [("BOX", (0, 0), (-1, -1), 2, colors.black),
             ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
             ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
             ("TOPPADDING", (0, 0), (-1, -1), 2.5 * mm),
             ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm)]
    if double:  # two 1.2 pt lines 1.5 pt apart
        style[0] = ("BOX", (0, 0), (-1, -1), 1.2, colors.black, None, None, None, 2, 1.5)
    # on the next page when it does not fit in what is left of this one; a box taller than
    # a page (a stop with long texts) goes on over the page (splitInRow)
    return KeepTogether([Table([[content]], colWidths=[TEXT_W], style=_table_style(style),
                               spaceBefore=2 * mm, spaceAfter=2 * mm, splitInRow=1)])


def _stop_head(badge: str, title: str, st: SheetStyles) -> Table:
    return Table([[SeqBadge(badge), _p(title, st.stop_name)]],
                 colWidths=[14 * mm, TEXT_W - 6 * mm - 14 * mm],
                 style=_table_style([("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                   ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                                   ("TOPPADDING", (0, 0), (-1, -1), 0),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 * mm)]))


def _card_rows(card: StopCard, st: SheetStyles, _: Translator
               ) -> tuple[list[list[Any]], list[list[Any]]]:
    """A stop card's rows of the stop's table: those printed after the planned times
    (service, wait, night) and those after the crates (hours, market day, stop point)."""
    service = (f"{_moment_markup(card.service_start, _)} – "
               f"{_moment_markup(card.service_end, _)}")
    early: list[list[Any]] = [[_p(_("service_time"), st.label), Paragraph(service, st.big),
                               "", ""]]
    if card.wait is not None:
        early.append([_p(_("wait"), st.label), _p(_.wait(card.wait), st.body), "", ""])
    for n in card.nights_here:
        early.append([_p(_("nights_label"), st.label),
                      _p("☾ " + _("night_here", date=n.date.strftime("%d/%m")), st.big), "", ""])
    if card.next_arrival is not None and card.leaves_on is not None:
        early.append([_p(_("leaves_next"), st.label),
                      _p(_("leaves_after_night", date=card.leaves_on.strftime("%d/%m"),
                           place=card.next_place,
                           time=card.next_arrival.when.strftime("%H:%M")), st.body), "", ""])
    hours = "\n".join(_.opening(h) for h in card.hours) or _("hours_unknown")
    market = "\n".join(_.open_days(h) for h in card.hours if h.restricted) or (
        _("market_day_none") if card.hours else _("hours_unknown"))
    lat, lon = f"{card.lat:.5f}", f"{card.lon:.5f}"
    point = (escape(_("point_library", lat=lat, lon=lon)) if card.library_point
             else f"<b>⚠ {escape(_('point_commune', lat=lat, lon=lon))}</b>")
    if card.address:
        point = f"<b>{escape(_('stop_address', address=card.address))}</b><br/>{point}"
    if card.lodging is False:
        point += f"<br/>{escape(_('lodging_none'))}"
    late: list[list[Any]] = [
        [_p(_("opening_hours"), st.label), Paragraph(escape(hours).replace("\n", "<br/>"),
                                                     st.body),
         _p(_("market_day"), st.label), Paragraph(escape(market).replace("\n", "<br/>"),
                                                  st.body)],
        [_p(_("stop_point"), st.label), Paragraph(point, st.body), "", ""],
    ]
    return early, late


def _strip_maps(plan: Plan, view: RouteView, routes: Mapping[str, Any] | None,
                turns: Sequence[Sequence[Instruction]] | None, basemap: Basemap | None,
                closures: Sequence[ClosureView], lang: str) -> list[bytes] | None:
    """The strip map of every leg (``None`` without the route's lines and instructions)."""
    if routes is None or not turns:
        return None
    lines = route_leg_lines(routes, view.route.key)
    if lines is None or len(lines) != len(turns):
        return None
    labels = [str(s.visit.seq) for s in view.stops] + ["↩"]
    places = dataset_places(plan.network)
    return [leg_map_png(line, steps, basemap, lang=lang, places=places, closures=closures,
                        stop_label=label, fmt="jpeg")
            for line, steps, label in zip(lines, turns, labels, strict=True)]


def vehicle_sheet_flowables(plan: Plan, view: RouteView, *, run: str, lang: str,
                            map_png: bytes | None, st: SheetStyles,
                            scenario: Scenario | None = None,
                            routes: Mapping[str, Any] | None = None,
                            basemap: Basemap | None = None) -> list[Any]:
    """Everything printed for one vehicle, in order; ``scenario`` (the plan's own) adds the
    stops' opening hours and whether their points are the libraries'."""
    _ = Translator(lang)
    cards = stop_cards(view, scenario)
    nights = trip_nights(view, scenario)
    closures = plan_closures(plan, scenario)
    turns = view_instructions(view, routes, plan.network) if routes is not None else None
    strips = _strip_maps(plan, view, routes, turns, basemap, closures, lang)
    r = view.route
    inner = TEXT_W - 6 * mm  # inside a stop's frame
    stop_cols = (0.22 * inner, 0.28 * inner, 0.19 * inner, 0.31 * inner)

    def num(x: float) -> str:
        return formatting.number(x, lang)

    created = plan.created_at[:16].replace("T", " ")
    out: list[Any] = [
        SectionStart(f"sheet-{view.index}", f"{r.vehicle_name} ({r.key})",
                     f"{_('route_sheet_for', vehicle=r.vehicle_name)} ({r.key})"),
        Paragraph(f"{escape(_('route_sheet'))}: {escape(r.vehicle_name)} "
                  f'<font name="{FONT}" size="13">({escape(r.key)})</font>', st.title),
        _p(plan.scenario_title or plan.scenario_name, st.subtitle),
        # who made the sheet and from what data, at the top: the last page ends with the
        # return (the page footer repeats the attribution)
        Paragraph(f"{escape(_('printed_on', run=run, created=created))}"
                  f" · <b>{escape(_('attribution_osm'))}</b> · "
                  f"{escape(_('attribution_odbl'))}", st.tiny),
        Spacer(1, 1.5 * mm),
    ]
    depot = f"<b>{escape(r.depot_name)}</b>"
    if view.depot_note:
        depot += (f"<br/><b>⚠ {escape(_('approximate_position'))}</b>: "
                  f"{escape(view.depot_note)}")
    dates = (f"{formatting.date_text(view.first_day, lang, weekday=True)} – "
             f"{formatting.date_text(view.last_day, lang, weekday=True)}")
    stops_line = (f"{_('page_of_stops', n=len(view.stops))} · {num(r.km)} km · "
                  f"{formatting.hours_text(r.driving_hours)}")
    out.append(_facts_table([
        [_p(_("driver"), st.label), _p(r.driver or "", st.big),
         _p(_("sheet_dates"), st.label), _p(dates, st.body)],
        [_p(_("depot"), st.label), Paragraph(depot, st.body), "", ""],
        [_p(_("depart"), st.label), Paragraph(_moment_markup(view.depart, _), st.big),
         _p(_("return"), st.label), Paragraph(_moment_markup(view.back, _), st.big)],
        [_p(_("crates_loaded"), st.label),
         Paragraph(f"{escape(_('crates_n', n=r.load_start_crates))} "
                   f'<font name="{FONT}" size="11">/ {r.capacity_crates}</font>', st.big),
         _p(_("stops"), st.label), _p(stops_line, st.body)],
    ] + ([[_p(_("breaks_taken"), st.label),
           Paragraph("; ".join(f"{_moment_markup(a, _)} – {formatting.time_text(b.when)}"
                               for a, b in view.breaks), st.body), "", ""]]
         if view.breaks else [])
        + ([[_p("⛔ " + _("plan_closures_title"), st.label),
             Paragraph("<br/>".join(f"<b>X{i} · {escape(_.closure(c))}</b>"
                                    for i, c in enumerate(closures, start=1)),
                       st.body), "", ""]] if closures else [])
        + [[_p(_("nights_label"), st.label),
            Paragraph("<br/>".join(escape(_.night(n)) for n in nights)
                      or escape(_("nights_none")), st.body), "", ""]]
        + ([[_p(_("batches_loading"), st.label),
             Paragraph("<br/>".join(escape(f"☐ {_.batch(b)}") for b in view.loading), st.body),
             "", ""]] if view.loading else []),
        spans=[(i, 1) for i in range(4, 4 + bool(view.breaks) + bool(closures) + 1
                                     + bool(view.loading))] + [(1, 1)]))
    out.append(Spacer(1, 1.5 * mm))
    out.append(_boxes([f"{_('odometer')} ({_('depart').lower()})", _("actual_departure"),
                       _("crates_checked")], st, height=13 * mm))
    out.append(Spacer(1, 1 * mm))
    out.append(_p(_("day_offset_help"), st.small))

    if map_png:
        w = TEXT_W
        h = w * MAP_SIZE_IN[1] / MAP_SIZE_IN[0]
        out.append(Spacer(1, 2 * mm))
        out.append(KeepTogether([
            Paragraph(f"<b>{escape(_('overview_map'))}</b>", st.body),
            Spacer(1, 1 * mm),
            Image(io.BytesIO(map_png), width=w, height=h),
        ]))

    if not view.stops:
        out.append(Spacer(1, 4 * mm))
        out.append(_p(_("no_visits"), st.big))

    prev = r.depot_name
    for i, (s, card) in enumerate(zip(view.stops, cards, strict=True)):
        v = s.visit
        leg = _leg_flowables(s.leg, prev, v.commune_name, st, _, lang,
                             turns[i] if turns else None, strips[i] if strips else None)
        early, late = _card_rows(card, st, _)
        contact = (_p(card.contact, st.big) if card.contact
                   else _p(_("contact_missing"), st.small))
        rows: list[list[Any]] = [
            [_p(f"{_('planned')}: {_('arrival').lower()}", st.label),
             Paragraph(_moment_markup(s.arrival, _), st.big),
             _p(_("departure"), st.label), Paragraph(_moment_markup(s.departure, _), st.big)],
            *early,
            [_p(_("deliver"), st.label), _p(_("crates_n", n=v.deliver_crates), st.big),
             _p(_("collect"), st.label), _p(_("crates_n", n=v.collect_crates), st.big)],
            [_p(_("load_after"), st.label), _p(_("crates_n", n=v.load_after_crates), st.body),
             _p(_("contact"), st.label), contact],
            *late,
        ]
        spans = [(1 + i, 1) for i in range(len(early))] + [(len(rows) - 1, 1)]
        for text in _.transfers(s):  # crates handed on between communes
            spans.append((len(rows), 1))
            rows.append([_p(_("transfer"), st.label), _p(text, st.big), "", ""])
        for label, batches, tick in (("batches_deliver", s.deliver_batches, "tick_delivered"),
                                     ("batches_collect", s.collect_batches, "tick_collected")):
            for b in batches:  # with tick boxes: done or missing, filled in on the road
                spans.append((len(rows), 1))
                rows.append([_p(_(label), st.label),
                             _p(f"{_.batch(b)}   ☐ {_(tick)}  ☐ {_('tick_missing')}", st.big),
                             "", ""])
        if v.batch_note:
            spans.append((len(rows), 1))
            rows.append([_p(_("batch_note"), st.label), _p(_.batch_note(v.batch_note), st.body),
                         "", ""])
        if v.note:
            spans.append((len(rows), 1))
            rows.append([_p(_("note"), st.label), _p(_.note(v.note), st.body), "", ""])
        box = _framed([
            _stop_head(str(v.seq), v.commune_name, st),
            _facts_table(rows, spans=spans, col_widths=stop_cols),
            Spacer(1, 1 * mm),
            _boxes([_("actual_arrival"), _("actual_departure"),
                    f"{_('crates_checked')}: {_('deliver').lower()} / {_('collect').lower()}",
                    _("signature")], st, width=inner, weights=[1, 1, 1, 1.6]),
        ])
        # No leg heading alone at the foot of a page.
        out.append(CondPageBreak(40 * mm))
        out.extend(leg)
        out.append(box)
        prev = v.commune_name

    if view.stops:
        out.append(CondPageBreak(40 * mm))
        out.extend(_leg_flowables(view.return_leg, prev, view.end_depot_name, st, _, lang,
                                  turns[-1] if turns else None,
                                  strips[-1] if strips else None))
        out.append(_framed([
            _stop_head("↩", f"{_('return_leg')}: {view.end_depot_name}", st),
            _facts_table([[_p(f"{_('planned')}: {_('arrival').lower()}", st.label),
                           Paragraph(_moment_markup(view.back, _), st.big),
                           _p(_("crates_out_in"), st.label),
                           _p(f"{r.crates_delivered} / {r.crates_collected}", st.big)]],
                         col_widths=stop_cols),
            Spacer(1, 1 * mm),
            _boxes([_("actual_arrival"), _("odometer"), _("driver_signature")], st,
                   width=inner, weights=[1, 1, 1.6]),
            Spacer(1, 2 * mm),
            _boxes([_("remarks")], st, width=inner, height=22 * mm),
        ], double=True))
    return out


# --- documents ---------------------------------------------------------------------------------


def _footer(canvas: Any, doc: Any) -> None:
    """Page footer: which sheet, the page within it, the OSM attribution; records how full
    the page is when asked (``doc.mlp_fill``)."""
    fill = getattr(doc, "mlp_fill", None)
    if fill is not None:
        frame = doc.pageTemplate.frames[0]
        fill.append(round((frame._y2 - frame._y) / (frame._y2 - frame._y1), 3))
    state = getattr(canvas, "_mlp_sections", {}) or {}
    canvas._mlp_footers.append((str(state.get("footer", "")), int(state.get("first_page", 1)),
                                getattr(doc, "mlp_lang", "vi")))


class _SheetCanvas(Canvas):
    """A canvas that draws each page's footer when the document is complete, so that it can
    say "page 2 of 9" of the sheet the page belongs to: the pages are kept until
    :meth:`save`, with what :func:`_footer` noted of each."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._mlp_pages: list[dict[str, Any]] = []
        self._mlp_footers: list[tuple[str, int, str]] = []
        self._mlp_bookmarks: list[tuple[int, str, str]] = []  # (page index, key, title)

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        self._mlp_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        pages, footers, marks = self._mlp_pages, self._mlp_footers, self._mlp_bookmarks
        firsts = [first for _, first, _ in footers]
        for number, (page, (text, first, lang)) in enumerate(zip(pages, footers, strict=True),
                                                             start=1):
            self.__dict__.update(page)
            total = sum(1 for f in firsts if f == first)
            self._draw_footer(text, Translator(lang)("page_n_of", n=number - first + 1,
                                                     total=total))
            for index, key, title in marks:
                if index == number - 1:
                    self.bookmarkPage(key)
                    self.addOutlineEntry(title, key, level=0, closed=False)
            super().showPage()
        super().save()

    def _draw_footer(self, text: str, page_text: str) -> None:
        self.saveState()
        self.setFont(FONT, 8.5)
        self.setStrokeColor(colors.black)
        self.setLineWidth(0.6)
        y = MARGIN_BOTTOM - 6 * mm
        self.line(MARGIN_X, y + 3.5 * mm, PAGE_W - MARGIN_X, y + 3.5 * mm)
        self.drawString(MARGIN_X, y, text)
        self.drawRightString(PAGE_W - MARGIN_X, y, f"{page_text} · {OSM_ATTRIBUTION}")
        self.restoreState()


def _document(buf: io.BytesIO, *, title: str, lang: str) -> BaseDocTemplate:
    register_fonts()
    doc = BaseDocTemplate(buf, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                          topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, title=title,
                          author="mobile-library-planner", subject=OSM_ATTRIBUTION,
                          lang=lang, invariant=1, pageCompression=1,
                          initialFontName=FONT, initialFontSize=11)
    frame = Frame(MARGIN_X, MARGIN_BOTTOM, TEXT_W, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="text")
    doc.addPageTemplates([PageTemplate(id="sheet", frames=[frame], onPageEnd=_footer)])
    doc.mlp_lang = lang
    return doc


def sheets_pdf(plan: Plan, views: Sequence[RouteView], *, run: str, lang: str = "vi",
               map_pngs: Sequence[bytes | None] | None = None,
               scenario: Scenario | None = None,
               routes: Mapping[str, Any] | None = None,
               basemap: Basemap | None = None,
               page_fill: list[float] | None = None) -> bytes:
    """One PDF with the sheets of ``views`` (each starting on a new page and bookmarked);
    ``map_pngs`` are their overview maps, in the same order (``None`` = no map); with the
    plan's ``scenario`` and parsed ``routes.geojson`` the sheets have the stops' hours, the
    closures and turn-by-turn directions, and with the dataset's ``basemap`` a strip map per
    leg. ``page_fill``, when given, receives the share of each page's frame that is filled
    (the page budget test reads it)."""
    register_fonts()
    _ = Translator(lang)
    st = sheet_styles()
    pngs = list(map_pngs) if map_pngs is not None else [None] * len(views)
    story: list[Any] = []
    for i, (view, png) in enumerate(zip(views, pngs, strict=True)):
        if i:
            story.append(PageBreak())
        story.extend(vehicle_sheet_flowables(plan, view, run=run, lang=lang, map_png=png,
                                             st=st, scenario=scenario, routes=routes,
                                             basemap=basemap))
    if not story:
        story.append(_p(_("no_visits"), st.big))
    title = plan.scenario_title or plan.scenario_name
    if len(views) == 1:
        title = f"{_('route_sheet_for', vehicle=views[0].route.vehicle_name)} · {title}"
    buf = io.BytesIO()
    doc = _document(buf, title=title, lang=lang)
    doc.mlp_fill = page_fill
    doc.build(story, canvasmaker=_SheetCanvas)
    return buf.getvalue()


def plan_sheets_pdf(plan: Plan, indices: Sequence[int], *, run: str, lang: str = "vi",
                    scenario: Scenario | None = None,
                    routes: Mapping[str, Any] | None = None,
                    basemap: Basemap | None = None) -> bytes:
    """The route sheets of ``plan.routes[i]`` for ``i`` in ``indices``, each with its overview
    map: what the web UI serves and ``planner sheets`` writes (``routes`` the parsed
    ``routes.geojson``, ``scenario`` the plan's own, ``basemap`` its dataset's)."""
    closures = plan_closures(plan, scenario)
    legs = legs_by_vehicle(routes)
    views = [route_view(plan, i, legs.get(plan.routes[i].key) if routes else None)
             for i in indices]
    pngs = [route_map_png(v, route_lines(routes, v.route.key), basemap, lang=lang,
                          closures=closures) if v.stops else None for v in views]
    return sheets_pdf(plan, views, run=run, lang=lang, map_pngs=pngs, scenario=scenario,
                      routes=routes, basemap=basemap)


def sheet_pdf(plan: Plan, view: RouteView, *, run: str, lang: str = "vi",
              map_png: bytes | None = None, scenario: Scenario | None = None,
              routes: Mapping[str, Any] | None = None, basemap: Basemap | None = None,
              page_fill: list[float] | None = None) -> bytes:
    """The PDF route sheet of one vehicle."""
    return sheets_pdf(plan, [view], run=run, lang=lang, map_pngs=[map_png], scenario=scenario,
                      routes=routes, basemap=basemap, page_fill=page_fill)
