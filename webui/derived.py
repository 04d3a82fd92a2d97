"""A disk cache of drawn files (route-sheet PDFs, their overview maps, exports), by digest of
what they are drawn from.

A file's key is the SHA-256 of its kind and arguments (vehicle, language...), the digests
of the plan's ``plan.json`` and ``routes.geojson`` and of the code that draws it (the
sources of :mod:`render` and the message catalogues, :func:`code_digest`), so a published
version's PDF is drawn once and then read from disk, and a changed plan, a new version of
the code or another language never meets a stale file. Files live in
``<instance folder>/cache/derived`` (readable by the app's user only); the cache never holds
more than ``max_bytes``: after each write the least recently used files go until it is at
most nine tenths full. While one request draws a file, the others that want the same file
wait for it instead of drawing it too (twenty drivers opening the new sheet at once draw it
once). ``max_bytes = 0`` switches the cache off (every request draws).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from render import ASSETS_DIR
from webui.files import private_dir, write_private

log = logging.getLogger(__name__)

RENDER_DIR = ASSETS_DIR.parent
PRUNE_TO = 0.9  # after pruning, the cache holds at most this share of its limit


@functools.cache
def code_digest() -> str:
    """A digest of the code and catalogues that draw the cached files (read once per
    process): a new version of them draws every file again."""
    h = hashlib.sha256()
    sources: Iterable[Path] = sorted([*RENDER_DIR.glob("*.py"),
                                      *RENDER_DIR.glob("translations/*/LC_MESSAGES/*.mo"),
                                      Path(__file__).with_name("sheets.py"),
                                      Path(__file__).with_name("plans.py")])
    for path in sources:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    """The SHA-256 of the file at ``path`` (computed once per modification), or ``"-"`` if
    there is none."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "-"
    return _file_digest(str(path), st.st_mtime_ns, st.st_size)


@dataclass
class DerivedCache:
    """Drawn files under ``root``, at most ``max_bytes`` of them (0: no cache)."""

    root: Path
    max_bytes: int
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def key(self, kind: str, folder: Path, *parts: object) -> str:
        """The key of file ``kind`` of the plan in ``folder`` drawn with ``parts``."""
        text = json.dumps([kind, code_digest(), file_digest(folder / "plan.json"),
                           file_digest(folder / "routes.geojson"),
                           file_digest(folder / "scenario.json"), *map(str, parts)])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str, make: Callable[[], bytes]) -> bytes:
        """The file of ``key``: read from the cache, or made by ``make`` (once, however many
        requests ask at the same time) and kept."""
        if not self.enabled:
            return make()
        path = self._path(key)
        found = self._read(path)
        if found is not None:
            return found
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            found = self._read(path)  # drawn while this request waited
            if found is None:
                found = make()
                self._write(path, found)
        with self._guard:
            self._locks.pop(key, None)
        return found

    def _read(self, path: Path) -> bytes | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: pruned last
        return data

    def _write(self, path: Path, data: bytes) -> None:
        if len(data) > self.max_bytes * PRUNE_TO:
            return  # a file larger than the cache is not kept
        try:
            private_dir(path.parent)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
            write_private(tmp, data)
            tmp.replace(path)
            self.prune()
        except OSError as exc:  # a full disk slows the app down, it does not break it
            log.warning("derived file cache: %s not kept (%s)", path.name, exc)

    def prune(self) -> int:
        """Remove the least recently used files while the cache holds more than its limit;
        returns how many were removed."""
        files = []
        total = 0
        for path in self.root.glob("*/*"):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            files.append((st.st_mtime, st.st_size, path))
            total += st.st_size
        if total <= self.max_bytes:
            return 0
        removed = 0
        for _mtime, size, path in sorted(files, key=lambda f: f[0]):
            if total <= self.max_bytes * PRUNE_TO:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        log.info("derived file cache: %d file(s) removed, %.1f MB kept", removed, total / 1e6)
        return removed
