"""The folder of stored plans (``RUNS_DIR``): one sub-folder per plan with ``plan.json``,
``routes.geojson`` and ``map.html``.

Run names from URLs are never joined into paths: a name is looked up among the folder's
actual entries, and only a listed entry's path is used.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import PlannerError
from planner.outputs import read_plan_folder
from planner.plan import Plan
from webui.errors import NotFoundError

log = logging.getLogger(__name__)

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@functools.lru_cache(maxsize=4)
def _parsed_json(path: str, mtime_ns: int, size: int) -> Any:
    """The JSON file at ``path``, parsed once per (modification time, size)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class RunSummary:
    """One line of the plan list: the plan, or why it cannot be read."""

    name: str
    plan: Plan | None
    error: str | None = None


@dataclass(frozen=True)
class RunStore:
    """Read access to the plans under ``root`` (plus writing their cached maps)."""

    root: Path

    def _entries(self) -> dict[str, Path]:
        if not self.root.is_dir():
            return {}
        return {p.name: p for p in self.root.iterdir()
                if RUN_NAME.match(p.name) and p.is_dir() and (p / "plan.json").is_file()}

    def names(self) -> list[str]:
        """Names of the plan folders, newest first."""
        entries = self._entries()
        return sorted(entries, key=lambda n: (entries[n] / "plan.json").stat().st_mtime,
                      reverse=True)

    def folder(self, name: str) -> Path:
        """The folder of plan ``name``; :class:`NotFoundError` unless it is a listed plan."""
        path = self._entries().get(name)
        if path is None:
            raise NotFoundError(f"unknown plan {name!r}")
        return path

    def plan(self, name: str) -> Plan:
        return read_plan_folder(self.folder(name))

    def routes(self, name: str) -> dict[str, Any] | None:
        """The parsed ``routes.geojson`` of plan ``name``, or ``None`` if it is missing or
        unreadable (pages then go without directions). Parsed once per version of the file
        (a 73-stop plan's is 3 MB, 0.2-0.4 s to parse); callers must not change it."""
        path = self.folder(name) / "routes.geojson"
        try:
            stat = path.stat()
            return _parsed_json(str(path), stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            log.warning("%s: not valid GeoJSON (%s); showing the plan without directions",
                        path, exc)
            return None

    def _scenario_data(self, name: str) -> dict[str, Any]:
        """The resolved ``scenario.json`` written beside the plan; empty if unreadable."""
        path = self.folder(name) / "scenario.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def assumptions(self, name: str) -> tuple[str, ...]:
        """The ``assumptions`` of the resolved ``scenario.json`` written beside the plan."""
        items = self._scenario_data(name).get("assumptions")
        return tuple(str(a) for a in items) if isinstance(items, list) else ()

    def summaries(self) -> list[RunSummary]:
        out = []
        for name in self.names():
            try:
                out.append(RunSummary(name, self.plan(name)))
            except PlannerError as exc:
                out.append(RunSummary(name, None, str(exc)))
        return out
