#!/usr/bin/env bash
# Cross-compiles the Windows programs into dist/ (`make windows` calls it):
#   inkan.exe         the GUI, with cgo through mingw-w64 (Fyne draws with OpenGL),
#                     linked as a GUI program (no console window), with the seal
#                     icon, version information and a DPI-aware manifest
#   inkanctl.exe      the agent's command line
#   inkan-server.exe  the bank's server, which refuses to run on Windows
#   inkan.msi         the per-user installer of inkan.exe and inkanctl.exe
# Each .exe and the MSI are signed when a signing certificate is configured
# (scripts/sign-windows.sh says how).
# A cold build of inkan.exe takes about 14 minutes (go-gl and GLFW in C); later
# builds reuse Go's build cache.
set -euo pipefail
cd "$(dirname "$0")/.."

cc=x86_64-w64-mingw32-gcc

command -v "$cc" >/dev/null || { echo "build-windows: $cc is missing: run scripts/install-deps.sh (mingw-w64)" >&2; exit 1; }

# Icon, manifest and version information (CompanyName ...) for both programs;
# go build links every .syso of the package, so these exist only for this build.
trap 'rm -f cmd/inkan/rsrc_windows_amd64.syso cmd/inkanctl/rsrc_windows_amd64.syso' EXIT
scripts/version-resource.sh cmd/inkan
scripts/version-resource.sh cmd/inkanctl

mkdir -p dist
echo "build-windows: dist/inkan.exe (cgo, mingw-w64)"
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC="$cc" \
  go build -trimpath -ldflags "-H=windowsgui -s -w" -o dist/inkan.exe ./cmd/inkan
echo "build-windows: dist/inkanctl.exe, dist/inkan-server.exe"
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o dist/inkanctl.exe ./cmd/inkanctl
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o dist/inkan-server.exe ./cmd/inkan-server
# The server is for Linux (inkan-server.exe refuses to run, see cmd/inkan-server);
# the installer carries the GUI and inkanctl only.
scripts/sign-windows.sh dist/inkan.exe dist/inkanctl.exe
scripts/build-msi.sh dist/inkan.exe dist/inkanctl.exe dist/inkan.msi
scripts/sign-windows.sh dist/inkan.msi
ls -l dist/*.exe dist/inkan.msi
