#!/usr/bin/env bash
# `make run`: the bundled Inkan server with demo data, and the GUI agent against it.
#   scripts/run.sh DATA_DIR
# On first use it creates the bank's CA and a demo contract in DATA_DIR. Every time
# it writes the agent configuration (DATA_DIR/bank.json), serves
# https://127.0.0.1:8443 and opens the Inkan window; quitting Inkan stops the
# server. The demo agent keeps its certificates in DATA_DIR/agent-store, so the demo
# never touches your own keyring. Without a display it serves until Ctrl-C and says
# how to open the window.
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:?usage: scripts/run.sh DATA_DIR}"
addr="${INKAN_ADDR:-127.0.0.1:8443}"
url="https://$addr"
store="dir:$data/agent-store"

echo "Building inkan-server and inkan (the first build of the GUI takes a few minutes)..."
go build -o bin/inkan-server ./cmd/inkan-server
go build -o bin/inkan ./cmd/inkan
server=bin/inkan-server

if [ ! -e "$data/root-ca.crt" ]; then
  mkdir -p "$data"
  "$server" init --data "$data" --bank-code 1376 --bank-name "いんかん信用金庫"
  # The demo passwords are printed once and kept, readable by you only.
  (umask 077 && "$server" demo --data "$data" > "$data/demo-users.txt")
fi
"$server" agent-config --data "$data" --url "$url" --out "$data/bank.json"

"$server" serve --data "$data" --addr "$addr" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 50); do
  curl -sf --cacert "$data/root-ca.crt" "$url/.well-known/est/cacerts" >/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { echo "inkan-server stopped; see its messages above" >&2; exit 1; }
  sleep 0.2
done

cat "$data/demo-users.txt"
cat <<TXT

Server:  $url   (CA: $data/root-ca.crt, data: $data)
Agent:   bin/inkan --config $data/bank.json --store $store
CLI:     bin/inkanctl is built by 'make build'; 'bin/inkanctl --help'
Any EST client can pick up a certificate too, e.g. with curl and openssl:
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \\
    -keyout me.key -subj /CN=me -outform DER | base64 > me.csr.b64
  curl --cacert $data/root-ca.crt -u demo-admin:PASSWORD \\
    -H 'Content-Type: application/pkcs10' --data-binary @me.csr.b64 \\
    $url/.well-known/est/simpleenroll | base64 -d | openssl pkcs7 -inform DER -print_certs > me.crt
TXT

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  cat <<TXT

There is no display here, so the Inkan window cannot open. From a desktop session run
  bin/inkan --config $data/bank.json --store $store
or, on a headless machine, inside a virtual X server:
  xvfb-run -s '-screen 0 1280x900x24' bin/inkan --config $data/bank.json --store $store
The server keeps running until Ctrl-C.
TXT
  wait "$server_pid"
  exit
fi

echo
echo "Opening the Inkan window; quitting Inkan (終了) stops the server."
bin/inkan --config "$data/bank.json" --store "$store"
