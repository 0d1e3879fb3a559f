#!/usr/bin/env bash
# Same-machine before/after: builds the harness benches of BASE (any git
# revision) in a throwaway worktree, then runs BASE's benches and this tree's
# alternately, RUNS times (default 3): base run 1, new run 1, base run 2, ...
# so that load on the machine hits both sides alike. Then regenerates
# BENCHMARKS.md from the new runs with a "before" column, and a table of
# threadlet's own time now / before per row (rows more than 5% slower marked).
#
#   bash scripts/bench_compare.sh 50707e1          # 3 runs of each side
#   bash scripts/bench_compare.sh main~3 5 queue   # 5 runs, the queue bench only
#
# Raw samples: target/bench-raw/<stamp>-{base,new}<i>/.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:?usage: bash scripts/bench_compare.sh BASE [RUNS] [BENCH...]}"
runs="${2:-3}"
shift $(( $# >= 2 ? 2 : 1 ))
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(lock rlock semaphore event thread_spawn_join queue)
export THREADLET_BENCH_SAMPLES="${THREADLET_BENCH_SAMPLES:-9}"
export THREADLET_BENCH_SAMPLE_MS="${THREADLET_BENCH_SAMPLE_MS:-30}"
root="$PWD"
target="$root/${CARGO_TARGET_DIR:-target}"
rev="$(git rev-parse --short "$base")"
tree="$target/bench-base/$rev"
stamp="$(date -u +%Y%m%dT%H%M%S)"

if [ ! -d "$tree" ]; then
  git worktree add --detach "$tree" "$rev" >/dev/null
fi

# The bench executables of the tree in $1 (built with its own target dir).
executables() {
  local dir="$1" args=()
  for b in "${benches[@]}"; do args+=(--bench "$b"); done
  (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo bench --no-run --message-format=json "${args[@]}") \
    | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
        print(m["target"]["name"], m["executable"])'
}
declare -A base_exe new_exe
while read -r name exe; do base_exe[$name]="$exe"; done < <(executables "$tree")
while read -r name exe; do new_exe[$name]="$exe"; done < <(executables "$root")

run_side() { # side i exe-map-name
  local side="$1" i="$2"
  export THREADLET_BENCH_RUN="$stamp-$side$i"
  for b in "${benches[@]}"; do
    local exe
    if [ "$side" = base ]; then exe="${base_exe[$b]:-}"; else exe="${new_exe[$b]:-}"; fi
    [ -n "$exe" ] || { echo "WARNING: no $b bench in $side"; continue; }
    echo "=== $side run $i/$runs: $b"
    # The harness writes its raw samples under $CARGO_TARGET_DIR (absolute
    # here, so both sides write into this tree's target).
    (cd "$root/benches" && CARGO_TARGET_DIR="$target" "$exe" --bench) \
      || echo "WARNING: bench $b ($side) failed in run $i; its finished rows are kept"
  done
}
new_dirs=(); base_dirs=()
for i in $(seq 1 "$runs"); do
  run_side base "$i"; base_dirs+=("$target/bench-raw/$stamp-base$i")
  run_side new "$i"; new_dirs+=("$target/bench-raw/$stamp-new$i")
done
python3 scripts/bench_report.py --out BENCHMARKS.md "${new_dirs[@]}" --before "${base_dirs[@]}"
