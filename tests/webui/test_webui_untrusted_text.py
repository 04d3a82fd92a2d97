"""Untrusted text is escaped everywhere: a plan, a scenario, a closure, a library edit, a
publication note, a visit outcome and a job whose every text field carries markup, a script
and a spreadsheet formula (``webui_testkit.PAYLOAD``), and every page, map, popup, sheet,
export and PDF of the app read with it.

Every GET route of the app is visited with every value of its parameters (a new route
without values here fails the test), so a page added later is covered by construction. A
browser test (``tests/e2e/test_e2e_untrusted_text.py``) checks that no script runs.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import (
    PAYLOAD,
    RAW_MARKUP,
    job_record,
    untrusted_plan_folder,
    untrusted_scenario_yaml,
)

from render.exports import EXPORT_FORMATS
from storage.calendar import tokens as calendar_tokens
from webui.batches import TABLES as BATCH_TABLES
from webui.plans import DOWNLOADS
from webui.services import services_of

PLAN = "xss-plan"
SCENARIO = "xss-scenario"
JOB = "abcdef012345"
CODE = "00715"
BATCH = "XSS-1"
LINE = {"type": "LineString", "coordinates": [[105.375, 23.22], [105.385, 23.23]]}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs these as formulas
SKIPPED_ENDPOINTS = {"static", "assets.static", "auth.login"}  # files; the login page


@pytest.fixture
def poisoned(app: Flask, client: FlaskClient) -> dict[str, list[str]]:
    """Every store of the app holding the payload; the values of each URL parameter."""
    untrusted_plan_folder(Path(app.config["RUNS_DIR"]) / PLAN)
    (Path(app.config["SCENARIOS_DIR"]) / f"{SCENARIO}.yaml").write_text(
        untrusted_scenario_yaml(name=SCENARIO), encoding="utf-8")
    resp = client.post("/closures", data={"name": f"Z {PAYLOAD}", "note": f"Y {PAYLOAD}",
                                          "from_date": "2026-12-01", "to_date": "2026-12-31",
                                          "geometry": json.dumps(LINE)})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    resp = client.post(f"/communes/{CODE}", data={"contact": f"K {PAYLOAD}",
                                                   "lon": "", "lat": "", "opening_hours": ""})
    assert resp.status_code in (303, 422), resp.get_data(as_text=True)
    resp = client.post(f"/plans/{PLAN}/publish", data={"note": f"W {PAYLOAD}"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    version = resp.headers["Location"].rsplit("/", 1)[-1].replace("%40", "@")
    resp = client.post(f"/versions/{version}/outcomes",
                       data={"vehicle_id": "xe-tv-01", "stop_seq": "1", "status": "failed",
                             "note": f"O {PAYLOAD}"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    job_record(app, JOB, status="failed", error=f"J {PAYLOAD}", log=f"log {PAYLOAD}\n",
               finished_s_ago=5)
    _poison_batches(client)
    tokens = []
    for kind, ref in (("commune", CODE), ("vehicle", "xe-tv-01")):  # calendar feeds
        resp = client.post("/feeds", data={"kind": kind, "ref": ref, "note": f"F {PAYLOAD}"})
        assert resp.status_code == 303, resp.get_data(as_text=True)
        with services_of(app).database.read() as s:
            tokens += [t.token for t in calendar_tokens(s, kind=kind, ref=ref)]
    sweeps = _poison_sweeps(app)
    return {"token": tokens, "year": ["2026"], "run": [PLAN, version],
            "sweep_id": sweeps,
            "vehicle_id": ["xe-tv-01"], "fmt": [*EXPORT_FORMATS, "pdf"],
            "code": [CODE], "key": [version], "job_id": [JOB], "closure_id": ["1"], "leg": ["0"],
            "batch_id": [BATCH], "table": list(BATCH_TABLES)}


def _poison_sweeps(app: Flask) -> list[str]:
    """A sweep of each kind whose names, axes, errors and reasons carry the payload."""
    from planner.sweep import SweepRun, VariantResult
    from storage.sweeps import save_sweep

    ok = VariantResult(key=f"k {PAYLOAD}", base=f"b {PAYLOAD}", axes={"fleet": f"a {PAYLOAD}"},
                       status="ok", kpis={"communes_served": 8, "service_area_communes": 73,
                                          "service_area_share": 0.11, "cost_vnd": 10_000_000},
                       objective=1, unserved_reasons={f"r {PAYLOAD}": 4}, vehicles=1,
                       wall_s=1.0, peak_rss_mb=300.0, worker=f"w {PAYLOAD}")
    failed = VariantResult(key=f"f {PAYLOAD}", base=f"b {PAYLOAD}", axes={}, status="failed",
                           attempts=2, error=f"E {PAYLOAD}")
    ids = []
    with services_of(app).database.begin() as s:
        for kind in ("sweep", "region", "fleet"):
            run = SweepRun(f"S {PAYLOAD}", (ok, failed), 1.0, f"e {PAYLOAD}", 2)
            ids.append(str(save_sweep(s, run, kind=kind, spec={"name": f"P {PAYLOAD}"},
                                      title=f"T {PAYLOAD}")))
    return ids


def _poison_batches(client: FlaskClient) -> None:
    """A registry whose texts carry the payload, a history at commune CODE, a correction
    note and the commune's profile."""
    def table(rows: list[list[str]]) -> tuple[io.BytesIO, str]:
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return io.BytesIO(out.getvalue().encode("utf-8")), "t.csv"

    resp = client.post("/batches/import", content_type="multipart/form-data", data={
        "batches": table([["batch_id", "crates", "languages", "audiences", "title", "owner",
                           "condition"],
                          [BATCH, "2", "vie", "children", f"T {PAYLOAD}", f"O {PAYLOAD}",
                           f"C {PAYLOAD}"]]),
        "titles": table([["batch_id", "title", "author"], [BATCH, f"B {PAYLOAD}",
                                                            f"A {PAYLOAD}"]]),
        "history": table([["batch_id", "commune_code", "delivered_on"],
                          [BATCH, CODE, "2026-09-07"]]),
        "profiles": table([["commune_code", "languages"], [CODE, "vie"]])})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    resp = client.post(f"/batches/{BATCH}/correct", data={
        "kind": "library", "ref": "tv-ha-giang", "note": f"N {PAYLOAD}",
        "at": "2026-12-01T09:00"})
    assert resp.status_code == 303, resp.get_data(as_text=True)


def _urls(app: Flask, values: dict[str, list[str]]) -> list[str]:
    """Every GET URL of the app with every combination of the parameter values."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        combos: list[dict[str, str]] = [{}]
        for arg in sorted(rule.arguments):
            if arg == "name":
                options = list(DOWNLOADS) if rule.endpoint == "plans.download" else [SCENARIO]
            else:
                assert arg in values, f"no test values for <{arg}> of {rule.rule}: add them"
                options = values[arg]
            combos = [{**c, arg: o} for c in combos for o in options]
        with app.test_request_context():
            from flask import url_for

            urls.extend(url_for(rule.endpoint, **c) for c in combos)
    return sorted(set(urls))


def _js_unescaped(text: str) -> str:
    """``text`` with the JSON escapes of scripts undone (what a script hands to the DOM)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)),
                  text).replace('\\"', '"').replace("\\/", "/")


def _check_html(url: str, text: str) -> None:
    for raw in RAW_MARKUP:
        assert raw not in text, f"{url}: {raw!r} unescaped"
        assert raw not in _js_unescaped(text), f"{url}: {raw!r} unescaped in a script"


def _check(url: str, resp: Any) -> None:
    assert resp.status_code < 500, f"{url}: {resp.status_code}"
    ctype = resp.mimetype
    body = resp.get_data()
    if ctype == "text/html":
        _check_html(url, body.decode("utf-8"))
    elif ctype == "application/pdf":
        from pypdf import PdfReader

        text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages)
        # crate labels cut long texts to their box: the payload's start is printed as is
        shown = "alert('xss')" if not url.endswith("/labels.pdf") else PAYLOAD[:12]
        assert shown in text.replace("\n", ""), f"{url}: the payload is not text"
    elif ctype in ("application/gpx+xml", "application/vnd.google-earth.kml+xml"):
        root = ET.fromstring(body)
        for el in root.iter():
            if el.tag.endswith("description") and el.text:  # KML shows it as HTML
                assert "<script" not in el.text and "<img" not in el.text, url
    elif ctype == "text/csv":
        for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))):
            assert not [c for c in row if c.startswith(FORMULA_START)], f"{url}: {row}"
    elif ctype.endswith("spreadsheetml.sheet"):
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(body))
        formulas = [c.coordinate for ws in wb for row in ws.iter_rows() for c in row
                    if c.data_type == "f"]
        assert not formulas, f"{url}: formula cells {formulas}"
    else:  # data: JSON, GeoJSON, YAML, PNG, plain text; never taken as a page
        assert ctype != "text/html" and resp.headers.get("X-Content-Type-Options") == "nosniff"


def test_every_page_escapes_untrusted_text(app: Flask, client: FlaskClient,
                                           poisoned: dict[str, list[str]]) -> None:
    urls = _urls(app, poisoned)
    assert len(urls) > 40
    shown = 0
    for url in urls:
        resp = client.get(url)
        _check(url, resp)
        text = resp.get_data().decode("utf-8", errors="replace")
        shown += "&lt;script&gt;" in text or "\\u003cscript\\u003e" in text
    assert shown > 20  # the payload is shown (escaped), not dropped


def test_the_map_title_and_layer_names_are_escaped(app: Flask, client: FlaskClient,
                                                   poisoned: dict[str, list[str]]) -> None:
    page = client.get(f"/plans/{PLAN}/map").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title and "&lt;script&gt;" in title.group(1) and "<" not in title.group(1)
    layer_names = _js_unescaped(page)
    assert "V =HYPERLINK(&#34;http://evil.example&#34;)&#34;&#39;&gt;&lt;/title&gt;" in \
        layer_names


def test_the_map_is_sandboxed_and_pages_run_no_inline_script(
        client: FlaskClient, poisoned: dict[str, list[str]]) -> None:
    resp = client.get(f"/plans/{PLAN}/map")
    csp = resp.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox allow-scripts;") and "allow-same-origin" not in csp
    page = client.get(f"/plans/{PLAN}")
    html = page.get_data(as_text=True)
    assert 'sandbox="allow-scripts"' in html
    policy = page.headers["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src
    for url in ("/", f"/plans/{PLAN}", f"/plans/{PLAN}/sheet/xe-tv-01", "/communes",
                f"/communes/{CODE}", "/closures", f"/scenarios/{SCENARIO}/edit",
                f"/plans/{PLAN}/edit"):
        text = client.get(url).get_data(as_text=True)
        inline = [m for m in re.findall(r"<script\b[^>]*>", text) if "src=" not in m]
        assert not inline, f"{url}: inline <script> {inline}"
        tags = [re.sub(r'"[^"]*"', '""', t) for t in re.findall(r"<[a-zA-Z][^>]*>", text)]
        handlers = [t for t in tags if re.search(r"\son[a-z]+\s*=", t)]
        assert not handlers, f"{url}: inline event handlers {handlers}"
