#!/usr/bin/env bash
# Escape closes Fyne's file dialog from every place the keyboard can be in it,
# in the real window: the real inkan under Xvfb (a certificate picked up by the
# real inkanctl from a real inkan-server), 電子証明書の管理 → バックアップ →
# 参照…, then for each Tab count from 1 to the end of the dialog's focus ring
# (its lists, the folder buttons, its tool buttons, the file-name field, キャンセル
# and 保存), Escape. Fyne's own widgets there answer no Escape; the window
# catches it in front of them (ui.catchEscape). Each time the screen must be
# the バックアップ dialog as it was before 参照… (ImageMagick compare), and a
# second Escape closes that too. The file-name field is also reached by
# Shift+Tab and typed into first, to be sure the keyboard was in it.
#
#   scripts/check-file-dialog-escape.sh   # needs Xvfb, xdotool, imagemagick (install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

deadline=$((SECONDS + ${CHECK_TIMEOUT:-300}))
work="$(mktemp -d)"
out="${CHECK_OUT:-$work/shots}"
mkdir -p "$out" "$work/home/.config"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${CHECK_OUT:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "check-file-dialog-escape: FAIL: $*" >&2
  for log in "$work"/*.log; do echo "--- $log (last lines)" >&2; tail -n 10 "$log" >&2; done
  echo "shots in $out (set CHECK_OUT to keep them)" >&2
  exit 1
}
# shellcheck source=scripts/lib/gui.sh
. scripts/lib/gui.sh
for tool in Xvfb xdotool import compare; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/install-deps.sh"
done

echo "== check-file-dialog-escape: build"
go build -o "$work/" ./cmd/inkan ./cmd/inkan-server ./cmd/inkanctl
export INKAN_CA_PASSPHRASE="check-file-dialog-escape demo passphrase"
"$work/inkan-server" init --demo --data "$work/data" --bank-code 1376 --bank-name "いんかん信用金庫" > "$work/init.log"
"$work/inkan-server" demo --data "$work/data" --json > "$work/demo.json"
password=$(grep -A2 '"login_id": *"demo-general1"' "$work/demo.json" | sed -n 's/.*"password": *"\([^"]*\)".*/\1/p')
"$work/inkan-server" serve --data "$work/data" --addr 127.0.0.1:0 --http-addr 127.0.0.1:0 > "$work/server.log" 2>&1 &
pids+=($!)
server_url() { grep -o 'addr=https://127.0.0.1:[0-9]*' "$work/server.log" | head -n1 | cut -d= -f2; }
listening() { [ -n "$(server_url)" ]; }
wait_for "the server to listen" listening
url=$(server_url)
"$work/inkan-server" agent-config --data "$work/data" --url "$url" --out "$work/bank.json" > "$work/agent-config.log" 2>&1
wait_for "the server on $url" curl -sf --cacert "$work/data/root-ca.crt" "$url/.well-known/est/cacerts"
as_user=(env HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" LANG=ja_JP.UTF-8)
printf '%s\n' "$password" | "${as_user[@]}" "$work/inkanctl" --config "$work/bank.json" --store "dir:$work/store" \
  pickup --login-id demo-general1 --password-stdin > "$work/pickup.log" 2>&1 || fail "inkanctl pickup failed"

echo "== check-file-dialog-escape: the window"
start_xvfb
"${as_user[@]}" "$work/inkan" --config "$work/bank.json" --store "dir:$work/store" --lang ja > "$work/inkan.log" 2>&1 &
gui_pid=$!
pids+=("$gui_pid")
wait_for "the Inkan window" xdotool search --name "Inkan"
win=$(xdotool search --name "Inkan" | head -n1)
xdotool windowfocus --sync "$win" || true
sleep 2
key() { xdotool key --window "$win" --clearmodifiers --delay 80 "$@"; sleep 0.7; }
shot() { import -window "$win" "$out/$1.png"; }
# differ A B: the number of pixels that differ (5 % fuzz for anti-aliasing).
# compare exits 1 when they differ, which is an answer here, not a failure.
differ() { { compare -metric AE -fuzz 5% "$out/$1.png" "$out/$2.png" null: 2>&1 || true; } | cut -d' ' -f1; }
# same A B WHAT: A and B differ in fewer than 200 pixels.
same() { local n; n=$(differ "$1" "$2"); [ "${n%.*}" -lt 200 ] || fail "$3 ($n pixels differ: $out/$1.png, $out/$2.png)"; }

key Tab Tab Tab Return # 電子証明書ログイン → 取得 → 再取得・更新 → 電子証明書の管理
sleep 1
key shift+Tab # the row → バックアップ
shot certificates
key Return
sleep 1
key Tab Tab # ファイル → 参照…
shot backup
open_file_dialog() {
  key Return
  sleep 1
  shot open
  local n; n=$(differ open backup)
  [ "${n%.*}" -gt 20000 ] || fail "参照… opened no file dialog ($n pixels differ from バックアップ alone)"
}
for k in $(seq 1 14); do
  open_file_dialog
  tabs=()
  for _ in $(seq "$k"); do tabs+=(Tab); done
  key "${tabs[@]}"
  shot "tab$k"
  key Escape
  shot "escaped$k"
  same "escaped$k" backup "Escape after $k Tab(s) in the file dialog left it open, or closed バックアップ too"
  ((SECONDS <= deadline)) || fail "took longer than ${CHECK_TIMEOUT:-300}s"
done
echo "   Escape closed the file dialog after 1 to 14 Tabs (every place in its focus ring)"

open_file_dialog
key shift+Tab shift+Tab shift+Tab # 保存 ← キャンセル ← the file-name field
shot name-field
key z
shot name-typed
n=$(differ name-field name-typed)
[ "${n%.*}" -gt 0 ] || fail "typing after Shift+Tab×3 changed nothing: the keyboard is not in the file-name field"
key Escape
shot name-escaped
same name-escaped backup "Escape in the file-name field left the file dialog open"
echo "   Escape closed it from inside the file-name field (typed into first)"
key Escape
shot closed
same closed certificates "a second Escape did not close バックアップ"
echo "check-file-dialog-escape: OK (shots in $out)"
