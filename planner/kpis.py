"""A plan's key figures (:class:`Kpis`): coverage against the programme targets, trips, km,
hours, crates, cost and CO₂; and the side-by-side comparison of plans.

**Coverage** has one definition, :func:`coverage`: the communes a plan serves over the
communes of its service area (today the communes of the scenario's road dataset, i.e. its
province). The programme's targets (Decision 1687/QĐ-TTg, 2024) are the data
:data:`PROGRAMME_TARGETS`; every page, sheet and command reads them from here.

CO₂ from fuel burnt: litres = km x fuel_l_per_100km / 100, times the fuel's emission factor.
Factors follow the IPCC 2006 Guidelines for National Greenhouse Gas Inventories, Vol. 2
(Energy), ch. 3 (Mobile combustion), Table 3.2.1 default CO₂ factors: diesel 74,100 kg/TJ,
motor gasoline 69,300 kg/TJ; with the IPCC default net calorific values (diesel 43.0 TJ/Gg,
gasoline 44.3 TJ/Gg) and densities 0.84 kg/L (diesel) and 0.74 kg/L (gasoline):
diesel 74,100 x 43.0e-6 x 0.84 = 2.68 kg CO₂/L; gasoline 69,300 x 44.3e-6 x 0.74 = 2.27 kg/L.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.plan import Route, Unserved
    from planner.problem import RoutingProblem
    from planner.scenario import Scenario


@dataclass(frozen=True)
class ProgrammeTarget:
    """A share of the communes to serve by a year."""

    year: str
    share: float


# Decision 1687/QĐ-TTg (30 Dec 2024): grassroots libraries served by the provincial library
PROGRAMME_TARGETS: tuple[ProgrammeTarget, ...] = (
    ProgrammeTarget("2026", 0.15), ProgrammeTarget("2030", 0.50), ProgrammeTarget("2045", 0.90))
TARGETS_SOURCE = "Decision 1687/QĐ-TTg"


def targets_text() -> str:
    """``15% by 2026, 50% by 2030, 90% by 2045``."""
    return ", ".join(f"{t.share:.0%} by {t.year}" for t in PROGRAMME_TARGETS)


def coverage(served: int, service_area: int) -> float:
    """The share of the service area's communes served (0 for an empty service area)."""
    return served / service_area if service_area else 0.0


@dataclass(frozen=True)
class TargetProgress:
    """Where a plan stands against one programme target."""

    year: str
    target: float
    needed: int  # communes the target asks for
    missing: int  # communes still to serve to reach it

    @property
    def met(self) -> bool:
        return self.missing == 0


CO2_KG_PER_L = {"diesel": 2.68, "gasoline": 2.27}
CO2_SOURCE = ("IPCC 2006 Guidelines, Vol. 2 ch. 3, Table 3.2.1 (diesel 74,100 kg/TJ, gasoline "
              "69,300 kg/TJ) with IPCC default calorific values and densities: diesel 2.68, "
              "gasoline 2.27 kg CO₂ per litre")


@dataclass(frozen=True)
class Kpis:
    """A plan's headline figures (the ``kpis`` object of ``plan.json``, same keys)."""

    communes_served: int = 0
    communes_unserved: int = 0
    service_area_communes: int = 0
    service_area_share: float = 0.0
    targets: Mapping[str, float] = field(
        default_factory=lambda: {t.year: t.share for t in PROGRAMME_TARGETS})
    meets_target: Mapping[str, bool] = field(default_factory=dict)
    trips: int = 0
    km: float = 0.0
    driving_hours: float = 0.0
    trip_days: int = 0
    nights_away: int = 0
    crates_delivered: int = 0
    crates_collected: int = 0
    cost_vnd: float | None = None  # None: not costed (no scenario rates at hand)
    co2_kg: float | None = None
    co2_source: str | None = None
    # plan format 3: what the service area is (planner/servicearea.py), how many of its
    # communes the road data covers, and the share of the 2025 province it lies in
    service_area_name: str | None = None
    service_area_covered: int | None = None
    province_2025_name: str | None = None
    province_2025_communes: int | None = None
    province_2025_share: float | None = None

    @property
    def crates_moved(self) -> int:
        return self.crates_delivered + self.crates_collected

    def target_progress(self) -> tuple[TargetProgress, ...]:
        """Each target the plan records, with the communes it needs and how many are still
        missing."""
        out = []
        for year, target in sorted(self.targets.items()):
            needed = math.ceil(round(float(target) * self.service_area_communes, 6))
            out.append(TargetProgress(str(year), float(target), needed,
                                      max(0, needed - self.communes_served)))
        return tuple(out)

    def with_served(self, served: int) -> Kpis:
        """These KPIs counting ``served`` communes: the share (:func:`coverage`) and the
        targets met follow."""
        share = coverage(served, self.service_area_communes)
        return replace(self, communes_served=served, service_area_share=round(share, 4),
                       meets_target={k: share >= float(v) for k, v in self.targets.items()})

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["targets"], out["meets_target"] = dict(self.targets), dict(self.meets_target)
        for key in ("cost_vnd", "co2_kg", "co2_source", *AREA_FIELDS):
            if out[key] is None:
                del out[key]
        return out

    def scoped(self, *, name: str, covered: int, province_2025: str,
               province_2025_communes: int) -> Kpis:
        """These KPIs with their service area named, its coverage by the road data, and the
        share of the 2025 province around it (every served commune lies in it)."""
        share = (round(coverage(self.communes_served, province_2025_communes), 4)
                 if province_2025 and province_2025_communes else None)
        return replace(self, service_area_name=name, service_area_covered=covered,
                       province_2025_name=province_2025 or None,
                       province_2025_communes=province_2025_communes or None,
                       province_2025_share=share)

    def scoped_like(self, other: Kpis) -> Kpis:
        """These KPIs with ``other``'s service area (an edited or re-timed plan)."""
        if other.service_area_name is None:
            return self
        return self.scoped(name=other.service_area_name,
                           covered=other.service_area_covered or 0,
                           province_2025=other.province_2025_name or "",
                           province_2025_communes=other.province_2025_communes or 0)


    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Kpis:
        """The KPIs of a ``plan.json`` of any version (missing figures are 0 or not costed)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and v is not None}
        return cls(**values)


AREA_FIELDS = ("service_area_name", "service_area_covered", "province_2025_name",
               "province_2025_communes", "province_2025_share")


def route_kpis(routes: Sequence[Route], unserved: Sequence[Unserved], *,
               service_area_communes: int) -> Kpis:
    """The figures of ``routes`` that need nothing but the routes (no cost, no CO₂)."""
    used = [r for r in routes if r.visits]
    served = sum(len(r.visits) for r in routes)
    share = coverage(served, service_area_communes)
    return Kpis(
        communes_served=served, communes_unserved=len(unserved),
        service_area_communes=service_area_communes, service_area_share=round(share, 4),
        targets={t.year: t.share for t in PROGRAMME_TARGETS},
        meets_target={t.year: share >= t.share for t in PROGRAMME_TARGETS},
        trips=len(used), km=round(sum(r.km for r in routes), 1),
        driving_hours=round(sum(r.driving_hours for r in routes), 2),
        trip_days=sum(r.days for r in used), nights_away=sum(r.nights for r in used),
        crates_delivered=sum(r.crates_delivered for r in routes),
        crates_collected=sum(r.crates_collected for r in routes))


def route_cost_vnd(*, km: float, hours: float, nights: int, used: bool, per_km: float,
                   per_hour: float, per_trip: float, per_night: float) -> float:
    if not used:
        return 0.0
    return per_trip + per_km * km + per_hour * hours + per_night * nights


def route_co2_kg(*, km: float, fuel: str, l_per_100km: float) -> float:
    return km * l_per_100km / 100 * CO2_KG_PER_L[fuel]


def plan_kpis(scenario: Scenario, problem: RoutingProblem, routes: Sequence[Route],
              unserved: Sequence[Unserved], *, service_area_communes: int) -> Kpis:
    """A plan's KPIs (:func:`route_kpis`) with its cost in VND and its CO₂, from each
    vehicle's rates and fuel in the scenario."""
    kpis = route_kpis(routes, unserved, service_area_communes=service_area_communes)
    spec_of = {v.id: scenario.vehicles[v.scenario_index] for v in problem.vehicles}
    cost, co2 = 0.0, 0.0
    for r in routes:
        spec = spec_of[r.key]
        cost += route_cost_vnd(km=r.km, hours=r.duration_hours, nights=r.nights,
                               used=bool(r.visits), per_km=spec.cost_vnd_per_km,
                               per_hour=spec.cost_vnd_per_hour, per_trip=spec.cost_vnd_per_trip,
                               per_night=spec.cost_vnd_per_night)
        co2 += route_co2_kg(km=r.km, fuel=spec.fuel, l_per_100km=spec.fuel_l_per_100km)
    return replace(kpis, cost_vnd=round(cost), co2_kg=round(co2, 1), co2_source=CO2_SOURCE)


# --- comparison of plans -------------------------------------------------------------------

COMPARE_ROWS: Sequence[tuple[str, str, str]] = (
    ("communes_served", "communes served", "{:d}"),
    ("service_area_share", "share of the service area", "{:.1%}"),
    *((f"meets_{t.year}", f"meets {t.share:.0%} ({t.year})", "{}") for t in PROGRAMME_TARGETS),
    ("communes_unserved", "communes unserved", "{:d}"),
    ("trips", "trips", "{:d}"),
    ("trip_days", "vehicle-days", "{:d}"),
    ("nights_away", "nights away", "{:d}"),
    ("km", "km", "{:,.1f}"),
    ("driving_hours", "driving hours", "{:,.1f}"),
    ("crates_moved", "crates moved (out + in)", "{:d}"),
    ("cost_vnd", "cost, VND", "{:,.0f}"),
    ("co2_kg", "CO₂, kg", "{:,.1f}"),
)


# Which way a comparison row is better (for marking a difference); rows not named here
# (trips, vehicle-days) are neither.
BETTER_HIGHER: frozenset[str] = frozenset({"communes_served", "service_area_share",
                                           "crates_moved"})
BETTER_LOWER: frozenset[str] = frozenset({"communes_unserved", "nights_away", "km",
                                          "driving_hours", "cost_vnd", "co2_kg"})


def difference_sense(key: str, difference: float) -> str:
    """``"better"``, ``"worse"`` or ``""`` for a difference B − A of comparison row
    ``key`` (more communes served is better, more km worse; a target row or no difference
    is neither)."""
    if not difference or key.startswith("meets_"):
        return ""
    if key in BETTER_HIGHER:
        return "better" if difference > 0 else "worse"
    if key in BETTER_LOWER:
        return "better" if difference < 0 else "worse"
    return ""


def compare_value(kpis: Kpis, key: str) -> Any:
    """The value of comparison row ``key`` (see :data:`COMPARE_ROWS`); ``None`` where the
    plan does not have it."""
    if key.startswith("meets_"):
        return kpis.meets_target.get(key.removeprefix("meets_"))
    return getattr(kpis, key)


def comparison_rows(kpis: Sequence[Kpis]) -> list[tuple[str, list[str]]]:
    """One row per KPI, one cell per plan ("–" where a plan does not have it)."""
    rows = []
    for key, label, fmt in COMPARE_ROWS:
        cells = []
        for k in kpis:
            value = compare_value(k, key)
            if isinstance(value, bool):
                value = "yes" if value else "no"
            cells.append("–" if value is None else fmt.format(value))
        rows.append((label, cells))
    return rows
