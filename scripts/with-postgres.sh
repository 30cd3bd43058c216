#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]
#
# Runs CMD with a private PostgreSQL 15 cluster: initdb and pg_ctl from
# /usr/lib/postgresql/15/bin, a data directory and a unix socket in a temporary
# directory, no TCP port at all. The cluster is stopped and removed when CMD
# ends, whatever its outcome. CMD sees
#
#   INKAN_TEST_POSTGRES=postgres:///postgres?host=SOCKETDIR&user=inkan
#
# the cluster's maintenance database as its superuser "inkan", from which
# tests create (and drop) databases of their own. initdb refuses to run as
# root, so as root the cluster runs as the "postgres" system user (Debian's
# postgresql package creates it), with a socket root can reach.
#
# Exits with CMD's status. Needs the Debian package postgresql-15.
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
	echo "$0: $bin/initdb or pg_ctl is missing; install the Debian package postgresql-15 (scripts/install-deps.sh)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/inkan-postgres.XXXXXX")
as=()
if [ "$(id -u)" = 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		echo "$0: running as root and there is no postgres user to run the cluster as; install postgresql-15" >&2
		exit 1
	fi
	chown postgres: "$tmp"
	as=(runuser -u postgres --)
fi
chmod 0700 "$tmp"

stop() {
	"${as[@]}" "$bin/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap stop EXIT

"${as[@]}" "$bin/initdb" -D "$tmp/data" -U inkan --auth=trust -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 || {
	cat "$tmp/initdb.log" >&2
	exit 1
}
# Only the socket: no TCP listener that other users' tests could collide with.
# fsync stays on: the benchmarks measure real commits.
"${as[@]}" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
	-o "-c listen_addresses='' -c unix_socket_directories='$tmp' -c max_connections=300 -c shared_buffers=128MB" start >/dev/null || {
	cat "$tmp/server.log" >&2
	exit 1
}

export INKAN_TEST_POSTGRES="postgres:///postgres?host=$tmp&user=inkan"
status=0
"$@" || status=$?
exit "$status"
