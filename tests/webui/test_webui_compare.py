"""The plan page's side-by-side KPI comparison with another plan."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN


def _second_plan(runs_dir: Path) -> str:
    other = runs_dir / "ha-giang-2026-b"
    shutil.copytree(runs_dir / FIXTURE_RUN, other)
    data = json.loads((other / "plan.json").read_text(encoding="utf-8"))
    data["kpis"]["km"] = data["kpis"]["km"] + 100.0
    data["kpis"]["communes_served"] = data["kpis"]["communes_served"] - 1
    (other / "plan.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return other.name


def test_compare_shows_both_plans_and_the_difference(client: FlaskClient,
                                                     runs_dir: Path) -> None:
    other = _second_plan(runs_dir)
    page = client.get(f"/plans/{FIXTURE_RUN}").get_data(as_text=True)
    assert f"/plans/{FIXTURE_RUN}/compare" in page
    resp = client.get(f"/plans/{FIXTURE_RUN}/compare?with={other}")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "So sánh kế hoạch" in page and "Số xã được phục vụ" in page
    assert "Đạt mục tiêu 15% (2026)" in page and "Chi phí (đồng)" in page
    # columns named A and B with the plans' titles and names, the difference labelled B − A
    assert f'<small class="muted">{other}</small>' in page and "Chênh lệch (B − A)" in page
    # the difference signed with a true minus, marked better (green) or worse (orange)
    assert '<td class="num diff worse">+100,0</td>' in page  # 100 km more
    assert '<td class="num diff worse">−1</td>' in page  # one commune fewer
    row = page.split('class="row-driving_hours"')[1].split("</tr>")[0]
    assert re.search(r'<td class="num">\d+h\d\d</td>', row)  # hours as the plan page says
    # plan A is chosen in the form too: its own compare page, B kept
    moved = client.get(f"/plans/{FIXTURE_RUN}/compare?a={other}&with={FIXTURE_RUN}")
    assert moved.status_code == 303
    assert moved.headers["Location"].endswith(f"/plans/{other}/compare?with={FIXTURE_RUN}")
    assert client.get(f"/plans/{FIXTURE_RUN}/compare?a=nope").status_code == 404
    # a published version can be compared too
    version = client.post(f"/plans/{FIXTURE_RUN}/publish").headers["Location"].rsplit(
        "/", 1)[-1].replace("%40", "@")
    page = client.get(f"/plans/{other}/compare").get_data(as_text=True)
    assert f'<option value="{version}"' in page
    versus = client.get(f"/plans/{other}/compare?with={version}").get_data(as_text=True)
    assert f"Phiên bản 1 · {version}" in versus  # a version says which it is
    en = client.get(f"/plans/{FIXTURE_RUN}/compare?with={other}&lang=en").get_data(
        as_text=True)
    assert "Compare plans" in en and "Communes served" in en


def test_compare_with_an_unknown_plan_is_a_404_and_viewers_may_not(
        client: FlaskClient, client_as: Callable[..., FlaskClient]) -> None:
    resp = client.get(f"/plans/{FIXTURE_RUN}/compare?with=..%2Fetc")
    assert resp.status_code == 404
    assert client_as("viewer").get(f"/plans/{FIXTURE_RUN}/compare").status_code == 403
    assert client_as("planner").get(f"/plans/{FIXTURE_RUN}/compare").status_code == 200


def test_target_rows_are_labelled_from_the_programme_targets(client: FlaskClient) -> None:
    """The comparison labels each target row with the share and year of
    planner.kpis.PROGRAMME_TARGETS, the one home of the targets."""
    from planner.kpis import PROGRAMME_TARGETS

    page = client.get(f"/plans/{FIXTURE_RUN}/compare?lang=en").get_data(as_text=True)
    for t in PROGRAMME_TARGETS:
        assert f"Meets {t.share:.0%} ({t.year})" in page
    page = client.get(f"/plans/{FIXTURE_RUN}/compare?lang=vi").get_data(as_text=True)
    assert "Đạt mục tiêu 15% (2026)" in page


def test_compare_draws_both_plans_coverage_against_the_targets(client: FlaskClient,
                                                               runs_dir: Path) -> None:
    other = _second_plan(runs_dir)
    page = client.get(f"/plans/{FIXTURE_RUN}/compare?with={other}&lang=vi").get_data(
        as_text=True)
    section = page.split('<section class="coverage">', 1)[1].split("</section>", 1)[0]
    assert "vạch: 15%, 50%, 90%" in section
    assert section.count('class="bar"') == 2 and section.count('class="mark"') == 6
