#!/usr/bin/env bash
# `make run`: the bundled Inkan server with demo data, and the GUI agent against it.
#   scripts/run.sh DATA_DIR [--scenario all-states]   (INKAN_ADDR=127.0.0.1:PORT to serve elsewhere than :8443)
# --scenario all-states (`make run SCENARIO=all-states`) fills DATA_DIR, once, with an
# ID for every state a user can meet: valid, in the renewal window, 10 days left,
# expired but renewable, expired too long, revoked, superseded, locked, awaiting
# pickup, pickup lapsed, never issued. The server issues each certificate on its
# own day on a shifted clock, and the real agent picks it up from the server
# started on that day (scripts/demo-all-states.sh); the agent's clock is never moved.
# On first use it creates the bank's CA and a demo contract in DATA_DIR. Every time
# it writes the agent configuration (DATA_DIR/bank.json), serves https://INKAN_ADDR
# (CRL, OCSP and CA certificates on http://INKAN_HTTP_ADDR, default 127.0.0.1:8080)
# (its log in DATA_DIR/server.log) and opens the Inkan window; quitting Inkan stops
# the server. Everything the demo writes stays in DATA_DIR: the agent's certificates
# (DATA_DIR/agent-store, never your keyring), and its own and Fyne's settings and
# state (DATA_DIR/home, which the demo agent takes as its home and XDG directories).
# Without a display it serves until Ctrl-C and says how to open the window.
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:?usage: scripts/run.sh DATA_DIR [--scenario all-states]}"
scenario=
case "${2:-}" in
"") ;;
--scenario) scenario="${3:?usage: scripts/run.sh DATA_DIR [--scenario all-states]}" ;;
*) echo "usage: scripts/run.sh DATA_DIR [--scenario all-states]" >&2; exit 2 ;;
esac
case "$scenario" in
"" | all-states) ;;
*) echo "scripts/run.sh: unknown scenario $scenario (the only one is all-states)" >&2; exit 2 ;;
esac
addr="${INKAN_ADDR:-127.0.0.1:8443}"
http_addr="${INKAN_HTTP_ADDR:-127.0.0.1:8080}"
url="https://$addr"
store="dir:$data/agent-store"
home="$data/home"
log="$data/server.log"
# The CA keys are encrypted; a demo keeps the passphrase beside them (a bank never does).
passphrase_file="$data/demo-ca-passphrase"

echo "Building inkan-server, inkanctl and inkan (the first build of the GUI takes a few minutes)..."
go build -o bin/ ./cmd/inkan-server ./cmd/inkanctl ./cmd/inkan
server=bin/inkan-server

created=
if [ ! -e "$data/root-ca.crt" ]; then
  mkdir -p "$data"
  (umask 077 && head -c 24 /dev/urandom | base64 > "$passphrase_file")
  # --demo: the certificates point at http://$http_addr, reachable from this machine only.
  # all-states: the CA starts 500 days ago, before the oldest certificate of the scenario.
  init_shift=()
  [ "$scenario" = all-states ] && init_shift=(--demo-shift-days -500)
  "$server" init --demo "${init_shift[@]}" --data "$data" --bank-code 1376 --bank-name "いんかん信用金庫" --public-url "$url" \
    --http-addr "$http_addr" --passphrase-file "$passphrase_file" >"$data/init.txt" 2>&1
  # The demo passwords are kept, readable by you only.
  (umask 077 && "$server" demo ${scenario:+--scenario "$scenario"} --data "$data" > "$data/demo-users.txt")
  # all-states is complete only once its pickups are done (below).
  if [ "$scenario" = all-states ]; then echo "all-states (unfinished: remove $data and run again)" > "$data/scenario"; else echo default > "$data/scenario"; fi
  created=1
  echo "Created the demo bank and contract in $data (what init said: $data/init.txt)."
fi
made_as=$(cat "$data/scenario" 2>/dev/null || echo default)
if [ "$made_as" != "${scenario:-default}" ] && [ -z "$created" ]; then
  echo "scripts/run.sh: $data holds the ${made_as} demo; give another DATA_DIR for ${scenario:-the default one}" >&2
  exit 2
fi
# A demo directory made before the CA keys were encrypted: encrypt them now.
if [ ! -e "$passphrase_file" ]; then
  (umask 077 && head -c 24 /dev/urandom | base64 > "$passphrase_file")
fi
for key in "$data/offline/root-ca.key" "$data/issuing-ca.key"; do
  if [ -e "$key" ] && ! grep -q 'ENCRYPTED PRIVATE KEY' "$key"; then
    "$server" ca encrypt-key --key "$key" --passphrase-file "$passphrase_file"
  fi
done
"$server" agent-config --data "$data" --url "$url" --out "$data/bank.json"
if [ -n "$created" ] && [ "$scenario" = all-states ]; then
  echo "Picking up the all-states certificates, each on its own day (scripts/demo-all-states.sh)..."
  scripts/demo-all-states.sh "$data" "$addr" "$http_addr"
  echo all-states > "$data/scenario"
fi

# What is true now, once: the demo IDs whose certificate awaits pickup (with the
# password to pick it up with) and those picked up already.
echo
echo "Demo contract $(sed -n '1s/^Demo contract [0-9]*: \([^,]*\).*/\1/p' "$data/demo-users.txt") (passwords: $data/demo-users.txt):"
"$server" cert list --data "$data" | awk '
  NR == FNR { if ($1 ~ /^demo-/) pw[$1] = $3; next }
  FNR > 1 && !seen[$1]++ {
    if ($2 == "awaiting_pickup") printf "  %-14s 電子証明書取得待ち (awaiting pickup)  password %s\n", $1, pw[$1]
    else if ($2 == "active") printf "  %-14s picked up, valid until %s\n", $1, $4
    else printf "  %-14s %s\n", $1, $2
  }' "$data/demo-users.txt" -

"$server" serve --data "$data" --addr "$addr" --public-url "$url" \
  --http-addr "$http_addr" --passphrase-file "$passphrase_file" >>"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 50); do
  curl -sf --cacert "$data/root-ca.crt" "$url/.well-known/est/cacerts" >/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { echo "inkan-server stopped; its log: $log" >&2; tail -n 5 "$log" >&2; exit 1; }
  sleep 0.2
done

# The demo agent's home: Fyne's and Inkan's settings and state go here, not to ~.
# The folders Fyne's file dialog offers as favourites exist, so it has none to complain of.
mkdir -p "$home/.config" "$home/.cache" "$home/.local/share" "$home/.local/state" \
  "$home/Desktop" "$home/Documents" "$home/Downloads" "$home/Music" "$home/Pictures" "$home/Videos"
export XAUTHORITY="${XAUTHORITY:-$HOME/.Xauthority}"
demo_env=(env HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache"
  XDG_DATA_HOME="$home/.local/share" XDG_STATE_HOME="$home/.local/state")
# Fyne cannot parse the C locale's name (C.UTF-8): give it plain C, which means the same.
case "${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}" in C.*|POSIX.*) demo_env+=(LC_ALL=C LC_MESSAGES=C LANG=C) ;; esac
# Without a session bus, a private one, so that the tray and notifications have
# one (dbus-daemon's own complaints, e.g. about the fd limit in a container, dropped).
bus_pid=
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v dbus-daemon >/dev/null; then
  if bus=$(dbus-daemon --session --fork --print-address=1 --print-pid=1 2>/dev/null); then
    bus_pid=$(sed -n 2p <<<"$bus")
    demo_env+=(DBUS_SESSION_BUS_ADDRESS="$(sed -n 1p <<<"$bus")")
  fi
fi
trap 'kill "$server_pid" ${bus_pid:+"$bus_pid"} 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT INT TERM
inkan=(bin/inkan --config "$data/bank.json" --store "$store")
inkanctl="bin/inkanctl --config $data/bank.json --store $store --state-dir $home/.config/inkan"

cat <<TXT

Server:  $url   (CA: $data/root-ca.crt, data: $data, log: $log)
CRL, OCSP and CA certificates for relying parties: http://$http_addr
Agent:   the Inkan window, with its settings in $home
CLI:     $inkanctl list
         (pickup --login-id ID, login, renew, backup [--legacy], restore, bank add: '$inkanctl --help')
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
  HOME=$home ${inkan[*]}
or, on a headless machine, inside a virtual X server:
  HOME=$home xvfb-run -s '-screen 0 1280x900x24' ${inkan[*]}
The server keeps running until Ctrl-C.
TXT
  wait "$server_pid"
  exit
fi

echo
echo "Opening the Inkan window; quitting Inkan (終了) stops the server."
"${demo_env[@]}" "${inkan[@]}"
