"""Protection against cross-site request forgery for every form and ``fetch`` of the UI.

Each session holds a random token; every POST, PUT, PATCH or DELETE must send it back, in
the form field ``csrf_token`` (templates add it with ``{{ csrf_field() }}``) or in the
``X-CSRF-Token`` header (scripts read it from ``<meta name="csrf-token">``). A request
without the right token gets a 400 page. ``CSRF_ENABLED = False`` switches the check off
(for tools that post without a browser session; never in production).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, g, request, session
from markupsafe import Markup, escape

from webui.errors import BadRequestError

SESSION_KEY = "csrf_token"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token() -> str:
    """The session's token, made on first use."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def csrf_field() -> Markup:
    """The hidden form field carrying the token."""
    return Markup(f'<input type="hidden" name="{FORM_FIELD}" value="{escape(csrf_token())}">')


def check_request() -> None:
    """Refuse an unsafe request whose token is missing or wrong (400)."""
    if request.method not in UNSAFE_METHODS or not current_app.config.get("CSRF_ENABLED", True):
        return
    expected = session.get(SESSION_KEY)
    sent = request.headers.get(HEADER) or request.form.get(FORM_FIELD)
    if not isinstance(expected, str) or not sent or \
            not hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8")):
        raise BadRequestError(g.tr("csrf_failed"))


def init_app(app: Flask) -> None:
    app.before_request(check_request)
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field)
