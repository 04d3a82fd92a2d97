"""Write the real-scenario benchmark instances (``benchmarks/scenarios/instances/*.yaml``).

    python -m benchmarks.scenarios make-instances [--out benchmarks/scenarios/instances]

The YAML files are committed; this is how they were made, so that a maintainer can see the
rule behind each one and make more. Communes are picked by a stated rule (nearest to or
farthest from the library in a straight line, or all of them), never by hand; every value
not taken from the data is an ASSUMPTION, as in the shipped scenarios. The Tuyên Quang
instances need the benchmark dataset (``python -m benchmarks.scenarios build``).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.scenarios.data import benchmark_data
from geodata.datasets import load_dataset

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = ROOT / "scenarios" / "ha-giang-2026.yaml"
INSTANCES = Path(__file__).resolve().parent / "instances"

TWO_WINDOWS = [{"start": "07:30", "end": "11:30"}, {"start": "13:30", "end": "16:00"}]
LUNCH = [{"start": "11:00", "end": "13:30", "minutes": 45}]

HA_GIANG = {"id": "tv-ha-giang", "name": "Thư viện tỉnh Hà Giang", "commune_code": "00691",
            "location": {"lon": 104.963, "lat": 22.8605}, "location_approximate": True,
            "location_note": "approximate point (about 5 km): the ward that absorbed the former "
                             "city centre", "opening": {"start": "07:00", "end": "17:00"}}
CAO_BANG = {"id": "tv-cao-bang", "name": "Thư viện tỉnh Cao Bằng", "commune_code": "01273",
            "location": {"lon": 106.189, "lat": 22.6777}, "location_approximate": True,
            "location_note": "approximate point (about 5 km): the ward that absorbed the former "
                             "city centre", "opening": {"start": "07:00", "end": "17:00"}}
TUYEN_QUANG = {"id": "tv-tuyen-quang", "name": "Thư viện tỉnh Tuyên Quang",
               "commune_code": "02215", "location": {"lon": 105.185, "lat": 21.8257},
               "location_approximate": True,
               "location_note": "approximate point (about 5 km): the ward that absorbed the "
                                "former city centre", "opening": {"start": "07:00", "end": "17:00"}}

# ASSUMPTION: the default scenario's rates per profile (scenarios/ha-giang-2026.yaml)
RATES: dict[str, dict[str, Any]] = {"truck": {"fuel_l_per_100km": 15, "cost_vnd_per_km": 5000},
         "van": {"fuel_l_per_100km": 10, "cost_vnd_per_km": 3500},
         "motorbike": {"fuel": "gasoline", "fuel_l_per_100km": 3, "cost_vnd_per_km": 1200}}


def vehicle(vid: str, profile: str, depot: str, capacity: int, *, days: int, count: int = 1,
            caps: bool = True, breaks: bool = False, driving_h: float | None = None,
            per_trip: int = 0) -> dict[str, Any]:
    v: dict[str, Any] = {"id": vid, "name": f"{profile} {vid}", "profile": profile,
                         "depot": depot, "count": count, "capacity_crates": capacity,
                         "shift": {"start": "07:00", "end": "17:00"}, "max_trip_days": days,
                         **RATES[profile], "cost_vnd_per_hour": 60000,
                         "cost_vnd_per_night": 300000}
    if count == 1:
        del v["count"]
    v["max_continuous_driving_hours"] = 4 if caps else None
    if caps:
        v["continuous_driving_rest_minutes"] = 15
    if breaks:
        v["breaks"] = copy.deepcopy(LUNCH)
    if driving_h is not None:
        v["max_driving_hours_per_day"] = driving_h
    if per_trip:
        v["cost_vnd_per_trip"] = per_trip
    return v


@dataclass
class Spec:
    """One instance: which communes (``pick``: nearest | farthest | all, ``n`` of them, the
    library's ward left out) of which dataset, and what to add to the scenario."""

    name: str
    title: str
    network: str
    depots: list[dict[str, Any]]
    vehicles: list[dict[str, Any]]
    days: int
    pick: str
    n: int
    start_date: str = "2026-12-07"  # a Monday
    crates: tuple[int, int] = (2, 2)
    service_minutes: int = 90
    every_nth_no_lodging: int = 0     # every k-th commune (in pick order) has no lodging
    every_nth_market: int = 0         # every k-th commune: one window, on two weekdays only
    drifting_markets: int = 0         # the first k communes: a 6-day market cycle ("chợ lùi")
    profiles_only: dict[int, list[str]] = field(default_factory=dict)  # pick index -> profiles
    transfers: int = 0                # hand-ons between consecutive picked communes
    closures: list[dict[str, Any]] = field(default_factory=list)
    season: str | None = None
    description: str = ""


MARKET_DAYS = (["mon", "thu"], ["tue", "fri"], ["wed", "sat"], ["thu", "sun"], ["fri", "mon"])


def _picked(spec: Spec) -> list[tuple[str, str]]:
    communes = load_dataset(spec.network).communes
    depot_codes = {d["commune_code"] for d in spec.depots}
    communes = communes[~communes["commune_code"].isin(depot_codes)]
    lon, lat = spec.depots[0]["location"]["lon"], spec.depots[0]["location"]["lat"]
    kx = math.cos(math.radians(lat))
    dist = ((communes.geometry.x - lon) * kx) ** 2 + (communes.geometry.y - lat) ** 2
    order = dist.sort_values(kind="stable").index
    rows = communes.loc[order]
    if spec.pick == "farthest":
        rows = rows.iloc[::-1]
    rows = rows.head(spec.n) if spec.pick != "all" else rows
    return [(str(r.commune_code), str(r.name)) for r in rows.itertuples()]


def scenario_of(spec: Spec) -> dict[str, Any]:
    picked = _picked(spec)
    stops = []
    for i, (code, _name) in enumerate(picked):
        stop: dict[str, Any] = {"commune_code": code, "deliver_crates": spec.crates[0],
                                "collect_crates": spec.crates[1],
                                "service_minutes": spec.service_minutes,
                                "time_windows": copy.deepcopy(TWO_WINDOWS)}
        if i < spec.drifting_markets:
            stop["time_windows"] = [{"start": "07:30", "end": "11:00", "every_days": 6,
                                     "anchor": spec.start_date}]
            stop["note"] = "ASSUMPTION: market day every 6 days (chợ lùi)"
        elif spec.every_nth_market and i % spec.every_nth_market == spec.every_nth_market - 1:
            days = MARKET_DAYS[(i // spec.every_nth_market) % len(MARKET_DAYS)]
            stop["time_windows"] = [{"start": "07:30", "end": "11:30", "weekdays": days}]
            stop["note"] = "ASSUMPTION: served on market days only"
        if spec.every_nth_no_lodging and i % spec.every_nth_no_lodging == 1:
            stop["lodging"] = False
        if i in spec.profiles_only:
            stop["allowed_profiles"] = spec.profiles_only[i]
        stops.append(stop)
    transfers = [{"from": picked[2 * k][0], "to": picked[2 * k + 1][0], "crates": 1}
                 for k in range(spec.transfers)]
    data: dict[str, Any] = {
        "schema_version": 2, "name": spec.name, "title": spec.title,
        "description": spec.description or spec.title, "network": spec.network,
        "horizon": {"start_date": spec.start_date, "days": spec.days},
        "depots": spec.depots, "vehicles": spec.vehicles, "stops": stops,
        "solver": {"time_limit_s": 60, "seed": 0},
        "assumptions": [
            "Benchmark instance (benchmarks/scenarios): fleet, capacities, crates, time on "
            "site, windows, market days, lodging and costs are assumptions, not library "
            "figures.",
            f"Communes: {spec.pick} {len(stops)} of dataset {spec.network} by straight-line "
            "distance from the first library, its own ward left out."]}
    if transfers:
        data["transfers"] = transfers
    conditions: dict[str, Any] = {}
    if spec.season:
        conditions["season"] = spec.season
    if spec.closures:
        conditions["closures"] = spec.closures
    if conditions:
        data["road_conditions"] = conditions
    return data


def default_scenario() -> dict[str, Any]:
    """The default scenario as shipped, without its book batches (the benchmark measures the
    routing; batches re-route it in rounds)."""
    data = yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    data.pop("rotation", None)
    data.update(name="hg-12-remote-5d",
                description="The default scenario (scenarios/ha-giang-2026.yaml) without its "
                            "book batches: 12 remote communes, a truck and a van, 5 days.")
    data["solver"] = {"time_limit_s": 60, "seed": 0}
    return data


def specs() -> list[Spec]:
    hg, cb, tq = "tv-ha-giang", "tv-cao-bang", "tv-tuyen-quang"
    return [
        Spec("hg-20-near-1d", "Hà Giang: 20 communes near the library in one day, 4 vehicles",
             "ha_giang", [HA_GIANG],
             [vehicle("truck", "truck", hg, 60, days=1, breaks=True, caps=False),
              vehicle("van", "van", hg, 32, days=1, count=2, breaks=True, caps=False),
              vehicle("moto", "motorbike", hg, 6, days=1, breaks=True, caps=False)],
             days=1, pick="nearest", n=20, service_minutes=60),
        Spec("hg-40-lodging-3d", "Hà Giang: 40 remote communes over 3 days, lodging limits, "
             "daily driving caps, hand-ons", "ha_giang", [HA_GIANG],
             [vehicle("truck", "truck", hg, 60, days=3, count=2, driving_h=6, breaks=True),
              vehicle("van", "van", hg, 32, days=3, driving_h=6, breaks=True),
              vehicle("moto", "motorbike", hg, 8, days=3, driving_h=6)],
             days=3, pick="farthest", n=40, every_nth_no_lodging=4, transfers=2,
             profiles_only={5: ["van", "motorbike"], 17: ["van", "motorbike"]}),
        Spec("hg-72-province-5d", "Hà Giang: every commune (72) over 5 days, 2 trucks and 2 "
             "vans (the province case of issue 12)", "ha_giang", [HA_GIANG],
             [vehicle("truck", "truck", hg, 60, days=5, count=2),
              vehicle("van", "van", hg, 32, days=5, count=2)],
             days=5, pick="all", n=72),
        Spec("cb-30-closure-2d", "Cao Bằng: 30 communes near the library over 2 days, a road "
             "closed and another slowed, lunch breaks", "cao_bang", [CAO_BANG],
             [vehicle("truck", "truck", cb, 60, days=2, breaks=True),
              vehicle("van", "van", cb, 32, days=2, count=2, breaks=True)],
             days=2, pick="nearest", n=30,
             closures=[{"id": "sat-lo-dt206", "note": "ASSUMPTION: landslide closes ĐT.206",
                        "ref": "ĐT.206"},
                       {"id": "mot-lan-ql3", "note": "ASSUMPTION: one lane on QL.3",
                        "ref": "QL.3", "speed_factor": 0.6}]),
        Spec("cb-55-market-5d", "Cao Bằng: every commune (55) over 5 days, 6 vehicles, market "
             "days, lodging limits, a fixed cost per vehicle", "cao_bang", [CAO_BANG],
             [vehicle("truck", "truck", cb, 60, days=5, count=2, per_trip=500000),
              vehicle("van", "van", cb, 32, days=5, count=3, per_trip=300000),
              vehicle("moto", "motorbike", cb, 8, days=5, per_trip=100000)],
             days=5, pick="all", n=55, every_nth_market=5, drifting_markets=2,
             every_nth_no_lodging=6),
        Spec("tq-80-rainy-7d", "Tuyên Quang (2025): 80 communes near the Tuyên Quang library "
             "in the rainy season over 7 days, 8 vehicles", "tuyen_quang_core", [TUYEN_QUANG],
             [vehicle("truck", "truck", tq, 60, days=4, count=3, driving_h=8),
              vehicle("van", "van", tq, 32, days=4, count=4, driving_h=8),
              vehicle("moto", "motorbike", tq, 8, days=4)],
             days=7, pick="nearest", n=80, start_date="2026-07-06", season="rainy",
             every_nth_no_lodging=5, every_nth_market=8, transfers=3),
        Spec("tq-124-twolib-10d", "Tuyên Quang (2025): every commune from both former "
             "provincial libraries over 10 days, 10 vehicles", "tuyen_quang_core",
             [TUYEN_QUANG, HA_GIANG],
             [vehicle("tq-truck", "truck", tq, 60, days=5, count=2, breaks=True),
              vehicle("tq-van", "van", tq, 32, days=5, count=2, breaks=True),
              vehicle("tq-moto", "motorbike", tq, 8, days=5),
              vehicle("hg-truck", "truck", hg, 60, days=5, count=2, breaks=True),
              vehicle("hg-van", "van", hg, 32, days=5, count=2, breaks=True),
              vehicle("hg-moto", "motorbike", hg, 8, days=5)],
             days=10, pick="all", n=124, every_nth_no_lodging=7, every_nth_market=9,
             drifting_markets=3, transfers=4,
             closures=[{"id": "sat-lo-ql4c", "note": "ASSUMPTION: landslide on the Mã Pí Lèng "
                        "pass", "ref": "QL.4C",
                        "between": [{"lon": 105.36, "lat": 23.245},
                                    {"lon": 105.395, "lat": 23.205}]}]),
    ]


class _Dumper(yaml.SafeDumper):
    """Codes, clock times and dates in quotes, as the scenario schema asks of people."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "'" if re.fullmatch(r"[0-9:.+-]+", value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(value: Any, **kw: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False, **kw)


def to_yaml(data: dict[str, Any]) -> str:
    """The scenario as YAML, one line per stop and per hand-on."""
    text = ""
    for key, value in data.items():
        if key in ("stops", "transfers"):
            text += f"{key}:\n" + "".join(
                f"  - {_dump(item, default_flow_style=True, width=10**6).strip()}\n"
                for item in value)
        else:
            text += _dump({key: value}, width=100)
    return text


def write_instances(out: Path = INSTANCES) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with benchmark_data():
        items = [("hg-12-remote-5d", default_scenario())] + [(s.name, scenario_of(s))
                                                             for s in specs()]
    for name, data in items:
        path = out / f"{name}.yaml"
        head = (f"# Benchmark instance {name} (benchmarks/scenarios, issue 12), written by\n"
                "# `python -m benchmarks.scenarios make-instances`; see SOURCES.md beside it.\n")
        path.write_text(head + to_yaml(data), encoding="utf-8")
        written.append(path)
    return written
