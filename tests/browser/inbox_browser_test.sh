#!/usr/bin/env bash
# A real browser approves through the inbox: signoffd runs on a fresh
# directory; chromedriver drives headless Chromium through the sign-in form
# (the printed admin token), picks a zone for the list's dates, opens the
# "Assigned to me" view (after an order is reassigned to it), sorts all
# pending by priority, goes to the demo order's page and clicks Approve (a
# form with its form token, posted with the browser's Origin), and finds it
# under "Decided recently"; the page and the API must then say approved.
# The screenshots land in the output folder.
#
#   inbox_browser_test.sh SIGNOFFD OUTPUT_DIR
set -euo pipefail
signoffd=$1
out=$2
mkdir -p "$out"
work=$(mktemp -d)
server_pid=""
driver_pid=""
cleanup() {
  [ -n "$driver_pid" ] && kill "$driver_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# A failing command ends the test; say which (curl -sf itself is silent).
trap 'echo "failed at line $LINENO: $BASH_COMMAND" >&2' ERR

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# Retries a command that prints a value: a browser that is still starting
# or a page that is still loading answers nothing at first.
retry() {
  local out
  for _ in $(seq 1 50); do
    if out=$("$@" 2>/dev/null) && [ -n "$out" ]; then
      printf '%s\n' "$out"
      return 0
    fi
    sleep 0.2
  done
  echo "gave up on: $*" >&2
  return 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_for() { # file pattern
  for _ in $(seq 1 200); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "timed out waiting for '$2' in $1" >&2
  cat "$1" >&2 || true
  return 1
}

"$signoffd" --data "$work/data" --port 0 > "$work/server.log" 2>&1 &
server_pid=$!
wait_for "$work/server.log" "admin token:"
base=$(sed -n 's/^signoffd listening on //p' "$work/server.log")
token=$(sed -n 's/^admin token: //p' "$work/server.log")

driver_port=$(free_port)
chromedriver --port="$driver_port" > "$work/driver.log" 2>&1 &
driver_pid=$!
wait_for "$work/driver.log" "started successfully"
wd="http://127.0.0.1:$driver_port"

new_session() {
  curl -sf "$wd/session" -H 'Content-Type: application/json' -d "{
  \"capabilities\": {\"alwaysMatch\": {\"browserName\": \"chrome\",
    \"goog:chromeOptions\": {\"binary\": \"/usr/bin/chromium\", \"args\": [
      \"--headless\", \"--no-sandbox\", \"--disable-gpu\", \"--disable-quic\",
      \"--disable-dev-shm-usage\", \"--no-first-run\",
      \"--disable-background-networking\", \"--disable-component-update\",
      \"--disable-sync\", \"--window-size=1100,900\",
      \"--user-data-dir=$work/profile\"]}}}}" | json "['value']['sessionId']"
}
session=$(retry new_session)
s="$wd/session/$session"

go() { curl -sf "$s/url" -H 'Content-Type: application/json' -d "{\"url\": \"$1\"}" > /dev/null; }
find_once() {
  curl -sf "$s/element" -H 'Content-Type: application/json' \
    -d "{\"using\": \"css selector\", \"value\": \"$1\"}" \
    | json "['value'].popitem()[1]"
}
find_css() { retry find_once "$1"; }
# Prints the text of the first element matching CSS once it matches the
# glob PATTERN: after a click the old page may still be there, or be
# replaced between finding an element and reading it.
text_when() { # css pattern
  local text=""
  for _ in $(seq 1 50); do
    text=$(curl -sf "$s/element/$(find_once "$1" 2>/dev/null)/text" \
      2>/dev/null | json "['value']" 2>/dev/null) || text=""
    # shellcheck disable=SC2254
    case "$text" in $2) printf '%s\n' "$text"; return 0 ;; esac
    sleep 0.2
  done
  echo "'$1' never read $2 (last: '$text')" >&2
  return 1
}

# Clicks the first element matching CSS, finding it again while the page
# is still being replaced (a found element may go stale before the click).
click() { # css
  for _ in $(seq 1 50); do
    curl -sf -X POST "$s/element/$(find_once "$1" 2>/dev/null)/click" \
      -H 'Content-Type: application/json' -d '{}' > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "could not click '$1'" >&2
  return 1
}

go "$base/login"
curl -sf "$s/element/$(find_css '#token')/value" -H 'Content-Type: application/json' \
  -d "{\"text\": \"$token\"}" > /dev/null
click '#sign-in'
text_when h1 "Waiting for a decision" > /dev/null

# The reader picks a zone with the keyboard-usable select (no JavaScript):
# the list's dates are then in it, the soonest due first.
click "#zone option[value='+01:00']"
click '#set-zone'
text_when 'tbody time' "* UTC+01:00" > /dev/null
curl -sf "$s/screenshot" | json "['value']" | base64 -d > "$out/inbox-list.png"

# The demo's small order goes to the signed-in identity through the API;
# the "Assigned to me" view, a plain link, then lists it alone.
curl -sf -X POST -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d '{"assignees": ["admin"], "reason": "mine now"}' \
  "$base/api/approvals/approval%3Aorder%3Aord_124/reassign" > /dev/null
click '#view-assigned'
text_when h1 "Assigned to me" > /dev/null
text_when 'tbody a' "approval:order:ord_124" > /dev/null
curl -sf "$s/screenshot" | json "['value']" | base64 -d > "$out/inbox-assigned.png"

# All pending by priority: the big order (2), the expense (1), then the
# small order (0), where by due time the small order comes second.
click '#view-pending'
text_when h1 "Waiting for a decision" > /dev/null
text_when 'tbody tr:nth-child(2) a' "approval:order:ord_124" > /dev/null
click '#sort-priority'
text_when 'tbody tr:nth-child(2) a' "approval:expense:exp_7" > /dev/null
curl -sf "$s/screenshot" | json "['value']" | base64 -d > "$out/inbox-priority.png"

go "$base/inbox/approval?key=approval%3Aorder%3Aord_123"
click '#approve'
text_when '#status' approved > /dev/null
curl -sf "$s/screenshot" | json "['value']" | base64 -d > "$out/inbox-approved.png"

# The decision shows under "Decided recently".
go "$base/inbox"
click '#view-decided'
text_when h1 "Decided recently" > /dev/null
text_when 'tbody a' "approval:order:ord_123" > /dev/null
curl -sf "$s/screenshot" | json "['value']" | base64 -d > "$out/inbox-decided.png"
curl -sf -X DELETE "$s" > /dev/null || true

api=$(curl -sf -H "Authorization: Bearer $token" \
  "$base/api/approvals/approval%3Aorder%3Aord_123" | json "['status']['status']")
[ "$api" = "approved" ] || { echo "API status: $api" >&2; exit 1; }
for shot in inbox-list inbox-assigned inbox-priority inbox-approved \
  inbox-decided; do
  [ -s "$out/$shot.png" ] || { echo "no screenshot $shot" >&2; exit 1; }
done
echo "approved through the browser; screenshots in $out: inbox-list.png," \
  "inbox-assigned.png, inbox-priority.png, inbox-approved.png," \
  "inbox-decided.png"
