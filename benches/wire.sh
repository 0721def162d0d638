#!/usr/bin/env bash
# Server latency as the network sees it: drives a server already listening on
# 127.0.0.1:PORT with wrk, captures the loopback traffic with tcpdump, and
# prints wrk's latency percentiles next to the wire's (each request's first
# packet to its response's first packet, so the load generator's own delays
# are left out). Used for the page's p99 in benches/PROFILE.md.
#
#   benches/wire.sh 3000 '/films?order=id&limit=100&offset=1000'
#
# Knobs: SECS (4), CONNS (8). Installs tcpdump if it is missing.
set -euo pipefail
port=$1
path=$2
command -v tcpdump >/dev/null || apt-get install -y -qq tcpdump >/dev/null
capture=$(mktemp)
trap 'rm -f "$capture"' EXIT
timeout $(( ${SECS:-4} + 2 )) tcpdump -i lo -nn -tt -s 96 "tcp port $port" -w "$capture" 2>/dev/null &
sleep 0.5
wrk -t2 -c"${CONNS:-8}" -d"${SECS:-4}"s --latency "http://127.0.0.1:$port$path" \
  | awk '/^ +(50|90|99)%/ {sub("%", "", $1); printf "wrk  p%s %s  ", $1, $2}
         /Requests\/sec/ {print "(" $2 " req/s)"}'
wait
# Lines "TIME IP 127.0.0.1.SRC > 127.0.0.1.DST: Flags [..], ..., length N".
tcpdump -nn -tt -r "$capture" 2>/dev/null | awk -v port="$port" '
  $NF > 0 {
    split($3, src, "."); split($5, dst, ".")
    sport = src[5]; dport = dst[5]; sub(":", "", dport)
    if (dport == port && !(sport in sent)) sent[sport] = $1
    else if (sport == port && (dport in sent)) { print ($1 - sent[dport]) * 1000; delete sent[dport] }
  }' | sort -n | awk '{ lat[NR] = $1 }
  END {
    printf "wire p50 %.2fms  p90 %.2fms  p99 %.2fms  (%d responses)\n",
      lat[int(NR * 0.5) + 1], lat[int(NR * 0.9) + 1], lat[int(NR * 0.99) + 1], NR
  }'
