#!/usr/bin/env bash
# The demonstration: installs what is missing, builds, then plays the attack certpin exists for.
# An app talks to its API server over HTTPS with an API key. An attacker runs mitmproxy in front
# of the server and has put mitmproxy's CA into the device's trust store. Without pinning the
# proxy reads the API key; with certpin the app refuses the connection before it sends a byte;
# straight to the real server, certpin accepts. Everything runs on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "== building certpin"
cmake -S . -B build -DCERTPIN_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
certpin=$PWD/build/src/cli/certpin
client=$PWD/build/examples/curl_client
[[ -x $client ]] || { echo "demo: $client was not built" >&2; exit 1; }

work=$(mktemp -d)
. tests/intercept/lib.sh
cleanup() {
  intercept_stop_all
  rm -rf "$work"
}
trap cleanup EXIT
started=$SECONDS
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
indent() { sed 's/^/    /'; }

say "1. The API server: api.example.com, with a certificate from CA 1, and an API that wants a key."
tests/pki/make-pki.sh "$work/pki" >/dev/null
intercept_init "$work/scene" "$work/pki"
key=$INTERCEPT_API_KEY
intercept_start_api api leaf.pem leaf.key ca1-int.pem
api=$api_port
echo "   It listens on 127.0.0.1:$api. The app sends 'X-API-Key: $key' with every request."

say "2. The app's pins: CA 1's issuing key, and a backup key that is not deployed anywhere yet."
"$certpin" pin "$work/pki/ca1-int.pem" "$work/pki/backup.key" | indent
cat >"$work/policy.json" <<JSON
{
  "certpin": 1,
  "domains": [
    {
      "host": "api.example.com",
      "pins": ["$(grep PIN_CA1_INT= "$work/pki/pins.env" | cut -d= -f2-)",
               "$(grep PIN_BACKUP= "$work/pki/pins.env" | cut -d= -f2-)"]
    }
  ]
}
JSON
indent <"$work/policy.json"
"$certpin" lint "$work/policy.json" | indent

say "3. The attacker: mitmproxy in front of the API, and mitmproxy's CA in the device's trust store."
intercept_start_mitm reverse "$api"
echo "   The app now reaches mitmproxy on 127.0.0.1:$mitm_port when it asks for api.example.com."
echo "   The device trusts CA 1 and the proxy's CA, so the proxy's certificate for api.example.com"
echo "   verifies like the real one."

say "4. The app without pinning (curl): the request goes through, and the proxy has the API key."
curl -sS --max-time 20 --cacert "$work/scene/trust-device.pem" \
  --resolve "api.example.com:$mitm_port:127.0.0.1" -H "X-API-Key: $key" \
  "https://api.example.com:$mitm_port/v1/account" | sed 's/^/    the app got: /'
sed 's/^/    the proxy logged: /' "$work/scene/captured"
grep -qF "X-API-Key: $key" "$work/scene/captured" || { echo "!! the proxy captured nothing" >&2; exit 1; }

say "5. The same request with certpin (examples/curl_client.c): refused, and certpin says why."
: >"$work/scene/captured"
set +e
"$client" "$work/policy.json" "$work/scene/trust-device.pem" \
  "https://api.example.com:$mitm_port/v1/account" "$key" 127.0.0.1 2>&1 | indent
rc=${PIPESTATUS[0]}
set -e
if ((rc != 1)) || [[ -s $work/scene/captured ]]; then
  echo "!! certpin did not refuse the interception (exit status $rc)" >&2
  exit 1
fi
echo "   The proxy logged nothing: the app sent no byte of its request, so the key stayed secret."

say "6. The same request with certpin, straight to the real server: accepted."
"$client" "$work/policy.json" "$work/scene/trust-device.pem" \
  "https://api.example.com:$api/v1/account" "$key" 127.0.0.1 | indent

say "Done in $((SECONDS - started)) seconds: without pinning the proxy read the API key; with certpin the
app refused the proxy before sending anything and still talked to its real server."
