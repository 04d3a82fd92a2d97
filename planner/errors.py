"""Errors raised by :mod:`planner`. Each problem names the file, the field, the value and a fix."""

from __future__ import annotations

from dataclasses import dataclass


class PlannerError(Exception):
    """Base class of every error the planner raises on bad input."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    field: str
    value: object
    message: str
    fix: str = ""

    def __str__(self) -> str:
        value = repr(self.value) if self.value is not None else "(missing)"
        text = f"{self.file}: field `{self.field}` = {value}: {self.message}"
        return f"{text}. Fix: {self.fix}" if self.fix else text


class ScenarioError(PlannerError, ValueError):
    """A scenario file is invalid; carries every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in scenario"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class PlanFileError(PlannerError, ValueError):
    """A plan file cannot be read or has an unsupported format version."""
