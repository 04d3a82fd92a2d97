"""Commune libraries: their edited values, kept with every changed field, checked before
they are stored (by the code and by the database), and the audit of edits."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy.exc import IntegrityError
from storage_testkit import make_user

from planner.libraries import LibraryValues
from storage import Database, InvalidRecordError, libraries
from storage.models import LibraryOverride

LUNG_CU = "00715"


def test_library_edits_are_audited(db: Database) -> None:
    uid = make_user(db)
    with db.begin() as s:
        n = libraries.record_library_edits(
            s, commune_code="00715", user_id=uid,
            changes=[("phone", None, "0219 3 856 123"), ("lodging", "nhà văn hóa", "nhà văn hóa"),
                     ("lat", "23.36", "23.3612")])
    assert n == 2
    with db.begin() as s:
        history = libraries.library_history(s, commune_code="00715")
        assert {(e.field, e.old_value, e.new_value) for e in history} == {
            ("phone", None, "0219 3 856 123"), ("lat", "23.36", "23.3612")}
        assert all(e.edited_by == "dispatcher" and e.edited_at.tzinfo for e in history)
        assert libraries.library_history(s, commune_code="00721") == []


def test_library_values_are_kept_with_every_change(db: Database) -> None:
    lan, minh = make_user(db, "lan"), make_user(db, "minh")
    first = LibraryValues(lon=105.31, lat=23.36, contact="Chị Lan 0912",
                          opening_hours=(("07:30", "11:30"), ("13:30", "16:00")),
                          market_weekdays=("wed", "sun"), lodging=False)
    with db.begin() as s:
        assert libraries.save_library_values(s, commune_code=LUNG_CU, values=first,
                                             user_id=lan) == 5
    with db.begin() as s:  # saving the same values changes nothing
        assert libraries.save_library_values(s, commune_code=LUNG_CU, values=first,
                                             user_id=lan) == 0
    second = LibraryValues(lon=105.31, lat=23.36, contact="Anh Minh 0988",
                           opening_hours=(("07:30", "11:30"),), market_every_days=6,
                           market_anchor=dt.date(2026, 12, 9))
    with db.begin() as s:
        assert libraries.save_library_values(s, commune_code=LUNG_CU, values=second,
                                             user_id=minh) == 4
    with db.begin() as s:
        current = libraries.library_overrides(s)[LUNG_CU]
        history = libraries.library_history(s, commune_code=LUNG_CU)
        assert libraries.library_overrides(s, codes=["00721"]) == {}
    assert current.values == second and current.updated_by == "minh"
    assert current.updated_at.tzinfo is not None
    assert len(history) == 9 and {e.edited_by for e in history[:4]} == {"minh"}
    changes = {e.field: (e.old_value, e.new_value) for e in history[:4]}
    assert changes == {
        "contact": ("Chị Lan 0912", "Anh Minh 0988"),
        "opening_hours": ("07:30-11:30,13:30-16:00", "07:30-11:30"),
        "market_days": ("wed,sun", "every 6 days from 2026-12-09"),
        "lodging": ("no", None)}
    assert [e.new_value for e in history if e.field == "location"] == ["23.360000, 105.310000"]


def test_library_values_are_checked(db: Database) -> None:
    uid = make_user(db)
    # the scenario model's own rules, named as the fields of the stop they make
    bad = [(LibraryValues(lon=105.3), "stop.location.lat"),
           (LibraryValues(lon=200.0, lat=23.0), "stop.location.lon"),
           (LibraryValues(opening_hours=(("11:00", "09:00"),)), "stop.time_windows[0]"),
           (LibraryValues(opening_hours=(("7:30", "9:70"),)), "stop.time_windows[0].end"),
           (LibraryValues(market_weekdays=("wednesday",)), "stop.time_windows[0].weekdays[0]"),
           (LibraryValues(market_weekdays=()), "stop.time_windows[0].weekdays"),
           (LibraryValues(market_every_days=6), "stop.time_windows[0]"),
           (LibraryValues(market_every_days=400, market_anchor=dt.date(2026, 1, 1)),
            "stop.time_windows[0].every_days")]
    for values, field in bad:
        match = rf"commune {LUNG_CU}.*`{re.escape(field)}`"
        with pytest.raises(InvalidRecordError, match=match), db.begin() as s:
            libraries.save_library_values(s, commune_code=LUNG_CU, values=values, user_id=uid)
    with db.begin() as s:
        assert libraries.library_history(s) == [] and libraries.library_overrides(s) == {}
    # The database itself refuses half a location, whoever writes it.
    with pytest.raises(IntegrityError), db.begin() as s:
        s.add(LibraryOverride(commune_code="00721", lon=105.0, updated_by_id=uid))
        s.flush()
