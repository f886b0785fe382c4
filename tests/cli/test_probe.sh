#!/usr/bin/env bash
# certpin probe HOST[:PORT]: the chain a server sent and the chain OpenSSL verified, each
# certificate's pin (the same as certpin pin's and as the openssl pipeline's of pins.env), subject,
# issuer, key and days until expiry, and a proposed policy entry, against openssl s_server on
# loopback with the test PKI. A chain that does not verify is still shown, and pins taken from it
# are marked UNVERIFIED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

c=$CERTPIN
ca1=(--cafile "$pki/trust-ca1.pem")
both=(--cafile "$pki/trust-both.pem")

ok=1
serve legit -cert "$pki/leaf.pem" -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key" || ok=0
serve rogue -cert "$pki/rogue.pem" -cert_chain "$pki/ca2-int.pem" -key "$pki/rogue.key" || ok=0
serve untrusted -cert "$pki/ca3-leaf.pem" -key "$pki/ca3-leaf.key" || ok=0
serve sni -servername api.example.com -servername_fatal -cert "$pki/leaf.pem" \
    -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key" -cert2 "$pki/leaf2.pem" -key2 "$pki/leaf2.key" || ok=0
serve clientcert -Verify 1 -cert "$pki/leaf.pem" -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key" || ok=0
mute mute || ok=0
if [ "$ok" != 1 ]; then
    echo "cannot start the test servers"
    exit 1
fi
closed=$(closed_port)
L=127.0.0.1:${port[legit]}
R=127.0.0.1:${port[rogue]}

# days FILE: whole days from now until the certificate's notAfter, computed without certpin.
days() {
    local end
    end=$(date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s)
    echo $(((end - $(date -u +%s)) / 86400))
}
# pin_of FILE: certpin pin's pin of the one certificate or key in FILE.
pin_of() { "$c" pin "$1" | cut -d' ' -f1; }

# ---- the chains ----------------------------------------------------------------------------
expect "probe: connected and verified, exit 0" rc=0 "out=api.example.com: connected to 127.0.0.1 port ${port[legit]} (TLSv1." \
    "out=verified: OpenSSL verified the chain for api.example.com" \
    "out=chain the server sent (2 certificates, leaf first):" \
    "out=chain OpenSSL verified (3 certificates, leaf first, up to the trust anchor):" \
    -- "$c" probe "${ca1[@]}" --connect "$L" api.example.com
text=$out
text_err=$err
for f in leaf ca1-int ca1-root; do
    v=PIN_${f//-/_}
    v=${v^^}
    check "probe shows the pin of $f, as certpin pin and the openssl pipeline compute it" \
        test "$(grep -cF -- "$(pin_of "$pki/$f.pem")" <<<"$text")" -ge 1 -a "$(pin_of "$pki/$f.pem")" = "${!v}"
done
check "probe: the leaf is on both chains, the root only on the verified one" \
    test "$(grep -c "^  [0-9]  $PIN_LEAF\$" <<<"$text"):$(grep -c "^  2  $PIN_CA1_ROOT  (trust anchor)\$" <<<"$text")" = "2:1"
check "probe: subject and issuer" grep -q "^       issuer   CN=certpin Test Issuing CA 1$" <<<"$text"
check "probe: key type and size" grep -q "^       key      EC P-256$" <<<"$text"
leaf_days=$(days "$pki/leaf.pem")
root_days=$(days "$pki/ca1-root.pem")
check "probe: days until the leaf expires ($leaf_days)" grep -qE "^       expires  [0-9T:-]+Z \(in ($leaf_days|$((leaf_days - 1))) days\)$" <<<"$text"
check "probe: days until the root expires ($root_days)" grep -qE "\(in ($root_days|$((root_days - 1))) days\)" <<<"$text"
expect "probe: an RSA key's size" rc=0 "out=key      RSA 2048" "out=CN=certpin Test Root CA 2" \
    -- "$c" probe "${both[@]}" "$R"

# ---- the proposed entry ----------------------------------------------------------------------
check "probe proposes the issuing CA and the root" grep -qF "proposed policy entry (from the chain OpenSSL verified)" <<<"$text"
# entry_of TEXT: the JSON of the proposed entry (the indented block after the heading).
entry_of() { awk '/^proposed policy entry/ { on = 1; next } on && /^  [{}]/ { print; if ($0 ~ /^  }/) exit; next } on { print }' <<<"$1"; }
entry=$(entry_of "$text")
check "the proposed entry is JSON" json_ok <<<"$entry"
check "the proposed entry: host and pins (issuing CA, root)" \
    test "$(json_get 'd["host"], d["pins"]' <<<"$entry")" = "api.example.com ['$PIN_CA1_INT', '$PIN_CA1_ROOT']"
check "the proposed entry: not the leaf's pin" bash -c "! grep -qF -- '$PIN_LEAF' <<<'$entry'"
check "probe names each pin's certificate" grep -qF "$PIN_CA1_INT  issuing CA, depth 1: CN=certpin Test Issuing CA 1" <<<"$text"
check "probe reminds to add a backup pin (certpin pin on a key not deployed)" grep -qF "certpin pin backup.key" <<<"$text"
check "probe warns: no backup (every proposed pin is deployed)" grep -qF "warning: api.example.com: every pin of the proposed entry is on" <<<"$text_err"
# The entry pasted into a policy: lint accepts it, and check accepts the server with it.
printf '{ "certpin": 1, "domains": [ %s ] }\n' "$entry" >"$tmp/proposed.json"
expect "the pasted entry lints" rc=0 -- "$c" lint "$tmp/proposed.json"
expect "the pasted entry accepts the server it came from (pinned at the issuing CA), with the no-backup warning" rc=0 \
    "out=api.example.com: accepted (pinned by entry api.example.com" "out=at depth 1)" "err=none is a backup" \
    -- "$c" check --policy "$tmp/proposed.json" "${ca1[@]}" --connect "$L" api.example.com
# Twin: it refuses the mis-issued chain.
expect "the pasted entry refuses the mis-issued chain" rc=1 "out=rejected (no match" \
    -- "$c" check --policy "$tmp/proposed.json" "${both[@]}" --connect "$R" api.example.com

# ---- --backup: the backup pin in the entry, and no warning ------------------------------------
expect "probe --backup: the backup pin in the entry, no warning, no reminder" rc=0 "noerr=warning" \
    "out=$PIN_BACKUP  backup: public key EC P-256 ($pki/backup.pub)" "noout=certpin pin backup.key" \
    -- "$c" probe "${ca1[@]}" --backup "$pki/backup.pub" --connect "$L" api.example.com
entry=$(entry_of "$out")
check "probe --backup: the entry's pins" \
    test "$(json_get 'd["pins"]' <<<"$entry")" = "['$PIN_CA1_INT', '$PIN_CA1_ROOT', '$PIN_BACKUP']"
printf '{ "certpin": 1, "domains": [ %s ] }\n' "$entry" >"$tmp/proposed-backup.json"
expect "the entry with a backup: check accepts without the no-backup warning" rc=0 "out=accepted (pinned" \
    "noerr=warning" -- "$c" check --policy "$tmp/proposed-backup.json" "${ca1[@]}" --connect "$L" api.example.com
# Twin: a deployed key is no backup.
expect "probe --backup with the deployed leaf key: warns, it is no backup" rc=0 "err=is deployed, so it is no backup" \
    "err=none is a backup" "out=certpin pin backup.key" \
    -- "$c" probe "${ca1[@]}" --backup "$pki/leaf.key" --connect "$L" api.example.com

# ---- a chain that does not verify: shown, and loudly unverified ---------------------------------
expect "probe, untrusted chain: exit 3, the served chain and why it failed" rc=3 \
    "out=verification FAILED: OpenSSL's verification failed at depth 1 (/CN=certpin Test Issuing CA 2): unable to get local issuer certificate" \
    "out=chain the server sent (2 certificates" "out=$PIN_ROGUE" "out=chain OpenSSL verified: none" \
    "out=!!! UNVERIFIED" "out=proposed policy entry (UNVERIFIED: from the chain the server sent)" \
    "err=did NOT verify" -- "$c" probe "${ca1[@]}" "$R"
entry=$(entry_of "$out")
check "the unverified entry still parses, with the served issuing CA" \
    test "$(json_get 'd["pins"]' <<<"$entry")" = "['$PIN_CA2_INT']"
# Twin: trust the second CA, and the same server verifies: nothing unverified.
expect "probe, the same server with its CA trusted: exit 0, nothing UNVERIFIED" rc=0 "noout=UNVERIFIED" \
    "noerr=did NOT verify" "out=proposed policy entry (from the chain OpenSSL verified)" -- "$c" probe "${both[@]}" "$R"
expect "probe, a leaf from an unknown CA, alone: exit 3, its own pin proposed as UNVERIFIED" rc=3 \
    "out=verification FAILED" "out=$PIN_CA3_LEAF  leaf, depth 0" "out=!!! UNVERIFIED" \
    -- "$c" probe "${ca1[@]}" "127.0.0.1:${port[untrusted]}"
expect "probe, a name the certificate lacks: exit 3" rc=3 "out=verification FAILED" "out=!!! UNVERIFIED" \
    -- "$c" probe "${ca1[@]}" --connect "$L" evil.example.net

# ---- --json --------------------------------------------------------------------------------------
expect "probe --json" rc=0 -- "$c" probe --json "${ca1[@]}" --connect "$L" api.example.com
check "probe --json parses" json_ok <<<"$out"
check "probe --json: chains, pins, keys" \
    test "$(json_get 'd["verified"], len(d["served_chain"]), len(d["verified_chain"]), d["verified_chain"][2]["pin"], d["served_chain"][0]["pin"], d["served_chain"][0]["key"], d["served_chain"][0]["key_bits"], d["served_chain"][0]["issuer"]' <<<"$out")" \
    = "True 2 3 $PIN_CA1_ROOT $PIN_LEAF EC P-256 256 CN=certpin Test Issuing CA 1"
d=$(json_get 'd["served_chain"][0]["days_left"]' <<<"$out")
check "probe --json: days until the leaf expires ($d, computed: $leaf_days)" test "$d" = "$leaf_days" -o "$d" = "$((leaf_days - 1))"
check "probe --json: the proposal" \
    test "$(json_get 'd["proposal"]["verified"], d["proposal"]["entry"]["pins"], [s["role"] for s in d["proposal"]["sources"]], [w["code"] for w in d["warnings"]], d["exit"], d["failure"]' <<<"$out")" \
    = "True ['$PIN_CA1_INT', '$PIN_CA1_ROOT'] ['issuing-ca', 'root'] ['no-backup'] 0 None"
expect "probe --json, unverified" rc=3 -- "$c" probe --json "${ca1[@]}" "$R"
check "probe --json unverified: parses" json_ok <<<"$out"
check "probe --json unverified: no verified chain, the proposal marked unverified, the reason" \
    test "$(json_get 'd["verified"], len(d["verified_chain"]), d["proposal"]["verified"], sorted(w["code"] for w in d["warnings"]), d["reason"] != ""' <<<"$out")" \
    = "False 0 False ['no-backup', 'unverified'] True"
expect "probe --json --backup" rc=0 -- "$c" probe --json --backup "$pki/backup.key" "${ca1[@]}" "$L"
check "probe --json --backup: no warning, the backup's source" \
    test "$(json_get 'd["warnings"], d["proposal"]["sources"][-1]["role"], d["proposal"]["sources"][-1]["depth"], d["proposal"]["entry"]["host"]' <<<"$out")" \
    = "[] backup None 127.0.0.1"

# ---- --connect: SNI and verification use HOST ----------------------------------------------------
expect "probe --connect: SNI is HOST (the server gives leaf2 to api.example.com)" rc=3 "out=$PIN_LEAF2" \
    "noout=$PIN_LEAF" -- "$c" probe "${ca1[@]}" --connect "127.0.0.1:${port[sni]}" api.example.com
expect "probe the same server by address: no SNI, the other leaf" rc=0 "out=$PIN_LEAF" "noout=$PIN_LEAF2" \
    -- "$c" probe "${ca1[@]}" "127.0.0.1:${port[sni]}"

# ---- IPv6 -------------------------------------------------------------------------------------
if serve6 legit6 -cert "$pki/leaf.pem" -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key"; then
    expect "probe [::1]:PORT" rc=0 "out=[::1]:${port[legit6]}: connected to ::1 port ${port[legit6]}" \
        "out=verified: OpenSSL verified the chain for ::1" "out=\"host\": \"::1\"" \
        -- "$c" probe "${ca1[@]}" "[::1]:${port[legit6]}"
else
    echo "# skip: IPv6 (::1 cannot be used here)"
fi

# ---- failures ----------------------------------------------------------------------------------
expect "probe, refused: in words, exit 3" rc=3 "out=127.0.0.1:$closed: not connected: connection refused by 127.0.0.1 port $closed" \
    "noout=proposed" -- "$c" probe "${ca1[@]}" "127.0.0.1:$closed"
expect "probe --json, refused: failure" rc=3 -- "$c" probe --json "${ca1[@]}" "127.0.0.1:$closed"
check "probe --json refused: fields" test "$(json_get 'd["failure"]["code"], d["proposal"], d["served_chain"], d["exit"]' <<<"$out")" \
    = "refused None [] 3"
expect "probe, a server that never speaks TLS: timed out, exit 3" rc=3 "out=timed out after 1 second in the TLS handshake" \
    -- "$c" probe "${ca1[@]}" --timeout 1 "127.0.0.1:${port[mute]}"
expect "probe, a server that wants a client certificate: the chains, then the alert, exit 3" rc=3 \
    "out=verified: OpenSSL verified" "out=connection failed: TLS alert 116 (certificate required)" \
    -- "$c" probe "${ca1[@]}" "127.0.0.1:${port[clientcert]}"

# ---- usage -------------------------------------------------------------------------------------
expect "probe: no HOST" rc=2 "err=no HOST" -- "$c" probe
expect "probe: two HOSTs" rc=2 "err=one HOST" -- "$c" probe "$L" "$R"
expect "probe: a bad HOST" rc=2 "err=HOST 'api.example.com:0'" -- "$c" probe api.example.com:0
expect "probe: --backup that cannot be read: exit 2 before connecting" rc=2 "err=$tmp/none.key" \
    -- "$c" probe "${ca1[@]}" --backup "$tmp/none.key" "$L"
expect "probe: --cafile without certificates" rc=2 "err=cannot load the trust store" \
    -- "$c" probe --cafile "$pki/leaf.key" "$L"
expect "probe: bad --timeout" rc=2 "err=--timeout" -- "$c" probe --timeout 0 "$L"

finish
