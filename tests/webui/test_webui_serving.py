"""How the app is served: ``python -m webui serve`` runs waitress (Flask's development server
only with ``--dev``), and solve workers run at a lower CPU priority than the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import webui.worker
from webui.__main__ import main


def _serve_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["serve", "--instance", str(tmp_path / "instance"),
            "--database-url", f"sqlite:///{tmp_path / 'planner.sqlite3'}",
            "--runs", str(tmp_path / "runs"), "--scenarios", str(tmp_path / "scenarios"),
            "--port", "5999", *extra]


def test_serve_runs_waitress_and_dev_runs_flask(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import waitress

    served: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(waitress, "serve",
                        lambda app, **kw: served.append(("waitress", {"app": app, **kw})))
    monkeypatch.setattr(Flask, "run", lambda self, **kw: served.append(("flask", kw)))
    assert main(_serve_args(tmp_path, "--trusted-proxies", "1", "--https")) == 0
    assert [s[0] for s in served] == ["waitress"]
    app = served[0][1]["app"]
    assert served[0][1]["port"] == 5999 and served[0][1]["threads"] == 8
    assert app.config["TRUSTED_PROXIES"] == 1 and app.config["HTTPS"] is True
    assert main(_serve_args(tmp_path, "--dev")) == 0
    assert [s[0] for s in served] == ["waitress", "flask"]


def test_the_worker_lowers_its_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    niced: list[int] = []
    monkeypatch.setattr(webui.worker.os, "nice", lambda n: niced.append(n) or n)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert webui.worker.main(["no-such-job"]) == 2  # stops at the missing database URL
    assert niced == [webui.worker.WORKER_NICE] and webui.worker.WORKER_NICE > 0
