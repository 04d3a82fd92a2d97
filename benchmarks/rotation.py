"""Batch assignment at province scale: 150 communes on 8 trips, 600 batches, a year of
history, through the product's assignment (:func:`planner.rotation.assign_batches`, CP-SAT on
2 workers), against the issue's target of 5 s.

    python -m benchmarks.rotation [--communes 150] [--batches 600] [--repeat 3]

The instance is generated (seeded): communes read Vietnamese and one or two of Hmông, Tày,
Dao, Nùng; two thirds want children's books (a hard rule for a third of those); shelves hold
2 to 6 crates; every commune holds one batch now and has had two or three before. Printed:
the wall time of each run, visits served with a batch, the batches handed on along a trip,
and a check of every rule on the result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

from planner.batches import Batch, CommuneProfile, Stay, eligible, state_on
from planner.kpis import Kpis
from planner.plan import Plan, Route, Visit
from planner.provenance import Provenance
from planner.rotation import assign_batches

LANGS = ("hnj", "tyz", "ium", "nut")
DAY = dt.date(2026, 12, 7)


def instance(n_communes: int, n_batches: int, *, trips: int = 8, seed: int = 0
             ) -> tuple[Plan, list[Batch], list[Stay], dict[str, CommuneProfile]]:
    rnd = random.Random(seed)
    codes = [f"{10000 + i:05d}" for i in range(n_communes)]
    batches = [Batch(f"B-{i:04d}", rnd.randint(1, 3),
                     tuple(sorted({"vie", rnd.choice(LANGS)})) if rnd.random() < 0.6
                     else (rnd.choice(LANGS),),
                     ("children",) if rnd.random() < 0.5 else ("adults",))
               for i in range(n_batches)]
    profiles = {}
    for code in codes:
        langs = tuple(sorted({"vie", *rnd.sample(LANGS, rnd.randint(1, 2))}))
        kids = rnd.random() < 2 / 3
        profiles[code] = CommuneProfile(code, langs, ("children",) if kids else (),
                                        rnd.randint(2, 6),
                                        audiences_required=kids and rnd.random() < 1 / 3)
    stays = []
    free = list(range(n_batches))
    rnd.shuffle(free)
    for code in codes:  # one batch held now, two or three had before
        for k in range(rnd.randint(2, 3)):
            b = batches[rnd.randrange(n_batches)].batch_id
            start = DAY - dt.timedelta(days=400 - 120 * k)
            stays.append(Stay(b, code, start, start + dt.timedelta(days=60)))
    taken = set()
    for code in codes:
        while free:
            b = batches[free.pop()].batch_id
            if b not in taken:
                taken.add(b)
                stays.append(Stay(b, code, DAY - dt.timedelta(days=40)))
                break
    stays = _no_overlap(stays)
    routes = []
    per_trip = -(-n_communes // trips)
    for t in range(trips):
        mine = codes[t * per_trip:(t + 1) * per_trip]
        visits = tuple(Visit(seq=i + 1, commune_code=c, commune_name=c, lon=0, lat=0, day=0,
                             arrival_s=0, start_s=0, departure_s=0, arrival="", departure="",
                             deliver_crates=0, collect_crates=0, load_after_crates=0,
                             leg_km=0, leg_hours=0, night_before=False, nights_on_road=0)
                       for i, c in enumerate(mine))
        routes.append(Route(vehicle_id=f"v{t}", vehicle_name="", profile="truck", depot_id="lib",
                            depot_name="", depot_lon=0, depot_lat=0, driver="",
                            capacity_crates=60, depart_s=0, depart="", return_s=0,
                            return_time="", load_start_crates=0, return_leg_km=0,
                            return_leg_hours=0, return_night_before=False,
                            return_nights_on_road=0, visits=visits, km=0, driving_hours=0,
                            duration_hours=0, days=1, nights=0))
    plan = Plan(scenario_name="bench", scenario_title="", start_date=DAY, horizon_days=5,
                network="", routes=tuple(routes), unserved=(), kpis=Kpis(),
                provenance=Provenance())
    return plan, batches, stays, profiles


def _no_overlap(stays: list[Stay]) -> list[Stay]:
    """Drop past stays that overlap another stay of the same batch (random draws may)."""
    out: list[Stay] = []
    for stay in sorted(stays, key=lambda s: (s.batch_id, s.delivered_on)):
        prev = out[-1] if out and out[-1].batch_id == stay.batch_id else None
        if prev is not None and (prev.collected_on is None
                                 or stay.delivered_on < prev.collected_on):
            continue
        out.append(stay)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rotation",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--communes", type=int, default=150)
    parser.add_argument("--batches", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    plan, batches, stays, profiles = instance(args.communes, args.batches)
    state = state_on(batches, stays, DAY)
    times = []
    for seed in range(args.repeat):
        t0 = time.perf_counter()
        rotation = assign_batches(plan, batches, state, profiles, seed=seed)
        times.append(time.perf_counter() - t0)
    served = sum(1 for v in rotation.visits.values() if v.deliver)
    handed = sum(len(v.handed_on_from or {}) for v in rotation.visits.values())
    by_id = {b.batch_id: b for b in batches}
    sent = [b for v in rotation.visits.values() for b in v.deliver]
    ok = len(sent) == len(set(sent)) and all(
        eligible(by_id[b], profiles[code], state.had.get(code, frozenset())).allowed
        for (vid, seq), v in rotation.visits.items()
        for code in [plan.routes[int(vid[1:])].visits[seq - 1].commune_code]
        for b in v.deliver)
    print(f"{args.communes} communes on {len(plan.routes)} trips, {args.batches} batches "
          f"({len(state.at_library)} at the library): assignment {rotation.status}")
    print(f"wall time over {args.repeat} runs: median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s (target < 5 s)")
    print(f"visits served with a batch: {served} of {len(rotation.visits)}; batches handed "
          f"on along a trip: {handed}; rules hold: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
