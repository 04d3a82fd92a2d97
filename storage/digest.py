"""The digest that stored records keep of their text (plans, published versions, scenarios),
so that an unchanged file is recognised without comparing it byte by byte."""

from __future__ import annotations

import hashlib


def sha256_hex(data: bytes | str) -> str:
    """The SHA-256 of ``data`` (text as UTF-8), in hexadecimal."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()
