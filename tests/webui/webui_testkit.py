"""Constants and helpers shared by the web UI tests (a uniquely named module, so that it
imports the same way whatever pytest's import mode and whichever other test folders run)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]
FIXTURE_RUN = "ha-giang-2026"
FIXTURE_DIR = HERE / "data" / FIXTURE_RUN
OSM = "© OpenStreetMap contributors"


def wait_for(predicate: Callable[[], bool], *, timeout_s: float, poll_s: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout_s`` passes; returns its last value."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(poll_s)
    return predicate()


def tiny_scenario_yaml(*, name: str = "tiny", time_limit_s: float = 2) -> str:
    """A two-stop scenario extending the default one (Lũng Cú and Đồng Văn, one cluster)."""
    base = PROJECT_ROOT / "scenarios" / "ha-giang-2026.yaml"
    return f"""extends: {base}
name: {name}
title: "Thử nghiệm hai xã"
stops:
  - {{commune_code: "00715", deliver_crates: 5, collect_crates: 5, service_minutes: 120,
     time_windows: [{{start: "07:30", end: "11:30"}}, {{start: "13:30", end: "16:00"}}]}}
  - {{commune_code: "00721", deliver_crates: 6, collect_crates: 5, service_minutes: 150,
     time_windows: [{{start: "07:30", end: "11:30"}}, {{start: "13:30", end: "15:30"}}]}}
solver:
  time_limit_s: {time_limit_s}
  seed: 0
"""
