"""Strip maps: one map per leg of a route sheet, drawn from the road data (no tiles).

Each map shows the leg's line with arrows in the direction of travel, the numbered junctions
of its turn-by-turn instructions (the numbers of the sheet's table), the road numbers and
names along the line, the villages passed, the road closures in red, and an inset of the
last kilometres to the stop (the approach). Black and white friendly: the route is dark,
junctions are black discs, closures are also hatched or dashed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patheffects import withStroke

from geodata.datasets import Place
from geodata.directions import cumulative_m, point_at
from render.closures import ClosureView
from render.directions import Instruction
from render.i18n import Translator
from render.sheetmap import (
    BASEMAP_CLASSES,
    FONT_BOLD_FILE,
    FONT_REGULAR_FILE,
    OSM_ATTRIBUTION,
    ROAD_STYLE,
    Basemap,
    _draw_closures,
    _draw_north_arrow,
    _draw_scale_bar,
    map_extent,
)

STRIP_SIZE_IN: tuple[float, float] = (7.4, 3.0)  # the text width of an A4 sheet, 76 mm high
STRIP_DPI = 150
APPROACH_M = 2500.0  # the inset shows the last 2.5 km to the stop
ARROW_EVERY_M = 8000.0  # one arrow per 8 km of the line (at least two)
ROUTE_COLOUR = "#1f1f1f"
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


def _in_view(line: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> bool:
    return bool(line[:, 0].max() >= x0 and line[:, 0].min() <= x1
                and line[:, 1].max() >= y0 and line[:, 1].min() <= y1)


def _setup(ax: Any, points: np.ndarray, aspect: float, basemap: Basemap | None, *,
           pad: float = 0.06) -> tuple[float, float, float, float]:
    x0, x1, y0, y1 = map_extent(points, aspect, pad=pad)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("white")
    if basemap is not None:
        for z, cls in enumerate(reversed(BASEMAP_CLASSES)):
            colour, width = ROAD_STYLE.get(cls, ("#bbbbbb", 0.5))
            segs = [s for s in basemap.roads.get(cls, ()) if _in_view(s, x0, x1, y0, y1)]
            if segs:
                ax.add_collection(LineCollection(segs, colors=colour, linewidths=width * 1.4,
                                                 capstyle="round", zorder=2 + z * 0.1))
    return x0, x1, y0, y1


def _route(ax: Any, line: np.ndarray, *, width: float = 3.4) -> None:
    ax.plot(line[:, 0], line[:, 1], color="white", linewidth=width + 3, zorder=4,
            solid_capstyle="round", solid_joinstyle="round")
    ax.plot(line[:, 0], line[:, 1], color=ROUTE_COLOUR, linewidth=width, zorder=4.1,
            solid_capstyle="round", solid_joinstyle="round")


def _arrows(ax: Any, line: np.ndarray, cum: np.ndarray) -> None:
    """Arrowheads along the line, pointing the way the leg is driven."""
    n = max(2, int(cum[-1] // ARROW_EVERY_M))
    for k in range(1, n + 1):
        at = cum[-1] * k / (n + 1)
        a = point_at(line, cum, at - 80.0)
        b = point_at(line, cum, at + 80.0)
        if a == b:
            continue
        ax.annotate("", xy=b, xytext=a, zorder=4.5,
                    arrowprops={"arrowstyle": "-|>,head_width=0.5,head_length=0.9",
                                "facecolor": "white", "edgecolor": ROUTE_COLOUR,
                                "linewidth": 0.8, "shrinkA": 0, "shrinkB": 0,
                                "mutation_scale": 9})


def _junction(ax: Any, lon: float, lat: float, text: str, font: FontProperties, *,
              size: float = 11.0, square: bool = False) -> None:
    ax.plot([lon], [lat], marker="s" if square else "o", markersize=size,
            markerfacecolor="black", markeredgecolor="white", markeredgewidth=1.3, zorder=6,
            linestyle="none")
    ax.text(lon, lat, text, ha="center", va="center", color="white", fontproperties=font,
            fontsize=size * 0.58, zorder=6.5)


def _road_labels(ax: Any, line: np.ndarray, cum: np.ndarray,
                 steps: Sequence[Instruction], font: FontProperties, taken: list[Box]
                 ) -> None:
    """The road number (else its first name) at the middle of each road taken, where it
    overlaps no label already placed."""
    halo = [withStroke(linewidth=3, foreground="white")]
    px_per_pt = ax.figure.dpi / 72
    scale = cum[-1] / max(steps[-1].at_km * 1000, 1.0) if steps else 1.0
    for ins in steps:
        if ins.road is None or ins.km < 1.0:
            continue
        label = ins.road.ref or (ins.road.names[0] if ins.road.names else "")
        if not label:
            continue
        lon, lat = point_at(line, cum, (ins.at_km + ins.km / 2) * 1000 * scale)
        px, py = ax.transData.transform((lon, lat))
        w, h = 0.62 * 7.5 * (len(label) + 1) * px_per_pt, 11 * px_per_pt
        box = (px - w / 2, py, px + w / 2, py + h)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
               for b in taken):
            continue
        taken.append(box)
        ax.text(lon, lat, label, ha="center", va="bottom", fontproperties=font, fontsize=7.5,
                zorder=6.2, path_effects=halo, parse_math=False,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "#ffffff", "edgecolor":
                      "#555555", "linewidth": 0.6} if ins.road.ref else None)


def _villages(ax: Any, places: Sequence[Place], names: set[str], x0: float, x1: float,
              y0: float, y1: float, font: FontProperties, taken: list[Box]) -> None:
    """The villages passed, each labelled where its label overlaps no other label or
    junction (else only its dot)."""
    halo = [withStroke(linewidth=2.5, foreground="white")]
    px_per_pt = ax.figure.dpi / 72
    for p in places:
        if p.name not in names or not (x0 <= p.lon <= x1 and y0 <= p.lat <= y1):
            continue
        ax.plot([p.lon], [p.lat], marker="o", markersize=3, color="#444444", zorder=5,
                linestyle="none")
        px, py = ax.transData.transform((p.lon, p.lat))
        w, h = (0.6 * 6.5 * (len(p.name) + 1)) * px_per_pt, 8 * px_per_pt
        box = (px + 2, py - h / 2, px + 2 + w, py + h / 2)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
               for b in taken):
            continue
        taken.append(box)
        ax.text(p.lon, p.lat, f" {p.name}", ha="left", va="center", fontproperties=font,
                fontsize=6.5, color="#222222", zorder=5.1, path_effects=halo,
                parse_math=False, clip_on=True)


def leg_map_png(line: np.ndarray, steps: Sequence[Instruction], basemap: Basemap | None, *,
                lang: str = "vi", places: Sequence[Place] = (),
                closures: Sequence[ClosureView] = (), stop_label: str = "",
                size_in: tuple[float, float] = STRIP_SIZE_IN, dpi: int = STRIP_DPI,
                fmt: str = "png") -> bytes:
    """The strip map of one leg as PNG (or, ``fmt="jpeg"``, JPEG: what a PDF embeds without
    re-encoding) bytes: ``line`` its road-following line (lon/lat),
    ``steps`` its instructions (numbered junctions), ``places`` the dataset's named places
    (those the instructions pass are labelled), ``closures`` the plan's (drawn in red, ``X1``
    ... as the sheet lists them); ``stop_label`` marks the end (the stop's number)."""
    _ = Translator(lang)
    regular = FontProperties(fname=str(FONT_REGULAR_FILE))
    bold = FontProperties(fname=str(FONT_BOLD_FILE))
    line = np.asarray(line, dtype=float)
    cum = cumulative_m(line)
    fig = Figure(figsize=size_in, dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    x0, x1, y0, y1 = _setup(ax, line, size_in[0] / size_in[1], basemap)
    if closures:
        _draw_closures(ax, closures, bold)
    _route(ax, line)
    _arrows(ax, line, cum)
    inset = _emptiest_corner(ax, line, fig) if cum[-1] > 2 * APPROACH_M else None
    taken: list[Box] = []
    for ins in steps:
        px, py = ax.transData.transform((ins.lon, ins.lat))
        taken.append((px - 9, py - 9, px + 9, py + 9))
    if inset is not None:
        w, h = fig.bbox.width, fig.bbox.height
        taken.append((inset[0] * w, inset[1] * h, (inset[0] + inset[2]) * w,
                      (inset[1] + inset[3]) * h))
    _road_labels(ax, line, cum, steps, bold, taken)
    villages = {v for ins in steps for v in ins.villages}
    _villages(ax, places, villages, x0, x1, y0, y1, regular, taken)
    for ins in steps[1:-1]:
        _junction(ax, ins.lon, ins.lat, str(ins.number), bold)
    if steps:
        _junction(ax, steps[0].lon, steps[0].lat, str(steps[0].number), bold, square=True)
    end = line[-1]
    _junction(ax, float(end[0]), float(end[1]), stop_label or "●", bold, size=14)
    _draw_scale_bar(ax, (x0, x1), (y0, y1), regular)
    _draw_north_arrow(ax, _("map_north"), bold)
    ax.text(0.005, 0.008, OSM_ATTRIBUTION, transform=ax.transAxes, ha="left", va="bottom",
            fontproperties=regular, fontsize=6, zorder=10,
            bbox={"boxstyle": "square,pad=0.2", "facecolor": "white", "edgecolor": "none",
                  "alpha": 0.85})
    if inset is not None:
        _approach_inset(fig, inset, line, cum, steps, basemap, stop_label, bold, regular, _)
    for spine in ax.spines.values():
        spine.set_linewidth(1.0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    buf = io.BytesIO()
    if fmt == "jpeg":
        fig.savefig(buf, format="jpeg", dpi=dpi, facecolor="white",
                    pil_kwargs={"quality": 90, "optimize": False})
    else:
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


INSET_W, INSET_H = 0.30, 0.585  # of the figure


def _emptiest_corner(ax: Any, line: np.ndarray, fig: Figure
                     ) -> tuple[float, float, float, float]:
    """Where the approach inset covers the fewest points of the leg: ``(x, y, w, h)`` in
    figure fractions, in one of the four corners (the scale bar's and the north arrow's
    corners count as taken)."""
    px = ax.transData.transform(line) / np.array([fig.bbox.width, fig.bbox.height])
    corners = {(0.008, 1 - INSET_H - 0.015): 0.0, (1 - INSET_W - 0.05, 1 - INSET_H - 0.015): 0.5,
               (0.008, 0.06): 1.0, (1 - INSET_W - 0.008, 0.015): 0.25}
    best, best_cost = (0.008, 1 - INSET_H - 0.015), math.inf
    for (x, y), penalty in corners.items():
        inside = ((px[:, 0] >= x) & (px[:, 0] <= x + INSET_W) & (px[:, 1] >= y)
                  & (px[:, 1] <= y + INSET_H)).mean()
        if inside + penalty * 0.01 < best_cost:
            best, best_cost = (x, y), inside + penalty * 0.01
    return best[0], best[1], INSET_W, INSET_H


def _approach_inset(fig: Figure, where: tuple[float, float, float, float], line: np.ndarray,
                    cum: np.ndarray,
                    steps: Sequence[Instruction], basemap: Basemap | None, stop_label: str,
                    bold: FontProperties, regular: FontProperties, _: Translator) -> None:
    """The last :data:`APPROACH_M` of the leg, magnified in the top left corner."""
    part = line[cum >= cum[-1] - APPROACH_M]
    start = point_at(line, cum, cum[-1] - APPROACH_M)
    part = np.vstack([start, part])
    ax = fig.add_axes(where)
    x0, x1, y0, y1 = _setup(ax, part, where[2] * fig.get_figwidth() /
                            (where[3] * fig.get_figheight()), basemap, pad=0.12)
    _route(ax, part, width=3.0)
    _arrows(ax, part, cumulative_m(part))
    for ins in steps[:-1]:
        if x0 <= ins.lon <= x1 and y0 <= ins.lat <= y1:
            _junction(ax, ins.lon, ins.lat, str(ins.number), bold, size=10)
    _junction(ax, float(part[-1][0]), float(part[-1][1]), stop_label or "●", bold, size=13)
    km = APPROACH_M / 1000
    ax.text(0.03, 0.97, _("strip_approach", km=f"{km:g}".replace(".", "," if _.lang == "vi"
                                                                 else ".")),
            transform=ax.transAxes, ha="left", va="top", fontproperties=bold, fontsize=7,
            zorder=10, bbox={"boxstyle": "square,pad=0.2", "facecolor": "white",
                             "edgecolor": "none", "alpha": 0.9})
    lat_mid = (y0 + y1) / 2
    width_km = (x1 - x0) * 111.32 * math.cos(math.radians(lat_mid))
    ax.text(0.97, 0.03, f"≈ {width_km:.1f} km".replace(".", "," if _.lang == "vi" else "."),
            transform=ax.transAxes, ha="right", va="bottom", fontproperties=regular,
            fontsize=6.5, zorder=10)
    for spine in ax.spines.values():
        spine.set_linewidth(1.6)


__all__ = ["APPROACH_M", "STRIP_DPI", "STRIP_SIZE_IN", "leg_map_png"]
