"""Where a plan comes from: the typed ``provenance`` of a plan (see ``docs/plan-format.md``).

A plan records what it was made from (scenario and data digests, the road network's report,
the snapping of every place), how it was searched (seed, limits, which search ran and why
another did not, its progress), what re-planning kept or moved, and the manual edits made to
it with the plan checker's findings. Each part is a frozen dataclass; :meth:`Provenance.
to_dict` writes the keys of ``plan.json`` and :meth:`Provenance.from_dict` reads every past
version of them (keys it does not know are kept in ``extra`` and written back unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


def _opt(kind: type, value: Any) -> Any:
    """``value`` as ``kind``, or ``None`` when it is missing or not of that kind."""
    if value is None:
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in value) if isinstance(value, list | tuple) else ()


@dataclass(frozen=True)
class PlanChanges:
    """What a re-plan changed against the plan it started from (:func:`planner.replan.
    plan_changes`): stops that changed vehicle, kept their vehicle but not their predecessor,
    were newly served, are no longer served."""

    moved: int = 0
    reordered: int = 0
    added: int = 0
    dropped: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanChanges:
        return cls(**{f.name: int(data.get(f.name) or 0) for f in fields(cls)})


@dataclass(frozen=True)
class ReplanRecord:
    """How a plan was re-planned from a previous one (:mod:`planner.replan`), and the reason
    given by whoever started it (``kind``: ``resolve``, ``closures`` or ``outcomes`` for the
    web UI's re-plans; empty for ``planner replan``)."""

    base_plan_created_at: str = ""
    base_scenario: str = ""
    kept_unchanged: bool = False  # every previous route still feasible: nothing moved
    broken_routes: tuple[str, ...] = ()
    new_stops: tuple[str, ...] = ()
    dropped_stops: tuple[str, ...] = ()
    done: tuple[str, ...] = ()
    locked: tuple[str, ...] = ()
    changes: PlanChanges = PlanChanges()
    kind: str = ""
    base: str = ""  # the plan or published version re-planned from (web UI)
    free: tuple[str, ...] = ()  # stops taken off the previous routes, free to go anywhere
    closures: tuple[str, ...] = ()  # closure ids added to the scenario

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], job: Mapping[str, Any]) -> ReplanRecord:
        """From ``provenance.replan`` and (plans of format version 1) ``replan_job``."""
        changes: Mapping[str, Any] = _mapping(data.get("changes"))
        if not changes:  # format version 1
            changes = _mapping(job.get("changes")) or {
                **data, "dropped": len(_strings(data.get("dropped_stops")))}
        return cls(
            base_plan_created_at=str(data.get("base_plan_created_at")
                                     or job.get("base_created_at") or ""),
            base_scenario=str(data.get("base_scenario") or ""),
            kept_unchanged=bool(data.get("kept_unchanged")),
            broken_routes=_strings(data.get("broken_routes")),
            new_stops=_strings(data.get("new_stops")),
            dropped_stops=_strings(data.get("dropped_stops")),
            done=_strings(data.get("done") or job.get("done")),
            locked=_strings(data.get("locked") or job.get("locked")),
            changes=PlanChanges.from_dict(changes),
            kind=str(data.get("kind") or job.get("kind") or ""),
            base=str(data.get("base") or job.get("base") or ""),
            free=_strings(data.get("free") or job.get("free")),
            closures=_strings(data.get("closures") or job.get("closures")))


@dataclass(frozen=True)
class ManualEdit:
    """One edit made by hand (:mod:`planner.edit`): when, by whom, on which plan, what
    (``edit``: the action as plain data), which routes it re-timed and how many violations
    the checker then found."""

    at: str
    by: str = ""
    base: str = ""
    base_created_at: str = ""
    edit: Mapping[str, Any] = field(default_factory=dict)
    from_vehicle: str | None = None
    changed_vehicles: tuple[str, ...] = ()
    violations: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ManualEdit:
        return cls(at=str(data.get("at") or ""), by=str(data.get("by") or ""),
                   base=str(data.get("base") or ""),
                   base_created_at=str(data.get("base_created_at") or ""),
                   edit=dict(_mapping(data.get("edit"))),
                   from_vehicle=_opt(str, data.get("from_vehicle")),
                   changed_vehicles=_strings(data.get("changed_vehicles")),
                   violations=int(data.get("violations") or 0))


@dataclass(frozen=True)
class Finding:
    """One violation the plan checker found (:class:`planner.check.Violation` as data): the
    English ``message``, and since format version 3 its catalogue ``key`` and ``values``
    (:mod:`planner.messages`) that pages word in their language."""

    kind: str
    message: str
    vehicle_id: str = ""
    commune_code: str = ""
    key: str = ""
    values: tuple[tuple[str, str | int | float], ...] = ()


def _values(data: Any) -> tuple[tuple[str, str | int | float], ...]:
    """A finding's values from ``[[name, value], ...]`` (numbers kept, anything else text)."""
    out: list[tuple[str, str | int | float]] = []
    for pair in data if isinstance(data, list) else ():
        if isinstance(pair, list) and len(pair) == 2:
            value = pair[1]
            out.append((str(pair[0]), value if isinstance(value, int | float)
                        and not isinstance(value, bool) else str(value)))
    return tuple(out)


@dataclass(frozen=True)
class CheckRecord:
    """The plan checker's findings on a plan, and when it ran."""

    at: str
    ok: bool
    violations: tuple[Finding, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckRecord:
        found = tuple(Finding(str(v.get("kind", "")), str(v.get("message", "")),
                              str(v.get("vehicle_id") or ""), str(v.get("commune_code") or ""),
                              str(v.get("key") or ""), _values(v.get("values")))
                      for v in data.get("violations") or () if isinstance(v, Mapping))
        return cls(at=str(data.get("at") or ""), ok=bool(data.get("ok", not found)),
                   violations=found)


@dataclass(frozen=True)
class PrecheckEntry:
    """A stop found unservable before solving, with its reason."""

    commune_code: str
    reason_code: str
    reason: str


@dataclass(frozen=True)
class RoadConditionsRecord:
    """The road conditions the plan was made under."""

    season: str = ""
    closures: tuple[str, ...] = ()
    closed_km: float = 0.0
    cut_off: Mapping[str, str] = field(default_factory=dict)  # commune code -> closures
    # when conditions change within the horizon: each period's dates, closures and season
    periods: tuple[ConditionPeriodRecord, ...] = ()


@dataclass(frozen=True)
class ConditionPeriodRecord:
    """Days ``first``..``last`` (ISO dates) with the same closures and season factors."""

    first: str
    last: str
    season: str = ""
    closures: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first, "last": self.last, "season": self.season,
                "closures": list(self.closures)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConditionPeriodRecord:
        return cls(str(data.get("first") or ""), str(data.get("last") or ""),
                   str(data.get("season") or ""), _strings(data.get("closures")))


@dataclass(frozen=True)
class Snap:
    """How far a place lies from the road network it was snapped to."""

    key: str  # depot id or commune code
    snap_m: float


@dataclass(frozen=True)
class AccessRecord:
    """Places far from the road network whose gap to it the plan's km and hours count
    (:mod:`planner.access`): ``gaps_m[profile][key]`` at ``speed_kmh``, counted beyond
    ``counted_beyond_m``; ``refused_beyond_m`` unless the scenario allowed the place."""

    speed_kmh: float
    counted_beyond_m: float
    refused_beyond_m: float
    gaps_m: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"speed_kmh": self.speed_kmh, "counted_beyond_m": self.counted_beyond_m,
                "refused_beyond_m": self.refused_beyond_m,
                "gaps_m": {p: dict(g) for p, g in self.gaps_m.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccessRecord:
        return cls(speed_kmh=float(data.get("speed_kmh") or 0.0),
                   counted_beyond_m=float(data.get("counted_beyond_m") or 0.0),
                   refused_beyond_m=float(data.get("refused_beyond_m") or 0.0),
                   gaps_m={str(p): {str(k): float(v) for k, v in _mapping(g).items()}
                           for p, g in _mapping(data.get("gaps_m")).items()})

    def place_gaps(self) -> dict[str, float]:
        """The largest gap of each place over the profiles, in metres."""
        out: dict[str, float] = {}
        for gaps in self.gaps_m.values():
            for key, m in gaps.items():
                out[key] = max(out.get(key, 0.0), m)
        return out


@dataclass(frozen=True)
class RotationRecord:
    """How the book batches of a plan were chosen (:mod:`planner.rotation`): the rounds of
    routing and assignment, whether the last routing used the crates of the last assignment
    (``stable``; else the routes were re-timed with them), the assignment's status, and the
    visits that got no batch."""

    rounds: int
    stable: bool
    assignment_status: str
    batches_at_library: int
    visits_without_batch: int
    # the scenario as given, before the batches set its crates (``scenario_digest`` is the
    # scenario routed, written beside the plan), and the content of each batch file
    input_scenario_digest: str = ""
    file_digests: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RotationRecord:
        files = data.get("file_digests")
        return cls(rounds=int(data.get("rounds") or 0), stable=bool(data.get("stable")),
                   assignment_status=str(data.get("assignment_status") or ""),
                   batches_at_library=int(data.get("batches_at_library") or 0),
                   visits_without_batch=int(data.get("visits_without_batch") or 0),
                   input_scenario_digest=str(data.get("input_scenario_digest") or ""),
                   file_digests={str(k): str(v) for k, v in files.items()}
                   if isinstance(files, Mapping) else {})


_SIMPLE = ("scenario_digest", "scenario_file", "data_digest", "network", "seed",
           "time_limit_s", "solution_limit", "first_solution", "local_search", "workers",
           "search_strategy", "search_local_search", "iterated_local_search_skipped",
           "pyvrp_seed_skipped", "solver_status", "objective", "solve_wall_s",
           "stop_reason", "best_found_s", "repaired_stops")


@dataclass(frozen=True)
class Provenance:
    """A plan's provenance (the fields are described in ``docs/plan-format.md``)."""

    scenario_digest: str | None = None
    scenario_file: str | None = None
    data_digest: str | None = None
    network: str | None = None
    seed: int | None = None
    time_limit_s: float | None = None
    solution_limit: int | None = None
    first_solution: str | None = None
    local_search: str | None = None
    workers: int | None = None
    search_strategy: str | None = None  # which search of planner.solve produced the routes
    search_local_search: str | None = None  # the metaheuristic that ran
    iterated_local_search_skipped: str | None = None  # why OR-Tools' ILS did not run
    precheck: tuple[PrecheckEntry, ...] = ()
    pyvrp_seed_skipped: str | None = None  # why PyVRP did not seed the search
    solver_status: str | None = None
    objective: int | None = None
    solve_wall_s: float | None = None
    # why the search stopped (planner.solution.STOP_*), when (seconds into the solve) the
    # plan's routes were found, and how many stops the repair pass inserted after the search
    stop_reason: str | None = None
    best_found_s: float | None = None
    repaired_stops: int | None = None
    progress: tuple[tuple[float, int], ...] = ()
    graph_report: Mapping[str, Any] = field(default_factory=dict)
    components: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    snapping: Mapping[str, tuple[Snap, ...]] = field(default_factory=dict)
    graph_cache_hit: bool | None = None
    matrices_cache_hit: bool | None = None
    road_conditions: RoadConditionsRecord | None = None
    timings_s: Mapping[str, float] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    replan: ReplanRecord | None = None
    manual_edits: tuple[ManualEdit, ...] = ()
    check: CheckRecord | None = None
    rotation: RotationRecord | None = None
    access: AccessRecord | None = None  # format 3: gaps to the road counted in the plan
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys this version does not know

    def far_from_roads(self, limit_m: float) -> tuple[str, ...]:
        """The places (commune codes, depot ids) more than ``limit_m`` from the road network
        of any profile."""
        return tuple(sorted({s.key for snaps in self.snapping.values() for s in snaps
                             if s.snap_m > limit_m}))

    def to_dict(self) -> dict[str, Any]:
        """The ``provenance`` object of ``plan.json`` (optional parts only when present)."""
        out: dict[str, Any] = {key: getattr(self, key) for key in _SIMPLE[:13]}
        out["precheck"] = [asdict(p) for p in self.precheck]
        out.update({key: getattr(self, key) for key in _SIMPLE[13:]})
        out["progress"] = [list(p) for p in self.progress]
        out["graph_report"] = dict(self.graph_report)
        out["components"] = {k: dict(v) for k, v in self.components.items()}
        out["snapping"] = {p: [asdict(s) for s in snaps] for p, snaps in self.snapping.items()}
        if self.graph_cache_hit is not None or self.matrices_cache_hit is not None:
            out["cache"] = {"graph_hit": self.graph_cache_hit,
                            "matrices_hit": self.matrices_cache_hit}
        if self.road_conditions is not None:
            rc = self.road_conditions
            out["road_conditions"] = {"season": rc.season, "closures": list(rc.closures),
                                      "closed_km": rc.closed_km, "cut_off": dict(rc.cut_off)}
            if rc.periods:
                out["road_conditions"]["periods"] = [p.to_dict() for p in rc.periods]
        out["timings_s"] = dict(self.timings_s)
        out["versions"] = dict(self.versions)
        if self.replan is not None:
            out["replan"] = _plain(asdict(self.replan))
        if self.manual_edits:
            out["manual_edits"] = [_plain(asdict(e)) for e in self.manual_edits]
        if self.check is not None:
            out["check"] = _plain(asdict(self.check))
        if self.rotation is not None:
            out["rotation"] = asdict(self.rotation)
        if self.access is not None:
            out["access"] = self.access.to_dict()
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        """Read ``provenance`` of any format version; missing parts stay empty."""
        data = _mapping(data)
        cache = _mapping(data.get("cache"))
        rc = data.get("road_conditions")
        replan, job = data.get("replan"), data.get("replan_job")
        known = set(_SIMPLE) | {"precheck", "progress", "graph_report", "components",
                                "snapping", "cache", "road_conditions", "timings_s", "versions",
                                "replan", "replan_job", "manual_edits", "check", "rotation",
                                "access"}
        kinds = {"seed": int, "time_limit_s": float, "solution_limit": int, "workers": int,
                 "objective": int, "solve_wall_s": float, "best_found_s": float,
                 "repaired_stops": int}
        return cls(
            **{key: _opt(kinds.get(key, str), data.get(key)) for key in _SIMPLE},
            precheck=tuple(PrecheckEntry(str(p.get("commune_code", "")),
                                         str(p.get("reason_code", "")), str(p.get("reason", "")))
                           for p in data.get("precheck") or () if isinstance(p, Mapping)),
            progress=tuple((float(a), int(b)) for a, b in data.get("progress") or ()),
            graph_report=dict(_mapping(data.get("graph_report"))),
            components={str(k): dict(_mapping(v))
                        for k, v in _mapping(data.get("components")).items()},
            snapping={str(p): tuple(Snap(str(s.get("key", "")), float(s.get("snap_m") or 0))
                                    for s in snaps if isinstance(s, Mapping))
                      for p, snaps in _mapping(data.get("snapping")).items()},
            graph_cache_hit=_opt(bool, cache.get("graph_hit")),
            matrices_cache_hit=_opt(bool, cache.get("matrices_hit")),
            road_conditions=None if not isinstance(rc, Mapping) else RoadConditionsRecord(
                season=str(rc.get("season") or ""), closures=_strings(rc.get("closures")),
                closed_km=float(rc.get("closed_km") or 0.0),
                cut_off={str(k): str(v) for k, v in _mapping(rc.get("cut_off")).items()},
                periods=tuple(ConditionPeriodRecord.from_dict(p) for p in rc.get("periods") or ()
                              if isinstance(p, Mapping))),
            timings_s={str(k): float(v) for k, v in _mapping(data.get("timings_s")).items()},
            versions={str(k): str(v) for k, v in _mapping(data.get("versions")).items()},
            replan=(ReplanRecord.from_dict(_mapping(replan), _mapping(job))
                    if isinstance(replan, Mapping) or isinstance(job, Mapping) else None),
            manual_edits=tuple(ManualEdit.from_dict(e) for e in data.get("manual_edits") or ()
                               if isinstance(e, Mapping)),
            check=(CheckRecord.from_dict(data["check"])
                   if isinstance(data.get("check"), Mapping) else None),
            rotation=(RotationRecord.from_dict(data["rotation"])
                      if isinstance(data.get("rotation"), Mapping) else None),
            access=(AccessRecord.from_dict(data["access"])
                    if isinstance(data.get("access"), Mapping) else None),
            extra={k: v for k, v in data.items() if k not in known})


def _plain(value: Any) -> Any:
    """Tuples and mappings of a dataclass dump as JSON lists and objects."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


__all__ = ["AccessRecord", "CheckRecord", "Finding", "ManualEdit", "PlanChanges",
           "PrecheckEntry", "Provenance", "ReplanRecord", "RoadConditionsRecord",
           "ConditionPeriodRecord",
           "RotationRecord", "Snap"]
