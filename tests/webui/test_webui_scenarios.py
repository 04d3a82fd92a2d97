"""The scenario pages: list, view, upload (size limit, the CLI's problems, ``extends:`` by
name only), the form of the main parameters, permissions, CSRF, and starting a solve of a
scenario stored in the database."""

from __future__ import annotations

import html
import io
import re
import shutil
from collections.abc import Callable
from contextlib import redirect_stderr
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import PROJECT_ROOT, tiny_scenario_yaml

from cli import main as planner_main
from storage import jobs, scenarios
from webui.services import services_of

DEFAULT = PROJECT_ROOT / "scenarios" / "ha-giang-2026.yaml"


@pytest.fixture
def with_default(scenarios_dir: Path) -> Path:
    """The default scenario (and its landslide variant) in SCENARIOS_DIR."""
    shutil.copy(DEFAULT, scenarios_dir)
    shutil.copy(PROJECT_ROOT / "scenarios" / "ha-giang-2026-landslide.yaml", scenarios_dir)
    return scenarios_dir / DEFAULT.name


def _upload(client: FlaskClient, text: str | bytes, *, name: str = "s.yaml",
            **form: str) -> object:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return client.post("/scenarios/upload", data={"file": (io.BytesIO(data), name), **form},
                       content_type="multipart/form-data")


def _stored_yaml(name: str = "up-tiny", *, extends: str = "ha-giang-2026") -> str:
    text = tiny_scenario_yaml(name=name)
    return re.sub(r"^extends: .*$", f"extends: {extends}", text, count=1, flags=re.M)


def cli_validate(tmp_path: Path, text: str | bytes, name: str) -> str:
    """What ``planner validate`` prints for ``text`` saved as ``name`` (the file's folder
    replaced by nothing, as the page names an upload by its file name)."""
    folder = tmp_path / "cli"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    err = io.StringIO()
    with redirect_stderr(err):
        assert planner_main(["validate", str(path)]) == 2
    return err.getvalue().strip().replace(str(path.resolve()), name)


def _page(resp: object) -> str:
    return html.unescape(resp.get_data(as_text=True))  # type: ignore[attr-defined]


# --- list and permissions ------------------------------------------------------------------

def test_list_shows_files_and_stored_scenarios(app: Flask, client: FlaskClient,
                                               with_default: Path) -> None:
    assert _upload(client, _stored_yaml()).status_code == 303
    page = client.get("/scenarios").get_data(as_text=True)
    names = re.findall(r'<tr data-name="([^"]+)"', page)
    assert sorted(names[:2]) == ["ha-giang-2026", "ha-giang-2026-landslide"]
    assert names[2:] == ["up-tiny"]  # files first, then the stored ones
    assert "Cơ sở dữ liệu" in page and "Tệp (chỉ đọc)" in page
    assert "test-dispatcher" in page  # who stored it
    nav = client.get("/").get_data(as_text=True)
    assert 'href="/scenarios"' in nav and 'href="/communes"' in nav


@pytest.mark.parametrize("role", ["viewer", "driver"])
def test_roles_without_scenarios_are_forbidden(client_as: Callable[..., FlaskClient],
                                               with_default: Path, role: str) -> None:
    c = client_as(role)
    for url in ("/scenarios", "/scenarios/ha-giang-2026", "/scenarios/ha-giang-2026/edit",
                "/scenarios/ha-giang-2026/yaml"):
        assert c.get(url).status_code == 403, url
    assert _upload(c, _stored_yaml()).status_code == 403
    assert c.post("/scenarios/ha-giang-2026/solve").status_code == 403
    assert 'href="/scenarios"' not in c.get("/").get_data(as_text=True)


def test_planners_manage_scenarios(client_as: Callable[..., FlaskClient],
                                   with_default: Path) -> None:
    c = client_as("planner")
    assert c.get("/scenarios").status_code == 200
    assert _upload(c, _stored_yaml()).status_code == 303


def test_unknown_scenario_is_404(client: FlaskClient, with_default: Path) -> None:
    for name in ("nope", "ha-giang-2026.yaml", "..%2Fetc%2Fpasswd"):
        assert client.get(f"/scenarios/{name}").status_code == 404, name
        assert client.post(f"/scenarios/{name}/solve").status_code == 404, name


def test_csrf_token_is_required(client_as: Callable[..., FlaskClient],
                                with_default: Path) -> None:
    c = client_as("dispatcher", csrf=False)
    assert _upload(c, _stored_yaml()).status_code == 400
    assert c.post("/scenarios/ha-giang-2026/edit", data={"action": "save"}).status_code == 400
    assert c.post("/scenarios/ha-giang-2026/solve").status_code == 400


# --- view ----------------------------------------------------------------------------------

def test_view_shows_summary_and_yaml(client: FlaskClient, with_default: Path) -> None:
    resp = client.get("/scenarios/ha-giang-2026")
    assert resp.status_code == 200
    page = _page(resp)
    assert "Kịch bản hợp lệ." in page and 'id="solve-form"' in page
    assert "Xe thư viện lưu động 01" in page and "Xe tải nhỏ 02" in page
    assert "Các xã được phục vụ (12)" in page
    assert "Xã Sơn Vĩ" in page and 'href="/communes/00778"' in page  # stops with communes
    assert "Thư viện tỉnh Hà Giang" in page  # the depot
    assert "07:30–11:00 (Thứ Tư, Thứ Năm)" in page  # Khâu Vai's school day
    assert "schema_version: 2" in page  # the YAML itself
    yaml_file = client.get("/scenarios/ha-giang-2026/yaml")
    assert yaml_file.get_data() == DEFAULT.read_bytes()
    assert "attachment" in yaml_file.headers["Content-Disposition"]


# --- upload --------------------------------------------------------------------------------

def test_upload_stores_the_yaml_with_who_and_when(app: Flask, client: FlaskClient,
                                                  with_default: Path) -> None:
    text = _stored_yaml()
    resp = _upload(client, text)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/scenarios/up-tiny")
    with services_of(app).database.begin() as s:
        info = scenarios.get_scenario(s, "up-tiny")
    assert info.yaml_text == text and info.created_by == info.updated_by == "test-dispatcher"
    assert info.updated_at.tzinfo is not None
    page = _page(client.get("/scenarios/up-tiny"))
    assert "Kịch bản hợp lệ." in page and "Xã Lũng Cú" in page and "Xã Đồng Văn" in page
    assert "sửa lần cuối bởi test-dispatcher" in page
    assert not list(with_default.parent.glob("up-tiny*"))  # never written to the folder


def test_upload_too_large_is_413(app: Flask, client: FlaskClient, with_default: Path) -> None:
    app.config["SCENARIO_MAX_BYTES"] = 2048
    resp = _upload(client, _stored_yaml() + "#" * 4096 + "\n")
    assert resp.status_code == 413 and "2 KB" in resp.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 4096  # the whole request, before the form is read
    assert _upload(client, b"x" * 10_000).status_code == 413
    with services_of(app).database.begin() as s:
        assert scenarios.list_scenarios(s) == []


def test_upload_without_file_or_empty_is_400(client: FlaskClient, with_default: Path) -> None:
    assert client.post("/scenarios/upload", data={},
                       content_type="multipart/form-data").status_code == 400
    assert _upload(client, b"  \n").status_code == 400


@pytest.mark.parametrize("text", [
    "name: broken\nstops: [\n",                      # not YAML
    "schema_version: 1\nname: x\nhorizon: {start_date: 2026-12-07}\n",  # fields missing
    b"name: \xff\xfe\n",                               # not UTF-8
    "- a list\n- not a mapping\n",
    "name: deep\nstops: " + "[" * 5000 + "]" * 5000 + "\n",  # nesting: no recursion
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(  # an alias bomb
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)),
])
def test_invalid_upload_shows_the_cli_problems(client: FlaskClient, with_default: Path,
                                               tmp_path: Path, text: str | bytes) -> None:
    resp = _upload(client, text, name="bad.yaml")
    assert resp.status_code == 422
    page = _page(resp)
    expected = cli_validate(tmp_path, text, "bad.yaml")
    assert expected.startswith("error: ") and expected in page
    assert "Chưa lưu bad.yaml" in page


def test_problems_against_the_data_are_the_clis(client: FlaskClient, with_default: Path,
                                                tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data["name"] = "broken-data"
    data["vehicles"][0]["capacity_crates"] = -5
    data["vehicles"][1]["profile"] = "tractor"
    data["stops"][0]["commune_code"] = "99999"
    text = yaml.safe_dump(data, allow_unicode=True)
    resp = _upload(client, text, name="broken-data.yaml")
    assert resp.status_code == 422
    page = _page(resp)
    assert cli_validate(tmp_path, text, "broken-data.yaml") in page
    # The table: field, value, problem and fix of each.
    assert 'data-field="vehicles[0].capacity_crates"' in page and "<code>-5</code>" in page
    assert "Input should be greater than 0" in page
    check = _upload(client, yaml.safe_dump({**data, "vehicles": yaml.safe_load(
        DEFAULT.read_text(encoding="utf-8"))["vehicles"]}, allow_unicode=True),
        name="broken-data.yaml")
    page = _page(check)
    assert check.status_code == 422 and 'data-field="stops[0].commune_code"' in page
    assert "no commune with this code in road dataset 'ha_giang'" in page


@pytest.mark.parametrize("parent", ["../../../etc/passwd", "/etc/passwd", "nope",
                                    "ha-giang-2026/../x"])
def test_extends_may_only_name_a_scenario(client: FlaskClient, with_default: Path,
                                          parent: str) -> None:
    resp = _upload(client, _stored_yaml(extends=parent))
    assert resp.status_code == 422
    page = _page(resp)
    assert 'data-field="extends"' in page and "never by a path" in page
    assert "ha-giang-2026, ha-giang-2026-landslide" in page  # the fix lists the names
    assert "root:" not in page


@pytest.mark.parametrize("network", ["/etc", "/", "../../geodata/data/ha_giang", "ha_giang/..",
                                     ".", "nope"])
def test_network_may_only_name_a_dataset(client: FlaskClient, with_default: Path,
                                         network: str) -> None:
    """A folder path in `network:` let a planner probe which folders of the server exist
    (the messages differed); a scenario of the web names its dataset by name."""
    resp = _upload(client, _stored_yaml() + f"network: {network!r}\n")
    assert resp.status_code == 422
    page = _page(resp)
    assert 'data-field="network"' in page and "use one of: cao_bang, ha_giang" in page
    if network != "nope":
        assert "never by a folder path" in page
    assert "dataset.yaml" not in page and "missing" not in page
    assert _upload(client, _stored_yaml() + "network: ha_giang\n").status_code == 303


def test_extends_by_name_reaches_files_and_stored_scenarios(client: FlaskClient,
                                                            with_default: Path) -> None:
    assert _upload(client, _stored_yaml(extends="ha-giang-2026.yaml")).status_code == 303
    # A stored scenario extending a stored scenario that extends a file scenario (which
    # itself extends another file by its path).
    child = _stored_yaml("up-child", extends="up-tiny").replace(
        'title: "Thử nghiệm hai xã"', 'title: "Con"')
    child = re.sub(r"stops:.*?(?=solver:)", "", child, flags=re.S)
    assert _upload(client, child).status_code == 303
    page = _page(client.get("/scenarios/up-child"))
    assert "Kịch bản hợp lệ." in page and "Xã Lũng Cú" in page and ">Con " in page
    landslide = _stored_yaml("up-landslide", extends="ha-giang-2026-landslide")
    assert _upload(client, landslide).status_code == 303
    # A loop between stored scenarios is reported by the loader, as for files, before the
    # text that would close it is stored.
    resp = _upload(client, _stored_yaml(extends="up-child"), replace="1")
    assert resp.status_code == 422 and "extends itself in a loop" in _page(resp)
    resp = _upload(client, _stored_yaml(extends="up-tiny"), replace="1")
    assert resp.status_code == 422 and "extends itself in a loop" in _page(resp)
    assert "Kịch bản hợp lệ." in _page(client.get("/scenarios/up-child"))


def test_upload_names_must_be_free(client: FlaskClient, with_default: Path) -> None:
    resp = _upload(client, _stored_yaml("ha-giang-2026"))
    assert resp.status_code == 422 and "một tệp trong thư mục kịch bản đã có tên này" in _page(
        resp)
    assert _upload(client, _stored_yaml()).status_code == 303
    again = _upload(client, _stored_yaml().replace("Thử nghiệm", "Lần hai"))
    assert again.status_code == 422 and "đã có kịch bản lưu" in _page(again)
    replaced = _upload(client, _stored_yaml().replace("Thử nghiệm", "Lần hai"), replace="1")
    assert replaced.status_code == 303
    assert "Lần hai" in _page(client.get("/scenarios/up-tiny"))


# --- the form ------------------------------------------------------------------------------

def _form(page: str) -> dict[str, object]:
    """The form's fields as a browser would send them (ticked boxes only)."""
    fields: dict[str, object] = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or "csrf" in name.group(1):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                fields.setdefault(name.group(1), []).append(value.group(1))  # type: ignore
            continue
        fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


def test_form_shows_the_main_parameters(client: FlaskClient, with_default: Path) -> None:
    page = client.get("/scenarios/ha-giang-2026/edit").get_data(as_text=True)
    form = _form(page)
    assert form["vehicles[0].capacity_crates"] == "60" and form["vehicles[1].count"] == "1"
    assert form["vehicles[0].shift.start"] == "07:00"
    assert form["vehicles[0].max_driving_hours_per_day"] == "10.0"
    assert form["solver.time_limit_s"] == "20" and form["save_as"] == "ha-giang-2026-web"
    assert len(re.findall(r'name="stop" value="\d+"', page)) == 73
    assert len(form["stop"]) == 12  # type: ignore[arg-type]


def test_form_validation_shows_the_cli_problems_next_to_the_fields(
        client: FlaskClient, with_default: Path, tmp_path: Path) -> None:
    form = _form(client.get("/scenarios/ha-giang-2026/edit").get_data(as_text=True))
    form.update({"vehicles[0].capacity_crates": "-3", "vehicles[1].shift.end": "06:00",
                 "solver.time_limit_s": "abc", "action": "validate"})
    resp = client.post("/scenarios/ha-giang-2026/edit", data=form)
    assert resp.status_code == 422
    page = _page(resp)
    fields = set(re.findall(r'<span class="field-problem" data-field="([^"]+)"', page))
    assert {"vehicles[0].capacity_crates", "vehicles[1].shift",
            "solver.time_limit_s"} <= fields
    # The same text the CLI prints for the same YAML.
    cli = re.search(r'<pre class="cli" id="cli-text">(.*?)</pre>', page, re.S)
    assert cli is not None
    assert cli.group(1).startswith("error: 3 problems in scenario:")
    assert "ha-giang-2026-web.yaml (database): field `vehicles[0].capacity_crates` = -3: " \
           "Input should be greater than 0" in cli.group(1)
    # Next to the fields, in the page's language (the CLI text above stays English)
    beside = " ".join(re.findall(r'<span class="field-problem"[^>]*>(.*?)</span>', page))
    assert "phải lớn hơn 0" in beside and "giờ đóng (06:00) không sau giờ mở (07:00)" in beside
    assert "phải là một số" in beside and "greater than" not in beside
    assert "Input should" not in beside and "see docs" not in beside
    en = _page(client.post("/scenarios/ha-giang-2026/edit?lang=en", data=form))
    assert "must be greater than 0" in en and "the window closes (06:00)" in en
    # Nothing was stored, values typed stay in the form.
    assert 'value="-3"' in page
    with services_of(client.application).database.begin() as s:
        assert scenarios.list_scenarios(s) == []


def test_form_saves_a_file_scenario_as_a_stored_one(app: Flask, client: FlaskClient,
                                                    with_default: Path, tmp_path: Path) -> None:
    form = _form(client.get("/scenarios/ha-giang-2026/edit").get_data(as_text=True))
    stops = [c for c in form["stop"] if c != "00778"] + ["00694"]  # type: ignore[union-attr]
    form.update({"stop": stops, "vehicles[0].count": "2", "vehicles[0].capacity_crates": "40",
                 "vehicles[1].shift.start": "06:30", "solver.time_limit_s": "12",
                 "new_stop.deliver_crates": "7", "title": "Sửa trên web", "action": "validate"})
    ok = client.post("/scenarios/ha-giang-2026/edit", data=form)
    assert ok.status_code == 200 and "Kịch bản hợp lệ." in _page(ok)
    with services_of(app).database.begin() as s:
        assert scenarios.list_scenarios(s) == []  # validating stores nothing
    form["action"] = "save"
    resp = client.post("/scenarios/ha-giang-2026/edit", data=form)
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/scenarios/ha-giang-2026-web")
    with services_of(app).database.begin() as s:
        info = scenarios.get_scenario(s, "ha-giang-2026-web")
    data = yaml.safe_load(info.yaml_text)
    assert data["extends"] == "ha-giang-2026" and data["title"] == "Sửa trên web"
    assert data["vehicles"][0]["count"] == 2 and data["vehicles"][0]["capacity_crates"] == 40
    assert data["vehicles"][1]["shift"] == {"start": "06:30", "end": "17:00"}
    assert data["solver"] == {"time_limit_s": 12}
    codes = [s["commune_code"] for s in data["stops"]]
    assert "00778" not in codes and codes[-1] == "00694" and len(codes) == 12
    assert data["stops"][-1]["deliver_crates"] == 7
    assert data["stops"][0]["time_windows"]  # kept stops keep their settings
    # The stored text is valid for the CLI too, once its parent is beside it.
    (tmp_path / "ha-giang-2026").write_bytes(DEFAULT.read_bytes())
    (tmp_path / "web.yaml").write_text(info.yaml_text, encoding="utf-8")
    assert planner_main(["validate", str(tmp_path / "web.yaml")]) == 0
    # Saving again under a file's name is refused.
    form["save_as"] = "ha-giang-2026-landslide"
    again = client.post("/scenarios/ha-giang-2026/edit", data=form)
    assert again.status_code == 422 and 'data-field="name"' in _page(again)


def test_form_edits_a_stored_scenario_in_place(app: Flask, client: FlaskClient,
                                               with_default: Path) -> None:
    assert _upload(client, _stored_yaml()).status_code == 303
    form = _form(client.get("/scenarios/up-tiny/edit").get_data(as_text=True))
    assert "save_as" not in form and form["stop"] == ["00715", "00721"]
    form.update({"stop": ["00715"], "solver.time_limit_s": "5", "action": "save"})
    assert client.post("/scenarios/up-tiny/edit", data=form).status_code == 303
    with services_of(app).database.begin() as s:
        data = yaml.safe_load(scenarios.get_scenario(s, "up-tiny").yaml_text)
    assert data["extends"] == "ha-giang-2026" and data["name"] == "up-tiny"
    assert [s["commune_code"] for s in data["stops"]] == ["00715"]
    assert data["solver"] == {"time_limit_s": 5, "seed": 0}
    # A stop problem shows beside its commune's box.
    form.update({"stop": ["00715", "00721"], "action": "validate",
                 "new_stop.service_minutes": "5000"})
    resp = client.post("/scenarios/up-tiny/edit", data=form)
    page = _page(resp)
    assert resp.status_code == 422
    row = re.search(r'<li class="has-problem">.*?</li>', page, re.S)
    assert row and "00721" in row.group(0) and "stops[1].service_minutes" in row.group(0)


# --- solving ------------------------------------------------------------------------------

def test_solving_a_stored_scenario_gives_the_job_its_resolved_text(
        app: Flask, client: FlaskClient, with_default: Path) -> None:
    assert _upload(client, _stored_yaml()).status_code == 303
    resp = client.post("/scenarios/up-tiny/solve", data={"time_limit_s": "1"})
    assert resp.status_code == 303 and "/jobs/" in resp.headers["Location"]
    job_id = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    try:
        folder = Path(app.config["JOBS_DIR"]) / job_id
        text = (folder / "scenario.yaml").read_text(encoding="utf-8")
        assert text.startswith("# scenario up-tiny (database")
        solved = yaml.safe_load(text)
        assert "extends" not in solved and solved["name"] == "up-tiny"
        assert [s["commune_code"] for s in solved["stops"]] == ["00715", "00721"]
        assert solved["depots"][0]["id"] == "tv-ha-giang"  # from the file it extends
        with services_of(app).database.begin() as s:
            job = jobs.get_job(s, job_id)
        assert job is not None and job.started_by == "test-dispatcher"
        assert job.scenario_source == "database" and job.time_limit_s == 1
        page = client.get("/jobs").get_data(as_text=True)
        assert f'data-job="{job_id}"' in page and "test-dispatcher" in page
    finally:
        client.post(f"/jobs/{job_id}/cancel")


def test_solving_a_scenario_that_became_invalid_shows_why(app: Flask, client: FlaskClient,
                                                          with_default: Path) -> None:
    assert _upload(client, _stored_yaml()).status_code == 303
    with services_of(app).database.begin() as s:  # its parent is not there any more
        scenarios.save_scenario(s, name="up-tiny", user_id=None,
                                yaml_text=_stored_yaml(extends="gone"))
    resp = client.post("/scenarios/up-tiny/solve")
    assert resp.status_code == 422 and 'data-field="extends"' in _page(resp)
    assert not any(Path(app.config["JOBS_DIR"]).glob("*/job.json"))


def test_the_season_scenario_is_listed_viewed_and_offered_for_solving(
        client: FlaskClient, scenarios_dir: Path) -> None:
    shutil.copy(PROJECT_ROOT / "scenarios" / "ha-giang-2026-season.yaml", scenarios_dir)
    page = client.get("/scenarios").get_data(as_text=True)
    assert '<tr data-name="ha-giang-2026-season"' in page
    view = client.get("/scenarios/ha-giang-2026-season")
    assert view.status_code == 200
    text = view.get_data(as_text=True)
    assert "72" in text and "/scenarios/ha-giang-2026-season/solve" in text
    assert client.get("/scenarios/ha-giang-2026-season/edit").status_code == 200
