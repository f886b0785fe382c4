#!/usr/bin/env bash
# certpin lint: each kind of error with its message and its place, warnings, --json, --explain.
. "$(dirname "$0")/lib.sh"

c=$CERTPIN
at=--at=2027-01-01

# ---- a valid policy ------------------------------------------------------------------------
cat >"$p/good.json" <<EOF
{
  "certpin": 1,
  "unpinned": "allow",
  "domains": [
    { "host": "api.example.com", "pins": ["$PIN_LEAF", "$PIN_BACKUP"] },
    { "host": "*.example.com", "pins": ["$PIN_CA1_INT", "$PIN_BACKUP"], "deny": ["$PIN_ROGUE"] },
    { "host": "**.example.com", "pins": ["$PIN_CA1_ROOT", "$PIN_BACKUP"],
      "expires": "2030-01-01", "on_expiry": "unpin" },
    { "host": "example.org", "include_subdomains": true, "pins": ["$PIN_CA1_ROOT", "$PIN_BACKUP"],
      "deny": ["$PIN_CA2_INT"] },
    { "host": "*.example.org", "pins": ["$PIN_CA1_INT"], "mode": "report-only" },
    { "host": "legacy.example.net", "pins": ["$PIN_LEAF", "$PIN_BACKUP"], "mode": "off" },
    { "host": "*.eu.example.org", "pins": ["$PIN_LEAF2", "$PIN_BACKUP"] }
  ]
}
EOF
expect "valid policy: exit 0" rc=0 "out=$p/good.json: ok: 7 entries" "noout=error:" -- "$c" lint $at "$p/good.json"
# Twin: the same policy with one pin of an enforced entry removed is refused by lint...
sed 's/"pins": \["'"${PIN_LEAF//\//\\/}"'", "'"${PIN_BACKUP//\//\\/}"'"\] },/"pins": ["'"${PIN_LEAF//\//\\/}"'"] },/' \
    "$p/good.json" >"$p/one-pin.json"
expect "fewer than two pins: an error under lint, with path and line" rc=1 \
    "out=$p/one-pin.json: domains[0].pins: error:" "out=(line 5, column " "out=[too-few-pins]" "out=1 error" \
    -- "$c" lint $at "$p/one-pin.json"
# ... while an application (certpin check) loads it with a warning only.
expect "fewer than two pins: only a warning when an application loads it" rc=0 \
    "err=warning:" "err=too-few-pins" -- "$c" check --policy "$p/one-pin.json" \
    --chain "$pki/chain-legit.pem" --cafile "$pki/trust-ca1.pem" api.example.com
# A report-only entry with one pin (domains[4] of good.json) is not an error: checked above.

# ---- JSON syntax errors: file:line:col -------------------------------------------------------
printf '{\n  "certpin": 1,\n  "domains": [ { "host": "a.example.com", "pins": [] }, ]\n}\n' >"$p/syntax.json"
expect "JSON syntax error: POLICY:LINE:COL: error:" rc=1 "out=$p/syntax.json:3:" "out=: error:" \
    -- "$c" lint "$p/syntax.json"
check "JSON syntax error: the line starts with file:line:col" \
    grep -Eq "^$p/syntax.json:3:[0-9]+: error: " <<<"$out"
printf '{ "certpin": 1,\n  "domains": [\n' >"$p/truncated.json"
expect "truncated JSON: error with a position" rc=1 "out=$p/truncated.json:" "out=error:" \
    -- "$c" lint "$p/truncated.json"
printf 'not json at all\n' >"$p/text.json"
expect "not JSON: error at line 1" rc=1 "out=$p/text.json:1:" -- "$c" lint "$p/text.json"

# ---- a bad pin: path and line ------------------------------------------------------------------
cat >"$p/bad-pin.json" <<EOF
{
  "certpin": 1,
  "domains": [
    { "host": "api.example.com",
      "pins": [
        "$PIN_LEAF",
        "sha256/not-base64!!"
      ] }
  ]
}
EOF
expect "bad pin: path and line" rc=1 "out=$p/bad-pin.json: domains[0].pins[1]: error:" "out=(line 7, column " \
    "out=not-base64" "noout=domains[0].pins[0]" -- "$c" lint "$p/bad-pin.json"
sed "s|sha256/not-base64!!|sha256/$(printf 'short' | base64)|" "$p/bad-pin.json" >"$p/short-pin.json"
expect "pin of the wrong length: path and line" rc=1 "out=domains[0].pins[1]: error:" "out=(line 7, column " \
    -- "$c" lint "$p/short-pin.json"
# Twin: the same file with a real second pin is clean.
sed "s|sha256/not-base64!!|$PIN_BACKUP|" "$p/bad-pin.json" >"$p/fixed-pin.json"
expect "the same file with a good pin: exit 0" rc=0 "noout=error:" -- "$c" lint "$p/fixed-pin.json"

# A pin whose base64 starts with '/' ("sha256//..." with 44 characters after "sha256/") is the
# OkHttp form, not curl's "sha256//" + 44 characters: one key in 64 has such a pin.
slash=""
for i in $(seq 1 400); do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/slash.key" 2>/dev/null
    pin=sha256/$(openssl pkey -in "$tmp/slash.key" -pubout -outform der | openssl dgst -sha256 -binary | base64)
    case $pin in sha256//*) slash=$pin; break ;; esac
done
check "found a key whose pin starts with '/'" test -n "$slash"
printf '{ "certpin": 1,\n  "domains": [\n    { "host": "a.example.com", "pins": ["%s", "%s"] } ] }\n' \
    "$slash" "$PIN_BACKUP" >"$p/slash.json"
expect "a pin starting with '/' in OkHttp form is valid" rc=0 "noout=error:" -- "$c" lint "$p/slash.json"
expect "certpin pin prints it in the same form" rc=0 "out=$slash  private key EC P-256" -- "$c" pin "$tmp/slash.key"
printf '{ "certpin": 1,\n  "domains": [\n    { "host": "a.example.com", "pins": ["sha256//%s", "%s"] } ] }\n' \
    "${slash#sha256/}" "$PIN_BACKUP" >"$p/slash-curl.json"
expect "the same pin in curl's form (sha256//...) is valid too" rc=0 "noout=error:" -- "$c" lint "$p/slash-curl.json"

# ---- duplicate key -------------------------------------------------------------------------
cat >"$p/dup.json" <<EOF
{
  "certpin": 1,
  "domains": [
    { "host": "api.example.com", "pins": ["$PIN_LEAF", "$PIN_BACKUP"],
      "host": "evil.example.com" }
  ]
}
EOF
expect "duplicate key: error at its line" rc=1 "out=$p/dup.json:5:" "out=duplicate" -- "$c" lint "$p/dup.json"
cat >"$p/dup-entry.json" <<EOF
{
  "certpin": 1,
  "domains": [
    { "host": "api.example.com", "pins": ["$PIN_LEAF", "$PIN_BACKUP"] },
    { "host": "API.example.com", "pins": ["$PIN_CA1_INT", "$PIN_BACKUP"] }
  ]
}
EOF
expect "two entries for the same host: error" rc=1 "out=error:" "out=domains[1]" -- "$c" lint "$p/dup-entry.json"

# ---- format version ------------------------------------------------------------------------
lib=$("$c" --version | sed -n 's/.*(library \([^,]*\),.*/\1/p')
printf '{ "certpin": 2, "domains": [] }\n' >"$p/v2.json"
expect "newer format version: says which version this certpin reads" rc=1 "out=error:" "out=format 2" \
    "out=$lib" "out=format 1" -- "$c" lint "$p/v2.json"
printf '{ "certpin": 1, "domains": [] }\n' >"$p/v1.json"
expect "format 1: fine" rc=0 "noout=error:" -- "$c" lint "$p/v1.json"
printf '{ "domains": [] }\n' >"$p/v0.json"
expect "no format version: error" rc=1 "out=error:" -- "$c" lint "$p/v0.json"

# ---- public-suffix wildcards ---------------------------------------------------------------
for pat in '*.com' '**.co.uk' '*.github.io'; do
    printf '{ "certpin": 1,\n  "domains": [\n    { "host": "%s", "pins": ["%s", "%s"] } ] }\n' \
        "$pat" "$PIN_CA1_INT" "$PIN_BACKUP" >"$p/psl.json"
    expect "wildcard over public suffix $pat: error" rc=1 "out=domains[0].host: error:" "out=(line 3, column " \
        "out=public suffix" -- "$c" lint "$p/psl.json"
done
printf '{ "certpin": 1,\n  "domains": [\n    { "host": "*.example.co.uk", "pins": ["%s", "%s"] } ] }\n' \
    "$PIN_CA1_INT" "$PIN_BACKUP" >"$p/psl-ok.json"
expect "wildcard under a registrable domain: fine" rc=0 "noout=public suffix" -- "$c" lint "$p/psl-ok.json"

# ---- other value errors ----------------------------------------------------------------------
printf '{ "certpin": 1,\n  "domains": [\n    { "host": "a.*.example.com", "pins": ["%s", "%s"] } ] }\n' \
    "$PIN_CA1_INT" "$PIN_BACKUP" >"$p/bad-host.json"
expect "wildcard in the middle: error" rc=1 "out=domains[0].host: error:" "out=(line 3, column " -- "$c" lint "$p/bad-host.json"
printf '{ "certpin": 1,\n  "domains": [\n    { "host": "a.example.com", "pins": ["%s", "%s"],\n      "mode": "enforcing" } ] }\n' \
    "$PIN_CA1_INT" "$PIN_BACKUP" >"$p/bad-mode.json"
expect "unknown mode: error" rc=1 "out=domains[0].mode: error:" "out=(line 4, column " -- "$c" lint "$p/bad-mode.json"
printf '{ "certpin": 1,\n  "domains": [\n    { "host": "a.example.com", "pins": ["%s", "%s"],\n      "expires": "next year" } ] }\n' \
    "$PIN_CA1_INT" "$PIN_BACKUP" >"$p/bad-time.json"
expect "bad expiry date: error" rc=1 "out=domains[0].expires: error:" "out=(line 4, column " -- "$c" lint "$p/bad-time.json"
printf '{ "certpin": 1, "unpinned": "maybe", "domains": [] }\n' >"$p/bad-unpinned.json"
expect "bad unpinned value: error" rc=1 "out=unpinned" "out=error:" -- "$c" lint "$p/bad-unpinned.json"
printf '{ "certpin": 1,\n  "domains": [\n    { "host": "a.example.com", "pins": ["%s", "%s"] },\n    { "host": "b.example.com", "pins": ["bad"] } ] }\n' \
    "$PIN_CA1_INT" "$PIN_BACKUP" >"$p/two-errors.json"
expect "every error is reported, not only the first" rc=1 "out=domains[1].pins[0]: error:" "out=(line 4, column " \
    -- "$c" lint "$p/two-errors.json"

# ---- warnings: expires within 30 days --------------------------------------------------------
printf '{ "certpin": 1,\n  "domains": [\n    { "host": "a.example.com", "pins": ["%s", "%s"],\n      "expires": "2030-01-01" } ] }\n' \
    "$PIN_CA1_INT" "$PIN_BACKUP" >"$p/expiring.json"
expect "expires within 30 days: a warning, exit 0" rc=0 "out=domains[0].expires: warning:" "out=(line 4, column " \
    "out=1 warning" -- "$c" lint --at 2029-12-20 "$p/expiring.json"
expect "expires in months: no warning" rc=0 "noout=warning:" -- "$c" lint --at 2029-06-01 "$p/expiring.json"

# ---- --json --------------------------------------------------------------------------------
expect "--json on a valid policy" rc=0 -- "$c" lint --json $at "$p/good.json"
check "--json parses" json_ok <<<"$out"
check "--json: no errors, an id" test "$(json_get 'd["errors"], d["policy"] == "'"$p/good.json"'", len(d["policy_id"])' <<<"$out")" = "0 True 64"
expect "--json on a policy with errors: exit 1" rc=1 -- "$c" lint --json "$p/two-errors.json"
check "--json with errors parses" json_ok <<<"$out"
check "--json: the error's fields" test "$(json_get '[(x["severity"], x["line"], x["path"], x["code"] != "", x["message"] != "") for x in d["diagnostics"] if x["severity"] == "error"][0], d["errors"], d["policy_id"]' <<<"$out")" \
    = "('error', 4, 'domains[1].pins[0]', True, True) 2 None"
expect "--json on a syntax error" rc=1 -- "$c" lint --json "$p/syntax.json"
check "--json syntax error: line and column, empty path" \
    test "$(json_get 'd["diagnostics"][0]["line"], d["diagnostics"][0]["column"] > 0, d["diagnostics"][0]["path"] == ""' <<<"$out")" = "3 True True"
expect "--json warning" rc=0 -- "$c" lint --json --at 2029-12-20 "$p/expiring.json"
check "--json warning counted" test "$(json_get 'd["warnings"], d["diagnostics"][0]["severity"]' <<<"$out")" = "1 warning"

# ---- --explain -----------------------------------------------------------------------------
expect "--explain: an exact entry wins" rc=0 "out=deciding entry: domains[0] api.example.com: an exact name wins" \
    "out=domains[1]  *.example.com" "out=domains[2]  **.example.com" "out=$PIN_LEAF" \
    -- "$c" lint $at --explain api.example.com "$p/good.json"
check "--explain: deny pins of every matching entry apply" grep -qF "$PIN_ROGUE  (domains[1] *.example.com)" <<<"$out"
expect "--explain: *. beats **. on a tie" rc=0 "out=deciding entry: domains[1] *.example.com: a tie at 2 fixed labels" \
    "out=$PIN_CA1_INT" -- "$c" lint $at --explain www.example.com "$p/good.json"
expect "--explain: **. covers deeper names (*. does not)" rc=0 "out=deciding entry: domains[2] **.example.com" \
    "noout=domains[1]  *.example.com" "out=expires: 2030-01-02T00:00:00Z" -- "$c" lint $at --explain a.b.example.com "$p/good.json"
expect "--explain: **. covers the name itself" rc=0 "out=deciding entry: domains[2] **.example.com" \
    -- "$c" lint $at --explain example.com "$p/good.json"
expect "--explain: include_subdomains is **.; *. wins the tie; report-only" rc=0 \
    "out=deciding entry: domains[4] *.example.org: a tie" "out=domains[3]  **.example.org" \
    "out=mode: report-only" "out=$PIN_CA2_INT  (domains[3] **.example.org)" \
    -- "$c" lint $at --explain www.example.org "$p/good.json"
expect "--explain: the most fixed labels win" rc=0 \
    "out=deciding entry: domains[6] *.eu.example.org: the most fixed labels (3; domains[3] **.example.org has 2)" \
    "out=$PIN_LEAF2" "out=$PIN_CA2_INT  (domains[3] **.example.org)" \
    -- "$c" lint $at --explain x.eu.example.org "$p/good.json"
expect "--explain: mode off" rc=0 "out=mode: off" -- "$c" lint $at --explain legacy.example.net "$p/good.json"
expect "--explain: host canonicalised" rc=0 "out=host API.Example.COM. (canonical: api.example.com)" \
    "out=deciding entry: domains[0]" -- "$c" lint $at --explain API.Example.COM. "$p/good.json"
expect "--explain: expired entry" rc=0 "out=expired" "out=accepted-expired" \
    -- "$c" lint --at 2031-01-01 --explain a.b.example.com "$p/good.json"
# Twins: no entry matches.
expect "--explain: no match, unpinned allow" rc=0 "out=no entry matches" "out=\"allow\"" "noout=deciding entry" \
    -- "$c" lint $at --explain www.example.net "$p/good.json"
sed 's/"unpinned": "allow"/"unpinned": "deny"/' "$p/good.json" >"$p/deny.json"
expect "--explain: no match, unpinned deny" rc=0 "out=no entry matches" "out=rejected-unpinned-host" \
    -- "$c" lint $at --explain www.example.net "$p/deny.json"
expect "--explain: a suffix is not a subdomain" rc=0 "out=no entry matches" \
    -- "$c" lint $at --explain notexample.com "$p/good.json"
expect "--explain --json" rc=0 -- "$c" lint $at --json --explain www.example.com "$p/good.json"
check "--explain --json parses, names the deciding entry" \
    test "$(json_get 'd["explain"]["entry"]["index"], d["explain"]["entry"]["pattern"], len(d["explain"]["matches"])' <<<"$out")" = "1 *.example.com 2"
expect "--explain on a policy with lint-only errors still explains (as an app loads it)" rc=1 \
    "out=[too-few-pins]" "out=as an application loads" "out=deciding entry: domains[0]" \
    -- "$c" lint $at --explain api.example.com "$p/one-pin.json"
expect "--explain on a broken policy: errors, no explanation" rc=1 "out=cannot explain" \
    -- "$c" lint --explain api.example.com "$p/syntax.json"
expect "--explain with an invalid host: usage error" rc=2 "err=--explain" -- "$c" lint --explain 'a b' "$p/good.json"

# ---- usage ---------------------------------------------------------------------------------
expect "no POLICY: usage error" rc=2 "err=no POLICY" "err=Try 'certpin lint --help'" -- "$c" lint
expect "two POLICY files: usage error" rc=2 "err=one POLICY" -- "$c" lint "$p/good.json" "$p/v1.json"
expect "unknown option: usage error" rc=2 "err=unknown option" -- "$c" lint --strict "$p/good.json"
expect "--explain without HOST: usage error" rc=2 "err=needs a value" -- "$c" lint --explain
expect "bad --at: usage error" rc=2 "err=--at" -- "$c" lint --at yesterday "$p/good.json"
expect "missing POLICY file: exit 2, says why" rc=2 "err=$p/nonexistent.json" -- "$c" lint "$p/nonexistent.json"
expect "--help" rc=0 "out=Usage: certpin lint" "out=--explain" -- "$c" lint --help

finish
