"""A plan folder: the files :func:`planner.outputs.write_outputs` writes and the plan's map
page, written as one step. The command line (``planner solve``, ``planner replan``) and the
web UI's solve jobs and edits all store plans through :func:`write_plan_folder`."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from planner.outputs import PLAN_FILE, ROUTES_FILE, write_edited_outputs, write_outputs
from planner.pipeline import Network
from planner.plan import Plan
from planner.problem import Place
from planner.scenario import Scenario
from render.errors import MapError
from render.i18n import DEFAULT_LANGUAGE
from render.maps import map_file_name, write_plan_map


@dataclass(frozen=True)
class PlanFolder:
    """Where a plan was written, its files, and why its map was not drawn (if it was not:
    the plan stands, its map is drawn again when a page asks for it)."""

    path: Path
    files: tuple[Path, ...]
    map_error: str | None = None


def write_plan_folder(plan: Plan, net: Network, scenario: Scenario, out_dir: Path, *,
                      draw_map: bool = True) -> PlanFolder:
    """Write ``plan`` to ``out_dir``: ``plan.json``, ``routes.geojson``, ``scenario.json``,
    ``matrices.npz`` and (unless ``draw_map`` is false) ``map.html``.

    The files are written in a hidden sibling folder first: a new folder appears complete
    (renamed into place), an existing one has each file replaced atomically and keeps files
    of its own; a failure leaves ``out_dir`` as it was."""
    return _write(out_dir, lambda partial: write_outputs(plan, net, scenario, partial),
                  draw_map=draw_map)


def write_edited_plan_folder(plan: Plan, source: Path, out_dir: Path, *,
                             places: Sequence[Place], changed: Iterable[str],
                             draw_map: bool = False) -> PlanFolder:
    """Write a plan edited by hand from the plan folder ``source`` to ``out_dir`` as
    :func:`write_plan_folder` does, without the road network (the changed routes are drawn
    in straight legs: :func:`planner.outputs.write_edited_outputs`)."""
    changed = tuple(changed)
    return _write(out_dir, lambda partial: write_edited_outputs(
        plan, source, partial, places=places, changed=changed), draw_map=draw_map)


def _write(out_dir: Path, write: Callable[[Path], object], *, draw_map: bool) -> PlanFolder:
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = out_dir.with_name(f".{out_dir.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        write(partial)
        map_error = None
        if draw_map:
            try:
                write_plan_map(partial, partial / map_file_name(DEFAULT_LANGUAGE))
            except MapError as exc:
                map_error = str(exc)
        names = tuple(sorted(p.name for p in partial.iterdir()))
        if not out_dir.exists():
            # (made meanwhile by someone else: replaced file by file below)
            with contextlib.suppress(OSError):
                partial.rename(out_dir)
        if partial.exists():
            out_dir.mkdir(exist_ok=True)
            for name in (PLAN_FILE, ROUTES_FILE) + tuple(n for n in names
                                                          if n not in (PLAN_FILE, ROUTES_FILE)):
                (partial / name).replace(out_dir / name)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return PlanFolder(out_dir, tuple(out_dir / n for n in names), map_error)


__all__ = ["PlanFolder", "write_edited_plan_folder", "write_plan_folder"]
