"""A scenario to start from: ``planner scenario new``.

:func:`rank_by_remoteness` orders a dataset's communes by travel time from a library over
the road network (what ``planner communes --rank remoteness`` prints);
:func:`new_scenario_text` writes a commented YAML scenario a dispatcher edits: the most
remote share of the service area's communes as stops, the vehicles asked for at the
library, every other library of the dataset as a depot to pick, and every value that is
not known marked ASSUMPTION. It validates and solves as it is.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geodata.datasets import Dataset
from geodata.graphs import load_road_graph
from geodata.profiles import load_profiles
from geodata.routing import profile_graph, snap_points, travel_matrices
from planner.access import ERROR_M, WARN_M, counted_gaps_m, with_access_gaps
from planner.errors import PlannerError

# ASSUMPTION defaults per vehicle profile: crates carried (about 50 books a crate)
CAPACITY_CRATES = {"truck": 60, "van": 32, "motorbike": 6}
_VEHICLES = re.compile(r"^\s*([a-z_]+)\s*:\s*(\d{1,2})\s*$")


@dataclass(frozen=True)
class RankedCommune:
    code: str
    name: str
    hours: float  # travel time from the library, with the gaps a plan counts (inf: no road)
    km: float
    snap_m: float  # distance from its point to the road network
    # profiles whose roads come within planner.access.ERROR_M of its point
    reached_by: tuple[str, ...] = ()


def parse_vehicles(text: str, profiles: Sequence[str]) -> list[tuple[str, int]]:
    """``"truck:2,van:2"`` -> ``[("truck", 2), ("van", 2)]``; a ValueError naming the part."""
    out = []
    for part in text.split(","):
        m = _VEHICLES.match(part)
        if not m or m.group(1) not in profiles or not 1 <= int(m.group(2)) <= 50:
            raise ValueError(f"--vehicles {text!r}: {part.strip()!r} is not PROFILE:COUNT "
                             f"with a profile of {', '.join(profiles)} and 1-50 vehicles "
                             "(e.g. truck:2,van:2)")
        out.append((m.group(1), int(m.group(2))))
    return out


def rank_by_remoteness(dataset: Dataset, *, profile: str, library_index: int = 0,
                       also: Sequence[str] = ()) -> tuple[list[RankedCommune], float]:
    """The dataset's communes, farthest first by ``profile`` from library ``library_index``,
    and the library's own distance to the road network in metres; ``reached_by`` says which
    of ``profile`` and ``also`` have a road within 10 km of each commune. Times and km count
    the gaps between far points and the road as a plan does (:mod:`planner.access`)."""
    libs = dataset.libraries
    communes = dataset.communes
    graph, _ = load_road_graph(dataset)
    pg = profile_graph(graph, load_profiles()[profile])
    lib = libs.iloc[library_index]
    lon = np.r_[float(lib["lon"]), communes["lon"].to_numpy(float)]
    lat = np.r_[float(lib["lat"]), communes["lat"].to_numpy(float)]
    snap = snap_points(pg, lon, lat)
    mat = with_access_gaps(travel_matrices(pg, snap.node), counted_gaps_m(snap.distance_m))
    near = {profile: snap.distance_m[1:] <= ERROR_M}
    profiles = load_profiles()
    for other in dict.fromkeys(also):
        if other not in near:
            other_snap = snap_points(profile_graph(graph, profiles[other]), lon[1:], lat[1:])
            near[other] = other_snap.distance_m <= ERROR_M
    ranked = [RankedCommune(str(code), str(name), float(mat.time_s[0, i + 1] / 3600),
                            float(mat.distance_m[0, i + 1] / 1000), float(snap.distance_m[i + 1]),
                            tuple(p for p, ok in near.items() if ok[i]))
              for i, (code, name) in enumerate(zip(communes.index, communes["name"],
                                                   strict=True))]
    ranked.sort(key=lambda c: -c.hours)
    return ranked, float(snap.distance_m[0])


def _q(text: object) -> str:
    """A YAML double-quoted string."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "scenario"


def new_scenario_text(dataset: Dataset, *, network: str, share: float,
                      vehicles: Sequence[tuple[str, int]], days: int,
                      area_province: str | None, area_communes: Sequence[str],
                      library_id: str | None = None, start: dt.date | None = None,
                      name: str | None = None,
                      hub_candidates: Sequence[tuple[str, str, float, float]] = ()) -> str:
    """The YAML text of a new scenario (see the module doc). ``area_communes`` are the
    service area's communes; the stops are the most remote ``share`` of them that the road
    data reaches (at most 10 km from a road). ``hub_candidates`` (id, name, lon, lat: the
    former district seats) are listed as commented-out depots to uncomment."""
    if not 0 < share <= 1:
        raise PlannerError(f"--share {share}: give a share of the communes between 0 and 1 "
                           "(0.15 for the programme's 2026 target)")
    libs = dataset.libraries
    if len(libs) == 0:
        raise PlannerError(f"dataset {dataset.name} has no library to start trips from: "
                           "import it again with --libraries FILE (or --province NAME)")
    ids = libs["library_id"].astype(str).tolist()
    if library_id is not None and library_id not in ids:
        raise PlannerError(f"--library {library_id!r}: the dataset's libraries are "
                           f"{', '.join(ids)}")
    lib_index = ids.index(library_id) if library_id else 0
    first_profile = vehicles[0][0]
    used = tuple(dict.fromkeys(p for p, _ in vehicles))
    ranked, lib_snap = rank_by_remoteness(dataset, profile=first_profile,
                                          library_index=lib_index, also=used)
    if lib_snap > ERROR_M:
        raise PlannerError(f"library {ids[lib_index]} lies {lib_snap / 1000:.1f} km from the "
                           f"road network: choose another with --library ({', '.join(ids)}) "
                           "or import road data that reaches it")
    area = set(area_communes)
    reachable = [c for c in ranked if c.code in area and math.isfinite(c.hours)
                 and c.snap_m <= ERROR_M]
    left_out = [c for c in ranked if c.code in area and c not in reachable]
    wanted = math.ceil(round(share * len(area), 6))
    stops = reachable[:wanted]
    if not stops:
        raise PlannerError(f"no commune of the service area is reached by the road data of "
                           f"{dataset.name}: check the import's coverage report")
    start = start or _next_monday(dt.date.today())
    lib = libs.iloc[lib_index]
    title = f"{share:.0%} most remote communes, {days} days, from {lib['name']}"
    name = name or _slug(f"{dataset.name}-{start.isoformat()}")
    out = [
        f"# A scenario to start from, written by `planner scenario new` on "
        f"{dt.date.today().isoformat()}.",
        "# Schema: docs/scenario-schema.md (version 3). Every value marked ASSUMPTION is not",
        "# from a source: replace it with the library's own figures, then `planner validate`",
        "# and `planner solve` this file.",
        "schema_version: 3",
        f"name: {name}",
        f"title: {_q(title)}",
        "description: >",
        f"  The {len(stops)} communes of the service area farthest from the library by "
        f"{first_profile}",
        f"  travel time over the road network ({share:.0%} of {len(area)}, rounded up;"
        " `planner communes",
        f"  --network {network} --rank remoteness --profile {first_profile}`).",
        f"network: {_q(network)}",
    ]
    if area_province:
        out += ["service_area:                    # the communes the coverage KPIs count "
                "against", f"  province: {_q(area_province)}"]
    out += ["", "horizon:",
            f"  start_date: {start.isoformat()}          # ASSUMPTION: the next Monday",
            f"  days: {days}", "", "depots:"]
    for i, row in libs.iterrows():
        precision = row.get("location_precision_km")
        approx = str(row.get("location_method", "")).upper().startswith("APPROXIMATE") or (
            precision is not None and not (isinstance(precision, float)
                                           and math.isnan(precision)) and float(precision) > 0)
        out += [f"  - id: {_q(row['library_id'])}", f"    name: {_q(row['name'])}",
                f"    location: {{lon: {float(row['lon'])}, lat: {float(row['lat'])}}}"]
        if approx:
            out += ["    location_approximate: true",
                    f"    location_note: {_q('approximate point: ' + str(row.get('location_method', '')))}"]  # noqa: E501
        if i != libs.index[lib_index]:
            out.append("    # another library of the dataset: give it vehicles to plan from it")
    if hub_candidates:
        out += ["  # Hub candidates: the former district seats (the 2025 unit holding each former",
                "  # district's town; no district library is known there). Uncomment one and give",
                "  # it vehicles to plan trips from a hub.",
                *(f"  # - {{id: {_q(hid)}, name: {_q(hname)}, location: {{lon: {lon}, "
                  f"lat: {lat}}}, location_approximate: true}}"
                  for hid, hname, lon, lat in hub_candidates)]
    out += ["", "vehicles:"]
    for profile, count in vehicles:
        cap = CAPACITY_CRATES.get(profile, 20)
        out += [f"  - id: {profile}", f"    name: {_q(profile.capitalize())}",
                f"    profile: {profile}", f"    depot: {_q(ids[lib_index])}",
                f"    count: {count}",
                f"    capacity_crates: {cap}          # ASSUMPTION: crates of about 50 books",
                '    shift: {start: "07:00", end: "17:00"}   # ASSUMPTION: 10 h working day',
                f"    max_trip_days: {days}           # ASSUMPTION: trips may last the whole "
                "horizon, nights in the communes"]
    out += ["", "# ASSUMPTION: 5 crates delivered and collected per commune, 2 h on site, "
            "service within",
            "# commune office hours.", "stops:"]
    for c in stops:
        warn = (f"; ASSUMPTION: point {c.snap_m / 1000:.1f} km from a road, gap counted"
                if c.snap_m > WARN_M else "")
        only = ("" if set(used) <= set(c.reached_by) else
                f" allowed_profiles: [{', '.join(p for p in used if p in c.reached_by)}],")
        out.append(f"  - {{commune_code: {_q(c.code)}, deliver_crates: 5, collect_crates: 5, "
                   f"service_minutes: 120,{only}  # {c.name}, {c.hours:.1f} h{warn}")
        out.append('     time_windows: [{start: "07:30", end: "11:30"}, '
                   '{start: "13:30", end: "16:00"}]}')
    if len(stops) < wanted:
        out.append(f"# only {len(stops)} of the {wanted} communes asked for are reached by "
                   "the road data")
    if left_out:
        out.append(f"# not reached by the road data (more than {ERROR_M / 1000:.0f} km from "
                   f"a road, or cut off): {', '.join(f'{c.code} {c.name}' for c in left_out[:20])}"  # noqa: E501
                   + (" ..." if len(left_out) > 20 else ""))
    out += ["", "solver:", "  time_limit_s: 30                # ASSUMPTION: enough for a "
            "first plan", ""]
    return "\n".join(out)


def _next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)


__all__ = ["CAPACITY_CRATES", "RankedCommune", "new_scenario_text", "parse_vehicles",
           "rank_by_remoteness"]


def starter_scenario_text(dataset: Dataset, *, network: str, share: float,
                          vehicles: Sequence[tuple[str, int]], days: int,
                          library_id: str | None = None, start: dt.date | None = None,
                          name: str | None = None) -> tuple[str, str | None]:
    """:func:`new_scenario_text` for ``dataset`` with its province's service area and
    former district seats as hub candidates (what ``planner scenario new`` and a region
    sweep write), and the province's label (None for a dataset of no province)."""
    from geodata.region import load_region
    from planner.servicearea import dataset_province

    region = load_region()
    province = dataset_province(dataset, region)
    area = (sorted(str(c) for c in region.communes_of(province).index)
            if province is not None else [str(c) for c in dataset.communes.index])
    hubs = [] if province is None else [
        (f"hub-{row.district_code}", f"{row.district} ({row.commune_2025})", float(row.lon),
         float(row.lat)) for row in region.district_seats_of(province).itertuples()]
    text = new_scenario_text(dataset, network=network, share=share, vehicles=vehicles,
                             hub_candidates=hubs, days=days,
                             area_province=None if province is None else (
                                 f"former {province.name}" if province.kind == "former"
                                 else province.name),
                             area_communes=area, library_id=library_id, start=start, name=name)
    return text, None if province is None else province.label
