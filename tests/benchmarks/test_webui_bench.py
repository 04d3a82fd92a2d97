"""The web UI benchmark's 73-stop plan: every commune once, readable by the plan reader,
with road geometry and directions for every leg."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.webui import build_plan
from planner.plan import read_plan


@pytest.mark.slow
def test_build_plan_visits_every_commune_once(tmp_path: Path) -> None:
    out = build_plan(tmp_path / "bench-73", vehicles=4)
    plan = read_plan(out / "plan.json")
    codes = [v.commune_code for r in plan.routes for v in r.visits]
    assert len(codes) == len(set(codes)) == 73
    assert len(plan.routes) == 4 and all(r.visits for r in plan.routes)
    for r in plan.routes:
        times = [t for v in r.visits for t in (v.arrival_s, v.departure_s)]
        assert times == sorted(times) and r.depart_s <= times[0] < times[-1] < r.return_s
        assert [v.seq for v in r.visits] == list(range(1, len(r.visits) + 1))
    routes = json.loads((out / "routes.geojson").read_text(encoding="utf-8"))
    lines = [f for f in routes["features"] if f["properties"]["kind"] == "route"]
    assert len(lines) == 4
    for line, r in zip(lines, plan.routes, strict=True):
        assert len(line["properties"]["legs"]) == len(r.visits) + 1
        assert len(line["geometry"]["coordinates"]) > 100
