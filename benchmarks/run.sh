#!/usr/bin/env bash
# Builds signoff-bench (Release) and runs the standard benchmark set: prints
# a table and one `RESULT name=... value=... unit=...` line per figure, and
# writes benchmarks/out/chart.svg. Any benchmark whose runs did not all
# complete correctly stops the script with a non-zero status.
#
#   benchmarks/run.sh          up to 100,000 waiting runs (~5 min on 2 cores)
#   benchmarks/run.sh --full   adds the 1,000,000-run scenarios (~6 GB, ~25 min)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
build="$repo/build/bench"
out="$here/out"
results="$out/results.txt"

full=0
for arg in "$@"; do
  case "$arg" in
    --full) full=1 ;;
    *) echo "usage: benchmarks/run.sh [--full]" >&2; exit 2 ;;
  esac
done
sizes="1000 10000 100000"
restart_size=100000
if ((full)); then
  sizes="$sizes 1000000"
  restart_size=1000000
fi

# Only the library and the benchmark are configured and built.
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DSIGNOFF_BUILD_TESTS=OFF -DSIGNOFF_BUILD_EXAMPLES=OFF \
  -DSIGNOFF_BUILD_CLI=OFF >/dev/null
cmake --build "$build" -j2 --target signoff-bench >/dev/null
bench="$build/benchmarks/signoff-bench"

rm -rf "$out/data"
mkdir -p "$out/data"
: >"$results"
cd "$repo" # signoff-bench's default --dir, benchmarks/out/data, is relative

# Runs one benchmark: its RESULT lines go to the results file, anything
# else it says is shown.
step() {
  echo "== ${*:2}" >&2
  local start=$SECONDS
  "$@" | tee -a "$results" | { grep -v '^RESULT' || true; }
  echo "   done in $((SECONDS - start)) s" >&2
}

step "$bench" --scenario cycle --cycles 5000
for n in $sizes; do
  step "$bench" --scenario pending --store memory --pending "$n"
  step "$bench" --scenario pending --store memory --pending "$n" \
    --auto-resume off
  # Without fsync, so the figures are the store's and the actors', not the
  # disk's; the durable scenario below measures with fsync.
  step "$bench" --scenario pending --store lmdb --sync off --pending "$n"
  if ((n > 1000)); then
    step "$bench" --scenario pending --store lmdb --sync off --pending "$n" \
      --resident-limit 1000
  fi
done
# The floor a waiting run's actor is compared with, and runs awaiting a
# slow actor (10,000 at once on 2 scheduler threads).
step "$bench" --scenario bare-actor --pending 100000
step "$bench" --scenario slow-actor --pending 10000
step "$bench" --scenario durable --cycles 300 --in-flight 1000 \
  --in-flight-cycles 20000
step "$bench" --scenario restart --pending "$restart_size"
step "$bench" --scenario http --cycles 10000 --in-flight 256 --pending 100000
# A cluster of 1, 2 and 3 node processes on this machine: cycles/s of all
# nodes at once, and the latency of a decision on a key the first node
# owns and of one routed to another node.
for store in memory lmdb; do
  for nodes in 1 2 3; do
    step "$bench" --scenario cluster --store "$store" --nodes "$nodes" \
      --cycles 3000 --in-flight 64 --pending 400
  done
done

# The seed's implementation, installed at run time (never committed).
if command -v node >/dev/null && command -v npm >/dev/null; then
  if (cd "$here/node" && npm install --no-package-lock --no-audit --no-fund \
    --loglevel=error >/dev/null); then
    for mode in off on; do
      for n in 1000 10000 100000; do
        step node --expose-gc --max-old-space-size=8192 \
          "$here/node/awaitly_bench.mjs" --auto-resume "$mode" --waiting "$n"
      done
    done
  else
    echo "awaitly: UNAVAILABLE (npm install failed); side-by-side skipped"
  fi
else
  echo "awaitly: UNAVAILABLE (no Node.js/npm); side-by-side skipped"
fi

# Instructions per in-memory cycle: callgrind counts instructions, which
# unlike time does not depend on the machine's load. It counts only while
# the cycles run (not the checks after them), and the difference of two
# runs of different lengths leaves out the first cycles' warming up.
instructions() {
  valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file=/dev/null "$bench" \
    --scenario cycle --api "$1" --cycles "$2" 2>&1 >/dev/null |
    sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p'
}
if command -v valgrind >/dev/null; then
  for api in typed facade; do
    echo "== callgrind: in-memory cycle through the $api API" >&2
    small=$(instructions "$api" 200)
    large=$(instructions "$api" 1200)
    echo "RESULT name=callgrind.$api.instructions_per_cycle" \
      "value=$(((large - small) / 1000)) unit=instructions" >>"$results"
  done
else
  echo "callgrind: UNAVAILABLE (no valgrind); instructions per cycle skipped"
fi

if command -v node >/dev/null; then
  node "$here/report.mjs" "$results" "$out/chart.svg"
else
  echo "no Node.js: no table or chart; the figures:"
  cat "$results"
fi
