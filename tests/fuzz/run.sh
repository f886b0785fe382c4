#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) and runs each for
# SECONDS (default 60) on a copy of its seed corpus (tests/fuzz/corpus/<target>/), so that what
# a run finds does not change the checked-in corpus. A crash stops with its input saved under
# BUILD_DIR/fuzz-artifacts/<target>/: fix it, then add that input to the corpus as a regression
# case. Prints the executions of each target.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
build=${CERTPIN_FUZZ_BUILD:-build-fuzz}
CC=clang cmake -S . -B "$build" -DCERTPIN_FUZZ=ON -DCERTPIN_TESTS=OFF -DCERTPIN_EXAMPLES=OFF \
  -DCERTPIN_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
targets=("$@")
((${#targets[@]})) || targets=(fuzz_policy fuzz_pin fuzz_host fuzz_check fuzz_items)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "$build/fuzz-artifacts/$t"
  cp tests/fuzz/corpus/"$t"/* "$work/$t/"
  log=$build/fuzz-artifacts/$t.log
  if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -close_fd_mask=2 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t/" \
    "$work/$t" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz: $t: ok, $execs executions in ${seconds}s, corpus $(ls "$work/$t" | wc -l) inputs"
  else
    echo "fuzz: $t: FAILED (see $log and $build/fuzz-artifacts/$t/)"
    grep -E "ERROR|SUMMARY|Test unit written|abort" "$log" | head -n 10
    failed=1
  fi
done
exit $failed
