#!/usr/bin/env bash
# test-browser.sh: the Chromium test of the bank's browser login (issue 9).
# Debian's chromium, headless, logs in to the real server with the certificate
# inkanctl picked up into the keyring (a real Secret Service) and copied into
# a real NSS database; it writes docs/screenshots/browser-login.png. Needs root
# for Chromium's managed policy (/etc/chromium/policies/managed), chromium and
# libnss3-tools (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in chromium certutil pk12util; do
	if ! command -v "$tool" >/dev/null; then
		echo "$0: $tool is missing: run scripts/install-deps.sh" >&2
		exit 1
	fi
done
exec scripts/with-secret-service.sh go test -count=1 -tags chromium -v -run TestChromium ./e2e/browser/
