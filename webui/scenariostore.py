"""The scenarios the web UI can show, edit and solve: the YAML files of ``SCENARIOS_DIR``
(read-only: the UI never writes there) and the scenarios uploaded or edited in the UI, kept in
the database's ``scenarios`` table with who made and last changed them.

Validation is the command line's own: a scenario text is read with
:func:`planner.scenario.load_scenario_text` and checked against its data with
:func:`planner.pipeline.check_scenario`, exactly as ``planner validate`` reads a file, so a
page lists the same problems with the same field, value, message and fix. Only the labels
differ: a stored scenario is called ``NAME.yaml (database)``. ``extends:`` of a stored or
uploaded scenario may name only another scenario of the folder or the database (``NAME`` or
``NAME.yaml``), never a path (:meth:`ScenarioSources.lookup`), and its ``network:`` only a
road dataset by name (:func:`check_network_name`); a file of the folder extends and names
its dataset as it does on the command line.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from geodata.datasets import known_datasets
from planner.errors import Problem, ScenarioError
from planner.libraries import apply_library_values
from planner.pipeline import check_scenario, dataset_of
from planner.scenario import (
    ExtendsLookup,
    Scenario,
    ScenarioText,
    file_lookup,
    load_scenario,
    load_scenario_text,
)
from storage import Database, RecordNotFoundError, libraries, scenarios
from webui.errors import WebUIError

SOURCE_FILE = "file"
SOURCE_DATABASE = "database"
SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SCENARIO_SUFFIXES = (".yaml", ".yml")


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
            raise UnknownScenarioError(f"unknown scenario {name!r}", key="unknown_scenario",
                                       name=name)
        path = self.files().get(name)
        if path is not None:
            return self._file_entry(name, path)
        try:
            with self.database.begin() as s:
                return self._stored_entry(scenarios.get_scenario(s, name))
        except RecordNotFoundError:
            raise UnknownScenarioError(f"unknown scenario {name!r}", key="unknown_scenario",
                                       name=name) from None

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
        scenario = load_scenario_text(text, label=label,
                                      lookup=self.lookup(ScenarioText(text, label), name))
        check_network_name(scenario, file=label)
        if check_data:
            check_scenario_data(scenario, file=label)
        return scenario

    def lookup(self, main: ScenarioText, main_name: str | None = None) -> ExtendsLookup:
        """How ``extends:`` is resolved for the scenario ``main`` (to be stored as
        ``main_name``): from a file of the folder as the command line does (a path relative
        to it), from a stored or uploaded scenario by the name of another scenario."""
        files = {str(p) for p in self.files().values()}

        def find(value: Any, extender: str) -> ScenarioText:
            if extender in files:
                return file_lookup(value, extender)
            name = self._parent_name(value, main_name)
            if name is None:
                known = ", ".join(sorted(self.names())) or "—"
                raise ScenarioError([Problem(
                    extender, "extends", value,
                    "not the name of a scenario of the scenario folder or the database (a "
                    "stored scenario extends another one by its name, never by a path)",
                    f"use one of: {known}", key="problem_extends_unknown",
                    fix_key="problem_fix_use_scenario", values=(("names", known),))])
            if name == main_name and name not in self.files():
                return main  # the text under check itself: a loop, reported as such
            entry = self.get(name)
            if entry.path is not None:
                return ScenarioText(entry.path.read_bytes(), str(entry.path))
            return ScenarioText(entry.yaml_text, entry.label)

        return find

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


def check_network_name(scenario: Scenario, *, file: str) -> None:
    """A scenario of the web UI (uploaded, edited or stored) names its road dataset by name,
    one of :func:`geodata.datasets.known_datasets`: a folder path would let whoever edits
    scenarios learn which folders of the server exist. Files of the scenario folder, as on
    the command line, may name a path."""
    known = known_datasets()
    if scenario.network in known:
        return
    path = any(c in scenario.network for c in "/\\") or scenario.network.startswith(".")
    names = ", ".join(known) or "—"
    raise ScenarioError([Problem(
        file, "network", scenario.network,
        "a scenario of the web UI names its road dataset by name, never by a folder path"
        if path else "no road dataset has this name", f"use one of: {names}",
        key="problem_network_path" if path else "problem_network_unknown",
        fix_key="problem_fix_use_dataset", values=(("datasets", names),))])


def check_scenario_data(scenario: Scenario, *, file: str) -> None:
    """What ``planner validate`` checks after the schema (:func:`planner.pipeline.
    check_scenario`): the dataset, commune codes and vehicle profiles the scenario names."""
    check_scenario(scenario, dataset_of(scenario, file=file), file=file)


def scenario_yaml(data: dict[str, Any]) -> str:
    """A scenario mapping as the YAML text stored and solved (keys in schema order)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def solvable_text(sources: ScenarioSources, entry: ScenarioEntry) -> str:
    """The text a solve job gets for ``entry``: the scenario merged with what it extends,
    with the edited values of its communes' libraries (:mod:`planner.libraries`), validated;
    :class:`~planner.errors.ScenarioError` if it is not valid."""
    scenario = sources.load(entry)
    with sources.database.begin() as s:
        found = libraries.library_overrides(s, codes=[st.commune_code for st in scenario.stops])
    solved = apply_library_values(scenario, {code: o.values for code, o in found.items()},
                                  file=entry.label)
    edited = sorted(code for code in found if any(st.commune_code == code
                                                  for st in scenario.stops))
    head = [f"# scenario {entry.name} ({entry.source}: {entry.label}), resolved by the web UI",
            "# with everything it extends" + (
                f" and the edited library values of communes {', '.join(edited)}"
                if edited else "")]
    return "\n".join(head) + "\n" + scenario_yaml(solved.model_dump(mode="json", by_alias=True))
