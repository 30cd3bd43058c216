#!/usr/bin/env bash
# Installs, through apt-get, the Debian packages that building and testing Inkan need,
# when any is missing. Go modules come through `go` itself (go.mod pins them).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

packages=(
  # cgo and Fyne (the GUI agent)
  gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
  libxinerama-dev libxi-dev libxxf86vm-dev
  # GUI smoke test: a real X server and a screenshot of it
  xvfb xauth x11-apps imagemagick xdotool
  # the tray seen by a real StatusNotifier host (and its watcher) in the two-bank smoke test
  haskell-gtk-sni-tray-utils
  # scripts/make-font.py derives the window's font from IPAex Gothic
  python3-fonttools
  # keyring store tests: a real Secret Service on a private D-Bus
  dbus gnome-keyring
  # Windows store: cross-compiled with mingw-w64, its tests run under Wine
  gcc-mingw-w64-x86-64 wine wine64
  # EST interoperability tests use curl and openssl as an ordinary EST client
  openssl curl ca-certificates
  # the operator's tools against the live database (sqlite3), PostgreSQL for the second store
  sqlite3 postgresql
  # browser login: Chromium over the DevTools protocol, NSS's certutil/pk12util, a CJK font
  chromium libnss3-tools fonts-ipafont-gothic
  # CA keys in an HSM: SoftHSM2 as the PKCS#11 token
  softhsm2
  # Windows shipping: MSI built with wixl, Authenticode with osslsigncode
  msitools wixl osslsigncode
  # scripts/test-demo-states.sh reads the CLIs' JSON with jq (python3 picks free ports)
  jq python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep_q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
