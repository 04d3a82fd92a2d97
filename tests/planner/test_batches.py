"""Book batches: registry, history and profile tables (CSV and XLSX, every bad row reported),
where every batch is on a day (conservation under random histories), the eligibility rule,
and the CP-SAT assignment of a plan's visits checked against the rules independently."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from factories import line_problem, make_scenario, plan_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from planner.batches import (
    TITLE_COLUMNS,
    Batch,
    BatchError,
    CommuneProfile,
    Stay,
    Title,
    eligible,
    languages,
    read_batches,
    read_profiles,
    read_stays,
    read_titles,
    state_on,
    table_rows,
)
from planner.rotation import assign_batches, with_batches
from planner.tables import TableError
from render.exports import csv_table, xlsx_table

DAY = dt.date(2026, 12, 7)


def _csv(text: str) -> bytes:
    return text.encode("utf-8-sig")


def test_a_registry_reads_from_csv_with_vietnamese_headers_and_xlsx_with_english() -> None:
    batches = read_batches(_csv(
        "mã lô,số thùng,ngôn ngữ,đối tượng,tên lô\n"
        "HG-2026-001,2,vie; hnj,children,Truyện tranh song ngữ\n"
        "HG-2026-002,1,tyz,,\n"))
    assert batches[0] == Batch("HG-2026-001", 2, ("vie", "hnj"), ("children",),
                               title="Truyện tranh song ngữ")
    assert batches[1].audiences == () and batches[1].languages == ("tyz",)
    book = Workbook()
    sheet = book.active
    sheet.append(["Batch ID", "Crates", "Languages", "Audience"])
    sheet.append(["HG-2026-003", 3, "ium", "adults; farming"])
    buf = io.BytesIO()
    book.save(buf)
    (only,) = read_batches(buf.getvalue(), label="registry.xlsx")
    assert only == Batch("HG-2026-003", 3, ("ium",), ("adults", "farming"))
    assert languages()["hnj"].name_vi.startswith("Tiếng Hmông")


def test_every_bad_row_is_reported_and_nothing_is_read() -> None:
    with pytest.raises(TableError) as err:
        read_batches(_csv("mã lô,số thùng,ngôn ngữ,đối tượng\n"
                          "HG 1,2,vie,\n"          # a space in the id
                          "HG-2,0,vie,\n"          # no crates
                          "HG-3,2,klingon,\n"      # unknown language
                          "HG-4,2,vie,pirates\n"   # unknown audience
                          "HG-5,,vie,\n"           # empty crates
                          "HG-6,1,vie,\n"
                          "HG-6,1,vie,\n"),        # repeated id: reported once the rows read
                     label="lo-sach.csv")
    fields = [p.field for p in err.value.problems]
    assert fields == ["row 2, column mã lô (batch id)", "row 3, column số thùng (crates)",
                      "row 4, column ngôn ngữ (languages)", "row 5, column đối tượng (audience)",
                      "row 6, column số thùng (crates)"]
    assert all(p.file == "lo-sach.csv" and p.fix for p in err.value.problems)
    with pytest.raises(TableError, match="already in row 2"):
        read_batches(_csv("batch id,crates,languages\nHG-6,1,vie\nHG-6,1,vie\n"))
    with pytest.raises(TableError, match="missing from the header row"):
        read_batches(_csv("batch id,languages\nHG-6,vie\n"))
    with pytest.raises(TableError, match="not UTF-8"):
        read_batches("mã lô,số thùng\n".encode("utf-16"))


def test_history_and_profiles_tables() -> None:
    stays = read_stays(_csv("mã lô;mã xã;ngày giao;ngày thu\n"
                            "HG-1;00778;2026-03-02;07/09/2026\n"
                            "HG-1;01108;2026-09-08;\n"))
    assert stays == (Stay("HG-1", "00778", dt.date(2026, 3, 2), dt.date(2026, 9, 7)),
                     Stay("HG-1", "01108", dt.date(2026, 9, 8), None))
    profiles = read_profiles(_csv("commune code,languages,audiences,shelf crates,"
                                  "languages required\n00778,vie;hnj,children,3,no\n"
                                  "01108,tyz,,,\n"))
    assert profiles["00778"] == CommuneProfile("00778", ("vie", "hnj"), ("children",), 3,
                                               languages_required=False)
    assert profiles["01108"].shelf_crates == 4 and profiles["01108"].languages_required
    with pytest.raises(TableError, match="5-digit 2025 commune code"):
        read_stays(_csv("batch id,commune code,delivered on\nHG-1,778,2026-01-01\n"))


# --- tables the fuzz suite (test_fuzz_tables.py) found mishandled ----------------------------

def test_a_csv_with_cr_line_ends_reads_and_an_unreadable_csv_is_a_table_error() -> None:
    # Excel's "CSV (Macintosh)" ends lines with CR alone; a line break in a quoted cell is "\n"
    titles = read_titles(b'batch id,title\rHG-1,Truy\xe1\xbb\x87n\rHG-2,"hai\r\nd\xc3\xb2ng"\r')
    assert [(t.batch_id, t.title) for t in titles] == [("HG-1", "Truyện"),
                                                      ("HG-2", "hai\ndòng")]
    with pytest.raises(TableError) as err:
        read_titles(_csv("batch id,title\nHG-1," + "x" * 200_000 + "\n"), label="sach.csv")
    (problem,) = err.value.problems
    assert (problem.file, problem.field) == ("sach.csv", "line 2")
    assert "cannot be read as CSV" in problem.message and "CSV UTF-8" in problem.fix


# --- where the batches are -----------------------------------------------------------------

@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Batch], list[Stay], dict[str, str | None]]:
    """A random valid history, made by moving batches one day at a time between the library
    and three communes, with where each batch ends up (``None``: the library)."""
    batch_ids = [f"B{i}" for i in range(draw(st.integers(1, 5)))]
    communes = ["00778", "01108", "00802"]
    where: dict[str, str | None] = {b: None for b in batch_ids}
    since: dict[str, dt.date] = {}
    stays = []
    day = dt.date(2026, 1, 1)
    for _ in range(draw(st.integers(0, 25))):
        day += dt.timedelta(days=draw(st.integers(1, 30)))
        batch = draw(st.sampled_from(batch_ids))
        to = draw(st.sampled_from([None, *communes]))
        if where[batch] is not None:
            stays.append(Stay(batch, where[batch], since[batch], day))
        if to is not None:
            since[batch] = day
        where[batch] = to
    for batch, code in where.items():
        if code is not None:
            stays.append(Stay(batch, code, since[batch], None))
    return [Batch(b, 1, ("vie",), ()) for b in batch_ids], stays, where


@given(histories())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_batch_is_in_one_place_and_the_history_says_where(case) -> None:  # noqa: ANN001
    batches, stays, where = case
    state = state_on(batches, stays, dt.date(2030, 1, 1))
    held = {b: c for c, bs in state.holdings.items() for b in bs}
    assert held == {b: c for b, c in where.items() if c is not None}  # where it is
    assert sum(len(bs) for bs in state.holdings.values()) + len(state.at_library) == \
        len(batches)  # none lost, none in two places
    for stay in stays:
        assert stay.batch_id in state.had[stay.commune_code]


def test_a_broken_history_is_reported_not_repaired() -> None:
    batches = [Batch("B1", 1, ("vie",), ())]
    overlapping = [Stay("B1", "00778", dt.date(2026, 1, 1), None),
                   Stay("B1", "01108", dt.date(2026, 2, 1), None)]
    with pytest.raises(BatchError, match="while still at 00778"):
        state_on(batches, overlapping, DAY)
    with pytest.raises(BatchError, match="collected before it was delivered"):
        state_on(batches, [Stay("B1", "00778", dt.date(2026, 2, 1), dt.date(2026, 1, 1))], DAY)
    with pytest.raises(BatchError, match="not a batch of the registry"):
        state_on(batches, [Stay("B9", "00778", dt.date(2026, 2, 1))], DAY)


def test_eligibility() -> None:
    hmong_kids = CommuneProfile("00778", ("hnj",), ("children",), shelf_crates=2,
                                audiences_required=True)
    assert eligible(Batch("A", 2, ("hnj", "vie"), ("children",)), hmong_kids, frozenset()).score \
        == 2
    assert eligible(Batch("A", 2, ("hnj",), ("children",)), hmong_kids,
                    frozenset({"A"})).why_not == "had before"
    assert eligible(Batch("B", 3, ("hnj",), ("children",)), hmong_kids,
                    frozenset()).why_not == "larger than its shelf"
    assert eligible(Batch("C", 1, ("tyz",), ("children",)), hmong_kids,
                    frozenset()).why_not == "in none of its languages"
    assert eligible(Batch("D", 1, ("hnj",), ("adults",)), hmong_kids,
                    frozenset()).why_not == "for none of its audiences"


# --- the assignment ------------------------------------------------------------------------

CODES3 = ("00778", "01108", "00802")


def _plan(order: list[int]):  # noqa: ANN202
    s = make_scenario(stops=[{"commune_code": c, "deliver_crates": 1, "collect_crates": 1}
                             for c in CODES3])
    p = line_problem(s, [[0, 1, 2, 3], [1, 0, 1, 2], [2, 1, 0, 1], [3, 2, 1, 0]])
    plan, _ = plan_for(s, p, [order])
    return plan


def _check_rules(plan, batches, stays, profiles, rotation) -> None:  # noqa: ANN001
    """The batch rules, written apart from the assignment code."""
    state = state_on(batches, stays, DAY)
    crates = {b.batch_id: b.crates for b in batches}
    sent: list[str] = []
    for route in plan.routes:
        seen: list[str] = []
        loaded = []
        for v in route.visits:
            vb = rotation.visits[(route.vehicle_id, v.seq)]
            profile = profiles.get(v.commune_code, CommuneProfile(v.commune_code, ("vie",)))
            assert vb.collect == state.holdings.get(v.commune_code, ())
            assert sum(crates[b] for b in vb.deliver) <= profile.shelf_crates
            assert len(vb.deliver) <= profile.batches_per_visit
            for b in vb.deliver:
                batch = next(x for x in batches if x.batch_id == b)
                assert eligible(batch, profile, state.had.get(v.commune_code, frozenset())
                                ).allowed
                source = (vb.handed_on_from or {}).get(b)
                if source is None:
                    assert b in state.at_library
                    loaded.append(b)
                else:  # handed on: collected earlier on this trip
                    assert source in seen and b in state.holdings.get(source, ())
            assert bool(vb.deliver) != bool(vb.note)
            seen.append(v.commune_code)
            sent += vb.deliver
        assert sorted(rotation.loading.get(route.vehicle_id, ())) == sorted(loaded)
    assert len(sent) == len(set(sent))  # each batch goes to one commune at most


def test_batches_are_handed_on_along_the_trip_and_never_repeated() -> None:
    plan = _plan([1, 2, 3])  # 00778, then 01108, then 00802
    batches = [Batch("OLD-A", 1, ("vie",), ()), Batch("OLD-B", 1, ("vie",), ()),
               Batch("NEW", 1, ("vie",), ())]
    stays = [Stay("OLD-A", "00778", dt.date(2026, 9, 1)),   # 00778 holds OLD-A now
             Stay("OLD-B", "01108", dt.date(2026, 9, 1)),   # 01108 holds OLD-B now
             Stay("NEW", "00802", dt.date(2025, 1, 1), dt.date(2025, 6, 1))]  # had it
    profiles = {c: CommuneProfile(c, ("vie",), shelf_crates=1) for c in CODES3}
    rotation = assign_batches(plan, batches, state_on(batches, stays, DAY), profiles)
    _check_rules(plan, batches, stays, profiles, rotation)
    got = {code: rotation.visits[("truck", i + 1)].deliver for i, code in enumerate(CODES3)}
    # the chain 00778 -> 01108 -> 00802: 00802 had NEW, so it takes a handed-on batch
    assert got["00802"] in (("OLD-A",), ("OLD-B",))
    assert got["00778"] == ("NEW",)  # the library's batch goes where it was never had
    assert rotation.loading["truck"] == ("NEW",)
    assert rotation.visits[("truck", 2)].deliver == ("OLD-A",)  # handed on from 00778
    published = with_batches(plan, rotation)
    assert published.routes[0].visits[0].collect_batches == ("OLD-A",)
    assert published.routes[0].loading_batches == ("NEW",)


def test_a_commune_with_nothing_left_to_read_gets_a_reason() -> None:
    plan = _plan([1])
    batches = [Batch("VI", 1, ("vie",), ())]
    profiles = {"00778": CommuneProfile("00778", ("hnj",), ("children",),
                                        audiences_required=True)}
    rotation = assign_batches(plan, batches, state_on(batches, [], DAY), profiles)
    (visit,) = rotation.visits.values()
    assert visit.deliver == ()
    assert visit.note == ("no batch it has not had in Hmong Njua (Green Hmong), for children: "
                          "add batches")


@given(st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_assignments_keep_every_rule(data: st.DataObject) -> None:
    order = data.draw(st.permutations([1, 2, 3]))
    plan = _plan(list(order))
    n = data.draw(st.integers(1, 8))
    langs = ("vie", "hnj", "tyz")
    batches = [Batch(f"B{i}", data.draw(st.integers(1, 3)),
                     tuple(data.draw(st.sets(st.sampled_from(langs), min_size=1))),
                     tuple(data.draw(st.sets(st.sampled_from(("children", "adults"))))))
               for i in range(n)]
    stays = []
    for b in batches:  # some held now, some had before
        code = data.draw(st.sampled_from([None, *CODES3]))
        if code is not None:
            collected = data.draw(st.sampled_from([None, dt.date(2026, 6, 1)]))
            stays.append(Stay(b.batch_id, code, dt.date(2026, 1, 1), collected))
    profiles = {c: CommuneProfile(c, tuple(data.draw(st.sets(st.sampled_from(langs),
                                                              min_size=1))),
                                  ("children",), data.draw(st.integers(1, 4)),
                                  languages_required=data.draw(st.booleans()),
                                  audiences_required=data.draw(st.booleans()),
                                  batches_per_visit=data.draw(st.integers(1, 2)))
                for c in CODES3}
    rotation = assign_batches(plan, batches, state_on(batches, stays, DAY), profiles)
    _check_rules(plan, batches, stays, profiles, rotation)
    # a visit gets nothing only when no eligible batch reaches it
    state = state_on(batches, stays, DAY)
    for route in plan.routes:
        for i, v in enumerate(route.visits):
            if rotation.visits[(route.vehicle_id, v.seq)].deliver:
                continue
            earlier = {b for w in route.visits[:i] for b in state.holdings.get(w.commune_code, ())}
            reachable = [b for b in batches if b.batch_id in state.at_library
                         or b.batch_id in earlier]
            fits = [b for b in reachable
                    if eligible(b, profiles[v.commune_code],
                                state.had.get(v.commune_code, frozenset())).allowed]
            used = {x for vb in rotation.visits.values() for x in vb.deliver}
            assert all(b.batch_id in used for b in fits)  # each went somewhere else


def test_a_visit_wanting_several_batches_gets_what_its_shelf_holds() -> None:
    """Two batches wanted, a 4-crate shelf: 3 + 3 crates do not fit together (the knapsack
    the CP-SAT model handles), 3 + 1 do."""
    plan = _plan([1])
    batches = [Batch("BIG-1", 3, ("vie",), ()), Batch("BIG-2", 3, ("vie",), ()),
               Batch("SMALL", 1, ("vie",), ())]
    profiles = {"00778": CommuneProfile("00778", ("vie",), shelf_crates=4,
                                        batches_per_visit=2)}
    rotation = assign_batches(plan, batches, state_on(batches, [], DAY), profiles)
    _check_rules(plan, batches, [], profiles, rotation)
    (visit,) = rotation.visits.values()
    assert len(visit.deliver) == 2 and "SMALL" in visit.deliver



def _damaged_xlsx(at: float) -> bytes:
    """A workbook of 300 titles with one byte of its sheet's compressed data changed, at the
    fraction ``at`` of that data."""
    book = Workbook()
    book.active.append(["batch id", "title"])
    for i in range(300):
        book.active.append([f"HG-{i}", f"Truyện cổ {i}"])
    buf = io.BytesIO()
    book.save(buf)
    data = bytearray(buf.getvalue())
    info = zipfile.ZipFile(buf).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + int(info.compress_size * at)] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("at", [0.0, 0.5, 0.9])
def test_a_damaged_xlsx_is_a_table_error_wherever_the_damage_is(at: float) -> None:
    # broken deflate data when the workbook opens, broken XML or a bad checksum when its rows
    # are read: each a TableError naming the file, never zlib's, ElementTree's or zipfile's
    with pytest.raises(TableError) as err:
        read_titles(_damaged_xlsx(at), label="sach.xlsx")
    (problem,) = err.value.problems
    assert problem.file == "sach.xlsx"
    assert problem.field == "(file)" or re.fullmatch(r"row [0-9]+", problem.field)
    assert problem.message.startswith("not a readable XLSX workbook")


@pytest.mark.parametrize("title", ["=1+1", "-Truyện", "+84 phiên bản", "@tên", "'=trích",
                                   "''-x", "'thường", "Ngữ văn 6"])
def test_formula_like_text_reads_back_from_the_csv_export(title: str) -> None:
    # the CSV export writes "=1+1" as "'=1+1" (never a formula); the reader takes the mark off
    rows = table_rows(TITLE_COLUMNS, [Title("HG-1", title)])
    assert read_titles(csv_table(rows)) == (Title("HG-1", title),)
    written = csv_table(rows).decode("utf-8-sig").splitlines()[1]
    assert not written.split(",", 1)[1].startswith(("=", "+", "-", "@"))


@pytest.mark.parametrize("crates", ["inf", "-inf", "nan", "NaN", "1e400", "Infinity"])
def test_a_non_finite_number_is_a_bad_cell(crates: str) -> None:
    with pytest.raises(TableError) as err:
        read_batches(_csv(f"batch id,crates,languages\nHG-1,{crates},vie\n"), label="lo.csv")
    (problem,) = err.value.problems
    assert (problem.file, problem.field, problem.value) == (
        "lo.csv", "row 2, column số thùng (crates)", crates)
    assert problem.fix == "write a whole number from 1 to 1,000,000"


def test_a_cell_of_many_unknown_codes_is_one_short_problem() -> None:
    codes = ";".join(f"x{i}" for i in range(400))
    with pytest.raises(TableError) as err:
        read_batches(_csv(f"batch id,crates,languages,audience\nHG-1,1,{codes},{codes}\n"))
    languages_problem, audience_problem = err.value.problems
    assert "unknown language code x0, x1, x2, x3, x4 and 395 more;" in str(languages_problem)
    assert "unknown audience x0, x1, x2, x3, x4 and 395 more;" in str(audience_problem)
    assert all(len(str(p)) < 500 for p in err.value.problems)


def test_quotes_inside_cells_read_back_from_the_csv_export() -> None:
    # the separator is guessed, the quoting is not: Python's guess took "" for two quotes
    title = Title("HG-1", "Dế Mèn", "", '=HYPERLINK("http://example.invalid")')
    rows = table_rows(TITLE_COLUMNS, [title])
    assert read_titles(csv_table(rows)) == (title,)
    semicolons = csv_table(rows).decode("utf-8-sig").replace(",", ";").encode()
    assert read_titles(semicolons) == (title,)


@pytest.mark.parametrize("char", ["\x05", "\x1b", "\x7f", "\x85", "\ufffe"])
def test_a_control_character_in_a_cell_is_a_bad_cell(char: str) -> None:
    # an XLSX export could not hold it (openpyxl refuses it; XML cannot hold it)
    with pytest.raises(TableError) as err:
        read_titles(f"batch id,title\nHG-1,Truyện{char}cổ\n".encode(), label="sach.csv")
    (problem,) = err.value.problems
    assert (problem.file, problem.field) == ("sach.csv", "row 2, column nhan đề (title)")
    assert problem.message == f"holds the control character U+{ord(char):04X}"


def test_line_breaks_in_a_cell_read_as_one_kind_and_read_back_from_both_exports() -> None:
    book = Workbook()
    book.active.append(["batch id", "title", "author"])
    book.active.append(["HG-1", "hai\r\ndòng", "ba CR dòng\tcột"])
    buf = io.BytesIO()
    book.save(buf)
    out = io.BytesIO()  # a carriage return written as &#13;, which XML keeps
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item).replace(b" CR ", b"&#13;"))
    (title,) = read_titles(out.getvalue())
    assert (title.title, title.author) == ("hai\ndòng", "ba\ndòng\tcột")
    rows = table_rows(TITLE_COLUMNS, [title])
    assert read_titles(csv_table(rows)) == read_titles(xlsx_table(rows, sheet="t")) == (title,)
