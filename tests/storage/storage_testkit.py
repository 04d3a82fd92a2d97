"""Constants and helpers shared by the storage tests (a uniquely named module, so that it
imports the same way whatever pytest's import mode and whichever other test folders run)."""

from __future__ import annotations

import json
from pathlib import Path

from storage import Database
from storage.plans import VersionInfo, publish
from storage.users import create_user

ROOT = Path(__file__).resolve().parents[2]
# written by ``planner solve scenarios/ha-giang-2026.yaml`` (see tests/webui/conftest.py)
PLAN_FILE = ROOT / "tests" / "webui" / "data" / "ha-giang-2026" / "plan.json"
FAST_HASH = "pbkdf2:sha256:1000"  # test users only: scrypt would take a second each


def make_user(db: Database, name: str = "dispatcher", role: str = "dispatcher") -> int:
    """Add user ``name`` with password ``password-1``; returns its id."""
    with db.begin() as s:
        return create_user(s, username=name, password="password-1", role=role,
                           hash_method=FAST_HASH).id


def publish_version(db: Database, plan_text: str, user_id: int, *, name: str = "run-a",
                    routes: bytes | None = None) -> VersionInfo:
    """Publish ``plan_text`` as plan folder ``name`` (as the web UI does)."""
    return publish(db, plan_name=name, user_id=user_id, plan_text=plan_text,
                   routes_geojson=routes, folder=f"/runs/{name}")


def other_series(plan_text: str, name: str) -> str:
    """``plan_text`` with the scenario named ``name`` (another series of versions)."""
    data = json.loads(plan_text)
    data["scenario"]["name"] = name
    return json.dumps(data, ensure_ascii=False)


def changed(plan_text: str, n: int) -> str:
    """``plan_text`` made at another time (``n`` minutes later): the same plan, another digest,
    so that publishing it makes a new version."""
    data = json.loads(plan_text)
    data["created_at"] = f"2026-12-01T08:{n:02d}:00+07:00"
    return json.dumps(data, ensure_ascii=False)
