#!/usr/bin/env bash
# The interception suite: mitmproxy (Debian's package, the tool an attacker really uses) in front
# of a local API server that wants an API key, its CA in the client's trust store as on the
# attacker's own device. Each case first shows that plain HTTPS with that trust store gets through
# and the proxy captures the API key (the attack works), then that certpin refuses it (the command's
# live check, the OpenSSL adapter, the libcurl integration) and the proxy captures nothing. Then the
# same for a second trusted CA that mis-issues for the name, and for chain padding (the rogue leaf
# with the real pinned CAs appended). The legit server behind none of that is accepted, pinned at
# the leaf, the issuing CA and the root.
#
# Environment (set by ctest): CERTPIN, CERTPIN_TEST_PKI, OPENSSL_CLIENT (examples/openssl_client),
# CURL_CLIENT (examples/curl_client: libcurl with certpin_curl_attach).
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/lib.sh"
trap 'intercept_stop_all; rm -rf "$tmp"' EXIT

: "${OPENSSL_CLIENT:?set OPENSSL_CLIENT to examples/openssl_client}"
: "${CURL_CLIENT:?set CURL_CLIENT to examples/curl_client}"
for tool in mitmdump curl python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is not installed (scripts/install-deps.sh installs it)"
        exit 77
    fi
done

scene=$tmp/scene
intercept_init "$scene" "$pki"
key=$INTERCEPT_API_KEY
captured=$scene/captured

# policy FILE PIN...: api.example.com pinned to the PINs and the backup key.
policy() {
    local file=$1 pins="" p
    shift
    for p in "$@" "$PIN_BACKUP"; do
        pins+="${pins:+, }\"$p\""
    done
    printf '{"certpin": 1, "domains": [{"host": "api.example.com", "pins": [%s]}]}\n' "$pins" >"$file"
}
policy "$tmp/pin-int.json" "$PIN_CA1_INT"
policy "$tmp/pin-leaf.json" "$PIN_LEAF"
policy "$tmp/pin-root.json" "$PIN_CA1_ROOT"

# plain_curl PORT [curl options...]: the app without certpin: curl with the device's trust store.
plain_curl() {
    local port=$1
    shift
    curl -sS --max-time 20 --cacert "$scene/trust-device.pem" \
        --resolve "api.example.com:$port:127.0.0.1" -H "X-API-Key: $key" "$@" \
        "https://api.example.com:$port/v1/account"
}
captured_nothing() { [ ! -s "$captured" ]; }
reset_logs() { : >"$captured"; : >"$scene/legit.requests"; }

intercept_start_api legit leaf.pem leaf.key ca1-int.pem || exit 1
legit_port=$api_port

# ---- mitmproxy as a reverse proxy: an attacker on the network path ------------------------------
intercept_start_mitm reverse "$legit_port" || exit 1
expect "reverse proxy, no pinning: the request gets through" rc=0 'out="account"' -- plain_curl "$mitm_port"
check "reverse proxy, no pinning: the proxy captured the API key" grep -qF "X-API-Key: $key" "$captured"
check "reverse proxy, no pinning: the request reached the API through the proxy" \
    grep -q "key=right" "$scene/legit.requests"

reset_logs
expect "reverse proxy, certpin check (live): rejected, exit 1" rc=1 "out=rejected" \
    "out=pin check failed for api.example.com" -- \
    "$CERTPIN" check --policy "$tmp/pin-int.json" --cafile "$scene/trust-device.pem" \
    --connect "127.0.0.1:$mitm_port" "api.example.com:$mitm_port"
check "reverse proxy, certpin check: the proxy captured nothing" captured_nothing

reset_logs
expect "reverse proxy, certpin (OpenSSL adapter): refused" rc=1 "out=certpin: rejected-no-match" \
    "err=pin check failed for api.example.com" -- \
    "$OPENSSL_CLIENT" "$tmp/pin-int.json" "$scene/trust-device.pem" api.example.com 127.0.0.1 "$mitm_port"
check "reverse proxy, certpin: the proxy captured nothing" captured_nothing
check "reverse proxy, certpin: nothing reached the API" test ! -s "$scene/legit.requests"

reset_logs
expect "reverse proxy, certpin (libcurl): refused" rc=1 "err=pin check failed for api.example.com" -- \
    "$CURL_CLIENT" "$tmp/pin-int.json" "$scene/trust-device.pem" \
    "https://api.example.com:$mitm_port/v1/account" "$key" 127.0.0.1
check "reverse proxy, certpin (libcurl): the proxy captured nothing" captured_nothing
check "reverse proxy, certpin (libcurl): nothing reached the API" test ! -s "$scene/legit.requests"

# ---- mitmproxy as a regular proxy: the one the device was configured to use -------------------
intercept_start_mitm regular || exit 1
reset_logs
expect "regular proxy, no pinning: the request gets through" rc=0 'out="account"' -- \
    env https_proxy="http://127.0.0.1:$mitm_port" curl -sS --max-time 20 \
    --cacert "$scene/trust-device.pem" -H "X-API-Key: $key" \
    "https://api.example.com:$legit_port/v1/account"
check "regular proxy, no pinning: the proxy captured the API key" grep -qF "X-API-Key: $key" "$captured"
reset_logs
expect "regular proxy, certpin (libcurl): refused" rc=1 "err=pin check failed for api.example.com" -- \
    env https_proxy="http://127.0.0.1:$mitm_port" "$CURL_CLIENT" "$tmp/pin-int.json" \
    "$scene/trust-device.pem" "https://api.example.com:$legit_port/v1/account" "$key"
check "regular proxy, certpin (libcurl): the proxy captured nothing" captured_nothing
check "regular proxy, certpin (libcurl): nothing reached the API" test ! -s "$scene/legit.requests"

# ---- a second trusted CA mis-issues for the name; chain padding --------------------------------
# The device trusts CA 1 and CA 2 (both "public" CAs); CA 2 issued a certificate for
# api.example.com to the attacker, who serves it alone (rogue) or with CA 1's pinned certificates
# appended (padded), hoping a pin check looks at what was sent instead of what was verified.
intercept_start_api rogue rogue.pem rogue.key ca2-int.pem || exit 1
rogue_port=$api_port
intercept_start_api padded chain-padded.pem rogue.key || exit 1
padded_port=$api_port
for kind in rogue padded; do
    port=${kind}_port
    port=${!port}
    : >"$scene/$kind.requests"
    expect "$kind chain, no pinning: the request gets through" rc=0 'out="account"' -- \
        curl -sS --max-time 20 --cacert "$pki/trust-both.pem" \
        --resolve "api.example.com:$port:127.0.0.1" -H "X-API-Key: $key" \
        "https://api.example.com:$port/v1/account"
    check "$kind chain, no pinning: the attacker's server got the API key" \
        grep -q "key=right" "$scene/$kind.requests"
    : >"$scene/$kind.requests"
    expect "$kind chain, certpin check (live): rejected, exit 1" rc=1 "out=rejected" -- \
        "$CERTPIN" check --policy "$tmp/pin-int.json" --cafile "$pki/trust-both.pem" \
        --connect "127.0.0.1:$port" "api.example.com:$port"
    expect "$kind chain, certpin (libcurl): refused" rc=1 "err=pin check failed" -- \
        "$CURL_CLIENT" "$tmp/pin-int.json" "$pki/trust-both.pem" \
        "https://api.example.com:$port/v1/account" "$key" 127.0.0.1
    expect "$kind chain, certpin (OpenSSL adapter): refused" rc=1 "out=certpin: rejected-no-match" -- \
        "$OPENSSL_CLIENT" "$tmp/pin-int.json" "$pki/trust-both.pem" api.example.com 127.0.0.1 "$port"
    check "$kind chain, certpin: the attacker's server got no request" test ! -s "$scene/$kind.requests"
done

# ---- the legit server, directly: accepted, pinned at the leaf, the issuing CA, the root ---------
for at in leaf int root; do
    expect "direct, pinned at the $at: accepted" rc=0 "out=certpin: accepted-pinned" "out=server: HTTP/1.1" -- \
        "$OPENSSL_CLIENT" "$tmp/pin-$at.json" "$scene/trust-device.pem" api.example.com 127.0.0.1 "$legit_port"
done
expect "direct, certpin (libcurl): accepted, the API answers" rc=0 'out="account"' -- \
    "$CURL_CLIENT" "$tmp/pin-int.json" "$scene/trust-device.pem" \
    "https://api.example.com:$legit_port/v1/account" "$key" 127.0.0.1
expect "direct, certpin check (live): accepted, exit 0" rc=0 "out=accepted" -- \
    "$CERTPIN" check --policy "$tmp/pin-int.json" --cafile "$scene/trust-device.pem" \
    --connect "127.0.0.1:$legit_port" "api.example.com:$legit_port"
check "direct: the requests reached the API" grep -q "key=right" "$scene/legit.requests"
check "direct: the proxy saw none of them" captured_nothing

finish
