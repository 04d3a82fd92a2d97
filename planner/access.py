"""Points far from the road network: the gap between a place and the road it is snapped to.

Travel times come from the road graph, which starts at the junction nearest to a commune's
point. When that junction is far away, the way from the point to the road (a footpath, a
boat, a track the data lacks) is real travel the plan must not leave out:

* up to :data:`WARN_M` the gap is ignored (a commune point is a seat or centroid, not a
  doorstep);
* beyond it the gap is **counted**, both ways, in km and in hours at the assumed
  :data:`ACCESS_SPEED_KMH`, and reported as a warning (summary, plan page);
* beyond :data:`ERROR_M` the point is refused unless the scenario allows it for that stop or
  depot (``far_from_road_ok: true``, schema version 3): such a point is more likely a wrong
  point or road data that does not cover it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from geodata.routing import FAR_FROM_ROADS_M, Matrices

if TYPE_CHECKING:
    from planner.plan import Plan

WARN_M = FAR_FROM_ROADS_M
ERROR_M = 10_000.0
# ASSUMPTION: the way from a far point to the road is walked, ridden on a motorbike track or
# crossed by boat, at 10 km/h on average along the straight line (no data on that way)
ACCESS_SPEED_KMH = 10.0


def counted_gaps_m(snap_m: np.ndarray) -> np.ndarray:
    """The gap of each place that travel counts: its snapping distance beyond :data:`WARN_M`,
    else 0."""
    snap_m = np.asarray(snap_m, dtype=float)
    return np.where(snap_m > WARN_M, snap_m, 0.0)


def gap_time_s(gap_m: np.ndarray | float) -> np.ndarray:
    return np.asarray(gap_m, dtype=float) / (ACCESS_SPEED_KMH / 3.6)


def with_access_gaps(mat: Matrices, gap_m: np.ndarray) -> Matrices:
    """``mat`` with each leg lengthened by the gaps of its two ends (leaving a far point and
    reaching one); a place to itself stays 0, and no-path entries stay infinite."""
    gap_m = np.asarray(gap_m, dtype=float)
    if not gap_m.any():
        return mat
    add_m = gap_m[:, None] + gap_m[None, :]
    np.fill_diagonal(add_m, 0.0)
    return Matrices(nodes=mat.nodes, time_s=mat.time_s + gap_time_s(add_m),
                    distance_m=mat.distance_m + add_m)




@dataclass(frozen=True)
class FarNote:
    """A place of a plan far from the road network, for people: its key (commune code or
    depot id), name, distance to the road and the gap the plan counted (0: not counted)."""

    key: str
    name: str
    snap_m: float
    counted_m: float
    speed_kmh: float


def far_notes(plan: Plan) -> tuple[FarNote, ...]:
    """The places of ``plan`` farther than :data:`WARN_M` from the road of any profile."""
    pv = plan.provenance
    names = {r.depot_id: r.depot_name for r in plan.routes}
    names.update({v.commune_code: v.commune_name for r in plan.routes for v in r.visits})
    names.update({u.commune_code: u.commune_name for u in plan.unserved})
    snap: dict[str, float] = {}
    for snaps in pv.snapping.values():
        for s in snaps:
            snap[s.key] = max(snap.get(s.key, 0.0), s.snap_m)
    gaps = pv.access.place_gaps() if pv.access else {}
    speed = pv.access.speed_kmh if pv.access else ACCESS_SPEED_KMH
    return tuple(FarNote(key, names.get(key, ""), snap[key], gaps.get(key, 0.0), speed)
                 for key in pv.far_from_roads(WARN_M))


__all__ = ["ACCESS_SPEED_KMH", "ERROR_M", "WARN_M", "FarNote", "counted_gaps_m",
           "far_notes", "gap_time_s", "with_access_gaps"]
