#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]
#
# Runs CMD with a private PostgreSQL 15 cluster: initdb and pg_ctl from
# /usr/lib/postgresql/15/bin, a data directory and a unix socket in a temporary
# directory. The cluster is stopped and removed when CMD ends, whatever its
# outcome. CMD sees
#
#   INKAN_TEST_POSTGRES=postgres:///postgres?host=SOCKETDIR&port=PORT&user=inkan
#   INKAN_TEST_POSTGRES_TCP=127.0.0.1:PORT
#
# the first the cluster's maintenance database as its superuser "inkan", over
# the socket (trust), from which tests create (and drop) databases of their
# own. The second is a TCP listener on a random free port of 127.0.0.1 that
# lets nobody in until a test gives the cluster a TLS certificate (ALTER
# SYSTEM SET ssl = on ...): then only TLS with a password (SCRAM) is accepted
# there, never trust, and "inkan" has no password. initdb refuses to run as
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
# The socket trusts the local user; TCP takes TLS and a password or nothing.
cat >"$tmp/data/pg_hba.conf" <<'EOF'
local   all all                trust
hostssl all all 127.0.0.1/32   scram-sha-256
host    all all 127.0.0.1/32   reject
EOF
# A random free port of 127.0.0.1 (others' tests run at the same time): a
# port taken between the choice and the start makes pg_ctl fail, and another
# is tried. fsync stays on: the benchmarks measure real commits.
for try in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue # someone listens there
	if "${as[@]}" "$bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
		-o "-c listen_addresses='127.0.0.1' -c port=$port -c unix_socket_directories='$tmp' -c max_connections=300 -c shared_buffers=128MB" start >/dev/null; then
		break
	fi
	if [ "$try" = 5 ] || ! grep -q 'could not bind\|could not create any TCP/IP sockets' "$tmp/server.log"; then
		cat "$tmp/server.log" >&2
		exit 1
	fi
done

export INKAN_TEST_POSTGRES="postgres:///postgres?host=$tmp&port=$port&user=inkan"
export INKAN_TEST_POSTGRES_TCP="127.0.0.1:$port"
status=0
"$@" || status=$?
exit "$status"
