#!/usr/bin/env bash
# A/B of two (or more) pgrest-host binaries on the demo schema: each round
# starts every binary in turn (its own throwaway PostgreSQL), warms up, then
# drives one URL with wrk and prints req/s and the server's CPU time per
# request (from /proc/<pid>/stat). Interleaved rounds, because the machine's
# speed drifts; compare medians.
#
#   cp target/release/pgrest-host /tmp/pgrest-a   # before a change
#   cp target/release/pgrest-host /tmp/pgrest-b   # after it
#   benches/ab.sh '/todos?id=eq.1' /tmp/pgrest-a /tmp/pgrest-b
#
# Knobs: ROUNDS (3), SECS (6), CONNS (8), PORT (3111).
set -euo pipefail
path=$1
shift
port=${PORT:-3111}
url="http://127.0.0.1:$port"
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for round in $(seq "${ROUNDS:-3}"); do
  for bin in "$@"; do
    PGRST_SERVER_PORT=$port "$bin" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -sf "$url/" >/dev/null && break; sleep 0.2; done
    wrk -t2 -c8 -d2s "$url$path" >/dev/null
    before=$(cpu_ticks "$pid")
    out=$(wrk -t2 -c"${CONNS:-8}" -d"${SECS:-6}"s "$url$path")
    after=$(cpu_ticks "$pid")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    us=$(( (after - before) * 1000000 / ticks / requests ))
    echo "round $round  $(basename "$bin")  $rps req/s  $us us CPU/request"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
done
