#!/usr/bin/env bash
# certpin pin against pins published by others ($CERTPIN_VECTORS, see its README.md):
# Let's Encrypt's certificates with the pins of Chromium's and Mozilla's static lists, and curl's
# pinning tests (test2041 must match, test2042's deliberately wrong pin must not).
. "$(dirname "$0")/lib.sh"

v=${CERTPIN_VECTORS:-}
if [ -z "$v" ] || [ ! -f "$v/letsencrypt/expected.tsv" ] || [ ! -f "$v/curl/expected.tsv" ]; then
    echo "SKIP: no published vectors at '${v}' (set CERTPIN_VECTORS to ../shared/vectors)"
    exit 77
fi

# column FILE NAME: the 1-based index of column NAME in the header of a TSV file.
column() { head -n 1 "$1" | tr '\t' '\n' | grep -nx -- "$2" | cut -d: -f1; }

# ---- Let's Encrypt: every row must match ------------------------------------------------------
t=$v/letsencrypt/expected.tsv
cf=$(column "$t" cert_file)
pf=$(column "$t" expected_sha256_pin)
rows=0
while IFS=$'\t' read -r -a row; do
    file=${row[$((cf - 1))]}
    pin=sha256/${row[$((pf - 1))]}
    rows=$((rows + 1))
    expect "letsencrypt $file: the published pin" rc=0 "out=$pin  " -- "$CERTPIN" pin "$v/letsencrypt/$file"
done < <(tail -n +2 "$t")
check "letsencrypt: rows were read" test "$rows" -ge 8

# Twin: the pairs that share a key (and so a pin) are different certificates: hashing the whole
# certificate would tell them apart.
a=$("$CERTPIN" pin "$v/letsencrypt/lets-encrypt-x1-cross-signed.pem" | cut -d' ' -f1)
b=$("$CERTPIN" pin "$v/letsencrypt/lets-encrypt-x3-cross-signed.pem" | cut -d' ' -f1)
check "letsencrypt X1 and X3 share a key: same pin" test -n "$a" -a "$a" = "$b"
check "letsencrypt X1 and X3 are different certificates" \
    test "$(openssl x509 -in "$v/letsencrypt/lets-encrypt-x1-cross-signed.pem" -outform der | sha256sum)" \
    != "$(openssl x509 -in "$v/letsencrypt/lets-encrypt-x3-cross-signed.pem" -outform der | sha256sum)"
a=$("$CERTPIN" pin "$v/letsencrypt/isrgrootx1.pem" | cut -d' ' -f1)
check "letsencrypt X1 and ISRG Root X1 have different keys" test "$a" != "$b"

# ---- curl: yes rows match, no rows differ, for the certificate and both public key files ------
t=$v/curl/expected.tsv
cf=$(column "$t" saved_cert_file)
pf=$(column "$t" expected_pin)
mf=$(column "$t" expect_match)
lf=$(column "$t" label)
rows=0
while IFS=$'\t' read -r -a row; do
    cert=${row[$((cf - 1))]}
    pin=sha256/${row[$((pf - 1))]}
    match=${row[$((mf - 1))]}
    label=${row[$((lf - 1))]}
    base=${cert%.crt.pem}
    rows=$((rows + 1))
    for f in "$cert" "$base.pub.pem" "$base.pub.der"; do
        if [ ! -f "$v/curl/$f" ]; then
            check "curl $label $f exists" false
            continue
        fi
        if [ "$match" = yes ]; then
            expect "curl $label $f: the published pin" rc=0 "out=$pin  " -- "$CERTPIN" pin "$v/curl/$f"
        else
            expect "curl $label $f: not the deliberately wrong pin" rc=0 "out=sha256/" "noout=$pin" \
                -- "$CERTPIN" pin "$v/curl/$f"
        fi
    done
done < <(tail -n +2 "$t")
check "curl: rows were read" test "$rows" -ge 10

# The curl form of the pin is what curl --pinnedpubkey takes.
f=$(ls "$v"/curl/*.crt.pem | head -n 1)
expect "curl form of a curl vector" rc=0 "out=sha256//" -- "$CERTPIN" pin --format curl "$f"

finish
