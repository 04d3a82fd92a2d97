"""Scenario -> road network -> routing problem -> search -> plan.

This is the one module that joins :mod:`geodata` and the planner. Each step is a named
function returning an immutable object; the road graph and the matrices are cached on disk
under digests of everything they were computed from (:mod:`geodata.graphs`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import platform
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import Any

import numpy as np

from geodata.closures import (
    Closure,
    ClosureError,
    ConditionPeriod,
    RoadConditions,
    Season,
    condition_periods,
    road_conditions,
)
from geodata.datasets import Dataset, known_datasets, load_dataset, pinned_version
from geodata.errors import GeodataError, UnknownDatasetError
from geodata.graphs import cached_matrices, cut_off, load_road_graph
from geodata.network import RoadGraph
from geodata.profiles import load_profiles
from geodata.routing import FAR_FROM_ROADS_M, Matrices, ProfileGraph, profile_graph, snap_points
from planner import access, solve
from planner.errors import PlannerError, Problem, ScenarioError
from planner.explain import explain_budget_s, explain_unserved, precheck, untimed
from planner.plan import Plan, Unserved, assemble_plan
from planner.problem import DatedMatrices, Place, RoutingProblem, build_problem, worst_matrices
from planner.provenance import (
    AccessRecord,
    ConditionPeriodRecord,
    PrecheckEntry,
    Provenance,
    RoadConditionsRecord,
    RotationRecord,
    Snap,
)
from planner.replan import replan_record, replan_setup
from planner.rotation import (
    assign_batches,
    assigned_scenario,
    crates_of,
    expected_scenario,
    load_rotation,
    with_batches,
)
from planner.scenario import ROTATION_PATHS, Scenario, check_against_data, load_scenario
from planner.schedule import RouteTiming
from planner.servicearea import service_area_of
from planner.solution import ProgressCallback, SolveProgress

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class NetworkPeriod:
    """Days ``first_day``..``last_day`` of the horizon with their own road conditions."""

    first_day: int
    last_day: int
    conditions: RoadConditions
    pgraphs: dict[str, ProfileGraph]
    matrices: dict[str, Matrices]


@dataclass(frozen=True, eq=False)
class Network:
    """Everything geographic a solve needs, per vehicle profile."""

    dataset: Dataset
    graph: RoadGraph
    graph_cache_hit: bool
    places: tuple[Place, ...]
    profiles: tuple[str, ...]
    pgraphs: dict[str, ProfileGraph]
    matrices: dict[str, Matrices]
    snap_m: dict[str, np.ndarray]
    matrix_cache_hit: bool
    timings_s: dict[str, float]
    conditions: RoadConditions | None = None
    cut_off: dict[int, str] = field(default_factory=dict)  # place -> closures that cut it off
    # per profile, per place: the gap to the road the matrices count (planner.access)
    gaps_m: dict[str, np.ndarray] = field(default_factory=dict)
    # road conditions that change within the horizon: each period's graphs and matrices
    # (``pgraphs`` and ``matrices`` then hold the horizon's worst; see
    # :attr:`planner.problem.RoutingProblem.periods`). Empty when nothing changes.
    periods: tuple[NetworkPeriod, ...] = ()

    def dated(self) -> tuple[DatedMatrices, ...]:
        """Each period's matrices, as :func:`planner.problem.build_problem` takes them."""
        return tuple(DatedMatrices(p.first_day, p.last_day,
                                   {n: m.time_s for n, m in p.matrices.items()},
                                   {n: m.distance_m for n, m in p.matrices.items()})
                     for p in self.periods)

    def access_record(self) -> AccessRecord | None:
        """The gaps counted, for the plan's provenance (None when there is none)."""
        gaps = {p: {self.places[i].key: round(float(g[i]), 1) for i in np.flatnonzero(g)}
                for p, g in self.gaps_m.items() if g.any()}
        if not gaps:
            return None
        return AccessRecord(speed_kmh=access.ACCESS_SPEED_KMH,
                            counted_beyond_m=access.WARN_M, refused_beyond_m=access.ERROR_M,
                            gaps_m=gaps)


def dataset_of(scenario: Scenario, *, file: str = "<scenario>",
               data_digest: str | None = None) -> Dataset:
    """The road dataset the scenario plans on (field ``network``); a
    :class:`~planner.errors.ScenarioError` naming the field when there is none. With
    ``data_digest`` (a plan's), the dataset as it was then: the current one, or the version
    a re-import kept; never other roads (a :class:`~planner.errors.PlannerError` says so)."""
    try:
        dataset = load_dataset(scenario.network)
    except GeodataError as exc:
        known = ", ".join(known_datasets())
        key = ("problem_network_unknown" if isinstance(exc, UnknownDatasetError)
               else "problem_dataset_unreadable")
        raise ScenarioError([Problem(file, "network", scenario.network, str(exc),
                                     f"use one of: {known}", key=key,
                                     fix_key="problem_fix_use_dataset",
                                     values=(("detail", str(exc)), ("datasets", known)))
                             ]) from None
    pinned = pinned_version(dataset, data_digest)
    if pinned is None:
        raise PlannerError(
            f"the road data this plan was made with (dataset {dataset.name!r}, digest "
            f"{str(data_digest)[:16]}) is no longer available: the dataset was replaced and "
            f"its earlier version was not kept (in {dataset.path.parent / '.versions'}). "
            f"Re-plan on the current data with `planner solve`, or restore that dataset.")
    return pinned


def check_scenario(scenario: Scenario, dataset: Dataset, *, file: str = "<scenario>") -> None:
    """What a scenario must agree on with its data, after its own schema: every commune code
    it names is a commune of ``dataset`` and every vehicle profile exists. The one check the
    command line (``planner validate``, ``planner solve``) and the web UI run."""
    check_against_data(scenario, commune_codes=set(dataset.communes.index),
                       profiles=set(load_profiles()), file=file)
    service_area_of(scenario, dataset, file=file)


def places_of(scenario: Scenario, dataset: Dataset) -> tuple[Place, ...]:
    """The problem's places: the depots, then the stops, at their given points or at their
    communes' points in the dataset."""
    communes = dataset.communes
    out = []
    for d in scenario.depots:
        if d.location is not None:
            lon, lat = d.location.lon, d.location.lat
        else:
            row = communes.loc[d.commune_code]
            lon, lat = float(row["lon"]), float(row["lat"])
        out.append(Place("depot", d.id, d.name, lon, lat))
    for s in scenario.stops:
        row = communes.loc[s.commune_code]
        lon, lat = ((s.location.lon, s.location.lat) if s.location is not None
                    else (float(row["lon"]), float(row["lat"])))
        out.append(Place("stop", s.commune_code, str(row["name"]), lon, lat))
    return tuple(out)


def _closures(scenario: Scenario) -> tuple[Closure, ...]:
    out = []
    for c in scenario.road_conditions.closures:
        geom = None
        if c.area:
            from shapely.geometry import Polygon
            geom = Polygon(c.area)
        elif c.line:
            from shapely.geometry import LineString
            geom = LineString(c.line)
        between = ((c.between[0].lon, c.between[0].lat),
                   (c.between[1].lon, c.between[1].lat)) if c.between else None
        out.append(Closure(id=c.id, speed_factor=c.speed_factor, start=c.start, end=c.end,
                           ref=c.ref, between=between, geometry=geom,
                           tolerance_m=c.tolerance_m, way_ids=c.way_ids, note=c.note))
    return tuple(out)


@contextlib.contextmanager
def _closure_errors(scenario: Scenario, scenario_file: str) -> Iterator[None]:
    """A closure that selects no road, as a scenario error naming its entry."""
    try:
        yield
    except ClosureError as exc:
        ids = [c.id for c in scenario.road_conditions.closures]
        bad = next((i for i, cid in enumerate(ids) if repr(cid) in str(exc)), 0)
        raise ScenarioError([Problem(scenario_file, f"road_conditions.closures[{bad}]",
                                     ids[bad] if ids else None, str(exc))]) from None


def _season(scenario: Scenario) -> Season | None:
    return {"auto": Season(), "dry": None, "rainy": Season(months=tuple(range(1, 13)))}[
        scenario.road_conditions.season]


def conditions_for(scenario: Scenario, graph: RoadGraph, *, scenario_file: str = "<scenario>"
                   ) -> RoadConditions:
    """Closures in force on any day of the horizon and the season's slow-down, as speed
    factors: the horizon's worst conditions (see :func:`periods_for` for each day's)."""
    first = scenario.horizon.start_date
    last = scenario.horizon.date_of(scenario.horizon.days - 1)
    with _closure_errors(scenario, scenario_file):
        return road_conditions(graph, _closures(scenario), first=first, last=last,
                               season=_season(scenario))


def periods_for(scenario: Scenario, graph: RoadGraph, *, scenario_file: str = "<scenario>"
                ) -> tuple[ConditionPeriod, ...]:
    """The horizon cut into periods of unchanging road conditions (one period when nothing
    changes within it): dated closures and the rainy season hold only on their days."""
    first = scenario.horizon.start_date
    last = scenario.horizon.date_of(scenario.horizon.days - 1)
    with _closure_errors(scenario, scenario_file):
        return condition_periods(graph, _closures(scenario), first=first, last=last,
                                 season=_season(scenario))


def prepare_network(scenario: Scenario, *, scenario_file: str = "<scenario>",
                    data_digest: str | None = None) -> Network:
    """Load the dataset (the version of ``data_digest`` when given: a plan's) and graph,
    snap every place per profile, compute matrices."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    dataset = dataset_of(scenario, file=scenario_file, data_digest=data_digest)
    check_scenario(scenario, dataset, file=scenario_file)
    profiles_all = load_profiles()
    graph, graph_hit = load_road_graph(dataset)
    timings["graph_s"] = time.perf_counter() - t0
    places = places_of(scenario, dataset)
    lon = np.array([p.lon for p in places])
    lat = np.array([p.lat for p in places])
    profiles = tuple(dict.fromkeys(v.profile for v in scenario.vehicles))
    pgraphs, mats, snaps = {}, {}, {}
    all_hit = True
    t1 = time.perf_counter()
    conditions = conditions_for(scenario, graph, scenario_file=scenario_file)
    periods = periods_for(scenario, graph, scenario_file=scenario_file)
    if len(periods) == 1:
        periods = ()
    dated: list[NetworkPeriod] = [NetworkPeriod(p.first_day, p.last_day, p.conditions, {}, {})
                                  for p in periods]
    lost: dict[int, str] = {}
    refused: list[Problem] = []
    gaps: dict[str, np.ndarray] = {}
    for name in profiles:
        open_pg = profile_graph(graph, profiles_all[name])
        pg = open_pg if conditions.is_normal else profile_graph(
            graph, profiles_all[name], speed_factor=conditions.factor)
        snap = snap_points(open_pg, lon, lat)  # a closure may cut a commune off: keep its node
        far = [f"{p.name} ({d / 1000:.1f} km)" for p, d in zip(places, snap.distance_m, strict=True)
               if d > FAR_FROM_ROADS_M]
        if far:
            log.warning("profile %s: %d location(s) lie more than %.0f km from the road network "
                        "(the gap is counted at %g km/h): %s", name, len(far),
                        FAR_FROM_ROADS_M / 1000, access.ACCESS_SPEED_KMH, ", ".join(far))
        refused += _too_far(scenario, name, snap.distance_m, scenario_file)
        gaps[name] = access.counted_gaps_m(snap.distance_m)
        for period, net_period in zip(periods, dated, strict=True):
            ppg = open_pg if period.conditions.is_normal else profile_graph(
                graph, profiles_all[name], speed_factor=period.conditions.factor)
            pmat, hit = cached_matrices(ppg, snap.node, conditions=period.conditions.digest)
            all_hit &= hit
            net_period.pgraphs[name] = ppg
            net_period.matrices[name] = access.with_access_gaps(pmat, gaps[name])
        if dated:
            worst_t, worst_d = worst_matrices([(p.matrices[name].time_s,
                                                p.matrices[name].distance_m) for p in dated])
            mat, hit = Matrices(nodes=snap.node, time_s=worst_t, distance_m=worst_d), True
        else:
            mat, hit = cached_matrices(pg, snap.node, conditions=conditions.digest)
            mat = access.with_access_gaps(mat, gaps[name])
        all_hit &= hit
        if not conditions.is_normal and conditions.closures:
            open_mat, _ = cached_matrices(open_pg, snap.node)
            for i in cut_off(open_mat, mat, len(scenario.depots)):
                lost[i] = ", ".join(conditions.closures)
                log.warning("profile %s: %s is cut off by road closures %s", name,
                            places[i].name, lost[i])
        pgraphs[name], mats[name], snaps[name] = pg, mat, snap.distance_m
    if refused:
        raise ScenarioError(refused)
    timings["matrices_s"] = time.perf_counter() - t1
    return Network(dataset=dataset, graph=graph, graph_cache_hit=graph_hit, places=places,
                   profiles=profiles, pgraphs=pgraphs, matrices=mats, snap_m=snaps,
                   matrix_cache_hit=all_hit, timings_s=timings, conditions=conditions,
                   cut_off=lost, gaps_m=gaps, periods=tuple(dated))


def network_within(net: Network, scenario: Scenario, first_day: int) -> Network | None:
    """``net`` (of a longer horizon) for ``scenario``, whose places are among ``net``'s and
    whose horizon starts on day ``first_day`` of ``net``'s: the same snapping and matrices,
    cut to its places, with the road conditions of its days (a season's period). ``None``
    when its days span several road-condition periods, or a place is not in ``net``
    (:func:`prepare_network` then computes its own)."""
    index = {(p.kind, p.key): i for i, p in enumerate(net.places)}
    own = [("depot", d.id) for d in scenario.depots] + [("stop", s.commune_code)
                                                      for s in scenario.stops]
    if any(k not in index for k in own):
        return None
    keep = [index[k] for k in own]
    ix = np.ix_(keep, keep)
    last_day = first_day + scenario.horizon.days - 1
    matrices, conditions = net.matrices, net.conditions
    if net.periods:
        within = [p for p in net.periods if p.first_day <= last_day and p.last_day >= first_day]
        if len(within) != 1:
            return None
        matrices, conditions = within[0].matrices, within[0].conditions

    def cut(m: Matrices) -> Matrices:
        return Matrices(nodes=m.nodes[keep], time_s=m.time_s[ix], distance_m=m.distance_m[ix])

    new_of = {old: new for new, old in enumerate(keep)}
    return replace(net, places=tuple(net.places[i] for i in keep),
                   matrices={n: cut(m) for n, m in matrices.items()},
                   snap_m={n: a[keep] for n, a in net.snap_m.items()},
                   gaps_m={n: a[keep] for n, a in net.gaps_m.items()},
                   cut_off={new_of[i]: why for i, why in net.cut_off.items() if i in new_of},
                   conditions=conditions, periods=(), matrix_cache_hit=True, timings_s={})


def _too_far(scenario: Scenario, profile: str, snap_m: np.ndarray, file: str) -> list[Problem]:
    """Depots and stops more than :data:`planner.access.ERROR_M` from a road ``profile`` may
    use, among those a vehicle of that profile may start from or visit, and not allowed to be
    (``far_from_road_ok``)."""
    out = []
    n_depots = len(scenario.depots)
    for i, d in enumerate(scenario.depots):
        uses = any(v.profile == profile and d.id in (v.depot, v.end_depot)
                   for v in scenario.vehicles)
        if uses and snap_m[i] > access.ERROR_M and not d.far_from_road_ok:
            out.append(_far_problem(file, f"depots[{i}]", d.id, profile, snap_m[i]))
    for j, st in enumerate(scenario.stops):
        allowed = st.allowed_profiles is None or profile in st.allowed_profiles
        gap = snap_m[n_depots + j]
        if allowed and gap > access.ERROR_M and not st.far_from_road_ok:
            out.append(_far_problem(file, f"stops[{j}]", st.commune_code, profile, gap))
    return out


def _far_problem(file: str, where: str, value: str, profile: str, gap_m: float) -> Problem:
    return Problem(
        file, f"{where}.far_from_road_ok", value,
        f"its point lies {gap_m / 1000:.1f} km from the nearest road a {profile} may use "
        f"(more than {access.ERROR_M / 1000:.0f} km: a wrong point, or road data that does not "
        f"cover it)",
        f"check the point (give a `location` on the road), import road data that covers it, "
        f"or set `far_from_road_ok: true` on it (with `schema_version: 3`) to plan with the "
        f"gap counted both ways at an assumed {access.ACCESS_SPEED_KMH:g} km/h")


def problem_for(scenario: Scenario, net: Network) -> RoutingProblem:
    return build_problem(scenario, profiles=net.profiles,
                         time_s={p: net.matrices[p].time_s for p in net.profiles},
                         distance_m={p: net.matrices[p].distance_m for p in net.profiles},
                         periods=net.dated())


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("mobile-library-planner", "ortools", "pyvrp", "numpy", "scipy", "networkx",
                "geopandas", "shapely", "pyproj"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


@dataclass(frozen=True, eq=False)
class Solved:
    """A solve's plan, the road network it was planned on, and the scenario it was routed
    with: the one written beside the plan (with book batches, the stops' crates and the
    hand-ons of the final assignment)."""

    plan: Plan
    network: Network
    scenario: Scenario


def solve_scenario(scenario: Scenario, *, scenario_file: str = "<scenario>",
                   time_limit_s: float | None = None, seed: int | None = None,
                   solution_limit: int | None = None,
                   on_progress: ProgressCallback | None = None,
                   previous: Plan | None = None, done: frozenset[str] = frozenset(),
                   locked: frozenset[str] = frozenset(),
                   compare_with: Plan | None = None, network: Network | None = None) -> Solved:
    """Run the whole pipeline: the plan, the network it was planned on and the scenario it
    was routed with. ``network``: the scenario's, already prepared (a season's period:
    :func:`network_within`).

    With ``previous`` it re-plans from that plan (see :mod:`planner.replan`): visits
    ``done`` and ``locked`` stay on their vehicles, and routes still feasible stay as they
    are; what changed is counted against ``compare_with`` (default: ``previous``).

    With book batches (``rotation``) it routes with each stop's expected crates and assigns
    the batches along the trips found (:mod:`planner.rotation`). The same trips are then
    re-timed with the crates and hand-ons of that assignment; if every trip still fits (the
    usual case: a swap changes loads, not times), that is the plan. Otherwise it routes again
    with the assignment's crates, at most ``rotation.rounds`` times; the last routes are kept,
    re-timed, when none fit (``provenance.rotation.stable`` is then false and ``planner
    check`` names what breaks)."""
    kwargs: dict[str, Any] = {"scenario_file": scenario_file, "time_limit_s": time_limit_s,
                              "seed": seed, "solution_limit": solution_limit,
                              "on_progress": on_progress, "network": network}
    if scenario.rotation is None:
        plan, net = _solve_once(scenario, previous=previous, done=done, locked=locked,
                                compare_with=compare_with, **kwargs)
        return Solved(plan, net, scenario)
    inputs = load_rotation(scenario.rotation, start=scenario.horizon.start_date)
    keep: dict[str, tuple[str, ...]] = {}
    if previous is None:
        routed = expected_scenario(scenario, inputs)
    else:  # the scenario of a plan with batches routes with their crates already
        routed = scenario
        keep = {v.commune_code: v.deliver_batches for r in previous.routes for v in r.visits}
        kwargs.update(previous=previous, done=done, locked=locked, compare_with=compare_with)
    stable, rounds = False, 0
    while rounds < scenario.rotation.rounds:
        rounds += 1
        plan, net = _solve_once(routed, **kwargs)
        rotation = assign_batches(plan, inputs.batches, inputs.state, inputs.profiles,
                                  seed=seed or 0, keep=keep, fixed=done)
        assigned = assigned_scenario(routed, plan, rotation, inputs)
        if crates_of(assigned) != crates_of(routed):
            plan, stable = _retimed(assigned, plan, net)
        else:
            stable = True
        routed = assigned
        if stable:
            break
    spec = scenario.rotation
    record = RotationRecord(
        rounds=rounds, stable=stable, assignment_status=rotation.status,
        batches_at_library=len(inputs.state.at_library),
        visits_without_batch=sum(1 for v in rotation.visits.values() if not v.deliver),
        input_scenario_digest=scenario.digest,
        file_digests={key: sha256_file(path) for key in ROTATION_PATHS
                      if (path := getattr(spec, key))})
    plan = with_batches(plan, rotation, inputs.batches)
    return Solved(replace(plan, provenance=replace(
        plan.provenance, rotation=record, scenario_digest=routed.digest)), net, routed)


def sha256_file(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _retimed(scenario: Scenario, plan: Plan, net: Network) -> tuple[Plan, bool]:
    """``plan``'s routes (the same stops in the same order) timed with ``scenario``'s crates
    as the pipeline times a plan (:func:`planner.solve.time_solution`, from the plan's own
    service starts), and whether every route fits; a schedule problem (an overload, say)
    stays in the plan for the checker to report."""
    problem = problem_for(scenario, net)
    index = {p.key: i for i, p in enumerate(net.places) if p.kind == "stop"}
    orders = {r.key: tuple(index[v.commune_code] for v in r.visits) for r in plan.routes}
    starts = {r.key: tuple(v.start_s for v in r.visits) for r in plan.routes}
    # timed as the plan was (solve.time_solution), its own times guiding the schedule
    timings = solve.time_solution(problem, solve.RawSolution(
        routes=tuple(orders.get(v.id, ()) for v in problem.vehicles), objective=-1, status="",
        wall_s=0.0, starts=tuple(starts.get(v.id, ()) for v in problem.vehicles)))
    timed = assemble_plan(scenario, net.places, problem, timings, plan.unserved,
                          plan.provenance, service_area_communes=plan.kpis.service_area_communes,
                          notes=plan.notes, attribution=plan.attribution)
    return replace(timed, kpis=timed.kpis.scoped_like(plan.kpis)), all(
        t.feasible for t in timings)


def _solve_once(scenario: Scenario, *, scenario_file: str = "<scenario>",
                time_limit_s: float | None = None, seed: int | None = None,
                solution_limit: int | None = None,
                on_progress: ProgressCallback | None = None,
                previous: Plan | None = None, done: frozenset[str] = frozenset(),
                locked: frozenset[str] = frozenset(),
                compare_with: Plan | None = None, network: Network | None = None
                ) -> tuple[Plan, Network]:
    """One routing of ``scenario`` (see :func:`solve_scenario`)."""
    t0 = time.perf_counter()
    net = network or prepare_network(scenario, scenario_file=scenario_file)
    problem = problem_for(scenario, net)
    params = solve.SolverParams.from_settings(scenario.solver, time_limit_s=time_limit_s,
                                              seed=seed, solution_limit=solution_limit)
    names, codes = [p.name for p in net.places], [p.key for p in net.places]
    blocked = precheck(problem, names=names, codes=codes, profiles=net.profiles,
                       cut_off=net.cut_off)
    for u in blocked:
        log.warning("before solving: %s %s cannot be served: %s", u.commune_code,
                    u.commune_name, u.reason)
    setup = None
    if previous is not None:
        setup = replan_setup(problem, codes, previous, done=done, locked=locked)
    constraints = setup.constraints if setup else None
    if setup is not None and setup.keep:
        raw = solve.RawSolution(routes=setup.previous, objective=-1,
                                status="KEPT_PREVIOUS_PLAN", wall_s=0.0)
    else:
        priced = None if on_progress is None else _priced(scenario, net, problem, on_progress)
        raw = solve.solve(problem, params, on_progress=priced, constraints=constraints)
    raw, timings, untimeable = solve.timed_within_rules(problem, raw, constraints)
    served = {loc for r in raw.routes for loc in r}
    t_explain = time.perf_counter()
    unserved = untimed(explain_unserved(problem, timings, served, names=names, codes=codes,
                                        profiles=net.profiles, cut_off=net.cut_off,
                                        constraints=constraints,
                                        budget_s=explain_budget_s(params.time_limit_s)),
                       [codes[loc] for loc in untimeable])
    provenance = _provenance(scenario, scenario_file, net, problem, params, raw, blocked,
                             constraints, t0, explain_s=time.perf_counter() - t_explain)
    area = service_area_of(scenario, net.dataset, file=scenario_file)
    plan = assemble_plan(scenario, net.places, problem, timings, unserved, provenance,
                         service_area_communes=area.size,
                         notes=tuple(net.dataset.notes), attribution=net.dataset.attribution)
    plan = replace(plan, kpis=plan.kpis.scoped(
        name=area.name, covered=area.covered, province_2025=area.province_2025,
        province_2025_communes=area.province_2025_communes))
    if setup is not None and previous is not None:
        record = replan_record(setup, previous, plan, done=done, locked=locked,
                               compare_with=compare_with)
        plan = replace(plan, provenance=replace(plan.provenance, replan=record))
    return plan, net


def _priced(scenario: Scenario, net: Network, problem: RoutingProblem,
            on_progress: ProgressCallback) -> ProgressCallback:
    """``on_progress`` hearing each better plan with its cost in VND, the plan's own KPI
    (its routes timed as the pipeline times a plan it writes, :func:`planner.solve.
    time_solution`, with the search's times where it has them, and priced at the vehicles'
    rates: about 2 ms for 72 communes, so every report is priced)."""

    def tell(event: SolveProgress) -> None:
        cost = None
        if event.routes:
            try:
                raw = solve.RawSolution(routes=event.routes, objective=event.objective,
                                        status="", wall_s=0.0, starts=event.starts,
                                        breaks=event.breaks)
                cost = plan_cost_vnd(scenario, net.places, problem,
                                     solve.time_solution(problem, raw))
            except Exception:  # a report must never break the search that calls it
                log.exception("the progress report could not price the plan")
        on_progress(replace(event, cost_vnd=cost, routes=(), starts=(), breaks=()))

    return tell


def plan_cost_vnd(scenario: Scenario, places: tuple[Place, ...], problem: RoutingProblem,
                  timings: Sequence[RouteTiming]) -> int:
    """The ``kpis.cost_vnd`` of a plan of routes timed so (one timing per vehicle)."""
    plan = assemble_plan(scenario, places, problem, timings, [], Provenance(),
                         service_area_communes=1)
    return round(plan.kpis.cost_vnd or 0)


def _provenance(scenario: Scenario, scenario_file: str, net: Network, problem: RoutingProblem,
                params: solve.SolverParams, raw: solve.RawSolution, blocked: list[Unserved],
                constraints: solve.VisitConstraints | None, t0: float,
                explain_s: float = 0.0) -> Provenance:
    """What the plan was made from and how it was searched (``explain_s``: seconds the
    explanations of unserved stops took, recorded in ``timings_s``)."""
    conditions = net.conditions
    return Provenance(
        scenario_digest=scenario.digest, scenario_file=scenario_file,
        data_digest=net.dataset.digest, network=scenario.network, seed=params.seed,
        time_limit_s=params.time_limit_s, solution_limit=params.solution_limit,
        first_solution=params.first_solution, local_search=params.local_search,
        workers=params.workers, search_strategy=raw.strategy,
        search_local_search=raw.local_search,
        iterated_local_search_skipped=solve.iterated_search_skipped(problem, params,
                                                                    constraints),
        precheck=tuple(PrecheckEntry(u.commune_code, u.reason_code, u.reason)
                       for u in blocked),
        pyvrp_seed_skipped=solve.seeding_possible(problem, params, constraints),
        solver_status=raw.status, objective=raw.objective, solve_wall_s=round(raw.wall_s, 3),
        stop_reason=raw.stop_reason or None, best_found_s=raw.found_s,
        repaired_stops=raw.repaired,
        progress=tuple(raw.progress), graph_report=net.graph.report.as_dict(),
        components={p: net.pgraphs[p].report.as_dict() for p in net.profiles},
        snapping={p: tuple(Snap(place.key, round(float(d), 1))
                           for place, d in zip(net.places, net.snap_m[p], strict=True))
                  for p in net.profiles},
        graph_cache_hit=net.graph_cache_hit, matrices_cache_hit=net.matrix_cache_hit,
        road_conditions=RoadConditionsRecord(
            season=conditions.season if conditions else "",
            closures=tuple(conditions.closures) if conditions else (),
            closed_km=conditions.closed_km if conditions else 0.0,
            cut_off={net.places[i].key: why for i, why in net.cut_off.items()},
            periods=tuple(ConditionPeriodRecord(
                scenario.horizon.date_of(p.first_day).isoformat(),
                scenario.horizon.date_of(p.last_day).isoformat(), p.conditions.season,
                p.conditions.closures) for p in net.periods)),
        access=net.access_record(),
        timings_s={**{k: round(v, 3) for k, v in net.timings_s.items()},
                   "explain_s": round(explain_s, 3),
                   "total_s": round(time.perf_counter() - t0, 3)},
        versions=_versions())


__all__ = ["Network", "Solved", "check_scenario", "dataset_of", "load_scenario", "places_of",
           "prepare_network", "problem_for", "solve_scenario"]
