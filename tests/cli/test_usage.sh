#!/usr/bin/env bash
# The command line itself: --help for every subcommand, help CMD, --version, usage errors (exit 2).
. "$(dirname "$0")/lib.sh"

c=$CERTPIN

expect "--help: every subcommand listed" rc=0 "out=Usage: certpin COMMAND" "out=pin" "out=lint" "out=check" "out=probe" \
    -- "$c" --help
expect "-h" rc=0 "out=Usage: certpin COMMAND" -- "$c" -h
expect "help" rc=0 "out=Usage: certpin COMMAND" -- "$c" help
for cmd in pin lint check probe; do
    expect "$cmd --help" rc=0 "out=Usage: certpin $cmd" "out=Exit status" "noerr=certpin" -- "$c" "$cmd" --help
    expect "$cmd -h" rc=0 "out=Usage: certpin $cmd" -- "$c" "$cmd" -h
    expect "help $cmd (the same text)" rc=0 "out=Usage: certpin $cmd" -- "$c" help "$cmd"
    check "help $cmd equals $cmd --help" test "$("$c" help "$cmd")" = "$("$c" "$cmd" --help)"
    # Twin: an unknown option of the subcommand is a usage error.
    expect "$cmd --no-such-option: exit 2 with a hint" rc=2 "err=unknown option '--no-such-option'" \
        "err=Try 'certpin $cmd --help'." -- "$c" "$cmd" --no-such-option
done

lib=$(sed -n 's/^#define CERTPIN_VERSION_STRING "\(.*\)"/\1/p' "$(dirname "$0")/../../include/certpin/core.h")
ossl=$(openssl version | awk '{print $2}')
expect "--version: certpin X (library Y, OpenSSL Z)" rc=0 "out=certpin $lib (library " "out=, OpenSSL " -- "$c" --version
check "--version format" grep -Eq '^certpin [0-9]+\.[0-9]+\.[0-9]+ \(library [0-9]+\.[0-9]+\.[0-9]+[^,]*, OpenSSL [0-9][^)]*\)$' <<<"$out"
check "--version names the OpenSSL that runs" grep -qF "OpenSSL $ossl" <<<"$out"
expect "-V" rc=0 "out=certpin $lib" -- "$c" -V

# Twins: what is not a command.
expect "no arguments: usage on stderr, exit 2" rc=2 "err=Usage: certpin" -- "$c"
expect "unknown subcommand: exit 2 with a hint" rc=2 "err=unknown command 'verify'" "err=Try 'certpin --help'." \
    -- "$c" verify
expect "unknown global option: exit 2" rc=2 "err=unknown option '--verbose'" "err=Try 'certpin --help'." \
    -- "$c" --verbose
expect "help for an unknown subcommand: exit 2" rc=2 "err=unknown command 'frobnicate'" -- "$c" help frobnicate
expect "--version with an argument: exit 2" rc=2 "err=--version" -- "$c" --version pin
expect "subcommand names are case-sensitive" rc=2 "err=unknown command 'PIN'" -- "$c" PIN

# Output that cannot be written is an error, not a silent success (twin: the same to a file).
if [ -w /dev/full ]; then
    expect "pin to a full disk: exit 2, said" rc=2 "err=cannot write the output" -- \
        bash -c '"$0" pin "$1" >/dev/full' "$c" "$pki/leaf.pem"
    expect "lint to a full disk: exit 2, said" rc=2 "err=cannot write the output" -- \
        bash -c '"$0" lint --explain api.example.com "$1" >/dev/full' "$c" "$here/../unit/policies/identity-pretty.json"
fi
expect "pin to a file: exit 0" rc=0 -- bash -c '"$0" pin "$1" >"$2"' "$c" "$pki/leaf.pem" "$tmp/out"

finish
