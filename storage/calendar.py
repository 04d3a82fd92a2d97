"""Calendar feeds: the revocable tokens that open the ICS feed of a commune's or a vehicle's
published visits, and the published plans those feeds (and the timetables) read.

Calendar apps cannot log in, so a feed's address carries a random token
(:func:`create_token`); a dispatcher makes and revokes them on the commune's or vehicle's
page. The token is kept as it is (not as a digest, unlike a login session's): its address is
meant to be handed out, printed on a commune's poster as a QR code and shown again to the
dispatcher, and it opens nothing but published visits, which the library makes public
anyway; revoking it (:func:`revoke_token`) ends it for everyone who has it.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.timetable import PublishedPlan
from storage.errors import InvalidRecordError, RecordNotFoundError
from storage.models import FEED_KINDS, CalendarToken, PlanVersion, utcnow
from storage.plans import parse_plan_text, version_key

TOKEN_BYTES = 24  # 32 URL-safe characters
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_REF_CHARS = 64
MAX_NOTE_CHARS = 255


@dataclass(frozen=True)
class TokenInfo:
    id: int
    token: str
    kind: str  # "commune" or "vehicle"
    ref: str  # the commune code or the vehicle id
    note: str
    created_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _info(t: CalendarToken) -> TokenInfo:
    return TokenInfo(t.id, t.token, t.kind, t.ref, t.note, t.created_by.username, t.created_at,
                     t.revoked_at)


def create_token(session: Session, *, kind: str, ref: str, user_id: int,
                 note: str = "") -> TokenInfo:
    """A new feed token for commune (``kind="commune"``, ``ref``: its code) or vehicle
    (``"vehicle"``, its id)."""
    if kind not in FEED_KINDS:
        raise InvalidRecordError(f"feed kind {kind!r}: use one of {', '.join(FEED_KINDS)}")
    ref = ref.strip()
    if not ref or len(ref) > MAX_REF_CHARS:
        raise InvalidRecordError(f"feed of {kind} {ref!r}: give its {kind} "
                                 f"{'code' if kind == 'commune' else 'id'} "
                                 f"(1 to {MAX_REF_CHARS} characters)")
    record = CalendarToken(token=secrets.token_urlsafe(TOKEN_BYTES), kind=kind, ref=ref,
                           note=note.strip()[:MAX_NOTE_CHARS], created_by_id=user_id,
                           created_at=utcnow())
    session.add(record)
    session.flush()
    return _info(record)


def tokens(session: Session, *, kind: str, ref: str,
           include_revoked: bool = False) -> list[TokenInfo]:
    """The feed tokens of a commune or vehicle, newest first."""
    query = (select(CalendarToken).where(CalendarToken.kind == kind, CalendarToken.ref == ref)
             .order_by(CalendarToken.created_at.desc(), CalendarToken.id.desc()))
    if not include_revoked:
        query = query.where(CalendarToken.revoked_at.is_(None))
    return [_info(t) for t in session.scalars(query)]


def revoke_token(session: Session, token_id: int, *, user_id: int) -> TokenInfo:
    """Revoke feed token ``token_id``: its address no longer opens the feed (revoking a
    revoked token changes nothing)."""
    record = session.get(CalendarToken, token_id)
    if record is None:
        raise RecordNotFoundError(f"no calendar feed token with id {token_id}")
    if record.revoked_at is None:
        record.revoked_at, record.revoked_by_id = utcnow(), user_id
        session.flush()
    return _info(record)


def feed_of(session: Session, token: str) -> TokenInfo | None:
    """The active feed a token opens, else ``None`` (unknown, malformed or revoked)."""
    if not TOKEN_PATTERN.match(token or ""):
        return None
    record = session.scalar(select(CalendarToken).where(CalendarToken.token == token,
                                                        CalendarToken.revoked_at.is_(None)))
    return _info(record) if record is not None else None


def published_plans(session: Session, *, newest_only: bool = False,
                    unreadable: list[str] | None = None) -> list[PublishedPlan]:
    """Every published version's plan, or (``newest_only``) the newest version's of each
    series, what timetables show. A record that cannot be read is an
    :class:`~storage.errors.InvalidRecordError` naming the version, unless the caller passes
    an ``unreadable`` list: then its message is added there and the version left out (a
    page about one commune keeps working; the caller says what was left out)."""
    query = select(PlanVersion).order_by(PlanVersion.series, PlanVersion.number)
    if newest_only:
        newest = (select(PlanVersion.series, func.max(PlanVersion.number).label("number"))
                  .group_by(PlanVersion.series).subquery())
        query = query.join(newest, (PlanVersion.series == newest.c.series)
                           & (PlanVersion.number == newest.c.number))
    out = []
    for version in session.scalars(query):
        try:
            plan = parse_plan_text(version.plan_json, file=f"version "
                                   f"{version_key(version.series, version.number)}")
        except InvalidRecordError as exc:
            if unreadable is None:
                raise
            unreadable.append(str(exc))
            continue
        out.append(PublishedPlan(version.series, version.number, plan))
    return out


__all__ = ["TokenInfo", "create_token", "feed_of", "published_plans", "revoke_token", "tokens"]
