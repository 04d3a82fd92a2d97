"""Crate labels: one per book batch a plan sends out, eight to an A4 page, for a librarian to
cut out and tape on the batch's crate.

A label prints the batch id in large type and as a QR code, what the batch is (crates,
languages, audience, title), where it goes (commune, vehicle, stop number, day) and tick
boxes the crew fills in on the road (left / taken back / missing) with a line for the date and
a signature, since drivers often have no signal. The QR code holds the batch's page under the
deployment's public base URL (``https://…/batches/HG-2026-013``), or the bare batch id when no
base URL is set. QR codes are drawn by ReportLab's own QR widget.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from planner.plan import Plan, PlanBatch
from render import formatting
from render.i18n import Translator
from render.pdf import FONT, FONT_BOLD, register_fonts

COLUMNS, ROWS = 2, 4
MARGIN = 10 * mm
GAP = 4 * mm
QR_SIZE = 30 * mm


@dataclass(frozen=True)
class Label:
    """One crate label: the batch and where it goes on the plan."""

    batch: PlanBatch
    commune: str
    vehicle: str
    seq: int
    day: str  # the service day, as people read it
    handed_on_from: str = ""  # the commune it is taken back at before, on a hand-on


def plan_labels(plan: Plan, *, lang: str = "vi") -> list[Label]:
    """A label for every batch the plan leaves at a commune, in trip and stop order."""
    info = {b.batch_id: b for b in plan.batches}
    out = []
    for route in plan.routes:
        taken: dict[str, str] = {}
        for v in route.visits:
            for batch_id in v.deliver_batches:
                out.append(Label(info.get(batch_id) or PlanBatch(batch_id, 0),
                                 v.commune_name, route.vehicle_name or route.key,
                                 v.seq, formatting.date_text(
                                     formatting.parse_clock(v.arrival).date(), lang,
                                     weekday=True),
                                 handed_on_from=taken.get(batch_id, "")))
            for batch_id in v.collect_batches:
                taken[batch_id] = v.commune_name
    return out


def batch_url(batch_id: str, base_url: str | None) -> str:
    """What a label's QR code holds: the batch's page, or its id without a base URL."""
    if not base_url:
        return batch_id
    return f"{base_url.rstrip('/')}/batches/{quote(batch_id)}"


def labels_pdf(labels: Sequence[Label], *, lang: str = "vi", base_url: str | None = None,
               title: str = "") -> bytes:
    """The labels as a PDF, eight to an A4 page (an empty page saying so when there are
    none)."""
    register_fonts()
    _ = Translator(lang)
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, pageCompression=1)
    canvas.setTitle(title or _("labels_title"))
    page_w, page_h = A4
    cell_w = (page_w - 2 * MARGIN - (COLUMNS - 1) * GAP) / COLUMNS
    cell_h = (page_h - 2 * MARGIN - (ROWS - 1) * GAP) / ROWS
    if not labels:
        canvas.setFont(FONT, 12)
        canvas.drawString(MARGIN, page_h - MARGIN - 12, _("labels_none"))
    for i, label in enumerate(labels):
        if i and i % (COLUMNS * ROWS) == 0:
            canvas.showPage()
        slot = i % (COLUMNS * ROWS)
        x = MARGIN + (slot % COLUMNS) * (cell_w + GAP)
        y = page_h - MARGIN - (slot // COLUMNS + 1) * cell_h - (slot // COLUMNS) * GAP
        _label(canvas, label, x, y, cell_w, cell_h, _, batch_url(label.batch.batch_id, base_url))
    canvas.save()
    return buf.getvalue()


def _label(canvas: Canvas, label: Label, x: float, y: float, w: float, h: float,
           _: Translator, url: str) -> None:
    canvas.setDash(3, 2)
    canvas.rect(x, y, w, h)  # where to cut
    canvas.setDash()
    pad = 4 * mm
    widget = QrCodeWidget(url)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE,
                      transform=[QR_SIZE / (right - left), 0, 0, QR_SIZE / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x + w - pad - QR_SIZE, y + h - pad - QR_SIZE)
    text_w = w - 3 * pad - QR_SIZE
    top_y = y + h - pad
    canvas.setFont(FONT_BOLD, 16)
    canvas.drawString(x + pad, top_y - 14, _fit(label.batch.batch_id, FONT_BOLD, 16, text_w,
                                                canvas))
    lines = [(FONT, 9, _.batch(PlanBatch(label.batch.batch_id, label.batch.crates,
                                           label.batch.languages, label.batch.audiences))
              .split(" · ", 1)[-1] if label.batch.crates or label.batch.languages else ""),
             (FONT, 9, label.batch.title),
             (FONT_BOLD, 11, _("label_to", commune=label.commune)),
             (FONT, 9, _("label_trip", vehicle=label.vehicle, seq=label.seq, day=label.day))]
    if label.handed_on_from:
        lines.append((FONT, 9, _("label_handed_on", commune=label.handed_on_from)))
    line_y = top_y - 30
    for font, size, text in lines:
        if not text:
            continue
        canvas.setFont(font, size)
        canvas.drawString(x + pad, line_y, _fit(text, font, size, text_w, canvas))
        line_y -= size + 4
    canvas.setFont(FONT, 10)
    ticks = (f"☐ {_('tick_delivered')}    ☐ {_('tick_collected')}    "
             f"☐ {_('tick_missing')}")
    canvas.drawString(x + pad, y + pad + 16, _fit(ticks, FONT, 10, w - 2 * pad, canvas))
    canvas.setFont(FONT, 8)
    canvas.drawString(x + pad, y + pad + 2, _fit(_("label_sign"), FONT, 8, w - 2 * pad, canvas))


def _fit(text: str, font: str, size: float, width: float, canvas: Canvas) -> str:
    """``text`` cut with an ellipsis to ``width`` points."""
    if canvas.stringWidth(text, font, size) <= width:
        return text
    while text and canvas.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


__all__ = ["Label", "batch_url", "labels_pdf", "plan_labels"]
