"""Corrupt plan folders and stored records: every file of a plan folder (``plan.json``,
``routes.geojson``, ``scenario.json``, ``matrices.npz``; truncated, empty, not UTF-8, of the
wrong types, with null fields, missing) and every column the app parses of the stored
records is broken in turn, and every page is read.

Pages that show the broken plan answer with the app's own error page naming the plan (or
show the plan without what is missing); every other page, the home page first, works. No
page shows an absolute server path.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from webui_testkit import FIXTURE_RUN, PROJECT_ROOT, tiny_scenario_yaml

from webui.services import services_of

RUN = FIXTURE_RUN
VEHICLE = "xe-tv-01"
GENERAL_PAGES = ("/", "/versions", "/communes", "/jobs", "/scenarios", "/closures")
ERROR_PAGE = 'class="error-message"'


def plan_pages(run: str, *, draft: bool = True) -> list[str]:
    base = f"/plans/{run}"
    pages = [base, f"{base}/map", f"{base}/sheet/{VEHICLE}", f"{base}/sheet/{VEHICLE}.pdf",
             f"{base}/sheets.pdf", f"{base}/sheet/{VEHICLE}/map.png", f"{base}/compare",
             f"{base}/files/plan.json", f"{base}/files/routes.geojson",
             f"/closures?plan={run}", f"/closures/map.json?plan={run}"]
    pages += [f"{base}/export.{fmt}" for fmt in ("geojson", "gpx", "kml", "csv", "xlsx")]
    if draft:
        pages.append(f"{base}/edit")
    return pages


def _json_edit(edit: Callable[[Any], Any]) -> Callable[[bytes], bytes]:
    def apply(original: bytes) -> bytes:
        data = json.loads(original)
        result = edit(data)
        return json.dumps(data if result is None else result).encode()
    return apply


def _set(path: tuple[Any, ...], value: Any) -> Callable[[bytes], bytes]:
    def edit(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return _json_edit(edit)


def _features(change: Callable[[dict[str, Any]], None]) -> Callable[[bytes], bytes]:
    def edit(data: Any) -> None:
        for f in data["features"]:
            change(f)
    return _json_edit(edit)


COMMON: dict[str, Callable[[bytes], bytes | None]] = {
    "missing": lambda b: None,
    "empty": lambda b: b"",
    "truncated": lambda b: b[: len(b) // 2],
    "not-utf8": lambda b: b"\xff\xfe\x00" + b[:200] + b"\xc3\x28",
    "garbage": lambda b: b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
}
JSON_COMMON: dict[str, Callable[[bytes], bytes | None]] = {
    **COMMON, "null": lambda b: b"null", "list": lambda b: b"[1, 2]", "string": lambda b: b'"x"',
}
CORRUPTIONS: dict[str, dict[str, Callable[[bytes], bytes | None]]] = {
    "plan.json": {
        **{k: v for k, v in JSON_COMMON.items() if k != "missing"},
        "kpis-null": _set(("kpis",), None),
        "kpis-list": _set(("kpis",), [1]),
        "kpis-field-text": _set(("kpis", "km"), "far"),
        "provenance-null": _set(("provenance",), None),
        "routes-null": _set(("routes",), None),
        "routes-dict": _set(("routes",), {"a": 1}),
        "route-null": _set(("routes", 0), None),
        "visits-null": _set(("routes", 0, "visits"), None),
        "visit-null": _set(("routes", 0, "visits", 0), None),
        "scenario-null": _set(("scenario",), None),
        "title-null": _set(("scenario", "title"), None),
        "title-number": _set(("scenario", "title"), 12),
        "name-list": _set(("scenario", "name"), ["a"]),
        "start-date-bad": _set(("scenario", "horizon", "start_date"), "soon"),
        "days-text": _set(("scenario", "horizon", "days"), "five"),
        "created-null": _set(("created_at",), None),
        "vehicle-name-null": _set(("routes", 0, "vehicle_name"), None),
        "vehicle-id-number": _set(("routes", 0, "vehicle_id"), 7),
        "km-text": _set(("routes", 0, "km"), "far"),
        "depot-lat-null": _set(("routes", 0, "depot_lat"), None),
        "seq-text": _set(("routes", 0, "visits", 0, "seq"), "first"),
        "arrival-null": _set(("routes", 0, "visits", 0, "arrival"), None),
        "arrival-bad": _set(("routes", 0, "visits", 0, "arrival"), "noon"),
        "commune-null": _set(("routes", 0, "visits", 0, "commune_name"), None),
        "lat-text": _set(("routes", 0, "visits", 0, "lat"), "north"),
        "crates-float": _set(("routes", 0, "visits", 0, "deliver_crates"), 2.5),
        "unserved-null": _set(("unserved",), None),
        "unserved-item-bad": _set(("unserved",), [{"commune_code": None}]),
        "notes-number": _set(("notes",), 5),
        "attribution-null": _set(("attribution",), None),
        "breaks-bad": _set(("routes", 0, "breaks_s"), [[1]]),
        "extra-field": _set(("routes", 0, "visits", 0, "surprise"), 1),
    },
    "routes.geojson": {  # every one reads as "no routes" (see _parsed_routes): a few suffice
        **{k: JSON_COMMON[k] for k in ("missing", "truncated", "not-utf8", "null", "list")},
        "features-null": _set(("features",), None),
        "features-dict": _set(("features",), {"a": 1}),
        "feature-null": _json_edit(lambda d: d["features"].insert(0, None)),
        "properties-null": _features(lambda f: f.update(properties=None)),
        "geometry-null": _features(lambda f: f.update(geometry=None)),
        "geometry-point": _features(lambda f: f.update(
            geometry={"type": "Point", "coordinates": [105.0, 23.0]})),
        "geometry-line-for-all": _features(lambda f: f.update(
            geometry={"type": "LineString", "coordinates": [[105.0, 23.0], [105.1, 23.1]]})),
        "geometry-unknown": _features(lambda f: f.update(
            geometry={"type": "Circle", "coordinates": 5})),
        "coordinates-text": _features(lambda f: f.update(
            geometry={"type": f["geometry"]["type"], "coordinates": "here"})),
        "coordinates-short": _features(lambda f: f.update(
            geometry={"type": "LineString", "coordinates": [[105.0]]})),
        "kind-number": _features(lambda f: f["properties"].update(kind=3)),
        "vehicle-id-list": _features(lambda f: f["properties"].update(vehicle_id=[1])),
        "steps-bad": _features(lambda f: f["properties"].update(steps="left", legs=5)),
    },
    "scenario.json": {
        **JSON_COMMON,
        "vehicles-null": _set(("vehicles",), None),
        "stops-dict": _set(("stops",), {"a": 1}),
        "assumptions-dict": _set(("assumptions",), {"a": 1}),
        "transfers-bad": _set(("transfers",), [{"from": 1}]),
    },
    "matrices.npz": dict(COMMON),
}


# The pages of the plan that read each file (the others never open it).
_BASE = f"/plans/{RUN}"
READERS: dict[str, list[str]] = {
    "plan.json": plan_pages(RUN),
    "routes.geojson": [_BASE, f"{_BASE}/map", f"{_BASE}/sheet/{VEHICLE}",
                       f"{_BASE}/sheet/{VEHICLE}.pdf", f"{_BASE}/sheets.pdf",
                       f"{_BASE}/sheet/{VEHICLE}/map.png", f"{_BASE}/files/routes.geojson",
                       f"{_BASE}/export.geojson", f"{_BASE}/export.gpx", f"{_BASE}/export.kml",
                       f"/closures/map.json?plan={RUN}", f"{_BASE}/edit"],
    "scenario.json": [_BASE, f"{_BASE}/edit", f"{_BASE}/sheet/{VEHICLE}",
                      f"{_BASE}/export.csv"],
    "matrices.npz": [_BASE, f"{_BASE}/edit"],
}


@pytest.fixture(autouse=True)
def _no_basemaps(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Maps and sheets without the dataset's basemap (seconds per page; not under test);
    the caches that would keep the empty basemap are emptied after the test."""
    import render.maps
    import webui.communes
    import webui.sheets

    monkeypatch.setattr(render.maps, "basemap_features", lambda network: (
        [], {cls: [] for cls in render.maps.BASEMAP_CLASSES}))
    monkeypatch.setattr(render.maps, "_commune_points", lambda network: [])
    monkeypatch.setattr(webui.sheets, "_basemap", lambda plan: None)
    yield
    render.maps._basemap_geojson.cache_clear()
    webui.communes._basemap.cache_clear()


@pytest.fixture
def published(app: Flask, client: FlaskClient) -> str:
    """The fixture plan published as version 1 (its key)."""
    resp = client.post(f"/plans/{RUN}/publish", data={"note": "v1"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return resp.headers["Location"].rsplit("/", 1)[-1].replace("%40", "@")


def _check(client: FlaskClient, url: str, *, shows: str | None, secrets: tuple[str, ...],
           method: str = "GET") -> int:
    """Read ``url``; it must work, or (if it shows plan ``shows``) be the app's error page
    naming that plan. Never an absolute server path."""
    try:
        resp = client.open(url, method=method)
    except Exception as exc:  # noqa: BLE001 - TESTING propagates what would be a bare 500
        raise AssertionError(f"{url}: unhandled {type(exc).__name__}: {exc}") from None
    body = resp.get_data().decode("utf-8", errors="replace")
    if resp.status_code >= 400 or url == "/":  # error pages, and the plan list's errors
        for secret in secrets:
            assert secret not in body, f"{url}: the page shows the server path {secret}"
    if resp.status_code >= 500:
        assert shows is not None, f"{url}: {resp.status_code} on a page without the plan"
        assert ERROR_PAGE in body, f"{url}: {resp.status_code} is not the app's error page"
        assert shows in body, f"{url}: the error page does not name {shows}"
    return resp.status_code


def _secrets(app: Flask) -> tuple[str, ...]:
    return (str(Path(app.config["RUNS_DIR"]).parent), app.instance_path, "/tmp/")


@pytest.mark.parametrize("file_name", list(CORRUPTIONS))
def test_a_corrupt_plan_file_breaks_only_its_own_pages(
        app: Flask, client: FlaskClient, published: str, file_name: str) -> None:
    folder = Path(app.config["RUNS_DIR"]) / RUN
    path = folder / file_name
    original = path.read_bytes()
    secrets = _secrets(app)
    failures = []
    stat = path.stat()
    pages = READERS[file_name]
    for label, corrupt in CORRUPTIONS[file_name].items():
        data = corrupt(original)
        if data is None:
            path.unlink()
        else:
            path.write_bytes(data)
        try:
            for url in GENERAL_PAGES:
                status = _check(client, url, shows=None, secrets=secrets)
                assert status == 200, f"{file_name} {label}: {url} answered {status}"
            for url in pages:
                _check(client, url, shows=RUN, secrets=secrets)
            _check(client, f"/plans/{RUN}/publish", shows=RUN, secrets=secrets,
                   method="POST")
        except AssertionError as exc:
            failures.append(f"{file_name} {label}: {str(exc).splitlines()[0]}")
        finally:
            path.write_bytes(original)
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # no map drawn again
        # Drawing (PDFs, images) reads what the pages before it read: once is enough.
        pages = [p for p in pages if not p.endswith((".pdf", ".png"))]
    assert not failures, "\n".join(failures)


# --- stored records ----------------------------------------------------------------------------

TRIGGERS = ("plan_versions_no_update", "plan_versions_no_delete")
BAD_TEXT = ("{", "null", "[1]", '{"a": 1}', "\x00x")
RECORD_CORRUPTIONS: dict[tuple[str, str], tuple[Any, ...]] = {
    ("plan_versions", "plan_json"): BAD_TEXT + (
        json.dumps({"format": "mobile-library-plan", "format_version": 2, "kpis": None}),),
    ("plan_versions", "routes_geojson_gz"): (b"", b"not gzip", gzip.compress(b"{"),
                                            gzip.compress(b"\xff\xfe"), None),
    ("plan_versions", "scenario_json"): BAD_TEXT + (None,),
    ("plan_versions", "digest"): ("", "0" * 64),
    ("plan_versions", "note"): ("",),
    ("plans", "folder"): (None, "", "/nonexistent/folder"),
    ("plans", "scenario_title"): ("",),
    ("jobs", "progress_json"): BAD_TEXT,
    ("jobs", "plan_name"): ("../../etc", "no-such-plan", None),
    ("jobs", "log_tail"): ("",),
    ("closures", "geometry_geojson"): BAD_TEXT + (json.dumps({"type": "Point"}),),
    ("library_overrides", "opening_hours"): ("x", "25:00-26:00", ""),
    ("library_overrides", "market_weekdays"): ("x", "mon,,", ""),
    ("visit_outcomes", "vehicle_id"): ("nobody",),
    ("visit_outcomes", "stop_seq"): (999,),
    ("scenarios", "yaml_text"): ("", "a: [", "- 1", "name: other\n", "\x00x"),
}


@pytest.fixture
def records(app: Flask, client: FlaskClient, published: str) -> Iterator[str]:
    """A version with an outcome, a closure, a library edit and a finished job."""
    from webui_testkit import job_record

    assert client.post(f"/versions/{published}/outcomes", data={
        "vehicle_id": VEHICLE, "stop_seq": "1", "status": "done"}).status_code == 303
    assert client.post("/closures", data={
        "name": "QL.4C", "from_date": "2026-12-01", "to_date": "2026-12-31",
        "geometry": json.dumps({"type": "LineString",
                                "coordinates": [[105.375, 23.22], [105.385, 23.23]]})}
    ).status_code == 303
    resp = client.post("/communes/00715", data={
        "contact": "Chị Lan", "opening_hours": "07:30-11:00", "market_mode": "weekdays",
        "market_weekdays": "sun", "reset_location": "1"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[-2000:]
    job_record(app, "abcdef012345", status="done", plan_name=RUN, finished_s_ago=5,
               progress=((1.0, 100),))
    base = PROJECT_ROOT / "scenarios" / "ha-giang-2026.yaml"
    shutil.copy(base, Path(app.config["SCENARIOS_DIR"]) / base.name)
    stored = tiny_scenario_yaml(name="stored-one").replace(
        f"extends: {base}", "extends: ha-giang-2026").encode()
    resp = client.post("/scenarios/upload", data={"file": (io.BytesIO(stored), "s.yaml")},
                       content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)[-1000:]
    yield published


def _record_pages(table: str, version: str) -> list[str]:
    """The pages that read records of ``table`` (besides the general pages)."""
    v = f"/plans/{version}"
    return {
        "plan_versions": [v, f"{v}/map", f"{v}/sheet/{VEHICLE}", f"{v}/sheet/{VEHICLE}.pdf",
                          f"{v}/export.gpx", f"{v}/export.csv", f"{v}/compare",
                          f"/versions/{version}/outcomes", f"/plans/{RUN}",
                          f"/closures?plan={version}", "/communes/00715"],
        "plans": [f"/plans/{RUN}", f"/plans/{version}", f"/versions/{version}/outcomes"],
        "jobs": ["/jobs/abcdef012345", "/jobs/abcdef012345/status.json", f"/plans/{RUN}"],
        "closures": [f"/closures?plan={RUN}", f"/closures/map.json?plan={RUN}"],
        "library_overrides": ["/communes/00715", "/communes/history",
                              "/communes/00715/basemap.json"],
        "visit_outcomes": [f"/versions/{version}/outcomes", f"/plans/{version}"],
        "scenarios": ["/scenarios/stored-one", "/scenarios/stored-one/edit",
                      "/scenarios/stored-one/yaml", "/communes?scenario=stored-one",
                      "/communes/00715"],
    }[table]


def test_a_corrupt_stored_record_breaks_only_its_own_pages(
        app: Flask, client: FlaskClient, records: str) -> None:
    db = services_of(app).database
    version = records
    secrets = _secrets(app)
    failures = []
    with db.engine.begin() as conn:
        for trigger in TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
    for (table, column), values in RECORD_CORRUPTIONS.items():
        with db.engine.begin() as conn:
            original = conn.execute(text(f"SELECT id, {column} FROM {table}")).all()
        assert original, f"no {table} record to corrupt"
        pages = [*GENERAL_PAGES, *_record_pages(table, version)]
        for value in values:
            shutil.rmtree(Path(app.instance_path) / "published", ignore_errors=True)
            with db.engine.begin() as conn:
                conn.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": value})
            try:
                for url in pages:
                    shows = version if version in url else "abcdef012345" \
                        if url.startswith("/jobs/") else RUN if RUN in url else \
                        "stored-one" if "stored-one" in url else None
                    status = _check(client, url, shows=shows, secrets=secrets)
                    if url in GENERAL_PAGES:
                        assert status == 200, f"{url} answered {status}"
            except AssertionError as exc:
                failures.append(f"{table}.{column} = {value!r}: {str(exc).splitlines()[0]}")
            finally:
                with db.engine.begin() as conn:
                    for row_id, old in original:
                        conn.execute(text(f"UPDATE {table} SET {column} = :v WHERE id = :i"),
                                     {"v": old, "i": row_id})
            # Drawing (PDFs, images, the map page) reads the version from the folder the
            # pages before it wrote again from the records: once per column is enough.
            pages = [p for p in pages if not p.endswith((".pdf", ".png", "/map"))]
    assert not failures, "\n".join(failures)


def test_errors_shown_in_pages_name_no_server_path(app: Flask, client: FlaskClient) -> None:
    from webui_testkit import job_record

    runs = Path(app.config["RUNS_DIR"])
    job_record(app, "0123456789ab", status="failed",
               error=f"{runs / RUN / 'scenario.json'}: not valid JSON",
               log=f'File "{Path(app.instance_path) / "jobs" / "x.py"}", line 3\n')
    page = client.get("/jobs/0123456789ab").get_data(as_text=True)
    assert f"{RUN}/scenario.json: not valid JSON" in page and "jobs/x.py" in page
    for secret in _secrets(app):
        assert secret not in page
