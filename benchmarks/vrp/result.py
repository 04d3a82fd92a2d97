"""What every solver adapter returns: routes over instance node indices, and how the run went."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """One vehicle's trip: from ``depot`` through ``visits`` (customer node indices) back,
    on ``day`` (0-based; periodic instances)."""

    depot: int
    visits: tuple[int, ...]
    day: int = 0


@dataclass(frozen=True)
class Outcome:
    routes: tuple[Route, ...]
    status: str
    wall_s: float
    objective: float | None = None


class NotSupported(Exception):
    """The solver (or the product model) cannot express this instance's problem yet."""
