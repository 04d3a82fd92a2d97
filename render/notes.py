"""A plan's data notes in the page's language.

A plan copies its dataset's notes (English, as the dataset's manifest writes them) and adds
its depot's location note (the scenario author's words). A note that is one of the dataset's
is shown in the page's language when the manifest has it (``notes_<lang>``); the others stay
as written, marked with the language they are in when known.
"""

from __future__ import annotations

from dataclasses import dataclass

from geodata.datasets import load_dataset
from geodata.errors import GeodataError
from planner.plan import Plan


@dataclass(frozen=True)
class Note:
    text: str
    lang: str | None  # the language it is written in, when known (None: as written)


def plan_notes(plan: Plan, lang: str) -> tuple[Note, ...]:
    """``plan.notes``, the dataset's own in ``lang`` when the dataset words them."""
    try:
        dataset = load_dataset(plan.network)
        written, worded = dataset.notes, dataset.notes_in(lang)
    except (GeodataError, OSError, ValueError):
        written, worded = [], []
    by_text = dict(zip(written, worded, strict=True))
    out = []
    for note in plan.notes:
        if note in by_text:
            out.append(Note(by_text[note], lang if by_text[note] != note else "en"))
        else:
            out.append(Note(note, None))
    return tuple(out)


__all__ = ["Note", "plan_notes"]
