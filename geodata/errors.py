"""Errors raised by :mod:`geodata`; each names the file or value at fault and the fix."""

from __future__ import annotations

from collections.abc import Iterable


class GeodataError(Exception):
    """Base class of every error this package raises on bad data or arguments."""


def quoted_list(items: Iterable[object], *, shown: int = 8, width: int = 40) -> str:
    """``"a, b, c"`` for a message: at most ``shown`` items of at most ``width`` characters
    each, then a count of the rest, so that a file's column names or values (which can be
    anything) keep the message a line."""
    texts = [str(item) for item in items]
    cut = [t if len(t) <= width else t[:width] + "…" for t in texts[:shown]]
    more = f" and {len(texts) - shown} more" if len(texts) > shown else ""
    return ", ".join(cut) + more


class DataFileMissingError(GeodataError, FileNotFoundError):
    """A data file a dataset needs is not where it should be."""

    def __init__(self, path: object, *, what: str, fix: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: missing {what}. {fix}")


class UnknownDatasetError(GeodataError, KeyError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(
            f"unknown road dataset {name!r}; known datasets: {', '.join(known) or 'none'} "
            f"(a dataset name: embedded in geodata/data/ or imported with `planner geodata "
            f"import` into the user data folder; or a path to a dataset folder)")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


class UnknownProfileError(GeodataError, KeyError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown vehicle profile {name!r}; known profiles: {', '.join(known)}")

    def __str__(self) -> str:
        return self.args[0]


class UnreachableError(GeodataError, ValueError):
    """Points that no road usable by a profile reaches."""
