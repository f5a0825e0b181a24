//! The sequential fast path: exact coverage in every mode, truncation as an
//! error rather than a SIGBUS, and nothing left behind.

use std::fs::File;

use crate::common::*;
use xmmap::{page_size, ErrorKind, Limit, ScanOptions, ScanSummary};

/// The four ways a scan can run: (prefetch, background unmap).
const MODES: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

fn options(prefetch: bool, unmap: bool) -> ScanOptions {
    let mut o = ScanOptions::new();
    o.chunk_size(2 << 20).ahead(2).prefetch(Some(prefetch)).background_unmap(Some(unmap));
    o
}

/// Scans `file` and returns the bytes seen, in order, and the chunk lengths.
fn collect(o: &ScanOptions, file: &File) -> (Vec<u8>, Vec<usize>, ScanSummary) {
    let mut seen = Vec::new();
    let mut lens = Vec::new();
    // SAFETY: only this test touches the file.
    let summary = unsafe {
        o.scan(file, |chunk| {
            lens.push(chunk.len());
            seen.extend_from_slice(chunk);
        })
    }
    .unwrap();
    (seen, lens, summary)
}

#[test]
fn scan_hands_out_exactly_the_file_in_order_in_every_mode() {
    let page = page_size();
    let mib2 = 2 << 20;
    for size in [1, page - 1, page, page + 1, mib2 - 1, mib2, mib2 + 1, 3 * mib2 + page / 2] {
        let want = pattern(size);
        let f = TempFile::with(&want);
        for (prefetch, unmap) in MODES {
            let (seen, lens, summary) = collect(&options(prefetch, unmap), &f.read());
            assert!(seen == want, "size {size}, mode {prefetch}/{unmap}: bytes differ");
            assert_eq!(summary.bytes, size as u64);
            assert_eq!(lens.len(), size.div_ceil(mib2), "size {size}: one call per chunk");
            assert!(lens[..lens.len() - 1].iter().all(|&l| l == mib2));
            assert_eq!(summary.chunks, lens.len());
        }
    }
}

#[test]
fn scan_of_an_empty_file_never_calls_back() {
    let f = TempFile::with(b"");
    // SAFETY: only this test touches the file.
    let summary = unsafe { xmmap::scan(&f.read(), |_| panic!("called for an empty file")) };
    assert_eq!(summary.unwrap().bytes, 0);
}

#[test]
fn scan_rounds_the_chunk_size_to_2_mib() {
    let f = TempFile::with(&pattern((4 << 20) + 1));
    let (_, lens, summary) = collect(ScanOptions::new().chunk_size(1), &f.read());
    assert_eq!(summary.chunk_size, 2 << 20);
    assert_eq!(lens, vec![2 << 20, 2 << 20, 1]);
}

#[test]
fn scan_of_a_directory_is_not_mappable() {
    let dir = File::open(std::env::temp_dir()).unwrap();
    // SAFETY: nothing is mapped for a directory.
    let e = unsafe { xmmap::scan(&dir, |_| {}) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotMappable, "{e}");
}

#[test]
fn scan_checks_each_chunk_against_the_limit() {
    let f = TempFile::with(&pattern(3 << 20));
    let mut o = ScanOptions::new();
    o.chunk_size(2 << 20).limit(Limit::bytes(1 << 20));
    // SAFETY: refused before anything is mapped.
    let e = unsafe { o.scan(&f.read(), |_| panic!("called over the limit")) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::LimitExceeded { requested: 2 << 20, limit: 1 << 20 });
}

#[test]
fn scan_on_one_cpu_starts_no_helper_and_stays_exact() {
    let want = pattern((5 << 20) + 7);
    let f = TempFile::with(&want);
    let file = f.read();
    std::thread::scope(|s| {
        s.spawn(|| {
            // Pin this thread to one CPU: available_parallelism then says 1.
            // SAFETY: a zeroed cpu_set_t is a valid empty set.
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            // SAFETY: `set` is a valid cpu_set_t; CPU 0 exists on every machine.
            unsafe { libc::CPU_SET(0, &mut set) };
            // SAFETY: pid 0 is the calling thread; `set` is valid for its size.
            let rc = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
            assert_eq!(rc, 0, "sched_setaffinity");
            let (seen, _, summary) =
                collect(ScanOptions::new().chunk_size(2 << 20).prefetch(Some(true)), &file);
            assert!(seen == want, "bytes differ on one CPU");
            assert!(!summary.prefetched && !summary.unmapped_in_background, "{summary:?}");
        });
    });
}

/// Truncates the file in the first callback and expects the scan to end
/// with `Truncated`, not a SIGBUS. Runs in a child: a SIGBUS would kill it.
fn truncation_is_an_error(name: &str, prefetch: bool, unmap: bool) {
    if is_child(name) {
        let chunk = 2 << 20;
        let f = TempFile::with(&pattern(6 * chunk));
        let file = f.rw();
        let mut o = options(prefetch, unmap);
        // One chunk ahead: while chunk 0 is read, at most chunk 1 is
        // populated, and the cut falls in chunk 3, so no populated page is
        // cut and the scan must stop at chunk 3 with an error.
        o.ahead(1);
        let mut calls = 0;
        // SAFETY: the test truncates deliberately; the scan must report it.
        let r = unsafe {
            o.scan(&file, |_| {
                if calls == 0 {
                    file.set_len((3 * chunk + 100) as u64).unwrap();
                }
                calls += 1;
            })
        };
        let e = r.unwrap_err();
        assert_eq!(calls, 3, "no chunk past the truncation is handed out");
        // Broke: the offset was the chunk's start, not the first lost page
        // (the page holding the new end is still backed).
        let lost = (3 * chunk + page_size()) as u64;
        assert_eq!(e.kind(), &ErrorKind::Truncated { offset: lost }, "{e}");
        assert!(e.to_string().contains("shrank"), "{e}");
        std::process::exit(0);
    }
    let status = run_child(name);
    assert!(status.success(), "{status:?} (signal {:?})", signal_of(status));
}

#[test]
fn scan_reports_truncation_without_sigbus_when_alone() {
    truncation_is_an_error(this_test!(), false, false);
}

#[test]
fn scan_reports_truncation_without_sigbus_with_the_helper() {
    truncation_is_an_error(this_test!(), true, true);
}

/// Threads of this process now.
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn scan_leaves_no_mapping_or_thread_behind_on_success_error_or_panic() {
    let name = this_test!();
    if is_child(name) {
        let chunk = 2 << 20;
        let f = TempFile::with(&pattern(5 * chunk + 3));
        // Quiet panics, and one warm-up scan: the C library keeps the stack
        // of a finished thread for the next one, which is not a leak.
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&"callback panics") {
                default(info);
            }
        }));
        collect(&options(true, true), &f.read());
        let (maps, threads) = (map_count(), thread_count());
        for (prefetch, unmap) in MODES {
            let o = options(prefetch, unmap);
            let (seen, _, _) = collect(&o, &f.read());
            assert_eq!(seen.len(), 5 * chunk + 3);
            // A panic in the callback, in the middle of the file.
            let r = std::panic::catch_unwind(|| {
                let mut calls = 0;
                // SAFETY: only this test touches the file.
                let _ = unsafe {
                    o.scan(&f.read(), |_| {
                        calls += 1;
                        if calls == 2 {
                            panic!("callback panics");
                        }
                    })
                };
            });
            assert!(r.is_err());
            assert_eq!((map_count(), thread_count()), (maps, threads), "after a panic");
        }
        // An error: the file shrinks under the scan.
        let g = TempFile::with(&pattern(4 * chunk));
        let file = g.rw();
        let mut o = options(true, true);
        o.ahead(1);
        // SAFETY: the truncation is deliberate; the scan reports it.
        let r = unsafe { o.scan(&file, |_| file.set_len(100).unwrap()) };
        assert!(r.is_err());
        assert_eq!((map_count(), thread_count()), (maps, threads), "after an error");
        std::process::exit(0);
    }
    let status = run_child(name);
    assert!(status.success(), "{status:?} (signal {:?})", signal_of(status));
}

#[test]
fn scan_under_a_limit_below_the_file_size_maps_chunk_by_chunk() {
    let want = pattern((6 << 20) + 1);
    let f = TempFile::with(&want);
    let mut o = options(true, true);
    o.limit(Limit::bytes(4 << 20));
    let (seen, lens, summary) = collect(&o, &f.read());
    assert!(seen == want, "bytes differ");
    assert_eq!(lens.len(), 4);
    // The whole file may not be mapped at once, so no helper runs ahead.
    assert!(!summary.prefetched && !summary.unmapped_in_background, "{summary:?}");
}
