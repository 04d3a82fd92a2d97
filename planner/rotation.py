"""The batches of a rotation cycle: which batch each visit of a plan delivers and collects,
which batches are handed on from commune to commune along a trip, what each trip loads at the
library, and why a commune gets nothing.

Rules (the eligibility of one batch for one commune is :func:`planner.batches.eligible`):

* every visit collects every batch its commune holds;
* a visit receives batches its commune has never had, that suit its readers and fit its
  shelf; each batch goes to one visit at most;
* a batch comes from the library (loaded at the start of the trip) or is **handed on**: a
  commune visited earlier on the same trip collected it, and the truck carries it on (chains
  A → B → C included: B receives A's batch and its own goes on to C);
* a commune with no eligible batch left gets none, and the plan says what is missing ("no
  batch it has not had in Hmông, for children: add batches").

The choice is a min-cost flow, or a CP-SAT model where shelves bind
(:mod:`planner._assign`). Routing needs the crates first and the
assignment needs the trips: :func:`planner.pipeline.solve_scenario` runs the bounded loop
(route with the expected crates, assign, re-route if the crates changed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from planner._assign import Option, assign
from planner.batches import (
    Batch,
    BatchState,
    CommuneProfile,
    describe_need,
    eligible,
    read_batches,
    read_profiles,
    read_stays,
    state_on,
)
from planner.plan import Plan, PlanBatch
from planner.scenario import RotationSpec, Scenario, Transfer


@dataclass(frozen=True)
class VisitBatches:
    """The batches of one visit."""

    deliver: tuple[str, ...] = ()
    collect: tuple[str, ...] = ()
    handed_on_from: Mapping[str, str] | None = None  # batch -> commune it was collected at
    note: str = ""  # why it receives nothing, when it does not


@dataclass(frozen=True)
class Rotation:
    """The assignment of a plan's visits, by (vehicle id, visit seq)."""

    visits: Mapping[tuple[str, int], VisitBatches]
    loading: Mapping[str, tuple[str, ...]]  # vehicle id -> batches loaded at the library
    status: str
    wall_s: float


def assign_batches(plan: Plan, batches: Sequence[Batch], state: BatchState,
                   profiles: Mapping[str, CommuneProfile], *, time_limit_s: float = 10.0,
                   seed: int = 0, keep: Mapping[str, Sequence[str]] | None = None,
                   fixed: frozenset[str] = frozenset()) -> Rotation:
    """Assign the batches of ``plan``'s visits from ``state`` (see the module docstring);
    a commune without a profile reads Vietnamese, with a 4-crate shelf. A re-plan gives the
    batches each commune had in the plan it changes (``keep``: kept where they still may go,
    over any better fit), and the communes whose visit is done (``fixed``) get those or
    none."""
    keep = keep or {}
    by_id = {b.batch_id: b for b in batches}
    at_library = set(state.at_library)
    keys: list[tuple[str, int]] = []
    codes: list[str] = []
    shelf: list[int] = []
    wanted: list[int] = []
    options: list[Option] = []
    for route in plan.routes:
        earlier: list[tuple[int, str]] = []  # (visit index, commune) of this trip so far
        for v in route.visits:
            index = len(keys)
            keys.append((route.key, v.seq))
            codes.append(v.commune_code)
            profile = profiles.get(v.commune_code) or CommuneProfile(v.commune_code, ("vie",))
            shelf.append(profile.shelf_crates)
            wanted.append(profile.batches_per_visit)
            had = state.had.get(v.commune_code, frozenset())
            sources: list[tuple[str, int | None]] = [(b, None) for b in sorted(at_library)]
            sources += [(b, i) for i, code in earlier for b in state.holdings.get(code, ())]
            kept = set(keep.get(v.commune_code, ()))
            for batch_id, from_visit in sources:
                if v.commune_code in fixed and batch_id not in kept:
                    continue
                fit = eligible(by_id[batch_id], profile, had)
                if fit.allowed:
                    options.append(Option(index, batch_id, fit.score, from_visit,
                                          kept=batch_id in kept))
            earlier.append((index, v.commune_code))
    result = assign(options, {b.batch_id: b.crates for b in batches}, shelf, wanted,
                    time_limit_s=time_limit_s, seed=seed)
    chosen: dict[int, list[Option]] = {}
    for opt in result.chosen:
        chosen.setdefault(opt.visit, []).append(opt)
    visits = {}
    loading: dict[str, list[str]] = {}
    for index, key in enumerate(keys):
        code = codes[index]
        picks = sorted(chosen.get(index, ()), key=lambda o: o.batch)
        profile = profiles.get(code) or CommuneProfile(code, ("vie",))
        note = "" if picks else (f"no batch it has not had {describe_need(profile)}: add "
                                 "batches")
        handed = {o.batch: codes[o.from_visit] for o in picks if o.from_visit is not None}
        visits[key] = VisitBatches(deliver=tuple(o.batch for o in picks),
                                   collect=tuple(state.holdings.get(code, ())),
                                   handed_on_from=handed or None, note=note)
        loading.setdefault(key[0], []).extend(o.batch for o in picks if o.from_visit is None)
    return Rotation(visits=visits, loading={k: tuple(v) for k, v in loading.items()},
                    status=result.status, wall_s=result.wall_s)


def with_batches(plan: Plan, rotation: Rotation, batches: Sequence[Batch] = ()) -> Plan:
    """``plan`` with the batches of each visit, each trip's loading list, and what the sheets
    print of every batch it moves (from ``batches``)."""
    routes = []
    for route in plan.routes:
        visits = tuple(replace(v, deliver_batches=rb.deliver, collect_batches=rb.collect,
                               batch_note=rb.note)
                       if (rb := rotation.visits.get((route.key, v.seq))) else v
                       for v in route.visits)
        routes.append(replace(route, visits=visits,
                              loading_batches=rotation.loading.get(route.key, ())))
    moved = {b for v in rotation.visits.values() for b in (*v.deliver, *v.collect)}
    info = tuple(PlanBatch(b.batch_id, b.crates, b.languages, b.audiences, b.title)
                 for b in batches if b.batch_id in moved)
    return replace(plan, routes=tuple(routes), batches=info)




# --- rotation inside a solve ---------------------------------------------------------------

@dataclass(frozen=True)
class RotationInputs:
    """The batches, where they are, and the communes' profiles, read for one solve."""

    batches: tuple[Batch, ...]
    state: BatchState
    profiles: Mapping[str, CommuneProfile]


def load_rotation(spec: RotationSpec, *, start: dt.date) -> RotationInputs:
    """Read the files a scenario's ``rotation`` names (:class:`~planner.tables.TableError` or
    :class:`~planner.batches.BatchError` naming the file, row and field when one is bad)."""
    batches = read_batches(spec.batches)
    stays = read_stays(spec.history) if spec.history else ()
    profiles = (read_profiles(spec.profiles, default_shelf_crates=spec.default_shelf_crates)
                if spec.profiles else {})
    day = spec.state_on or start
    return RotationInputs(batches, state_on(batches, stays, day, file=spec.history or ""),
                          profiles)


def with_rotation_files(scenario: Scenario, files: Mapping[str, Path]) -> Scenario:
    """``scenario`` reading its batches, history and profiles from ``files`` (by rotation
    field: a registry kept elsewhere, written out for this solve), its other rotation settings
    kept; schema version 2 at least (a scenario of several trips or a season keeps its own)."""
    spec = scenario.rotation or RotationSpec(batches=str(files["batches"]))
    paths = {key: str(Path(path).resolve()) for key, path in files.items()}
    return scenario.model_copy(update={"schema_version": max(2, scenario.schema_version),
                                       "rotation": spec.model_copy(update=paths)})


def expected_scenario(scenario: Scenario, inputs: RotationInputs) -> Scenario:
    """The scenario to route first: each stop collects the crates its commune holds now
    (known), and delivers the crates the scenario expects (its swap size)."""
    crates = {b.batch_id: b.crates for b in inputs.batches}
    stops = tuple(st.model_copy(update={"collect_crates": sum(
        crates[b] for b in inputs.state.holdings.get(st.commune_code, ()))})
        for st in scenario.stops)
    return scenario.model_copy(update={"stops": stops})


HAND_ON_NOTE = "book batches handed on"


def assigned_scenario(scenario: Scenario, plan: Plan, rotation: Rotation,
                      inputs: RotationInputs) -> Scenario:
    """The scenario whose crates are those of ``rotation``: each visited stop delivers the
    crates loaded for it at the library and collects the crates that go back there; each
    batch handed on is a transfer from the commune it is collected at to the one it goes to
    (stops not visited keep their crates; the scenario's own transfers are kept)."""
    crates = {b.batch_id: b.crates for b in inputs.batches}
    visited: dict[str, VisitBatches] = {}
    for route in plan.routes:
        for v in route.visits:
            vb = rotation.visits.get((route.key, v.seq))
            if vb is not None:
                visited[v.commune_code] = vb
    handed: dict[tuple[str, str], int] = {}
    handed_batches = set()
    for code, vb in visited.items():
        for batch, source in (vb.handed_on_from or {}).items():
            handed[(source, code)] = handed.get((source, code), 0) + crates[batch]
            handed_batches.add(batch)
    stops = []
    for st in scenario.stops:
        vb = visited.get(st.commune_code)
        if vb is None:
            stops.append(st)
            continue
        stops.append(st.model_copy(update={
            "deliver_crates": sum(crates[b] for b in vb.deliver if b not in handed_batches),
            "collect_crates": sum(crates[b] for b in vb.collect if b not in handed_batches)}))
    own = [t for t in scenario.transfers if t.note != HAND_ON_NOTE]  # the scenario's own
    for t in own:
        handed.pop((t.from_code, t.to_code), None)  # (one transfer a pair: its own kept)
    transfers = tuple(own) + tuple(
        Transfer.model_validate({"from": a, "to": b, "crates": n, "note": HAND_ON_NOTE})
        for (a, b), n in sorted(handed.items()))
    return scenario.model_copy(update={"stops": tuple(stops), "transfers": transfers})


def crates_of(scenario: Scenario) -> tuple[tuple[Any, ...], ...]:
    """What routing depends on of a rotation: every stop's crates and every transfer."""
    return (tuple((st.commune_code, st.deliver_crates, st.collect_crates)
                  for st in scenario.stops),
            tuple((t.from_code, t.to_code, t.crates) for t in scenario.transfers))


__all__ = ["Rotation", "RotationInputs", "VisitBatches", "assign_batches", "assigned_scenario",
           "crates_of", "expected_scenario", "load_rotation", "with_batches",
           "with_rotation_files"]
