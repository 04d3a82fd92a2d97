"""A solved plan written as files, and read back: ``plan.json`` (see
:mod:`planner.plan`), ``routes.geojson`` (the routes along the roads, with turn-by-turn legs)
and ``scenario.json`` (the resolved scenario the plan checker and the editor re-read).

Maps and printed sheets are drawn from these files by :mod:`render`; a plan folder with its
map is written by :func:`render.folder.write_plan_folder`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import numpy as np

from geodata.routing import leg_path
from planner.errors import PlanFileError
from planner.pipeline import Network
from planner.plan import Plan, read_plan
from planner.scenario import Scenario, parse_scenario

PLAN_FILE = "plan.json"
ROUTES_FILE = "routes.geojson"
SCENARIO_FILE = "scenario.json"


def routes_geojson(plan: Plan, net: Network) -> dict:
    """One LineString per route following the roads, plus depot, stop and unserved points."""
    features = []
    loc_index = {(p.kind, p.key): i for i, p in enumerate(net.places)}
    for r in plan.routes:
        depot_i = loc_index[("depot", r.depot_id)]
        features.append({"type": "Feature", "geometry": {"type": "Point",
                         "coordinates": [r.depot_lon, r.depot_lat]},
                         "properties": {"kind": "depot", "vehicle_id": r.vehicle_id,
                                        "name": r.depot_name}})
        if not r.visits:
            continue
        pg, mat = net.pgraphs[r.profile], net.matrices[r.profile]
        end_i = loc_index[("depot", r.end_depot_id)] if r.end_depot_id else depot_i
        seq = [depot_i] + [loc_index[("stop", v.commune_code)] for v in r.visits] + [end_i]
        coords: list[list[float]] = []
        legs = []
        for a, b in pairwise(seq):
            leg = leg_path(pg, mat, a, b)
            part = np.round(leg.coords, 6).tolist()
            coords.extend(part if not coords else part[1:])
            legs.append({"km": round(leg.length_m / 1000, 2), "directions": leg.directions})
        features.append({"type": "Feature", "geometry": {"type": "LineString",
                         "coordinates": coords},
                         "properties": {"kind": "route", "vehicle_id": r.vehicle_id,
                                        "vehicle_name": r.vehicle_name, "km": r.km,
                                        "legs": legs}})
        for v in r.visits:
            features.append({"type": "Feature", "geometry": {"type": "Point",
                             "coordinates": [v.lon, v.lat]},
                             "properties": {"kind": "stop", "vehicle_id": r.vehicle_id,
                                            "seq": v.seq, "commune_code": v.commune_code,
                                            "name": v.commune_name, "arrival": v.arrival,
                                            "departure": v.departure,
                                            "deliver_crates": v.deliver_crates,
                                            "collect_crates": v.collect_crates}})
    for u in plan.unserved:
        i = loc_index[("stop", u.commune_code)]
        loc = net.places[i]
        features.append({"type": "Feature", "geometry": {"type": "Point",
                         "coordinates": [loc.lon, loc.lat]},
                         "properties": {"kind": "unserved", "commune_code": u.commune_code,
                                        "name": u.commune_name, "reason": u.reason}})
    return {"type": "FeatureCollection", "features": features,
            "properties": {"attribution": plan.attribution}}


def write_outputs(plan: Plan, net: Network, scenario: Scenario, out_dir: Path) -> dict[str, Path]:
    """Write ``plan.json``, ``routes.geojson`` and ``scenario.json`` (the resolved scenario the
    plan checker re-reads) into ``out_dir``; each file is replaced atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"plan": out_dir / PLAN_FILE, "routes": out_dir / ROUTES_FILE,
             "scenario": out_dir / SCENARIO_FILE}
    _write_json(paths["scenario"], scenario.model_dump(mode="json"))
    _write_json(paths["routes"], routes_geojson(plan, net))
    plan.write(paths["plan"])
    return paths


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def load_scenario_for_plan(plan_path: Path) -> tuple[Scenario, str]:
    """The scenario a plan was made from: the ``scenario.json`` written beside it."""
    sc_path = plan_path.parent / SCENARIO_FILE
    if sc_path.is_file():
        data = json.loads(sc_path.read_text(encoding="utf-8"))
        return parse_scenario(data, file=str(sc_path)), str(sc_path)
    raise FileNotFoundError(sc_path)


def read_plan_folder(folder: Path) -> Plan:
    """The plan of a plan folder. A plan of format version 1 does not name the other end of
    its transfers (crates handed on between communes); they are taken from the
    ``scenario.json`` beside it."""
    plan = read_plan(Path(folder) / PLAN_FILE)
    if not any((v.transfer_collect_crates and not v.transfer_to)
               or (v.transfer_deliver_crates and not v.transfer_from)
               for r in plan.routes for v in r.visits):
        return plan
    try:
        scenario, _ = load_scenario_for_plan(Path(folder) / PLAN_FILE)
    except (FileNotFoundError, PlanFileError, ValueError):
        return plan
    to = {t.from_code: t.to_code for t in scenario.transfers}
    frm = {t.to_code: t.from_code for t in scenario.transfers}
    routes = tuple(replace(r, visits=tuple(
        replace(v, transfer_to=v.transfer_to or to.get(v.commune_code, ""),
                transfer_from=v.transfer_from or frm.get(v.commune_code, ""))
        for v in r.visits)) for r in plan.routes)
    return replace(plan, routes=routes)


__all__ = ["PLAN_FILE", "ROUTES_FILE", "SCENARIO_FILE", "load_scenario_for_plan",
           "read_plan_folder", "routes_geojson", "write_outputs"]
