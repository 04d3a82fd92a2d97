"""Road conditions: closures (landslides, works) and seasonal slow-downs, as speed factors.

Each road segment of a :class:`~geodata.network.RoadGraph` gets a factor that multiplies its
speed: 1 is normal, 0.5 half speed, 0 closed. Closures select segments

* by road number between two places (``ref: QL.4C`` from one point to another: the stretch of
  that road between the points closest to them),
* by area (a polygon) or line (with a tolerance in metres),
* by OSM way id where the data has them,

and apply between two dates. The rainy season slows roads by class in the months it covers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise

import networkx as nx
import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.errors import GeodataError
from geodata.network import RoadGraph


class ClosureError(GeodataError, ValueError):
    """A closure selects no road, or names a road that does not link its two places."""


def normalise_ref(ref: str) -> str:
    """``"QL.4C"``, ``"QL 4C"``, ``"ql4c"`` -> ``"QL4C"``; several refs ``"QL2;QL4C"`` stay
    separated by ``;``."""
    return ";".join(re.sub(r"[\s.\-_]", "", part).upper() for part in str(ref).split(";")
                    if part.strip())


@dataclass(frozen=True)
class Closure:
    """One closure or slow-down; ``speed_factor`` 0 closes, a value in (0, 1) slows."""

    id: str
    speed_factor: float = 0.0
    start: dt.date | None = None
    end: dt.date | None = None
    ref: str | None = None
    between: tuple[tuple[float, float], tuple[float, float]] | None = None
    geometry: BaseGeometry | None = None
    tolerance_m: float = 30.0
    way_ids: tuple[int, ...] = ()
    note: str = ""

    def overlaps(self, first: dt.date, last: dt.date) -> bool:
        """True when the closure is in force on any day from ``first`` to ``last``."""
        return (self.start is None or self.start <= last) and (self.end is None
                                                               or self.end >= first)


@dataclass(frozen=True)
class Season:
    """Months of the rainy season and the speed factor per road class in them."""

    months: tuple[int, ...] = (5, 6, 7, 8, 9)
    factor_by_class: Mapping[str, float] = field(default_factory=lambda: {
        "trunk": 0.9, "primary": 0.9, "secondary": 0.85, "tertiary": 0.8, "minor": 0.75,
        "service": 0.75, "track": 0.6})
    default_factor: float = 0.8

    def covers(self, first: dt.date, last: dt.date) -> bool:
        day, months = first, set(self.months)
        while day <= last:
            if day.month in months:
                return True
            day += dt.timedelta(days=1)
        return False


def _segment_lines(graph: RoadGraph) -> np.ndarray:
    """Every segment as a LineString in the graph's metric CRS."""
    tr = pyproj.Transformer.from_crs("EPSG:4326", graph.metric_crs, always_xy=True)
    xy = np.column_stack(tr.transform(graph.seg_coords[:, 0], graph.seg_coords[:, 1]))
    n_seg = len(graph.seg_length_m)
    idx = np.repeat(np.arange(n_seg), np.diff(graph.seg_coord_ptr))
    return shapely.linestrings(xy, indices=idx)


def _by_ref(graph: RoadGraph, closure: Closure) -> np.ndarray:
    want = normalise_ref(closure.ref or "")
    refs = np.array([normalise_ref(r) for r in graph.seg_ref], dtype=object)
    hit = np.array([want in r.split(";") if r else False for r in refs])
    segs = np.flatnonzero(hit)
    if len(segs) == 0:
        raise ClosureError(f"closure {closure.id!r}: no road with ref {closure.ref!r} in the "
                           "network; check the road number (e.g. \"QL.4C\")")
    if closure.between is None:
        return segs
    ptr = graph.seg_coord_ptr
    start_ll = graph.seg_coords[ptr[segs]]
    end_ll = graph.seg_coords[ptr[segs + 1] - 1]
    g = nx.Graph()
    for s, a, b in zip(segs.tolist(), map(tuple, np.round(start_ll, 7)),
                       map(tuple, np.round(end_ll, 7)), strict=True):
        g.add_edge(a, b, seg=s, w=float(graph.seg_length_m[s]))
    tr = pyproj.Transformer.from_crs("EPSG:4326", graph.metric_crs, always_xy=True)
    nodes = list(g.nodes)
    nx_, ny_ = tr.transform([p[0] for p in nodes], [p[1] for p in nodes])
    ends = []
    for lon, lat in closure.between:
        px, py = tr.transform(lon, lat)
        ends.append(nodes[int(np.argmin(np.hypot(np.asarray(nx_) - px, np.asarray(ny_) - py)))])
    try:
        path = nx.shortest_path(g, ends[0], ends[1], weight="w")
    except nx.NetworkXNoPath:
        raise ClosureError(f"closure {closure.id!r}: road {closure.ref!r} does not run "
                           "continuously between the two places; give a polygon instead"
                           ) from None
    return np.array(sorted({g.edges[a, b]["seg"] for a, b in pairwise(path)}), dtype=int)


def closure_segments(graph: RoadGraph, closure: Closure, *,
                     lines: np.ndarray | None = None) -> np.ndarray:
    """Segment ids a closure selects (raises :class:`ClosureError` when it selects none)."""
    selected: list[np.ndarray] = []
    if closure.ref:
        selected.append(_by_ref(graph, closure))
    if closure.geometry is not None:
        lines = _segment_lines(graph) if lines is None else lines
        tr = pyproj.Transformer.from_crs("EPSG:4326", graph.metric_crs, always_xy=True)
        geom = shapely.transform(closure.geometry, lambda c: np.column_stack(
            tr.transform(c[:, 0], c[:, 1])))
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            area = geom
        else:
            area = geom.buffer(closure.tolerance_m)
        selected.append(np.flatnonzero(shapely.intersects(lines, area)))
    if closure.way_ids:
        ids = graph.extra.get("seg_osm_way_id")
        if ids is None:
            raise ClosureError(f"closure {closure.id!r}: this road network has no OSM way ids "
                               "(tile-derived data); close by road number or area instead")
        selected.append(np.flatnonzero(np.isin(ids, np.asarray(closure.way_ids))))
    segs = np.unique(np.concatenate(selected)) if selected else np.zeros(0, dtype=int)
    if len(segs) == 0:
        raise ClosureError(f"closure {closure.id!r} selects no road; give `ref`, `area`, "
                           "`line` or `way_ids` that touch the network")
    return segs


@dataclass(frozen=True, eq=False)
class RoadConditions:
    """Per-segment speed factors for a planning period, with what produced them."""

    factor: np.ndarray
    closures: tuple[str, ...]
    closed_km: float
    season: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(np.round(self.factor, 6).tobytes()).hexdigest()[:16]

    @property
    def is_normal(self) -> bool:
        return bool(np.all(self.factor == 1.0))


def road_conditions(graph: RoadGraph, closures: tuple[Closure, ...] = (), *,
                    first: dt.date | None = None, last: dt.date | None = None,
                    season: Season | None = None,
                    segments: Mapping[str, np.ndarray] | None = None) -> RoadConditions:
    """Speed factors for the period ``first``..``last``: closures in force on any of its days
    (a closure that starts mid-period counts for the whole period: plans stay safe), and the
    rainy-season factors when ``season`` is given and the period touches its months.
    ``segments`` (closure id -> :func:`closure_segments`) saves selecting them again."""
    factor = np.ones(len(graph.seg_length_m))
    applied_season = ""
    if season is not None and first is not None and season.covers(first, last or first):
        by_class = np.array([season.factor_by_class.get(c, season.default_factor)
                             for c in graph.classes])
        factor *= by_class[graph.seg_class]
        applied_season = "rainy"
    used = []
    lines = None
    for c in closures:
        if first is not None and not c.overlaps(first, last or first):
            continue
        if segments is not None and c.id in segments:
            segs = segments[c.id]
        else:
            if c.geometry is not None and lines is None:
                lines = _segment_lines(graph)
            segs = closure_segments(graph, c, lines=lines)
        factor[segs] = np.minimum(factor[segs], c.speed_factor) if c.speed_factor > 0 else 0.0
        used.append(c.id)
    closed_km = float(graph.seg_length_m[factor == 0].sum() / 1000)
    return RoadConditions(factor=factor, closures=tuple(used), closed_km=round(closed_km, 2),
                          season=applied_season)


@dataclass(frozen=True, eq=False)
class ConditionPeriod:
    """Consecutive days of a horizon on which the same closures and season factors hold:
    days ``first_day``..``last_day`` (0 = the horizon's first day), with their conditions."""

    first_day: int
    last_day: int
    first: dt.date
    last: dt.date
    conditions: RoadConditions


def condition_periods(graph: RoadGraph, closures: tuple[Closure, ...] = (), *,
                      first: dt.date, last: dt.date, season: Season | None = None
                      ) -> tuple[ConditionPeriod, ...]:
    """The horizon ``first``..``last`` cut into periods of unchanging road conditions: a
    new period starts on each day a closure starts or ends, or the rainy season begins or
    ends. Each closure's segments are selected once (a closure that selects no road raises
    :class:`ClosureError` whether or not it falls in the horizon's days)."""
    lines = None
    segments: dict[str, np.ndarray] = {}
    for c in closures:
        if not c.overlaps(first, last):
            continue
        if c.geometry is not None and lines is None:
            lines = _segment_lines(graph)
        segments[c.id] = closure_segments(graph, c, lines=lines)
    n_days = (last - first).days + 1
    days = [first + dt.timedelta(days=i) for i in range(n_days)]

    def state(day: dt.date) -> tuple[bool, tuple[str, ...]]:
        rainy = season is not None and season.covers(day, day)
        return rainy, tuple(c.id for c in closures if c.overlaps(day, day))

    runs: list[tuple[int, int]] = []
    for i, day in enumerate(days):
        if runs and state(days[runs[-1][0]]) == state(day):
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return tuple(ConditionPeriod(a, b, days[a], days[b], road_conditions(
        graph, closures, first=days[a], last=days[b], season=season, segments=segments))
        for a, b in runs)
