"""Errors raised by :mod:`planner`. Each problem names the file, the field, the value and a fix."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import islice
from typing import Any

# A problem quotes a short prefix of its value: a value can be a whole list of a scenario
# (or, through YAML aliases, something far larger than the file), and the message must stay
# a line. One place bounds it, so the command line and the web UI show the same text.
VALUE_MAX_CHARS = 80  # of a text value
VALUE_MAX_ITEMS = 4  # of a list or mapping
VALUE_MAX_DEPTH = 2  # nested lists and mappings shown
VALUE_MAX_DIGITS = 30  # of an integer
MAX_PROBLEMS = 200  # listed by one error; the rest are counted


class PlannerError(Exception):
    """Base class of every error the planner raises on bad input."""


class _More:
    """Stands for what a shortened value leaves out; shown as ``…``."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __repr__(self) -> str:
        return f"… {self.count} more"


class _ShortInt(int):
    """An integer too long to print: shown by its size and last digits."""

    def __repr__(self) -> str:
        text = str(abs(int(self)) % 10**6)
        return f"{'-' if self < 0 else ''}<integer of about {self.bit_length() * 0.30103:.0f} " \
               f"digits, ending …{text}>"


def short_value(value: Any, depth: int = 0) -> Any:
    """``value`` cut to a few items, a few levels and a short prefix of text, for a message.
    The walk visits at most about VALUE_MAX_ITEMS ** VALUE_MAX_DEPTH items, whatever the
    value's size (a value repeated by YAML aliases is never expanded)."""
    if isinstance(value, bool) or value is None or isinstance(value, float | dt.date | dt.time):
        return value
    if isinstance(value, int):
        return _ShortInt(value) if value.bit_length() > VALUE_MAX_DIGITS * 3.3 else value
    if isinstance(value, str):
        return value if len(value) <= VALUE_MAX_CHARS else value[:VALUE_MAX_CHARS] + "…"
    if isinstance(value, bytes):
        return value if len(value) <= VALUE_MAX_CHARS else value[:VALUE_MAX_CHARS] + b"..."
    if isinstance(value, dict | list | tuple | set | frozenset):
        if depth >= VALUE_MAX_DEPTH and value:
            n = len(value)
            return _Text(f"{{… {n} key{'s' * (n != 1)}}}" if isinstance(value, dict)
                         else f"[… {n} item{'s' * (n != 1)}]")
        shown = list(islice(value.items() if isinstance(value, dict) else value,
                            VALUE_MAX_ITEMS))
        more = [_More(len(value) - len(shown))] if len(value) > len(shown) else []
        if isinstance(value, dict):
            body = ", ".join(f"{short_value(k, depth + 1)!r}: {short_value(v, depth + 1)!r}"
                             for k, v in shown)
            return _Text("{" + ", ".join([body] * bool(body) + [repr(m) for m in more]) + "}")
        items = [short_value(x, depth + 1) for x in shown] + more
        return tuple(items) if isinstance(value, tuple) else items
    text = repr(value)
    return value if len(text) <= VALUE_MAX_CHARS else _Text(text[:VALUE_MAX_CHARS] + "…")


class _Text(str):
    """A representation already made (of an object of another type), printed as it is."""

    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file. ``value`` is kept shortened (:func:`short_value`),
    so printing a problem costs little whatever the input held."""

    file: str
    field: str
    value: object
    message: str
    fix: str = ""
    # the message and fix as catalogue keys with their values (pages word them in their
    # language, render.i18n.Translator.problem); empty: only the English text above
    key: str = ""
    fix_key: str = ""
    values: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", short_value(self.value))

    def __str__(self) -> str:
        value = repr(self.value) if self.value is not None else "(missing)"
        if len(value) > 2 * VALUE_MAX_CHARS:
            value = value[:2 * VALUE_MAX_CHARS] + "…"
        text = f"{self.file}: field `{self.field}` = {value}: {self.message}"
        return f"{text}. Fix: {self.fix}" if self.fix else text


class ScenarioError(PlannerError, ValueError):
    """A scenario file is invalid; carries the problems found, not only the first (up to
    MAX_PROBLEMS of them, then a count of the rest)."""

    def __init__(self, problems: list[Problem]) -> None:
        problems = list(problems)
        n = len(problems)
        if n > MAX_PROBLEMS:
            rest = len(problems) - MAX_PROBLEMS
            problems = problems[:MAX_PROBLEMS] + [Problem(
                problems[MAX_PROBLEMS].file, "(more)", None,
                f"{rest} more problem{'s' if rest != 1 else ''} not listed",
                "fix the problems above first")]
        self.problems = problems
        head = f"{n} problem{'s' if n != 1 else ''} in scenario"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class PlanFileError(PlannerError, ValueError):
    """A plan file cannot be read or has an unsupported format version."""
