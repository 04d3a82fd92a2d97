"""Book batches across a season: each planned visit's batches, assigned over the *projected*
positions of the batches along the planned trips.

The projection starts from where the registry's history puts the batches on the season's
first day (:func:`planner.batches.state_on`) and moves them period by period as the planned
visits would: a visit takes back what its commune holds and leaves what the assignment gives
it (:func:`planner.rotation.assign_batches`, the cycle's own rules: a batch the commune has
never had, in its readers' languages, within its shelf). Nothing is recorded: the batch
registry's ledger (:mod:`planner.batchmoves`) changes only by recorded outcomes. Because the
projected ``had`` grows with every planned delivery, no commune receives a batch twice across
the season or against its history. When a visit finds no batch left, the season says how many
more batches of that kind are needed.

The trips a re-plan kept (``season.kept_trip_ids``: done or published before the date it
re-planned from) keep the batches they had, delivered and collected: they are projected first,
as made, and the other visits are assigned from where they leave the batches (a batch a kept
trip takes back only to trips that set out once it is home).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from planner.batches import BatchState, CommuneProfile, describe_need
from planner.plan import Plan, Route, SeasonShortage
from planner.problem import DAY_S
from planner.rotation import Rotation, RotationInputs, VisitBatches, assign_batches, with_batches


def _chunks(plan: Plan, routes: Sequence[Route]) -> list[list[Route]]:
    """``routes`` (trips of ``plan``) by period (a period's trips run side by side), in time
    order."""
    periods = plan.season.periods if plan.season is not None else ()
    out: list[list[Route]] = []
    for p in periods:
        lo, hi = p.start_day * DAY_S, (p.start_day + p.days) * DAY_S
        chunk = [r for r in routes if r.visits and lo <= r.depart_s < hi]
        if chunk:
            out.append(chunk)
    placed = {id(r) for c in out for r in c}
    rest = [r for r in routes if r.visits and id(r) not in placed]
    return out + [[r] for r in sorted(rest, key=lambda r: r.depart_s)]


def as_made(routes: Sequence[Route]) -> Rotation:
    """The batches ``routes`` carry already (a re-plan's kept trips), as an assignment."""
    visits = {(r.key, v.seq): VisitBatches(v.deliver_batches, v.collect_batches,
                                           note=v.batch_note)
              for r in routes for v in r.visits}
    return Rotation(visits=visits, loading={r.key: r.loading_batches for r in routes},
                    status="", wall_s=0.0)


def project(state: BatchState, rotation: Rotation, routes: Sequence[Route],
            all_batches: Sequence[str]) -> BatchState:
    """Where the batches are after ``routes`` made the visits of ``rotation``: each visited
    commune holds what it received; a batch no commune holds is back at the library."""
    holdings = {c: tuple(b) for c, b in state.holdings.items()}
    had = {c: set(b) for c, b in state.had.items()}
    for r in routes:
        for v in r.visits:
            got = rotation.visits.get((r.key, v.seq), VisitBatches())
            holdings[v.commune_code] = got.deliver
            had.setdefault(v.commune_code, set()).update(got.deliver)
    held = {b for bs in holdings.values() for b in bs}
    return replace(state, holdings={c: b for c, b in holdings.items() if b},
                   had={c: frozenset(b) for c, b in had.items()},
                   at_library=tuple(b for b in all_batches if b not in held))


def season_batches(plan: Plan, inputs: RotationInputs, *, window_days: int = 28,
                   seed: int = 0) -> tuple[Plan, str, tuple[SeasonShortage, ...]]:
    """``plan`` with the batches of every visit (see the module docstring), the assignment's
    status (CP-SAT's or the flow's, per period, joined) and the shortages found;
    ``window_days``: how long a batch stays at a commune (the visit rule's period), over
    which the visits short of one kind add up."""
    state = inputs.state
    ids = [b.batch_id for b in inputs.batches]
    visits: dict[tuple[str, int], VisitBatches] = {}
    loading: dict[str, tuple[str, ...]] = {}
    statuses = set()
    short: dict[str, list[int]] = {}  # need -> start times of the visits short of it
    kept_ids = set(plan.season.kept_trip_ids) if plan.season is not None else set()
    kept = sorted((r for r in plan.routes if r.visits and r.key in kept_ids),
                  key=lambda r: r.depart_s)
    home: dict[str, int] = {}  # batch a kept trip takes back -> when that trip is home
    if kept:  # made or published before the re-plan: their batches as they were
        made = as_made(kept)
        visits.update(made.visits)
        loading.update(made.loading)
        state = project(state, made, kept, ids)
        home = {b: r.return_s for r in kept for v in r.visits
                for b in made.visits[(r.key, v.seq)].collect}
    for chunk in _chunks(plan, [r for r in plan.routes if r.key not in kept_ids]):
        sub = replace(plan, routes=tuple(chunk))
        # a batch a kept trip takes back is at the library for the trips that set out
        # after that trip is home, not for those beside it
        first = min(r.depart_s for r in chunk)
        ready = replace(state, at_library=tuple(b for b in state.at_library
                                                if home.get(b, first) <= first))
        rotation = assign_batches(sub, inputs.batches, ready, inputs.profiles, seed=seed)
        statuses.add(rotation.status)
        visits.update(rotation.visits)
        loading.update(rotation.loading)
        for r in chunk:
            for v in r.visits:
                if not rotation.visits[(r.key, v.seq)].deliver:
                    profile = inputs.profiles.get(v.commune_code) or CommuneProfile(
                        v.commune_code, ("vie",))
                    short.setdefault(describe_need(profile), []).append(v.start_s)
        state = project(state, rotation, chunk, ids)
    combined = Rotation(visits=visits, loading=loading,
                        status="/".join(sorted(statuses)), wall_s=0.0)
    shortages = []
    for need, times in sorted(short.items()):
        times.sort()
        most = max(sum(1 for t in times if s <= t < s + window_days * DAY_S) for s in times)
        shortages.append(SeasonShortage(need, len(times), most))
    return with_batches(plan, combined, inputs.batches), combined.status, tuple(shortages)


__all__ = ["as_made", "project", "season_batches"]
