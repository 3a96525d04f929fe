#!/usr/bin/env bash
# Compares the throughput of three tenants on one edge, measured
# alternately: plain (a route without plugins), chain5 (the same route
# with five light plugins inside the edge process, the trusted tier) and
# sandbox5 (the same plugins in a plugin worker process, the sandboxed
# tier). The upstream is measured directly for reference. HTTP/1.1
# uses wrk, HTTP/2 over TLS uses h2load, HTTP/3 uses our loadgen. Every
# target is on 127.0.0.1, started by this script and stopped at its end.
#
# Usage: infra/bench/throughput.sh
# Environment: ROUNDS (default 3), SECONDS_EACH (default 8), CONNECTIONS
# (default 16), RESULTS (default infra/bench/results).
# Needs: apt-get install -y wrk nghttp2-client
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
results=${RESULTS:-$root/infra/bench/results}
rounds=${ROUNDS:-3}
seconds=${SECONDS_EACH:-8}
connections=${CONNECTIONS:-16}
mkdir -p "$results"
work=$(mktemp -d)
server_pid=""

cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
go build -o "$work/benchserver" portcullis.dev/services/cmd/benchserver
go build -o "$work/loadgen" portcullis.dev/services/cmd/loadgen

"$work/benchserver" -lifetime 15m >"$work/server.env" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^READY=1' "$work/server.env" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
# shellcheck disable=SC1091
source "$work/server.env"
https_port=${EDGE_HTTPS##*:}

# Each measure function prints requests per second.
wrk_rps() { # host url
  wrk -t1 -c"$connections" -d"${seconds}s" -H "Host: $1" "$2" \
    | awk '/^Requests\/sec:/ {print $2}'
}
h2load_rps() { # host
  h2load -c 4 -m 4 -D "$seconds" -H ":authority: $1:$https_port" "https://$EDGE_HTTPS/" \
    | awk '/^finished in/ {gsub(",", ""); print $4}'
}
h3_rps() { # tenant
  "$work/loadgen" -proto h3 -c "$connections" -d "${seconds}s" -cacert "$CA_CERT" \
    -url "https://$1.localhost:${EDGE_HTTP3##*:}/" \
    | sed -n 's/.*throughput=\([0-9.]*\)\/s.*/\1/p'
}

# record appends one measurement to the CSV and stops the script when the
# load tool printed no rate, so a missing or failed tool cannot skew the
# ratios. Usage: record ROUND PROTOCOL TARGET MEASURE [ARGS...]
record() {
  local round=$1 protocol=$2 target=$3 rps
  shift 3
  rps=$("$@")
  if [ -z "$rps" ]; then
    echo "throughput.sh: $* printed no requests per second for $protocol $target; is the tool installed?" >&2
    exit 1
  fi
  echo "$round,$protocol,$target,$rps" >>"$csv"
}

csv="$results/throughput.csv"
echo "round,protocol,target,rps" >"$csv"
for round in $(seq "$rounds"); do
  echo "round $round of $rounds" >&2
  record "$round" h1 plain wrk_rps plain.localhost "http://$EDGE_HTTP/"
  record "$round" h1 chain5 wrk_rps chain5.localhost "http://$EDGE_HTTP/"
  record "$round" h1 sandbox5 wrk_rps sandbox5.localhost "http://$EDGE_HTTP/"
  record "$round" h1 upstream wrk_rps 127.0.0.1 "$UPSTREAM/"
  record "$round" h2 plain h2load_rps plain.localhost
  record "$round" h2 chain5 h2load_rps chain5.localhost
  record "$round" h2 sandbox5 h2load_rps sandbox5.localhost
  record "$round" h3 plain h3_rps plain
  record "$round" h3 chain5 h3_rps chain5
  record "$round" h3 sandbox5 h3_rps sandbox5
done
cat "$csv"

# Ratio of the summed throughput over all rounds; targets chain5/plain >=
# 0.85 and sandbox5/plain >= 0.60.
awk -F, 'NR > 1 { sum[$2 "," $3] += $4 }
  END {
    split("h1 h2 h3", list, " ")
    for (i = 1; i <= 3; i++) {
      proto = list[i]
      plain = sum[proto ",plain"]; chain = sum[proto ",chain5"]; sandbox = sum[proto ",sandbox5"]
      if (plain > 0) printf "%s chain5/plain = %.3f\n", proto, chain / plain
      if (plain > 0) printf "%s sandbox5/plain = %.3f\n", proto, sandbox / plain
    }
    if (sum["h1,upstream"] > 0) printf "h1 plain/upstream = %.3f\n", sum["h1,plain"] / sum["h1,upstream"]
  }' "$csv" | tee "$results/throughput-ratios.txt"
