"""Where the benchmark's own road datasets live, and the step that builds them.

The Hà Giang and Cao Bằng instances run on the datasets shipped with the planner
(``geodata/data/``). The Tuyên Quang instances run on the 2025 province cut out of the
14-province core road network of ``../shared/geodata-src`` (5 MB once imported): too large
and too derived to ship, so it is built on this machine by

    python -m benchmarks.scenarios build [--src ../shared/geodata-src] [--data-dir DIR]

which runs the product's own importer (``planner geodata import ... --province "Tuyên
Quang"``) into the benchmark data folder: ``$PLANNER_BENCH_DATA_DIR``, else
``benchmark-datasets`` in the planner's cache folder (``$PLANNER_CACHE_DIR``, default
``~/.cache/mobile-library-planner``). The runner points the planner at that folder
(``PLANNER_DATA_DIR``) while it runs, and builds the dataset itself when it is missing and
the sources are at hand.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from geodata.cache import cache_dir
from geodata.datasets import embedded_datasets
from geodata.importer import import_dataset

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SRC = ROOT.parent / "shared" / "geodata-src"


@dataclass(frozen=True)
class BenchDataset:
    name: str
    source: str  # path inside the sources folder
    province: str


DATASETS = (BenchDataset("tuyen_quang_core", "roads/osm2021_north14_roads_core.gpkg",
                         "Tuyên Quang"),)


class BenchDataError(RuntimeError):
    """A benchmark dataset is missing and cannot be built here."""


def bench_data_dir() -> Path:
    env = os.environ.get("PLANNER_BENCH_DATA_DIR")
    return Path(env).expanduser() if env else cache_dir() / "benchmark-datasets"


@contextlib.contextmanager
def benchmark_data(data_dir: Path | None = None) -> Iterator[Path]:
    """Point the planner's dataset lookup at the benchmark data folder while it is open (for
    this process and the solver processes it starts), as before afterwards."""
    folder = data_dir or bench_data_dir()
    before = os.environ.get("PLANNER_DATA_DIR")
    os.environ["PLANNER_DATA_DIR"] = str(folder)
    try:
        yield folder
    finally:
        if before is None:
            os.environ.pop("PLANNER_DATA_DIR", None)
        else:
            os.environ["PLANNER_DATA_DIR"] = before


def build(src: Path = DEFAULT_SRC, data_dir: Path | None = None, *,
          force: bool = False) -> list[Path]:
    """Import every benchmark dataset that is missing (all of them with ``force``)."""
    folder = data_dir or bench_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    built = []
    for ds in DATASETS:
        target = folder / ds.name
        if target.is_dir() and not force:
            continue
        source = src / ds.source
        if not source.is_file():
            raise BenchDataError(
                f"{source}: the source of benchmark dataset {ds.name} is missing; give the "
                "folder of the staged geodata sources with --src (../shared/geodata-src).")
        result = import_dataset(source, name=ds.name, out_dir=folder, province=ds.province,
                                force=force)
        built.append(result.path)
    return built


def ensure(networks: set[str], src: Path = DEFAULT_SRC, data_dir: Path | None = None) -> None:
    """Build the benchmark datasets ``networks`` need, if any is missing; say how otherwise."""
    folder = data_dir or bench_data_dir()
    wanted = [ds for ds in DATASETS if ds.name in networks and not (folder / ds.name).is_dir()]
    if not wanted:
        return
    try:
        build(src, folder)
    except BenchDataError as exc:
        raise BenchDataError(
            f"{exc} The instances on {', '.join(d.name for d in wanted)} need it: run "
            f"`python -m benchmarks.scenarios build --src DIR` (data folder {folder}, set "
            "PLANNER_BENCH_DATA_DIR to move it).") from None


def known_networks() -> set[str]:
    return set(embedded_datasets()) | {ds.name for ds in DATASETS}
