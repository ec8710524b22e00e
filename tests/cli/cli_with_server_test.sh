#!/usr/bin/env bash
# A decision made with the CLI while signoffd runs on the same directory
# resumes the waiting run within a second; one made with `signoff --server`
# resumes it before the command returns, and both ways of reading print the
# same.
#
#   cli_with_server_test.sh SIGNOFFD SIGNOFF
set -euo pipefail
signoffd=$1
signoff=$2
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$signoffd" --data "$work/data" --port 0 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
  grep -q "admin token:" "$work/server.log" 2>/dev/null && break
  sleep 0.05
done
base=$(sed -n 's/^signoffd listening on //p' "$work/server.log")
token=$(sed -n 's/^admin token: //p' "$work/server.log")
[ -n "$token" ] || { cat "$work/server.log" >&2; exit 1; }

completed() {
  "$signoff" --db "$work/data" runs --status completed --json \
    | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))'
}
[ "$(completed)" = 0 ] || { echo "a run completed before the decision" >&2; exit 1; }

"$signoff" --db "$work/data" approve approval:order:ord_123 --by boss > /dev/null
decided=$(date +%s%N)
# A look counts from when it began: the CLI reading the store takes its
# own time on a loaded machine, which is not the server's delay.
while true; do
  looked=$(date +%s%N)
  [ "$(completed)" = 1 ] && break
  if [ $(( (looked - decided) / 1000000 )) -gt 1000 ]; then
    echo "the run did not resume within a second of the CLI's decision" >&2
    exit 1
  fi
  sleep 0.05
done
# The server sees the same: the order's approval is approved by boss.
curl -sf -H "Authorization: Bearer $token" \
  "$base/api/approvals/approval%3Aorder%3Aord_123" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]["status"]=="approved" and d["status"]["decidedBy"]=="boss", d'
echo "the CLI's decision resumed the run within a second"

# Through the server, as the admin token (from the environment): the server
# resumes the run before it answers.
export SIGNOFF_SERVER=$base SIGNOFF_TOKEN=$token
"$signoff" approve approval:order:ord_124 --value '{"note":"rush"}' > "$work/approve.out"
grep -q "approved by admin" "$work/approve.out" \
  || { cat "$work/approve.out" >&2; exit 1; }
[ "$(completed)" = 2 ] \
  || { echo "the decision through the server did not resume the run" >&2; exit 1; }
"$signoff" runs --status completed --json \
  | python3 -c 'import json,sys; runs=json.load(sys.stdin)["runs"]; assert len(runs)==2 and all(r["status"]=="completed" for r in runs), runs'
for command in "pending" "runs" "show approval:order:ord_124"; do
  # shellcheck disable=SC2086 # the command's words are meant to split
  diff <("$signoff" --db "$work/data" $command --json) <("$signoff" $command --json) \
    || { echo "'$command' differs between --db and --server" >&2; exit 1; }
done
echo "the decision through the server resumed the run; both targets print the same"

# Reassign and delegate through the server: the admin token reassigns a
# pending approval to itself and a colleague, then hands its place on.
key=$("$signoff" pending --json \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["approvals"][0]["key"])')
"$signoff" reassign "$key" --assignees admin,carol --reason "cover" > "$work/reassign.out"
grep -q "reassigned by admin" "$work/reassign.out" \
  || { cat "$work/reassign.out" >&2; exit 1; }
"$signoff" delegate "$key" --to dave --json \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); a=d["approval"]; assert d["change"]=="delegate" and d["applied"] and sorted(a["assignees"])==["carol","dave"], d'
"$signoff" show "$key" --json \
  | python3 -c 'import json,sys; t=json.load(sys.stdin)["auditTrail"]; assert [e["action"] for e in t[-2:]]==["reassigned","delegated"] and t[-1]["actor"]=="admin", t'
echo "reassign and delegate through the server are recorded as the token's identity"
