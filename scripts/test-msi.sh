#!/usr/bin/env bash
# make test's check of Windows shipping: builds the per-user MSI with wixl,
# signs the .exe and the MSI with a throw-away code-signing certificate made
# here, and verifies both signatures and the MSI's tables, so that neither
# step can rot unnoticed.
#
# inkan.exe (the GUI) takes about 15 minutes to cross-compile cold (cgo, GLFW),
# too long for make test: when dist/inkan.exe from `make windows` is not there,
# the test MSI carries inkanctl.exe in inkan.exe's place, and says so. The
# packaging, signing and verification are the same either way.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
cd "$(dirname "$0")/.."

die() { echo "test-msi: FAIL: $*" >&2; exit 1; }
for tool in wixl msiinfo msibuild osslsigncode openssl x86_64-w64-mingw32-gcc; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/inkan-msi-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "test-msi: inkanctl.exe for windows/amd64, with its version information"
trap 'rm -rf "$work" cmd/inkanctl/rsrc_windows_amd64.syso' EXIT
scripts/version-resource.sh cmd/inkanctl
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/inkanctl.exe" ./cmd/inkanctl
rm -f cmd/inkanctl/rsrc_windows_amd64.syso
# The VERSIONINFO strings are UTF-16LE: the key CompanyName, then its value.
python3 - "$work/inkanctl.exe" <<'PY' || die "inkanctl.exe carries no CompanyName Inkan in its version information"
import re, sys
d = open(sys.argv[1], "rb").read()
key, value = "CompanyName\0".encode("utf-16-le"), "Inkan\0".encode("utf-16-le")
# The value follows its key after padding to a 32-bit boundary.
sys.exit(0 if re.search(re.escape(key) + b"(\0\0)?" + re.escape(value), d) else 1)
PY
echo "test-msi: inkanctl.exe: version information with CompanyName Inkan"
gui=dist/inkan.exe
if [ ! -f "$gui" ]; then
  echo "test-msi: dist/inkan.exe not built (make windows builds it): inkanctl.exe stands in for it in this test MSI"
  gui=$work/inkanctl.exe
fi
cp "$gui" "$work/inkan.exe"

echo "test-msi: a throw-away code-signing certificate"
printf 'test-%s\n' "$RANDOM$RANDOM" >"$work/password"
openssl req -x509 -newkey rsa:2048 -sha256 -days 2 -nodes -subj "/CN=Inkan test code signing/O=Inkan" \
  -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" \
  -keyout "$work/sign.key" -out "$work/sign.pem" 2>/dev/null
openssl pkcs12 -export -inkey "$work/sign.key" -in "$work/sign.pem" -passout "file:$work/password" -out "$work/sign.pfx"

export INKAN_SIGN_PFX=$work/sign.pfx INKAN_SIGN_PASSWORD_FILE=$work/password
unset INKAN_SIGN_PKCS11_MODULE INKAN_SIGN_TIMESTAMP_URL
scripts/sign-windows.sh "$work/inkan.exe" "$work/inkanctl.exe"
scripts/build-msi.sh "$work/inkan.exe" "$work/inkanctl.exe" "$work/inkan.msi"
scripts/sign-windows.sh "$work/inkan.msi"

for f in inkan.exe inkanctl.exe inkan.msi; do
  out=$(osslsigncode verify -CAfile "$work/sign.pem" -in "$work/$f" 2>&1) || { echo "$out"; die "osslsigncode verify rejects $f"; }
  grep -q "Signature verification: ok" <<<"$out" || { echo "$out"; die "$f: no valid signature"; }
  grep -q "Inkan test code signing" <<<"$out" || die "$f: signed by someone else"
  echo "test-msi: $f: signature verified"
done
# A file changed after signing must fail.
cp "$work/inkan.msi" "$work/tampered.msi"
printf 'x' | dd of="$work/tampered.msi" bs=1 seek=$(( $(stat -c %s "$work/tampered.msi") / 2 )) conv=notrunc 2>/dev/null
if osslsigncode verify -CAfile "$work/sign.pem" -in "$work/tampered.msi" >/dev/null 2>&1; then
  die "a tampered MSI still verifies"
fi
echo "test-msi: a tampered MSI fails verification"

msi=$work/inkan.msi
table() { msiinfo export "$msi" "$1" | tr -d '\r'; }
has() { grep -qP -- "$2" <<<"$(table "$1")" || die "table $1 lacks /$2/"; }
msiinfo suminfo "$msi" | grep_q "Author: Inkan" || die "summary information names no manufacturer"
# Word count (msiinfo calls it Source) 10 = 2 (compressed) + 8: "elevated
# privileges are not required to install this package" (no UAC prompt).
msiinfo suminfo "$msi" | grep_q "^Source: 10 " || die "the summary information's word count is not 10 (compressed, no elevation)"
has Property '^MSIINSTALLPERUSER\t1$'
! grep -qP '^ALLUSERS\t' <<<"$(table Property)" || die "ALLUSERS is set: the package would install for all users"
has Property '^Manufacturer\tInkan$'
has Directory '^INSTALLDIR\tProgramsDir\tInkan$'
has Directory '^ProgramsDir\tLocalAppDataFolder\tPrograms$'
has File '\tinkan.exe\t'
has File '\tinkanctl.exe\t'
has Shortcut '^InkanShortcut\tProgramMenuFolder\tInkan\t'
has Registry '\t1\tSoftware\\Microsoft\\Windows\\CurrentVersion\\Run\tInkan\t"\[INSTALLDIR\]inkan.exe"\tStartAtSignIn$'
has Feature '^AutoStart\t'
# Uninstalling leaves the user's certificates unless asked: the only custom
# actions run the installed inkanctl.exe (type 18, +64: its exit status is not
# the uninstall's), on a full uninstall only, never on an upgrade: asking the
# user when there is a UI, deleting only with DELETECERTIFICATES=1, which is a
# secure property so that it reaches the installer service.
[ "$(table CustomAction | wc -l)" -eq 5 ] || die "the package has other custom actions than the two of the uninstall"
has CustomAction '^AskAboutCertificates\t82\tInkanCtlExe\tuninstall --ask\t'
has CustomAction '^DeleteCertificates\t82\tInkanCtlExe\tuninstall --delete-certificates\t'
has InstallExecuteSequence '^DeleteCertificates\tREMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE AND DELETECERTIFICATES="1"\t1410$'
has InstallExecuteSequence '^AskAboutCertificates\tREMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE AND NOT DELETECERTIFICATES="1" AND UILevel > 2\t1420$'
# Both between InstallValidate and InstallInitialize: paths known, inkanctl.exe not yet removed.
has InstallExecuteSequence '^InstallValidate\t\t1400$'
has InstallExecuteSequence '^InstallInitialize\t\t1500$'
has InstallExecuteSequence '^RemoveExistingProducts\t\t1401$'
has Property '^SecureCustomProperties\t.*DELETECERTIFICATES'

# The signed MSI installed and removed by Wine's msiexec, quietly, in a
# throw-away WINEPREFIX (about 20 s). Wine runs every user as an administrator
# (AdminUser=1), so this shows where a per-user install puts things, not that
# a standard user needs no elevation (the tables above are the evidence of
# that). make test-windows-gui does the same with the GUI and a certificate.
wine=""
for candidate in wine64 /usr/lib/wine/wine64 wine; do
  if command -v "$candidate" >/dev/null 2>&1; then wine=$(command -v "$candidate"); break; fi
done
wineserver=""
for candidate in wineserver /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver; do
  if command -v "$candidate" >/dev/null 2>&1; then wineserver=$(command -v "$candidate"); break; fi
done
[ -n "$wine" ] && [ -n "$wineserver" ] || die "wine is missing: run scripts/install-deps.sh"
export WINEPREFIX="$work/prefix" WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree=;mshtml=" DISPLAY=
trap '"$wineserver" -k >/dev/null 2>&1 || true; rm -rf "$work" cmd/inkanctl/rsrc_windows_amd64.syso' EXIT
timeout 300 "$wine" wineboot --init >"$work/wineboot.log" 2>&1 || die "wineboot --init failed"
timeout 300 "$wineserver" -w || die "wineserver did not settle after wineboot"
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def -lbcrypt
# Each run waits for every process of the prefix to end: Wine's msiexec may
# return before its log is complete.
msiexec() { timeout 120 "$wine" msiexec "$@" >/dev/null 2>&1 || true; timeout 120 "$wineserver" -w || true; }
log() { tr -d '\0\r' <"$work/$1"; }
winmsi=$("$wine" winepath -w "$msi" 2>/dev/null | tr -d '\r')
winwork=$("$wine" winepath -w "$work" 2>/dev/null | tr -d '\r')
programs=$(find "$WINEPREFIX/drive_c/users" -maxdepth 3 -type d -path '*/AppData/Local' | grep -v Public | head -n1)/Programs/Inkan
msiexec /i "$winmsi" /qn /l*v "$winwork\\install.log"
[ -f "$programs/inkan.exe" ] && [ -f "$programs/inkanctl.exe" ] || die "Wine's msiexec did not install into %LOCALAPPDATA%\\Programs\\Inkan"
[ -z "$(find "$WINEPREFIX/drive_c/Program Files" "$WINEPREFIX/drive_c/Program Files (x86)" -iname 'inkan*' 2>/dev/null)" ] || die "files under Program Files"
log install.log | grep_q 'MSIINSTALLPERUSER = 1' || die "MSIINSTALLPERUSER was not 1 during the install"
! log install.log | grep_q 'ALLUSERS = ' || die "ALLUSERS was set during the install"
msiexec /x "$winmsi" /qn /l*v "$winwork\\uninstall.log"
[ ! -e "$programs/inkanctl.exe" ] || die "inkanctl.exe is still there after the uninstall"
! log uninstall.log | grep_q 'Action start [0-9:]*: DeleteCertificates' || die "a quiet uninstall ran DeleteCertificates"
msiexec /i "$winmsi" /qn /l*v "$winwork\\install2.log"
[ -f "$programs/inkanctl.exe" ] || { log install2.log | tail -20; die "the second install failed"; }
msiexec /x "$winmsi" DELETECERTIFICATES=1 /qn /l*v "$winwork\\uninstall-delete.log"
[ ! -e "$programs/inkanctl.exe" ] || die "inkanctl.exe is still there after the second uninstall"
log uninstall-delete.log | grep_q 'Action ended [0-9:]*: DeleteCertificates' || { log uninstall-delete.log | grep -i 'certific\|error' | tail -20; die "DELETECERTIFICATES=1 did not run DeleteCertificates"; }
echo "test-msi: Wine's msiexec: installed into %LOCALAPPDATA%\\Programs\\Inkan (MSIINSTALLPERUSER 1, no ALLUSERS), removed; DeleteCertificates ran only with DELETECERTIFICATES=1"
echo "ok  	Windows installer: per-user MSI (wixl), uninstall keeps the certificates unless asked, Authenticode on the exe files and the MSI (osslsigncode verify)"
