"""Calibrate the mountain speed model (:mod:`geodata.speeds`) on the RoadLab Pro survey traces.

Run from the project root (it needs the staged sources in ``../shared/geodata-src``)::

    python -m tools.calibrate_speeds [--shared ../shared/geodata-src] \
        [--out docs/speed-calibration.md]

Steps: (1) match each surveyed trace to the OSM road class it *follows* (share of its length
within 30 m of, and roughly parallel to, a road of that class in the 14-province core
network); (2) measure each trace's winding with :func:`geodata.speeds.segment_curvature`;
(3) fit straight-road speeds per class and one curvature slow-down ``curvature_k`` by
length-weighted least squares, shrinking each class toward a pooled value; (4) score it and
two baselines by leave-one-out error in km/h; (5) write a markdown report.

The fitting functions (:func:`fit_speed_model`, :func:`fit_constant`, :func:`loo_predict`,
:func:`error_stats`) take plain arrays and are tested on synthetic data.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from geodata.speeds import DEFAULT_CURVATURE_SPACING_M, segment_curvature

if TYPE_CHECKING:  # heavy geo imports happen inside the functions that read data
    import geopandas as gpd
    import pandas as pd
    import shapely

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = ROOT.parent / "shared" / "geodata-src"
DEFAULT_OUT = ROOT / "docs" / "speed-calibration.md"
TRACES_FILE = "roadlabpro_traces_northern14.geojson"
ROADS_FILE = "roads/osm2021_north14_roads_core.gpkg"
OUTLINES_FILE = "roads/osm2021_north14_province_boundaries.geojson"
METRIC_CRS = "EPSG:32648"

#: Road classes the survey can calibrate, fastest first (the order of the fallback rule).
CLASSES: tuple[str, ...] = ("trunk", "primary", "secondary", "tertiary", "minor")
#: Shrinkage strength: a class's straight-road speed is pulled toward the pooled one as if
#: that many traces of average length had shown the pooled value.
DEFAULT_PRIOR_TRACES = 1.0
#: The profiles' class-average speeds (km/h) before the curvature model: the levels the
#: calibration keeps (ASSUMPTIONS near the surveyed 24 km/h mountain average for a truck);
#: ``profiles.yaml`` holds the straight-road speeds the report derives from them.
CLASS_AVERAGES_KMH: dict[str, dict[str, float]] = {
    "truck": {"trunk": 28, "primary": 26, "secondary": 24, "tertiary": 22, "minor": 18,
              "service": 10},
    "van": {"trunk": 32, "primary": 30, "secondary": 27, "tertiary": 25, "minor": 20,
            "service": 12, "track": 10},
    "motorbike": {"trunk": 35, "primary": 33, "secondary": 30, "tertiary": 28, "minor": 24,
                  "service": 15, "track": 12},
}
#: Grid of curvature_k (metres per degree) searched by the fit, refined around the optimum.
K_GRID = np.linspace(0.0, 5.0, 1001)

FitFn = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], "SpeedFit"]


# --- the model fit: plain arrays in, frozen result out ---------------------------------------

@dataclass(frozen=True, eq=False)
class SpeedFit:
    """Fitted straight-road speeds per class (fastest class first) and ``curvature_k``.

    ``base_kmh`` is complete: a class without traces takes the fallback of
    :func:`complete_by_neighbours` (``fitted`` says which classes had traces).
    Predicted speed: ``base_kmh[class] / (1 + curvature_k * curvature / 1000)``.
    """

    classes: tuple[str, ...]
    base_kmh: np.ndarray
    fitted: np.ndarray
    n_traces: np.ndarray
    pooled_kmh: float
    curvature_k: float
    prior_traces: float

    def predict(self, curvature: np.ndarray, class_idx: np.ndarray) -> np.ndarray:
        c = np.asarray(curvature, dtype=np.float64)
        return self.base_kmh[np.asarray(class_idx, dtype=np.int64)] / (
            1.0 + self.curvature_k * c / 1000.0)

    def as_dict(self) -> dict[str, float]:
        out = {f"base_kmh.{c}": float(b) for c, b in zip(self.classes, self.base_kmh, strict=True)}
        out["curvature_k"] = self.curvature_k
        out["pooled_kmh"] = self.pooled_kmh
        return out


def complete_by_neighbours(values: np.ndarray, has: np.ndarray, *, pooled: float
                           ) -> tuple[np.ndarray, list[str]]:
    """Fill classes without data (``has`` False) from their neighbours in the class order:
    the mean of the nearest faster and the nearest slower class with data (so tertiary sits
    halfway between secondary and minor), the one neighbour if only one side has data, the
    pooled value if no class has data. Returns the values and how each was obtained."""
    vals = np.asarray(values, dtype=np.float64).copy()
    has = np.asarray(has, dtype=bool)
    idx = np.flatnonzero(has)
    how = ["fitted" if h else "" for h in has]
    for i in np.flatnonzero(~has).tolist():
        above, below = idx[idx < i], idx[idx > i]
        if len(above) and len(below):
            vals[i] = 0.5 * (vals[above[-1]] + vals[below[0]])
            how[i] = f"mean of #{above[-1]} and #{below[0]}"
        elif len(above) or len(below):
            j = above[-1] if len(above) else below[0]
            vals[i] = vals[j]
            how[i] = f"= #{j}"
        else:
            vals[i] = pooled
            how[i] = "pooled"
    return vals, how


def _bases_at(k: float, v: np.ndarray, c: np.ndarray, ci: np.ndarray, w: np.ndarray,
              n_cls: int, lam: float) -> tuple[np.ndarray, float]:
    """Class straight-road speeds at a fixed ``k``, shrunk toward the pooled one (NaN where a
    class has no trace) and that pooled speed."""
    g = 1.0 / (1.0 + k * c / 1000.0)
    sgv = np.bincount(ci, weights=w * g * v, minlength=n_cls)
    sgg = np.bincount(ci, weights=w * g * g, minlength=n_cls)
    pooled = float(sgv.sum() / sgg.sum())
    has = np.bincount(ci, minlength=n_cls) > 0
    base = np.full(n_cls, np.nan)
    if math.isinf(lam):
        base[has] = pooled
    else:
        base[has] = (sgv[has] + lam * pooled) / (sgg[has] + lam)
    return base, pooled


def _within_class_k(v: np.ndarray, c: np.ndarray, ci: np.ndarray, w: np.ndarray, n_cls: int,
                    k_grid: np.ndarray) -> float:
    """``k`` minimising the weighted squared error of the per-class model without shrinkage
    (class fixed effects): learnt from speed differences *within* classes only."""
    onehot = np.zeros((len(v), n_cls))
    onehot[np.arange(len(v)), ci] = 1.0

    def sse(ks: np.ndarray) -> np.ndarray:
        g = 1.0 / (1.0 + ks[:, None] * c[None, :] / 1000.0)
        sgv = (g * (w * v)) @ onehot
        sgg = (g * g * w) @ onehot
        with np.errstate(invalid="ignore", divide="ignore"):
            base = np.where(sgg > 0, sgv / sgg, 0.0)
        return (w * (v[None, :] - base[:, ci] * g) ** 2).sum(axis=1)

    grid = np.asarray(k_grid, dtype=np.float64)
    obj = sse(grid)
    j = int(np.argmin(obj))
    fine = np.linspace(grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)], 401)
    obj_fine = sse(fine)
    k = float(fine[int(np.argmin(obj_fine))])
    if k >= grid[-1] - 1e-12 and len(grid) > 1:
        log.debug("curvature_k at the top of its search grid (%.2f m/deg)", k)
    return k


def fit_speed_model(speed_kmh: np.ndarray, curvature: np.ndarray, class_idx: np.ndarray,
                    weight: np.ndarray, *, classes: Sequence[str] = CLASSES,
                    prior_traces: float = DEFAULT_PRIOR_TRACES, use_curvature: bool = True,
                    curvature_k: float | None = None, k_grid: np.ndarray = K_GRID) -> SpeedFit:
    """Weighted least-squares fit of ``v_i = b[class_i] / (1 + k * c_i / 1000)``.

    1. ``k`` (unless given or ``use_curvature`` is False) minimises the weighted squared
       error with one free speed per class and no shrinkage (class fixed effects), searched
       on ``k_grid`` then on a finer grid around the best point. So ``k`` is learnt from
       differences between traces of the *same* class, and a class with one trace (fitted
       exactly by its own speed) says nothing about it.
    2. At that ``k`` (``g_i = 1 / (1 + k c_i / 1000)``) the pooled straight-road speed is
       ``b0 = sum(w g v) / sum(w g^2)`` and each class gets the ridge estimate shrunk toward
       it, ``b_c = (sum_c(w g v) + lam b0) / (sum_c(w g^2) + lam)`` with
       ``lam = prior_traces * mean(w)``: as if ``prior_traces`` traces of average length had
       shown ``b0``. ``0`` means no shrinkage, ``inf`` one speed for all classes.
    3. Classes without traces are filled by :func:`complete_by_neighbours`.
    """
    v = np.asarray(speed_kmh, dtype=np.float64)
    c = np.asarray(curvature, dtype=np.float64)
    ci = np.asarray(class_idx, dtype=np.int64)
    w = np.asarray(weight, dtype=np.float64)
    n_cls = len(classes)
    if not (v.shape == c.shape == ci.shape == w.shape) or v.ndim != 1 or len(v) == 0:
        raise ValueError("speed, curvature, class and weight must be 1-D, non-empty, same length")
    if np.any(~np.isfinite(v)) or np.any(~np.isfinite(c)) or np.any(w <= 0):
        raise ValueError("speeds and curvatures must be finite and weights positive")
    if np.any((ci < 0) | (ci >= n_cls)):
        raise ValueError(f"class indices must lie in 0..{n_cls - 1}")
    if curvature_k is not None:
        k = float(curvature_k)
    elif use_curvature:
        k = _within_class_k(v, c, ci, w, n_cls, k_grid)
    else:
        k = 0.0
    lam = float(prior_traces) * float(w.mean())
    base, pooled = _bases_at(k, v, c, ci, w, n_cls, lam)
    n_per = np.bincount(ci, minlength=n_cls)
    values, _ = complete_by_neighbours(base, n_per > 0, pooled=pooled)
    return SpeedFit(classes=tuple(classes), base_kmh=values, fitted=n_per > 0, n_traces=n_per,
                    pooled_kmh=pooled, curvature_k=k, prior_traces=float(prior_traces))


def fit_constant(speed_kmh: np.ndarray, curvature: np.ndarray, class_idx: np.ndarray,
                 weight: np.ndarray, *, classes: Sequence[str] = CLASSES) -> SpeedFit:
    """Baseline (a): one speed for every road, the weighted mean of the traces."""
    v, w = np.asarray(speed_kmh, float), np.asarray(weight, float)
    mean = float((w * v).sum() / w.sum())
    n_per = np.bincount(np.asarray(class_idx, dtype=np.int64), minlength=len(classes))
    return SpeedFit(classes=tuple(classes), base_kmh=np.full(len(classes), mean),
                    fitted=n_per > 0, n_traces=n_per, pooled_kmh=mean, curvature_k=0.0,
                    prior_traces=math.inf)


def fit_class_means(speed_kmh: np.ndarray, curvature: np.ndarray, class_idx: np.ndarray,
                    weight: np.ndarray, *, classes: Sequence[str] = CLASSES) -> SpeedFit:
    """Baseline (b): weighted mean speed per class, no curvature, no shrinkage (classes
    without traces take the same neighbour fallback as the model)."""
    return fit_speed_model(speed_kmh, curvature, class_idx, weight, classes=classes,
                           prior_traces=0.0, use_curvature=False)


def loo_predict(fitter: FitFn, speed_kmh: np.ndarray, curvature: np.ndarray,
                class_idx: np.ndarray, weight: np.ndarray, *,
                groups: np.ndarray | None = None) -> np.ndarray:
    """Leave-one-out predictions: each trace predicted by a fit on the others. With
    ``groups``, all traces of the held-out trace's group are left out together (e.g. both
    survey runs of one road)."""
    v, c = np.asarray(speed_kmh, float), np.asarray(curvature, float)
    ci, w = np.asarray(class_idx, np.int64), np.asarray(weight, float)
    g = np.arange(len(v)) if groups is None else np.asarray(groups)
    pred = np.full(len(v), np.nan)
    for grp in np.unique(g):
        out = g == grp
        if out.all():
            continue
        fit = fitter(v[~out], c[~out], ci[~out], w[~out])
        pred[out] = fit.predict(c[out], ci[out])
    return pred


def error_stats(observed: np.ndarray, predicted: np.ndarray,
                weight: np.ndarray | None = None) -> dict[str, float]:
    """Mean absolute error and root mean square error (km/h), per trace; with ``weight``
    also the weighted MAE (``wmae``, per km when weights are lengths) and bias."""
    err = np.asarray(predicted, float) - np.asarray(observed, float)
    out = {"n": int(len(err)), "mae": float(np.mean(np.abs(err))) if len(err) else math.nan,
           "rmse": float(np.sqrt(np.mean(err ** 2))) if len(err) else math.nan,
           "bias": float(np.mean(err)) if len(err) else math.nan}
    if weight is not None and len(err):
        w = np.asarray(weight, float)
        out["wmae"] = float((w * np.abs(err)).sum() / w.sum())
    return out


def bootstrap_fits(fitter: FitFn, speed_kmh: np.ndarray, curvature: np.ndarray,
                   class_idx: np.ndarray, weight: np.ndarray, groups: np.ndarray, *,
                   n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """Cluster bootstrap (resample whole roads): rows of ``[base_kmh..., curvature_k]``."""
    rng = np.random.default_rng(seed)
    uniq, inv = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inv == i) for i in range(len(uniq))]
    rows = []
    for _ in range(n_boot):
        pick = np.concatenate([members[i] for i in rng.integers(0, len(uniq), len(uniq))])
        fit = fitter(speed_kmh[pick], curvature[pick], class_idx[pick], weight[pick])
        rows.append(np.concatenate([fit.base_kmh, [fit.curvature_k]]))
    return np.asarray(rows)


# --- matching traces to OSM classes -----------------------------------------------------------

def _flat(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import shapely

    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    ptr = np.zeros(len(geoms) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(idx, minlength=len(geoms)))
    return coords, ptr


def match_traces(trace_geoms: np.ndarray, road_geoms: np.ndarray, road_class: np.ndarray, *,
                 coverage=None, max_dist_m: float = 30.0, max_angle_deg: float = 45.0,
                 sample_m: float = 10.0, min_share: float = 0.5,
                 classes: Sequence[str] = CLASSES) -> pd.DataFrame:
    """The OSM class each trace follows (all geometry in metres).

    Each trace is cut into pieces of about ``sample_m``; a piece *follows* a road when the
    road is within ``max_dist_m`` of its midpoint and runs within ``max_angle_deg`` of its
    direction (the nearest such road counts). A trace is matched to the class with the
    largest followed share of its length inside ``coverage`` (the area the road file
    covers) when that share is at least ``min_share``. ``loose_class`` repeats the rule of
    the road-network issue for comparison: the majority class of the nearest road within
    ``max_dist_m`` of any piece, whatever its direction and share.
    """
    import pandas as pd
    import shapely

    geoms = np.asarray(trace_geoms, dtype=object)
    length = shapely.length(geoms)
    n = np.maximum(1, np.ceil(length / sample_m)).astype(np.int64)
    owner = np.repeat(np.arange(len(geoms)), n)
    first = np.cumsum(n) - n
    i = np.arange(int(n.sum())) - first[owner]
    along = (i + 0.5) / n[owner] * length[owner]
    piece = length[owner] / n[owner]
    g = geoms[owner]
    pts = shapely.line_interpolate_point(g, along)
    a = shapely.line_interpolate_point(g, np.clip(along - 5.0, 0, length[owner]))
    b = shapely.line_interpolate_point(g, np.clip(along + 5.0, 0, length[owner]))
    t = shapely.get_coordinates(b) - shapely.get_coordinates(a)
    if coverage is not None:
        shapely.prepare(coverage)
        xy = shapely.get_coordinates(pts)
        inside = shapely.contains_xy(coverage, xy[:, 0], xy[:, 1])
    else:
        inside = np.ones(len(pts), dtype=bool)

    roads = np.asarray(road_geoms, dtype=object)
    cls_names = list(classes)
    cls_of_road = np.array([cls_names.index(c) if c in cls_names else -1
                            for c in np.asarray(road_class).tolist()])
    tree = shapely.STRtree(roads)
    pi, ri = tree.query(pts, predicate="dwithin", distance=max_dist_m)
    dist = shapely.distance(pts[pi], roads[ri])
    s = shapely.line_locate_point(roads[ri], pts[pi])
    rl = shapely.length(roads[ri])
    ra = shapely.line_interpolate_point(roads[ri], np.clip(s - 5.0, 0, rl))
    rb = shapely.line_interpolate_point(roads[ri], np.clip(s + 5.0, 0, rl))
    r = shapely.get_coordinates(rb) - shapely.get_coordinates(ra)
    tp = t[pi]
    norm = np.hypot(*tp.T) * np.hypot(*r.T)
    cos = np.divide(np.abs((tp * r).sum(axis=1)), norm, out=np.zeros(len(pi)), where=norm > 0)
    aligned = cos >= math.cos(math.radians(max_angle_deg))

    def nearest(mask: np.ndarray) -> np.ndarray:
        """Class of the nearest road per piece among candidate pairs in ``mask`` (-1 none)."""
        out = np.full(len(pts), -1, dtype=np.int64)
        sel = np.flatnonzero(mask)
        order = sel[np.lexsort((dist[sel], pi[sel]))]
        firsts = order[np.r_[True, pi[order][1:] != pi[order][:-1]]] if len(order) else order
        out[pi[firsts]] = cls_of_road[ri[firsts]]
        return out

    follow = nearest(aligned & (cls_of_road[ri] >= 0))
    loose = nearest(cls_of_road[ri] >= 0)
    n_cls = len(cls_names)
    covered_m = np.bincount(owner, weights=piece * inside, minlength=len(geoms))
    ok = (follow >= 0) & inside
    share_m = np.zeros((len(geoms), n_cls))
    np.add.at(share_m, (owner[ok], follow[ok]), piece[ok])
    share = np.divide(share_m, covered_m[:, None], out=np.zeros_like(share_m),
                      where=covered_m[:, None] > 0)
    loose_m = np.zeros((len(geoms), n_cls))
    okl = loose >= 0
    np.add.at(loose_m, (owner[okl], loose[okl]), piece[okl])
    best = share.argmax(axis=1)
    best_share = share.max(axis=1)
    df = pd.DataFrame({
        "length_km": length / 1000.0,
        "covered_share": covered_m / np.maximum(length, 1e-9),
        "matched_class": np.where(best_share >= min_share,
                                  np.array(cls_names, dtype=object)[best], ""),
        "match_share": best_share,
        "best_class": np.where(best_share > 0, np.array(cls_names, dtype=object)[best], ""),
        "loose_class": np.where(loose_m.sum(axis=1) > 0,
                                np.array(cls_names, dtype=object)[loose_m.argmax(axis=1)], ""),
        "loose_share": loose_m.max(axis=1) / np.maximum(length, 1e-9),
    })
    for k, name in enumerate(cls_names):
        df[f"share_{name}"] = share[:, k]
    return df


def osm_curvature_along(trace_geoms: np.ndarray, road_geoms: np.ndarray, *,
                        max_dist_m: float = 30.0, sample_m: float = 10.0,
                        spacing_m: float = DEFAULT_CURVATURE_SPACING_M) -> np.ndarray:
    """Winding of the OSM roads a trace runs along (length-weighted over the stretches of
    each road nearest the trace): a check that trace curvature transfers to OSM geometry."""
    import shapely
    from shapely.ops import substring

    tree = shapely.STRtree(road_geoms)
    out = np.full(len(trace_geoms), np.nan)
    for k, geom in enumerate(trace_geoms):  # one trace at a time: 48 traces
        n = max(2, int(math.ceil(geom.length / sample_m)))
        pts = shapely.line_interpolate_point(geom, (np.arange(n) + 0.5) / n * geom.length)
        (pi, ri), _ = tree.query_nearest(pts, max_distance=max_dist_m, return_distance=True)
        pieces = []
        for road in np.unique(ri):
            line = road_geoms[road]
            s = shapely.line_locate_point(line, pts[pi[ri == road]])
            if s.max() - s.min() > 2 * spacing_m:
                pieces.append(substring(line, float(s.min()), float(s.max())))
        if pieces:
            coords, ptr = _flat(np.asarray(pieces, dtype=object))
            c = segment_curvature(coords[:, :2], ptr, spacing_m=spacing_m)
            lengths = shapely.length(np.asarray(pieces, dtype=object))
            out[k] = float((c * lengths).sum() / lengths.sum())
    return out


# --- data loading -----------------------------------------------------------------------------

def load_inputs(shared: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, shapely.Geometry]:
    """Traces (metric), core roads near them (metric) and the area the road file covers."""
    import geopandas as gpd
    import shapely

    paths = [shared / TRACES_FILE, shared / ROADS_FILE, shared / OUTLINES_FILE]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        from geodata.errors import DataFileMissingError
        raise DataFileMissingError(", ".join(missing), what="calibration source file(s)",
                                   fix="Pass --shared pointing at the staged geodata-src folder.")
    traces = gpd.read_file(paths[0])
    lon0, lat0, lon1, lat1 = traces.total_bounds
    roads = gpd.read_file(paths[1], bbox=(lon0 - 0.05, lat0 - 0.05, lon1 + 0.05, lat1 + 0.05))
    outlines = gpd.read_file(paths[2]).to_crs(METRIC_CRS)
    # the core file is clipped to the provinces + 5 km: judge matches only where it has data
    coverage = shapely.union_all(outlines.geometry.simplify(200).values).buffer(
        4_000, quad_segs=2)
    return traces.to_crs(METRIC_CRS), roads.to_crs(METRIC_CRS), coverage


def trace_table(traces: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, coverage: shapely.Geometry,
                *, min_share: float = 0.5) -> pd.DataFrame:
    """One row per trace: speed, road group, province, matched class, curvatures."""
    import pandas as pd

    geoms = traces.geometry.values
    match = match_traces(geoms, roads.geometry.values, roads["omt_class"].to_numpy(),
                         coverage=coverage, min_share=min_share)
    coords, ptr = _flat(geoms)
    group = traces["or_vpromms"].fillna("").astype(str).str.strip()
    group = group.where(group != "", traces["name"].astype(str))
    df = pd.DataFrame({
        "name": traces["name"].astype(str).to_numpy(),
        "road": group.to_numpy(),
        "province": traces["province"].astype(str).str.replace("Tỉnh ", "").to_numpy(),
        "district": traces["district"].astype(str).str.replace("Huyện ", "").to_numpy(),
        "speed_kmh": pd.to_numeric(traces["speed_mean"], errors="coerce").to_numpy(),
        "iri": pd.to_numeric(traces["iri_mean"], errors="coerce").to_numpy(),
        "curv_trace": segment_curvature(coords[:, :2], ptr),
    })
    df = pd.concat([df, match], axis=1)
    df["curv_osm"] = np.nan
    m = (df["matched_class"] != "").to_numpy()
    df.loc[m, "curv_osm"] = osm_curvature_along(geoms[m], roads.geometry.values)
    return df


def network_curvature_summary(lines_metric: gpd.GeoDataFrame) -> pd.DataFrame:
    """Curvature by road class of a network's lines: per-line median and p90, and the
    length-weighted median, p90 and mean (what a km of that class is like)."""
    import pandas as pd
    import shapely

    lines = lines_metric[lines_metric.geometry.geom_type == "LineString"]
    coords, ptr = _flat(lines.geometry.values)
    curv = segment_curvature(coords[:, :2], ptr)
    length = shapely.length(lines.geometry.values)
    rows = []
    for cls, idx in pd.Series(np.arange(len(lines))).groupby(lines["omt_class"].to_numpy()):
        c, w = curv[idx.to_numpy()], length[idx.to_numpy()]
        o = np.argsort(c)
        cw = np.cumsum(w[o]) / w.sum()
        rows.append({"class": cls, "lines": len(c), "km": w.sum() / 1000,
                     "median": float(np.median(c)), "p90": float(np.percentile(c, 90)),
                     "km_median": float(c[o][np.searchsorted(cw, 0.5)]),
                     "km_p90": float(c[o][np.searchsorted(cw, 0.9)]),
                     "km_mean": float((c * w).sum() / w.sum())})
    order = {c: i for i, c in enumerate(("motorway",) + CLASSES + ("service", "track"))}
    return pd.DataFrame(rows).sort_values("class", key=lambda s: s.map(order).fillna(99))


# --- the calibration run ------------------------------------------------------------------------

#: Survey vehicle -> profile speed factors for the *alternative* suggestion (judgement: a
#: survey car is not a loaded library truck; see the report).
VEHICLE_FACTORS = {"truck": 0.8, "van": 0.9, "motorbike": 1.0}
SHRINKAGE_CANDIDATES = (0.0, 0.5, 1.0, 2.0, 3.0, 10.0, math.inf)


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """Everything the report shows; tables are pandas DataFrames."""

    traces: pd.DataFrame        # every trace, with match and curvature
    trace_geoms: np.ndarray     # their geometry (EPSG:32648)
    used: pd.DataFrame          # traces used in the fit (matched, with a speed)
    fit: SpeedFit
    loo: pd.DataFrame           # per-trace LOO predictions of each method
    errors: pd.DataFrame        # method x (scheme, n, mae, rmse, bias, wmae)
    class_errors: pd.DataFrame  # method x class MAE / RMSE (leave-one-trace-out)
    shrinkage: pd.DataFrame     # prior_traces -> fit and LOO
    k_checks: pd.DataFrame      # curvature_k under other choices
    bootstrap: np.ndarray       # rows of [base_kmh..., k]
    network: pd.DataFrame       # Hà Giang curvature by class
    profiles: pd.DataFrame      # suggested profile speeds
    residual_iri_r: float
    inputs: dict
    settings: dict


def _file_digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def hagiang_curvature() -> tuple[pd.DataFrame, dict[str, float]]:
    """Curvature by class on the embedded Hà Giang roads: per line (``roads()`` projected to
    UTM 48N) and the km-weighted mean over the routing graph's segments, which is what sets
    a class's average travel time."""
    import pyproj

    from geodata.datasets import load_dataset
    from geodata.graphs import load_road_graph

    dataset = load_dataset("ha_giang")
    roads = dataset.roads()
    table = network_curvature_summary(roads.to_crs(METRIC_CRS))
    graph, _ = load_road_graph(dataset)  # the planner's own (cached) graph of this dataset
    tr = pyproj.Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    x, y = tr.transform(graph.seg_coords[:, 0], graph.seg_coords[:, 1])
    curv = segment_curvature(np.column_stack([x, y]), graph.seg_coord_ptr)
    seg_mean = {}
    for k, name in enumerate(graph.classes):
        m = graph.seg_class == k
        seg_mean[name] = float((curv[m] * graph.seg_length_m[m]).sum()
                               / graph.seg_length_m[m].sum())
    table["graph_km_mean"] = table["class"].map(seg_mean)
    return table, seg_mean


def suggest_profiles(fit: SpeedFit, class_curv: dict[str, float]) -> pd.DataFrame:
    """Per profile and class: the class-average speed the profiles used before the curvature
    model (:data:`CLASS_AVERAGES_KMH`), the straight-road speed that keeps that average on
    Hà Giang once winding slows the bends (the recommendation, now in ``profiles.yaml``),
    and the alternative from the survey speeds x a vehicle factor."""
    import pandas as pd

    rows = []
    k = fit.curvature_k
    for name, speeds in CLASS_AVERAGES_KMH.items():
        for cls, kmh in speeds.items():
            cbar = class_curv.get(cls, 0.0)
            slow = 1.0 + k * cbar / 1000.0
            row = {"profile": name, "class": cls, "current_kmh": float(kmh),
                   "hg_curvature": cbar, "straight_kmh": float(kmh) * slow}
            if cls in fit.classes and name in VEHICLE_FACTORS:
                b = fit.base_kmh[fit.classes.index(cls)] * VEHICLE_FACTORS[name]
                row["alt_straight_kmh"] = b
                row["alt_hg_avg_kmh"] = b / slow
            rows.append(row)
    return pd.DataFrame(rows)


def run_calibration(shared: Path = DEFAULT_SHARED, *, prior_traces: float = DEFAULT_PRIOR_TRACES,
                    min_share: float = 0.5, n_boot: int = 1000, seed: int = 0
                    ) -> CalibrationResult:
    """Match, fit, score and collect every table of the report."""
    import functools

    import pandas as pd

    traces, roads, coverage = load_inputs(shared)
    table = trace_table(traces, roads, coverage, min_share=min_share)
    used = table[(table["matched_class"] != "") & table["speed_kmh"].notna()].reset_index(
        drop=True)
    v = used["speed_kmh"].to_numpy(float)
    c = used["curv_trace"].to_numpy(float)
    ci = used["matched_class"].map(CLASSES.index).to_numpy(np.int64)
    w = used["length_km"].to_numpy(float)
    groups = used["road"].to_numpy()

    model = functools.partial(fit_speed_model, prior_traces=prior_traces)
    methods: dict[str, FitFn] = {
        "model": model,
        "baseline (a): one constant speed": fit_constant,
        "baseline (b): class mean, no curvature": fit_class_means,
    }
    fit = model(v, c, ci, w)
    loo = pd.DataFrame({"name": used["name"], "class": used["matched_class"], "observed": v})
    err_rows, cls_rows = [], []
    for label, fn in methods.items():
        for scheme, grp in (("trace", None), ("road", groups)):
            pred = loo_predict(fn, v, c, ci, w, groups=grp)
            if scheme == "trace":
                loo[label] = pred
                for k, cls in enumerate(CLASSES):
                    m = ci == k
                    if m.any():
                        e = error_stats(v[m], pred[m])
                        cls_rows.append({"method": label, "class": cls, **e})
            err_rows.append({"method": label, "left out": f"one {scheme}",
                             **error_stats(v, pred, w)})
    shrink_rows = []
    for n0 in SHRINKAGE_CANDIDATES:
        fn = functools.partial(fit_speed_model, prior_traces=n0)
        f = fn(v, c, ci, w)
        e = error_stats(v, loo_predict(fn, v, c, ci, w), w)
        er = error_stats(v, loo_predict(fn, v, c, ci, w, groups=groups), w)
        shrink_rows.append({"prior_traces": n0, **{f"base.{k}": b for k, b in
                                                   zip(CLASSES, f.base_kmh, strict=True)},
                            "mae_trace": e["mae"], "rmse_trace": e["rmse"],
                            "mae_road": er["mae"], "rmse_road": er["rmse"]})
    co = used["curv_osm"].to_numpy(float)
    minor = ci == CLASSES.index("minor")
    lc_minor = minor & (used["province"] == "Lào Cai").to_numpy()
    checks = [("all matched traces, trace geometry (the fit)", fit.curvature_k, len(v)),
              ("curvature of the OSM roads along the traces", model(v, co, ci, w).curvature_k,
               len(v)),
              ("unweighted (every trace counts the same)",
               model(v, c, ci, np.ones_like(w)).curvature_k, len(v)),
              ("minor roads only", model(v[minor], c[minor], ci[minor], w[minor]).curvature_k,
               int(minor.sum())),
              ("minor roads in Lào Cai only", model(v[lc_minor], c[lc_minor], ci[lc_minor],
                                                    w[lc_minor]).curvature_k,
               int(lc_minor.sum()))]
    k_checks = pd.DataFrame(checks, columns=["fit", "curvature_k", "traces"])
    boot = bootstrap_fits(model, v, c, ci, w, groups, n_boot=n_boot, seed=seed)
    resid = v - fit.predict(c, ci)
    iri = used["iri"].to_numpy(float)
    ok = np.isfinite(iri)
    r_iri = float(np.corrcoef(resid[ok], iri[ok])[0, 1]) if ok.sum() > 2 else math.nan
    network, class_curv = hagiang_curvature()
    profiles = suggest_profiles(fit, class_curv)
    import geopandas
    import shapely

    inputs = {TRACES_FILE: _file_digest(shared / TRACES_FILE),
              ROADS_FILE: _file_digest(shared / ROADS_FILE)}
    settings = {"prior_traces": prior_traces, "min_share": min_share, "n_boot": n_boot,
                "seed": seed, "max_dist_m": 30.0, "max_angle_deg": 45.0,
                "curvature_spacing_m": DEFAULT_CURVATURE_SPACING_M,
                "versions": f"numpy {np.__version__}, shapely {shapely.__version__}, "
                            f"geopandas {geopandas.__version__}"}
    return CalibrationResult(
        traces=table, trace_geoms=traces.geometry.values, used=used, fit=fit, loo=loo,
        errors=pd.DataFrame(err_rows),
        class_errors=pd.DataFrame(cls_rows), shrinkage=pd.DataFrame(shrink_rows),
        k_checks=k_checks, bootstrap=boot, network=network, profiles=profiles,
        residual_iri_r=r_iri, inputs=inputs, settings=settings)


# --- the report -----------------------------------------------------------------------------------

def _md_table(header: Sequence[str], rows: Sequence[Sequence[object]],
              align: str | None = None) -> str:
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def _f(x: float, nd: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{nd}f}"


def _n0(x: float) -> str:
    return "∞ (one speed)" if math.isinf(x) else f"{x:g}"


def render_report(res: CalibrationResult, *, command: str) -> str:
    """The markdown report (docs/speed-calibration.md)."""
    t, u, fit = res.traces, res.used, res.fit
    n_speed = int(t["speed_kmh"].notna().sum())
    per_cls = {c: u[u["matched_class"] == c] for c in CLASSES}
    loose = t[t["loose_class"] != ""]
    lo, hi = np.percentile(res.bootstrap, [5, 95], axis=0)
    k_at_top = float(np.mean(res.bootstrap[:, -1] >= K_GRID[-1] - 1e-9))
    err = res.errors.set_index(["method", "left out"])
    m_tr = err.loc[("model", "one trace")]
    a_tr = err.loc[("baseline (a): one constant speed", "one trace")]
    b_tr = err.loc[("baseline (b): class mean, no curvature", "one trace")]
    trunk_loose = loose[loose["loose_class"] == "trunk"]
    how = []
    for h in complete_by_neighbours(np.zeros(len(CLASSES)), fit.fitted, pooled=0.0)[1]:
        for i, name in enumerate(CLASSES):
            h = h.replace(f"#{i}", name)
        how.append(h)
    cbar = dict(zip(res.network["class"], res.network["graph_km_mean"], strict=True))
    k = fit.curvature_k
    n_roads = int(u["road"].nunique())
    unm = t[(t["matched_class"] == "") & t["speed_kmh"].notna()]
    steps = np.concatenate([np.hypot(*np.diff(np.asarray(g.coords)[:, :2], axis=0).T)
                            for g in res.trace_geoms])
    shrink = res.shrinkage.set_index("prior_traces")
    minor_shift = abs(fit.base_kmh[CLASSES.index("minor")] - shrink.loc[0.0, "base.minor"])
    prof = res.profiles
    truck = prof[(prof["profile"] == "truck") & prof["class"].isin(CLASSES)].set_index("class")
    gap = (truck["alt_hg_avg_kmh"] / truck["current_kmh"] - 1).abs()
    gap_nt = gap.drop("trunk", errors="ignore")
    kc = res.k_checks["curvature_k"]
    minor_u = u[u["matched_class"] == "minor"]
    curv_by_prov = {p_: (d["curv_trace"].min(), d["curv_trace"].max())
                    for p_, d in minor_u.groupby("province")}
    out: list[str] = []
    w = out.append

    w("# Speed calibration: mountain travel speeds against the RoadLab Pro traces\n")
    w(f"_Generated by `{command}` (run from the project root); do not edit by hand: change "
      "`tools/calibrate_speeds.py` and run it again._\n")
    w("Inputs (SHA-256, first 12 hex digits): "
      + ", ".join(f"`{k_}` {v}" for k_, v in res.inputs.items())
      + "; the embedded `ha_giang` dataset for the network figures. Settings: "
      + ", ".join(f"{k_} = {v}" for k_, v in res.settings.items() if k_ != "versions")
      + f". {res.settings['versions']}.\n")

    w("## Summary\n")
    w(f"- **Traces.** {len(t)} traces ({t['length_km'].sum():.1f} km), {n_speed} with a "
      f"measured speed. {len(u)} of those ({u['length_km'].sum():.1f} km) follow one OSM class "
      "for at least half their length and are used: "
      + ", ".join(f"{c} {len(per_cls[c])}" for c in CLASSES) + ".")
    w("- **The issue's class counts come from a loose match.** Taking the class of "
      "the nearest road within 30 m of any part of a trace (whatever the share) gives "
      + ", ".join(f"{c} {int((loose['loose_class'] == c).sum())}" for c in CLASSES)
      + " (the issue's minor 21, secondary 7, trunk 5, primary 4, tertiary 0). But the "
      f"{len(trunk_loose)} \"trunk\" traces (mean speed "
      f"{trunk_loose['speed_kmh'].mean():.1f} km/h, all in "
      + ", ".join(sorted(set(trunk_loose["district"])))
      + f") lie within 30 m of a trunk road for only "
      f"{trunk_loose['loose_share'].min():.0%}–{trunk_loose['loose_share'].max():.0%} of their "
      f"length and run along it for {trunk_loose['share_trunk'].min():.0%}–"
      f"{trunk_loose['share_trunk'].max():.0%}: they are town streets that cross or touch "
      "QL.4D. **No trace follows a trunk road**, so the survey says nothing about trunk "
      "speeds, and \"trunk slower than minor\" does not follow from it.")
    w(f"- **Fit.** Winding slows the survey vehicle: `curvature_k` = **{k:.2f} m per degree** "
      f"of turning (90% cluster-bootstrap interval {lo[-1]:.2f}–{hi[-1]:.2f}). Straight-road "
      "speeds: " + ", ".join(f"{c} {b:.1f}" + ("" if f_ else " (fallback)")
                             for c, b, f_ in zip(CLASSES, fit.base_kmh, fit.fitted, strict=True))
      + " km/h.")
    w(f"- **Leave-one-out error** (each trace predicted by a fit on the others, {len(u)} "
      f"traces): MAE **{m_tr['mae']:.1f} km/h**, RMSE {m_tr['rmse']:.1f}, against "
      f"{a_tr['mae']:.1f} / {a_tr['rmse']:.1f} for one constant speed and "
      f"{b_tr['mae']:.1f} / {b_tr['rmse']:.1f} for per-class means without curvature.")
    w("- **Recommendation.** Use `curvature_k` = "
      f"{k:.2f}, and **keep the current profile speeds as class averages**: the data cannot "
      "support new truck levels (a survey car, 0–2 traces for every class but minor), and "
      "where they are informative (minor roads) the survey speed x 0.8 agrees with the "
      f"current truck value within {gap.get('minor', math.nan):.0%}. Because times are "
      "additive in turning, converting each "
      "profile speed to a straight-road speed with the Hà Giang class curvature (table below) "
      "keeps every class's average time on Hà Giang unchanged while winding roads become "
      "slower and straight ones faster.")
    w(f"- **How sure.** Not very: {len(u)} traces on {n_roads} roads, two provinces that are "
      "not Hà Giang, a 2017 survey car rather than a loaded truck. The curvature effect is "
      "positive in every subset tried, but its size is not stable "
      f"({kc.min():.1f}–{kc.max():.1f} m/deg, below). Treat the numbers as a plausible "
      "starting point, to be replaced with GPS logs of the library truck.\n")

    w("## Method\n")
    w("**Matching** (`match_traces`). Each trace is cut into pieces of about 10 m. A piece "
      "*follows* a road of the 14-province core network (`roads/osm2021_north14_roads_core.gpkg`,"
      " motorway to tertiary plus unclassified; projected to EPSG:32648) when the road is "
      "within 30 m of its midpoint and runs within 45° of its direction; the nearest such "
      "road counts. Shares are taken over the part of the trace inside the area the road file "
      "covers (the 14 province outlines + 4 km; the Hồ Chí Minh road trace leaves it). A trace "
      "is matched to the class it follows for the largest share when that share is at least "
      f"{res.settings['min_share']:.0%}; otherwise it is reported as unmatched and not used. "
      "The 50% rule and the direction test keep out traces that only cross or touch a road.\n")
    w("**Curvature** (`geodata.speeds.segment_curvature`). Degrees of absolute heading change "
      "per km, after resampling each line at equal steps of at most "
      f"{DEFAULT_CURVATURE_SPACING_M:g} m. The traces' vertices are "
      f"{np.percentile(steps, 10):.0f}–{np.percentile(steps, 90):.0f} m apart (10th–90th "
      "percentile), so GPS jitter is already smoothed; the same "
      "measure on the OSM roads along the matched traces agrees with the trace geometry "
      f"(correlation {np.corrcoef(u['curv_trace'], u['curv_osm'])[0, 1]:.2f}, median ratio "
      f"OSM/trace {np.median(u['curv_osm'] / u['curv_trace']):.2f}), so a `curvature_k` fitted "
      "on traces transfers to the OSM graph.\n")
    w("**Model.** `v = b[class] / (1 + curvature_k * c / 1000)`, `c` in degrees per km, `b` "
      "the straight-road speed of the class. The time of a road is then "
      "`L / b + curvature_k * turning_deg / b`: each degree of turning costs as much time as "
      "`curvature_k` metres of straight road of that class (a 90° bend about "
      f"{90 * k:.0f} m, a hairpin about {180 * k:.0f} m), whatever the vertex density or the "
      "way the road is cut into segments. Surface and slope are not in the survey data "
      "(below).\n")
    w("**Fit** (`fit_speed_model`), weighted by trace length (km). (1) `curvature_k` minimises "
      "the weighted squared error in km/h with a free speed per class (class fixed effects), "
      "so it is learnt from differences *within* a class and a class's level cannot leak into "
      "it; searched on a grid 0–5 m/deg, then refined. (2) At that `curvature_k` each class "
      "speed is shrunk toward the pooled straight-road speed (one speed for all classes, "
      f"{fit.pooled_kmh:.1f} km/h) as if {_n0(fit.prior_traces)} trace(s) of average length had "
      "shown it: `b_c = (Σ_c w g v + λ b0) / (Σ_c w g² + λ)`, `g = 1/(1 + k c/1000)`, "
      "`λ = prior_traces × mean weight`. This matters only for classes with few traces "
      f"(minor moves by {minor_shift:.1f} km/h).\n")
    w("**Classes without traces** (`complete_by_neighbours`) take the mean of the nearest "
      "faster and slower classes with traces, in the order trunk > primary > secondary > "
      "tertiary > minor: **tertiary = mean of secondary and minor**; trunk, with no faster "
      "class, takes primary's value. The same rule fills a class that a leave-one-out fold "
      "empties (e.g. primary, with one trace, is then predicted from secondary), in the model "
      "and in baseline (b) alike.\n")
    w("**Errors.** Leave-one-trace-out, as asked, and leave-one-road-out (all traces with the "
      "same VPRoMMS road id left out together: the two survey runs of one road are not "
      "independent). MAE and RMSE per trace in km/h; wMAE weights by trace length. Baselines: "
      "(a) one constant speed (length-weighted mean of the training traces); (b) "
      "length-weighted mean speed per class, no curvature, no shrinkage. Parameter "
      f"uncertainty: {res.settings['n_boot']} bootstrap resamples of whole roads (seed "
      f"{res.settings['seed']}), 5th–95th percentiles.\n")

    w("## Results\n")
    w("### Traces per class\n")
    rows = []
    for c in CLASSES:
        d = per_cls[c]
        lz = loose[loose["loose_class"] == c]
        rows.append([c, len(d), _f(d["length_km"].sum()),
                     _f(np.average(d["speed_kmh"], weights=d["length_km"])) if len(d) else "–",
                     _f(np.average(d["curv_trace"], weights=d["length_km"]), 0)
                     if len(d) else "–",
                     ", ".join(sorted(set(d["province"]))) or "–",
                     len(lz), _f(lz["speed_kmh"].mean())])
    rows.append(["unmatched (with speed)", len(unm), _f(unm["length_km"].sum()),
                 _f(np.average(unm["speed_kmh"], weights=unm["length_km"])),
                 _f(np.average(unm["curv_trace"], weights=unm["length_km"]), 0),
                 ", ".join(sorted(set(unm["province"]))), "", ""])
    nos = t[t["speed_kmh"].isna()]
    rows.append(["no speed recorded", len(nos), _f(nos["length_km"].sum()), "–", "–",
                 ", ".join(sorted(set(nos["province"]))), "", ""])
    w(_md_table(["class", "traces used", "km", "speed km/h (km-weighted)",
                 "curvature °/km (km-weighted)", "provinces", "loose-rule traces",
                 "loose-rule mean km/h"], rows, "lrrrrlrr"))
    w(f"\nThe {len(unm)} unmatched traces with a speed ("
      + ", ".join(f"{d_} {n_}" for d_, n_ in unm["district"].value_counts().items())
      + ") run mostly along roads that are not in the 2021 core network (town streets, "
      "unmapped or residential roads) or only touch a core road; they are listed in the "
      "appendix and not used.\n")

    w("### Fitted parameters\n")
    rows = []
    for i, c in enumerate(CLASSES):
        b = fit.base_kmh[i]
        cb = cbar.get(c, math.nan)
        rows.append([c, int(fit.n_traces[i]), how[i], _f(b), f"{lo[i]:.1f}–{hi[i]:.1f}",
                     _f(cb, 0), _f(b / (1 + k * cb / 1000))])
    w(_md_table(["class", "traces", "source", "straight-road km/h", "90% bootstrap",
                 "Hà Giang curvature °/km", "survey-vehicle avg on Hà Giang km/h"], rows,
                "lrlrrrr"))
    w(f"\n`curvature_k` = **{k:.3f} m/deg** (90% bootstrap {lo[-1]:.2f}–{hi[-1]:.2f}; "
      f"{k_at_top:.0%} of resamples hit the 5 m/deg top of the grid); pooled straight-road "
      f"speed {fit.pooled_kmh:.1f} km/h; shrinkage {_n0(fit.prior_traces)} pseudo-trace(s). "
      "The last column is what the fitted survey vehicle would average on each Hà Giang "
      "class: `b / (1 + k c̄ / 1000)` with `c̄` the km-weighted mean curvature of the class's "
      "graph segments.\n")

    w("### Leave-one-out errors (km/h)\n")
    rows = [[r["method"], r["left out"], r["n"], _f(r["mae"], 2), _f(r["rmse"], 2),
             _f(r["bias"], 2), _f(r["wmae"], 2)] for _, r in res.errors.iterrows()]
    w(_md_table(["method", "left out", "traces", "MAE", "RMSE", "bias", "wMAE"], rows,
                "llrrrrr"))
    w("\nPer class (leave-one-trace-out):\n")
    ce = res.class_errors
    rows = []
    for c in CLASSES:
        sub = ce[ce["class"] == c]
        if len(sub) == 0:
            rows.append([c, 0, "–", "–", "–"])
            continue
        cell = {r["method"]: f"{r['mae']:.2f} / {r['rmse']:.2f}" for _, r in sub.iterrows()}
        rows.append([c, int(sub["n"].iloc[0])] + [cell.get(mth, "–") for mth in
                                                 ("model", "baseline (a): one constant speed",
                                                  "baseline (b): class mean, no curvature")])
    w(_md_table(["class", "traces", "model MAE / RMSE", "(a) constant", "(b) class mean"],
                rows, "lrrrr"))
    w("\nThe single primary trace (Hồ Chí Minh road, 48.5 km/h) is predicted from the "
      "secondary traces once it is left out, hence its large error in every method.\n")

    w("### Sensitivity\n")
    w("Shrinkage strength (pseudo-traces at the pooled speed); `curvature_k` is the same in "
      "every row since it is fitted within classes:\n")
    rows = [[_n0(r["prior_traces"])] + [_f(r[f"base.{c}"]) for c in CLASSES]
            + [_f(r["mae_trace"], 2), _f(r["rmse_trace"], 2), _f(r["mae_road"], 2)]
            for _, r in res.shrinkage.iterrows()]
    w(_md_table(["prior_traces"] + [f"{c} km/h" for c in CLASSES]
                + ["LOO MAE", "LOO RMSE", "leave-road MAE"], rows))
    w("\nLess shrinkage gives a smaller leave-one-out error here, because the three "
      "secondary/primary traces are genuinely faster than minor roads of the same winding. We "
      f"keep {_n0(fit.prior_traces)} pseudo-trace: with one or two traces a class speed is "
      "otherwise that one road's (the primary class is the Hồ Chí Minh road alone, straight by "
      "mountain standards), and the "
      "recommended profile speeds do not depend on these class levels.\n")
    w("`curvature_k` under other choices:\n")
    w(_md_table(["fit", "curvature_k m/deg", "traces"],
                [[r["fit"], _f(r["curvature_k"], 2), r["traces"]]
                 for _, r in res.k_checks.iterrows()]))
    w(f"\nResiduals of the model against the traces' roughness (IRI): correlation "
      f"{res.residual_iri_r:+.2f}, so roughness (a proxy for surface) explains none of what "
      "curvature leaves; the surface factors below are therefore not calibrated.\n")

    w("## Curvature on the Hà Giang network\n")
    w("`geodata.datasets.load_dataset('ha_giang').roads()` projected to EPSG:32648, one value "
      "per line (°/km), and the km-weighted view (what a kilometre of that class is like). "
      "Lines shorter than one 20 m step count as straight, which pulls the per-line median "
      "down for classes cut into many short pieces (trunk). The last column is over the "
      "routing graph's segments (lines cut at junctions), which is what sets class averages:\n")
    rows = [[r["class"], r["lines"], _f(r["km"], 0), _f(r["median"], 0), _f(r["p90"], 0),
             _f(r["km_median"], 0), _f(r["km_p90"], 0), _f(r["km_mean"], 0),
             _f(r["graph_km_mean"], 0)] for _, r in res.network.iterrows()]
    w(_md_table(["class", "lines", "km", "median", "p90", "km-weighted median",
                 "km-weighted p90", "km-weighted mean", "graph segments, km-weighted mean"],
                rows))
    w("\nFor scale, the surveyed minor roads: "
      + "; ".join(f"{p_} {a:.0f}–{b:.0f} °/km" for p_, (a, b) in curv_by_prov.items())
      + f". Hà Giang's minor roads average {cbar.get('minor', math.nan):.0f} °/km, more "
      "winding than most surveyed roads.\n")

    w("## Suggested profile speeds\n")
    w("Recommended (**keep the current levels**): `straight` = current × (1 + k c̄ / 1000), "
      "the straight-road speed that gives the current average on the Hà Giang graph. "
      "Alternative, for comparison only: the fitted survey-vehicle straight-road speed × a "
      "vehicle factor (truck 0.8, van 0.9, motorbike 1.0: judgement, a library truck on "
      "mountain roads runs some 15–25% below a car; not measured here) and the Hà Giang "
      "average it implies.\n")
    rows = [[r["profile"], r["class"], _f(r["current_kmh"], 0), _f(r["hg_curvature"], 0),
             f"**{r['straight_kmh']:.1f}**", _f(r.get("alt_straight_kmh", math.nan)),
             _f(r.get("alt_hg_avg_kmh", math.nan))] for _, r in res.profiles.iterrows()]
    w(_md_table(["profile", "class", "current km/h (Hà Giang avg)", "c̄ °/km",
                 "straight-road km/h (recommended)", "alt. straight km/h",
                 "alt. Hà Giang avg km/h"], rows, "llrrrrr"))
    w(f"\nThe alternative agrees with the current truck speeds within {gap_nt.max():.0%} on "
      + ", ".join(gap_nt.index) + f" roads and is {gap.get('trunk', math.nan):.0%} faster on "
      "trunk roads, where it rests on no trunk trace at all (trunk takes primary's value, one "
      "trace). So the data are consistent with the current levels and cannot support "
      "changing them.\n")

    w("## Keys for `profiles.yaml`\n")
    w("```yaml")
    w("# Mountain speed model (geodata.speeds.SpeedModel.from_mapping); fitted by")
    w(f"# `{command}`. With it, speeds_kmh are straight-road speeds.")
    w("mountain:")
    w(f"  curvature_k: {k:.2f}          # m of straight road that 1 degree of turning costs")
    w(f"  curvature_spacing_m: {DEFAULT_CURVATURE_SPACING_M:g}")
    w("  min_speed_kmh: 5")
    w("  surface_factors: {}        # merged over geodata.speeds.DEFAULT_SURFACE_FACTORS")
    w("  slope: {k_up: 3.0, k_down: 1.5}   # used only with an elevation raster")
    for name in dict.fromkeys(res.profiles["profile"]):
        sub = res.profiles[res.profiles["profile"] == name]
        speeds = ", ".join(f"{r['class']}: {r['straight_kmh']:.1f}" for _, r in sub.iterrows())
        w(f"{name}:\n  speeds_kmh: {{{speeds}}}")
    w("```\n")

    w("## Surface and slope\n")
    w("The OSM vector tiles carry no `surface`, and the traces carry roughness (IRI) but no "
      "surface, so `DEFAULT_SURFACE_FACTORS` in `geodata/speeds.py` are judgement (asphalt, "
      "concrete, paved 1.0; compacted 0.8; gravel 0.7; unpaved 0.65; dirt/ground 0.55; mud "
      "0.4; unknown 1.0), used only where an `.osm.pbf` import provides `surface`. Slope: "
      "`slope_factor` (time +3 × grade uphill, +1.5 × |grade| downhill) is implemented but "
      "not calibrated and not used without an elevation raster; reading the raster is a TODO "
      "(rasterio is not a dependency). The fitted class speeds already include the average "
      "slope of the surveyed roads.\n")

    w("## Caveats: how sure is this?\n")
    w(f"- **Tiny sample.** {len(u)} usable traces on {n_roads} roads; "
      + ", ".join(f"{c} {n}" for c, n in zip(CLASSES, fit.n_traces, strict=True))
      + ". Classes with no trace are fallbacks. The bootstrap intervals above are wide, and "
      "with this few roads even they are optimistic.")
    w("- **Wrong place.** Lào Cai (Bát Xát) and Hòa Bình (Lạc Sơn), not Hà Giang. "
      "Hà Giang's "
      "roads are more winding than most surveyed ones, so predictions there extrapolate.")
    w("- **Confounding.** The straighter roads are mostly in Hòa Bình and the most winding in "
      "Lào Cai; within Lào Cai's minor roads alone `curvature_k` is only "
      f"{kc.iloc[-1]:.2f} m/deg. "
      "Part of what the fit calls winding may be province, survey team or road condition.")
    w("- **Wrong vehicle and year.** A 2017 RoadLab Pro survey car driven for roughness "
      "measurement, not a loaded library truck; `speed_mean` is the mean of the survey's "
      "speed samples, which overstates the length-average speed when speed varies.")
    w("- **Matching.** A 30 m / 45° rule on OSM of August 2021; roads rebuilt since, and the "
      "traces that left the covered area, are matched on part of their length only.")
    w("- **What would make it sure:** GPS logs (a phone is enough) of the library truck and "
      "vans on their real trips in Hà Giang, matched to the graph; a few dozen trips would "
      "calibrate truck speeds per class and `curvature_k` directly.\n")

    w("## Appendix: every trace\n")
    rows = []
    for _, r in t.iterrows():
        pred = u.loc[u["name"] == r["name"]]
        lo_p = res.loo.loc[res.loo["name"] == r["name"], "model"]
        rows.append([r["name"], r["province"], _f(r["length_km"], 2), _f(r["speed_kmh"]),
                     _f(r["curv_trace"], 0), _f(r["curv_osm"], 0),
                     r["matched_class"] or "–", f"{r['match_share']:.0%}",
                     r["loose_class"] or "–", f"{r['loose_share']:.0%}",
                     _f(float(lo_p.iloc[0])) if len(pred) and len(lo_p) else "–"])
    w(_md_table(["trace", "province", "km", "speed km/h", "curvature °/km (trace)",
                 "curvature °/km (OSM)", "matched class", "followed share", "loose class",
                 "loose share", "LOO prediction km/h"], rows, "llrrrrlrlrr"))
    w("\nData: RoadLab Pro traces, OpenRoads Vietnam (vnopenroads), MIT. Roads © OpenStreetMap "
      "contributors, ODbL 1.0.")
    return "\n".join(out) + "\n"


def summary_text(res: CalibrationResult) -> str:
    fit = res.fit
    err = res.errors.set_index(["method", "left out"])
    lines = [f"traces used: {len(res.used)} of {len(res.traces)} ("
             + ", ".join(f"{c} {n}" for c, n in zip(CLASSES, fit.n_traces, strict=True)) + ")",
             f"curvature_k = {fit.curvature_k:.3f} m/deg; straight-road km/h: "
             + ", ".join(f"{c} {b:.1f}{'' if f_ else '*'}"
                         for c, b, f_ in zip(CLASSES, fit.base_kmh, fit.fitted, strict=True))
             + "  (* fallback)"]
    for (method, scheme), r in err.iterrows():
        lines.append(f"LOO ({scheme:>9}) {method:<40} MAE {r['mae']:5.2f}  RMSE {r['rmse']:5.2f}"
                     " km/h")
    lines.append("suggested straight-road speeds (keep current Hà Giang averages):")
    for name in dict.fromkeys(res.profiles["profile"]):
        sub = res.profiles[res.profiles["profile"] == name]
        lines.append(f"  {name}: " + ", ".join(f"{r['class']} {r['straight_kmh']:.1f}"
                                               for _, r in sub.iterrows()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.calibrate_speeds",
        description="Calibrate mountain speeds on the RoadLab Pro traces and write a report.")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="the staged geodata-src folder (default: ../shared/geodata-src)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="markdown report to write (default: docs/speed-calibration.md)")
    parser.add_argument("--prior-traces", type=float, default=DEFAULT_PRIOR_TRACES,
                        help="shrinkage toward the pooled speed, in pseudo-traces (default 1)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    res = run_calibration(args.shared, prior_traces=args.prior_traces, n_boot=args.bootstrap,
                          seed=args.seed)
    command = "python -m tools.calibrate_speeds"
    if args.shared.resolve() != DEFAULT_SHARED.resolve():
        command += f" --shared {args.shared}"
    if args.prior_traces != DEFAULT_PRIOR_TRACES:
        command += f" --prior-traces {args.prior_traces:g}"
    if args.bootstrap != 1000 or args.seed != 0:
        command += f" --bootstrap {args.bootstrap} --seed {args.seed}"
    if args.out.resolve() != DEFAULT_OUT.resolve():
        command += f" --out {args.out}"
    text = render_report(res, command=command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.out)
    print(summary_text(res))
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
