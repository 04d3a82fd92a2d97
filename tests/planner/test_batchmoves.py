"""The ledger of batch moves: conservation under random move sequences (every batch at one
place, stays that never overlap), a broken history reported and not repaired, the moves a
recorded visit makes, and a history of stays read back as moves."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.batches import Batch, Stay, state_on
from planner.batchmoves import (
    LIBRARY,
    Move,
    Place,
    local_day,
    moves_of_stays,
    replay,
    return_moves,
    visit_moves,
)
from planner.plan import TZ, Route, Visit

BATCHES = [f"B{i}" for i in range(5)]
PLACES = [Place("library", "lib"), Place("commune", "00715"), Place("commune", "00778"),
          Place("commune", "01108"), Place("vehicle", "xe-1"), Place("vehicle", "xe-2")]
T0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=TZ)


@st.composite
def valid_moves(draw: st.DrawFn) -> list[Move]:
    """A history that could have happened: each move leaves where the batch is."""
    where = {b: LIBRARY for b in BATCHES}
    t, moves = T0, []
    for _ in range(draw(st.integers(0, 40))):
        batch = draw(st.sampled_from(BATCHES))
        dst = draw(st.sampled_from([p for p in PLACES if p != where[batch]]))
        t += dt.timedelta(hours=draw(st.integers(0, 72)))
        moves.append(Move(batch, where[batch], dst, t))
        where[batch] = dst
    return moves


@settings(max_examples=200, deadline=None)
@given(valid_moves())
def test_every_batch_is_at_one_place_and_its_stays_never_overlap(moves: list[Move]) -> None:
    ledger = replay(BATCHES, moves)
    assert ledger.problems == ()
    assert sorted(ledger.where) == BATCHES  # none lost, none added
    assert sum(len(ledger.at(p)) for p in {*PLACES, LIBRARY}) == len(BATCHES)
    for b in BATCHES:
        own = [m for m in moves if m.batch_id == b]
        assert ledger.where[b] == (own[-1].dst if own else LIBRARY)
    # the stays are a history the rotation reads without complaint, and on the day after the
    # last move the communes hold what the ledger says they hold
    batches = [Batch(b, 1, ("vie",), ()) for b in BATCHES]
    day = local_day(moves[-1].at) + dt.timedelta(days=1) if moves else local_day(T0)
    state = state_on(batches, ledger.stays, day)
    for p in PLACES:
        if p.kind == "commune":
            assert state.holdings.get(p.ref, ()) == ledger.at(p)


@settings(max_examples=200, deadline=None)
@given(valid_moves().filter(bool), st.data())
def test_a_move_from_the_wrong_place_is_reported_and_followed(moves: list[Move],
                                                               data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(moves) - 1))
    wrong = data.draw(st.sampled_from([p for p in PLACES if not p.matches(moves[i].src)
                                       and not moves[i].src.matches(p)]))
    broken = [*moves[:i], Move(moves[i].batch_id, wrong, moves[i].dst, moves[i].at, "move 9"),
              *moves[i + 1:]]
    ledger = replay(BATCHES, broken)
    assert len(ledger.problems) == 1
    problem = ledger.problems[0]
    assert problem.field == "move 9" and moves[i].batch_id in problem.message
    assert ledger.where == replay(BATCHES, moves).where  # reported, not repaired


def test_unknown_batches_and_moves_back_in_time_are_reported() -> None:
    c = Place("commune", "00715")
    ledger = replay(["B0"], [Move("B0", LIBRARY, c, T0), Move("B0", c, LIBRARY,
                                                              T0 - dt.timedelta(days=1)),
                             Move("ZZ", LIBRARY, c, T0)])
    messages = [p.message for p in ledger.problems]
    assert any("earlier than the one before" in m for m in messages)
    assert any("does not know" in m for m in messages)


@settings(max_examples=100, deadline=None)
@given(valid_moves())
def test_a_history_of_stays_reads_back_as_the_same_stays(moves: list[Move]) -> None:
    stays = replay(BATCHES, moves).stays
    assert replay(BATCHES, moves_of_stays(stays)).stays == stays


def _route() -> Route:
    visits = tuple(Visit(seq=i + 1, commune_code=code, commune_name=code, lon=105.0, lat=22.0,
                         day=0, arrival_s=0, start_s=0, departure_s=0,
                         arrival=f"2026-12-07T{9 + 2 * i:02d}:00:00+07:00",
                         departure=f"2026-12-07T{10 + 2 * i:02d}:00:00+07:00",
                         deliver_crates=1, collect_crates=1, load_after_crates=0,
                         leg_km=1.0, leg_hours=1.0, night_before=False, nights_on_road=0)
                   for i, code in enumerate(["00715", "00778"]))
    return Route(vehicle_id="xe-1", vehicle_name="Xe 1", profile="truck", depot_id="lib",
                 depot_name="Thư viện", depot_lon=105.0, depot_lat=22.0, driver="",
                 capacity_crates=10, depart_s=0, depart="2026-12-07T07:00:00+07:00",
                 return_s=0, return_time="2026-12-07T17:00:00+07:00", load_start_crates=1,
                 return_leg_km=1.0, return_leg_hours=1.0, return_night_before=False,
                 return_nights_on_road=0, km=3.0, driving_hours=3.0, duration_hours=10.0,
                 days=1, nights=0, visits=visits)


def test_a_recorded_trip_loads_delivers_collects_hands_on_and_unloads() -> None:
    route = _route()
    a, b = route.visits
    before = [Move("OLD", LIBRARY, Place("commune", "00715"), T0),
              Move("X", LIBRARY, Place("commune", "00778"), T0)]
    where = replay(["NEW", "OLD", "X"], before).where
    moves = visit_moves(route, a, where, delivered=["NEW"], collected=["OLD"])
    assert [(m.batch_id, str(m.src), str(m.dst)) for m in moves] == [
        ("NEW", "library lib", "vehicle xe-1"), ("NEW", "vehicle xe-1", "commune 00715"),
        ("OLD", "commune 00715", "vehicle xe-1")]
    assert moves[0].at.hour == 7 and moves[1].at.hour == 9 and moves[2].at.hour == 10
    moves = before + moves
    ledger = replay(where, moves)
    # OLD is handed on to the next commune, X comes back to the library
    moves += visit_moves(route, b, ledger.where, delivered=["OLD"], collected=["X"])
    ledger = replay(where, moves)
    assert ledger.where["OLD"] == Place("commune", "00778")
    assert visit_moves(route, b, ledger.where, delivered=["OLD"], collected=["X"]) == []
    moves += return_moves(route, ledger.where)
    ledger = replay(where, moves)
    assert ledger.problems == () and ledger.where["X"] == Place("library", "lib")
    assert Stay("OLD", "00715", dt.date(2026, 1, 5), dt.date(2026, 12, 7)) in ledger.stays
    assert Stay("OLD", "00778", dt.date(2026, 12, 7)) in ledger.stays
