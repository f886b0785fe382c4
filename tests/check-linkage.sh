#!/usr/bin/env bash
# check-linkage.sh LIBRARY FLAVOR "ADAPTERS": what the library links, directly (readelf's NEEDED)
# and in all (ldd). The flavour's crypto library and each adapter's stack are there; OpenSSL is
# there only in the openssl flavour (a program built on mbedTLS or GnuTLS must not load it), and
# neither mbedTLS nor GnuTLS is there unless the flavour or an adapter needs it.
set -euo pipefail
lib=${1:?usage: check-linkage.sh LIBRARY FLAVOR ADAPTERS}
flavor=${2:?}
read -r -a adapters <<<"${3//;/ }"
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
all=$(ldd "$lib" | awk '{print $1}')
echo "NEEDED: $(echo $needed)"
has_adapter() { local a; for a in "${adapters[@]}"; do [[ $a == "$1" ]] && return 0; done; return 1; }
# want PATTERN WHY / forbid PATTERN WHY: a directly needed library / one loaded at all.
want() { grep -q "^$1" <<<"$needed" && ok "links $1 ($2)" || bad "does not link $1 ($2)"; }
forbid() { grep -q "^$1" <<<"$all" && bad "loads $1 ($2)" || ok "does not load $1 ($2)"; }

case $flavor in
  openssl) want libcrypto.so "the openssl flavour's SHA-256 and base64" ;;
  mbedtls) want libmbedcrypto.so "the mbedtls flavour's SHA-256 and base64" ;;
  gnutls)
    want libgnutls.so "the gnutls flavour's SHA-256"
    want libnettle.so "the gnutls flavour's base64" ;;
  *) bad "unknown flavour $flavor" ;;
esac
if [[ $flavor != openssl ]]; then
  forbid libssl.so "OpenSSL outside the openssl flavour"
  forbid libcrypto.so "OpenSSL outside the openssl flavour"
fi
has_adapter openssl && want libssl.so "the OpenSSL adapter"
has_adapter curl && want libcurl.so "the libcurl integration"
if has_adapter mbedtls; then
  want libmbedtls.so "the mbedTLS adapter"
elif [[ $flavor != mbedtls ]]; then
  forbid libmbed "mbedTLS without the mbedtls flavour or adapter"
fi
if has_adapter gnutls; then
  want libgnutls.so "the GnuTLS adapter"
elif [[ $flavor != gnutls ]]; then
  forbid libgnutls.so "GnuTLS without the gnutls flavour or adapter"
fi
echo "$pass passed, $fail failed"
((fail == 0))
