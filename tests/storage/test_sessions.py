"""Sessions kept on the server: valid while not revoked, not too old and their user active;
ended by logout, a new password or switching the user off. And reads that never wait for a
writer (``Database.read``)."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import func, select
from storage_testkit import make_user

from storage import Database, sessions, users
from storage.models import UserSession

DAY = dt.timedelta(days=1)


def _user(db: Database, token: str, at: dt.datetime | None = None) -> str | None:
    with db.read() as s:
        info = sessions.session_user(s, token, max_age=DAY, now=at)
    return info.username if info else None


def test_a_session_lives_until_revoked_expired_or_its_user_changes(db: Database) -> None:
    lan, minh = make_user(db, "lan"), make_user(db, "minh")
    t0 = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
    with db.begin() as s:
        one = sessions.start_session(s, lan, max_age=DAY, now=t0)
        two = sessions.start_session(s, lan, max_age=DAY, now=t0)
        other = sessions.start_session(s, minh, max_age=DAY, now=t0)
        stored = s.scalars(select(UserSession.token_hash)).all()
    assert one != two and one not in stored  # only the digest is stored
    assert _user(db, one, t0) == "lan" and _user(db, "not-a-token", t0) is None
    assert _user(db, one, t0 + DAY + dt.timedelta(seconds=1)) is None  # too old
    with db.begin() as s:
        assert sessions.revoke_session(s, one)  # logout ends this session only
    assert _user(db, one, t0) is None and _user(db, two, t0) == "lan"
    with db.begin() as s:
        users.set_password(s, "lan", "password-2", hash_method="pbkdf2:sha256:1000")
    assert _user(db, two, t0) is None and _user(db, other, t0) == "minh"
    with db.begin() as s:
        users.update_user(s, "minh", active=False)
        users.update_user(s, "minh", active=True)
    assert _user(db, other, t0) is None  # switched off once: its sessions stay ended
    with db.begin() as s:  # ended sessions are dropped when the next one starts
        sessions.start_session(s, minh, max_age=DAY, now=t0)
        assert s.scalar(select(func.count()).select_from(UserSession)) == 1


def test_reads_do_not_wait_for_a_writer(db: Database) -> None:
    make_user(db, "lan")
    holding, release = threading.Event(), threading.Event()

    def write() -> None:
        with db.begin() as s:
            users.update_user(s, "lan", role="viewer")
            holding.set()
            release.wait(30)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert holding.wait(30)
        started = time.monotonic()
        with db.read() as s:
            assert users.count_users(s) == 1
        assert time.monotonic() - started < 5  # SQLite would wait up to its busy timeout
    finally:
        release.set()
        writer.join(30)
