#!/usr/bin/env bash
# test-install.sh BUILD_DIR SOURCE_DIR [NAME FLAVOR]: cmake --install into a temporary prefix,
# then build a consumer with find_package(NAME) and another with pkg-config (NAME.pc), and run
# both. NAME is the flavour's library (certpin, certpin-mbedtls, certpin-gnutls). In the openssl
# flavour, also checks that the man page and the command are there.
set -euo pipefail
build=${1:?usage: test-install.sh BUILD_DIR SOURCE_DIR [NAME FLAVOR]}
src=${2:?}
name=${3:-certpin}
flavor=${4:-openssl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
# What the consumer prints: "certpin VERSION PIN", the pin of the two bytes 30 00 as computed by the
# flavour's SHA-256 and base64, and here by the openssl command.
want_pin=sha256/$(printf '\x30\x00' | openssl dgst -sha256 -binary | base64)
files=(include/certpin/certpin.h lib*/lib$name.so.0)
if [[ $flavor == openssl ]]; then
  files+=(bin/certpin include/certpin/openssl.h include/certpin/curl.h share/man/man1/certpin.1)
else
  # A flavour other than openssl installs no OpenSSL header and no command.
  [[ ! -e $tmp/prefix/include/certpin/crypto_openssl.h && ! -e $tmp/prefix/bin/certpin ]] &&
    ok "no OpenSSL header, no command" || bad "the $flavor flavour installed OpenSSL parts"
fi
for f in "${files[@]}"; do
  # shellcheck disable=SC2086
  compgen -G "$tmp/prefix/$f" >/dev/null && ok "installed $f" || bad "missing $f"
done
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -1)
[[ -e $libdir/pkgconfig/$name.pc ]] && ok "$name.pc" || bad "no $name.pc"
[[ -e $libdir/cmake/$name/${name}Config.cmake ]] && ok "${name}Config.cmake" ||
  bad "no ${name}Config.cmake"

cmake -S "$src/tests/install/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCERTPIN_PACKAGE="$name" >/dev/null &&
  cmake --build "$tmp/consumer" >/dev/null &&
  out=$(LD_LIBRARY_PATH=$libdir "$tmp/consumer/consumer") && [[ $out == "certpin "*" $want_pin" ]] &&
  ok "find_package($name) consumer: $out" || bad "find_package consumer"

PKG_CONFIG_PATH=$libdir/pkgconfig cc -o "$tmp/pc" "$src/tests/install/consumer/consumer.c" \
  $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs "$name") &&
  out=$(LD_LIBRARY_PATH=$libdir "$tmp/pc") && [[ $out == "certpin "*" $want_pin" ]] &&
  ok "pkg-config consumer: $out" || bad "pkg-config consumer"

if [[ $flavor == openssl ]]; then
  # The libcurl integration's header compiles against the installed tree, and its symbols link.
  PKG_CONFIG_PATH=$libdir/pkgconfig cc -o "$tmp/curl" "$src/tests/install/consumer/curl_consumer.c" \
    $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs certpin libcurl) &&
    out=$(LD_LIBRARY_PATH=$libdir "$tmp/curl") && [[ $out == "certpin_curl_attach: 0" ]] &&
    ok "libcurl consumer: $out" || bad "libcurl consumer"
  LD_LIBRARY_PATH=$libdir "$tmp/prefix/bin/certpin" --version >/dev/null &&
    ok "installed certpin runs" || bad "installed certpin does not run"
fi
echo "$pass passed, $fail failed"
((fail == 0))
