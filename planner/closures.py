"""Road closures entered outside a scenario file (drawn on the web UI's map, kept in the
database) as parts of a scenario: ``road_conditions.closures`` entries, validated by the
scenario model (:class:`planner.scenario.ClosureSpec`), the one home of what a valid closure
is. A drawn line closes the roads it crosses or runs along within :data:`LINE_TOLERANCE_M`;
an area closes the roads inside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from planner.errors import Problem, ScenarioError
from planner.inputlimits import InputLimits, load_json
from planner.scenario import ClosureSpec, parse_part

ID_PREFIX = "ui-closure-"
LINE_TOLERANCE_M = 30.0  # a drawn line closes the roads it crosses or runs within 30 m of
LINES = ("LineString", "MultiLineString")
AREAS = ("Polygon", "MultiPolygon")
# a drawn closure: a few hundred points; 10,000 is a whole district boundary
GEOMETRY_LIMITS = InputLimits(max_bytes=1024 * 1024, max_depth=8, max_nodes=50_000,
                              max_aliases=0)


def read_geometry_json(text: str | bytes) -> Any:
    """The data of a GeoJSON text of a drawn closure, read within :data:`GEOMETRY_LIMITS`;
    ``ValueError`` (an :class:`~planner.inputlimits.InputLimitError` for a limit) otherwise."""
    return load_json(text, GEOMETRY_LIMITS)


@dataclass(frozen=True)
class DrawnClosure:
    """A closure as drawn: a GeoJSON geometry (lines or areas, longitude/latitude) closed
    from ``start`` to ``end`` (inclusive); ``key`` makes the scenario ids unique."""

    key: str
    name: str
    geometry: Mapping[str, Any]
    start: dt.date
    end: dt.date
    note: str = ""


def closure_parts(closure: DrawnClosure) -> list[dict[str, Any]]:
    """The ``road_conditions.closures`` entries of a drawn closure (one per part of a
    multi-geometry), as a scenario file would hold them; not validated."""
    kind = closure.geometry.get("type")
    coords = closure.geometry.get("coordinates")
    parts = coords if kind in ("MultiLineString", "MultiPolygon") else [coords]
    if not isinstance(parts, list):
        parts = [parts]
    base = {"note": " — ".join(x for x in (closure.name, closure.note) if x),
            "start": closure.start.isoformat(), "end": closure.end.isoformat()}
    out = []
    for i, part in enumerate(parts):
        cid = f"{ID_PREFIX}{closure.key}" + (f"-{i + 1}" if len(parts) > 1 else "")
        if kind in LINES:
            out.append({"id": cid, **base, "line": _points(part),
                        "tolerance_m": LINE_TOLERANCE_M})
        elif kind in AREAS:
            ring = part[0] if isinstance(part, list) and part else part
            out.append({"id": cid, **base, "area": _points(ring)})
        else:
            out.append({"id": cid, **base})  # the model says which shapes close roads
    return out


def _points(part: Any) -> Any:
    if not isinstance(part, list):
        return part
    return [list(p[:2]) if isinstance(p, list | tuple) else p for p in part]


def closure_specs(closures: Iterable[DrawnClosure], *, file: str = "<closures>"
                  ) -> list[ClosureSpec]:
    """The scenario closures of drawn ones, validated; a :class:`ScenarioError` names each
    problem as ``road_conditions.closures[i]`` of ``file``."""
    specs, problems = [], []
    parts = [part for closure in closures for part in closure_parts(closure)]
    for i, part in enumerate(parts):
        try:
            specs.append(parse_part(ClosureSpec, part, file=file,
                                    field=f"road_conditions.closures[{i}]"))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    if not specs:
        raise ScenarioError([Problem(file, "road_conditions.closures", None,
                                     "no closure given", "draw a line or an area",
                                     key="problem_no_closure", fix_key="problem_fix_draw")])
    return specs


__all__ = ["DrawnClosure", "GEOMETRY_LIMITS", "ID_PREFIX", "LINE_TOLERANCE_M", "closure_parts",
           "closure_specs", "read_geometry_json"]
