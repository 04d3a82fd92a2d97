"""``python -m webui``: serve the web UI, and manage its users.

    python -m webui [serve] --runs runs --scenarios scenarios --host 127.0.0.1 --port 5000
    python -m webui serve --demo-user          # first start: make user "demo" and print it
    python -m webui create-user NAME --role dispatcher|planner|driver|viewer [--password P]
    python -m webui create-admin [NAME]        # the first dispatcher (default name: admin)
    python -m webui set-password NAME [--password P]
    python -m webui set-role NAME --role ROLE | --deactivate | --activate
    python -m webui list-users
    python -m webui upgrade-db                 # migrate the database now (serve does it too)

``serve`` is the default command, so the flags of earlier versions keep working. The
database is ``--database-url``, else ``DATABASE_URL``, else ``planner.sqlite3`` in the
instance folder (``--instance``, else ``PLANNER_INSTANCE_DIR``, else ``./instance``).
A password not given with ``--password`` is asked for (twice) on a terminal, or read as one
line from standard input.

``serve`` runs the app in waitress, a production WSGI server in pure Python (``--threads``
request threads, default 8); ``--dev`` (or ``--debug``) runs Flask's development server
instead, which is for development only. Behind a reverse proxy (HTTPS), give
``--trusted-proxies N`` so that the client's address and scheme are taken from its
``X-Forwarded-*`` headers; ``--https`` forces ``Secure`` cookies and HSTS (see
:mod:`webui.security`).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import secrets
import sys
from typing import Any

from flask import Flask

from storage import DuplicateError, InvalidRecordError, RecordNotFoundError, users
from storage.db import current_revision
from storage.models import ROLES
from webui import create_app
from webui.services import services_of

COMMANDS = ("serve", "create-user", "create-admin", "set-password", "set-role", "list-users",
            "upgrade-db")
DEMO_USER = "demo"
DEFAULT_THREADS = 8

log = logging.getLogger(__name__)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--instance", default=None,
                        help="instance folder (database, secret key, jobs; default: "
                             "$PLANNER_INSTANCE_DIR or ./instance)")
    parser.add_argument("--database-url", default=None,
                        help="database URL (default: $DATABASE_URL or the instance's SQLite "
                             "file)")
    parser.add_argument("--runs", default="runs", help="folder of plan folders (default: runs)")
    parser.add_argument("--scenarios", default="scenarios",
                        help="folder of scenario YAML files for new jobs (default: scenarios)")
    parser.add_argument("--jobs", default=None,
                        help="folder for background job folders (default: instance/jobs)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m webui",
                                     description="Serve the mobile-library planner web UI "
                                                 "and manage its users")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web UI (the default command)")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--max-jobs", type=int, default=1, help="solves run at once")
    serve.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                       help=f"request threads of the server (default {DEFAULT_THREADS})")
    serve.add_argument("--dev", action="store_true",
                       help="Flask's development server instead of waitress (not for users)")
    serve.add_argument("--debug", action="store_true",
                       help="Flask debug mode, in the development server (reloader off)")
    serve.add_argument("--trusted-proxies", type=int, default=0, metavar="N",
                       help="reverse proxies in front whose X-Forwarded-* headers count")
    serve.add_argument("--derived-cache-mb", type=float, default=None, metavar="MB",
                       help="disk for drawn PDFs, maps and exports (default 512; 0: no cache)")
    serve.add_argument("--https", action="store_true",
                       help="always send Secure cookies and HSTS (default: over HTTPS only)")
    serve.add_argument("--library-contact", default=None, metavar="TEXT",
                       help="how readers reach the library (phone, address), printed on the "
                            "communes' timetable posters")
    serve.add_argument("--today", default=None, metavar="YYYY-MM-DD",
                       help="the date the app takes as today (a training copy on past "
                            "plans; default: the date in Vietnam)")
    serve.add_argument("--demo-user", action="store_true",
                       help=f"if there are no users yet, make dispatcher {DEMO_USER!r} and "
                            "print its password")
    serve.add_argument("--demo-password", default=None,
                       help="the demo user's password (default: a random one, printed)")

    for name, what in (("create-user", "add a user"),
                       ("create-admin", "add a dispatcher (the first account)")):
        p = sub.add_parser(name, help=what)
        _common(p)
        if name == "create-user":
            p.add_argument("username")
            p.add_argument("--role", required=True, choices=ROLES)
        else:
            p.add_argument("username", nargs="?", default="admin")
        p.add_argument("--password", default=None,
                       help="the password (default: asked for, or read from stdin)")

    p = sub.add_parser("set-password", help="change a user's password")
    _common(p)
    p.add_argument("username")
    p.add_argument("--password", default=None)

    p = sub.add_parser("set-role", help="change a user's role, or switch the user off or on")
    _common(p)
    p.add_argument("username")
    p.add_argument("--role", choices=ROLES, default=None)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--deactivate", action="store_true")
    group.add_argument("--activate", action="store_true")

    p = sub.add_parser("list-users", help="list the users")
    _common(p)
    p = sub.add_parser("upgrade-db", help="migrate the database to the newest schema")
    _common(p)
    return parser


def _with_default_command(argv: list[str]) -> list[str]:
    """``serve`` when no command is named (``python -m webui --port 8000``)."""
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        return ["serve", *argv]
    return argv


def _app(args: argparse.Namespace, **config: Any) -> Flask:
    settings: dict[str, Any] = {"RUNS_DIR": args.runs, "SCENARIOS_DIR": args.scenarios,
                                "JOBS_DIR": args.jobs, **config}
    if args.database_url:
        settings["DATABASE_URL"] = args.database_url
    return create_app(settings, instance_path=args.instance)


def _ask_password(given: str | None) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise InvalidRecordError("the two passwords differ")
    return first


def _hash_method(app: Flask) -> str:
    return str(app.config["PASSWORD_HASH_METHOD"])


def ensure_demo_user(app: Flask, *, password: str | None = None) -> tuple[str, str] | None:
    """Make dispatcher ``demo`` if the database has no users; ``(name, password)`` if it
    was made, else ``None``."""
    db = services_of(app).database
    with db.begin() as s:
        if users.count_users(s):
            return None
        password = password or secrets.token_urlsafe(9)
        users.create_user(s, username=DEMO_USER, password=password, role="dispatcher",
                          hash_method=_hash_method(app))
    return DEMO_USER, password


DEMO_SCENARIO = "ha-giang-2026.yaml"
DEMO_TITLES = "data/ha-giang-2026/dau-sach.csv"  # beside the demo scenario


def ensure_demo_registry(app: Flask) -> str | None:
    """Import the book batches of the demo scenario (its ``rotation:`` files and the title
    lists beside them) into the database as user ``demo``, if the database has no registry
    yet; what was imported, or ``None``."""
    from planner.batches import read_batches, read_profiles, read_stays, read_titles
    from planner.errors import PlannerError
    from planner.scenario import load_scenario
    from storage import batches

    path = app.config["SCENARIOS_DIR"] / DEMO_SCENARIO
    db = services_of(app).database
    with db.read() as s:
        if batches.has_registry(s) or not path.is_file():
            return None
    try:
        rotation = load_scenario(path).rotation
        if rotation is None:
            return None
        titles = app.config["SCENARIOS_DIR"] / DEMO_TITLES
        tables = batches.Tables(
            batches=read_batches(rotation.batches),
            titles=read_titles(titles) if titles.is_file() else (),
            stays=read_stays(rotation.history) if rotation.history else (),
            profiles=tuple(read_profiles(rotation.profiles).values())
            if rotation.profiles else (),
            titles_file=str(titles), history_file=rotation.history or "<history>")
    except PlannerError as exc:
        log.warning("demo batches not imported: %s", exc)
        return None
    with db.begin() as s:
        user = users.find_user(s, DEMO_USER)
        if user is None:
            return None
        report = batches.import_tables(s, tables, user_id=user.id)
    return (f"{report.added} book batches, {report.titles} titles, {report.moves} moves of "
            f"history and {report.profiles} commune profiles of {DEMO_SCENARIO}")


def ensure_demo_fleet(app: Flask) -> tuple[str, ...]:
    """Take the demo scenario's vehicles into an empty fleet as user ``demo`` (so the fleet
    and accounts pages show them); the ids added, none when the fleet has vehicles."""
    from planner.errors import PlannerError
    from planner.scenario import load_scenario
    from storage import fleet

    path = app.config["SCENARIOS_DIR"] / DEMO_SCENARIO
    db = services_of(app).database
    with db.read() as s:
        if fleet.list_vehicles(s) or not path.is_file():
            return ()
    try:
        vehicles = fleet.scenario_vehicles(load_scenario(path))
    except PlannerError as exc:
        log.warning("demo fleet not made: %s", exc)
        return ()
    with db.begin() as s:
        user = users.find_user(s, DEMO_USER)
        if user is None:
            return ()
        for v in vehicles:
            fleet.save_vehicle(s, vehicle_id=v.vehicle_id, name=v.name, profile=v.profile,
                               depot_id=v.depot_id, capacity_crates=v.capacity_crates,
                               user_id=user.id)
    return tuple(v.vehicle_id for v in vehicles)


def serve(args: argparse.Namespace) -> int:
    """Serve the app: waitress, or Flask's development server with ``--dev``."""
    app = _app(args, MAX_CONCURRENT_JOBS=max(1, args.max_jobs),
               TRUSTED_PROXIES=max(0, args.trusted_proxies),
               **({"HTTPS": True} if args.https else {}),
               **({"LIBRARY_CONTACT": args.library_contact} if args.library_contact else {}),
               **({"TODAY": args.today} if args.today else {}),
               **({"DERIVED_CACHE_MAX_MB": args.derived_cache_mb}
                  if args.derived_cache_mb is not None else {}))
    if args.demo_user:
        made = ensure_demo_user(app, password=args.demo_password)
        url = f"http://{args.host}:{args.port}/"
        if made:
            print(f"\n  Demo dispatcher created: user {made[0]!r}, password {made[1]!r}"
                  f"\n  Log in at {url}login (change it: python -m webui set-password "
                  f"{made[0]})\n", flush=True)
        else:
            print(f"\n  Log in at {url}login with your account (the demo user, if made "
                  f"earlier, is {DEMO_USER!r}; reset its password with python -m webui "
                  f"set-password {DEMO_USER}).\n", flush=True)
        imported = ensure_demo_registry(app)
        if imported:
            print(f"  Imported the demo's {imported} (illustrative: ASSUMPTION) into the "
                  "database: see Lô sách (/batches).\n", flush=True)
        added = ensure_demo_fleet(app)
        if added:
            print(f"  Took the demo's vehicles {', '.join(added)} into the fleet: tie drivers "
                  "to them on /accounts (python -m webui create-user NAME --role driver).\n",
                  flush=True)
    if args.dev or args.debug:
        app.run(host=args.host, port=args.port, threaded=True, debug=args.debug,
                use_reloader=False)
        return 0
    import waitress

    print(f"  Serving on http://{args.host}:{args.port}/ (waitress, {args.threads} threads)",
          flush=True)
    waitress.serve(app, host=args.host, port=args.port, threads=max(1, args.threads),
                   ident="mobile-library-planner", _quiet=True)
    return 0


def manage(args: argparse.Namespace) -> int:
    app = _app(args)
    db = services_of(app).database
    if args.command == "upgrade-db":
        print(f"{db.url}: schema {current_revision(db.engine)}")
        return 0
    if args.command == "list-users":
        with db.begin() as s:
            for u in users.list_users(s):
                print(f"{u.username}\t{u.role}\t{'active' if u.active else 'off'}\t"
                      f"{u.created_at:%Y-%m-%d}")
        return 0
    if args.command == "set-role":
        active = True if args.activate else False if args.deactivate else None
        with db.begin() as s:
            u = users.update_user(s, args.username, role=args.role, active=active)
        print(f"user {u.username}: role {u.role}, {'active' if u.active else 'off'}")
        return 0
    password = _ask_password(args.password)
    with db.begin() as s:
        if args.command == "set-password":
            u = users.set_password(s, args.username, password,
                                   hash_method=_hash_method(app))
            print(f"password of {u.username} changed")
            return 0
        role = args.role if args.command == "create-user" else "dispatcher"
        u = users.create_user(s, username=args.username, password=password, role=role,
                              hash_method=_hash_method(app))
    print(f"user {u.username} created with role {u.role} ({db.url})")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(_with_default_command(
        list(sys.argv[1:] if argv is None else argv)))
    logging.basicConfig(level=logging.INFO if args.command == "serve" else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return serve(args) if args.command == "serve" else manage(args)
    except (DuplicateError, InvalidRecordError, RecordNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
