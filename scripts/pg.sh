#!/usr/bin/env bash
# Project-local PostgreSQL: creates (once) and starts a cluster under .local/pg.
#   scripts/pg.sh start   create if needed, start, print the DATABASE_URL
#   scripts/pg.sh stop    stop it
#   scripts/pg.sh url     print the DATABASE_URL
# Uses Debian's postgresql binaries (installed with apt-get when missing). When
# run as root the server runs as the `postgres` user, since PostgreSQL refuses
# to run as root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${GANTRY_PG_DIR:-$root/.local/pg}
port=${GANTRY_PG_PORT:-54329}
url="postgres://postgres@127.0.0.1:${port}/gantry?sslmode=disable"

find_bin() {
  local b
  b=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$b" ] && [ -x "$b/initdb" ] && echo "$b"
}

bin=$(find_bin || true)
if [ -z "$bin" ]; then
  echo "pg.sh: installing PostgreSQL from Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin=$(find_bin)
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 512MB
wal_buffers = 16MB
max_wal_size = 4GB
checkpoint_timeout = 15min
log_min_messages = warning
CONF
  fi
  if ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
      || { tail -n 20 "$dir/server.log" >&2; exit 1; }
  fi
  if ! as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'gantry'" | grep -q 1; then
    as_pg "$bin/createdb" -h "$dir" -p "$port" -U postgres gantry
  fi
  echo "$url"
}

case "${1:-start}" in
  start) start ;;
  stop) as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
