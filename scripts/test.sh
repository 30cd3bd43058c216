#!/usr/bin/env bash
# Every test of `make test`, in order. Each step uses real parts: a real Secret Service
# (gnome-keyring on a private D-Bus), Wine for the Windows store, Xvfb for the GUI.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go test (all packages, with a real Secret Service and a private PostgreSQL 15 cluster) =="
# with-postgres.sh sets INKAN_TEST_POSTGRES: the store conformance suite runs
# on SQLite and PostgreSQL; then the life-cycle and server rule tests run
# again with PostgreSQL as their database.
scripts/with-postgres.sh bash -c '
	set -euo pipefail
	scripts/with-secret-service.sh go test -count=1 ./...
	echo "== the life-cycle and server rule tests again, on PostgreSQL =="
	INKAN_TEST_DB=postgres go test -count=1 ./server/ ./server/lifecycle/
'

echo "== fuzz targets, 10 s each (make fuzz runs them longer) =="
FUZZTIME=10s scripts/fuzz.sh

echo "== cross-builds: certstore and the agent for Windows and macOS =="
GOOS=windows GOARCH=amd64 go build ./certstore/... ./agent/... ./cmd/inkanctl/ ./cmd/inkan-server/
GOOS=darwin GOARCH=arm64 go build ./certstore/... ./agent/... ./cmd/inkanctl/ ./cmd/inkan-server/

echo "== Windows certificate store under Wine =="
scripts/test-windows.sh

echo "== Windows installer: per-user MSI, signed and verified =="
scripts/test-msi.sh

echo "== Chromium logs in to the bank's 電子証明書ログイン page with Inkan's certificate =="
scripts/test-browser.sh

echo "== the all-states demo: every certificate picked up by the real agent on its own day =="
scripts/test-demo-states.sh

echo "== GUI smoke test under Xvfb =="
scripts/smoke-gui.sh
echo "== descenders not clipped in the real window's entries at 200 % under Xvfb =="
scripts/check-descenders.sh
echo "== Escape closes Fyne's file dialog from every place in it, in the real window under Xvfb =="
scripts/check-file-dialog-escape.sh
echo "== GUI smoke test with two banks and a tray host under Xvfb =="
scripts/smoke-gui-banks.sh
