"""The plan page names the service area, how much of it the road data covers, and the 2025
province's share beside it (issue 17, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN


def _scope(runs_dir: Path, **fields: object) -> None:
    path = runs_dir / FIXTURE_RUN / "plan.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["kpis"].update(fields)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_the_former_province_and_tuyen_quangs_share(client: FlaskClient,
                                                    runs_dir: Path) -> None:
    _scope(runs_dir, service_area_name="Hà Giang (former province)", service_area_covered=73,
           province_2025_name="Tuyên Quang", province_2025_communes=124,
           province_2025_share=0.0968)
    page = client.get(f"/plans/{FIXTURE_RUN}?lang=en").get_data(as_text=True)
    assert "Service area: Hà Giang (former province), 73 communes" in page
    assert "Tuyên Quang (2025 province):" in page and "of 124 communes" in page
    assert "the road data covers" not in page  # all 73 are in the road data


def test_an_area_the_road_data_covers_in_part_says_so(client: FlaskClient,
                                                      runs_dir: Path) -> None:
    _scope(runs_dir, service_area_communes=124, service_area_name="Tuyên Quang",
           service_area_covered=73, province_2025_name="Tuyên Quang",
           province_2025_communes=124, province_2025_share=0.0968)
    page = client.get(f"/plans/{FIXTURE_RUN}?lang=en").get_data(as_text=True)
    assert "the road data covers 73 of them; the others count as not served" in page
    assert 'id="province-share"' not in page  # the area is the province itself


def test_an_older_plan_shows_no_area_line(client: FlaskClient) -> None:
    page = client.get(f"/plans/{FIXTURE_RUN}?lang=en").get_data(as_text=True)
    assert 'id="service-area"' not in page
