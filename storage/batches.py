"""The book-batch registry in the database: batches and their title lists, every move of
every batch, and the commune library profiles.

Where a batch is comes only from its moves (:mod:`planner.batchmoves` replays them): moves
are written when a trip's outcome is recorded (:func:`record_trip`: the batches ticked
delivered, collected or missing at each stop, the trip back at its library), when a history
table is imported, or as a correction by a dispatcher; never by planning. A move from a place
the record does not have the batch at is refused when recorded, and reported (not repaired)
when found in stored rows.

Imports take the same CSV/XLSX tables as ``planner solve`` (:mod:`planner.batches`) and write
nothing when any row is bad; :func:`export_tables` writes them back, and
:func:`write_rotation_files` writes the files a solve reads, so a solve from the database and
one from files are the same computation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.batches import (
    BATCH_COLUMNS,
    PROFILE_COLUMNS,
    STAY_COLUMNS,
    TITLE_COLUMNS,
    Batch,
    CommuneProfile,
    Stay,
    Title,
    table_rows,
)
from planner.batchmoves import (
    Ledger,
    Move,
    Place,
    moves_of_stays,
    replay,
    return_moves,
    visit_moves,
)
from planner.errors import Problem
from planner.plan import Route
from storage.errors import InvalidRecordError, RecordNotFoundError
from storage.libraries import record_library_edits
from storage.models import (
    MOVE_KINDS,
    OUTCOME_STATUSES,
    BatchMove,
    BatchRecord,
    BatchTitle,
    CommuneProfileRecord,
    PlanVersion,
    User,
    utcnow,
)
from storage.plans import parse_plan_text, record_outcome

SEPARATOR = ";"
ROTATION_FILES = {"batches": "batches.csv", "history": "history.csv",
                  "profiles": "profiles.csv"}


class BatchRecordError(InvalidRecordError):
    """Records refused together; ``problems`` says which and why (nothing was written)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:20])
                         + (f"; … and {len(self.problems) - 20} more"
                            if len(self.problems) > 20 else ""))


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c for c in text.split(SEPARATOR) if c)


def _batch(r: BatchRecord) -> Batch:
    return Batch(batch_id=r.batch_id, crates=r.crates, languages=_codes(r.languages),
                 audiences=_codes(r.audiences), title=r.title, owner=r.owner, books=r.books,
                 condition=r.condition)


# --- the registry --------------------------------------------------------------------------

def registry(session: Session) -> tuple[Batch, ...]:
    """Every batch of the registry, by batch id."""
    return tuple(_batch(r) for r in session.scalars(
        select(BatchRecord).order_by(BatchRecord.batch_id)))


def has_registry(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(BatchRecord)))


def _records(session: Session) -> dict[str, BatchRecord]:
    return {r.batch_id: r for r in session.scalars(select(BatchRecord))}


def get_batch(session: Session, batch_id: str) -> Batch:
    record = session.scalar(select(BatchRecord).where(BatchRecord.batch_id == batch_id))
    if record is None:
        raise RecordNotFoundError(f"no batch {batch_id!r} in the registry")
    return _batch(record)


def titles(session: Session, batch_id: str) -> list[Title]:
    """The book list of a batch, in its order."""
    rows = session.execute(select(BatchTitle).join(BatchRecord)
                           .where(BatchRecord.batch_id == batch_id)
                           .order_by(BatchTitle.position))
    return [Title(batch_id, t.title, t.isbn, t.author) for (t,) in rows]


@dataclass(frozen=True)
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    titles: int = 0
    moves: int = 0
    profiles: int = 0


def import_batches(session: Session, batches: Sequence[Batch], titles_of: Sequence[Title] = (),
                   *, user_id: int, file: str = "<titles>") -> ImportReport:
    """Add the batches not in the registry and update those that are (matched by batch id;
    batches not in ``batches`` are kept); the title list of each batch named in
    ``titles_of`` is replaced by its rows there. Titles of a batch in neither the registry
    nor ``batches`` are refused, and then nothing is written."""
    existing = _records(session)
    known = set(existing) | {b.batch_id for b in batches}
    problems = [Problem(file, f"row {i + 2}", t.batch_id, "not a batch of the registry",
                        "add the batch to the registry file, or correct the batch id")
                for i, t in enumerate(titles_of) if t.batch_id not in known]
    if problems:
        raise BatchRecordError(problems)
    now, added, updated, unchanged = utcnow(), 0, 0, 0
    for b in batches:
        values = {"crates": b.crates, "languages": SEPARATOR.join(b.languages),
                  "audiences": SEPARATOR.join(b.audiences), "title": b.title, "owner": b.owner,
                  "books": b.books, "condition": b.condition}
        record = existing.get(b.batch_id)
        if record is None:
            record = BatchRecord(batch_id=b.batch_id, updated_by_id=user_id, updated_at=now,
                                 **values)
            session.add(record)
            existing[b.batch_id] = record
            added += 1
        elif any(getattr(record, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(record, k, v)
            record.updated_by_id, record.updated_at = user_id, now
            updated += 1
        else:
            unchanged += 1
    session.flush()
    by_batch: dict[str, list[Title]] = {}
    for t in titles_of:
        by_batch.setdefault(t.batch_id, []).append(t)
    for batch_id, items in by_batch.items():
        record = existing[batch_id]
        for old in session.scalars(select(BatchTitle).where(BatchTitle.batch_pk == record.id)):
            session.delete(old)
        session.add_all(BatchTitle(batch_pk=record.id, position=i, isbn=t.isbn, title=t.title,
                                   author=t.author) for i, t in enumerate(items))
    session.flush()
    return ImportReport(added=added, updated=updated, unchanged=unchanged,
                        titles=len(titles_of))


@dataclass(frozen=True)
class Tables:
    """The tables of one import, read (:mod:`planner.batches`) and named by their files."""

    batches: Sequence[Batch] = ()
    titles: Sequence[Title] = ()
    stays: Sequence[Stay] = ()
    profiles: Sequence[CommuneProfile] = ()
    titles_file: str = "<titles>"
    history_file: str = "<history>"


def import_tables(session: Session, tables: Tables, *, user_id: int) -> ImportReport:
    """Import a registry, its title lists, a history and commune profiles in one go (the
    caller's transaction: when any part is refused, nothing of any is written)."""
    report = import_batches(session, tables.batches, tables.titles, user_id=user_id,
                            file=tables.titles_file)
    moves = import_history(session, tables.stays, user_id=user_id,
                           file=tables.history_file) if tables.stays else 0
    changed = save_profiles(session, tables.profiles, user_id=user_id)
    return ImportReport(report.added, report.updated, report.unchanged, report.titles, moves,
                        changed)


# --- moves ---------------------------------------------------------------------------------

def _place(kind: str, ref: str) -> Place:
    return Place(kind, ref or "")


def _stored_moves(session: Session) -> list[tuple[BatchMove, str]]:
    return list(session.execute(
        select(BatchMove, BatchRecord.batch_id).join(BatchRecord)
        .where(BatchMove.kind != "missing").order_by(BatchMove.at, BatchMove.id)).all())


def ledger(session: Session) -> Ledger:
    """Where every batch is, replayed from the stored moves (problems of a broken history
    included)."""
    moves = [Move(batch_id, _place(m.src_kind, m.src_ref), _place(m.dst_kind, m.dst_ref), m.at,
                  f"move {m.id}") for m, batch_id in _stored_moves(session)]
    return replay([b.batch_id for b in registry(session)], moves, file="batch moves")


def record_moves(session: Session, moves: Sequence[Move], *, kind: str, user_id: int,
                 version_id: int | None = None, vehicle_id: str | None = None,
                 stop_seq: int | None = None, note: str = "",
                 where: Mapping[str, Place] | None = None) -> int:
    """Store ``moves`` (in order); each must leave the place the record has its batch at
    (after the moves before it; ``where``: those places, when the caller has them), else none
    is stored (:class:`BatchRecordError`)."""
    if kind not in MOVE_KINDS or kind == "missing":
        raise InvalidRecordError(f"move kind {kind!r}: use trip, import or correction")
    records = _records(session)
    where = dict(where if where is not None else ledger(session).where)
    problems = []
    for i, m in enumerate(moves):
        if m.batch_id not in records:
            problems.append(Problem("moves", f"move {i + 1}", m.batch_id,
                                    "not a batch of the registry", "add it to the registry"))
            continue
        here = where[m.batch_id]
        if not here.matches(m.src):
            problems.append(Problem("moves", f"move {i + 1}", str(m.src),
                                    f"{m.batch_id} is at {here}, not at {m.src}",
                                    "record the move from where the batch is"))
        where[m.batch_id] = m.dst
    if problems:
        raise BatchRecordError(problems)
    now = utcnow()
    session.add_all(BatchMove(batch_pk=records[m.batch_id].id, kind=kind, src_kind=m.src.kind,
                              src_ref=m.src.ref, dst_kind=m.dst.kind, dst_ref=m.dst.ref,
                              at=m.at, version_id=version_id, vehicle_id=vehicle_id,
                              stop_seq=stop_seq, note=note, recorded_by_id=user_id,
                              recorded_at=now) for m in moves)
    session.flush()
    return len(moves)


def report_missing(session: Session, batch_id: str, *, at: dt.datetime, user_id: int,
                   version_id: int | None = None, vehicle_id: str | None = None,
                   stop_seq: int | None = None, note: str = "") -> None:
    """Record that ``batch_id`` was not found where the record has it (no move: where it
    is stays as recorded until a correction)."""
    record = session.scalar(select(BatchRecord).where(BatchRecord.batch_id == batch_id))
    if record is None:
        raise RecordNotFoundError(f"no batch {batch_id!r} in the registry")
    here = ledger(session).where[batch_id]
    session.add(BatchMove(batch_pk=record.id, kind="missing", src_kind=here.kind,
                          src_ref=here.ref, dst_kind=here.kind, dst_ref=here.ref, at=at,
                          version_id=version_id, vehicle_id=vehicle_id, stop_seq=stop_seq,
                          note=note, recorded_by_id=user_id, recorded_at=utcnow()))
    session.flush()


def import_history(session: Session, stays: Sequence[Stay], *, user_id: int,
                   file: str = "<history>") -> int:
    """Store the moves a history table stands for (:func:`planner.batchmoves.moves_of_stays`).
    Only batches with no recorded move yet may be given a history (a history is imported
    once, when a registry starts being kept here); otherwise, or when the history is broken,
    nothing is written (:class:`BatchRecordError` with every problem)."""
    records = _records(session)
    moved = {batch_id for _, batch_id in _stored_moves(session)}
    problems = [Problem(file, f"row {i + 2}", s.batch_id,
                        "not a batch of the registry" if s.batch_id not in records else
                        "this batch already has recorded moves",
                        "import the registry first" if s.batch_id not in records else
                        "record corrections on the batch's page instead")
                for i, s in enumerate(stays) if s.batch_id not in records or s.batch_id in moved]
    moves = moves_of_stays(stays)
    if not problems:
        problems = list(replay(records, moves, file=file).problems)
    if problems:
        raise BatchRecordError(problems)
    now = utcnow()
    session.add_all(BatchMove(batch_pk=records[m.batch_id].id, kind="import",
                              src_kind=m.src.kind, src_ref=m.src.ref, dst_kind=m.dst.kind,
                              dst_ref=m.dst.ref, at=m.at, note=f"{file}, {m.ref}"[:500],
                              recorded_by_id=user_id, recorded_at=now) for m in moves)
    session.flush()
    return len(moves)


@dataclass(frozen=True)
class MoveInfo:
    """A stored move (or missing report) as pages show it."""

    id: int
    batch_id: str
    kind: str
    src: Place
    dst: Place
    at: dt.datetime
    version_key: str | None
    vehicle_id: str | None
    stop_seq: int | None
    note: str
    recorded_by: str
    recorded_at: dt.datetime


def move_history(session: Session, *, batch_id: str | None = None,
                 commune_code: str | None = None, limit: int = 500) -> list[MoveInfo]:
    """Moves and missing reports, newest first: of one batch, or to and from one commune."""
    query = (select(BatchMove, BatchRecord.batch_id, User.username, PlanVersion.series,
                    PlanVersion.number)
             .join(BatchRecord, BatchMove.batch_pk == BatchRecord.id)
             .join(User, BatchMove.recorded_by_id == User.id)
             .outerjoin(PlanVersion, BatchMove.version_id == PlanVersion.id)
             .order_by(BatchMove.at.desc(), BatchMove.id.desc()).limit(limit))
    if batch_id is not None:
        query = query.where(BatchRecord.batch_id == batch_id)
    if commune_code is not None:
        query = query.where(
            ((BatchMove.src_kind == "commune") & (BatchMove.src_ref == commune_code))
            | ((BatchMove.dst_kind == "commune") & (BatchMove.dst_ref == commune_code)))
    return [MoveInfo(m.id, b, m.kind, _place(m.src_kind, m.src_ref),
                     _place(m.dst_kind, m.dst_ref), m.at,
                     f"{series}@v{number}" if series else None, m.vehicle_id, m.stop_seq,
                     m.note, user, m.recorded_at)
            for m, b, user, series, number in session.execute(query)]


# --- a trip's outcome ----------------------------------------------------------------------

@dataclass(frozen=True)
class StopRecord:
    """What the crew ticked at one stop: its outcome (``None``: not recorded now), the
    batches left, taken back and not found."""

    seq: int
    status: str | None = None
    note: str = ""
    delivered: tuple[str, ...] = ()
    collected: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class TripReport:
    outcomes: int = 0
    moves: int = 0
    missing: int = 0


def _ticks_recorded(session: Session, version_id: int, vehicle_id: str
                    ) -> set[tuple[int | None, str, str]]:
    """``(stop, batch, where it went)`` of the trip moves already recorded for a trip (and
    ``"missing"`` for a batch reported not found there): a tick recorded again makes no
    second move, even after the batch went on."""
    rows = session.execute(select(BatchMove.stop_seq, BatchRecord.batch_id, BatchMove.dst_kind,
                                  BatchMove.kind)
                           .join(BatchRecord, BatchMove.batch_pk == BatchRecord.id)
                           .where(BatchMove.version_id == version_id,
                                  BatchMove.vehicle_id == vehicle_id,
                                  BatchMove.kind.in_(("trip", "missing"))))
    return {(seq, batch_id, "missing" if kind == "missing" else dst)
            for seq, batch_id, dst, kind in rows}


@dataclass(frozen=True)
class TripTicks:
    """What has been recorded of a trip: per stop, the batches ticked delivered, collected
    and missing, and whether the trip is back at its library."""

    delivered: frozenset[tuple[int, str]]
    collected: frozenset[tuple[int, str]]
    missing: frozenset[tuple[int, str]]
    returned: bool


def trip_ticks(session: Session, *, version_id: int, vehicle_id: str) -> TripTicks:
    """The ticks recorded so far for the trip of ``vehicle_id`` in a published version."""
    route = _version_route(session, version_id, vehicle_id)
    listed = {(v.seq, b, kind) for v in route.visits
              for kind, batches in (("commune", v.deliver_batches),
                                    ("vehicle", v.collect_batches),
                                    ("missing", (*v.deliver_batches, *v.collect_batches)))
              for b in batches}
    recorded = _ticks_recorded(session, version_id, vehicle_id)
    ticks = {kind: frozenset((seq, b) for seq, b, k in recorded & listed if k == kind
                             and seq is not None)
             for kind in ("commune", "vehicle", "missing")}
    return TripTicks(ticks["commune"], ticks["vehicle"], ticks["missing"],
                     any(seq is None and k == "library" for seq, _, k in recorded))


def _version_route(session: Session, version_id: int, vehicle_id: str) -> Route:
    version = session.get(PlanVersion, version_id)
    if version is None:
        raise RecordNotFoundError(f"no published version with id {version_id}")
    plan = parse_plan_text(version.plan_json, file=f"version {version.series}@v{version.number}")
    route = next((r for r in plan.routes if r.key == vehicle_id), None)
    if route is None:
        raise RecordNotFoundError(f"version {version.series}@v{version.number} has no trip of "
                                  f"vehicle {vehicle_id!r}")
    return route


def record_trip(session: Session, *, version_id: int, vehicle_id: str,
                stops: Sequence[StopRecord], returned: bool, user_id: int) -> TripReport:
    """Record a trip of a published version as its crew ticked it: each stop's outcome, the
    batches left and taken back (moves from the library onto the vehicle, to the commune,
    from the commune onto the vehicle: :func:`planner.batchmoves.visit_moves`), those not
    found, and, when ``returned``, every batch still on the vehicle unloaded at its library.
    Only batches the stop lists may be ticked there. All or nothing."""
    route = _version_route(session, version_id, vehicle_id)
    visits = {v.seq: v for v in route.visits}
    start = ledger(session).where
    done = _ticks_recorded(session, version_id, vehicle_id)
    where = dict(start)
    problems: list[str] = []
    planned: list[tuple[StopRecord, list[Move]]] = []
    for stop in stops:
        visit = visits.get(stop.seq)
        if visit is None:
            raise RecordNotFoundError(f"the trip of {vehicle_id!r} has no stop {stop.seq}")
        if stop.status is not None and stop.status not in OUTCOME_STATUSES:
            raise InvalidRecordError(f"outcome {stop.status!r}: use one of "
                                     f"{', '.join(OUTCOME_STATUSES)}")
        listed = set(visit.deliver_batches) | set(visit.collect_batches)
        ticked = (*stop.delivered, *stop.collected, *stop.missing)
        problems += [f"stop {stop.seq}: {b} is not a batch of this stop"
                     for b in ticked if b not in listed]
        problems += [f"stop {stop.seq}: {b} is not in the registry"
                     for b in ticked if b in listed and b not in where]
        if set(stop.missing) & (set(stop.delivered) | set(stop.collected)):
            problems.append(f"stop {stop.seq}: a batch is ticked both handed over and missing")
        if problems:
            continue
        moves = visit_moves(
            route, visit, where,
            delivered=[b for b in stop.delivered if (stop.seq, b, "commune") not in done],
            collected=[b for b in stop.collected if (stop.seq, b, "vehicle") not in done])
        stop = StopRecord(stop.seq, stop.status, stop.note, stop.delivered, stop.collected,
                          tuple(b for b in stop.missing if (stop.seq, b, "missing") not in done))
        where.update((m.batch_id, m.dst) for m in moves)
        planned.append((stop, moves))
    if problems:
        raise BatchRecordError([Problem(f"trip {vehicle_id}", "", None, p, "")
                                for p in problems])
    where = dict(start)
    report = TripReport()
    for stop, moves in planned:
        visit = visits[stop.seq]
        if stop.status is not None:
            record_outcome(session, version_id=version_id, vehicle_id=vehicle_id,
                           stop_seq=stop.seq, status=stop.status, note=stop.note,
                           user_id=user_id)
        record_moves(session, moves, kind="trip", user_id=user_id, version_id=version_id,
                     vehicle_id=vehicle_id, stop_seq=stop.seq, where=where)
        where.update((m.batch_id, m.dst) for m in moves)
        for batch_id in stop.missing:
            report_missing(session, batch_id, at=dt.datetime.fromisoformat(visit.arrival),
                           user_id=user_id, version_id=version_id, vehicle_id=vehicle_id,
                           stop_seq=stop.seq, note=stop.note)
        report = TripReport(outcomes=report.outcomes + (stop.status is not None),
                            moves=report.moves + len(moves),
                            missing=report.missing + len(stop.missing))
    if returned:
        moves = return_moves(route, where)
        record_moves(session, moves, kind="trip", user_id=user_id, version_id=version_id,
                     vehicle_id=vehicle_id, where=where)
        report = TripReport(report.outcomes, report.moves + len(moves), report.missing)
    return report


# --- commune profiles ----------------------------------------------------------------------

def _profile(r: CommuneProfileRecord) -> CommuneProfile:
    return CommuneProfile(commune_code=r.commune_code, languages=_codes(r.languages),
                          audiences=_codes(r.audiences), shelf_crates=r.shelf_crates,
                          languages_required=r.languages_required,
                          audiences_required=r.audiences_required,
                          batches_per_visit=r.batches_per_visit)


def profiles(session: Session) -> dict[str, CommuneProfile]:
    return {r.commune_code: _profile(r) for r in session.scalars(
        select(CommuneProfileRecord).order_by(CommuneProfileRecord.commune_code))}


def _profile_values(p: CommuneProfile) -> dict[str, object]:
    return {"languages": SEPARATOR.join(p.languages), "audiences": SEPARATOR.join(p.audiences),
            "shelf_crates": p.shelf_crates, "languages_required": p.languages_required,
            "audiences_required": p.audiences_required,
            "batches_per_visit": p.batches_per_visit}


def save_profiles(session: Session, items: Iterable[CommuneProfile], *, user_id: int) -> int:
    """Add or update commune profiles; each changed field is also a library edit (who and
    when, :func:`storage.libraries.record_library_edits`). Returns how many changed."""
    existing = {r.commune_code: r for r in session.scalars(select(CommuneProfileRecord))}
    now, changed = utcnow(), 0
    for p in items:
        if p.shelf_crates < 1 or p.batches_per_visit < 1 or not p.languages:
            raise InvalidRecordError(f"commune {p.commune_code}: a profile needs a language, "
                                     "a shelf of at least 1 crate and at least 1 batch a visit")
        values = _profile_values(p)
        record = existing.get(p.commune_code)
        old = {k: getattr(record, k) for k in values} if record else dict.fromkeys(values)
        if record is None:
            record = CommuneProfileRecord(commune_code=p.commune_code, updated_by_id=user_id,
                                          updated_at=now, **values)
            session.add(record)
        elif old == values:
            continue
        else:
            for k, v in values.items():
                setattr(record, k, v)
            record.updated_by_id, record.updated_at = user_id, now
        changed += 1
        record_library_edits(session, commune_code=p.commune_code, user_id=user_id, changes=[
            (f"profile.{k}", None if old[k] is None else str(old[k]), str(v))
            for k, v in values.items()])
    session.flush()
    return changed


# --- tables --------------------------------------------------------------------------------

def export_tables(session: Session) -> dict[str, list[list[str]]]:
    """The registry, its title lists, the history of stays (from the moves) and the commune
    profiles as the tables :mod:`planner.batches` reads (Vietnamese headings)."""
    batches = registry(session)
    all_titles = [t for b in batches for t in titles(session, b.batch_id)]
    return {"batches": table_rows(BATCH_COLUMNS, batches),
            "titles": table_rows(TITLE_COLUMNS, all_titles),
            "history": table_rows(STAY_COLUMNS, ledger(session).stays),
            "profiles": table_rows(PROFILE_COLUMNS, profiles(session).values())}


def write_rotation_files(session: Session, folder: Path,
                         csv_bytes: Callable[[Sequence[Sequence[str]]], bytes]
                         ) -> Mapping[str, Path]:
    """Write the registry, history and profiles as the CSV files of a scenario's
    ``rotation:`` (``batches``, ``history``, ``profiles``) into ``folder``; ``csv_bytes``
    turns a table into the file's bytes. Returns the paths by rotation field."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = export_tables(session)
    out = {}
    for key, name in ROTATION_FILES.items():
        path = folder / name
        path.write_bytes(csv_bytes(tables[key]))
        out[key] = path
    return out


__all__ = ["BatchRecordError", "ImportReport", "MoveInfo", "ROTATION_FILES", "StopRecord",
           "Tables", "TripReport", "TripTicks", "export_tables", "get_batch", "has_registry",
           "import_batches", "import_history", "import_tables", "ledger", "move_history",
           "profiles", "record_moves", "record_trip", "registry", "report_missing",
           "save_profiles", "titles", "trip_ticks", "write_rotation_files"]
