"""Tiny hand-checkable scenarios and problems for planner tests."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from planner.problem import RoutingProblem, build_problem
from planner.scenario import Scenario, parse_scenario

# three real commune codes of the embedded dataset (Hà Giang)
CODES = ("00778", "01108", "00802")

BASE: dict = {
    "schema_version": 1,
    "name": "tiny",
    "network": "ha_giang",
    "horizon": {"start_date": "2026-12-07", "days": 2},
    "depots": [{"id": "lib", "name": "Thư viện", "location": {"lon": 104.963, "lat": 22.8605}}],
    "vehicles": [{"id": "truck", "name": "Xe 1", "profile": "truck", "depot": "lib",
                  "capacity_crates": 10, "shift": {"start": "07:00", "end": "17:00"},
                  # the hand-checked times of these tests have no roadside pauses; the
                  # continuous-driving rule has its own tests
                  "max_trip_days": 2, "max_continuous_driving_hours": None}],
    "stops": [
        {"commune_code": CODES[0], "deliver_crates": 4, "collect_crates": 3,
         "service_minutes": 60},
        {"commune_code": CODES[1], "deliver_crates": 3, "collect_crates": 5,
         "service_minutes": 60},
    ],
    "solver": {"time_limit_s": 2, "seed": 0},
}


def scenario_dict(**overrides: object) -> dict:
    data = copy.deepcopy(BASE)
    data.update(overrides)
    return data


def make_scenario(**overrides: object) -> Scenario:
    return parse_scenario(scenario_dict(**overrides), file="tiny.yaml")


def line_problem(scenario: Scenario, hours: list[list[float]]) -> RoutingProblem:
    """A problem whose travel times are given in hours (locations: depots then stops);
    distances are 30 km per hour of travel."""
    t = np.asarray(hours, dtype=float) * 3600
    profiles = tuple(dict.fromkeys(v.profile for v in scenario.vehicles))
    return build_problem(scenario, profiles=profiles, time_s={p: t for p in profiles},
                         distance_m={p: t / 3600 * 30_000 for p in profiles})


def places_for(scenario: Scenario) -> tuple:
    from planner.problem import Place

    places = [Place("depot", d.id, d.name, 104.96, 22.86) for d in scenario.depots]
    places += [Place("stop", s.commune_code, f"Xã {s.commune_code}", 105.0 + i / 100, 23.0)
               for i, s in enumerate(scenario.stops)]
    return tuple(places)


def plan_for(scenario: Scenario, problem: RoutingProblem, routes: list[list[int]],
             unserved: list | None = None, not_before: tuple | None = None,
             breaks: tuple | None = None):
    """A plan whose routes are the given stop orders (location indices), timed by the
    scheduler; stops not routed are listed unserved with the explainer's reason."""
    from planner.explain import explain_unserved
    from planner.plan import assemble_plan
    from planner.provenance import Provenance
    from planner.schedule import time_trips

    locs = places_for(scenario)
    timings = time_trips(problem, routes, hints=not_before, breaks=breaks)
    served = {loc for r in routes for loc in r}
    if unserved is None:
        unserved = explain_unserved(problem, timings, served, names=[x.name for x in locs],
                                    codes=[x.key for x in locs], profiles=problem.profiles)
    return assemble_plan(scenario, locs, problem, timings, unserved, Provenance(),
                         service_area_communes=73), timings


def database_with_dispatcher(path: Path) -> str:
    """The URL of a new SQLite database at ``path`` holding one dispatcher, "thuthu" (the
    user the CLI's registry commands name with ``--user``)."""
    from storage import Database, users

    url = f"sqlite:///{path}"
    db = Database.from_url(url)
    with db.begin() as s:
        users.create_user(s, username="thuthu", password="password-1", role="dispatcher",
                          hash_method="pbkdf2:sha256:1000")
    db.dispose()
    return url
