"""Mountain travel speeds: class speed slowed by winding, surface and (optionally) slope.

Pure NumPy and vectorised: every function works on all segments at once, stored flat
(``coords_xy`` of shape ``(K, 2)`` in metres, ``ptr`` of length ``S + 1``; polyline ``s`` is
``coords_xy[ptr[s]:ptr[s + 1]]``, the layout of :class:`geodata.network.RoadGraph`).

The speed of a segment is::

    v = max(min_speed_kmh, v_class * surface_factor / (1 + curvature_k * c / 1000))

with ``c`` its winding in degrees of absolute turning per km (:func:`segment_curvature`).
Because ``c = turning_deg / length_km``, the time of a segment is
``t = L / v_class_surf + curvature_k * turning_deg / v_class_surf``: each degree of turning
costs as much time as ``curvature_k`` metres of straight road of the same class. Times
therefore add up the same however a road is cut into segments (until ``min_speed_kmh``
binds), and the slow-down is monotone in ``c``. ``v_class`` is the speed on a *straight*
road of that class; calibration against surveyed traces is in ``tools/calibrate_speeds.py``
and ``docs/speed-calibration.md``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np

from geodata.errors import GeodataError

__all__ = [
    "DEFAULT_CURVATURE_K", "DEFAULT_CURVATURE_SPACING_M", "DEFAULT_MIN_SPEED_KMH",
    "DEFAULT_SLOPE_K_DOWN", "DEFAULT_SLOPE_K_UP", "DEFAULT_SURFACE_FACTORS",
    "SpeedModel", "SpeedModelError", "polyline_lengths_m", "segment_climb", "segment_curvature",
    "segment_slope_factor", "segment_speeds_kmh", "slope_factor", "surface_factor",
]

#: Resampling step (m) of :func:`segment_curvature`; see its docstring for the choice.
DEFAULT_CURVATURE_SPACING_M = 20.0
#: Most resampling steps of one polyline (200 km at 20 m): a longer one, which real roads
#: between junctions never are, is resampled at a wider step, so that memory stays bounded by
#: the number of polylines whatever their length (a node placed on the other side of the
#: world made one import's graph ask for tens of GB).
MAX_CURVATURE_STEPS = 10_000
#: Metres of straight road of the same class that one degree of turning costs, fitted on the
#: RoadLab Pro traces (``python -m tools.calibrate_speeds``; see docs/speed-calibration.md):
#: 0.85, 90% bootstrap interval 0.4-1.7. With it, class speeds are *straight-road* speeds:
#: convert network-average speeds with ``v_avg * (1 + k * mean_curvature / 1000)``.
DEFAULT_CURVATURE_K = 0.85
#: No segment is driven slower than this on average (km/h); keep it below every class speed.
DEFAULT_MIN_SPEED_KMH = 5.0
#: Speed factor by OSM ``surface`` value, relative to a paved road of the same class.
#: Judgement, not calibrated (the traces carry roughness, not surface); see the docs.
DEFAULT_SURFACE_FACTORS: Mapping[str, float] = MappingProxyType({
    "paved": 1.0, "asphalt": 1.0, "concrete": 1.0, "concrete:plates": 0.95,
    "concrete:lanes": 0.9, "paving_stones": 0.9, "chipseal": 0.95, "metal": 0.9,
    "wood": 0.8, "sett": 0.8, "cobblestone": 0.75, "unhewn_cobblestone": 0.7,
    "compacted": 0.8, "fine_gravel": 0.75, "gravel": 0.7, "pebblestone": 0.7, "rock": 0.6,
    "unpaved": 0.65, "ground": 0.55, "dirt": 0.55, "earth": 0.55, "grass": 0.5,
    "sand": 0.5, "mud": 0.4,
})
#: Slope slow-down (:func:`slope_factor`): time multiplier ``1 + k_up * g`` uphill and
#: ``1 + k_down * |g|`` downhill for grade ``g``. Not calibrated (no elevation data here).
DEFAULT_SLOPE_K_UP = 3.0
DEFAULT_SLOPE_K_DOWN = 1.5


class SpeedModelError(GeodataError, ValueError):
    """Invalid speed-model parameters (the message lists every problem found)."""


def _frozen_mapping(d: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType({str(k).strip().lower(): float(v) for k, v in d.items()})


@dataclass(frozen=True)
class SpeedModel:
    """Parameters that turn a per-class base speed into a per-segment speed.

    Class base speeds (km/h, per vehicle profile) stay in ``profiles.yaml``; this holds what
    the mountain model adds. Make variants with :func:`dataclasses.replace`.

    Attributes
    ----------
    curvature_k:
        metres of straight road that one degree of turning costs (``>= 0``; 0 disables).
    surface_factors:
        OSM ``surface`` value -> speed factor in (0, 1.5]; unknown or missing surface -> 1.
    min_speed_kmh:
        floor of every segment speed (``> 0``).
    curvature_spacing_m:
        resampling step of :func:`segment_curvature` (``> 0``).
    slope_k_up, slope_k_down:
        slope slow-down per unit grade (see :func:`slope_factor`), used only with elevations.
    """

    curvature_k: float = DEFAULT_CURVATURE_K
    surface_factors: Mapping[str, float] = field(default_factory=lambda: DEFAULT_SURFACE_FACTORS)
    min_speed_kmh: float = DEFAULT_MIN_SPEED_KMH
    curvature_spacing_m: float = DEFAULT_CURVATURE_SPACING_M
    slope_k_up: float = DEFAULT_SLOPE_K_UP
    slope_k_down: float = DEFAULT_SLOPE_K_DOWN

    def __post_init__(self) -> None:
        problems: list[str] = []

        def number(name: str, value: Any, *, positive: bool) -> None:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
                and np.isfinite(value) and (value > 0 if positive else value >= 0)
            if not ok:
                need = "a positive number" if positive else "a number >= 0"
                problems.append(f"{name} = {value!r}: give {need}")

        number("curvature_k", self.curvature_k, positive=False)
        number("min_speed_kmh", self.min_speed_kmh, positive=True)
        number("curvature_spacing_m", self.curvature_spacing_m, positive=True)
        number("slope_k_up", self.slope_k_up, positive=False)
        number("slope_k_down", self.slope_k_down, positive=False)
        if not isinstance(self.surface_factors, Mapping):
            problems.append(f"surface_factors = {self.surface_factors!r}: give a mapping "
                            "surface -> factor")
        else:
            for key, value in self.surface_factors.items():
                if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                        and 0 < value <= 1.5):
                    problems.append(f"surface_factors.{key} = {value!r}: give a factor in "
                                    "(0, 1.5] (1 = as fast as asphalt)")
        if problems:
            raise SpeedModelError("invalid speed model: " + "; ".join(problems))
        object.__setattr__(self, "surface_factors", _frozen_mapping(self.surface_factors))

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any] | None, *, source: str = "speed model"
                     ) -> SpeedModel:
        """Build a model from a YAML-style mapping (e.g. the ``mountain:`` section of
        ``profiles.yaml``). Missing keys take the module defaults; ``surface_factors`` is
        merged over :data:`DEFAULT_SURFACE_FACTORS`, ``slope`` holds ``k_up``/``k_down``."""
        d = dict(d or {})
        allowed = {"curvature_k", "surface_factors", "min_speed_kmh", "curvature_spacing_m",
                   "slope"}
        problems: list[str] = []
        unknown = sorted(set(d) - allowed)
        if unknown:
            problems.append(f"unknown key(s) {', '.join(map(repr, unknown))} (known keys: "
                            f"{', '.join(sorted(allowed))})")
        kw: dict[str, Any] = {k: d[k] for k in ("curvature_k", "min_speed_kmh",
                                               "curvature_spacing_m") if k in d}
        surf = d.get("surface_factors") or {}
        slope = d.get("slope") or {}
        if not isinstance(surf, Mapping):
            problems.append(f"surface_factors = {surf!r}: give a mapping surface -> factor")
            surf = {}
        if not isinstance(slope, Mapping):
            problems.append(f"slope = {slope!r}: give a mapping with k_up and/or k_down")
            slope = {}
        bad_slope = sorted(set(slope) - {"k_up", "k_down"})
        if bad_slope:
            problems.append(f"slope has unknown key(s) {', '.join(map(repr, bad_slope))} "
                            "(known: k_down, k_up)")
        kw["surface_factors"] = {**DEFAULT_SURFACE_FACTORS,
                                 **{str(k).strip().lower(): v for k, v in surf.items()}}
        if "k_up" in slope:
            kw["slope_k_up"] = slope["k_up"]
        if "k_down" in slope:
            kw["slope_k_down"] = slope["k_down"]
        model = None
        try:
            model = cls(**kw)
        except SpeedModelError as exc:
            problems.append(str(exc).removeprefix("invalid speed model: "))
        if problems or model is None:
            raise SpeedModelError(f"{source}: invalid speed model: " + "; ".join(problems))
        return model

    def __hash__(self) -> int:  # the mapping field is read-only but not hashable itself
        return hash(self.digest)

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["surface_factors"] = dict(sorted(self.surface_factors.items()))
        return out

    @property
    def digest(self) -> str:
        """Stable short hash of the parameters, for cache keys next to the profile's."""
        payload = json.dumps(self.as_dict(), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


# --- curvature ---------------------------------------------------------------------------

def _check_flat(coords_xy: np.ndarray, ptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xy = np.asarray(coords_xy, dtype=np.float64)
    p = np.asarray(ptr, dtype=np.int64)
    if xy.ndim != 2 or xy.shape[1] < 2:
        raise ValueError(f"coords_xy must have shape (K, 2), got {xy.shape}")
    if p.ndim != 1 or len(p) < 1 or p[0] != 0 or p[-1] != len(xy) or np.any(np.diff(p) < 0):
        raise ValueError("ptr must start at 0, end at len(coords_xy) and never decrease "
                         f"(got length {len(p)}, first {p[:1]}, last {p[-1:]}, K={len(xy)})")
    return xy[:, :2], p


def _step_lengths(xy: np.ndarray, ptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Length of each step ``k -> k+1`` (0 across polyline boundaries) and its cumulative
    sum per vertex (global, monotone)."""
    k = len(xy)
    step = np.zeros(max(k - 1, 0))
    if k > 1:
        step = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
        inner = ptr[1:-1]
        step[inner[(inner > 0) & (inner < k)] - 1] = 0.0  # step from the last vertex of s
    cum = np.concatenate([[0.0], np.cumsum(step)])
    return step, cum


def polyline_lengths_m(coords_xy: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Length (m) of each of the S flat-stored polylines."""
    xy, p = _check_flat(coords_xy, ptr)
    _, cum = _step_lengths(xy, p)
    n = np.diff(p)
    out = np.zeros(len(n))
    ok = n >= 1
    out[ok] = cum[p[1:][ok] - 1] - cum[p[:-1][ok]]
    return out


def _resample(xy: np.ndarray, ptr: np.ndarray, spacing_m: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points at ``n_s + 1`` equal arc-length steps along each polyline, where
    ``n_s = min(ceil(L_s / spacing_m), MAX_CURVATURE_STEPS)`` (0 points for empty or
    zero-length polylines).

    Returns (points, owner polyline of each point, lengths). The positions ``i L / n`` are
    symmetric, so a reversed polyline gives the same points in reverse order.
    """
    n_pts = np.diff(ptr)
    _, cum = _step_lengths(xy, ptr)
    length = np.zeros(len(n_pts))
    ok = n_pts >= 2
    length[ok] = cum[ptr[1:][ok] - 1] - cum[ptr[:-1][ok]]
    n_int = np.where(length > 0, np.minimum(np.ceil(length / spacing_m),
                                            MAX_CURVATURE_STEPS), 0).astype(np.int64)
    n_int = np.where(length > 0, np.maximum(n_int, 1), 0)
    n_samp = np.where(n_int > 0, n_int + 1, 0)
    total = int(n_samp.sum())
    if total == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64), length
    owner = np.repeat(np.arange(len(n_pts)), n_samp)
    first = np.cumsum(n_samp) - n_samp
    i = np.arange(total) - first[owner]
    start = cum[ptr[:-1][owner]]  # owners have >= 2 points, so ptr[s] < K
    frac = i / n_int[owner]
    pos = start + frac * length[owner]
    j = np.searchsorted(cum, pos, side="right") - 1
    j = np.clip(j, ptr[:-1][owner], ptr[1:][owner] - 2)
    seg = cum[j + 1] - cum[j]
    t = np.divide(pos - cum[j], seg, out=np.zeros_like(pos), where=seg > 0)
    t = np.clip(t, 0.0, 1.0)[:, None]
    pts = xy[j] + t * (xy[j + 1] - xy[j])
    # exact end points, so a reversed polyline samples exactly the same points
    pts[i == 0] = xy[ptr[:-1][owner[i == 0]]]
    last = i == n_int[owner]
    pts[last] = xy[ptr[1:][owner[last]] - 1]
    return pts, owner, length


def _turning_deg(pts: np.ndarray, owner: np.ndarray, n_poly: int, min_chord_m: float
                 ) -> np.ndarray:
    """Sum of absolute heading changes (degrees) between consecutive chords of each
    polyline; chords shorter than ``min_chord_m`` (a polyline that doubles back onto itself)
    carry no heading and are skipped."""
    out = np.zeros(n_poly)
    if len(pts) < 3:
        return out
    d = np.diff(pts, axis=0)
    same = owner[1:] == owner[:-1]
    chord = np.hypot(d[:, 0], d[:, 1])
    keep = same & (chord >= min_chord_m)
    d, own = d[keep], owner[1:][keep]
    if len(d) < 2:
        return out
    heading = np.arctan2(d[:, 1], d[:, 0])
    turn = np.diff(heading)
    turn = np.abs((turn + np.pi) % (2 * np.pi) - np.pi)  # in [0, pi]
    pair = own[1:] == own[:-1]
    np.add.at(out, own[1:][pair], np.degrees(turn[pair]))
    return out


def segment_curvature(coords_xy: np.ndarray, ptr: np.ndarray, *,
                      spacing_m: float = DEFAULT_CURVATURE_SPACING_M) -> np.ndarray:
    """Winding of each polyline: degrees of absolute turning per km of its length.

    Each polyline is first **resampled** at ``ceil(L / spacing_m)`` equal arc-length steps
    (at most ``spacing_m``, 20 m by default; at most :data:`MAX_CURVATURE_STEPS` steps, so a
    polyline longer than 200 km has wider ones); the turning is the sum of absolute heading
    changes between consecutive chords, divided by the polyline's true length in km.

    Why resample rather than drop short steps: OSM vertices come at every spacing from
    0.5 m (tile quantisation) to 100 m, and GPS traces carry metres of noise at each fix.
    Summing heading changes vertex by vertex counts that noise as turning, more so the denser
    the vertices, and dropping steps under 2 m leaves the count dependent on vertex density.
    Equal arc-length chords of about 20 m make the measure independent of how the line was
    digitised (exactly invariant to inserting a collinear vertex, to reversing, rotating and
    translating the line), ignore zero-length steps, and damp wiggles shorter than the step,
    while a real bend (radius of 15 m or more; mountain hairpins are 10-30 m) keeps its full
    turning, since the heading before and after it is still sampled. Polylines shorter than
    one step, of two points, or of zero length have curvature 0.

    Typical values on the Hà Giang roads (``load_dataset('ha_giang').roads()`` in EPSG:32648,
    degrees per km; per line median / p90, then km-weighted median / p90; from
    ``python -m tools.calibrate_speeds``): trunk 7 / 181, 132 / 145; primary 150 / 631,
    527 / 946; secondary 144 / 916, 585 / 923; tertiary 330 / 952, 723 / 1041; minor
    698 / 1262, 819 / 1208; service 371 / 1366, 633 / 1417; track 814 / 1334, 869 / 1312.
    Lines shorter than one step count as straight, which pulls per-line medians down. The
    surveyed roads of Lào Cai and Hòa Bình run at 70-1,120.

    Parameters
    ----------
    coords_xy : (K, 2) array of metric coordinates (e.g. UTM 48N for northern Vietnam).
    ptr : (S + 1,) array; polyline ``s`` is ``coords_xy[ptr[s]:ptr[s + 1]]``.
    spacing_m : resampling step in metres.

    Returns
    -------
    (S,) array of degrees per km (0 for degenerate polylines).
    """
    if not spacing_m > 0:
        raise ValueError(f"spacing_m = {spacing_m!r}: give a positive step in metres")
    xy, p = _check_flat(coords_xy, ptr)
    n_poly = len(p) - 1
    if n_poly == 0:
        return np.zeros(0)
    # per-polyline local origin: keeps full precision on UTM-sized coordinates
    n_pts = np.diff(p)
    xy = xy - np.repeat(xy[p[:-1][n_pts > 0]], n_pts[n_pts > 0], axis=0)
    pts, owner, length = _resample(xy, p, float(spacing_m))
    turning = _turning_deg(pts, owner, n_poly, min_chord_m=1e-6 * spacing_m)
    return np.divide(turning, length / 1000.0, out=np.zeros(n_poly), where=length > 0)


# --- speeds -------------------------------------------------------------------------------

def surface_factor(surface: np.ndarray | None, n: int, model: SpeedModel) -> np.ndarray:
    """Speed factor of each of ``n`` segments from its OSM surface (``None``, empty, NaN or
    unknown values give 1). ``"asphalt;gravel"``-style lists use their first value."""
    if surface is None:
        return np.ones(n)
    s = np.asarray(surface, dtype=object).astype(str)
    if s.shape != (n,):
        raise ValueError(f"surface has shape {s.shape}; expected ({n},) like base_kmh")
    uniq, inv = np.unique(s, return_inverse=True)
    lookup = np.array([model.surface_factors.get(u.split(";")[0].strip().lower(), 1.0)
                       for u in uniq.tolist()], dtype=np.float64)  # one per distinct value
    return lookup[inv.reshape(-1)] if len(uniq) else np.ones(n)


def segment_speeds_kmh(base_kmh: np.ndarray, curvature: np.ndarray,
                       surface: np.ndarray | None, model: SpeedModel) -> np.ndarray:
    """Speed (km/h) of each segment: class base speed x surface factor, slowed by winding.

    ``base_kmh`` is the straight-road speed of the segment's class for the profile (NaN for a
    class the profile may not use: stays NaN), ``curvature`` degrees per km from
    :func:`segment_curvature`. The result is never below ``model.min_speed_kmh``.
    """
    base = np.asarray(base_kmh, dtype=np.float64)
    curv = np.asarray(curvature, dtype=np.float64)
    if base.shape != curv.shape or base.ndim != 1:
        raise ValueError(f"base_kmh {base.shape} and curvature {curv.shape} must be 1-D "
                         "arrays of the same length")
    curv = np.where(np.isfinite(curv), np.maximum(curv, 0.0), 0.0)
    v = base * surface_factor(surface, len(base), model)
    v = v / (1.0 + model.curvature_k * curv / 1000.0)
    return np.maximum(v, model.min_speed_kmh)  # NaN (closed class) stays NaN


# --- slope (used only when an elevation raster is given) ------------------------------------

def slope_factor(grade: np.ndarray, *, model: SpeedModel | None = None) -> np.ndarray:
    """Speed factor for a signed grade (rise / run; 0.08 = 8 % uphill).

    ``1 / (1 + k_up * g)`` uphill and ``1 / (1 + k_down * |g|)`` downhill: time grows
    linearly with the grade, so over a segment the extra time is proportional to metres
    climbed and descended (like Naismith's rule for walkers), whatever the vertex spacing.
    1 on the flat; never increases with ``|g|``. The defaults (8 % up: x0.81, 8 % down: x0.89)
    are judgement, not calibrated; class speeds fitted without slope already include the
    average slope of the survey roads, so enable it only with speeds fitted the same way.
    """
    m = model or SpeedModel()
    g = np.asarray(grade, dtype=np.float64)
    k = np.where(g >= 0, m.slope_k_up, m.slope_k_down)
    return 1.0 / (1.0 + k * np.abs(g))


def segment_climb(coords_xy: np.ndarray, ptr: np.ndarray, elevation_m: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Metres climbed and descended along each polyline (in its drawing direction) from the
    elevation of each vertex. Reverse direction: swap the two.

    The elevations come from :mod:`geodata.elevation` (an ``elevation.asc`` grid in the
    dataset folder, sampled bilinearly at every vertex).
    """
    xy, p = _check_flat(coords_xy, ptr)
    z = np.asarray(elevation_m, dtype=np.float64)
    if z.shape != (len(xy),):
        raise ValueError(f"elevation_m has shape {z.shape}; expected ({len(xy)},), one per vertex")
    dz = np.diff(z) if len(z) > 1 else np.zeros(0)
    if len(dz):
        inner = p[1:-1]
        dz[inner[(inner > 0) & (inner < len(z))] - 1] = 0.0
    step_owner = np.searchsorted(p, np.arange(len(dz)), side="right") - 1
    climb = np.bincount(step_owner, weights=np.maximum(dz, 0.0), minlength=len(p) - 1)
    descent = np.bincount(step_owner, weights=np.maximum(-dz, 0.0), minlength=len(p) - 1)
    return climb[: len(p) - 1], descent[: len(p) - 1]


def segment_slope_factor(length_m: np.ndarray, climb_m: np.ndarray, descent_m: np.ndarray,
                         *, model: SpeedModel | None = None) -> np.ndarray:
    """Speed factor of whole segments from :func:`segment_climb`: the time-weighted effect of
    :func:`slope_factor` along each, ``L / (L + k_up * climb + k_down * descent)``."""
    m = model or SpeedModel()
    length = np.asarray(length_m, dtype=np.float64)
    extra = m.slope_k_up * np.asarray(climb_m) + m.slope_k_down * np.asarray(descent_m)
    return np.divide(length, length + extra, out=np.ones_like(length), where=length > 0)
