"""The geometry of turn-by-turn directions: distances along a route line, the turn made at a
point of it, and the named places it passes.

Plain functions over longitude/latitude arrays (``(n, 2)``, degrees), with distances on a
sphere of the Earth's mean radius: accurate to well under 1% over the few hundred metres a
turn is measured on and the few hundred kilometres of a leg.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
TURN_REACH_M = 60.0  # a turn is the change of heading over this distance either side
# Turn classes by the absolute change of heading (degrees): up to 20 straight on, then slight,
# normal and sharp turns, and a U-turn beyond 160.
TURN_LIMITS_DEG = ((20.0, "straight"), (50.0, "slight"), (120.0, "turn"), (160.0, "sharp"))
COMPASS = ("n", "ne", "e", "se", "s", "sw", "w", "nw")


def _xy_m(coords: np.ndarray, lat0: float) -> np.ndarray:
    """Coordinates in metres on a plane tangent near latitude ``lat0`` (equirectangular)."""
    k = math.pi / 180 * EARTH_RADIUS_M
    return np.column_stack([coords[:, 0] * k * math.cos(math.radians(lat0)), coords[:, 1] * k])


def segment_lengths_m(coords: np.ndarray) -> np.ndarray:
    """Great-circle length of each segment of a line (haversine)."""
    lon, lat = np.radians(coords[:, 0]), np.radians(coords[:, 1])
    dlon, dlat = np.diff(lon), np.diff(lat)
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def cumulative_m(coords: np.ndarray) -> np.ndarray:
    """Distance along the line at each vertex (0 at the first)."""
    return np.concatenate([[0.0], np.cumsum(segment_lengths_m(coords))])


def point_at(coords: np.ndarray, cum: np.ndarray, at_m: float) -> tuple[float, float]:
    """The point ``at_m`` metres along the line (clamped to its ends)."""
    at_m = float(np.clip(at_m, 0.0, cum[-1]))
    i = int(np.searchsorted(cum, at_m, side="right")) - 1
    i = min(max(i, 0), len(coords) - 2)
    span = cum[i + 1] - cum[i]
    t = 0.0 if span <= 0 else (at_m - cum[i]) / span
    lon, lat = coords[i] + t * (coords[i + 1] - coords[i])
    return float(lon), float(lat)


def bearing_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Initial compass bearing from ``a`` to ``b`` (0 = north, 90 = east)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360


def turn_angle_deg(coords: np.ndarray, cum: np.ndarray, at_m: float, *,
                   reach_m: float = TURN_REACH_M) -> float:
    """The change of heading at ``at_m`` along the line, in (-180, 180]: positive to the right,
    negative to the left; from the heading over the ``reach_m`` before to the one after."""
    here = point_at(coords, cum, at_m)
    before = point_at(coords, cum, at_m - reach_m)
    after = point_at(coords, cum, at_m + reach_m)
    if before == here or after == here:
        return 0.0
    d = bearing_deg(here, after) - bearing_deg(before, here)
    d = (d + 180.0) % 360.0 - 180.0
    return 180.0 if d == -180.0 else d


def turn_class(angle_deg: float) -> str:
    """``straight``, ``slight_left`` ... ``sharp_right`` or ``uturn`` for a change of heading."""
    size = abs(angle_deg)
    for limit, name in TURN_LIMITS_DEG:
        if size <= limit:
            if name == "straight":
                return name
            side = "right" if angle_deg > 0 else "left"
            return side if name == "turn" else f"{name}_{side}"
    return "uturn"


def compass(bearing: float) -> str:
    """The eight-point compass direction of a bearing: ``n``, ``ne`` ... ``nw``."""
    return COMPASS[int(((bearing % 360) + 22.5) // 45) % 8]


def places_along(coords: np.ndarray, cum: np.ndarray, points: np.ndarray, *,
                 within_m: float = 400.0) -> list[tuple[int, float]]:
    """The points (``(m, 2)`` lon/lat) within ``within_m`` of the line, as ``(index, metres
    along the line of the nearest approach)``, in the order the line passes them."""
    if len(points) == 0 or len(coords) < 2:
        return []
    lat0 = float(np.mean(coords[:, 1]))
    line, pts = _xy_m(coords, lat0), _xy_m(np.asarray(points, dtype=float), lat0)
    lo, hi = line.min(axis=0) - within_m, line.max(axis=0) + within_m
    near = np.flatnonzero(np.all((pts >= lo) & (pts <= hi), axis=1))
    out = []
    a, b = line[:-1], line[1:]
    ab = b - a
    ab2 = np.maximum((ab ** 2).sum(axis=1), 1e-9)
    seg_m = np.diff(cum)
    for j in near.tolist():
        p = pts[j]
        t = np.clip(((p - a) * ab).sum(axis=1) / ab2, 0.0, 1.0)
        d = np.hypot(*(a + t[:, None] * ab - p).T)
        k = int(np.argmin(d))
        if d[k] <= within_m:
            out.append((j, float(cum[k] + t[k] * seg_m[k])))
    return sorted(out, key=lambda x: x[1])


def split_by_lengths(coords: np.ndarray, lengths_m: Sequence[float]) -> list[np.ndarray]:
    """A line cut into consecutive pieces of the given lengths (scaled to the line's own
    length), each piece sharing its end point with the next."""
    cum = cumulative_m(coords)
    total = float(sum(lengths_m))
    scale = cum[-1] / total if total > 0 else 0.0
    pieces, start = [], 0.0
    for length in lengths_m:
        end = min(start + length * scale, cum[-1])
        inner = coords[(cum > start) & (cum < end)]
        piece = np.vstack([point_at(coords, cum, start), *inner, point_at(coords, cum, end)])
        pieces.append(piece)
        start = end
    return pieces


__all__ = ["COMPASS", "EARTH_RADIUS_M", "TURN_REACH_M", "bearing_deg", "compass",
           "cumulative_m", "places_along", "point_at", "segment_lengths_m", "split_by_lengths",
           "turn_angle_deg", "turn_class"]
