#!/usr/bin/env bash
# check-symbols.sh LIBRARY SYMFILE SONAME: the shared library exports exactly the list (made from
# src/symbols/*.sym for the flavour and adapters built): nothing internal leaks, nothing public is
# missing. And its SONAME is the flavour's.
set -euo pipefail
lib=${1:?usage: check-symbols.sh LIBRARY SYMFILE SONAME}
sym=${2:?}
want_soname=${3:?}
diff -u "$sym" <(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^CERTPIN_/ {print $3}' | sed 's/@.*//' | sort -u) &&
  echo "exported symbols match $sym ($(wc -l <"$sym") symbols)"
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')
[[ $soname == "$want_soname" ]] || { echo "unexpected SONAME '$soname' (want $want_soname)" >&2; exit 1; }
echo "SONAME $soname"
echo "2 passed, 0 failed"
