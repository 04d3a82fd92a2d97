"""Helpers of the end-to-end tests (a uniquely named module, importable from the tests and
the conftest whatever pytest's import mode): the server process, the logged-in page, the
artefacts folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for _p in (str(ROOT), str(ROOT / "tests" / "webui")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
USERNAME = "e2e-dispatcher"
PASSWORD = "e2e-password-Ha-Giang"
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS") or HERE / "artifacts")
SERVER_START_S = 90


@dataclass
class Server:
    base_url: str
    root: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def log_tail(self, n: int = 40) -> str:
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-n:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def webui_command(*args: str, root: Path) -> list[str]:
    return [sys.executable, "-m", "webui", *args, "--instance", str(root / "instance"),
            "--database-url", f"sqlite:///{root / 'planner.sqlite3'}",
            "--runs", str(root / "runs"), "--scenarios", str(root / "scenarios"),
            "--jobs", str(root / "jobs")]


def webui_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "PLANNER_INSTANCE_DIR")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    return env


def can_log_in() -> bool:
    """Whether this version of the app has accounts (``python -m webui create-user``)."""
    return (ROOT / "webui" / "auth.py").is_file()


@dataclass
class Visit:
    """A logged-in browser page and the requests to other hosts it tried (all blocked)."""

    page: Any
    server: Server
    blocked: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.server.url(path))

    def screenshot(self, name: str, element: Any = None) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        (element or self.page).screenshot(path=str(path), **({} if element else
                                                            {"full_page": True}))
        print(f"e2e artefact: {path}")
        return path


def page_as(visit: Visit, username: str, password: str, *, role: str) -> Any:
    """A second browser page, logged in through the form as ``username`` (an account of
    ``role``, made now unless it exists), with every request outside the server blocked and
    recorded in ``visit.blocked``, as the visit's own."""
    import subprocess

    made = subprocess.run(webui_command("create-user", username, "--role", role, "--password",
                                        password, root=visit.server.root),
                          env=webui_env(), cwd=visit.server.root, capture_output=True,
                          text=True, timeout=120, check=False)
    assert made.returncode == 0 or "exists" in made.stderr + made.stdout, made.stderr
    context = visit.page.context.browser.new_context(viewport={"width": 1366, "height": 900},
                                                     locale="vi-VN")
    context.set_default_timeout(30_000)

    def only_local(route: Any) -> None:
        if route.request.url.startswith(visit.server.base_url):
            route.continue_()
        else:
            visit.blocked.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto(visit.server.url("/login"))
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    with page.expect_navigation():
        page.click('form.login-form button[type="submit"]')
    assert "/login" not in page.url
    return page
