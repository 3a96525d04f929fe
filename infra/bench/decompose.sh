#!/usr/bin/env bash
# Splits what the five light plugins cost into the cost of their headers
# and the cost of their hooks. It loads benchserver's reference listeners,
# which serve the edge's own handler, with six tenants:
#
#   plain     a route without plugins
#   headers5  the same route; Go code around the edge's handler adds the
#             five request and five response headers that the light
#             plugins set, so no hook runs
#   empty5    five plugins whose rewrite and header_filter hooks do
#             nothing, in the edge process (trusted tier)
#   chain5    the five light plugins, trusted
#   emptysb5  the empty plugins in a plugin worker (sandboxed tier)
#   sandbox5  the light plugins, sandboxed
#
# The empty and the light plugins' hooks are static hooks (docs/plugins.md),
# which run without Risor's VM, and in the sandboxed tier without a round
# trip to the worker. Tenants checked5 and checkedsb5 of throughput.sh
# measure hooks that run in the VM.
#
# headers5/plain is the most a gateway that adds those headers can keep,
# however cheap its plugins are. chain5/headers5 is what the hooks cost on
# top of their headers. Each round measures every tenant once per protocol
# (HTTP/1.1 with wrk, HTTP/2 over TLS with h2load), in reverse order every
# other round, and the script prints the median of the rounds' ratios to
# plain with the lowest and highest round. Every target is on 127.0.0.1,
# started by this script and stopped at its end.
#
# Usage: infra/bench/decompose.sh
# Environment: ROUNDS (default 4), SECONDS_EACH (default 4), WARMUP
# (default 2), CONNECTIONS (default 64), RESULTS (default
# infra/bench/results).
# Needs: apt-get install -y wrk nghttp2-client
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
results=${RESULTS:-$root/infra/bench/results}
rounds=${ROUNDS:-4}
seconds=${SECONDS_EACH:-4}
warmup=${WARMUP:-2}
connections=${CONNECTIONS:-64}
mkdir -p "$results"
# shellcheck source=infra/bench/benchserver.sh
source "$root/infra/bench/benchserver.sh"

cd "$root"
start_benchserver
https_port=${REFERENCE_HTTPS##*:}

# measure prints the requests per second of one tenant under one protocol,
# and stops the script when the load tool printed none.
measure() { # protocol tenant
  local rps
  case "$1" in
    h1) rps=$(wrk -t1 -c"$connections" -d"${duration}s" -H "Host: $2.localhost" "http://$REFERENCE_HTTP/" \
      | awk '/^Requests\/sec:/ {print $2}') ;;
    h2) rps=$(h2load -c 4 -m $((connections / 4)) -D "$duration" -H ":authority: $2.localhost:$https_port" \
      "https://$REFERENCE_HTTPS/" | awk '/^finished in/ {gsub(",", ""); print $4}') ;;
  esac
  if [ -z "$rps" ]; then
    echo "decompose.sh: no requests per second for $1 $2; is the tool installed?" >&2
    exit 1
  fi
  echo "$rps"
}

tenants="plain headers5 empty5 chain5 emptysb5 sandbox5"
reversed="sandbox5 emptysb5 chain5 empty5 headers5 plain"

duration=$warmup
echo "warm-up, $warmup s per target" >&2
for protocol in h1 h2; do
  for tenant in $tenants; do measure "$protocol" "$tenant" >/dev/null; done
done

duration=$seconds
csv="$results/decompose.csv"
echo "round,protocol,tenant,rps" >"$csv"
for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  order=$tenants
  if [ $((round % 2)) -eq 0 ]; then order=$reversed; fi
  for protocol in h1 h2; do
    for tenant in $order; do
      echo "$round,$protocol,$tenant,$(measure "$protocol" "$tenant")" >>"$csv"
    done
  done
done

# The ratios to plain, and chain5/headers5 and sandbox5/headers5: the
# median over rounds of each round's ratio, with the lowest and highest.
awk -F, -f "$root/infra/bench/median.awk" -f /dev/stdin "$csv" <<'AWK' | tee "$results/decompose-ratios.txt"
function report(proto, over, base,    r, n, ratios, m) {
  n = 0
  for (r = 1; r <= rounds; r++)
    if (rps[r "," proto "," base] > 0) ratios[++n] = rps[r "," proto "," over] / rps[r "," proto "," base]
  if (n == 0) return
  m = median(ratios, n)
  printf "%s %s/%s = %.3f (median of %d rounds, %.3f to %.3f)\n", proto, over, base, m, n, low, high
}
NR > 1 { rps[$1 "," $2 "," $3] = $4; if ($1 > rounds) rounds = $1 }
END {
  split("h1 h2", protocols, " ")
  split("headers5 empty5 chain5 emptysb5 sandbox5", tenants, " ")
  for (p = 1; p <= 2; p++) {
    for (t = 1; t <= 5; t++) report(protocols[p], tenants[t], "plain")
    report(protocols[p], "chain5", "headers5")
    report(protocols[p], "sandbox5", "headers5")
  }
}
AWK
