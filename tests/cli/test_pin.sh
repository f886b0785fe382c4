#!/usr/bin/env bash
# certpin pin: every kind of input and every format agrees with the openssl pipeline (pins.env,
# computed by tests/pki/make-pki.sh independently of certpin); errors are clear and exit 1.
. "$(dirname "$0")/lib.sh"

c=$CERTPIN
d=$tmp/in
mkdir -p "$d"

# pin_of NAME: the PIN_ variable of a PKI file name (ca1-int -> $PIN_CA1_INT).
pin_of() {
    local v=PIN_${1//-/_}
    v=${v^^}
    printf '%s' "${!v}"
}
hex_of() { printf '%s' "${1#sha256/}" | base64 -d | od -An -tx1 | tr -d ' \n'; }

# ---- certificates, PEM and DER --------------------------------------------------------------
for n in ca1-root ca1-int leaf leaf2 ca2-root ca2-int rogue ca3-root ca3-leaf expired; do
    want=$(pin_of "$n")
    expect "PEM certificate $n" rc=0 "out=$want  CN=" -- "$c" pin "$pki/$n.pem"
    openssl x509 -in "$pki/$n.pem" -outform der -out "$d/$n.der"
    expect "DER certificate $n" rc=0 "out=$want  CN=" -- "$c" pin "$d/$n.der"
done
expect "certificate subject in RFC 2253 form" rc=0 "out=$PIN_CA1_INT  CN=certpin Test Issuing CA 1" \
    -- "$c" pin "$pki/ca1-int.pem"
# Twin: the pin is over the SPKI, not the whole certificate.
whole=sha256/$(openssl x509 -in "$pki/leaf.pem" -outform der | openssl dgst -sha256 -binary | base64)
expect "certificate pin is not a hash of the whole certificate" rc=0 "out=$PIN_LEAF" "noout=$whole" \
    -- "$c" pin "$pki/leaf.pem"
# Twin: two certificates for the same name with different keys have different pins.
expect "rotated leaf has its own pin" rc=0 "out=$PIN_LEAF2" "noout=$PIN_LEAF" -- "$c" pin "$pki/leaf2.pem"

openssl req -x509 -new -key "$pki/leaf.key" -utf8 -subj "/CN=bücher.example/O=Ex\+am\,ple" -days 1 \
    -out "$d/utf8.pem" 2>/dev/null
expect "subject: UTF-8 kept, RFC 2253 specials escaped" rc=0 "out=$PIN_LEAF  O=Ex\+am\,ple,CN=bücher.example" \
    -- "$c" pin "$d/utf8.pem"
# Twin: control characters of a hostile subject (a terminal escape) are escaped, never printed.
openssl req -x509 -new -key "$pki/leaf.key" -subj "/CN=$(printf 'evil\033[31mred')" -days 1 \
    -out "$d/esc.pem" 2>/dev/null
expect "subject: control characters escaped" rc=0 "out=CN=evil\1B[31mred" "noout=$(printf '\033')" \
    -- "$c" pin "$d/esc.pem"

# ---- bundles -------------------------------------------------------------------------------
expect "PEM bundle: every certificate" rc=0 "out=$PIN_ROGUE" "out=$PIN_CA2_INT" "out=$PIN_CA1_INT" \
    "out=$PIN_CA1_ROOT" -- "$c" pin "$pki/chain-padded.pem"
check "PEM bundle: one line per certificate, in file order" \
    test "$(cut -d' ' -f1 <<<"$out" | tr '\n' ' ')" = "$PIN_ROGUE $PIN_CA2_INT $PIN_CA1_INT $PIN_CA1_ROOT "
cat "$d/leaf.der" "$d/ca1-int.der" >"$d/bundle.der"
expect "DER bundle (concatenated certificates)" rc=0 "out=$PIN_LEAF  CN=api.example.com" \
    "out=$PIN_CA1_INT  CN=certpin Test Issuing CA 1" -- "$c" pin "$d/bundle.der"
expect "several files" rc=0 "out=$PIN_LEAF" "out=$PIN_BACKUP" -- "$c" pin "$pki/leaf.pem" "$pki/backup.pub"
{ echo "Subject: some text before the block"; cat "$pki/leaf.pem"; echo "trailing text"; } >"$d/text-around.pem"
expect "text around PEM blocks is ignored" rc=0 "out=$PIN_LEAF" -- "$c" pin "$d/text-around.pem"

# ---- standard input ------------------------------------------------------------------------
STDIN=$pki/chain-legit.pem expect "stdin (-), PEM" rc=0 "out=$PIN_LEAF" "out=$PIN_CA1_INT" -- "$c" pin -
STDIN=$d/leaf.der expect "stdin (-), DER" rc=0 "out=$PIN_LEAF" -- "$c" pin -
expect "stdin empty: error" rc=1 "err=<stdin>" "err=empty" -- "$c" pin -

# ---- public keys ---------------------------------------------------------------------------
expect "PEM PUBLIC KEY" rc=0 "out=$PIN_BACKUP  public key EC P-256" -- "$c" pin "$pki/backup.pub"
openssl pkey -pubin -in "$pki/backup.pub" -outform der -out "$d/backup.pub.der"
expect "DER SubjectPublicKeyInfo" rc=0 "out=$PIN_BACKUP  public key EC P-256" -- "$c" pin "$d/backup.pub.der"
openssl rsa -in "$pki/ca2-root.key" -RSAPublicKey_out -out "$d/ca2.rsapub.pem" 2>/dev/null
openssl rsa -in "$pki/ca2-root.key" -RSAPublicKey_out -outform der -out "$d/ca2.rsapub.der" 2>/dev/null
expect "PEM RSA PUBLIC KEY (PKCS#1)" rc=0 "out=$PIN_CA2_ROOT  public key RSA 2048" -- "$c" pin "$d/ca2.rsapub.pem"
expect "DER RSAPublicKey (PKCS#1)" rc=0 "out=$PIN_CA2_ROOT  public key RSA 2048" -- "$c" pin "$d/ca2.rsapub.der"
# Twin: a public key that is not the certificate's gives another pin.
expect "backup key is not the leaf's key" rc=0 "noout=$PIN_LEAF" -- "$c" pin "$pki/backup.pub"

# ---- private keys: the pin of the public half ------------------------------------------------
expect "PEM PKCS#8 private key (EC)" rc=0 "out=$PIN_LEAF  private key EC P-256" -- "$c" pin "$pki/leaf.key"
expect "PEM PKCS#8 private key (RSA)" rc=0 "out=$PIN_CA2_ROOT  private key RSA 2048" -- "$c" pin "$pki/ca2-root.key"
openssl pkey -in "$pki/leaf.key" -outform der -out "$d/leaf.key.der"
expect "DER PKCS#8 private key" rc=0 "out=$PIN_LEAF  private key EC P-256" -- "$c" pin "$d/leaf.key.der"
openssl ec -in "$pki/leaf.key" -out "$d/leaf.ec.pem" 2>/dev/null
openssl ec -in "$pki/leaf.key" -outform der -out "$d/leaf.ec.der" 2>/dev/null
check "traditional EC key file is 'EC PRIVATE KEY'" grep -q 'BEGIN EC PRIVATE KEY' "$d/leaf.ec.pem"
expect "PEM traditional EC PRIVATE KEY" rc=0 "out=$PIN_LEAF  private key EC P-256" -- "$c" pin "$d/leaf.ec.pem"
expect "DER traditional EC private key" rc=0 "out=$PIN_LEAF  private key EC P-256" -- "$c" pin "$d/leaf.ec.der"
openssl rsa -in "$pki/ca2-root.key" -traditional -out "$d/ca2.rsa.pem" 2>/dev/null
openssl rsa -in "$pki/ca2-root.key" -traditional -outform der -out "$d/ca2.rsa.der" 2>/dev/null
expect "PEM traditional RSA PRIVATE KEY" rc=0 "out=$PIN_CA2_ROOT  private key RSA 2048" -- "$c" pin "$d/ca2.rsa.pem"
expect "DER traditional RSA private key" rc=0 "out=$PIN_CA2_ROOT  private key RSA 2048" -- "$c" pin "$d/ca2.rsa.der"
openssl ecparam -name prime256v1 -genkey -out "$d/ecparam-key.pem" 2>/dev/null
want=sha256/$(openssl pkey -in "$d/ecparam-key.pem" -pubout -outform der | openssl dgst -sha256 -binary | base64)
expect "EC PARAMETERS block before the key is skipped silently" rc=0 "out=$want  private key EC P-256" \
    "noerr=skipped" -- "$c" pin "$d/ecparam-key.pem"

# Twins: encrypted keys are refused with a clear message, never guessed at.
openssl pkey -in "$pki/leaf.key" -aes256 -passout pass:secret -out "$d/enc.p8.pem"
openssl pkcs8 -topk8 -v2 aes256 -in "$pki/leaf.key" -passout pass:secret -outform der -out "$d/enc.p8.der"
openssl ec -in "$pki/leaf.key" -aes256 -passout pass:secret -out "$d/enc.ec.pem" 2>/dev/null
openssl rsa -in "$pki/ca2-root.key" -traditional -aes256 -passout pass:secret -out "$d/enc.rsa.pem" 2>/dev/null
for f in enc.p8.pem enc.p8.der enc.ec.pem enc.rsa.pem; do
    expect "encrypted private key $f: clear error" rc=1 "err=$d/$f" "err=encrypted" "noout=sha256/" \
        -- "$c" pin "$d/$f"
done

# ---- CSRs ----------------------------------------------------------------------------------
openssl req -new -key "$pki/leaf.key" -subj "/CN=api.example.com" -out "$d/leaf.csr" 2>/dev/null
openssl req -in "$d/leaf.csr" -outform der -out "$d/leaf.csr.der"
expect "PEM CSR" rc=0 "out=$PIN_LEAF  CSR CN=api.example.com" -- "$c" pin "$d/leaf.csr"
expect "DER CSR" rc=0 "out=$PIN_LEAF  CSR CN=api.example.com" -- "$c" pin "$d/leaf.csr.der"
openssl req -new -key "$pki/backup.key" -subj "/CN=api.example.com/O=Example, Inc." -out "$d/backup.csr" 2>/dev/null
expect "CSR of another key: that key's pin; RFC 2253 escaping" rc=0 \
    "out=$PIN_BACKUP  CSR O=Example\\, Inc.,CN=api.example.com" "noout=$PIN_LEAF" -- "$c" pin "$d/backup.csr"

# ---- formats -------------------------------------------------------------------------------
expect "--format okhttp is the default form" rc=0 "out=$PIN_LEAF  " -- "$c" pin --format okhttp "$pki/leaf.pem"
expect "--format curl" rc=0 "out=sha256//${PIN_LEAF#sha256/}  CN=api.example.com" -- "$c" pin --format curl "$pki/leaf.pem"
hex=$(openssl x509 -in "$pki/leaf.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed 's/.*= //')
expect "--format hex agrees with openssl dgst" rc=0 "out=$hex  CN=api.example.com" -- "$c" pin -f hex "$pki/leaf.pem"
check "--format hex agrees with pins.env" test "$(hex_of "$PIN_LEAF")" = "$hex"
expect "--format json" rc=0 -- "$c" pin --format json "$pki/chain-legit.pem" "$pki/backup.pub" "$pki/leaf.key"
check "--format json parses" json_ok <<<"$out"
check "--format json: fields of every item" test "$(json_get '";".join("%s,%d,%s,%s,%s,%s" % (i["file"], i["index"], i["kind"], i["description"], i["pin"], i["spki_sha256_hex"]) for i in d)' <<<"$out")" \
    = "$pki/chain-legit.pem,0,certificate,CN=api.example.com,$PIN_LEAF,$hex;$pki/chain-legit.pem,1,certificate,CN=certpin Test Issuing CA 1,$PIN_CA1_INT,$(hex_of "$PIN_CA1_INT");$pki/backup.pub,0,public-key,public key EC P-256,$PIN_BACKUP,$(hex_of "$PIN_BACKUP");$pki/leaf.key,0,private-key,private key EC P-256,$PIN_LEAF,$hex"
expect "--format json with a CSR" rc=0 -- "$c" pin --format json "$d/leaf.csr"
check "--format json: kind csr" test "$(json_get 'd[0]["kind"]' <<<"$out")" = csr
echo "not a certificate" >"$d/garbage.txt"
expect "--format json with a failing file: valid JSON, exit 1" rc=1 "err=$d/garbage.txt" \
    -- "$c" pin --format json "$pki/leaf.pem" "$d/garbage.txt"
check "--format json with a failing file still parses and keeps the good items" \
    test "$(json_get 'len(d)' <<<"$out")" = 1
# Twins: bad formats are usage errors.
expect "unknown --format: usage error" rc=2 "err=unknown format 'base64'" "err=Try 'certpin pin --help'" \
    -- "$c" pin --format base64 "$pki/leaf.pem"
expect "--format without a value: usage error" rc=2 "err=needs a value" -- "$c" pin --format

# ---- errors --------------------------------------------------------------------------------
expect "garbage file: error naming the file and what was expected" rc=1 "err=$d/garbage.txt" \
    "err=expected PEM" "err=CERTIFICATE" "noout=sha256/" -- "$c" pin "$d/garbage.txt"
head -c 512 /dev/urandom >"$d/random.bin"
expect "random bytes: error" rc=1 "err=$d/random.bin" "err=no certificate, public key, private key or CSR" \
    -- "$c" pin "$d/random.bin"
: >"$d/empty"
expect "empty file: error" rc=1 "err=$d/empty" "err=empty" -- "$c" pin "$d/empty"
expect "a good and a garbage file: the good one's pin, exit 1" rc=1 "out=$PIN_LEAF" "err=$d/garbage.txt" \
    -- "$c" pin "$pki/leaf.pem" "$d/garbage.txt"
expect "missing file: exit 1" rc=1 "err=$d/nonexistent" "err=No such file" -- "$c" pin "$d/nonexistent"
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$d/bad-der.pem"
expect "PEM certificate block with bad DER" rc=1 "err=PEM block 1 (CERTIFICATE)" "err=not a valid certificate" \
    -- "$c" pin "$d/bad-der.pem"
printf -- '-----BEGIN CERTIFICATE-----\n@@@@ not base64 @@@@\n-----END CERTIFICATE-----\n' >"$d/bad-b64.pem"
expect "PEM block that is not base64" rc=1 "err=malformed PEM" -- "$c" pin "$d/bad-b64.pem"
{ cat "$pki/leaf.pem"; head -n 3 "$pki/ca1-int.pem"; } >"$d/truncated.pem"
expect "truncated second block: first pin printed, exit 1" rc=1 "out=$PIN_LEAF" "err=PEM block 2" \
    -- "$c" pin "$d/truncated.pem"
{ cat "$d/leaf.der"; printf 'trailing junk'; } >"$d/trailing.der"
expect "DER followed by junk: pin of the object, error for the junk" rc=1 "out=$PIN_LEAF" "err=offset" \
    -- "$c" pin "$d/trailing.der"
openssl crl2pkcs7 -nocrl -certfile "$pki/leaf.pem" -out "$d/p7.pem"
expect "only an unsupported block: says it skipped it, exit 1" rc=1 "err=PKCS7" "err=skipped" \
    -- "$c" pin "$d/p7.pem"

# ---- usage ---------------------------------------------------------------------------------
expect "no FILE: usage error" rc=2 "err=no FILE" -- "$c" pin
expect "unknown option: usage error" rc=2 "err=unknown option '--bogus'" -- "$c" pin --bogus "$pki/leaf.pem"
expect "--help" rc=0 "out=Usage: certpin pin" "out=--format" -- "$c" pin --help

finish
