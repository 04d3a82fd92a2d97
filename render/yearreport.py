"""The annual report (:mod:`planner.yearreport`) as people read it: a PDF (ReportLab, with
charts drawn by matplotlib) and an XLSX workbook (openpyxl, a sheet per table and a native
chart of the months), in Vietnamese or English, each saying the day it was produced.

Charts are drawn on their own Agg canvas (no pyplot, nothing shared between requests), as
the sheet maps are (:mod:`render.sheetmap`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table

from planner.batches import AUDIENCES, languages
from planner.plan import TZ
from planner.yearreport import AnnualReport, GroupRow
from render import formatting
from render.exports import CREATOR, _sheet_name, _write_table
from render.i18n import Translator
from render.pdf import FONT, FONT_BOLD, _table_style, register_fonts
from render.sheetmap import FONT_BOLD_FILE, FONT_REGULAR_FILE

CHART_DPI = 150
CHART_SIZE_IN = (7.0, 2.8)


def _num(value: float, lang: str, digits: int = 0) -> str:
    return formatting.number(value, lang, digits=digits)


def produced_text(report: AnnualReport, lang: str) -> str:
    return report.produced_at.astimezone(TZ).strftime("%d/%m/%Y %H:%M")


def language_name(code: str, lang: str) -> str:
    names = languages()
    if code not in names:
        return code
    return names[code].name_vi if lang == "vi" else names[code].name_en


def audience_name(code: str, lang: str) -> str:
    return AUDIENCES[code][0 if lang == "vi" else 1] if code in AUDIENCES else code


def summary_rows(report: AnnualReport, lang: str) -> list[tuple[str, str]]:
    """The headline figures as (label, value) rows, shared by the PDF, the XLSX and the page."""
    _ = Translator(lang)
    cost = (_("yr_not_costed") if report.cost_vnd is None
            else _num(report.cost_vnd, lang) + " VND")
    rows = [
        (_("yr_visits_planned"), _num(report.visits_planned, lang)),
        (_("yr_visits_done"), _num(report.visits_done, lang)),
        (_("yr_visits_failed"), _num(report.visits_failed, lang)),
        (_("yr_visits_not_recorded"), _num(report.visits_not_recorded, lang)),
        (_("yr_communes_planned"), _num(report.communes_planned, lang)),
        (_("yr_communes_served"), _(
            "yr_of_area" if report.service_area_name else "yr_of_area_unnamed",
            served=report.communes_served, area=report.service_area_communes,
            name=report.service_area_name or "", share=formatting.percent(report.coverage,
                                                                          lang))),
    ]
    for t in report.targets:
        rows.append((_("yr_target", share=formatting.percent(t.target, lang, digits=0),
                       year=t.year),
                     _("yr_target_met") if t.met else _("yr_target_missing", n=t.missing,
                                                        needed=t.needed)))
    rows += [
        (_("yr_batches_delivered"), _num(report.batches_delivered, lang)),
        (_("yr_batches_collected"), _num(report.batches_collected, lang)),
        (_("yr_books_delivered"), _num(report.books_delivered, lang)
         + (" " + _("yr_books_unknown", n=report.batches_without_book_count)
            if report.batches_without_book_count else "")),
        (_("yr_crates_delivered"), _num(report.crates_delivered, lang)),
        (_("yr_trips"), _num(report.trips, lang)),
        ("km", _num(report.km, lang, 1)),
        (_("yr_driving_hours"), _num(report.driving_hours, lang, 1)),
        (_("yr_nights"), _num(report.nights_away, lang)),
        (_("yr_cost"), cost + (" " + _("yr_uncosted", n=report.uncosted_plans)
                               if report.uncosted_plans and report.cost_vnd is not None
                               else "")),
    ]
    return rows


def commune_table(report: AnnualReport, lang: str) -> list[list[Any]]:
    _ = Translator(lang)
    header = [_("commune_code"), _("commune"), _("yr_col_planned"), _("yr_col_done"),
              _("yr_col_failed"), _("yr_col_batches"), _("yr_col_books"), _("yr_col_languages"),
              _("yr_col_audiences")]
    return [header, *([c.code, c.name, c.planned, c.done, c.failed, c.batches_delivered,
                       c.books_delivered, ", ".join(language_name(x, lang) for x in c.languages),
                       ", ".join(audience_name(x, lang) for x in c.audiences)]
                      for c in report.communes)]


def group_table(rows: Sequence[GroupRow], lang: str, *, kind: str) -> list[list[Any]]:
    _ = Translator(lang)
    name = language_name if kind == "language" else audience_name
    header = [_("yr_col_language") if kind == "language" else _("yr_col_audience"),
              _("yr_col_communes"), _("yr_col_served"), _("yr_col_done"), _("yr_col_batches")]
    return [header, *([name(g.code, lang), g.communes, g.communes_served, g.visits_done,
                       g.batches_delivered] for g in rows)]


def month_table(report: AnnualReport, lang: str) -> list[list[Any]]:
    _ = Translator(lang)
    header = [_("yr_col_month"), _("yr_col_planned"), _("yr_col_done"), _("yr_col_failed")]
    return [header, *([f"{m:02d}/{report.year}", p, d, f] for m, p, d, f in report.months)]


# --- charts --------------------------------------------------------------------------------


def _figure() -> tuple[Figure, Any, FontProperties]:
    fig = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    return fig, ax, FontProperties(fname=str(FONT_REGULAR_FILE), size=8)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CHART_DPI, bbox_inches="tight")
    return buf.getvalue()


def _plain(text: str) -> str:
    """Text as matplotlib draws it literally (a ``$`` would start its math mode)."""
    return text.replace("$", r"\$")


def months_chart_png(report: AnnualReport, lang: str) -> bytes:
    """Visits per month: done, failed and not recorded, stacked."""
    _ = Translator(lang)
    fig, ax, font = _figure()
    months = list(range(1, 13))
    by = {m: (p, d, f) for m, p, d, f in report.months}
    done = [by.get(m, (0, 0, 0))[1] for m in months]
    failed = [by.get(m, (0, 0, 0))[2] for m in months]
    rest = [by.get(m, (0, 0, 0))[0] - d - f for m, d, f in zip(months, done, failed, strict=True)]
    ax.bar(months, done, color="#2b7a3d", label=_plain(_("yr_col_done")))
    ax.bar(months, failed, bottom=done, color="#c0392b", label=_plain(_("yr_col_failed")))
    ax.bar(months, rest, bottom=[d + f for d, f in zip(done, failed, strict=True)],
           color="#bbbbbb", label=_plain(_("yr_visits_not_recorded")))
    ax.set_xticks(months)
    ax.set_xticklabels([str(m) for m in months], fontproperties=font)
    ax.set_title(_plain(_("yr_chart_months", year=report.year)),
                 fontproperties=FontProperties(fname=str(FONT_BOLD_FILE), size=9))
    ax.legend(prop=font, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def coverage_chart_png(report: AnnualReport, lang: str) -> bytes:
    """Communes served against each programme target (horizontal bars, in communes)."""
    _ = Translator(lang)
    fig, ax, font = _figure()
    labels = [_plain(_("yr_served_bar"))] + [
        _plain(_("yr_target", share=formatting.percent(t.target, lang, digits=0), year=t.year))
        for t in report.targets]
    values = [report.communes_served] + [t.needed for t in report.targets]
    ax.barh(range(len(values)), values,
            color=["#2b7a3d"] + ["#999999"] * len(report.targets))
    ax.set_yticks(range(len(values)))
    ax.set_yticklabels(labels, fontproperties=font)
    ax.invert_yaxis()
    for i, v in enumerate(values):
        ax.text(v, i, f" {v}", va="center", fontproperties=font)
    ax.set_title(_plain(_("yr_chart_coverage", area=report.service_area_communes)),
                 fontproperties=FontProperties(fname=str(FONT_BOLD_FILE), size=9))
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def languages_chart_png(report: AnnualReport, lang: str) -> bytes:
    """Communes with a language in their profile, and of them those served."""
    _ = Translator(lang)
    fig, ax, font = _figure()
    rows = report.languages
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [g.communes for g in rows], width=0.4, color="#999999",
           label=_plain(_("yr_col_communes")))
    ax.bar([x + 0.2 for x in xs], [g.communes_served for g in rows], width=0.4,
           color="#2b7a3d", label=_plain(_("yr_col_served")))
    ax.set_xticks(list(xs))
    ax.set_xticklabels([_plain(language_name(g.code, lang)) for g in rows], fontproperties=font,
                       rotation=20, ha="right")
    ax.set_title(_plain(_("yr_chart_languages")),
                 fontproperties=FontProperties(fname=str(FONT_BOLD_FILE), size=9))
    ax.legend(prop=font, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


# --- PDF -----------------------------------------------------------------------------------


def report_pdf(report: AnnualReport, *, lang: str = "vi", title: str = "") -> bytes:
    """The report as an A4 PDF: headline figures, charts, then the tables by commune, by
    language and by audience."""
    register_fonts()
    _ = Translator(lang)

    def style(name: str, size: float, bold: bool = False, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=FONT_BOLD if bold else FONT, fontSize=size,
                              leading=size * 1.25, **kw)

    h1, h2, body, small = (style("h1", 17, True, spaceAfter=2 * mm),
                           style("h2", 12.5, True, spaceBefore=4 * mm, spaceAfter=2 * mm),
                           style("body", 9.5), style("small", 8))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm,
                            topMargin=13 * mm, bottomMargin=13 * mm,
                            title=title or _("yr_title", year=report.year),
                            creator="mobile-library-planner", pageCompression=1)
    width = doc.width

    def table(rows: Sequence[Sequence[Any]], widths: Sequence[float]) -> Table:
        cells = [[Paragraph(escape(str(x)), small if i else style("th", 8, True))
                  for x in row] for i, row in enumerate(rows)]
        t = Table(cells, colWidths=[w * width for w in widths], repeatRows=1)
        t.setStyle(_table_style([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                                 ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    def chart(png: bytes) -> Image:
        w_in, h_in = CHART_SIZE_IN
        return Image(io.BytesIO(png), width=width, height=width * h_in / w_in)

    story: list = [
        Paragraph(escape(title or _("yr_title", year=report.year)), h1),
        Paragraph(escape(_("yr_produced", date=produced_text(report, lang))), body),
        Paragraph(escape(_("yr_sources", versions=", ".join(report.versions) or "—")), small),
        Spacer(1, 3 * mm),
        table([[_("yr_figure"), _("yr_value")], *summary_rows(report, lang)], [0.5, 0.5]),
        Paragraph(escape(_("yr_definitions")), small),
        Paragraph(escape(_("yr_charts")), h2),
        chart(months_chart_png(report, lang)),
        chart(coverage_chart_png(report, lang))]
    if report.languages:
        story.append(chart(languages_chart_png(report, lang)))
    story += [Paragraph(escape(_("yr_by_commune")), h2),
              table(commune_table(report, lang),
                    [0.08, 0.17, 0.08, 0.08, 0.08, 0.08, 0.08, 0.21, 0.14])]
    if report.languages:
        story += [Paragraph(escape(_("yr_by_language")), h2),
                  table(group_table(report.languages, lang, kind="language"),
                        [0.32, 0.17, 0.17, 0.17, 0.17])]
    if report.audiences:
        story += [Paragraph(escape(_("yr_by_audience")), h2),
                  table(group_table(report.audiences, lang, kind="audience"),
                        [0.32, 0.17, 0.17, 0.17, 0.17])]
    doc.build(story)
    return buf.getvalue()


# --- XLSX ----------------------------------------------------------------------------------


def report_xlsx(report: AnnualReport, *, lang: str = "vi", title: str = "") -> bytes:
    """The report as a workbook: a summary sheet (with the date produced), the tables by
    commune, language, audience and month, and a chart of the months."""
    _ = Translator(lang)
    wb = Workbook()
    wb.properties.creator = CREATOR
    wb.properties.title = title or _("yr_title", year=report.year)
    taken: set[str] = set()
    ws = wb.active
    ws.title = _sheet_name(_("summary"), taken)
    _write_table(ws, [_("yr_figure"), _("yr_value")],
                 [[title or _("yr_title", year=report.year), ""],
                  [_("yr_produced_label"), produced_text(report, lang)],
                  [_("yr_sources_label"), ", ".join(report.versions)],
                  *[list(r) for r in summary_rows(report, lang)]], [48, 60])
    for name, rows in ((_("yr_by_commune"), commune_table(report, lang)),
                       (_("yr_by_language"), group_table(report.languages, lang,
                                                         kind="language")),
                       (_("yr_by_audience"), group_table(report.audiences, lang,
                                                         kind="audience"))):
        sheet = wb.create_sheet(_sheet_name(name, taken))
        header, *body = rows
        _write_table(sheet, header, body, [max(10.0, min(36.0, len(str(h)) + 6))
                                           for h in header])
    months = wb.create_sheet(_sheet_name(_("yr_by_month"), taken))
    header, *body = month_table(report, lang)
    _write_table(months, header, body, [12, 12, 12, 12])
    if body:
        bar = BarChart()
        bar.type, bar.grouping, bar.overlap = "col", "clustered", 0
        bar.title = _("yr_chart_months", year=report.year)
        data = Reference(months, min_col=2, max_col=4, min_row=1, max_row=len(body) + 1)
        bar.add_data(data, titles_from_data=True)
        bar.set_categories(Reference(months, min_col=1, min_row=2, max_row=len(body) + 1))
        months.add_chart(bar, "F2")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["commune_table", "coverage_chart_png", "group_table", "languages_chart_png",
           "month_table", "months_chart_png", "report_pdf", "report_xlsx", "summary_rows"]
