"""Vietnamese/English messages from gettext catalogues, and the choice of language per request.

WHERE TO ADD A MESSAGE: every text the UI shows lives in the gettext catalogues
``render/translations/vi/LC_MESSAGES/messages.po`` and ``render/translations/en/LC_MESSAGES/
messages.po`` (there is no dictionary of messages in this module any more). A message id is a
short key (``route_sheet_for``), its text uses ``str.format`` placeholders (``{vehicle}``), the
same ones in both languages. Add a message to both files at once and recompile with
``python -m render.catalogs add KEY --vi "Văn bản có dấu" --en "Text"`` (or edit both ``.po``
files and run ``python -m render.catalogs compile``); commit the ``.po`` and the ``.mo``. Use it
as ``_("KEY", name=value)`` in templates and ``g.tr("KEY", ...)`` or
``Translator(lang)("KEY", ...)`` in code. ``tests/webui/test_webui_i18n.py`` checks that every
key used exists in both languages with the same placeholders, that Vietnamese texts carry
their diacritics (NFC), and that each ``.mo`` matches its ``.po``.

The compiled ``.mo`` files are read here with the standard library (:func:`read_mo`), so the
app needs no i18n package at run time; Babel is only needed to compile them.
"""

from __future__ import annotations

import functools
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LANGUAGES: tuple[str, ...] = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
COOKIE_NAME = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

_MO_MAGIC = 0x950412DE

# Why a solve was not seeded by PyVRP, as planner.solve.seeding_possible and
# planner._pyvrp.seed_unsupported write it (stored in plans) -> the catalogue key that words it
# (tests/webui/test_webui_language.py checks that every reason the planner writes is here).
SEED_REASON_KEYS: Mapping[str, str] = {
    "seeding switched off": "seed_reason_off",
    "re-planning keeps visits fixed, which only the OR-Tools model expresses":
        "seed_reason_replan",
    "trips over several days (night rests) are modelled by OR-Tools only": "seed_reason_nights",
    "a commune in several transfers (PyVRP serves each shipment's ends apart)":
        "seed_reason_multi_transfer",
    "a transfer stop that also delivers or collects crates": "seed_reason_transfer_stop",
    "pair load outside the transfer pairs": "seed_reason_pair_load",
}
# A note a scenario's author or the product marks as an assumption: "ASSUMPTION: ..." or
# "ASSUMPTION default: ..."; its label is worded, the rest stays as written.
_ASSUMPTION = re.compile(r"^\s*ASSUMPTION(?: default)?\s*:\s*")

# Message keys of the plan checker's violation kinds (planner/check.py); others read as
# "violation_other".
VIOLATION_LABELS: Mapping[str, str] = {
    "time_window": "violation_time_window", "capacity": "violation_capacity",
    "load": "violation_load", "driver_hours": "violation_driver_hours",
    "driving_hours": "violation_driving_hours", "break": "violation_break",
    "lodging": "violation_lodging", "access": "violation_access",
    "no_road": "violation_no_road", "horizon": "violation_horizon",
    "trip_days": "violation_trip_days", "transfer": "violation_transfer",
    "missing": "violation_missing", "duplicate": "violation_duplicate",
    "trips": "violation_trips", "season_day": "violation_season_day",
    "season_gap": "violation_season_gap", "season_count": "violation_season_count",
    "season_fixed": "violation_season_fixed", "season_record": "violation_season_record",
    "season_batch": "violation_season_batch",
}


class CatalogueError(Exception):
    """A compiled message catalogue is missing or cannot be read."""


def read_mo(data: bytes) -> dict[str, str]:
    """The messages of a compiled gettext catalogue (``.mo`` bytes, UTF-8): ``msgid ->
    msgstr``, without the header entry."""
    if len(data) < 28:
        raise ValueError("not a gettext .mo file: too short")
    for order in ("<", ">"):
        magic, _revision, count, ids_at, strs_at = struct.unpack_from(f"{order}5I", data)
        if magic == _MO_MAGIC:
            break
    else:
        raise ValueError("not a gettext .mo file: bad magic number")
    out: dict[str, str] = {}
    for i in range(count):
        id_len, id_at = struct.unpack_from(f"{order}2I", data, ids_at + 8 * i)
        str_len, str_at = struct.unpack_from(f"{order}2I", data, strs_at + 8 * i)
        if id_at + id_len > len(data) or str_at + str_len > len(data):
            raise ValueError(f"not a gettext .mo file: entry {i} points past the end")
        msgid = data[id_at:id_at + id_len].decode("utf-8")
        if msgid:
            out[msgid] = data[str_at:str_at + str_len].decode("utf-8")
    return out


@functools.lru_cache(maxsize=8)
def catalogue(lang: str, root: Path = TRANSLATIONS_DIR) -> Mapping[str, str]:
    """The messages of ``lang`` (read once per process from its compiled ``.mo``)."""
    if lang not in LANGUAGES:
        raise CatalogueError(f"no message catalogue for language {lang!r}; "
                             f"the languages are {', '.join(LANGUAGES)}")
    path = root / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    try:
        return read_mo(path.read_bytes())
    except FileNotFoundError:
        raise CatalogueError(f"{path}: compiled message catalogue missing; run "
                             "`python -m render.catalogs compile`") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot read the message catalogue ({exc}); run "
                             "`python -m render.catalogs compile`") from None


def has_message(key: str) -> bool:
    """Whether ``key`` is a message id (of the default language's catalogue)."""
    return key in catalogue(DEFAULT_LANGUAGE)


def translate(key: str, lang: str, /, **values: Any) -> str:
    """The message ``key`` in ``lang`` (falling back to Vietnamese), formatted with ``values``.

    An unknown key is returned as is, so a missing message shows up on the page instead of
    breaking it.
    """
    text = catalogue(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    if text is None:
        text = catalogue(DEFAULT_LANGUAGE).get(key)
    if text is None:
        return key
    return text.format(**values) if values else text


def normalise_language(value: str | None) -> str | None:
    """``value`` if it names a supported language (``"vi"``, ``"EN"``...), else ``None``."""
    if not value:
        return None
    value = value.strip().lower()[:2]
    return value if value in LANGUAGES else None


def pick_language(args: Mapping[str, str], cookies: Mapping[str, str]) -> str:
    """The page language: ``?lang=`` first, then the ``lang`` cookie, else Vietnamese."""
    return (normalise_language(args.get("lang")) or normalise_language(cookies.get(COOKIE_NAME))
            or DEFAULT_LANGUAGE)


@dataclass(frozen=True)
class Translator:
    """``translate`` bound to one language: the ``_`` of templates."""

    lang: str

    def __call__(self, key: str, /, **values: Any) -> str:
        return translate(key, self.lang, **values)

    def day_offset(self, days: int) -> str:
        """``"+1 ngày"`` / ``"+2 days"``; empty on the departure day."""
        if days <= 0:
            return ""
        return self("day_offset" if days == 1 else "day_offset_plural", n=days)

    def transfers(self, stop: Any) -> list[str]:
        """``["nhận 3 thùng để giao cho Xã Lũng Cú", ...]``: the hand-ons of crates at a
        :class:`~render.routeview.StopView` (empty when it has none); pages put them after the
        label ``_("transfer")`` ("Chuyển tiếp")."""
        out = []
        for kind, notes in (("collect", stop.transfers_out), ("deliver", stop.transfers_in)):
            for note in notes:
                if note.partner_name:
                    out.append(self(f"transfer_{kind}", n=note.crates,
                                    commune=note.partner_name))
                else:
                    out.append(self(f"transfer_{kind}_unknown", n=note.crates))
        return out

    def batch(self, batch: Any) -> str:
        """``"HG-2026-013 · 2 thùng · Tiếng Hmông Xanh (Hmông Njua) · thiếu nhi"``: a
        :class:`~planner.plan.PlanBatch` as sheets, labels and popups print it."""
        from planner.batches import AUDIENCES, languages

        names = languages()
        parts = [batch.batch_id]
        if batch.crates:
            parts.append(self("crates_n", n=batch.crates))
        lang_names = [(names[c].name_vi if self.lang == "vi" else names[c].name_en)
                      if c in names else c for c in batch.languages]
        if lang_names:
            parts.append(", ".join(lang_names))
        audiences = [AUDIENCES[a][0 if self.lang == "vi" else 1] if a in AUDIENCES else a
                     for a in batch.audiences]
        if audiences:
            parts.append(", ".join(audiences))
        return " · ".join(parts)

    def road_class(self, road_class: str) -> str:
        key = f"road_{road_class}"
        return self(key) if has_message(key) else road_class

    def message(self, key: str, values: Any = ()) -> str:
        """A :class:`planner.messages.Message` (or its ``key`` and ``values`` pairs) in this
        language: numbers in its notation, coded values (a profile, a field) worded too, a
        public holiday by its name in this language, a reason (a message carried as a value)
        in this language too."""
        from planner.messages import CODED_VALUES, HOLIDAY_VALUES, REASON_VALUES, reason_message
        from planner.workdays import holiday_text
        from render.formatting import number

        out: dict[str, Any] = {}
        for name, value in values:
            if name in HOLIDAY_VALUES:
                value = holiday_text(str(value), self.lang)
            elif name in REASON_VALUES and (reason := reason_message(value)) is not None:
                value = self.message(reason.key, reason.values)
            elif name in CODED_VALUES:
                prefix = CODED_VALUES[name]
                value = ", ".join(self(prefix + v) if has_message(prefix + v) else v
                                  for v in str(value).split(", "))
            elif isinstance(value, float):
                value = number(value, self.lang, digits=0 if value.is_integer() else 1)
            out[name] = value
        return self(key, **out)

    def problem(self, problem: Any) -> str:
        """An input problem (:class:`planner.errors.Problem`: a scenario, a form built as
        one) in this language when the catalogues word it, else its English message (text
        our own validators wrote without a key)."""
        key = getattr(problem, "key", "")
        if key and has_message(key):
            return self.message(key, problem.values)
        return str(problem.message)

    def problem_fix(self, problem: Any) -> str:
        """How to fix an input problem, in this language when the catalogues word it."""
        key = getattr(problem, "fix_key", "")
        if key and has_message(key):
            return self.message(key, problem.values)
        return str(problem.fix)

    def finding(self, finding: Any) -> str:
        """A plan checker's finding (:class:`planner.check.Violation`, or one stored in a
        plan): its message in this language; a finding stored without a key (plans before
        format version 3) reads as its kind's label, its English message only in English."""
        if getattr(finding, "key", "") and has_message(finding.key):
            return self.message(finding.key, finding.values)
        if self.lang == "en":
            return str(finding.message)
        return self(VIOLATION_LABELS.get(finding.kind, "violation_other"))

    def solver_status(self, code: str | None) -> str:
        """A solver's status code (``"PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED"``) in words."""
        key = f"solver_status_{(code or '').lower()}"
        return self(key) if code and has_message(key) else self("solver_status_unknown",
                                                                  code=code or "?")

    def strategy(self, code: str | None) -> str:
        """How a plan was searched (``"pyvrp-seed+ortools"``) in words."""
        key = "strategy_" + re.sub(r"[^a-z0-9]+", "_", (code or "").lower())
        return self(key) if has_message(key) else (code or "?")

    def seed_reason(self, text: str | None) -> str:
        """Why PyVRP did not seed a solve (the planner's English reason) in words."""
        key = SEED_REASON_KEYS.get((text or "").strip())
        return self(key) if key else self("seed_reason_other")

    def note(self, text: str) -> str:
        """A note as written, its leading ``ASSUMPTION:`` label worded (``GIẢ ĐỊNH:``)."""
        found = _ASSUMPTION.match(text)
        return f"{self('assumption_label')}: {text[found.end():]}" if found else text

    def batch_note(self, text: str) -> str:
        """Why no batch is left at a visit: the planner's English note on English pages, its
        worded gist on the others."""
        return text if self.lang == "en" or not text else self("batch_note_no_batch")

    def has_reason(self, reason_code: str) -> bool:
        """Whether an unserved reason code has its own message."""
        return has_message(f"reason_{reason_code}")

    def closure(self, closure: Any) -> str:
        """A :class:`~render.closures.ClosureView` in one line: its name, road, dates, how
        it closes the road and which communes it cuts off."""
        def day(d: Any) -> str:
            return d.strftime("%d/%m/%Y")

        if closure.start and closure.end:
            dates = self("closure_dates", start=day(closure.start), end=day(closure.end))
        elif closure.start:
            dates = self("closure_since", start=day(closure.start))
        elif closure.end:
            dates = self("closure_until", end=day(closure.end))
        else:
            dates = self("closure_undated")
        parts = [closure.name]
        if closure.ref and closure.ref not in closure.name:
            parts.append(self("closure_road", ref=closure.ref))
        parts.append(dates)
        parts.append(self("closure_closed") if closure.closed else
                     self("closure_slowed", pct=round(closure.speed_factor * 100)))
        if closure.cut_off:
            parts.append(self("closure_cuts_off", communes=", ".join(closure.cut_off)))
        return " · ".join(parts)

    def road(self, step: Any) -> str:
        """A :class:`~render.routeview.DirectionStep`'s road as text: ``"QL.4C (Quốc lộ 4C)"``,
        its names, else its class in words (``"đường liên xã (không tên)"``)."""
        names = ", ".join(step.names)
        if step.ref:
            return f"{step.ref} ({names})" if names else step.ref
        return names or self("road_unnamed", kind=self.road_class(step.road_class))

    def instruction(self, ins: Any) -> str:
        """A :class:`~render.directions.Instruction` in words: the turn and the road, the
        place at the junction, the villages passed before the next one."""
        if ins.turn == "arrive":
            return self("turn_arrive", place=ins.near)
        heading = self(f"heading_{ins.heading}") if ins.heading else ""
        text = self(f"turn_{ins.turn}", road=self.road(ins.road), heading=heading)
        if ins.turn not in ("depart", "straight"):
            text += f" ({self('dir_angle', deg=abs(round(ins.angle_deg)))})"
        if ins.near:
            text += f", {self('dir_near', place=ins.near)}"
        if ins.villages:
            text += f"; {self('dir_through', places=', '.join(ins.villages))}"
        return text

    def profile(self, code: str) -> str:
        """A vehicle profile (``"truck"``) in words: ``"xe thư viện lưu động"``."""
        key = f"profile_{code}"
        return self(key) if has_message(key) else code

    def weekday(self, code: str) -> str:
        """``"wed"`` -> ``"Thứ Tư"`` / ``"Wednesday"`` (a scenario's weekday code)."""
        key = f"lib_wd_{code}"
        return self(key) if has_message(key) else code

    def wait(self, wait: Any) -> str:
        """A :class:`~render.stopcard.Wait` in words: how long, and why."""
        from render.formatting import hours_text

        until = wait.until
        return self(f"wait_{wait.reason}", duration=hours_text(wait.seconds / 3600),
                    time=until.strftime("%H:%M"), date=until.strftime("%d/%m"),
                    weekday=self.weekday(wait.weekday) if wait.weekday else "")

    def night(self, night: Any) -> str:
        """A :class:`~render.stopcard.Night`: where the crew sleeps that night."""
        from render.formatting import number

        date = night.date.strftime("%d/%m")
        if night.kind == "road":
            return self("night_on_road", date=date, place=night.place,
                        km=number(night.km, self.lang, digits=0),
                        leg_km=number(night.leg_km, self.lang, digits=0))
        return self("night_at", date=date, place=night.place)

    def open_days(self, hours: Any) -> str:
        """The days an :class:`~render.stopcard.OpeningHours` applies to (a market day, an
        agreed reading day): ``"Thứ Tư, Thứ Năm"``."""
        if hours.weekdays:
            return ", ".join(self.weekday(d) for d in hours.weekdays)
        if hours.every_days and hours.anchor is not None:
            return self("days_every_n", n=hours.every_days,
                        date=hours.anchor.strftime("%d/%m/%Y"))
        return ", ".join(d.strftime("%d/%m") for d in hours.dates)

    def opening(self, hours: Any) -> str:
        """An :class:`~render.stopcard.OpeningHours`: spans and the days they apply to."""
        spans = ", ".join(hours.spans)
        if hours.weekdays:
            return self("hours_weekdays", spans=spans,
                        days=", ".join(self.weekday(d) for d in hours.weekdays))
        if hours.every_days and hours.anchor is not None:
            return self("hours_every_n", spans=spans, n=hours.every_days,
                        date=hours.anchor.strftime("%d/%m/%Y"))
        if hours.dates:
            return self("hours_dates", spans=spans,
                        dates=", ".join(d.strftime("%d/%m") for d in hours.dates))
        return self("hours_every_day", spans=spans)

    def reason(self, reason_code: str) -> str:
        key = f"reason_{reason_code}"
        return self(key) if has_message(key) else reason_code


def __getattr__(name: str) -> Any:
    """``MESSAGES`` (read-only, built on first use): ``key -> {lang: text}`` for code written
    against the former dictionary catalogue. New code should call :func:`translate`."""
    if name == "MESSAGES":
        return {key: {lang: catalogue(lang).get(key, text) for lang in LANGUAGES}
                for key, text in catalogue(DEFAULT_LANGUAGE).items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
