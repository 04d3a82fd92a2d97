"""Fuzzing the OpenStreetMap importer (issue 19): mutants of a small valid OSM file, imported
in this process by :func:`geodata.importer.import_dataset` (``planner geodata import``, on
pyosmium), as XML, gzip or bzip2 XML, or PBF.

Mutations: broken XML, ways referring to missing nodes, duplicate and negative ids, extreme,
non-finite, out-of-range and unreadable coordinates, odd tags (``maxspeed=abc``, ``50 mph``,
huge numbers, Unicode names, very long values, ferry durations), empty files, truncated or
damaged PBF and compressed bytes, ways of one node, ways without length, self-loops, long
and self-crossing ways, entity expansion, nodes after the ways; imports with and without a
communes file, in one chunk or many.

Each case must end in one clear :class:`~geodata.errors.GeodataError` naming the file, with
nothing left in the output folder (or, for roads too far apart for one UTM zone, raised by
the graph builder the planner runs on the dataset), or in a dataset whose road graph keeps
the invariants (coordinates in range, finite positive lengths and times, node indices in
range, every pair of junctions of a profile's main component reachable both ways). Any other
exception fails, and so does a case running past 30 s (a hang) or asking for 4 GB.

``make test`` runs 200 cases (about 10 s; at most 120 under ``CI=true``, derandomized); run
more with ``PLANNER_FUZZ_EXAMPLES`` (README, Development); ``PLANNER_FUZZ_REPORT=FILE`` writes
the count of each outcome as JSON (:mod:`fuzzkit`).
"""

from __future__ import annotations

import bz2
import copy
import gzip
import json
import math
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
import osmium
import pytest
import shapely
from fuzzkit import (
    IN_CI,
    assert_clear_message,
    example_count,
    outcome_counts,
    within_time_limit,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from osmium.osm.mutable import Node, Relation, Way

from geodata.datasets import load_dataset
from geodata.errors import GeodataError
from geodata.importer import import_dataset
from geodata.network import RoadGraph, build_road_graph
from geodata.osm import ROAD_COLUMNS
from geodata.profiles import load_profiles
from geodata.routing import profile_graph, travel_matrices

EXAMPLES = example_count(200)

# --- the valid file the mutants start from ------------------------------------------------
#
#   6 --103 oneway--> 7 <--104 (drawn 8 -> 7, oneway=-1)-- 8
#   |                 |                                    | 105 track
#  102               107 service                          9
#   |                 |                                    | 106 bridge, limits
#   5      (108 footway 1-5)                               |
#   |                 |                                    |
#   1 ----- 2 ------- 3 ------------- 4 -------------------+   101 primary
#    \      (102 starts at 2)          109 roundabout 9 -> 3
#     110 vehicle ferry, 10 minutes -- 10 -- 111 residential -- 4

NodeRow = list[Any]  # [id, lon, lat, tags]
WayRow = list[Any]  # [id, [refs], tags]


@dataclass
class OsmData:
    """An OSM file's content before it is written: values may be anything (text, numbers)."""

    nodes: list[NodeRow]
    ways: list[WayRow]
    relations: list[list[Any]] = field(default_factory=list)


BASE = OsmData(
    nodes=[[1, 105.0, 22.8, {}], [2, 105.001, 22.8, {}], [3, 105.002, 22.8, {}],
           [4, 105.003, 22.8, {"highway": "traffic_signals"}], [5, 105.001, 22.801, {}],
           [6, 105.001, 22.802, {}], [7, 105.002, 22.802, {}], [8, 105.003, 22.802, {}],
           [9, 105.003, 22.801, {"name": "Cầu"}], [10, 105.0015, 22.797, {}]],
    ways=[
        [101, [1, 2, 3, 4], {"highway": "primary", "name": "QL4C", "name:vi": "Quốc lộ 4C",
                             "ref": "QL.4C", "surface": "asphalt", "maxspeed": "60"}],
        [102, [2, 5, 6], {"highway": "residential", "name": "Ngõ 1"}],
        [103, [6, 7], {"highway": "tertiary", "oneway": "yes"}],
        [104, [8, 7], {"highway": "unclassified", "oneway": "-1"}],
        [105, [8, 9], {"highway": "track", "tracktype": "grade3"}],
        [106, [4, 9], {"highway": "secondary", "bridge": "yes", "maxweight": "3.5",
                       "maxwidth": "8'2\"", "maxheight": "3.5 m", "name": "Cầu Bản Phùng"}],
        [107, [3, 7], {"highway": "service", "access": "destination"}],
        [108, [1, 5], {"highway": "footway"}],
        [109, [9, 3], {"highway": "residential", "junction": "roundabout"}],
        [110, [1, 10], {"route": "ferry", "motor_vehicle": "yes", "duration": "00:10",
                        "name": "Phà Bắc Quang"}],
        [111, [10, 4], {"highway": "residential"}],
    ],
    relations=[[1, [("w", 101, "")], {"type": "route", "route": "road", "ref": "QL.4C"}]],
)
COMMUNES_CSV = ("commune_code,name,lon,lat\n00778,Xã A,105.0005,22.8005\n"
                "01108,Xã B,105.0025,22.8015\n")

COORDINATES = ["90", "-90", "91", "-91", "180", "-180", "180.0000001", "-180.0000001", "0",
               "-0", "1e400", "-1e400", "1e-300", "nan", "inf", "-inf", "abc", "", " 22.8",
               "22,8", "+22.8", "0x16", "22.8.1", "2.28e1", "1" * 40, "٢٢.٨", "22.8\x00",
               "179.9999999", "-179.9999999", "89.9999999"]
IDS = [0, -1, -9_999, 2**31, 2**53, 2**62, 2**63 - 1, 2**63, 2**64, -(2**63), "abc", "",
       "1.5", "1e3", " 7", "0x1f"]
HIGHWAYS = ["primary", "motorway", "motorway_link", "trunk_link", "residential", "track",
            "service", "footway", "path", "construction", "proposed", "", "PRIMARY",
            "primary;secondary", "road", "living_street", "steps", "🚗"]
TAG_VALUES = [
    "abc", "50 mph", "60", "-5", "0", "1e400", "9" * 400, "nan", "none", "signals", "30;50",
    "3,5 t", "3.5t", "8'2\"", "8'", "7 ft", "250 cm", "-1", "yes", "no", "reversible",
    "reverse", "roundabout", "destination", "private", "", " ", "Đường 176",
    "a\u0301\u0302\u0303", "\u202eabc", "📚🚚", "x" * 10_000, "<b>&amp;", "'\"", "\t\n",
    "é" * 300, "Ｑ Ｌ ４ Ｃ", "ferry", "00:30", "25:99", "00:00", "PT1H30M", "PT", "-00:10",
    "99999:00", "1" * 400 + ".5",
]
TAG_KEYS = ["highway", "name", "name:vi", "ref", "oneway", "maxspeed", "maxweight", "maxwidth",
            "maxheight", "access", "motor_vehicle", "vehicle", "bridge", "tunnel", "ford",
            "surface", "junction", "area", "service", "int_name", "name:en", "", "k" * 300,
            "tên", "route", "duration", "motorcar", "hgv"]
DURATIONS = ["00:10", "0:05", "1:30:00", "30", "2.5", "PT1H30M", "PT45M", "PT", "P1D",
             "25:99", "00:00", "0", "-00:10", "-5", "99999:00", "9" * 400, "1" * 400 + ".5",
             "PT99999999999999999999H", "PT1e400H", "abc", "", "1e3", "nan", "inf"]
SUFFIXES = [".osm", ".osm", ".osm", ".osm.pbf", ".osm.pbf", ".osm.gz", ".osm.bz2"]


# --- writing a file --------------------------------------------------------------------------

def _attr(value: Any, *, escape: bool) -> str:
    text = repr(value) if isinstance(value, float) else str(value)
    return quoteattr(text) if escape else f'"{text}"'


def _tags_xml(tags: dict[str, Any], escape: bool) -> str:
    return "".join(f"<tag k={_attr(k, escape=escape)} v={_attr(v, escape=escape)}/>"
                   for k, v in tags.items())


def osm_xml(data: OsmData, *, escape: bool = True, ways_first: bool = False,
            doctype: str = "") -> str:
    """``data`` as OSM XML (attribute values escaped unless ``escape`` is false)."""
    nodes = []
    for nid, lon, lat, tags in data.nodes:
        head = (f"<node id={_attr(nid, escape=escape)} lat={_attr(lat, escape=escape)} "
                f"lon={_attr(lon, escape=escape)} version=\"1\"")
        nodes.append(f"{head}>{_tags_xml(tags, escape)}</node>" if tags else f"{head}/>")
    ways = [f"<way id={_attr(wid, escape=escape)} version=\"1\">"
            + "".join(f"<nd ref={_attr(r, escape=escape)}/>" for r in refs)
            + _tags_xml(tags, escape) + "</way>" for wid, refs, tags in data.ways]
    relations = [f"<relation id={_attr(rid, escape=escape)} version=\"1\">"
                 + "".join(f"<member type=\"{'way' if kind == 'w' else 'node'}\" "
                           f"ref={_attr(ref, escape=escape)} role={_attr(role, escape=escape)}/>"
                           for kind, ref, role in members)
                 + _tags_xml(tags, escape) + "</relation>"
                 for rid, members, tags in data.relations]
    body = [*ways, *nodes] if ways_first else [*nodes, *ways]
    return "\n".join(["<?xml version='1.0' encoding='UTF-8'?>", *([doctype] if doctype else []),
                      "<osm version=\"0.6\" generator=\"fuzz\">", *body, *relations,
                      "</osm>", ""])


def osm_pbf(data: OsmData, path: Path) -> bool:
    """Write ``data`` as PBF with pyosmium's writer; False when it cannot hold the values
    (an id or coordinate that is no number...), and then nothing is written."""
    texts = [str(t) for _, _, _, tags in data.nodes for t in (*tags, *tags.values())]
    texts += [str(t) for *_, tags in (*data.ways, *data.relations)
              for t in (*tags, *tags.values())]
    if any("\x00" in t for t in texts):
        return False  # pyosmium 4.3's writer crashes (SIGSEGV) on a NUL in a tag
    try:
        with osmium.SimpleWriter(str(path), overwrite=True) as writer:
            for nid, lon, lat, tags in data.nodes:
                writer.add_node(Node(id=int(nid), location=(float(lon), float(lat)),
                                     tags={str(k): str(v) for k, v in tags.items()}))
            for wid, refs, tags in data.ways:
                writer.add_way(Way(id=int(wid), nodes=[int(r) for r in refs],
                                   tags={str(k): str(v) for k, v in tags.items()}))
            for rid, members, tags in data.relations:
                writer.add_relation(Relation(id=int(rid), members=[
                    (kind, int(ref), str(role)) for kind, ref, role in members],
                    tags={str(k): str(v) for k, v in tags.items()}))
    except Exception:  # noqa: BLE001 - pyosmium refuses such values with many error types
        path.unlink(missing_ok=True)
        return False
    return True


# --- mutants ---------------------------------------------------------------------------------

def _ids(rows: list[list[Any]]) -> list[Any]:
    return [row[0] for row in rows]


@st.composite
def osm_data(draw: st.DrawFn) -> OsmData:
    """BASE with a few mutations of its nodes, ways and tags."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 2, 3, 4]))):
        op = draw(st.sampled_from([
            "coordinate", "coordinate", "jitter", "swap_lon_lat", "node_id", "drop_node",
            "dup_node", "way_id", "drop_ref", "missing_ref", "repeat_ref", "self_loop",
            "one_node", "no_nodes", "zero_length", "reverse", "long_way", "tag", "tag",
            "tag", "drop_tag", "many_tags", "grid", "dup_way", "drop_way", "relation",
            "ferry", "ferry"]))
        node = draw(st.sampled_from(data.nodes)) if data.nodes else None
        way = draw(st.sampled_from(data.ways)) if data.ways else None
        if op == "coordinate" and node:
            node[draw(st.sampled_from([1, 2]))] = draw(
                st.sampled_from(COORDINATES) | st.floats() | st.integers(-400, 400))
        elif op == "jitter" and node:
            node[1] = float(node[1]) + draw(st.floats(-1e-3, 1e-3)) if isinstance(
                node[1], float) else node[1]
        elif op == "swap_lon_lat" and node:
            node[1], node[2] = node[2], node[1]
        elif op == "node_id" and node:
            node[0] = draw(st.sampled_from(IDS + _ids(data.nodes)))
        elif op == "drop_node" and node:
            data.nodes.remove(node)
        elif op == "dup_node" and node:  # the same id twice, perhaps elsewhere
            twin = [node[0], draw(st.sampled_from([node[1], 106.0, "abc"])), node[2], {}]
            data.nodes.insert(draw(st.integers(0, len(data.nodes))), twin)
        elif op == "way_id" and way:
            way[0] = draw(st.sampled_from(IDS + _ids(data.ways) + _ids(data.nodes)))
        elif op == "drop_ref" and way and way[1]:
            del way[1][draw(st.integers(0, len(way[1]) - 1))]
        elif op == "missing_ref" and way:
            way[1].insert(draw(st.integers(0, len(way[1]))),
                          draw(st.sampled_from([999, -1, 0, way[0], "x", 2**64])))
        elif op == "repeat_ref" and way and way[1]:
            at = draw(st.integers(0, len(way[1]) - 1))
            way[1].insert(at, way[1][at])
        elif op == "self_loop" and way and way[1]:
            way[1] = draw(st.sampled_from([[way[1][0], way[1][0]], [*way[1], way[1][0]],
                                           [way[1][0], way[1][-1], way[1][0]]]))
        elif op == "one_node" and way and way[1]:
            way[1] = way[1][:1]
        elif op == "no_nodes" and way:
            way[1] = []
        elif op == "zero_length" and way and node:  # every node of the way at one place
            copies = [[9000 + i, node[1], node[2], {}] for i in range(3)]
            data.nodes.extend(copies)
            way[1] = [node[0], *_ids(copies)]
        elif op == "reverse" and way:
            way[1].reverse()
        elif op == "long_way" and way and way[1]:
            length = draw(st.sampled_from([50, 500, 5000]))
            cycle = draw(st.sampled_from([way[1], _ids(data.nodes) or way[1]]))
            way[1] = [cycle[i % len(cycle)] for i in range(length)]
        elif op == "tag" and way:
            key = draw(st.sampled_from(TAG_KEYS) | st.text(max_size=6))
            way[2][key] = draw(st.sampled_from(HIGHWAYS if key == "highway" else TAG_VALUES)
                               | st.text(max_size=12))
        elif op == "ferry" and way:  # a crossing (mostly for vehicles), and its duration
            if draw(st.integers(0, 4)):
                way[2].pop("highway", None)
            way[2].update({"route": draw(st.sampled_from(["ferry"] * 4 + ["bus"])),
                           draw(st.sampled_from(["motor_vehicle", "motorcar", "hgv", "foot"])):
                           draw(st.sampled_from(["yes"] * 4 + ["no", ""])),
                           "duration": draw(st.sampled_from(DURATIONS) | st.text(max_size=8))})
        elif op == "drop_tag" and way and way[2]:
            del way[2][draw(st.sampled_from(sorted(way[2])))]
        elif op == "many_tags" and way:
            way[2].update({f"k{i}": f"v{i}" for i in range(draw(st.sampled_from([30, 300])))})
        elif op == "grid":  # a larger network: n x n junctions at 0.001 degree
            n = draw(st.sampled_from([5, 20, 40]))
            first = 100_000
            for i in range(n * n):
                data.nodes.append([first + i, 105.01 + (i % n) * 1e-3,
                                   22.81 + (i // n) * 1e-3, {}])
            for r in range(n):
                data.ways.append([200_000 + r, [first + r * n + c for c in range(n)],
                                  {"highway": "residential"}])
                data.ways.append([300_000 + r, [first + c * n + r for c in range(n)],
                                  {"highway": "tertiary", "oneway": "yes" if r % 2 else "no"}])
        elif op == "dup_way" and way:
            data.ways.insert(draw(st.integers(0, len(data.ways))), copy.deepcopy(way))
        elif op == "drop_way" and way:
            data.ways.remove(way)
        elif op == "relation" and way:
            data.relations.append([draw(st.sampled_from([2, 1, -5])), [
                ("w", way[0], "outer"), ("n", 999_999, ""), ("w", 424_242, "")],
                {"type": draw(st.sampled_from(["multipolygon", "route", ""])),
                 "highway": "pedestrian", "area": "yes"}])
    return data


# an XML bomb, bounded: expat (libosmium's XML parser) must refuse it or expand it quickly
BOMB = ("<!DOCTYPE osm [<!ENTITY a \"aaaaaaaaaa\">"
        + "".join(f"<!ENTITY {chr(98 + i)} \"{('&' + chr(97 + i) + ';') * 10}\">"
                  for i in range(7)) + "]>")


@dataclass(frozen=True)
class Case:
    """One fuzz case: the bytes of an OSM file, its suffix, and how it is imported."""

    data: bytes
    suffix: str
    communes: bool
    chunk_rows: int

    def __repr__(self) -> str:
        shown = self.data if len(self.data) <= 4000 else self.data[:4000] + b"..."
        return (f"Case({self.suffix!r}, communes={self.communes}, "
                f"chunk_rows={self.chunk_rows}, {shown!r})")


def _place(draw: st.DrawFn, size: int) -> int:
    """A place in a file of ``size`` bytes (0 to size - 1), drawn as a fraction of it."""
    return draw(st.integers(0, 999_999)) * size // 1_000_000


def _byte_edit(draw: st.DrawFn, raw: bytes, weights: list[str]) -> bytes:
    edit = draw(st.sampled_from(weights))
    if edit == "truncate" and raw:
        return raw[:_place(draw, len(raw))]
    if edit == "junk":
        at = _place(draw, len(raw) + 1)
        return raw[:at] + draw(st.binary(min_size=1, max_size=16)) + raw[at:]
    if edit == "flip" and raw:
        out = bytearray(raw)
        for _ in range(draw(st.integers(1, 8))):
            out[_place(draw, len(out))] ^= draw(st.integers(1, 255))
        return bytes(out)
    if edit == "empty":
        return b""
    if edit == "binary":
        return draw(st.binary(max_size=300))
    return raw


@st.composite
def cases(draw: st.DrawFn) -> Case:
    data = draw(osm_data())
    suffix = draw(st.sampled_from(SUFFIXES))
    if suffix == ".osm.pbf":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "x.osm.pbf"
            raw = path.read_bytes() if osm_pbf(data, path) else None
        if raw is None:
            suffix = ".osm"
        else:
            raw = _byte_edit(draw, raw, ["none"] * 8 + ["truncate", "junk", "flip", "empty",
                                                       "binary"])
    if suffix != ".osm.pbf":
        text = osm_xml(data, escape=draw(st.integers(0, 9)) > 0,
                       ways_first=draw(st.integers(0, 9)) == 0,
                       doctype=BOMB if draw(st.integers(0, 19)) == 0 else "")
        lines = text.splitlines(keepends=True)
        edit = draw(st.sampled_from(["none"] * 10 + [
            "drop_line", "dup_line", "no_end", "encoding", "bom", "nested", "text"]))
        if edit == "drop_line" and lines:
            del lines[_place(draw, len(lines))]
        elif edit == "dup_line" and lines:
            at = _place(draw, len(lines))
            lines.insert(at, lines[at])
        elif edit == "no_end":
            lines = [line for line in lines if "</osm>" not in line]
        elif edit == "encoding":
            lines[0] = draw(st.sampled_from(["<?xml version='1.0' encoding='UTF-16'?>\n",
                                             "<?xml version='1.0' encoding='latin-1'?>\n",
                                             "<?xml version='1.1'?>\n", ""]))
        elif edit == "bom":
            lines.insert(0, "\ufeff")
        elif edit == "nested":
            lines.insert(2, "<osm version=\"0.6\">\n")
        elif edit == "text":
            lines.insert(_place(draw, len(lines) + 1),
                         draw(st.sampled_from(["&", "<", "]]>", "&#0;", "&#xD800;", "&bogus;",
                                               "<node id='5' lat='22.8'", "\x00", "text"])))
        raw = "".join(lines).encode("utf-8", "surrogatepass")
        if suffix == ".osm.gz":
            raw = gzip.compress(raw, mtime=0)
        elif suffix == ".osm.bz2":
            raw = bz2.compress(raw)
        raw = _byte_edit(draw, raw, ["none"] * 12 + ["truncate", "junk", "flip", "empty",
                                                     "binary"])
    assert raw is not None
    return Case(raw, suffix, communes=draw(st.integers(0, 4)) == 0,
                chunk_rows=draw(st.sampled_from([25_000, 25_000, 2, 7])))


# --- one case --------------------------------------------------------------------------------

def check_graph(graph: RoadGraph) -> None:
    """The invariants of a road graph the planner routes on."""
    n = graph.n_nodes
    assert n >= 2 and graph.n_edges >= 1
    assert np.isfinite(graph.node_lon).all() and np.isfinite(graph.node_lat).all()
    assert (np.abs(graph.node_lon) <= 180).all() and (np.abs(graph.node_lat) <= 90).all()
    assert np.isfinite(graph.node_x).all() and np.isfinite(graph.node_y).all()
    for ends in (graph.edge_u, graph.edge_v):
        assert ((ends >= 0) & (ends < n)).all()
    assert np.isfinite(graph.edge_length_m).all() and (graph.edge_length_m > 0).all()
    assert np.isfinite(graph.seg_length_m).all() and (graph.seg_length_m > 0).all()
    assert np.isfinite(graph.seg_coords).all()
    assert (np.diff(graph.seg_coord_ptr) >= 2).all() and (np.diff(graph.edge_seg_ptr) >= 1).all()
    assert set(np.unique(graph.edge_dir).tolist()) <= {-1, 0, 1}
    for profile in load_profiles().values():
        pg = profile_graph(graph, profile)
        for ends in (pg.arc_from, pg.arc_to):
            assert ((ends >= 0) & (ends < n)).all()
        assert np.isfinite(pg.arc_time_s).all() and (pg.arc_time_s > 0).all()
        assert np.isfinite(pg.arc_length_m).all() and (pg.arc_length_m > 0).all()
        main = np.flatnonzero(pg.in_main)[:4]
        if len(main) >= 2:  # a strongly connected component: every pair reachable
            mat = travel_matrices(pg, main)
            assert np.isfinite(mat.time_s).all() and (mat.time_s >= 0).all(), mat.time_s
            assert np.isfinite(mat.distance_m).all()
            assert (np.diag(mat.time_s) == 0).all()


def run_case(case: Case, folder: Path) -> str:
    """``imported`` (a dataset whose graph keeps the invariants), ``refused`` (one clear
    GeodataError, nothing left behind) or ``imported, graph refused`` (a dataset on which
    the graph builder, which the planner runs, raises one clear GeodataError: roads too far
    apart for one UTM zone); anything else raises."""
    source = folder / f"fuzz{case.suffix}"
    source.write_bytes(case.data)
    communes = None
    if case.communes:
        communes = folder / "communes.csv"
        communes.write_text(COMMUNES_CSV, encoding="utf-8")
    out = folder / "datasets"
    try:
        result = import_dataset(source, name="fuzz", out_dir=out, communes=communes,
                                buffer_km=1.0, chunk_rows=case.chunk_rows)
    except GeodataError as exc:
        assert_clear_message(str(exc), names=(str(source), str(communes)))
        assert not out.exists() or not list(out.iterdir()), "a failed import left files"
        return "refused"
    report = json.loads((result.path / "import-report.json").read_text(encoding="utf-8"))
    assert report == json.loads(json.dumps(result.report)), "the report is not plain JSON"
    assert report["kept"]["lines"] >= 1 and math.isfinite(report["kept"]["km"])
    dataset = load_dataset(result.path)
    roads = dataset.roads()
    assert tuple(roads.columns) == ROAD_COLUMNS and len(roads) == report["kept"]["lines"]
    assert (roads.geom_type == "LineString").all()
    coords = shapely.get_coordinates(roads.geometry.values)
    assert np.isfinite(coords).all()
    assert (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()
    assert (shapely.length(roads.geometry.values) > 0).all(), "a road without length"
    for column in ("maxweight_t", "maxwidth_m", "maxheight_m", "duration_s"):
        known = roads[column].dropna()
        assert (np.isfinite(known) & (known > 0)).all(), (column, known.tolist())
    try:
        graph = build_road_graph(roads, source_digest=dataset.digest)
    except GeodataError as exc:  # roads the importer keeps but no graph can hold (say so)
        assert_clear_message(str(exc))
        return "imported, graph refused"
    check_graph(graph)
    return "imported"


@pytest.fixture(scope="module")
def outcome_report() -> Iterator[Counter[str]]:
    yield from outcome_counts()


@settings(max_examples=EXAMPLES, deadline=None, derandomize=IN_CI, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture,
                                 HealthCheck.large_base_example])
@given(case=cases())
def test_a_mutated_osm_file_is_refused_clearly_or_imported_into_a_sound_graph(
        case: Case, outcome_report: Counter[str],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp()
    with tempfile.TemporaryDirectory(dir=base) as tmp:  # removed at once: 10,000 cases
        outcome = within_time_limit(lambda: run_case(case, Path(tmp)))
    outcome_report[f"{case.suffix.lstrip('.')}: {outcome}"] += 1


@pytest.mark.parametrize("suffix", [".osm", ".osm.pbf", ".osm.gz", ".osm.bz2"])
def test_the_valid_file_is_imported_in_every_format(suffix: str, tmp_path: Path) -> None:
    """The mutants' starting point imports (so mutants reach the graph checks)."""
    if suffix == ".osm.pbf":
        assert osm_pbf(BASE, tmp_path / "base.osm.pbf")
        raw = (tmp_path / "base.osm.pbf").read_bytes()
    else:
        raw = osm_xml(BASE).encode()
        raw = {".osm": raw, ".osm.gz": gzip.compress(raw), ".osm.bz2": bz2.compress(raw)}[suffix]
    for communes, chunk_rows in ((False, 25_000), (True, 1)):
        folder = tmp_path / ("clipped" if communes else "whole")
        folder.mkdir()
        assert run_case(Case(raw, suffix, communes, chunk_rows), folder) == "imported"
    roads = load_dataset(tmp_path / "whole" / "datasets" / "fuzz").roads()
    assert sorted(roads["osm_way_id"].astype(int)) == [101, 102, 103, 104, 105, 106, 107, 109,
                                                       110, 111]
    assert roads.set_index(roads["osm_way_id"].astype(int)).loc[110, "duration_s"] == 600
