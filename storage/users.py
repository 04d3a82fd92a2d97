"""Users, their passwords and roles, and failed logins (which slow down password guessing).

Like every module of :mod:`storage`, each function takes the
:class:`~sqlalchemy.orm.Session` of the caller's unit of work (``with db.begin() as
session:``) and never commits; results that leave the session are small frozen dataclasses.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from storage.errors import DuplicateError, InvalidRecordError, RecordNotFoundError
from storage.models import ROLES, LoginFailure, User, UserSession, utcnow

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8
DEFAULT_HASH_METHOD = "scrypt"


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash checked when a user name is unknown, so that a wrong name takes as long as a
    wrong password (the time does not tell which names exist)."""
    return generate_password_hash("not-a-password", method=method)


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: str
    active: bool
    created_at: dt.datetime


def _user_info(user: User) -> UserInfo:
    return UserInfo(user.id, user.username, user.role, user.active, user.created_at)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRecordError(f"the password has {len(password)} characters; use at "
                                 f"least {MIN_PASSWORD_LENGTH}")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidRecordError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")


def create_user(session: Session, *, username: str, password: str, role: str,
                active: bool = True, hash_method: str = DEFAULT_HASH_METHOD) -> UserInfo:
    """Add a user; :class:`DuplicateError` if the name is taken."""
    if not USERNAME.match(username):
        raise InvalidRecordError(f"user name {username!r}: use 1-64 letters, digits and . _ @ -,"
                                 " starting with a letter or digit")
    _check_role(role)
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DuplicateError(f"user {username!r} exists already")
    user = User(username=username, role=role, active=active,
                password_hash=generate_password_hash(password, method=hash_method))
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DuplicateError(f"user {username!r} exists already") from None
    return _user_info(user)


def _user_named(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise RecordNotFoundError(f"no user {username!r}")
    return user


def set_password(session: Session, username: str, password: str, *,
                 hash_method: str = DEFAULT_HASH_METHOD) -> UserInfo:
    """Give ``username`` a new password; every session of the user ends (see
    :mod:`storage.sessions`)."""
    _check_password(password)
    user = _user_named(session, username)
    user.password_hash = generate_password_hash(password, method=hash_method)
    revoke_user_sessions(session, user.id)
    return _user_info(user)


def revoke_user_sessions(session: Session, user_id: int, *,
                         now: dt.datetime | None = None) -> int:
    """End every web session of ``user_id`` (a new password, the user switched off);
    returns how many were ended."""
    result = session.execute(
        update(UserSession).where(UserSession.user_id == user_id,
                                  UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def update_user(session: Session, username: str, *, role: str | None = None,
                active: bool | None = None) -> UserInfo:
    """Change a user's role or switch them off (users are never deleted: their names stay
    on what they published and recorded)."""
    user = _user_named(session, username)
    if role is not None:
        _check_role(role)
        user.role = role
    if active is not None:
        user.active = active
        if not active:
            revoke_user_sessions(session, user.id)
    return _user_info(user)


def find_user(session: Session, username: str) -> UserInfo | None:
    """The user of this name (active or not), else ``None``."""
    user = session.scalar(select(User).where(User.username == username))
    return _user_info(user) if user is not None else None


def get_user(session: Session, user_id: int) -> UserInfo | None:
    user = session.get(User, user_id)
    return _user_info(user) if user is not None else None


def authenticate(session: Session, username: str, password: str, *,
                 hash_method: str = DEFAULT_HASH_METHOD) -> UserInfo | None:
    """The active user with this name and password, else ``None``."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_dummy_hash(hash_method), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return _user_info(user)


def login_blocked(session: Session, username: str, address: str, *,
                  max_per_name_address: int, max_per_name: int, window: dt.timedelta,
                  now: dt.datetime | None = None) -> dt.datetime | None:
    """When logins for ``username`` from ``address`` may be tried again, if that name failed
    ``max_per_name_address`` times from that address, or ``max_per_name`` times from any
    address (guessing one password from many places), within ``window``; ``None`` when
    neither did. An address alone is never blocked: a library's office behind one router
    shares one, and one person's mistakes there must not lock out the others."""
    now = now or utcnow()
    name = LoginFailure.username == username[:64]
    until = None
    for where, limit in (((name, LoginFailure.address == address[:64]), max_per_name_address),
                         ((name,), max_per_name)):
        recent = session.scalars(
            select(LoginFailure.at).where(*where, LoginFailure.at > now - window)
            .order_by(LoginFailure.at.desc()).limit(limit)).all()
        if len(recent) >= limit:  # blocked until the oldest of the last ``limit`` expires
            free_at = recent[-1] + window
            until = free_at if until is None else max(until, free_at)
    return until


def record_login_failure(session: Session, username: str, address: str, *,
                         now: dt.datetime | None = None) -> None:
    """Note a failed login; failures older than a day are dropped."""
    now = now or utcnow()
    session.add(LoginFailure(username=username[:64], address=address[:64], at=now))
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - dt.timedelta(days=1)))


def clear_login_failures(session: Session, username: str) -> None:
    """Forget the failed logins of a name (after it logged in)."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == username[:64]))


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count(User.id))) or 0)


def list_users(session: Session) -> list[UserInfo]:
    return [_user_info(u) for u in session.scalars(select(User).order_by(User.username))]


def usernames(session: Session, *ids: int | None) -> dict[int, str]:
    """``id -> user name`` of the users with these ids (``None`` ids are skipped), for
    records that keep who made or changed them."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}
