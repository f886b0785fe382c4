#!/usr/bin/env bash
# certpin check HOST[:PORT]...: the live form, against openssl s_server on loopback with the test
# PKI. The same verdicts, explanations and exit statuses as check --chain (0 accepted, 1 rejected
# by the policy, 2 usage or policy error, 3 verification, TLS or network failure before a pin
# decision); several hosts at once, one line each in order, the worst status (2 > 1 > 3 > 0);
# network failures in words. Nothing leaves the machine: servers listen on 127.0.0.1 and ::1, and
# the one name lookup runs in a network namespace of its own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

c=$CERTPIN
# The same pins for the names a test dials: 127.0.0.1, ::1 and the names of the leaf.
pins_for_all() {
    local f=$1
    shift
    policy "$f" allow "$(entry 127.0.0.1 "$@")" "$(entry ::1 "$@")" "$(entry api.example.com "$@")" \
        "$(entry www.example.com "$@")"
}
pins_for_all pin-leaf.json "$PIN_LEAF" "$PIN_BACKUP"
pins_for_all pin-int.json "$PIN_CA1_INT" "$PIN_BACKUP"
pins_for_all pin-root.json "$PIN_CA1_ROOT" "$PIN_BACKUP"
pins_for_all pin-ca2.json "$PIN_CA2_INT" "$PIN_BACKUP"
pins_for_all pin-ca3.json "$PIN_CA3_ROOT" "$PIN_BACKUP"
pins_for_all pin-leaf2.json "$PIN_LEAF2" "$PIN_BACKUP"
pins_for_all no-backup.json "$PIN_LEAF" "$PIN_CA1_INT"
pins_for_all no-backup-root.json "$PIN_CA1_INT" "$PIN_CA1_ROOT"
policy other.json allow "$(entry other.example.org "$PIN_CA1_INT" "$PIN_BACKUP")"
policy mode-off.json allow \
    "{ \"host\": \"127.0.0.1\", \"pins\": [\"$PIN_CA2_ROOT\", \"$PIN_BACKUP\"], \"mode\": \"off\" }"

ca1=(--cafile "$pki/trust-ca1.pem")
both=(--cafile "$pki/trust-both.pem")
cat "$pki/ca1-root.pem" "$pki/ca1-int.pem" >"$tmp/trust-ca1-int.pem"
cat "$pki/ca2-int.pem" "$pki/ca1-int.pem" "$pki/ca1-root.pem" >"$tmp/padding.pem"

# issue NAME SAN: a leaf for SAN (e.g. DNS:f*.example.com) from the legit issuing CA, and
# $tmp/chain-NAME.pem (it and the issuing CA).
issue() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$1.key" 2>/dev/null
    openssl req -new -key "$tmp/$1.key" -subj "/CN=$1" -out "$tmp/$1.csr" 2>/dev/null
    printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$2" \
        >"$tmp/$1.ext"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$pki/ca1-int.pem" -CAkey "$pki/ca1-int.key" \
        -CAserial "$tmp/$1.srl" -CAcreateserial -days 30 -sha256 -extfile "$tmp/$1.ext" \
        -out "$tmp/$1.pem" 2>/dev/null
    cat "$tmp/$1.pem" "$pki/ca1-int.pem" >"$tmp/chain-$1.pem"
}
# Partial wildcards (f*.example.com): libssl and curl refuse them (X509_CHECK_FLAG_NO_PARTIAL_
# WILDCARDS), and so does check, live as offline. A whole-label wildcard is fine.
issue partial 'DNS:f*.example.com'
issue wildcard 'DNS:*.example.com'

# ---- the servers ---------------------------------------------------------------------------
ok=1
serve legit -cert "$pki/leaf.pem" -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key" || ok=0
serve rogue -cert "$pki/rogue.pem" -cert_chain "$pki/ca2-int.pem" -key "$pki/rogue.key" || ok=0
serve padded -cert "$pki/rogue.pem" -cert_chain "$tmp/padding.pem" -key "$pki/rogue.key" || ok=0
serve untrusted -cert "$pki/ca3-leaf.pem" -key "$pki/ca3-leaf.key" || ok=0
# Asks for a client certificate and refuses the connection without one: in TLS 1.3 after the
# client's Finished (alert 116, certificate required), in TLS 1.2 within the handshake (40).
serve clientcert13 -Verify 1 -cert "$pki/leaf.pem" -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key" || ok=0
serve clientcert12 -tls1_2 -Verify 1 -cert "$pki/leaf.pem" -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key" || ok=0
# Serves leaf2 only to a client whose SNI is api.example.com, leaf to a client without SNI, and
# a fatal unrecognized_name alert (112) for any other name.
serve sni -servername api.example.com -servername_fatal -cert "$pki/leaf.pem" \
    -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key" -cert2 "$pki/leaf2.pem" -key2 "$pki/leaf2.key" || ok=0
serve partial -cert "$tmp/partial.pem" -cert_chain "$pki/ca1-int.pem" -key "$tmp/partial.key" || ok=0
serve wildcard -cert "$tmp/wildcard.pem" -cert_chain "$pki/ca1-int.pem" -key "$tmp/wildcard.key" || ok=0
mute mute || ok=0
full full || ok=0
plain http http || ok=0
plain hangup close || ok=0
if [ "$ok" != 1 ]; then
    echo "cannot start the test servers"
    exit 1
fi
closed=$(closed_port)
L=127.0.0.1:${port[legit]}
R=127.0.0.1:${port[rogue]}

# ---- accepted: pinned at the leaf, the issuing CA, the root ----------------------------------
expect "live: pinned at the leaf" rc=0 "out=$L: accepted (pinned by entry 127.0.0.1, $p/pin-leaf.json domains[0], at depth 0)" \
    -- "$c" check --policy "$p/pin-leaf.json" "${ca1[@]}" "$L"
expect "live: pinned at the issuing CA" rc=0 "out=$L: accepted (pinned by entry 127.0.0.1" "out=at depth 1)" \
    "out=<- pinned" -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" "$L"
expect "live: pinned at the root (the trust anchor, which the server does not send)" rc=0 "out=at depth 2)" \
    -- "$c" check --policy "$p/pin-root.json" "${ca1[@]}" "$L"
# Twin: the same server against the pins of another CA.
expect "live: legit server, pins of another CA: rejected" rc=1 "out=$L: rejected (no match" "out=$PIN_CA2_INT" \
    -- "$c" check --policy "$p/pin-ca2.json" "${ca1[@]}" "$L"

# ---- a mis-issued chain from a second trusted CA -----------------------------------------
expect "live: mis-issued chain (second trusted CA): rejected, with the verified chain and the expected pins" rc=1 \
    "out=$R: rejected (no match: no key on the verified chain has a pin of entry 127.0.0.1" \
    "out=$PIN_ROGUE" "out=$PIN_CA2_INT" "out=$PIN_CA2_ROOT" "out=expects one of" "out=$PIN_CA1_INT" \
    "noout=not a pin decision" -- "$c" check --policy "$p/pin-int.json" "${both[@]}" "$R"
# Twin: the chain verifies; for a host without pins it is accepted, so it is the pin that refuses.
expect "live: the same chain for a host the policy does not pin: accepted" rc=0 "out=accepted (not pinned" \
    -- "$c" check --policy "$p/other.json" "${both[@]}" "$R"

# ---- chain padding: a rogue leaf with the real pinned CAs appended ---------------------------
expect "live: padded chain (pinned CAs appended): rejected, they are not on the verified chain" rc=1 \
    "out=rejected (no match" "noout=<- pinned" "out=note: the server sent a certificate with a pinned key" \
    "out=not on the chain OpenSSL verified" \
    -- "$c" check --policy "$p/pin-int.json" "${both[@]}" "127.0.0.1:${port[padded]}"
expect "live: padded chain against a root pin: rejected" rc=1 "out=rejected (no match" \
    -- "$c" check --policy "$p/pin-root.json" "${both[@]}" "127.0.0.1:${port[padded]}"
# Twin: the real server, the same policies.
expect "live: the real chain, the same policy: accepted" rc=0 "out=accepted (pinned" "noout=note:" \
    -- "$c" check --policy "$p/pin-int.json" "${both[@]}" "$L"

# ---- untrusted chain: exit 3, not a pin decision -------------------------------------------
expect "live: untrusted chain: exit 3, not a pin decision, the served chain shown" rc=3 \
    "out=127.0.0.1:${port[untrusted]}: not verified: OpenSSL's verification failed" "out=not a pin decision" \
    "out=served chain (as the server sent it, leaf first):" "out=$PIN_CA3_LEAF" "noout=accepted" "noout=rejected" \
    -- "$c" check --policy "$p/pin-leaf.json" "${ca1[@]}" "127.0.0.1:${port[untrusted]}"
# Twins: trust its root and the same chain is a pin decision (rejected, then accepted).
expect "live: the same chain with its root trusted: a pin decision (rejected)" rc=1 "out=rejected" \
    "noout=not a pin decision" -- "$c" check --policy "$p/pin-leaf.json" --cafile "$pki/ca3-root.pem" \
    "127.0.0.1:${port[untrusted]}"
expect "live: its root trusted and pinned: accepted" rc=0 "out=accepted (pinned" \
    -- "$c" check --policy "$p/pin-ca3.json" --cafile "$pki/ca3-root.pem" "127.0.0.1:${port[untrusted]}"
expect "live: the system trust store (no --cafile) does not know the test CA: exit 3" rc=3 \
    "out=not a pin decision" -- "$c" check --policy "$p/pin-leaf.json" "$L"

# ---- several hosts at once ---------------------------------------------------------------
expect "several hosts: one legit, one rogue, one refused: exit 1 (rejection beats failure)" rc=1 \
    -- "$c" check --policy "$p/pin-int.json" "${both[@]}" "$L" "$R" "127.0.0.1:$closed"
check "several hosts: exactly one line each" test "$(wc -l <<<"$out")" = 3
check "several hosts: the lines in the order given" test "$(cut -d' ' -f1 <<<"$out" | tr '\n' ' ')" = \
    "$L: $R: 127.0.0.1:$closed: "
check "several hosts: legit accepted" grep -qxF "$L: accepted (pinned by entry 127.0.0.1, $p/pin-int.json domains[0], at depth 1)" <<<"$out"
check "several hosts: rogue rejected" grep -q "^$R: rejected (no match" <<<"$out"
check "several hosts: the closed port refused, in words" grep -q "^127.0.0.1:$closed: not checked: connection refused" <<<"$out"
# The order of exit statuses: 2 > 1 > 3 > 0, whatever the order of the hosts. ("localhost" is
# dialled as 127.0.0.1 with --connect: a minimal system may have no /etc/hosts to resolve it.)
expect "several hosts: refused then rogue: still 1" rc=1 \
    -- "$c" check --policy "$p/pin-int.json" "${both[@]}" "127.0.0.1:$closed" "$R"
expect "several hosts: legit and refused: 3 (failure beats success)" rc=3 \
    -- "$c" check --policy "$p/pin-int.json" "${both[@]}" "127.0.0.1:$closed" "$L"
expect "several hosts: legit and legit: 0" rc=0 \
    -- "$c" check --policy "$p/pin-int.json" "${both[@]}" --connect 127.0.0.1 "$L" "localhost:${port[legit]}"
expect "several hosts: untrusted and rogue: 1" rc=1 \
    -- "$c" check --policy "$p/pin-int.json" "${both[@]}" "127.0.0.1:${port[untrusted]}" "$R" "$L"
expect "several hosts, one invalid: usage error (2) before any connection" rc=2 "err=HOST 'bad host'" \
    "noout=$R" -- "$c" check --policy "$p/pin-int.json" "${both[@]}" "$R" "bad host" "127.0.0.1:$closed"
# In order even when the first host is the slowest (it times out while the others are done).
expect "several hosts: a slow first host keeps its place" rc=3 \
    -- "$c" check --policy "$p/pin-int.json" "${both[@]}" --timeout 2 "127.0.0.1:${port[mute]}" "$L" "127.0.0.1:$closed"
check "several hosts: the slow host's line comes first" grep -q "^127.0.0.1:${port[mute]}: not checked: timed out" <<<"$(head -n1 <<<"$out")"
check "several hosts: then the others, in order" test "$(sed -n '2p;3p' <<<"$out" | cut -d' ' -f1 | tr '\n' ' ')" = "$L: 127.0.0.1:$closed: "
# At most 8 at once: 8 silent hosts time out together, a ninth waits for a free worker.
hosts8=()
for i in 1 2 3 4 5 6 7 8; do hosts8+=("127.0.0.1:${port[mute]}"); done
elapsed() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$(date +%s.%N)"; }
# between LO T HI: LO <= T < HI (seconds, decimals allowed).
between() { python3 -c "import sys; sys.exit(not float(sys.argv[1]) <= float(sys.argv[2]) < float(sys.argv[3]))" "$@"; }
start=$(date +%s.%N)
expect "8 silent hosts: each times out" rc=3 -- "$c" check --policy "$p/pin-int.json" --timeout 2 "${hosts8[@]}"
t8=$(elapsed "$start")
check "8 silent hosts are checked at once (2 s, not 16: took $t8 s)" between 0 "$t8" 5
check "8 silent hosts: 8 lines" test "$(grep -c 'timed out after 2 seconds' <<<"$out")" = 8
start=$(date +%s.%N)
expect "9 silent hosts" rc=3 -- "$c" check --policy "$p/pin-int.json" --timeout 2 "${hosts8[@]}" "127.0.0.1:${port[mute]}"
t9=$(elapsed "$start")
check "9 silent hosts: no more than 8 at once (two rounds of 2 s: took $t9 s)" between 3.9 "$t9" 9

# ---- --require-pinned --------------------------------------------------------------------
expect "--require-pinned: a host no entry covers: rejected, exit 1" rc=1 \
    "out=$L: rejected (not pinned: no entry matches, and --require-pinned refuses unpinned hosts)" \
    "out=--require-pinned makes that a failure" -- "$c" check --require-pinned --policy "$p/other.json" "${ca1[@]}" "$L"
# Twins: without the option it is accepted; with it, a pinned host is accepted.
expect "without --require-pinned: the same host accepted, not pinned" rc=0 "out=$L: accepted (not pinned" \
    -- "$c" check --policy "$p/other.json" "${ca1[@]}" "$L"
expect "--require-pinned: a pinned host: accepted" rc=0 "out=accepted (pinned" \
    -- "$c" check --require-pinned --policy "$p/pin-int.json" "${ca1[@]}" "$L"
expect "--require-pinned: an entry with mode off covers the host: accepted (a decision of the policy)" rc=0 \
    "out=accepted (not pinned: entry 127.0.0.1" -- "$c" check --require-pinned --policy "$p/mode-off.json" "${ca1[@]}" "$L"
expect "--require-pinned with several hosts: the unpinned one fails" rc=1 "out=localhost:${port[legit]}: rejected (not pinned" \
    -- "$c" check --require-pinned --policy "$p/pin-int.json" "${ca1[@]}" --connect 127.0.0.1 \
    "localhost:${port[legit]}" "$L"
check "--require-pinned with several hosts: the order kept, the pinned one accepted" \
    test "$(tail -n1 <<<"$out" | cut -d' ' -f1-2)" = "$L: accepted"
expect "--require-pinned offline (--chain) too" rc=1 "out=rejected (not pinned" -- "$c" check --require-pinned \
    --policy "$p/other.json" --chain "$pki/chain-legit.pem" "${ca1[@]}" api.example.com
expect "--require-pinned --json: accepted false, exit 1, failure not-pinned" rc=1 \
    -- "$c" check --json --require-pinned --policy "$p/other.json" "${ca1[@]}" "$L"
check "--require-pinned --json fields" test "$(json_get 'd["verdict"], d["accepted"], d["exit"], d["failure"]["code"]' <<<"$out")" \
    = "accepted-not-pinned False 1 not-pinned"

# ---- network failures, in words ----------------------------------------------------------
expect "connection refused: in words, exit 3" rc=3 "out=127.0.0.1:$closed: not checked: connection refused by 127.0.0.1 port $closed" \
    "out=not a pin decision" -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" "127.0.0.1:$closed"
start=$(date +%s.%N)
expect "a server that never speaks TLS: timed out after 2 seconds, exit 3" rc=3 \
    "out=not checked: timed out after 2 seconds in the TLS handshake with 127.0.0.1 port ${port[mute]}" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --timeout 2 "127.0.0.1:${port[mute]}"
t=$(elapsed "$start")
check "the time-out holds (2 s: took $t s)" between 1.9 "$t" 6
start=$(date +%s.%N)
expect "a listener that never completes TCP: timed out after 2 seconds connecting, exit 3" rc=3 \
    "out=not checked: timed out after 2 seconds connecting to 127.0.0.1 port ${port[full]}" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --timeout 2 "127.0.0.1:${port[full]}"
t=$(elapsed "$start")
check "the connect time-out holds (2 s: took $t s)" between 1.9 "$t" 6
expect "--json time-out: failure code timeout" rc=3 \
    -- "$c" check --json --policy "$p/pin-int.json" "${ca1[@]}" --timeout 1 "127.0.0.1:${port[full]}"
check "--json time-out fields" test "$(json_get 'd["failure"]["code"], d["verdict"], d["protocol"]' <<<"$out")" = "timeout not-checked None"
expect "--timeout 0.5" rc=3 "out=timed out after 0.5 seconds" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --timeout 0.5 "127.0.0.1:${port[mute]}"
expect "--timeout with a server that answers: accepted" rc=0 "out=accepted (pinned" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --timeout 2 "$L"
expect "TLS 1.3 server that requires a client certificate: TLS alert 116 in words, exit 3" rc=3 \
    "out=TLS alert 116 (certificate required) from the server 127.0.0.1 port ${port[clientcert13]}" \
    "out=certpin's verdict before that: accepted (pinned" -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" \
    "127.0.0.1:${port[clientcert13]}"
expect "TLS 1.2 server that requires a client certificate: TLS alert 40 in words, exit 3" rc=3 \
    "out=TLS alert 40 (handshake failure) from the server 127.0.0.1 port ${port[clientcert12]}" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" "127.0.0.1:${port[clientcert12]}"
# mbedTLS and GnuTLS say the same alert, by number and name, in words and in --json.
for s in mbedtls gnutls; do
    expect "$s: TLS 1.2 server that requires a client certificate: TLS alert 40 in words, exit 3" rc=3 \
        "out=TLS alert 40 (handshake failure) from the server 127.0.0.1 port ${port[clientcert12]}" \
        -- "$c" check --tls "$s" --policy "$p/pin-int.json" "${ca1[@]}" --connect 127.0.0.1 \
        "api.example.com:${port[clientcert12]}"
    expect "$s: --json: the alert's number and name" rc=3 \
        -- "$c" check --tls "$s" --json --policy "$p/pin-int.json" "${ca1[@]}" --connect 127.0.0.1 \
        "api.example.com:${port[clientcert12]}"
    check "$s: --json alert fields" test "$(json_get 'd["failure"]["code"], d["failure"]["alert"], d["failure"]["alert_name"]' <<<"$out")" \
        = "tls-alert 40 handshake failure"
done
expect "unknown name under -servername_fatal: TLS alert 112 before any certificate, not checked" rc=3 \
    "out=other.example.com: not checked: TLS alert 112 (unrecognized name) from the server" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --connect "127.0.0.1:${port[sni]}" other.example.com
expect "an HTTP server, not TLS: in words, exit 3" rc=3 \
    "out=not checked: the server 127.0.0.1 port ${port[http]} does not speak TLS" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" "127.0.0.1:${port[http]}"
# (Closed, or reset when the close overtakes what the client sent: both are said in words.)
expect "a server that hangs up at once: in words, exit 3" rc=3 \
    "out=not checked: the server 127.0.0.1 port ${port[hangup]} " "out= the connection during the TLS handshake" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" "127.0.0.1:${port[hangup]}"
check "a server that hangs up: closed or reset" grep -qE "port ${port[hangup]} (closed|reset) the connection" <<<"$out"
expect "--json: the alert as failure {code, alert, alert_name}" rc=3 \
    -- "$c" check --json --policy "$p/pin-int.json" "${ca1[@]}" "127.0.0.1:${port[clientcert12]}"
check "--json alert fields" test "$(json_get 'd["failure"]["code"], d["failure"]["alert"], d["failure"]["alert_name"], d["exit"], d["accepted"], d["verdict"]' <<<"$out")" \
    = "tls-alert 40 handshake failure 3 False accepted-pinned"
expect "--json refused" rc=3 -- "$c" check --json --policy "$p/pin-int.json" "${ca1[@]}" "127.0.0.1:$closed"
check "--json refused: failure code, verdict not-checked, no chain" \
    test "$(json_get 'd["failure"]["code"], d["verdict"], d["exit"], len(d["chain"]), d["address"], d["protocol"]' <<<"$out")" \
    = "refused not-checked 3 0 127.0.0.1 None"
# The name lookup: in a network namespace of its own there is only a loopback interface (down),
# so the lookup fails here and no query leaves the machine.
if unshare -rn true 2>/dev/null; then
    netns=(unshare -rn)
elif unshare -n true 2>/dev/null; then
    netns=(unshare -n)
else
    netns=()
fi
if [ ${#netns[@]} -gt 0 ]; then
    expect "name not found (in an empty network namespace): in words, exit 3" rc=3 \
        "out=no-such-host.invalid: not checked: name not found: no-such-host.invalid" "out=not a pin decision" \
        -- "${netns[@]}" "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --timeout 2 no-such-host.invalid
    expect "--json name not found" rc=3 -- "${netns[@]}" "$c" check --json --policy "$p/pin-int.json" --timeout 2 \
        no-such-host.invalid:8443
    check "--json name not found: code, port" test "$(json_get 'd["failure"]["code"], d["host"], d["address"]' <<<"$out")" \
        = "name-not-found no-such-host.invalid:8443 None"
else
    echo "# skip: name not found (unshare -n is not permitted here: no network namespace to keep the lookup local)"
fi

# ---- --connect: SNI, verification and lookup use HOST --------------------------------------
S=127.0.0.1:${port[sni]}
expect "--connect: SNI is HOST (the server gives leaf2 only to SNI api.example.com), pinned at leaf2" rc=0 \
    "out=api.example.com: accepted (pinned by entry api.example.com, $p/pin-leaf2.json domains[2], at depth 0)" \
    -- "$c" check --policy "$p/pin-leaf2.json" --cafile "$tmp/trust-ca1-int.pem" --connect "$S" api.example.com
# Twins: no SNI for an IP address (RFC 6066), so the server gives the other leaf: rejected.
expect "the same server dialled by address: no SNI, the other leaf: rejected" rc=1 "out=$S: rejected (no match" \
    -- "$c" check --policy "$p/pin-leaf2.json" --cafile "$tmp/trust-ca1-int.pem" "$S"
expect "--connect: the entry is HOST's (www.example.com's pins), not the address's" rc=0 \
    "out=www.example.com: accepted (pinned by entry www.example.com" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --connect "$L" www.example.com
expect "--connect: verification is for HOST: a name the certificate lacks is exit 3" rc=3 \
    "out=evil.example.net: not verified" "out=not a pin decision" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --connect "$L" evil.example.net
expect "--connect: a certificate for f*.example.com does not verify foo.example.com (no partial wildcards): exit 3" rc=3 \
    "out=foo.example.com: not verified" -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" \
    --connect "127.0.0.1:${port[partial]}" foo.example.com
expect "the same offline: exit 3" rc=3 "out=foo.example.com: not verified" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --chain "$tmp/chain-partial.pem" foo.example.com
# Twin: a whole-label wildcard verifies the same name.
expect "--connect: a certificate for *.example.com verifies foo.example.com" rc=0 \
    "out=foo.example.com: accepted (not pinned" -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" \
    --connect "127.0.0.1:${port[wildcard]}" foo.example.com
expect "--connect without a port: HOST's port" rc=0 "out=api.example.com:${port[legit]}: accepted (pinned" \
    -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --connect 127.0.0.1 "api.example.com:${port[legit]}"
expect "--connect --json: connect and address" rc=0 \
    -- "$c" check --json --policy "$p/pin-int.json" "${ca1[@]}" --connect "$L" api.example.com
check "--connect --json fields" test "$(json_get 'd["host"], d["canonical_host"], d["connect"], d["address"], d["verdict"]' <<<"$out")" \
    = "api.example.com api.example.com $L 127.0.0.1 accepted-pinned"

# ---- IPv6 ----------------------------------------------------------------------------------
if serve6 legit6 -cert "$pki/leaf.pem" -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key"; then
    V="[::1]:${port[legit6]}"
    expect "IPv6 [::1]:PORT: verified as an IP address, pinned by the entry ::1" rc=0 \
        "out=$V: accepted (pinned by entry ::1, $p/pin-int.json domains[1], at depth 1)" \
        -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" "$V"
    expect "IPv6: the pins of another CA: rejected" rc=1 "out=$V: rejected (no match" \
        -- "$c" check --policy "$p/pin-ca2.json" "${ca1[@]}" "$V"
    expect "--connect [::1]:PORT for a name" rc=0 "out=api.example.com: accepted (pinned" \
        -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" --connect "$V" api.example.com
else
    echo "# skip: IPv6 (::1 cannot be used here)"
fi

# ---- the no-backup warning: every pin on the served or the verified chain ----------------------
expect "every pin on the served chain: warns, none is a backup" rc=0 "err=warning: 127.0.0.1: every pin of entry 127.0.0.1" \
    "err=none is a backup" -- "$c" check --policy "$p/no-backup.json" "${ca1[@]}" "$L"
expect "the issuing CA and the root pinned (the root is not sent, but deployed): warns" rc=0 "err=none is a backup" \
    -- "$c" check --policy "$p/no-backup-root.json" "${ca1[@]}" "$L"
# Twin: a pin off both chains is a backup.
expect "a pin on neither chain: no warning" rc=0 "noerr=warning" -- "$c" check --policy "$p/pin-int.json" "${ca1[@]}" "$L"
expect "padded chain, every pin among the served certificates: rejected, and warns" rc=1 "err=none is a backup" \
    -- "$c" check --policy "$p/no-backup-root.json" "${both[@]}" "127.0.0.1:${port[padded]}"
expect "--json no-backup warning" rc=0 -- "$c" check --json --policy "$p/no-backup-root.json" "${ca1[@]}" "$L"
check "--json warnings: no-backup" test "$(json_get '[w["code"] for w in d["warnings"]]' <<<"$out")" = "['no-backup']"
expect "the same warning offline (--chain): the root is on the verified chain" rc=0 "err=none is a backup" \
    -- "$c" check --policy "$p/no-backup-root.json" --chain "$pki/chain-legit.pem" "${ca1[@]}" api.example.com

# ---- --json ----------------------------------------------------------------------------------
expect "--json, one host: one object" rc=0 -- "$c" check --json --policy "$p/pin-int.json" "${ca1[@]}" "$L"
check "--json parses" json_ok <<<"$out"
check "--json: verdict, accepted, exit, failure, entry, chain, served chain, port fields" \
    test "$(json_get 'd["verdict"], d["accepted"], d["exit"], d["failure"], d["entry"]["pattern"], len(d["chain"]), d["chain"][1]["pin"], len(d["served_chain"]), d["served_chain"][0]["pin"], d["protocol"].startswith("TLSv1."), d["address"], d["connect"]' <<<"$out")" \
    = "accepted-pinned True 0 None 127.0.0.1 3 $PIN_CA1_INT 2 $PIN_LEAF True 127.0.0.1 None"
expect "--json, several hosts: an array, in order" rc=1 -- "$c" check --json --policy "$p/pin-int.json" "${both[@]}" \
    "$L" "$R" "127.0.0.1:$closed"
check "--json several: parses" json_ok <<<"$out"
check "--json several: one object per host, in order, each with its exit" \
    test "$(json_get '[(x["host"], x["verdict"], x["exit"]) for x in d]' <<<"$out")" \
    = "[('$L', 'accepted-pinned', 0), ('$R', 'rejected-no-match', 1), ('127.0.0.1:$closed', 'not-checked', 3)]"

# ---- the same result as check --chain ----------------------------------------------------------
same() { # same POLICY CAFILE SERVER CHAIN: the live and the offline JSON agree on the decision
    local live offline
    live=$("$c" check --json --policy "$1" --cafile "$2" --connect "127.0.0.1:${port[$3]}" api.example.com 2>/dev/null)
    offline=$("$c" check --json --policy "$1" --cafile "$2" --chain "$4" api.example.com 2>/dev/null)
    local f='d["verdict"], d["exit"], d["depth"], [x["pin"] for x in d["chain"]], [x["pin"] for x in d["served_chain"]], d["entry"], d["explanation"]'
    [ "$(json_get "$f" <<<"$live")" = "$(json_get "$f" <<<"$offline")" ]
}
check "live and offline agree: legit, pinned at the issuing CA" same "$p/pin-int.json" "$pki/trust-both.pem" legit "$pki/chain-legit.pem"
check "live and offline agree: mis-issued, rejected" same "$p/pin-int.json" "$pki/trust-both.pem" rogue "$pki/chain-rogue.pem"
check "live and offline agree: padded, rejected" same "$p/pin-root.json" "$pki/trust-both.pem" padded "$pki/chain-padded.pem"
check "live and offline agree: untrusted, not verified" same "$p/pin-int.json" "$pki/trust-ca1.pem" untrusted "$pki/chain-untrusted.pem"
# Twin: the comparison can fail.
differ() { ! same "$@"; }
check "the comparison tells a legit from a rogue server" differ "$p/pin-int.json" "$pki/trust-both.pem" rogue "$pki/chain-legit.pem"

# ---- usage errors ------------------------------------------------------------------------------
expect "--chain with two hosts: usage error" rc=2 "err=one HOST" -- "$c" check --policy "$p/pin-int.json" \
    --chain "$pki/chain-legit.pem" api.example.com www.example.com
expect "--chain with --connect: usage error" rc=2 "err=--connect" -- "$c" check --policy "$p/pin-int.json" \
    --chain "$pki/chain-legit.pem" --connect "$L" api.example.com
expect "--chain with --timeout: usage error" rc=2 "err=--timeout" -- "$c" check --policy "$p/pin-int.json" \
    --chain "$pki/chain-legit.pem" --timeout 3 api.example.com
expect "--chain with HOST:PORT: usage error" rc=2 "err=HOST" -- "$c" check --policy "$p/pin-int.json" \
    --chain "$pki/chain-legit.pem" "api.example.com:443"
for bad in 0 -1 abc 1e9 nan; do
    expect "--timeout $bad: usage error" rc=2 "err=--timeout '$bad'" -- "$c" check --policy "$p/pin-int.json" --timeout "$bad" "$L"
done
for bad in api.example.com:0 api.example.com:65536 api.example.com:http "[::1" "[api.example.com]:443" "[::1]443" ":443" "https://api.example.com/"; do
    expect "HOST '$bad': usage error" rc=2 "err=HOST '$bad'" -- "$c" check --policy "$p/pin-int.json" "$bad"
done
expect "--connect with a bad port: usage error" rc=2 "err=--connect" -- "$c" check --policy "$p/pin-int.json" \
    --connect 127.0.0.1:99999 api.example.com
expect "no HOST: usage error" rc=2 "err=no HOST" -- "$c" check --policy "$p/pin-int.json"
expect "a policy that does not load: exit 2, no connection" rc=2 "err=$p/none.json" \
    -- "$c" check --policy "$p/none.json" "$L"

finish
