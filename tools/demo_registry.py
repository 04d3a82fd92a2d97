"""Write the illustrative book-batch registry of the default Hà Giang scenario (ASSUMPTION:
made up to show the rotation, not a library's records): batches in Vietnamese, Hmông, Tày and
Dao for children and adults, a year of history in which every commune of the shipped
scenarios had a batch each quarter and holds one now, commune profiles, and a few book lists.

    python -m tools.demo_registry [--out scenarios/data/ha-giang-2026]

Deterministic: running it again writes the same files. The files are checked on the way out
with the planner's own readers and rules (:mod:`planner.batches`).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from pathlib import Path

from planner.batches import (
    Batch,
    CommuneProfile,
    Stay,
    eligible,
    read_batches,
    read_profiles,
    read_stays,
    read_titles,
    state_on,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "scenarios" / "data" / "ha-giang-2026"
OWNER = "Thư viện tỉnh Hà Giang"
# The communes of the shipped scenarios and the languages their readers read (ASSUMPTION:
# the Đồng Văn plateau is mostly Hmông; the western highlands mix Hmông, Tày, Nùng and Dao).
COMMUNES = {
    "00715": ("Lũng Cú", ("vie", "hnj")), "00721": ("Đồng Văn", ("vie", "hnj")),
    "00778": ("Sơn Vĩ", ("vie", "hnj")), "00769": ("Mèo Vạc", ("vie", "hnj")),
    "00802": ("Khâu Vai", ("vie", "hnj")), "00817": ("Niêm Sơn", ("vie", "hnj", "tyz")),
    "01108": ("Xín Mần", ("vie", "hnj", "tyz")), "01096": ("Pà Vầy Sủ", ("vie", "hnj")),
    "01141": ("Nấm Dẩn", ("vie", "ium")), "01117": ("Trung Thịnh", ("vie", "tyz")),
    "01024": ("Bản Máy", ("vie", "ium")), "01144": ("Quảng Nguyên", ("vie", "tyz", "ium")),
}
CHILDREN_FIRST = {"00802", "00715", "01141"}  # schools next to the library (ASSUMPTION)
# Each quarter's cycle starts on a Monday; the last one's batches are at the communes now.
CYCLES = (dt.date(2025, 12, 8), dt.date(2026, 3, 9), dt.date(2026, 6, 8), dt.date(2026, 9, 7))
LANGUAGE_MIX = (("vie",), ("vie", "hnj"), ("hnj",), ("vie", "tyz"), ("vie",), ("vie", "ium"),
                ("tyz",), ("vie", "hnj"), ("ium",), ("vie",))
TOPICS = {
    "children": ("Truyện tranh thiếu nhi", "Truyện cổ tích", "Sách khoa học cho em",
                 "Sách tranh song ngữ"),
    "adults": ("Kỹ thuật trồng trọt vùng cao", "Chăn nuôi gia súc", "Pháp luật phổ thông",
               "Sức khỏe gia đình"),
}
LANGUAGE_WORDS = {"vie": "tiếng Việt", "hnj": "tiếng Hmông", "tyz": "tiếng Tày",
                  "ium": "tiếng Dao"}
TITLES = {  # book lists of a few batches (well-known titles; no ISBNs are made up)
    1: [("Dế Mèn phiêu lưu ký", "Tô Hoài"), ("Truyện cổ tích Việt Nam", "Nguyễn Đổng Chi")],
    2: [("Truyện cổ Hmông", ""), ("Em học chữ Hmông", "")],
}
BATCHES_N = 40


def make_batches() -> list[Batch]:
    out = []
    for i in range(1, BATCHES_N + 1):
        langs = LANGUAGE_MIX[(i - 1) % len(LANGUAGE_MIX)]
        audience = "children" if i % 2 else "adults"
        topic = TOPICS[audience][(i // 2) % len(TOPICS[audience])]
        words = " – ".join(LANGUAGE_WORDS[c] for c in langs)
        out.append(Batch(f"HG-2026-{i:03d}", 3 + i % 4, langs, (audience,),
                         title=f"{topic} ({words})", owner=OWNER, books=(3 + i % 4) * 50,
                         condition="tốt"))
    return out


def make_profiles() -> dict[str, CommuneProfile]:
    return {code: CommuneProfile(code, langs,
                                 ("children",) if code in CHILDREN_FIRST else
                                 ("children", "adults"), shelf_crates=6 + (code in
                                                                           CHILDREN_FIRST))
            for code, (_, langs) in COMMUNES.items()}


def make_history(batches: list[Batch], profiles: dict[str, CommuneProfile]) -> list[Stay]:
    """Each cycle, each commune gets a batch it has not had that suits it, preferring the one
    its neighbour on the list had (the way a truck hands batches on)."""
    had: dict[str, set[str]] = {c: set() for c in COMMUNES}
    holding: dict[str, str] = {}
    stays: list[Stay] = []
    by_id = {b.batch_id: b for b in batches}
    codes = list(COMMUNES)
    for k, day in enumerate(CYCLES):
        collected = dict(holding)
        taken: set[str] = set()
        for j, code in enumerate(codes):
            neighbour = collected.get(codes[j - 1])
            order = ([neighbour] if neighbour else []) + [
                b.batch_id for b in batches[(7 * k + j) % BATCHES_N:] +
                batches[:(7 * k + j) % BATCHES_N]]
            choice = next(b for b in order if b not in taken and b not in had[code]
                          and b not in (holding.get(c) for c in codes[j + 1:])
                          and eligible(by_id[b], profiles[code], frozenset(had[code])).allowed)
            if code in holding:
                old = holding[code]
                stays = [s if not (s.batch_id == old and s.collected_on is None)
                         else Stay(s.batch_id, s.commune_code, s.delivered_on, day)
                         for s in stays]
            stays.append(Stay(choice, code, day))
            holding[code] = choice
            had[code].add(choice)
            taken.add(choice)
    return stays


def _csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


def write(out: Path) -> None:
    batches, profiles = make_batches(), make_profiles()
    stays = make_history(batches, profiles)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "lo-sach.csv": [["mã lô", "số thùng", "ngôn ngữ", "đối tượng", "tên lô",
                         "thư viện sở hữu", "số sách", "tình trạng"]] + [
            [b.batch_id, str(b.crates), "; ".join(b.languages), "; ".join(b.audiences),
             b.title, b.owner, str(b.books), b.condition] for b in batches],
        "luan-chuyen.csv": [["mã lô", "mã xã", "ngày giao", "ngày thu"]] + [
            [s.batch_id, s.commune_code, s.delivered_on.isoformat(),
             s.collected_on.isoformat() if s.collected_on else ""] for s in stays],
        "thu-vien-xa.csv": [["mã xã", "tên xã", "ngôn ngữ", "đối tượng", "sức chứa (thùng)",
                             "số lô mỗi lần"]] + [
            [p.commune_code, COMMUNES[p.commune_code][0], "; ".join(p.languages),
             "; ".join(p.audiences), str(p.shelf_crates), "1"] for p in profiles.values()],
        "dau-sach.csv": [["mã lô", "nhan đề", "ISBN", "tác giả"]] + [
            [f"HG-2026-{i:03d}", title, "", author]
            for i, items in TITLES.items() for title, author in items],
    }
    for name, rows in files.items():
        (out / name).write_bytes(_csv(rows))
    # read back with the planner's readers: the shipped files must be what it accepts
    registry = read_batches(out / "lo-sach.csv")
    state = state_on(registry, read_stays(out / "luan-chuyen.csv"), CYCLES[-1] + dt.timedelta(
        days=91))
    read_profiles(out / "thu-vien-xa.csv")
    read_titles(out / "dau-sach.csv")
    assert all(len(state.holdings.get(c, ())) == 1 for c in COMMUNES), state.holdings
    print(f"wrote {', '.join(files)} to {out}: {len(registry)} batches, {len(stays)} stays, "
          f"{len(state.at_library)} batches at the library now")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    write(parser.parse_args(argv).out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
