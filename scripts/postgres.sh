#!/usr/bin/env bash
# A private PostgreSQL cluster for durascribe's tests and CI.
#
#   bash scripts/postgres.sh        ensure it is installed, initialised, running
#   bash scripts/postgres.sh stop   stop it if it is running
#
# Listens on 127.0.0.1 only, port ${DURASCRIBE_PG_PORT:-54329}, data in
# ${DURASCRIBE_PG_DIR:-/tmp/durascribe-pg}, superuser "postgres" with trust
# auth (loopback only). Idempotent: running it again when the cluster is up
# changes nothing. Run as root (the cluster then runs as the "postgres" OS
# user) or as the user who owns the data dir.
set -euo pipefail

PORT="${DURASCRIBE_PG_PORT:-54329}"
PGDIR="${DURASCRIBE_PG_DIR:-/tmp/durascribe-pg}"
SOCKET_DIR=/tmp
LOCK_FILE="${PGDIR%/}.lock"
CMD="${1:-start}"

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

case "$PORT" in
  '' | *[!0-9]*) die "DURASCRIBE_PG_PORT must be a number, got '$PORT'" ;;
esac
case "$CMD" in
  start | stop) ;;
  *) die "usage: $0 [start|stop]" ;;
esac

# The newest installed server's bin dir, or nothing.
find_bindir() {
  local f best=""
  for f in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$f" ] || continue
    if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$f" | sort -V | tail -n 1)" = "$f" ]; then
      best="$f"
    fi
  done
  if [ -n "$best" ]; then dirname "$best"; fi
}

install_server() {
  [ "$(id -u)" -eq 0 ] ||
    die "PostgreSQL server is not installed and installing needs root: apt-get install postgresql"
  # We run our own cluster; tell postgresql-common not to create (and start)
  # its default "main" cluster on 5432 while installing.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" \
    >/etc/postgresql-common/createcluster.d/durascribe-no-main.conf
  echo "postgres.sh: installing PostgreSQL server (apt-get)" >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    postgresql >&2
}

# Runs a command as the cluster's OS user. fd 9 (the lock below) is closed
# for it so that a server started by pg_ctl does not hold the lock forever.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@" 9>&-
  else
    "$@" 9>&-
  fi
}

BINDIR="$(find_bindir)"

if [ "$CMD" = stop ]; then
  if [ -n "$BINDIR" ] && [ -f "$PGDIR/PG_VERSION" ] &&
    as_owner "$BINDIR/pg_ctl" status -D "$PGDIR" >/dev/null 2>&1; then
    as_owner "$BINDIR/pg_ctl" stop -D "$PGDIR" -m fast -w -t 60 >&2
    echo "postgres stopped (port $PORT, data $PGDIR)"
  else
    echo "postgres not running (port $PORT, data $PGDIR)"
  fi
  exit 0
fi

if [ -z "$BINDIR" ]; then
  install_server
  BINDIR="$(find_bindir)"
  [ -n "$BINDIR" ] || die "apt-get finished but /usr/lib/postgresql/*/bin/initdb is missing"
fi
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "OS user 'postgres' is missing (it comes with the postgresql package)"
fi

# Concurrent callers (parallel test processes) take turns.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$LOCK_FILE"
  flock -w 300 9 || die "timed out waiting for $LOCK_FILE"
fi

ready() {
  "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -t 2
}

url="postgres://postgres@127.0.0.1:$PORT/postgres"

if ready; then
  echo "postgres ready at $url"
  exit 0
fi

version="$(basename "$(dirname "$BINDIR")")"

# A data dir left by an earlier run: reuse it if it is a complete cluster of
# this server version, otherwise start over (it only ever holds test data).
if [ -e "$PGDIR" ]; then
  if [ ! -f "$PGDIR/PG_VERSION" ] || [ ! -f "$PGDIR/global/pg_control" ] ||
    [ "$(cat "$PGDIR/PG_VERSION")" != "$version" ]; then
    echo "postgres.sh: $PGDIR is not a PostgreSQL $version cluster; recreating it" >&2
    rm -rf "$PGDIR"
  fi
fi

if [ ! -e "$PGDIR" ]; then
  mkdir -p "$PGDIR"
  chmod 700 "$PGDIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PGDIR"; fi
  as_owner "$BINDIR/initdb" -D "$PGDIR" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C >"$PGDIR.initdb.log" 2>&1 || {
    cat "$PGDIR.initdb.log" >&2
    rm -rf "$PGDIR"
    die "initdb failed"
  }
  rm -f "$PGDIR.initdb.log"
elif [ "$(id -u)" -eq 0 ]; then
  # Left by a run as another user (or restored by root): hand it back.
  chown -R postgres:postgres "$PGDIR"
  chmod 700 "$PGDIR"
fi

# True if PID is a live (not zombie) PostgreSQL server process.
live_postgres() {
  local pid="$1" stat comm
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
  stat="$(cat "/proc/$pid/stat" 2>/dev/null || true)"
  stat="${stat##*) }"
  case "$comm" in postgres | postmaster) ;; *) return 1 ;; esac
  [ "${stat%% *}" != Z ]
}

# A postmaster.pid or socket lock whose process is gone (killed, or a zombie
# that the container's PID 1 never reaped, or a reused PID after a restart)
# would make pg_ctl or the server refuse to start.
if [ -f "$PGDIR/postmaster.pid" ]; then
  pid="$(head -n 1 "$PGDIR/postmaster.pid" 2>/dev/null || true)"
  if live_postgres "$pid"; then
    # A live server that does not answer on our port (an earlier
    # DURASCRIBE_PG_PORT, or hung): restart it on ours.
    echo "postgres.sh: server in $PGDIR does not answer on port $PORT; restarting it" >&2
    as_owner "$BINDIR/pg_ctl" stop -D "$PGDIR" -m fast -w -t 60 >&2 ||
      as_owner "$BINDIR/pg_ctl" stop -D "$PGDIR" -m immediate -w -t 30 >&2 || true
  fi
  if ! live_postgres "$pid"; then rm -f "$PGDIR/postmaster.pid"; fi
fi
SOCKET_LOCK="$SOCKET_DIR/.s.PGSQL.$PORT.lock"
if [ -f "$SOCKET_LOCK" ]; then
  pid="$(head -n 1 "$SOCKET_LOCK" 2>/dev/null || true)"
  if ! live_postgres "$pid"; then rm -f "$SOCKET_LOCK" "$SOCKET_DIR/.s.PGSQL.$PORT"; fi
fi

LOG="$PGDIR/server.log"
if ! as_owner "$BINDIR/pg_ctl" start -D "$PGDIR" -w -t 60 -l "$LOG" \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $SOCKET_DIR -c max_connections=200 -c fsync=on" \
  >&2; then
  tail -n 30 "$LOG" >&2 || true
  die "pg_ctl start failed (log: $LOG)"
fi

for _ in $(seq 1 60); do
  if ready; then
    echo "postgres ready at $url"
    exit 0
  fi
  sleep 1
done
tail -n 30 "$LOG" >&2 || true
die "server started but pg_isready -h 127.0.0.1 -p $PORT never answered"
