# Shared by the command tests (sourced). Environment (set by ctest, see CMakeLists.txt):
#   CERTPIN            the certpin command under test
#   CERTPIN_TEST_PKI   the test PKI (tests/pki/make-pki.sh); made here when absent
#   CERTPIN_VECTORS    the published pin vectors (../shared/vectors)
#
#   expect NAME [rc=N] [out=TEXT]... [err=TEXT]... [noout=TEXT]... [noerr=TEXT]... -- CMD ARGS...
# runs CMD with stdin from /dev/null (unless STDIN=FILE is set in the environment of the call)
# and counts one test: passed when every condition holds (TEXT is a fixed string, searched in
# stdout or stderr). $out, $err and $rc keep what the last command did.
# Every script ends with `finish`, which prints "N passed, N failed" and exits non-zero on failure.
#
#   policy FILE UNPINNED ENTRY-JSON...   writes $p/FILE, a policy with these entries ($p is
#                                        $tmp/policies, made here)
#   entry HOST PIN...                    prints the JSON of one entry: HOST with these pins

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${CERTPIN:?set CERTPIN to the certpin command}"
pass=0
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/certpin-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ -z "${CERTPIN_TEST_PKI:-}" ] || [ ! -f "$CERTPIN_TEST_PKI/pins.env" ]; then
    echo "# no test PKI at '${CERTPIN_TEST_PKI:-}': making one in $tmp/pki"
    CERTPIN_TEST_PKI=$tmp/pki
    bash "$here/../pki/make-pki.sh" "$CERTPIN_TEST_PKI" || { echo "cannot make the test PKI"; exit 1; }
fi
pki=$CERTPIN_TEST_PKI
# shellcheck disable=SC1091
. "$pki/pins.env"
p=$tmp/policies
mkdir -p "$p"

expect() {
    local name=$1
    shift
    local conds=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        conds+=("$1")
        shift
    done
    [ "${1:-}" = "--" ] && shift
    out=$("$@" <"${STDIN:-/dev/null}" 2>"$tmp/.stderr")
    rc=$?
    err=$(cat "$tmp/.stderr")
    local why=() c
    for c in "${conds[@]}"; do
        case $c in
        rc=*) [ "$rc" = "${c#rc=}" ] || why+=("exit status $rc, expected ${c#rc=}") ;;
        out=*) grep -qF -- "${c#out=}" <<<"$out" || why+=("stdout lacks: ${c#out=}") ;;
        err=*) grep -qF -- "${c#err=}" <<<"$err" || why+=("stderr lacks: ${c#err=}") ;;
        noout=*) grep -qF -- "${c#noout=}" <<<"$out" && why+=("stdout has: ${c#noout=}") ;;
        noerr=*) grep -qF -- "${c#noerr=}" <<<"$err" && why+=("stderr has: ${c#noerr=}") ;;
        *) why+=("bad condition in the test: $c") ;;
        esac
    done
    if [ ${#why[@]} -eq 0 ]; then
        pass=$((pass + 1))
        echo "ok - $name"
    else
        fail=$((fail + 1))
        echo "not ok - $name"
        printf '#   %s\n' "${why[@]}"
        printf '#   command: %s\n' "$*"
        sed 's/^/#   stdout: /' <<<"$out" | head -n 30
        sed 's/^/#   stderr: /' <<<"$err" | head -n 30
    fi
}

# check NAME CONDITION-COMMAND...: one test that passes when the command succeeds.
check() {
    local name=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
        echo "ok - $name"
    else
        fail=$((fail + 1))
        echo "not ok - $name"
        printf '#   failed: %s\n' "$*"
    fi
}

# policy FILE UNPINNED ENTRY-JSON...: $p/FILE, a policy file with the given entries.
policy() {
    local f=$1 unpinned=$2 sep="" e
    shift 2
    {
        printf '{ "certpin": 1, "unpinned": "%s",\n  "domains": [\n' "$unpinned"
        for e in "$@"; do
            printf '%s    %s\n' "$sep" "$e"
            sep=","
        done
        printf '  ] }\n'
    } >"$p/$f"
}
# entry HOST PIN...: one entry's JSON, { "host": HOST, "pins": [PIN, ...] }.
entry() {
    local h=$1 pins="" sep="" x
    shift
    for x in "$@"; do
        pins+="$sep\"$x\""
        sep=", "
    done
    printf '{ "host": "%s", "pins": [%s] }' "$h" "$pins"
}

# json_ok: stdin parses as JSON.
json_ok() { python3 -c 'import json,sys; json.load(sys.stdin)'; }
# json_get EXPR: prints the Python expression EXPR evaluated with d = the JSON of stdin.
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print('"$1"')'; }

finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ] && exit 0
    exit 1
}
