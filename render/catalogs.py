"""Maintenance of the web UI's message catalogues (a developer tool, not used by the app).

The catalogues are gettext files under ``render/translations/<lang>/LC_MESSAGES/``: the
``messages.po`` files are edited (by hand, or with Poedit and the like), the ``messages.mo``
files beside them are compiled from them and committed, so the app reads them with no
extra dependency (:func:`render.i18n.read_mo`). Message ids are short keys
(``route_sheet_for``), texts use ``str.format`` placeholders (``{vehicle}``).

Commands (they need Babel, from the ``test`` extra: ``pip install -e '.[test]'``)::

    python -m render.catalogs add KEY --vi "Văn bản" --en "Text" [--after OTHER_KEY]
    python -m render.catalogs compile     # messages.po -> messages.mo, every language
    python -m render.catalogs check       # exit 1 if a .mo is missing or older than its .po

A test (``tests/webui/test_webui_i18n.py``) fails when a ``.mo`` does not match its ``.po``.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from render.i18n import LANGUAGES, TRANSLATIONS_DIR, read_mo

DOMAIN = "messages"
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}")


class CatalogueFileError(Exception):
    """A ``.po`` file that cannot be compiled as it is."""


def po_path(lang: str, root: Path = TRANSLATIONS_DIR) -> Path:
    return root / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str, root: Path = TRANSLATIONS_DIR) -> Path:
    return root / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def read_catalog(lang: str, root: Path = TRANSLATIONS_DIR) -> Catalog:
    """The ``.po`` catalogue of ``lang``, parsed by Babel."""
    path = po_path(lang, root)
    with path.open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def po_messages(catalog: Catalog) -> dict[str, str]:
    """``msgid -> msgstr`` of the translated, non-fuzzy messages of ``catalog``."""
    return {str(m.id): str(m.string) for m in catalog
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def _problems(catalog: Catalog, path: Path) -> list[str]:
    problems = []
    for m in catalog:
        if not m.id:
            continue
        where = f"{path}:{m.lineno} msgid {m.id!r}"
        if not isinstance(m.id, str):
            problems.append(f"{where}: plural messages are not used by this app")
        elif not m.string:
            problems.append(f"{where}: empty translation")
        elif m.fuzzy:
            problems.append(f"{where}: marked fuzzy; check the text and remove the flag")
    return problems


def compiled(catalog: Catalog) -> bytes:
    """``catalog`` as ``.mo`` bytes."""
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_catalogs(root: Path = TRANSLATIONS_DIR,
                     languages: Sequence[str] = LANGUAGES) -> list[Path]:
    """Compile every language's ``.po`` to its ``.mo``; nothing is written unless every
    catalogue is usable (all problems are reported at once)."""
    catalogs, problems = {}, []
    for lang in languages:
        catalog = read_catalog(lang, root)
        problems += _problems(catalog, po_path(lang, root))
        catalogs[lang] = catalog
    if problems:
        raise CatalogueFileError("\n".join(problems))
    out = []
    for lang, catalog in catalogs.items():
        _write_atomic(mo_path(lang, root), compiled(catalog))
        out.append(mo_path(lang, root))
    return out


def stale_catalogs(root: Path = TRANSLATIONS_DIR,
                   languages: Sequence[str] = LANGUAGES) -> list[str]:
    """Languages whose ``.mo`` is missing or does not hold exactly the ``.po`` messages."""
    stale = []
    for lang in languages:
        try:
            have = read_mo(mo_path(lang, root).read_bytes())
        except (OSError, ValueError):
            stale.append(lang)
            continue
        if have != po_messages(read_catalog(lang, root)):
            stale.append(lang)
    return stale


def placeholders(text: str) -> set[str]:
    """The ``str.format`` field names of ``text`` (``{n}``, ``{vehicle}``)."""
    return set(PLACEHOLDER.findall(text))


def add_message(key: str, texts: Mapping[str, str], *, after: str | None = None,
                comment: str | None = None, root: Path = TRANSLATIONS_DIR) -> None:
    """Add message ``key`` with its text in every language (``texts``), after message
    ``after`` (default: at the end), then recompile. Refuses a key that exists, a missing
    language or texts whose placeholders differ."""
    missing = [lang for lang in LANGUAGES if not texts.get(lang, "").strip()]
    if missing:
        raise CatalogueFileError(f"message {key!r}: no text for {', '.join(missing)}")
    fields = {lang: placeholders(texts[lang]) for lang in LANGUAGES}
    if len({frozenset(f) for f in fields.values()}) > 1:
        raise CatalogueFileError(f"message {key!r}: placeholders differ between languages: "
                                 f"{fields}")
    catalogs = {lang: read_catalog(lang, root) for lang in LANGUAGES}
    for lang, catalog in catalogs.items():
        if key in catalog:
            raise CatalogueFileError(f"message {key!r} is already in {po_path(lang, root)}")
    for lang, catalog in catalogs.items():
        message = Message(key, texts[lang], user_comments=[comment] if comment else [])
        messages = list(catalog)[1:]  # without the header
        position = next((i + 1 for i, m in enumerate(messages) if m.id == after),
                        len(messages)) if after else len(messages)
        messages.insert(position, message)
        for m in messages:
            del catalog[m.id]
        for m in messages:
            catalog[m.id] = m
        buf = io.BytesIO()
        write_po(buf, catalog, width=100, omit_header=False, sort_output=False)
        _write_atomic(po_path(lang, root), buf.getvalue())
    compile_catalogs(root)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m render.catalogs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("compile", help="compile every messages.po to messages.mo")
    sub.add_parser("check", help="fail if a messages.mo is out of date")
    add = sub.add_parser("add", help="add a message to every catalogue and recompile")
    add.add_argument("key")
    for lang in LANGUAGES:
        add.add_argument(f"--{lang}", required=True, help=f"the text in {lang}")
    add.add_argument("--after", help="put it after this message id (default: at the end)")
    add.add_argument("--comment", help="a comment for translators")
    args = parser.parse_args(argv)
    try:
        if args.command == "compile":
            for path in compile_catalogs():
                print(f"wrote {path}")
        elif args.command == "check":
            stale = stale_catalogs()
            if stale:
                print(f"out of date: {', '.join(stale)}; run python -m render.catalogs compile",
                      file=sys.stderr)
                return 1
            print("catalogues up to date")
        else:
            add_message(args.key, {lang: getattr(args, lang) for lang in LANGUAGES},
                        after=args.after, comment=args.comment)
            print(f"added {args.key!r} to {', '.join(LANGUAGES)} and recompiled")
    except CatalogueFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["add_message", "compile_catalogs", "placeholders", "stale_catalogs"]
