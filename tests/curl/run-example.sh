#!/usr/bin/env bash
# run-example.sh CLIENT PKI SERVE WANT_EXIT WANT_VERDICT: the libcurl example
# (examples/curl_client.c) against `openssl s_server`, by tests/tls/run-example.sh --curl (what
# it runs and checks is said there). examples/CMakeLists.txt runs the example tests by this path.
set -euo pipefail
exec "$(dirname "$0")/../tls/run-example.sh" --curl "$@"
