#!/usr/bin/env bash
# Plots host lookup cost against the number of policy entries from certpin-bench --json output.
#   bench/plot-lookup.sh BENCH.json OUT.png
# Needs python3 and gnuplot (Debian: gnuplot-nox; scripts/install-deps.sh --bench installs it).
set -euo pipefail
json=${1:?usage: plot-lookup.sh BENCH.json OUT.png}
png=${2:?usage: plot-lookup.sh BENCH.json OUT.png}
command -v gnuplot >/dev/null || { echo "plot-lookup: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
data=$(mktemp "${TMPDIR:-/tmp}/certpin-plot.XXXXXX")
trap 'rm -f "$data"' EXIT
python3 - "$json" >"$data" <<'PY'
import json, sys
figures = json.load(open(sys.argv[1]))
print("# entries exact one_label subtree miss mean exact_hot memory_read")
for p in figures["lookup_curve"]:
    print(p["entries"], p["exact"], p["one_label"], p["subtree"], p["miss"], p["mean"],
          p["exact_hot"], figures["memory_read_ns"])
PY
gnuplot <<GP
set terminal pngcairo size 900,540 font "sans,11"
set output "$png"
set title "certpin host lookup (certpin\\\\_policy\\\\_lookup) against policy size"
set xlabel "policy entries"
set ylabel "ns per lookup"
set logscale x
set format x "10^{%T}"
set xrange [5:2000000]
set yrange [0:*]
set key top left opaque box
set grid
plot "$data" using 1:2 with linespoints lw 2 pt 7 title "exact hit", \
     "" using 1:3 with linespoints lw 2 pt 5 title "*. hit", \
     "" using 1:4 with linespoints lw 2 pt 9 title "**. hit", \
     "" using 1:5 with linespoints lw 2 pt 13 title "miss", \
     "" using 1:7 with linespoints lw 1 dt 2 pt 6 title "exact hit, same host again (hot)", \
     "" using 1:(2*\$8) with lines lw 1 dt 3 lc rgb "black" title "two dependent reads from memory"
GP
