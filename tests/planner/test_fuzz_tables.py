"""Fuzzing the tables people keep in spreadsheets (issue 19): mutants of small valid book-batch
tables (registry, title lists, history, commune profiles) and of communes and libraries
files, as CSV or XLSX, fed to the product's own readers in this process:

* :mod:`planner.batches` (``read_batches``, ``read_titles``, ``read_stays``,
  ``read_profiles``) and :func:`planner.rotation.load_rotation`, which reads a scenario's
  ``rotation:`` files;
* the registry import as the web upload runs it (``POST /batches/import``; ``planner batches
  import`` does the same from paths): the four tables read from their bytes, then
  :func:`storage.batches.import_tables` in one transaction of a throwaway SQLite database
  that already holds a registry;
* :func:`geodata.importer.import_dataset` with the mutant as its ``--communes`` or
  ``--libraries`` file.

Mutations: wrong types, empty cells, huge, negative and non-finite numbers, Unicode
(combining marks, right-to-left marks, NUL, byte-order marks, emoji), formula-like cells,
duplicate, missing, extra and renamed headers, wrong delimiters and encodings, binary junk,
truncated XLSX (zip) bytes, long cells and many rows.

Each case must end in one clear error of the product (``TableError`` / ``BatchError``,
``BatchRecordError``, ``GeodataError``) whose every problem names the file and fits a line,
with nothing written to the database; or in a result that keeps the tables' rules and reads
back the same from the product's own exports (:func:`storage.batches.export_tables`,
:func:`render.exports.csv_table` and ``xlsx_table``). Any other exception fails, and so does
a case running past 30 s (a hang).

``make test`` runs 300 cases (about 10 s; at most 120 under ``CI=true``, derandomized); run
more with ``PLANNER_FUZZ_EXAMPLES`` (README, Development); ``PLANNER_FUZZ_REPORT=FILE`` writes
the count of each outcome as JSON (:mod:`fuzzkit`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pytest
from fuzzkit import (
    IN_CI,
    MAX_LINE_CHARS,
    assert_clear_message,
    example_count,
    outcome_counts,
    within_time_limit,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from osmium.osm.mutable import Node, Way
from sqlalchemy import func, select
from werkzeug.utils import secure_filename

from geodata.datasets import load_dataset
from geodata.errors import GeodataError
from geodata.importer import COMMUNE_COLUMNS, LIBRARY_COLUMNS, import_dataset, read_libraries
from planner.batches import (
    AUDIENCES,
    BATCH_COLUMNS,
    BATCH_ID,
    PROFILE_COLUMNS,
    STAY_COLUMNS,
    TITLE_COLUMNS,
    Batch,
    CommuneProfile,
    Stay,
    Title,
    languages,
    read_batches,
    read_profiles,
    read_stays,
    read_titles,
    table_rows,
)
from planner.errors import PlannerError, Problem
from planner.rotation import load_rotation
from planner.scenario import RotationSpec
from planner.tables import MAX_CELL_CHARS, MAX_ROWS, MAX_TABLE_BYTES, Column
from render.exports import csv_table, xlsx_table
from storage import Database, StorageError
from storage import batches as registry_db
from storage.batches import Tables
from storage.models import BatchMove, BatchRecord, BatchTitle, CommuneProfileRecord, LibraryEdit
from storage.users import create_user

EXAMPLES = example_count(300)
START = dt.date(2026, 12, 7)  # the first day of the plan a rotation is read for

Cell = Any  # what a spreadsheet cell holds: text, a number, a date, a truth value or nothing
Grid = list[list[Cell]]

# --- the valid tables the mutants start from -----------------------------------------------

BATCH_ROWS: Grid = [
    ["HG-2026-001", "2", "vie; hnj", "children", "Truyện tranh song ngữ",
     "Thư viện tỉnh Hà Giang", "120", "tốt"],
    ["HG-2026-002", 1, "tyz", "adults; farming", "Sổ tay nông nghiệp", "", 45, ""],
    ["HG-2026-003", "3", "vie", "youth", "Sách tham khảo", "", "", ""],
    ["HG-2026-004", "1", "hnj;vie", "lifelong", "Hmông – Việt", "", "30", "cũ"],
]
TITLE_ROWS: Grid = [
    ["HG-2026-001", "Dế Mèn phiêu lưu ký", "978-604-2-12345-7", "Tô Hoài"],
    ["HG-2026-001", "Truyện cổ Hmông", "", ""],
    ["HG-2026-002", "Kỹ thuật trồng ngô", "9786041012349", "Nhiều tác giả"],
    ["HG-2026-004", "Từ điển Hmông – Việt", "0-306-40615-2", ""],
]
STAY_ROWS: Grid = [
    ["HG-2026-001", "00778", "2025-03-01", "2025-09-01"],
    ["HG-2026-001", "01108", "2025-09-01", ""],
    ["HG-2026-002", "00802", "07/10/2025", ""],
    ["HG-2026-003", "00778", dt.date(2025, 9, 1), dt.datetime(2026, 3, 1, 9, 30)],
]
PROFILE_ROWS: Grid = [
    ["00778", "vie; hnj", "children", "4", "có", "không", "1"],
    ["01108", "vie", "", 3, "", "", ""],
    ["00802", "tyz; vie", "adults", "6", "không", "có", "2"],
]
COMMUNE_HEADER = [*COMMUNE_COLUMNS, "population"]
COMMUNE_ROWS: Grid = [
    ["00778", "Xã Thuận Hòa", "105.0", "22.8", "1200"],
    ["01108", "Xã Bạch Đích", "105.002", "22.801", "950"],
    ["00802", "Phường Hà Giang 1", 105.001, 22.799, ""],
]

LIBRARY_ROWS: Grid = [
    ["HG-LIB", "Thư viện tỉnh Hà Giang", "00691", "Phường Hà Giang 2", "105.0", "22.8",
     "given", "0.1"],
    ["007", "Thư viện huyện Bắc Mê", "", "", 105.002, 22.801, "", ""],
]
TEXT_NEAR: list[Cell] = ["Truyện", "", " ", "Sách\nhai dòng", "-Truyện", "=1+1", "'trích",
                         "Ngữ văn 6", "a\tb", " Tày ", "@tên"]
NON_FINITE: list[Cell] = ["inf", "-inf", "nan", "NaN", "1e400", "-1e400", "Infinity", math.inf,
                          math.nan]
MANY_CODES = ";".join(f"x{i}" for i in range(400))  # unknown codes in one cell of < 2000
YES_NO_NEAR: list[Cell] = ["có", "không", "yes", "no", "", "x", "Có", "maybe", True, False, 1,
                           0]
NEAR: dict[str, list[Cell]] = {
    "batch_id": ["HG-2026-001", "HG-2026-002", "HG-2026-009", "OLD-1", "A", "a.b_c-9",
                 "X" * 32, "X" * 33, "HG 2026", "HG/1", " HG-2026-003 ", "hg-2026-001", 17],
    "crates": ["1", "2", "3", 4, 2.0, "2.0", "2,0", "1000000", "1000001", "0", "-1", "2.5",
               "1e3", "1e6", " 3 ", "three", 1e300, -0.0, *NON_FINITE],
    "languages": ["vie", "hnj", "vie; hnj", "VIE", "vie;;hnj", "tyz; vie; vie", "x-giay",
                  "eng", "fra", ";", "vie,hnj", "vie hnj", "Vie ; Hnj", MANY_CODES],
    "audiences": ["children", "adults; farming", "", "Children", "kids", "legal;lifelong",
                  ";", "youth; youth", MANY_CODES],
    "title": TEXT_NEAR, "owner": TEXT_NEAR, "condition": TEXT_NEAR, "author": TEXT_NEAR,
    "books": ["", "10", "0", "-5", "1.5", "999999", "1000001", 12, *NON_FINITE],
    "commune_code": ["00778", "01108", "00802", "00715", "778", 778, "0077", "007788",
                     "ABCDE", "00778 ", "០០៧៧៨"],
    "delivered_on": ["2025-03-01", "01/03/2025", dt.date(2025, 3, 1),
                     dt.datetime(2025, 3, 1, 8, 30), "2025-02-30", "1999-12-31",
                     "2101-01-01", "2025-3-1", "2025-03-01T10:00", "45000", 45000,
                     "2026-12-07 08:00:00", "2026-12-08"],
    "collected_on": ["", "2025-09-01", "2025-02-01", "01/09/2025", "2026-12-31",
                     "2025-09-01", dt.date(2024, 1, 1)],
    "isbn": ["", "978-604-2-12345-7", "9786041012349", "0-306-40615-2", "9786042123450",
             "978604212345X", "ISBN 978-604-2-12345-7", "０３０６４０６１５２", "030640615X"],
    "shelf_crates": ["", "1", "4", "100", "0", "-1", "1e9", 2.5, *NON_FINITE],
    "languages_required": YES_NO_NEAR, "audiences_required": YES_NO_NEAR,
    "batches_per_visit": ["", "1", "2", "0", "3.5", *NON_FINITE],
    "name": ["Xã A", "", "Phường Hà Giang 1", "  ", "Xã\u0301", 12],
    "lon": ["105.0", "104.996", 105, "-181", "181", "180", "-180", "nan", "inf", "",
            "1e400", "105,0", "abc", 1e308, math.nan, "105.000000000001"],
    "lat": ["22.8", "22.805", 22.8, "-91", "91", "90", "-90", "NaN", "-inf", "", "2e308",
            "22,8", 0, "22.8e0"],
    "population": ["1200", "", "abc", "1e400", 3, -1, "1,200"],
    "library_id": ["HG-LIB", "007", 7, "7.0", "", "LIB-01", "HG-LIB ", "1e3", "x" * 300],
    "commune_2025_code": ["00691", "691", 691, "", "abc"],
    "commune_2025": ["Phường Hà Giang 2", "", 5],
    "location_method": ["given", "", "ước tính"],
    "location_precision_km": ["0.1", "", "-1", "nan", "inf", "abc", 1e308],
}
# strange cell values, by kind (each kind drawn as often as the others)
FAR_POINTS = [(180, 90), (-180, -90), (0, 0), (105, 90), (180, 22.8), (-75, 22.8), (105, -90),
              (104.99, 22.8), (105.0, 22.8), (-179.999, 0), (179.999, 0), (22.8, 105)]
STRANGE_GROUPS: tuple[list[Cell], ...] = (
    ["-1", "0", "1e308", "1e309", "-1e309", "NaN", "nan", "inf", "-inf", "Infinity", "0x10",
     "1_000", "１２", "٣", "9" * 400, "1,5", "1.000.000", "2026-02-30", "31/12/1999"],
    ["\ufeff", "a\u0301\u0302\u0303", "e" + "\u0301" * 60, "\u202eabc", "\u200f\u200e",
     "📚🚚", "\u2028", "\x85", "\ud800", "Ｈ Ｇ", "ǅ", "İ", "ß", "\u00a0", "\u3000"],
    ["\x00", "a\x00b", "\t", "\r", "\n", "a\rb", "a\r\nb", "a\nb", "\x07", "\x1b[31m",
     "\x7f", "\x0b", "\x0c", "a\tb"],
    ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-1", '=HYPERLINK("http://example.invalid")',
     "'", "'=1", "''+x", "-", "=", "\t=1"],
    ['"', '""', ",", ";", "<b>", "&amp;", "_x0007_", "None", "null", "TRUE", "", " ", "\\",
     '"a""b"'],
    ["x" * (MAX_CELL_CHARS + 1), "x" * 5000, "x" * MAX_CELL_CHARS, "vie;" * 600, "a;" * 700,
     MANY_CODES],
    ["\ufeffmã lô", "HG-2026-001", "00778", "vie", "children", "có"],
)
STRANGE = st.one_of(*(st.sampled_from(group) for group in STRANGE_GROUPS))
TYPED = st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.dates(),
                  st.datetimes(), st.sampled_from([0, -1, 2**63, 10**30, 1e308, math.inf,
                                                   -math.inf, math.nan, 0.5, -0.0]))


@dataclass(frozen=True)
class TableKind:
    """A table the product reads: its columns (headings and keys) and valid rows."""

    name: str
    columns: tuple[Column, ...] | None  # None: a geodata file with ``fixed`` headings
    rows: Grid
    fixed: tuple[str, ...] = ()

    def header(self, names: str, pick: Callable[[int], bool]) -> list[Cell]:
        if self.columns is None:
            return list(self.fixed)
        return [c.vi if names == "vi" or (names == "mixed" and pick(i)) else
                c.key if names == "key" else c.en for i, c in enumerate(self.columns)]

    def keys(self) -> list[str]:
        return [c.key for c in self.columns] if self.columns is not None else list(self.fixed)


TABLES = {
    "batches": TableKind("batches", BATCH_COLUMNS, BATCH_ROWS),
    "titles": TableKind("titles", TITLE_COLUMNS, TITLE_ROWS),
    "history": TableKind("history", STAY_COLUMNS, STAY_ROWS),
    "profiles": TableKind("profiles", PROFILE_COLUMNS, PROFILE_ROWS),
    "communes": TableKind("communes", None, COMMUNE_ROWS, tuple(COMMUNE_HEADER)),
    "libraries": TableKind("libraries", None, LIBRARY_ROWS, LIBRARY_COLUMNS),
}
REGISTRY_TABLES = ("batches", "titles", "history", "profiles")
GEODATA_TABLES = ("communes", "libraries")  # the --communes and --libraries files
TARGETS = (*REGISTRY_TABLES, "rotation", "import", *GEODATA_TABLES)

# --- writing a grid as a file ----------------------------------------------------------------


def _as_text(value: Cell) -> str:
    return "" if value is None else str(value)


def csv_bytes(grid: Grid, *, delimiter: str = ",", newline: str = "\r\n", bom: bool = True,
              encoding: str = "utf-8", quote_all: bool = False) -> bytes:
    """``grid`` as a CSV file, the way a spreadsheet or a text editor may save it."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline,
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    try:
        writer.writerows([_as_text(c) for c in row] for row in grid)
        text = buf.getvalue()
    except csv.Error:  # a cell the csv module will not write: joined as it is
        text = newline.join(delimiter.join(_as_text(c) for c in row) for row in grid)
    text = ("\ufeff" if bom else "") + text
    if encoding == "utf-8":
        return text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "replace")


_XLSX_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037\ud800-\udfff]")


def _xlsx_cell(value: Cell) -> Cell:
    if isinstance(value, str):
        return _XLSX_ILLEGAL.sub("?", value)
    return value


def xlsx_bytes(grid: Grid, *, empty_sheet_first: bool = False) -> bytes:
    """``grid`` as an Excel workbook with typed cells (a date stays a date), on its first
    sheet or after an empty one."""
    def build(cells: Callable[[Cell], Cell]) -> bytes:
        book = Workbook()
        sheet = book.active
        if empty_sheet_first:
            sheet.title = "Trống"
            sheet = book.create_sheet("Dữ liệu")
        for row in grid:
            sheet.append([cells(c) for c in row])
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()
    try:
        return build(_xlsx_cell)
    except Exception:  # noqa: BLE001 - a value openpyxl cannot write (a date before 1900...)
        return build(lambda c: _xlsx_cell(_as_text(c)))


# --- mutants ---------------------------------------------------------------------------------

@st.composite
def grids(draw: st.DrawFn, kind: TableKind, *, many_rows_max: int) -> Grid:
    """``kind``'s valid table with a few mutations of its cells, headings, columns and rows."""
    names = draw(st.sampled_from(["vi", "en", "key", "mixed"]))
    grid: Grid = [kind.header(names, lambda i: draw(st.booleans()))] + [list(r)
                                                                       for r in kind.rows]
    keys = kind.keys()
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 2, 3]))):
        op = draw(st.sampled_from([
            "near", "near", "near", "strange", "strange", "splice", "splice", "text", "typed",
            "heading", "dup_column", "drop_column", "swap_columns", "extra_column", "dup_row",
            "drop_row", "short_row", "long_row", "blank_row", "many_rows",
            *["point"] * (5 * ("lon" in keys))]))
        width = max(len(r) for r in grid) if grid else 0
        if not grid or width == 0:
            grid = [[draw(STRANGE)]]
            continue
        r = draw(st.integers(0, len(grid) - 1))
        row = grid[r]
        c = draw(st.integers(0, max(0, len(row) - 1)))
        if op in ("near", "strange", "splice", "text", "typed"):
            if len(grid) > 1 and draw(st.integers(0, 4)):  # mostly a cell below the header
                r = draw(st.integers(1, len(grid) - 1))
                row = grid[r]
            if not row:
                row.append("")
            c = draw(st.integers(0, len(row) - 1))
        if op == "near":
            pool = NEAR.get(keys[c], TEXT_NEAR) if c < len(keys) else TEXT_NEAR
            row[c] = draw(st.sampled_from(pool))
        elif op == "strange":
            row[c] = draw(STRANGE)
        elif op == "splice":  # a strange piece inside a plausible value
            value = _as_text(row[c])
            at = draw(st.integers(0, len(value)))
            row[c] = value[:at] + _as_text(draw(STRANGE)) + value[at:]
        elif op == "text":
            row[c] = draw(st.text(max_size=24))
        elif op == "typed":
            row[c] = draw(TYPED)
        elif op == "heading":
            heading = _as_text(grid[0][c]) if c < len(grid[0]) else ""
            new = draw(st.sampled_from([
                heading.upper(), f"  {heading}  ", heading.replace(" ", "  "),
                "\ufeff" + heading, heading + "\u0301", heading.title(), "", "Mã Lô",
                "ma lo", draw(STRANGE), draw(st.text(max_size=8))]))
            if c < len(grid[0]):
                grid[0][c] = new
        elif op == "dup_column":
            for line in grid:
                line.append(line[c] if c < len(line) else "")
        elif op == "drop_column":
            for line in grid:
                if c < len(line):
                    del line[c]
        elif op == "swap_columns":
            d = draw(st.integers(0, width - 1))
            for line in grid:
                if c < len(line) and d < len(line):
                    line[c], line[d] = line[d], line[c]
        elif op == "extra_column":
            grid[0].append(draw(st.sampled_from(["ghi chú", "notes", "", "mã lô ", "ISBN"])))
            for line in grid[1:]:
                line.append(draw(STRANGE | st.sampled_from(TEXT_NEAR)))
        elif op == "point" and len(grid) > 1:  # a commune's whole point, far away
            row = grid[draw(st.integers(1, len(grid) - 1))]
            lon, lat = draw(st.sampled_from(FAR_POINTS))
            row.extend([""] * (len(keys) - len(row)))
            row[keys.index("lon")], row[keys.index("lat")] = lon, lat
        elif op == "dup_row":
            grid.insert(r, list(row))
        elif op == "drop_row":
            del grid[r]
        elif op == "short_row":
            del row[draw(st.integers(0, len(row))):]
        elif op == "long_row":
            row.extend(draw(st.lists(STRANGE, min_size=1, max_size=40)))
        elif op == "blank_row":
            grid.insert(r, [""] * draw(st.integers(0, width)))
        elif op == "many_rows" and len(grid) > 1:
            n = draw(st.sampled_from([20, 300, 3000]))
            if many_rows_max > MAX_ROWS and draw(st.integers(0, 49)) == 0:
                n = MAX_ROWS + 1  # the reader's limit, rarely (seconds per case)
            n = min(n, many_rows_max)
            body = grid[1:]
            unique = draw(st.booleans())
            grid = grid[:1] + [[f"{cell}-{i}" if unique and j == 0 else cell
                                for j, cell in enumerate(body[i % len(body)])]
                               for i in range(n)]
    return grid


def _place(draw: st.DrawFn, size: int) -> int:
    """A place in a file of ``size`` bytes (0 to size - 1)."""
    return draw(st.integers(0, 999_999)) * size // 1_000_000


@st.composite
def table_files(draw: st.DrawFn, kind: TableKind) -> tuple[bytes, str]:
    """A mutant of ``kind`` as the bytes of a file, and the file's suffix."""
    fmt = "csv" if kind.columns is None else draw(st.sampled_from(["csv", "csv", "xlsx"]))
    grid = draw(grids(kind, many_rows_max=MAX_ROWS + 1 if fmt == "csv" else 3000))
    if fmt == "xlsx":
        data = xlsx_bytes(grid, empty_sheet_first=draw(st.integers(0, 9)) == 0)
        suffix = ".xlsx"
    else:
        data = csv_bytes(grid, delimiter=draw(st.sampled_from([",", ",", ";", "\t", "|", " "])),
                         newline=draw(st.sampled_from(["\r\n", "\n", "\r"])),
                         bom=draw(st.booleans()),
                         encoding=draw(st.sampled_from(["utf-8"] * 6 + ["utf-16", "cp1258",
                                                                        "latin-1"])),
                         quote_all=draw(st.booleans()))
        suffix = draw(st.sampled_from([".csv", ".csv", ".txt"])) if kind.columns is None \
            else ".csv"
    edit = draw(st.sampled_from(["none"] * 12 + ["truncate", "junk", "flip", "binary",
                                                  "empty", "bom", "zip", "oversize"]))
    # places in the file are drawn as fractions of its length: an XLSX file's length varies
    # with the time it is written at, and the draws must not
    if edit == "truncate" and data:
        data = data[:_place(draw, len(data))]
    elif edit == "junk":
        at = _place(draw, len(data) + 1)
        data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    elif edit == "flip" and data:
        raw = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            raw[_place(draw, len(raw))] ^= draw(st.integers(1, 255))
        data = bytes(raw)
    elif edit == "binary":
        data = draw(st.binary(max_size=200))
    elif edit == "empty":
        data = b""
    elif edit == "bom":
        data = b"\xef\xbb\xbf" + draw(st.sampled_from([b"", b"\n", b"\r\n\r\n", b","]))
    elif edit == "zip":
        data = b"PK\x03\x04" + draw(st.binary(max_size=200))
    elif edit == "oversize":
        data = data + b"\n" * (MAX_TABLE_BYTES + 1 - len(data))
    return data, suffix


@dataclass(frozen=True)
class Case:
    """One fuzz case: which reader runs, and the mutated table it reads (the others, when it
    reads several, are the valid ones)."""

    target: str
    table: str
    data: bytes
    suffix: str

    def __repr__(self) -> str:  # hypothesis prints the falsifying case
        shown = self.data if len(self.data) <= 3000 else self.data[:3000] + b"..."
        return f"Case({self.target!r}, {self.table!r}, {self.suffix!r}, {shown!r})"


@st.composite
def cases(draw: st.DrawFn) -> Case:
    target = draw(st.sampled_from(TARGETS))
    if target in ("rotation", "import"):
        table = draw(st.sampled_from(REGISTRY_TABLES if target == "import"
                                     else ("batches", "history", "profiles")))
    else:
        table = target
    data, suffix = draw(table_files(TABLES[table]))
    return Case(target, table, data, suffix)


# --- one case --------------------------------------------------------------------------------

VALID_FILES = {name: csv_bytes([TABLES[name].header("vi", lambda i: True), *TABLES[name].rows])
               for name in REGISTRY_TABLES}
VALID_FILES.update({name: csv_bytes([list(TABLES[name].fixed), *TABLES[name].rows])
                    for name in GEODATA_TABLES})


def _files(case: Case, folder: Path, names: Sequence[str]) -> dict[str, Path]:
    """The tables ``names`` written into ``folder``: the mutant, and the others valid."""
    out = {}
    for name in names:
        mutated = name == case.table
        path = folder / f"{name}{case.suffix if mutated else '.csv'}"
        path.write_bytes(case.data if mutated else VALID_FILES[name])
        out[name] = path
    return out


def _refused(exc: Exception, paths: Sequence[Path | str]) -> None:
    """``exc`` is one clear error: each of its problems names one of the files (paths, or
    the names they were uploaded under) and fits a line; a single message names a file and
    fits a line."""
    names = tuple(str(p) for p in paths)
    problems = getattr(exc, "problems", None)
    if problems is None:
        assert_clear_message(str(exc), names=names)
        return
    assert problems, f"{type(exc).__name__} without problems"
    for p in problems:
        assert isinstance(p, Problem) and p.file in names and p.field, p
        assert_clear_message(str(p))
    assert_clear_message(str(exc), limit=60 * MAX_LINE_CHARS)


# what no text read from a table may hold: control characters but tab and "\n", U+FFFE/FFFF
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


def _check_text(value: str) -> None:
    assert value == value.strip() and len(value) <= MAX_CELL_CHARS, value[:100]
    assert not _CONTROL.search(value), f"a control character kept in {value[:100]!r}"


def check_batches(items: Sequence[Batch]) -> None:
    assert len({b.batch_id for b in items}) == len(items)
    known = languages()
    for b in items:
        assert BATCH_ID.match(b.batch_id) and 1 <= b.crates <= 1_000_000, b
        assert b.languages and set(b.languages) <= set(known), b
        assert set(b.audiences) <= set(AUDIENCES), b
        assert b.books is None or 1 <= b.books <= 1_000_000, b
        for value in (b.title, b.owner, b.condition):
            _check_text(value)


def check_titles(items: Sequence[Title]) -> None:
    for t in items:
        assert BATCH_ID.match(t.batch_id) and t.title, t
        assert re.fullmatch(r"(?:[0-9]{9}[0-9X]|[0-9]{13})?", t.isbn, re.ASCII), t
        for value in (t.title, t.author):
            _check_text(value)


def _commune_code(code: str) -> None:
    assert re.fullmatch(r"[0-9]{5}", code, re.ASCII), code


def check_stays(items: Sequence[Stay]) -> None:
    for s in items:
        assert BATCH_ID.match(s.batch_id), s
        _commune_code(s.commune_code)
        assert dt.date(2000, 1, 1) <= s.delivered_on <= dt.date(2100, 12, 31), s
        assert s.collected_on is None or dt.date(2000, 1, 1) <= s.collected_on <= dt.date(
            2100, 12, 31), s


def check_profiles(items: dict[str, CommuneProfile]) -> None:
    known = languages()
    for code, p in items.items():
        assert p.commune_code == code
        _commune_code(code)
        assert p.languages and set(p.languages) <= set(known), p
        assert set(p.audiences) <= set(AUDIENCES), p
        assert p.shelf_crates >= 1 and p.batches_per_visit >= 1, p


def _reads_back(name: str, records: Sequence[object], read: Callable[[bytes], object],
                expected: object) -> None:
    """The product's exports of ``records`` (CSV and XLSX) read back as ``expected``."""
    columns = {"batches": BATCH_COLUMNS, "titles": TITLE_COLUMNS, "history": STAY_COLUMNS,
               "profiles": PROFILE_COLUMNS}[name]
    rows = table_rows(columns, records)
    assert read(csv_table(rows)) == expected, f"{name}: the CSV export reads back otherwise"
    assert read(xlsx_table(rows, sheet=name)) == expected, \
        f"{name}: the XLSX export reads back otherwise"


def _read_one(name: str, path: Path) -> str:
    if name == "batches":
        got_batches = read_batches(path)
        check_batches(got_batches)
        _reads_back(name, got_batches, read_batches, got_batches)
    elif name == "titles":
        got_titles = read_titles(path)
        check_titles(got_titles)
        _reads_back(name, got_titles, read_titles, got_titles)
    elif name == "history":
        got_stays = read_stays(path)
        check_stays(got_stays)
        _reads_back(name, got_stays, read_stays, got_stays)
    else:
        got_profiles = read_profiles(path)
        check_profiles(got_profiles)
        _reads_back(name, list(got_profiles.values()), read_profiles, got_profiles)
    return "read"


def _rotation(paths: dict[str, Path]) -> str:
    spec = RotationSpec(batches=str(paths["batches"]), history=str(paths["history"]),
                        profiles=str(paths["profiles"]))
    inputs = load_rotation(spec, start=START)
    check_batches(inputs.batches)
    check_profiles(dict(inputs.profiles))
    ids = {b.batch_id for b in inputs.batches}
    held = [b for batch_ids in inputs.state.holdings.values() for b in batch_ids]
    assert len(held) == len(set(held)), "a batch at two communes at once"
    assert set(held) | set(inputs.state.at_library) == ids
    assert not set(held) & set(inputs.state.at_library)
    return "read"


# the registry the throwaway database holds before each import
OLD_BATCHES = (Batch("OLD-1", 1, ("vie",), ("adults",), title="Lô cũ"),
               Batch("HG-2026-003", 2, ("tyz",), (), title="Sách cũ"))
OLD_TITLES = (Title("OLD-1", "Truyện cũ"), Title("HG-2026-003", "Sách cũ", "0306406152"))
OLD_STAYS = (Stay("OLD-1", "00715", dt.date(2024, 5, 1)),)
OLD_PROFILES = {"00715": CommuneProfile("00715", ("vie",), shelf_crates=2),
                "00778": CommuneProfile("00778", ("hnj",), shelf_crates=1)}
COUNTED = (BatchRecord, BatchTitle, BatchMove, CommuneProfileRecord, LibraryEdit)


def _counts(db: Database) -> tuple[int, ...]:
    with db.read() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(m)) or 0) for m in COUNTED)


def _import(paths: dict[str, Path], template: Path, folder: Path) -> str:
    """The four tables uploaded to the web's registry import (``POST /batches/import``: each
    read from its bytes under its file name, then :func:`storage.batches.import_tables` in one
    transaction, as ``planner batches import`` does too) into a copy of ``template``."""
    labels = {key: secure_filename(path.name) for key, path in paths.items()}
    try:
        registry = read_batches(paths["batches"].read_bytes(), label=labels["batches"])
        titles = read_titles(paths["titles"].read_bytes(), label=labels["titles"])
        stays = read_stays(paths["history"].read_bytes(), label=labels["history"])
        profiles = read_profiles(paths["profiles"].read_bytes(), label=labels["profiles"])
    except PlannerError as exc:
        _refused(exc, list(labels.values()))
        return "read refused"
    upload = Tables(batches=registry, titles=titles, stays=stays,
                    profiles=tuple(profiles.values()), titles_file=labels["titles"],
                    history_file=labels["history"])
    copy = folder / "registry.sqlite3"
    shutil.copyfile(template, copy)
    db = Database.from_url(f"sqlite:///{copy}", migrate=False)
    try:
        before = _counts(db)
        with db.read() as s:
            exported_before = registry_db.export_tables(s)
        try:
            with db.begin() as s:
                registry_db.import_tables(s, upload, user_id=1)
        except StorageError as exc:
            _refused(exc, list(labels.values()))
            assert _counts(db) == before, "a refused import wrote rows"
            with db.read() as s:
                assert registry_db.export_tables(s) == exported_before
            return "import refused"
        with db.read() as s:
            tables = registry_db.export_tables(s)
            assert registry_db.ledger(s).problems == ()
    finally:
        db.dispose()
    by_id = {b.batch_id: b for b in (*OLD_BATCHES, *registry)}
    expected_batches = tuple(by_id[k] for k in sorted(by_id))
    named = {t.batch_id for t in titles}
    kept = [t for t in OLD_TITLES if t.batch_id not in named]
    expected_titles = tuple(sorted([*kept, *titles], key=lambda t: t.batch_id))
    expected_profiles = {**OLD_PROFILES, **profiles}
    for fmt in ("csv", "xlsx"):
        def table(name: str, fmt: str = fmt) -> bytes:
            return (csv_table(tables[name]) if fmt == "csv"
                    else xlsx_table(tables[name], sheet=name))
        assert read_batches(table("batches")) == expected_batches, fmt
        assert read_titles(table("titles")) == expected_titles, fmt
        assert set(read_stays(table("history"))) == {*OLD_STAYS, *stays}, fmt
        assert read_profiles(table("profiles")) == expected_profiles, fmt
    return "imported"


def _communes(path: Path, roads: Path, folder: Path) -> str:
    """``planner geodata import ROADS --communes PATH``."""
    result = import_dataset(roads, name="fuzz", out_dir=folder / "datasets", communes=path,
                            buffer_km=1.0)
    communes = load_dataset(result.path).communes
    codes = communes["commune_code"].tolist()
    assert len(codes) == len(set(codes)) and all(str(c).strip() for c in codes), codes
    assert communes["lon"].between(-180, 180).all() and communes["lat"].between(-90, 90).all()
    assert communes["name"].notna().all()
    assert result.report["communes"]["count"] == len(communes)
    assert result.report["communes"]["outside_boundary"] == 0, "communes outside their hull"
    return "imported"


def _libraries(path: Path, roads: Path, folder: Path) -> str:
    """``planner geodata import ROADS --libraries PATH``; the dataset's ``libraries.csv``
    reads back (as ``planner scenario new`` reads it) as the table imported."""
    result = import_dataset(roads, name="fuzz", out_dir=folder / "datasets", libraries=path)
    imported = read_libraries(path)
    stored = load_dataset(result.path).libraries
    assert result.report["libraries"]["count"] == len(stored) == len(imported)
    ids = stored["library_id"].astype(str).tolist()
    assert len(ids) == len(set(ids)) and all(i.strip() for i in ids), ids
    assert ids == imported["library_id"].astype(str).tolist(), "library ids read back otherwise"
    assert stored["name"].notna().all()
    assert stored["name"].astype(str).tolist() == imported["name"].astype(str).tolist()
    for axis, bound in (("lon", 180), ("lat", 90)):
        values = stored[axis].to_numpy(float)
        assert (np.abs(values) <= bound).all(), values
        np.testing.assert_array_equal(values, imported[axis].to_numpy(float))
    return "imported"


def run_case(case: Case, folder: Path, *, template: Path, roads: Path) -> str:
    """The outcome of one case (``refused``, ``read``, ``imported``...); anything but one
    clear error or a result that keeps the rules raises."""
    if case.target in GEODATA_TABLES:
        path = _files(case, folder, [case.target])[case.target]
        try:
            if case.target == "libraries":
                return _libraries(path, roads, folder)
            return _communes(path, roads, folder)
        except GeodataError as exc:
            _refused(exc, [path])
            return "refused"
    names = REGISTRY_TABLES if case.target == "import" else (
        ("batches", "history", "profiles") if case.target == "rotation" else (case.target,))
    paths = _files(case, folder, names)
    if case.target == "import":
        return _import(paths, template, folder)
    try:
        if case.target == "rotation":
            return _rotation(paths)
        return _read_one(case.target, paths[case.target])
    except PlannerError as exc:
        _refused(exc, list(paths.values()))
        return "refused"


# --- fixtures and the tests ------------------------------------------------------------------

@pytest.fixture(scope="module")
def outcome_report() -> Iterator[Counter[str]]:
    yield from outcome_counts()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database holding a user (id 1) and a small registry with a history
    and profiles: each import case runs on a copy of it."""
    path = tmp_path_factory.mktemp("registry") / "template.sqlite3"
    db = Database.from_url(f"sqlite:///{path}")
    try:
        with db.begin() as s:
            user = create_user(s, username="dispatcher", password="password-1",
                               role="dispatcher", hash_method="pbkdf2:sha256:1000")
            assert user.id == 1
            registry_db.import_batches(s, OLD_BATCHES, OLD_TITLES, user_id=1)
            registry_db.import_history(s, OLD_STAYS, user_id=1)
            registry_db.save_profiles(s, OLD_PROFILES.values(), user_id=1)
    finally:
        db.dispose()
    return path


@pytest.fixture(scope="module")
def roads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny OSM file of roads around the communes of COMMUNE_ROWS (lon 105, lat 22.8)."""
    path = tmp_path_factory.mktemp("roads") / "roads.osm.pbf"
    points = {1: (104.998, 22.798), 2: (105.001, 22.798), 3: (105.004, 22.802),
              4: (105.001, 22.803)}
    with osmium.SimpleWriter(str(path)) as writer:
        for nid, location in points.items():
            writer.add_node(Node(id=nid, location=location))
        writer.add_way(Way(id=10, nodes=[1, 2, 3, 4, 1], tags={"highway": "tertiary"}))
    return path


@settings(max_examples=EXAMPLES, deadline=None, derandomize=IN_CI, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture,
                                 HealthCheck.large_base_example])
@given(case=cases())
def test_a_mutated_table_is_refused_clearly_or_read_into_tables_that_read_back(
        case: Case, template: Path, roads: Path, outcome_report: Counter[str],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp()
    with tempfile.TemporaryDirectory(dir=base) as tmp:  # removed at once: 10,000 cases
        outcome = within_time_limit(lambda: run_case(case, Path(tmp), template=template,
                                                     roads=roads))
    outcome_report[f"{case.target}: {outcome}"] += 1


@pytest.mark.parametrize("target", TARGETS)
def test_the_valid_tables_are_read(target: str, template: Path, roads: Path,
                                   tmp_path: Path) -> None:
    """The mutants' starting points are valid (so mutants reach the checks of a result)."""
    table = "batches" if target in ("rotation", "import") else target
    case = Case(target, table, VALID_FILES[table], ".csv")
    expected = "imported" if target in ("import", *GEODATA_TABLES) else "read"
    assert run_case(case, tmp_path, template=template, roads=roads) == expected
    if target == "batches":
        xlsx = Case(target, table, xlsx_bytes([TABLES[table].header("en", lambda i: False),
                                               *BATCH_ROWS]), ".xlsx")
        assert run_case(xlsx, tmp_path, template=template, roads=roads) == "read"
        assert [b.books for b in read_batches(tmp_path / "batches.xlsx")] == [120, 45, None,
                                                                              30]
