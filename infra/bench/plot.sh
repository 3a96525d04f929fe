#!/usr/bin/env bash
# Turns the results of chain-bench.sh, throughput.sh and decompose.sh into
# data files and PNG plots under docs/benchmarks/.
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

# throughput.dat: protocol, then the chain5/plain (trusted tier, static
# hooks), checked5/plain (trusted tier, hooks in Risor's VM),
# sandbox5/plain (sandboxed tier, static hooks) and checkedsb5/plain
# (sandboxed tier, hooks in the worker's VM) ratios of summed requests per
# second.
awk -F, 'NR > 1 { sum[$2 "," $3] += $4 }
  END {
    split("h1 h2 h3", list, " ")
    for (i = 1; i <= 3; i++) {
      p = list[i]
      if (sum[p ",plain"] > 0) printf "%s %.3f %.3f %.3f %.3f\n", p, sum[p ",chain5"] / sum[p ",plain"], sum[p ",checked5"] / sum[p ",plain"], sum[p ",sandbox5"] / sum[p ",plain"], sum[p ",checkedsb5"] / sum[p ",plain"]
    }
  }' "$results/throughput.csv" >"$out/throughput.dat"

# decompose.dat: protocol, then the ratios to plain of headers5, empty5,
# chain5, emptysb5 and sandbox5, each the median of the rounds' ratios.
# Without results of decompose.sh the committed decompose.dat is plotted
# again.
if [ -f "$results/decompose.csv" ]; then
  awk -F, -f "$root/infra/bench/median.awk" -f /dev/stdin "$results/decompose.csv" >"$out/decompose.dat" <<'AWK'
  NR > 1 { rps[$1 "," $2 "," $3] = $4; if ($1 > rounds) rounds = $1 }
  END {
    split("h1 h2", protocols, " ")
    split("headers5 empty5 chain5 emptysb5 sandbox5", tenants, " ")
    for (p = 1; p <= 2; p++) {
      line = protocols[p]
      for (t = 1; t <= 5; t++) {
        n = 0
        for (r = 1; r <= rounds; r++) ratios[++n] = rps[r "," protocols[p] "," tenants[t]] / rps[r "," protocols[p] ",plain"]
        line = line sprintf(" %.3f", median(ratios, n))
      }
      print line
    }
  }
AWK
fi

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
set title "Throughput with 5 plugins relative to no plugins (one edge, alternating)"
set xlabel "protocol (h1: wrk, h2: h2load, h3: loadgen)"
set ylabel "requests/s with 5 plugins / without"
set yrange [0:1.35]
set boxwidth 0.2
set key top left Left reverse maxrows 3 font "sans,9"
plot "$out/throughput.dat" using (\$0-0.33):2:xtic(1) with boxes title "chain5: trusted, static", \
     "" using (\$0-0.33):2:(sprintf("%.2f", \$2)) with labels offset 0,1 font "sans,8" notitle, \
     "" using (\$0-0.11):3 with boxes title "checked5: trusted, VM", \
     "" using (\$0-0.11):3:(sprintf("%.2f", \$3)) with labels offset 0,1 font "sans,8" notitle, \
     "" using (\$0+0.11):4 with boxes title "sandbox5: sandboxed, static", \
     "" using (\$0+0.11):4:(sprintf("%.2f", \$4)) with labels offset 0,1 font "sans,8" notitle, \
     "" using (\$0+0.33):5 with boxes title "checkedsb5: sandboxed, VM", \
     "" using (\$0+0.33):5:(sprintf("%.2f", \$5)) with labels offset 0,1 font "sans,8" notitle, \
     0.85 with lines dashtype 2 linewidth 2 title "trusted target 0.85", \
     0.60 with lines dashtype 3 linewidth 2 title "sandboxed target 0.60"

set output "$out/decompose.png"
set title "Requests/s relative to no plugins: the light plugins' headers and hooks (decompose.sh)"
set xlabel "protocol (h1: wrk, h2: h2load)"
set ylabel "requests/s / requests/s of plain"
set yrange [0:1.35]
set boxwidth 0.15
set key top left Left reverse maxrows 4 font "sans,9"
plot "$out/decompose.dat" using (\$0-0.32):2 with boxes lc rgb "#8c8c8c" title "headers5: the ten headers, no hook", \
     "" using (\$0-0.32):2:(sprintf("%.2f", \$2)) with labels offset 0,1 notitle, \
     "" using (\$0-0.16):3 with boxes lc rgb "#f0c987" title "empty5: empty hooks, trusted", \
     "" using (\$0-0.16):3:(sprintf("%.2f", \$3)) with labels offset 0,1 notitle, \
     "" using (\$0):4:xtic(1) with boxes lc rgb "#b05cd6" title "chain5: light plugins, trusted", \
     "" using (\$0):4:(sprintf("%.2f", \$4)) with labels offset 0,1 notitle, \
     "" using (\$0+0.16):5 with boxes lc rgb "#9fd4f0" title "emptysb5: empty hooks, sandboxed", \
     "" using (\$0+0.16):5:(sprintf("%.2f", \$5)) with labels offset 0,1 notitle, \
     "" using (\$0+0.32):6 with boxes lc rgb "#3a8fc4" title "sandbox5: light plugins, sandboxed", \
     "" using (\$0+0.32):6:(sprintf("%.2f", \$6)) with labels offset 0,1 notitle, \
     0.85 with lines lc rgb "#b05cd6" dashtype 2 linewidth 2 title "trusted target 0.85", \
     0.60 with lines lc rgb "#3a8fc4" dashtype 3 linewidth 2 title "sandboxed target 0.60"
PLOT
echo "wrote $out/chain.png, $out/throughput.png and $out/decompose.png"
