#!/usr/bin/env bash
# Builds the per-user installer dist/inkan.msi from packaging/windows/inkan.wxs
# with wixl (msitools): `make windows` calls it after scripts/build-windows.sh.
#
#   scripts/build-msi.sh [GUI.exe [CTL.exe [OUT.msi]]]
#
# defaults: dist/inkan.exe, dist/inkanctl.exe, dist/inkan.msi. The version is
# FyneApp.toml's; the manufacturer (CompanyName) is INKAN_COMPANY_NAME or "Inkan".
set -euo pipefail
cd "$(dirname "$0")/.."

gui=${1:-dist/inkan.exe}
ctl=${2:-dist/inkanctl.exe}
out=${3:-dist/inkan.msi}
company=${INKAN_COMPANY_NAME:-Inkan}

command -v wixl >/dev/null || { echo "build-msi: wixl is missing: run scripts/install-deps.sh (wixl)" >&2; exit 1; }
for f in "$gui" "$ctl"; do
  [ -f "$f" ] || { echo "build-msi: $f does not exist: run make windows first" >&2; exit 1; }
done
version=$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
build=$(sed -n 's/^ *Build *= *\([0-9]*\)/\1/p' FyneApp.toml)
[ -n "$version" ] && [ -n "$build" ] || { echo "build-msi: no Version or Build in FyneApp.toml" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
# wixl takes sources relative to the .wxs, never absolute: stage both there.
stage=$(mktemp -d "${TMPDIR:-/tmp}/inkan-msi.XXXXXX")
trap 'rm -rf "$stage"' EXIT
cp packaging/windows/inkan.wxs "$stage/"
cp "$gui" "$stage/inkan.exe"
cp "$ctl" "$stage/inkanctl.exe"
# The Run value's component GUID is fixed too: a new one would leave the old
# value behind on upgrade.
(cd "$stage" && wixl --arch x64 -D Version="$version.$build" -D Manufacturer="$company" \
  -D GuiExe=inkan.exe -D CtlExe=inkanctl.exe -D RunGuid=5A0E7C1D-2B64-4F4B-9E0F-7D3C2A1B9E55 \
  -o "$out" inkan.wxs)
# wixl has no Property/@Secure: DELETECERTIFICATES (the uninstall's choice to
# delete the certificates, see inkan.wxs) joins the properties that are passed
# on to the installer service.
command -v msibuild >/dev/null || { echo "build-msi: msibuild is missing: run scripts/install-deps.sh (msitools)" >&2; exit 1; }
secure=$(msiinfo export "$out" Property | tr -d '\r' | sed -n 's/^SecureCustomProperties\t//p')
[ -n "$secure" ] || { echo "build-msi: wixl wrote no SecureCustomProperties (it does for MajorUpgrade): cannot make DELETECERTIFICATES secure" >&2; exit 1; }
msibuild "$out" -q "UPDATE \`Property\` SET \`Value\` = '$secure;DELETECERTIFICATES' WHERE \`Property\` = 'SecureCustomProperties'"
echo "build-msi: $out ($version.$build, $company)"
