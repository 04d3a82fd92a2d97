"""What dispatchers know about a commune library beyond the data: where it really is (its
point and street address), who to call, its opening hours and market days, whether a crew
can sleep there; and how that changes a scenario's stop there.

The values are applied to a stop as a part of a scenario (:func:`stop_with_values`) and
validated by the scenario model itself (:func:`check_library_values`), so a value a
dispatcher may store is exactly a value a scenario file may hold, with the same messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planner.scenario import Scenario, Stop, parse_part, parse_scenario

WHOLE_DAY = ("00:00", "23:59")
# The fields of a library as its history (storage: library_edits.field) names them.
LIBRARY_FIELDS: tuple[str, ...] = ("location", "contact", "opening_hours", "market_days",
                                   "lodging", "address")


@dataclass(frozen=True)
class LibraryValues:
    """The edited values of one commune library; ``None`` leaves a value as the dataset
    (location) or the scenario (contact, time windows, lodging) has it.

    ``opening_hours`` are ``(start, end)`` clock times ``"HH:MM"`` on every day the library
    is served; market days restrict them to some weekdays or to every ``market_every_days``
    days from ``market_anchor`` (a market that drifts through the week)."""

    lon: float | None = None
    lat: float | None = None
    contact: str | None = None
    opening_hours: tuple[tuple[str, str], ...] | None = None
    market_weekdays: tuple[str, ...] | None = None
    market_every_days: int | None = None
    market_anchor: dt.date | None = None
    lodging: bool | None = None
    address: str | None = None  # the library's street address, printed on the stop card

    def texts(self) -> dict[str, str | None]:
        """Each field of :data:`LIBRARY_FIELDS` as the text its history keeps."""
        market = None
        if self.market_weekdays is not None:
            market = ",".join(self.market_weekdays)
        elif self.market_every_days is not None and self.market_anchor is not None:
            market = f"every {self.market_every_days} days from {self.market_anchor.isoformat()}"
        return {
            "location": (f"{self.lat:.6f}, {self.lon:.6f}"
                         if self.lon is not None and self.lat is not None else None),
            "contact": self.contact,
            "opening_hours": (",".join(f"{a}-{b}" for a, b in self.opening_hours)
                              if self.opening_hours is not None else None),
            "market_days": market,
            "lodging": None if self.lodging is None else ("yes" if self.lodging else "no"),
            "address": self.address,
        }


def _windows(values: LibraryValues, current: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The stop's new time windows, or ``None`` to keep ``current``: opening hours give the
    intervals (else the current windows keep theirs); market days restrict every interval to
    those weekdays, or to every N days from the anchor date."""
    market = (values.market_weekdays is not None or values.market_every_days is not None
              or values.market_anchor is not None)
    if values.opening_hours is None and not market:
        return None
    if values.opening_hours is not None:
        base: list[dict[str, Any]] = [{"start": a, "end": b} for a, b in values.opening_hours]
    elif current:
        base = [{k: w[k] for k in ("start", "end")} for w in current]
    else:
        base = [{"start": WHOLE_DAY[0], "end": WHOLE_DAY[1]}]
    out = []
    for window in base:
        if values.market_weekdays is not None:
            window = {**window, "weekdays": list(values.market_weekdays)}
        if values.market_every_days is not None or values.market_anchor is not None:
            window = {**window, "every_days": values.market_every_days,
                      "anchor": (values.market_anchor.isoformat()
                                 if values.market_anchor is not None else None)}
        out.append(window)
    return out


def stop_with_values(stop: Mapping[str, Any], values: LibraryValues) -> dict[str, Any]:
    """A stop mapping (as :meth:`Scenario.model_dump` gives it) with the library's values."""
    out = dict(stop)
    if values.lon is not None or values.lat is not None:
        out["location"] = {k: v for k, v in (("lon", values.lon), ("lat", values.lat))
                           if v is not None}
    if values.contact is not None:
        out["contact"] = values.contact
    windows = _windows(values, list(stop.get("time_windows") or ()))
    if windows is not None:
        out["time_windows"] = windows
    if values.lodging is not None:
        out["lodging"] = values.lodging
    if values.address is not None:
        out["address"] = values.address
    return out


def check_library_values(commune_code: str, values: LibraryValues, *,
                         file: str = "<library>") -> None:
    """Validate ``values`` as the stop they make (the scenario model's rules); a
    :class:`~planner.errors.ScenarioError` names each field as ``stop.<field>``."""
    parse_part(Stop, stop_with_values({"commune_code": commune_code}, values), file=file,
               field="stop")


def apply_library_values(scenario: Scenario, values: Mapping[str, LibraryValues], *,
                         file: str = "<scenario>") -> Scenario:
    """``scenario`` with the libraries' values applied to their stops (``values`` by commune
    code), validated again as a whole; the same scenario when none of its stops has any."""
    if not any(st.commune_code in values for st in scenario.stops):
        return scenario
    data = scenario.model_dump(mode="json", by_alias=True)
    data["stops"] = [stop_with_values(st, values[st["commune_code"]])
                     if st["commune_code"] in values else st for st in data["stops"]]
    return parse_scenario(data, file=file)


__all__ = ["LIBRARY_FIELDS", "LibraryValues", "apply_library_values",
           "check_library_values", "stop_with_values"]
