#!/usr/bin/env bash
# The full reliability suites, whose short versions run in the test command:
# the crash loop (hundreds of SIGKILLs), the cluster's crash loop (a node of
# three killed a hundred times), the races and time suites with many
# more rounds, hostile HTTP requests by the hundred thousand, every fuzz
# target for minutes, and the whole test suite under ASan+UBSan and under
# ThreadSanitizer. Prints each suite's figures; fails if any suite does.
# docs/reliability.md keeps the figures of the last full run.
#
#   scripts/reliability.sh [fuzz-seconds-per-target]    (about an hour)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${1:-300}
log_dir=build/reliability
mkdir -p "$log_dir"

cmake --preset debug >/dev/null
cmake --build --preset debug -j2
tests=build/debug/tests

suite() {
  local name=$1
  shift
  echo "=== $name"
  if env "$@" >"$log_dir/$name.log" 2>&1; then
    grep -a -E 'figures|violations|executions|requests sent|databases|won|kills' "$log_dir/$name.log" || true
  else
    tail -n 40 "$log_dir/$name.log"
    echo "=== $name FAILED (log: $log_dir/$name.log)"
    exit 1
  fi
}

suite crash SIGNOFF_CRASH_ORDERS=3000 SIGNOFF_CRASH_KILLS=300 \
  "$tests/crash_tests"
suite cluster-crash SIGNOFF_CLUSTER_CRASH_ORDERS=3000 \
  SIGNOFF_CLUSTER_CRASH_KILLS=100 "$tests/cluster_crash_tests"
suite races SIGNOFF_RACE_ROUNDS=2000 \
  "$tests/actors_tests" --run_test=races --log_level=message
suite time SIGNOFF_TIME_ROUNDS=200 SIGNOFF_EXPIRY_BACKLOG=20000 \
  "$tests/actors_tests" --run_test=time --log_level=message
suite hostile SIGNOFF_HOSTILE_REQUESTS=200000 \
  "$tests/hostile/hostile_tests"
suite fuzz fuzz/run.sh "$fuzz_seconds"

for sanitizer in asan tsan; do
  [ "$sanitizer" = tsan ] && scripts/build-caf-tsan.sh build/caf-tsan
  cmake --preset "$sanitizer" >/dev/null
  cmake --build --preset "$sanitizer" -j2
  suite "$sanitizer" ctest --preset "$sanitizer" -LE install
done
