#!/usr/bin/env bash
# The shared library exports exactly the checked-in list (src/certpin.sym): nothing internal
# leaks, nothing public is missing.
set -euo pipefail
lib=${1:?usage: check-symbols.sh LIBRARY SYMFILE}
sym=${2:?}
diff -u "$sym" <(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^CERTPIN_/ {print $3}' | sed 's/@.*//' | sort -u) &&
  echo "exported symbols match $sym ($(wc -l <"$sym") symbols)"
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
[[ $soname == libcertpin.so.0 ]] || { echo "unexpected SONAME '$soname'" >&2; exit 1; }
echo "SONAME $soname"
echo "2 passed, 0 failed"
