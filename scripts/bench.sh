#!/usr/bin/env bash
# Runs the benchmark harness: every section, side by side, printed as ratios.
#   scripts/bench.sh                 full run
#   scripts/bench.sh --quick         quick mode (under 2 minutes); or XMMAP_BENCH_QUICK=1
#   scripts/bench.sh scan map        only the sections whose names start so
#   scripts/bench.sh --repeat=3      three runs, then the median of every ratio
# XMMAP_BENCH_SIZE=BYTES sets the size of the big scan file (default 1 GiB).
# The focused benches live beside the harness in bench/benches/:
#   cargo bench -p xmmap-bench --bench guard|window|crossover
#   cargo bench -p xmmap-bench --bench compat --features memmap2-compat
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -q -p xmmap-bench --bench harness -- "$@"
