"""Web UI under load: 20 users reading plan pages, maps, sheets and PDFs while one solve runs
and another waits, against the old way of serving measured in the same run.

Two servers are started on loopback ports, each over its own copy of a plan folder
(default: the solved 12-stop fixture plan of ``tests/webui/data``), instance folder and
database, with the plan published as version 1:

* **old**: Flask's development server, no cache of drawn files (``serve --dev
  --derived-cache-mb 0``: every PDF drawn again for every request);
* **new**: ``python -m webui serve`` as shipped (waitress, the cache of drawn files).

For each, two solves of the default scenario are started (``--max-jobs 1``: one solves at a
lower CPU priority, one waits), then ``--users`` threads, each logged in, read for
``--seconds`` seconds in turn: the home page, the published plan's page, its map, a route
sheet, a sheet PDF and the PDF of all sheets. Latencies are reported per kind as p50, p95
and p99 with the targets (pages p95 < 0.5 s, a cached PDF p95 < 1 s). Nothing but
127.0.0.1 is contacted; the run takes about ``2 * (seconds + 30)`` seconds.

    python -m benchmarks.webload [--users 20] [--seconds 40] [--plan DIR] [--only new]
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURE = PROJECT_ROOT / "tests" / "webui" / "data" / "ha-giang-2026"
SCENARIO = "ha-giang-2026"
USER, PASSWORD = "bench", "bench-password-1"
SERVERS = {"old": ["--dev", "--derived-cache-mb", "0"], "new": []}
KINDS = ("home page", "plan page", "map", "sheet page", "sheet PDF", "all sheets PDF")
TARGETS_P95_S = {"home page": 0.5, "plan page": 0.5, "map": 0.5, "sheet page": 0.5,
                 "sheet PDF": 1.0, "all sheets PDF": 1.0}
START_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "webui", *args, "--instance", str(self.root / "instance"),
                "--database-url", f"sqlite:///{self.root / 'planner.sqlite3'}",
                "--runs", str(self.root / "runs"),
                "--scenarios", str(PROJECT_ROOT / "scenarios")]

    def start(self, plan: Path, extra: list[str]) -> None:
        shutil.copytree(plan, self.root / "runs" / plan.name,
                        ignore=shutil.ignore_patterns("map*.html"))
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "PLANNER_INSTANCE_DIR")}
        env["PYTHONPATH"] = str(PROJECT_ROOT)
        subprocess.run(self.command("create-user", USER, "--role", "dispatcher", "--password",
                                    PASSWORD), env=env, cwd=PROJECT_ROOT, check=True,
                       capture_output=True, timeout=START_S)
        log = (self.root / "server.log").open("wb")
        self.process = subprocess.Popen(
            self.command("serve", "--host", "127.0.0.1", "--port", str(self.port),
                         "--max-jobs", "1", *extra),
            env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_S
        while True:
            try:
                with urllib.request.urlopen(self.base + "/static/style.css", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} server did not start; see "
                                       f"{self.root / 'server.log'}") from None
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Browser:
    """One logged-in user (cookies, the CSRF token of the pages)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = ""

    def get(self, path: str) -> bytes:
        with self.opener.open(self.base + path, timeout=120) as resp:
            return bytes(resp.read())

    def post(self, path: str, data: dict[str, str]) -> str:
        body = urllib.parse.urlencode({**data, "csrf_token": self.token}).encode()
        with self.opener.open(urllib.request.Request(self.base + path, data=body),
                              timeout=120) as resp:
            return str(resp.geturl())

    def log_in(self) -> None:
        page = self.get("/login").decode()
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        self.post("/login", {"username": USER, "password": PASSWORD})
        page = self.get("/").decode()
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)  # the solves' states during the reads
    lock: threading.Lock = field(default_factory=threading.Lock)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def run_server(name: str, root: Path, plan: Path, users: int, seconds: float) -> Results:
    server = Server(name, root / name, free_port())
    results = Results()
    admin: Browser | None = None
    job_ids: list[str] = []
    try:
        server.start(plan, SERVERS[name])
        admin = Browser(server.base)
        admin.log_in()
        version = admin.post(f"/plans/{plan.name}/publish", {"note": "bench"}).rsplit("/", 1)[1]
        vehicle = re.search(r"/sheet/([^/?\"]+)\?", admin.get(f"/plans/{version}").decode())
        assert vehicle is not None, "no route sheet link on the plan page"
        paths = {"home page": "/", "plan page": f"/plans/{version}",
                 "map": f"/plans/{version}/map", "sheet page": f"/plans/{version}/sheet/"
                 f"{vehicle.group(1)}", "sheet PDF": f"/plans/{version}/sheet/"
                 f"{vehicle.group(1)}.pdf", "all sheets PDF": f"/plans/{version}/sheets.pdf"}
        for path in paths.values():  # drawn once before measuring: the map of each
            admin.get(path)
        for _ in range(2):  # one solve runs, one waits for the solver slot
            job_ids.append(admin.post("/jobs", {"scenario": SCENARIO,
                                                "time_limit_s": str(seconds + 60)})
                           .rstrip("/").rsplit("/", 1)[1])
        browsers = [Browser(server.base) for _ in range(users)]
        for b in browsers:
            b.log_in()
        end = time.monotonic() + seconds

        def read(i: int, b: Browser) -> None:
            n = i
            while time.monotonic() < end:
                kind = KINDS[n % len(KINDS)]
                n += 1
                t0 = time.perf_counter()
                try:
                    b.get(paths[kind])
                except (urllib.error.URLError, OSError) as exc:
                    with results.lock:
                        results.errors.append(f"{kind}: {exc}")
                    continue
                with results.lock:
                    results.times[kind].append(time.perf_counter() - t0)

        threads = [threading.Thread(target=read, args=(i, b)) for i, b in enumerate(browsers)]
        for t in threads:
            t.start()
        time.sleep(min(5.0, seconds / 2))
        results.jobs = [json.loads(admin.get(f"/jobs/{j}/status.json"))["status"]
                        for j in job_ids]
        for t in threads:
            t.join()
    finally:
        for job_id in job_ids if admin is not None else ():
            with contextlib.suppress(urllib.error.URLError, OSError):  # workers outlive
                admin.post(f"/jobs/{job_id}/cancel", {})               # the server: stop them
        server.stop()
    return results


def report(all_results: dict[str, Results], users: int, seconds: float) -> int:
    print(f"\n{users} users for {seconds:.0f} s each, one solve running and one waiting; "
          "latency in seconds")
    print(f"{'':16}" + "".join(f"{name + ' p50':>10}{'p95':>8}{'p99':>8}{'n':>6}"
                                for name in all_results))
    missed = 0
    for kind in KINDS:
        line = f"{kind:16}"
        for res in all_results.values():
            t = res.times[kind]
            line += (f"{percentile(t, 50):10.3f}{percentile(t, 95):8.3f}"
                     f"{percentile(t, 99):8.3f}{len(t):6d}")
        new = all_results.get("new")
        if new is not None:
            p95 = percentile(new.times[kind], 95)
            ok = p95 < TARGETS_P95_S[kind]
            missed += not ok
            line += f"   target p95 < {TARGETS_P95_S[kind]} s: {'met' if ok else 'MISSED'}"
        print(line)
    for name, res in all_results.items():
        print(f"{name}: solves during the reads: {', '.join(res.jobs) or 'unknown'}")
        if res.errors:
            print(f"{name}: {len(res.errors)} failed requests, e.g. {res.errors[0]}")
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webload",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--plan", type=Path, default=FIXTURE,
                        help="a plan folder to serve (default: the 12-stop fixture plan)")
    parser.add_argument("--only", choices=tuple(SERVERS), default=None)
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the servers' folders (logs) here")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="webload-"))
    try:
        results = {name: run_server(name, root, args.plan.resolve(), args.users, args.seconds)
                   for name in SERVERS if args.only in (None, name)}
        return report(results, args.users, args.seconds)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
