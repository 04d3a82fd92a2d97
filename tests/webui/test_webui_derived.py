"""The cache of drawn files: a published version's PDF is drawn once (however many users ask
at once), a changed plan or language is drawn again, the cache stays within its limit,
and ``DERIVED_CACHE_MAX_MB = 0`` draws every time."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN

import webui.plans
import webui.sheets
from webui.derived import DerivedCache

VEHICLE = "xe-tv-01"


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What was drawn: each call of the PDF and export functions."""
    calls: list[str] = []
    original_pdf, original_csv = webui.sheets.plan_sheets_pdf, webui.plans.exports.csv_manifest

    def plan_sheets_pdf(*args: Any, **kwargs: Any) -> bytes:
        calls.append("sheet.pdf")
        return original_pdf(*args, **kwargs)

    def csv_manifest(*args: Any, **kwargs: Any) -> bytes:
        calls.append("csv")
        return original_csv(*args, **kwargs)

    monkeypatch.setattr(webui.sheets, "plan_sheets_pdf", plan_sheets_pdf)
    monkeypatch.setattr(webui.plans.exports, "csv_manifest", csv_manifest)
    return calls


def _version(client: FlaskClient) -> str:
    location = client.post(f"/plans/{FIXTURE_RUN}/publish").headers["Location"]
    return location.rsplit("/", 1)[-1].replace("%40", "@")


def test_a_published_pdf_is_drawn_once_for_all_users(
        app: Flask, client: FlaskClient, drawn: list[str]) -> None:
    key = _version(client)
    url = f"/plans/{key}/sheet/{VEHICLE}.pdf"
    errors: list[BaseException] = []
    bodies: list[bytes] = []

    def read() -> None:
        try:
            resp = app.test_client(user="reader", role="driver").get(url)
            assert resp.status_code == 200
            bodies.append(resp.get_data())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(bodies) == 6 and len(set(bodies)) == 1
    first = client.get(url)
    assert drawn == ["sheet.pdf"]  # six readers at once and one more: drawn once
    assert first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    client.get(f"/plans/{key}/sheet/{VEHICLE}.pdf?lang=en")
    assert drawn == ["sheet.pdf", "sheet.pdf"]  # another language is another file


def test_a_changed_plan_is_drawn_again(client: FlaskClient, runs_dir: Path,
                                       drawn: list[str]) -> None:
    url = f"/plans/{FIXTURE_RUN}/export.csv"
    client.get(url)
    client.get(url)
    assert drawn == ["csv"]
    path = runs_dir / FIXTURE_RUN / "plan.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["routes"][0]["visits"][0]["commune_name"] = "Xã Lũng Cú (mới)"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert "Xã Lũng Cú (mới)" in client.get(url).get_data(as_text=True)
    assert drawn == ["csv", "csv"]


def test_without_a_cache_every_request_draws(app: Flask, client: FlaskClient,
                                             drawn: list[str]) -> None:
    from webui.services import services_of

    services_of(app).derived.max_bytes = 0
    for _ in range(2):
        client.get(f"/plans/{FIXTURE_RUN}/export.csv")
    assert drawn == ["csv", "csv"]


def test_the_cache_stays_within_its_limit(tmp_path: Path) -> None:
    cache = DerivedCache(tmp_path / "cache", max_bytes=1000)
    for i in range(30):
        assert cache.get(f"{i:064x}", lambda i=i: bytes([i]) * 100) == bytes([i]) * 100
    files = list((tmp_path / "cache").glob("*/*"))
    assert sum(f.stat().st_size for f in files) <= 1000
    assert (tmp_path / "cache" / "00" / f"{29:064x}").exists()  # the newest is kept
    assert cache.get("f" * 64, lambda: b"x" * 5000) == b"x" * 5000  # too big: not kept
    assert not (tmp_path / "cache" / "ff" / ("f" * 64)).exists()
