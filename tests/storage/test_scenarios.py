"""Scenarios stored from the web UI, with the digest of their text."""

from __future__ import annotations

import pytest
from storage_testkit import make_user

from storage import Database, RecordNotFoundError, scenarios


def test_scenarios_are_stored_with_their_digest(db: Database) -> None:
    uid = make_user(db)
    with db.begin() as s:
        first = scenarios.save_scenario(s, name="tiny", yaml_text="name: tiny\n", user_id=uid)
    with db.begin() as s:
        second = scenarios.save_scenario(s, name="tiny", yaml_text="name: tiny2\n",
                                         user_id=uid)
        assert second.id == first.id and second.digest != first.digest
        assert scenarios.get_scenario(s, "tiny").yaml_text == "name: tiny2\n"
        with pytest.raises(RecordNotFoundError):
            scenarios.get_scenario(s, "other")
