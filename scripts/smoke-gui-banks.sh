#!/usr/bin/env bash
# Two-bank GUI smoke test (`make test` runs it after smoke-gui.sh): two real
# inkan-server instances of two banks (two init data dirs, two CAs) and one
# real inkan window under Xvfb, driven by the keyboard with xdotool. Each bank
# publishes the form of its login IDs (policy.login_id_pattern), so the window
# picks the bank from the ID typed. It picks up one certificate at each bank
# (checked in the store directory and on each server), shows both in the
# chooser, types an ID into ID・パスワード方式 (its bank is chosen there too),
# and runs 設定 → 動作環境チェック for both banks. A real StatusNotifier host
# (gtk-sni-tray-standalone, with its own watcher, on a private session bus)
# draws the tray icon and its menu, which must list both banks' certificates,
# on screen and over com.canonical.dbusmenu. Screenshots go to $SMOKE_OUT
# (default: a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

deadline=$((SECONDS + ${SMOKE_TIMEOUT:-120}))
work="$(mktemp -d)"
out="${SMOKE_OUT:-$work/screenshots}"
mkdir -p "$out" "$work/home/.config"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work/a" "$work/b" "$work/home" "$work/store"
}
trap cleanup EXIT

fail() {
  echo "smoke-gui-banks: FAIL: $*" >&2
  if [ -n "${DISPLAY:-}" ]; then import -window root "$out/failure.png" 2>/dev/null && echo "screen at failure: $out/failure.png" >&2; fi
  for log in "$work"/*.log; do echo "--- $log (last lines)" >&2; tail -n 15 "$log" >&2; done
  exit 1
}

# shellcheck source=scripts/lib/gui.sh
. scripts/lib/gui.sh

for tool in Xvfb xdotool import curl dbus-daemon dbus-send gtk-sni-tray-standalone; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/install-deps.sh"
done

echo "== [${SECONDS}s] smoke-gui-banks: build inkan and inkan-server"
go build -o "$work/" ./cmd/inkan ./cmd/inkan-server # one go command: both link at once
server="$work/inkan-server"
export INKAN_CA_PASSPHRASE="smoke-gui-banks demo passphrase"

# bank DIR CODE NAME PATTERN: a bank's data dir whose IDs have the form PATTERN.
bank() {
  "$server" init --demo --data "$1" --bank-code "$2" --bank-name "$3" --http-addr 127.0.0.1:0 --login-id-pattern "$4" > "$work/init-$2.log"
  grep -qF "\"login_id_pattern\": \"$4\"" "$1/config.json" || fail "init wrote no policy.login_id_pattern into $1/config.json"
}
# serve DIR CODE: start the bank's server on a free port; sets url.
has_addr() { grep -q 'addr=https://127.0.0.1:[0-9]*' "$1"; }
serve() {
  "$server" serve --data "$1" --addr "127.0.0.1:0" --http-addr "127.0.0.1:0" > "$work/server-$2.log" 2>&1 &
  pids+=($!)
  wait_for "the server of bank $2 to listen" has_addr "$work/server-$2.log"
  url=$(grep -o 'addr=https://127.0.0.1:[0-9]*' "$work/server-$2.log" | head -n1 | cut -d= -f2)
  wait_for "the server on $url" curl -sf --cacert "$1/root-ca.crt" "$url/.well-known/est/cacerts"
}

echo "== [${SECONDS}s] smoke-gui-banks: いんかん信用金庫 (1376, IDs demo-…) and さくら信用金庫 (2005, ten-digit IDs)"
# The two CAs are made at once.
bank "$work/a" 1376 "いんかん信用金庫" 'demo-[a-z0-9]+' &
bank_a=$!
bank "$work/b" 2005 "さくら信用金庫" '[0-9]{10}' || fail "init of さくら信用金庫 failed"
wait "$bank_a" || fail "init of いんかん信用金庫 failed"
"$server" demo --data "$work/a" --json > "$work/demo.json"
pw_a=$(grep -A2 '"login_id": *"demo-general1"' "$work/demo.json" | sed -n 's/.*"password": *"\([^"]*\)".*/\1/p')
[ -n "$pw_a" ] || fail "inkan-server demo printed no password for demo-general1"

pw_b="Sakura-Kanri-2026"
contract_b=$("$server" contract add --data "$work/b" --json "株式会社さくら商事" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
[ -n "$contract_b" ] || fail "contract add printed no contract ID"
if echo "$pw_b" | "$server" user add --data "$work/b" --contract "$contract_b" --role admin --password-stdin kanri > "$work/refused.log" 2>&1; then
  fail "さくら信用金庫 created the ID kanri, which is not of its form [0-9]{10}"
fi
echo "$pw_b" | "$server" user add --data "$work/b" --contract "$contract_b" --role admin --password-stdin 2005000001 > "$work/user-b.log"
"$server" cert issue --data "$work/b" 2005000001 > "$work/issue-b.log"

serve "$work/a" 1376; url_a=$url
serve "$work/b" 2005; url_b=$url
# The PC: bank.json is the first bank, banks/2005.json the second (as 設定 or inkanctl bank add writes it).
mkdir -p "$work/pc/banks"
"$server" agent-config --data "$work/a" --url "$url_a" --out "$work/pc/bank.json" > "$work/agent-config.log" 2>&1
"$server" agent-config --data "$work/b" --url "$url_b" --out "$work/pc/banks/2005.json" >> "$work/agent-config.log" 2>&1
grep -q '"login_id_pattern"' "$work/pc/banks/2005.json" || fail "agent-config wrote no login_id_pattern"

echo "== [${SECONDS}s] smoke-gui-banks: Xvfb, a private session bus, and a StatusNotifier host"
start_xvfb
dbus-daemon --session --fork --nopidfile --print-address=3 --print-pid=4 3> "$work/bus" 4> "$work/bus.pid" > "$work/dbus.log" 2>&1
pids+=("$(head -n1 "$work/bus.pid")")
export DBUS_SESSION_BUS_ADDRESS="$(head -n1 "$work/bus")"
# -w: its own StatusNotifierWatcher on this bus; a 40 px bar at the top of the screen.
gtk-sni-tray-standalone -w --top --end --size 40 --color '#dddddd' > "$work/tray-host.log" 2>&1 &
pids+=($!)
has_watcher() { dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:org.kde.StatusNotifierWatcher | grep_q 'boolean true'; }
wait_for "the StatusNotifierWatcher of gtk-sni-tray-standalone" has_watcher

echo "== [${SECONDS}s] smoke-gui-banks: start inkan with both banks"
HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" LANG=ja_JP.UTF-8 \
  "$work/inkan" --config "$work/pc/bank.json" --store "dir:$work/store" --lang ja > "$work/inkan.log" 2>&1 &
gui_pid=$!
pids+=("$gui_pid")
wait_for "the Inkan window" xdotool search --name "^Inkan"
win=$(xdotool search --name "^Inkan" | head -n1)
xdotool windowmove "$win" 0 60 windowsize "$win" 900 780
xdotool windowfocus --sync "$win" || true
sleep 1.5

key() { xdotool key --window "$win" --clearmodifiers "$@"; sleep 0.4; }
typetext() { xdotool type --window "$win" --delay 20 "$1"; sleep 0.3; }
shot() { import -window "$win" "$out/$1.png"; }
stored() { [ "$(find "$work/store" -type f 2>/dev/null | wc -l)" -ge "$1" ]; }

# pickup ID PASSWORD SHOT: 電子証明書取得 by keyboard; the bank comes from the ID.
pickup() {
  key Return # 電子証明書取得 has the keyboard while a pickup is what the start screen offers
  sleep 0.5
  typetext "$1"
  sleep 0.3
  shot "$3"
  key Return # to the password
  typetext "$2"
  key Return # 取得: 取得前処理中, then 取得開始 with 取得 focused
  sleep 1
  key Return
}

echo "== [${SECONDS}s] smoke-gui-banks: pick up demo-general1 at いんかん信用金庫, chosen from the ID"
shot banks-start
files0=$(find "$work/store" -type f 2>/dev/null | wc -l)
pickup demo-general1 "$pw_a" banks-pickup-inferred-1376
wait_for "demo-general1's certificate in $work/store" stored $((files0 + 1))
sleep 0.6
shot banks-pickup-done-1376
key Return # インストール完了 → the start screen
sleep 1

echo "== [${SECONDS}s] smoke-gui-banks: pick up 2005000001 at さくら信用金庫, chosen from the ID"
files1=$(find "$work/store" -type f | wc -l)
# With a certificate here, 電子証明書ログイン has the keyboard: Tab to 電子証明書取得.
key Tab
pickup 2005000001 "$pw_b" banks-pickup-inferred-2005
wait_for "2005000001's certificate in $work/store" stored $((files1 + 1))
sleep 0.6
shot banks-pickup-done-2005
picked_up() { "$server" cert list --data "$1" --login-id "$2" --json | grep_q '"state": *"active"'; }
wait_for "いんかん信用金庫 to record demo-general1's pickup" picked_up "$work/a" demo-general1
wait_for "さくら信用金庫 to record 2005000001's pickup" picked_up "$work/b" 2005000001
key Return
sleep 1

echo "== [${SECONDS}s] smoke-gui-banks: one chooser with both banks"
key Return # 電子証明書ログイン: two certificates, so the chooser
sleep 1.5
shot banks-chooser
key Escape
sleep 1

echo "== [${SECONDS}s] smoke-gui-banks: ID・パスワード方式 chooses the bank from the ID too"
# On the start screen 電子証明書ログイン has the keyboard; three stops back is お客様ID.
key shift+Tab shift+Tab shift+Tab
typetext 2005000001
shot banks-start-inferred

echo "== [${SECONDS}s] smoke-gui-banks: 設定 → 動作環境チェック of both banks"
# From お客様ID, 設定 is seven stops on (password, ログイン, then the 電子証明書方式 buttons).
key Tab Tab Tab Tab Tab Tab Tab
shot banks-focus-settings
key Return
sleep 1
# 設定 opens on its first field; back from it round to the last row: 保存, 戻る, 動作環境チェック.
key shift+Tab shift+Tab shift+Tab
shot banks-focus-doctor
key Return
# Against two local servers the check takes well under a second; its per-bank
# results are asserted by ui's TestEnvironmentCheckShowsEachBank, here they are shot.
sleep 2
shot banks-doctor

echo "== [${SECONDS}s] smoke-gui-banks: the tray icon and its menu, as gtk-sni-tray-standalone draws them"
# The host's bar: its widest window (GTK also makes a 1x1 leader window of that name).
bar=$(xdotool search --name '^gtk-sni-tray-standalone$' | while read -r w; do
  eval "$(xdotool getwindowgeometry --shell "$w")"; echo "$WIDTH $HEIGHT $X $Y"; done | sort -n | tail -n1)
read -r WIDTH HEIGHT X Y <<< "$bar"
((WIDTH > 100)) || fail "the tray host has no bar (windows: $bar)"
import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" "$out/banks-tray-icon.png"
# A click on the icon opens its menu (com.canonical.dbusmenu, drawn by libdbusmenu-gtk3);
# the pointer on 電子証明書の一覧 (the second row) opens the list of both banks' certificates.
# The menu drops below the bar, right-aligned, over the black root window.
pixel() { import -window root -crop "1x1+$1+$2" -depth 8 txt:- | tail -n1 | grep -o '#[0-9A-F]\{6\}'; }
menu_open() { [ "$(pixel $((X + WIDTH - 200)) $((Y + HEIGHT + 16)))" != "#000000" ]; }
opened=""
for _ in 1 2 3 4 5; do
  xdotool mousemove $((X + WIDTH - HEIGHT / 2)) $((Y + HEIGHT / 2)) click 1
  sleep 1.5
  if menu_open; then opened=1; break; fi
done
[ -n "$opened" ] || fail "clicking the tray icon opened no menu"
import -window root "$out/banks-tray-menu.png"
xdotool mousemove $((X + WIDTH - 200)) $((Y + HEIGHT + 41)) # 電子証明書の一覧, the second row
sleep 1.5
import -window root "$out/banks-tray-submenu.png"
xdotool key Escape Escape
# What the host read: the item registered with the watcher, and its menu's labels.
item=$(dbus-send --session --print-reply --dest=org.kde.StatusNotifierWatcher /StatusNotifierWatcher \
  org.freedesktop.DBus.Properties.Get string:org.kde.StatusNotifierWatcher string:RegisteredStatusNotifierItems |
  grep -o 'string "[^"]*"' | head -n1 | cut -d'"' -f2)
[ -n "$item" ] || fail "Inkan registered no StatusNotifierItem with the watcher"
menu=$(dbus-send --session --print-reply --dest="${item%%/*}" /StatusNotifierItem org.freedesktop.DBus.Properties.Get string:org.kde.StatusNotifierItem string:Menu | grep -o "object path \"[^\"]*\"" | cut -d\" -f2)
dbus-send --session --print-reply --dest="${item%%/*}" "$menu" com.canonical.dbusmenu.GetLayout int32:0 int32:-1 array:string: > "$work/tray-layout.txt"
for want in "demo-general1+1376（いんかん信用金庫）" "2005000001+2005（さくら信用金庫）" "電子証明書の一覧"; do
  grep -qF "$want" "$work/tray-layout.txt" || fail "the tray menu lacks $want (see tray-layout.txt)"
done
echo "   tray menu lists demo-general1+1376 and 2005000001+2005 (item $item)"

((SECONDS <= deadline)) || fail "took longer than ${SMOKE_TIMEOUT:-120}s"
echo "smoke-gui-banks: OK in ${SECONDS}s (two banks: pickups by the ID's bank, one chooser, the environment check, the tray menu in gtk-sni-tray-standalone; screenshots in $out)"
