"""The overview map of one route, for printed sheets: a PNG drawn with matplotlib (Agg) from
the road network itself, without tiles.

The map shows the province outline and main roads of the plan's dataset, the route's
road-following line from ``routes.geojson``, numbered stops with commune names, the depot,
a scale bar, a north arrow and the OpenStreetMap attribution. It is meant to be legible in
black and white: grey roads, a thick dark route with a white halo, black stop badges.

No pyplot and no ``rcParams``: every figure is a :class:`matplotlib.figure.Figure` drawn on
its own Agg canvas, so nothing is shared between requests.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.patheffects import withStroke
from shapely.geometry import shape

from geodata.basemap import basemap_layers
from render import ASSETS_DIR
from render.closures import ClosureView
from render.i18n import Translator
from render.routeview import RouteView

FONT_DIR = ASSETS_DIR / "fonts"
FONT_REGULAR_FILE = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD_FILE = FONT_DIR / "DejaVuSans-Bold.ttf"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

BASEMAP_CLASSES: tuple[str, ...] = ("trunk", "primary", "secondary", "tertiary")
BASEMAP_SIMPLIFY_DEG = 0.0005  # about 50 m: below a printed pixel at province scale
ROUTE_SIMPLIFY_DEG = 0.0002  # about 20 m
# (grey, line width in points), trunk roads darkest and widest; all lighter than the route.
ROAD_STYLE: Mapping[str, tuple[str, float]] = {
    "trunk": ("#7a7a7a", 1.5),
    "primary": ("#8c8c8c", 1.15),
    "secondary": ("#a6a6a6", 0.85),
    "tertiary": ("#c4c4c4", 0.55),
}
KM_PER_DEG_LAT = 111.32
MAP_SIZE_IN: tuple[float, float] = (7.4, 4.6)  # 188 x 117 mm: the width of an A4 sheet's text
MAP_DPI = 200


# --- the basemap ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Basemap:
    """The province outline (polygon rings) and main roads (polylines) of a dataset, as
    ``(n, 2)`` arrays of lon/lat ready for matplotlib collections."""

    outline: tuple[np.ndarray, ...]
    roads: Mapping[str, tuple[np.ndarray, ...]]


def _lines_of(geometry: Mapping[str, Any]) -> list[np.ndarray]:
    """Every ring or line of a GeoJSON geometry as an ``(n, 2)`` array."""
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "LineString":
        parts = [coords]
    elif kind in ("MultiLineString", "Polygon"):
        parts = list(coords)
    elif kind == "MultiPolygon":
        parts = [ring for polygon in coords for ring in polygon]
    else:
        parts = []
    return [np.asarray(p, dtype=float)[:, :2] for p in parts if len(p) >= 2]


def basemap_from_layers(outline_features: Iterable[Mapping[str, Any]],
                        roads_by_class: Mapping[str, Iterable[Mapping[str, Any]]]) -> Basemap:
    """A :class:`Basemap` from the GeoJSON features of
    :func:`geodata.basemap.basemap_layers`."""
    outline = tuple(line for f in outline_features for line in _lines_of(f["geometry"]))
    roads = {cls: tuple(line for f in feats for line in _lines_of(f["geometry"]))
             for cls, feats in roads_by_class.items()}
    return Basemap(outline=outline, roads=roads)


def load_basemap(network: str) -> Basemap:
    """The basemap of dataset ``network``, simplified for print (about 0.3 s)."""
    outline, roads = basemap_layers(network, classes=BASEMAP_CLASSES,
                                    tolerance_deg=BASEMAP_SIMPLIFY_DEG, decimals=4)
    return basemap_from_layers(outline, roads)


@dataclass
class BasemapCache:
    """Basemaps by dataset name, loaded once per app (the datasets do not change while the
    app runs). (The web UI keeps one per app.)"""

    loader: Callable[[str], Basemap] = load_basemap
    _items: dict[str, Basemap] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, network: str) -> Basemap:
        with self._lock:
            if network not in self._items:
                self._items[network] = self.loader(network)
            return self._items[network]


# --- the route --------------------------------------------------------------------------------


def route_lines(routes: Mapping[str, Any] | None, vehicle_id: str, *,
                simplify_deg: float = ROUTE_SIMPLIFY_DEG) -> tuple[np.ndarray, ...]:
    """The road-following line(s) of ``vehicle_id`` in a parsed ``routes.geojson`` as lon/lat
    arrays, simplified for print; empty when unknown."""
    out: list[np.ndarray] = []
    for f in (routes or {}).get("features", []):
        props = f.get("properties") or {}
        if props.get("kind") != "route" or props.get("vehicle_id") != vehicle_id:
            continue
        if not f.get("geometry"):
            continue
        geom = shapely.simplify(shape(f["geometry"]), simplify_deg)
        out.extend(_lines_of(shapely.geometry.mapping(geom)))
    return tuple(out)


# --- drawing ---------------------------------------------------------------------------------


def nice_scale_km(span_km: float) -> float:
    """A round scale-bar length (1, 2 or 5 x 10^k km) of about a fifth of ``span_km``."""
    target = max(span_km / 5, 0.01)
    power = 10 ** math.floor(math.log10(target))
    return max(m * power for m in (1, 2, 5) if m * power <= target)


def map_extent(points: np.ndarray, width_over_height: float, *, pad: float = 0.07
               ) -> tuple[float, float, float, float]:
    """``(lon0, lon1, lat0, lat1)`` around ``points`` (lon/lat rows), padded and widened in
    one direction so that, drawn equirectangular at the middle latitude (north up, true
    shape), it fills a frame of ``width_over_height``."""
    lon0, lat0 = points.min(axis=0)
    lon1, lat1 = points.max(axis=0)
    w = max(lon1 - lon0, 0.02) * (1 + 2 * pad)
    h = max(lat1 - lat0, 0.02) * (1 + 2 * pad)
    cx, cy = (lon0 + lon1) / 2, (lat0 + lat1) / 2
    shrink = math.cos(math.radians(cy))  # km per degree of longitude / km per degree of latitude
    if w * shrink / h < width_over_height:
        w = h * width_over_height / shrink
    else:
        h = w * shrink / width_over_height
    return cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2


def _overlaps(box: tuple[float, float, float, float],
              boxes: Sequence[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def _draw_scale_bar(ax: Any, xlim: tuple[float, float], ylim: tuple[float, float],
                    font: FontProperties) -> None:
    lat_mid = (ylim[0] + ylim[1]) / 2
    km_per_deg_lon = KM_PER_DEG_LAT * math.cos(math.radians(lat_mid))
    span_km = (xlim[1] - xlim[0]) * km_per_deg_lon
    km = nice_scale_km(span_km)
    length = km / km_per_deg_lon
    x0 = xlim[0] + (xlim[1] - xlim[0]) * 0.03
    y0 = ylim[0] + (ylim[1] - ylim[0]) * 0.045
    h = (ylim[1] - ylim[0]) * 0.012
    halo = [withStroke(linewidth=3, foreground="white")]
    ax.add_patch(_rect(x0 - length * 0.04, y0 - h * 2.2, length * 1.08, h * 7.2, "white",
                       alpha=0.85, zorder=8))
    for i in range(4):  # alternating black and white quarters, boxed
        ax.add_patch(_rect(x0 + i * length / 4, y0, length / 4, h,
                           "black" if i % 2 == 0 else "white", edgecolor="black", zorder=9))
    for frac, label in ((0, "0"), (0.5, _km_text(km / 2)), (1, f"{_km_text(km)} km")):
        ax.text(x0 + frac * length, y0 + h * 1.6, label, ha="center", va="bottom",
                fontproperties=font, fontsize=7.5, zorder=10, path_effects=halo)


def _km_text(km: float) -> str:
    return f"{km:g}"


def _rect(x: float, y: float, w: float, h: float, facecolor: str, *, edgecolor: str = "none",
          alpha: float = 1.0, zorder: int = 5) -> Rectangle:
    return Rectangle((x, y), w, h, facecolor=facecolor, edgecolor=edgecolor, linewidth=0.6,
                     alpha=alpha, zorder=zorder)


def _draw_north_arrow(ax: Any, label: str, font: FontProperties) -> None:
    ax.annotate("", xy=(0.965, 0.95), xytext=(0.965, 0.83), xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>,head_width=0.45,head_length=0.9",
                            "color": "black", "linewidth": 2.0}, zorder=10)
    ax.text(0.965, 0.80, label, transform=ax.transAxes, ha="center", va="top",
            fontproperties=font, fontsize=11, zorder=10,
            path_effects=[withStroke(linewidth=3, foreground="white")])


CLOSURE_COLOUR = "#d00000"


def _draw_closures(ax: Any, closures: Sequence[ClosureView], font: FontProperties) -> None:
    """Closures in red: a line dashed on a white casing, an area hatched; each marked with a
    numbered red box (``X1``, ``X2`` ...) at its middle, the number of its line on the sheet."""
    for i, c in enumerate(closures):
        geometry = c.geometry
        if geometry is None:
            continue
        if geometry["type"] == "Polygon":
            ring = np.asarray(geometry["coordinates"][0], dtype=float)
            ax.add_collection(PolyCollection([ring], facecolors="none", edgecolors=CLOSURE_COLOUR,
                                             linewidths=2.2, hatch="////", zorder=5))
        else:
            ring = np.asarray(geometry["coordinates"], dtype=float)
            ax.plot(ring[:, 0], ring[:, 1], color="white", linewidth=7, zorder=5,
                    solid_capstyle="round")
            ax.plot(ring[:, 0], ring[:, 1], color=CLOSURE_COLOUR, linewidth=4, zorder=5.1,
                    linestyle=(0, (3, 1.5)))
        x, y = ring.mean(axis=0)
        ax.text(x, y, f"X{i + 1}", ha="center", va="center", fontproperties=font,
                fontsize=8, color="white", zorder=7.5, clip_on=True,
                bbox={"boxstyle": "square,pad=0.25", "facecolor": CLOSURE_COLOUR,
                      "edgecolor": "white", "linewidth": 1})


def route_map_png(view: RouteView, lines: Sequence[np.ndarray], basemap: Basemap | None, *,
                  lang: str = "vi", size_in: tuple[float, float] = MAP_SIZE_IN,
                  dpi: int = MAP_DPI, closures: Sequence[ClosureView] = ()) -> bytes:
    """The overview map of ``view``'s route as PNG bytes.

    ``lines`` is the route's road-following geometry (see :func:`route_lines`); without it the
    stops are joined by thin straight dotted lines, so the map is still useful. ``basemap``
    may be ``None`` (no outline and roads). ``closures`` (the plan's) are drawn in red where
    they fall on the map, marked ``X1``, ``X2`` ... as the sheet lists them.
    """
    _ = Translator(lang)
    regular = FontProperties(fname=str(FONT_REGULAR_FILE))
    bold = FontProperties(fname=str(FONT_BOLD_FILE))
    route = view.route
    depot = np.array([[route.depot_lon, route.depot_lat]])
    stops = np.array([[s.visit.lon, s.visit.lat] for s in view.stops]).reshape(-1, 2)
    points = np.vstack([depot, stops, *[ln for ln in lines if len(ln)]])

    fig = Figure(figsize=size_in, dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_facecolor("#ffffff")
    x0, x1, y0, y1 = map_extent(points, size_in[0] / size_in[1])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(1.2)

    if basemap is not None:
        if basemap.outline:
            ax.add_collection(PolyCollection(basemap.outline, facecolors="#f4f4f4",
                                             edgecolors="#4d4d4d", linewidths=1.1,
                                             linestyles=(0, (6, 2, 1.5, 2)), zorder=1))
        for z, cls in enumerate(reversed(BASEMAP_CLASSES)):
            colour, width = ROAD_STYLE.get(cls, ("#bbbbbb", 0.5))
            segs = basemap.roads.get(cls, ())
            if segs:
                ax.add_collection(LineCollection(segs, colors=colour, linewidths=width,
                                                 capstyle="round", zorder=2 + z * 0.1))

    if lines:
        ax.add_collection(LineCollection(lines, colors="white", linewidths=6.5,
                                         capstyle="round", joinstyle="round", zorder=4))
        ax.add_collection(LineCollection(lines, colors=view.style.colour, linewidths=3.2,
                                         capstyle="round", joinstyle="round", zorder=4.1))
    elif len(stops):
        path = np.vstack([depot, stops, depot])
        ax.plot(path[:, 0], path[:, 1], color="black", linewidth=1.2, linestyle=":", zorder=4)

    if closures:
        _draw_closures(ax, closures, bold)

    xlim, ylim = (x0, x1), (y0, y1)
    to_px = ax.transData.transform
    px_per_pt = dpi / 72

    taken: list[tuple[float, float, float, float]] = []
    badge_pt = 15 if len(view.stops) < 40 else 11
    font_pt = 8.5 if len(view.stops) < 40 else 7

    def box_around(x: float, y: float, half_pt: float) -> tuple[float, float, float, float]:
        px, py = to_px((x, y))
        r = half_pt * px_per_pt
        return px - r, py - r, px + r, py + r

    # Depot: a black square with a house-like label, drawn above the route.
    dlabel = ("≈" if view.depot_note else "") + ("TV" if lang == "vi" else "Lib")
    ax.text(route.depot_lon, route.depot_lat, dlabel, ha="center", va="center",
            fontproperties=bold, fontsize=8, color="white", zorder=7,
            bbox={"boxstyle": "square,pad=0.35", "facecolor": "black", "edgecolor": "white",
                  "linewidth": 1.2})
    taken.append(box_around(route.depot_lon, route.depot_lat, 12))
    for s in view.stops:
        taken.append(box_around(s.visit.lon, s.visit.lat, badge_pt / 2 + 1))

    for s in view.stops:
        v = s.visit
        ax.plot([v.lon], [v.lat], marker="o", markersize=badge_pt, markerfacecolor="black",
                markeredgecolor="white", markeredgewidth=1.5, zorder=6, linestyle="none")
        ax.text(v.lon, v.lat, str(v.seq), ha="center", va="center", color="white",
                fontproperties=bold, fontsize=badge_pt * 0.55, zorder=6.5)

    # Commune names: the first free place around each badge; none if all are taken (the
    # stop list on the sheet names every stop anyway).
    halo = [withStroke(linewidth=3, foreground="white")]
    gap = badge_pt / 2 + 2
    for s in view.stops:
        v = s.visit
        text = v.commune_name
        w_pt = 0.6 * font_pt * len(text)
        h_pt = 1.25 * font_pt
        px, py = to_px((v.lon, v.lat))
        candidates = (
            ("left", "center", gap, 0), ("right", "center", -gap, 0),
            ("center", "bottom", 0, gap), ("center", "top", 0, -gap),
            ("left", "bottom", gap * 0.7, gap * 0.7), ("right", "bottom", -gap * 0.7, gap * 0.7),
            ("left", "top", gap * 0.7, -gap * 0.7), ("right", "top", -gap * 0.7, -gap * 0.7),
        )
        fig_w, fig_h = fig.bbox.width, fig.bbox.height
        for ha, va, dx, dy in candidates:
            ax_px = px + dx * px_per_pt
            ay_px = py + dy * px_per_pt
            bx0 = ax_px - (w_pt if ha == "right" else w_pt / 2 if ha == "center" else 0) * px_per_pt
            by0 = ay_px - (h_pt if va == "top" else h_pt / 2 if va == "center" else 0) * px_per_pt
            box = (bx0, by0, bx0 + w_pt * px_per_pt, by0 + h_pt * px_per_pt)
            if box[0] < 2 or box[1] < 2 or box[2] > fig_w - 2 or box[3] > fig_h - 2:
                continue
            if _overlaps(box, taken):
                continue
            taken.append(box)
            ax.annotate(text, (v.lon, v.lat), xytext=(dx, dy), textcoords="offset points",
                        ha=ha, va=va, fontproperties=bold, fontsize=font_pt, zorder=7,
                        path_effects=halo, parse_math=False)  # a name is text, never "$math$"
            break

    _draw_scale_bar(ax, xlim, ylim, regular)
    _draw_north_arrow(ax, _("map_north"), bold)
    ax.text(0.995, 0.008, OSM_ATTRIBUTION, transform=ax.transAxes, ha="right", va="bottom",
            fontproperties=regular, fontsize=7, zorder=10,
            bbox={"boxstyle": "square,pad=0.25", "facecolor": "white", "edgecolor": "none",
                  "alpha": 0.85})
    ax.set_xlim(xlim)  # annotations must not widen the view
    ax.set_ylim(ylim)

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white",
                metadata={"Software": None})
    return buf.getvalue()
