"""The scenarios the web UI can show, edit and solve: the YAML files of ``SCENARIOS_DIR``
(read-only: the UI never writes there) and the scenarios uploaded or edited in the UI, kept in
the database's ``scenarios`` table with who made and last changed them.

Validation is the command line's own: the scenario's text (and, for a stored scenario, the
stored scenarios it extends) is written to a private temporary folder and read with
:func:`planner.scenario.load_scenario` and :func:`~planner.scenario.check_against_data`,
exactly as ``planner validate`` reads a file, so a page lists the same problems with the
same field, value, message and fix. Only the file names differ: a stored scenario is called
``NAME.yaml (database)``. ``extends:`` of a stored or uploaded scenario may name only another
scenario of the folder or the database (``NAME`` or ``NAME.yaml``), never a path; it is
checked before anything is read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from geodata.datasets import known_datasets, load_dataset
from geodata.errors import GeodataError
from geodata.profiles import load_profiles
from planner.errors import Problem, ScenarioError
from planner.scenario import Scenario, check_against_data, load_scenario
from storage import Database, RecordNotFoundError, libraries, scenarios
from webui.errors import WebUIError
from webui.overrides import apply_library_overrides

SOURCE_FILE = "file"
SOURCE_DATABASE = "database"
SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SCENARIO_SUFFIXES = (".yaml", ".yml")
_MAIN_FILE = ".scenario-under-check.yaml"  # never a scenario name: those start with [A-Za-z0-9]


class UnknownScenarioError(WebUIError, LookupError):
    """No scenario of the folder or the database has this name."""

    status = 404


class InvalidScenarioError(WebUIError, ValueError):
    """A scenario that cannot be solved or stored as it is; carries the problems."""

    status = 422

    def __init__(self, error: ScenarioError) -> None:
        self.problems = list(error.problems)
        super().__init__(str(error))


def scenario_files(folder: Path) -> dict[str, Path]:
    """``name -> file`` of the scenario files directly in ``folder`` (the same rule as the
    jobs page: ``NAME.yaml`` or ``NAME.yml`` with a plain name)."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.iterdir())
            if p.suffix in SCENARIO_SUFFIXES and p.is_file() and SCENARIO_NAME.match(p.stem)}


@dataclass(frozen=True)
class ScenarioEntry:
    """One scenario the UI offers: a file of the folder or a record of the database."""

    name: str
    source: str  # SOURCE_FILE or SOURCE_DATABASE
    yaml_text: str
    path: Path | None = None  # the file of a file scenario
    created_at: dt.datetime | None = None
    created_by: str | None = None
    updated_at: dt.datetime | None = None
    updated_by: str | None = None

    @property
    def stored(self) -> bool:
        return self.source == SOURCE_DATABASE

    @property
    def label(self) -> str:
        """How problems name the scenario: the file's path (as the CLI does), or
        ``NAME.yaml (database)``."""
        return str(self.path) if self.path is not None else database_label(self.name)


def database_label(name: str) -> str:
    return f"{name}.yaml (database)"


def _relabel(error: ScenarioError, labels: dict[str, str]) -> ScenarioError:
    """``error`` with the temporary files' paths replaced by the scenarios' labels."""
    def swap(value: Any) -> Any:
        return labels.get(value, value) if isinstance(value, str) else value

    return ScenarioError([dataclasses.replace(p, file=swap(p.file), value=swap(p.value))
                          for p in error.problems])


def _extends_value(text: bytes | str) -> tuple[bool, Any]:
    """Whether the text is a YAML mapping with ``extends:``, and its value (texts that
    are not valid YAML are left to the loader, which reports them as the CLI does)."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, UnicodeDecodeError):
        return False, None
    if isinstance(data, dict) and data.get("extends") is not None:
        return True, data["extends"]
    return False, None


@dataclass(frozen=True)
class ScenarioSources:
    """The scenario files of ``folder`` and the scenarios stored in ``database``."""

    folder: Path
    database: Database

    # --- reading --------------------------------------------------------------------------

    def files(self) -> dict[str, Path]:
        return scenario_files(self.folder)

    def names(self) -> list[str]:
        """Every scenario name: the files', then the stored ones not hidden by a file."""
        files = self.files()
        with self.database.begin() as s:
            stored = [info.name for info in scenarios.list_scenarios(s)]
        return list(files) + [n for n in stored if n not in files]

    def entries(self) -> list[ScenarioEntry]:
        """Every scenario: the files (by name), then the stored ones. A stored scenario
        whose name a file took later is hidden: a name means one scenario."""
        files = self.files()
        out = [self._file_entry(name, path) for name, path in files.items()]
        with self.database.begin() as s:
            infos = scenarios.list_scenarios(s)
        out += [self._stored_entry(i) for i in infos if i.name not in files]
        return out

    def get(self, name: str) -> ScenarioEntry:
        """The scenario called ``name`` (a file first); :class:`UnknownScenarioError`."""
        if not isinstance(name, str) or not SCENARIO_NAME.match(name):
            raise UnknownScenarioError(f"unknown scenario {name!r}")
        path = self.files().get(name)
        if path is not None:
            return self._file_entry(name, path)
        try:
            with self.database.begin() as s:
                return self._stored_entry(scenarios.get_scenario(s, name))
        except RecordNotFoundError:
            raise UnknownScenarioError(f"unknown scenario {name!r}") from None

    def exists(self, name: str) -> bool:
        try:
            self.get(name)
        except UnknownScenarioError:
            return False
        return True

    @staticmethod
    def _file_entry(name: str, path: Path) -> ScenarioEntry:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        return ScenarioEntry(name, SOURCE_FILE, text, path=path.resolve(), updated_at=stamp)

    @staticmethod
    def _stored_entry(info: scenarios.ScenarioInfo) -> ScenarioEntry:
        return ScenarioEntry(info.name, SOURCE_DATABASE, info.yaml_text,
                             created_at=info.created_at, created_by=info.created_by,
                             updated_at=info.updated_at, updated_by=info.updated_by)

    # --- validation -----------------------------------------------------------------------

    def load(self, entry: ScenarioEntry, *, check_data: bool = True) -> Scenario:
        """The scenario of ``entry``, merged with what it extends and validated like
        ``planner validate`` (:class:`~planner.errors.ScenarioError` with every problem)."""
        if entry.path is not None:  # a file: exactly the CLI's reading
            scenario = load_scenario(entry.path)
            if check_data:
                check_scenario_data(scenario, file=str(entry.path))
            return scenario
        return self.check_text(entry.yaml_text, label=entry.label, check_data=check_data)

    def check_text(self, text: str | bytes, *, label: str, check_data: bool = True,
                   name: str | None = None) -> Scenario:
        """Validate a scenario text (an upload, a form, a stored record) named ``label``
        in the problems; what it ``extends:`` is looked up by name. ``name`` is the name the
        text is to be stored under: a chain of ``extends:`` reaching it reaches this text
        (so a loop it would make is reported now, not after storing it)."""
        with self._materialised(text, label, name) as (main, labels):
            try:
                scenario = load_scenario(main)
                if check_data:
                    check_scenario_data(scenario, file=label)
            except ScenarioError as exc:
                raise _relabel(exc, labels) from None
        return scenario

    @contextmanager
    def _materialised(self, text: str | bytes, label: str, name: str | None
                      ) -> Iterator[tuple[Path, dict[str, str]]]:
        """A temporary folder holding the text as a file and, under the names its chain of
        ``extends:`` uses, the scenarios it extends (stored ones written out, files linked);
        yields the main file and ``path -> label`` of the written files."""
        tmp = Path(tempfile.mkdtemp(prefix="mlp-scenario-")).resolve()
        try:
            main = tmp / _MAIN_FILE
            main.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
            labels = {str(main): label}
            problems = self._link_parents(text, label, tmp, labels, set(), main, name)
            if problems:
                raise ScenarioError(problems)
            yield main, labels
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _link_parents(self, text: str | bytes, label: str, tmp: Path, labels: dict[str, str],
                      seen: set[str], main: Path, main_name: str | None) -> list[Problem]:
        has_parent, value = _extends_value(text)
        if not has_parent:
            return []
        name = self._parent_name(value, main_name)
        if name is None:
            known = ", ".join(sorted(self.names())) or "(none)"
            return [Problem(label, "extends", value,
                            "not the name of a scenario of the scenario folder or the database "
                            "(a stored scenario extends another one by its name, never by a "
                            "path)", f"use one of: {known}")]
        key = str(value)
        if key in seen:
            return []  # a loop: the loader reports it
        seen.add(key)
        target = tmp / key
        if name == main_name and name not in self.files():
            target.symlink_to(main)  # the text under check itself: a loop
            return []
        entry = self.get(name)
        if entry.path is not None:
            target.symlink_to(entry.path)
            return []
        target.write_text(entry.yaml_text, encoding="utf-8")
        labels[str(target)] = entry.label
        return self._link_parents(entry.yaml_text, entry.label, tmp, labels, seen, main,
                                  main_name)

    def _parent_name(self, value: Any, main_name: str | None = None) -> str | None:
        """The scenario an ``extends:`` value names (``NAME`` or ``NAME.yaml``), if any."""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return None
        text = str(value)
        candidates = [text] + [text[:-len(s)] for s in SCENARIO_SUFFIXES if text.endswith(s)]
        for candidate in candidates:
            if SCENARIO_NAME.match(candidate) and (candidate == main_name
                                                   or self.exists(candidate)):
                return candidate
        return None


def check_scenario_data(scenario: Scenario, *, file: str) -> None:
    """What ``planner validate`` checks after the schema: the commune codes and vehicle
    profiles the scenario names exist in its road dataset and the profiles."""
    try:
        dataset = load_dataset(scenario.network)
    except GeodataError as exc:
        raise ScenarioError([Problem(file, "network", scenario.network, str(exc),
                                     f"use one of: {', '.join(known_datasets())}")]) from None
    check_against_data(scenario, commune_codes=set(dataset.communes.index),
                       profiles=set(load_profiles()), file=file)


def scenario_yaml(data: dict[str, Any]) -> str:
    """A scenario mapping as the YAML text stored and solved (keys in schema order)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def solvable_text(sources: ScenarioSources, entry: ScenarioEntry) -> str:
    """The text a solve job gets for ``entry``: the scenario merged with what it extends,
    with the edited values of its communes' libraries (:mod:`webui.overrides`), validated;
    :class:`~planner.errors.ScenarioError` if it is not valid."""
    scenario = sources.load(entry)
    with sources.database.begin() as s:
        found = libraries.library_overrides(s, codes=[st.commune_code for st in scenario.stops])
    solved = apply_library_overrides(scenario, found, file=entry.label)
    edited = sorted(code for code in found if any(st.commune_code == code
                                                  for st in scenario.stops))
    head = [f"# scenario {entry.name} ({entry.source}: {entry.label}), resolved by the web UI",
            "# with everything it extends" + (
                f" and the edited library values of communes {', '.join(edited)}"
                if edited else "")]
    return "\n".join(head) + "\n" + scenario_yaml(solved.model_dump(mode="json", by_alias=True))
