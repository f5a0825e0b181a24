#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and under valgrind memcheck.
#
#   scripts/sanitize.sh            both
#   scripts/sanitize.sh asan       AddressSanitizer only (needs nightly)
#   scripts/sanitize.sh valgrind   memcheck only (needs valgrind)
#
# AddressSanitizer: `-Zsanitizer=address` on nightly, without -Zbuild-std
# (xmmap's own code, the tests and the harness are instrumented; std is
# not). Its handlers for SIGSEGV and SIGBUS are off, so the tests that
# expect a child to die by those signals still see them. Leak detection is
# off: child tests leave through process::exit from inside the test
# harness, whose own allocations would be reported; mapping leaks are what
# xmmap can leak, and the count-based tests check those natively.
#
# Excluded under AddressSanitizer, and why:
#   core::every_mapping_is_released_after_drop, exhaustion::xmmap_limit_*,
#   scan::scan_leaves_no_mapping_or_thread_behind_*
#       compare /proc/self/maps counts, which the sanitizer's allocator changes;
#   core::out_of_memory_carries_gits_hint_*, exhaustion::a_small_rlimit_as_*
#       set RLIMIT_AS, and the sanitizer reserves 20 TiB of shadow memory;
#   exhaustion::running_out_of_mappings_*
#       uses up vm.max_map_count, and the sanitizer then cannot map its own.
# The bad-input table and the fuzz corpus replay run, without the total
# mapping count (XMMAP_SANITIZED=1).
#
# valgrind memcheck runs the library's unit tests and the integration test
# binary in-process, built with rustix's libc backend (`--cfg
# rustix_use_libc`: the raw-syscall backend reads the vDSO, which valgrind
# hides; rustix issue #1559); children (signal deaths, setrlimit, fork-free child
# tests) are re-executed natively, as valgrind does not follow them. Excluded
# under memcheck, and why:
#   core::hint_is_honoured_*, core::fixed_noreplace_*, core::fixed_replaces_*,
#   bad_input::*: valgrind's own address-space manager decides placement, so
#       hints and fixed addresses are not the kernel's;
#   exhaustion::xmmap_limit_*: its parent maps 64 TiB to show the kernel
#       refuses it, which valgrind cannot shadow;
#   regressions::remap_of_a_map_split_by_partial_advice_*: valgrind emulates
#       mremap over its own segment table and answers ENOMEM, not EFAULT;
#   core::shared_maps_are_shared_across_fork_*: fork under valgrind;
#   guard::*, source::positioned_reads_of_a_truncated_map_*,
#   window::a_file_truncated_under_a_window_*,
#   residency::tests::the_touch_fallback_stops_*: these fault on purpose
#       inside a guarded copy; valgrind emulates the copy instruction and
#       the signal frame, and reports the fault one byte later than the
#       kernel does (or, for the touch fallback, not at all);
#   residency::of_file_uses_cachestat_*: valgrind does not know
#       cachestat(2), so of_file falls back to mincore.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
target=x86_64-unknown-linux-gnu
status=0

asan() {
    if ! cargo +nightly --version >/dev/null 2>&1; then
        echo "asan: skipped: the nightly toolchain is not installed"
        return
    fi
    echo "== AddressSanitizer"
    XMMAP_SANITIZED=1 ASAN_OPTIONS=handle_segv=0:handle_sigbus=0:detect_leaks=0 \
        RUSTFLAGS=-Zsanitizer=address RUSTDOCFLAGS=-Zsanitizer=address \
        cargo +nightly test -q --target "$target" --target-dir target/asan -p xmmap --lib --tests -- \
        --skip core::every_mapping_is_released_after_drop \
        --skip scan::scan_leaves_no_mapping_or_thread_behind_on_success_error_or_panic \
        --skip core::out_of_memory_carries_gits_hint_with_current_values \
        --skip exhaustion:: || status=1
}

valgrind_run() {
    if ! command -v valgrind >/dev/null; then
        echo "valgrind: skipped: valgrind is not installed"
        return
    fi
    echo "== valgrind memcheck"
    local bins
    # rustix's raw-syscall backend reads the vDSO that valgrind hides
    # (rustix issue #1559): build with its libc backend instead.
    bins=$(RUSTFLAGS="--cfg rustix_use_libc" cargo test -q -p xmmap --lib --tests --no-run \
        --target-dir target/valgrind --message-format=json 2>/dev/null |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p')
    for bin in $bins; do
        echo "-- $(basename "$bin")"
        XMMAP_SANITIZED=1 valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite --show-possibly-lost=no "$bin" -q --test-threads=2 \
            --skip core::hint_is_honoured_when_the_range_is_free \
            --skip core::fixed_noreplace_reports_an_already_mapped_range \
            --skip core::fixed_replaces_a_range_we_own \
            --skip core::shared_maps_are_shared_across_fork_and_private_ones_are_not \
            --skip exhaustion::xmmap_limit_refuses_before_any_system_call \
            --skip regressions::remap_of_a_map_split_by_partial_advice_names_the_split \
            --skip bad_input:: \
            --skip guard:: \
            --skip source::positioned_reads_of_a_truncated_map_are_errors_not_sigbus \
            --skip window::a_file_truncated_under_a_window_is_an_error_not_sigbus \
            --skip residency::tests::the_touch_fallback_stops_at_end_of_file_with_an_error \
            --skip residency::of_file_uses_cachestat_where_the_kernel_has_it || status=1
    done
}

case $what in
asan) asan ;;
valgrind) valgrind_run ;;
all) asan; valgrind_run ;;
*) echo "usage: $0 [asan | valgrind | all]" >&2; exit 2 ;;
esac
exit $status
