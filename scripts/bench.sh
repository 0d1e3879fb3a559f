#!/usr/bin/env bash
# Runs every harness bench N times (default 3) with short settings, then
# regenerates BENCHMARKS.md's tables from the raw samples of those runs.
#
#   bash scripts/bench.sh            # 3 runs
#   bash scripts/bench.sh 5          # 5 runs
#   THREADLET_BENCH_SAMPLES=21 THREADLET_BENCH_SAMPLE_MS=50 bash scripts/bench.sh
#
# Raw samples: target/bench-raw/<stamp>-run<i>/<bench>.json (see
# benches/harness/mod.rs). Runs in the order run1: all benches, run2: all
# benches, ... so a burst of load on the machine hits one run, not one bench.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
benches=(lock rlock semaphore event thread_spawn_join queue)
export THREADLET_BENCH_SAMPLES="${THREADLET_BENCH_SAMPLES:-9}"
export THREADLET_BENCH_SAMPLE_MS="${THREADLET_BENCH_SAMPLE_MS:-30}"
target="${CARGO_TARGET_DIR:-target}"
stamp="$(date -u +%Y%m%dT%H%M%S)"

cargo bench --no-run $(printf -- '--bench %s ' "${benches[@]}")
dirs=()
for i in $(seq 1 "$runs"); do
  export THREADLET_BENCH_RUN="$stamp-run$i"
  dirs+=("$target/bench-raw/$THREADLET_BENCH_RUN")
  for b in "${benches[@]}"; do
    echo "=== run $i/$runs: $b"
    # A bench that fails (e.g. its watchdog caught a hung peer) loses only
    # its unfinished row; the others still count.
    cargo bench -q --bench "$b" || echo "WARNING: bench $b failed in run $i (exit $?); its finished rows are kept"
  done
done
python3 scripts/bench_report.py --out BENCHMARKS.md "${dirs[@]}"
