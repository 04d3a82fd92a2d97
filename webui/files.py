"""Files of the instance folder, readable by the app's user only.

The instance folder holds the database (password hashes), the key that signs the session
cookies, the solve jobs' folders (scenarios, logs), the copies of published versions and
the cache of drawn files: nothing there is for other users of the machine. Folders are
made ``0700`` and files ``0600`` by the functions here (whatever the process's umask), and
:func:`make_private` tightens what an older version left readable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` (and missing parents) made as a folder only its owner can open."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(DIR_MODE)
    return path


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` (created or truncated) readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


def open_private(path: Path, mode: str = "ab") -> IO[bytes]:
    """``path`` opened for appending (binary), created readable by its owner only."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    return os.fdopen(fd, mode)


def make_private(root: Path) -> None:
    """Take group and other permissions off ``root`` and everything under it."""
    if not root.exists():
        return
    for folder, _dirs, files in os.walk(root):
        for name in (folder, *(os.path.join(folder, f) for f in files)):
            try:
                mode = os.lstat(name).st_mode
                if mode & 0o077 and not os.path.islink(name):
                    os.chmod(name, mode & 0o700)
            except FileNotFoundError:  # a temporary file another process just removed
                continue
