#!/usr/bin/env bash
# Stop the server started by tests/pg/start-postgres.sh and remove its folder.
set -euo pipefail
tmp=${1:?usage: stop-postgres.sh PG_TMPDIR}
case "$tmp" in /tmp/mlp-pg.*) ;; *) echo "stop-postgres: not a test server folder: $tmp" >&2; exit 2 ;; esac
if [[ -f "$tmp/bindir" && -d "$tmp/data" ]]; then
    bindir=$(cat "$tmp/bindir")
    if [[ $(id -u) -eq 0 ]] && command -v runuser >/dev/null; then
        runuser -u postgres -- "$bindir/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
    elif [[ $(id -u) -eq 0 ]]; then
        su postgres -s /bin/sh -c '"$0" "$@"' -- "$bindir/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
    else
        "$bindir/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
fi
rm -rf "$tmp"
