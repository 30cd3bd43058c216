#!/usr/bin/env bash
# README's screenshots from the real window: the real inkan under Xvfb against a
# real inkan-server with the demo contract on 127.0.0.1, driven by the keyboard
# as a user would (xdotool): two pickups (demo-admin, demo-general1), the start
# screen, the chooser, ログイン中, 利用者管理 and 電子証明書の管理. Each screen is
# written to $OUT (default docs/screenshots) as xvfb_<screen>.png; look at them
# before committing. It also prints the window's peak resident memory after
# the walk through every screen.
#
#   scripts/screenshots.sh          # needs Xvfb, xdotool, imagemagick (install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

out="${OUT:-docs/screenshots}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "screenshots: FAIL: $*" >&2; tail -n 20 "$work"/inkan.log >&2 || true; exit 1; }

go build -o "$work/inkan" ./cmd/inkan
go build -o "$work/inkan-server" ./cmd/inkan-server
server="$work/inkan-server" data="$work/data"
export INKAN_CA_PASSPHRASE="screenshots demo passphrase"
"$server" init --demo --data "$data" --bank-code 1376 --bank-name "いんかん信用金庫" > /dev/null
"$server" demo --data "$data" --json > "$work/demo.json"
pw() { grep -A2 "\"login_id\": *\"$1\"" "$work/demo.json" | sed -n 's/.*"password": *"\([^"]*\)".*/\1/p'; }
"$server" serve --data "$data" --addr "127.0.0.1:0" --http-addr "127.0.0.1:0" > "$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'addr=https://127.0.0.1:' "$work/server.log" && break; sleep 0.2; done
url=$(grep -o 'addr=https://127.0.0.1:[0-9]*' "$work/server.log" | head -n1 | cut -d= -f2)
[ -n "$url" ] || fail "the server did not start"
"$server" agent-config --data "$data" --url "$url" --out "$work/bank.json" > /dev/null 2>&1

Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp 3> "$work/display" 2> "$work/xvfb.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.1; done
[ -s "$work/display" ] || fail "Xvfb did not start"
export DISPLAY=":$(head -n1 "$work/display")"

HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" LANG=ja_JP.UTF-8 \
  "$work/inkan" --config "$work/bank.json" --store "dir:$work/store" --lang ja > "$work/inkan.log" 2>&1 &
pids+=($!)
win=""
for _ in $(seq 100); do win=$(xdotool search --name "Inkan" 2>/dev/null | head -n1) && [ -n "$win" ] && break; sleep 0.2; done
[ -n "$win" ] || fail "no Inkan window"
xdotool windowsize --sync "$win" 840 640 || true
sleep 2
key() { xdotool key --window "$win" --clearmodifiers "$@"; sleep 0.8; }
typetext() { xdotool type --window "$win" --delay 40 "$1"; sleep 0.4; }
mkdir -p "$out"
shot() { import -window "$win" "$out/xvfb_$1.png"; echo "   $out/xvfb_$1.png"; }

# pickup ID: from 電子証明書取得's form to インストール完了.
pickup() {
  typetext "$1"
  key Return
  typetext "$(pw "$1")"
  key Return # 取得前処理中 asks the bank, then 取得開始 with 取得 focused
  sleep 1.5
  key Return
  sleep 3
}

key Return # with no certificate, 電子証明書取得 is the primary button and has the keyboard
pickup demo-admin
shot pickup_done
key Return # ログイン画面へ
sleep 1
key Tab Return # 電子証明書ログイン has the keyboard; Tab to 電子証明書取得
pickup demo-general1
key Return
sleep 1.5
shot start
key Return # 電子証明書ログイン: two certificates, so the chooser
sleep 1.5
shot chooser
key Return # demo-admin, the first row, has the keyboard
typetext "$(pw demo-admin)"
key Return
sleep 2
shot session
key Tab Return # 利用者管理
sleep 2.5
shot admin_users
key Escape # back to ログイン中
sleep 1
key Tab Tab Return # ログアウト
sleep 1.5
key Tab Tab Tab Return # 電子証明書ログイン → 取得 → 再取得・更新 → 電子証明書の管理
sleep 1.5
key Return # the first certificate's details
sleep 1
shot certificates
# The process's peak resident memory after the walk through every screen
# (issue 10's limit: 150 MB; VmHWM is the kernel's high-water mark of RSS), and
# how much of what is resident at the end is the libraries of Mesa's software
# OpenGL (llvmpipe: libLLVM, the swrast DRI driver, libGLX_mesa, libglapi),
# which Xvfb makes the window load and a PC with a GPU driver replaces.
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/${pids[-1]}/status")
read -r rss mesa < <(awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 ~ /libLLVM|_dri\.so|libGLX_mesa|libglapi/) }
  /^Rss:/ { r += $2; if (m) g += $2 } END { print r, g }' "/proc/${pids[-1]}/smaps")
awk -v k="$hwm" -v r="$rss" -v g="$mesa" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
  printf "screenshots: peak RSS after every screen: %.1f MB, %.2fx the 150 MB limit (load %s); resident at the end %.1f MB, of it %.1f MB Mesa'"'"'s software OpenGL libraries, %.1f MB the rest\n",
    k / 1024, k / 1024 / 150, load, r / 1024, g / 1024, (r - g) / 1024 }'

# The start screen in English at 150 %, on the same PC.
kill "${pids[-1]}" 2>/dev/null || true
sleep 1
HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" LANG=en_US.UTF-8 FYNE_SCALE=1.5 \
  "$work/inkan" --config "$work/bank.json" --store "dir:$work/store" --lang en > "$work/inkan-en.log" 2>&1 &
pids+=($!)
win=""
for _ in $(seq 100); do win=$(xdotool search --name "Inkan" 2>/dev/null | head -n1) && [ -n "$win" ] && break; sleep 0.2; done
[ -n "$win" ] || fail "no Inkan window in English"
sleep 2.5
shot start_en_150pct
echo "screenshots: OK ($out)"
