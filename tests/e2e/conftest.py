"""End-to-end tests in headless Chromium: the real app served on a free localhost port,
driven by Playwright through Debian's ``/usr/bin/chromium``.

* The server is ``python -m webui serve`` in a subprocess, over a temporary instance folder,
  database, runs folder (a copy of the solved fixture plan of ``tests/webui/data``) and
  scenarios folder (a two-stop scenario that solves in seconds).
* A dispatcher account is made with ``python -m webui create-user`` and every test logs in
  through the login form, like a person would.
* Every request to a host other than 127.0.0.1/localhost is blocked and recorded; a test
  fails if its pages tried any (the offline promise: no CDN, no tiles by default).
* Screenshots (and a PDF print of the sheet) go to ``tests/e2e/artifacts/`` (or
  ``$E2E_ARTIFACTS``), printed at the end of the run.
* Playwright's own browser downloads are never used; ``tests/e2e/install-chromium.sh``
  installs Debian's ``chromium`` (the ``make test`` target calls it). Without Chromium or
  Playwright the tests skip, and under ``CI=true`` a skipped test here fails the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

# e2e_kit puts the project and tests/webui on sys.path.
from e2e_kit import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    HERE,
    LOCAL_HOSTS,
    PASSWORD,
    SERVER_START_S,
    USERNAME,
    Server,
    Visit,
    can_log_in,
    free_port,
    webui_command,
    webui_env,
)
from webui_testkit import FIXTURE_DIR, FIXTURE_RUN, FIXTURE_TODAY, tiny_scenario_yaml


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test in headless Chromium "
                                       "(skipped without Chromium; a skip fails under CI=true)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Under ``CI=true`` a skipped browser test is a failure: CI must run them."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if (report.skipped and not hasattr(report, "wasxfail")
            and os.environ.get("CI") == "true" and item.get_closest_marker("e2e")):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (f"browser test skipped under CI=true ({reason}); install Chromium "
                           "with tests/e2e/install-chromium.sh and Playwright with "
                           "pip install -e '.[test]'")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if ARTIFACTS.is_dir() and any(ARTIFACTS.iterdir()):
        terminalreporter.write_line(f"e2e artefacts (screenshots, sheet PDF): {ARTIFACTS}")


# --- the server ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("e2e")
    shutil.copytree(FIXTURE_DIR, root / "runs" / FIXTURE_RUN,
                    ignore=shutil.ignore_patterns("map*.html"))
    (root / "scenarios").mkdir()
    (root / "scenarios" / "tiny.yaml").write_text(tiny_scenario_yaml(time_limit_s=2),
                                                  encoding="utf-8")
    if can_log_in():
        made = subprocess.run(webui_command("create-user", USERNAME, "--role", "dispatcher",
                                            "--password", PASSWORD, root=root),
                              env=webui_env(), cwd=root, capture_output=True, text=True,
                              timeout=120, check=False)
        assert made.returncode == 0, made.stderr + made.stdout
    port = free_port()
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            webui_command("serve", "--host", "127.0.0.1", "--port", str(port),
                          "--today", FIXTURE_TODAY, root=root),
            env=webui_env(), cwd=root, stdout=log, stderr=subprocess.STDOUT)
    srv = Server(f"http://127.0.0.1:{port}", root, process, log_path)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the web UI server exited ({process.returncode}):\n"
                            f"{srv.log_tail()}")
            try:
                with urllib.request.urlopen(srv.url("/static/style.css"), timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"the web UI server did not answer in {SERVER_START_S} s:\n"
                                f"{srv.log_tail()}")
                time.sleep(0.3)
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (run tests/e2e/install-chromium.sh)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def visit(browser: Any, server: Server) -> Iterator[Visit]:
    """A fresh browser context (no cookies), logged in as a dispatcher, with every request
    outside localhost blocked."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    context.set_default_timeout(30_000)
    v = Visit(context.new_page(), server)

    def only_local(route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOCAL_HOSTS:
            route.continue_()
        else:
            v.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", only_local)
    try:
        if can_log_in():
            v.goto("/login")
            v.page.fill('input[name="username"]', USERNAME)
            v.page.fill('input[name="password"]', PASSWORD)
            with v.page.expect_navigation():
                v.page.click('form.login-form button[type="submit"]')
            assert "/login" not in v.page.url, v.page.content()[:2000]
        yield v
        assert v.blocked == [], f"requests outside localhost were attempted: {v.blocked}"
    finally:
        context.close()
