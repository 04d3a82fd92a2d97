"""The edited values of commune libraries (see :mod:`webui.communes`) applied to a scenario
before the web UI solves it.

For each stop whose library has edited values:

- ``location``: the stop's ``location`` (the library's real point, snapped to the roads
  instead of the commune's point);
- ``contact``: the stop's contact (printed on the route sheet);
- opening hours and market days: the stop's time windows. Opening hours give the
  intervals (else the scenario's windows keep theirs); market days restrict every interval to
  those weekdays, or to every N days from the anchor date (replacing the weekday and date
  restrictions the scenario had);
- ``lodging``: whether the crew can spend the night there.

Values not edited stay as the scenario has them. The result is validated again as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planner.scenario import Scenario, parse_scenario
from storage.libraries import LibraryOverrideInfo, LibraryValues

WHOLE_DAY = ("00:00", "23:59")


def _windows(values: LibraryValues, current: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The stop's new time windows, or ``None`` to keep ``current``."""
    market = values.market_weekdays is not None or values.market_every_days is not None
    if values.opening_hours is None and not market:
        return None
    if values.opening_hours is not None:
        base: list[dict[str, Any]] = [{"start": a, "end": b} for a, b in values.opening_hours]
    elif current:
        base = [{k: w[k] for k in ("start", "end")} for w in current]
        if not market:
            return None
    else:
        base = [{"start": WHOLE_DAY[0], "end": WHOLE_DAY[1]}]
    out = []
    for window in base:
        if values.market_weekdays is not None:
            window = {**window, "weekdays": list(values.market_weekdays)}
        elif values.market_every_days is not None and values.market_anchor is not None:
            window = {**window, "every_days": values.market_every_days,
                      "anchor": values.market_anchor.isoformat()}
        out.append(window)
    return out


def stop_with_values(stop: dict[str, Any], values: LibraryValues) -> dict[str, Any]:
    """A stop mapping (as :meth:`Scenario.model_dump` gives it) with the library's values."""
    out = dict(stop)
    if values.lon is not None and values.lat is not None:
        out["location"] = {"lon": values.lon, "lat": values.lat}
    if values.contact is not None:
        out["contact"] = values.contact
    windows = _windows(values, list(stop.get("time_windows") or ()))
    if windows is not None:
        out["time_windows"] = windows
    if values.lodging is not None:
        out["lodging"] = values.lodging
    return out


def apply_library_overrides(scenario: Scenario,
                            overrides: Mapping[str, LibraryOverrideInfo | LibraryValues], *,
                            file: str = "<scenario>") -> Scenario:
    """``scenario`` with the edited values of its stops' libraries (``overrides`` by commune
    code); the same scenario when none of its stops has any."""
    values = {code: (o.values if isinstance(o, LibraryOverrideInfo) else o)
              for code, o in overrides.items()}
    if not any(st.commune_code in values for st in scenario.stops):
        return scenario
    data = scenario.model_dump(mode="json", by_alias=True)
    data["stops"] = [stop_with_values(st, values[st["commune_code"]])
                     if st["commune_code"] in values else st for st in data["stops"]]
    return parse_scenario(data, file=file)
