"""A plan in other people's formats: GPX and KML for navigation apps and Google Earth, CSV
and XLSX manifests for spreadsheets. (GeoJSON is the plan's own ``routes.geojson``.)

Plain functions from a :class:`~planner.plan.Plan` (and the parsed ``routes.geojson`` where
geometry is needed) to bytes; no Flask here. Headings and descriptions are in the page
language; data values (codes, names, times) are the plan's own.

Those values are untrusted text (a scenario can be uploaded by any planner): XML is written
by ElementTree (escaped), KML descriptions, which Google Earth shows as HTML, are escaped
as HTML too (:func:`kml_text`), and spreadsheet cells are never formulas
(:func:`spreadsheet_text` for CSV, string cells for XLSX).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from geodata.simplify import simplify_lonlat_lines
from planner.plan import Plan, Route, Visit
from planner.tables import formula_safe
from render import formatting
from render.i18n import Translator
from render.routeview import route_view, vehicle_style

GPX_NS = "http://www.topografix.com/GPX/1/1"
BATCH_SEPARATOR = "; "  # several batch ids in one cell, as the batch tables write them
GPX_SCHEMA = "http://www.topografix.com/GPX/1/1/gpx.xsd"
KML_NS = "http://www.opengis.net/kml/2.2"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
ODBL_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
CREATOR = "mobile-library-planner"
COORD_DECIMALS = 6  # about 0.1 m
# Tracks are simplified to this many metres: navigation apps need the shape of every bend,
# not the 40,000 vertices of the road data (a 2.3 MB GPX for the default plan unsimplified).
TRACK_TOLERANCE_M = 5.0


@dataclass(frozen=True)
class ExportFormat:
    """How one export is served: its media type and the file name suffix."""

    mimetype: str
    suffix: str


EXPORT_FORMATS: Mapping[str, ExportFormat] = {
    "geojson": ExportFormat("application/geo+json", "routes.geojson"),
    "gpx": ExportFormat("application/gpx+xml", "routes.gpx"),
    "kml": ExportFormat("application/vnd.google-earth.kml+xml", "routes.kml"),
    "csv": ExportFormat("text/csv; charset=utf-8", "manifest.csv"),
    "xlsx": ExportFormat("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         "manifest.xlsx"),
}
NEEDS_GEOMETRY = frozenset({"geojson", "gpx", "kml"})


def spreadsheet_text(value: Any) -> Any:
    """``value`` for a CSV cell: text a spreadsheet would run as a formula gets a leading
    ``'`` (which spreadsheets take as "this is text"; :func:`planner.tables.formula_safe`,
    whose reader takes it off again); numbers are kept."""
    return formula_safe(value) if isinstance(value, str) else value


def kml_text(text: str) -> str:
    """``text`` for a KML ``<description>``, which Google Earth shows as HTML: escaped, so
    that it shows as written (ElementTree escapes it once more for the XML)."""
    return html.escape(text)


# --- geometry from routes.geojson ------------------------------------------------------------


def route_coordinates(routes: Mapping[str, Any] | None, vehicle_id: str, *,
                      tolerance_m: float = 0.0) -> list[list[tuple[float, float]]]:
    """The road-following line(s) of ``vehicle_id`` as lists of ``(lon, lat)``, simplified
    to ``tolerance_m`` metres (0 = every vertex of the road data); empty when unknown."""
    out: list[list[tuple[float, float]]] = []
    for f in (routes or {}).get("features", []):
        props = f.get("properties") or {}
        geom = f.get("geometry") or {}
        if props.get("kind") != "route" or props.get("vehicle_id") != vehicle_id:
            continue
        if geom.get("type") == "LineString":
            parts = [geom["coordinates"]]
        elif geom.get("type") == "MultiLineString":
            parts = geom["coordinates"]
        else:
            continue
        out.extend([(float(c[0]), float(c[1])) for c in part] for part in parts if part)
    if tolerance_m > 0 and out:
        out = [[(float(x), float(y)) for x, y in line]
               for line in simplify_lonlat_lines(out, tolerance_m)]
    return out


def _used_routes(plan: Plan) -> Iterator[tuple[int, Route]]:
    """The routes with at least one visit, with their index in the plan (for the style)."""
    return ((i, r) for i, r in enumerate(plan.routes) if r.visits)


def _coord(x: float) -> str:
    return f"{x:.{COORD_DECIMALS}f}"


def _local(iso: str) -> str:
    """``2026-12-07T13:30+07:00`` -> ``2026-12-07 13:30`` (local time, as Excel reads it)."""
    return formatting.parse_clock(iso).strftime("%Y-%m-%d %H:%M")


def _service_day(plan: Plan, visit: Visit) -> dt.date:
    """The date the stop is served (``Visit.day`` counts from the plan's first day)."""
    return plan.start_date + dt.timedelta(days=visit.day)


def _stop_description(route: Route, visit: Visit, _: Translator) -> str:
    parts = [f"{_('vehicle')}: {route.vehicle_name}",
             f"{_('arrival')}: {_local(visit.arrival)}",
             f"{_('departure')}: {_local(visit.departure)}",
             f"{_('deliver')}: {_('crates_n', n=visit.deliver_crates)}",
             f"{_('collect')}: {_('crates_n', n=visit.collect_crates)}"]
    if visit.contact:
        parts.append(f"{_('contact')}: {visit.contact}")
    if visit.note:
        parts.append(f"{_('note')}: {_.note(visit.note)}")
    return "\n".join(parts)


def _route_description(route: Route, _: Translator) -> str:
    return (f"{route.km:.1f} km · {_('depart')}: {_local(route.depart)} · "
            f"{_('return')}: {_local(route.return_time)} · "
            f"{_('page_of_stops', n=len(route.visits))}")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def _xml_bytes(root: ET.Element) -> bytes:
    """The document as UTF-8 bytes with an XML declaration.

    Elements are built unqualified and the root carries the ``xmlns`` attribute itself:
    ElementTree's ``default_namespace`` refuses unqualified attributes such as ``lat``, and
    ``register_namespace`` would change a process-wide table.
    """
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


# --- GPX 1.1 -----------------------------------------------------------------------------------


def gpx_document(plan: Plan, routes: Mapping[str, Any] | None, *, lang: str = "vi",
                 tolerance_m: float = TRACK_TOLERANCE_M) -> bytes:
    """GPX 1.1: a named waypoint per stop and a track per vehicle with a trip, following
    the roads within ``tolerance_m`` metres (for offline navigation apps such as OsmAnd or
    Organic Maps)."""
    _ = Translator(lang)

    root = ET.Element("gpx", {"xmlns": GPX_NS, "version": "1.1", "creator": CREATOR,
                                 "xmlns:xsi": XSI_NS,
                                 "xsi:schemaLocation": f"{GPX_NS} {GPX_SCHEMA}"})
    meta = _sub(root, "metadata")
    _sub(meta, "name", plan.scenario_title or plan.scenario_name)
    _sub(meta, "desc", f"{plan.scenario_name} · {plan.start_date.isoformat()} · "
                          f"{_('n_days', n=plan.horizon_days)}")
    rights = _sub(meta, "copyright", author="OpenStreetMap contributors")
    _sub(rights, "year", plan.created_at[:4])
    _sub(rights, "license", ODBL_URL)
    _sub(meta, "time", plan.created_at)

    used = list(_used_routes(plan))
    for _i, route in used:  # GPX wants every wpt before the first trk
        for v in route.visits:
            wpt = _sub(root, "wpt", lat=_coord(v.lat), lon=_coord(v.lon))
            _sub(wpt, "name", f"{v.seq}. {v.commune_name}")
            _sub(wpt, "cmt", v.commune_code)
            _sub(wpt, "desc", _stop_description(route, v, _))
            _sub(wpt, "sym", "Flag")
            _sub(wpt, "type", route.vehicle_name)
    for n, (_i, route) in enumerate(used, start=1):
        trk = _sub(root, "trk")
        _sub(trk, "name", f"{route.vehicle_name} ({route.key})")
        _sub(trk, "desc", _route_description(route, _))
        _sub(trk, "src", OSM_ATTRIBUTION)
        _sub(trk, "number", str(n))
        lines = route_coordinates(routes, route.key, tolerance_m=tolerance_m)
        if not lines:  # no geometry: at least depot -> stops -> depot, in order
            lines = [[(route.depot_lon, route.depot_lat),
                      *[(v.lon, v.lat) for v in route.visits],
                      (route.depot_lon, route.depot_lat)]]
        for line in lines:
            seg = _sub(trk, "trkseg")
            for lon, lat in line:
                _sub(seg, "trkpt", lat=_coord(lat), lon=_coord(lon))
    return _xml_bytes(root)


# --- KML 2.2 -----------------------------------------------------------------------------------


def kml_colour(hex_rgb: str, alpha: str = "ff") -> str:
    """``#0b4f9c`` -> ``ff9c4f0b``: KML writes colours as aabbggrr."""
    h = hex_rgb.lstrip("#")
    return f"{alpha}{h[4:6]}{h[2:4]}{h[0:2]}".lower()


def kml_document(plan: Plan, routes: Mapping[str, Any] | None, *, lang: str = "vi",
                 tolerance_m: float = TRACK_TOLERANCE_M) -> bytes:
    """KML 2.2: one folder per vehicle with a trip, holding a LineString placemark along the
    roads (within ``tolerance_m`` metres) and a Point placemark per stop."""
    _ = Translator(lang)

    root = ET.Element("kml", {"xmlns": KML_NS})
    doc = _sub(root, "Document")
    _sub(doc, "name", plan.scenario_title or plan.scenario_name)
    _sub(doc, "description", kml_text(f"{plan.start_date.isoformat()} · "
                                      f"{_('n_days', n=plan.horizon_days)} · "
                                      f"{OSM_ATTRIBUTION} (ODbL)"))
    used = list(_used_routes(plan))
    for i, _route in used:
        style = _sub(doc, "Style", id=f"route-{i}")
        line_style = _sub(style, "LineStyle")
        _sub(line_style, "color", kml_colour(vehicle_style(i).colour))
        _sub(line_style, "width", "4")
        icon_style = _sub(style, "IconStyle")
        _sub(icon_style, "color", kml_colour(vehicle_style(i).colour))
    for i, route in used:
        folder = _sub(doc, "Folder")
        _sub(folder, "name", f"{route.vehicle_name} ({route.key})")
        _sub(folder, "description", kml_text(_route_description(route, _)))
        lines = route_coordinates(routes, route.key, tolerance_m=tolerance_m)
        if lines:
            mark = _sub(folder, "Placemark")
            _sub(mark, "name", route.vehicle_name)
            _sub(mark, "styleUrl", f"#route-{i}")
            geometry = mark if len(lines) == 1 else _sub(mark, "MultiGeometry")
            for line in lines:
                ls = _sub(geometry, "LineString")
                _sub(ls, "tessellate", "1")
                _sub(ls, "coordinates",
                     " ".join(f"{_coord(lon)},{_coord(lat)}" for lon, lat in line))
        for v in route.visits:
            mark = _sub(folder, "Placemark")
            _sub(mark, "name", f"{v.seq}. {v.commune_name}")
            _sub(mark, "description", kml_text(_stop_description(route, v, _)))
            _sub(mark, "styleUrl", f"#route-{i}")
            point = _sub(mark, "Point")
            _sub(point, "coordinates", f"{_coord(v.lon)},{_coord(v.lat)}")
    return _xml_bytes(root)


# --- manifests ---------------------------------------------------------------------------------


def manifest_header(lang: str) -> list[str]:
    """Column headings of the CSV manifest, in ``lang``."""
    _ = Translator(lang)
    return [_("vehicle_id"), _("vehicle"), _("order"), _("commune_code"), _("commune"),
            _("service_day"), _("arrival"), _("departure"), _("deliver"), _("collect"),
            _("load_after"), _("transfer"), _("batches_deliver"), _("batches_collect")]


def _transfer_texts(plan: Plan, index: int, _: Translator) -> list[str]:
    """Per visit of route ``index``: its hand-ons of crates ("nhận 3 thùng để giao cho Xã
    Mèo Vạc"), ``; ``-joined, as on the route sheet."""
    return ["; ".join(_.transfers(stop))
            for stop in route_view(plan, index, None).stops]


def manifest_rows(plan: Plan, *, lang: str = "vi") -> Iterator[list[Any]]:
    """One row per visit, vehicles in plan order, stops in visit order."""
    _ = Translator(lang)
    for i, route in enumerate(plan.routes):
        texts = _transfer_texts(plan, i, _)
        for v, transfer in zip(route.visits, texts, strict=True):
            yield [route.key, route.vehicle_name, v.seq, v.commune_code, v.commune_name,
                   _service_day(plan, v).isoformat(), _local(v.arrival), _local(v.departure),
                   v.deliver_crates, v.collect_crates, v.load_after_crates, transfer,
                   BATCH_SEPARATOR.join(v.deliver_batches),
                   BATCH_SEPARATOR.join(v.collect_batches)]


def csv_manifest(plan: Plan, *, lang: str = "vi") -> bytes:
    """The manifest as CSV: UTF-8 with a byte-order mark (so Excel shows the diacritics),
    comma-separated, CRLF line ends, one row per visit."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(manifest_header(lang))
    writer.writerows([spreadsheet_text(x) for x in row] for row in manifest_rows(plan, lang=lang))
    return buf.getvalue().encode("utf-8-sig")


_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(text: str, taken: set[str]) -> str:
    """A valid, unique worksheet name (at most 31 characters, none of ``[]:*?/\\``)."""
    base = _SHEET_NAME_BAD.sub("-", text).strip("'")[:31] or "sheet"
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.casefold())
    return name


def _naive(iso: str) -> dt.datetime:
    """Local wall-clock time without offset: spreadsheets have no time zones."""
    return formatting.parse_clock(iso).replace(tzinfo=None)


def _write_table(ws: Any, header: Sequence[str], rows: Sequence[Sequence[Any]],
                 widths: Sequence[float]) -> None:
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        ws.append(list(row))
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even if it starts with "=": never a formula
            elif isinstance(cell.value, dt.datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "dd/mm/yyyy"


def xlsx_manifest(plan: Plan, *, lang: str = "vi") -> bytes:
    """The manifest as an Excel workbook: a summary sheet (one row per vehicle), then one
    sheet per vehicle with its visits. Times are real date-times (local time)."""
    _ = Translator(lang)
    wb = Workbook()
    wb.properties.creator = CREATOR
    wb.properties.title = plan.scenario_title or plan.scenario_name
    taken: set[str] = set()

    summary = wb.active
    summary.title = _sheet_name(_("summary"), taken)
    _write_table(
        summary,
        [_("vehicle_id"), _("vehicle"), _("driver"), _("depot"), _("depart"), _("return"),
         _("stops"), "km", _("hours"), _("crates_loaded"), _("deliver"), _("collect")],
        [[r.key, r.vehicle_name, r.driver, r.depot_name, _naive(r.depart),
          _naive(r.return_time), len(r.visits), r.km, formatting.hours_text(r.driving_hours),
          r.load_start_crates, r.crates_delivered, r.crates_collected]
         for r in plan.routes],
        [14, 28, 18, 28, 17, 17, 10, 9, 9, 14, 9, 9])
    summary.append([])
    summary.append([OSM_ATTRIBUTION + " (ODbL 1.0)"])

    for i, route in enumerate(plan.routes):
        ws = wb.create_sheet(_sheet_name(route.key, taken))
        texts = _transfer_texts(plan, i, _)
        _write_table(
            ws,
            [_("order"), _("commune_code"), _("commune"), _("service_day"), _("arrival"),
             _("departure"), _("deliver"), _("collect"), _("load_after"), _("transfer"),
             _("leg_km"), _("contact"), _("note"), _("batches_deliver"), _("batches_collect")],
            [[v.seq, v.commune_code, v.commune_name, _service_day(plan, v), _naive(v.arrival),
              _naive(v.departure), v.deliver_crates, v.collect_crates, v.load_after_crates,
              transfer, v.leg_km, v.contact, v.note, BATCH_SEPARATOR.join(v.deliver_batches),
              BATCH_SEPARATOR.join(v.collect_batches)]
             for v, transfer in zip(route.visits, texts, strict=True)],
            [6, 10, 24, 13, 17, 17, 8, 8, 12, 30, 10, 20, 50, 24, 24])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_table(rows: Sequence[Sequence[Any]]) -> bytes:
    """A table (its first row the headings) as CSV the way the manifest is written: UTF-8
    with a byte-order mark, CRLF line ends, formula-like text made text."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows([spreadsheet_text(x) for x in row] for row in rows)
    return buf.getvalue().encode("utf-8-sig")


def xlsx_table(rows: Sequence[Sequence[Any]], *, sheet: str, title: str = "") -> bytes:
    """A table (its first row the headings) as a one-sheet Excel workbook of text cells."""
    wb = Workbook()
    wb.properties.creator = CREATOR
    wb.properties.title = title or sheet
    ws = wb.active
    ws.title = _sheet_name(sheet, set())
    header, *body = rows or [[]]
    _write_table(ws, header, body, [max(12.0, min(40.0, len(str(h)) + 4)) for h in header])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
