"""Errors of the web UI. Each carries the HTTP status its page is served with."""

from __future__ import annotations


class WebUIError(Exception):
    """Base class of the web UI's errors; ``status`` is the HTTP status of the error page."""

    status: int = 500


class NotFoundError(WebUIError, LookupError):
    """An unknown plan, vehicle, job or scenario (or a name that is not a valid one)."""

    status = 404


class BadRequestError(WebUIError, ValueError):
    """A form value that cannot be used; the message says which and how to fix it."""

    status = 400


class ConflictError(WebUIError):
    """The request is valid but not now (for example cancelling a finished job)."""

    status = 409


class JobError(WebUIError):
    """A background job cannot be started or read."""

    status = 500
