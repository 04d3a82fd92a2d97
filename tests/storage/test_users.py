"""Users: hashed passwords, validation, roles the database itself checks, and failed logins
that block a name or an address for a while."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from storage_testkit import make_user

from storage import Database, DuplicateError, InvalidRecordError, RecordNotFoundError, users
from storage.models import LoginFailure, User


def test_users_passwords_are_hashed_and_checked(db: Database) -> None:
    make_user(db, "lan", "driver")
    with db.begin() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "lan"))
        assert stored and "password-1" not in stored and stored.startswith("pbkdf2:")
        assert users.authenticate(s, "lan", "password-1").role == "driver"
        assert users.authenticate(s, "lan", "wrong-password") is None
        assert users.authenticate(s, "nobody", "password-1") is None
        users.update_user(s, "lan", active=False)
    with db.begin() as s:
        assert users.authenticate(s, "lan", "password-1") is None  # switched off
        assert users.count_users(s) == 1


def test_user_validation(db: Database) -> None:
    make_user(db, "lan")
    with pytest.raises(DuplicateError, match="exists already"):
        make_user(db, "lan")
    with pytest.raises(InvalidRecordError, match="unknown role 'boss'"):
        make_user(db, "minh", "boss")
    with pytest.raises(InvalidRecordError, match="at least 8"), db.begin() as s:
        users.create_user(s, username="minh", password="short", role="viewer")
    with pytest.raises(InvalidRecordError, match="user name"):
        make_user(db, "bad name!")
    with pytest.raises(RecordNotFoundError), db.begin() as s:
        users.set_password(s, "nobody", "password-2")
    with db.begin() as s:
        assert [u.username for u in users.list_users(s)] == ["lan"]


def test_the_database_itself_refuses_an_unknown_role(db: Database) -> None:
    with pytest.raises(IntegrityError), db.begin() as s:
        s.add(User(username="x", password_hash="x", role="boss", active=True))
        s.flush()


def test_failed_logins_block_a_name_from_an_address_or_everywhere_never_an_address(
        db: Database) -> None:
    t0 = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
    window = dt.timedelta(minutes=15)

    def blocked(name: str, address: str, at: dt.datetime) -> dt.datetime | None:
        with db.begin() as s:
            return users.login_blocked(s, name, address, max_per_name_address=3,
                                       max_per_name=5, window=window, now=at)

    with db.begin() as s:
        for i in range(3):  # one name, three failures a minute apart from one address
            users.record_login_failure(s, "lan", "10.0.0.1",
                                       now=t0 + dt.timedelta(minutes=i))
    assert blocked("lan", "10.0.0.1", t0 + dt.timedelta(minutes=3)) == t0 + window
    assert blocked("lan", "10.0.0.9", t0 + dt.timedelta(minutes=3)) is None  # elsewhere
    assert blocked("minh", "10.0.0.1", t0 + dt.timedelta(minutes=3)) is None  # same office
    assert blocked("lan", "10.0.0.1", t0 + window + dt.timedelta(seconds=1)) is None
    with db.begin() as s:
        for i, address in enumerate(["10.0.0.2", "10.0.0.3"]):  # five for "lan" in all
            users.record_login_failure(s, "lan", address, now=t0 + dt.timedelta(minutes=3 + i))
    assert blocked("lan", "10.0.0.9", t0 + dt.timedelta(minutes=5)) == t0 + window
    with db.begin() as s:
        for i in range(30):  # many names guessed from one address: no one else is blocked
            users.record_login_failure(s, f"x{i}", "10.0.0.7", now=t0 + dt.timedelta(minutes=5))
    assert blocked("minh", "10.0.0.7", t0 + dt.timedelta(minutes=6)) is None
    with db.begin() as s:
        users.clear_login_failures(s, "lan")  # it logged in
    assert blocked("lan", "10.0.0.9", t0 + dt.timedelta(minutes=5)) is None
    # failures older than a day are dropped when the next one is recorded
    with db.begin() as s:
        users.record_login_failure(s, "b", "10.0.0.2", now=t0 + dt.timedelta(days=2))
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 1
