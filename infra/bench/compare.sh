#!/usr/bin/env bash
# Compares two builds of benchserver on one tenant, alternating rounds of
# wrk between them so a drift of the machine's speed does not favour
# either. Each build runs from its own git worktree of the given revision.
# The script prints, per round, the requests per second and the CPU time
# per request of each build's edge process and of its plugin workers, read
# from /proc/PID/stat, and then the medians. Every target is on 127.0.0.1,
# started by this script and stopped at its end.
#
# Usage: infra/bench/compare.sh REVISION_A REVISION_B [TENANT]
#   TENANT is plain, chain5 or sandbox5 (default sandbox5).
# Environment: ROUNDS (default 6), SECONDS_EACH (default 4), CONNECTIONS
# (default 16).
# Needs: apt-get install -y wrk
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n 2,13p "$0" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
revisions=("$1" "$2")
tenant=${3:-sandbox5}
rounds=${ROUNDS:-6}
seconds=${SECONDS_EACH:-4}
connections=${CONNECTIONS:-16}
work=$(mktemp -d)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for side in a b; do git -C "$root" worktree remove --force "$work/$side" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start SIDE REVISION builds benchserver at REVISION and starts it; its
# process id goes to pid_SIDE and its HTTP address to url_SIDE.
start() {
  local side=$1 revision=$2
  git -C "$root" worktree add --quiet --detach "$work/$side" "$revision"
  (cd "$work/$side" && go build -o "$work/benchserver-$side" portcullis.dev/services/cmd/benchserver)
  "$work/benchserver-$side" -lifetime 30m >"$work/$side.env" 2>"$work/$side.log" &
  pids+=("$!")
  eval "pid_$side=$!"
  for _ in $(seq 100); do
    grep -q '^READY=1' "$work/$side.env" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '^READY=1' "$work/$side.env" || { cat "$work/$side.log" >&2; exit 1; }
  eval "url_$side=$(sed -n 's/^EDGE_HTTP=//p' "$work/$side.env")"
}

# shellcheck source=infra/bench/cputicks.sh
source "$root/infra/bench/cputicks.sh"

load() { # url seconds
  wrk -t1 -c"$connections" -d"$2s" -H "Host: $tenant.localhost" "http://$1/" \
    | awk '/^Requests\/sec:/ {print $2}'
}

# measure SIDE prints "rps edge_us worker_us" for one round of SIDE.
measure() {
  local side=$1 pid url workers edge0 worker0 rps edge1 worker1
  pid=$(eval echo "\$pid_$side")
  url=$(eval echo "\$url_$side")
  workers=$(pgrep -P "$pid" | tr "\n" " " || true)
  edge0=$(cpu_ticks "$pid")
  # shellcheck disable=SC2086
  worker0=$(cpu_ticks $workers)
  rps=$(load "$url" "$seconds")
  edge1=$(cpu_ticks "$pid")
  # shellcheck disable=SC2086
  worker1=$(cpu_ticks $workers)
  echo "$rps" "$edge0" "$edge1" "$worker0" "$worker1" | awk -v hz="$(getconf CLK_TCK)" -v s="$seconds" \
    '{n = $1 * s; printf "%.0f %.1f %.1f\n", $1, ($3 - $2) * 1e6 / hz / n, ($5 - $4) * 1e6 / hz / n}'
}

cd "$root"
start a "${revisions[0]}"
start b "${revisions[1]}"
load "$url_a" 2 >/dev/null
load "$url_b" 2 >/dev/null

printf "%-5s %-4s %9s %12s %12s\n" round side "req/s" "edge µs/req" "wkr µs/req"
for round in $(seq "$rounds"); do
  order="a b"
  if [ $((round % 2)) = 0 ]; then order="b a"; fi
  for side in $order; do
    printf "%-5s %-4s %9s %12s %12s\n" "$round" "$side" $(measure "$side") | tee -a "$work/rounds"
  done
done

# median prints the median of the numbers on standard input.
median() {
  sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

echo "medians over $rounds rounds (a = ${revisions[0]}, b = ${revisions[1]}, tenant $tenant):"
for side in a b; do
  column() { awk -v side="$side" -v c="$1" '$2 == side {print $c}' "$work/rounds" | median; }
  printf "%s req/s %s, edge µs/req %s, worker µs/req %s\n" "$side" "$(column 3)" "$(column 4)" "$(column 5)"
done
