"""A small content-addressed disk cache for graphs and matrices.

Entries are pickles named by a digest of everything they were computed from, written
atomically (temp file + rename) so an interrupted run never leaves a half-written entry.
The folder is ``$PLANNER_CACHE_DIR`` or ``~/.cache/mobile-library-planner``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def cache_dir() -> Path:
    env = os.environ.get("PLANNER_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "mobile-library-planner"


def digest_of(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        if hasattr(part, "tobytes"):
            h.update(part.tobytes())  # numpy arrays
        else:
            h.update(repr(part).encode())
        h.update(b"\x00")
    return h.hexdigest()[:32]


def cached(kind: str, key: str, build: Callable[[], T]) -> tuple[T, bool]:
    """Return ``(value, hit)``: the cached value for ``kind/key`` or a freshly built one."""
    path = cache_dir() / kind / f"{key}.pkl"
    if path.is_file():
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh), True
        except Exception as exc:  # a corrupt entry is rebuilt, never trusted
            log.warning("ignoring unreadable cache entry %s: %s", path, exc)
    value = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not write cache entry %s: %s", path, exc)
    return value, False
