"""``python -m webui --runs runs --host 127.0.0.1 --port 5000``: serve the web UI with
Flask's threaded server (fine for one library's office; put a WSGI server in front for more)."""

from __future__ import annotations

import argparse
import logging
import sys

from webui import create_app


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m webui",
                                     description="Serve the mobile-library planner web UI")
    parser.add_argument("--runs", default="runs", help="folder of plan folders (default: runs)")
    parser.add_argument("--scenarios", default="scenarios",
                        help="folder of scenario YAML files for new jobs (default: scenarios)")
    parser.add_argument("--jobs", default=None,
                        help="folder for background job folders (default: instance/jobs)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--max-jobs", type=int, default=1, help="solves run at once")
    parser.add_argument("--debug", action="store_true", help="Flask debug mode (reloader off)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app({"RUNS_DIR": args.runs, "SCENARIOS_DIR": args.scenarios,
                      "JOBS_DIR": args.jobs, "MAX_CONCURRENT_JOBS": max(1, args.max_jobs)})
    app.run(host=args.host, port=args.port, threaded=True, debug=args.debug,
            use_reloader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
