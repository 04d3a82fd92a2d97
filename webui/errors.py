"""Errors of the web UI. Each carries the HTTP status its page is served with; error pages
show no absolute server path (:func:`public_text`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path


class WebUIError(Exception):
    """Base class of the web UI's errors; ``status`` is the HTTP status of the error page.

    Code that words its message itself passes it translated (``g.tr(...)``); code without a
    request (the job service, the stores) passes its English message for the logs with a
    catalogue ``key`` and its ``values``, and the error page words that in the page's
    language."""

    status: int = 500

    def __init__(self, message: str = "", *, key: str = "", **values: object) -> None:
        super().__init__(message or key)
        self.key, self.values = key, values


class NotFoundError(WebUIError, LookupError):
    """An unknown plan, vehicle, job or scenario (or a name that is not a valid one)."""

    status = 404


class BadRequestError(WebUIError, ValueError):
    """A form value that cannot be used; the message says which and how to fix it."""

    status = 400


class ConflictError(WebUIError):
    """The request is valid but not now (for example cancelling a finished job)."""

    status = 409


class UnreadablePlanError(WebUIError):
    """A plan (folder or published version) whose files or record cannot be read; the
    message names the plan and says what is wrong, with no server path."""

    status = 500

    def __init__(self, name: str, detail: str, *, message: str | None = None) -> None:
        super().__init__(message or f"{name}: {detail}")
        self.name, self.detail = name, detail


class JobError(WebUIError):
    """A background job cannot be started or read."""

    status = 500


_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\"`:;,()<>]+/)+([^\s/'\"`:;,()<>]*)")


def public_text(text: str, roots: Iterable[Path]) -> str:
    """``text`` (an error message) without absolute server paths: a path under one of
    ``roots`` (the plans folder, the instance folder...) becomes relative to it
    (``ha-giang-2026/plan.json``), any other absolute path its last part."""
    for root in sorted({str(r).rstrip("/") for r in roots if str(r) not in ("", "/")},
                       key=len, reverse=True):
        text = text.replace(root + "/", "").replace(root, ".")
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or ".", text)
