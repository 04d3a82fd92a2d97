"""The book-batch rules of a plan, checked apart from the code that assigned them
(:mod:`planner.rotation`, :mod:`planner._assign`): part of ``planner check``.

From the scenario's batch files (read with :mod:`planner.batches`, the one reader) and the
plan's ``deliver_batches``, ``collect_batches`` and ``loading_batches``:

* each visit takes back every batch its commune holds on the day of the state;
* no batch goes to a commune that has had it, none goes twice, none to a commune reading
  none of its languages (or serving none of its audiences) where the profile makes that a
  rule, and the batches left at a visit fit its shelf and its number of batches;
* a batch left at a visit comes from the library (it is there, and on the trip's loading
  list) or was taken back earlier on the same trip; the loading list holds exactly the
  batches that come from the library;
* the crates the scenario routes with agree with the batches: a stop delivers the crates of
  its batches from the library and takes back the crates not handed on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from planner.batches import (
    Batch,
    CommuneProfile,
    read_batches,
    read_profiles,
    read_stays,
)
from planner.messages import Message, message
from planner.plan import Plan
from planner.scenario import Scenario


def batch_ids(ids: Iterable[str]) -> str:
    """Batch ids as a message lists them."""
    return ", ".join(sorted(ids)) or "—"


def check_batches(scenario: Scenario, plan: Plan) -> list[tuple[Message, str, str]]:
    """Every broken batch rule as ``(message, vehicle id, commune code)``."""
    spec = scenario.rotation
    if spec is None:
        return []
    batches = {b.batch_id: b for b in read_batches(spec.batches)}
    stays = read_stays(spec.history) if spec.history else ()
    profiles = (read_profiles(spec.profiles, default_shelf_crates=spec.default_shelf_crates)
                if spec.profiles else {})
    day = spec.state_on or scenario.horizon.start_date
    holds: dict[str, set[str]] = {}
    had: dict[str, set[str]] = {}
    placed: set[str] = set()
    for s in stays:
        if s.delivered_on <= day:
            had.setdefault(s.commune_code, set()).add(s.batch_id)
            if s.collected_on is None or day < s.collected_on:
                holds.setdefault(s.commune_code, set()).add(s.batch_id)
                placed.add(s.batch_id)
    out: list[tuple[Message, str, str]] = []
    sent = Counter(b for r in plan.routes for v in r.visits for b in v.deliver_batches)
    for b, n in sent.items():
        if n > 1:
            out.append((message("check_batch_twice", batch=b, n=n), "", ""))
        if b not in batches:
            out.append((message("check_batch_unknown", batch=b), "", ""))
    stops = {st.commune_code: st for st in scenario.stops}
    for route in plan.routes:
        taken: set[str] = set()
        from_library: list[str] = []
        handed: set[str] = set()
        for v in route.visits:
            code, vid = v.commune_code, route.key
            if set(v.collect_batches) != holds.get(code, set()):
                out.append((message("check_batch_takes_back", taken=batch_ids(v.collect_batches),
                                    held=batch_ids(holds.get(code, set()))), vid, code))
            profile = profiles.get(code) or CommuneProfile(code, ("vie",),
                                                           shelf_crates=spec.default_shelf_crates)
            known = [batches[b] for b in v.deliver_batches if b in batches]
            for batch in known:
                out.extend((msg, vid, code) for msg in _batch_rules(batch, profile,
                                                                   had.get(code, set())))
                if batch.batch_id in taken:
                    handed.add(batch.batch_id)
                elif batch.batch_id in placed:
                    out.append((message("check_batch_elsewhere", batch=batch.batch_id), vid,
                                code))
                else:
                    from_library.append(batch.batch_id)
            if sum(b.crates for b in known) > profile.shelf_crates:
                out.append((message("check_batch_shelf", crates=sum(b.crates for b in known),
                                    shelf=profile.shelf_crates), vid, code))
            if len(known) > profile.batches_per_visit:
                out.append((message("check_batch_count", n=len(known),
                                    most=profile.batches_per_visit), vid, code))
            taken |= set(v.collect_batches)
            stop = stops.get(code)
            if stop is not None:
                mine = [b.crates for b in known if b.batch_id not in handed]
                if stop.deliver_crates != sum(mine):
                    out.append((message("check_batch_deliver_crates",
                                        crates=stop.deliver_crates, batch_crates=sum(mine)),
                                vid, code))
        if sorted(route.loading_batches) != sorted(from_library):
            out.append((message("check_batch_loading", loading=batch_ids(route.loading_batches),
                                batches=batch_ids(from_library)), route.key, ""))
        for v in route.visits:
            back = sum(batches[b].crates for b in v.collect_batches
                       if b in batches and b not in handed)
            stop = stops.get(v.commune_code)
            if stop is not None and stop.collect_crates != back:
                out.append((message("check_batch_collect_crates", crates=stop.collect_crates,
                                    batch_crates=back), route.key, v.commune_code))
    return out


def _batch_rules(batch: Batch, profile: CommuneProfile, had: set[str]) -> list[Message]:
    out = []
    if batch.batch_id in had:
        out.append(message("check_batch_had", batch=batch.batch_id))
    if profile.languages_required and not set(batch.languages) & set(profile.languages):
        out.append(message("check_batch_language", batch=batch.batch_id,
                           languages=", ".join(batch.languages),
                           reads=", ".join(profile.languages)))
    if profile.audiences_required and profile.audiences and not (
            set(batch.audiences) & set(profile.audiences)):
        out.append(message("check_batch_audience", batch=batch.batch_id,
                           audiences=", ".join(batch.audiences) or "—",
                           serves=", ".join(profile.audiences)))
    return out


__all__ = ["batch_ids", "check_batches"]
