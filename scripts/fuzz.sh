#!/usr/bin/env bash
# Runs every cargo-fuzz target for a fixed time, starting from the committed
# seed corpus (fuzz/corpus/<target>), and prints execs, execs/s and findings.
#
#   scripts/fuzz.sh            long form: 300 s per target
#   scripts/fuzz.sh SECONDS    SECONDS per target
#   scripts/fuzz.sh --short    the CI smoke: 30 s per target
#
# Needs the nightly toolchain; installs cargo-fuzz (`cargo install
# cargo-fuzz --locked`) when it is missing. Without nightly it says so and
# exits 0: the corpus replay in `cargo test` (tests/integration/fuzz_corpus.rs)
# still runs the harnesses' checks.
#
# Environment: FUZZ_SANITIZER (address, the default, or none: then the
# harness also compares the process's total mapping count, which the
# sanitizer's allocator would disturb).
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the script;
# replay it with `cargo +nightly fuzz run <target> <file>`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=300
case "${1:-}" in
--short) seconds=30 ;;
"") ;;
*[!0-9]* | 0) echo "usage: $0 [--short | SECONDS]" >&2; exit 2 ;;
*) seconds=$1 ;;
esac
# Every target in fuzz/fuzz_targets/, each with its seeds in fuzz/corpus/<target>/.
targets=()
for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
sanitizer=${FUZZ_SANITIZER:-address}

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: skipped: the nightly toolchain is not installed (rustup toolchain install nightly)"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is missing; installing it (cargo install cargo-fuzz --locked)"
    start=$(date +%s)
    cargo install cargo-fuzz --locked --quiet
    echo "fuzz: installed $(cargo fuzz --version) in $(($(date +%s) - start)) s"
fi

strict=()
if [ "$sanitizer" = none ]; then strict=(env XMMAP_FUZZ_STRICT=1); fi

cd fuzz
start=$(date +%s)
cargo +nightly fuzz build --sanitizer "$sanitizer" >/dev/null 2>build.log || {
    cat build.log >&2
    exit 1
}
rm -f build.log
echo "fuzz: built ${targets[*]} (sanitizer $sanitizer) in $(($(date +%s) - start)) s"

status=0
for t in "${targets[@]}"; do
    work=target/corpus-run/$t
    mkdir -p "$work" "artifacts/$t"
    cp corpus/"$t"/* "$work"/
    log=target/fuzz-$t.log
    echo "fuzz: $t for $seconds s ..."
    if "${strict[@]}" cargo +nightly fuzz run --sanitizer "$sanitizer" "$t" "$work" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
        >"$log" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
        grep -E "panicked|ERROR|SUMMARY" "$log" | head -20 >&2 || true
    fi
    execs=$(awk -F: '/stat::number_of_executed_units/ {print $NF + 0}' "$log" | tail -1)
    rate=$(awk -F: '/stat::average_exec_per_sec/ {print $NF + 0}' "$log" | tail -1)
    units=$(find "$work" -type f | wc -l)
    crashes=$(find "artifacts/$t" -type f | wc -l)
    echo "fuzz: $t: $result: $execs execs in $seconds s ($rate execs/s), corpus $units inputs, $crashes crash files (log fuzz/$log)"
done
exit $status
