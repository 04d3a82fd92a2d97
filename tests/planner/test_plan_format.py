"""``plan.json`` versions: every past version reads, the current one round-trips, a future one
is refused with a clear message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from planner.errors import PlanFileError
from planner.kpis import Kpis
from planner.outputs import read_plan_folder
from planner.plan import MAX_PLAN_INT, PLAN_FORMAT_VERSION, plan_from_dict, read_plan
from planner.problem import REQUIRED_PENALTY
from planner.provenance import Provenance

V1 = Path(__file__).parent / "data" / "plan-v1"


def test_a_version_1_plan_reads_into_the_typed_records() -> None:
    plan = read_plan(V1 / "plan.json")
    raw = json.loads((V1 / "plan.json").read_text(encoding="utf-8"))
    assert isinstance(plan.kpis, Kpis) and isinstance(plan.provenance, Provenance)
    assert plan.kpis.communes_served == raw["kpis"]["communes_served"] == 12
    assert plan.kpis.cost_vnd is None and "cost_vnd" not in raw["kpis"]  # not costed then
    assert plan.provenance.seed == raw["provenance"]["seed"]
    assert plan.provenance.graph_cache_hit == raw["provenance"]["cache"]["graph_hit"]
    assert plan.provenance.replan is None and plan.provenance.manual_edits == ()
    assert all(v.transfers_to == v.transfers_from == () for r in plan.routes for v in r.visits)


def test_the_current_version_round_trips(tmp_path: Path) -> None:
    plan = read_plan(V1 / "plan.json")
    plan.write(tmp_path / "plan.json")
    data = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert data["format_version"] == PLAN_FORMAT_VERSION
    again = plan_from_dict(data)
    assert again == plan
    # what version 1 wrote is kept: the same KPI keys, the same provenance keys
    old = json.loads((V1 / "plan.json").read_text(encoding="utf-8"))
    assert set(data["kpis"]) == set(old["kpis"])
    assert set(old["provenance"]) <= set(data["provenance"])


def test_a_later_version_is_refused_naming_file_and_field(tmp_path: Path) -> None:
    data = json.loads((V1 / "plan.json").read_text(encoding="utf-8"))
    data["format_version"] = 99
    with pytest.raises(PlanFileError, match=r"future\.json: field `format_version` = 99"):
        plan_from_dict(data, file="future.json")


def test_a_version_1_plan_gets_its_transfer_partners_from_the_scenario(tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(V1, folder)
    data = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    visits = data["routes"][0]["visits"]
    src, dst = visits[0]["commune_code"], visits[2]["commune_code"]
    visits[0]["transfer_collect_crates"] = visits[2]["transfer_deliver_crates"] = 2
    (folder / "plan.json").write_text(json.dumps(data), encoding="utf-8")
    assert read_plan_folder(folder).routes[0].visits[0].transfers_to == ()  # not known yet
    scenario = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    scenario["transfers"] = [{"from": src, "to": dst, "crates": 2}]
    (folder / "scenario.json").write_text(json.dumps(scenario), encoding="utf-8")
    route = read_plan_folder(folder).routes[0]
    assert (route.visits[0].transfers_to, route.visits[2].transfers_from) == (((dst, 2),),
                                                                              ((src, 2),))


def test_provenance_keeps_keys_it_does_not_know() -> None:
    data = json.loads((V1 / "plan.json").read_text(encoding="utf-8"))["provenance"]
    pv = Provenance.from_dict({**data, "batches": {"HG-2026-017": "00715"}})
    assert pv.to_dict()["batches"] == {"HG-2026-017": "00715"}


@pytest.mark.parametrize(("where", "value"), [
    ("visits.arrival_s", "09:00"), ("visits.arrival_s", True), ("visits.start_s", 10**20),
    ("visits.leg_km", float("nan")), ("visits.arrival", 5), ("depart_s", 1.5),
    ("breaks_s", [["a", "b"]]), ("breaks_s", [[1]]), ("visits", [1]),
])
def test_a_plan_field_of_the_wrong_type_is_a_plan_file_error(where: str, value: object) -> None:
    """The checker, sheets and exports compute with these fields: a plan.json edited by hand
    (or damaged) is refused when read, naming the field, not with a TypeError later."""
    data = json.loads((V1 / "plan.json").read_text(encoding="utf-8"))
    route = data["routes"][0]
    if where.startswith("visits."):
        route["visits"][0][where.split(".")[1]] = value
    else:
        route[where] = value
    with pytest.raises(PlanFileError, match=r"routes\[0\]"):
        plan_from_dict(data, file="plan.json")


def test_the_objective_of_a_plan_that_leaves_communes_out_reads_back(tmp_path: Path) -> None:
    """Each commune left out adds REQUIRED_PENALTY to the search's objective: a plan leaving
    out five is past MAX_PLAN_INT and must still read back (`planner check` refused it,
    found by the real-scenario benchmark); a value past the exact range of JSON numbers is
    still refused, naming the field."""
    data = json.loads((V1 / "plan.json").read_text(encoding="utf-8"))
    objective = 5 * REQUIRED_PENALTY + 123_456
    assert objective > MAX_PLAN_INT
    data["provenance"]["objective"] = objective
    data["provenance"]["progress"] = [[0.5, 7 * REQUIRED_PENALTY], [1.5, objective]]
    plan = plan_from_dict(data, file="plan.json")
    plan.write(tmp_path / "plan.json")
    again = read_plan(tmp_path / "plan.json")
    assert again.provenance.objective == objective
    assert again.provenance.progress[-1] == (1.5, objective)
    data["provenance"]["objective"] = 2**60
    with pytest.raises(PlanFileError, match=r"provenance\.objective"):
        plan_from_dict(data, file="plan.json")


def test_a_deeply_nested_or_huge_plan_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(PlanFileError, match="nested deeper"):
        read_plan(path)
    path.write_text('{"format": NaN}', encoding="utf-8")
    with pytest.raises(PlanFileError, match="not valid JSON"):
        read_plan(path)


V2 = Path(__file__).parent / "data" / "plan-v2"


def test_a_version_2_plan_reads_without_access_gaps() -> None:
    raw = json.loads((V2 / "plan.json").read_text(encoding="utf-8"))
    assert raw["format_version"] == 2 and "access" not in raw["provenance"]
    plan = read_plan(V2 / "plan.json")
    assert plan.provenance.access is None
    assert plan.kpis.communes_served == raw["kpis"]["communes_served"]


def test_a_version_2_plan_reads_and_its_findings_have_no_key() -> None:
    plan = read_plan(V2 / "plan.json")
    assert json.loads((V2 / "plan.json").read_text(encoding="utf-8"))["format_version"] == 2
    assert plan.kpis.communes_served == 12
    old = {"at": "2026-12-01T08:00:00+07:00", "ok": False,
           "violations": [{"kind": "horizon", "message": "returns day 6 10:30, after the "
                           "horizon ends day 5 17:00", "vehicle_id": "xe-tv-01",
                           "commune_code": ""}]}
    (finding,) = Provenance.from_dict({"check": old}).check.violations  # type: ignore[union-attr]
    assert finding.kind == "horizon" and finding.key == "" and finding.values == ()


def test_findings_keep_their_message_key_and_values(tmp_path: Path) -> None:
    from dataclasses import replace

    from planner.provenance import CheckRecord, Finding

    finding = Finding("horizon", "returns day 6 10:30, after the horizon ends day 5 17:00",
                      "xe-tv-01", "", "check_horizon",
                      (("day", 6), ("time", "10:30"), ("end_day", 5), ("end_time", "17:00")))
    plan = read_plan(V2 / "plan.json")
    plan = replace(plan, provenance=replace(plan.provenance, check=CheckRecord(
        at="2026-12-01T08:00:00+07:00", ok=False, violations=(finding,))))
    plan.write(tmp_path / "plan.json")
    again = read_plan(tmp_path / "plan.json")
    assert again.provenance.check is not None
    assert again.provenance.check.violations == (finding,)


V3 = Path(__file__).parent / "data" / "plan-v3"


def test_a_version_3_plan_reads_without_a_season() -> None:
    raw = json.loads((V3 / "plan.json").read_text(encoding="utf-8"))
    assert raw["format_version"] == 3 and "season" not in raw
    plan = read_plan(V3 / "plan.json")
    assert plan.season is None and plan.kpis.communes_served == 12
    assert "season" not in plan.to_dict()
