"""The message catalogue and the choice of language."""

from __future__ import annotations

import string

from webui.i18n import LANGUAGES, MESSAGES, Translator, pick_language, translate


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_message_has_every_language_with_the_same_placeholders() -> None:
    for key, entry in MESSAGES.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(entry[lang].strip() for lang in LANGUAGES), key
        assert _fields(entry["vi"]) == _fields(entry["en"]), key


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
    vi, en = Translator("vi"), Translator("en")
    assert vi.day_offset(0) == "" and vi.day_offset(1) == "+1 ngày"
    assert en.day_offset(1) == "+1 day" and en.day_offset(3) == "+3 days"
    assert vi("approximate_position") == "Vị trí gần đúng"
    assert vi.reason("no_room_time").startswith("Không chèn được")
    assert en.reason("made_up_code") == "made_up_code"
