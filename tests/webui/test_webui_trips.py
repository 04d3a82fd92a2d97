"""A vehicle with two trips on the web (issue 14): each trip is its own route, with its own
sheet, PDF, map line and outcomes, found by its trip id."""

from __future__ import annotations

import copy
import dataclasses
import io
from pathlib import Path

from flask.testing import FlaskClient
from pypdf import PdfReader
from webui_testkit import FIXTURE_RUN, edit_fixture_plan

VAN = "xe-van-02"
SECOND = f"{VAN}-trip2"


def _split_the_van(plan: dict) -> None:
    """The van's last three stops become its second trip (format 3)."""
    plan["format_version"] = 3
    van = next(r for r in plan["routes"] if r["vehicle_id"] == VAN)
    second = copy.deepcopy(van)
    van["visits"], second["visits"] = van["visits"][:3], van["visits"][3:]
    for seq, v in enumerate(second["visits"], start=1):
        v["seq"] = seq
    van["trip_id"], van["trip_number"] = VAN, 1
    second["trip_id"], second["trip_number"] = SECOND, 2
    plan["routes"].append(second)


def test_each_trip_has_its_own_sheet_pdf_and_outcomes(client: FlaskClient,
                                                     runs_dir: Path) -> None:
    edit_fixture_plan(runs_dir, _split_the_van)
    page = client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    assert f"/plans/{FIXTURE_RUN}/sheet/{SECOND}" in page
    first = client.get(f"/plans/{FIXTURE_RUN}/sheet/{VAN}").get_data(as_text=True)
    second = client.get(f"/plans/{FIXTURE_RUN}/sheet/{SECOND}").get_data(as_text=True)
    assert second.count('class="stop') >= 3 and first != second
    pdf = client.get(f"/plans/{FIXTURE_RUN}/sheet/{SECOND}.pdf")
    assert pdf.status_code == 200
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert SECOND in text
    published = client.post(f"/plans/{FIXTURE_RUN}/publish")
    key = published.headers["Location"].rsplit("/", 1)[1]
    outcomes = client.get(f"/versions/{key}/outcomes").get_data(as_text=True)
    assert f'value="{SECOND}"' in outcomes
    done = client.post(f"/versions/{key}/outcomes",
                       data={"vehicle_id": SECOND, "stop_seq": "1", "status": "done"})
    assert done.status_code == 303 and f"stop-{SECOND}-1" in done.headers["Location"]
    assert client.get(f"/versions/{key}/trips/{SECOND}").status_code == 200


def _allow_two_van_trips(runs_dir: Path) -> None:
    """The fixture's scenario with schema 3 and two trips for the van; its matrices marked
    as computed for that scenario (the roads are the same)."""
    import json

    from planner.outputs import load_scenario_for_plan, read_matrices, write_matrices

    folder = runs_dir / FIXTURE_RUN
    path = folder / "scenario.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = 3
    for v in data["vehicles"]:
        v["trips"] = {"max": 2 if v["id"] == VAN else 1}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    scenario, _ = load_scenario_for_plan(folder / "plan.json")
    matrices = read_matrices(folder)
    assert matrices is not None
    write_matrices(dataclasses.replace(matrices, scenario_digest=scenario.digest),
                   folder / "matrices.npz")


def test_the_edit_page_opens_a_vehicles_next_trip(client: FlaskClient, runs_dir: Path) -> None:
    from planner.plan import read_plan

    _allow_two_van_trips(runs_dir)
    page = client.get(f"/plans/{FIXTURE_RUN}/edit").get_data(as_text=True)
    assert f'<option value="{SECOND}">' in page and "chuyến 2 (chuyến mới)" in page
    assert 'value="xe-tv-01-trip2"' not in page  # the truck may make one trip only
    plan = read_plan(runs_dir / FIXTURE_RUN / "plan.json")
    van = next(r for r in plan.routes if r.key == VAN)
    last = van.visits[-1].commune_code
    moved = client.post(f"/plans/{FIXTURE_RUN}/edit/move",
                        data={"commune_code": last, "vehicle_id": SECOND})
    assert moved.status_code == 303
    edited = read_plan(runs_dir / moved.headers["Location"].split("/plans/")[1].split("/")[0]
                       / "plan.json")
    first, second = (next(r for r in edited.routes if r.key == k) for k in (VAN, SECOND))
    assert [v.commune_code for v in second.visits] == [last]
    assert second.trip_number == 2 and second.depart_s > first.return_s
