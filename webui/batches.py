"""Book batches on the web: the registry (filter by language, audience and where a batch is;
import and export its tables), one page per batch (where it is, its history, its books; the
page a crate label's QR code opens, sized for a phone, where a driver with a signal confirms a
hand-over and a dispatcher records a correction), the trip screen where the ticks of a printed
route sheet are entered on return, and the batches section of a commune's page (its profile,
what it holds, what it ever had).

Everything here goes through :mod:`storage.batches`: moves are written only when what happened
is recorded (never by planning), a move from a place the record does not have the batch at is
refused, and an import writes nothing when any row of any table is bad. Drivers confirm
(``record_outcome``); dispatchers keep the registry (``registry``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from planner.batches import (
    AUDIENCES,
    BATCH_ID,
    Batch,
    CommuneProfile,
    languages,
    read_batches,
    read_profiles,
    read_stays,
    read_titles,
)
from planner.batchmoves import Move, Place
from planner.errors import PlannerError, Problem
from planner.plan import TZ, Plan, Route, Visit
from render.exports import csv_table, xlsx_table
from storage import InvalidRecordError, RecordNotFoundError, plans
from storage import batches as registry
from storage.batches import BatchRecordError, MoveInfo, StopRecord, Tables, TripTicks
from storage.models import OUTCOME_STATUSES
from storage.plans import VersionInfo, parse_version_key
from webui.auth import check_may_record_for, current_user, may_record_for, requires
from webui.communes import COMMUNE_CODE, commune_names, find_commune, render_library_page
from webui.errors import BadRequestError, NotFoundError
from webui.services import database

log = logging.getLogger(__name__)

bp = Blueprint("batches", __name__)

TABLES = ("batches", "titles", "history", "profiles")
FORMATS = ("csv", "xlsx")
MAX_NOTE_CHARS = 500
MAX_LISTED = 2000  # batches on one page of the registry
MAX_SHELF_CRATES, MAX_BATCHES_PER_VISIT = 200, 20
PLACE_KINDS = ("library", "commune", "vehicle")


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchRow:
    batch: Batch
    place: Place
    since: dt.datetime | None


@dataclass(frozen=True)
class Filters:
    language: str = ""
    audience: str = ""
    place: str = ""  # a kind of place, or "" for any
    text: str = ""

    def keep(self, row: BatchRow) -> bool:
        b = row.batch
        return ((not self.language or self.language in b.languages)
                and (not self.audience or self.audience in b.audiences)
                and (not self.place or row.place.kind == self.place)
                and (not self.text or self.text.casefold() in
                     f"{b.batch_id} {b.title} {b.owner} {row.place.ref}".casefold()))


def _filters(args: Mapping[str, str]) -> Filters:
    def pick(key: str, allowed: Sequence[str] | Mapping[str, Any]) -> str:
        value = args.get(key, "")
        return value if value in allowed else ""

    return Filters(pick("language", languages()), pick("audience", AUDIENCES),
                   pick("at", PLACE_KINDS), args.get("q", "")[:100].strip())


def place_text(place: Place, names: Mapping[str, str]) -> str:
    """``Xã Lũng Cú (00721)``, ``thư viện tv-ha-giang``, ``xe xe-tv-01``."""
    tr = g.tr
    if place.kind == "commune":
        name = names.get(place.ref)
        return f"{name} ({place.ref})" if name else place.ref
    if place.kind == "library":
        return tr("batch_at_library", ref=place.ref) if place.ref else \
            tr("batch_at_library_unrecorded")
    return tr("batch_on_vehicle", ref=place.ref)


def _local(moment: dt.datetime | None) -> str:
    return moment.astimezone(TZ).strftime("%d/%m/%Y %H:%M") if moment else "—"


def _template_helpers() -> dict[str, Any]:
    names = commune_names()
    return {"place_text": lambda p: place_text(p, names), "local_time": _local,
            "language_names": languages(), "audience_names": AUDIENCES,
            "lang_index": 0 if g.lang == "vi" else 1}


# --- the registry ----------------------------------------------------------------------------

def _registry_page(*, problems: Sequence[Problem | str] = (), status: int = 200,
                   report: Mapping[str, str] | None = None) -> ResponseReturnValue:
    filters = _filters(request.args)
    with database().read() as s:
        ledger = registry.ledger(s)
        rows = [BatchRow(b, ledger.where.get(b.batch_id, Place("library")),
                         ledger.since.get(b.batch_id)) for b in registry.registry(s)]
    shown = [r for r in rows if filters.keep(r)]
    return render_template("batches.html", rows=shown[:MAX_LISTED], total=len(rows),
                           matched=len(shown), filters=filters, problems=problems,
                           history_problems=ledger.problems, report=report or {},
                           tables=TABLES, formats=FORMATS, place_kinds=PLACE_KINDS,
                           **_template_helpers()), status


@bp.get("/batches")
@requires("read")
def batches_page() -> ResponseReturnValue:
    report = {k: v for k, v in request.args.items()
              if k in ("added", "updated", "unchanged", "titles", "moves", "profiles")}
    return _registry_page(report=report)


def _upload(field: str, read: Callable[..., Any]) -> Any:
    """The table uploaded as ``field`` read by ``read``; ``None`` when no file was given."""
    upload: FileStorage | None = request.files.get(field)
    if upload is None or not upload.filename:
        return None
    label = secure_filename(upload.filename)[:80] or field
    return read(upload.read(), label=label)


@bp.post("/batches/import")
@requires("registry")
def import_tables() -> ResponseReturnValue:
    """Import the uploaded registry, title lists, history and profiles together: every bad
    row of every table is listed, and nothing is written when there is one."""
    problems: list[Problem | str] = []
    read: dict[str, Any] = {}
    for field, reader in (("batches", read_batches), ("titles", read_titles),
                          ("history", read_stays), ("profiles", read_profiles)):
        try:
            read[field] = _upload(field, reader)
        except PlannerError as exc:
            problems += getattr(exc, "problems", None) or [str(exc)]
    if not problems and not any(v is not None for v in read.values()):
        problems.append(g.tr("batches_import_nothing"))
    if problems:
        return _registry_page(problems=problems, status=422)
    tables = Tables(batches=read["batches"] or (), titles=read["titles"] or (),
                    stays=read["history"] or (),
                    profiles=tuple((read["profiles"] or {}).values()),
                    titles_file=request.files["titles"].filename or "titles"
                    if read["titles"] else "<titles>",
                    history_file=request.files["history"].filename or "history"
                    if read["history"] else "<history>")
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            report = registry.import_tables(s, tables, user_id=user.id)
    except BatchRecordError as exc:
        return _registry_page(problems=exc.problems, status=422)
    except InvalidRecordError as exc:
        return _registry_page(problems=[str(exc)], status=422)
    log.info("user %s imported book batches: %s", user.username, report)
    return redirect(url_for("batches.batches_page", added=report.added, updated=report.updated,
                            unchanged=report.unchanged, titles=report.titles,
                            moves=report.moves, profiles=report.profiles), code=303)


@bp.get("/batches/export/<table>.<fmt>")
@requires("read_plans")
def export_table(table: str, fmt: str) -> ResponseReturnValue:
    """One table of the registry, as ``planner batches export`` writes it (and import reads
    it back)."""
    if table not in TABLES or fmt not in FORMATS:
        raise NotFoundError(g.tr("batches_unknown_table", name=f"{table}.{fmt}"))
    with database().read() as s:
        rows = registry.export_tables(s)[table]
    data = csv_table(rows) if fmt == "csv" else xlsx_table(rows, sheet=table,
                                                           title=f"Book batches: {table}")
    mimetype = "text/csv" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{table}.{fmt}"'})


# --- one batch -------------------------------------------------------------------------------

@dataclass(frozen=True)
class HandOver:
    """A stop of a current published version that lists the batch: what the driver may
    confirm there."""

    version: VersionInfo
    route: Route
    visit: Visit
    action: str  # "delivered" or "collected"
    recorded: bool


def _hand_overs(batch_id: str, ticks_of: Callable[[VersionInfo, str], TripTicks]
                ) -> list[HandOver]:
    """Where the newest published version of each series hands ``batch_id`` over."""
    out: list[HandOver] = []
    with database().read() as s:
        newest: dict[str, VersionInfo] = {}
        for v in plans.list_versions(s):
            newest.setdefault(v.series, v)
        contents = {v.key: plans.version_content(s, v.id).plan_json for v in newest.values()}
    for version in newest.values():
        try:
            plan: Plan = plans.parse_plan_text(contents[version.key], file=version.key)
        except (PlannerError, InvalidRecordError):
            continue  # an unreadable version has its own error page
        for route in plan.routes:
            lists = [(v, a) for v in route.visits for a, ids in
                     (("delivered", v.deliver_batches), ("collected", v.collect_batches))
                     if batch_id in ids]
            if not lists:
                continue
            ticks = ticks_of(version, route.key)
            for visit, action in lists:
                done = ticks.delivered if action == "delivered" else ticks.collected
                out.append(HandOver(version, route, visit, action,
                                    (visit.seq, batch_id) in done
                                    or (visit.seq, batch_id) in ticks.missing))
    return out


def _batch_page(batch_id: str, *, problems: Sequence[Problem | str] = (),
                status: int = 200) -> ResponseReturnValue:
    if not BATCH_ID.match(batch_id):
        raise NotFoundError(g.tr("batch_unknown", name=batch_id))
    with database().read() as s:
        try:
            batch = registry.get_batch(s, batch_id)
        except RecordNotFoundError:
            raise NotFoundError(g.tr("batch_unknown", name=batch_id)) from None
        ledger = registry.ledger(s)
        history = registry.move_history(s, batch_id=batch_id)
        titles = registry.titles(s, batch_id)

        def ticks_of(version: VersionInfo, vehicle_id: str) -> TripTicks:
            return registry.trip_ticks(s, version_id=version.id, vehicle_id=vehicle_id)

        # what the user may confirm: a driver the stops of their own vehicles
        hand_overs = [h for h in _hand_overs(batch_id, ticks_of)
                      if may_record_for(h.route.vehicle_id)]
    problems_here = [p for p in ledger.problems if p.value == batch_id]
    return render_template(
        "batch.html", batch=batch, place=ledger.where.get(batch_id, Place("library")),
        since=ledger.since.get(batch_id), history=history, titles=titles,
        hand_overs=hand_overs, problems=problems, history_problems=problems_here,
        place_kinds=PLACE_KINDS, now=dt.datetime.now(TZ).strftime("%Y-%m-%dT%H:%M"),
        **_template_helpers()), status


@bp.get("/batches/<batch_id>")
@requires("read")
def batch_page(batch_id: str) -> ResponseReturnValue:
    return _batch_page(batch_id)


def _version(key: str) -> VersionInfo:
    parsed = parse_version_key(key)
    try:
        if parsed is None:
            raise RecordNotFoundError(key)
        with database().read() as s:
            return plans.find_version(s, *parsed)
    except RecordNotFoundError:
        raise NotFoundError(g.tr("unknown_plan", name=key)) from None


def _int(text: str | None, what: str) -> int:
    try:
        return int(text or "")
    except ValueError:
        raise BadRequestError(g.tr("batches_bad_number", field=what)) from None


@bp.post("/batches/<batch_id>/confirm")
@requires("record_outcome")
def confirm_hand_over(batch_id: str) -> ResponseReturnValue:
    """A driver confirms, at a stop of a published trip, that the batch was handed over (or
    taken back), or that it was not found."""
    version = _version(request.form.get("version", ""))
    vehicle_id = request.form.get("vehicle_id", "")
    seq = _int(request.form.get("stop_seq"), "stop_seq")
    action = request.form.get("action", "")
    if action not in ("delivered", "collected", "missing"):
        raise BadRequestError(g.tr("batches_bad_action"))
    stop = StopRecord(seq, None, request.form.get("note", "")[:MAX_NOTE_CHARS],
                      delivered=(batch_id,) if action == "delivered" else (),
                      collected=(batch_id,) if action == "collected" else (),
                      missing=(batch_id,) if action == "missing" else ())
    _, route = published_trip(version, vehicle_id)
    check_may_record_for(route.vehicle_id)
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            registry.record_trip(s, version_id=version.id, vehicle_id=vehicle_id,
                                 stops=[stop], returned=False, user_id=user.id)
    except BatchRecordError as exc:
        return _batch_page(batch_id, problems=exc.problems, status=422)
    except RecordNotFoundError as exc:
        raise NotFoundError(str(exc)) from None
    log.info("user %s confirmed %s %s at %s %s #%d", user.username, batch_id, action,
             version.key, vehicle_id, seq)
    return redirect(url_for("batches.batch_page", batch_id=batch_id, confirmed=action,
                            _anchor="where"), code=303)


@bp.post("/batches/<batch_id>/correct")
@requires("registry")
def correct_place(batch_id: str) -> ResponseReturnValue:
    """A dispatcher records where the batch really is (a correction: a move from where the
    record has it, kept in its history with the note that explains it)."""
    kind, ref = request.form.get("kind", ""), request.form.get("ref", "").strip()
    note = request.form.get("note", "").strip()[:MAX_NOTE_CHARS]
    problems: list[str] = []
    if kind not in PLACE_KINDS:
        problems.append(g.tr("batches_bad_place_kind"))
    elif kind == "commune" and (not COMMUNE_CODE.match(ref) or ref not in commune_names()):
        problems.append(g.tr("batches_bad_commune", code=ref[:40]))
    elif not BATCH_ID.match(ref):  # library and vehicle ids: the same printable form
        problems.append(g.tr("batches_bad_ref", ref=ref[:40]))
    if not note:
        problems.append(g.tr("batches_note_needed"))
    try:
        at = dt.datetime.fromisoformat(request.form.get("at", "")).replace(tzinfo=TZ)
        if at > dt.datetime.now(TZ) + dt.timedelta(days=1) or at.year < 2000:
            raise ValueError(at)
    except ValueError:
        problems.append(g.tr("batches_bad_time"))
        at = dt.datetime.now(TZ)
    if problems:
        return _batch_page(batch_id, problems=problems, status=422)
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            here = registry.ledger(s).where.get(batch_id)
            if here is None:
                raise NotFoundError(g.tr("batch_unknown", name=batch_id))
            if here == Place(kind, ref):
                return _batch_page(batch_id, problems=[g.tr("batches_already_there")],
                                   status=422)
            registry.record_moves(s, [Move(batch_id, here, Place(kind, ref), at)],
                                  kind="correction", user_id=user.id, note=note)
    except BatchRecordError as exc:
        return _batch_page(batch_id, problems=exc.problems, status=422)
    log.info("user %s corrected where %s is: %s %s", user.username, batch_id, kind, ref)
    return redirect(url_for("batches.batch_page", batch_id=batch_id, _anchor="history"),
                    code=303)


# --- a trip's ticks --------------------------------------------------------------------------

def stop_from_form(form: Any, visit: Visit, prefix: str = "") -> StopRecord:
    """The ticks of one stop from a form: ``<prefix>status``, ``<prefix>note`` and the batch
    ids ticked in ``<prefix>delivered``, ``<prefix>collected``, ``<prefix>missing``."""
    status = form.get(f"{prefix}status") or None
    if status is not None and status not in OUTCOME_STATUSES:
        raise BadRequestError(g.tr("outcome_bad_status"))
    return StopRecord(visit.seq, status, form.get(f"{prefix}note", "")[:MAX_NOTE_CHARS],
                      delivered=tuple(form.getlist(f"{prefix}delivered")),
                      collected=tuple(form.getlist(f"{prefix}collected")),
                      missing=tuple(form.getlist(f"{prefix}missing")))


def published_trip(version: VersionInfo, vehicle_id: str) -> tuple[Plan, Route]:
    """The plan of a published version and its trip ``vehicle_id`` (a trip id); 404 when the
    version has no such trip."""
    with database().read() as s:
        content = plans.version_content(s, version.id)
    plan = plans.parse_plan_text(content.plan_json, file=version.key)
    route = next((r for r in plan.routes if r.key == vehicle_id), None)
    if route is None:
        raise NotFoundError(g.tr("trip_unknown", name=version.key, vehicle=vehicle_id))
    return plan, route


def _trip_page(key: str, vehicle_id: str, *, problems: Sequence[Problem | str] = (),
               status: int = 200) -> ResponseReturnValue:
    version = _version(key)
    plan, route = published_trip(version, vehicle_id)
    with database().read() as s:
        ticks = registry.trip_ticks(s, version_id=version.id, vehicle_id=vehicle_id)
        outcomes = plans.current_outcomes(s, version.id)
    return render_template("trip.html", version=version, plan=plan, route=route, ticks=ticks,
                           outcomes=outcomes, statuses=OUTCOME_STATUSES, problems=problems,
                           saved=request.args.get("saved"), **_template_helpers()), status


@bp.get("/versions/<key>/trips/<vehicle_id>")
@requires("read")
def trip_page(key: str, vehicle_id: str) -> ResponseReturnValue:
    return _trip_page(key, vehicle_id)


def record_ticks(version: VersionInfo, vehicle_id: str, stops: Sequence[StopRecord], *,
                 returned: bool) -> None:
    """Store the ticks of a trip (all or nothing); :class:`BatchRecordError` when refused."""
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            report = registry.record_trip(s, version_id=version.id, vehicle_id=vehicle_id,
                                          stops=stops, returned=returned, user_id=user.id)
    except RecordNotFoundError as exc:
        raise NotFoundError(str(exc)) from None
    log.info("user %s recorded the trip of %s in %s: %s", user.username, vehicle_id,
             version.key, report)


@bp.post("/versions/<key>/trips/<vehicle_id>")
@requires("record_outcome")
def record_trip(key: str, vehicle_id: str) -> ResponseReturnValue:
    """The whole trip as its crew ticked the printed sheet: every stop's outcome and
    batches, and whether the truck is back at its library."""
    version = _version(key)
    _, route = published_trip(version, vehicle_id)
    check_may_record_for(route.vehicle_id)
    stops = [stop_from_form(request.form, v, f"s{v.seq}-") for v in route.visits]
    try:
        record_ticks(version, vehicle_id, stops, returned=request.form.get("returned") == "1")
    except BatchRecordError as exc:
        return _trip_page(key, vehicle_id, problems=exc.problems, status=422)
    return redirect(url_for("batches.trip_page", key=key, vehicle_id=vehicle_id, saved=1),
                    code=303)


# --- a commune's batches ---------------------------------------------------------------------

@dataclass(frozen=True)
class CommuneBatches:
    """The batches section of a commune's page."""

    profile: CommuneProfile | None
    holdings: list[tuple[Batch, dt.datetime | None]]
    history: list[MoveInfo]
    ever: list[str]  # every batch it has had, now included


def commune_batches(code: str) -> CommuneBatches:
    with database().read() as s:
        profile = registry.profiles(s).get(code)
        ledger = registry.ledger(s)
        by_id = {b.batch_id: b for b in registry.registry(s)}
        history = registry.move_history(s, commune_code=code, limit=200)
    here = Place("commune", code)
    holdings = [(by_id[b], ledger.since.get(b)) for b in ledger.at(here) if b in by_id]
    ever = sorted({st.batch_id for st in ledger.stays if st.commune_code == code})
    return CommuneBatches(profile, holdings, history, ever)


def profile_from_form(code: str, form: Any) -> tuple[CommuneProfile | None, list[str]]:
    """A commune profile from the commune page's form, or the problems that stop it."""
    known_languages, problems = languages(), []
    langs = tuple(c for c in form.getlist("languages") if c in known_languages)
    audiences = tuple(a for a in form.getlist("audiences") if a in AUDIENCES)
    if not langs:
        problems.append(g.tr("profile_needs_language"))
    numbers = {}
    for field, top in (("shelf_crates", MAX_SHELF_CRATES),
                       ("batches_per_visit", MAX_BATCHES_PER_VISIT)):
        try:
            numbers[field] = int(form.get(field, ""))
            if not 1 <= numbers[field] <= top:
                raise ValueError
        except ValueError:
            problems.append(g.tr("profile_bad_number", field=g.tr(f"profile_{field}"), top=top))
    if problems:
        return None, problems
    return CommuneProfile(code, langs, audiences, shelf_crates=numbers["shelf_crates"],
                          languages_required=form.get("languages_required") == "1",
                          audiences_required=form.get("audiences_required") == "1",
                          batches_per_visit=numbers["batches_per_visit"]), []


@bp.post("/communes/<code>/profile")
@requires("registry")
def save_profile(code: str) -> ResponseReturnValue:
    lib = find_commune(code)
    profile, problems = profile_from_form(lib.row.code, request.form)
    if profile is None:
        return render_library_page(lib, profile_problems=problems, status=422)
    user = current_user()
    assert user is not None
    try:
        with database().begin() as s:
            changed = registry.save_profiles(s, [profile], user_id=user.id)
    except InvalidRecordError as exc:
        return render_library_page(lib, profile_problems=[str(exc)], status=422)
    log.info("user %s saved the reader profile of %s (%d change)", user.username, code, changed)
    return redirect(url_for("communes.library_page", code=lib.row.code, _anchor="batches"),
                    code=303)
