"""The real-scenario benchmark runner (benchmarks/scenarios) on its smallest instance with a
tiny time limit: every method solves, every plan is audited, results and best-known files
are written and read back."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.scenarios import bestknown, data, make_instances
from benchmarks.scenarios.bestknown import BestKnown
from benchmarks.scenarios.runner import (
    BASELINE,
    INSTANCES,
    Run,
    compare,
    load_instance,
    main,
    summary,
)

SMALLEST = "hg-12-remote-5d"


def _entry(**kw: object) -> BestKnown:
    base = BestKnown(instance="x", instance_sha256="d1", stops=10, served=8, cost_vnd=100.0,
                     km=1.0, method="product-10x", seed=0, time_limit_s=600.0, commit="abc",
                     command="python -m benchmarks.scenarios", date="2026-12-05")
    return replace(base, **kw)  # type: ignore[arg-type]


def test_a_best_known_file_is_replaced_only_by_a_better_plan(tmp_path: Path) -> None:
    assert bestknown.update(tmp_path, _entry())
    assert not bestknown.update(tmp_path, _entry(cost_vnd=101.0, method="baseline-10x"))
    assert not bestknown.update(tmp_path, _entry(served=7, cost_vnd=1.0))
    assert bestknown.update(tmp_path, _entry(served=8, cost_vnd=99.0, method="baseline-10x"))
    now = bestknown.read(tmp_path, "x")
    assert now is not None and (now.cost_vnd, now.method) == (99.0, "baseline-10x")
    assert now.replaces is not None and now.replaces["cost_vnd"] == 100.0  # says what it beat
    assert bestknown.update(tmp_path, _entry(served=9, cost_vnd=500.0))  # more served wins
    # an entry for another version of the instance is stale: any plan replaces it
    assert bestknown.update(tmp_path, _entry(instance_sha256="d2", served=1, cost_vnd=9e9))


def test_the_reference_is_the_file_or_else_the_runs_best() -> None:
    def run(method: str, served: int, cost: float, findings: list[str] | None = None) -> Run:
        return Run(instance="x", method=method, seed=0, time_limit_s=1.0, stops=10,
                   served=served, cost_vnd=cost, findings=findings or [],
                   instance_sha256="d1", progress=[(0.5, 0, served - 1), (0.9, 0, served)])

    runs = [run("product", 8, 110.0), run("baseline", 8, 100.0), run("bad", 9, 1.0, ["[x]"])]
    compare(runs, None)  # the plan with findings is no reference
    assert [(r.ref_source, r.ref_served, r.gap_pct) for r in runs[:2]] == [
        ("run", 8, 10.0), ("run", 8, 0.0)]
    assert runs[0].t_first_s == 0.9
    compare(runs, _entry(served=9, cost_vnd=90.0))
    assert [(r.ref_source, r.gap_pct, r.t_first_s) for r in runs[:2]] == [
        ("file", None, None), ("file", None, None)]  # fewer served: no cost gap, never reached
    # the best-known routes timed by today's rules: the cheaper of that and the file
    compare(runs, _entry(served=8, cost_vnd=110.0), retimed=100.0)
    assert [(r.ref_source, r.ref_cost_vnd, r.gap_pct) for r in runs[:2]] == [
        ("retimed", 100.0, 10.0), ("retimed", 100.0, 0.0)]
    compare(runs, _entry(served=8, cost_vnd=100.0), retimed=120.0)
    assert [(r.ref_source, r.gap_pct) for r in runs[:2]] == [("file", 10.0), ("file", 0.0)]


def test_several_seeds_are_summed_up_per_method_and_shown_per_instance(
        capsys: pytest.CaptureFixture[str]) -> None:
    def run(instance: str, seed: int, served: int, gap: float | None) -> Run:
        return Run(instance=instance, method="product", seed=seed, time_limit_s=60.0,
                   stops=30, served=served, cost_vnd=1.0, ref_served=27, gap_pct=gap)

    runs = [run("a", 0, 27, 1.5), run("a", 1, 26, None), run("b", 0, 27, 0.5),
            run("b", 1, 27, 2.5)]
    lines = summary(runs).splitlines()
    assert lines[0].startswith("product        served as the reference: 3/4 (2 seeds); "
                               "cost gap mean 1.50%, worst 2.50%")
    assert lines[1:] == ["  a                    ref 27: 27 +1.50%, 26",
                         "  b                    ref 27: 27 +0.50%, 27 +2.50%"]
    assert summary(runs[:1]).count("\n") == 0  # one seed: no spread to show
    with pytest.raises(SystemExit):
        main([str(INSTANCES), "--seed", "0,x"])
    assert "give a seed or comma-separated seeds" in capsys.readouterr().err


def test_the_baseline_is_one_plain_ortools_process_on_the_same_model() -> None:
    product = load_instance(INSTANCES / f"{SMALLEST}.yaml", "product")
    baseline = load_instance(INSTANCES / f"{SMALLEST}.yaml", "baseline")
    assert baseline.stops == product.stops and baseline.vehicles == product.vehicles
    for key, value in BASELINE.items():
        assert getattr(baseline.solver, key) == value
    assert product.solver.workers == 2 and product.solver.seed_with_pyvrp


@pytest.mark.slow
def test_the_runner_solves_audits_and_keeps_best_known_plans(tmp_path: Path) -> None:
    known, out = tmp_path / "best-known", tmp_path / "res"
    common = [str(INSTANCES), "--instances", SMALLEST, "--best-known", str(known)]
    assert main([*common, "--time-limit", "0.1", "--make-best-known", "--seeds", "1",
                 "--out", str(out / "bk")]) == 0
    made = json.loads((out / "bk.json").read_text(encoding="utf-8"))
    assert [r["method"] for r in made["runs"]] == ["product-10x", "baseline-10x"]
    entry = bestknown.read(known, SMALLEST)
    assert entry is not None and entry.stops == 12 and entry.command.endswith("--seeds 1 "
                                                                             f"--out {out}/bk")
    best = min((r for r in made["runs"] if not r["findings"]),
               key=lambda r: (-r["served"], r["cost_vnd"]))
    assert (entry.served, entry.cost_vnd, entry.method) == (best["served"], best["cost_vnd"],
                                                            best["method"])
    assert sum(len(codes) for codes in entry.routes.values()) == entry.served

    assert main([*common, "--time-limit", "0.3", "--no-baseline", "--seed", "0,1",
                 "--out", str(out / "run")]) == 0
    runs = json.loads((out / "run.json").read_text(encoding="utf-8"))["runs"]
    assert [(r["method"], r["seed"]) for r in runs] == [("product", 0), ("product", 1)]
    for r in runs + made["runs"]:
        assert not r["error"] and r["findings"] == [] and 0 <= r["served"] <= 12
        if r["served"]:  # the communes served, as the progress callback saw them
            assert r["progress"] and r["progress"][-1][2] == r["served"]
    r = runs[0]
    # the file's plan, or the same routes timed by today's rules where that is cheaper
    assert r["ref_source"] in ("file", "retimed") and r["ref_served"] == entry.served
    assert (r["ref_source"] == "file") == (r["ref_cost_vnd"] == entry.cost_vnd)
    assert r["ref_cost_vnd"] <= entry.cost_vnd
    if r["served"] == entry.served:
        assert r["gap_pct"] == pytest.approx(
            100 * (r["cost_vnd"] - r["ref_cost_vnd"]) / r["ref_cost_vnd"], abs=1e-3)
        assert r["t_first_s"] is not None and r["t_first_s"] <= r["solve_s"]
    else:
        assert r["gap_pct"] is None
    rows = (out / "run.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 3 and rows[0].startswith("instance,stops,method")


def test_a_missing_benchmark_dataset_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(data.BenchDataError, match=r"benchmarks\.scenarios build --src"):
        data.ensure({"tuyen_quang_core"}, src=tmp_path / "no-sources", data_dir=tmp_path)
    data.ensure({"ha_giang", "cao_bang"}, src=tmp_path / "no-sources", data_dir=tmp_path)
    assert not any(tmp_path.iterdir())  # embedded datasets need nothing built


def test_the_committed_instances_are_what_their_rules_write(tmp_path: Path) -> None:
    """The instances on the embedded datasets read the same as `make-instances` writes them
    (the Tuyên Quang ones need the built dataset and are left to the maintainer's run)."""
    specs = [s for s in make_instances.specs() if s.network != "tuyen_quang_core"]
    for spec in specs:
        written = make_instances.to_yaml(make_instances.scenario_of(spec))
        committed = (INSTANCES / f"{spec.name}.yaml").read_text(encoding="utf-8")
        assert committed.endswith(written), spec.name
    default = make_instances.to_yaml(make_instances.default_scenario())
    assert (INSTANCES / "hg-12-remote-5d.yaml").read_text(encoding="utf-8").endswith(default)
    assert len(list(INSTANCES.glob("*.yaml"))) == len(make_instances.specs()) + 1 >= 8


def test_the_commit_names_the_changed_files_but_the_runners_own(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.org")
    git("config", "user.name", "t")
    own = tmp_path / "benchmarks/scenarios/best-known/x.json"
    own.parent.mkdir(parents=True)
    own.write_text("{}")
    (tmp_path / "solver.py").write_text("a = 1\n")
    git("add", "-A")
    git("commit", "-qm", "c")
    monkeypatch.setattr(bestknown, "ROOT", tmp_path)
    head = bestknown.git_commit()
    assert len(head) == 40 and "+" not in head
    own.write_text('{"served": 1}')  # a best-known file the same run wrote
    assert bestknown.git_commit() == head
    (tmp_path / "solver.py").write_text("a = 2\n")
    assert bestknown.git_commit() == f"{head}+dirty: solver.py"
