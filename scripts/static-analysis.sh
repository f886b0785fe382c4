#!/usr/bin/env bash
# Static analysis, every finding an error: cppcheck over the library, the command, the tests, the
# examples and the benchmark; clang-tidy (configuration: .clang-tidy, src/cli/.clang-tidy) over the library and
# the command, from BUILD_DIR's compile_commands.json.
#   scripts/static-analysis.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[[ -f $build/compile_commands.json ]] || { echo "static-analysis: configure $build first" >&2; exit 2; }

echo "== clang-format $(clang-format --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)"
mapfile -t sources < <(git ls-files '*.c' '*.h')
clang-format --dry-run --Werror "${sources[@]}"
echo "clang-format: ${#sources[@]} files formatted"

echo "== cppcheck $(cppcheck --version | cut -d' ' -f2)"
# variableScope is left out: declarations at the top of a block are this code's style.
cppcheck --enable=warning,style,portability,performance --suppress=variableScope \
  --std=c11 -q -I include -I src --error-exitcode=1 --inline-suppr \
  src tests/unit tests/tls tests/curl tests/fuzz examples bench
echo "cppcheck: no findings"

echo "== clang-tidy $(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)"
mapfile -t files < <(git ls-files 'src/*.c')
clang-tidy -p "$build" --quiet "${files[@]}" 2>/dev/null | tee "$build/clang-tidy.log" |
  grep -E "(warning|error):" || true
if grep -qE "(warning|error):" "$build/clang-tidy.log"; then
  echo "clang-tidy: findings above" >&2
  exit 1
fi
echo "clang-tidy: no findings in ${#files[@]} files"
