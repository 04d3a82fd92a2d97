"""The plan page warns about places far from the road network and says what the plan counted
for them (issue 17, trap 4)."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN


def _far(runs_dir: Path, *, counted: bool) -> str:
    path = runs_dir / FIXTURE_RUN / "plan.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    visit = data["routes"][0]["visits"][0]
    code = visit["commune_code"]
    pv = data["provenance"]
    for snaps in pv["snapping"].values():
        for s in snaps:
            if s["key"] == code:
                s["snap_m"] = 4300.0
    if counted:
        pv["access"] = {"speed_kmh": 10.0, "counted_beyond_m": 2000.0,
                        "refused_beyond_m": 10000.0,
                        "gaps_m": {p: {code: 4300.0} for p in pv["snapping"]}}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return f"{code} {visit['commune_name']}"


def test_no_notice_when_every_place_is_near_a_road(client: FlaskClient) -> None:
    assert 'id="far-from-roads"' not in client.get(f"/plans/{FIXTURE_RUN}").get_data(
        as_text=True)


def test_a_far_place_is_named_with_its_gap_and_the_assumed_speed(
        client: FlaskClient, runs_dir: Path) -> None:
    who = _far(runs_dir, counted=True)
    page = client.get(f"/plans/{FIXTURE_RUN}?lang=en").get_data(as_text=True)
    assert 'id="far-from-roads"' in page
    assert "1 place(s) more than 2 km from the road network" in page
    assert f"{who}: 4.3 km from the road; counted each way" in page
    assert "assumed 10.0 km/h" in page
    vi = client.get(f"/plans/{FIXTURE_RUN}?lang=vi").get_data(as_text=True)
    assert "cách mạng lưới đường hơn 2 km" in vi


def test_an_older_plan_says_the_gap_was_not_counted(client: FlaskClient,
                                                    runs_dir: Path) -> None:
    who = _far(runs_dir, counted=False)
    page = client.get(f"/plans/{FIXTURE_RUN}?lang=en").get_data(as_text=True)
    assert f"{who}: 4.3 km from the road; not counted" in page
