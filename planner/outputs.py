"""A solved plan written as files, and read back: ``plan.json`` (see
:mod:`planner.plan`), ``routes.geojson`` (the routes along the roads, with turn-by-turn legs),
``scenario.json`` (the resolved scenario the plan checker and the editor re-read) and
``matrices.npz`` (the travel matrices among the plan's places, so that a plan can be edited,
re-timed and checked without building the road network).

Maps and printed sheets are drawn from these files by :mod:`render`; a plan folder with its
map is written by :func:`render.folder.write_plan_folder`.
"""

from __future__ import annotations

import json
import math
import shutil
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from geodata.routing import Matrices, ProfileGraph, leg_path
from planner.errors import PlanFileError
from planner.pipeline import Network
from planner.plan import Plan, Route, read_plan
from planner.problem import DatedMatrices, Place, slowest_period
from planner.scenario import ROTATION_PATHS, Scenario, load_scenario_json

PLAN_FILE = "plan.json"
ROUTES_FILE = "routes.geojson"
SCENARIO_FILE = "scenario.json"
ROTATION_DIR = "rotation"  # copies of the batch files a plan was made from
MATRICES_FILE = "matrices.npz"


def routes_geojson(plan: Plan, net: Network) -> dict[str, Any]:
    """One LineString per route following the roads, plus depot, stop and unserved points."""
    index = {(p.kind, p.key): i for i, p in enumerate(net.places)}
    lines = []
    for r in plan.routes:
        if not r.visits:
            continue
        coords: list[list[float]] = []
        legs = []
        seq = _sequence(r, index)
        times = [r.depart_s] + [t for v in r.visits for t in (v.arrival_s, v.departure_s)] + [
            r.return_s]
        for n, (a, b) in enumerate(pairwise(seq)):
            pg, mat = _leg_roads(net, r.profile, a, b, times[2 * n], times[2 * n + 1])
            leg = leg_path(pg, mat, a, b)
            part = np.round(leg.coords, 6).tolist()
            coords.extend(part if not coords else part[1:])
            legs.append({"km": round(leg.length_m / 1000, 2), "directions": leg.directions})
        lines.append(_route_feature(r, coords, legs))
    return _collection(plan, lines, net.places)


def _leg_roads(net: Network, profile: str, a: int, b: int, leave_s: int, arrive_s: int
               ) -> tuple[ProfileGraph, Matrices]:
    """The road graph and matrices a leg was driven on: those of its road period when
    conditions change within the horizon (:func:`planner.problem.slowest_period`)."""
    if not net.periods:
        return net.pgraphs[profile], net.matrices[profile]
    i = slowest_period([(p.first_day, p.last_day) for p in net.periods],
                       [float(p.matrices[profile].time_s[a, b]) for p in net.periods],
                       leave_s, arrive_s)
    return net.periods[i].pgraphs[profile], net.periods[i].matrices[profile]


def edited_routes_geojson(plan: Plan, places: Sequence[Place], previous: Mapping[str, Any] | None,
                          changed: Iterable[str]) -> dict[str, Any]:
    """``routes.geojson`` of a plan edited by hand, drawn without the road network: the
    routes of vehicles not in ``changed`` keep their lines from ``previous`` (the edited
    plan's file); a changed route runs in straight legs between its stops, marked
    ``approximate`` (no directions), until :func:`refresh_route_geometry` draws it along the
    roads."""
    changed = set(changed)
    kept = {f["properties"].get("vehicle_id"): f for f in (previous or {}).get("features", ())
            if f.get("properties", {}).get("kind") == "route"}
    index = {(p.kind, p.key): i for i, p in enumerate(places)}
    lines = []
    for r in plan.routes:
        if not r.visits:
            continue
        if r.key not in changed and r.key in kept:
            lines.append(kept[r.key])
            continue
        seq = _sequence(r, index)
        coords = [[round(places[i].lon, 6), round(places[i].lat, 6)] for i in seq]
        legs = [{"km": v.leg_km, "directions": []} for v in r.visits]
        legs.append({"km": r.return_leg_km, "directions": []})
        lines.append(_route_feature(r, coords, legs, approximate=True))
    return _collection(plan, lines, places)


def _sequence(r: Route, index: Mapping[tuple[str, str], int]) -> list[int]:
    """Place indices of a route: its depot, its stops, the depot it ends at."""
    depot = index[("depot", r.depot_id)]
    end = index[("depot", r.end_depot_id)] if r.end_depot_id else depot
    return [depot] + [index[("stop", v.commune_code)] for v in r.visits] + [end]


def _route_feature(r: Route, coords: list[list[float]], legs: list[dict[str, Any]], *,
                   approximate: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {"kind": "route", "vehicle_id": r.key,
                             "vehicle_name": r.vehicle_name, "km": r.km, "legs": legs}
    if approximate:
        props["approximate"] = True
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
            "properties": props}


def _collection(plan: Plan, lines: list[dict[str, Any]], places: Sequence[Place]
                ) -> dict[str, Any]:
    """The route lines with the depot, stop and unserved points of ``plan``."""
    index = {(p.kind, p.key): i for i, p in enumerate(places)}
    lines_of = {f["properties"]["vehicle_id"]: f for f in lines}
    features: list[dict[str, Any]] = []
    for r in plan.routes:
        features.append({"type": "Feature", "geometry": {"type": "Point",
                         "coordinates": [r.depot_lon, r.depot_lat]},
                         "properties": {"kind": "depot", "vehicle_id": r.key,
                                        "name": r.depot_name}})
        if not r.visits:
            continue
        features.append(lines_of[r.key])
        for v in r.visits:
            features.append({"type": "Feature", "geometry": {"type": "Point",
                             "coordinates": [v.lon, v.lat]},
                             "properties": {"kind": "stop", "vehicle_id": r.key,
                                            "seq": v.seq, "commune_code": v.commune_code,
                                            "name": v.commune_name, "arrival": v.arrival,
                                            "departure": v.departure,
                                            "deliver_crates": v.deliver_crates,
                                            "collect_crates": v.collect_crates}})
    for u in plan.unserved:
        place = places[index[("stop", u.commune_code)]]
        features.append({"type": "Feature", "geometry": {"type": "Point",
                         "coordinates": [place.lon, place.lat]},
                         "properties": {"kind": "unserved", "commune_code": u.commune_code,
                                        "name": u.commune_name, "reason": u.reason}})
    return {"type": "FeatureCollection", "features": features,
            "properties": {"attribution": plan.attribution}}


def write_outputs(plan: Plan, net: Network, scenario: Scenario, out_dir: Path) -> dict[str, Path]:
    """Write ``plan.json``, ``routes.geojson``, ``scenario.json`` (the resolved scenario the
    plan checker re-reads) and ``matrices.npz`` (what editing the plan needs, see
    :func:`read_matrices`) into ``out_dir``; each file is replaced atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"plan": out_dir / PLAN_FILE, "routes": out_dir / ROUTES_FILE,
             "scenario": out_dir / SCENARIO_FILE, "matrices": out_dir / MATRICES_FILE}
    _write_json(paths["scenario"], _with_rotation_copies(scenario, out_dir).model_dump(
        mode="json"))
    _write_json(paths["routes"], routes_geojson(plan, net))
    write_matrices(PlanMatrices.of(net, scenario), paths["matrices"])
    plan.write(paths["plan"])
    return paths


def write_edited_outputs(plan: Plan, source: Path, out_dir: Path, *, places: Sequence[Place],
                         changed: Iterable[str]) -> dict[str, Path]:
    """Write a plan edited by hand from the plan folder ``source`` into ``out_dir``, with
    no road network: ``plan.json``, the same ``scenario.json`` and ``matrices.npz``, and
    ``routes.geojson`` from :func:`edited_routes_geojson` (the ``changed`` routes
    approximate)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"plan": out_dir / PLAN_FILE, "routes": out_dir / ROUTES_FILE,
             "scenario": out_dir / SCENARIO_FILE, "matrices": out_dir / MATRICES_FILE}
    for key in ("scenario", "matrices"):
        shutil.copyfile(Path(source) / paths[key].name, paths[key])
    if (Path(source) / ROTATION_DIR).is_dir():
        shutil.copytree(Path(source) / ROTATION_DIR, out_dir / ROTATION_DIR,
                        dirs_exist_ok=True)
    try:
        previous = json.loads((Path(source) / ROUTES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = None
    _write_json(paths["routes"], edited_routes_geojson(plan, places, previous, changed))
    plan.write(paths["plan"])
    return paths


_POINT_KINDS = frozenset({"stop", "depot", "unserved"})


def _position_ok(c: Any) -> bool:
    return (isinstance(c, list) and len(c) >= 2
            and all(isinstance(x, int | float) and not isinstance(x, bool)
                    and math.isfinite(x) for x in c[:2]))


def _geometry_problem(kind: str, geometry: Any) -> str | None:
    if geometry is None:
        return None
    if not isinstance(geometry, dict):
        return "the geometry is not an object"
    gtype, coords = geometry.get("type"), geometry.get("coordinates")
    if kind in _POINT_KINDS:
        return None if gtype == "Point" and _position_ok(coords) else \
            f"a {kind} is not a Point with [lon, lat]"
    if kind == "route":
        lines = [coords] if gtype == "LineString" else coords if gtype == "MultiLineString" \
            else None
        if not isinstance(lines, list) or not all(
                isinstance(line, list) and len(line) >= 2 and all(map(_position_ok, line))
                for line in lines):
            return "a route is not a LineString or MultiLineString of [lon, lat]"
    return None


def _legs_problem(legs: Any) -> str | None:
    if legs is None:
        return None
    if not isinstance(legs, list) or not all(isinstance(leg, dict) for leg in legs):
        return "`legs` is not a list of objects"
    for leg in legs:
        steps = leg.get("directions")
        if steps is None:
            continue
        if not isinstance(steps, list) or not all(
                isinstance(d, dict) and isinstance(d.get("km") or 0, int | float)
                and all(isinstance(d.get(k) or "", str) for k in ("name", "ref", "road_class"))
                for d in steps):
            return "`directions` of a leg are not steps with name, ref, road_class and km"
    return None


def check_routes_geojson(data: Any, *, file: str = ROUTES_FILE) -> None:
    """Raise :class:`PlanFileError` unless ``data`` (a parsed ``routes.geojson``) has the
    shape :func:`routes_geojson` writes and its readers (maps, sheets, exports) rely on: a
    FeatureCollection whose features have ``properties`` with a text ``kind`` and
    ``vehicle_id``, Points for stops, depots and unserved communes, lines for routes."""
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise PlanFileError(f"{file}: not a GeoJSON FeatureCollection")
    for i, f in enumerate(features):
        props = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(props, dict):
            problem: str | None = "no `properties` object"
        elif not isinstance(props.get("kind"), str) or \
                not isinstance(props.get("vehicle_id", ""), str):
            problem = "`kind` or `vehicle_id` is not text"
        else:
            problem = _geometry_problem(props["kind"], f.get("geometry")) or \
                _legs_problem(props.get("legs"))
        if problem:
            raise PlanFileError(f"{file}: feature {i}: {problem}; run `planner solve` to "
                                "write it again")


def has_approximate_routes(routes: Mapping[str, Any] | None) -> bool:
    """Whether a route of a parsed ``routes.geojson`` is drawn in straight legs (see
    :func:`edited_routes_geojson`)."""
    return any(f.get("properties", {}).get("approximate")
               for f in (routes or {}).get("features", ()))


@dataclass(frozen=True, eq=False)
class PlanMatrices:
    """The travel matrices among a plan's places, per vehicle profile (``inf`` where there is
    no road), with the places and the digest of the scenario they were computed for: all that
    re-timing and checking the plan needs, without the road network."""

    scenario_digest: str
    places: tuple[Place, ...]
    profiles: tuple[str, ...]
    time_s: Mapping[str, np.ndarray]
    distance_m: Mapping[str, np.ndarray]
    periods: tuple[DatedMatrices, ...] = ()  # road conditions that change within the horizon

    @classmethod
    def of(cls, net: Network, scenario: Scenario) -> PlanMatrices:
        return cls(scenario.digest, net.places, net.profiles,
                   {p: net.matrices[p].time_s for p in net.profiles},
                   {p: net.matrices[p].distance_m for p in net.profiles}, net.dated())


def write_matrices(matrices: PlanMatrices, path: Path) -> None:
    """Write ``matrices`` as a compressed NumPy archive (no pickles: read back with
    ``allow_pickle=False``), atomically."""
    meta = {"scenario_digest": matrices.scenario_digest, "profiles": list(matrices.profiles),
            "places": [asdict(p) for p in matrices.places],
            "periods": [[p.first_day, p.last_day] for p in matrices.periods]}
    arrays: dict[str, Any] = {}
    for prefix, time_s, distance_m in [("", matrices.time_s, matrices.distance_m)] + [
            (f"period.{j}.", p.time_s, p.distance_m) for j, p in enumerate(matrices.periods)]:
        for i, p in enumerate(matrices.profiles):
            arrays[f"{prefix}time_s.{i}"] = np.asarray(time_s[p], dtype=float)
            arrays[f"{prefix}distance_m.{i}"] = np.asarray(distance_m[p], dtype=float)
    tmp = path.with_name(path.name + ".tmp.npz")
    arrays["meta"] = np.array(json.dumps(meta, ensure_ascii=False))
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def read_matrices(folder: Path) -> PlanMatrices | None:
    """The matrices written beside a plan, or ``None`` when the folder has none (a plan
    written before they were) or they cannot be read."""
    try:
        with np.load(Path(folder) / MATRICES_FILE, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            profiles = tuple(str(p) for p in meta["profiles"])

            def mats(prefix: str, kind: str) -> dict[str, np.ndarray]:
                return {p: data[f"{prefix}{kind}.{i}"] for i, p in enumerate(profiles)}

            periods = tuple(
                DatedMatrices(int(a), int(b), mats(f"period.{j}.", "time_s"),
                              mats(f"period.{j}.", "distance_m"))
                for j, (a, b) in enumerate(meta.get("periods", ())))
            return PlanMatrices(
                scenario_digest=str(meta["scenario_digest"]),
                places=tuple(Place(**p) for p in meta["places"]), profiles=profiles,
                time_s=mats("", "time_s"), distance_m=mats("", "distance_m"),
                periods=periods)
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile):
        return None


def refresh_route_geometry(folder: Path) -> None:
    """Draw every route of the plan in ``folder`` along the roads again (``routes.geojson``)
    and write its matrices: the work an edit leaves to a background job, since it needs the
    road network."""
    from planner.pipeline import prepare_network

    folder = Path(folder)
    scenario, scenario_file = load_scenario_for_plan(folder / PLAN_FILE)
    net = prepare_network(scenario, scenario_file=scenario_file)
    plan = read_plan_folder(folder)
    _write_json(folder / ROUTES_FILE, routes_geojson(plan, net))
    write_matrices(PlanMatrices.of(net, scenario), folder / MATRICES_FILE)


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def _with_rotation_copies(scenario: Scenario, out_dir: Path) -> Scenario:
    """``scenario`` reading its batch files from copies in ``out_dir/rotation`` (named by
    path relative to the plan folder), so that a plan folder holds what it was made from:
    ``planner check`` and edits read the same files later, wherever the originals went."""
    spec = scenario.rotation
    if spec is None:
        return scenario
    folder = out_dir / ROTATION_DIR
    folder.mkdir(exist_ok=True)
    update: dict[str, str] = {}
    for key in ROTATION_PATHS:
        source = getattr(spec, key)
        if source:
            name = f"{key}{Path(source).suffix.lower() or '.csv'}"
            shutil.copyfile(source, folder / name)
            update[key] = f"{ROTATION_DIR}/{name}"
    return scenario.model_copy(update={"rotation": spec.model_copy(update=update)})


def load_scenario_for_plan(plan_path: Path) -> tuple[Scenario, str]:
    """The scenario a plan was made from: the ``scenario.json`` written beside it (its batch
    files, copied into the plan folder, found there)."""
    sc_path = plan_path.parent / SCENARIO_FILE
    if not sc_path.is_file():
        raise FileNotFoundError(sc_path)
    scenario = load_scenario_json(sc_path)
    spec = scenario.rotation
    if spec is None:
        return scenario, str(sc_path)
    resolved = {key: str((plan_path.parent / value).resolve()) for key in ROTATION_PATHS
                if (value := getattr(spec, key)) and not Path(value).is_absolute()}
    return (scenario.model_copy(update={"rotation": spec.model_copy(update=resolved)}),
            str(sc_path))


def read_plan_folder(folder: Path) -> Plan:
    """The plan of a plan folder. A plan of format version 1 does not name the other end of
    its transfers (crates handed on between communes); they are taken from the
    ``scenario.json`` beside it."""
    plan = read_plan(Path(folder) / PLAN_FILE)
    if not any((v.transfer_collect_crates and not v.transfers_to)
               or (v.transfer_deliver_crates and not v.transfers_from)
               for r in plan.routes for v in r.visits):
        return plan
    try:
        scenario, _ = load_scenario_for_plan(Path(folder) / PLAN_FILE)
    except (FileNotFoundError, PlanFileError, ValueError):
        return plan
    routes = tuple(replace(r, visits=tuple(
        replace(v, transfers_to=v.transfers_to or tuple(
                    (t.to_code, t.crates) for t in scenario.transfers
                    if t.from_code == v.commune_code),
                transfers_from=v.transfers_from or tuple(
                    (t.from_code, t.crates) for t in scenario.transfers
                    if t.to_code == v.commune_code))
        for v in r.visits)) for r in plan.routes)
    return replace(plan, routes=routes)


__all__ = ["MATRICES_FILE", "PLAN_FILE", "ROTATION_DIR", "ROUTES_FILE", "SCENARIO_FILE",
           "PlanMatrices",
           "check_routes_geojson", "edited_routes_geojson", "has_approximate_routes",
           "load_scenario_for_plan",
           "read_matrices", "read_plan_folder", "refresh_route_geometry", "routes_geojson",
           "write_edited_outputs", "write_matrices", "write_outputs"]
