"""Where every book batch is, and has been: the ledger of moves.

A batch is at exactly one :class:`Place` at any time: a library (a depot of the scenarios), a
commune library, or a vehicle on a trip. Every change of place is a :class:`Move` (from, to,
when; the stored record adds the trip, the plan version and who recorded it). Moves are
written when what happened on a trip is recorded (a visit's batches ticked delivered or
collected, the trip back at its library), never by planning alone: :func:`visit_moves` and
:func:`return_moves` say which moves a recorded visit or return makes.

:func:`replay` reads a sequence of moves into a :class:`Ledger`: where each batch is now and
since when, every stay at a commune (the :class:`~planner.batches.Stay` history the rotation
assignment reads) and the problems of a broken history (a move from a place the batch was not
at, a batch the registry does not know, moves out of time order). Problems are reported, never
repaired: the ledger follows each move to where it says the batch went.

A batch of the registry with no move yet is at a library that was not recorded
(``Place("library", "")``); a move from any library is consistent with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from planner.batches import Stay
from planner.errors import Problem
from planner.plan import TZ, Route, Visit

PLACE_KINDS = ("library", "commune", "vehicle")


@dataclass(frozen=True, order=True)
class Place:
    """A library (``ref``: its depot id, ``""`` when not recorded), a commune library (its
    commune code) or a vehicle (its vehicle id)."""

    kind: str
    ref: str = ""

    def __post_init__(self) -> None:
        if self.kind not in PLACE_KINDS:
            raise ValueError(f"place kind {self.kind!r}: use one of {', '.join(PLACE_KINDS)}")

    def matches(self, other: Place) -> bool:
        """Whether a move recorded from ``other`` is consistent with the batch being here (a
        library not recorded matches every library)."""
        if self.kind != other.kind:
            return False
        return self.ref == other.ref or (self.kind == "library" and not (self.ref and
                                                                         other.ref))

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}".strip()


LIBRARY = Place("library")


@dataclass(frozen=True)
class Move:
    """Batch ``batch_id`` went from ``src`` to ``dst`` at ``at`` (timezone-aware)."""

    batch_id: str
    src: Place
    dst: Place
    at: dt.datetime
    ref: str = ""  # what recorded it, for problems: "move 17", "row 4"


@dataclass(frozen=True)
class Ledger:
    """Where the batches are after a sequence of moves."""

    where: Mapping[str, Place]
    since: Mapping[str, dt.datetime | None]  # None: never moved
    stays: tuple[Stay, ...]
    problems: tuple[Problem, ...] = field(default=())

    def at(self, place: Place) -> tuple[str, ...]:
        """The batches at ``place`` now."""
        return tuple(sorted(b for b, p in self.where.items() if p == place))


def local_day(moment: dt.datetime) -> dt.date:
    """The date in Vietnam of a timezone-aware moment."""
    return moment.astimezone(TZ).date()


def replay(batch_ids: Iterable[str], moves: Iterable[Move], *, file: str = "<moves>") -> Ledger:
    """The ledger of ``moves`` (in the order given, which should be their time order) over
    the registry's ``batch_ids``; problems of a broken history are in ``Ledger.problems``."""
    where: dict[str, Place] = {b: LIBRARY for b in batch_ids}
    since: dict[str, dt.datetime | None] = dict.fromkeys(where)
    open_stay: dict[str, tuple[str, dt.date]] = {}
    stays: list[Stay] = []
    problems: list[Problem] = []
    last: dict[str, dt.datetime] = {}
    for move in moves:
        if move.batch_id not in where:
            problems.append(Problem(file, move.ref or "batch_id", move.batch_id,
                                    "a move of a batch the registry does not know",
                                    "add the batch to the registry"))
            continue
        here = where[move.batch_id]
        if not here.matches(move.src):
            problems.append(Problem(file, move.ref or move.batch_id, str(move.src),
                                    f"{move.batch_id} moved from {move.src} on "
                                    f"{_when(move.at)} but the record has it at {here}",
                                    "record where the batch really is (a correction move)"))
        if move.batch_id in last and move.at < last[move.batch_id]:
            problems.append(Problem(file, move.ref or move.batch_id, _when(move.at),
                                    f"{move.batch_id}: a move earlier than the one before it "
                                    f"({_when(last[move.batch_id])})",
                                    "correct the time of one of the moves"))
        last[move.batch_id] = move.at
        if here.kind == "commune" and move.batch_id in open_stay:
            commune, start = open_stay.pop(move.batch_id)
            stays.append(Stay(move.batch_id, commune, start, max(start, local_day(move.at))))
        if move.dst.kind == "commune":
            open_stay[move.batch_id] = (move.dst.ref, local_day(move.at))
        where[move.batch_id], since[move.batch_id] = move.dst, move.at
    stays.extend(Stay(b, commune, start) for b, (commune, start) in open_stay.items())
    stays.sort(key=lambda s: (s.batch_id, s.delivered_on))
    return Ledger(where=where, since=since, stays=tuple(stays), problems=tuple(problems))


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


def moves_of_stays(stays: Sequence[Stay]) -> list[Move]:
    """The moves a history of stays stands for (imported from a table): from a library to the
    commune on the delivery date, back to a library on the collection date, at noon in
    Vietnam; each batch's stays in their order (a batch collected at one commune and delivered
    to the next on the same day is handed on)."""
    rows = sorted(range(len(stays)), key=lambda i: (stays[i].batch_id, stays[i].delivered_on))
    moves: list[Move] = []
    for i in rows:
        s = stays[i]
        commune = Place("commune", s.commune_code)
        moves.append(Move(s.batch_id, LIBRARY, commune, _noon(s.delivered_on), f"row {i + 2}"))
        if s.collected_on is not None:
            moves.append(Move(s.batch_id, commune, LIBRARY, _noon(s.collected_on),
                              f"row {i + 2}"))
    moves.sort(key=lambda m: m.at)  # stable: a batch's own moves keep their order
    return moves


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), TZ)


def visit_moves(route: Route, visit: Visit, where: Mapping[str, Place], *,
                delivered: Iterable[str], collected: Iterable[str]) -> list[Move]:
    """The moves a visit's ticks make, given where the batches are (``where``): each batch
    ticked collected goes from the commune onto the vehicle when the visit ends; each batch
    ticked delivered goes from the vehicle to the commune when the visit starts, loaded at the
    library when the trip left if it was still there. A batch already where the tick puts it
    makes no move (recording a visit twice changes nothing)."""
    vehicle, commune = Place("vehicle", route.vehicle_id), Place("commune", visit.commune_code)
    library = Place("library", route.depot_id)
    moves: list[Move] = []
    start = dt.datetime.fromisoformat(visit.arrival)
    end = dt.datetime.fromisoformat(visit.departure)
    current = dict(where)
    for batch_id in delivered:
        here = current.get(batch_id, LIBRARY)
        if here == commune:
            continue
        if here.kind == "library":
            moves.append(Move(batch_id, here if here.ref else library, vehicle,
                              dt.datetime.fromisoformat(route.depart)))
        elif here != vehicle:
            moves.append(Move(batch_id, here, vehicle, start))  # as the record says
        moves.append(Move(batch_id, vehicle, commune, start))
        current[batch_id] = commune
    for batch_id in collected:
        if current.get(batch_id) == vehicle:
            continue
        moves.append(Move(batch_id, current.get(batch_id, commune), vehicle, end))
        current[batch_id] = vehicle
    return moves


def return_moves(route: Route, where: Mapping[str, Place]) -> list[Move]:
    """The moves of a trip back at its library: every batch on the vehicle is unloaded there
    when the trip returns."""
    vehicle = Place("vehicle", route.vehicle_id)
    back = dt.datetime.fromisoformat(route.return_time)
    return [Move(b, vehicle, Place("library", route.end_depot_id or route.depot_id), back)
            for b, p in sorted(where.items()) if p == vehicle]


__all__ = ["LIBRARY", "PLACE_KINDS", "Ledger", "Move", "Place", "local_day", "moves_of_stays",
           "replay", "return_moves", "visit_moves"]
