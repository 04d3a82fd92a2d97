"""Write the illustrative book-batch registry of the Hà Giang season scenario (ASSUMPTION:
made up to show a year of rotation, not a library's records): ``--batches`` batches of 4 crates
in Vietnamese for children, youth, adults and lifelong learning, none at a commune yet.

    python -m tools.season_registry [--batches 110] [--out scenarios/data/ha-giang-2026-season]

Deterministic; the file is read back with the planner's own reader on the way out. How many
batches a season needs is measured by the season plan itself (`season.batch_shortages`).
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from planner.batches import read_batches

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "scenarios" / "data" / "ha-giang-2026-season"
OWNER = "Thư viện tỉnh Hà Giang"
KINDS = (("children", "Truyện thiếu nhi"), ("youth", "Sách thanh thiếu niên"),
         ("adults", "Sách kiến thức phổ thông"), ("lifelong", "Học tập suốt đời"))


def write_registry(out: Path, batches: int) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["mã lô", "số thùng", "ngôn ngữ", "đối tượng", "tên lô",
                     "thư viện sở hữu", "số sách", "tình trạng"])
    for i in range(batches):
        audience, title = KINDS[i % len(KINDS)]
        writer.writerow([f"HG-MUA-{i + 1:03d}", 4, "vie", audience,
                         f"{title} (tiếng Việt) {i // len(KINDS) + 1}", OWNER, 200, "tốt"])
    path = out / "lo-sach.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    assert len(read_batches(path)) == batches
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=110)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    print(f"wrote {write_registry(args.out, args.batches)}")


if __name__ == "__main__":
    main()
