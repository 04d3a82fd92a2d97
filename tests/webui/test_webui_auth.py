"""Login, logout, roles and permissions, CSRF protection, upload limits and the user
commands of ``python -m webui``."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from webui_testkit import FIXTURE_RUN, PROJECT_ROOT
from webui_userkit import TEST_PASSWORD, ensure_user, tie_vehicles

from storage import users
from storage.db import head_revision
from storage.models import LoginFailure
from webui.__main__ import (
    _with_default_command,
    ensure_demo_fleet,
    ensure_demo_registry,
    ensure_demo_user,
    main,
)
from webui.auth import PERMISSIONS, permission_for_request, role_can
from webui.services import services_of

VEHICLE = "xe-tv-01"


def _login(client: FlaskClient, username: str, password: str, *, lang: str = "vi",
           **extra: str):  # type: ignore[no-untyped-def]
    return client.post(f"/login?lang={lang}",
                       data={"username": username, "password": password, **extra})


# --- anonymous users -----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", f"/plans/{FIXTURE_RUN}", "/jobs", "/versions",
                                  f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}", "/no-such-page"])
def test_anonymous_users_are_sent_to_the_login_page(anon_client: FlaskClient,
                                                    path: str) -> None:
    resp = anon_client.get(path)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


def test_login_page_and_static_files_are_public(anon_client: FlaskClient) -> None:
    page = anon_client.get("/login?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="csrf_token"' in html and 'name="password"' in html
    assert anon_client.get("/static/style.css").status_code == 200


def test_anonymous_post_is_refused(anon_client: FlaskClient) -> None:
    resp = anon_client.post(f"/plans/{FIXTURE_RUN}/publish")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


# --- login and logout ----------------------------------------------------------------------

def test_login_with_the_right_password_then_logout(app: Flask, anon_client: FlaskClient) -> None:
    ensure_user(app, "lan", "viewer")
    resp = _login(anon_client, "lan", TEST_PASSWORD, next=f"/plans/{FIXTURE_RUN}")
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"/plans/{FIXTURE_RUN}"
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = anon_client.get("/?lang=en").get_data(as_text=True)
    assert "lan" in page and "viewer" in page and "Log out" in page
    assert anon_client.get("/logout").status_code == 405  # no logging out by a link
    assert anon_client.post("/logout").status_code == 303
    assert anon_client.get("/").status_code == 302


@pytest.mark.parametrize("username, password", [("lan", "wrong-password"),
                                                ("nobody", TEST_PASSWORD),
                                                ("", "")])
def test_login_failure(app: Flask, anon_client: FlaskClient, username: str,
                       password: str) -> None:
    ensure_user(app, "lan", "viewer")
    resp = _login(anon_client, username, password, lang="en")
    assert resp.status_code == 401
    assert "Wrong user name or password" in resp.get_data(as_text=True)
    assert anon_client.get("/").status_code == 302


def test_switched_off_users_cannot_log_in_and_are_logged_out(app: Flask,
                                                            anon_client: FlaskClient) -> None:
    ensure_user(app, "lan", "viewer")
    assert _login(anon_client, "lan", TEST_PASSWORD).status_code == 303
    assert anon_client.get("/").status_code == 200
    with services_of(app).database.begin() as s:
        users.update_user(s, "lan", active=False)
    assert anon_client.get("/").status_code == 302  # the next request
    assert _login(anon_client, "lan", TEST_PASSWORD).status_code == 401


def test_repeated_failed_logins_are_refused_for_a_while(app: Flask,
                                                        anon_client: FlaskClient) -> None:
    ensure_user(app, "lan", "viewer")
    ensure_user(app, "minh", "viewer")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _login(anon_client, "lan", "wrong-password").status_code == 401
    resp = _login(anon_client, "lan", TEST_PASSWORD, lang="en")  # even the right password
    assert resp.status_code == 429
    assert "Too many failed logins. Please try again in 15 minutes." in resp.get_data(
        as_text=True)
    assert anon_client.get("/").status_code == 302
    page = _login(anon_client, "lan", TEST_PASSWORD).get_data(as_text=True)
    assert "Đăng nhập sai quá nhiều lần" in page
    assert _login(anon_client, "minh", TEST_PASSWORD).status_code == 303  # another name
    # fifteen minutes later the name may try again, and logging in forgets its failures
    with services_of(app).database.begin() as s:
        for failure in s.scalars(select(LoginFailure)):
            failure.at -= dt.timedelta(minutes=15)
    assert _login(anon_client, "lan", TEST_PASSWORD).status_code == 303
    with services_of(app).database.begin() as s:
        assert s.scalar(select(func.count()).select_from(LoginFailure)
                        .where(LoginFailure.username == "lan")) == 0


def test_failed_logins_from_one_address_never_lock_out_the_others_there(
        app: Flask, anon_client: FlaskClient) -> None:
    """Everyone of a library's office comes from one address (behind one router): a name
    guessed there is blocked, the others there log in (before: 20 failures blocked all)."""
    ensure_user(app, "minh", "viewer")
    for i in range(30):  # guessing names from one address
        assert _login(anon_client, f"guess-{i}", "guess").status_code == 401
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _login(anon_client, "lan", "guess").status_code == 401
    assert _login(anon_client, "lan", "guess").status_code == 429
    assert _login(anon_client, "minh", TEST_PASSWORD).status_code == 303


def test_a_name_guessed_from_many_addresses_is_blocked(app: Flask) -> None:
    ensure_user(app, "minh", "viewer")
    app.config["LOGIN_MAX_FAILURES_PER_NAME"] = 4
    for i in range(4):
        client = app.test_client(user=None)
        resp = client.post("/login", data={"username": "minh", "password": "guess"},
                           environ_base={"REMOTE_ADDR": f"10.1.2.{i}"})
        assert resp.status_code == 401
    resp = app.test_client(user=None).post(
        "/login", data={"username": "minh", "password": TEST_PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert resp.status_code == 429


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_to_another_site(app: Flask, anon_client: FlaskClient,
                                                target: str) -> None:
    ensure_user(app, "lan", "viewer")
    resp = _login(anon_client, "lan", TEST_PASSWORD, next=target)
    assert resp.status_code == 303 and resp.headers["Location"] == "/"


# --- CSRF ----------------------------------------------------------------------------------

def test_posts_without_the_csrf_token_are_refused(client_as: Callable[..., FlaskClient],
                                                  scenarios_dir: Path) -> None:
    client = client_as("dispatcher", csrf=False)
    client.get("/")
    resp = client.post("/jobs?lang=en", data={"scenario": "x"})
    assert resp.status_code == 400
    assert "CSRF" in resp.get_data(as_text=True)
    resp = client.post("/jobs", data={"scenario": "x", "csrf_token": "forged"})
    assert resp.status_code == 400
    assert client.post(f"/plans/{FIXTURE_RUN}/publish").status_code == 400
    assert client.post("/logout").status_code == 400


def test_the_token_works_as_form_field_and_header(client_as: Callable[..., FlaskClient]) -> None:
    client = client_as("dispatcher", csrf=False)
    client.get("/")
    token = client.csrf_token()  # type: ignore[attr-defined]
    # An unknown scenario is a 404: the request got past the CSRF check.
    assert client.post("/jobs", data={"scenario": "x", "csrf_token": token}).status_code == 404
    assert client.post("/jobs", data={"scenario": "x"},
                       headers={"X-CSRF-Token": token}).status_code == 404


def test_the_login_form_needs_the_token_too(app: Flask) -> None:
    ensure_user(app, "lan", "viewer")
    client = app.test_client(user=None, csrf=False)
    assert _login(client, "lan", TEST_PASSWORD).status_code == 400


def test_pages_carry_the_token(client: FlaskClient, scenarios_dir: Path) -> None:
    (scenarios_dir / "tiny.yaml").write_text("name: tiny\n", encoding="utf-8")
    page = client.get("/jobs").get_data(as_text=True)
    assert '<meta name="csrf-token" content="' in page
    assert page.count('name="csrf_token"') >= 2  # the job form and the logout form


def test_logging_in_gives_a_new_token(app: Flask, anon_client: FlaskClient) -> None:
    ensure_user(app, "lan", "viewer")
    before = anon_client.csrf_token()  # type: ignore[attr-defined]
    assert _login(anon_client, "lan", TEST_PASSWORD).status_code == 303
    page = anon_client.get("/").get_data(as_text=True)
    after = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert after and after[1] != before


# --- roles ---------------------------------------------------------------------------------

def _publish_fixture(client: FlaskClient) -> str:
    resp = client.post(f"/plans/{FIXTURE_RUN}/publish")
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return resp.headers["Location"]


ALLOWED = {
    # role: (plan page, sheet, jobs page, versions, published version, its sheet)
    "dispatcher": (200, 200, 200, 200, 200, 200),
    "planner": (200, 200, 200, 200, 200, 200),
    "viewer": (200, 200, 403, 200, 200, 200),
    "driver": (403, 403, 403, 200, 200, 200),
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_what_each_role_may_read(client: FlaskClient, client_as: Callable[..., FlaskClient],
                                 role: str) -> None:
    version_url = _publish_fixture(client)
    c = client_as(role)
    codes = tuple(c.get(url).status_code for url in (
        f"/plans/{FIXTURE_RUN}", f"/plans/{FIXTURE_RUN}/sheet/{VEHICLE}", "/jobs",
        "/versions", version_url, f"{version_url}/sheet/{VEHICLE}"))
    assert codes == ALLOWED[role]
    home = c.get("/?lang=en")
    assert home.status_code == 200
    assert ("All plans" in home.get_data(as_text=True)) == (role != "driver")


@pytest.mark.parametrize("role, publish, outcome, solve", [
    ("dispatcher", 303, 303, 404), ("planner", 403, 403, 404),
    ("driver", 403, 303, 403), ("viewer", 403, 403, 403)])
def test_what_each_role_may_do(client: FlaskClient, client_as: Callable[..., FlaskClient],
                               fixture_plan, role: str, publish: int, outcome: int,  # type: ignore[no-untyped-def]
                               solve: int) -> None:
    version_url = _publish_fixture(client)
    key = version_url.rsplit("/", 1)[1]
    c = client_as(role)
    route = next(r for r in fixture_plan.routes if r.visits)
    if role == "driver":  # a driver records for the vehicles tied to them (test_webui_fleet)
        tie_vehicles(client.application, "driver-user", route.vehicle_id)
    assert c.post(f"/plans/{FIXTURE_RUN}/publish").status_code == publish
    assert c.post(f"/versions/{key}/outcomes",
                  data={"vehicle_id": route.vehicle_id, "stop_seq": route.visits[0].seq,
                        "status": "done"}).status_code == outcome
    # 404: allowed, but there is no such scenario
    assert c.post("/jobs", data={"scenario": "no-such"}).status_code == solve


def test_forbidden_page_names_the_role(client_as: Callable[..., FlaskClient]) -> None:
    resp = client_as("viewer").get("/jobs?lang=en")
    assert resp.status_code == 403
    text = resp.get_data(as_text=True)
    assert "Forbidden" in text and "viewer" in text


def test_navigation_follows_the_role(client_as: Callable[..., FlaskClient]) -> None:
    assert 'href="/jobs"' in client_as("planner").get("/").get_data(as_text=True)
    assert 'href="/jobs"' not in client_as("viewer").get("/").get_data(as_text=True)


def test_views_nobody_declared_need_read_to_look_and_edit_to_change(app: Flask) -> None:
    app.add_url_rule("/undeclared", "undeclared", lambda: "ok", methods=["GET", "POST"])
    viewer = app.test_client(user="v", role="viewer")
    dispatcher = app.test_client()
    assert viewer.get("/undeclared").status_code == 200
    assert viewer.post("/undeclared").status_code == 403
    assert dispatcher.post("/undeclared").status_code == 200
    with app.test_request_context("/undeclared", method="POST"):
        from flask import request

        request.url_rule = app.url_map.bind("").match("/undeclared", method="POST",
                                                       return_rule=True)[0]
        assert permission_for_request() == "edit"


def test_the_permission_table() -> None:
    assert role_can("dispatcher", "publish") and not role_can("planner", "publish")
    assert role_can("driver", "record_outcome") and not role_can("driver", "read_plans")
    assert role_can("viewer", "read") and not role_can("viewer", "solve")
    assert all(role_can("dispatcher", p) for p in PERMISSIONS)
    with pytest.raises(KeyError):
        role_can("viewer", "fly")


# --- limits --------------------------------------------------------------------------------

def test_large_requests_are_refused(client: FlaskClient) -> None:
    big = io.BytesIO(b"x" * (3 * 1024 * 1024))
    resp = client.post("/jobs", data={"scenario": "x", "file": (big, "big.yaml")},
                       content_type="multipart/form-data")
    assert resp.status_code == 413


# --- python -m webui -----------------------------------------------------------------------

def _cli(tmp_path: Path, *args: str) -> int:
    return main([*args, "--instance", str(tmp_path / "inst"), "--runs", str(tmp_path / "runs")])


def test_cli_user_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(tmp_path, "create-user", "lan", "--role", "driver",
                "--password", "password-1") == 0
    assert _cli(tmp_path, "create-admin", "--password", "password-2") == 0
    assert _cli(tmp_path, "create-user", "lan", "--role", "viewer",
                "--password", "password-1") == 1
    assert "exists already" in capsys.readouterr().err
    assert _cli(tmp_path, "create-user", "minh", "--role", "viewer", "--password", "short") == 1
    assert _cli(tmp_path, "set-password", "lan", "--password", "password-3") == 0
    assert _cli(tmp_path, "set-role", "lan", "--role", "viewer", "--deactivate") == 0
    capsys.readouterr()
    assert _cli(tmp_path, "list-users") == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [["admin", "dispatcher", "active"],
                                                         ["lan", "viewer", "off"]]
    assert _cli(tmp_path, "upgrade-db") == 0
    assert f"schema {head_revision()}" in capsys.readouterr().out


def test_serve_stays_the_default_command() -> None:
    assert _with_default_command(["--runs", "runs", "--port", "5000"])[0] == "serve"
    assert _with_default_command([]) == ["serve"]
    assert _with_default_command(["create-user", "x"])[0] == "create-user"


def test_demo_user_is_made_once(app: Flask) -> None:
    with services_of(app).database.begin() as s:
        assert users.count_users(s) == 0
    made = ensure_demo_user(app, password="demo-password")
    assert made == ("demo", "demo-password")
    assert ensure_demo_user(app) is None
    client = app.test_client(user=None)
    assert _login(client, "demo", "demo-password").status_code == 303


def test_the_demo_imports_its_book_batches_once(tmp_path: Path) -> None:
    from webui import create_app

    app = create_app({"RUNS_DIR": tmp_path / "runs", "JOBS_DIR": tmp_path / "jobs",
                      "SCENARIOS_DIR": PROJECT_ROOT / "scenarios", "TESTING": True,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
                     instance_path=tmp_path / "inst")
    assert ensure_demo_registry(app) is None  # no demo user: nothing imported
    ensure_demo_user(app)
    imported = ensure_demo_registry(app)
    assert imported is not None and imported.startswith("40 book batches")
    assert ensure_demo_registry(app) is None
    assert ensure_demo_fleet(app) == ("xe-tv-01", "xe-van-02")  # the fleet, once
    assert ensure_demo_fleet(app) == ()
    page = app.test_client().get("/batches?at=commune").get_data(as_text=True)
    assert page.count('data-place="commune"') >= 12  # every commune holds a batch
    services_of(app).database.dispose()


def test_demo_user_gets_a_random_password(tmp_path: Path) -> None:
    from webui import create_app

    app = create_app({"RUNS_DIR": tmp_path / "runs", "JOBS_DIR": tmp_path / "jobs",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
                     instance_path=tmp_path / "inst")
    made = ensure_demo_user(app)
    assert made is not None and made[0] == "demo" and len(made[1]) >= 12
    services_of(app).database.dispose()
