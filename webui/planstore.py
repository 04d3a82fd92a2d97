"""The plans the web UI shows: the plan folders of ``RUNS_DIR`` (one sub-folder per plan
with ``plan.json``, ``routes.geojson``, ``scenario.json`` and its maps) and, under names
``<series>@v<N>``, the versions published in the database.

A published version's frozen files are written once to ``published_root/<version id>/``
(and written again if that copy no longer matches the version's digest), so the plan page,
sheets, PDFs, maps and exports read a published version exactly as they read a plan folder.
Plan folder names cannot contain ``@``, so the two never clash. Plan names from URLs are
never joined into paths: a name is looked up among the folder's actual entries, and only a
listed entry's path is used.

The store reads plans and registers plan folders in the database; it draws nothing (the
pages ask :func:`render.maps.plan_map_file` for a plan's map, in the folder given here).
"""

from __future__ import annotations

import functools
import json
import logging
import re
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import PlannerError
from planner.outputs import (
    PLAN_FILE,
    ROUTES_FILE,
    SCENARIO_FILE,
    check_routes_geojson,
    load_scenario_for_plan,
    read_plan_folder,
)
from planner.plan import Plan
from planner.scenario import Scenario
from storage import Database, InvalidRecordError, RecordNotFoundError, jobs, plans
from storage.digest import sha256_hex
from storage.plans import VersionContent, parse_version_key, version_key
from webui.derived import file_digest
from webui.errors import NotFoundError, UnreadablePlanError, public_text
from webui.files import DIR_MODE, private_dir, write_private

log = logging.getLogger(__name__)

PLAN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
PUBLISHED_DIR_NAME = "published"


def _stamp(path: Path) -> tuple[int, int]:
    """When and how big ``path`` is (``(0, -1)`` if missing): the key of what is read from it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=32)
def _read_plan(folder: str, plan_stamp: tuple[int, int],
               scenario_stamp: tuple[int, int]) -> Plan:
    """The plan of ``folder``, read once per version of its ``plan.json`` and
    ``scenario.json`` (the stamps)."""
    return read_plan_folder(Path(folder))


@functools.lru_cache(maxsize=32)
def _read_scenario(folder: str, scenario_stamp: tuple[int, int]) -> Scenario | None:
    """The scenario a plan was made from (``scenario.json`` beside it), read once per version
    of the file; ``None`` if it is missing or unreadable."""
    try:
        return load_scenario_for_plan(Path(folder) / PLAN_FILE)[0]
    except (OSError, ValueError, PlannerError) as exc:
        log.warning("%s: no usable scenario.json (%s); sheets go without opening hours",
                    folder, exc)
        return None


@functools.lru_cache(maxsize=4)
def _parsed_routes(path: str, mtime_ns: int, size: int) -> Any:
    """The ``routes.geojson`` at ``path``, parsed and checked once per (modification time,
    size); :class:`ValueError` or :class:`PlannerError` if it is not one."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    check_routes_geojson(data, file=ROUTES_FILE)
    return data


@dataclass(frozen=True)
class PlanSummary:
    """One line of the plan list: the plan, or why it cannot be read."""

    name: str
    plan: Plan | None
    error: str | None = None


@dataclass(frozen=True)
class PlanStore:
    """The plan folders of ``root`` (``RUNS_DIR``) and the published versions of
    ``database`` (copied to ``published_root`` when first read)."""

    root: Path
    published_root: Path
    database: Database
    _writing: threading.Lock = field(default_factory=threading.Lock, compare=False,
                                     repr=False)

    # --- plan folders --------------------------------------------------------------------

    def _entries(self) -> dict[str, Path]:
        if not self.root.is_dir():
            return {}
        return {p.name: p for p in self.root.iterdir()
                if PLAN_NAME.match(p.name) and p.is_dir() and (p / "plan.json").is_file()}

    def names(self) -> list[str]:
        """Names of the plan folders, newest first (published versions are not listed)."""
        entries = self._entries()
        return sorted(entries, key=lambda n: (entries[n] / "plan.json").stat().st_mtime,
                      reverse=True)

    def _plan_folder(self, name: str) -> Path:
        path = self._entries().get(name)
        if path is None:
            raise NotFoundError(f"unknown plan {name!r}", key="unknown_plan", name=name)
        return path

    def folder(self, name: str) -> Path:
        """The folder of plan ``name`` (a plan folder or ``<series>@v<N>``);
        :class:`NotFoundError` unless it is a listed plan or a published version."""
        key = parse_version_key(name)
        if key is None:
            return self._plan_folder(name)
        return self._version_folder(*key)

    # --- reading a plan --------------------------------------------------------------------

    def plan(self, name: str) -> Plan:
        """Plan ``name``; :class:`NotFoundError` if there is none, :class:`UnreadablePlanError`
        (naming it, without server paths) if its files cannot be read. Read once per version
        of its files (plans are immutable values)."""
        folder = self.folder(name)
        try:
            return _read_plan(str(folder), *(_stamp(folder / f) for f in (PLAN_FILE,
                                                                           SCENARIO_FILE)))
        except PlannerError as exc:
            raise UnreadablePlanError(name, public_text(str(exc), (folder,))) from None

    def routes(self, name: str) -> dict[str, Any] | None:
        """The parsed ``routes.geojson`` of plan ``name``, or ``None`` if it is missing or
        unreadable (pages then go without directions). Parsed once per version of the file
        (a 73-stop plan's is 3 MB, 0.2-0.4 s to parse); callers must not change it."""
        path = self.folder(name) / ROUTES_FILE
        try:
            stat = path.stat()
            return _parsed_routes(str(path), stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            return None
        except (ValueError, PlannerError) as exc:  # JSON, UTF-8, shape
            log.warning("%s: not usable (%s); showing the plan without directions", path, exc)
            return None

    def scenario(self, name: str) -> Scenario | None:
        """The scenario plan ``name`` was made from (its ``scenario.json``), or ``None`` if it
        cannot be read (pages then leave out what only the scenario says: opening hours,
        the library's own point)."""
        folder = self.folder(name)
        return _read_scenario(str(folder), _stamp(folder / SCENARIO_FILE))

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

    def summaries(self) -> list[PlanSummary]:
        """The plan list; every readable plan folder is registered in the database."""
        out = []
        for name in self.names():
            try:
                out.append(PlanSummary(name, self.plan(name)))
            except UnreadablePlanError as exc:
                out.append(PlanSummary(name, None, exc.detail))
        self.sync()
        return out

    # --- the database ------------------------------------------------------------------------

    def sync(self) -> int:
        """Register new or changed plan folders in the database (idempotent), with the job
        that made them if it is known. Returns how many records were written."""
        with self.database.begin() as s:
            known = plans.plan_digests(s)
        written = 0
        made_by: dict[str, str] | None = None
        for name in self.names():
            folder = self._plan_folder(name)
            try:
                text = (folder / "plan.json").read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if known.get(name) == (sha256_hex(text), str(folder)):
                continue
            try:
                with self.database.begin() as s:
                    if made_by is None:
                        made_by = jobs.plans_made_by_jobs(s)
                    plans.register_plan(s, name=name, folder=str(folder), plan_text=text,
                                        source_job=made_by.get(name))
                written += 1
            except InvalidRecordError as exc:
                log.debug("not registering %s: %s", folder, exc)
        return written

    def _version_folder(self, series: str, number: int) -> Path:
        try:
            with self.database.read() as s:
                info = plans.find_version(s, series, number)
                folder = self.published_root / str(info.id)
                if _copy_is_current(folder, info.digest):
                    return folder
                content = plans.version_content(s, info.id)
        except RecordNotFoundError:
            raise NotFoundError(f"unknown plan {series}@v{number}", key="unknown_plan",
                                name=f"{series}@v{number}") from None
        except InvalidRecordError as exc:
            raise UnreadablePlanError(version_key(series, number), str(exc)) from None
        with self._writing:  # one copy at a time: readers of a half-replaced copy would
            if not _copy_is_current(folder, info.digest):  # draw (and cache) a wrong file
                _write_version_folder(folder, content)
        return folder


def _copy_is_current(folder: Path, digest: str) -> bool:
    """Whether the copy in ``folder`` is of the version with ``digest`` (its ``plan.json``
    hashed once per modification)."""
    return file_digest(folder / PLAN_FILE) == digest


def _write_version_folder(folder: Path, content: VersionContent) -> None:
    """Write a version's frozen files to ``folder`` in one step (a temporary folder renamed
    into place), so readers never see half a copy."""
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.tmp")
    private_dir(tmp.parent)
    tmp.mkdir(mode=DIR_MODE)
    try:
        write_private(tmp / "plan.json", content.plan_json)
        if content.routes_geojson is not None:
            write_private(tmp / "routes.geojson", content.routes_geojson)
        if content.scenario_json is not None:
            write_private(tmp / "scenario.json", content.scenario_json)
        if folder.exists():
            stale = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.stale")
            folder.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        tmp.rename(folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not _copy_is_current(folder, sha256_hex(content.plan_json)):
            raise
