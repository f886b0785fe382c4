#!/usr/bin/env bash
# The documentation agrees with the command: docs/certpin.1 renders cleanly and names every option
# of every subcommand; docs/json-output.md documents every field the --json outputs contain (the
# live ones from servers on loopback).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"

c=$CERTPIN
docs=$(cd "$(dirname "$0")/../../docs" && pwd)
man=${CERTPIN_MANPAGE:-$docs/certpin.1}
md=$docs/json-output.md

# ---- the man page renders ------------------------------------------------------------------
if command -v groff >/dev/null 2>&1; then
    check "certpin.1 renders without groff warnings" test -z "$(groff -man -ww -z "$man" 2>&1)"
else
    echo "# groff not installed: warnings not checked"
fi
if command -v man >/dev/null 2>&1; then
    rendered=$(MANWIDTH=100 man -l "$man" 2>/dev/null)
    check "man -l certpin.1 renders" grep -q '^NAME' <<<"$rendered"
    for s in NAME SYNOPSIS DESCRIPTION COMMANDS DIAGNOSTICS 'EXIT STATUS' EXAMPLES 'SEE ALSO'; do
        check "certpin.1 has the section $s" grep -q "^$s" <<<"$rendered"
    done
fi

# ---- every option of every subcommand is in the man page --------------------------------------
# mentions OPTION: the man page names OPTION (written \-\-name in roff).
mentions() { grep -qF -- "$(sed 's/-/\\-/g' <<<"$1")" "$man"; }
for cmd in pin lint check probe; do
    check "certpin.1 describes certpin $cmd" grep -qF "certpin $cmd" "$man"
    opts=$("$c" "$cmd" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
    check "certpin $cmd --help lists options" test -n "$opts"
    for o in $opts; do
        check "certpin.1 names $cmd's $o" mentions "$o"
    done
done
check "certpin.1 names --version" mentions --version
# Twin: the check above can fail.
check "certpin.1 does not name an option that does not exist" bash -c "! grep -qF -- '\\-\\-no-such-option' '$man'"
for code in 0 1 2 3; do
    check "certpin.1 explains exit status $code" grep -qx "\\.B $code" "$man"
done

# ---- every JSON field is documented ---------------------------------------------------------
p=$tmp/policy.json
cat >"$p" <<EOF2
{ "certpin": 1, "unpinned": "allow",
  "domains": [
    { "host": "api.example.com", "pins": ["$PIN_LEAF", "$PIN_CA1_INT"], "expires": "2030-01-01" },
    { "host": "**.example.com", "pins": ["$PIN_CA1_ROOT", "$PIN_BACKUP"], "deny": ["$PIN_ROGUE"] } ] }
EOF2
chain=(--chain "$pki/chain-legit.pem" --cafile "$pki/trust-both.pem")
# Live outputs, from servers on loopback: accepted, rejected, a TLS alert, refused, several hosts.
serve legit -cert "$pki/leaf.pem" -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key" || exit 1
serve rogue -cert "$pki/rogue.pem" -cert_chain "$pki/ca2-int.pem" -key "$pki/rogue.key" || exit 1
serve alert -tls1_2 -Verify 1 -cert "$pki/leaf.pem" -cert_chain "$pki/ca1-int.pem" -key "$pki/leaf.key" || exit 1
closed=$(closed_port)
live=(--cafile "$pki/trust-both.pem" --connect)
{
    "$c" pin --format json "$pki/chain-legit.pem" "$pki/leaf.key"
    "$c" lint --json --explain api.example.com "$p"
    "$c" lint --json "$p"
    "$c" check --json --policy "$p" "${chain[@]}" api.example.com
    "$c" check --json --policy "$p" --chain "$pki/chain-rogue.pem" --cafile "$pki/trust-both.pem" api.example.com
    "$c" check --json --policy "$p" --chain "$pki/chain-untrusted.pem" --cafile "$pki/trust-both.pem" api.example.com
    "$c" check --json --require-pinned --policy "$p" "${chain[@]}" other.example.org
    "$c" check --json --policy "$p" "${live[@]}" "127.0.0.1:${port[legit]}" api.example.com
    "$c" check --json --policy "$p" "${live[@]}" "127.0.0.1:${port[alert]}" api.example.com
    "$c" check --json --policy "$p" --cafile "$pki/trust-both.pem" "127.0.0.1:${port[legit]}" \
        "127.0.0.1:${port[rogue]}" "127.0.0.1:$closed"
    "$c" probe --json "${live[@]}" "127.0.0.1:${port[legit]}" --backup "$pki/backup.pub" api.example.com
    "$c" probe --json --cafile "$pki/trust-ca1.pem" "127.0.0.1:${port[rogue]}"
    "$c" probe --json --cafile "$pki/trust-ca1.pem" "127.0.0.1:$closed"
} >"$tmp/all.json" 2>/dev/null
keys=$(python3 - "$tmp/all.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec = json.JSONDecoder()
keys = set()
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            keys.add(k)
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
i = 0
n = 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    v, i = dec.raw_decode(text, i)
    walk(v)
    n += 1
print("\n".join(sorted(keys)))
PY
)
check "the JSON outputs have fields" test "$(wc -l <<<"$keys")" -gt 50
for k in $keys; do
    check "json-output.md documents the field $k" grep -qF "\`$k\`" "$md"
done
check "json-output.md does not document a field that does not exist" bash -c "! grep -qF '\`no_such_field\`' '$md'"
for v in accepted-pinned accepted-not-pinned accepted-expired accepted-report-only rejected-denied \
    rejected-unpinned-host rejected-no-match rejected-error rejected-unverified not-checked; do
    check "json-output.md lists the verdict $v" grep -qF "$v" "$md"
    check "certpin.1 lists the verdict $v" grep -qF "$v" "$man"
done

# ---- the README's client is examples/openssl_client.c, word for word ----------------------------
readme=$docs/../README.md
example=$docs/../examples/openssl_client.c
readme_client() {
    awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on' "$1"
}
check "README shows examples/openssl_client.c as it is" \
    diff <(readme_client "$readme") "$example"
differs() { ! diff -q "$1" "$2" >/dev/null; }
check "the README check can fail (a changed client differs)" \
    differs <(readme_client "$readme") <(sed 's/SSL_VERIFY_PEER/SSL_VERIFY_NONE/' "$example")

finish
