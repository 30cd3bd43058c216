#!/usr/bin/env bash
# with-secret-service.sh CMD [ARGS...]
#
# Runs CMD on a private D-Bus session bus with an unlocked gnome-keyring Secret
# Service, so that tests of the keyring certificate store run against the real
# thing without touching the user's own keyring. Keyrings and Inkan's data live in
# a temporary directory (XDG_DATA_HOME, XDG_RUNTIME_DIR) that is removed at the
# end. HOME is left alone, so Go's build and module caches are the usual ones.
#
# CMD sees INKAN_TEST_SECRET_SERVICE=1: keyring tests then must run, and fail if
# the Secret Service is missing. Exits with CMD's status.
#
# Needs the Debian packages dbus (dbus-run-session, dbus-send) and gnome-keyring.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

if [ "${1:-}" != "--inside-session" ]; then
	for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
		if ! command -v "$tool" >/dev/null; then
			echo "$0: $tool is missing; install the Debian packages dbus and gnome-keyring" >&2
			exit 1
		fi
	done
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/inkan-secret-service.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	mkdir -m 0700 "$tmp/run" "$tmp/data"
	status=0
	XDG_RUNTIME_DIR="$tmp/run" XDG_DATA_HOME="$tmp/data" INKAN_SECRET_SERVICE_TMP="$tmp" \
		dbus-run-session -- "$0" --inside-session "$@" || status=$?
	exit "$status"
fi
shift

# Inside the private session: start the keyring with a throw-away password. It
# reads the password on stdin and creates and unlocks the login keyring; it may
# print variables for its clients (GNOME_KEYRING_CONTROL=...), which we export.
password=$(head -c 18 /dev/urandom | base64)
envfile="$INKAN_SECRET_SERVICE_TMP/keyring.env"
gnome-keyring-daemon --foreground --unlock --components=secrets <<<"$password" >"$envfile" &
daemon=$!
trap 'kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true' EXIT

has_secrets() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep_q 'boolean true'
}
for _ in $(seq 100); do
	if has_secrets; then
		break
	fi
	if ! kill -0 "$daemon" 2>/dev/null; then
		echo "$0: gnome-keyring-daemon exited before it was ready" >&2
		exit 1
	fi
	sleep 0.1
done
if ! has_secrets; then
	echo "$0: no Secret Service on the session bus after 10 s" >&2
	exit 1
fi
while IFS='=' read -r name value; do
	[ -n "$name" ] && export "$name=$value"
done <"$envfile"

export INKAN_TEST_SECRET_SERVICE=1
status=0
"$@" || status=$?
exit "$status"
