"""The package rules of docs/architecture.md, checked on every import of every module: which
of our packages each may import, and which module is the one home of a heavy library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("geodata", "planner", "render", "storage", "cli", "webui", "tools", "benchmarks")
MAY_IMPORT = {
    "geodata": set(),
    "planner": {"geodata"},
    "render": {"planner", "geodata"},
    "storage": {"planner"},
    "cli": {"render", "storage", "planner", "geodata"},
    "webui": {"render", "storage", "planner", "geodata"},
}
# third-party modules with one home each: prefix -> the only files allowed to import them
ONE_HOME = {
    "ortools.constraint_solver": {"planner/_ortools.py"},
    "ortools.sat": {"planner/_assign.py"},
    "ortools.graph": {"planner/_assign.py"},
    "pyvrp": {"planner/_pyvrp.py"},
    "dask": {"planner/_dask.py"},
    "distributed": {"planner/_dask.py"},
}
# third-party libraries that belong to one package
PACKAGE_HOME = {
    "flask": {"webui"},
    "folium": {"render"},
    "branca": {"render"},
    "reportlab": {"render"},
    "matplotlib": {"render"},
    "icalendar": {"render"},
    "openpyxl": {"render", "planner"},  # writing exports; reading tables (planner/tables.py)
    "sqlalchemy": {"storage"},
    "alembic": {"storage"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out


def _modules() -> list[tuple[str, Path]]:
    out = []
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                out.append((package, path))
    return out


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_packages_import_only_downward(package: str) -> None:
    wrong = []
    for owner, path in _modules():
        if owner != package:
            continue
        for name in _imports(path):
            top = name.split(".")[0]
            if top in OURS and top != package and top not in MAY_IMPORT[package]:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_nothing_imports_tools_or_benchmarks_at_run_time() -> None:
    wrong = [f"{path.relative_to(ROOT)} imports {name}" for owner, path in _modules()
             if owner in MAY_IMPORT for name in _imports(path)
             if name.split(".")[0] in ("tools", "benchmarks")]
    assert not wrong, "\n".join(wrong)


def test_each_heavy_library_has_its_home() -> None:
    wrong = []
    for owner, path in _modules():
        if owner in ("tools", "benchmarks"):
            continue
        rel = path.relative_to(ROOT).as_posix()
        for name in _imports(path):
            for prefix, homes in ONE_HOME.items():
                if (name == prefix or name.startswith(prefix + ".")) and rel not in homes:
                    wrong.append(f"{rel} imports {name} (home: {', '.join(sorted(homes))})")
            top = name.split(".")[0]
            if top in PACKAGE_HOME and owner not in PACKAGE_HOME[top]:
                wrong.append(f"{rel} imports {name} (belongs in {PACKAGE_HOME[top]})")
    assert not wrong, "\n".join(wrong)
