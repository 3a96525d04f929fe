#!/usr/bin/env bash
# Runs BenchmarkEdgeChain (edge handler with 0, 1, 5 and 10 light plugins)
# six times, compares the chain lengths with benchstat, and profiles the
# 5-plugin case. Results go to infra/bench/results/ (or $RESULTS).
#
# Usage: infra/bench/chain-bench.sh
# Needs benchstat: go install golang.org/x/perf/cmd/benchstat@latest
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
results=${RESULTS:-$root/infra/bench/results}
count=${COUNT:-6}
benchstat=${BENCHSTAT:-$(go env GOPATH)/bin/benchstat}
mkdir -p "$results"

cd "$root/edge"

# Six runs of -count 1 give the same samples as -count 6, but -count would
# run each chain length six times in a row. Alternating the lengths spreads
# the noise of a shared machine over all of them alike.
go test -c -o "$results/edge.test" .
: >"$results/chain.txt"
for _ in $(seq "$count"); do
  "$results/edge.test" -test.run '^$' -test.bench '^BenchmarkEdgeChain$' -test.count 1 \
    -test.timeout 10m | tee -a "$results/chain.txt"
done

# The columns are chain lengths, and benchstat prints each column's change
# relative to the first one (plugins=0).
"$benchstat" -col /plugins "$results/chain.txt" | tee "$results/chain-benchstat.txt"

"$results/edge.test" -test.run '^$' -test.bench '^BenchmarkEdgeChain/plugins=5$' -test.benchtime 3s \
  -test.cpuprofile "$results/chain5.cpu.pprof" -test.timeout 5m >/dev/null
go tool pprof -top -nodecount 25 "$results/edge.test" "$results/chain5.cpu.pprof" \
  | tee "$results/chain5-top.txt"
go tool pprof -top -cum -nodecount 40 "$results/edge.test" "$results/chain5.cpu.pprof" \
  > "$results/chain5-top-cum.txt"
