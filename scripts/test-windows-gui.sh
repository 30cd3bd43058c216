#!/usr/bin/env bash
# `make test-windows-gui`: the Windows build as a user meets it, under Wine 8
# and Xvfb, against the real inkan-server (Linux) on 127.0.0.1:
#
#   1. builds inkan.exe (cgo, mingw-w64), inkanctl.exe and the per-user MSI;
#   2. installs the MSI with Wine's msiexec, quietly, and checks it went to
#      %LOCALAPPDATA%\Programs\Inkan and HKCU only;
#   3. starts the installed inkan.exe (the Windows certificate store, the
#      bank's RSA-2048 policy) and drives it by keyboard with xdotool through a
#      pickup (電子証明書取得) and a certificate login (電子証明書ログイン),
#      checked for real: the certificate is in CurrentUser\MY and the server
#      recorded the login; screenshots of each screen;
#   4. uninstalls quietly: the programs go, the certificate stays in MY;
#      installs again and uninstalls with DELETECERTIFICATES=1: it goes too;
#   5. shows the uninstall's question (inkanctl uninstall --ask, a MessageBoxW)
#      with a certificate in a dir: store, screenshots it, and answers with
#      Return: the default, "No", keeps the certificate.
#
# Not in `make test`: a cold cross-build of inkan.exe (go-gl and GLFW in C
# through mingw-w64) takes 15 to 25 minutes here, more than make test's whole
# budget; with Go's build cache warm the run takes about two minutes.
# Screenshots go to $WINE_GUI_OUT (default: a temp dir, removed); make
# test-windows-gui keeps them in docs/screenshots/wine/.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${WINE_GUI_TIMEOUT:=420}" # seconds for everything after the build
work=$(mktemp -d "${TMPDIR:-/tmp}/inkan-wine-gui.XXXXXX")
out=${WINE_GUI_OUT:-$work/screenshots}
mkdir -p "$out"
pids=()

wine=""
for candidate in wine64 /usr/lib/wine/wine64 wine; do
  if command -v "$candidate" >/dev/null 2>&1; then wine=$(command -v "$candidate"); break; fi
done
wineserver=""
for candidate in wineserver /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver; do
  if command -v "$candidate" >/dev/null 2>&1; then wineserver=$(command -v "$candidate"); break; fi
done

cleanup() {
  [ -n "$wineserver" ] && WINEPREFIX="$work/prefix" "$wineserver" -k >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -f cmd/inkan/rsrc_windows_amd64.syso cmd/inkanctl/rsrc_windows_amd64.syso
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "test-windows-gui: FAIL: $*" >&2
  if [ -n "${DISPLAY:-}" ]; then import -window root "$out/failure.png" 2>/dev/null && echo "screen at failure: $out/failure.png" >&2; fi
  for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log (last lines)" >&2; tail -n 15 "$log" | tr -d '\r' >&2; }; done
  exit 1
}

[ -n "$wine" ] || fail "wine is not installed (scripts/install-deps.sh)"
[ -n "$wineserver" ] || fail "wineserver is not installed (it comes with wine)"
for tool in x86_64-w64-mingw32-gcc Xvfb xdotool import curl wixl msiinfo python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/install-deps.sh"
done

echo "== test-windows-gui: build inkan.exe (cgo, mingw-w64; cold: 15-25 min), inkanctl.exe, the MSI, inkan-server"
build_started=$SECONDS
scripts/version-resource.sh cmd/inkan
scripts/version-resource.sh cmd/inkanctl
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
  go build -trimpath -ldflags "-H=windowsgui -s -w" -o "$work/inkan.exe" ./cmd/inkan
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/inkanctl.exe" ./cmd/inkanctl
rm -f cmd/inkan/rsrc_windows_amd64.syso cmd/inkanctl/rsrc_windows_amd64.syso
scripts/build-msi.sh "$work/inkan.exe" "$work/inkanctl.exe" "$work/inkan.msi" >/dev/null
go build -o "$work/inkan-server" ./cmd/inkan-server
x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" \
  scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def -lbcrypt
echo "   built in $((SECONDS - build_started)) s"

deadline=$((SECONDS + WINE_GUI_TIMEOUT))
# shellcheck source=scripts/lib/gui.sh
. scripts/lib/gui.sh
: "${WAIT_FOR:=60}" # Wine is slow to start
gui_name=inkan.exe

echo "== test-windows-gui: a bank whose policy asks for RSA-2048 keys (Wine's CNG makes no ECDSA keys)"
server="$work/inkan-server"
data="$work/data"
export INKAN_CA_PASSPHRASE="test-windows-gui demo passphrase"
"$server" init --demo --data "$data" --bank-code 1376 --bank-name "いんかん信用金庫" > "$work/init.log"
python3 - "$data/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["policy"]["key_type"] = "rsa-2048"
json.dump(c, open(p, "w"), ensure_ascii=False, indent=2)
PY
"$server" demo --data "$data" --json > "$work/demo.json" 2>> "$work/init.log"
contract=$(sed -n 's/.*"contract_id": *"\([^"]*\)".*/\1/p' "$work/demo.json")
pw() { grep -A2 "\"login_id\": *\"$1\"" "$work/demo.json" | sed -n 's/.*"password": *"\([^"]*\)".*/\1/p'; }
password=$(pw demo-general1)
password2=$(pw demo-general2)
[ -n "$contract" ] && [ -n "$password" ] && [ -n "$password2" ] || fail "inkan-server demo printed no contract or passwords"
"$server" serve --data "$data" --addr "127.0.0.1:0" --http-addr "127.0.0.1:0" > "$work/server.log" 2>&1 &
pids+=($!)
server_url() { grep -o 'addr=https://127.0.0.1:[0-9]*' "$work/server.log" | head -n1 | cut -d= -f2; }
listening() { [ -n "$(server_url)" ]; }
wait_for "the server to listen" listening
url=$(server_url)
"$server" agent-config --data "$data" --url "$url" --out "$work/bank.json" > "$work/agent-config.log" 2>&1
wait_for "the server on $url" curl -sf --cacert "$data/root-ca.crt" "$url/.well-known/est/cacerts"

echo "== test-windows-gui: Xvfb"
start_xvfb

echo "== test-windows-gui: a throw-away WINEPREFIX with $("$wine" --version 2>/dev/null)"
export WINEPREFIX="$work/prefix" WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree=;mshtml=" LANG=ja_JP.UTF-8
timeout 300 "$wine" wineboot --init > "$work/wineboot.log" 2>&1 || fail "wineboot --init failed"
timeout 300 "$wineserver" -w || fail "wineserver did not settle after wineboot"
cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
win() { timeout 120 "$wine" "$@" 2>/dev/null | tr -d '\r'; }
# run_msiexec waits for every process of the prefix to end too: Wine's
# msiexec may return before its log is complete.
run_msiexec() { win msiexec "$@" || true; timeout 120 "$wineserver" -w || true; }
winpath() { "$wine" winepath -w "$1" 2>/dev/null | tr -d '\r'; }
msi=$(winpath "$work/inkan.msi")
localapp="$WINEPREFIX/drive_c/users/$(id -un)/AppData/Local"
[ -d "$localapp" ] || localapp=$(find "$WINEPREFIX/drive_c/users" -maxdepth 3 -type d -path '*/AppData/Local' | grep -v Public | head -n1)
programs="$localapp/Programs/Inkan"
# my_certs: the thumbprints in CurrentUser\MY (Wine keeps the store in HKCU).
my_certs() { win reg query 'HKCU\Software\Microsoft\SystemCertificates\MY\Certificates' | grep -c '\\Certificates\\' || true; }

echo "== test-windows-gui: msiexec /i inkan.msi /qn (per user)"
run_msiexec /i "$msi" /qn /l*v "$(winpath "$work")\\install.log"
[ -f "$programs/inkan.exe" ] && [ -f "$programs/inkanctl.exe" ] || fail "the MSI did not install into $programs"
[ -z "$(find "$WINEPREFIX/drive_c/Program Files" "$WINEPREFIX/drive_c/Program Files (x86)" -iname 'inkan*' 2>/dev/null)" ] ||
  fail "the MSI put files under Program Files"
win reg query 'HKCU\Software\Inkan' | grep_q 'InstallDir' || fail "no HKCU\\Software\\Inkan\\InstallDir"
win reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' | grep_q 'Inkan' || fail "no Run value for start at sign-in"
if win reg query 'HKLM\Software\Inkan' | grep_q Inkan; then fail "the MSI wrote HKLM\\Software\\Inkan"; fi
tr -d '\0\r' < "$work/install.log" | grep_q 'ALLUSERS = ' && fail "ALLUSERS was set during the install"
tr -d '\0\r' < "$work/install.log" | grep_q 'MSIINSTALLPERUSER = 1' || fail "MSIINSTALLPERUSER was not 1 during the install"
echo "   installed into ${programs#"$WINEPREFIX/"}, HKCU only"
[ "$(my_certs)" -eq 0 ] || fail "CurrentUser\\MY is not empty before the pickup"

echo "== test-windows-gui: start the installed inkan.exe (Windows store)"
# Every wait between keys is stretched by WINE_GUI_PACE (default 2): on a
# loaded machine a screen may not yet hold the keyboard when the next key comes,
# and a key typed too early is lost.
pause() { sleep "$(awk -v s="$1" -v p="${WINE_GUI_PACE:-2}" 'BEGIN { print s * p }')"; }
# In a Wine virtual desktop ("inkan", lower case): no window manager runs on
# this display, and in its own desktop Wine gives the keyboard to the window
# that was clicked, as Windows does. Keys then go through XTEST.
desktop() { "$wine" explorer /desktop=inkan,1100x800 "$@"; }
desktop "$programs/inkan.exe" --config "$(winpath "$work/bank.json")" --store windows --lang ja > "$work/inkan.log" 2>&1 &
gui_pid=$!
pids+=("$gui_pid")
WAIT_FOR=120 wait_for "the Inkan window" xdotool search --onlyvisible --name "^Inkan"
win_id=$(xdotool search --onlyvisible --name "^Inkan" | head -n1)
# focus clicks the window's title bar, clear of any button.
focus() {
  local x y w
  eval "$(xdotool getwindowgeometry --shell "$win_id")"
  xdotool mousemove $((X + WIDTH / 2)) $((Y + 8)) click 1
  sleep 0.5
}
pause 2 # the start screen loads the certificates in the background
focus
key() { xdotool key --clearmodifiers "$@"; pause 0.8; }
typetext() { xdotool type --delay 80 "$1"; pause 0.5; }
# shot crops the window out of the screen (the desktop's X window holds it).
shot() {
  eval "$(xdotool getwindowgeometry --shell "$win_id")"
  import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$out/$1.png"
}
shot 1-start

echo "== test-windows-gui: pick up demo-general1's certificate by keyboard"
key Return
typetext demo-general1
key Return
pause 0.5
typetext "$password"
key Return # 取得: 取得前処理中, then 取得開始
pause 1.5
key Return # 取得開始: the key is made by CNG, the bank issues
has_certificate() { [ "$(my_certs)" -ge 1 ]; }
WAIT_FOR=90 wait_for "a certificate in CurrentUser\\MY" has_certificate
pause 1.5
shot 2-pickup-done

echo "== test-windows-gui: log in with it by keyboard"
key Return # インストール完了 → ログイン画面へ
pause 1.5
key Return # 電子証明書ログイン: one certificate, its password
pause 2
typetext "$password"
key Return
logged_in() {
  "$server" user list --data "$data" --contract "$contract" --json | tr -d '\n' |
    grep -o '"login_id": *"demo-general1"[^{]*' | grep_q '"last_login_at"'
}
WAIT_FOR=90 wait_for "the server to record demo-general1's login (last_login_at)" logged_in
pause 1.5
shot 3-logged-in
echo "== test-windows-gui: 設定 → 動作環境チェック in the window (its reopen step starts inkan.exe again)"
# By mouse, at the buttons' places in the window's first size (808x487 under
# Wine): ログアウト, then 設定 on the start screen, then, scrolled to the
# end of 設定, 動作環境チェック.
click() { xdotool mousemove "$1" "$2" click 1; pause 1.5; }
click 752 450
click 772 462
xdotool mousemove 400 350
for _ in $(seq 15); do xdotool click 5; pause 0.1; done
pause 1
click 636 456
pause 8 # the bank's checks, then the store's, one of them in a second inkan.exe
shot 5-doctor
gui_pid=""
"$wineserver" -k 2>/dev/null || true # inkan.exe and its desktop
"$wineserver" -w 2>/dev/null || true
echo "   pickup and certificate login through the real window; MY holds $(my_certs) certificate(s)"

echo "== test-windows-gui: msiexec /x /qn: the programs go, the certificate stays"
run_msiexec /x "$msi" /qn /l*v "$(winpath "$work")\\uninstall.log"
[ ! -e "$programs/inkan.exe" ] || fail "inkan.exe is still there after the uninstall"
if win reg query 'HKCU\Software\Microsoft\Windows\CurrentVersion\Run' | grep_q 'Inkan'; then fail "the Run value outlived the uninstall"; fi
[ "$(my_certs)" -eq 1 ] || fail "a quiet uninstall without DELETECERTIFICATES removed the certificate"

echo "== test-windows-gui: install again, msiexec /x DELETECERTIFICATES=1 /qn: the certificate goes too"
run_msiexec /i "$msi" /qn
[ -f "$programs/inkanctl.exe" ] || fail "the second install failed"
run_msiexec /x "$msi" DELETECERTIFICATES=1 /qn /l*v "$(winpath "$work")\\uninstall-delete.log"
[ ! -e "$programs/inkanctl.exe" ] || fail "inkanctl.exe is still there after the uninstall"
tr -d '\0\r' < "$work/uninstall-delete.log" | grep_q 'DeleteCertificates' || fail "the uninstall did not run DeleteCertificates"
[ "$(my_certs)" -eq 0 ] || fail "DELETECERTIFICATES=1 left $(my_certs) certificate(s) in MY"
echo "   quiet uninstall kept it; DELETECERTIFICATES=1 deleted it (under Wine its key had died with inkan.exe)"

echo "== test-windows-gui: the uninstall's question (inkanctl uninstall --ask)"
# Wine keeps no CNG key beyond its process, so a later process lists no
# identity of the Windows store: the question is shown for a dir: store.
dirstore="dir:$(winpath "$work/dirstore")"
ctl="$work/inkanctl.exe"
printf '%s\n' "$password2" | "$wine" "$ctl" --config "$(winpath "$work/bank.json")" --store "$dirstore" --state-dir "$(winpath "$work/state")" \
  --lang ja pickup --login-id demo-general2 --password-stdin > "$work/pickup2.log" 2>&1 || fail "inkanctl.exe pickup into $dirstore failed"
# Not in the virtual desktop: started from explorer.exe, a console program
# shows cobra's "This is a command line tool" instead (the installer is its
# parent on Windows). A click on the dialog's text gives it the keyboard.
"$wine" "$ctl" --config "$(winpath "$work/bank.json")" --store "$dirstore" --lang ja uninstall --ask > "$work/ask.log" 2>&1 &
ask_pid=$!
pids+=("$ask_pid")
# (Its caption, 「Inkan のアンインストール」, is matched by its ASCII start: the
# locale of xdotool's regular expressions may not be UTF-8.)
wait_for "the question's dialog" xdotool search --onlyvisible --name "^Inkan"
win_id=$(xdotool search --onlyvisible --name "^Inkan" | head -n1)
sleep 1
shot 4-uninstall-question
eval "$(xdotool getwindowgeometry --shell "$win_id")"
xdotool mousemove $((X + WIDTH / 2)) $((Y + 12)) click 1
sleep 0.5
key Return # the default button: いいえ (No)
answered() { ! xdotool search --onlyvisible --name "^Inkan"; }
wait_for "the dialog to close after Return" answered
wait_for "inkanctl uninstall --ask to say what it did" grep -q "削除せずに残します" "$work/ask.log"
tr -d '\r' < "$work/ask.log" | grep_q "削除せずに残します" || fail "Return (the default) did not keep the certificate: $(tr -d '\r' < "$work/ask.log")"
[ -n "$(find "$work/dirstore" -type f | head -n1)" ] || fail "the dir store is empty after answering No"

((SECONDS <= deadline)) || fail "took longer than ${WINE_GUI_TIMEOUT}s after the build"
echo "ok  	inkan.exe under Wine + Xvfb: MSI per-user install, pickup and certificate login in the window, uninstall keeps or deletes the certificates as asked (screenshots: $out)"
