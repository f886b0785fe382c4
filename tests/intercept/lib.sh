# The interception scene, shared by the interception tests and the demonstration (scripts/demo.sh):
# a local HTTPS API server that wants an API key, and mitmproxy (the tool an attacker really uses)
# in front of it, its CA in the client's trust store as on the attacker's own device.
#
# Source it, then call intercept_init DIR PKI; every server started here is started under
# `timeout` and stopped by intercept_stop_all (call it from an EXIT trap), so none outlives its
# caller. Only 127.0.0.1 is used: the mitmproxy addon (capture.py) sends every upstream
# connection there.

intercept_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
intercept_pids=()
INTERCEPT_API_KEY=${INTERCEPT_API_KEY:-sk_live_7f3a9c2e5b81d4}

# intercept_init WORKDIR PKI: where logs go, and the test PKI (tests/pki/make-pki.sh).
intercept_init() {
    intercept_work=$1
    intercept_pki=$2
    mkdir -p "$intercept_work"
}

# A free TCP port on 127.0.0.1 (for mitmproxy, which cannot report a port the kernel picked).
intercept_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# intercept_wait_port PORT: waits (at most 10 s) until something listens on 127.0.0.1:PORT.
intercept_wait_port() {
    local i
    for i in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$1" >&2
    return 1
}

# intercept_start_api NAME CERT KEY [CHAIN]: the API server serving CERT (+ CHAIN) from the PKI.
# Sets api_port; its request log is $intercept_work/NAME.requests.
intercept_start_api() {
    local name=$1 cert=$2 key=$3 chain=${4:-} portfile=$intercept_work/$1.port i
    local chain_opt=()
    [[ -n $chain ]] && chain_opt=(--chain "$intercept_pki/$chain")
    rm -f "$portfile"
    : >"$intercept_work/$name.requests"
    timeout 120 python3 "$intercept_dir/api_server.py" --cert "$intercept_pki/$cert" \
        --key "$intercept_pki/$key" "${chain_opt[@]}" --api-key "$INTERCEPT_API_KEY" \
        --log "$intercept_work/$name.requests" --port-file "$portfile" --lifetime 110 \
        >"$intercept_work/$name.log" 2>&1 &
    intercept_pids+=($!)
    for i in $(seq 100); do
        [[ -s $portfile ]] && break
        sleep 0.1
    done
    api_port=$(cat "$portfile" 2>/dev/null)
    [[ -n $api_port ]] || { echo "the API server did not start:" >&2; cat "$intercept_work/$name.log" >&2; return 1; }
}

# intercept_start_mitm MODE [UPSTREAM_PORT]: mitmdump in MODE "reverse" (in front of
# 127.0.0.1:UPSTREAM_PORT, as an attacker on the network path) or "regular" (a proxy the client
# was configured to use). Sets mitm_port. What it captures goes to $intercept_work/captured; its CA
# (made on first start) is $intercept_work/mitmproxy/mitmproxy-ca-cert.pem.
intercept_start_mitm() {
    local mode=$1 upstream=${2:-} spec i
    mitm_port=$(intercept_free_port)
    case $mode in
        reverse) spec=reverse:https://127.0.0.1:$upstream ;;
        regular) spec=regular ;;
        *) echo "intercept_start_mitm: unknown mode $mode" >&2; return 2 ;;
    esac
    mkdir -p "$intercept_work/mitmproxy"
    touch "$intercept_work/captured"
    CAPTURE_LOG=$intercept_work/captured timeout 120 mitmdump -q --mode "$spec" \
        --listen-host 127.0.0.1 --listen-port "$mitm_port" \
        --set confdir="$intercept_work/mitmproxy" --ssl-insecure -s "$intercept_dir/capture.py" \
        >>"$intercept_work/mitmproxy.log" 2>&1 &
    intercept_pids+=($!)
    intercept_wait_port "$mitm_port" || { cat "$intercept_work/mitmproxy.log" >&2; return 1; }
    for i in $(seq 50); do
        [[ -s $intercept_work/mitmproxy/mitmproxy-ca-cert.pem ]] && break
        sleep 0.1
    done
    # The attacker's device: the usual roots (here the test PKI's CA 1) plus the proxy's CA.
    cat "$intercept_pki/ca1-root.pem" "$intercept_work/mitmproxy/mitmproxy-ca-cert.pem" \
        >"$intercept_work/trust-device.pem"
}

# Stops every server started here.
intercept_stop_all() {
    local pid
    for pid in "${intercept_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${intercept_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    intercept_pids=()
}
