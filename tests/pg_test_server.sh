#!/usr/bin/env bash
# tests/pg_test_server.sh start DIR | stop DIR
#
# A throwaway PostgreSQL cluster for the database tests, from Debian's
# postgresql package (initdb + pg_ctl): created in DIR (made if missing),
# listening on 127.0.0.1 on a free port only (plus a unix socket inside DIR),
# trust authentication, fsync off. `start` prints the URL of an empty database
# "vial_test" owned by user "vial"; `stop` stops the server and removes DIR.
# PostgreSQL refuses to run as root: as root the server runs as the
# `postgres` system user (created by the package; created here if missing).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "pg_test_server: PostgreSQL server binaries not found under /usr/lib/postgresql (scripts/bootstrap test installs them)" >&2
  exit 1
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  fi
  as_owner=(runuser -u postgres --)
fi

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "$cmd" in
start)
  mkdir -p "$dir"
  chmod 755 "$dir"
  [ ${#as_owner[@]} -eq 0 ] || chown postgres "$dir"
  "${as_owner[@]}" "$pgbin/initdb" -D "$dir/data" -U vial --auth=trust -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  started=0
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if "${as_owner[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
         -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60" \
         start >/dev/null 2>&1; then
      started=1
      break
    fi
  done
  if [ "$started" -ne 1 ]; then
    echo "pg_test_server: the server did not start; its log:" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
  fi
  echo "$port" >"$dir/port"
  "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U vial vial_test
  echo "postgresql://vial@127.0.0.1:$port/vial_test"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as_owner[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  fi
  case "$dir" in
    /tmp/*|/var/tmp/*|"${TMPDIR:-/nonexistent}"/*) rm -rf "$dir" ;;
    *) echo "pg_test_server: not removing $dir (outside the temp folders)" >&2 ;;
  esac
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
