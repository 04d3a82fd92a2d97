"""Turn-by-turn directions of a route, derived from its road geometry.

A leg's directions in ``routes.geojson`` list the roads it takes, in order, with their km;
its line follows the roads. :func:`leg_instructions` puts the two together: where the route
changes road it measures the turn on the line (:mod:`geodata.directions`), and between two
changes it lists the villages the line passes (the dataset's named places). Each instruction
has a coordinate, so a driver without signal can check a junction on a GPS.

Language-neutral: the pages word each instruction (:meth:`render.i18n.Translator.instruction`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from geodata.datasets import Place, load_dataset
from geodata.directions import (
    bearing_deg,
    compass,
    cumulative_m,
    places_along,
    point_at,
    split_by_lengths,
    turn_angle_deg,
    turn_class,
)
from geodata.errors import GeodataError
from render.routeview import DirectionStep, RouteView, summarise_directions

log = logging.getLogger(__name__)

PLACES_WITHIN_M = 400.0  # a village this close to the road is "passed"
LANDMARK_WITHIN_M = 250.0  # a place or landmark this close to a junction names it
MAX_VILLAGES = 4  # per instruction, the first ones passed
SNAP_WITHIN_M = 60.0  # a road change is put on the line's nearest vertex this close


@dataclass(frozen=True)
class Instruction:
    """One instruction of a leg: at ``at_km`` (from the leg's start, at ``lon``/``lat``) take
    ``road`` with the ``turn`` (``depart``, ``straight``, ``slight_left``, ``left``,
    ``sharp_left``, ``uturn``, ``slight_right``, ``right``, ``sharp_right``; ``arrive`` at the
    end, with no road), then drive ``km`` to the next instruction passing ``villages``."""

    number: int
    turn: str
    angle_deg: float  # the change of heading, + to the right
    heading: str  # compass direction taken (``n`` ... ``nw``)
    road: DirectionStep | None
    km: float
    at_km: float
    lon: float
    lat: float
    villages: tuple[str, ...] = ()
    near: str = ""  # a named place or landmark at the junction


def leg_instructions(coords: np.ndarray, directions: Sequence[Mapping[str, Any]],
                     places: Sequence[Place] = (), *, destination: str = ""
                     ) -> tuple[Instruction, ...]:
    """The instructions of one leg: its line ``coords`` (lon/lat) and its roads
    ``directions`` (``routes.geojson``'s, in order); ``places`` name the villages passed and
    the junctions; the last instruction arrives at ``destination``.

    The kilometres are the roads' (as the directions give them): the instructions add up to
    the leg's length. A road change is placed on the line at its share of the way (the line's
    own length differs from the roads' by rounding only)."""
    steps = summarise_directions(directions)
    coords = np.asarray(coords, dtype=float)
    if not steps or len(coords) < 2:
        return ()
    cum = cumulative_m(coords)
    total_km = steps[-1].cumulative_km
    scale = cum[-1] / (total_km * 1000) if total_km > 0 else 0.0
    village_pts = [p for p in places if p.layer == "place"]
    passed = places_along(coords, cum, np.array([[p.lon, p.lat] for p in village_pts]
                                                ).reshape(-1, 2), within_m=PLACES_WITHIN_M)
    landmarks = np.array([[p.lon, p.lat] for p in places]).reshape(-1, 2)
    out: list[Instruction] = []
    start_km = 0.0
    for i, step in enumerate(steps):
        at_m = _snap(cum, start_km * 1000 * scale)
        end_m = step.cumulative_km * 1000 * scale
        lon, lat = point_at(coords, cum, at_m)
        ahead = point_at(coords, cum, at_m + 200.0)
        heading = compass(bearing_deg((lon, lat), ahead)) if ahead != (lon, lat) else ""
        if i == 0:
            turn, angle = "depart", 0.0
        else:
            angle = turn_angle_deg(coords, cum, at_m)
            turn = turn_class(angle)
        near = _near(landmarks, places, lon, lat)
        names: list[str] = []
        for j, along in passed:
            name = village_pts[j].name
            if at_m <= along < end_m and name not in names and name != near:
                names.append(name)
        out.append(Instruction(number=i + 1, turn=turn, angle_deg=round(angle),
                               heading=heading, road=step,
                               km=round(step.cumulative_km - start_km, 1),
                               at_km=round(start_km, 1), lon=round(lon, 5), lat=round(lat, 5),
                               villages=tuple(names[:MAX_VILLAGES]), near=near))
        start_km = step.cumulative_km
    lon, lat = (float(coords[-1][0]), float(coords[-1][1]))
    out.append(Instruction(number=len(steps) + 1, turn="arrive", angle_deg=0, heading="",
                           road=None, km=0.0, at_km=round(total_km, 1), lon=round(lon, 5),
                           lat=round(lat, 5), near=destination))
    return tuple(out)


def _snap(cum: np.ndarray, at_m: float, *, within_m: float = SNAP_WITHIN_M) -> float:
    """``at_m`` moved to the nearest vertex of the line within ``within_m`` (junctions are
    vertices; the roads' and the line's lengths differ by a fraction of a percent)."""
    i = int(np.argmin(np.abs(cum - at_m)))
    return float(cum[i]) if abs(cum[i] - at_m) <= within_m else at_m


def _near(points: np.ndarray, places: Sequence[Place], lon: float, lat: float) -> str:
    """The name of the place or landmark nearest to a junction, if within reach."""
    if not len(points):
        return ""
    k = np.cos(np.radians(lat)) * 111_195.0
    d = np.hypot((points[:, 0] - lon) * k, (points[:, 1] - lat) * 111_195.0)
    i = int(np.argmin(d))
    return places[i].name if d[i] <= LANDMARK_WITHIN_M else ""


@functools.lru_cache(maxsize=4)
def dataset_places(network: str) -> tuple[Place, ...]:
    """The named places of dataset ``network`` (none if it cannot be read or has none)."""
    try:
        return load_dataset(network).places
    except (GeodataError, OSError, ValueError) as exc:
        log.warning("no places of dataset %r for the directions: %s", network, exc)
        return ()


def view_instructions(view: RouteView, routes: Mapping[str, Any] | None, network: str
                      ) -> tuple[tuple[Instruction, ...], ...] | None:
    """The instructions of every leg of a route view (its stops, then the way back)."""
    destinations = [s.visit.commune_name for s in view.stops] + [view.end_depot_name]
    return route_instructions(routes, view.route.key, destinations,
                              dataset_places(network))


def route_leg_lines(routes: Mapping[str, Any] | None, vehicle_id: str
                    ) -> list[np.ndarray] | None:
    """The line of each leg of ``vehicle_id``'s route in a parsed ``routes.geojson``: the
    route's line cut at the legs' lengths; ``None`` when the file has no usable line."""
    for f in (routes or {}).get("features", []):
        props = f.get("properties") or {}
        if props.get("kind") != "route" or props.get("vehicle_id") != vehicle_id:
            continue
        geom = f.get("geometry") or {}
        legs = props.get("legs") or []
        if geom.get("type") != "LineString" or not legs or props.get("approximate"):
            return None
        coords = np.asarray(geom.get("coordinates") or [], dtype=float)
        if coords.ndim != 2 or len(coords) < 2:
            return None
        lengths = [max(float(leg.get("km") or 0.0), 0.0) * 1000 for leg in legs]
        return split_by_lengths(coords[:, :2], lengths)
    return None


def route_instructions(routes: Mapping[str, Any] | None, vehicle_id: str,
                       destinations: Sequence[str], places: Sequence[Place] = ()
                       ) -> tuple[tuple[Instruction, ...], ...] | None:
    """The instructions of every leg of a route (``destinations``: where each leg ends, in
    order, the depot last); ``None`` when ``routes`` has no line or directions for it."""
    lines = route_leg_lines(routes, vehicle_id)
    legs = next((f["properties"].get("legs") for f in (routes or {}).get("features", [])
                 if (f.get("properties") or {}).get("kind") == "route"
                 and f["properties"].get("vehicle_id") == vehicle_id), None)
    if lines is None or not legs or len(legs) != len(destinations):
        return None
    return tuple(leg_instructions(line, leg.get("directions") or [], places, destination=dest)
                 for line, leg, dest in zip(lines, legs, destinations, strict=True))


__all__ = ["Instruction", "dataset_places", "leg_instructions", "route_instructions",
           "route_leg_lines", "view_instructions"]
