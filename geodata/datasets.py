"""Embedded and user datasets: road lines, province outline, communes and libraries.

A dataset is a folder holding ``dataset.yaml`` (title, attribution, notes; optionally
``title_<lang>`` and ``notes_<lang>``, the notes in another language in the same order),
``roads.parquet`` (GeoParquet road lines with OpenMapTiles attributes), ``boundary.parquet``,
``communes.parquet`` and ``libraries.csv``, optionally ``places.geojson`` (named villages and
landmarks, for printed directions), with ``SOURCES.md`` and licence files beside them.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import yaml

from geodata.errors import DataFileMissingError, GeodataError, UnknownDatasetError

DATA_DIR = Path(__file__).resolve().parent / "data"
REQUIRED_FILES = ("dataset.yaml", "roads.parquet", "boundary.parquet", "communes.parquet",
                  "libraries.csv")




def user_data_dir() -> Path:
    """Where ``planner geodata import`` puts datasets by default, outside the installed
    package: ``$PLANNER_DATA_DIR``, else ``$XDG_DATA_HOME/mobile-library-planner/datasets``
    (``~/.local/share/mobile-library-planner/datasets``)."""
    env = os.environ.get("PLANNER_DATA_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "mobile-library-planner" / "datasets"


def _datasets_in(folder: Path) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir()
                      if not p.name.startswith(".") and (p / "dataset.yaml").is_file())
    except OSError:  # absent or unreadable: no dataset there
        return []


def embedded_datasets() -> list[str]:
    """The datasets shipped with the product (``geodata/data``)."""
    return _datasets_in(DATA_DIR)


def known_datasets() -> list[str]:
    """Dataset names: the embedded ones, then the user's (:func:`user_data_dir`) that an
    embedded one of the same name does not hide."""
    embedded = embedded_datasets()
    return embedded + [n for n in _datasets_in(user_data_dir()) if n not in embedded]


@dataclass(frozen=True)
class Place:
    """A named point of the dataset: a village, hamlet, town (``layer="place"``) or a
    landmark such as a school or a market (``layer="poi"``)."""

    name: str
    kind: str
    layer: str
    lon: float
    lat: float


@dataclass(frozen=True)
class Dataset:
    """A read-only dataset folder; tables are read lazily and once."""

    name: str
    path: Path
    manifest: dict = field(repr=False, compare=False)

    @property
    def title(self) -> str:
        return str(self.manifest.get("title", self.name))

    def title_in(self, lang: str) -> str:
        """The title in ``lang`` (``title_<lang>`` of the manifest), else the title."""
        return str(self.manifest.get(f"title_{lang}") or self.title)

    def notes_in(self, lang: str) -> list[str]:
        """The notes in ``lang`` (``notes_<lang>``, in the order of ``notes``), else the
        notes as written."""
        translated = self.manifest.get(f"notes_{lang}")
        notes = self.notes
        if isinstance(translated, list) and len(translated) == len(notes):
            return [str(n) for n in translated]
        return notes

    @property
    def attribution(self) -> str:
        return str(self.manifest.get("attribution", ""))

    @property
    def notes(self) -> list[str]:
        return list(self.manifest.get("notes", []))

    @cached_property
    def digest(self) -> str:
        """SHA-256 over the data files' bytes: the key of every cache built from them."""
        h = hashlib.sha256()
        for name in REQUIRED_FILES:
            h.update(name.encode())
            h.update((self.path / name).read_bytes())
        return h.hexdigest()

    def file(self, name: str) -> Path:
        return self.path / name

    def roads(self) -> gpd.GeoDataFrame:
        return gpd.read_parquet(self.path / "roads.parquet")

    def boundary(self) -> gpd.GeoDataFrame:
        return gpd.read_parquet(self.path / "boundary.parquet")

    @cached_property
    def communes(self) -> gpd.GeoDataFrame:
        gdf = gpd.read_parquet(self.path / "communes.parquet")
        return gdf.set_index("commune_code", drop=False)

    @cached_property
    def places(self) -> tuple[Place, ...]:
        """The dataset's named places and landmarks (``places.geojson``; empty when the
        dataset has none): what printed directions name along a route."""
        path = self.path / "places.geojson"
        if not path.is_file():
            return ()
        data = json.loads(path.read_text(encoding="utf-8"))
        out = []
        for f in data.get("features") or ():
            props, geom = f.get("properties") or {}, f.get("geometry") or {}
            coords: list[Any] = list(geom.get("coordinates") or ())
            if geom.get("type") == "Point" and len(coords) >= 2 and props.get("name"):
                out.append(Place(str(props["name"]), str(props.get("kind") or ""),
                                 str(props.get("layer") or "place"),
                                 float(coords[0]), float(coords[1])))
        return tuple(out)

    @cached_property
    def libraries(self) -> pd.DataFrame:
        # ids and codes are text: "007" stays "007", and "7" and "007" stay two libraries
        return pd.read_csv(self.path / "libraries.csv",
                           dtype={"library_id": str, "commune_2025_code": str})


VERSIONS_DIR = ".versions"
"""Beside a user's datasets: ``.versions/<name>/<digest[:16]>/`` keeps each dataset a
re-import (``--force``) replaced, so plans made on it can still be checked on their roads."""


def version_folder(dataset_path: Path, name: str, digest: str) -> Path:
    return dataset_path.parent / VERSIONS_DIR / name / digest[:16]


def pinned_version(dataset: Dataset, digest: str | None) -> Dataset | None:
    """``dataset`` as it was when its digest was ``digest``: the current folder if it still
    is, else the version a re-import kept; None when neither has that digest (no digest:
    the current folder)."""
    if not digest or dataset.digest == digest:
        return dataset
    folder = version_folder(dataset.path, dataset.name, digest)
    if not _is_folder(folder, "dataset.yaml"):
        return None
    kept = load_dataset(folder)
    kept = Dataset(name=dataset.name, path=kept.path, manifest=kept.manifest)
    return kept if kept.digest == digest else None


def _is_folder(path: Path, holding: str = "") -> bool:
    """Whether ``path`` is a folder (holding the file ``holding``); False for a name the system
    cannot look up at all (too long, a NUL byte...)."""
    try:
        return path.is_dir() and (not holding or (path / holding).exists())
    except (OSError, ValueError):
        return False


def load_dataset(name_or_path: str | Path) -> Dataset:
    """Open a dataset by name (a folder under ``geodata/data``, else under
    :func:`user_data_dir`) or by folder path."""
    if not str(name_or_path).strip():
        raise UnknownDatasetError(str(name_or_path), known_datasets())
    candidate = Path(name_or_path)
    if not _is_folder(candidate, "dataset.yaml"):
        candidate = DATA_DIR / str(name_or_path)
        if not _is_folder(candidate):
            candidate = user_data_dir() / str(name_or_path)
        if not _is_folder(candidate):
            raise UnknownDatasetError(str(name_or_path), known_datasets())
    for name in REQUIRED_FILES:
        if not (candidate / name).is_file():
            raise DataFileMissingError(
                candidate / name, what=f"file of dataset {candidate.name!r}",
                fix="Restore it from git (git checkout -- geodata/data) or rebuild the dataset "
                    "with `python -m geodata.build_default --src ../shared/geodata-src`.")
    try:
        manifest = yaml.safe_load((candidate / "dataset.yaml").read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise GeodataError(f"{candidate / 'dataset.yaml'}: not valid YAML: {exc}") from None
    return Dataset(name=candidate.name, path=candidate.resolve(), manifest=manifest)
