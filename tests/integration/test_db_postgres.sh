#!/usr/bin/env bash
# The database suites on PostgreSQL: starts a throwaway cluster on 127.0.0.1
# (tests/pg_test_server.sh), runs the same Criterion binaries the SQLite run
# uses with VIAL_TEST_DATABASE_URL pointing at it, then checks that a server
# that goes away mid-run is reported as unavailable, and stops the cluster,
# also when something fails.
set -euo pipefail

src=${VIAL_SOURCE_DIR:?run under ctest (VIAL_SOURCE_DIR)}
build=${VIAL_BUILD_DIR:?run under ctest (VIAL_BUILD_DIR)}
server="$src/tests/pg_test_server.sh"

for t in test_db_api test_db_model test_db_migrate test_db_coro test_db_lane test_db_app; do
  if [ ! -x "$build/tests/$t" ]; then
    echo "test_db_postgres: $build/tests/$t is not built (Criterion missing?)" >&2
    exit 1
  fi
done

dir=$(mktemp -d /tmp/vial-pg.XXXXXX)
cleanup() { bash "$server" stop "$dir"; }
trap cleanup EXIT

url=$(bash "$server" start "$dir")
echo "PostgreSQL at $url"

status=0
for t in test_db_api test_db_model test_db_migrate test_db_coro test_db_lane test_db_app; do
  echo "== $t on PostgreSQL"
  if ! VIAL_TEST_DATABASE_URL="$url" "$build/tests/$t" --jobs 2; then
    echo "FAILED: $t on PostgreSQL" >&2
    status=1
  fi
done

# Requests over HTTP sharing each worker's pipelined connection (pg_lane.c).
echo "== tfb_app over HTTP on PostgreSQL, requests on the shared connection"
if ! VIAL_BUILD_DIR="$build" /usr/bin/python3 "$src/tests/integration/db_lane_http.py" "$url"; then
  echo "FAILED: db_lane_http" >&2
  status=1
fi

# The server goes away while a connection sits in the pool: the next checkout
# must report "unavailable" at once, never hang or crash (the closed-port and
# silent-server cases are in test_db_api).
echo "== PostgreSQL stopped under a running app"
# (a FIFO feeds the helper its "go"; its answers go to a file: a coproc's
# descriptors vanish the moment it exits, racing with reading its last line)
talk=$(mktemp -d /tmp/vial-pgdown.XXXXXX)
mkfifo "$talk/go"
"$build/tests/db_down_check" "$url" <"$talk/go" >"$talk/out" 2>&1 &
helper=$!
exec 3>"$talk/go"
for _ in $(seq 600); do
  grep -q '^ready$' "$talk/out" 2>/dev/null && break
  kill -0 "$helper" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^ready$' "$talk/out"; then
  echo "FAILED: db_down_check did not get ready: $(cat "$talk/out")" >&2
  status=1
fi
bash "$server" stop "$dir"
trap - EXIT
trap '' PIPE # a helper that already gave up must not take the script down with SIGPIPE
echo go >&3 || true
exec 3>&-
helper_status=0
wait "$helper" || helper_status=$?
result=$(tail -n 1 "$talk/out")
rm -rf "$talk"
echo "$result"
case "$result" in
  ok:*) [ "$helper_status" -eq 0 ] || status=1 ;;
  *) echo "FAILED: stopped server: $result" >&2; status=1 ;;
esac
exit $status
