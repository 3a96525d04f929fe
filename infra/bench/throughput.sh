#!/usr/bin/env bash
# Compares the throughput of five tenants on one edge, measured
# alternately. plain is a route without plugins, and chain5 the same route
# with five light plugins inside the edge process (the trusted tier),
# whose hooks are static. checked5 binds five trusted plugins that add the
# same headers from hooks that run in Risor's VM. sandbox5 puts the light
# plugins in the sandboxed tier, where the edge makes their static
# changes itself, and checkedsb5 the checked plugins in a plugin worker,
# with a round trip per phase. The upstream is measured directly for reference. HTTP/1.1
# uses wrk, HTTP/2 over TLS uses h2load, HTTP/3 uses our loadgen. Every
# target is on 127.0.0.1, started by this script and stopped at its end.
#
# Every target gets a warm-up of WARMUP seconds first. Odd rounds measure
# plain, chain5, checked5, sandbox5, checkedsb5 in that order and even rounds in reverse, so a
# drift of the machine's speed during a round does not favour one tenant.
# The script prints, per protocol, the median over rounds of each round's
# ratio, the lowest and highest round, and the ratio of the sums.
#
# A target's throughput is the highest rate it sustains, and one number of
# connections does not find it for every target. With 16, about a tenth of
# the two CPUs stayed idle while requests waited on process round trips.
# More connections cost the load tool more per request, and some runs of
# the plain route were slower at 64 than at 16. Each round therefore
# measures every target at each number in CONNECTIONS and keeps its best
# in throughput.csv, with every measurement in throughput-levels.csv. The
# ratios are printed for the best rates and for each number alone. HTTP/2
# spreads the streams over 4 connections.
#
# Usage: infra/bench/throughput.sh
# Environment: ROUNDS (default 6), SECONDS_EACH (default 4), WARMUP
# (default 2), CONNECTIONS (default "16 64"), PROTOCOLS (default "h1 h2
# h3"), RESULTS (default infra/bench/results).
# Needs: apt-get install -y wrk nghttp2-client
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
results=${RESULTS:-$root/infra/bench/results}
rounds=${ROUNDS:-6}
seconds=${SECONDS_EACH:-4}
warmup=${WARMUP:-2}
levels=${CONNECTIONS:-16 64}
protocols=${PROTOCOLS:-h1 h2 h3}
connections=16
mkdir -p "$results"
# shellcheck source=infra/bench/benchserver.sh
source "$root/infra/bench/benchserver.sh"

cd "$root"
go build -o "$work/loadgen" portcullis.dev/services/cmd/loadgen
start_benchserver
https_port=${EDGE_HTTPS##*:}

# Each measure function prints requests per second.
wrk_rps() { # host url
  wrk -t1 -c"$connections" -d"${duration}s" -H "Host: $1" "$2" \
    | awk '/^Requests\/sec:/ {print $2}'
}
h2load_rps() { # host
  h2load -c 4 -m $((connections / 4)) -D "$duration" -H ":authority: $1:$https_port" "https://$EDGE_HTTPS/" \
    | awk '/^finished in/ {gsub(",", ""); print $4}'
}
h3_rps() { # tenant
  "$work/loadgen" -proto h3 -c "$connections" -d "${duration}s" -cacert "$CA_CERT" \
    -url "https://$1.localhost:${EDGE_HTTP3##*:}/" \
    | sed -n 's/.*throughput=\([0-9.]*\)\/s.*/\1/p'
}

# record measures one target at each number of connections, appends each
# measurement to the levels CSV and the best to the CSV. It stops the
# script when the load tool printed no rate, so a missing or failed tool
# cannot skew the ratios. Usage: record ROUND PROTOCOL TARGET
record() {
  local round=$1 protocol=$2 target=$3 rps best=0 connections
  for connections in $levels; do
    rps=$(measure_one "$protocol" "$target")
    if [ -z "$rps" ]; then
      echo "throughput.sh: no requests per second for $protocol $target at $connections connections; is the tool installed?" >&2
      exit 1
    fi
    echo "$round,$protocol,$target,$connections,$rps" >>"$levels_csv"
    best=$(echo "$rps $best" | awk '{print ($1 > $2) ? $1 : $2}')
  done
  echo "$round,$protocol,$target,$best" >>"$csv"
}

# measure_one prints the requests per second of one target under one
# protocol.
measure_one() { # protocol target
  case "$1,$2" in
    h1,upstream) wrk_rps 127.0.0.1 "$UPSTREAM/" ;;
    h1,*) wrk_rps "$2.localhost" "http://$EDGE_HTTP/" ;;
    h2,*) h2load_rps "$2.localhost" ;;
    h3,*) h3_rps "$2" ;;
  esac
}

tenants="plain chain5 checked5 sandbox5 checkedsb5"
reversed="checkedsb5 sandbox5 checked5 chain5 plain"

duration=$warmup
echo "warm-up, $warmup s per target" >&2
for protocol in $protocols; do
  for target in $tenants; do measure_one "$protocol" "$target" >/dev/null; done
done
measure_one h1 upstream >/dev/null

duration=$seconds
csv="$results/throughput.csv"
levels_csv="$results/throughput-levels.csv"
echo "round,protocol,target,rps" >"$csv"
echo "round,protocol,target,connections,rps" >"$levels_csv"
for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  order=$tenants
  if [ $((round % 2)) -eq 0 ]; then order=$reversed; fi
  for protocol in $protocols; do
    for target in $order; do
      record "$round" "$protocol" "$target"
    done
  done
  record "$round" h1 upstream
done
cat "$csv"

# ratios prints, per protocol and tier, the median of the rounds' ratios,
# the lowest and highest round, and the ratio of the sums over all rounds
# of a CSV of round,protocol,target,rps. Targets: chain5/plain >= 0.85 and
# sandbox5/plain >= 0.60.
ratios() {
  awk -F, -f "$root/infra/bench/median.awk" -f /dev/stdin "$1" <<'AWK'
  NR > 1 { rps[$1 "," $2 "," $3] = $4; sum[$2 "," $3] += $4; if ($1 > rounds) rounds = $1 }
  END {
    split("h1 h2 h3", protocols, " ")
    split("chain5 checked5 sandbox5 checkedsb5", tiers, " ")
    for (p = 1; p <= 3; p++) for (t = 1; t <= 4; t++) {
      proto = protocols[p]; tier = tiers[t]; n = 0
      for (r = 1; r <= rounds; r++) {
        plain = rps[r "," proto ",plain"]
        if (plain > 0) ratios[++n] = rps[r "," proto "," tier] / plain
      }
      if (n == 0) continue
      m = median(ratios, n)
      printf "%s %s/plain = %.3f (median of %d rounds, %.3f to %.3f; sums %.3f)\n", proto, tier, m, n, low, high, sum[proto "," tier] / sum[proto ",plain"]
    }
    if (sum["h1,upstream"] > 0) printf "h1 plain/upstream = %.3f (sums)\n", sum["h1,plain"] / sum["h1,upstream"]
  }
AWK
}

{
  echo "best of $levels connections per target and round:"
  ratios "$csv"
  for connections in $levels; do
    echo "$connections connections:"
    awk -F, -v c="$connections" 'NR == 1 || $4 == c {print $1 "," $2 "," $3 "," $5}' "$levels_csv" >"$work/level.csv"
    ratios "$work/level.csv"
  done
} | tee "$results/throughput-ratios.txt"
