#!/usr/bin/env bash
# Builds the fuzz preset (clang, libFuzzer, AddressSanitizer, UBSan) and runs
# every fuzz target for the seconds given (default 60), starting from its
# seed corpus fuzz/corpus/<target>/ and every input that once found a bug,
# fuzz/regressions/<target>/, with its dictionary fuzz/dict/<target>.dict.
# Inputs found to add coverage go to build/fuzz/corpus/<target>/ (the
# committed corpus is only read). Prints each target's executions and their
# total; fails if a target crashed, broke an invariant, leaked or hung, and
# then names the input it kept in build/fuzz/findings/<target>/.
#
#   fuzz/run.sh [seconds-per-target]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j2 --target fuzzers

# A small quarantine: with ASan's default of 256 MB (and the sanitizers'
# memory of every thread the HTTP target's actor systems started) a run's
# memory grew past libFuzzer's 2 GB limit in about ten minutes.
export ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

total=0
failed=()
for binary in build/fuzz/fuzz/fuzz_*; do
  target=${binary##*/fuzz_}
  work=build/fuzz/corpus/$target
  findings=build/fuzz/findings/$target
  log=$findings/log.txt
  rm -rf "$findings"
  mkdir -p "$work" "$findings"
  options=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1
           -artifact_prefix="$findings/")
  [ -f "fuzz/dict/$target.dict" ] && options+=(-dict="fuzz/dict/$target.dict")
  inputs=("$work" "fuzz/corpus/$target")
  [ -d "fuzz/regressions/$target" ] && inputs+=("fuzz/regressions/$target")
  status=ok
  "$binary" "${options[@]}" "${inputs[@]}" >"$log" 2>&1 \
    || { status=FAILED; failed+=("$target"); }
  runs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log")
  runs=${runs:-0}
  total=$((total + runs))
  printf '%-16s %12d executions  %s\n' "$target" "$runs" "$status"
done
printf '%-16s %12d executions\n' total "$total"

for target in "${failed[@]}"; do
  echo "--- $target failed; its log: build/fuzz/findings/$target/log.txt"
  grep -a -m1 -A3 -E 'fuzz invariant broken|ERROR:|runtime error' \
    "build/fuzz/findings/$target/log.txt" || true
  ls build/fuzz/findings/"$target"/{crash,leak,timeout,oom}-* 2>/dev/null || true
done
[ ${#failed[@]} -eq 0 ]
