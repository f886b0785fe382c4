# Servers on loopback for the tests of the live commands (sourced after lib.sh). No traffic leaves
# the machine: every server listens on 127.0.0.1 or ::1, and the port comes from the kernel.
#
#   serve NAME [OPTIONS...]   openssl s_server -www on 127.0.0.1 with OPTIONS; sets port[NAME]
#   serve6 NAME [OPTIONS...]  the same on ::1; returns 1 when ::1 cannot be used
#   mute NAME                 a TCP listener that completes TCP connections and never says a
#                             word (python3): a TLS handshake with it times out; sets port[NAME]
#   full NAME                 a TCP listener whose queue is full (it never accepts, and fills it
#                             itself): a connection to it times out before TCP completes
#   plain NAME MODE           a TCP server that is no TLS server (python3): MODE http answers
#                             anything with an HTTP error, MODE close closes every connection as
#                             soon as it has read what the client sent; sets port[NAME]
#   closed_port               prints a port of 127.0.0.1 on which nothing listens
#
# Every process runs under `timeout` (it stops by itself) and is killed when the script exits.

declare -A port=()
server_pids=()
server_life=${CERTPIN_TEST_SERVER_LIFE:-240}

stop_servers() {
    local p
    for p in "${server_pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${server_pids[@]}"; do
        wait "$p" 2>/dev/null
    done
    server_pids=()
}
trap 'stop_servers; rm -rf "$tmp"' EXIT

# wait_port NAME LOG PATTERN WHAT: waits (10 s at most) for the server that writes LOG to print
# its port, which the sed expression PATTERN takes out of LOG; sets port[NAME]. When no port comes,
# says that WHAT did not start, shows LOG and returns 1.
wait_port() {
    local name=$1 log=$2 pattern=$3 what=$4 i p=
    for i in $(seq 100); do
        p=$(sed -n "$pattern" "$log")
        [ -n "$p" ] && break
        sleep 0.1
    done
    if [ -z "$p" ]; then
        echo "# $what did not start:"
        sed 's/^/#   /' "$log"
        return 1
    fi
    port[$name]=$p
}

# start_s_server NAME ACCEPT PATTERN OPTIONS...: s_server prints "ACCEPT ADDR:PORT" when it
# listens; PATTERN is the sed expression that takes the port out of that line.
start_s_server() {
    local name=$1 accept=$2 pattern=$3 log
    shift 3
    log=$tmp/server-$name.log
    : >"$log"
    timeout "$server_life" openssl s_server -accept "$accept" -naccept 200 -www "$@" \
        </dev/null >"$log" 2>&1 &
    server_pids+=($!)
    wait_port "$name" "$log" "$pattern" "s_server $name"
}

# start_py NAME WHAT SCRIPT [ARGS...]: python3 -c SCRIPT ARGS..., a server that prints its port on
# a line of its own once it listens; sets port[NAME] (WHAT names it when it does not start).
start_py() {
    local name=$1 what=$2 script=$3 log=$tmp/py-$1.log
    shift 3
    : >"$log"
    timeout "$server_life" python3 -c "$script" "$@" >"$log" 2>&1 &
    server_pids+=($!)
    wait_port "$name" "$log" 's/^\([0-9][0-9]*\)$/\1/p' "$what"
}

serve() {
    local name=$1
    shift
    start_s_server "$name" 127.0.0.1:0 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$@"
}

ipv6_loopback() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

serve6() {
    local name=$1
    shift
    ipv6_loopback || return 1
    start_s_server "$name" '[::1]:0' 's/^ACCEPT \[::1\]:\([0-9][0-9]*\)$/\1/p' "$@"
}

mute() {
    local name=$1
    start_py "$name" "the mute listener $name" '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
held = []  # accepted and kept open, never read from, never written to
while True:
    held.append(s.accept()[0])
'
}

full() {
    local name=$1
    start_py "$name" "the full listener $name" '
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
fill = []
for _ in range(3):  # the queue holds one connection or two; the SYNs after that are dropped
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(s.getsockname())
    fill.append(c)
time.sleep(0.5)
print(s.getsockname()[1], flush=True)
time.sleep(3600)
'
}

plain() {
    local name=$1 mode=$2
    start_py "$name" "the plain server $name" '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    c = s.accept()[0]
    c.settimeout(5)
    try:
        c.recv(4096)  # read the ClientHello first, so that closing sends FIN rather than RST
        if sys.argv[1] == "http":
            c.sendall(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    c.close()
' "$mode"
}

closed_port() {
    python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
'
}
