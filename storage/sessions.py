"""Logged-in sessions of the web UI, kept on the server so that they can be ended there.

The session cookie (signed by Flask) holds only a random token; the database keeps its
SHA-256 digest (a stolen copy of the table cannot be replayed as cookies), the user and when
the session started. A session is valid while its user is active, it is not revoked and it
is younger than the caller's ``max_age``: logging out revokes it, a new password or
switching the user off revokes all of the user's sessions
(:func:`storage.users.revoke_user_sessions`), so a cookie captured before any of these no
longer works.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from storage.models import User, UserSession, utcnow
from storage.users import UserInfo, _user_info, revoke_user_sessions

TOKEN_BYTES = 32


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user_id: int, *, max_age: dt.timedelta,
                  now: dt.datetime | None = None) -> str:
    """A new session of ``user_id``; returns its token (for the cookie). Sessions that
    ended (revoked, or older than ``max_age``) are dropped on the way."""
    now = now or utcnow()
    session.execute(delete(UserSession).where(or_(
        UserSession.created_at < now - max_age, UserSession.revoked_at.is_not(None))))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(UserSession(token_hash=_digest(token), user_id=user_id, created_at=now))
    session.flush()
    return token


def session_user(session: Session, token: str, *, max_age: dt.timedelta,
                 now: dt.datetime | None = None) -> UserInfo | None:
    """The active user of the session with ``token``, unless it was revoked or is older
    than ``max_age``; else ``None``."""
    if not token:
        return None
    now = now or utcnow()
    user = session.scalar(
        select(User).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == _digest(token), UserSession.revoked_at.is_(None),
               UserSession.created_at > now - max_age, User.active.is_(True)))
    return _user_info(user) if user is not None else None


def revoke_session(session: Session, token: str, *, now: dt.datetime | None = None) -> bool:
    """End the session with ``token`` (logging out); whether there was one to end."""
    result = session.execute(
        update(UserSession).where(UserSession.token_hash == _digest(token),
                                  UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow()))
    return bool(getattr(result, "rowcount", 0))


__all__ = ["revoke_session", "revoke_user_sessions", "session_user", "start_session"]
