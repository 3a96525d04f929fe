#!/usr/bin/env bash
# Measures what one request costs on each tenant of benchserver that
# throughput.sh loads (plain, chain5, checked5, sandbox5, checkedsb5)
# under wrk, and on plain+h (see load below). It reads the CPU time of the
# edge process and of its plugin workers from /proc/PID/stat. With perf installed it also counts the
# context switches and system calls of the whole machine (perf stat -a).
# Neither samples the processes, so the figures are free of a profiler's
# own cost. Every target is on 127.0.0.1, started by this script and
# stopped at its end.
#
# Usage: infra/bench/cost.sh
# Environment: ROUNDS (default 2), SECONDS_EACH (default 5), CONNECTIONS
# (default 16).
# Needs: apt-get install -y wrk; for the perf columns, linux-perf.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${ROUNDS:-2}
seconds=${SECONDS_EACH:-5}
connections=${CONNECTIONS:-16}
# shellcheck source=infra/bench/benchserver.sh
source "$root/infra/bench/benchserver.sh"

cd "$root"
start_benchserver

use_perf=false
if command -v perf >/dev/null && perf stat -a -e context-switches -o /dev/null -- true 2>/dev/null; then
  use_perf=true
fi
clock_ticks=$(getconf CLK_TCK)

# shellcheck source=infra/bench/cputicks.sh
source "$root/infra/bench/cputicks.sh"

# The target plain+h is the plain route with the five request headers that
# chain5's plugins add (X-Light-0 to X-Light-4) sent by wrk instead. It
# shows what those headers cost without any plugin.
light_headers=()
for i in 0 1 2 3 4; do light_headers+=(-H "X-Light-$i: t0"); done

load() { # target seconds
  local tenant=$1 extra=()
  if [ "$tenant" = plain+h ]; then tenant=plain extra=("${light_headers[@]}"); fi
  wrk -t1 -c"$connections" -d"$2s" -H "Host: $tenant.localhost" "${extra[@]}" "http://$EDGE_HTTP/" \
    | awk '/^Requests\/sec:/ {print $2}'
}

printf "%-5s %-10s %9s %11s %11s %8s %9s\n" round tenant "req/s" "edge µs/req" "wkr µs/req" "cs/req" "sys/req"
for round in $(seq "$rounds"); do
  for tenant in plain plain+h chain5 checked5 sandbox5 checkedsb5; do
    load "$tenant" 2 >/dev/null
    workers=$(pgrep -P "$server_pid" | tr "\n" " " || true)

    edge0=$(cpu_ticks "$server_pid")
    # shellcheck disable=SC2086
    worker0=$(cpu_ticks $workers)
    if $use_perf; then
      perf stat -a -x, -e context-switches,raw_syscalls:sys_enter -o "$work/stat" -- sleep "$seconds" &
      perf_pid=$!
    fi
    rps=$(load "$tenant" "$seconds")
    if $use_perf; then wait "$perf_pid"; fi
    edge1=$(cpu_ticks "$server_pid")
    # shellcheck disable=SC2086
    worker1=$(cpu_ticks $workers)

    requests=$(echo "$rps * $seconds" | bc)
    switches="-" calls="-"
    if $use_perf; then
      switches=$(awk -F, -v n="$requests" '$3 == "context-switches" {printf "%.1f", $1 / n}' "$work/stat")
      calls=$(awk -F, -v n="$requests" '$3 == "raw_syscalls:sys_enter" {printf "%.1f", $1 / n}' "$work/stat")
    fi
    printf "%-5s %-10s %9.0f %11.1f %11.1f %8s %9s\n" "$round" "$tenant" "$rps" \
      "$(echo "($edge1 - $edge0) * 1000000 / $clock_ticks / $requests" | bc -l)" \
      "$(echo "($worker1 - $worker0) * 1000000 / $clock_ticks / $requests" | bc -l)" \
      "$switches" "$calls"
  done
done
