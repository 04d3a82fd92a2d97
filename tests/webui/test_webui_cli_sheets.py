"""``planner sheets``: the command line writes the same PDF the web app serves, so a library
without the web app can print its route sheets."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from webui_testkit import FIXTURE_RUN

from cli import main


@pytest.mark.parametrize(("extra", "url"), [
    (["--vehicle", "xe-tv-01"], "/sheet/xe-tv-01.pdf?lang=vi"),
    (["--vehicle", "xe-van-02", "--lang", "en"], "/sheet/xe-van-02.pdf?lang=en"),
])
def test_cli_sheets_are_the_web_pdf(client: FlaskClient, runs_dir: Path, tmp_path: Path,
                                    extra: list[str], url: str) -> None:
    out = tmp_path / "sheets.pdf"
    assert main(["sheets", str(runs_dir / FIXTURE_RUN), "--out", str(out), *extra]) == 0
    web = client.get(f"/plans/{FIXTURE_RUN}{url}")
    assert web.status_code == 200
    assert out.read_bytes() == web.data


def test_cli_sheets_trip_and_errors(runs_dir: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder, out = str(runs_dir / FIXTURE_RUN), tmp_path / "trip.pdf"
    assert main(["sheets", folder, "--out", str(out), "--vehicle", "xe-van-02",
                 "--trip", "1"]) == 0
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert "Xe tải nhỏ 02" in text and "Xe thư viện lưu động 01" not in text
    assert main(["sheets", folder, "--out", str(out), "--vehicle", "xe-van-02",
                 "--trip", "2"]) == 2
    assert "has 1 trip(s)" in capsys.readouterr().err
    assert main(["sheets", folder, "--out", str(out), "--vehicle", "xe-99"]) == 2
    assert "its vehicles: xe-tv-01, xe-van-02" in capsys.readouterr().err
