"""Flask web UI: plan list and pages with offline maps, printable route sheets, background
solves.

:func:`create_app` is the application factory. Configuration (all optional):

``RUNS_DIR``
    folder with one sub-folder per plan (``plan.json``, ``routes.geojson``, ``map.html``);
    default ``./runs``.
``SCENARIOS_DIR``
    folder of scenario YAML files that jobs can solve (read-only: scenarios uploaded or
    edited in the UI are stored in the database); default ``./scenarios``.
``SCENARIO_MAX_BYTES``
    largest scenario YAML file accepted by the upload form; default 256 kB.
``JOBS_DIR``
    folder of background job folders; default ``<instance folder>/jobs``.
``MAX_CONCURRENT_JOBS``
    solves run at once (others wait, queued); default 1.
``JOB_REFRESH_S``
    how often a running job's page reloads itself; default 2.
``DATABASE_URL``
    the database (users, plans, published versions, outcomes, closures, edits, jobs): a
    ``postgresql://`` URL (psycopg 3) or ``sqlite:///PATH``; default: the environment
    variable ``DATABASE_URL``, else ``planner.sqlite3`` in the instance folder. It is
    migrated to the newest schema when the app starts.
``SECRET_KEY``
    signs the session cookie; default: a random key kept in ``<instance folder>/secret_key``.
``PUBLIC_BASE_URL``
    the address people reach the app at (``https://thuvien.example.vn``): the QR codes of
    crate labels open ``<PUBLIC_BASE_URL>/batches/<id>``; default: the address of the request.
``LIBRARY_CONTACT``
    how readers reach the library (phone, address), printed on the communes' timetable
    posters; default: none (the posters give the phones of the vehicles that have one).
``MAX_CONTENT_LENGTH``
    largest request body accepted (uploads, forms); default 2 MB.
``PASSWORD_HASH_METHOD``
    werkzeug's password hash method for new passwords; default ``scrypt``.
``CSRF_ENABLED``
    check the CSRF token of every form and ``fetch`` (see :mod:`webui.csrf`); default on.
``LOGIN_MAX_FAILURES``, ``LOGIN_MAX_FAILURES_PER_NAME``, ``LOGIN_BLOCK_MINUTES``
    after this many failed logins for one name from one client address (default 5), or for
    one name from any address (default 20), within ``LOGIN_BLOCK_MINUTES`` (default 15),
    further logins for that name (from that address) are refused (HTTP 429, with the wait)
    until the oldest of those failures is that old. An address alone is never blocked: a
    library's office shares one.
``SESSION_MAX_AGE_HOURS``
    a login lasts this long at most (default 168, a week); sessions are kept on the server
    (:mod:`storage.sessions`) and end at logout, at a new password and when the user is
    switched off, whatever the browser kept.
``HTTPS``, ``TRUSTED_PROXIES``
    ``Secure`` cookies and HSTS: by default on for requests that came over HTTPS; ``True``
    always, ``False`` never. Behind a reverse proxy, ``TRUSTED_PROXIES`` (the number of
    proxies, default 0) makes its ``X-Forwarded-*`` headers count (see
    :mod:`webui.security`).
``TODAY``
    the date the app takes as today (``YYYY-MM-DD``): which visits a timetable poster
    lists, the default dates of forms, the year of the report; for a training copy on
    past plans and for tests; default: the date in Vietnam (:func:`webui.services.today`).
``DERIVED_CACHE_MAX_MB``
    how much disk the cache of drawn files (PDFs, sheet maps, exports) may take in
    ``<instance folder>/cache`` (default 512; 0 switches the cache off); see
    :mod:`webui.derived`.

The instance folder is ``create_app(instance_path=...)``, else the environment variable
``PLANNER_INSTANCE_DIR``, else ``instance/`` in the project of a checkout (the rule of
:func:`storage.db.instance_dir`, which the command line and the solve workers share).

The web layer is thin: pages read plans with :mod:`planner.plan`, solves run in
:mod:`webui.worker` processes, never inside a request. Every page but the login page needs
a logged-in user (:mod:`webui.auth`). The instance folder is readable by its owner only
(:mod:`webui.files`); the app's pages run scripts from its own files only and plan maps are
sandboxed (:data:`CONTENT_SECURITY_POLICY`, :data:`webui.plans.MAP_CONTENT_SECURITY_POLICY`);
error pages name files relative to the app's folders (:func:`webui.errors.public_text`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, g, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from planner.errors import PlannerError
from render import ASSETS_DIR, formatting
from render.errors import RenderError
from render.i18n import COOKIE_NAME, LANGUAGES, Translator, normalise_language, pick_language
from storage.db import instance_dir
from storage.errors import DatabaseUnavailableError, StorageError
from webui.errors import WebUIError, public_text
from webui.files import make_private, private_dir
from webui.security import https_in_use

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "RUNS_DIR": "runs",
    "SCENARIOS_DIR": "scenarios",
    "JOBS_DIR": None,
    "MAX_CONCURRENT_JOBS": 1,
    "JOB_REFRESH_S": 2,
    "MAX_TIME_LIMIT_S": 3600,
    "DATABASE_URL": None,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "PASSWORD_HASH_METHOD": "scrypt",
    "CSRF_ENABLED": True,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_MAX_FAILURES_PER_NAME": 20,
    "LOGIN_BLOCK_MINUTES": 15,
    "SESSION_MAX_AGE_HOURS": 168,
    "HTTPS": None,
    "TRUSTED_PROXIES": 0,
    "DERIVED_CACHE_MAX_MB": 512,
    "LIBRARY_CONTACT": "",
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
}
SECRET_KEY_FILE = "secret_key"
# The app's own pages run scripts from its own files only (no inline script, so text that
# slipped into a page unescaped still could not run), and load nothing from other hosts but
# the optional OSM tile layer of a map. Plan maps, whose folium pages need inline scripts,
# get their own policy (see :data:`webui.plans.MAP_CONTENT_SECURITY_POLICY`).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; "
                           "style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data: https://tile.openstreetmap.org; "
                           "object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'self'; form-action 'self'")


def _config_date(name: str, value: Any) -> dt.date:
    """A date setting: a date, or its ISO text."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"setting {name}: {value!r} is not a date; give it as YYYY-MM-DD "
                         "(e.g. 2026-12-07), or leave it out for the date in Vietnam") from None


def create_app(config: dict[str, Any] | None = None, *,
               instance_path: str | Path | None = None) -> Flask:
    """Build the web app; ``config`` overrides :data:`DEFAULTS` (see the module docstring)."""
    app = Flask(__name__, instance_relative_config=False,
                instance_path=str(instance_dir(instance_path)))
    app.config.from_mapping(DEFAULTS)
    if config:
        app.config.from_mapping(config)
    private_dir(Path(app.instance_path))  # database, key, jobs: nothing for other users
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
    runs_dir = Path(app.config["RUNS_DIR"]).resolve()
    scenarios_dir = Path(app.config["SCENARIOS_DIR"]).resolve()
    jobs_dir = Path(app.config["JOBS_DIR"] or Path(app.instance_path) / "jobs").resolve()
    app.config.update(RUNS_DIR=runs_dir, SCENARIOS_DIR=scenarios_dir, JOBS_DIR=jobs_dir)
    if app.config.get("TODAY"):
        app.config["TODAY"] = _config_date("TODAY", app.config["TODAY"])
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    from webui import auth, communes, csrf, jobs, plans, publish, security, services, sheets

    security.init_app(app)
    services.init_app(app)
    make_private(Path(app.instance_path))  # what earlier versions left readable
    _init_i18n(app)
    _init_errors(app)
    csrf.init_app(app)
    auth.init_app(app)

    # fonts and the vendored Leaflet, shared with the maps and sheets of render/
    app.register_blueprint(Blueprint("assets", __name__, static_folder=ASSETS_DIR,
                                     static_url_path="/assets"))
    app.register_blueprint(plans.bp)
    app.register_blueprint(sheets.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(communes.bp)
    publish.init_app(app)

    from webui import scenarios

    app.register_blueprint(scenarios.bp)

    from webui import batches, calendar, closures, edits, fleet, tripcalendar

    edits.init_app(app)
    calendar.init_app(app)
    tripcalendar.init_app(app)
    app.register_blueprint(closures.bp)
    app.register_blueprint(batches.bp)
    app.register_blueprint(fleet.bp)

    from webui import sweeps

    app.register_blueprint(sweeps.bp)
    return app


def _instance_secret_key(instance: Path) -> str:
    """The key in ``instance/secret_key``, made (readable by its owner only) on first use,
    so sessions survive restarts without a key in any configuration file."""
    path = instance / SECRET_KEY_FILE
    try:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    try:
        os.link(tmp, path)  # atomic, and never replaces a key another process just made
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="ascii").strip()


def _init_i18n(app: Flask) -> None:
    """Pick the language of each request and give templates ``_``, formatting filters and
    the language switch."""

    @app.before_request
    def choose_language() -> None:
        g.lang = pick_language(request.args, request.cookies)
        g.tr = Translator(g.lang)

    @app.after_request
    def remember_language(response: Response) -> Response:
        asked = normalise_language(request.args.get("lang"))
        if asked and request.cookies.get(COOKIE_NAME) != asked:
            response.set_cookie(COOKIE_NAME, asked, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=https_in_use(app))
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.context_processor
    def template_helpers() -> dict[str, Any]:
        lang = getattr(g, "lang", "vi")

        def lang_url(code: str) -> str:
            args = {k: v for k, v in request.args.items() if k != "lang"}
            return f"{request.path}?{urlencode({**args, 'lang': code})}"

        return {"_": getattr(g, "tr", Translator(lang)), "lang": lang, "languages": LANGUAGES,
                "lang_url": lang_url}

    def _lang() -> str:
        return getattr(g, "lang", "vi")

    app.add_template_filter(lambda x, digits=1: formatting.number(x, _lang(), digits=digits),
                            "num")
    app.add_template_filter(lambda x, digits=1: formatting.percent(x, _lang(), digits=digits),
                            "pct")
    app.add_template_filter(formatting.hours_text, "hours")
    app.add_template_filter(
        lambda d, weekday=False: formatting.date_text(d, _lang(), weekday=weekday), "date")
    app.add_template_filter(lambda s: formatting.seconds_text(s, _lang()), "seconds")


def server_paths(app: Flask) -> tuple[Path, ...]:
    """The app's folders, which messages people read name relatively (see
    :func:`webui.errors.public_text`)."""
    config = app.config
    return (Path(config["RUNS_DIR"]), Path(config["SCENARIOS_DIR"]), Path(config["JOBS_DIR"]),
            Path(app.instance_path), Path(app.root_path).parent)


def _init_errors(app: Flask) -> None:
    """Error pages in the page language, with the status the error carries."""

    def page(status: int, message: str) -> ResponseReturnValue:
        return render_template("error.html", status=status,
                               message=public_text(message, server_paths(app))), status

    # Errors shown inside pages (a job's error and log, an unreadable scenario or dataset)
    # name files as error pages do.
    app.add_template_filter(lambda text: public_text(str(text), server_paths(app)), "public")

    @app.errorhandler(WebUIError)
    def webui_error(exc: WebUIError) -> ResponseReturnValue:
        if exc.status >= 500:
            log.exception("error page %s", exc.status)
        return page(exc.status, g.tr(exc.key, **exc.values) if exc.key else str(exc))

    @app.errorhandler(RenderError)
    def render_error(exc: RenderError) -> ResponseReturnValue:
        log.exception("%s", exc)
        return page(500, str(exc))

    @app.errorhandler(PlannerError)
    def planner_error(exc: PlannerError) -> ResponseReturnValue:
        log.error("%s", exc)
        return page(500, str(exc))

    @app.errorhandler(StorageError)
    def storage_error(exc: StorageError) -> ResponseReturnValue:
        log.error("%s", exc)
        return page(503 if isinstance(exc, DatabaseUnavailableError) else 500, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        return page(exc.code or 500, exc.description or "")
