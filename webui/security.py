"""Transport security: ``Secure`` cookies and HSTS when the app is served over HTTPS, and
the client's address and scheme taken from a trusted reverse proxy.

One setting, ``HTTPS``, decides: ``None`` (the default) follows each request: over HTTPS
(``request.is_secure``, which behind a proxy needs ``TRUSTED_PROXIES``) the cookies are
sent with ``Secure`` and responses carry ``Strict-Transport-Security``; ``True`` always
does both (a site only ever reached over HTTPS); ``False`` never (plain HTTP on a trusted
network). ``TRUSTED_PROXIES`` is the number of reverse proxies in front of the app whose
``X-Forwarded-For``, ``-Proto``, ``-Host`` and ``-Port`` headers are believed (werkzeug's
``ProxyFix``; default 0: the headers are ignored, as a client could forge them).
"""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

HSTS = "max-age=31536000"  # a year; no includeSubDomains: the app may share a host name


def https_in_use(app: Flask | None = None) -> bool:
    """Whether cookies of this request are ``Secure`` and responses carry HSTS."""
    setting = (app or current_app).config.get("HTTPS")
    if setting is not None:
        return bool(setting)
    return has_request_context() and request.is_secure


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, ``Secure`` whenever :func:`https_in_use`."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return https_in_use(app) or bool(app.config.get("SESSION_COOKIE_SECURE"))


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies,  # type: ignore[method-assign]
                                x_proto=proxies, x_host=proxies, x_port=proxies)
    app.session_interface = _SessionInterface()

    @app.after_request
    def strict_transport(response: Response) -> Response:
        if https_in_use(app):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
