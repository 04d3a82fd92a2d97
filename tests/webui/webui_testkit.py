"""Constants and helpers shared by the web UI tests (a uniquely named module, so that it
imports the same way whatever pytest's import mode and whichever other test folders run)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]
FIXTURE_RUN = "ha-giang-2026"
FIXTURE_DIR = HERE / "data" / FIXTURE_RUN
OSM = "© OpenStreetMap contributors"


def edit_fixture_plan(runs_dir: Path, edit: Callable[[dict], None]) -> str:
    """Apply ``edit`` to the fixture run's plan.json (parsed) in ``runs_dir``, write it back
    and return the first route's vehicle id."""
    path = runs_dir / FIXTURE_RUN / "plan.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(data["routes"][0]["vehicle_id"])


def job_record(app: Any, job_id: str, *, status: str, stage: str = "queued",
               progress: tuple[tuple[float, int], ...] = (), error: str | None = None,
               plan_name: str | None = None, worker_pid: int | None = None,
               log: str = "log line\n", created_s_ago: float = 30,
               started_s_ago: float | None = None, finished_s_ago: float | None = None) -> Path:
    """A job as its worker would have left it (no process involved): its row in the app's
    database and its folder with ``job.json`` and ``log.txt``. Returns the folder."""
    from storage.models import JobRecord, utcnow
    from webui.services import services_of

    folder = Path(app.config["JOBS_DIR"]) / job_id
    folder.mkdir(parents=True)
    (folder / "job.json").write_text(json.dumps({"id": job_id, "scenario": "tiny"}),
                                     encoding="utf-8")
    (folder / "log.txt").write_text(log, encoding="utf-8")
    now = utcnow()

    def ago(seconds: float | None) -> dt.datetime | None:
        return now - dt.timedelta(seconds=seconds) if seconds is not None else None

    with services_of(app).database.begin() as s:
        s.add(JobRecord(job_id=job_id, scenario_name="tiny", scenario_source="file",
                        status=status, stage=stage, progress_json=json.dumps(progress),
                        best_objective=min((b for _, b in progress), default=None),
                        error=error, log_tail=log, plan_name=plan_name, worker_pid=worker_pid,
                        created_at=ago(created_s_ago), started_at=ago(started_s_ago),
                        finished_at=ago(finished_s_ago), updated_at=now))
    return folder


def wait_for(predicate: Callable[[], bool], *, timeout_s: float, poll_s: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout_s`` passes; returns its last value."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(poll_s)
    return predicate()


def tiny_scenario_yaml(*, name: str = "tiny", time_limit_s: float = 2) -> str:
    """A two-stop scenario extending the default one (Lũng Cú and Đồng Văn, one cluster)."""
    base = PROJECT_ROOT / "scenarios" / "ha-giang-2026.yaml"
    return f"""extends: {base}
name: {name}
title: "Thử nghiệm hai xã"
stops:
  - {{commune_code: "00715", deliver_crates: 5, collect_crates: 5, service_minutes: 120,
     time_windows: [{{start: "07:30", end: "11:30"}}, {{start: "13:30", end: "16:00"}}]}}
  - {{commune_code: "00721", deliver_crates: 6, collect_crates: 5, service_minutes: 150,
     time_windows: [{{start: "07:30", end: "11:30"}}, {{start: "13:30", end: "15:30"}}]}}
solver:
  time_limit_s: {time_limit_s}
  seed: 0
"""
