#!/bin/sh
# Writes the PKCS#12 files the tests and FuzzDecode's seed corpus use, the way
# real tools write them, with the openssl command line. Run it from this folder;
# the files are committed, so tests never need it.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=pass:inkan-test

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca.key" -out openssl/ca.pem \
  -subj "/O=Inkan Seed Bank/CN=Inkan Seed CA" -days 36500 -addext basicConstraints=critical,CA:true 2>/dev/null
issue() { # issue NAME KEYSPEC: a login certificate for CN=NAME
  openssl req -new -newkey "$2" -nodes -keyout "$tmp/$1.key" -out "$tmp/$1.csr" -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$tmp/$1.csr" -CA openssl/ca.pem -CAkey "$tmp/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 36500 -extfile /dev/stdin -out "$tmp/$1.pem" 2>/dev/null <<X
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
X
}
openssl ecparam -name prime256v1 -out "$tmp/p256.param"
issue demo-general1 ec:"$tmp/p256.param"
issue demo-admin1 rsa:2048

ec="-inkey $tmp/demo-general1.key -in $tmp/demo-general1.pem"
chain="-certfile openssl/ca.pem"
p12() { out=$1; shift; openssl pkcs12 -export -passout $pass -out "openssl/$out.p12" "$@"; }

p12 modern       $ec $chain -name "demo-general1+1376"
p12 modern-nochain $ec -name "demo-general1+1376"
p12 modern-rsa   -inkey "$tmp/demo-admin1.key" -in "$tmp/demo-admin1.pem" $chain -name "demo-admin1+1376"
p12 other-name   $ec $chain -name "Windows で書き出した証明書"
p12 legacy-3des  $ec $chain -name "demo-general1+1376" -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 -iter 2000
p12 legacy-rc2   $ec $chain -name "demo-general1+1376" -legacy
p12 lmk          $ec $chain -name "demo-general1+1376" -LMK -CSP "Microsoft Software Key Storage Provider"
p12 lmk-legacy   $ec $chain -name "demo-general1+1376" -LMK -CSP "Microsoft Enhanced RSA and AES Cryptographic Provider" -legacy
p12 nomac-plain  $ec $chain -name "demo-general1+1376" -nomac -certpbe NONE -keypbe NONE
p12 nomac-aes    $ec $chain -name "demo-general1+1376" -nomac

# FuzzDecode's seed corpus: the same files, in go test's corpus format.
mkdir -p fuzz/FuzzDecode
for f in openssl/*.p12; do
  python3 - "$f" "fuzz/FuzzDecode/$(basename "$f" .p12)" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
lit = ''.join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else '\\x%02x' % b for b in data)
open(sys.argv[2], 'w').write('go test fuzz v1\n[]byte("%s")\nstring("inkan-test")\n' % lit)
PY
done
