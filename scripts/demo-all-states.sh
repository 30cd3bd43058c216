#!/usr/bin/env bash
# demo-all-states.sh DATA_DIR ADDR HTTP_ADDR
#
# Brings the demo contract of `inkan-server demo --scenario all-states` (its
# table in DATA_DIR/demo-users.txt) to the state of every ID, honestly: the
# real agent (bin/inkanctl, into the demo's own store DATA_DIR/agent-store)
# picks each certificate up on the day the table says, from the real server
# started on that day's clock (serve --demo-shift-days DAY, a demo data
# directory only); then, today, the admin revokes one certificate and issues
# another anew (the copy on the PC is superseded) with inkanctl admin, and
# five wrong passwords lock one ID. Nothing on the PC or in the agent is
# back-dated: the agent runs on the real clock throughout. Last, the root CRL
# that init signed on its shifted day is signed again today.
#
# scripts/run.sh --scenario all-states runs it once, when it creates DATA_DIR.
# Needs bin/inkan-server and bin/inkanctl, DATA_DIR/bank.json and the demo's
# passphrase file DATA_DIR/demo-ca-passphrase.
set -euo pipefail
cd "$(dirname "$0")/.."

data="${1:?usage: scripts/demo-all-states.sh DATA_DIR ADDR HTTP_ADDR}"
addr="${2:?usage: scripts/demo-all-states.sh DATA_DIR ADDR HTTP_ADDR}"
http_addr="${3:?usage: scripts/demo-all-states.sh DATA_DIR ADDR HTTP_ADDR}"
url="https://$addr"
passphrase_file="$data/demo-ca-passphrase"
log="$data/server.log"
users="$data/demo-users.txt"
inkanctl=(bin/inkanctl --config "$data/bank.json" --store "dir:$data/agent-store" --state-dir "$data/home/.config/inkan" --lang en)

# The table: LOGIN_ID ROLE PASSWORD PICKUP THEN STATE, after a header line.
rows=$(awk '$1 ~ /^demo-/ && NF >= 6' "$users")
pw() { awk -v id="$1" '$1 == id { print $3 }' <<<"$rows"; }
admin_pw=$(pw demo-admin)
bank_code=$(sed -n 's/.*"bank_code": *"\([0-9]*\)".*/\1/p' "$data/bank.json")

server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT INT TERM

# fail WHAT: say what failed, with the end of the log (where inkanctl wrote why).
fail() {
  echo "scripts/demo-all-states.sh: $1 failed; the end of $log:" >&2
  tail -n 5 "$log" >&2
  exit 1
}

# serve_on DAY: the server on the clock of DAY days from today, until stop_server.
serve_on() {
  local shift=()
  [ "$1" != 0 ] && shift=(--demo-shift-days "$1")
  echo "== serving as of day $1 ($(date -u -d "$1 days" +%F))" >>"$log"
  bin/inkan-server serve "${shift[@]}" --data "$data" --addr "$addr" --public-url "$url" \
    --http-addr "$http_addr" --passphrase-file "$passphrase_file" >>"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 50); do
    curl -sf --cacert "$data/root-ca.crt" "$url/.well-known/est/cacerts" >/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  fail "inkan-server serve on day $1"
}

for day in $(awk '$4 != "-" { print $4 }' <<<"$rows" | sort -n | uniq); do
  serve_on "$day"
  for id in $(awk -v d="$day" '$4 == d { print $1 }' <<<"$rows"); do
    printf '%s\n' "$(pw "$id")" | "${inkanctl[@]}" pickup --login-id "$id" --password-stdin >/dev/null 2>>"$log" ||
      fail "inkanctl pickup of $id on day $day"
    echo "  picked up $id on day $day ($(date -u -d "$day days" +%F))"
  done
  if [ "$day" = 0 ]; then
    # Today, the admin acts on its staff's certificates, and wrong passwords lock one ID.
    while read -r id then; do
      case "$then" in
      revoke | issue)
        printf '%s\n' "$admin_pw" | "${inkanctl[@]}" admin "$then" "$id" --id "demo-admin+$bank_code" --password-stdin >/dev/null 2>>"$log" ||
          fail "inkanctl admin $then $id"
        echo "  the admin: $then $id" ;;
      lock)
        for n in 1 2 3 4 5; do
          if printf 'wrong-password-%s\n' "$n" | "${inkanctl[@]}" login --id "$id+$bank_code" --password-stdin >/dev/null 2>&1; then
            fail "locking $id (a wrong password logged it in)"
          fi
        done
        echo "  five wrong passwords: $id is locked" ;;
      esac
    done < <(awk '$5 != "-" { print $1, $5 }' <<<"$rows")
  fi
  stop_server
done

# init signed the root CRL on its shifted day: the bank signs it again today.
bin/inkan-server ca root-crl --data "$data" --passphrase-file "$passphrase_file" >>"$log" 2>&1
