"""Scenario -> road graph -> snapped points -> matrices -> OR-Tools -> plan.

This is the one module that joins :mod:`geodata` and the planner. Each step is a named
function returning an immutable object; the road graph and the matrices are cached on disk
under digests of everything they were computed from.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

from geodata.cache import cached, digest_of
from geodata.closures import Closure, ClosureError, RoadConditions, Season, road_conditions
from geodata.datasets import Dataset, load_dataset
from geodata.elevation import ELEVATION_FILE, read_ascii_grid, segment_climbs
from geodata.network import GRAPH_FORMAT_VERSION, RoadGraph, build_road_graph
from geodata.profiles import load_profiles
from geodata.routing import (Matrices, ProfileGraph, leg_path, profile_graph, snap_points,
                             travel_matrices)
from planner import solve
from planner.explain import explain_unserved, precheck
from planner.kpis import plan_kpis
from planner.plan import Plan, Route, Unserved, Visit, clock
from planner.problem import DAY_S, RoutingProblem, build_problem
from planner.replan import count_changes, replan_setup
from planner.errors import Problem, ScenarioError
from planner.scenario import Scenario, check_against_data, load_scenario
from planner.schedule import RouteTiming, time_route

log = logging.getLogger(__name__)
SNAP_WARN_M = 2000.0


@dataclass(frozen=True)
class Location:
    kind: str  # "depot" | "stop"
    key: str  # depot id or commune code
    name: str
    lon: float
    lat: float


@dataclass(frozen=True, eq=False)
class Network:
    """Everything geographic a solve needs, per vehicle profile."""

    dataset: Dataset
    graph: RoadGraph
    graph_cache_hit: bool
    locations: tuple[Location, ...]
    profiles: tuple[str, ...]
    pgraphs: dict[str, ProfileGraph]
    matrices: dict[str, Matrices]
    snap_m: dict[str, np.ndarray]
    matrix_cache_hit: bool
    timings_s: dict[str, float]
    conditions: RoadConditions | None = None
    cut_off: dict[int, str] = field(default_factory=dict)  # location -> closures that cut it off


def load_road_graph(dataset: Dataset) -> tuple[RoadGraph, bool]:
    """The dataset's junction graph, from the cache when its data has not changed; with
    per-segment climb and descent when the dataset has an elevation grid."""
    elevation = dataset.file(ELEVATION_FILE)
    elev_digest = (hashlib.sha256(elevation.read_bytes()).hexdigest()[:16]
                   if elevation.is_file() else "")
    key = digest_of("graph", GRAPH_FORMAT_VERSION, dataset.digest, elev_digest)

    def build() -> RoadGraph:
        graph = build_road_graph(dataset.roads(), source_digest=dataset.digest + elev_digest)
        if elevation.is_file():
            climb, descent, covered = segment_climbs(graph.seg_coords, graph.seg_coord_ptr,
                                                     read_ascii_grid(elevation))
            graph.extra.update(seg_climb_m=climb, seg_descent_m=descent)
            log.info("elevation %s covers %.0f%% of road vertices", elevation, covered * 100)
        return graph

    return cached("graphs", key, build)


def locate(scenario: Scenario, dataset: Dataset) -> tuple[Location, ...]:
    communes = dataset.communes
    out = []
    for d in scenario.depots:
        if d.location is not None:
            lon, lat = d.location.lon, d.location.lat
        else:
            row = communes.loc[d.commune_code]
            lon, lat = float(row["lon"]), float(row["lat"])
        out.append(Location("depot", d.id, d.name, lon, lat))
    for s in scenario.stops:
        row = communes.loc[s.commune_code]
        lon, lat = ((s.location.lon, s.location.lat) if s.location is not None
                    else (float(row["lon"]), float(row["lat"])))
        out.append(Location("stop", s.commune_code, str(row["name"]), lon, lat))
    return tuple(out)


def conditions_for(scenario: Scenario, graph: RoadGraph, *, scenario_file: str = "<scenario>"
                   ) -> RoadConditions:
    """Closures in force during the horizon and the season's slow-down, as speed factors."""
    spec = scenario.road_conditions
    closures = []
    for c in spec.closures:
        geom = None
        if c.area:
            from shapely.geometry import Polygon
            geom = Polygon(c.area)
        elif c.line:
            from shapely.geometry import LineString
            geom = LineString(c.line)
        between = ((c.between[0].lon, c.between[0].lat),
                   (c.between[1].lon, c.between[1].lat)) if c.between else None
        closures.append(Closure(id=c.id, speed_factor=c.speed_factor, start=c.start, end=c.end,
                                ref=c.ref, between=between, geometry=geom,
                                tolerance_m=c.tolerance_m, way_ids=c.way_ids, note=c.note))
    season = {"auto": Season(), "dry": None, "rainy": Season(months=tuple(range(1, 13)))}[
        spec.season]
    first = scenario.horizon.start_date
    last = scenario.horizon.date_of(scenario.horizon.days - 1)
    try:
        return road_conditions(graph, tuple(closures), first=first, last=last, season=season)
    except ClosureError as exc:
        ids = [c.id for c in spec.closures]
        bad = next((i for i, cid in enumerate(ids) if repr(cid) in str(exc)), 0)
        raise ScenarioError([Problem(scenario_file, f"road_conditions.closures[{bad}]",
                                     ids[bad] if ids else None, str(exc))]) from None


def prepare_network(scenario: Scenario, *, scenario_file: str = "<scenario>") -> Network:
    """Load the dataset and graph, snap every location per profile, compute matrices."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    dataset = load_dataset(scenario.network)
    profiles_all = load_profiles()
    check_against_data(scenario, commune_codes=set(dataset.communes.index),
                       profiles=set(profiles_all), file=scenario_file)
    graph, graph_hit = load_road_graph(dataset)
    timings["graph_s"] = time.perf_counter() - t0
    locations = locate(scenario, dataset)
    lon = np.array([loc.lon for loc in locations])
    lat = np.array([loc.lat for loc in locations])
    profiles = tuple(dict.fromkeys(v.profile for v in scenario.vehicles))
    pgraphs, mats, snaps = {}, {}, {}
    all_hit = True
    t1 = time.perf_counter()
    conditions = conditions_for(scenario, graph, scenario_file=scenario_file)
    cut_off: dict[int, str] = {}
    for name in profiles:
        open_pg = profile_graph(graph, profiles_all[name])
        pg = open_pg if conditions.is_normal else profile_graph(
            graph, profiles_all[name], speed_factor=conditions.factor)
        snap = snap_points(open_pg, lon, lat)  # a closure may cut a commune off: keep its node
        far = [f"{loc.name} ({d / 1000:.1f} km)" for loc, d in zip(locations, snap.distance_m)
               if d > SNAP_WARN_M]
        if far:
            log.warning("profile %s: %d location(s) lie more than %.0f km from the road network: "
                        "%s", name, len(far), SNAP_WARN_M / 1000, ", ".join(far))
        key = digest_of("matrix", graph.source_digest, GRAPH_FORMAT_VERSION,
                        profiles_all[name].digest, snap.node, conditions.digest)
        mat, hit = cached("matrices", key, lambda pg=pg, snap=snap: travel_matrices(pg, snap.node))
        all_hit &= hit
        if not conditions.is_normal and conditions.closures:
            open_key = digest_of("matrix", graph.source_digest, GRAPH_FORMAT_VERSION,
                                 profiles_all[name].digest, snap.node, "open")
            open_mat, _ = cached("matrices", open_key,
                                 lambda pg=open_pg, snap=snap: travel_matrices(pg, snap.node))
            n_dep = len(scenario.depots)
            was = np.isfinite(open_mat.time_s[:n_dep]).any(0) & np.isfinite(
                open_mat.time_s[:, :n_dep]).any(1)
            now = np.isfinite(mat.time_s[:n_dep]).any(0) & np.isfinite(
                mat.time_s[:, :n_dep]).any(1)
            for loc in np.flatnonzero(was & ~now).tolist():
                if loc >= n_dep:
                    cut_off[loc] = ", ".join(conditions.closures)
                    log.warning("profile %s: %s is cut off by road closures %s", name,
                                locations[loc].name, cut_off[loc])
        pgraphs[name], mats[name], snaps[name] = pg, mat, snap.distance_m
    timings["matrices_s"] = time.perf_counter() - t1
    return Network(dataset=dataset, graph=graph, graph_cache_hit=graph_hit, locations=locations,
                   profiles=profiles, pgraphs=pgraphs, matrices=mats, snap_m=snaps,
                   matrix_cache_hit=all_hit, timings_s=timings, conditions=conditions,
                   cut_off=cut_off)


def problem_for(scenario: Scenario, net: Network) -> RoutingProblem:
    return build_problem(scenario, profiles=net.profiles,
                         time_s={p: net.matrices[p].time_s for p in net.profiles},
                         distance_m={p: net.matrices[p].distance_m for p in net.profiles})


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("mobile-library-planner", "ortools", "pyvrp", "numpy", "scipy", "networkx",
                "geopandas", "shapely", "pyproj"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def build_plan(scenario: Scenario, locations: tuple[Location, ...], problem: RoutingProblem,
               timings: list[RouteTiming], unserved: list[Unserved], provenance: dict, *,
               service_area_communes: int, notes: tuple[str, ...] = (),
               attribution: str = "") -> Plan:
    """Assemble a :class:`Plan` from timed routes (no geography needed beyond the points)."""
    start_date = scenario.horizon.start_date
    stops_by_code = {s.commune_code: s for s in scenario.stops}
    routes = []
    for timing in timings:
        vs = problem.vehicles[timing.vehicle]
        spec = scenario.vehicles[vs.scenario_index]
        depot = scenario.depots[vs.start]
        dep_loc = locations[vs.start]
        visits = []
        for seq, tv in enumerate(timing.visits, start=1):
            loc = locations[tv.location]
            stop = stops_by_code[loc.key]
            visits.append(Visit(
                seq=seq, commune_code=loc.key, commune_name=loc.name, lon=loc.lon, lat=loc.lat,
                day=tv.start_s // DAY_S, arrival_s=tv.arrival_s, start_s=tv.start_s,
                departure_s=tv.departure_s, arrival=clock(start_date, tv.arrival_s),
                departure=clock(start_date, tv.departure_s), deliver_crates=stop.deliver_crates,
                collect_crates=stop.collect_crates, load_after_crates=tv.load_after,
                leg_km=round(tv.leg_distance_m / 1000, 2),
                leg_hours=round(tv.leg_travel_s / 3600, 2), night_before=tv.night_before,
                nights_on_road=tv.nights_on_road, roadside_pauses=tv.roadside_pauses,
                contact=stop.contact, note=stop.note,
                transfer_collect_crates=sum(t.crates for t in scenario.transfers
                                            if t.from_code == loc.key),
                transfer_deliver_crates=sum(t.crates for t in scenario.transfers
                                            if t.to_code == loc.key)))
        legs = list(timing.visits) + [timing.return_leg]
        driving_s = sum(tv.leg_travel_s for tv in legs) if timing.visits else 0
        km = sum(tv.leg_distance_m for tv in legs) / 1000 if timing.visits else 0.0
        ret = timing.return_leg
        return_s = ret.arrival_s if timing.visits else timing.depart_s
        routes.append(Route(
            vehicle_id=vs.id, vehicle_name=spec.name, profile=spec.profile, depot_id=depot.id,
            depot_name=depot.name, depot_lon=dep_loc.lon, depot_lat=dep_loc.lat,
            driver=spec.driver, capacity_crates=vs.capacity, depart_s=timing.depart_s,
            depart=clock(start_date, timing.depart_s), return_s=return_s,
            return_time=clock(start_date, return_s), load_start_crates=timing.load_start,
            return_leg_km=round(ret.leg_distance_m / 1000, 2) if timing.visits else 0.0,
            return_leg_hours=round(ret.leg_travel_s / 3600, 2) if timing.visits else 0.0,
            return_night_before=ret.night_before if timing.visits else False,
            return_nights_on_road=ret.nights_on_road if timing.visits else 0,
            visits=tuple(visits), km=round(km, 1), driving_hours=round(driving_s / 3600, 2),
            duration_hours=round((return_s - timing.depart_s) / 3600, 2),
            days=(return_s // DAY_S - timing.depart_s // DAY_S + 1) if timing.visits else 0,
            nights=(return_s // DAY_S - timing.depart_s // DAY_S) if timing.visits else 0,
            depot_location_approximate=depot.location_approximate,
            depot_location_note=depot.location_note, vehicle_phone=spec.phone,
            return_roadside_pauses=ret.roadside_pauses if timing.visits else 0,
            end_depot_id=scenario.depots[vs.end].id if vs.end != vs.start else "",
            end_depot_name=scenario.depots[vs.end].name if vs.end != vs.start else "",
            breaks_s=tuple(timing.breaks) if timing.visits else (),
        ))
    kpis = plan_kpis(scenario, problem, routes, unserved,
                     service_area_communes=service_area_communes)
    notes = tuple(notes) + tuple(
        f"{d.name}: {d.location_note or 'location approximate'}"
        for d in scenario.depots if d.location_approximate)
    return Plan(scenario_name=scenario.name, scenario_title=scenario.title,
                start_date=start_date, horizon_days=scenario.horizon.days,
                network=scenario.network, routes=tuple(routes), unserved=tuple(unserved),
                kpis=kpis, provenance=provenance, notes=notes, attribution=attribution)


def solve_scenario(scenario: Scenario, *, scenario_file: str = "<scenario>",
                   time_limit_s: float | None = None, seed: int | None = None,
                   solution_limit: int | None = None,
                   on_progress: Callable[[float, int], None] | None = None,
                   previous: Plan | None = None, done: frozenset[str] = frozenset(),
                   locked: frozenset[str] = frozenset()) -> tuple[Plan, Network]:
    """Run the whole pipeline and return the plan and the network it was planned on.

    With ``previous`` it re-plans from that plan (see :mod:`planner.replan`): visits
    ``done`` and ``locked`` stay on their vehicles, and routes still feasible stay as they
    are."""
    t0 = time.perf_counter()
    net = prepare_network(scenario, scenario_file=scenario_file)
    problem = problem_for(scenario, net)
    params = solve.SolverParams.from_settings(scenario.solver, time_limit_s=time_limit_s,
                                              seed=seed, solution_limit=solution_limit)
    names, codes = [loc.name for loc in net.locations], [loc.key for loc in net.locations]
    blocked = precheck(problem, names=names, codes=codes, profiles=net.profiles,
                       cut_off=net.cut_off)
    for u in blocked:
        log.warning("before solving: %s %s cannot be served: %s", u.commune_code,
                    u.commune_name, u.reason)
    replan: dict = {}
    setup = None
    if previous is not None:
        setup = replan_setup(problem, [loc.key for loc in net.locations], previous,
                             done=done, locked=locked)
    if setup is not None and setup.keep:
        raw = solve.RawSolution(routes=setup.previous, objective=-1,
                                status="KEPT_PREVIOUS_PLAN", wall_s=0.0)
    else:
        raw = solve.solve(problem, params, on_progress=on_progress,
                          constraints=setup.constraints if setup else None)
    if setup is not None and previous is not None:
        replan = {"base_plan_created_at": previous.created_at,
                  "base_scenario": previous.scenario_name, "kept_unchanged": setup.keep,
                  "broken_routes": list(setup.broken_vehicles),
                  "new_stops": list(setup.new_stops), "dropped_stops": list(setup.dropped_stops),
                  "done": sorted(done), "locked": sorted(locked),
                  **count_changes(setup.previous, raw.routes)}
    timings = solve.time_solution(problem, raw)
    served = {loc for r in raw.routes for loc in r}
    unserved = explain_unserved(problem, timings, served,
                                names=[loc.name for loc in net.locations],
                                codes=[loc.key for loc in net.locations],
                                profiles=net.profiles, cut_off=net.cut_off)
    snaps = {p: [{"key": loc.key, "snap_m": round(float(d), 1)}
                 for loc, d in zip(net.locations, net.snap_m[p])] for p in net.profiles}
    provenance = {
        "scenario_digest": scenario.digest,
        "scenario_file": scenario_file,
        "data_digest": net.dataset.digest,
        "network": scenario.network,
        "seed": params.seed,
        "time_limit_s": params.time_limit_s,
        "solution_limit": params.solution_limit,
        "first_solution": params.first_solution,
        "local_search": params.local_search,
        "workers": params.workers,
        "search_strategy": raw.strategy,
        "search_local_search": raw.local_search,
        "iterated_local_search_skipped": solve.iterated_search_skipped(
            problem, params, setup.constraints if setup else None),
        "precheck": [{"commune_code": u.commune_code, "reason_code": u.reason_code,
                      "reason": u.reason} for u in blocked],
        "pyvrp_seed_skipped": solve.seeding_possible(problem, params,
                                                     setup.constraints if setup else None),
        "solver_status": raw.status,
        "objective": raw.objective,
        "solve_wall_s": round(raw.wall_s, 3),
        "progress": [list(p) for p in raw.progress],
        "graph_report": net.graph.report.as_dict(),
        "components": {p: net.pgraphs[p].report.as_dict() for p in net.profiles},
        "snapping": snaps,
        "cache": {"graph_hit": net.graph_cache_hit, "matrices_hit": net.matrix_cache_hit},
        "road_conditions": {"season": net.conditions.season if net.conditions else "",
                            "closures": list(net.conditions.closures) if net.conditions else [],
                            "closed_km": net.conditions.closed_km if net.conditions else 0.0,
                            "cut_off": {net.locations[i].key: why
                                        for i, why in net.cut_off.items()}},
        "timings_s": {**{k: round(v, 3) for k, v in net.timings_s.items()},
                      "total_s": round(time.perf_counter() - t0, 3)},
        "versions": _versions(),
        **({"replan": replan} if replan else {}),
    }
    plan = build_plan(scenario, net.locations, problem, timings, unserved, provenance,
                      service_area_communes=len(net.dataset.communes),
                      notes=tuple(net.dataset.notes), attribution=net.dataset.attribution)
    return plan, net


__all__ = ["solve_scenario", "prepare_network", "load_scenario", "problem_for"]
