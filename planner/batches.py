"""Book rotation: batches of books (lô sách) as tracked objects, where each has been, and what
each commune library reads.

- A :class:`Batch` has a printable id (``HG-2026-017``), crates, the languages it is written
  in (codes of :func:`languages`, ISO 639-3 where one exists) and its audiences
  (:data:`AUDIENCES`).
- A :class:`Stay` is one stay of a batch at a commune library: delivered on a date, collected
  on a later one (``None`` while it is still there). The history of stays is the record of
  where every batch has been; :func:`state_on` reads it on a date into a :class:`BatchState`
  (which commune holds which batch, which batches each commune ever had, which batches are at
  the library) and reports a broken history (a batch in two communes at once, a stay that ends
  before it starts) instead of repairing it.
- A :class:`CommuneProfile` says which languages and audiences a commune's readers want and
  how many crates its shelf holds; :func:`eligible` is the one rule for which batch a commune
  may receive: never one it has had (hard), in a language it reads and for an audience it
  serves (hard where the profile says so, a preference otherwise), and not more than its
  shelf holds.

Tables of batches, stays and profiles are read from CSV or XLSX (:mod:`planner.tables`).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stdnum import isbn as isbn_numbers
from stdnum.exceptions import ValidationError as NumberError

from planner.errors import PlannerError, Problem
from planner.tables import (
    LIST_SEPARATOR,
    Column,
    TableError,
    check_unique,
    date,
    optional_date,
    optional_int,
    positive_int,
    read_table,
    text,
    word_list,
    yes_no,
)

LANGUAGES_FILE = Path(__file__).resolve().parent / "data" / "languages.csv"
BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
# audience key -> (Vietnamese, English)
AUDIENCES: Mapping[str, tuple[str, str]] = {
    "children": ("thiếu nhi", "children"),
    "youth": ("thanh thiếu niên", "youth"),
    "adults": ("người lớn", "adults"),
    "legal": ("pháp luật", "legal"),
    "farming": ("nông nghiệp", "farming"),
    "lifelong": ("học tập suốt đời", "lifelong learning"),
}


class BatchError(PlannerError, ValueError):
    """Batches, stays or profiles that do not fit together; carries every problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) with the book batches:\n"
                         + "\n".join(f"  - {p}" for p in self.problems[:50]))


@dataclass(frozen=True)
class Language:
    code: str
    name_vi: str
    name_en: str
    iso_639_3: bool


@functools.cache
def languages() -> Mapping[str, Language]:
    """The languages a batch may be written in, by code (``planner/data/languages.csv``)."""
    with LANGUAGES_FILE.open(encoding="utf-8", newline="") as fh:
        return {row["code"]: Language(row["code"], row["name_vi"], row["name_en"],
                                      row["iso_639_3"] == "yes")
                for row in csv.DictReader(fh)}


@dataclass(frozen=True)
class Batch:
    """A batch of books that travels as a whole."""

    batch_id: str
    crates: int
    languages: tuple[str, ...]
    audiences: tuple[str, ...]
    title: str = ""
    owner: str = ""  # the library that owns it
    books: int | None = None
    condition: str = ""


@dataclass(frozen=True)
class Title:
    """One title of a batch's book list."""

    batch_id: str
    title: str
    isbn: str = ""  # compact ISBN-10 or ISBN-13, checked
    author: str = ""


@dataclass(frozen=True)
class Stay:
    """A batch at a commune library from ``delivered_on`` to ``collected_on`` (inclusive;
    ``None``: still there)."""

    batch_id: str
    commune_code: str
    delivered_on: dt.date
    collected_on: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        return self.delivered_on <= day and (self.collected_on is None
                                             or day < self.collected_on)


@dataclass(frozen=True)
class CommuneProfile:
    """What a commune library's readers read, and its shelf."""

    commune_code: str
    languages: tuple[str, ...]
    audiences: tuple[str, ...] = ()
    shelf_crates: int = 4
    languages_required: bool = True  # a batch in none of its languages is never sent
    audiences_required: bool = False  # a batch for none of its audiences is never sent
    batches_per_visit: int = 1  # new batches a visit leaves (a swap: one for the one taken)


@dataclass(frozen=True)
class BatchState:
    """Where the batches are on a day, by the history of stays."""

    day: dt.date
    holdings: Mapping[str, tuple[str, ...]]  # commune -> batches it holds now
    had: Mapping[str, frozenset[str]]  # commune -> every batch it has held (now included)
    at_library: tuple[str, ...]  # batches at no commune: at the library (or in transit)


def state_on(batches: Sequence[Batch], stays: Iterable[Stay], day: dt.date, *,
             file: str = "<history>") -> BatchState:
    """The state of the batches on ``day``; :class:`BatchError` if the history is broken
    (an unknown batch, a stay that ends before it starts, a batch in two places at once)."""
    known = {b.batch_id for b in batches}
    problems = []
    by_batch: dict[str, list[Stay]] = {}
    for stay in stays:
        if stay.batch_id not in known:
            problems.append(Problem(file, "batch_id", stay.batch_id,
                                    "not a batch of the registry", "add it to the registry"))
            continue
        if stay.collected_on is not None and stay.collected_on < stay.delivered_on:
            problems.append(Problem(file, f"{stay.batch_id} at {stay.commune_code}",
                                    stay.collected_on.isoformat(),
                                    f"collected before it was delivered "
                                    f"({stay.delivered_on.isoformat()})",
                                    "correct one of the dates"))
            continue
        by_batch.setdefault(stay.batch_id, []).append(stay)
    holdings: dict[str, list[str]] = {}
    had: dict[str, set[str]] = {}
    for batch_id, batch_stays in by_batch.items():
        batch_stays.sort(key=lambda s: s.delivered_on)
        for a, b in zip(batch_stays, batch_stays[1:], strict=False):
            if a.collected_on is None or b.delivered_on < a.collected_on:
                problems.append(Problem(file, f"{batch_id}", b.delivered_on.isoformat(),
                                        f"delivered to {b.commune_code} while still at "
                                        f"{a.commune_code} (from {a.delivered_on.isoformat()})",
                                        f"give the stay at {a.commune_code} its collection "
                                        "date"))
        for stay in batch_stays:
            if stay.delivered_on <= day:
                had.setdefault(stay.commune_code, set()).add(batch_id)
            if stay.covers(day):
                holdings.setdefault(stay.commune_code, []).append(batch_id)
    if problems:
        raise BatchError(problems)
    placed = {b for held in holdings.values() for b in held}
    return BatchState(day=day, holdings={c: tuple(sorted(h)) for c, h in holdings.items()},
                      had={c: frozenset(h) for c, h in had.items()},
                      at_library=tuple(sorted(known - placed)))


@dataclass(frozen=True)
class Fit:
    """Whether a batch may go to a commune, and how well it suits it (0 to 2)."""

    allowed: bool
    score: int
    why_not: str = ""


def eligible(batch: Batch, profile: CommuneProfile, had: frozenset[str]) -> Fit:
    """The one rule: may ``batch`` go to the commune of ``profile``, which has held ``had``?"""
    if batch.batch_id in had:
        return Fit(False, 0, "had before")
    if batch.crates > profile.shelf_crates:
        return Fit(False, 0, "larger than its shelf")
    lang = bool(set(batch.languages) & set(profile.languages))
    aud = not profile.audiences or bool(set(batch.audiences) & set(profile.audiences))
    if profile.languages_required and not lang:
        return Fit(False, 0, "in none of its languages")
    if profile.audiences_required and not aud:
        return Fit(False, 0, "for none of its audiences")
    return Fit(True, int(lang) + int(aud))


def describe_need(profile: CommuneProfile) -> str:
    """``"in Hmông, for children"``: what a commune needs, for "no batch left" messages."""
    names = languages()
    langs = " or ".join(names[c].name_en if c in names else c for c in profile.languages)
    parts = [f"in {langs}"] if profile.languages_required and langs else []
    if profile.audiences_required and profile.audiences:
        parts.append("for " + " or ".join(AUDIENCES.get(a, (a, a))[1]
                                         for a in profile.audiences))
    return ", ".join(parts) or "that suits it"


# --- tables --------------------------------------------------------------------------------

def _some(items: Sequence[str], shown: int = 5) -> str:
    """``"a, b, c"``, or the first ``shown`` and a count of the rest: a cell may hold hundreds
    of bad codes, and its problem must stay a line."""
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(item[:40] for item in items[:shown]) + more


def _language(value: str) -> tuple[str, ...]:
    codes = word_list(value)
    known = languages()
    bad = [c for c in codes if c not in known]
    if bad:
        raise ValueError(f"unknown language code {_some(bad)}; use codes such as "
                         f"{', '.join(list(known)[:8])} (planner/data/languages.csv), "
                         "separated by ;")
    if not codes:
        raise ValueError("give at least one language code, e.g. vie")
    return codes


def _audience(value: str) -> tuple[str, ...]:
    keys = word_list(value)
    bad = [k for k in keys if k not in AUDIENCES]
    if bad:
        raise ValueError(f"unknown audience {_some(bad)}; use {', '.join(AUDIENCES)}, "
                         "separated by ;")
    return keys


def _batch_id(value: str) -> str:
    value = value.strip()
    if not BATCH_ID.match(value):
        raise ValueError("write a batch id of letters, digits and - . _ (at most 32), such "
                         "as HG-2026-017")
    return value


def _commune_code(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"[0-9]{5}", value):
        raise ValueError("write the 5-digit 2025 commune code, such as 00715 (format the "
                         "column as text in a spreadsheet, so the leading zeros stay)")
    return value


def _isbn(value: str) -> str:
    if not value.strip():
        return ""
    try:
        return str(isbn_numbers.validate(value))
    except NumberError:
        raise ValueError("write an ISBN of 10 or 13 digits with its check digit, such as "
                         "978-604-2-12345-6 (or leave it empty)") from None


def _required_text(value: str) -> str:
    if not value.strip():
        raise ValueError("write the title")
    return value.strip()


BATCH_COLUMNS = (
    Column("batch_id", "mã lô", "batch id", _batch_id, hint="e.g. HG-2026-017"),
    Column("crates", "số thùng", "crates", positive_int),
    Column("languages", "ngôn ngữ", "languages", _language, hint="e.g. vie; hnj"),
    Column("audiences", "đối tượng", "audience", _audience, required=False),
    Column("title", "tên lô", "title", text, required=False),
    Column("owner", "thư viện sở hữu", "owner", text, required=False),
    Column("books", "số sách", "books", optional_int, required=False),
    Column("condition", "tình trạng", "condition", text, required=False),
)
STAY_COLUMNS = (
    Column("batch_id", "mã lô", "batch id", _batch_id),
    Column("commune_code", "mã xã", "commune code", _commune_code),
    Column("delivered_on", "ngày giao", "delivered on", date),
    Column("collected_on", "ngày thu", "collected on", optional_date, required=False),
)
TITLE_COLUMNS = (
    Column("batch_id", "mã lô", "batch id", _batch_id),
    Column("title", "nhan đề", "title", _required_text),
    Column("isbn", "ISBN", "isbn", _isbn, required=False),
    Column("author", "tác giả", "author", text, required=False),
)
PROFILE_COLUMNS = (
    Column("commune_code", "mã xã", "commune code", _commune_code),
    Column("languages", "ngôn ngữ", "languages", _language, hint="e.g. vie; hnj"),
    Column("audiences", "đối tượng", "audiences", _audience, required=False),
    Column("shelf_crates", "sức chứa (thùng)", "shelf crates", positive_int, required=False),
    Column("languages_required", "bắt buộc ngôn ngữ", "languages required", yes_no,
           required=False),
    Column("audiences_required", "bắt buộc đối tượng", "audiences required", yes_no,
           required=False),
    Column("batches_per_visit", "số lô mỗi lần", "batches per visit", optional_int,
           required=False),
)


def read_batches(source: str | Path | bytes, *, label: str | None = None) -> tuple[Batch, ...]:
    """The batch registry (CSV or XLSX); :class:`~planner.tables.TableError` with every bad
    row, and no batch at all, when any is bad."""
    name = label or str(source if not isinstance(source, bytes) else "<batches>")
    rows = read_table(source, BATCH_COLUMNS, label=name, kind="batch registry")
    problems = check_unique(rows, "batch_id", BATCH_COLUMNS[0], name=name)
    if problems:
        raise TableError(problems)
    return tuple(Batch(batch_id=r["batch_id"], crates=r["crates"], languages=r["languages"],
                       audiences=r["audiences"] or (), title=r["title"] or "",
                       owner=r["owner"] or "", books=r["books"], condition=r["condition"] or "")
                 for r in rows)


def read_stays(source: str | Path | bytes, *, label: str | None = None) -> tuple[Stay, ...]:
    """The batch history (CSV or XLSX): one row per stay of a batch at a commune."""
    name = label or str(source if not isinstance(source, bytes) else "<history>")
    rows = read_table(source, STAY_COLUMNS, label=name, kind="batch history")
    return tuple(Stay(r["batch_id"], r["commune_code"], r["delivered_on"], r["collected_on"])
                 for r in rows)


def read_titles(source: str | Path | bytes, *, label: str | None = None) -> tuple[Title, ...]:
    """Book lists of batches (CSV or XLSX): one row per title, in each batch's order."""
    name = label or str(source if not isinstance(source, bytes) else "<titles>")
    rows = read_table(source, TITLE_COLUMNS, label=name, kind="batch titles")
    return tuple(Title(r["batch_id"], r["title"], r["isbn"] or "", r["author"] or "")
                 for r in rows)


def read_profiles(source: str | Path | bytes, *, label: str | None = None,
                  default_shelf_crates: int = 4) -> dict[str, CommuneProfile]:
    """Commune library profiles (CSV or XLSX), by commune code."""
    name = label or str(source if not isinstance(source, bytes) else "<profiles>")
    rows = read_table(source, PROFILE_COLUMNS, label=name, kind="commune profiles")
    problems = check_unique(rows, "commune_code", PROFILE_COLUMNS[0], name=name)
    if problems:
        raise TableError(problems)
    return {r["commune_code"]: CommuneProfile(
        commune_code=r["commune_code"], languages=r["languages"], audiences=r["audiences"] or (),
        shelf_crates=r["shelf_crates"] or default_shelf_crates,
        languages_required=True if r["languages_required"] is None else r["languages_required"],
        audiences_required=bool(r["audiences_required"]),
        batches_per_visit=r["batches_per_visit"] or 1) for r in rows}


# --- writing the same tables ---------------------------------------------------------------

def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, tuple):
        return f"{LIST_SEPARATOR} ".join(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def table_rows(columns: Sequence[Column], records: Iterable[object]) -> list[list[str]]:
    """The records (dataclasses with the columns' keys as fields) as a table with the
    columns' Vietnamese headings, each cell written so that its column reads it back."""
    return [[c.vi for c in columns],
            *([_cell(getattr(r, c.key)) for c in columns] for r in records)]


__all__ = ["AUDIENCES", "BATCH_COLUMNS", "PROFILE_COLUMNS", "STAY_COLUMNS", "TITLE_COLUMNS",
           "Batch", "BatchError", "BatchState", "CommuneProfile", "Fit", "Language", "Stay",
           "Title", "describe_need", "eligible", "languages", "read_batches", "read_profiles",
           "read_stays", "read_titles", "state_on", "table_rows"]
