"""The road closures of a plan as people see them: named as the dispatcher wrote them, with
their dates, the road they close, the communes they cut off, and a shape to draw.

A plan records which closures were in force (``provenance.road_conditions``); what each one
is (its text, dates, road number, drawn line or area) is in the scenario beside the plan
(``road_conditions.closures``). A closure given by road number between two places is drawn
as the straight line between them (the road itself is in the road data, not in the plan).
Language-neutral: pages word the dates and kinds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planner.closures import ID_PREFIX
from planner.plan import Plan
from planner.scenario import ClosureSpec, Scenario


@dataclass(frozen=True)
class ClosureView:
    """One closure of a plan."""

    id: str
    name: str  # the dispatcher's text (the scenario's note), else a readable id
    start: dt.date | None
    end: dt.date | None
    ref: str | None  # the road number it closes, if given by number
    speed_factor: float  # 0: closed; else the share of the normal speed
    geometry: Mapping[str, Any] | None  # GeoJSON (longitude, latitude), None if none known
    in_force: bool  # in force during the plan's days (the plan routed around it)
    cut_off: tuple[str, ...] = ()  # names of the communes it cuts off

    @property
    def closed(self) -> bool:
        return self.speed_factor == 0


def _name(spec: ClosureSpec) -> str:
    if spec.note.strip():
        return spec.note.strip()
    return spec.ref or spec.id.removeprefix(ID_PREFIX)


def _geometry(spec: ClosureSpec) -> Mapping[str, Any] | None:
    if spec.line:
        return {"type": "LineString", "coordinates": [list(p) for p in spec.line]}
    if spec.area:
        ring = [list(p) for p in spec.area]
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        return {"type": "Polygon", "coordinates": [ring]}
    if spec.between:
        return {"type": "LineString",
                "coordinates": [[p.lon, p.lat] for p in spec.between]}
    return None


def _overlaps(spec: ClosureSpec, first: dt.date, last: dt.date) -> bool:
    return (spec.start is None or spec.start <= last) and (spec.end is None or spec.end >= first)


def plan_closures(plan: Plan, scenario: Scenario | None) -> tuple[ClosureView, ...]:
    """The closures of ``plan``'s scenario that touch its days (in force), in the scenario's
    order; without the scenario, the ids the plan records, with nothing more known."""
    rc = plan.provenance.road_conditions
    recorded = tuple(rc.closures) if rc is not None else ()
    cut_off: dict[str, list[str]] = {}
    names = {u.commune_code: u.commune_name for u in plan.unserved}
    names.update({v.commune_code: v.commune_name for r in plan.routes for v in r.visits})
    for code, ids in (rc.cut_off.items() if rc is not None else ()):
        for cid in (i.strip() for i in ids.split(",")):
            cut_off.setdefault(cid, []).append(names.get(code, code))
    first = plan.start_date
    last = first + dt.timedelta(days=max(plan.horizon_days - 1, 0))
    out = []
    specs = scenario.road_conditions.closures if scenario is not None else ()
    for spec in specs:
        in_force = spec.id in recorded or (not recorded and _overlaps(spec, first, last))
        if not in_force:
            continue
        out.append(ClosureView(spec.id, _name(spec), spec.start, spec.end, spec.ref,
                               spec.speed_factor, _geometry(spec), True,
                               tuple(cut_off.get(spec.id, ()))))
    known = {c.id for c in out}
    for cid in recorded:
        if cid not in known:
            out.append(ClosureView(cid, cid.removeprefix(ID_PREFIX), None, None, None, 0.0,
                                   None, True, tuple(cut_off.get(cid, ()))))
    return tuple(out)


def closure_names(closures: tuple[ClosureView, ...], ids: tuple[str, ...] | list[str]
                  ) -> list[str]:
    """The names of closures ``ids`` (an id not among ``closures`` stays as it is)."""
    by_id = {c.id: c.name for c in closures}
    return [by_id.get(i, i) for i in ids]


__all__ = ["ClosureView", "closure_names", "plan_closures"]
