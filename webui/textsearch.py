"""Search that forgives missing Vietnamese diacritics: "dong van", "Đồng Văn" and "ĐỒNG VĂN"
all find Xã Đồng Văn.

:func:`fold_vietnamese` maps a text to its search form (no tone or vowel marks, ``đ`` as
``d``, case-folded); :func:`matches` says whether every word of a query occurs in a text,
:func:`matches_field` whether they all occur in one of several fields (so "dong van" does
not find a commune merged from "Đông Minh" and "Vần Chải").
People type without diacritics on phones and on keyboards without a Vietnamese input method,
so the page must not depend on them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_D = str.maketrans({"đ": "d", "Đ": "d"})
_SPACES = re.compile(r"\s+")


def _strip_marks(text: str) -> str:
    """NFD, drop every combining mark, ``đ``/``Đ`` -> ``d``."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_D)


def fold_vietnamese(text: str) -> str:
    """``text`` without diacritics, ``đ``/``Đ`` as ``d``, case-folded, runs of white space
    as one space: ``"Xã Đồng Văn"`` -> ``"xa dong van"``.

    Decomposes to NFD and drops every combining mark, so precomposed (NFC) and decomposed
    input fold the same way; marks are stripped again after case folding, which can bring
    new ones (``"İ".casefold()`` is ``i`` + a combining dot).
    """
    return _SPACES.sub(" ", _strip_marks(_strip_marks(text).casefold())).strip()


def query_terms(query: str) -> tuple[str, ...]:
    """The folded words of a search query (empty for a blank query)."""
    return tuple(fold_vietnamese(query).split())


def matches(terms: Iterable[str], haystack: str) -> bool:
    """Whether every folded term occurs in ``haystack`` (already folded)."""
    return all(term in haystack for term in terms)


def matches_field(terms: Iterable[str], fields: Iterable[str]) -> bool:
    """Whether every folded term occurs in one and the same of ``fields`` (already folded);
    no terms match anything."""
    terms = tuple(terms)
    return not terms or any(matches(terms, field) for field in fields)
