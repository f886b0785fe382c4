#!/usr/bin/env bash
# certpin check --chain (the offline form; the live form is test_check_live.sh): OpenSSL's verification first (exit 3 when it fails: not a pin decision),
# then the policy on the chain OpenSSL built (exit 0 accepted, 1 rejected), with the test PKI.
. "$(dirname "$0")/lib.sh"

c=$CERTPIN

policy pin-leaf.json allow "$(entry api.example.com "$PIN_LEAF" "$PIN_BACKUP")"
policy pin-int.json allow "$(entry api.example.com "$PIN_CA1_INT" "$PIN_BACKUP")"
policy pin-root.json allow "$(entry "**.example.com" "$PIN_CA1_ROOT" "$PIN_BACKUP")"
policy pin-ca2.json allow "$(entry api.example.com "$PIN_CA2_INT" "$PIN_BACKUP")"
policy pin-ca3.json allow "$(entry api.example.com "$PIN_CA3_ROOT" "$PIN_BACKUP")"
policy other-allow.json allow "$(entry other.example.org "$PIN_CA1_INT" "$PIN_BACKUP")"
policy other-deny.json deny "$(entry other.example.org "$PIN_CA1_INT" "$PIN_BACKUP")"
policy report-only.json allow \
    "{ \"host\": \"api.example.com\", \"pins\": [\"$PIN_CA2_ROOT\", \"$PIN_BACKUP\"], \"mode\": \"report-only\" }"
policy mode-off.json allow \
    "{ \"host\": \"api.example.com\", \"pins\": [\"$PIN_CA2_ROOT\", \"$PIN_BACKUP\"], \"mode\": \"off\" }"
policy deny.json allow \
    "{ \"host\": \"**.example.com\", \"pins\": [\"$PIN_CA1_INT\", \"$PIN_BACKUP\"], \"deny\": [\"$PIN_ROGUE\"] }"
policy no-backup.json allow "$(entry api.example.com "$PIN_LEAF" "$PIN_CA1_INT")"
policy ip.json allow "$(entry 127.0.0.1 "$PIN_LEAF" "$PIN_BACKUP")" \
    "$(entry ::1 "$PIN_CA1_INT" "$PIN_BACKUP")"
# Entry expiry: the entry expires in 100 days, within the leaf's validity (825 days).
exp=$(date -u -d '+100 days' +%F)
before=$(date -u -d '+50 days' +%F)
after=$(date -u -d '+200 days' +%F)
policy expiry-unpin.json allow \
    "{ \"host\": \"api.example.com\", \"pins\": [\"$PIN_CA2_INT\", \"$PIN_BACKUP\"], \"expires\": \"$exp\", \"on_expiry\": \"unpin\" }"
policy expiry-enforce.json allow \
    "{ \"host\": \"api.example.com\", \"pins\": [\"$PIN_CA2_INT\", \"$PIN_BACKUP\"], \"expires\": \"$exp\", \"on_expiry\": \"enforce\" }"

ca1=(--cafile "$pki/trust-ca1.pem")
both=(--cafile "$pki/trust-both.pem")
legit=(--chain "$pki/chain-legit.pem")

# ---- pinned at leaf, intermediate, root --------------------------------------------------------
expect "legit chain pinned at the leaf" rc=0 \
    "out=api.example.com: accepted (pinned by entry api.example.com, $p/pin-leaf.json domains[0], at depth 0)" \
    -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}" "${ca1[@]}" api.example.com
expect "legit chain pinned at the intermediate" rc=0 "out=accepted (pinned by entry api.example.com" "out=at depth 1)" \
    -- "$c" check --policy "$p/pin-int.json" "${legit[@]}" "${ca1[@]}" api.example.com
expect "legit chain pinned at the root (the trust anchor is on the verified chain)" rc=0 \
    "out=accepted (pinned by entry "**.example.com", $p/pin-root.json domains[0], at depth 2)" \
    -- "$c" check --policy "$p/pin-root.json" "${legit[@]}" "${ca1[@]}" api.example.com
expect "rotated leaf, pinned at the intermediate" rc=0 "out=pinned" \
    -- "$c" check --policy "$p/pin-int.json" --chain "$pki/chain-legit2.pem" "${ca1[@]}" api.example.com
# Twins: the same chain against pins it does not have.
expect "legit chain, pins of another CA: rejected" rc=1 "out=api.example.com: rejected" "out=$PIN_CA2_INT" \
    -- "$c" check --policy "$p/pin-ca2.json" "${legit[@]}" "${ca1[@]}" api.example.com
expect "rotated leaf against the old leaf's pin: rejected" rc=1 "out=rejected" \
    -- "$c" check --policy "$p/pin-leaf.json" --chain "$pki/chain-legit2.pem" "${ca1[@]}" api.example.com

# ---- a mis-issued certificate from another trusted CA ----------------------------------------
expect "rogue chain, trust-both: rejected, with the verified chain and the expected pins" rc=1 \
    "out=api.example.com: rejected" "noout=not on the chain OpenSSL verified" "out=$PIN_ROGUE" "out=$PIN_CA2_INT" "out=$PIN_CA2_ROOT" \
    "out=$PIN_CA1_INT" "out=$PIN_BACKUP" -- "$c" check --policy "$p/pin-int.json" \
    --chain "$pki/chain-rogue.pem" "${both[@]}" api.example.com
# Twin: the same chain verifies for a host without pins: it is the pin that refuses it.
expect "rogue chain, trust-both, host not pinned: accepted" rc=0 "out=accepted (not pinned" \
    -- "$c" check --policy "$p/other-allow.json" --chain "$pki/chain-rogue.pem" "${both[@]}" api.example.com
expect "padded chain (the pinned CAs appended): rejected, they are not on the verified chain" rc=1 \
    "out=rejected" "noout=<- pinned" "out=not on the chain OpenSSL verified" -- "$c" check --policy "$p/pin-int.json" \
    --chain "$pki/chain-padded.pem" "${both[@]}" api.example.com
expect "padded chain against a root pin: rejected" rc=1 "out=rejected" \
    -- "$c" check --policy "$p/pin-root.json" --chain "$pki/chain-padded.pem" "${both[@]}" api.example.com
expect "deny pin on the chain: rejected, denied" rc=1 "out=rejected (denied" "out=$PIN_ROGUE" \
    -- "$c" check --policy "$p/deny.json" --chain "$pki/chain-rogue.pem" "${both[@]}" api.example.com
expect "deny pin not on the chain: pinned" rc=0 "out=accepted (pinned" \
    -- "$c" check --policy "$p/deny.json" "${legit[@]}" "${both[@]}" api.example.com

# ---- OpenSSL's own verification fails: exit 3, not a pin decision ------------------------------
expect "untrusted chain: exit 3, not a pin decision" rc=3 "out=not verified" "out=not a pin decision" \
    "noout=accepted" -- "$c" check --policy "$p/pin-leaf.json" --chain "$pki/chain-untrusted.pem" \
    "${ca1[@]}" api.example.com
# Twin: trust its root, and the same chain reaches the policy (which does not pin it).
expect "the same chain with its root trusted: a pin decision (rejected)" rc=1 "out=rejected" \
    "noout=not a pin decision" -- "$c" check --policy "$p/pin-leaf.json" --chain "$pki/chain-untrusted.pem" \
    --cafile "$pki/ca3-root.pem" api.example.com
expect "the same chain with its root trusted and pinned: accepted" rc=0 "out=accepted (pinned" \
    -- "$c" check --policy "$p/pin-ca3.json" --chain "$pki/chain-untrusted.pem" \
    --cafile "$pki/ca3-root.pem" api.example.com
expect "expired leaf: exit 3" rc=3 "out=not a pin decision" "out=expired" \
    -- "$c" check --policy "$p/pin-int.json" --chain "$pki/chain-expired.pem" "${ca1[@]}" api.example.com
expect "wrong host: exit 3" rc=3 "out=evil.com: not verified" "out=not a pin decision" \
    -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}" "${ca1[@]}" evil.com
expect "a partial name of a SAN: exit 3" rc=3 "out=not a pin decision" \
    -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}" "${ca1[@]}" example.com
# Twin: a name in the SAN, under the same pattern.
expect "another name of the certificate: verified and pinned" rc=0 "out=www.example.com: accepted (pinned" \
    -- "$c" check --policy "$p/pin-root.json" "${legit[@]}" "${ca1[@]}" www.example.com
expect "system trust store (no --cafile): the test CA is unknown, exit 3" rc=3 "out=not a pin decision" \
    -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}" api.example.com
expect "--at before the CA existed: exit 3" rc=3 "out=not a pin decision" \
    -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}" "${ca1[@]}" --at 2001-01-01 api.example.com

# ---- IP addresses ----------------------------------------------------------------------------
expect "IPv4 literal verified as an IP address and pinned" rc=0 "out=127.0.0.1: accepted (pinned by entry 127.0.0.1" \
    -- "$c" check --policy "$p/ip.json" "${legit[@]}" "${ca1[@]}" 127.0.0.1
expect "IPv6 literal verified as an IP address and pinned" rc=0 "out=accepted (pinned by entry ::1" "out=at depth 1" \
    -- "$c" check --policy "$p/ip.json" "${legit[@]}" "${ca1[@]}" ::1
expect "IP address not in the certificate: exit 3" rc=3 "out=not a pin decision" \
    -- "$c" check --policy "$p/ip.json" "${legit[@]}" "${ca1[@]}" 127.0.0.2

# ---- entry expiry (--at) -----------------------------------------------------------------------
expect "--at after the entry expired (on_expiry unpin): accepted, says expired" rc=0 "out=accepted (not pinned" \
    "out=expired" -- "$c" check --policy "$p/expiry-unpin.json" "${legit[@]}" "${ca1[@]}" --at "$after" api.example.com
expect "--at before the entry expires: the pins apply, rejected" rc=1 "out=rejected" \
    -- "$c" check --policy "$p/expiry-unpin.json" "${legit[@]}" "${ca1[@]}" --at "$before" api.example.com
expect "--at after expiry with on_expiry enforce: still rejected, with a warning" rc=1 "out=rejected" \
    "err=warning:" "err=expired" -- "$c" check --policy "$p/expiry-enforce.json" "${legit[@]}" "${ca1[@]}" \
    --at "$after" api.example.com
expect "--at with RFC 3339" rc=0 "out=expired" -- "$c" check --policy "$p/expiry-unpin.json" "${legit[@]}" \
    "${ca1[@]}" --at "${after}T12:00:00Z" api.example.com

# ---- unpinned hosts, report-only, mode off -----------------------------------------------------
expect "unpinned host, policy allows: accepted, not pinned" rc=0 "out=api.example.com: accepted (not pinned" \
    -- "$c" check --policy "$p/other-allow.json" "${legit[@]}" "${ca1[@]}" api.example.com
expect "unpinned host, policy denies: rejected" rc=1 "out=rejected" "out=unpinned" \
    -- "$c" check --policy "$p/other-deny.json" "${legit[@]}" "${ca1[@]}" api.example.com
expect "report-only, no pin matches: accepted, says report-only" rc=0 "out=accepted (report-only" \
    -- "$c" check --policy "$p/report-only.json" "${legit[@]}" "${ca1[@]}" api.example.com
sed 's/"report-only"/"enforce"/' "$p/report-only.json" >"$p/enforce.json"
expect "the same entry enforced: rejected" rc=1 "out=rejected" \
    -- "$c" check --policy "$p/enforce.json" "${legit[@]}" "${ca1[@]}" api.example.com
expect "mode off: accepted, not pinned" rc=0 "out=accepted (not pinned" "out=mode off" \
    -- "$c" check --policy "$p/mode-off.json" "${legit[@]}" "${ca1[@]}" api.example.com

# ---- warnings ------------------------------------------------------------------------------
expect "every pin on the chain: accepted, warns that none is a backup" rc=0 "out=pinned" "err=warning:" \
    "err=backup" -- "$c" check --policy "$p/no-backup.json" "${legit[@]}" "${ca1[@]}" api.example.com
expect "a backup pin off the chain: no warning" rc=0 "noerr=warning:" \
    -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}" "${ca1[@]}" api.example.com

# ---- --json --------------------------------------------------------------------------------
expect "--json, pinned" rc=0 -- "$c" check --json --policy "$p/pin-int.json" "${legit[@]}" "${ca1[@]}" api.example.com
check "--json parses" json_ok <<<"$out"
check "--json: verdict, accepted, exit, entry, chain" \
    test "$(json_get 'd["verdict"], d["accepted"], d["exit"], d["entry"]["pattern"], d["entry"]["index"], d["entry"]["mode"], len(d["chain"]), d["chain"][1]["pin"], d["chain"][1]["depth"], len(d["policy_id"])' <<<"$out")" \
    = "accepted-pinned True 0 api.example.com 0 enforce 3 $PIN_CA1_INT 1 64"
check "--json: the entry's pins" test "$(json_get '" ".join(d["entry"]["pins"])' <<<"$out")" = "$PIN_CA1_INT $PIN_BACKUP"
expect "--json, rejected" rc=1 -- "$c" check --json --policy "$p/pin-int.json" --chain "$pki/chain-rogue.pem" \
    "${both[@]}" api.example.com
check "--json rejected: parses, verdict, explanation" \
    test "$(json_get 'd["verdict"], d["accepted"], d["exit"], d["explanation"] != ""' <<<"$out")" \
    = "rejected-no-match False 1 True"
expect "--json, unverified" rc=3 -- "$c" check --json --policy "$p/pin-int.json" --chain "$pki/chain-untrusted.pem" \
    "${ca1[@]}" api.example.com
check "--json unverified: verdict and reason" \
    test "$(json_get 'd["verdict"], d["exit"], d["reason"] != "", len(d["served_chain"])' <<<"$out")" \
    = "rejected-unverified 3 True 1"
expect "--json, warning" rc=0 -- "$c" check --json --policy "$p/no-backup.json" "${legit[@]}" "${ca1[@]}" api.example.com
check "--json warnings list" test "$(json_get '[w["code"] for w in d["warnings"]]' <<<"$out")" = "['no-backup']"
expect "--json, not pinned: entry null" rc=0 -- "$c" check --json --policy "$p/other-allow.json" "${legit[@]}" \
    "${ca1[@]}" api.example.com
check "--json not pinned" test "$(json_get 'd["verdict"], d["entry"], d["depth"]' <<<"$out")" = "accepted-not-pinned None None"

# ---- policy errors: exit 2, printed like lint's ------------------------------------------------
printf '{ "certpin": 1,\n  "domains": [ { "host": "a.example.com", "pins": ["bad"] } ] }\n' >"$p/bad.json"
expect "bad policy: exit 2, lint-style message" rc=2 "err=$p/bad.json: domains[0].pins[0]: error:" "err=(line 2, column " \
    "noout=accepted" -- "$c" check --policy "$p/bad.json" "${legit[@]}" "${ca1[@]}" api.example.com
printf '{ "certpin": 1, "domains": [ }\n' >"$p/syntax.json"
expect "policy with a JSON syntax error: exit 2, file:line:col" rc=2 "err=$p/syntax.json:1:" \
    -- "$c" check --policy "$p/syntax.json" "${legit[@]}" "${ca1[@]}" api.example.com
expect "missing policy: exit 2" rc=2 "err=$p/nonexistent.json" \
    -- "$c" check --policy "$p/nonexistent.json" "${legit[@]}" "${ca1[@]}" api.example.com

# ---- usage errors: exit 2 ----------------------------------------------------------------------
expect "no --policy" rc=2 "err=--policy" -- "$c" check "${legit[@]}" api.example.com
# Without --chain, check connects (test_check_live.sh); with it, a HOST:PORT is a usage error.
expect "--chain with HOST:PORT" rc=2 "err=HOST" -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}" api.example.com:443
expect "no HOST" rc=2 "err=no HOST" -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}"
expect "two HOSTs" rc=2 "err=one HOST" -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}" a.example.com b.example.com
expect "invalid HOST" rc=2 "err=HOST" -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}" "https://api.example.com/"
expect "bad --at" rc=2 "err=--at" -- "$c" check --policy "$p/pin-leaf.json" "${legit[@]}" --at soon api.example.com
expect "unknown option" rc=2 "err=unknown option '--insecure'" -- "$c" check --insecure --policy "$p/pin-leaf.json" \
    "${legit[@]}" api.example.com
expect "missing chain file" rc=2 "err=$p/nonexistent.pem" -- "$c" check --policy "$p/pin-leaf.json" \
    --chain "$p/nonexistent.pem" api.example.com
expect "chain file holding a key: exit 2" rc=2 "err=not a certificate" -- "$c" check --policy "$p/pin-leaf.json" \
    --chain "$pki/leaf.key" "${ca1[@]}" api.example.com
echo garbage >"$tmp/garbage.pem"
expect "chain file with nothing in it: exit 2" rc=2 "err=$tmp/garbage.pem" -- "$c" check --policy "$p/pin-leaf.json" \
    --chain "$tmp/garbage.pem" "${ca1[@]}" api.example.com
expect "--cafile without certificates: exit 2" rc=2 "err=$tmp/garbage.pem" -- "$c" check --policy "$p/pin-leaf.json" \
    "${legit[@]}" --cafile "$tmp/garbage.pem" api.example.com
expect "--help" rc=0 "out=Usage: certpin check" "out=--cafile" -- "$c" check --help

finish
