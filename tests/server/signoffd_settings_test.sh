#!/usr/bin/env bash
# signoffd's settings: --help answers 0; a bad flag, a bad value or a setting
# a --config file does not know is refused with exit 2 before the directory
# is touched; a config file's settings are used (its token is accepted by
# the server) and a flag overrides the file's value. Waits by reading what
# the server prints, never by sleeping.
#
#   signoffd_settings_test.sh SIGNOFFD SIGNOFF
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
fail() { echo "$*" >&2; exit 1; }

# Runs signoffd with the given arguments; it must exit 2, say $1 and leave
# no directory behind.
refused() {
  local says=$1 status=0
  shift
  "$signoffd" "$@" > "$work/out" 2>&1 || status=$?
  [ "$status" = 2 ] || fail "signoffd $* exited with $status: $(cat "$work/out")"
  grep -q -- "$says" "$work/out" || fail "signoffd $* did not say '$says': $(cat "$work/out")"
  [ ! -e "$work/data" ] || fail "signoffd $* created its directory"
}

"$signoffd" --help > "$work/help"
grep -q -- "--config FILE" "$work/help" || fail "--help does not list --config"
grep -q -- "--token" "$work/help" || fail "--help does not list --token"

refused "--bogus" --bogus --data "$work/data"
refused "--port" --port 70000 --data "$work/data"
refused "--max-connections" --max-connections 0 --data "$work/data"
refused "not readable" --config "$work/missing.toml" --data "$work/data"
printf 'data = "%s"\nprot = 8080\n' "$work/data" > "$work/typo.toml"
refused "prot" --config "$work/typo.toml"
printf 'data = "%s"\ntoken = ["ops:0123456789abcdef::read,bogus"]\n' "$work/data" > "$work/badtoken.toml"
refused "bogus" --config "$work/badtoken.toml"

secret=0123456789abcdef0123456789abcdef
cat > "$work/signoffd.toml" <<TOML
data = "$work/not-this-one"
port = 0
token = ["ops:$secret::*"]
no-seed = true
TOML
coproc SERVER { exec "$signoffd" --config "$work/signoffd.toml" --data "$work/data" 2>&1; }
base=""
while read -r line <&"${SERVER[0]}"; do
  case $line in "signoffd listening on "*) base=${line#signoffd listening on }; break ;; esac
done
[ -n "$base" ] || fail "signoffd ended before it listened"
[ -e "$work/data/data.mdb" ] || fail "the --data flag did not override the file"
[ ! -e "$work/not-this-one" ] || fail "the file's directory was used"
"$signoff" --server "$base" --token "$secret" pending > /dev/null \
  || fail "the token from the settings file was not accepted"
status=0
"$signoff" --server "$base" --token wrong-token pending > /dev/null 2>&1 || status=$?
[ "$status" != 0 ] || fail "an unknown token was accepted"
echo "settings file read, flag overrode it, its token works"
