#!/usr/bin/env bash
# Writes PKGDIR/rsrc_windows_amd64.syso from packaging/windows/winres.json: the
# icon, the manifest and the version information (CompanyName, ProductName,
# FileDescription, the version of FyneApp.toml) that Windows shows in a file's
# properties and that SmartScreen and the MSI read. go build links every .syso
# of the package, so the caller removes it after building.
#
#   scripts/version-resource.sh PKGDIR
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=${1:?usage: scripts/version-resource.sh PKGDIR}
# Pinned: the resource compiler.
winres=github.com/tc-hib/go-winres@v0.3.3
version=$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
build=$(sed -n 's/^ *Build *= *\([0-9]*\)/\1/p' FyneApp.toml)
[ -n "$version" ] && [ -n "$build" ] || { echo "version-resource: no Version or Build in FyneApp.toml" >&2; exit 1; }
go run "$winres" make --in packaging/windows/winres.json --arch amd64 --out "$pkg/rsrc" \
  --product-version "$version.$build" --file-version "$version.$build"
