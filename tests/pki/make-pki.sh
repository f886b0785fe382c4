#!/usr/bin/env bash
# make-pki.sh OUTDIR: the test PKI, made fresh with the openssl command (P-256 keys; RSA-2048 for
# the second CA). Nothing is checked in: every run makes new keys.
#
#   ca1-root     "certpin Test Root CA 1" (self-signed)           the legit root
#   ca1-int      "certpin Test Issuing CA 1", issued by ca1-root  the legit issuing CA
#   leaf         api.example.com, issued by ca1-int               the legit server
#                SAN: api.example.com, www.example.com, other.example.com, localhost,
#                     127.0.0.1, ::1
#   leaf2        api.example.com, issued by ca1-int, another key (a rotated leaf)
#   ca2-root     "certpin Test Root CA 2" (RSA-2048)              a second CA the client also trusts
#   ca2-int      "certpin Test Issuing CA 2", issued by ca2-root
#   rogue        api.example.com (same SANs), issued by ca2-int   the mis-issued certificate
#   ca3-root / ca3-leaf: a CA the client does not trust, and a leaf for api.example.com from it
#   expired      api.example.com, issued by ca1-int, expired in 2020
#   backup.key   a key that is not deployed anywhere (a backup pin)
#
# Bundles: chain-legit.pem (leaf + ca1-int), chain-legit2.pem, chain-rogue.pem (rogue + ca2-int),
# chain-padded.pem (rogue + ca2-int + ca1-int + ca1-root: the real pinned CAs appended),
# chain-untrusted.pem (ca3-leaf), chain-expired.pem (expired + ca1-int),
# trust-ca1.pem (ca1-root), trust-both.pem (ca1-root + ca2-root).
# pins.env: PIN_<NAME>=sha256/... for every certificate and key, computed with the openssl
# pipeline of RFC 7469 (independently of certpin).
set -euo pipefail
out=${1:?usage: make-pki.sh OUTDIR}
mkdir -p "$out"
cd "$out"

days=3650
subj_leaf="/CN=api.example.com"
san="subjectAltName=DNS:api.example.com,DNS:www.example.com,DNS:other.example.com,DNS:localhost,IP:127.0.0.1,IP:::1"

key_ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key_rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# root NAME CN KEYFN
root() {
  "$3" "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days "$days" -sha256 -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
}

# issue NAME SUBJ ISSUER EXTFILE-CONTENT KEYFN [extra x509 args]
issue() {
  local name=$1 subj=$2 issuer=$3 ext=$4 keyfn=$5
  shift 5
  "$keyfn" "$name.key"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  printf '%s\n' "$ext" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial \
    -sha256 -extfile "$name.ext" -out "$name.pem" "$@" 2>/dev/null
}

ca_ext=$'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid'
leaf_ext=$'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n'"$san"

root ca1-root "certpin Test Root CA 1" key_ec
issue ca1-int "/CN=certpin Test Issuing CA 1" ca1-root "$ca_ext" key_ec -days "$days"
issue leaf "$subj_leaf" ca1-int "$leaf_ext" key_ec -days 825
issue leaf2 "$subj_leaf" ca1-int "$leaf_ext" key_ec -days 825

root ca2-root "certpin Test Root CA 2" key_rsa
issue ca2-int "/CN=certpin Test Issuing CA 2" ca2-root "$ca_ext" key_rsa -days "$days"
issue rogue "$subj_leaf" ca2-int "$leaf_ext" key_ec -days 825

root ca3-root "certpin Untrusted Root CA 3" key_ec
issue ca3-leaf "$subj_leaf" ca3-root "$leaf_ext" key_ec -days 825

# An expired leaf: valid from 2019-01-01 to 2020-01-01.
key_ec expired.key
openssl req -new -key expired.key -subj "$subj_leaf" -out expired.csr 2>/dev/null
printf '%s\n' "$leaf_ext" >expired.ext
openssl x509 -req -in expired.csr -CA ca1-int.pem -CAkey ca1-int.key -CAcreateserial -sha256 \
  -extfile expired.ext -out expired.pem -not_before 20190101000000Z -not_after 20200101000000Z \
  2>/dev/null ||
  # OpenSSL 3.0's x509 has no -not_before: sign with `openssl ca` in a throw-away database.
  {
    mkdir -p expired-ca/newcerts && : >expired-ca/index.txt && echo 01 >expired-ca/serial
    cat >expired-ca/ca.cnf <<CNF
[ca]
default_ca = d
[d]
database = expired-ca/index.txt
new_certs_dir = expired-ca/newcerts
serial = expired-ca/serial
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
CNF
    openssl ca -batch -config expired-ca/ca.cnf -cert ca1-int.pem -keyfile ca1-int.key \
      -in expired.csr -out expired.pem -startdate 20190101000000Z -enddate 20200101000000Z \
      -extfile expired.ext -notext 2>/dev/null
  }

key_ec backup.key
openssl pkey -in backup.key -pubout -out backup.pub 2>/dev/null

cat leaf.pem ca1-int.pem >chain-legit.pem
cat leaf2.pem ca1-int.pem >chain-legit2.pem
cat rogue.pem ca2-int.pem >chain-rogue.pem
cat rogue.pem ca2-int.pem ca1-int.pem ca1-root.pem >chain-padded.pem
cp ca3-leaf.pem chain-untrusted.pem
cat expired.pem ca1-int.pem >chain-expired.pem
cp ca1-root.pem trust-ca1.pem
cat ca1-root.pem ca2-root.pem >trust-both.pem

pin_of_cert() {
  openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64
}
pin_of_key() { openssl pkey -in "$1" -pubout -outform der | openssl dgst -sha256 -binary | base64; }
{
  for c in ca1-root ca1-int leaf leaf2 ca2-root ca2-int rogue ca3-root ca3-leaf expired; do
    v=${c//-/_}
    echo "PIN_${v^^}=sha256/$(pin_of_cert "$c.pem")"
  done
  echo "PIN_BACKUP=sha256/$(pin_of_key backup.key)"
} >pins.env
rm -f ./*.csr ./*.ext ./*.srl
