"""Users and logged-in test clients for the web UI tests (a uniquely named module, like
``webui_testkit``, so that tests import it the same way whatever pytest's import mode)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from storage import DuplicateError, RecordNotFoundError, fleet, sessions, users
from webui.auth import SESSION_TOKEN
from webui.csrf import HEADER as CSRF_HEADER
from webui.csrf import SESSION_KEY as CSRF_SESSION_KEY
from webui.services import services_of

TEST_PASSWORD = "test-password"
FAST_HASH = "pbkdf2:sha256:1000"  # test users only: scrypt takes a quarter second a hash
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def ensure_user(app: Flask, username: str, role: str,
                password: str = TEST_PASSWORD) -> users.UserInfo:
    """User ``username`` with ``role`` in ``app``'s database (made if missing)."""
    db = services_of(app).database
    try:
        with db.begin() as s:
            return users.create_user(s, username=username, password=password, role=role,
                                     hash_method=FAST_HASH)
    except DuplicateError:
        with db.begin() as s:
            user = users.update_user(s, username, role=role, active=True)
            return user


class PlannerTestClient(FlaskClient):
    """A test client logged in as ``user`` (made with ``role`` if missing) on its first
    request, which sends the CSRF token with every unsafe request."""

    def __init__(self, *args: Any, user: str | None = "test-dispatcher",
                 role: str = "dispatcher", csrf: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.role, self.csrf = user, role, csrf
        self._logged_in = user is None

    def log_in(self) -> None:
        """Start a server-side session for the user, as the login page does."""
        assert self.user is not None
        info = ensure_user(self.application, self.user, self.role)
        with services_of(self.application).database.begin() as s:
            token = sessions.start_session(s, info.id, max_age=dt.timedelta(days=1))
        with self.session_transaction() as session:
            session[SESSION_TOKEN] = token
        self._logged_in = True

    def csrf_token(self) -> str:
        """The session's CSRF token (made here if the session has none yet)."""
        with self.session_transaction() as session:
            token = session.get(CSRF_SESSION_KEY)
            if not token:
                token = session[CSRF_SESSION_KEY] = "t" * 43
        return str(token)

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if not self._logged_in:
            self.log_in()
        if self.csrf and str(kwargs.get("method", "GET")).upper() in UNSAFE_METHODS:
            headers = Headers(kwargs.get("headers") or {})
            if CSRF_HEADER not in headers:
                headers[CSRF_HEADER] = self.csrf_token()
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def tie_vehicles(app: Flask, username: str, *vehicle_ids: str, role: str = "driver") -> None:
    """Tie user ``username`` (made with ``role`` if missing) to these fleet vehicles, adding
    each to the fleet if it is not there, as a dispatcher does on the fleet and accounts
    pages."""
    info = ensure_user(app, username, role)
    with services_of(app).database.begin() as s:
        for vehicle_id in vehicle_ids:
            try:
                fleet.get_vehicle(s, vehicle_id)
            except RecordNotFoundError:
                fleet.save_vehicle(s, vehicle_id=vehicle_id, name=vehicle_id, user_id=info.id)
        fleet.set_user_vehicles(s, username, vehicle_ids)
