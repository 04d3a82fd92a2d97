"""The gettext message catalogues and the choice of language.

Every key the templates and the code use must exist in both catalogues with the same
placeholders; Vietnamese texts must be NFC with their diacritics; the committed ``.mo``
files must match the ``.po`` files they are compiled from.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from webui_testkit import PROJECT_ROOT

from geodata.osm import DRIVABLE_CLASSES
from render.catalogs import (
    CatalogueFileError,
    add_message,
    placeholders,
    po_messages,
    read_catalog,
    stale_catalogs,
)
from render.exports import EXPORT_FORMATS
from render.i18n import (
    LANGUAGES,
    TRANSLATIONS_DIR,
    CatalogueError,
    Translator,
    catalogue,
    has_message,
    pick_language,
    read_mo,
    translate,
)
from storage.models import JOB_STATUSES, OUTCOME_STATUSES, ROLES

WEBUI = PROJECT_ROOT / "webui"
# _("key") / _('key') in templates; _("key"), g.tr("key"), self("key"), Translator(l)("key")
# in code. An f-string or a concatenation is a dynamic key: see DYNAMIC below.
TEMPLATE_KEY = re.compile(r"""(?<![\w.])_\(\s*(['"])([a-z0-9_]+)\1\s*[,)]""")
TEMPLATE_DYNAMIC = re.compile(r"""(?<![\w.])_\(\s*(['"])([a-z0-9_]*?)(%d)?\1\s*[~%+]""")
CODE_KEY = re.compile(r"""(?:(?<![\w.])_|\btr|\bself|\))\(\s*(['"])([a-z0-9_]+)\1""")
# Any f-string starting with "word_{": keys made in code (f"road_{road_class}").
CODE_DYNAMIC = re.compile(r"""\bf(['"])([a-z][a-z0-9]*_)\{""")


def _stages() -> set[str]:
    """The job stages the worker writes (``stage="..."``), plus ``queued``."""
    text = (WEBUI / "worker.py").read_text(encoding="utf-8")
    return set(re.findall(r"""stage=["'](\w+)["']""", text)) | {"queued"}


from geodata.directions import COMPASS  # noqa: E402
from planner.fleet import STOP_CODES  # noqa: E402
from planner.kpis import COMPARE_ROWS  # noqa: E402
from render.stopcard import WAIT_REASONS  # noqa: E402
from storage.models import MOVE_KINDS, SWEEP_KINDS  # noqa: E402
from webui.batches import PLACE_KINDS as BATCH_PLACE_KINDS  # noqa: E402
from webui.batches import TABLES as BATCH_TABLES  # noqa: E402
from webui.fleet import FIELDS as FLEET_FIELDS  # noqa: E402


def _reason_codes() -> set[str]:
    """The unserved reason codes :mod:`planner.explain` writes."""
    text = (PROJECT_ROOT / "planner" / "explain.py").read_text(encoding="utf-8")
    codes = set(re.findall(r"""\badd\(\s*["'](\w+)["']""", text))
    codes |= set(re.findall(r"""Unserved\([^)]*?["'](\w+)["']\s*,""", text))
    codes |= set(re.findall(r"""^\s*\(["'](no_room_\w+)["'],\s*_""", text, re.MULTILINE))
    return codes


# Dynamic key prefixes and every value they are completed with.
DYNAMIC: dict[str, set[str]] = {
    "status_": set(JOB_STATUSES),
    "stage_": _stages(),
    "error_": {"400", "403", "404", "409", "413", "500"},
    "export_": set(EXPORT_FORMATS),
    "reason_": _reason_codes(),
    "road_": set(DRIVABLE_CLASSES),
    "transfer_": {"collect", "deliver", "collect_unknown", "deliver_unknown"},
    "wait_": set(WAIT_REASONS),
    "turn_": {"depart", "arrive", "straight", "uturn"} | {
        f"{size}{side}" for size in ("", "slight_", "sharp_") for side in ("left", "right")},
    "heading_": set(COMPASS),
    "role_": set(ROLES),
    "sweep_kind_": set(SWEEP_KINDS),
    "sweep_status_": {"ok", "failed"},
    "sweep_col_": {"wall_s", "peak_rss_mb"},
    "fleet_stopped_": set(STOP_CODES),
    "outcome_": set(OUTCOME_STATUSES),
    "cmp_": {key for key, _, _ in COMPARE_ROWS if not key.startswith("meets_")},
    "batch_confirm_": {"delivered", "collected"},
    "batch_confirmed_": {"delivered", "collected", "missing"},
    "batches_table_": set(BATCH_TABLES),
    "move_kind_": set(MOVE_KINDS),
    "place_kind_": set(BATCH_PLACE_KINDS),
    # a commune's reader profile fields, and vehicle profiles (Translator.profile)
    "profile_": {"shelf_crates", "batches_per_visit", "truck", "van", "motorbike"},
    # a fleet vehicle's field named in a refusal (webui.fleet, storage.fleet.FleetFieldError)
    "fleet_": set(FLEET_FIELDS),
    # the trip calendar's month names and weekday columns (webui/tripcalendar.py)
    "cal_month_": {str(m) for m in range(1, 13)},
    "cal_wd_": {str(d) for d in range(7)},
}


def _sources() -> tuple[list[Path], list[Path]]:
    templates = sorted((WEBUI / "templates").rglob("*.html"))
    code = sorted(p for root in (WEBUI, PROJECT_ROOT / "render") for p in root.rglob("*.py")
                  if p.name not in {"catalogs.py"})
    return templates, code


def used_keys() -> tuple[dict[str, set[str]], set[str]]:
    """``key -> files using it`` (literal keys) and the dynamic prefixes in use."""
    keys: dict[str, set[str]] = {}
    prefixes: set[str] = set()
    templates, code = _sources()
    for paths, literal, dynamic in ((templates, TEMPLATE_KEY, TEMPLATE_DYNAMIC),
                                    (code, CODE_KEY, CODE_DYNAMIC)):
        for path in paths:
            text = path.read_text(encoding="utf-8")
            for m in literal.finditer(text):
                keys.setdefault(m.group(2), set()).add(path.name)
            prefixes.update(m.group(2) for m in dynamic.finditer(text))
    return keys, prefixes


def test_scanner_finds_keys_of_templates_and_code() -> None:
    keys, prefixes = used_keys()
    assert "sheet.html" in keys["route_sheet_for"]
    assert "jobs.py" in keys["bad_time_limit"]  # g.tr("...")
    assert "pdf.py" in keys["page_n_of"]  # Translator(lang)("page_n_of", ...)
    assert {"status_", "stage_", "error_", "export_", "road_", "reason_",
            "transfer_"} <= prefixes


def test_every_key_used_exists_in_both_catalogues() -> None:
    keys, prefixes = used_keys()
    assert len(keys) > 100
    for lang in LANGUAGES:
        missing = {k: sorted(files) for k, files in keys.items() if k not in catalogue(lang)}
        assert not missing, f"not in the {lang} catalogue: {missing}"
    unknown = prefixes - set(DYNAMIC)
    assert not unknown, f"dynamic message keys {unknown}: add their values to DYNAMIC"
    for prefix in prefixes:
        for value in DYNAMIC[prefix]:
            for lang in LANGUAGES:
                assert f"{prefix}{value}" in catalogue(lang), (lang, prefix + value)


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    vi, en = catalogue("vi"), catalogue("en")
    assert set(vi) == set(en)
    for key in vi:
        assert vi[key].strip() and en[key].strip(), key
        assert placeholders(vi[key]) == placeholders(en[key]), key
        # Every placeholder can be filled (no stray braces).
        values = {name: "x" for name in placeholders(vi[key])}
        vi[key].format(**values)
        en[key].format(**values)


def test_vietnamese_texts_are_nfc_with_diacritics() -> None:
    vi, en = catalogue("vi"), catalogue("en")
    for key, text in vi.items():
        assert unicodedata.is_normalized("NFC", text), key
        assert "\ufffd" not in text, key
        words = re.findall(r"[^\W\d_]{2,}", re.sub(r"\{\w+\}", "", text))
        decomposed = unicodedata.normalize("NFD", text)
        marked = any(unicodedata.combining(c) for c in decomposed) or "đ" in text.lower()
        # Two Vietnamese words without one diacritic is a text typed without its marks
        # (proper names and codes are the same in both languages and are left alone).
        if len(words) >= 2 and text != en[key]:
            assert marked, f"{key}: {text!r} has no Vietnamese diacritics"
    assert vi["approximate_position"] == "Vị trí gần đúng"
    assert vi["route_sheet_for"].startswith("Phiếu lộ trình")


def test_compiled_catalogues_match_their_po_files() -> None:
    assert stale_catalogs() == [], "run: python -m render.catalogs compile"
    for lang in LANGUAGES:
        catalog = read_catalog(lang)
        assert str(catalog.locale) == lang
        assert catalog.charset.lower() == "utf-8"
        assert not catalog.fuzzy
        assert all(not m.fuzzy and m.string for m in catalog if m.id), lang
        assert po_messages(catalog) == dict(catalogue(lang))


def test_read_mo_reads_what_gettext_reads() -> None:
    import gettext

    path = TRANSLATIONS_DIR / "vi" / "LC_MESSAGES" / "messages.mo"
    with path.open("rb") as fh:
        stdlib = gettext.GNUTranslations(fh)
    messages = read_mo(path.read_bytes())
    assert all(stdlib.gettext(k) == v for k, v in messages.items())
    with pytest.raises(ValueError, match="magic"):
        read_mo(b"\0" * 40)
    with pytest.raises(ValueError, match="short"):
        read_mo(b"")


def test_missing_catalogue_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"messages\.mo.*render\.catalogs compile"):
        catalogue("vi", tmp_path)
    with pytest.raises(CatalogueError, match="'fr'"):
        catalogue("fr")


def test_add_message_writes_both_catalogues(tmp_path: Path) -> None:
    root = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS_DIR, root)
    add_message("test_hello", {"vi": "Xin chào {name}", "en": "Hello {name}"},
                after="app_title", root=root)
    for lang, text in (("vi", "Xin chào {name}"), ("en", "Hello {name}")):
        messages = catalogue(lang, root)
        assert messages["test_hello"] == text
        assert list(po_messages(read_catalog(lang, root)))[:2] == ["app_title", "test_hello"]
    assert stale_catalogs(root) == []
    with pytest.raises(CatalogueFileError, match="already"):
        add_message("test_hello", {"vi": "a", "en": "b"}, root=root)
    with pytest.raises(CatalogueFileError, match="placeholders"):
        add_message("test_bad", {"vi": "{n} xã", "en": "{count} communes"}, root=root)
    with pytest.raises(CatalogueFileError, match="no text for en"):
        add_message("test_bad", {"vi": "Một"}, root=root)


def test_pick_language() -> None:
    assert pick_language({}, {}) == "vi"
    assert pick_language({"lang": "en"}, {}) == "en"
    assert pick_language({}, {"lang": "en"}) == "en"
    assert pick_language({"lang": "vi"}, {"lang": "en"}) == "vi"
    assert pick_language({"lang": "fr"}, {"lang": "xx"}) == "vi"
    assert pick_language({"lang": "EN-gb"}, {}) == "en"


def test_translate_and_day_offsets() -> None:
    assert translate("crates_n", "vi", n=5) == "5 thùng"
    assert translate("crates_n", "en", n=5) == "5 crates"
    assert translate("no-such-key", "en") == "no-such-key"
    assert translate("crates_n", "fr", n=2) == "2 thùng"  # unknown language: Vietnamese
    vi, en = Translator("vi"), Translator("en")
    assert vi.day_offset(0) == "" and vi.day_offset(1) == "+1 ngày"
    assert en.day_offset(1) == "+1 day" and en.day_offset(3) == "+3 days"
    assert vi("approximate_position") == "Vị trí gần đúng"
    assert vi.reason("no_room_time").startswith("Không chèn được")
    assert en.reason("made_up_code") == "made_up_code"
    assert en.road_class("track") == "track" and vi.road_class("track") == "đường đất"
    assert vi.road_class("made_up") == "made_up"
    assert has_message("app_title") and not has_message("made_up")


def test_former_messages_mapping_still_reads() -> None:
    from render import i18n

    assert i18n.MESSAGES["crates_n"] == {"vi": "{n} thùng", "en": "{n} crates"}


def test_every_keyed_input_problem_is_worded_in_every_language() -> None:
    """Scenario and form problems carry catalogue keys (pydantic's error types and our own
    validators' KeyedValueError): each has its message in every language, with the same
    placeholders the code fills."""
    from planner.scenario import PYDANTIC_KEYS

    code = (PROJECT_ROOT / "planner" / "scenario.py").read_text(encoding="utf-8")
    keys = set(PYDANTIC_KEYS.values()) | set(re.findall(
        r'(?:KeyedValueError\(\s*|key=|fix_key=)"(problem_[a-z_]+)"', code))
    assert len(keys) > 20 and "problem_window_order" in keys and "problem_fix_docs" in keys
    for lang in LANGUAGES:
        missing = sorted(k for k in keys if k not in catalogue(lang))
        assert not missing, (lang, missing)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_each_key_is_in_its_catalogue_once(lang: str) -> None:
    """A key given twice means one of its pages shows the other's text (two branches that
    each added a key of the same name, merged)."""
    po = PROJECT_ROOT / "render" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    keys = re.findall(r'^msgid "(.+)"$', po.read_text(encoding="utf-8"), flags=re.M)
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []
