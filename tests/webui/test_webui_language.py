"""One language per page: what the product writes for people comes from the catalogues.

* pages and sheets rendered in Vietnamese hold none of the English texts the product used to
  show (checker findings, solver status codes, search strategies, PyVRP reasons, the
  ASSUMPTION label, weekday and profile codes);
* every message the planner writes (:mod:`planner.messages`) is in both catalogues with the
  same placeholders, and the planner's checkers make findings only through those keys;
* web code never hands an English text to a page: errors of the web UI and flashed messages
  are worded with ``g.tr`` or carry a catalogue key, and templates hold no text of their own.
"""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from ortools.constraint_solver import routing_enums_pb2
from pypdf import PdfReader
from webui_testkit import FIXTURE_DIR, FIXTURE_RUN

from planner import solve as planner_solve
from planner._pyvrp import seed_unsupported
from planner.messages import ENGLISH, message
from render.catalogs import PLACEHOLDER
from render.i18n import LANGUAGES, SEED_REASON_KEYS, Translator, catalogue
from webui import errors as webui_errors

ROOT = Path(__file__).resolve().parents[2]
PLANNER, WEBUI = ROOT / "planner", ROOT / "webui"

STATUS_CODES = [name.removeprefix("ROUTING_")
                for name in routing_enums_pb2.RoutingSearchStatus.Value.keys()]  # noqa: SIM118 (an enum wrapper)
# English the pages showed before (issue 20, point 4), and the codes behind it
ENGLISH_TEXTS = [
    "returns day", "after the horizon ends", "outside the commune's time windows",
    "ASSUMPTION", "KEPT_PREVIOUS_PLAN", "trips over several days", "modelled by OR-Tools",
    "pyvrp-seed+ortools", "(wed, thu)", ">truck<", ">van<", "no batch it has not had",
    "Road network: OpenStreetMap", "Commune points are the published", "OSM roads 2021",
    *STATUS_CODES,
]


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


# --- the planner's messages ------------------------------------------------------------------


def test_every_planner_message_is_in_both_catalogues_with_its_placeholders() -> None:
    for key, english in ENGLISH.items():
        for lang in LANGUAGES:
            assert key in catalogue(lang), f"{key} missing from the {lang} catalogue"
            assert _placeholders(catalogue(lang)[key]) == _placeholders(english), (lang, key)


def _calls(path: Path) -> list[ast.Call]:
    return [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Call)]


def _name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def test_the_planner_makes_findings_only_through_message_keys() -> None:
    """A checker's finding is ``_v(kind, message("check_…", ...))``: a ``Violation`` or a
    message built from an English text anywhere in the planner fails here."""
    problems = []
    for path in sorted(PLANNER.glob("*.py")):
        if path.name == "messages.py":  # where messages are made
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                name = _name(call)
                if name == "Violation" and fn.name != "_v":
                    problems.append(f"{path.name}:{call.lineno}: Violation(...) outside _v")
                if name in ("message", "Message"):
                    key = call.args[0] if call.args else None
                    if not (isinstance(key, ast.Constant) and key.value in ENGLISH):
                        problems.append(f"{path.name}:{call.lineno}: message key "
                                        f"{ast.unparse(key) if key else '?'} not in ENGLISH")
    assert not problems, problems
    # the finding of a checker words itself in each language
    msg = message("check_horizon", day=6, time="10:30", end_day=5, end_time="17:00")
    assert msg.english() == "returns day 6 10:30, after the horizon ends day 5 17:00"
    vi = Translator("vi").message(msg.key, msg.values)
    assert "10:30" in vi and "ngày thứ 6" in vi and "returns" not in vi


# The modules whose problems the scenario pages show (upload, edit form, closures form):
# schema, references, the data check, the web's own rules
SCENARIO_VALIDATION = (PLANNER / "scenario.py", PLANNER / "servicearea.py",
                       PLANNER / "closures.py", WEBUI / "scenariostore.py")


def _keys_in(node: ast.AST | None) -> set[str]:
    """The catalogue keys a key argument can take (a literal, or literals in a choice)."""
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and n.value.startswith("problem_")} if node else set()


def _value_names(node: ast.AST | None) -> set[str] | None:
    """The names of a Problem's ``values=(("name", v), ...)``; ``None`` when not literal."""
    if node is None:
        return set()
    if not isinstance(node, ast.Tuple):
        return None
    names = set()
    for item in node.elts:
        if not (isinstance(item, ast.Tuple) and isinstance(item.elts[0], ast.Constant)):
            return None
        names.add(item.elts[0].value)
    return names


def test_scenario_validation_speaks_through_catalogue_keys() -> None:
    """A scenario validator refuses with ``KeyedValueError(key, message, **values)`` and a
    problem carries ``key=`` and ``fix_key=``: a plain ``ValueError`` or an unkeyed
    ``Problem`` in scenario validation would show English on a Vietnamese page and fails
    here, as does a key missing from a catalogue or a placeholder its values do not fill."""
    problems = []

    def check_key(where: str, key: str, names: set[str] | None) -> None:
        for lang in LANGUAGES:
            if key not in catalogue(lang):
                problems.append(f"{where}: {key} missing from the {lang} catalogue")
            elif names is not None and not _placeholders(catalogue(lang)[key]) <= names:
                problems.append(f"{where}: {key} ({lang}) needs "
                                f"{sorted(_placeholders(catalogue(lang)[key]) - names)}")

    for path in SCENARIO_VALIDATION:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and \
                    _name(node.exc) in ("ValueError", "TypeError", "AssertionError"):
                problems.append(f"{where}: raise {_name(node.exc)}(...): use KeyedValueError")
            if not isinstance(node, ast.Call):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            if _name(node) == "KeyedValueError":
                names = None if None in keywords else set(keywords)
                keys = _keys_in(node.args[0] if node.args else None)
                if not keys:
                    problems.append(f"{where}: KeyedValueError without a literal key")
                for key in keys:
                    check_key(where, key, names)
            elif _name(node) == "Problem":
                if "key" not in keywords or "fix_key" not in keywords:
                    problems.append(f"{where}: Problem(...) without key= and fix_key=")
                    continue
                names = _value_names(keywords.get("values"))
                for key in _keys_in(keywords["key"]) | _keys_in(keywords["fix_key"]):
                    check_key(where, key, names)
    assert not problems, problems


def test_a_seed_reason_the_planner_writes_has_a_key() -> None:
    import inspect

    texts = set()
    for fn in (seed_unsupported, planner_solve.seeding_possible):
        texts |= {m for m in re.findall(r'return "([^"]+)"', inspect.getsource(fn))}
    assert texts and texts <= set(SEED_REASON_KEYS), texts - set(SEED_REASON_KEYS)
    for key in SEED_REASON_KEYS.values():
        assert all(key in catalogue(lang) for lang in LANGUAGES), key


def test_every_solver_status_has_words() -> None:
    source = (PLANNER / "pipeline.py").read_text(encoding="utf-8")
    own = set(re.findall(r'status="([A-Z_]+)"', source))
    assert "KEPT_PREVIOUS_PLAN" in own
    for code in [*STATUS_CODES, *own]:
        for lang in LANGUAGES:
            text = Translator(lang).solver_status(code)
            assert code not in text and text != catalogue(lang)["solver_status_unknown"], code


# --- web code and templates --------------------------------------------------------------


def _webui_error_names() -> set[str]:
    import importlib
    import inspect

    names = {"flash"}
    for path in WEBUI.glob("*.py"):
        if path.name in ("__main__.py", "worker.py"):
            continue
        module = importlib.import_module(f"webui.{path.stem}")
        names |= {n for n, obj in vars(module).items() if inspect.isclass(obj)
                  and issubclass(obj, webui_errors.WebUIError)}
    return names


ENGLISH_WORDS = re.compile(r"[A-Za-z]{2,}[\s,;:'()]+[A-Za-z]{2,}")


def test_web_code_hands_pages_no_english_text() -> None:
    """An error page or a flashed message shows its text: it must be worded by ``g.tr`` (or
    ``tr``), or carry a catalogue ``key=`` the error page words. ``__main__`` (the command
    line) and ``worker`` (a process without pages) write for the operator's terminal."""
    sinks = _webui_error_names()
    problems = []
    for path in sorted(WEBUI.glob("*.py")):
        if path.name in ("__main__.py", "worker.py"):
            continue
        for call in _calls(path):
            if _name(call) not in sinks or not call.args:
                continue
            text = call.args[0]
            literal = isinstance(text, ast.Constant | ast.JoinedStr)
            key = next((k.value for k in call.keywords if k.arg == "key"), None)
            if key is not None:
                ok = isinstance(key, ast.Constant) and all(key.value in catalogue(lang)
                                                           for lang in LANGUAGES)
            else:
                ok = not (literal and ENGLISH_WORDS.search(ast.unparse(text)))
            if not ok:
                problems.append(f"{path.name}:{call.lineno}: {ast.unparse(call)[:100]}")
    assert not problems, problems


def test_closure_geometry_errors_are_catalogue_keys() -> None:
    from webui.closures import ClosureGeometryError, parse_geometry

    for text in ("{", '{"type": "Point", "coordinates": [1, 2]}',
                 '{"type": "Polygon", "coordinates": []}',
                 '{"type": "LineString", "coordinates": [["a", 1]]}'):
        with pytest.raises(ClosureGeometryError) as exc:
            parse_geometry(text)
        assert all(exc.value.key in catalogue(lang) for lang in LANGUAGES)


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_BLOCK_CLASS = re.compile(r"\{%\s*block body_class\s*%\}.*?\{%\s*endblock\s*%\}", re.S)
_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]*>", re.S | re.I)
_FILE_NAMES = re.compile(r"\b[\w-]+\.(?:json|geojson|csv|pdf)\b")


def test_templates_hold_no_text_of_their_own() -> None:
    problems = {}
    for path in sorted((WEBUI / "templates").glob("*.html")):
        text = _BLOCK_CLASS.sub(" ", path.read_text(encoding="utf-8"))
        text = _TAGS.sub(" ", _JINJA.sub(" ", text))
        text = _FILE_NAMES.sub(" ", re.sub(r"&#?\w+;", " ", text))
        words = re.findall(r"\b[A-Za-z][a-z]{2,}\b", text)
        if words:
            problems[path.name] = sorted(set(words))
    assert not problems, problems


# --- pages rendered in Vietnamese ----------------------------------------------------------


def _variant(runs: Path, name: str, **provenance: object) -> str:
    """A copy of the fixture plan named ``name`` with ``provenance`` fields replaced and a
    stored check with a horizon finding (as an edited plan has)."""
    folder = runs / name
    shutil.copytree(FIXTURE_DIR, folder, ignore=shutil.ignore_patterns("map*.html"))
    data = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    msg = message("check_horizon", day=6, time="10:30", end_day=5, end_time="17:00")
    data["provenance"].update(provenance)
    data["provenance"]["check"] = {
        "at": "2026-12-01T08:00:00+07:00", "ok": False,
        "violations": [{"kind": "horizon", "message": msg.english(), "vehicle_id": "xe-tv-01",
                        "commune_code": "", "key": msg.key,
                        "values": [list(v) for v in msg.values]},
                       {"kind": "time_window", "message": "service starts day 3 12:00, outside "
                        "the commune's time windows", "vehicle_id": "xe-tv-01",
                        "commune_code": data["routes"][0]["visits"][1]["commune_code"]}]}
    (folder / "plan.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return name


@pytest.fixture
def variants(runs_dir: Path) -> list[str]:
    return [_variant(runs_dir, f"status-{code.lower()}", solver_status=code, objective=-1,
                     search_strategy="pyvrp-seed+ortools",
                     pyvrp_seed_skipped="trips over several days (night rests) are "
                                        "modelled by OR-Tools only")
            for code in [*STATUS_CODES, "KEPT_PREVIOUS_PLAN"]]


def _english_in(text: str) -> list[str]:
    return [s for s in ENGLISH_TEXTS if s in text]


def test_vietnamese_pages_and_sheets_show_no_english(client: FlaskClient,
                                                     variants: list[str]) -> None:
    for run in [FIXTURE_RUN, *variants[:3], variants[-1]]:
        for url in (f"/plans/{run}", f"/plans/{run}/edit", f"/plans/{run}/compare",
                    f"/plans/{run}/sheet/xe-tv-01", f"/plans/{run}/sheet/xe-van-02",
                    f"/plans/{run}/map"):
            resp = client.get(url + "?lang=vi")
            assert resp.status_code == 200, url
            found = _english_in(resp.get_data(as_text=True))
            assert not found, (url, found)
    for run in variants:  # every status code, worded
        page = client.get(f"/plans/{run}?lang=vi").get_data(as_text=True)
        assert not _english_in(page), (run, _english_in(page))
    page = client.get(f"/plans/{variants[-1]}?lang=vi").get_data(as_text=True)
    assert "giữ nguyên kế hoạch trước" in page and "GIẢ ĐỊNH" in page
    assert "về lúc 10:30 ngày thứ 6" in page  # the stored finding, worded
    assert "Mạng đường: OpenStreetMap tháng 8/2021" in page  # the dataset's note, worded
    for url in ("/fleet", "/accounts", "/my-trip"):  # the fleet's pages
        page = client.get(url + "?lang=vi").get_data(as_text=True)
        assert not _english_in(page), (url, _english_in(page))
    communes = client.get("/communes?lang=vi").get_data(as_text=True)
    assert "đường OpenStreetMap 2021" in communes and not _english_in(communes)
    pdf = client.get(f"/plans/{FIXTURE_RUN}/sheets.pdf?lang=vi")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert not _english_in(" ".join(text.split()))
    # English pages keep the English wording
    en = client.get(f"/plans/{variants[-1]}?lang=en").get_data(as_text=True)
    assert "returns day 6 10:30" in en and "ASSUMPTION" in en


def test_scenario_page_words_weekdays_and_profiles(client: FlaskClient,
                                                   scenarios_dir: Path) -> None:
    shutil.copy(ROOT / "scenarios" / "ha-giang-2026.yaml", scenarios_dir)
    page = client.get("/scenarios/ha-giang-2026?lang=vi").get_data(as_text=True)
    assert "Thứ Tư, Thứ Năm" in page and "xe thư viện lưu động" in page
    # the scenario's own YAML is shown as written (its comments are the author's)
    page = re.sub(r"<pre\b.*?</pre>", "", page, flags=re.S)
    assert not _english_in(page), _english_in(page)
