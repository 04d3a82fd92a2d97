"""VRP benchmark runner: parsers, the independent checker, distance conventions, and a tiny
end-to-end solve by the product model and the plain OR-Tools baseline."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.vrp.checker import check_solution
from benchmarks.vrp.instances import Instance, read_bks, read_instance
from benchmarks.vrp.runner import family_table, main, run_job
from benchmarks.vrp.scaling import euclidean, scale

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "benchmarks"
needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/benchmarks not present")


def tiny() -> Instance:
    """Depot at the origin, three customers on a line; capacity 10, due 100 everywhere.
    Route 0-1-2-3-0: distance 2 + 2 + 2 + 6 = 12."""
    return Instance(
        name="tiny", family="T1", kind="vrptw",
        coords=((0.0, 0.0), (2.0, 0.0), (4.0, 0.0), (6.0, 0.0)), n_depots=1,
        demand=(0, 3, 4, 3), service=(0.0, 1.0, 1.0, 1.0),
        ready=(0.0, 0.0, 5.0, 0.0), due=(100.0, 10.0, 20.0, 30.0),
        capacity=(10,), fleet=(2,), max_duration=(None,))


# ---------------------------------------------------------------------------------------------
# parsers


@needs_data
def test_parses_one_instance_of_each_format() -> None:
    c101 = read_instance(SHARED / "solomon" / "C101.txt")
    assert (c101.name, c101.family, c101.kind) == ("C101", "C1", "vrptw")
    assert c101.n_nodes == 101 and c101.capacity == (200,) and c101.fleet == (25,)
    assert c101.due[0] == 1236 and c101.service[1] == 90 and c101.demand[1] == 10

    x = read_instance(SHARED / "cvrp_x" / "X-n101-k25.vrp")
    assert (x.family, x.kind, x.rounding, x.n_nodes) == ("X", "cvrp", "nint", 101)
    assert x.coords[0] == (365.0, 689.0) and x.demand[0] == 0 and x.fleet == (None,)

    lc = read_instance(SHARED / "extras" / "pdptw_li_lim_100" / "lc101.txt")
    assert lc.kind == "pdptw" and lc.family == "LC1" and len(lc.pairs) * 2 == lc.n_nodes - 1
    assert all(lc.demand[p] == -lc.demand[d] > 0 for p, d in lc.pairs)

    p08 = read_instance(SHARED / "extras" / "mdvrp_cordeau" / "p08.txt")
    assert p08.kind == "mdvrp" and p08.n_depots == 2 and p08.fleet == (14, 14)
    assert p08.max_duration == (310.0, 310.0) and p08.capacity == (500, 500)
    assert p08.demand[:2] == (0, 0) and len(p08.customers) == 249


@needs_data
def test_reads_bks_columns() -> None:
    sol = read_bks(SHARED / "solomon")
    assert sol["C101"].distance == 828.94 and sol["C101"].vehicles == 10
    assert sol["R109"].anchor == pytest.approx(1151.8385)
    assert read_bks(SHARED / "cvrp_x")["X-n101-k25"].distance == 27591


# ---------------------------------------------------------------------------------------------
# checker


def test_checker_accepts_a_valid_solution_and_recomputes_distance() -> None:
    report = check_solution(tiny(), [(0, [1, 2, 3])])
    assert report.feasible, report.problems
    assert report.distance == pytest.approx(12.0) and report.vehicles == 1


@pytest.mark.parametrize("routes, expected", [
    ([(0, [1, 2, 3])], None),
    ([(0, [1, 2, 3, 1])], "visited 2 times"),  # duplicate
    ([(0, [1, 2])], "customer 3 not visited"),  # missing
    ([(0, [3, 2, 1])], "> due 10.0"),  # late: 1 is served at 6+1+2+1+2 = 12 > 10
])
def test_checker_catches_each_violation(routes: list, expected: str | None) -> None:
    report = check_solution(tiny(), routes)
    if expected is None:
        assert report.feasible
    else:
        assert not report.feasible and any(expected in p for p in report.problems), \
            report.problems


def test_checker_catches_overload_and_fleet_and_depot_due() -> None:
    inst = tiny()
    heavy = Instance(**{**inst.__dict__, "capacity": (9,)})
    assert any("capacity 9" in p for p in check_solution(heavy, [(0, [1, 2, 3])]).problems)
    one = Instance(**{**inst.__dict__, "fleet": (1,)})
    assert any("fleet 1" in p for p in check_solution(one, [(0, [1]), (0, [2, 3])]).problems)
    early = Instance(**{**inst.__dict__, "due": (11.0, 10.0, 20.0, 30.0)})
    assert any("back at the depot" in p for p in check_solution(early, [(0, [1, 2, 3])]).problems)


def test_checker_pairs_precedence_and_load() -> None:
    inst = Instance(**{**tiny().__dict__, "kind": "pdptw", "demand": (0, 5, -5, 0),
                       "pairs": ((1, 2),), "ready": None, "due": None})
    assert check_solution(inst, [(0, [1, 2, 3])]).feasible
    assert any("delivery before pickup" in p or "outside" in p
               for p in check_solution(inst, [(0, [2, 1, 3])]).problems)
    assert any("two routes" in p for p in check_solution(inst, [(0, [1, 3]), (0, [2])]).problems)


# ---------------------------------------------------------------------------------------------
# distance conventions


def test_distance_conventions_double_and_nint() -> None:
    coords = ((0.0, 0.0), (1.0, 1.0), (3.0, 1.0))  # sqrt(2) = 1.414.., sqrt(10) = 3.162..
    base = dict(name="d", family="T", kind="cvrp", coords=coords, n_depots=1,
                demand=(0, 1, 1), service=(0.0,) * 3, ready=None, due=None, capacity=(5,),
                fleet=(None,), max_duration=(None,))
    double = Instance(**base)
    nint = Instance(**{**base, "rounding": "nint"})
    assert check_solution(double, [(0, [1, 2])]).distance == pytest.approx(
        math.sqrt(2) + 2 + math.sqrt(10), abs=1e-12)
    assert check_solution(nint, [(0, [1, 2])]).distance == 1 + 2 + 3
    assert euclidean(nint)[0, 2] == 3 and euclidean(double)[0, 2] == pytest.approx(math.sqrt(10))
    assert scale(nint).cost_scale == 1 and scale(nint).cost[0, 1] == 1


def test_time_scale_fits_one_day_and_rounds_conservatively() -> None:
    sc = scale(tiny())  # horizon 100 -> scale min(1000, 86000 // 100) = 860
    assert sc.time_scale == 860 and sc.due[0] == 86_000
    assert sc.travel[0, 1] == 2 * 860


# ---------------------------------------------------------------------------------------------
# end to end


@needs_data
@pytest.mark.parametrize("solver", ["product", "product-unseeded", "ortools"])
def test_product_and_plain_baseline_solve_a_small_c101_sample(solver: str) -> None:
    from benchmarks.vrp.runner import solver_function

    inst = read_instance(SHARED / "solomon" / "C101.txt").with_customers(list(range(1, 11)))
    assert len(inst.customers) == 10
    solve = solver_function(solver)
    outcome = solve(inst, 1.0)
    report = check_solution(inst, [(r.depot, r.visits) for r in outcome.routes])
    assert report.feasible, report.problems
    assert report.vehicles >= 1 and report.distance > 0
    if solver == "product":
        assert "pyvrp-seed" in outcome.status or "(ortools)" in outcome.status
    if solver == "product-unseeded":
        assert "pyvrp" not in outcome.status


def test_product_model_handles_pickup_delivery_pairs() -> None:
    from benchmarks.vrp.product import solve_product

    inst = Instance(**{**tiny().__dict__, "kind": "pdptw", "demand": (0, -5, 5, 0),
                       "pairs": ((2, 1),), "objective": "vehicles_then_distance",
                       "due": (100.0, 100.0, 100.0, 100.0)})
    outcome = solve_product(inst, 0.5)
    report = check_solution(inst, [(r.depot, r.visits) for r in outcome.routes])
    assert report.feasible, report.problems
    assert report.vehicles == 1


@needs_data
def test_runner_writes_csv_and_table(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "r.csv"
    assert main([str(SHARED / "solomon"), "--time-limit", "0.5", "--solvers", "ortools",
                 "--instances", "C201", "--csv", str(out)]) == 0
    assert main([str(SHARED / "solomon"), "--time-limit", "0.5", "--solvers", "ortools",
                 "--instances", "C201", "--csv", str(out), "--resume"]) == 0
    text = capsys.readouterr().out
    assert "0 solves to run" in text and "C2" in text
    rows = out.read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("C201,C2,ortools,0.5,")


def test_family_table_marks_infeasible_and_unsupported() -> None:
    rows = [
        {"instance": "a", "family": "R1", "solver": "product", "feasible": "True",
         "gap_bks": "1.0", "gap_anchor": "", "vehicles": "10", "bks_vehicles": "9",
         "status": "ok"},
        {"instance": "b", "family": "R1", "solver": "product", "feasible": "False",
         "gap_bks": "", "gap_anchor": "", "vehicles": "8", "bks_vehicles": "9",
         "status": "ok"},
        {"instance": "a", "family": "R1", "solver": "pyvrp", "feasible": "",
         "gap_bks": "", "gap_anchor": "", "vehicles": "", "bks_vehicles": "9",
         "status": "unsupported"},
    ]
    table = family_table(rows, ["product", "pyvrp"])
    line = next(ln for ln in table.splitlines() if ln.startswith("R1"))
    assert "1.00" in line and "1/2" in line and "not supported yet" in line


def test_run_job_reports_a_crash_as_a_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("BAD\n\nVEHICLE\nNUMBER CAPACITY\n 1 10\n\nCUSTOMER\nhdr\n\n0 0 0 0 0 10 0\n"
                   "1 1 0 20 0 10 0\n")  # demand 20 > capacity 10: no feasible solution
    row = run_job(str(bad), "ortools", 0.2, None)
    assert row["feasible"] in (False, "") and row["instance"] == "BAD"
