"""Users, login and permissions.

Four roles, each a set of permissions (:data:`PERMISSIONS`): a *dispatcher* solves, edits
and publishes; a *planner* manages scenarios, solves and compares plans; a *driver* reads the
published plans and their route sheets and records visit outcomes for the vehicles of the
fleet tied to them (:func:`check_may_record_for`; a dispatcher records for any); a *viewer*
reads. Every page but the login page, static files and the calendar feeds (whose address
carries a revocable token: calendar apps cannot log in; :mod:`webui.calendar`) needs a
logged-in user; views declare what they need with :func:`requires`, and views of blueprints
that do not (the plan, sheet and job pages) get the permission of
:data:`BLUEPRINT_PERMISSIONS`; a view nobody declared needs ``read`` to look and ``edit`` to
change anything. Passwords are stored as werkzeug hashes.

Flask's signed session cookie holds a random session token (and the CSRF token); the
session itself is kept in the database (:mod:`storage.sessions`) and checked on every
request, so logging out, a new password or switching a user off ends it on the server: a
cookie copied before then no longer logs anyone in. Sessions last ``SESSION_MAX_AGE_HOURS``
at most.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from storage import fleet, plans, sessions, users
from storage.models import ROLES, utcnow
from webui.errors import WebUIError
from webui.services import database

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

SESSION_TOKEN = "session_token"

PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),                                   # dashboard, published plans
    "read_plans": frozenset({"dispatcher", "planner", "viewer"}),  # unpublished plans
    # drivers record for the vehicles they are tied to (:func:`may_record_for`)
    "record_outcome": frozenset({"dispatcher", "driver"}),
    "record_any_outcome": frozenset({"dispatcher"}),  # for every vehicle
    "fleet": frozenset({"dispatcher"}),  # the fleet record, users tied to vehicles
    "solve": frozenset({"dispatcher", "planner"}),
    "scenarios": frozenset({"dispatcher", "planner"}),
    "compare": frozenset({"dispatcher", "planner"}),
    "edit": frozenset({"dispatcher"}),
    "publish": frozenset({"dispatcher"}),
    "registry": frozenset({"dispatcher"}),  # book batches, their corrections, profiles
}
# Blueprints whose views do not declare a permission themselves.
BLUEPRINT_PERMISSIONS: dict[str, str] = {"plans": "read_plans", "sheets": "read_plans",
                                         "tripcalendar": "read_plans", "jobs": "solve"}
ENDPOINT_PERMISSIONS: dict[str, str] = {"plans.index": "read"}
STATIC_ENDPOINTS = frozenset({"static", "assets.static"})  # files anyone may load
# calendar feeds: calendar apps cannot log in; the token in the address is the key
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.logout", "calendar.feed"}) | STATIC_ENDPOINTS
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

F = TypeVar("F", bound=Callable[..., Any])


class ForbiddenError(WebUIError, PermissionError):
    """The logged-in user's role does not allow this page or action."""

    status = 403


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    role: str
    vehicles: frozenset[str] = frozenset()  # the fleet vehicles tied to the user

    def can(self, permission: str) -> bool:
        return role_can(self.role, permission)

    def may_record_for(self, vehicle_id: str) -> bool:
        """Whether the user may record what happened on a trip of ``vehicle_id``: a
        dispatcher for every vehicle, a driver for the vehicles tied to them."""
        return self.can("record_any_outcome") or (
            self.can("record_outcome") and vehicle_id in self.vehicles)


def role_can(role: str, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}; known: {', '.join(PERMISSIONS)}")
    return role in PERMISSIONS[permission]


def current_user() -> CurrentUser | None:
    return getattr(g, "user", None)


def can(permission: str) -> bool:
    """Whether the current user has ``permission`` (templates: ``can('publish')``)."""
    user = current_user()
    return user is not None and user.can(permission)


def may_record_for(vehicle_id: str) -> bool:
    """Whether the current user may record outcomes of ``vehicle_id``'s trips (templates:
    ``may_record(route.vehicle_id)``)."""
    user = current_user()
    return user is not None and user.may_record_for(vehicle_id)


def check_may_record_for(vehicle_id: str) -> None:
    """403 unless the current user may record outcomes of ``vehicle_id``'s trips (the one
    server-side check of the outcome, trip and hand-over forms)."""
    user = current_user()
    assert user is not None
    if not user.may_record_for(vehicle_id):
        log.info("user %s (%s) refused recording for vehicle %s (tied to: %s)", user.username,
                 user.role, vehicle_id, ", ".join(sorted(user.vehicles)) or "none")
        raise ForbiddenError(g.tr("outcome_not_your_vehicle", vehicle=vehicle_id))


def _forbid(permission: str) -> None:
    user = current_user()
    assert user is not None
    log.info("user %s (%s) refused %s %s (needs %s)", user.username, user.role,
             request.method, request.path, permission)
    raise ForbiddenError(g.tr("forbidden", role=g.tr(f"role_{user.role}")))


def requires(permission: str) -> Callable[[F], F]:
    """Decorate a view that needs ``permission`` (403 for a role without it)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user() is None:
                return _to_login()
            if not can(permission):
                _forbid(permission)
            return view(*args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def is_published_version_name(run: object) -> bool:
    """Whether a plan name from a URL names a published version (``series@vN``)."""
    return isinstance(run, str) and plans.parse_version_key(run) is not None


def permission_for_request() -> str | None:
    """What the current request needs: ``None`` for public pages and for views that check
    themselves (:func:`requires`)."""
    endpoint = request.endpoint
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    view = current_app.view_functions.get(endpoint or "")
    if view is not None and hasattr(view, "required_permission"):
        return None
    if endpoint in ENDPOINT_PERMISSIONS:
        return ENDPOINT_PERMISSIONS[endpoint]
    blueprint = request.blueprint
    if blueprint in ("plans", "sheets", "tripcalendar") and request.method in SAFE_METHODS and \
            is_published_version_name((request.view_args or {}).get("run")):
        return "read"  # published versions are read by every role, drivers included
    if blueprint in BLUEPRINT_PERMISSIONS:
        return BLUEPRINT_PERMISSIONS[blueprint]
    return "read" if request.method in SAFE_METHODS else "edit"


def _safe_next(target: str | None) -> str | None:
    """``target`` if it is a path of this site (never another host), else ``None``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _to_login() -> ResponseReturnValue:
    if request.method in SAFE_METHODS:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return redirect(url_for("auth.login"))


def session_max_age() -> dt.timedelta:
    return dt.timedelta(hours=float(current_app.config["SESSION_MAX_AGE_HOURS"]))


def load_user() -> None:
    """Put the session's user in ``g.user`` if the session is still valid on the server (not
    revoked nor too old, its user active); else forget it."""
    g.user = None
    token = session.get(SESSION_TOKEN)
    if not isinstance(token, str):
        return
    with database().read() as s:
        info = sessions.session_user(s, token, max_age=session_max_age())
        vehicles = fleet.user_vehicle_ids(s, info.id) if info is not None else frozenset()
    if info is None:
        session.pop(SESSION_TOKEN, None)
        return
    g.user = CurrentUser(info.id, info.username, info.role, vehicles)


def start_session(user_id: int) -> None:
    """Log ``user_id`` in: a fresh cookie session (and CSRF token) holding the token of a
    new server-side session."""
    with database().begin() as s:
        token = sessions.start_session(s, user_id, max_age=session_max_age())
    session.clear()
    session[SESSION_TOKEN] = token


def guard() -> ResponseReturnValue | None:
    """Before every request: log-in redirect for anonymous users, 403 for a missing
    permission."""
    if request.endpoint in STATIC_ENDPOINTS:
        g.user = None
        return None
    load_user()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user() is None:
        return _to_login()
    permission = permission_for_request()
    if permission is not None and not can(permission):
        _forbid(permission)
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    target = _safe_next(request.values.get("next")) or url_for("plans.index")
    if request.method == "GET":
        if current_user() is not None:
            return redirect(target)
        return render_template("login.html", next=target, error=None, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    config = current_app.config
    with database().begin() as s:
        now = utcnow()
        until = users.login_blocked(
            s, username, address, max_per_name_address=config["LOGIN_MAX_FAILURES"],
            max_per_name=config["LOGIN_MAX_FAILURES_PER_NAME"],
            window=dt.timedelta(minutes=config["LOGIN_BLOCK_MINUTES"]), now=now)
        if until is not None:
            info = None
        else:
            info = users.authenticate(s, username, password,
                                      hash_method=config["PASSWORD_HASH_METHOD"])
            if info is None:
                users.record_login_failure(s, username, address, now=now)
            else:
                users.clear_login_failures(s, username)
    if until is not None:
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        log.warning("login for %r from %s refused: too many failures", username, address)
        return render_template("login.html", next=target, username=username,
                               error=g.tr("login_throttled", minutes=minutes)), 429
    if info is None:
        log.warning("failed login for %r from %s", username, address)
        return render_template("login.html", next=target, error=g.tr("login_failed"),
                               username=username), 401
    start_session(info.id)
    log.info("user %s logged in", info.username)
    return redirect(target, code=303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    user = current_user()
    token = session.get(SESSION_TOKEN)
    if isinstance(token, str):
        with database().begin() as s:
            sessions.revoke_session(s, token)  # the cookie, wherever a copy is, is dead
    session.clear()
    if user is not None:
        log.info("user %s logged out", user.username)
    return redirect(url_for("auth.login"), code=303)


def init_app(app: Flask) -> None:
    """Register the login pages, the guard of every request and the template helpers."""
    app.register_blueprint(bp)
    app.before_request(guard)

    @app.context_processor
    def auth_helpers() -> dict[str, Any]:
        return {"current_user": current_user(), "can": can, "may_record": may_record_for}
