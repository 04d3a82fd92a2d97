"""Mountain speeds: curvature measure, speed model, slope.

Hand-checked cases first, then hypothesis properties on random polylines (metres, UTM-like
coordinates). The calibration of the model is tested in ``tests/tools``.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def test_curvature_of_very_long_polylines_keeps_its_turning_in_bounded_memory():
    # found by fuzzing the OSM importer: a node on the other side of the world made segments
    # of 12,000 km, each resampled every 20 m, and the graph build asked for tens of GB
    corner = np.array([[0.0, 0.0], [5e6, 0.0], [5e6, 5e6]])  # 10,000 km, one 90 degree turn
    coords = np.concatenate([corner + i for i in range(20)])
    ptr = np.arange(0, 61, 3)
    tracemalloc.start()
    try:
        c = segment_curvature(coords, ptr)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100e6, f"{peak / 1e6:.0f} MB"
    np.testing.assert_allclose(c, 90.0 / 10_000.0, rtol=1e-3)  # the turning is all there


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
