"""Mountain speeds: curvature measure, speed model, slope, and the calibration's fitting.

Hand-checked cases first, then hypothesis properties on random polylines (metres, UTM-like
coordinates), then the calibration functions on synthetic data with known parameters. The
real calibration run needs ../shared/geodata-src and is skipped without it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.calibration import (
    CLASSES,
    complete_by_neighbours,
    error_stats,
    fit_class_means,
    fit_constant,
    fit_speed_model,
    loo_predict,
    match_traces,
)
from geodata.speeds import (
    DEFAULT_SURFACE_FACTORS,
    SpeedModel,
    SpeedModelError,
    polyline_lengths_m,
    segment_climb,
    segment_curvature,
    segment_slope_factor,
    segment_speeds_kmh,
    slope_factor,
    surface_factor,
)

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
SHARED = Path(__file__).resolve().parents[3] / "shared" / "geodata-src"


def curv(*lines: np.ndarray, spacing_m: float = 20.0) -> np.ndarray:
    """Curvature of each polyline given separately (packs them flat)."""
    coords = np.concatenate([np.asarray(x, float).reshape(-1, 2) for x in lines]) \
        if lines else np.zeros((0, 2))
    ptr = np.concatenate([[0], np.cumsum([len(x) for x in lines])]).astype(np.int64)
    return segment_curvature(coords, ptr, spacing_m=spacing_m)


def square_wave(n_corners: int, leg_m: float) -> np.ndarray:
    """East leg_m, north/south leg_m alternately: every vertex but the ends turns 90°."""
    pts, x, y, up = [(0.0, 0.0)], 0.0, 0.0, True
    while len(pts) < n_corners + 2:
        x += leg_m
        pts.append((x, y))
        if len(pts) < n_corners + 2:
            y += leg_m if up else -leg_m
            up = not up
            pts.append((x, y))
    return np.array(pts[: n_corners + 2])


# --- curvature: hand-checked ------------------------------------------------------------------

def test_straight_line_has_zero_curvature():
    line = np.array([[0, 0], [30, 40], [30, 40], [60, 80], [300, 400]], float)  # + a repeat
    assert curv(line)[0] == pytest.approx(0.0, abs=1e-9)


def test_two_points_empty_and_zero_length_are_zero():
    out = curv(np.array([[0, 0], [5000, 0]]), np.zeros((1, 2)), np.array([[3, 3], [3, 3]]),
               np.zeros((0, 2)))
    assert out.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert segment_curvature(np.zeros((0, 2)), np.array([0])).shape == (0,)


def test_right_angle():
    # 100 m east then 100 m north: 90 degrees over 0.2 km
    assert curv(np.array([[0, 0], [100, 0], [100, 100]]))[0] == pytest.approx(450.0)


@pytest.mark.parametrize("n_corners, leg_m", [(20, 100.0), (7, 60.0), (40, 200.0)])
def test_square_wave_turning_per_km(n_corners, leg_m):
    line = square_wave(n_corners, leg_m)
    length_km = (len(line) - 1) * leg_m / 1000
    assert curv(line)[0] == pytest.approx(90.0 * n_corners / length_km, rel=1e-9)


def test_square_wave_legs_shorter_than_two_steps_lose_some_turning():
    # documented limit of resampling: wiggles shorter than the step are smoothed away
    line = square_wave(20, 25.0)
    exact = 90.0 * 20 / ((len(line) - 1) * 0.025)
    assert curv(line)[0] < exact
    assert curv(line, spacing_m=5.0)[0] == pytest.approx(exact, rel=1e-9)


def test_quarter_circle_turns_90_degrees_less_one_chord():
    # n equal chords of the arc turn by 90/n degrees each; the n-1 turns between them sum
    # to 90 (n - 1) / n: half a chord's turn is lost at each end of the line
    r = 200.0
    a = np.linspace(0, math.pi / 2, 2001)
    line = np.column_stack([r * np.cos(a), r * np.sin(a)])
    length_m = np.hypot(*np.diff(line, axis=0).T).sum()
    n = math.ceil(length_m / 20.0)
    turning = curv(line)[0] * length_m / 1000
    assert turning == pytest.approx(90.0 * (n - 1) / n, rel=1e-4)


def test_vertex_noise_is_damped_by_resampling():
    # a straight 1 km road digitised every 2 m with 0.3 m of jitter
    rng = np.random.default_rng(1)
    x = np.arange(0, 1001, 2.0)
    line = np.column_stack([x, rng.normal(0, 0.3, len(x))])
    raw = curv(line, spacing_m=0.5)[0]  # about vertex by vertex
    assert raw > 5000
    assert curv(line)[0] < 150


def test_polylines_are_independent_of_their_neighbours_in_the_flat_arrays():
    a, b, c = square_wave(5, 50.0), np.array([[7, 7], [7, 7], [90, 7]]), square_wave(3, 80.0)
    together = curv(a, b, c)
    assert together == pytest.approx([curv(a)[0], curv(b)[0], curv(c)[0]])


def test_bad_ptr_is_refused():
    with pytest.raises(ValueError):
        segment_curvature(np.zeros((3, 2)), np.array([0, 2]))
    with pytest.raises(ValueError):
        segment_curvature(np.zeros((3, 2)), np.array([0, 2, 1, 3]))


# --- curvature: properties ---------------------------------------------------------------------

@st.composite
def polylines(draw):
    """A random walk of 2-25 steps of 0-150 m (zero-length steps included), metres."""
    n = draw(st.integers(2, 25))
    steps = draw(st.lists(st.one_of(st.just(0.0), st.floats(1.0, 150.0)), min_size=n - 1,
                          max_size=n - 1))
    turns = draw(st.lists(st.floats(-170.0, 170.0), min_size=n - 1, max_size=n - 1))
    heading = np.radians(np.cumsum(turns))
    d = np.column_stack([np.cos(heading), np.sin(heading)]) * np.asarray(steps)[:, None]
    return np.vstack([[0.0, 0.0], np.cumsum(d, axis=0)])


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


@SETTINGS
@given(polylines(), st.floats(-5e5, 5e5), st.floats(2e6, 3e6), st.floats(0, 2 * math.pi))
def test_curvature_invariant_to_translation_and_rotation(line, dx, dy, angle):
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = line @ rot.T + np.array([500_000 + dx, dy])
    assert _same(curv(moved)[0], curv(line)[0])


@SETTINGS
@given(polylines())
def test_curvature_invariant_to_reversing(line):
    assert _same(curv(line[::-1])[0], curv(line)[0])


@SETTINGS
@given(polylines(), st.data())
def test_curvature_invariant_to_inserting_a_collinear_vertex(line, data):
    i = data.draw(st.integers(0, len(line) - 2))
    t = data.draw(st.floats(0.0, 1.0))
    extra = line[i] + t * (line[i + 1] - line[i])
    longer = np.vstack([line[: i + 1], extra, line[i + 1:]])
    assert _same(curv(longer)[0], curv(line)[0])


@SETTINGS
@given(polylines())
def test_curvature_is_finite_and_non_negative(line):
    c = curv(line)[0]
    assert math.isfinite(c) and c >= 0


# --- speeds -------------------------------------------------------------------------------------

def test_speed_formula_hand_checked():
    m = SpeedModel(curvature_k=1.0, min_speed_kmh=5.0)
    v = segment_speeds_kmh(np.array([40.0, 40.0, 40.0]), np.array([0.0, 1000.0, 3000.0]),
                           None, m)
    assert v.tolist() == pytest.approx([40.0, 20.0, 10.0])


def test_unknown_or_missing_surface_gives_factor_one():
    m = SpeedModel()
    f = surface_factor(np.array(["bogus", None, "", math.nan, "Asphalt", "gravel;asphalt",
                                 "mud"], dtype=object), 7, m)
    assert f.tolist() == pytest.approx([1.0, 1.0, 1.0, 1.0, 1.0,
                                        DEFAULT_SURFACE_FACTORS["gravel"],
                                        DEFAULT_SURFACE_FACTORS["mud"]])
    assert surface_factor(None, 3, m).tolist() == [1.0, 1.0, 1.0]


def test_closed_class_stays_closed():
    v = segment_speeds_kmh(np.array([np.nan, 30.0]), np.zeros(2), None, SpeedModel())
    assert math.isnan(v[0]) and v[1] == 30.0


@SETTINGS
@given(st.lists(st.floats(1.0, 120.0), min_size=1, max_size=20), st.floats(0.0, 5.0),
       st.lists(st.floats(0.0, 50_000.0), min_size=2, max_size=2),
       st.sampled_from(list(DEFAULT_SURFACE_FACTORS) + ["unknown"]))
def test_speed_monotone_in_curvature_and_never_below_min(base, k, curvs, surface):
    m = SpeedModel(curvature_k=k, min_speed_kmh=6.0)
    base_a = np.asarray(base)
    lo, hi = sorted(curvs)
    surf = np.array([surface] * len(base_a), dtype=object)
    v_lo = segment_speeds_kmh(base_a, np.full(len(base_a), lo), surf, m)
    v_hi = segment_speeds_kmh(base_a, np.full(len(base_a), hi), surf, m)
    assert np.all(v_hi <= v_lo + 1e-12)
    assert np.all(v_lo >= 6.0) and np.all(v_hi >= 6.0)
    assert np.all(v_lo <= np.maximum(base_a, 6.0) + 1e-12)


def test_speed_model_from_mapping_merges_and_validates():
    m = SpeedModel.from_mapping({"curvature_k": 0.5, "surface_factors": {"Gravel": 0.6},
                                 "slope": {"k_up": 2.0}})
    assert m.curvature_k == 0.5 and m.surface_factors["gravel"] == 0.6
    assert m.surface_factors["asphalt"] == 1.0 and m.slope_k_up == 2.0
    assert SpeedModel.from_mapping(None) == SpeedModel()
    assert hash(m) != hash(SpeedModel()) and m.digest != SpeedModel().digest
    with pytest.raises(SpeedModelError, match="curvatur_k"):
        SpeedModel.from_mapping({"curvatur_k": 1.0})
    with pytest.raises(SpeedModelError) as err:  # every problem in one message
        SpeedModel.from_mapping({"curvature_k": -1, "min_speed_kmh": 0,
                                 "surface_factors": {"mud": 0}}, source="profiles.yaml")
    msg = str(err.value)
    assert "profiles.yaml" in msg and "curvature_k" in msg and "min_speed_kmh" in msg
    assert "surface_factors.mud" in msg
    assert isinstance(err.value, ValueError)


# --- slope --------------------------------------------------------------------------------------

def test_slope_factor_flat_is_one_and_decreases_with_steepness():
    g = np.array([0.0, 0.02, 0.05, 0.10, -0.02, -0.05, -0.10])
    f = slope_factor(g)
    assert f[0] == 1.0
    assert np.all(np.diff(f[:4]) < 0) and np.all(np.diff(f[[0, 4, 5, 6]]) < 0)
    m = SpeedModel(slope_k_up=4.0, slope_k_down=2.0)
    assert slope_factor(np.array([0.1, -0.1]), model=m).tolist() == pytest.approx(
        [1 / 1.4, 1 / 1.2])


def test_segment_climb_and_slope_factor_hand_checked():
    coords = np.array([[0, 0], [100, 0], [200, 0], [0, 0], [50, 0]], float)
    ptr = np.array([0, 3, 5])
    z = np.array([100.0, 110.0, 105.0, 7.0, 7.0])
    climb, descent = segment_climb(coords, ptr, z)
    assert climb.tolist() == [10.0, 0.0] and descent.tolist() == [5.0, 0.0]
    m = SpeedModel(slope_k_up=3.0, slope_k_down=1.5)
    length = polyline_lengths_m(coords, ptr)
    assert length.tolist() == [200.0, 50.0]
    f = segment_slope_factor(length, climb, descent, model=m)
    # time-weighted over the two steps: 100 m at +10% and 100 m at -5%
    steps = np.array([0.1, -0.05])
    expect = 200.0 / (100.0 / slope_factor(steps, model=m)).sum()
    assert f.tolist() == pytest.approx([expect, 1.0])


# --- calibration: fitting ------------------------------------------------------------------------

def synthetic(n_per_class: int, *, k: float, base: list[float], noise_kmh: float, seed: int):
    rng = np.random.default_rng(seed)
    ci = np.repeat(np.arange(len(base)), n_per_class)
    c = rng.uniform(50, 1300, len(ci))
    w = rng.uniform(0.5, 12.0, len(ci))
    v = np.asarray(base)[ci] / (1 + k * c / 1000) + rng.normal(0, noise_kmh, len(ci))
    return v, c, ci, w


def test_fit_recovers_known_parameters_exactly_without_noise():
    base = [52.0, 47.0, 42.0, 38.0, 33.0]
    v, c, ci, w = synthetic(8, k=1.3, base=base, noise_kmh=0.0, seed=3)
    fit = fit_speed_model(v, c, ci, w, prior_traces=0.0)
    assert fit.curvature_k == pytest.approx(1.3, abs=1e-3)
    assert fit.base_kmh == pytest.approx(base, abs=0.02)
    assert fit.fitted.all() and fit.n_traces.tolist() == [8] * 5


def test_fit_recovers_known_parameters_with_noise_and_shrinkage():
    base = [52.0, 47.0, 42.0, 38.0, 33.0]
    v, c, ci, w = synthetic(40, k=0.8, base=base, noise_kmh=0.7, seed=4)
    fit = fit_speed_model(v, c, ci, w, prior_traces=1.0)
    assert fit.curvature_k == pytest.approx(0.8, abs=0.1)
    assert fit.base_kmh == pytest.approx(base, abs=1.5)


def test_shrinkage_pulls_a_one_trace_class_toward_the_pooled_speed():
    v, c, ci, w = synthetic(40, k=0.8, base=[50.0, 40.0, 40.0, 40.0, 30.0], noise_kmh=0.0,
                            seed=5)
    keep = (ci != 0) | (np.arange(len(ci)) == 0)  # class 0 keeps one trace
    v, c, ci, w = v[keep], c[keep], ci[keep], w[keep]
    free = fit_speed_model(v, c, ci, w, prior_traces=0.0, curvature_k=0.8)
    shrunk = fit_speed_model(v, c, ci, w, prior_traces=2.0, curvature_k=0.8)
    pooled = fit_speed_model(v, c, ci, w, prior_traces=math.inf, curvature_k=0.8)
    assert free.base_kmh[0] == pytest.approx(50.0)
    assert pooled.pooled_kmh < shrunk.base_kmh[0] < free.base_kmh[0]
    assert pooled.base_kmh == pytest.approx([pooled.pooled_kmh] * 5)
    # a class with many traces moves far less than the one-trace class
    assert abs(shrunk.base_kmh[4] - free.base_kmh[4]) < 0.25 * (free.base_kmh[0]
                                                                 - shrunk.base_kmh[0])


def test_k_is_learnt_within_classes_not_from_class_differences():
    # two classes, each at constant speed, the faster one straighter: no within-class
    # evidence of a winding effect, so k must be 0 however strong the between-class contrast
    ci = np.array([0, 0, 0, 4, 4, 4])
    c = np.array([100.0, 300.0, 500.0, 700.0, 900.0, 1100.0])
    v = np.array([45.0, 45.0, 45.0, 25.0, 25.0, 25.0])
    fit = fit_speed_model(v, c, ci, np.ones(6), prior_traces=0.0)
    assert fit.curvature_k == pytest.approx(0.0, abs=1e-9)


def test_classes_without_traces_fall_back_to_their_neighbours():
    vals = np.array([np.nan, 48.0, 40.0, np.nan, 30.0])
    out, how = complete_by_neighbours(vals, ~np.isnan(vals), pooled=99.0)
    assert out.tolist() == [48.0, 48.0, 40.0, 35.0, 30.0]  # tertiary = (secondary + minor)/2
    assert how[3] == "mean of #2 and #4" and how[0] == "= #1"
    out, how = complete_by_neighbours(np.full(3, np.nan), np.zeros(3, bool), pooled=7.0)
    assert out.tolist() == [7.0, 7.0, 7.0] and set(how) == {"pooled"}
    assert CLASSES.index("tertiary") == 3


def test_loo_on_a_tiny_hand_example():
    v = np.array([10.0, 20.0, 30.0])
    zeros, ones, cls = np.zeros(3), np.ones(3), np.array([4, 4, 4])
    pred = loo_predict(fit_constant, v, zeros, cls, ones)
    assert pred.tolist() == pytest.approx([25.0, 20.0, 15.0])
    e = error_stats(v, pred, ones)
    assert e["mae"] == pytest.approx(10.0) and e["rmse"] == pytest.approx(math.sqrt(150.0))
    assert e["bias"] == pytest.approx(0.0) and e["wmae"] == pytest.approx(10.0)
    # grouped: traces 0 and 1 are one road, left out together
    pred = loo_predict(fit_constant, v, zeros, cls, ones, groups=np.array(["a", "a", "b"]))
    assert pred.tolist() == pytest.approx([30.0, 30.0, 15.0])
    # class means: a class emptied by the fold takes its neighbour's value
    pred = loo_predict(fit_class_means, np.array([40.0, 20.0, 22.0]), zeros,
                       np.array([2, 4, 4]), ones)
    assert pred.tolist() == pytest.approx([21.0, 22.0, 20.0])


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError):
        fit_speed_model(np.array([1.0]), np.array([1.0, 2.0]), np.array([0]), np.array([1.0]))
    with pytest.raises(ValueError):
        fit_speed_model(np.array([20.0]), np.array([100.0]), np.array([0]), np.array([0.0]))


# --- calibration: matching ------------------------------------------------------------------------

def test_match_follows_a_parallel_road_and_ignores_a_crossing_one():
    from shapely.geometry import LineString

    roads = np.array([LineString([(0, 0), (2000, 0)]),      # minor, east-west
                      LineString([(700, -900), (700, 900)])],  # trunk, north-south
                     dtype=object)
    traces = np.array([LineString([(100, 12), (1500, 12)]),   # along the minor road, 12 m off
                       LineString([(400, 300), (1000, 300)]),  # runs 300 m north of it
                       LineString([(690, -200), (690, 200)])],  # along the trunk
                      dtype=object)
    df = match_traces(traces, roads, np.array(["minor", "trunk"]), min_share=0.5)
    assert df["matched_class"].tolist() == ["minor", "", "trunk"]
    assert df.loc[0, "share_minor"] == pytest.approx(1.0, abs=0.02)
    # the trace crossing the trunk is near it for ~60 m of 600 m, never following it
    assert df.loc[1, "loose_class"] == "trunk" and df.loc[1, "share_trunk"] == 0.0
    assert df.loc[1, "loose_share"] == pytest.approx(0.1, abs=0.03)
    assert shapely.length(traces[0]) / 1000 == pytest.approx(df.loc[0, "length_km"])


# --- the real calibration run (needs ../shared) -----------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "roadlabpro_traces_northern14.geojson").is_file(),
                    reason="../shared/geodata-src not available")
def test_calibration_script_runs_and_writes_the_report(tmp_path, capsys):
    from geodata.calibration import main

    out = tmp_path / "speed-calibration.md"
    assert main(["--shared", str(SHARED), "--out", str(out), "--bootstrap", "20"]) == 0
    text = out.read_text(encoding="utf-8")
    for needle in ("Leave-one-out errors", "baseline (a)", "baseline (b)", "curvature_k",
                   "Traces per class", "tertiary", "mountain:"):
        assert needle in text
    printed = capsys.readouterr().out
    assert "MAE" in printed and "curvature_k" in printed
