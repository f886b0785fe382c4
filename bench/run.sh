#!/usr/bin/env bash
# Runs the whole benchmark (several minutes) and writes what docs/PERFORMANCE.md quotes:
#   docs/bench/certpin-bench.json   every figure (certpin-bench --json)
#   docs/bench/certpin-bench.txt    the same as a table
#   docs/bench/lookup.png           lookup cost against the number of entries (gnuplot)
#   bench/run.sh [BUILD_DIR]        (default: build; configured and built here if needed)
# Run it on a machine doing nothing else: the ratios hold on a noisy machine, the absolute
# figures do not.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[[ -f $build/CMakeCache.txt ]] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target certpin-bench >/dev/null
mkdir -p docs/bench
"$build/bench/certpin-bench" --json >docs/bench/certpin-bench.json 2>docs/bench/certpin-bench.txt
bench/plot-lookup.sh docs/bench/certpin-bench.json docs/bench/lookup.png
cat docs/bench/certpin-bench.txt
