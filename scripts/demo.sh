#!/usr/bin/env bash
# The demonstration: installs what is missing, builds, then shows on a PKI it makes that
# certpin accepts the legitimate chain and refuses a chain for the same name from a second CA
# that the client also trusts (what a mis-issuing CA, or an interception proxy's CA installed on
# the device, would present). Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "== building certpin"
cmake -S . -B build -DCERTPIN_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
certpin=$PWD/build/src/cli/certpin
client=$PWD/build/examples/openssl_client

work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. A test PKI: two CAs the client trusts. CA 1 issued api.example.com; CA 2 mis-issues it."
tests/pki/make-pki.sh "$work/pki" >/dev/null
cd "$work/pki"
"$certpin" pin ca1-int.pem leaf.pem backup.key

say "2. The app's policy pins CA 1's issuing key and a backup key that is not deployed."
cat >"$work/policy.json" <<JSON
{
  "certpin": 1,
  "domains": [
    {
      "host": "api.example.com",
      "pins": ["$(grep PIN_CA1_INT= pins.env | cut -d= -f2-)",
               "$(grep PIN_BACKUP= pins.env | cut -d= -f2-)"]
    }
  ]
}
JSON
cat "$work/policy.json"
"$certpin" lint "$work/policy.json" && echo "lint: no errors"

say "3. The legitimate chain, verified against a trust store holding both CAs: accepted."
"$certpin" check --policy "$work/policy.json" --chain chain-legit.pem --cafile trust-both.pem \
  api.example.com

say "4. The mis-issued chain: OpenSSL alone accepts it (both CAs are trusted)..."
openssl verify -CAfile trust-both.pem -untrusted ca2-int.pem rogue.pem
say "   ...certpin refuses it, and says why:"
set +e
"$certpin" check --policy "$work/policy.json" --chain chain-rogue.pem --cafile trust-both.pem \
  api.example.com
rc=$?
set -e
echo "(exit status $rc: rejected by the policy)"

if [[ -x $client ]]; then
  say "5. Live, over TLS on 127.0.0.1: a server presenting the mis-issued chain."
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  openssl s_server -accept "127.0.0.1:$port" -cert rogue.pem -key rogue.key \
    -cert_chain ca2-int.pem -naccept 1 >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do grep -q ACCEPT "$work/server.log" && break; sleep 0.1; done
  set +e
  timeout 20 "$client" "$work/policy.json" trust-both.pem api.example.com 127.0.0.1 "$port"
  rc=$?
  set -e
  kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=
  if grep -q "API-KEY" "$work/server.log"; then
    echo "!! the server received the request: this must not happen"; exit 1
  fi
  echo "(client exit status $rc; the server received no request byte)"
fi
say "Done: the legitimate chain is accepted; the mis-issued one is refused before any byte is sent."
