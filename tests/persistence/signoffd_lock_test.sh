#!/usr/bin/env bash
# One signoffd per directory: a second one on the same --data refuses to
# start, names the first one's pid and exits with 1, while the CLI works
# beside the first; once the first is killed with SIGKILL, a new one starts.
# Waits by reading what the server prints, never by sleeping.
#
#   signoffd_lock_test.sh SIGNOFFD SIGNOFF
set -euo pipefail
signoffd=$1
signoff=$2
work=$(mktemp -d)
cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Reads the server's output until it says it listens.
await_listening() {
  local line
  while read -r line <&"${SERVER[0]}"; do
    case $line in "signoffd listening on "*) return 0 ;; esac
  done
  echo "signoffd ended before it listened" >&2
  exit 1
}

coproc SERVER { exec "$signoffd" --data "$work/data" --port 0 --no-seed 2>&1; }
first=$SERVER_PID
await_listening

status=0
"$signoffd" --data "$work/data" --port 0 --no-seed > "$work/second.log" 2>&1 || status=$?
[ "$status" = 1 ] || { echo "the second signoffd exited with $status" >&2; cat "$work/second.log" >&2; exit 1; }
grep -q "process $first" "$work/second.log" \
  || { echo "the refusal does not name process $first:" >&2; cat "$work/second.log" >&2; exit 1; }
echo "a second signoffd is refused: $(cat "$work/second.log")"

"$signoff" --db "$work/data" pending > /dev/null
echo "the CLI works beside the first"

kill -9 "$first"
wait "$first" 2>/dev/null || true
coproc SERVER { exec "$signoffd" --data "$work/data" --port 0 --no-seed 2>&1; }
await_listening
echo "after SIGKILL of the first, a new signoffd starts"
