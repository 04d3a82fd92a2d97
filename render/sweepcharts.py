"""Charts of sweeps, as PNG bytes drawn with matplotlib (Agg): the comparison of a sweep's
variants (coverage against the programme targets, cost), a fleet sizing's cost and coverage
against the fleets tried, and the region's provinces against 15/50/90%.

No pyplot: every figure is its own :class:`~matplotlib.figure.Figure` on its own canvas (as
in :mod:`render.sheetmap`), so pages can draw them concurrently. Labels come from the
catalogues, in one language per chart.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from planner.kpis import PROGRAMME_TARGETS
from planner.sweep import VariantResult, share_of
from render.i18n import Translator
from render.sheetmap import FONT_REGULAR_FILE

COVERAGE_COLOUR = "#1f6f8b"
COST_COLOUR = "#c98a2b"
TARGET_COLOURS = ("#6a9f3b", "#d17a22", "#b33a3a")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", pad_inches=0.15)
    return buf.getvalue()


def _targets(ax: Any, font: FontProperties, _: Translator) -> None:
    for t, colour in zip(PROGRAMME_TARGETS, TARGET_COLOURS, strict=False):
        ax.axhline(t.share * 100, color=colour, linestyle="--", linewidth=1)
        ax.text(0.005, t.share * 100 + 1, _("sweep_chart_target", share=f"{t.share:.0%}",
                                            year=t.year),
                transform=ax.get_yaxis_transform(), va="bottom", ha="left", color=colour,
                fontproperties=font, fontsize=8)


def _bars(labels: Sequence[str], shares: Sequence[float], costs: Sequence[float | None],
          *, title: str, xlabel: str, lang: str) -> bytes:
    _ = Translator(lang)
    font = FontProperties(fname=str(FONT_REGULAR_FILE))
    width = max(6.0, 0.55 * len(labels) + 2.5)
    fig = Figure(figsize=(width, 3.6), facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
    x = list(range(len(labels)))
    ax.bar(x, [s * 100 for s in shares], color=COVERAGE_COLOUR, width=0.6,
           label=_("sweep_chart_coverage"))
    ax.set_ylim(0, 100)
    ax.set_ylabel(_("sweep_chart_coverage"), fontproperties=font, color=COVERAGE_COLOUR)
    ax.set_xticks(x)
    # names (variants, provinces, titles) are text, never "$math$"
    ax.set_xticklabels(labels, rotation=35, ha="right", fontproperties=font, fontsize=8,
                       parse_math=False)
    ax.set_xlabel(xlabel, fontproperties=font)
    ax.set_title(title, fontproperties=font, fontsize=11, parse_math=False)
    _targets(ax, font, _)
    known = [(i, c) for i, c in enumerate(costs) if c is not None]
    if known:
        cost_ax = ax.twinx()
        cost_ax.plot([i for i, _c in known], [c / 1e6 for _i, c in known], "o-",
                     color=COST_COLOUR)
        cost_ax.set_ylim(bottom=0)
        cost_ax.set_ylabel(_("sweep_chart_cost"), fontproperties=font, color=COST_COLOUR)
    return _png(fig)


def sweep_chart_png(results: Sequence[VariantResult], *, lang: str, title: str) -> bytes:
    """Each variant's coverage (bars, against the targets) and cost (points, million VND);
    a failed variant shows no bar and no point."""
    costs = [r.kpi().cost_vnd if r.ok else None for r in results]
    bases = {r.base for r in results}
    labels = [r.key.removeprefix(r.base + "_") if len(bases) == 1 and r.key != r.base
              else r.key for r in results]
    return _bars(labels, [share_of(r) for r in results], costs,
                 title=title, xlabel=Translator(lang)("sweep_chart_variant"), lang=lang)


def fleet_chart_png(answer: Mapping[str, Any], *, lang: str) -> bytes:
    """A fleet sizing's fleets tried (the stored answer of :class:`planner.fleet.FleetAnswer`,
    by number of vehicles): coverage and cost against the fleet."""
    _ = Translator(lang)
    trials = sorted(answer.get("trials", ()), key=lambda t: (t["vehicles"], t["label"]))
    labels = [f"{t['label']} ({t['vehicles']})" for t in trials]
    costs = [float(t["cost_vnd"]) if t["status"] == "ok" or t["served"] else None
             for t in trials]
    return _bars(labels, [float(t["share"]) for t in trials], costs,
                 title=_("fleet_chart_title", scenario=answer.get("scenario", ""),
                         target=f"{float(answer.get('target', 0)):.0%}"),
                 xlabel=_("fleet_chart_fleet"), lang=lang)


def region_chart_png(results: Sequence[VariantResult], *, lang: str) -> bytes:
    """Each province's coverage against 15/50/90%."""
    _ = Translator(lang)
    return _bars([r.base for r in results], [share_of(r) for r in results],
                 [None] * len(results), title=_("region_chart_title"),
                 xlabel=_("region_chart_province"), lang=lang)
