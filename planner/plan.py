"""Plans: routes with timed visits, unserved stops with reasons, KPIs and provenance.

A plan is written as ``plan.json`` in the versioned format documented in
``docs/plan-format.md`` (``format: mobile-library-plan``, ``format_version: 1``). Times are
given twice: seconds from midnight of the horizon's first day (``*_s``, for programs) and
local clock time with the day offset (for people).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import PlanFileError

PLAN_FORMAT = "mobile-library-plan"
PLAN_FORMAT_VERSION = 1
TZ = dt.timezone(dt.timedelta(hours=7), "ICT")  # Vietnam, no daylight saving


def clock(start_date: dt.date, seconds: int) -> str:
    """ISO local time (UTC+7) of ``seconds`` after midnight of ``start_date``."""
    base = dt.datetime.combine(start_date, dt.time(0), TZ)
    return (base + dt.timedelta(seconds=int(seconds))).isoformat(timespec="minutes")


@dataclass(frozen=True)
class Visit:
    seq: int
    commune_code: str
    commune_name: str
    lon: float
    lat: float
    day: int
    arrival_s: int
    start_s: int
    departure_s: int
    arrival: str
    departure: str
    deliver_crates: int
    collect_crates: int
    load_after_crates: int
    leg_km: float
    leg_hours: float
    night_before: bool
    nights_on_road: int
    contact: str = ""
    note: str = ""
    transfer_collect_crates: int = 0  # crates collected here to hand on to another commune
    transfer_deliver_crates: int = 0  # crates brought here from another commune
    roadside_pauses: int = 0  # pauses on the leg here (continuous-driving rule)


@dataclass(frozen=True)
class Route:
    vehicle_id: str
    vehicle_name: str
    profile: str
    depot_id: str
    depot_name: str
    depot_lon: float
    depot_lat: float
    driver: str
    capacity_crates: int
    depart_s: int
    depart: str
    return_s: int
    return_time: str
    load_start_crates: int
    return_leg_km: float
    return_leg_hours: float
    return_night_before: bool
    return_nights_on_road: int
    visits: tuple[Visit, ...]
    km: float
    driving_hours: float
    duration_hours: float
    days: int
    nights: int
    depot_location_approximate: bool = False
    end_depot_id: str = ""  # where the trip ends when not back at depot_id (a hub)
    end_depot_name: str = ""
    breaks_s: tuple[tuple[int, int], ...] = ()  # daily breaks taken on the trip (start, end)
    depot_location_note: str = ""
    vehicle_phone: str = ""
    return_roadside_pauses: int = 0

    @property
    def crates_delivered(self) -> int:
        return sum(v.deliver_crates for v in self.visits)

    @property
    def crates_collected(self) -> int:
        return sum(v.collect_crates for v in self.visits)


@dataclass(frozen=True)
class Unserved:
    commune_code: str
    commune_name: str
    required: bool
    reason_code: str
    reason: str


@dataclass(frozen=True)
class Plan:
    scenario_name: str
    scenario_title: str
    start_date: dt.date
    horizon_days: int
    network: str
    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    kpis: dict[str, Any]
    provenance: dict[str, Any]
    notes: tuple[str, ...] = ()
    attribution: str = ""
    created_at: str = field(default_factory=lambda: dt.datetime.now(TZ).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "format_version": PLAN_FORMAT_VERSION,
            "created_at": self.created_at,
            "scenario": {"name": self.scenario_name, "title": self.scenario_title,
                         "network": self.network,
                         "horizon": {"start_date": self.start_date.isoformat(),
                                     "days": self.horizon_days}},
            "routes": [asdict(r) for r in self.routes],
            "unserved": [asdict(u) for u in self.unserved],
            "kpis": self.kpis,
            "provenance": self.provenance,
            "notes": list(self.notes),
            "attribution": self.attribution,
        }

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)


def plan_from_dict(data: dict[str, Any], *, file: str = "<plan>") -> Plan:
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanFileError(f"{file}: not a plan file (field `format` should be "
                            f"{PLAN_FORMAT!r})")
    if data.get("format_version") != PLAN_FORMAT_VERSION:
        raise PlanFileError(f"{file}: field `format_version` = {data.get('format_version')!r}: "
                            f"this version reads format {PLAN_FORMAT_VERSION}; re-run "
                            "`planner solve` to write the plan again")
    try:
        routes = tuple(
            Route(**{**r, "visits": tuple(Visit(**v) for v in r["visits"]),
                     "breaks_s": tuple(tuple(b) for b in r.get("breaks_s", ()))})
            for r in data["routes"])
        unserved = tuple(Unserved(**u) for u in data["unserved"])
        sc = data["scenario"]
        return Plan(scenario_name=sc["name"], scenario_title=sc.get("title", ""),
                    start_date=dt.date.fromisoformat(sc["horizon"]["start_date"]),
                    horizon_days=int(sc["horizon"]["days"]), network=sc["network"],
                    routes=routes, unserved=unserved, kpis=data["kpis"],
                    provenance=data["provenance"], notes=tuple(data.get("notes", ())),
                    attribution=data.get("attribution", ""), created_at=data["created_at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"{file}: malformed plan ({type(exc).__name__}: {exc}); re-run "
                            "`planner solve` to write it again") from None


def read_plan(path: str | Path) -> Plan:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanFileError(f"{path}: plan file not found; run `planner solve SCENARIO --out DIR` "
                            "first") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"{path}: not valid JSON ({exc})") from None
    return plan_from_dict(data, file=str(path))


def compute_kpis(routes: tuple[Route, ...], unserved: tuple[Unserved, ...], *,
                 service_area_communes: int) -> dict[str, Any]:
    """Headline figures of a plan, including progress toward the programme targets."""
    used = [r for r in routes if r.visits]
    served = sum(len(r.visits) for r in routes)
    share = served / service_area_communes if service_area_communes else 0.0
    return {
        "communes_served": served,
        "communes_unserved": len(unserved),
        "service_area_communes": service_area_communes,
        "service_area_share": round(share, 4),
        "targets": {"2026": 0.15, "2030": 0.50, "2045": 0.90},
        "meets_target": {y: share >= t for y, t in (("2026", 0.15), ("2030", 0.5),
                                                    ("2045", 0.9))},
        "trips": len(used),
        "km": round(sum(r.km for r in routes), 1),
        "driving_hours": round(sum(r.driving_hours for r in routes), 2),
        "trip_days": sum(r.days for r in used),
        "nights_away": sum(r.nights for r in used),
        "crates_delivered": sum(r.crates_delivered for r in routes),
        "crates_collected": sum(r.crates_collected for r in routes),
    }
