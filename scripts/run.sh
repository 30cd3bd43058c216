#!/usr/bin/env bash
# Runs the bundled Inkan server with demo data (`make run` calls it).
#   scripts/run.sh DATA_DIR
# On first use it creates the bank's CA and a demo contract in DATA_DIR; every
# time it writes the agent configuration (DATA_DIR/bank.json) and serves
# https://127.0.0.1:8443 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:?usage: scripts/run.sh DATA_DIR}"
addr="127.0.0.1:8443"
url="https://$addr"

go build -o bin/inkan-server ./cmd/inkan-server
server=bin/inkan-server

if [ ! -e "$data/root-ca.crt" ]; then
  mkdir -p "$data"
  "$server" init --data "$data" --bank-code 1376 --bank-name "Inkan Demo Shinkin Bank"
  # The demo passwords are printed once and kept, readable by you only.
  (umask 077 && "$server" demo --data "$data" > "$data/demo-users.txt")
fi
"$server" agent-config --data "$data" --url "$url" --out "$data/bank.json"

cat "$data/demo-users.txt"
cat <<EOF

Agent configuration: $data/bank.json
Pick up a certificate with curl and openssl, as any EST client would
(use a login ID and password from the table above):

  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \\
    -keyout me.key -subj /CN=me -outform DER | base64 > me.csr.b64
  curl --cacert $data/root-ca.crt -u demo-admin:PASSWORD \\
    -H 'Content-Type: application/pkcs10' --data-binary @me.csr.b64 \\
    $url/.well-known/est/simpleenroll | base64 -d | openssl pkcs7 -inform DER -print_certs > me.crt

Serving $url (Ctrl-C stops).
EOF
exec "$server" serve --data "$data" --addr "$addr"
