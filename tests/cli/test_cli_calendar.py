"""``planner ics``, ``planner poster`` and ``planner report`` on a database holding a published
plan: the feed reads back with a real ICS parser, the poster and report are real PDF and XLSX
files, and a bad request is one clear message."""

from __future__ import annotations

import io
import json
from pathlib import Path

import icalendar
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from cli import main
from storage import Database, plans
from storage.users import create_user

ROOT = Path(__file__).resolve().parents[2]
PLAN_FILE = ROOT / "tests" / "webui" / "data" / "ha-giang-2026" / "plan.json"


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A SQLite database with the fixture plan published and one stop done."""
    url = f"sqlite:///{tmp_path / 'planner.sqlite3'}"
    db = Database.from_url(url)
    text = PLAN_FILE.read_text(encoding="utf-8")
    first = json.loads(text)["routes"][0]
    try:
        with db.begin() as s:
            user = create_user(s, username="lan", password="password-1", role="dispatcher",
                               hash_method="pbkdf2:sha256:1000")
        version = plans.publish(db, plan_name="run-a", user_id=user.id, plan_text=text)
        with db.begin() as s:
            plans.record_outcome(s, version_id=version.id, vehicle_id=first["vehicle_id"],
                                 stop_seq=first["visits"][0]["seq"], status="done",
                                 user_id=user.id)
    finally:
        db.dispose()
    return url


def test_ics_of_a_commune_and_a_vehicle(database: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lung-cu.ics"
    assert main(["ics", "--commune", "00715", "--out", str(out), "--database", database]) == 0
    (event,) = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert str(event["location"]) == "Xã Lũng Cú"
    assert event.decoded("dtstart").isoformat() == "2026-12-07T13:30:00+07:00"
    out = tmp_path / "truck.ics"
    assert main(["ics", "--vehicle", "xe-tv-01", "--out", str(out), "--database", database,
                 "--lang", "en", "--since", "2026-12-08"]) == 0
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    assert str(cal["x-wr-calname"]) == "Timetable of Xe thư viện lưu động 01"
    starts = [e.decoded("dtstart") for e in cal.walk("VEVENT")]
    assert starts and all(s.date().isoformat() >= "2026-12-08" for s in starts)
    capsys.readouterr()
    assert main(["ics", "--vehicle", "nope", "--out", str(out), "--database", database]) == 2
    err = capsys.readouterr().err
    assert "--vehicle 'nope'" in err and "xe-tv-01" in err
    assert main(["ics", "--commune", "00715", "--out", str(out), "--database", database,
                 "--since", "7/12"]) == 2
    assert "--since '7/12'" in capsys.readouterr().err


def test_poster_and_annual_report(database: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    poster = tmp_path / "poster.pdf"
    assert main(["poster", "--commune", "00715", "--out", str(poster), "--database", database,
                 "--contact", "0219 3866 000", "--feed-url", "https://x.example/f.ics"]) == 0
    text = PdfReader(poster).pages[0].extract_text()
    assert "Xã Lũng Cú" in text and "0219 3866 000" in text and "13:30–15:30" in text
    pdf, xlsx = tmp_path / "report.pdf", tmp_path / "report.xlsx"
    capsys.readouterr()
    assert main(["report", "--year", "2026", "--database", database, "--pdf", str(pdf),
                 "--xlsx", str(xlsx)]) == 0
    printed = capsys.readouterr().out
    assert "Lượt đến xã theo kế hoạch: 12" in printed and "Lượt đã thực hiện: 1" in printed
    assert "Mục tiêu 15% năm 2026: còn thiếu 10 xã (cần 11)" in printed
    report_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes()))
                            .pages)
    assert "Báo cáo năm 2026" in report_text
    sheets = load_workbook(xlsx).sheetnames
    assert sheets[:2] == ["Tổng hợp", "Theo xã"]
