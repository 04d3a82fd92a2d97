"""Errors of the storage layer (no Flask here: the web layer maps them to pages, the command
line to messages)."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of the storage errors."""


class DatabaseConfigError(StorageError, ValueError):
    """The database URL cannot be used (unknown scheme, missing driver...)."""


class DatabaseUnavailableError(StorageError):
    """The database cannot be reached, or stayed locked past its timeout; nothing of the
    unit of work was written."""


class DuplicateError(StorageError, ValueError):
    """A record with this name exists already (a user name, a scenario name)."""


class RecordNotFoundError(StorageError, LookupError):
    """No user, plan or version with this name or number."""


class InvalidRecordError(StorageError, ValueError):
    """A value that cannot be stored (unknown role, bad GeoJSON, dates in the wrong order);
    the message says which and how to fix it."""


class ImmutableError(StorageError):
    """An attempt to change or delete a published plan version."""
