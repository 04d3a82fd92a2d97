"""Scenarios uploaded or edited in the web UI: their YAML text, its digest, and who made and
last changed each one (the scenario files of a folder are not stored here)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.digest import sha256_hex
from storage.errors import RecordNotFoundError
from storage.models import ScenarioRecord, utcnow
from storage.users import usernames


@dataclass(frozen=True)
class ScenarioInfo:
    id: int
    name: str
    yaml_text: str
    digest: str
    updated_at: dt.datetime
    created_at: dt.datetime | None = None
    created_by: str | None = None
    updated_by: str | None = None


def _scenario_info(session: Session, record: ScenarioRecord,
                   names: dict[int, str] | None = None) -> ScenarioInfo:
    if names is None:
        names = usernames(session, record.created_by_id, record.updated_by_id)
    return ScenarioInfo(record.id, record.name, record.yaml_text, record.digest,
                        record.updated_at, record.created_at,
                        names.get(record.created_by_id) if record.created_by_id else None,
                        names.get(record.updated_by_id) if record.updated_by_id else None)


def save_scenario(session: Session, *, name: str, yaml_text: str,
                  user_id: int | None) -> ScenarioInfo:
    """Store the YAML of scenario ``name``, adding it or replacing its text."""
    record = session.scalar(select(ScenarioRecord).where(ScenarioRecord.name == name))
    now = utcnow()
    if record is None:
        record = ScenarioRecord(name=name, created_by_id=user_id, created_at=now,
                                yaml_text="", digest="")
        session.add(record)
    record.yaml_text = yaml_text
    record.digest = sha256_hex(yaml_text)
    record.updated_by_id = user_id
    record.updated_at = now
    session.flush()
    return _scenario_info(session, record)


def get_scenario(session: Session, name: str) -> ScenarioInfo:
    record = session.scalar(select(ScenarioRecord).where(ScenarioRecord.name == name))
    if record is None:
        raise RecordNotFoundError(f"no stored scenario {name!r}")
    return _scenario_info(session, record)


def list_scenarios(session: Session) -> list[ScenarioInfo]:
    """Every stored scenario, by name, with who made and last changed it."""
    records = list(session.scalars(select(ScenarioRecord).order_by(ScenarioRecord.name)))
    names = usernames(session, *(r.created_by_id for r in records),
                      *(r.updated_by_id for r in records))
    return [_scenario_info(session, r, names) for r in records]

