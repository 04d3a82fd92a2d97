#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the storage tests and print, on stdout,
#   TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/mlp_test
#   PG_TMPDIR=/tmp/mlp-pg.XXXXXX
# (stop it with tests/pg/stop-postgres.sh PG_TMPDIR). The server lives in a temporary
# folder, listens on 127.0.0.1 on a free port with "trust" authentication, and runs without
# fsync: it is for tests only. When no PostgreSQL is installed and we are root with apt-get
# (a fresh Debian machine, CI), the Debian package `postgresql` is installed first.
# Exits 3 if PostgreSQL cannot be had.
set -euo pipefail

log() { echo "start-postgres: $*" >&2; }

find_bindir() {
    local initdb
    initdb=$(ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z "$initdb" ]]; then
        initdb=$(command -v initdb || true)
    fi
    [[ -n "$initdb" ]] && dirname "$initdb"
}

bindir=$(find_bindir || true)
if [[ -z "$bindir" ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        log "installing the Debian package postgresql (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 || log "apt-get update failed; trying the install anyway"
        # The package's own "main" cluster may fail to start in a container; the server
        # binaries are unpacked all the same, and they are all this script needs.
        apt-get install -y -qq --no-install-recommends postgresql >&2 \
            || log "apt-get install postgresql reported an error; using what it installed"
        bindir=$(find_bindir || true)
    fi
fi
if [[ -z "$bindir" ]]; then
    log "no PostgreSQL server (initdb) found and it cannot be installed here"
    exit 3
fi

tmp=$(mktemp -d /tmp/mlp-pg.XXXXXX)
run_pg() { "$@"; }
if [[ $(id -u) -eq 0 ]]; then
    # initdb and postgres refuse to run as root: run them as the `postgres` user the
    # Debian package creates.
    if ! id postgres >/dev/null 2>&1; then
        log "running as root but there is no 'postgres' user to run the server as"
        rm -rf "$tmp"
        exit 3
    fi
    chown postgres: "$tmp"
    if command -v runuser >/dev/null; then
        run_pg() { runuser -u postgres -- "$@"; }
    else
        run_pg() { su postgres -s /bin/sh -c '"$0" "$@"' -- "$@"; }
    fi
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_pg "$bindir/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
    >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; rm -rf "$tmp"; exit 3; }

started=""
for _ in 1 2 3; do
    port=$(free_port)
    if run_pg "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
        -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2; then
        started=1
        break
    fi
done
if [[ -z "$started" ]]; then
    log "the server did not start; its log:"
    cat "$tmp/server.log" >&2 || true
    rm -rf "$tmp"
    exit 3
fi
run_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres mlp_test
echo "$bindir" >"$tmp/bindir"
log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($tmp)"
echo "TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$port/mlp_test"
echo "PG_TMPDIR=$tmp"
