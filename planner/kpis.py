"""Cost and emissions of a plan, and the side-by-side comparison of plans.

CO₂ from fuel burnt: litres = km x fuel_l_per_100km / 100, times the fuel's emission factor.
Factors follow the IPCC 2006 Guidelines for National Greenhouse Gas Inventories, Vol. 2
(Energy), ch. 3 (Mobile combustion), Table 3.2.1 default CO₂ factors: diesel 74,100 kg/TJ,
motor gasoline 69,300 kg/TJ; with the IPCC default net calorific values (diesel 43.0 TJ/Gg,
gasoline 44.3 TJ/Gg) and densities 0.84 kg/L (diesel) and 0.74 kg/L (gasoline):
diesel 74,100 x 43.0e-6 x 0.84 = 2.68 kg CO₂/L; gasoline 69,300 x 44.3e-6 x 0.74 = 2.27 kg/L.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from planner.plan import compute_kpis

if TYPE_CHECKING:
    from planner.plan import Route, Unserved
    from planner.problem import RoutingProblem
    from planner.scenario import Scenario

CO2_KG_PER_L = {"diesel": 2.68, "gasoline": 2.27}
CO2_SOURCE = ("IPCC 2006 Guidelines, Vol. 2 ch. 3, Table 3.2.1 (diesel 74,100 kg/TJ, gasoline "
              "69,300 kg/TJ) with IPCC default calorific values and densities: diesel 2.68, "
              "gasoline 2.27 kg CO₂ per litre")


def route_cost_vnd(*, km: float, hours: float, nights: int, used: bool, per_km: float,
                   per_hour: float, per_trip: float, per_night: float) -> float:
    if not used:
        return 0.0
    return per_trip + per_km * km + per_hour * hours + per_night * nights


def plan_kpis(scenario: Scenario, problem: RoutingProblem, routes: Sequence[Route],
              unserved: Sequence[Unserved], *, service_area_communes: int) -> dict[str, Any]:
    """A plan's KPIs (:func:`planner.plan.compute_kpis`) with its cost in VND and its CO₂,
    from each vehicle's rates and fuel in the scenario."""
    kpis = compute_kpis(tuple(routes), tuple(unserved),
                        service_area_communes=service_area_communes)
    spec_of = {v.id: scenario.vehicles[v.scenario_index] for v in problem.vehicles}
    cost, co2 = 0.0, 0.0
    for r in routes:
        spec = spec_of[r.vehicle_id]
        cost += route_cost_vnd(km=r.km, hours=r.duration_hours, nights=r.nights,
                               used=bool(r.visits), per_km=spec.cost_vnd_per_km,
                               per_hour=spec.cost_vnd_per_hour, per_trip=spec.cost_vnd_per_trip,
                               per_night=spec.cost_vnd_per_night)
        co2 += route_co2_kg(km=r.km, fuel=spec.fuel, l_per_100km=spec.fuel_l_per_100km)
    kpis.update(cost_vnd=round(cost), co2_kg=round(co2, 1), co2_source=CO2_SOURCE)
    return kpis


def route_co2_kg(*, km: float, fuel: str, l_per_100km: float) -> float:
    return km * l_per_100km / 100 * CO2_KG_PER_L[fuel]


COMPARE_ROWS: Sequence[tuple[str, str, str]] = (
    ("communes_served", "communes served", "{:d}"),
    ("service_area_share", "share of the service area", "{:.1%}"),
    ("meets_2026", "meets 15% (2026)", "{}"),
    ("meets_2030", "meets 50% (2030)", "{}"),
    ("meets_2045", "meets 90% (2045)", "{}"),
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


def comparison_rows(kpis: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """One row per KPI, one cell per plan ("–" where a plan does not have it)."""
    rows = []
    for key, label, fmt in COMPARE_ROWS:
        cells = []
        for k in kpis:
            if key.startswith("meets_"):
                value = k.get("meets_target", {}).get(key.removeprefix("meets_"))
                value = None if value is None else ("yes" if value else "no")
            elif key == "crates_moved":
                value = (k.get("crates_delivered", 0) + k.get("crates_collected", 0)
                         if "crates_delivered" in k else None)
            else:
                value = k.get(key)
            cells.append("–" if value is None else fmt.format(value))
        rows.append((label, cells))
    return rows
