#!/usr/bin/env bash
# The all-states demo (`make run SCENARIO=all-states`) for real, without the
# window (`make test` runs it): init --demo with the CA 500 days back,
# demo --scenario all-states, then scripts/demo-all-states.sh, whose real
# inkanctl picks each certificate up from the real server on its day. Then
# it checks what the server records of each ID, and what the agent sees of
# each certificate on the PC, against the state the scenario promises.
#   scripts/test-demo-states.sh        # needs jq, curl (install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
. scripts/lib/common.sh

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
data="$work/demo"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
addr="127.0.0.1:$(free_port)"
http_addr="127.0.0.1:$(free_port)"

go build -o bin/ ./cmd/inkan-server ./cmd/inkanctl
mkdir -p "$data"
(umask 077 && head -c 24 /dev/urandom | base64 >"$data/demo-ca-passphrase")
bin/inkan-server init --demo --demo-shift-days -500 --data "$data" --bank-code 1376 --bank-name "いんかん信用金庫" \
  --public-url "https://$addr" --http-addr "$http_addr" --passphrase-file "$data/demo-ca-passphrase" >/dev/null 2>&1
bin/inkan-server demo --scenario all-states --data "$data" >"$data/demo-users.txt"
bin/inkan-server agent-config --data "$data" --url "https://$addr" --out "$data/bank.json" 2>/dev/null
scripts/demo-all-states.sh "$data" "$addr" "$http_addr" >/dev/null

fail() {
  echo "test-demo-states: FAIL: $*" >&2
  tail -n 20 "$data/server.log" >&2
  exit 1
}
contract=$(sed -n '1s/^Demo contract \([0-9]*\):.*/\1/p' "$data/demo-users.txt")
server=$(bin/inkan-server user list --data "$data" --contract "$contract" --json)
pc=$(bin/inkanctl --config "$data/bank.json" --store "dir:$data/agent-store" --state-dir "$data/home/.config/inkan" list --json)

# want_server ID STATE LOCKED RENEWABLE: the server's record of ID.
want_server() {
  local got
  got=$(jq -r --arg id "$1" '.[] | select(.login_id == $id) | "\(.certificate.state) \(.locked) \(.certificate.renewable // false)"' <<<"$server")
  [ "$got" = "$2 $3 $4" ] || fail "the server has $1 as '$got', want '$2 $3 $4'"
}
# want_pc ID STATE MIN_DAYS MAX_DAYS: the agent's view of ID's certificate on the PC.
want_pc() {
  local got
  got=$(jq -r --arg id "$1" '.[] | select(.login_id == $id) | "\(.state) \(.days_left)"' <<<"$pc")
  read -r state days <<<"$got"
  [ "$state" = "$2" ] && [ "$days" -ge "$3" ] && [ "$days" -le "$4" ] ||
    fail "the PC has $1 as '$got', want $2 with $3 to $4 days left"
}

want_server demo-admin active false false
want_server demo-valid active false false
want_server demo-renew active false true
want_server demo-10days active false true
want_server demo-expired expired false true
want_server demo-toolate expired false false
want_server demo-revoked revoked false false
want_server demo-replaced awaiting_pickup false false
want_server demo-locked active true false
want_server demo-waiting awaiting_pickup false false
want_server demo-lapsed pickup_lapsed false false
want_server demo-none none false false

# The agent learns of a revocation or a newer certificate only from the server,
# at login: until then, on the PC, those two still look valid.
want_pc demo-admin valid 64 65
want_pc demo-valid valid 364 365
want_pc demo-revoked valid 364 365
want_pc demo-replaced valid 364 365
want_pc demo-locked valid 364 365
want_pc demo-renew renewable 24 25
want_pc demo-10days renewable 9 10
want_pc demo-expired expired_renewable -11 -10
want_pc demo-toolate expired -96 -95
n=$(jq length <<<"$pc")
[ "$n" = 9 ] || fail "the PC holds $n certificates, want the 9 picked up"

# Each certificate was picked up on its day: its notBefore, as the server recorded it.
for row in demo-toolate:-460 demo-expired:-375 demo-10days:-355 demo-renew:-340 demo-admin:-300 demo-valid:0; do
  id=${row%%:*} day=${row#*:}
  nb=$(jq -r --arg id "$id" '.[] | select(.login_id == $id) | .certificate.not_before' <<<"$server")
  off=$(( $(date -u -d "$nb" +%s) - $(date -u -d "$day days" +%s) ))
  [ "${off#-}" -lt 3600 ] || fail "$id was picked up on $nb, want day $day ($(date -u -d "$day days" +%F))"
done

# demo-lapsed's pickup window passed: the pickup check (csrattrs with HTTP Basic, what the
# window's 電子証明書取得前処理中 asks) refuses it with simpleenroll's code, and a pickup
# stops there, with its Japanese sentence, before any key is made on the PC.
bin/inkan-server serve --data "$data" --addr "$addr" --http-addr "$http_addr" \
  --passphrase-file "$data/demo-ca-passphrase" >>"$data/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
  curl -sf --cacert "$data/root-ca.crt" "https://$addr/.well-known/est/cacerts" >/dev/null && break
  sleep 0.2
done
lapsed_pw=$(awk '$1 == "demo-lapsed" { print $3 }' "$data/demo-users.txt")
status=$(curl -s -o /dev/null -D "$work/csrattrs.h" -w '%{http_code}' --cacert "$data/root-ca.crt" \
  -u "demo-lapsed:$lapsed_pw" "https://$addr/.well-known/est/csrattrs")
code=$(tr -d '\r' <"$work/csrattrs.h" | sed -n 's/^[Ii]nkan-[Ee]rror-[Cc]ode: *//p')
[ "$status" = 403 ] && [ "$code" = pickup_lapsed ] || fail "csrattrs for demo-lapsed answered $status '$code', want 403 pickup_lapsed"
keys_before=$(find "$data/agent-store" -type f | wc -l)
set +e
refusal=$(printf '%s\n' "$lapsed_pw" | bin/inkanctl --config "$data/bank.json" --store "dir:$data/agent-store" \
  --state-dir "$data/home/.config/inkan" --lang ja pickup --login-id demo-lapsed --password-stdin 2>&1)
status=$?
set -e
[ "$status" = 2 ] || fail "inkanctl pickup of demo-lapsed: exit $status, want 2 (refused): $refusal"
grep_q '電子証明書の取得期限（発行から80日）を過ぎています。' <<<"$refusal" || fail "the refusal of demo-lapsed's pickup lacks the pickup's sentence: $refusal"
grep_q 'この PC で鍵を生成中' <<<"$refusal" && fail "a key was being made for demo-lapsed: $refusal"
[ "$(find "$data/agent-store" -type f | wc -l)" = "$keys_before" ] || fail "the refused pickup of demo-lapsed left something in the store"
echo "test-demo-states: demo-lapsed refused at the pickup check (403 pickup_lapsed), nothing made on the PC"
echo "test-demo-states: every state as promised (12 IDs on the server, 9 certificates on the PC)"
