#!/usr/bin/env bash
# Run a command (the test suite) with TEST_DATABASE_URL set to a throwaway PostgreSQL
# server, so the storage tests run against PostgreSQL as well as SQLite:
#   tests/pg/with-postgres.sh .venv/bin/python -m pytest
# A TEST_DATABASE_URL already set is used as it is. Without PostgreSQL the command runs
# anyway (its PostgreSQL tests are skipped), except under CI=true, where that is an error.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
    exec "$@"
fi

if out=$(bash "$here/start-postgres.sh"); then
    export TEST_DATABASE_URL PG_TMPDIR
    TEST_DATABASE_URL=$(sed -n 's/^TEST_DATABASE_URL=//p' <<<"$out")
    PG_TMPDIR=$(sed -n 's/^PG_TMPDIR=//p' <<<"$out")
    trap 'bash "$here/stop-postgres.sh" "$PG_TMPDIR"' EXIT
    "$@"
    exit $?
fi

if [[ "${CI:-}" == "true" ]]; then
    echo "with-postgres: CI=true and no PostgreSQL server could be started: failing" >&2
    exit 1
fi
echo "with-postgres: no PostgreSQL; running without it (its tests are skipped)" >&2
exec "$@"
