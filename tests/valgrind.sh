#!/usr/bin/env bash
# Runs every C test program of a build under valgrind memcheck: no invalid access, no use of
# uninitialised memory, no definite leak (exit status 9 otherwise). test_oom is left out: it
# replaces malloc itself, which is what valgrind does too.
#   tests/valgrind.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: valgrind.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
cd "$build" || exit 2
export CERTPIN_TEST_PKI=$PWD/tests/pki
export CERTPIN_VECTORS=${CERTPIN_VECTORS:-$(cd "$here/../.." && pwd)/shared/vectors}
[[ -f $CERTPIN_TEST_PKI/pins.env ]] || bash "$here/pki/make-pki.sh" "$CERTPIN_TEST_PKI" >/dev/null
pass=0
fail=0
for t in $(find tests -maxdepth 2 -type f -executable -name 'test_*' ! -name test_oom | sort); do
  log=$(mktemp)
  valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
    --suppressions=/dev/null "./$t" >"$log" 2>&1
  rc=$?
  if ((rc == 0 || rc == 77)); then
    echo "ok - valgrind $t"
    pass=$((pass + 1))
  else
    echo "not ok - valgrind $t (exit status $rc)"
    grep -E "==[0-9]+==" "$log" | head -n 30
    fail=$((fail + 1))
  fi
  rm -f "$log"
done
echo "$pass passed, $fail failed"
((fail == 0))
