"""Folium maps of a plan that work offline: one self-contained ``map.html`` per plan.

Folium normally loads Leaflet, jQuery, Bootstrap, awesome-markers and Font Awesome from CDNs
and draws on online tiles. :class:`OfflineMap` needs only Leaflet, vendored under
``render/assets/leaflet`` and inlined into the page; stop markers are
:class:`folium.DivIcon` and popups are bound without jQuery. The basemap is a vector layer
drawn from the plan's own road dataset (province outline, trunk to tertiary roads,
simplified); OpenStreetMap tiles are an optional layer, off by default.

Text of a plan, a scenario or a dataset (names, contacts, notes, titles) is untrusted: a
scenario can be uploaded by any planner. Everything Leaflet or the page shows as HTML is
built as :class:`~markupsafe.Markup` whose values are escaped on the way in (popups,
tooltips, icons, the legend), layer names and the page title are escaped, road names are set
as text, and values inside scripts are JSON with ``<``, ``>`` and ``&`` escaped
(:func:`js_string`). The web UI also serves maps in a sandbox (see :mod:`webui.plans`).
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template
from folium.utilities import JsCode
from markupsafe import Markup, escape
from shapely.geometry import shape

from geodata.basemap import basemap_layers
from geodata.datasets import load_dataset
from geodata.directions import bearing_deg, cumulative_m, point_at
from planner.errors import PlannerError
from planner.outputs import (
    PLAN_FILE,
    ROUTES_FILE,
    SCENARIO_FILE,
    check_routes_geojson,
    load_scenario_for_plan,
    read_plan_folder,
)
from planner.plan import Plan
from render import ASSETS_DIR
from render.closures import ClosureView, plan_closures
from render.errors import MapError
from render.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator
from render.routeview import RouteView, StopView, route_views

log = logging.getLogger(__name__)

VENDOR_DIR = ASSETS_DIR / "leaflet"
BASEMAP_CLASSES: tuple[str, ...] = ("trunk", "primary", "secondary", "tertiary")
BASEMAP_SIMPLIFY_DEG = 0.0002  # about 20 m: invisible below zoom 14, keeps map.html small
ROUTE_SIMPLIFY_DEG = 0.00005  # about 5 m: the route still follows the simplified roads
COORD_DECIMALS = 5  # about 1 m
MAP_FORMAT = "mobile-library-map v7"  # bump when maps change, so stored map.html are redrawn
NO_ROUTES: Mapping[str, Any] = {"type": "FeatureCollection", "features": []}
OSM_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
ROAD_STYLE: Mapping[str, Mapping[str, Any]] = {
    "trunk": {"color": "#6b6b6b", "weight": 3.2},
    "primary": {"color": "#7d7d7d", "weight": 2.6},
    "secondary": {"color": "#999999", "weight": 2.0},
    "tertiary": {"color": "#b5b5b5", "weight": 1.4},
}
MAP_CSS = """
html, body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
.leaflet-container { background: #ece8de; font-family: inherit; }
.leaflet-control-attribution { white-space: normal; max-width: 60%; font-size: 11px; }
.mlp-num { box-sizing: border-box; width: 26px; height: 26px; border: 2px solid #fff;
  outline: 1px solid #000; color: #fff; font: bold 13px/22px sans-serif; text-align: center; }
.mlp-depot { box-sizing: border-box; min-width: 34px; height: 26px; padding: 0 4px;
  background: #000; color: #fff; border: 2px solid #fff; outline: 1px solid #000;
  font: bold 12px/22px sans-serif; text-align: center; white-space: nowrap; }
.mlp-unserved { box-sizing: border-box; width: 22px; height: 22px; border-radius: 50%;
  background: #8a8a8a; color: #fff; border: 2px solid #fff; outline: 1px solid #555;
  font: bold 14px/18px sans-serif; text-align: center; }
.mlp-popup h3 { margin: 0 0 4px; font-size: 15px; }
.mlp-popup table { border-collapse: collapse; font-size: 13px; }
.mlp-popup th { text-align: left; padding: 1px 8px 1px 0; font-weight: normal; color: #444; }
.mlp-popup .warn { color: #8a3b00; font-weight: bold; }
.mlp-legend { background: rgba(255,255,255,0.94); padding: 6px 9px; border: 1px solid #777;
  font-size: 12px; line-height: 1.35; }
.mlp-legend h4 { margin: 0 0 4px; font-size: 13px; max-width: 300px; }
.mlp-legend div { white-space: nowrap; }
.mlp-legend svg { vertical-align: middle; margin-right: 4px; }
.mlp-legend .small { white-space: normal; color: #333; font-size: 11px; margin-top: 4px; }
.mlp-back { display: block; background: #fff; border: 1px solid #777; padding: 4px 8px;
  font: bold 13px sans-serif; color: #0b4f9c; text-decoration: none; }
.mlp-arrow { width: 14px; height: 14px; font: bold 14px/14px sans-serif; text-align: center;
  text-shadow: -1px 0 #fff, 1px 0 #fff, 0 -1px #fff, 0 1px #fff; pointer-events: none; }
"""
ARROW_EVERY_M = 12_000.0  # a direction arrow per 12 km of route line


# --- Leaflet, inlined ---------------------------------------------------------------------


def leaflet_assets(vendor_dir: Path = VENDOR_DIR) -> tuple[str, str]:
    """The vendored ``leaflet.js`` and ``leaflet.css``, the CSS's images as ``data:`` URIs."""
    try:
        js = (vendor_dir / "leaflet.js").read_text(encoding="utf-8")
        css = (vendor_dir / "leaflet.css").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MapError(f"{exc.filename}: vendored Leaflet file missing; restore "
                       "render/assets/leaflet (see its SOURCES.md)") from None
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)

    def data_uri(match: re.Match[str]) -> str:
        image = vendor_dir / "images" / match.group(1)
        if not image.is_file():
            return match.group(0)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    css = re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", data_uri, css)
    # Leaflet makes a default marker icon before a map's DivIcon replaces it: its images
    # too come as data: URIs (else the page asks the server for them, and the map's policy
    # refuses: errors in the console on every map)
    icons = {}
    for option, name in (("iconUrl", "marker-icon.png"), ("iconRetinaUrl",
                                                          "marker-icon-2x.png"),
                         ("shadowUrl", "marker-shadow.png")):
        image = vendor_dir / "images" / name
        if image.is_file():
            icons[option] = ("data:image/png;base64,"
                             + base64.b64encode(image.read_bytes()).decode("ascii"))
    if icons:
        js += ("\nL.Icon.Default.imagePath = \"\";\n"
               f"L.Icon.Default.mergeOptions({json.dumps(icons)});\n")
    return js, css


class _Raw(Element):
    """A piece of HTML written as is (no Jinja templating of its content)."""

    _template = Template("{{ this.code }}")

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "Raw"
        self.code = code


class OfflineMap(folium.Map):
    """A :class:`folium.Map` whose page needs only Leaflet, inlined from the vendored copy."""

    def __init__(self, *args: Any, extra_css: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("tiles", None)
        super().__init__(*args, **kwargs)
        # Per instance: folium's add_js_link/add_css_link mutate these lists in place.
        self.default_js: list[tuple[str, str]] = []
        self.default_css: list[tuple[str, str]] = []
        self.extra_css = extra_css

    def render(self, **kwargs: Any) -> Any:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise MapError("an OfflineMap renders only inside a branca Figure")
        js, css = leaflet_assets()
        figure.header.add_child(_Raw(f"<style>{css}\n{self.extra_css}</style>"),
                                name="leaflet_css", index=0)
        figure.header.add_child(_Raw(f"<script>{js}</script>"), name="leaflet", index=0)
        return super().render(**kwargs)


class _BindText(MacroElement):
    """``layer.bindPopup(html)`` or ``bindTooltip``, the HTML passed as a JSON string (folium's
    Popup needs jQuery and its Tooltip pastes text into a JS template literal).

    Leaflet puts the content in the page as HTML, so it must be :class:`~markupsafe.Markup`
    built by this module (``Markup(...).format(...)`` escapes every value it is given); a plain
    string is text and is escaped here. Text from a plan, a scenario or a dataset therefore
    never reaches the page as markup."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.{{ this.method }}({{ this.html_js }}, {{ this.options_js }});
        {% endmacro %}
    """)

    def __init__(self, content: Markup | str, *, tooltip: bool = False,
                 max_width: int = 320) -> None:
        super().__init__()
        self._name = "BindText"
        self.method = "bindTooltip" if tooltip else "bindPopup"
        self.html_js = js_string(str(escape(content)))
        self.options_js = js_string({"sticky": True} if tooltip else {"maxWidth": max_width})


class _MapScript(MacroElement):
    """Free JavaScript run after the map is created; ``MAP`` stands for the map variable."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.code.replace("MAP", this._parent.get_name()) }}
        {% endmacro %}
    """)

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "MapScript"
        self.code = code


def js_string(value: Any) -> str:
    """``value`` as a JavaScript literal safe inside ``<script>`` (non-ASCII kept readable)."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))


# --- basemap from local data ------------------------------------------------------------------


def basemap_features(network: str) -> tuple[list[dict[str, Any]], dict[str, list[dict]]]:
    """The province outline and the main roads of dataset ``network`` (see
    :func:`geodata.basemap.basemap_layers`)."""
    return basemap_layers(network, classes=BASEMAP_CLASSES, tolerance_deg=BASEMAP_SIMPLIFY_DEG,
                          decimals=COORD_DECIMALS)


def _commune_points(network: str) -> list[tuple[float, float, str]]:
    communes = load_dataset(network).communes
    return [(float(lat), float(lon), str(name))
            for lat, lon, name in zip(communes["lat"], communes["lon"], communes["name"],
                                            strict=True)]


# --- the plan layers ----------------------------------------------------------------------------


def _features(routes: Mapping[str, Any], kind: str) -> Iterable[Mapping[str, Any]]:
    for f in routes.get("features", []):
        if (f.get("properties") or {}).get("kind") == kind:
            yield f


def _route_line(routes: Mapping[str, Any], vehicle_id: str) -> list[tuple[float, float]]:
    """The road-following line of ``vehicle_id``'s route as ``(lat, lon)``, simplified."""
    for f in _features(routes, "route"):
        if f["properties"].get("vehicle_id") == vehicle_id and f.get("geometry"):
            line = shapely.simplify(shape(f["geometry"]), ROUTE_SIMPLIFY_DEG)
            coords = np.round(shapely.get_coordinates(line), COORD_DECIMALS)
            return [(float(lat), float(lon)) for lon, lat in coords]
    return []


def _popup_rows(rows: Sequence[tuple[str, str]]) -> Markup:
    return Markup("").join(Markup("<tr><th>{}</th><td>{}</td></tr>").format(k, v)
                           for k, v in rows)


def _stop_popup(rv: RouteView, stop: StopView, _: Translator) -> Markup:
    v = stop.visit

    def when(m: Any) -> str:
        offset = _.day_offset(m.day_offset)
        return m.clock + (f" ({offset})" if offset else "")

    rows = [(_("vehicle"), rv.route.vehicle_name),
            (_("arrival"), when(stop.arrival)),
            (_("departure"), when(stop.departure)),
            (_("deliver"), _("crates_n", n=v.deliver_crates)),
            (_("collect"), _("crates_n", n=v.collect_crates)),
            (_("load_after"), _("crates_n", n=v.load_after_crates))]
    rows.extend((_("transfer"), text) for text in _.transfers(stop))
    rows.extend((_("batches_deliver"), _.batch(b)) for b in stop.deliver_batches)
    rows.extend((_("batches_collect"), _.batch(b)) for b in stop.collect_batches)
    if v.contact:
        rows.append((_("contact"), v.contact))
    if v.note:
        rows.append((_("note"), _.note(v.note)))
    return Markup('<div class="mlp-popup"><h3>{}. {}</h3><table>{}</table></div>').format(
        v.seq, v.commune_name, _popup_rows(rows))


def _depot_popup(name: str, note: str | None, vehicles: Sequence[str], _: Translator) -> Markup:
    parts = [Markup('<div class="mlp-popup"><h3>{}</h3>').format(name)]
    if note is not None:
        parts.append(Markup('<p class="warn">{}</p><p>{}</p>').format(
            _("approximate_position"), note))
    parts.append(Markup("<p>{}: {}</p></div>").format(_("vehicle"), ", ".join(vehicles)))
    return Markup("").join(parts)


def _depot_label(lang: str, approx: bool) -> str:
    return ("≈" if approx else "") + ("TV" if lang == "vi" else "Lib")


def _layer_name(text: str) -> str:
    """A name for Leaflet's layer control, which shows it as HTML: ``text`` escaped."""
    return str(escape(text))


CLOSURE_COLOUR = "#d00000"


def _legend_html(plan: Plan, views: Sequence[RouteView], approx: bool, n_unserved: int,
                 _: Translator, n_closures: int = 0) -> Markup:
    rows = []
    for rv in views:
        sample = Markup('<svg width="40" height="10"><line x1="1" y1="5" x2="39" y2="5" '
                        'stroke="{}" stroke-width="4"{}/></svg>').format(
            rv.style.colour,
            Markup(' stroke-dasharray="{}"').format(rv.style.dash) if rv.style.dash else "")
        rows.append(Markup("<div>{}{} · {} · {} km</div>").format(
            sample, rv.route.vehicle_name, _("page_of_stops", n=len(rv.stops)),
            f"{rv.route.km:.0f}"))
    rows.append(Markup('<div><span class="mlp-depot" style="display:inline-block;min-width:0;'
                       'height:18px;line-height:14px;font-size:10px">{}</span> {}{}</div>')
                .format(_depot_label(_.lang, approx), _("depot"),
                        f" ({_('approximate_position')})" if approx else ""))
    if n_unserved:
        rows.append(Markup('<div><span class="mlp-unserved" style="display:inline-block;'
                           'width:16px;height:16px;font-size:11px;line-height:12px">×</span> '
                           '{} ({})</div>').format(_("layer_unserved"), n_unserved))
    if n_closures:
        rows.append(Markup('<div><svg width="40" height="10"><line x1="1" y1="5" x2="39" '
                           'y2="5" stroke="{}" stroke-width="5" stroke-dasharray="6 4"/></svg>'
                           ' {} ({})</div>').format(CLOSURE_COLOUR, _("legend_closure"),
                                                    n_closures))
    return Markup('<div class="mlp-legend"><h4>{}</h4>{}<div class="small">{} (ODbL)</div>'
                  '</div>').format(plan.scenario_title or plan.scenario_name,
                                   Markup("").join(rows), OSM_ATTRIBUTION)


def _arrows(line: Sequence[tuple[float, float]]) -> list[tuple[float, float, float]]:
    """Points along a route line (lat, lon) every :data:`ARROW_EVERY_M`, with the compass
    bearing of travel there: where the map draws the direction arrows."""
    coords = np.array([[lon, lat] for lat, lon in line], dtype=float)
    if len(coords) < 2:
        return []
    cum = cumulative_m(coords)
    out = []
    for k in range(1, int(cum[-1] // ARROW_EVERY_M) + 1):
        at = k * ARROW_EVERY_M
        a, b = point_at(coords, cum, at - 50.0), point_at(coords, cum, at + 50.0)
        if a != b:
            lon, lat = point_at(coords, cum, at)
            out.append((lat, lon, bearing_deg(a, b)))
    return out


def _closure_layer(closures: Sequence[ClosureView], _: Translator
                   ) -> tuple[folium.FeatureGroup, list[tuple[float, float]]]:
    """The closures as red dashed lines (an area: its red hatched outline), each named with
    its dates on hover and click; and their points, for the map's bounds."""
    group = folium.FeatureGroup(name=_layer_name(_("layer_closures")))
    points: list[tuple[float, float]] = []
    for c in closures:
        if c.geometry is None:
            continue
        text = _.closure(c)
        shape_: folium.Polygon | folium.PolyLine
        if c.geometry["type"] == "Polygon":
            ring = [(lat, lon) for lon, lat in c.geometry["coordinates"][0]]
            shape_ = folium.Polygon(ring, color=CLOSURE_COLOUR, weight=4, dash_array="8 5",
                                    fill=True, fill_color=CLOSURE_COLOUR, fill_opacity=0.15)
        else:
            ring = [(lat, lon) for lon, lat in c.geometry["coordinates"]]
            shape_ = folium.PolyLine(ring, color=CLOSURE_COLOUR, weight=7, opacity=0.9,
                                     dash_array="8 5")
        points.extend(ring)
        shape_.add_child(_BindText(f"⛔ {text}", tooltip=True))
        shape_.add_child(_BindText(Markup('<div class="mlp-popup"><h3>⛔ {}</h3><p>{}</p>'
                                          '</div>').format(_("plan_closures_title"), text)))
        shape_.add_to(group)
    return group, points


def plan_map(plan: Plan, routes: Mapping[str, Any], *, lang: str = "vi",
             basemap: bool = True, closures: Sequence[ClosureView] = ()) -> folium.Map:
    """An offline folium map of ``plan``: routes along the roads (``routes`` is the parsed
    ``routes.geojson``), numbered stops, the depot, unserved communes, the road closures the
    plan avoids (:func:`render.closures.plan_closures`), a local vector basemap and an
    optional OpenStreetMap tile layer. ``basemap=False`` skips the dataset layers."""
    _ = Translator(lang)
    views = route_views(plan, routes)
    m = OfflineMap(location=[22.9, 105.0], zoom_start=9, control_scale=True, prefer_canvas=True,
                   extra_css=MAP_CSS, zoom_snap=0.25)
    figure = m.get_root()
    if isinstance(figure, Figure):
        # branca writes the title into <title> as it is: escape it here
        figure.title = str(escape(_("map_title",
                                    title=plan.scenario_title or plan.scenario_name)))

    folium.TileLayer(OSM_TILES_URL, attr=OSM_ATTRIBUTION, name=_("layer_osm"), overlay=True,
                     show=False, max_zoom=19).add_to(m)
    if basemap:
        outline, roads = basemap_features(plan.network)
        folium.GeoJson({"type": "FeatureCollection", "features": outline},
                       name=_("layer_outline"),
                       style_function=lambda _f: {"color": "#333333", "weight": 2,
                                                  "fillColor": "#ffffff", "fillOpacity": 0.7},
                       interactive=False).add_to(m)
        road_group = folium.FeatureGroup(name=_layer_name(_("layer_roads")))
        # a road's name is data: shown as text, never as HTML
        tooltip = JsCode("function(feature, layer) { var label = feature.properties.label; "
                         "if (label) { var el = document.createElement('span'); "
                         "el.textContent = label; layer.bindTooltip(el, {sticky: true}); } }")
        for cls in reversed(BASEMAP_CLASSES):  # minor roads first, trunk roads on top
            style = dict(ROAD_STYLE[cls])
            folium.GeoJson({"type": "FeatureCollection", "features": roads[cls]},
                           style_function=lambda _f, s=style: s, control=False,
                           on_each_feature=tooltip).add_to(road_group)
        road_group.add_to(m)
        commune_group = folium.FeatureGroup(name=_layer_name(_("layer_communes")))
        for lat, lon, name in _commune_points(plan.network):
            dot = folium.CircleMarker([lat, lon], radius=2.5, color="#555555", weight=1,
                                      fill=True, fill_color="#ffffff", fill_opacity=1)
            dot.add_child(_BindText(name, tooltip=True))
            dot.add_to(commune_group)
        commune_group.add_to(m)

    bounds: list[tuple[float, float]] = []
    depots: dict[tuple[str, float, float], list[str]] = {}
    depot_notes: dict[tuple[str, float, float], str | None] = {}
    for rv in views:
        r = rv.route
        key = (r.depot_name, r.depot_lat, r.depot_lon)
        depots.setdefault(key, []).append(r.vehicle_name)
        depot_notes[key] = rv.depot_note
        bounds.append((r.depot_lat, r.depot_lon))
        group = folium.FeatureGroup(name=_layer_name(f"{r.vehicle_name} ({r.key})"))
        line = _route_line(routes, r.key)
        if line:
            bounds.extend(line)
            folium.PolyLine(line, color="#ffffff", weight=8, opacity=0.9,
                            interactive=False).add_to(group)
            poly = folium.PolyLine(line, color=rv.style.colour, weight=4.5, opacity=1,
                                   dash_array=rv.style.dash, line_cap="round")
            poly.add_child(_BindText(f"{r.vehicle_name}: {r.km:.0f} km", tooltip=True))
            poly.add_to(group)
            for lat, lon, bearing in _arrows(line):
                folium.Marker([lat, lon], interactive=False, z_index_offset=-1000,
                              icon=folium.DivIcon(
                    html=Markup('<div class="mlp-arrow" style="color:{};transform:rotate({}deg)">'
                                '▲</div>').format(rv.style.colour, round(bearing)),
                    icon_size=(14, 14), icon_anchor=(7, 7), class_name="mlp-arrow-icon")
                              ).add_to(group)
        for stop in rv.stops:
            v = stop.visit
            bounds.append((v.lat, v.lon))
            icon = folium.DivIcon(
                html=Markup('<div class="mlp-num" style="background:{};border-radius:{}">'
                            '{}</div>').format(rv.style.colour, rv.style.marker_radius, v.seq),
                icon_size=(26, 26), icon_anchor=(13, 13), class_name="mlp-stop")
            marker = folium.Marker([v.lat, v.lon], icon=icon)
            marker.add_child(_BindText(_stop_popup(rv, stop, _)))
            marker.add_child(_BindText(f"{v.seq}. {v.commune_name}", tooltip=True))
            marker.add_to(group)
        group.add_to(m)

    for (name, lat, lon), vehicles in depots.items():
        note = depot_notes[(name, lat, lon)]
        label = _depot_label(lang, note is not None)
        icon = folium.DivIcon(html=Markup('<div class="mlp-depot">{}</div>').format(label),
                              icon_size=(40, 26), icon_anchor=(20, 13), class_name="mlp-depot-icon")
        marker = folium.Marker([lat, lon], icon=icon, z_index_offset=1000)
        marker.add_child(_BindText(_depot_popup(name, note, vehicles, _)))
        marker.add_child(_BindText(name + (f" ({_('approximate_position')})"
                                           if note is not None else ""), tooltip=True))
        marker.add_to(m)

    unserved_points = {f["properties"].get("commune_code"): f
                       for f in _features(routes, "unserved")}
    if plan.unserved:
        group = folium.FeatureGroup(name=_layer_name(_("layer_unserved")))
        for u in plan.unserved:
            f = unserved_points.get(u.commune_code)
            if f is None or not f.get("geometry"):
                continue
            lon, lat = f["geometry"]["coordinates"][:2]
            bounds.append((lat, lon))
            icon = folium.DivIcon(html='<div class="mlp-unserved">×</div>', icon_size=(22, 22),
                                  icon_anchor=(11, 11), class_name="mlp-unserved-icon")
            marker = folium.Marker([lat, lon], icon=icon)
            popup = Markup('<div class="mlp-popup"><h3>{}</h3><p class="warn">{}</p>'
                           '<p>{}</p><p><small>{}</small></p></div>').format(
                u.commune_name, _("unserved_marker"), _.reason(u.reason_code),
                u.reason if lang == "en" or not _.has_reason(u.reason_code) else "")
            marker.add_child(_BindText(popup))
            marker.add_child(_BindText(f"{u.commune_name}: {_('unserved_marker')}",
                                       tooltip=True))
            marker.add_to(group)
        group.add_to(m)

    if closures:
        group, points = _closure_layer(closures, _)
        group.add_to(m)
        bounds.extend(points)

    if bounds:
        lats, lons = [b[0] for b in bounds], [b[1] for b in bounds]
        # Keep the routes clear of the legend (bottom left) and the controls.
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]],
                     padding_top_left=(20, 20), padding_bottom_right=(20, 130))
    folium.LayerControl(collapsed=True, position="topright").add_to(m)

    approx = any(n is not None for n in depot_notes.values())
    legend = _legend_html(plan, views, approx, len(plan.unserved), _,
                          sum(1 for c in closures if c.geometry is not None))
    attribution = str(escape(OSM_ATTRIBUTION)) + " (ODbL)"
    extra = (str(escape(plan.attribution)) if plan.attribution
             and plan.attribution.strip() != OSM_ATTRIBUTION else "")
    m.add_child(_MapScript(f"""
        MAP.attributionControl.setPrefix("Leaflet");
        MAP.attributionControl.addAttribution({js_string(attribution)});
        {f"MAP.attributionControl.addAttribution({js_string(extra)});" if extra else ""}
        var legend = L.control({{position: "bottomleft"}});
        legend.onAdd = function () {{
            var div = L.DomUtil.create("div");
            div.innerHTML = {js_string(str(legend))};
            L.DomEvent.disableClickPropagation(div);
            return div;
        }};
        legend.addTo(MAP);
        // Opened on its own (full screen, /plans/<name>/map), the map offers the way back
        // to its plan's page; inside the plan page's frame it does not.
        if (window.top === window.self && /[/]map$/.test(location.pathname)) {{
            var back = L.control({{position: "topleft"}});
            back.onAdd = function () {{
                var a = L.DomUtil.create("a", "mlp-back");
                a.textContent = {js_string(_("map_back"))};
                a.href = location.pathname.replace(/[/]map$/, "") + location.search;
                return a;
            }};
            back.addTo(MAP);
        }}
    """))
    return m


# --- writing map.html ---------------------------------------------------------------------------

_EXTERNAL_ASSET = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*[\"']?"
                             r"(?:https?:)?//", re.IGNORECASE)


def render_map_html(m: folium.Map, *, lang: str = "vi") -> str:
    """The whole page of ``m`` as one string, with ``<html lang=...>``; raises
    :class:`~render.errors.MapError` if anything would still be loaded from the network."""
    page = m.get_root().render()
    page = page.replace("<html>", f'<!-- {MAP_FORMAT} -->\n<html lang="{html.escape(lang)}">', 1)
    found = _EXTERNAL_ASSET.search(page)
    if found:
        raise MapError(f"map page would load an external asset ({found.group(0)}...); every "
                       "script and stylesheet must be inlined")
    return page


def map_is_current(path: Path) -> bool:
    """Whether the map page at ``path`` was drawn by this version of :func:`plan_map`."""
    try:
        with path.open("rb") as fh:
            head = fh.read(200)
    except OSError:
        return False
    return MAP_FORMAT.encode() in head


def write_plan_map(folder: str | Path, out_html: str | Path, *, lang: str = "vi",
                   mode: int = 0o644) -> Path:
    """Write the self-contained map of the plan in ``folder`` (its ``plan.json`` and
    ``routes.geojson``) to ``out_html``, replacing any earlier file atomically. A missing or
    unreadable ``routes.geojson`` is logged and the map drawn without route lines (its stops
    come from the plan). The file gets ``mode`` (by default readable by all: a page to
    share)."""
    folder = Path(folder)
    plan = read_plan_folder(folder)
    routes_path = folder / ROUTES_FILE
    try:
        routes = json.loads(Path(routes_path).read_text(encoding="utf-8"))
        check_routes_geojson(routes, file=str(routes_path))
    except FileNotFoundError:
        log.warning("%s: routes file not found; the map has no route lines", routes_path)
        routes = NO_ROUTES
    except (ValueError, PlannerError) as exc:  # JSON, UTF-8, shape
        log.warning("%s: not usable (%s); the map has no route lines", routes_path, exc)
        routes = NO_ROUTES
    try:
        scenario = load_scenario_for_plan(folder / PLAN_FILE)[0]
    except (OSError, ValueError, PlannerError) as exc:
        log.warning("%s: no usable scenario (%s); the map shows no closures", folder, exc)
        scenario = None
    page = render_map_html(plan_map(plan, routes, lang=lang,
                                    closures=plan_closures(plan, scenario)), lang=lang)
    out = Path(out_html)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        tmp.chmod(mode)  # mkstemp makes it private
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


# --- the closures page: basemap, plan routes and closures as GeoJSON for its draw tool ----------


@functools.lru_cache(maxsize=2)
def _basemap_geojson(network: str) -> dict[str, Any]:
    """The basemap of ``network`` as plain GeoJSON (outline, roads by class), made once per
    process and dataset: the closures page fetches it on every visit."""
    outline, roads = basemap_features(network)
    return {"outline": {"type": "FeatureCollection", "features": outline},
            "roads": [{"class": cls, "style": dict(ROAD_STYLE[cls]),
                       "features": {"type": "FeatureCollection", "features": roads[cls]}}
                      for cls in reversed(BASEMAP_CLASSES)]}


ROAD_LABEL_SPACING_KM = 20  # a road's name again every 20 km along it on the closures map
LABEL_PLACE_KINDS = ("city", "town", "village", "suburb")  # places named on that map
KM_PER_DEG = 111.0


@functools.cache
def closure_map_labels(network: str) -> dict[str, list[dict[str, Any]]]:
    """The names the closures map writes (plain text, the page escapes them): road refs and
    names along the basemap's roads (the longest pieces first, one label every
    :data:`ROAD_LABEL_SPACING_KM` per name), the communes, and the villages and towns of
    the dataset's ``places.geojson``; made once per process and dataset."""
    _, roads = basemap_features(network)
    pieces = []
    for cls in BASEMAP_CLASSES:
        for f in roads[cls]:
            text = html.unescape(f["properties"].get("label") or "")
            coords = shapely.get_coordinates(shape(f["geometry"]))
            if text and len(coords) >= 2:
                span = float(np.hypot(*(coords[-1] - coords[0])))
                pieces.append((span, text, cls, coords[len(coords) // 2]))
    placed: dict[str, list[np.ndarray]] = {}
    road_labels = []
    for _, text, cls, point in sorted(pieces, key=lambda x: -x[0]):
        near = placed.setdefault(text, [])
        if any(np.hypot(*(point - q)) * KM_PER_DEG < ROAD_LABEL_SPACING_KM for q in near):
            continue
        near.append(point)
        road_labels.append({"text": text, "class": cls, "lon": float(point[0]),
                            "lat": float(point[1])})
    places = [{"text": name, "kind": "commune", "lon": lon, "lat": lat}
              for lat, lon, name in _commune_points(network)]
    places += [{"text": p.name, "kind": p.kind, "lon": p.lon, "lat": p.lat}
               for p in load_dataset(network).places
               if p.layer == "place" and p.kind in LABEL_PLACE_KINDS]
    return {"roads": road_labels, "places": places}


def closure_map_data(network: str, closures: Iterable[Mapping[str, Any]], *,
                     routes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the closures page draws under its draw tool: the offline basemap of
    ``network``, the road closures (GeoJSON features with ``id``, ``name``, dates and
    ``note`` properties), the names of roads and places (:func:`closure_map_labels`) and,
    when a plan's ``routes.geojson`` is given, its route lines (simplified) and stops, so
    the dispatcher sees which routes a closure touches."""
    lines, stops = [], []
    if routes is not None:
        for f in _features(routes, "route"):
            vid = str(f["properties"].get("vehicle_id", ""))
            coords = [[lon, lat] for lat, lon in _route_line(routes, vid)]
            if coords:
                lines.append({"type": "Feature", "properties": {"vehicle_id": vid},
                              "geometry": {"type": "LineString", "coordinates": coords}})
        for f in _features(routes, "stop"):
            p = f["properties"]
            stops.append({"type": "Feature", "geometry": f["geometry"],
                          "properties": {"vehicle_id": p.get("vehicle_id"),
                                         "seq": p.get("seq"), "name": p.get("name")}})
    return {**_basemap_geojson(network), "labels": closure_map_labels(network),
            "closures": {"type": "FeatureCollection", "features": list(closures)},
            "routes": {"type": "FeatureCollection", "features": lines},
            "stops": {"type": "FeatureCollection", "features": stops},
            "attribution": OSM_ATTRIBUTION + " (ODbL)"}


def map_file_name(lang: str) -> str:
    """``map.html`` for Vietnamese (the file ``planner solve`` writes), ``map.<lang>.html``
    otherwise."""
    return "map.html" if lang == DEFAULT_LANGUAGE else f"map.{lang}.html"


def plan_map_file(folder: Path, lang: str, *, mode: int = 0o644) -> Path:
    """The map page in ``lang`` of the plan folder ``folder``, (re)written (with file mode
    ``mode``) when missing, older than the plan or its routes, or drawn by an earlier version
    of the map code."""
    if lang not in LANGUAGES:
        raise MapError(f"no map language {lang!r}; use one of {', '.join(LANGUAGES)}")
    out = folder / map_file_name(lang)
    sources = [folder / PLAN_FILE, folder / ROUTES_FILE, folder / SCENARIO_FILE]
    newest = max(p.stat().st_mtime for p in sources if p.exists())
    if not out.is_file() or out.stat().st_mtime < newest or not map_is_current(out):
        log.info("writing %s", out)
        write_plan_map(folder, out, lang=lang, mode=mode)
    return out
