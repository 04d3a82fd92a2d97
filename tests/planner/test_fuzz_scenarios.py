"""Fuzzing scenarios (issue 19): mutants of a small valid scenario on the embedded Hà Giang
data, changed in their values and types, missing and unknown keys, extreme and non-finite
numbers, Unicode, YAML aliases, deep nesting, repeated keys and broken text. Each one is
validated in-process as ``planner validate`` does; a mutant that validates is solved (a
short time limit and a small solution limit, in this process) and its plan must pass
``planner check``. Any other outcome than one clear error (``ScenarioError``,
``PlannerError``, ``GeodataError``) or a checked plan fails, and so does a case running
past 30 s (a hang).

``make test`` runs 100 cases (at most 120 under ``CI=true``, derandomized). Run many
more with ``PLANNER_FUZZ_EXAMPLES`` (README, Development); ``PLANNER_FUZZ_REPORT=FILE``
writes the count of each outcome as JSON.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fuzzkit import IN_CI, example_count, outcome_counts, within_time_limit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.errors import GeodataError
from planner.check import check_plan
from planner.errors import PlannerError, Problem, ScenarioError
from planner.pipeline import check_scenario, dataset_of, problem_for, solve_scenario
from planner.plan import plan_from_dict
from planner.scenario import Scenario, ScenarioText, load_scenario_json, load_scenario_text

EXAMPLES = example_count(100)

# a small scenario touching most of the schema: two vehicles, windows, a break, a transfer,
# a closure; two days (nights away, lodging)
BASE: dict[str, Any] = {
    "schema_version": 1,
    "name": "fuzz",
    "title": "Thử nghiệm",
    "network": "ha_giang",
    "horizon": {"start_date": "2026-12-07", "days": 2},
    "depots": [{"id": "lib", "name": "Thư viện", "location": {"lon": 104.963, "lat": 22.8605},
                "opening": {"start": "07:00", "end": "17:00"}}],
    "vehicles": [
        {"id": "truck", "name": "Xe 1", "profile": "truck", "depot": "lib",
         "capacity_crates": 20, "max_trip_days": 2, "shift": {"start": "07:00", "end": "17:00"},
         "breaks": [{"start": "11:30", "end": "13:30", "minutes": 30}]},
        {"id": "van", "name": "Xe 2", "profile": "van", "depot": "lib", "capacity_crates": 8,
         "cost_vnd_per_trip": 100000, "max_driving_hours_per_day": 8},
    ],
    "stops": [
        {"commune_code": "00778", "deliver_crates": 4, "collect_crates": 3,
         "time_windows": [{"start": "08:00", "end": "15:00"}]},
        {"commune_code": "01108", "deliver_crates": 3, "collect_crates": 5, "lodging": False},
        {"commune_code": "00802", "deliver_crates": 2, "required": False, "priority": 7,
         "service_minutes": 45},
    ],
    "transfers": [{"from": "00778", "to": "00802", "crates": 1}],
    "road_conditions": {"closures": [{"id": "sat-lo", "ref": "QL.4C", "speed_factor": 0.5}]},
    "solver": {"time_limit_s": 1, "seed": 0},
}
FIELD_NAMES = ("extends", "location", "time_windows", "weekdays", "dates", "every_days",
               "anchor", "allowed_profiles", "end_depot", "count", "capacity_kg", "breaks",
               "max_continuous_driving_hours", "area", "line", "between", "way_ids",
               "season", "solution_limit", "workers", "assumptions", "commune_code")
STRANGE_TEXT = ["", " ", "\x00", "a\x00b", "\ud800", "\x07", "07:30", "25:00", "7:5",
                "2026-12-07", "9999-12-31", "../../etc/passwd", "/", ".", "ha_giang",
                "truck", "van", "motorbike", "lib", "00778", "01108", "00802", "99999",
                "Thư viện tỉnh Hà Giang", "🚚📚", "\u202etxet", "a" * 300, "yes", "null",
                "1e3", "0x10", ".nan", "-.inf", "QL.4C", "mon", "sun"]
EXTREME_NUMBERS = [0, 1, -1, 2, 7, 10_000, 10_001, 2**31 - 1, 2**31, 2**53, 2**63 - 1, 2**63,
                   2**64, -(2**63), 10**30, 0.5, -0.0, 1e-300, 5e-324, 1e9, 1e300, 1e308,
                   math.inf, -math.inf, math.nan, 3600, 3600.5, 24, 1440, 1441]


# --- mutants -------------------------------------------------------------------------------

def _paths(tree: Any) -> list[tuple[Any, ...]]:
    """Every path (keys and indices) into ``tree``, the root excluded, without recursion."""
    out: list[tuple[Any, ...]] = []
    pending: list[tuple[Any, tuple[Any, ...]]] = [(tree, ())]
    while pending:
        node, path = pending.pop()
        children = node.items() if isinstance(node, dict) else (
            enumerate(node) if isinstance(node, list) else ())
        for key, child in children:
            out.append(path + (key,))
            pending.append((child, path + (key,)))
    return sorted(out, key=repr)


def _get(tree: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _near(value: Any) -> st.SearchStrategy[Any]:
    """A value of the same kind, mostly plausible: keeps many mutants valid, so they are
    solved, not only refused."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(min_value=-2, max_value=max(12, 3 * value))
    if isinstance(value, float):
        return st.floats(min_value=-1, max_value=max(2.0, 3 * value), allow_nan=False)
    if isinstance(value, str) and len(value) == 5 and value[2:3] == ":":
        return st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 24), st.integers(0, 59))
    if isinstance(value, str) and len(value) == 10 and value[4:5] == "-":
        return st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)).map(dt.date.isoformat)
    return st.sampled_from(STRANGE_TEXT)


leaf_values = st.one_of(
    st.sampled_from(EXTREME_NUMBERS),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.sampled_from(STRANGE_TEXT),
    st.dates(),
    st.datetimes(),
)
any_values = st.recursive(leaf_values, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8)


@st.composite
def mutant_texts(draw: st.DrawFn) -> str | bytes:
    """A YAML text: BASE with a few data mutations, then perhaps a text mutation."""
    tree = copy.deepcopy(BASE)
    specials: dict[str, str] = {}  # placeholder -> YAML text put in after dumping
    for step in range(draw(st.integers(1, 3))):
        paths = _paths(tree)
        op = draw(st.sampled_from(["near", "near", "near", "value", "delete", "add", "dup",
                                   "share", "special"]))
        leaves = [p for p in paths if not isinstance(_get(tree, p), dict | list)]
        path = draw(st.sampled_from(leaves if op == "near" and leaves else paths))
        parent, key = _get(tree, path[:-1]), path[-1]
        if op == "near":
            parent[key] = draw(_near(parent[key]))
        elif op == "value":
            parent[key] = draw(any_values)
        elif op == "delete":
            del parent[key]
        elif op == "add":
            target = parent[key] if isinstance(parent[key], dict | list) else parent
            value = draw(any_values)
            if isinstance(target, dict):
                target[draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=8))] = value
            else:
                target.append(copy.deepcopy(draw(st.sampled_from(target))) if target and
                              draw(st.booleans()) else value)
        elif op == "dup" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif op == "share":  # the same object twice: the dumper writes an anchor and alias
            other = draw(st.sampled_from(paths))
            source = _get(tree, other)
            if isinstance(source, dict | list) and not _contains(source, parent):
                parent[key] = source
        elif op == "special":
            token = f"__fuzz_{step}__"
            kind = draw(st.sampled_from(["deep", "bomb", "digits", "long_aliases"]))
            n = draw(st.sampled_from([3, 10, 33, 200, 5_000, 100_000]))
            if kind == "deep":
                specials[token] = "[" * n + "]" * n
            elif kind == "bomb":
                levels = min(n, 12)
                items = [f"&b{step}x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                items += [f"&b{step}x{i} [" + ", ".join([f"*b{step}x{i - 1}"] * 9) + "]"
                          for i in range(1, levels + 1)]
                specials[token] = "[" + ", ".join(items) + "]"
            elif kind == "digits":
                specials[token] = "1" * n
            else:
                specials[token] = (f"[&s{step} {'y' * n}, " + ", ".join([f"*s{step}"] * 50)
                                   + "]")
            parent[key] = token
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    for token, replacement in specials.items():
        text = text.replace(token, replacement)
    edit = draw(st.sampled_from(["none"] * 6 + ["repeat_key", "truncate", "bytes", "extends"]))
    if edit == "repeat_key":
        key = draw(st.sampled_from(list(BASE)))
        text += f"{key}: {json.dumps(draw(st.sampled_from(STRANGE_TEXT[5:12])))}\n"
    elif edit == "truncate" and text:
        text = text[:draw(st.integers(0, len(text) - 1))]
    elif edit == "bytes":
        at = draw(st.integers(0, len(text)))
        raw = text.encode("utf-8", "surrogatepass")
        return raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]
    elif edit == "extends":
        text = f"extends: {draw(st.sampled_from(['base', 'base.yaml', 'self', 'nope']))}\n" + \
            "\n".join(line for line in text.splitlines()
                      if draw(st.booleans()) or not line.startswith(("stops", "vehicles")))
    return text


def _contains(tree: Any, node: Any) -> bool:
    """Whether ``node`` is ``tree`` or inside it (sharing it there would make a cycle)."""
    pending = [tree]
    while pending:
        item = pending.pop()
        if item is node:
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


# --- one case ------------------------------------------------------------------------------

BASE_TEXT = yaml.safe_dump(BASE, allow_unicode=True, sort_keys=False)


def _lookup(value: Any, label: str) -> ScenarioText:
    """``extends:`` of a mutant: ``base`` (the valid scenario) or itself (a loop)."""
    if value in ("base", "base.yaml"):
        return ScenarioText(BASE_TEXT, "base.yaml")
    if value == "self":
        return ScenarioText(f"extends: self\nname: {label}\n", label)
    raise ScenarioError([Problem(label, "extends", value, "unknown scenario")])


def run_case(text: str | bytes, tmp: Path) -> str:
    """The outcome of one mutant: ``refused`` (one clear error from validation), ``solve
    refused`` (a clear error from the solve), or ``solved`` (a plan that passes the check).
    Anything else raises."""
    label = "fuzz.yaml"
    try:
        scenario = load_scenario_text(text, label=label, lookup=_lookup)
        check_scenario(scenario, dataset_of(scenario, file=label), file=label)
    except (ScenarioError, PlannerError, GeodataError) as exc:
        assert str(exc) and len(str(exc)) < 100_000
        if isinstance(exc, ScenarioError):
            assert exc.problems and all(len(str(p)) < 2_000 for p in exc.problems)
        return "refused"
    # the resolved scenario is written beside a plan and read back by `planner check`
    (tmp / "scenario.json").write_text(
        json.dumps(scenario.model_dump(mode="json"), ensure_ascii=False),
        encoding="utf-8")
    assert load_scenario_json(tmp / "scenario.json") == scenario
    fast = scenario.model_copy(update={"solver": scenario.solver.model_copy(update={
        "time_limit_s": 0.5, "solution_limit": 3, "workers": 1})})
    try:
        solved = solve_scenario(fast, scenario_file=label)
        plan, net = solved.plan, solved.network
    except (ScenarioError, PlannerError, GeodataError) as exc:
        assert str(exc)
        return "solve refused"
    again = plan_from_dict(json.loads(json.dumps(plan.to_dict())), file="plan.json")
    assert again.routes == plan.routes and again.unserved == plan.unserved
    violations = check_plan(fast, problem_for(fast, net), plan)
    assert violations == [], [str(v) for v in violations]
    return "solved"


@pytest.fixture(scope="module")
def outcome_report() -> Iterator[Counter[str]]:
    yield from outcome_counts()


@settings(max_examples=EXAMPLES, deadline=None, derandomize=IN_CI, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much])
@given(text=mutant_texts())
def test_a_mutant_is_refused_clearly_or_solved_into_a_checked_plan(
        text: str | bytes, shared_cache: Path, outcome_report: Counter[str],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("fuzz", numbered=True)
    outcome_report[within_time_limit(lambda: run_case(text, tmp))] += 1


def test_the_base_scenario_is_solved_and_checked(shared_cache: Path, tmp_path: Path) -> None:
    """The mutants' starting point is valid and solves (so mutants reach the solver)."""
    assert run_case(BASE_TEXT, tmp_path) == "solved"
    scenario = load_scenario_text(BASE_TEXT, label="base.yaml")
    assert isinstance(scenario, Scenario) and len(scenario.stops) == 3
