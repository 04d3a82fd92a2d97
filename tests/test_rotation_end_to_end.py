"""Book batches through the whole pipeline on the embedded data: a scenario naming its batch
registry, history and commune profiles (relative to itself) is solved by ``planner solve``,
every visit leaves a batch its commune has not had or says why not, the trips hand batches on,
and ``planner check`` verifies the batch rules on its own (and catches a broken plan)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from factories import database_with_dispatcher

from cli import main
from planner.plan import read_plan
from planner.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "ha-giang-2026.yaml"
STOPS = [st.commune_code for st in load_scenario(DEFAULT).stops]


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> dict:
    mp = pytest.MonkeyPatch()
    cache = tmp_path_factory.mktemp("rotation-cache")
    mp.setenv("PLANNER_CACHE_DIR", str(cache))
    folder = tmp_path_factory.mktemp("rotation")
    data = folder / "data"
    data.mkdir()
    langs = ["vie; hnj", "vie", "vie; tyz", "hnj", "vie; ium"]
    rows = ["mã lô,số thùng,ngôn ngữ,đối tượng,tên lô"]
    for i in range(30):  # at the library
        rows.append(f"HG-2026-{i:03d},{1 + i % 3},{langs[i % 5]},"
                    f"{'children' if i % 2 else 'adults'},Lô {i}")
    rows += [f"HG-2026-{100 + i:03d},2,vie,adults,Lô đang ở xã" for i in range(len(STOPS))]
    (data / "batches.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    # each served commune holds one batch now; the first four had HG-2026-000 in turn in 2025
    history = ["mã lô,mã xã,ngày giao,ngày thu"]
    history += [f"HG-2026-{100 + i:03d},{code},2026-09-01," for i, code in enumerate(STOPS)]
    history += [f"HG-2026-000,{code},2025-0{3 + k}-01,2025-0{3 + k}-20"
                for k, code in enumerate(STOPS[:4])]
    (data / "history.csv").write_text("\n".join(history) + "\n", encoding="utf-8")
    (data / "profiles.csv").write_text(
        "mã xã,ngôn ngữ,đối tượng,sức chứa (thùng)\n"
        f"{STOPS[0]},hnj,children,4\n{STOPS[1]},vie;tyz,,3\n", encoding="utf-8")
    scenario = folder / "with-batches.yaml"
    scenario.write_text(f"extends: {DEFAULT}\nschema_version: 2\nname: with-batches\n"
                        "rotation:\n  batches: data/batches.csv\n  history: data/history.csv\n"
                        "  profiles: data/profiles.csv\n", encoding="utf-8")
    out = folder / "out"
    try:
        assert main(["solve", str(scenario), "--out", str(out), "--time-limit", "3"]) == 0
        yield {"out": out, "cache": cache}
    finally:
        mp.undo()


def test_every_visit_leaves_a_batch_or_says_why(solved: dict) -> None:
    plan = read_plan(solved["out"] / "plan.json")
    visits = [v for r in plan.routes for v in r.visits]
    assert visits and all(bool(v.deliver_batches) != bool(v.batch_note) for v in visits)
    sent = [b for v in visits for b in v.deliver_batches]
    assert len(sent) == len(set(sent))
    held = {v.commune_code: v.collect_batches for v in visits}
    assert all(len(batches) == 1 for batches in held.values())  # each held one, taken back
    assert not any("HG-2026-000" in v.deliver_batches for v in visits
                   if v.commune_code in STOPS[:4])  # never back where it has been
    hmong = next(v for v in visits if v.commune_code == STOPS[0])  # reads Hmông, children
    in_hmong = {f"HG-2026-{i:03d}" for i in range(30) if i % 5 in (0, 3)}  # langs with hnj
    assert hmong.deliver_batches and set(hmong.deliver_batches) <= in_hmong
    rotation = plan.provenance.rotation
    assert rotation is not None and rotation.rounds >= 1
    loading = [b for r in plan.routes for b in r.loading_batches]
    assert set(loading) <= set(sent)
    scenario = json.loads((solved["out"] / "scenario.json").read_text(encoding="utf-8"))
    # the plan folder keeps copies of the batch files it was made from
    assert scenario["rotation"]["batches"] == "rotation/batches.csv"
    assert (solved["out"] / "rotation" / "batches.csv").read_bytes() == (
        solved["out"].parent / "data" / "batches.csv").read_bytes()


def test_planner_check_verifies_the_batch_rules(solved: dict, monkeypatch, capsys,
                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(solved["cache"]))
    assert main(["check", str(solved["out"])]) == 0
    assert "OK, no violations" in capsys.readouterr().out
    # a batch sent to a commune that had it last year, and a loading list that lies
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("scenario.json", "routes.geojson", "matrices.npz"):
        (broken / name).write_bytes((solved["out"] / name).read_bytes())
    shutil.copytree(solved["out"] / "rotation", broken / "rotation")
    data = json.loads((solved["out"] / "plan.json").read_text(encoding="utf-8"))
    visit = next(v for r in data["routes"] for v in r["visits"] if v["commune_code"] == STOPS[0])
    visit["deliver_batches"] = ["HG-2026-000"]
    data["routes"][0]["loading_batches"] = []
    (broken / "plan.json").write_text(json.dumps(data), encoding="utf-8")
    assert main(["check", str(broken)]) == 1
    text = capsys.readouterr().out
    assert "[batch]" in text and "HG-2026-000 was at this commune before" in text
    assert "loading list" in text


def test_planner_labels_prints_a_label_per_batch_left(solved: dict, capsys,
                                                      tmp_path: Path) -> None:
    from pypdf import PdfReader

    plan = read_plan(solved["out"] / "plan.json")
    sent = [b for r in plan.routes for v in r.visits for b in v.deliver_batches]
    out = tmp_path / "labels.pdf"
    assert main(["labels", str(solved["out"]), "--out", str(out),
                 "--base-url", "https://thuvien.example.vn"]) == 0
    assert f"{len(sent)} crate label(s)" in capsys.readouterr().out
    text = " ".join(p.extract_text() for p in PdfReader(out).pages)
    assert all(batch in text for batch in sent)
    assert len(PdfReader(out).pages) == -(-len(sent) // 8)


def test_the_registry_kept_in_a_database_gives_the_same_plan_as_its_files(
        solved: dict, tmp_path: Path, capsys, monkeypatch) -> None:
    """`planner batches import` the files into a database, `planner batches export` reads
    back the same tables, and `planner solve --registry database` plans from it as from the
    files (same batches to the same communes)."""
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(solved["cache"]))
    url = database_with_dispatcher(tmp_path / "planner.sqlite3")
    data = solved["out"].parent / "data"
    assert main(["batches", "import", str(data / "batches.csv"), "--history",
                 str(data / "history.csv"), "--profiles", str(data / "profiles.csv"),
                 "--user", "thuthu", "--database", url]) == 0
    imported = capsys.readouterr().out
    assert f"{30 + len(STOPS)} batch(es) added" in imported and "2 commune profile" in imported
    assert main(["batches", "export", "--out", str(tmp_path / "export"), "--format", "xlsx",
                 "--database", url]) == 0
    from planner.batches import read_batches, read_profiles

    assert read_batches(tmp_path / "export" / "batches.xlsx") == read_batches(
        data / "batches.csv")
    assert read_profiles(tmp_path / "export" / "profiles.xlsx") == read_profiles(
        data / "profiles.csv")
    out = tmp_path / "from-db"
    scenario = solved["out"].parent / "with-batches.yaml"
    assert main(["solve", str(scenario), "--out", str(out), "--time-limit", "3",
                 "--registry", "database", "--database", url]) == 0
    assert (out / "rotation" / "batches.csv").is_file()
    from_files = read_plan(solved["out"] / "plan.json")
    from_db = read_plan(out / "plan.json")
    assert {v.commune_code: v.collect_batches for r in from_db.routes for v in r.visits} == {
        v.commune_code: v.collect_batches for r in from_files.routes for v in r.visits}
    assert main(["check", str(out)]) == 0
    # a user that does not exist is a clear error, and nothing is imported
    assert main(["batches", "import", str(data / "batches.csv"), "--user", "nobody",
                 "--database", url]) == 2
    assert "no active user of that name" in capsys.readouterr().err


def test_a_re_plan_keeps_each_communes_batches(solved: dict, tmp_path: Path,
                                               monkeypatch) -> None:
    """Labels are printed once: re-planning (a visit done, the rest free to move) keeps the
    batches each commune was to receive, and the plan still passes the checker."""
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(solved["cache"]))
    before = read_plan(solved["out"] / "plan.json")
    first = before.routes[0].visits[0].commune_code
    out = tmp_path / "re"
    assert main(["replan", str(solved["out"]), "--out", str(out), "--done", first,
                 "--time-limit", "2"]) == 0
    after = read_plan(out / "plan.json")
    given = {v.commune_code: v.deliver_batches for r in before.routes for v in r.visits}
    again = {v.commune_code: v.deliver_batches for r in after.routes for v in r.visits}
    assert again == {c: given[c] for c in again}
    assert main(["check", str(out)]) == 0
