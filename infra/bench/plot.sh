#!/usr/bin/env bash
# Turns the results of chain-bench.sh and throughput.sh into data files
# and PNG plots under docs/benchmarks/.
#
# Usage: infra/bench/plot.sh
# Needs: apt-get install -y gnuplot-nox
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
results=${RESULTS:-$root/infra/bench/results}
out=$root/docs/benchmarks
mkdir -p "$out"

# chain.dat: plugins, mean ns/op, mean ns/op relative to 0 plugins. Without
# results of chain-bench.sh the committed chain.dat is plotted again.
if [ -f "$results/chain.txt" ]; then
awk '/^BenchmarkEdgeChain\/plugins=/ {
    split($1, name, "[=-]"); n = name[2]
    sum[n] += $3; runs[n]++
  }
  END {
    base = sum[0] / runs[0]
    split("0 1 5 10", order, " ")
    for (i = 1; i <= 4; i++) {
      n = order[i]
      printf "%s %.0f %.3f\n", n, sum[n] / runs[n], (sum[n] / runs[n]) / base
    }
  }' "$results/chain.txt" >"$out/chain.dat"
fi

# throughput.dat: protocol, then the chain5/plain (trusted tier) and
# sandbox5/plain (sandboxed tier) ratios of summed requests per second.
awk -F, 'NR > 1 { sum[$2 "," $3] += $4 }
  END {
    split("h1 h2 h3", list, " ")
    for (i = 1; i <= 3; i++) {
      p = list[i]
      if (sum[p ",plain"] > 0) printf "%s %.3f %.3f\n", p, sum[p ",chain5"] / sum[p ",plain"], sum[p ",sandbox5"] / sum[p ",plain"]
    }
  }' "$results/throughput.csv" >"$out/throughput.dat"

gnuplot <<PLOT
set terminal pngcairo size 800,450 font "sans,11"
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]

set output "$out/chain.png"
set title "Edge handler: time per request relative to no plugins (BenchmarkEdgeChain)"
set xlabel "light plugins on the route"
set ylabel "time per request / time with 0 plugins"
plot "$out/chain.dat" using 0:3:xtic(1) with boxes notitle, \
     "" using 0:3:(sprintf("%.2f", \$3)) with labels offset 0,1 notitle

set output "$out/throughput.png"
set title "Throughput with 5 light plugins relative to no plugins (one edge, alternating)"
set xlabel "protocol (h1: wrk, h2: h2load, h3: loadgen)"
set ylabel "requests/s with 5 plugins / without"
set yrange [0:1.35]
set boxwidth 0.35
set key top left Left reverse maxrows 2
plot "$out/throughput.dat" using (\$0-0.18):2:xtic(1) with boxes title "in the edge (trusted)", \
     "" using (\$0-0.18):2:(sprintf("%.3f", \$2)) with labels offset 0,1 notitle, \
     "" using (\$0+0.18):3 with boxes title "in a worker (sandboxed)", \
     "" using (\$0+0.18):3:(sprintf("%.3f", \$3)) with labels offset 0,1 notitle, \
     0.85 with lines dashtype 2 linewidth 2 title "trusted target 0.85", \
     0.60 with lines dashtype 3 linewidth 2 title "sandboxed target 0.60"
PLOT
echo "wrote $out/chain.png and $out/throughput.png"
