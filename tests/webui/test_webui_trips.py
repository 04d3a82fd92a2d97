"""A vehicle with two trips on the web (issue 14): each trip is its own route, with its own
sheet, PDF, map line and outcomes, found by its trip id."""

from __future__ import annotations

import copy
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
