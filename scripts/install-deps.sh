#!/usr/bin/env bash
# Installs what certpin needs to build and test on Debian 12, as root, skipping what is there.
#   scripts/install-deps.sh [--bench]
# --bench adds what only the benchmark's plot needs (gnuplot); the benchmark itself builds with
# the rest, and the test suite never needs gnuplot.
set -euo pipefail
bench=0
for arg in "$@"; do
  case $arg in
    --bench) bench=1 ;;
    *) echo "usage: install-deps.sh [--bench]" >&2; exit 2 ;;
  esac
done
pkgs=(
  build-essential cmake pkg-config clang   # compilers (gcc for the build, clang for the second)
  libclang-rt-14-dev                       # libFuzzer and the sanitizer runtimes for clang
  libssl-dev openssl                       # OpenSSL 3.0: the TLS stack, the crypto backend, the CLI
  libmbedtls-dev                           # mbedTLS 2.28: the mbedtls flavour and adapter
  libgnutls28-dev nettle-dev               # GnuTLS 3.7 and nettle: the gnutls flavour and adapter
  libjansson-dev                           # the policy's JSON
  libyajl-dev                              # locating JSON paths for messages (see README)
  libidn2-dev                              # IDNA2008 host names
  libpsl-dev publicsuffix                  # the public suffix list
  libcurl4-openssl-dev                     # the libcurl integration (libcurl's OpenSSL backend)
  libcmocka-dev                            # unit tests
  libnghttp2-dev                           # the libcurl tests' HTTP/2 server
  python3 procps ca-certificates           # test scripts: JSON checks, process control
  curl mitmproxy                           # the interception suite and the demonstration
  valgrind                                 # CI: the tests under memcheck
  cppcheck clang-tidy clang-format         # CI: static analysis and formatting
)
if ((bench)); then
  pkgs+=(gnuplot-nox)                      # bench/plot-lookup.sh: the lookup plot
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "install-deps: missing ${missing[*]}; run as root (or install them) first" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
