#!/usr/bin/env bash
# cmake --install into a temporary prefix, then build a consumer with find_package(certpin) and
# another with pkg-config, and run both. Also checks that the man page and the command are there.
set -euo pipefail
build=${1:?usage: test-install.sh BUILD_DIR SOURCE_DIR}
src=${2:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in bin/certpin include/certpin/certpin.h include/certpin/openssl.h include/certpin/curl.h \
  share/man/man1/certpin.1; do
  [[ -e $tmp/prefix/$f ]] && ok "installed $f" || bad "missing $f"
done
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -1)
[[ -e $libdir/pkgconfig/certpin.pc ]] && ok "certpin.pc" || bad "no certpin.pc"
[[ -e $libdir/cmake/certpin/certpinConfig.cmake ]] && ok "certpinConfig.cmake" || bad "no certpinConfig.cmake"

cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null &&
  cmake --build "$tmp/consumer" >/dev/null &&
  out=$(LD_LIBRARY_PATH=$libdir "$tmp/consumer/consumer") && [[ $out == certpin\ * ]] &&
  ok "find_package(certpin) consumer: $out" || bad "find_package consumer"

PKG_CONFIG_PATH=$libdir/pkgconfig cc -o "$tmp/pc" "$src/tests/install/consumer/consumer.c" \
  $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs certpin) &&
  out=$(LD_LIBRARY_PATH=$libdir "$tmp/pc") && [[ $out == certpin\ * ]] &&
  ok "pkg-config consumer: $out" || bad "pkg-config consumer"

# The libcurl integration's header compiles against the installed tree, and its symbols link.
PKG_CONFIG_PATH=$libdir/pkgconfig cc -o "$tmp/curl" "$src/tests/install/consumer/curl_consumer.c" \
  $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs certpin libcurl) &&
  out=$(LD_LIBRARY_PATH=$libdir "$tmp/curl") && [[ $out == "certpin_curl_attach: 0" ]] &&
  ok "libcurl consumer: $out" || bad "libcurl consumer"

LD_LIBRARY_PATH=$libdir "$tmp/prefix/bin/certpin" --version >/dev/null && ok "installed certpin runs" ||
  bad "installed certpin does not run"
echo "$pass passed, $fail failed"
((fail == 0))
