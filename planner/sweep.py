"""Sweeps: variants of scenarios (fleet, visit settings, season, closures, provinces or scenario
files) solved one by one and compared.

A sweep file (``SWEEP.yaml``, see ``docs/sweeps.md``) names its base scenarios (or the
provinces whose road data is available, each with a scenario to start from, as ``planner
scenario new`` writes it) and the axes to vary; :func:`load_sweep` validates it with the
scenario model's own rules and :func:`expand` makes one :class:`Variant` per base and
combination of axis values, each a complete scenario mapping that the one validator accepts.

A variant is solved by a :data:`VariantSolver`: a function of a :class:`Variant` returning a
:class:`VariantResult` (its KPIs, time, peak memory). :func:`solve_cycle` solves one rotation
cycle, :func:`solve_season_variant` a season (``periodic:``, schema 4); :func:`solve_variant`,
the engines' default, picks one by the variant's scenario (:attr:`Scenario.is_season`). A
sweep file's ``season:`` makes every base a season (its calendar, horizon and visit rule), so
its variants are solved as seasons. The engine that runs the variants (sequentially here,
:func:`run_sequential`; on Dask in :mod:`planner._dask`) does not know which solver it
runs. A variant that fails is retried once and then reported as failed; the others go on.

Every variant solves with ``solver.workers: 1``: Dask's worker processes are daemonic and
cannot start the product's second search process, and the sequential baseline does the same
so that the two compare like with like.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.errors import PlannerError, Problem, ScenarioError
from planner.inputlimits import InputLimitError, load_yaml, read_limited
from planner.kpis import PROGRAMME_TARGETS, Kpis, coverage
from planner.scenario import (
    MAX_SEED,
    MAX_SOLUTION_LIMIT,
    MAX_TIME_LIMIT_S,
    SCENARIO_LIMITS,
    Scenario,
    deep_merge,
    load_scenario,
    parse_scenario,
)

if TYPE_CHECKING:
    from planner.plan import Plan

SWEEP_VERSION = 1
MAX_VARIANTS = 500  # one sweep; a larger study is several sweeps
SEQUENTIAL_ATTEMPTS = 2  # a failed variant is tried once more, as Dask's retries=1 does


class SweepError(ScenarioError):
    """A sweep file is invalid: the problems found, each naming the file, field and value."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.args = (str(self.args[0]).replace(" in scenario:", " in sweep file:", 1),)


# ---------------------------------------------------------------------------------------------
# the sweep file


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClosureSet(_Model):
    """A named set of closures (each as in a scenario's ``road_conditions.closures``)."""

    name: str = Field(min_length=1, max_length=64)
    closures: tuple[dict[str, Any], ...] = ()


class Axes(_Model):
    """What varies; every combination of the values given is one variant of each base."""

    # vehicle entry id (or "id@depot", the vehicle based at another depot) -> count (0: none)
    fleet: tuple[dict[str, int], ...] = ()
    season: tuple[Literal["auto", "dry", "rainy"], ...] = ()
    service_minutes: tuple[int, ...] = ()  # minutes on site at every stop (visit settings)
    closures: tuple[ClosureSet, ...] = ()


class ExplicitVariant(_Model):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    set: dict[str, Any] = Field(default_factory=dict)  # a scenario fragment merged on the base


class ProvincesSpec(_Model):
    """Bases made for provinces whose road data is available (``planner scenario new``)."""

    names: Literal["all"] | tuple[str, ...] = "all"
    share: float = Field(default=0.15, gt=0, le=1)
    vehicles: str = "truck:1,van:1"
    days: int = Field(default=5, ge=1, le=31)
    start: str | None = None  # YYYY-MM-DD, default: next Monday


class SeasonSpec(_Model):
    """Plan every base as a season: the calendar, horizon and visit rule (``periodic:``) of a
    season scenario (``file``, relative to the sweep file), the horizon cut to ``days``."""

    file: str | None = None  # none: the bases are season scenarios already
    days: int | None = Field(default=None, ge=1, le=366)


class SweepSpec(_Model):
    sweep_version: Literal[1] = 1
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    scenarios: tuple[str, ...] = ()
    provinces: ProvincesSpec | None = None
    season: SeasonSpec | None = None
    time_limit_s: float = Field(default=10.0, gt=0, le=MAX_TIME_LIMIT_S)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    # stop each search after this many improving solutions (reproducible sweeps and tests)
    solution_limit: int | None = Field(default=None, ge=1, le=MAX_SOLUTION_LIMIT)
    axes: Axes = Axes()
    variants: tuple[ExplicitVariant, ...] = ()


@dataclass(frozen=True)
class Base:
    """A scenario a sweep varies: its label (file, or province) and validated mapping."""

    label: str
    file: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Variant:
    """One scenario of a sweep, ready to solve: a complete scenario mapping (JSON values only,
    so it travels to another process or machine), its labels and how long to search."""

    key: str
    base: str
    axes: Mapping[str, str]
    scenario_data: dict[str, Any]
    file: str
    time_limit_s: float
    seed: int = 0
    solution_limit: int | None = None

    def scenario(self) -> Scenario:
        """The variant's scenario, validated (with ``solver.workers: 1``)."""
        data = deep_merge(self.scenario_data, {"solver": {"workers": 1}})
        return parse_scenario(data, file=f"{self.file} (variant {self.key})")


def _problems(file: str, exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(file)"
        out.append(Problem(file, loc, err.get("input"), err["msg"],
                           "see docs/sweeps.md for the fields of a sweep file"))
    return out


def read_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file (the size and nesting limits of a scenario text)."""
    label = str(Path(path).resolve())
    try:
        data = load_yaml(read_limited(path, SCENARIO_LIMITS.max_bytes), SCENARIO_LIMITS)
    except FileNotFoundError:
        raise SweepError([Problem(label, "(file)", None, "no such file",
                                  "give the path of a sweep YAML file")]) from None
    except (OSError, InputLimitError, ValueError) as exc:  # also YAML and encoding errors
        raise SweepError([Problem(label, "(file)", None, f"not a readable sweep file: "
                                  f"{str(exc)[:200]}", "fix the YAML")]) from None
    if not isinstance(data, dict):
        raise SweepError([Problem(label, "(file)", type(data).__name__,
                                  "a sweep must be a YAML mapping of fields",
                                  "see docs/sweeps.md")])
    if "stops" in data or "vehicles" in data:
        raise SweepError([Problem(label, "(file)", None, "this is a scenario, not a sweep file",
                                  "write a sweep file that lists it under `scenarios:` (see "
                                  "scenarios/sweeps/ha-giang-fleet-season.yaml)")])
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise SweepError(_problems(label, exc)) from None
    if not spec.scenarios and spec.provinces is None:
        raise SweepError([Problem(label, "scenarios", None, "no scenario to vary",
                                  "list scenario files under `scenarios:`, or give "
                                  "`provinces: {names: all}`")])
    return spec


ProvinceBases = Callable[[ProvincesSpec, str], list[Base]]


def bases_of(spec: SweepSpec, *, file: str, provinces: ProvinceBases | None = None
             ) -> list[Base]:
    """The sweep's base scenarios: its files (relative to the sweep file's folder), then one
    per province made by ``provinces`` (see :func:`planner.region.province_bases`)."""
    folder = Path(file).parent
    out = []
    for i, name in enumerate(spec.scenarios):
        path = Path(name) if Path(name).is_absolute() else folder / name
        if not path.is_file():
            raise SweepError([Problem(file, f"scenarios[{i}]", name, "no such scenario file",
                                      "give a path relative to the sweep file's folder")])
        scenario = load_scenario(path)
        out.append(Base(scenario.name, str(path.resolve()),
                        scenario.model_dump(mode="json", by_alias=True)))
    if spec.provinces is not None:
        if provinces is None:
            from planner.region import province_bases
            provinces = province_bases
        out += provinces(spec.provinces, file)
    if spec.season is not None:
        season = None
        if spec.season.file is not None:
            name = spec.season.file
            season = load_season(Path(name) if Path(name).is_absolute() else folder / name,
                                 file=file, field_name="season.file")
        out = [replace(b, data=seasonal_data(b.data, season, days=spec.season.days,
                                             file=file, field_name="season"))
               for b in out]
    return out


def load_season(path: str | Path, *, file: str, field_name: str) -> Scenario:
    """The season scenario whose calendar, horizon and visit rule a sweep or a fleet sizing
    plans with; a :class:`SweepError` names ``file`` and ``field_name`` when it is missing or
    not a season scenario (the scenario's own problems name the season file)."""
    if not Path(path).is_file():
        raise SweepError([Problem(file, field_name, str(path), "no such season scenario file",
                                  "give a season scenario (schema_version 4 with `periodic:`), "
                                  "e.g. scenarios/ha-giang-2026-season.yaml")])
    season = load_scenario(path)
    if not season.is_season:
        raise SweepError([Problem(file, field_name, str(path), "not a season scenario: it has "
                                  "no `periodic:` section",
                                  "give a season scenario (schema_version 4 with `periodic:`), "
                                  "e.g. scenarios/ha-giang-2026-season.yaml")])
    return season


def seasonal_data(data: dict[str, Any], season: Scenario | None, *, days: int | None,
                  file: str, field_name: str) -> dict[str, Any]:
    """``data`` (a scenario mapping) planned as a season: the ``calendar``, ``horizon`` and
    ``periodic`` (visit rule) of ``season`` replace its own (its stops, vehicles, depots and
    road conditions stay), the horizon cut to ``days`` when given. With no ``season``,
    ``data`` must be a season scenario already (only ``days`` applies)."""
    if season is not None:
        own = season.model_dump(mode="json", by_alias=True)
        data = {**data, "schema_version": max(int(data.get("schema_version", 1)), 4),
                "calendar": own["calendar"], "horizon": own["horizon"],
                "periodic": own["periodic"]}
    elif not data.get("periodic"):
        raise SweepError([Problem(file, field_name, data.get("name"), "this base scenario is "
                                  "not a season scenario (no `periodic:`)",
                                  "give `season: {file: SEASON.yaml}`, a season scenario whose "
                                  "calendar, horizon and visit rule the bases take")])
    if days is not None:
        data = deep_merge(data, {"horizon": {"days": days}})
    return data


def fleet_data(data: dict[str, Any], fleet: Mapping[str, int], *, file: str,
               field_name: str) -> dict[str, Any]:
    """``data`` (a scenario mapping) with the vehicle entries of ``fleet``: entry id -> count,
    ``id@depot`` for that entry based at another depot; entries not named keep their count,
    a count of 0 leaves the entry out. A :class:`SweepError` names an unknown entry or depot."""
    entries = {v["id"]: v for v in data["vehicles"]}
    depots = [d["id"] for d in data["depots"]]
    out: dict[str, dict[str, Any]] = {k: dict(v) for k, v in entries.items()}
    for key, count in fleet.items():
        vid, _, depot = key.partition("@")
        if vid not in entries:
            raise SweepError([Problem(file, field_name, key, "no vehicle entry of this id",
                                      f"use one of: {', '.join(entries)}")])
        if depot and depot not in depots:
            raise SweepError([Problem(file, field_name, key, f"no depot {depot!r}",
                                      f"use one of: {', '.join(depots)}")])
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 50:
            raise SweepError([Problem(file, field_name, count, "a count of vehicles must be a "
                                      "whole number from 0 to 50", "e.g. `xe-tv-01: 2`")])
        if depot and depot != entries[vid]["depot"]:
            copy = dict(entries[vid], id=f"{vid}-{depot}", depot=depot, count=count or 1)
            copy["end_depot"] = None
            out[key] = copy
        else:
            out[vid] = dict(out[vid], count=count or 1)
        if count == 0:
            out.pop(key if depot and depot != entries[vid]["depot"] else vid)
    if not out:
        raise SweepError([Problem(file, field_name, dict(fleet), "leaves no vehicle",
                                  "keep at least one vehicle")])
    return {**data, "vehicles": list(out.values())}


def expand(spec: SweepSpec, bases: Sequence[Base], *, file: str) -> list[Variant]:
    """One variant per base and combination of the axes' values (the base as it is when no
    axis is given), then the explicit ones (each on every base); every variant validated
    now, so a bad value stops the sweep before anything is solved."""
    axes = spec.axes
    lists: list[list[tuple[str, str, Any]]] = []
    if axes.fleet:
        lists.append([("fleet", fleet_label(f), (i, f)) for i, f in enumerate(axes.fleet)])
    if axes.season:
        lists.append([("season", s, s) for s in axes.season])
    if axes.service_minutes:
        lists.append([("service_minutes", str(m), m) for m in axes.service_minutes])
    if axes.closures:
        lists.append([("closures", c.name, c) for c in axes.closures])
    combos = list(itertools.product(*lists))
    out: list[Variant] = []
    where: dict[str, str] = {}  # variant key -> what in the sweep file made it
    for base in bases:
        for combo in combos:
            data = base.data
            labels = {}
            for axis, label, value in combo:
                labels[axis] = label
                data = _apply_axis(data, axis, value, file=file)
            key = "_".join([base.label, *(labels[a] for a, _, _ in combo)]) if combo \
                else base.label
            out.append(Variant(key, base.label, labels, data, base.file, spec.time_limit_s,
                               spec.seed, spec.solution_limit))
            where[key] = "axes (" + ", ".join(f"{a}={lab}" for a, lab, _ in combo) + ")"
        for j, ev in enumerate(spec.variants):
            key = f"{base.label}_{ev.name}"
            out.append(Variant(key, base.label, {"variant": ev.name},
                               deep_merge(base.data, ev.set), base.file, spec.time_limit_s,
                               spec.seed, spec.solution_limit))
            where[key] = f"variants[{j}].set"
    if len(out) > MAX_VARIANTS:
        raise SweepError([Problem(file, "axes", len(out), f"more than {MAX_VARIANTS} variants",
                                  "split the sweep into several files")])
    keys = Counter(v.key for v in out)
    if (twice := [k for k, n in keys.items() if n > 1]):
        raise SweepError([Problem(file, "variants", twice[0], "two variants of one name",
                                  "give each explicit variant its own name")])
    problems: list[Problem] = []
    for v in out:
        try:
            v.scenario()
        except ScenarioError as exc:  # named in the sweep file, with the base scenario's file
            problems += [Problem(file, f"{where[v.key]} on {v.file}: {p.field}", p.value,
                                 p.message, p.fix) for p in exc.problems]
    if problems:
        raise SweepError(problems)
    return out


def fleet_label(fleet: Mapping[str, int]) -> str:
    """``xe-tv-01x2+xe-van-02x1`` (entries with a count of 0 left out)."""
    return "+".join(f"{k}x{n}" for k, n in fleet.items() if n) or "none"


def _apply_axis(data: dict[str, Any], axis: str, value: Any, *, file: str) -> dict[str, Any]:
    if axis == "fleet":
        index, fleet = value
        return fleet_data(data, fleet, file=file, field_name=f"axes.fleet[{index}]")
    if axis == "season":
        return deep_merge(data, {"road_conditions": {"season": value}})
    if axis == "service_minutes":
        return {**data, "stops": [dict(s, service_minutes=value) for s in data["stops"]]}
    closures = [*data.get("road_conditions", {}).get("closures", ()), *value.closures]
    return deep_merge(data, {"road_conditions": {"closures": closures}})


def load_sweep(path: str | Path, *, provinces: ProvinceBases | None = None
               ) -> tuple[SweepSpec, list[Variant]]:
    """A sweep file's spec and its variants, all validated."""
    file = str(Path(path).resolve())
    spec = read_sweep(path)
    return spec, expand(spec, bases_of(spec, file=file, provinces=provinces), file=file)


# ---------------------------------------------------------------------------------------------
# solving a variant


@dataclass(frozen=True)
class VariantResult:
    """What a variant's solve gave: its KPIs (``Kpis.to_dict``), the search's objective and
    status, why communes were left out (reason code -> count), the vehicles used, time and
    peak memory; or the error of its last attempt."""

    key: str
    base: str
    axes: Mapping[str, str]
    status: Literal["ok", "failed"]
    kpis: Mapping[str, Any] | None = None
    objective: int | None = None
    solver_status: str = ""
    unserved_reasons: Mapping[str, int] = field(default_factory=dict)
    vehicles: int = 0
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    attempts: int = 1
    error: str = ""
    worker: str = ""
    # a season's figures beyond its KPIs (solve_season_variant): its start, days and
    # periods, visits due, on trips and missed, communes visited at least once
    season: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def kpi(self) -> Kpis:
        return Kpis.from_dict(self.kpis or {})

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "base": self.base, "axes": dict(self.axes),
                "status": self.status, "kpis": dict(self.kpis) if self.kpis else None,
                "objective": self.objective, "solver_status": self.solver_status,
                "unserved_reasons": dict(self.unserved_reasons), "vehicles": self.vehicles,
                "wall_s": self.wall_s, "peak_rss_mb": self.peak_rss_mb,
                "attempts": self.attempts, "error": self.error, "worker": self.worker,
                "season": dict(self.season)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariantResult:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


VariantSolver = Callable[[Variant], VariantResult]


class PeakMemory:
    """The peak resident memory of this process while a block runs, sampled every 50 ms
    (a solve's peak is its matrices and search, seconds long)."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _rss(self) -> int:
        import psutil

        return int(psutil.Process().memory_info().rss)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_bytes = max(self.peak_bytes, self._rss())

    def __enter__(self) -> PeakMemory:
        self.peak_bytes = self._rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self._rss())


def _result(variant: Variant, scenario: Scenario, plan: Plan, kpis: Kpis, *, t0: float,
            mem: PeakMemory, season: Mapping[str, Any] | None = None) -> VariantResult:
    import os
    import socket

    return VariantResult(
        key=variant.key, base=variant.base, axes=variant.axes, status="ok",
        kpis=kpis.to_dict(), objective=plan.provenance.objective,
        solver_status=plan.provenance.solver_status or "",
        unserved_reasons=dict(Counter(u.reason_code for u in plan.unserved)),
        vehicles=sum(v.count for v in scenario.vehicles),
        wall_s=round(time.perf_counter() - t0, 3), peak_rss_mb=round(mem.peak_bytes / 2**20, 1),
        worker=f"{socket.gethostname()}:{os.getpid()}", season=season or {})


def solve_cycle(variant: Variant) -> VariantResult:
    """Solve one rotation cycle of ``variant`` (``planner solve``'s pipeline, one search
    process); an error propagates, for the engine to retry or report."""
    from planner.pipeline import solve_scenario

    scenario = variant.scenario()
    t0 = time.perf_counter()
    with PeakMemory() as mem:
        solved = solve_scenario(scenario, scenario_file=variant.file,
                                time_limit_s=variant.time_limit_s, seed=variant.seed,
                                solution_limit=variant.solution_limit)
    return _result(variant, scenario, solved.plan, solved.plan.kpis, t0=t0, mem=mem)


def solve_season_variant(variant: Variant) -> VariantResult:
    """Plan the season of ``variant`` (:func:`planner.season.solve_season`, one search
    process; ``time_limit_s`` is each period's routing search, ``solution_limit`` each
    period's too). Its KPIs are the whole season's (visits, trips, km, cost, nights); a
    commune counts as served when every visit its rule makes due is on a trip
    (:func:`planner.season.communes_on_rule`), so coverage (:func:`planner.kpis.coverage`)
    is the share of communes served by their visit rule."""
    from planner.season import communes_on_rule, solve_season

    scenario = variant.scenario()
    if not scenario.is_season:
        raise PlannerError(f"variant {variant.key}: not a season scenario (no `periodic:`)")
    if variant.solution_limit is not None:
        scenario = scenario.model_copy(update={"solver": scenario.solver.model_copy(
            update={"solution_limit": variant.solution_limit})})
    t0 = time.perf_counter()
    with PeakMemory() as mem:
        solved = solve_season(scenario, scenario_file=variant.file,
                              time_limit_s=variant.time_limit_s, seed=variant.seed)
    plan = solved.plan
    assert plan.season is not None
    on_rule = communes_on_rule(plan)
    due = [v for c in plan.season.communes for v in c.visits]
    season = {"start_date": plan.start_date.isoformat(), "days": plan.horizon_days,
              "periods": len(plan.season.periods), "visits_due": len(due),
              "visits": sum(1 for v in due if v.trip_id),
              "visits_missed": sum(1 for v in due if not v.trip_id),
              "communes_visited": plan.kpis.communes_served,
              "communes_on_rule": len(on_rule)}
    return _result(variant, scenario, plan, plan.kpis.with_served(len(on_rule)), t0=t0,
                   mem=mem, season=season)


def solve_variant(variant: Variant) -> VariantResult:
    """The engines' default solver: a season scenario's variant as a season
    (:func:`solve_season_variant`), any other as one cycle (:func:`solve_cycle`)."""
    if variant.scenario().is_season:
        return solve_season_variant(variant)
    return solve_cycle(variant)


def failed_result(variant: Variant, error: BaseException | str, *, attempts: int
                  ) -> VariantResult:
    """The report of a variant that failed every attempt: the last error, one paragraph."""
    if isinstance(error, BaseException):
        text = "".join(traceback.format_exception_only(type(error), error)).strip()
    else:
        text = error
    return VariantResult(key=variant.key, base=variant.base, axes=variant.axes,
                         status="failed", attempts=attempts, error=text[:2000])


Progress = Callable[[int, int, VariantResult], None]


@dataclass(frozen=True)
class SweepRun:
    """A sweep's results in the order of its variants, how it ran and how long it took."""

    name: str
    results: tuple[VariantResult, ...]
    wall_s: float
    engine: str  # "sequential", "dask local 2 workers", "dask tcp://..."
    workers: int

    @property
    def failed(self) -> tuple[VariantResult, ...]:
        return tuple(r for r in self.results if not r.ok)


def run_sequential(variants: Sequence[Variant], solver: VariantSolver = solve_variant, *,
                   name: str = "sweep", on_progress: Progress | None = None) -> SweepRun:
    """Solve the variants one after another in this process (the baseline of the speed-up),
    each failure retried once."""
    t0 = time.perf_counter()
    out = []
    for i, v in enumerate(variants):
        result = None
        for attempt in range(1, SEQUENTIAL_ATTEMPTS + 1):
            try:
                result = replace(solver(v), attempts=attempt)
                break
            except Exception as exc:  # noqa: BLE001 - a variant fails alone, reported
                error: BaseException = exc
        if result is None:
            result = failed_result(v, error, attempts=SEQUENTIAL_ATTEMPTS)
        out.append(result)
        if on_progress is not None:
            on_progress(i + 1, len(variants), result)
    return SweepRun(name, tuple(out), round(time.perf_counter() - t0, 3), "sequential", 1)


class SequentialEngine:
    """The engine of the sequential baseline, with the interface of
    :class:`planner._dask.DaskEngine` (a context manager whose :meth:`run` solves a batch)."""

    description = "sequential"
    workers = 1

    def __enter__(self) -> SequentialEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, variants: Sequence[Variant], solver: VariantSolver = solve_variant, *,
            name: str = "sweep", on_progress: Progress | None = None) -> SweepRun:
        return run_sequential(variants, solver, name=name, on_progress=on_progress)


# ---------------------------------------------------------------------------------------------
# comparison


COMPARISON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("communes_served", "served"), ("service_area_share", "share"),
    *((f"meets_{t.year}", f"{t.share:.0%} ({t.year})") for t in PROGRAMME_TARGETS),
    ("visits", "visits"), ("trips", "trips"), ("nights_away", "nights"), ("km", "km"),
    ("cost_vnd", "cost, VND"), ("wall_s", "time, s"),
    ("peak_rss_mb", "peak memory, MB"),
)


def comparison_value(result: VariantResult, key: str) -> Any:
    """A cell of the comparison table (None where the variant has no value)."""
    if key in ("wall_s", "peak_rss_mb", "vehicles", "attempts"):
        return getattr(result, key)
    if not result.ok:
        return None
    kpis = result.kpi()
    if key.startswith("meets_"):
        return kpis.meets_target.get(key.removeprefix("meets_"))
    if key == "visits":  # a cycle visits each commune it serves once
        return result.season.get("visits", kpis.communes_served)
    return getattr(kpis, key)


def target_progress(result: VariantResult) -> list[tuple[str, float, int, int]]:
    """For each programme target: (year, share, communes needed, communes still missing)."""
    kpis = result.kpi()
    return [(t.year, t.target, t.needed, t.missing) for t in kpis.target_progress()]


def share_of(result: VariantResult) -> float:
    """The variant's coverage (:func:`planner.kpis.coverage`); 0 for a failed variant."""
    if not result.ok:
        return 0.0
    kpis = result.kpi()
    return coverage(kpis.communes_served, kpis.service_area_communes)


def speedup(sequential_s: float, parallel_s: float) -> float:
    return sequential_s / parallel_s if parallel_s > 0 else math.nan


__all__ = ["Axes", "Base", "PeakMemory", "SeasonSpec", "SequentialEngine", "SweepError",
           "SweepRun", "SweepSpec", "Variant",
           "VariantResult", "VariantSolver", "bases_of", "expand", "failed_result",
           "fleet_data", "fleet_label", "load_season", "load_sweep", "read_sweep",
           "run_sequential", "seasonal_data", "share_of", "solve_cycle", "solve_season_variant",
           "solve_variant", "speedup"]

