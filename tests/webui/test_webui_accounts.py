"""Sessions and accounts: sessions end on the server (logout, a new password, a user switched
off), ``Secure`` cookies and HSTS over HTTPS, the instance folder readable by its owner only,
drivers see published plans only, and publishing an unchanged plan makes no new version."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from webui_testkit import FIXTURE_RUN, tiny_scenario_yaml, wait_for
from webui_userkit import TEST_PASSWORD, ensure_user

from storage import users
from webui import create_app
from webui.services import services_of

VEHICLE = "xe-tv-01"


def _log_in(app: Flask, name: str = "lan", role: str = "dispatcher") -> FlaskClient:
    ensure_user(app, name, role)
    client = app.test_client(user=None)
    resp = client.post("/login", data={"username": name, "password": TEST_PASSWORD})
    assert resp.status_code == 303
    return client


def _cookie(client: FlaskClient, app: Flask) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    """A new client holding a copy of a session cookie (as someone who captured it)."""
    other = app.test_client(user=None)
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return other


# --- sessions end on the server ---------------------------------------------------------------

def test_a_cookie_captured_before_logout_no_longer_works(app: Flask) -> None:
    client = _log_in(app)
    captured = _cookie(client, app)
    assert _with_cookie(app, captured).get("/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert _with_cookie(app, captured).get("/").status_code == 302  # to the login page
    assert client.get("/").status_code == 302


def test_a_new_password_or_switching_a_user_off_ends_their_sessions(app: Flask) -> None:
    first, second = _log_in(app), _log_in(app)
    cookies = [_cookie(first, app), _cookie(second, app)]
    minh = _log_in(app, "minh")
    with services_of(app).database.begin() as s:
        users.set_password(s, "lan", "a-new-password", hash_method="pbkdf2:sha256:1000")
    assert [_with_cookie(app, c).get("/").status_code for c in cookies] == [302, 302]
    assert minh.get("/").status_code == 200  # another user's session goes on
    captured = _cookie(minh, app)
    with services_of(app).database.begin() as s:
        users.update_user(s, "minh", active=False)
    with services_of(app).database.begin() as s:
        users.update_user(s, "minh", active=True)  # switched on again: the old cookie stays dead
    assert _with_cookie(app, captured).get("/").status_code == 302


def test_sessions_last_session_max_age_hours(app: Flask) -> None:
    client = _log_in(app)
    assert client.get("/").status_code == 200
    app.config["SESSION_MAX_AGE_HOURS"] = 0
    assert client.get("/").status_code == 302


# --- HTTPS ---------------------------------------------------------------------------------

def _login_response(app: Flask, **kwargs: object):  # type: ignore[no-untyped-def]
    ensure_user(app, "lan", "viewer")
    return app.test_client(user=None).post(
        "/login", data={"username": "lan", "password": TEST_PASSWORD}, **kwargs)


def test_secure_cookies_and_hsts_follow_https(app: Flask) -> None:
    plain = _login_response(app)
    assert "Secure" not in plain.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in plain.headers
    secure = _login_response(app, base_url="https://planner.example")
    assert "; Secure" in secure.headers["Set-Cookie"]
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    app.config["HTTPS"] = True  # one setting: always
    always = _login_response(app)
    assert "; Secure" in always.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in always.headers


def test_behind_a_trusted_proxy_its_scheme_and_address_count(
        runs_dir: Path, scenarios_dir: Path, tmp_path: Path, database_url: str) -> None:
    app = create_app({"TESTING": True, "RUNS_DIR": runs_dir, "SCENARIOS_DIR": scenarios_dir,
                      "DATABASE_URL": database_url, "SECRET_KEY": "k" * 40,
                      "TRUSTED_PROXIES": 1}, instance_path=tmp_path / "instance")
    try:
        resp = _login_response(app, headers={"X-Forwarded-Proto": "https",
                                             "X-Forwarded-For": "10.9.8.7"})
        assert "; Secure" in resp.headers["Set-Cookie"]
        assert "Strict-Transport-Security" in resp.headers
    finally:
        services_of(app).database.dispose()
    # without TRUSTED_PROXIES the header is ignored (a client could send it)
    assert "Secure" not in _login_response(
        create_app({"TESTING": True, "RUNS_DIR": runs_dir, "SCENARIOS_DIR": scenarios_dir,
                    "DATABASE_URL": database_url, "SECRET_KEY": "k" * 40},
                   instance_path=tmp_path / "instance"),
        headers={"X-Forwarded-Proto": "https"}).headers["Set-Cookie"]


# --- the instance folder --------------------------------------------------------------------

def _readable_by_others(root: Path) -> list[str]:
    out = []
    for folder, _dirs, files in os.walk(root):
        for path in (Path(folder), *(Path(folder) / f for f in files)):
            if stat.S_IMODE(path.lstat().st_mode) & 0o077:
                out.append(f"{oct(stat.S_IMODE(path.lstat().st_mode))} {path.relative_to(root)}")
    return out


def test_everything_in_the_instance_folder_is_readable_by_its_owner_only(
        runs_dir: Path, scenarios_dir: Path, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    (instance / "planner.sqlite3").touch(mode=0o644)  # as earlier versions left it
    (scenarios_dir / "tiny.yaml").write_text(tiny_scenario_yaml(), encoding="utf-8")
    app = create_app({"TESTING": True, "RUNS_DIR": runs_dir, "SCENARIOS_DIR": scenarios_dir,
                      "DATABASE_URL": f"sqlite:///{instance / 'planner.sqlite3'}",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}, instance_path=instance)
    try:
        client = app.test_client()
        version = client.post(f"/plans/{FIXTURE_RUN}/publish").headers["Location"]
        key = version.rsplit("/", 1)[-1].replace("%40", "@")
        for url in (f"/plans/{key}", f"/plans/{key}/map", f"/plans/{key}/sheet/{VEHICLE}.pdf",
                    f"/plans/{key}/export.xlsx"):
            assert client.get(url).status_code == 200, url
        job = client.post("/jobs", data={"scenario": "tiny"}).headers["Location"]
        job_id = job.rstrip("/").rsplit("/", 1)[-1]
        jobs = services_of(app).jobs
        assert wait_for(lambda: jobs.status(job_id).worker_pid is not None, timeout_s=20)
        client.post(f"/jobs/{job_id}/cancel")
        assert wait_for(lambda: not jobs.status(job_id).active, timeout_s=20)
        assert (instance / "planner.sqlite3-wal").exists()
        assert _readable_by_others(instance) == []
    finally:
        services_of(app).database.dispose()


# --- drivers read published plans only ------------------------------------------------------

def test_drivers_see_no_draft_names_nor_unpublished_scenarios(
        app: Flask, client: FlaskClient, client_as: Callable[..., FlaskClient],
        scenarios_dir: Path) -> None:
    (scenarios_dir / "secret-draft.yaml").write_text(
        tiny_scenario_yaml(name="secret-draft").replace('"00715"', '"00733"'), encoding="utf-8")
    key = client.post(f"/plans/{FIXTURE_RUN}/publish").headers["Location"].rsplit("/", 1)[-1]
    key = key.replace("%40", "@")
    driver = client_as("driver")
    versions = driver.get("/versions").get_data(as_text=True)
    assert key.split("@")[0] in versions and f">{FIXTURE_RUN}<" not in versions
    assert f">{FIXTURE_RUN}<" in client.get("/versions").get_data(as_text=True)
    assert driver.get("/communes?scenario=secret-draft").status_code == 404
    assert client.get("/communes?scenario=secret-draft").status_code == 200
    page = driver.get("/communes").get_data(as_text=True)
    assert "secret-draft" not in page and 'value="ha-giang-2026" selected' in page
    library = driver.get("/communes/00733").get_data(as_text=True)
    assert "secret-draft" not in library
    assert "secret-draft" in client.get("/communes/00733").get_data(as_text=True)


# --- publishing --------------------------------------------------------------------------------

def test_publishing_an_unchanged_plan_makes_no_new_version(
        app: Flask, client: FlaskClient, runs_dir: Path) -> None:
    first = client.post(f"/plans/{FIXTURE_RUN}/publish")
    again = client.post(f"/plans/{FIXTURE_RUN}/publish")
    assert first.headers["Location"].endswith("@v1")
    assert again.status_code == 303 and "@v1?unchanged=1" in again.headers["Location"]
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert 'id="publish-unchanged"' in page
    path = runs_dir / FIXTURE_RUN / "plan.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["created_at"] = "2026-12-01T08:00:00+07:00"  # changed: a new version
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert client.post(f"/plans/{FIXTURE_RUN}/publish").headers["Location"].endswith("@v2")
