"""Tables people keep in spreadsheets, read the same way whether they come as CSV or XLSX:
the book-batch registry, the batch history, the commune library profiles.

A table has named columns, each known by its Vietnamese and English headings (either is
accepted, case and diacritics as written, surrounding spaces ignored). Every cell is read by
its column's parser; every bad cell, missing column or unreadable file is collected and
reported at once as a :class:`TableError` naming the file, the row (as the spreadsheet
numbers it), the column, the value and the fix, and no row is returned when any is bad.

A cell is text a spreadsheet can keep: a line break in it reads as ``"\n"``, a control
character is a bad cell, and the apostrophe a CSV export writes before formula-like text
(:func:`formula_safe`) is taken off, so the product's own exports read back as they were.

This module is the one home of spreadsheet reading (openpyxl); writing spreadsheets belongs
to :mod:`render.exports`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import PlannerError, Problem

MAX_TABLE_BYTES = 20 * 1024 * 1024  # a registry of thousands of batches is well under 1 MB
MAX_ROWS = 100_000
MAX_CELL_CHARS = 2_000
LIST_SEPARATOR = ";"
# characters no cell may hold: control characters but tab and line breaks, and the two
# non-characters XML (so XLSX) cannot hold either
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); a CSV
# export writes such text after an apostrophe, which spreadsheets take as "this is text".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TableError(PlannerError, ValueError):
    """A table that cannot be used; carries every problem found, not only the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in table"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems[:50])
                         + (f"\n  - … and {n - 50} more" if n > 50 else ""))


@dataclass(frozen=True)
class Column:
    """A column: its key (the field it fills), its Vietnamese and English headings, whether
    it must be present, and how a cell is read (a parser raising ``ValueError`` with the
    fix as message; an empty cell is ``None`` unless ``required``)."""

    key: str
    vi: str
    en: str
    parse: Callable[[str], Any]
    required: bool = True
    hint: str = ""  # how to write a value, for the fix of a bad cell

    def headings(self) -> set[str]:
        return {_norm(self.vi), _norm(self.en), _norm(self.key)}


def formula_safe(text: str) -> str:
    """``text`` for a CSV cell: text a spreadsheet would run as a formula gets a leading
    ``'``, and so does text that already starts with apostrophes before such text, so that
    :func:`read_table` reads every cell back as it was (it takes one such apostrophe off)."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text


def _csv_cell(text: str) -> str:
    """A CSV cell as written before :func:`formula_safe`."""
    return text[1:] if text[:1] == "'" and text.lstrip("'").startswith(FORMULA_START) else text


def _norm(text: str) -> str:
    return " ".join(str(text).strip().lower().split())


# --- cell parsers --------------------------------------------------------------------------

def text(value: str) -> str:
    return value.strip()


def positive_int(value: str) -> int:
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        raise ValueError("write a whole number such as 3") from None
    if not math.isfinite(number) or number != int(number) or not 0 < number <= 1_000_000:
        raise ValueError("write a whole number from 1 to 1,000,000")
    return int(number)


def optional_int(value: str) -> int | None:
    return positive_int(value) if value.strip() else None


def date(value: str) -> dt.date:
    raw = value.strip()
    if "T" in raw or " " in raw:
        raw = raw.replace("T", " ").split(" ", 1)[0]
    for parse in (dt.date.fromisoformat,
                  lambda s: dt.datetime.strptime(s, "%d/%m/%Y").date()):
        try:
            day = parse(raw)
        except ValueError:
            continue
        if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
            raise ValueError("write a date between 2000 and 2100")
        return day
    raise ValueError("write a date as 2026-12-07 or 07/12/2026")


def optional_date(value: str) -> dt.date | None:
    return date(value) if value.strip() else None


def word_list(value: str) -> tuple[str, ...]:
    """``"vie; hnj"`` -> ``("vie", "hnj")`` (lower case, in order, without repeats)."""
    items = [part.strip().lower() for part in value.split(LIST_SEPARATOR)]
    return tuple(dict.fromkeys(item for item in items if item))


def yes_no(value: str) -> bool:
    word = _norm(value)
    if word in ("yes", "y", "true", "1", "có", "co", "x"):
        return True
    if word in ("no", "n", "false", "0", "không", "khong", ""):
        return False
    raise ValueError("write yes or no (có / không)")


# --- reading -------------------------------------------------------------------------------

def read_table(source: str | Path | bytes, columns: Sequence[Column], *, label: str | None = None,
               kind: str = "") -> list[dict[str, Any]]:
    """The rows of a CSV (UTF-8, with or without a byte-order mark; comma, semicolon or tab
    separated) or XLSX file (its first sheet), each a mapping of column key to value. Columns
    not listed are ignored; a listed column found twice, a required column missing and any bad
    cell are reported together (:class:`TableError`)."""
    if isinstance(source, bytes):
        data, name = source, label or "<table>"
    else:
        path = Path(source)
        name = label or str(path)
        try:
            if path.stat().st_size > MAX_TABLE_BYTES:
                raise TableError([Problem(name, "(file)", None,
                                          f"larger than {MAX_TABLE_BYTES // 1024 // 1024} MB",
                                          "split the table or remove unused sheets")])
            data = path.read_bytes()
        except OSError as exc:
            raise TableError([Problem(name, "(file)", None, f"cannot be read ({exc.strerror})",
                                      "check the path")]) from None
    if len(data) > MAX_TABLE_BYTES:
        raise TableError([Problem(name, "(file)", None,
                                  f"larger than {MAX_TABLE_BYTES // 1024 // 1024} MB",
                                  "split the table or remove unused sheets")])
    rows = _xlsx_rows(data, name) if data[:4] == b"PK\x03\x04" else _csv_rows(data, name)
    return _parse_rows(rows, columns, name, kind)


def _csv_rows(data: bytes, name: str) -> Iterator[tuple[int, list[str]]]:
    try:
        textual = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError([Problem(name, "(file)", None, "not UTF-8 text",
                                  "save the CSV as UTF-8 (Excel: CSV UTF-8)")]) from None
    if "\x00" in textual:
        raise TableError([Problem(name, "(file)", None, "holds a NUL byte (not a CSV file?)",
                                  "save the table as CSV UTF-8 or XLSX")])
    # the separator is guessed from the first lines; the quoting is always the standard one
    # (RFC 4180: "..." around a cell, "" for a quote inside it), which the guess gets wrong
    # on cells full of quotes
    delimiter, spaces = ",", False
    try:
        sniffed = csv.Sniffer().sniff(textual[:4096], delimiters=",;\t")
        delimiter, spaces = sniffed.delimiter, bool(sniffed.skipinitialspace)
    except csv.Error:
        pass
    # universal newlines: a CSV saved with CR line ends (Excel "CSV (Macintosh)") reads as
    # well as CRLF or LF, and a line break inside a quoted cell is read as "\n"
    reader = csv.reader(io.StringIO(textual, newline=None), csv.excel, delimiter=delimiter,
                        skipinitialspace=spaces)
    try:
        for number, row in enumerate(reader, start=1):
            yield number, [_csv_cell(cell) for cell in row]
    except csv.Error as exc:
        raise TableError([Problem(name, f"line {reader.line_num}", None,
                                  f"cannot be read as CSV ({exc})",
                                  "save the table again as CSV UTF-8 or XLSX")]) from None


# what openpyxl raises on a damaged workbook: a broken zip (CRC, truncated deflate data),
# broken XML (ElementTree's ParseError is a SyntaxError), a missing or malformed part, a value
# it cannot convert (a date serial out of range)
_XLSX_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, SyntaxError, KeyError, IndexError,
                AttributeError, TypeError, ValueError, OverflowError, OSError)


def _unreadable_xlsx(name: str, exc: BaseException, where: str = "") -> TableError:
    detail = str(exc).strip() or type(exc).__name__
    return TableError([Problem(name, where or "(file)", None,
                               f"not a readable XLSX workbook ({detail[:200]})",
                               "save it again as .xlsx, or as CSV UTF-8")])


def _xlsx_rows(data: bytes, name: str) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _XLSX_DAMAGE as exc:
        raise _unreadable_xlsx(name, exc) from None
    number = 0
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(v) for v in row]
    except _XLSX_DAMAGE as exc:  # the sheet is read as it is iterated
        raise _unreadable_xlsx(name, exc, f"row {number + 1}") from None
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_rows(rows: Iterator[tuple[int, list[str]]], columns: Sequence[Column], name: str,
                kind: str) -> list[dict[str, Any]]:
    problems: list[Problem] = []
    header: list[str] | None = None
    where: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for number, cells in rows:
        if header is None:
            if not any(c.strip() for c in cells):
                continue  # blank lines above the header
            header = [_norm(c) for c in cells]
            where, problems = _header(header, columns, name, kind)
            if problems:
                raise TableError(problems)
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(out) >= MAX_ROWS:
            raise TableError([Problem(name, "(file)", None, f"more than {MAX_ROWS} rows",
                                      "split the table")])
        record: dict[str, Any] = {"_row": number}
        for col in columns:
            index = where.get(col.key)
            raw = cells[index] if index is not None and index < len(cells) else ""
            field = f"row {number}, column {col.vi} ({col.en})"
            if len(raw) > MAX_CELL_CHARS:
                problems.append(Problem(name, field, raw, f"longer than {MAX_CELL_CHARS} "
                                        "characters", "shorten it"))
                continue
            raw = raw.replace("\r\n", "\n").replace("\r", "\n")  # one kind of line break
            control = _CONTROL.search(raw)
            if control:
                problems.append(Problem(name, field, raw, "holds the control character "
                                        f"U+{ord(control.group()):04X}",
                                        "delete it (a spreadsheet cannot keep it; it comes "
                                        "with text copied out of another program)"))
                continue
            if not raw.strip():
                if col.required:
                    problems.append(Problem(name, field, None, "empty",
                                            col.hint or f"fill in {col.vi}"))
                record[col.key] = None
                continue
            try:
                record[col.key] = col.parse(raw)
            except ValueError as exc:
                problems.append(Problem(name, field, raw, "cannot be read",
                                        str(exc) or col.hint))
        out.append(record)
    if header is None:
        raise TableError([Problem(name, "(file)", None, "empty: no header row",
                                  "start with a header row: "
                                  + ", ".join(c.vi for c in columns))])
    if problems:
        raise TableError(problems)
    return out


def _header(header: list[str], columns: Sequence[Column], name: str, kind: str
            ) -> tuple[dict[str, int], list[Problem]]:
    where: dict[str, int] = {}
    problems = []
    for col in columns:
        found = [i for i, h in enumerate(header) if h in col.headings()]
        if len(found) > 1:
            problems.append(Problem(name, f"column {col.vi} ({col.en})", None,
                                    f"appears {len(found)} times in the header",
                                    "keep one column of this name"))
        elif found:
            where[col.key] = found[0]
        elif col.required:
            problems.append(Problem(name, f"column {col.vi} ({col.en})", None,
                                    f"missing from the header row of the {kind or 'table'}",
                                    f"add a column named “{col.vi}” or “{col.en}”"))
    return where, problems


def check_unique(rows: Sequence[Mapping[str, Any]], key: str, column: Column, *,
                 name: str) -> list[Problem]:
    """Problems for rows repeating another row's ``key`` value."""
    seen: dict[Any, int] = {}
    problems = []
    for row in rows:
        value = row.get(key)
        if value is None:
            continue
        if value in seen:
            problems.append(Problem(name, f"row {row['_row']}, column {column.vi} ({column.en})",
                                    value, f"already in row {seen[value]}",
                                    "give each row its own value"))
        else:
            seen[value] = row["_row"]
    return problems


__all__ = ["FORMULA_START", "Column", "MAX_TABLE_BYTES", "TableError", "check_unique", "date",
           "formula_safe", "optional_date", "optional_int", "positive_int", "read_table",
           "text", "word_list", "yes_no"]
