"""How numbers, dates and clock times read in each language (Vietnamese: decimal comma).

Plain functions over standard types, shared by the pages, the printed sheets and the maps.
"""

from __future__ import annotations

import datetime as dt

WEEKDAYS: dict[str, tuple[str, ...]] = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def parse_clock(text: str) -> dt.datetime:
    """A plan's ISO local time (``2026-12-07T13:30+07:00``) as an aware datetime."""
    return dt.datetime.fromisoformat(text)


def clock_text(when: dt.datetime) -> str:
    """``dd/mm HH:MM``, the way times are written on the route sheets."""
    return when.strftime("%d/%m %H:%M")


def time_text(when: dt.datetime) -> str:
    return when.strftime("%H:%M")


def date_text(day: dt.date, lang: str, *, weekday: bool = False) -> str:
    """``07/12/2026``, optionally preceded by the weekday (``Thứ Hai 07/12/2026``)."""
    text = day.strftime("%d/%m/%Y")
    if weekday:
        names = WEEKDAYS.get(lang, WEEKDAYS["vi"])
        text = f"{names[day.weekday()]} {text}"
    return text


def number(value: float | int, lang: str, *, digits: int = 1) -> str:
    """``1.234,5`` in Vietnamese, ``1,234.5`` in English."""
    text = f"{value:,.{digits}f}"
    if lang == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def percent(share: float, lang: str, *, digits: int = 1) -> str:
    """A share in 0..1 as a percentage: ``16,4%`` / ``16.4%``."""
    return number(share * 100, lang, digits=digits) + "%"


def hours_text(hours: float) -> str:
    """``5h26``: hours and minutes, the usual short form in both languages."""
    minutes = round(hours * 60)
    return f"{minutes // 60}h{minutes % 60:02d}"


def seconds_text(seconds: float, lang: str) -> str:
    """An elapsed time: ``42 s`` or ``3 min 05 s`` / ``3 phút 05 giây``."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} giây" if lang == "vi" else f"{seconds} s"
    m, s = divmod(seconds, 60)
    return f"{m} phút {s:02d} giây" if lang == "vi" else f"{m} min {s:02d} s"
