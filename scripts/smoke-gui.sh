#!/usr/bin/env bash
# GUI smoke test (`make test` runs it after the Go tests): the real inkan binary,
# under Xvfb, against a real inkan-server on 127.0.0.1, driven by the keyboard
# with xdotool, as a user would. It picks up a certificate and logs in with it,
# and checks both for real: the certificate is in the store directory, and the
# server recorded the login. Screenshots go to $SMOKE_OUT (default: a temp dir).
#
#   scripts/smoke-gui.sh            # needs Xvfb, xdotool, imagemagick (install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

deadline=$((SECONDS + ${SMOKE_TIMEOUT:-240}))
work="$(mktemp -d)"
out="${SMOKE_OUT:-$work/screenshots}"
mkdir -p "$out" "$work/home/.config"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work/data" "$work/home" "$work/store"
}
trap cleanup EXIT

fail() {
  echo "smoke-gui: FAIL: $*" >&2
  if [ -n "${xvfb_pid:-}" ] && ! kill -0 "$xvfb_pid" 2>/dev/null; then echo "(Xvfb $xvfb_pid is no longer running)" >&2; fi
  if [ -n "${DISPLAY:-}" ]; then import -window root "$out/failure.png" 2>/dev/null && echo "screen at failure: $out/failure.png" >&2; fi
  for log in "$work"/*.log; do echo "--- $log (last lines)" >&2; tail -n 15 "$log" >&2; done
  exit 1
}

# shellcheck source=scripts/lib/gui.sh
. scripts/lib/gui.sh

for tool in Xvfb xdotool import curl; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/install-deps.sh"
done

echo "== smoke-gui: build inkan and inkan-server"
go build -o "$work/inkan" ./cmd/inkan
go build -o "$work/inkan-server" ./cmd/inkan-server
server="$work/inkan-server"
data="$work/data"

echo "== smoke-gui: a bank with a demo contract"
# init encrypts the CA keys with this passphrase; serve reads it from the same variable.
export INKAN_CA_PASSPHRASE="smoke-gui demo passphrase"
"$server" init --demo --data "$data" --bank-code 1376 --bank-name "いんかん信用金庫" > "$work/init.log"
"$server" demo --data "$data" --json > "$work/demo.json"
contract=$(sed -n 's/.*"contract_id": *"\([^"]*\)".*/\1/p' "$work/demo.json")
password=$(grep -A2 '"login_id": *"demo-general1"' "$work/demo.json" | sed -n 's/.*"password": *"\([^"]*\)".*/\1/p')
[ -n "$contract" ] && [ -n "$password" ] || fail "inkan-server demo printed no contract or password for demo-general1"

# Port 0: the kernel picks a free port, and the server logs the address it got.
"$server" serve --data "$data" --addr "127.0.0.1:0" --http-addr "127.0.0.1:0" > "$work/server.log" 2>&1 &
pids+=($!)
server_url() { grep -o 'addr=https://127.0.0.1:[0-9]*' "$work/server.log" | head -n1 | cut -d= -f2; }
listening() { [ -n "$(server_url)" ]; }
wait_for "the server to listen" listening
url=$(server_url)
"$server" agent-config --data "$data" --url "$url" --out "$work/bank.json" > "$work/agent-config.log" 2>&1
wait_for "the server on $url" curl -sf --cacert "$data/root-ca.crt" "$url/.well-known/est/cacerts"

echo "== smoke-gui: Xvfb"
start_xvfb

echo "== smoke-gui: startup benchmark (inkan --bench-startup, empty store)"
mkdir -p "$work/bench-home"
HOME="$work/bench-home" XDG_CONFIG_HOME="$work/bench-home/.config" LANG=ja_JP.UTF-8 \
  timeout 60 "$work/inkan" --config "$work/bank.json" --store "dir:$work/bench-store" --bench-startup \
  > "$work/bench.log" 2>&1 || fail "inkan --bench-startup failed"
grep -o 'startup_first_frame_ms=.*' "$work/bench.log" || fail "inkan --bench-startup printed no numbers"
rm -rf "$work/bench-home" "$work/bench-store"

echo "== smoke-gui: start inkan"
# A private HOME: the preferences and the agent's state file stay in the temp dir.
HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" LANG=ja_JP.UTF-8 \
  "$work/inkan" --config "$work/bank.json" --store "dir:$work/store" --lang ja > "$work/inkan.log" 2>&1 &
gui_pid=$!
pids+=("$gui_pid")
wait_for "the Inkan window" xdotool search --name "Inkan"
win=$(xdotool search --name "Inkan" | head -n1)
xdotool windowfocus --sync "$win" || true
sleep 1.5 # the start screen loads the certificates in the background

key() { xdotool key --window "$win" --clearmodifiers "$@"; sleep 0.6; }
typetext() { xdotool type --window "$win" --delay 40 "$1"; sleep 0.4; }

shot() { import -window "$win" "$out/$1.png"; }
shot start

echo "== smoke-gui: pick up demo-general1's certificate by keyboard"
# With no certificate on this PC yet, 電子証明書取得 has the keyboard.
key Return
typetext demo-general1
key Return # to the password
sleep 0.5
typetext "$password"
key Return # 取得: 取得前処理中, then 取得開始 with 取得 focused
sleep 1
key Return # 取得開始 → the agent generates the key and the bank issues
has_certificate() { [ -n "$(find "$work/store" -type f 2>/dev/null | head -n1)" ]; }
wait_for "a certificate in the store directory $work/store" has_certificate
sleep 1
shot pickup-done
echo "   store holds: $(find "$work/store" -type f -printf '%f ' )"

echo "== smoke-gui: log in with it by keyboard"
key Return # インストール完了 → ログイン画面へ
sleep 1
key Return # 電子証明書ログイン: one certificate, so no chooser: its password
sleep 1.5 # the password dialog must hold the keyboard before typing starts: keys typed earlier are lost
typetext "$password"
key Return
# The user's fields up to its nested certificate object hold last_login_at once set.
logged_in() {
  "$server" user list --data "$data" --contract "$contract" --json | tr -d '\n' |
    grep -o '"login_id": *"demo-general1"[^{]*' | grep_q '"last_login_at"'
}
wait_for "the server to record demo-general1's login (last_login_at)" logged_in
sleep 1
shot logged-in

((SECONDS <= deadline)) || fail "took longer than ${SMOKE_TIMEOUT:-240}s"
echo "smoke-gui: OK (pickup and certificate login through the real window; screenshots in $out)"
