"""Road closures: geometries, dates, and what cannot be stored."""

from __future__ import annotations

import datetime as dt

import pytest
from storage_testkit import make_user

from storage import Database, InvalidRecordError, closures


def test_closures(db: Database) -> None:
    uid = make_user(db)
    line = {"type": "LineString", "coordinates": [[105.3, 23.2], [105.4, 23.25]]}
    with db.begin() as s:
        c = closures.add_closure(s, name="QL.4C Mã Pí Lèng", user_id=uid,
                                 geometry={"type": "Feature", "geometry": line,
                                           "properties": {}},
                                 from_date=dt.date(2026, 6, 1), to_date=dt.date(2026, 6, 5),
                                 note="sạt lở")
    assert c.geometry == line and c.name == "QL.4C Mã Pí Lèng"
    with db.begin() as s:
        assert [x.id for x in closures.list_closures(s, on=dt.date(2026, 6, 3))] == [c.id]
        assert closures.list_closures(s, on=dt.date(2026, 6, 6)) == []
    with pytest.raises(InvalidRecordError, match="ends"), db.begin() as s:
        closures.add_closure(s, name="x", geometry=line, user_id=uid,
                             from_date=dt.date(2026, 6, 5), to_date=dt.date(2026, 6, 1))
    # what a closure may be is the scenario model's rule (planner.closures.closure_specs)
    for bad, why in (('{"type": "Circle"}', "say which road"), ("not json", "not valid JSON"),
                     ({"type": "Polygon", "coordinates": []}, "at least 3 different points"),
                     ({"type": "LineString", "coordinates": [[105, 23], [200, 23]]},
                      "not a longitude and latitude")):
        with pytest.raises(InvalidRecordError, match=why), db.begin() as s:
            closures.add_closure(s, name="x", geometry=bad, user_id=uid,
                                 from_date=dt.date(2026, 6, 1),
                                 to_date=dt.date(2026, 6, 1))
