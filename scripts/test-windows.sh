#!/usr/bin/env bash
# Runs the Windows certificate store's tests (certstore/*_windows_test.go) under Wine.
#
# The certstore test binary is cross-compiled for windows/amd64 and run in a
# throw-away WINEPREFIX, so the tests add, find and delete real certificates in
# Wine's CurrentUser\MY and make real CNG keys without touching the caller's
# own ~/.wine. What Wine cannot do (ECDSA keys, keys that outlive their process,
# the TPM) is skipped with the reason; docs/certstore-windows.md lists it.
#
# Needs: go, x86_64-w64-mingw32-gcc (gcc-mingw-w64-x86-64), wine and wine64.
# Extra arguments go to the test binary, e.g. -test.run TestWindowsSign.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every Wine step is bounded, so a wedged wineserver cannot hang `make test`.
: "${WINE_BOOT_TIMEOUT:=300}"
: "${WINE_TEST_TIMEOUT:=600}"

die() { echo "test-windows: $*" >&2; exit 1; }

wine=""
for candidate in wine64 /usr/lib/wine/wine64 wine; do
  if command -v "$candidate" >/dev/null 2>&1; then
    wine=$(command -v "$candidate")
    break
  fi
done
[ -n "$wine" ] || die "wine is not installed (scripts/install-deps.sh installs wine and wine64)"
wineserver=""
for candidate in wineserver /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver; do
  if command -v "$candidate" >/dev/null 2>&1; then
    wineserver=$(command -v "$candidate")
    break
  fi
done
[ -n "$wineserver" ] || die "wineserver is not installed (it comes with wine)"
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 ||
  die "x86_64-w64-mingw32-gcc is missing (scripts/install-deps.sh installs gcc-mingw-w64-x86-64)"

work=$(mktemp -d "${TMPDIR:-/tmp}/inkan-wine.XXXXXX")
export WINEPREFIX="$work/prefix"
export WINEARCH=win64
export WINEDEBUG=-all
# No display: Wine must not try to open windows, and must not find the caller's X server.
export DISPLAY=
unset WAYLAND_DISPLAY
# Mono and Gecko are not needed and would be offered for download at first boot.
export WINEDLLOVERRIDES="mscoree=;mshtml="

cleanup() {
  "$wineserver" -k >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "test-windows: cross-compiling the certstore and e2e tests for windows/amd64"
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$work/certstore.test.exe" ./certstore
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$work/e2e.test.exe" ./e2e
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -o "$work/inkan-server.exe" ./cmd/inkan-server

echo "test-windows: building the bcryptprimitives.dll stand-in (scripts/wine/)"
x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" \
  scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def -lbcrypt

echo "test-windows: creating a throw-away WINEPREFIX with $("$wine" --version 2>/dev/null)"
if ! timeout "$WINE_BOOT_TIMEOUT" "$wine" wineboot --init >"$work/wineboot.log" 2>&1; then
  cat "$work/wineboot.log" >&2
  die "wineboot --init failed or took longer than ${WINE_BOOT_TIMEOUT}s"
fi
timeout "$WINE_BOOT_TIMEOUT" "$wineserver" -w || die "wineserver did not settle after wineboot"
system32="$WINEPREFIX/drive_c/windows/system32"
[ -d "$system32" ] || die "wineboot made no $system32"
cp "$work/bcryptprimitives.dll" "$system32/"

# run_under_wine NAME BINARY ARGS...: one test binary under Wine, bounded in time.
run_under_wine() {
  local name=$1 binary=$2
  shift 2
  echo "test-windows: running the $name tests under Wine"
  set +e
  (cd "$work" && timeout "$WINE_TEST_TIMEOUT" "$wine" "$binary" -test.v -test.count=1 -test.run '^TestWindows' "$@") \
    2>&1 | tr -d '\r'
  local status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -eq 124 ]; then
    echo "FAIL	github.com/inkan-dev/inkan/$name (windows/amd64 under Wine): timed out after ${WINE_TEST_TIMEOUT}s"
  elif [ "$status" -ne 0 ]; then
    echo "FAIL	github.com/inkan-dev/inkan/$name (windows/amd64 under Wine)"
  else
    echo "ok  	github.com/inkan-dev/inkan/$name (windows/amd64 under Wine)"
  fi
  return "$status"
}

status=0
run_under_wine certstore ./certstore.test.exe "$@" || status=$?
# The agent against the real server, in one process, on the Windows store.
run_under_wine e2e ./e2e.test.exe "$@" || status=$?

# The server is for Linux: on Windows it must refuse, saying why, with status 3.
set +e
out=$(cd "$work" && timeout "$WINE_TEST_TIMEOUT" "$wine" ./inkan-server.exe init --dir 'C:\\inkan' 2>&1 | tr -d '\r')
srv=${PIPESTATUS[0]}
set -e
if [ "$srv" -eq 3 ] && grep -q "the server is for Linux" <<<"$out" && [ ! -e "$WINEPREFIX/drive_c/inkan" ]; then
  echo "ok  	inkan-server.exe refuses to run on Windows (exit 3)"
else
  echo "$out"
  echo "FAIL	inkan-server.exe under Wine: exit $srv, want 3 and the Linux-only message, and no data directory"
  status=1
fi
exit "$status"
