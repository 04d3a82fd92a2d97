"""Cost and emissions of a plan, and the side-by-side comparison of plans.

CO₂ from fuel burnt: litres = km x fuel_l_per_100km / 100, times the fuel's emission factor.
Factors follow the IPCC 2006 Guidelines for National Greenhouse Gas Inventories, Vol. 2
(Energy), ch. 3 (Mobile combustion), Table 3.2.1 default CO₂ factors: diesel 74,100 kg/TJ,
motor gasoline 69,300 kg/TJ; with the IPCC default net calorific values (diesel 43.0 TJ/Gg,
gasoline 44.3 TJ/Gg) and densities 0.84 kg/L (diesel) and 0.74 kg/L (gasoline):
diesel 74,100 x 43.0e-6 x 0.84 = 2.68 kg CO₂/L; gasoline 69,300 x 44.3e-6 x 0.74 = 2.27 kg/L.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

CO2_KG_PER_L = {"diesel": 2.68, "gasoline": 2.27}
CO2_SOURCE = ("IPCC 2006 Guidelines, Vol. 2 ch. 3, Table 3.2.1 (diesel 74,100 kg/TJ, gasoline "
              "69,300 kg/TJ) with IPCC default calorific values and densities: diesel 2.68, "
              "gasoline 2.27 kg CO₂ per litre")


def route_cost_vnd(*, km: float, hours: float, nights: int, used: bool, per_km: float,
                   per_hour: float, per_trip: float, per_night: float) -> float:
    if not used:
        return 0.0
    return per_trip + per_km * km + per_hour * hours + per_night * nights


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
