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
[[ -x $client ]] || { echo "demo: $client was not built" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
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

# serve CERT KEY CHAIN: openssl s_server on 127.0.0.1, one connection, answering HTTP (-www);
# the kernel picks the port, which s_server prints. Sets server_pid and port.
serve() {
  : >"$work/server.log"
  timeout 30 openssl s_server -accept 127.0.0.1:0 -naccept 1 -www -cert "$1" -key "$2" \
    -cert_chain "$3" >"$work/server.log" 2>&1 &
  server_pid=$!
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/server.log")
    [[ -n $port ]] && return 0
    sleep 0.1
  done
  echo "s_server did not start:" >&2
  cat "$work/server.log" >&2
  exit 1
}
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

say "5. Live, over TLS on 127.0.0.1, with the example client (examples/openssl_client.c)."
echo "   The legitimate server:"
serve leaf.pem leaf.key ca1-int.pem
timeout 20 "$client" "$work/policy.json" trust-both.pem api.example.com 127.0.0.1 "$port"
stop_server
echo "   A server presenting the mis-issued chain:"
serve rogue.pem rogue.key ca2-int.pem
set +e
timeout 20 "$client" "$work/policy.json" trust-both.pem api.example.com 127.0.0.1 "$port"
rc=$?
set -e
sleep 0.2
stop_server
if ((rc != 1)); then
  echo "!! the client did not refuse the mis-issued chain (exit status $rc)"
  exit 1
fi
finished=$(sed -n 's/^ *\([0-9][0-9]*\) server accepts that finished$/\1/p' "$work/server.log")
echo "(client exit status $rc; handshakes the server finished: ${finished:-0}, so no request byte was sent)"
if [[ ${finished:-0} != 0 ]]; then
  echo "!! the server finished a handshake with the pinned client: this must not happen"
  exit 1
fi
say "Done: the legitimate chain is accepted; the mis-issued one is refused before any byte is sent."
