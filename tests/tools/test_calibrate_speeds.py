"""The speed calibration (``tools/calibrate_speeds.py``): its fitting functions on synthetic
data with known parameters, trace matching, and the real run (which needs
../shared/geodata-src and is skipped without it)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely

from tools.calibrate_speeds import (
    CLASSES,
    complete_by_neighbours,
    error_stats,
    fit_class_means,
    fit_constant,
    fit_speed_model,
    loo_predict,
    match_traces,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "geodata-src"

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
    from tools.calibrate_speeds import main

    out = tmp_path / "speed-calibration.md"
    assert main(["--shared", str(SHARED), "--out", str(out), "--bootstrap", "20"]) == 0
    text = out.read_text(encoding="utf-8")
    for needle in ("Leave-one-out errors", "baseline (a)", "baseline (b)", "curvature_k",
                   "Traces per class", "tertiary", "mountain:"):
        assert needle in text
    printed = capsys.readouterr().out
    assert "MAE" in printed and "curvature_k" in printed
    # the speeds the report derives are the ones the product uses
    from geodata.profiles import load_profiles

    for name, profile in load_profiles().items():
        line = next(ln for ln in text.split(f"\n{name}:\n", 1)[1].splitlines()
                    if "speeds_kmh" in ln)
        speeds = dict(part.split(": ") for part in line.split("{", 1)[1].rstrip("}").split(", "))
        calibrated = {k: float(v) for k, v in speeds.items()}
        # motorways and ferries have no survey traces: their speeds are stated assumptions
        # in geodata/profiles.yaml, beside the calibrated ones
        assumed = {k: v for k, v in profile.speeds_kmh.items() if k not in calibrated}
        assert set(assumed) <= {"motorway", "ferry"}, name
        assert calibrated == {k: v for k, v in profile.speeds_kmh.items()
                              if k in calibrated}, name
