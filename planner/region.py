"""The region in one run: a base scenario for every province whose road data is available.

The provinces are the datasets known to the product (the embedded ones, Hà Giang and Cao
Bằng, and every province imported with ``planner geodata import --province``) that belong to
a province of the region; each gets the scenario ``planner scenario new`` writes for it
(:func:`planner.newscenario.starter_scenario_text`), and a sweep (:mod:`planner.sweep`) solves
them and reports each province's coverage against the programme targets, time and memory.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from geodata.datasets import known_datasets, load_dataset
from geodata.profiles import load_profiles
from geodata.region import fold, load_region
from planner.errors import PlannerError, Problem
from planner.newscenario import parse_vehicles, starter_scenario_text
from planner.scenario import load_scenario_text
from planner.servicearea import dataset_province
from planner.sweep import Base, ProvincesSpec, SweepError


def province_datasets() -> list[tuple[str, str]]:
    """(dataset name, province label) of every known dataset that is a province's."""
    region = load_region()
    out = []
    for name in known_datasets():
        try:
            province = dataset_province(load_dataset(name), region)
        except Exception:  # noqa: BLE001 - an unreadable user dataset is not a province
            continue
        if province is not None:
            out.append((name, province.label))
    return out


def _wanted(spec: ProvincesSpec, available: list[tuple[str, str]], file: str
            ) -> list[tuple[str, str]]:
    if spec.names == "all":
        return available
    out = []
    for i, asked in enumerate(spec.names):
        match = [(n, label) for n, label in available
                 if fold(asked) in (fold(n), fold(label), fold(label.removesuffix(
                     " (former province)")))]
        if not match:
            raise SweepError([Problem(file, f"provinces.names[{i}]", asked,
                                      "no road data of this province",
                                      "import it with `planner geodata import FILE --province "
                                      f"NAME`; available: {', '.join(n for n, _ in available)}"
                                      )])
        out += match
    return list(dict.fromkeys(out))


def province_bases(spec: ProvincesSpec, file: str) -> list[Base]:
    """One base scenario per province of ``spec`` whose road data is available."""
    try:
        vehicles = parse_vehicles(spec.vehicles, sorted(load_profiles()))
        start = dt.date.fromisoformat(spec.start) if spec.start else None
    except ValueError as exc:
        raise SweepError([Problem(file, "provinces", spec.vehicles if "vehicle" in str(exc)
                                  else spec.start, str(exc), "see docs/sweeps.md")]) from None
    wanted = _wanted(spec, province_datasets(), file)
    if not wanted:
        raise PlannerError("no province's road data is available: import one with "
                           "`planner geodata import FILE --province NAME`")
    out = []
    for name, _label in wanted:
        text, _ = starter_scenario_text(load_dataset(name), network=name, share=spec.share,
                                        vehicles=vehicles, days=spec.days, start=start,
                                        name=name.replace("_", "-"))
        label = f"{Path(file).name} (province {name})"
        scenario = load_scenario_text(text, label=label)
        out.append(Base(name, label, scenario.model_dump(mode="json", by_alias=True)))
    return out
