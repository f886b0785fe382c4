#!/usr/bin/env bash
# run-example.sh [--curl] CLIENT PKI SERVE WANT_EXIT WANT_VERDICT: runs an example client
# (examples/*_client.c) against `openssl s_server -www` on 127.0.0.1 serving the legit
# (SERVE=legit) or the rogue (SERVE=rogue) chain of the test PKI, with a policy that pins the
# legit issuing CA for api.example.com. The client trusts both CAs, so only the pin can refuse the
# rogue chain. Checks the client's exit status and the verdict it prints. s_server accepts one
# connection and is killed on exit whatever happens; every step has a time-out.
#
# The TLS stacks' examples take POLICY CAFILE HOST ADDRESS PORT. With --curl, the client is the
# libcurl example (examples/curl_client.c), which takes
# POLICY CAFILE URL API_KEY ADDRESS (ADDRESS maps api.example.com to 127.0.0.1); it gets 30 s
# instead of 20, and a refusal must also print certpin's explanation on stderr.
set -euo pipefail
usage="usage: run-example.sh [--curl] CLIENT PKI SERVE WANT_EXIT WANT_VERDICT"
curl=0
if [[ ${1:-} == --curl ]]; then
  curl=1
  shift
fi
client=${1:?$usage}
pki=${2:?}
serve=${3:?}
want_exit=${4:?}
want_verdict=${5:?}

case $serve in
  legit) cert=leaf.pem chain=ca1-int.pem key=leaf.key ;;
  rogue) cert=rogue.pem chain=ca2-int.pem key=rogue.key ;;
  *) echo "unknown chain: $serve" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck disable=SC1091
source "$pki/pins.env"
cat >"$tmp/policy.json" <<JSON
{
  "certpin": 1,
  "domains": [
    {"host": "api.example.com", "pins": ["$PIN_CA1_INT", "$PIN_BACKUP"]}
  ]
}
JSON

# Port 0: the kernel picks a free port, which s_server prints ("ACCEPT 127.0.0.1:PORT"). The
# output file exists before s_server starts, so that reading it never races its creation.
: >"$tmp/server.out"
timeout 30 openssl s_server -accept 127.0.0.1:0 -naccept 1 -www -cert "$pki/$cert" \
  -cert_chain "$pki/$chain" -key "$pki/$key" >"$tmp/server.out" 2>&1 &
pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/server.out")
  [[ -n $port ]] && break
  sleep 0.1
done
if [[ -z $port ]]; then
  echo "s_server did not start:" >&2
  cat "$tmp/server.out" >&2
  exit 2
fi

if ((curl)); then
  limit=30
  args=("https://api.example.com:$port/" example-api-key 127.0.0.1)
else
  limit=20
  args=(api.example.com 127.0.0.1 "$port")
fi
set +e
timeout "$limit" "$client" "$tmp/policy.json" "$pki/trust-both.pem" "${args[@]}" \
  >"$tmp/client.out" 2>"$tmp/client.err"
got=$?
set -e
cat "$tmp/client.out" "$tmp/client.err"
echo "exit status $got (expected $want_exit)"
[[ $got == "$want_exit" ]]
grep -qx "certpin: $want_verdict" "$tmp/client.out"
if ((curl)) && [[ $want_exit == 1 ]]; then
  grep -q "pin check failed for api.example.com" "$tmp/client.err"
fi
