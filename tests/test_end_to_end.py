"""End to end on the embedded data: `planner solve` then `planner check`, and the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main
from planner.check import check_plan
from planner.outputs import load_scenario_for_plan
from planner.pipeline import prepare_network, problem_for
from planner.plan import PLAN_FORMAT_VERSION, read_plan

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "ha-giang-2026.yaml"


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Solve the default scenario twice (cold, then warm cache) with a short time limit."""
    mp = pytest.MonkeyPatch()
    cache = tmp_path_factory.mktemp("e2e-cache")
    mp.setenv("PLANNER_CACHE_DIR", str(cache))
    out1, out2 = tmp_path_factory.mktemp("run1"), tmp_path_factory.mktemp("run2")
    try:
        assert main(["solve", str(DEFAULT), "--out", str(out1), "--time-limit", "3"]) == 0
        assert main(["solve", str(DEFAULT), "--out", str(out2), "--time-limit", "3"]) == 0
        yield {"out": out1, "out2": out2, "cache": cache}
    finally:
        mp.undo()


def test_default_plan_serves_the_selected_communes_and_passes_the_checker(solved: dict,
                                                                         monkeypatch) -> None:
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(solved["cache"]))
    plan_path = solved["out"] / "plan.json"
    plan = read_plan(plan_path)
    scenario, sc_file = load_scenario_for_plan(plan_path)
    net = prepare_network(scenario, scenario_file=sc_file)
    violations = check_plan(scenario, problem_for(scenario, net), plan)
    assert violations == []
    served = sum(len(r.visits) for r in plan.routes)
    assert served + len(plan.unserved) == len(scenario.stops)
    assert plan.kpis.service_area_communes == 73
    assert plan.kpis.communes_served == served
    assert all(u.reason for u in plan.unserved)
    # multi-day trips to the far north: nights away, days numbered from the horizon start
    assert max(r.days for r in plan.routes) >= 2


def test_plan_json_is_versioned_and_records_provenance(solved: dict) -> None:
    data = json.loads((solved["out"] / "plan.json").read_text(encoding="utf-8"))
    assert data["format"] == "mobile-library-plan" and data["format_version"] == PLAN_FORMAT_VERSION
    prov = data["provenance"]
    for key in ("scenario_digest", "data_digest", "seed", "time_limit_s", "versions",
                "graph_report", "components", "solver_status"):
        assert key in prov
    assert prov["versions"]["ortools"] != "not installed"
    assert prov["graph_report"]["junctions"] > 50_000  # the real Hà Giang network
    visit = data["routes"][0]["visits"][0]
    assert visit["arrival"].endswith("+07:00")
    assert "© OpenStreetMap contributors" in data["attribution"]


def test_second_run_reuses_the_cached_graph_and_matrices(solved: dict) -> None:
    first = json.loads((solved["out"] / "plan.json").read_text(encoding="utf-8"))
    second = json.loads((solved["out2"] / "plan.json").read_text(encoding="utf-8"))
    assert first["provenance"]["cache"] == {"graph_hit": False, "matrices_hit": False}
    assert second["provenance"]["cache"] == {"graph_hit": True, "matrices_hit": True}


def test_routes_geojson_follows_the_roads(solved: dict) -> None:
    gj = json.loads((solved["out"] / "routes.geojson").read_text(encoding="utf-8"))
    plan = read_plan(solved["out"] / "plan.json")
    lines = [f for f in gj["features"] if f["properties"]["kind"] == "route"]
    assert len(lines) == sum(1 for r in plan.routes if r.visits)
    for f, r in zip(lines, [r for r in plan.routes if r.visits], strict=True):
        coords = f["geometry"]["coordinates"]
        assert len(coords) > 100  # road geometry, not straight lines between stops
        assert len(f["properties"]["legs"]) == len(r.visits) + 1
        legs_km = sum(leg["km"] for leg in f["properties"]["legs"])
        assert abs(legs_km - r.km) < 0.5 + 0.01 * r.km
    stops = [f for f in gj["features"] if f["properties"]["kind"] == "stop"]
    assert len(stops) == sum(len(r.visits) for r in plan.routes)


def test_map_html_is_written(solved: dict) -> None:
    html = (solved["out"] / "map.html").read_text(encoding="utf-8")
    assert "OpenStreetMap contributors" in html


def test_planner_check_cli(solved: dict, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(solved["cache"]))
    assert main(["check", str(solved["out"] / "plan.json")]) == 0
    assert "OK, no violations" in capsys.readouterr().out


def test_replan_with_nothing_changed_moves_nothing(solved: dict, monkeypatch, tmp_path,
                                                   capsys) -> None:
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(solved["cache"]))
    assert main(["replan", str(solved["out"]), "--out", str(tmp_path / "re"),
                 "--time-limit", "2"]) == 0
    assert "0 stops moved" in capsys.readouterr().out
    before = read_plan(solved["out"] / "plan.json")
    after = read_plan(tmp_path / "re" / "plan.json")
    assert after.provenance.replan is not None and after.provenance.replan.kept_unchanged
    assert [[v.commune_code for v in r.visits] for r in after.routes] == \
        [[v.commune_code for v in r.visits] for r in before.routes]


def test_replan_under_a_landslide_keeps_feasible_routes(solved: dict, monkeypatch, tmp_path,
                                                        capsys) -> None:
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(solved["cache"]))
    landslide = ROOT / "scenarios" / "ha-giang-2026-landslide.yaml"
    assert main(["replan", str(solved["out"]), "--scenario", str(landslide), "--out",
                 str(tmp_path / "ls"), "--time-limit", "3"]) == 0
    plan = read_plan(tmp_path / "ls" / "plan.json")
    assert plan.provenance.road_conditions is not None
    assert plan.provenance.road_conditions.closures == ("sat-lo-ma-pi-leng",)
    # the closure holds from Thursday 10 December only: two periods of road conditions
    assert [(p.first, p.last, p.closures) for p in plan.provenance.road_conditions.periods] == [
        ("2026-12-07", "2026-12-09", ()), ("2026-12-10", "2026-12-11", ("sat-lo-ma-pi-leng",))]
    r = plan.provenance.replan
    assert r is not None
    assert r.kept_unchanged or r.broken_routes  # a route moves only if it broke
    assert main(["check", str(tmp_path / "ls")]) == 0



def test_a_stored_plan_is_edited_and_checked_without_the_road_network(solved: dict,
                                                                       monkeypatch) -> None:
    """matrices.npz beside the plan is all editing needs: no graph, no matrices computed."""
    import geodata.graphs
    import planner.pipeline
    from planner.edit import MoveStop, apply_edit, check_stored_plan, edit_context
    from planner.outputs import edited_routes_geojson

    def no_graph(*_args: object) -> None:
        raise AssertionError("an edit must not build or load the road graph")

    for module in (geodata.graphs, planner.pipeline):
        monkeypatch.setattr(module, "load_road_graph", no_graph)
        monkeypatch.setattr(module, "cached_matrices", no_graph)
    plan = read_plan(solved["out"] / "plan.json")
    ctx = edit_context(solved["out"])
    assert check_stored_plan(plan, ctx) == ()
    truck, van = plan.routes[0], plan.routes[1]
    moved = truck.visits[-1].commune_code
    result = apply_edit(plan, ctx.scenario, ctx.problem, ctx.places,
                        MoveStop(moved, van.vehicle_id, 1))
    assert result.changed_vehicles == (truck.vehicle_id, van.vehicle_id)
    previous = json.loads((solved["out"] / "routes.geojson").read_text(encoding="utf-8"))
    drawn = edited_routes_geojson(result.plan, ctx.places, previous, result.changed_vehicles)
    lines = {f["properties"]["vehicle_id"]: f for f in drawn["features"]
             if f["properties"]["kind"] == "route"}
    assert lines[van.vehicle_id]["properties"]["approximate"] is True
    assert len(lines[van.vehicle_id]["geometry"]["coordinates"]) == len(van.visits) + 1 + 2
    stops = [f for f in drawn["features"] if f["properties"]["kind"] == "stop"]
    assert len(stops) == sum(len(r.visits) for r in result.plan.routes)


def test_route_geometry_is_drawn_again_along_the_roads(solved: dict, monkeypatch,
                                                       tmp_path: Path) -> None:
    import shutil

    from planner.outputs import MATRICES_FILE, ROUTES_FILE, refresh_route_geometry

    monkeypatch.setenv("PLANNER_CACHE_DIR", str(solved["cache"]))
    folder = tmp_path / "plan"
    shutil.copytree(solved["out"], folder)
    before = (folder / ROUTES_FILE).read_text(encoding="utf-8")
    (folder / ROUTES_FILE).write_text('{"type": "FeatureCollection", "features": []}')
    (folder / MATRICES_FILE).unlink()
    refresh_route_geometry(folder)
    assert json.loads((folder / ROUTES_FILE).read_text(encoding="utf-8")) == json.loads(before)
    assert (folder / MATRICES_FILE).is_file()


def test_a_plan_is_written_with_the_solver_times_where_they_cost_less(solved: dict,
                                                                      monkeypatch) -> None:
    """The default scenario's plan of a 20 s solve (`make demo`: its routes and the solver's
    service starts): the schedule's own times keep the second trip out longer than the
    solver's; the plan is written with the cheaper (13.97M VND against 14.32M), and keeps
    those times when re-timed with the same crates."""
    from planner.pipeline import _retimed, load_scenario, plan_cost_vnd
    from planner.plan import assemble_plan
    from planner.provenance import Provenance
    from planner.schedule import time_trips
    from planner.solution import RawSolution
    from planner.solve import crew_time, time_solution

    monkeypatch.setenv("PLANNER_CACHE_DIR", str(solved["cache"]))
    scenario = load_scenario(DEFAULT)
    net = prepare_network(scenario, scenario_file=str(DEFAULT))
    problem = problem_for(scenario, net)
    raw = RawSolution(routes=((12, 5, 7, 4, 2, 8), (6, 1, 3, 9, 11, 10)), objective=0,
                      status="SUCCESS", wall_s=0.0,
                      starts=((48686, 115840, 127569, 139480, 202186, 214200),
                              (135000, 199800, 211506, 223190, 286997, 298976)))
    own = time_trips(problem, raw.routes)
    guided = time_trips(problem, raw.routes, hints=raw.starts)
    assert all(t.feasible for t in own + guided)
    written = time_solution(problem, raw)
    assert crew_time(problem, written) == crew_time(problem, guided) < crew_time(problem, own)
    cost = plan_cost_vnd(scenario, net.places, problem, written)
    assert cost < plan_cost_vnd(scenario, net.places, problem, own)
    # after book batches are assigned the trips are re-timed with the assignment's crates:
    # with the same crates that changes nothing (it had timed them by the schedule's own)
    plan = assemble_plan(scenario, net.places, problem, written, [], Provenance(),
                         service_area_communes=73)
    again, fits = _retimed(scenario, plan, net)
    assert fits and again.kpis.cost_vnd == plan.kpis.cost_vnd == cost
    assert [[v.start_s for v in r.visits] for r in again.routes] == [
        [v.start_s for v in r.visits] for r in plan.routes]

