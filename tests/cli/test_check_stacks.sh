#!/usr/bin/env bash
# check and probe with --tls openssl|mbedtls|gnutls: the same live servers through each stack and
# its certpin adapter. Each stack accepts the legit chain (pinned at the issuing CA), refuses the
# mis-issued one and the padded one as pin decisions (exit 1), refuses an untrusted chain as no pin
# decision (exit 3), and the output names the stack. The host is a name (api.example.com, dialled
# at 127.0.0.1 with --connect): mbedTLS 2.28 matches no IP address subjectAltName.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

c=$CERTPIN
cat >"$tmp/pin-int.json" <<JSON
{ "certpin": 1, "domains": [ { "host": "api.example.com", "pins": ["$PIN_CA1_INT", "$PIN_BACKUP"] } ] }
JSON
cat "$pki/ca2-int.pem" "$pki/ca1-int.pem" "$pki/ca1-root.pem" >"$tmp/padding.pem"

ok=1
serve legit -cert "$pki/leaf.pem" -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key" || ok=0
serve rogue -cert "$pki/rogue.pem" -cert_chain "$pki/ca2-int.pem" -key "$pki/rogue.key" || ok=0
serve padded -cert "$pki/rogue.pem" -cert_chain "$tmp/padding.pem" -key "$pki/rogue.key" || ok=0
serve untrusted -cert "$pki/ca3-leaf.pem" -key "$pki/ca3-leaf.key" || ok=0
if [ "$ok" != 1 ]; then
    echo "cannot start the test servers"
    exit 1
fi
both=(--cafile "$pki/trust-both.pem" --connect 127.0.0.1)
H=api.example.com

declare -A library=([openssl]="OpenSSL" [mbedtls]="mbed TLS" [gnutls]="GnuTLS")
declare -A verifier=([openssl]="OpenSSL" [mbedtls]="mbedTLS" [gnutls]="GnuTLS")
for s in openssl mbedtls gnutls; do
    expect "$s: the legit chain, pinned at the issuing CA: accepted, the stack named" rc=0 \
        "out=$H:${port[legit]}: accepted (pinned by entry api.example.com" "out=at depth 1)" \
        "out=tls: $s (${library[$s]}" -- "$c" check --tls "$s" --policy "$tmp/pin-int.json" \
        "${both[@]}" "$H:${port[legit]}"
    expect "$s: the mis-issued chain (second trusted CA): rejected" rc=1 \
        "out=$H:${port[rogue]}: rejected (no match" "out=$PIN_CA2_ROOT" "out=tls: $s" \
        -- "$c" check --tls "$s" --policy "$tmp/pin-int.json" "${both[@]}" "$H:${port[rogue]}"
    # The pinned CAs appended to the rogue chain are not on the path the stack verified.
    expect "$s: the padded chain: rejected, the appended pinned CAs not on the verified chain" rc=1 \
        "out=rejected (no match" "out=$PIN_CA2_ROOT" "noout=<- pinned" \
        -- "$c" check --tls "$s" --policy "$tmp/pin-int.json" "${both[@]}" "$H:${port[padded]}"
    expect "$s: an untrusted chain: exit 3, not a pin decision" rc=3 "out=not verified" \
        -- "$c" check --tls "$s" --policy "$tmp/pin-int.json" "${both[@]}" "$H:${port[untrusted]}"
    out=$("$c" check --tls "$s" --json --policy "$tmp/pin-int.json" "${both[@]}" "$H:${port[legit]}")
    check "$s: --json names the stack" test "$(json_get 'd["tls"]' <<<"$out")" = "$s"
    check "$s: --json: accepted-pinned" test "$(json_get 'd["verdict"]' <<<"$out")" = accepted-pinned
    expect "$s: probe shows the chain the stack verified, to the trust anchor" rc=0 \
        "out=tls: $s" "out=chain ${verifier[$s]} verified (3 certificates" "out=$PIN_CA1_ROOT" \
        -- "$c" probe --tls "$s" "${both[@]}" "$H:${port[legit]}"
    out=$("$c" probe --tls "$s" --json "${both[@]}" "$H:${port[legit]}")
    check "$s: probe --json names the stack" test "$(json_get 'd["tls"]' <<<"$out")" = "$s"
done
# Several hosts: one line each, with the stack.
expect "several hosts: one line each, naming the stack" rc=1 \
    "out=$H:${port[legit]}: accepted (pinned" "out=[tls: gnutls]" "out=$H:${port[rogue]}: rejected" \
    -- "$c" check --tls gnutls --policy "$tmp/pin-int.json" "${both[@]}" "$H:${port[legit]}" \
    "$H:${port[rogue]}"

# ---- usage errors ----------------------------------------------------------------------------
expect "--tls with an unknown stack: usage error" rc=2 "err=use openssl, mbedtls or gnutls" \
    -- "$c" check --tls wolfssl --policy "$tmp/pin-int.json" "$H"
expect "--tls with --chain: usage error" rc=2 "err=--tls" \
    -- "$c" check --tls gnutls --policy "$tmp/pin-int.json" --chain "$pki/chain-legit.pem" "$H"
expect "--at with --tls mbedtls: an error (OpenSSL's verification time only)" rc=2 "err=--at" \
    -- "$c" check --tls mbedtls --at 2026-01-01 --policy "$tmp/pin-int.json" "${both[@]}" \
    "$H:${port[legit]}"

finish
