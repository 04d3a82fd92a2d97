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
# the apps of the tests take the fixture plan's first day as today (the ``TODAY`` setting),
# so that what pages show "from today on" does not change with the date the tests run
FIXTURE_TODAY = "2026-12-07"
# a small season plan (``planner solve data/ha-giang-2027-season.yaml``; matrices, no map or
# routes): two libraries each with a van, ten communes every 2 weeks, April-May 2027
SEASON_RUN = "ha-giang-2027-season"
SEASON_DIR = HERE / "data" / SEASON_RUN
OSM = "© OpenStreetMap contributors"

VEHICLE = "xe-tv-01"
NEW_BATCH, OLD_BATCH = "HG-2026-013", "HG-2026-100"


def add_batches(runs_dir: Path) -> str:
    """Give the first visit of the truck a batch to leave and one to take back."""
    path = runs_dir / FIXTURE_RUN / "plan.json"
    plan = json.loads(path.read_text(encoding="utf-8"))
    plan["format_version"] = 2
    visit = plan["routes"][0]["visits"][0]
    visit["deliver_batches"], visit["collect_batches"] = [NEW_BATCH], [OLD_BATCH]
    plan["routes"][0]["loading_batches"] = [NEW_BATCH]
    plan["routes"][0]["visits"][1]["batch_note"] = "no batch it has not had in Tày: add batches"
    plan["batches"] = [{"batch_id": NEW_BATCH, "crates": 2, "languages": ["hnj"],
                        "audiences": ["children"], "title": "Truyện tranh"},
                       {"batch_id": OLD_BATCH, "crates": 2, "languages": ["vie"],
                        "audiences": ["adults"], "title": ""}]
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return str(visit["commune_code"])


def edit_fixture_plan(runs_dir: Path, edit: Callable[[dict], None]) -> str:
    """Apply ``edit`` to the fixture run's plan.json (parsed) in ``runs_dir``, write it back
    and return the first route's vehicle id."""
    path = runs_dir / FIXTURE_RUN / "plan.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(data["routes"][0]["vehicle_id"])


def job_record(app: Any, job_id: str, *, status: str, stage: str = "queued",
               progress: tuple[tuple, ...] = (), error: str | None = None,
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
                        best_objective=min((row[1] for row in progress), default=None),
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


# --- untrusted text ------------------------------------------------------------------------------

# Text a planner could put in a scenario (or a plan file, a form): markup, a script, an event
# handler, a spreadsheet formula at the start, a matplotlib "$math$" and a ReportLab tag.
PAYLOAD = ("=HYPERLINK(\"http://evil.example\")\"'></title></textarea><script>alert('xss')"
           "</script><img src=x onerror=alert('xss')><b>$x^{$</b>")
# What must never reach an HTML page (or a map's scripts, once their JSON escapes are undone).
RAW_MARKUP = ("<script>alert(", "<img src=x", "<b>$x")


def untrusted_plan_folder(dest: Path, *, payload: str = PAYLOAD,
                          scenario_name: str = "xss-probe") -> Path:
    """A copy of the fixture plan at ``dest`` whose every text field (title, vehicles,
    drivers, phones, depots, communes, contacts, notes, book batches (ids, titles, languages,
    audiences, notes), an unserved commune and its reason,
    data notes, attribution, who edited it, the scenario's assumptions) holds ``payload``;
    its scenario is called ``scenario_name`` (a series of its own when published)."""
    import shutil

    shutil.copytree(FIXTURE_DIR, dest, ignore=shutil.ignore_patterns("map*.html"))
    plan = json.loads((dest / "plan.json").read_text(encoding="utf-8"))
    plan["scenario"].update(name=scenario_name, title=f"T {payload}")
    for r in plan["routes"]:
        r.update(vehicle_name=f"V {payload}", driver=f"D {payload}",
                 vehicle_phone=f"P {payload}", depot_name=f"L {payload}",
                 depot_location_note=f"N {payload}", depot_location_approximate=True)
        for v in r["visits"]:
            v.update(commune_name=f"C {payload}", contact=f"K {payload}",
                     note=f"G {payload}", batch_note=f"BN {payload}")
    # book batches: ids, titles, language and audience codes come from registry files
    first = plan["routes"][0]
    first["visits"][0].update(deliver_batches=[f"I {payload}"], collect_batches=[f"J {payload}"])
    first["loading_batches"] = [f"I {payload}"]
    plan["batches"] = [{"batch_id": f"{k} {payload}", "crates": 1, "languages": [f"Q {payload}"],
                        "audiences": [f"Y {payload}"], "title": f"H {payload}"} for k in "IJ"]
    plan["format_version"] = 2
    plan["unserved"] = [{"commune_code": "00700", "commune_name": f"U {payload}",
                         "required": True, "reason_code": "no_vehicle_time",
                         "reason": f"R {payload}"}]
    plan["notes"] = [f"Note {payload}"]
    plan["attribution"] = f"A {payload}"
    plan["provenance"]["manual_edits"] = [
        {"at": "2026-12-01T10:00:00+07:00", "by": f"B {payload}", "base": f"X {payload}",
         "edit": {"action": "move", "commune_code": "00715"}, "changed_vehicles": [],
         "violations": 0}]
    plan["provenance"]["solver_status"] = f"S {payload}"
    (dest / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")

    routes = json.loads((dest / "routes.geojson").read_text(encoding="utf-8"))
    for f in routes["features"]:
        p = f["properties"]
        for key in ("name", "vehicle_name"):
            if key in p:
                p[key] = f"F {payload}"
    routes["features"].append({"type": "Feature",
                               "geometry": {"type": "Point", "coordinates": [105.1, 23.1]},
                               "properties": {"kind": "unserved", "commune_code": "00700",
                                              "name": f"U {payload}"}})
    (dest / "routes.geojson").write_text(json.dumps(routes, ensure_ascii=False),
                                         encoding="utf-8")

    scenario = json.loads((dest / "scenario.json").read_text(encoding="utf-8"))
    scenario.update(name=scenario_name, title=f"T {payload}", description=f"E {payload}",
                    assumptions=[f"M {payload}"])
    for v in scenario["vehicles"]:
        v.update(name=f"V {payload}", driver=f"D {payload}", phone=f"P {payload}")
    for d in scenario["depots"]:
        d.update(name=f"L {payload}", location_note=f"N {payload}")
    for s in scenario["stops"]:
        s.update(contact=f"K {payload}", note=f"G {payload}")
    (dest / "scenario.json").write_text(json.dumps(scenario, ensure_ascii=False),
                                        encoding="utf-8")
    return dest


def untrusted_scenario_yaml(*, name: str = "xss-scenario", payload: str = PAYLOAD) -> str:
    """The tiny scenario with ``payload`` in its title, description, vehicles, contacts and
    notes (a scenario file anyone allowed to upload one could write)."""
    quoted = json.dumps(payload, ensure_ascii=False)  # a YAML double-quoted string
    return tiny_scenario_yaml(name=name).replace(
        'title: "Thử nghiệm hai xã"',
        f"title: {quoted}\ndescription: {quoted}\n"
        f"vehicles:\n  - {{id: xe-1, name: {quoted}, profile: truck, depot: tv-ha-giang, "
        f"capacity_crates: 60, driver: {quoted}, phone: {quoted}}}").replace(
        '"00715", deliver_crates: 5,', f'"00715", contact: {quoted}, note: {quoted}, '
                                       'deliver_crates: 5,')


CLOSURE_NAME = "Sạt lở đèo Mã Pí Lèng"
CLOSURE_LINE = [[105.36, 23.245], [105.38, 23.225], [105.395, 23.205]]


def close_road_in(folder: Path) -> None:
    """The plan in ``folder`` as re-planned around a closure drawn on the closures page: the
    closure in its ``scenario.json`` (with one after the plan's days, which it must not
    show) and in its provenance."""
    scenario = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    scenario.setdefault("road_conditions", {})["closures"] = [
        {"id": "ui-closure-1", "note": CLOSURE_NAME, "start": "2026-12-01",
         "end": "2026-12-20", "line": CLOSURE_LINE, "tolerance_m": 30.0},
        {"id": "ui-closure-2", "note": "", "start": "2027-01-05", "end": "2027-01-06",
         "area": [[105.0, 23.0], [105.1, 23.0], [105.1, 23.1]]}]
    (folder / "scenario.json").write_text(json.dumps(scenario, ensure_ascii=False),
                                          encoding="utf-8")
    plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    plan["provenance"]["road_conditions"] = {"season": "", "closures": ["ui-closure-1"],
                                             "closed_km": 3.2, "cut_off": {}}
    plan["provenance"]["replan"] = {"kind": "closures", "closures": ["ui-closure-1"]}
    (folder / "plan.json").write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
