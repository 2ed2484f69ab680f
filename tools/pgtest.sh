#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, without systemd, as root or as a normal user.
#
#   pgtest.sh install   # root only: Debian's postgresql package (idempotent)
#   pgtest.sh start     # initdb (if needed) + start; prints `export GILIRAN_PG_DSN=...`
#   pgtest.sh stop      # fast shutdown and remove the directory (PGTEST_KEEP=1 keeps it)
#   pgtest.sh status
#
# Environment: PGTEST_DIR (default /tmp/giliran-pg), PGTEST_PORT (default 55432),
#              PGTEST_USER (OS user owning the cluster when run as root; default postgres,
#              created as a system user if missing), PGTEST_DB (default giliran_test).
set -euo pipefail

DIR=${PGTEST_DIR:-/tmp/giliran-pg}
PORT=${PGTEST_PORT:-55432}
DB=${PGTEST_DB:-giliran_test}
OSUSER=${PGTEST_USER:-postgres}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH   # runuser lives in /usr/sbin
export LC_ALL=C.UTF-8 LANG=C.UTF-8                # an ungenerated LANG makes initdb fail

pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    [[ -n $d && -x $d/initdb ]] || { echo "pgtest: no PostgreSQL server binaries; run '$0 install'" >&2; exit 1; }
    echo "$d"
}

as_owner() {  # run a command as the unprivileged cluster owner
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u "$OSUSER" -- "$@"
    else
        "$@"
    fi
}

dsn() { echo "postgresql://postgres@127.0.0.1:$PORT/$DB"; }

case ${1:-} in
install)
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    fi
    ;;
start)
    B=$(pg_bin)
    if [[ $(id -u) -eq 0 ]] && ! id -u "$OSUSER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$OSUSER"
    fi
    if [[ -f $DIR/data/postmaster.pid ]] && as_owner "$B/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
        echo "pgtest: already running" >&2; echo "export GILIRAN_PG_DSN=$(dsn)"; exit 0
    fi
    if "$B/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
        echo "pgtest: port $PORT is taken by another server; set PGTEST_PORT" >&2; exit 1
    fi
    mkdir -p "$DIR"
    [[ $(id -u) -eq 0 ]] && chown "$OSUSER": "$DIR"
    cd "$DIR"   # initdb/pg_ctl warn when the owner cannot enter the current directory
    if [[ ! -f $DIR/data/PG_VERSION ]]; then
        as_owner mkdir -p "$DIR/sock"
        # --no-sync only skips initdb's final sync; the running server still fsyncs (fsync=on).
        as_owner "$B/initdb" -D "$DIR/data" -A trust -U postgres --locale=C.UTF-8 -E UTF8 --no-sync >"$DIR/initdb.log"
    fi
    as_owner "$B/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-k $DIR/sock -c listen_addresses=127.0.0.1 -p $PORT -c fsync=on -c synchronous_commit=on -c max_connections=200" \
        start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
    "$B/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" -At | grep -q 1 \
        || "$B/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
    echo "export GILIRAN_PG_DSN=$(dsn)"
    ;;
stop)
    B=$(pg_bin)
    if [[ -f $DIR/data/postmaster.pid ]]; then
        cd "$DIR" && as_owner "$B/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null || true
    fi
    [[ ${PGTEST_KEEP:-0} == 1 ]] || rm -rf "$DIR"
    ;;
status)
    B=$(pg_bin)
    cd "$DIR" 2>/dev/null && as_owner "$B/pg_ctl" -D "$DIR/data" status
    ;;
*)
    echo "usage: $0 install|start|stop|status" >&2; exit 2
    ;;
esac
