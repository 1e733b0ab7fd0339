#!/usr/bin/env bash
# A throwaway PostgreSQL for tests: Debian's `postgresql` package (installed if missing), one cluster
# in a temporary directory made by initdb, run by pg_ctl as a non-root system user, listening only on
# 127.0.0.1 on a free port. Never the machine's own cluster, never a mock.
#
#   test/lab/postgres.sh start [DIR]   prints the cluster's directory, then its URL, one per line
#   test/lab/postgres.sh stop DIR      stops the cluster and removes DIR
#   test/lab/postgres.sh install       installs Debian's postgresql if missing (.ci/run, before the tests)
#   test/lab/postgres.sh halt DIR [fast|immediate] / resume DIR   an outage: the server stops, then starts again
#
# The superuser "callbackd" gets a random password (scram-sha-256), kept in DIR/password (0600) and in
# the printed URL: a lab secret for one run, never a real one. fsync is off: the cluster lives as long
# as one test file and durability is not what the tests measure.
set -euo pipefail

PG_USER=callbackd-pg

die() { echo "postgres.sh: $*" >&2; exit 1; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

ensure_installed() {
  [ -n "$(pg_bin)" ] && return 0
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
  echo "postgres.sh: installing Debian's postgresql package" >&2
  apt-get update -qq >&2
  # policy-rc.d 101: the package must not start the machine-wide cluster it creates; tests use their own.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; made_policy=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2 || { [ "$made_policy" = 1 ] && rm -f "$policy"; die "apt-get install postgresql failed"; }
  [ "$made_policy" = 1 ] && rm -f "$policy"
  [ -n "$(pg_bin)" ] || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb"
}

# initdb and the server refuse to run as root: as root, run them as a system user made for this.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    id "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

port_free() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

start() {
  ensure_installed
  local bin dir
  bin=$(pg_bin)
  dir=${1:-$(mktemp -d /tmp/callbackd-pg.XXXXXX)}
  mkdir -p "$dir"
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && { as_pg true; chown "$PG_USER" "$dir"; }
  local password
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  (umask 077; printf '%s\n' "$password" >"$dir/password")
  [ "$(id -u)" = 0 ] && chown "$PG_USER" "$dir/password"
  as_pg "$bin/initdb" -D "$dir/data" -U callbackd --pwfile="$dir/password" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  local try port=""
  for try in 1 2 3 4 5 6 7 8; do
    port=$(shuf -i 20000-60999 -n 1)
    port_free "$port" || continue
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null; then
      echo "$port" >"$dir/port"
      echo "$dir"
      echo "postgres://callbackd:$password@127.0.0.1:$port/postgres"
      return 0
    fi
    echo "postgres.sh: start on port $port failed (try $try), see $dir/server.log" >&2
  done
  tail -20 "$dir/server.log" >&2 || true
  die "could not start PostgreSQL"
}

stop() {
  local dir=${1:?usage: postgres.sh stop DIR}
  case "$dir" in /tmp/callbackd-pg.*|/tmp/*/callbackd-pg*) ;; *) [ -f "$dir/data/PG_VERSION" ] || die "$dir is not a cluster made by this script";; esac
  local bin
  bin=$(pg_bin) || true
  if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

# An outage (test/e2e/pg-outage.e2e.test.ts): the server stops (pg_ctl -m fast|immediate) and starts
# again on the same data directory and port; the cluster and its data stay.
halt() {
  local dir=${1:?usage: postgres.sh halt DIR [fast|immediate]} mode=${2:-fast}
  as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null
}
resume() {
  local dir=${1:?usage: postgres.sh resume DIR} port
  port=$(cat "$dir/port")
  as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
}

case "${1:-}" in
  start) shift; start "$@" ;;
  halt) shift; halt "$@" ;;
  resume) shift; resume "$@" ;;
  stop) shift; stop "$@" ;;
  install) ensure_installed; echo "postgres.sh: PostgreSQL binaries in $(pg_bin)" ;;
  *) die "usage: $0 start [DIR] | stop DIR | halt DIR [fast|immediate] | resume DIR | install" ;;
esac
