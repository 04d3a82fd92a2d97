"""Plan list and plan page: contents, languages, 404s and path validation."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from webui_testkit import FIXTURE_DIR, FIXTURE_RUN, OSM

from planner.plan import Plan
from render.notes import plan_notes


def test_index_lists_the_plan_with_its_kpis(client: FlaskClient, fixture_plan: Plan) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert f'href="/plans/{FIXTURE_RUN}"' in page
    assert str(escape(fixture_plan.scenario_title)) in page
    k = fixture_plan.kpis
    assert f"{k.communes_served}/{k.service_area_communes}" in page
    assert OSM in page


def test_index_tells_plans_apart_by_status(client: FlaskClient, runs_dir: Path) -> None:
    """Draft or published (which versions), edited by hand, re-planned, with violations."""
    import json
    import shutil

    from planner.messages import message

    edited = runs_dir / "ha-giang-2026-edited"
    shutil.copytree(runs_dir / FIXTURE_RUN, edited)
    data = json.loads((edited / "plan.json").read_text(encoding="utf-8"))
    msg = message("check_horizon", day=6, time="10:30", end_day=5, end_time="17:00")
    data["provenance"]["manual_edits"] = [{"at": "2026-12-01T08:00:00+07:00", "by": "demo",
                                           "edit": {"action": "remove",
                                                    "commune_code": "00715"}}]
    data["provenance"]["check"] = {"at": "2026-12-01T08:00:00+07:00", "ok": False,
                                   "violations": [{"kind": "horizon",
                                                   "message": msg.english(),
                                                   "vehicle_id": "xe-tv-01",
                                                   "key": msg.key,
                                                   "values": [list(v) for v in msg.values]},
                                                  {"kind": "horizon", "message": "x"}]}
    (edited / "plan.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert client.post(f"/plans/{FIXTURE_RUN}/publish").status_code == 303
    page = client.get("/?lang=vi").get_data(as_text=True)
    rows = {name: page.split(f'href="/plans/{name}"', 1)[1].split("</tr>", 1)[0]
            for name in (FIXTURE_RUN, edited.name)}
    assert "đã công bố v1" in rows[FIXTURE_RUN] and "bản nháp" not in rows[FIXTURE_RUN]
    assert "bản nháp" in rows[edited.name] and "sửa tay" in rows[edited.name]
    assert "2 vi phạm" in rows[edited.name]


def test_index_without_runs_folder(tmp_path: Path) -> None:
    from webui import create_app

    app = create_app({"RUNS_DIR": tmp_path / "missing", "JOBS_DIR": tmp_path / "jobs"})
    resp = app.test_client().get("/?lang=en")
    assert resp.status_code == 200
    assert "No plans" in resp.get_data(as_text=True)


def test_unreadable_plan_is_listed_not_fatal(client: FlaskClient, runs_dir: Path) -> None:
    broken = runs_dir / "broken-plan"
    broken.mkdir()
    (broken / "plan.json").write_text('{"format": "something-else"}', encoding="utf-8")
    resp = client.get("/")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "broken-plan" in page and "not a plan file" in page
    resp = client.get("/plans/broken-plan")
    assert resp.status_code == 500
    assert "not a plan file" in resp.get_data(as_text=True)


def test_plan_page_shows_every_commune_with_diacritics(client: FlaskClient,
                                                       fixture_plan: Plan) -> None:
    resp = client.get(f"/plans/{FIXTURE_RUN}")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    names = [v.commune_name for r in fixture_plan.routes for v in r.visits]
    names += [u.commune_name for u in fixture_plan.unserved]
    assert names
    for name in names:
        assert name in page, name
    assert "Xã Đồng Văn" in page  # the diacritics survive as characters, not entities
    assert OSM in page
    assert '<html lang="vi">' in page
    assert f'src="/plans/{FIXTURE_RUN}/map?lang=vi"' in page


def test_plan_page_route_tables(client: FlaskClient, fixture_plan: Plan) -> None:
    page = client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    for route in fixture_plan.routes:
        assert str(escape(route.vehicle_name)) in page
        assert f"/plans/{FIXTURE_RUN}/sheet/{route.vehicle_id}" in page
        positions = [page.index(f"<strong>{escape(v.commune_name)}</strong>")
                     for v in route.visits]
        assert positions == sorted(positions)
        for v in route.visits:  # dd/mm HH:MM
            assert f"{v.arrival[8:10]}/{v.arrival[5:7]} {v.arrival[11:16]}" in page
    assert "+1 ngày" in page  # multi-day trips show day offsets
    assert "Vị trí gần đúng" in page  # the depot point is approximate in this plan
    for target in ("15%", "50%", "90%"):
        assert target in page
    # every note of the plan: the dataset's worded in Vietnamese, the depot's as written
    notes = plan_notes(fixture_plan, "vi")
    assert len(notes) == len(fixture_plan.notes) and notes[0].text.startswith("Mạng đường")
    for note in notes:
        assert str(escape(note.text)) in page
    en = client.get(f"/plans/{FIXTURE_RUN}?lang=en").get_data(as_text=True)
    for note in fixture_plan.notes:
        assert str(escape(note)) in en


def test_plan_page_in_english_and_language_cookie(client: FlaskClient) -> None:
    resp = client.get(f"/plans/{FIXTURE_RUN}?lang=en")
    page = resp.get_data(as_text=True)
    assert '<html lang="en">' in page and "Routes" in page and "+1 day" in page
    assert "lang=en" in resp.headers.get("Set-Cookie", "")
    page = client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)  # cookie remembered
    assert '<html lang="en">' in page
    page = client.get(f"/plans/{FIXTURE_RUN}?lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Lộ trình các xe" in page


def test_every_page_has_a_language_switch(client: FlaskClient, fixture_plan: Plan) -> None:
    vehicle = fixture_plan.routes[0].vehicle_id
    for url in ("/", f"/plans/{FIXTURE_RUN}", f"/plans/{FIXTURE_RUN}/sheet/{vehicle}",
                "/jobs", "/plans/nope"):
        page = client.get(url).get_data(as_text=True)
        assert re.search(r'href="[^"]*\?lang=en"', page), url


def test_unknown_plan_is_404(client: FlaskClient) -> None:
    resp = client.get("/plans/no-such-plan")
    assert resp.status_code == 404
    assert "no-such-plan" in resp.get_data(as_text=True)
    assert client.get("/plans/no-such-plan/map").status_code == 404
    assert client.get("/no/such/page").status_code == 404


@pytest.mark.parametrize("path", [
    "/plans/..%2Fetc", "/plans/../etc", "/plans/%2E%2E", "/plans/..", "/plans/.",
    "/plans/..%2Fsecret", "/plans/..%2F..%2F..%2Fetc%2Fpasswd/map",
    f"/plans/{FIXTURE_RUN}%2F..%2F..%2Fsecret", f"/plans/{FIXTURE_RUN}/files/..%2Fplan.json",
    f"/plans/{FIXTURE_RUN}/files/scenario.json", "/plans/%00", "/plans/.hidden",
])
def test_path_traversal_is_404(client: FlaskClient, runs_dir: Path, path: str) -> None:
    # A valid plan right beside RUNS_DIR must not be reachable through ".."
    secret = runs_dir.parent / "secret"
    shutil.copytree(FIXTURE_DIR, secret, ignore=shutil.ignore_patterns("map*.html"))
    hidden = runs_dir / ".hidden"
    shutil.copytree(FIXTURE_DIR, hidden, ignore=shutil.ignore_patterns("map*.html"))
    assert client.get(path).status_code == 404


def test_map_route_writes_and_reuses_map_html(client: FlaskClient, runs_dir: Path) -> None:
    resp = client.get(f"/plans/{FIXTURE_RUN}/map?lang=vi")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    assert OSM in resp.get_data(as_text=True)
    written = runs_dir / FIXTURE_RUN / "map.html"
    assert written.is_file()
    mtime = written.stat().st_mtime_ns
    assert client.get(f"/plans/{FIXTURE_RUN}/map").status_code == 200
    assert written.stat().st_mtime_ns == mtime  # not drawn again
    written.write_text("<!DOCTYPE html>\n<html><body>old map</body></html>", encoding="utf-8")
    resp = client.get(f"/plans/{FIXTURE_RUN}/map")  # drawn by older code: drawn again
    assert "old map" not in resp.get_data(as_text=True) and OSM in resp.get_data(as_text=True)


def test_downloads(client: FlaskClient) -> None:
    resp = client.get(f"/plans/{FIXTURE_RUN}/files/plan.json")
    assert resp.status_code == 200
    assert json.loads(resp.data)["format"] == "mobile-library-plan"
    assert client.get(f"/plans/{FIXTURE_RUN}/files/routes.geojson").status_code == 200


def test_pages_load_nothing_from_other_hosts(client: FlaskClient) -> None:
    for url in ("/", f"/plans/{FIXTURE_RUN}", "/jobs"):
        resp = client.get(url)
        page = resp.get_data(as_text=True)
        assert not re.search(r"<(script|link|img|iframe)\b[^>]*(src|href)=\"(https?:)?//", page)
        assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
