#!/usr/bin/env bash
# Quick start 1: install what is missing, build, start the bundled fake
# ServiceTitan on loopback, and run `stsync once` with config/demo.yaml into
# ./demo.db. No credentials needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build

port=18089
ready=$(mktemp)
rm -f "$ready"
build/stsync-fake --port "$port" --records 2000 --page-size 500 --ready-file "$ready" &
fake=$!
trap 'kill $fake 2>/dev/null; wait $fake 2>/dev/null; rm -f "$ready"' EXIT
for _ in $(seq 100); do
  [ -s "$ready" ] && break
  kill -0 $fake 2>/dev/null || break
  sleep 0.1
done
[ -s "$ready" ] || { echo "error: the fake server did not start on port $port (is the port in use?)" >&2; exit 1; }

rm -f demo.db demo.db-wal demo.db-shm
build/stsync once -c config/demo.yaml
echo
# sed, not head: head would close the pipe early, and pipefail would fail
# the demo on the SIGPIPE that status then gets.
build/stsync status -c config/demo.yaml | sed -n 1,12p
cat <<'MSG'
...

The demo database is ./demo.db. Query it while stsync writes, for example:

  sqlite3 -readonly demo.db "SELECT id, jobNumber, total, customerId FROM jobs_v
                             WHERE active LIMIT 5"
  sqlite3 -readonly demo.db "SELECT active, count(*) FROM customers GROUP BY active"
  sqlite3 -readonly demo.db "SELECT t.name, count(*) FROM jobs_v j
                             JOIN job_types_v t ON t.id = j.jobTypeId GROUP BY t.id LIMIT 5"

Each table has a view <table>_v of its records' fields; docs/sql-cookbook.md has
more questions answered with SQL.
MSG
echo
sqlite3 -readonly -header -column demo.db "SELECT v.id, v.jobNumber, v.total, j.modified_on FROM jobs_v v JOIN jobs j USING (id) ORDER BY j.modified_on DESC LIMIT 5"
