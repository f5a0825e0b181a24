//! Guarded access: `read_at`/`write_at` against a naive model, truncation
//! and protection faults as errors, and the handler's manners towards every
//! other fault and every other handler.

use std::ffi::c_int;
use std::process::Stdio;

use crate::common::*;
use xmmap::{page_size, ErrorKind, Map, MapMut, MapOptions, MapRaw};

/// What `pread` on a file holding `data` would return.
fn model(data: &[u8], offset: u64, n: usize) -> &[u8] {
    let start = offset.min(data.len() as u64) as usize;
    let end = (start + n).min(data.len());
    &data[start..end]
}

/// The lengths and offsets where off-by-one errors live.
fn lengths(page: usize, len: usize) -> Vec<usize> {
    vec![0, 1, 7, page - 1, page, page + 1, 2 * page + 3, len, len + 1]
}

/// Compares `read` with the model at every offset of the first page, around
/// the end of the map and at huge offsets.
fn check_reads(read: impl Fn(u64, &mut [u8]) -> xmmap::Result<usize>, data: &[u8]) {
    let page = page_size();
    let len = data.len() as u64;
    let mut offsets: Vec<u64> = (0..=page as u64).collect();
    offsets.extend((len.saturating_sub(page as u64 + 2))..len + 3);
    offsets.extend([len + page as u64, 1 << 40, u64::MAX / 2, u64::MAX - 2 * page as u64 - 8]);
    let all = lengths(page, data.len());
    let mut buf = vec![0; data.len() + 1];
    let untouched = vec![0xEE; data.len() + 1];
    for &off in &offsets {
        for &n in &all {
            let buf = &mut buf[..n];
            buf.fill(0xEE);
            if off.checked_add(n as u64).is_none() {
                let e = read(off, buf).unwrap_err();
                assert_eq!(*e.kind(), ErrorKind::InvalidInput, "read_at({off}, {n}): {e}");
                continue;
            }
            let got = read(off, buf).unwrap_or_else(|e| panic!("read_at({off}, {n}): {e}"));
            let want = model(data, off, n);
            assert_eq!(got, want.len(), "read_at({off}, {n}) count");
            assert!(buf[..got] == *want, "read_at({off}, {n}) bytes");
            assert!(buf[got..] == untouched[got..n], "read_at({off}, {n}) wrote past count");
        }
    }
    for off in [u64::MAX, u64::MAX - 3] {
        let e = read(off, &mut [0; 8]).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::InvalidInput, "read_at({off}, 8): {e}");
    }
}

#[test]
fn read_at_matches_pread_at_every_offset_of_a_page_and_the_end_of_the_map() {
    let page = page_size();
    let data = pattern(3 * page + 123);
    let f = TempFile::with(&data);
    let file = f.rw();
    // SAFETY: only this test touches the file.
    let map = unsafe { Map::map(&file).unwrap() };
    check_reads(|o, b| map.read_at(o, b), &data);
    // SAFETY: as above.
    let map_mut = unsafe { MapMut::map_mut(&file).unwrap() };
    check_reads(|o, b| map_mut.read_at(o, b), &data);
    let raw = MapRaw::map(&file).unwrap();
    check_reads(|o, b| raw.read_at(o, b), &data);
    // A map that starts mid-page.
    let raw = MapOptions::new().offset(13).map_raw_read_only(&file).unwrap();
    check_reads(|o, b| raw.read_at(o, b), &data[13..]);
}

#[test]
fn write_at_matches_pwrite_at_every_offset_of_a_page_and_the_end_of_the_map() {
    let page = page_size();
    let len = 2 * page + 77;
    let f = TempFile::with(&vec![0; len]);
    let file = f.rw();
    let raw = MapRaw::map(&file).unwrap();
    let mut anon = MapMut::map_anon(len).unwrap();
    let mut want = vec![0u8; len];
    let mut offsets: Vec<u64> = (0..=page as u64).step_by(3).collect();
    offsets.extend((len - page - 2) as u64..len as u64 + 3);
    offsets.extend([1 << 40, u64::MAX / 2]);
    let mut stamp = 0u8;
    for &off in &offsets {
        for n in lengths(page, len) {
            stamp = stamp.wrapping_add(1) | 1;
            let src = vec![stamp; n];
            let expect = model(&want, off, n).len();
            assert_eq!(raw.write_at(off, &src).unwrap(), expect, "MapRaw::write_at({off}, {n})");
            assert_eq!(anon.write_at(off, &src).unwrap(), expect, "MapMut::write_at({off}, {n})");
            if expect > 0 {
                want[off as usize..off as usize + expect].fill(stamp);
            }
        }
    }
    assert_eq!(
        *raw.write_at(u64::MAX - 1, &[1, 2, 3]).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(*anon.write_at(u64::MAX, &[1]).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert!(anon[..] == want[..]);
    raw.flush().unwrap();
    assert!(f.contents() == want);
}

#[test]
fn an_empty_map_reads_and_writes_nothing_at_any_offset() {
    let f = TempFile::with(b"");
    let raw = MapRaw::map(&f.rw()).unwrap();
    assert!(raw.is_empty());
    for off in [0, 1, 1 << 40, u64::MAX / 2] {
        assert_eq!(raw.read_at(off, &mut [0; 16]).unwrap(), 0);
        assert_eq!(raw.write_at(off, &[1; 16]).unwrap(), 0);
    }
    assert_eq!(*raw.read_at(u64::MAX, &mut [0; 2]).unwrap_err().kind(), ErrorKind::InvalidInput);
    let mut anon = MapOptions::new().len(0).map_anon().unwrap();
    assert_eq!(anon.read_at(0, &mut [0; 4]).unwrap(), 0);
    assert_eq!(anon.write_at(0, &[1; 4]).unwrap(), 0);
}

#[test]
fn truncated_file_gives_truncated_with_the_first_missing_byte_then_reads_again_when_regrown() {
    let page = page_size();
    let data = pattern(4 * page);
    let f = TempFile::with(&data);
    let file = f.rw();
    let raw = MapRaw::map(&file).unwrap();
    // SAFETY: the test reads this map only through the guarded read_at.
    let map = unsafe { Map::map(&file).unwrap() };

    file.set_len((page + 100) as u64).unwrap();
    let mut buf = vec![0xEE; 4 * page];
    for read in [raw.read_at(0, &mut buf), map.read_at(0, &mut buf)] {
        let e = read.unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Truncated { offset: 2 * page as u64 }, "{e}");
        assert!(e.to_string().contains("truncated"), "{e}");
    }
    // The bytes before the missing page were copied: the file, then the
    // zeroed tail of its last page.
    assert!(buf[..page + 100] == data[..page + 100]);
    assert!(buf[page + 100..2 * page].iter().all(|&b| b == 0));
    let e = raw.read_at(3 * page as u64 + 5, &mut buf[..10]).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Truncated { offset: 3 * page as u64 + 5 });
    let e = raw.write_at(2 * page as u64 - 1, &[7; 3]).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Truncated { offset: 2 * page as u64 });
    // What is still backed reads fine.
    assert_eq!(raw.read_at(page as u64, &mut buf[..page]).unwrap(), page);

    file.set_len(4 * page as u64).unwrap();
    assert_eq!(raw.read_at(0, &mut buf).unwrap(), 4 * page);
    assert!(buf[..page + 100] == data[..page + 100]);
    assert!(buf[page + 100..].iter().all(|&b| b == 0));
    assert_eq!(raw.write_at(3 * page as u64, b"back").unwrap(), 4);
    assert_eq!(map.read_at(3 * page as u64, &mut buf[..4]).unwrap(), 4);
    assert_eq!(&buf[..4], b"back");
}

#[test]
fn prot_none_and_read_only_maps_give_fault_not_a_signal() {
    let page = page_size();
    let f = TempFile::with(&pattern(2 * page));
    // SAFETY: only this test touches the file.
    let none = unsafe { Map::map(&f.read()).unwrap() }.make_none().unwrap();
    let e = none.read_at(page as u64 + 3, &mut [0; 10]).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Fault { offset: page as u64 + 3 }, "{e}");
    let e = none.write_at(0, &[1; 10]).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Fault { offset: 0 }, "{e}");

    let read_only = MapRaw::map_read_only(&f.rw()).unwrap();
    let e = read_only.write_at(5, &[1; 10]).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Fault { offset: 5 }, "{e}");
    assert_eq!(read_only.read_at(5, &mut [0; 10]).unwrap(), 10);
    assert!(f.contents() == pattern(2 * page));
}

#[test]
fn many_threads_read_a_half_truncated_map_at_once() {
    let page = page_size();
    let pages = 16;
    let data = pattern(pages * page);
    let f = TempFile::with(&data);
    let file = f.rw();
    let raw = MapRaw::map(&file).unwrap();
    let backed = 7 * page;
    file.set_len(backed as u64).unwrap();
    std::thread::scope(|s| {
        for t in 0..8u64 {
            let raw = &raw;
            let data = &data;
            s.spawn(move || {
                let mut rng = Rng(t.wrapping_mul(0x9E37_79B9_7F4A_7C15) + 1);
                let mut buf = vec![0; 3 * page];
                for _ in 0..3000 {
                    let seed = rng.next();
                    let off = (seed % (pages * page) as u64) as usize;
                    let n = (seed >> 40) as usize % (3 * page) + 1;
                    let end = (off + n).min(pages * page);
                    match raw.read_at(off as u64, &mut buf[..n]) {
                        Ok(got) => {
                            assert!(end <= backed, "read {off}..{end} past {backed} succeeded");
                            assert_eq!(got, end - off);
                            assert!(buf[..got] == data[off..end]);
                        }
                        Err(e) => {
                            assert!(end > backed, "read {off}..{end} failed: {e}");
                            let first = off.max(backed) as u64;
                            assert_eq!(*e.kind(), ErrorKind::Truncated { offset: first });
                        }
                    }
                }
            });
        }
    });
}

/// The signal numbers the child tests expect (Linux, every architecture).
const SIGABRT: i32 = 6;
const SIGBUS: i32 = 7;
const SIGSEGV: i32 = 11;

/// A two-page file whose map is truncated to nothing, with the guard
/// handler already installed by a guarded read.
fn truncated_map_with_guard_installed() -> (TempFile, Map) {
    let page = page_size();
    let f = TempFile::with(&pattern(2 * page));
    let file = f.rw();
    // SAFETY: the deadly touch is the point of the test; it runs in a child.
    let map = unsafe { Map::map(&file).unwrap() };
    assert_eq!(map.read_at(0, &mut [0; 8]).unwrap(), 8);
    file.set_len(0).unwrap();
    let e = map.read_at(page as u64, &mut [0; 8]).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Truncated { offset: page as u64 });
    (f, map)
}

/// Reads one byte of `map` at `offset` the plain way (no guard).
fn touch(map: &Map, offset: usize) -> u8 {
    // SAFETY: in bounds; whether the page is backed is what the test is about.
    unsafe { std::ptr::read_volatile(map.as_ptr().add(offset)) }
}

#[test]
fn a_plain_deref_of_a_truncated_page_still_dies_of_sigbus() {
    let name = this_test!();
    if is_child(name) {
        let (_f, map) = truncated_map_with_guard_installed();
        let byte = map[page_size()];
        println!("survived with {byte}");
        std::process::exit(0);
    }
    assert_eq!(signal_of(run_child(name)), Some(SIGBUS));
}

extern "C" fn exit_42(_sig: c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(42) }
}

extern "C" fn exit_43(_sig: c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(43) }
}

#[test]
fn a_sigbus_handler_installed_before_ours_still_gets_its_own_faults() {
    let name = this_test!();
    if is_child(name) {
        let siginfo = std::env::var("XMMAP_TEST_HANDLER").is_ok_and(|v| v == "siginfo");
        // SAFETY: all-zero is a valid sigaction; the handlers only _exit.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            if siginfo {
                sa.sa_sigaction = exit_42 as *const () as libc::sighandler_t;
                sa.sa_flags = libc::SA_SIGINFO;
            } else {
                sa.sa_sigaction = exit_43 as *const () as libc::sighandler_t;
            }
            assert_eq!(libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut()), 0);
        }
        // xmmap's handler is installed now, on top of the test's, and claims
        // the guarded fault; the plain one goes to the test's handler.
        let (_f, map) = truncated_map_with_guard_installed();
        touch(&map, page_size());
        std::process::exit(0);
    }
    let status = run_child_with(name, &[("XMMAP_TEST_HANDLER", "siginfo")]);
    assert_eq!(status.code(), Some(42), "{status:?}");
    let status = run_child_with(name, &[("XMMAP_TEST_HANDLER", "plain")]);
    assert_eq!(status.code(), Some(43), "{status:?}");
}

#[test]
fn an_ignored_sigbus_still_kills_on_a_plain_fault_as_without_the_handler() {
    let name = this_test!();
    if is_child(name) {
        // SAFETY: SIG_IGN is a valid disposition.
        unsafe { libc::signal(libc::SIGBUS, libc::SIG_IGN) };
        let (_f, map) = truncated_map_with_guard_installed();
        touch(&map, page_size());
        std::process::exit(0);
    }
    assert_eq!(signal_of(run_child(name)), Some(SIGBUS));
}

/// Runs `test` in a child and returns its signal and its stderr.
fn run_child_stderr(test: &str) -> (Option<i32>, String) {
    let proof = Proof::new(test);
    let out = child_command(test, &proof).stdin(Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(proof.proved(), "{stderr}");
    proof.check(out.status);
    (signal_of(out.status), stderr)
}

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let pad = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + pad[3]
}

#[test]
fn a_stack_overflow_is_still_reported_by_rust_after_the_handler_is_installed() {
    let name = this_test!();
    if is_child(name) {
        let (_f, _map) = truncated_map_with_guard_installed();
        // A thread of our own: a known stack size and an alternate signal stack.
        let t = std::thread::Builder::new().stack_size(256 << 10).spawn(|| recurse(0));
        println!("{}", t.unwrap().join().unwrap());
        std::process::exit(0);
    }
    let (signal, stderr) = run_child_stderr(name);
    assert_eq!(signal, Some(SIGABRT), "{stderr}");
    assert!(stderr.contains("has overflowed its stack"), "{stderr}");
}

#[test]
fn a_plain_touch_of_a_prot_none_map_still_dies_of_sigsegv() {
    let name = this_test!();
    if is_child(name) {
        let (_f, map) = truncated_map_with_guard_installed();
        let none = map.make_none().unwrap();
        assert!(matches!(
            none.read_at(0, &mut [0; 4]).unwrap_err().kind(),
            ErrorKind::Fault { .. }
        ));
        // SAFETY: in bounds; the fault is the point of the test.
        let byte = unsafe { std::ptr::read_volatile(none.as_ptr()) };
        println!("survived with {byte}");
        std::process::exit(0);
    }
    assert_eq!(signal_of(run_child(name)), Some(SIGSEGV));
}

/// Waits for a child, killing it (and failing) if it has not ended in a
/// minute: a handler that re-enters forever must fail the test, not hang it.
fn wait_or_kill(mut child: std::process::Child) -> std::process::ExitStatus {
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("child hung: {:?}", child.wait());
}

/// Regression: a thread that blocks every signal (as sigwait/signalfd
/// threads do) was killed by a guarded read of a truncated page.
#[test]
fn a_thread_blocking_every_signal_gets_truncated_not_killed() {
    let name = this_test!();
    if is_child(name) {
        let page = page_size();
        let f = TempFile::with(&pattern(2 * page));
        let file = f.rw();
        let raw = MapRaw::map(&file).unwrap();
        file.set_len(0).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: all-zero then sigfillset is a valid full set.
                unsafe {
                    let mut all: libc::sigset_t = std::mem::zeroed();
                    libc::sigfillset(&mut all);
                    assert_eq!(
                        libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut()),
                        0
                    );
                }
                if POSIX {
                    // No kernel copy there: refused, not copied and not killed.
                    let mut buf = [7; 8];
                    assert_unsupported(raw.read_at(0, &mut buf), "blocks SIGBUS or SIGSEGV");
                    assert_eq!(buf, [7; 8], "nothing was copied");
                    assert_unsupported(raw.write_at(3, &[1; 8]), "blocks SIGBUS or SIGSEGV");
                    return;
                }
                let e = raw.read_at(page as u64, &mut [0; 8]).unwrap_err();
                assert_eq!(*e.kind(), ErrorKind::Truncated { offset: page as u64 });
                let e = raw.write_at(3, &[1; 8]).unwrap_err();
                assert_eq!(*e.kind(), ErrorKind::Truncated { offset: 3 });
            });
        });
        std::process::exit(0);
    }
    let status = run_child(name);
    assert_eq!(status.code(), Some(0), "{status:?}");
}

extern "C" fn return_quietly(_sig: c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {}

/// Installs on SIGBUS a one-shot (`SA_RESETHAND`) handler that only returns.
fn install_one_shot_quiet_sigbus() {
    // SAFETY: all-zero is a valid sigaction; the handler only returns.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = return_quietly as *const () as libc::sighandler_t;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESETHAND;
        assert_eq!(libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut()), 0);
    }
}

extern "C" fn exit_with_signal(sig: c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(100 + sig) }
}

static NODEFER_DEPTH: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Raises the signal again from inside itself: with SA_NODEFER the nested
/// delivery runs at once and exits 60 + depth; without, it would stay pending.
extern "C" fn nodefer_reraise(sig: c_int) {
    let depth = NODEFER_DEPTH.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if depth >= 1 {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(61) }
    }
    // SAFETY: raise is async-signal-safe.
    unsafe { libc::raise(sig) };
    // SAFETY: as above.
    unsafe { libc::_exit(60) }
}

/// Installs the handler `XMMAP_TEST_PREV` names on SIGBUS.
fn install_prev() {
    let which = std::env::var("XMMAP_TEST_PREV").unwrap_or_default();
    // SAFETY: all-zero is a valid sigaction; the handlers are async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        match which.as_str() {
            "resethand" => {
                sa.sa_sigaction = return_quietly as *const () as libc::sighandler_t;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESETHAND;
            }
            "plain" => sa.sa_sigaction = exit_with_signal as *const () as libc::sighandler_t,
            "nodefer" => {
                sa.sa_sigaction = nodefer_reraise as *const () as libc::sighandler_t;
                sa.sa_flags = libc::SA_NODEFER;
            }
            other => panic!("unknown XMMAP_TEST_PREV {other:?}"),
        }
        assert_eq!(libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut()), 0);
    }
}

/// Regression: a previous SA_RESETHAND handler that returns was entered
/// again forever (the fault looped) instead of the fault killing; plain and
/// SA_NODEFER handlers are chained as the kernel would call them, whether
/// installed before or after xmmap's.
#[test]
fn a_previous_handler_is_chained_with_its_own_flags() {
    let name = this_test!();
    if is_child(name) {
        let after = std::env::var("XMMAP_TEST_ORDER").is_ok_and(|v| v == "after");
        if !after {
            install_prev();
        }
        let (_f, map) = truncated_map_with_guard_installed();
        if after {
            // Installed over ours: the kernel calls it directly.
            install_prev();
        }
        touch(&map, page_size());
        std::process::exit(0);
    }
    for order in ["before", "after"] {
        let run = |prev: &str| {
            let env = [("XMMAP_TEST_PREV", prev), ("XMMAP_TEST_ORDER", order)];
            let proof = Proof::new(name);
            let mut cmd = child_command(name, &proof);
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
            cmd.envs(env);
            let status = wait_or_kill(cmd.spawn().unwrap());
            proof.check(status);
            status
        };
        let status = run("resethand");
        assert_eq!(signal_of(status), Some(SIGBUS), "{order}: {status:?}");
        let status = run("plain");
        assert_eq!(status.code(), Some(100 + SIGBUS), "{order}: {status:?}");
        let status = run("nodefer");
        assert_eq!(status.code(), Some(61), "{order}: {status:?}");
    }
}

/// Regression: `kill(getpid(), SIGBUS)` handled by the handler before ours
/// (Rust's resets itself to SIG_DFL) left the guard gone, and the next
/// guarded read of a truncated page killed the process; so did anyone
/// setting SIGBUS to SIG_DFL after xmmap installed its handler.
#[test]
fn a_sent_sigbus_or_a_reset_disposition_leaves_the_guard_working() {
    let name = this_test!();
    if is_child(name) {
        let how = std::env::var("XMMAP_TEST_HOW").unwrap_or_default();
        if how == "kill" {
            install_one_shot_quiet_sigbus();
        }
        let (_f, map) = truncated_map_with_guard_installed();
        // SAFETY: kill and signal with valid arguments.
        unsafe {
            if how == "kill" {
                assert_eq!(libc::kill(libc::getpid(), libc::SIGBUS), 0);
            } else {
                libc::signal(libc::SIGBUS, libc::SIG_DFL);
            }
        }
        let e = map.read_at(page_size() as u64, &mut [0; 8]).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Truncated { offset: page_size() as u64 });
        std::process::exit(0);
    }
    for how in ["kill", "dfl"] {
        let status = run_child_with(name, &[("XMMAP_TEST_HOW", how)]);
        assert_eq!(status.code(), Some(0), "{how}: {status:?}");
    }
}

/// Regression: a one-shot (SA_RESETHAND) handler saved before ours was
/// called again on every later signal once the guard had re-installed
/// itself; the kernel runs it once, and the next such signal takes the
/// default action.
#[test]
fn a_one_shot_previous_handler_runs_once_even_after_the_guard_reinstalls() {
    let name = this_test!();
    if is_child(name) {
        install_one_shot_quiet_sigbus();
        let (_f, map) = truncated_map_with_guard_installed();
        // SAFETY: kill with valid arguments; the one-shot handler returns.
        assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGBUS) }, 0);
        // The guard re-installs itself and still turns the fault into an error.
        let e = map.read_at(page_size() as u64, &mut [0; 8]).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Truncated { offset: page_size() as u64 });
        // The one-shot handler is spent: this one takes the default action.
        // SAFETY: as above.
        unsafe { libc::kill(libc::getpid(), libc::SIGBUS) };
        std::process::exit(0);
    }
    assert_eq!(signal_of(run_child(name)), Some(libc::SIGBUS));
}

/// The SIGBUS disposition as it is now.
fn sigbus_handler_now() -> libc::sighandler_t {
    // SAFETY: a query into an all-zero sigaction.
    unsafe {
        let mut cur: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut cur), 0);
        cur.sa_sigaction
    }
}

/// Regression: a handler installed over xmmap's (a crash reporter's, a
/// runtime's, or "ignore") was replaced by xmmap's at the next guarded
/// copy, and from then on never saw a fault again: the guard chained to the
/// handler saved before it. It now stays installed and keeps its faults;
/// guarded copies still report the truncation (the kernel copies them on
/// Linux) or, on POSIX, are refused naming the handler in the way.
#[test]
fn a_handler_installed_over_ours_stays_installed_and_keeps_its_faults() {
    let name = this_test!();
    if is_child(name) {
        let theirs = match std::env::var("XMMAP_TEST_THEIRS").unwrap_or_default().as_str() {
            "handler" => exit_with_signal as *const () as libc::sighandler_t,
            "ignore" => libc::SIG_IGN,
            other => panic!("unknown XMMAP_TEST_THEIRS {other:?}"),
        };
        let (_f, map) = truncated_map_with_guard_installed();
        // SAFETY: installs an async-signal-safe handler, or SIG_IGN.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = theirs;
            assert_eq!(libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut()), 0);
        }
        for _ in 0..3 {
            let page = page_size() as u64;
            let r = map.read_at(page, &mut [0; 8]);
            if POSIX {
                assert_unsupported(r, "installed over xmmap's");
            } else {
                assert_eq!(*r.unwrap_err().kind(), ErrorKind::Truncated { offset: page });
            }
            assert_eq!(sigbus_handler_now(), theirs, "the guarded copy took SIGBUS back");
        }
        // Theirs gets the plain fault: it exits 100 + SIGBUS; under "ignore"
        // the kernel kills with SIGBUS.
        touch(&map, page_size());
        std::process::exit(0);
    }
    let status = run_child_with(name, &[("XMMAP_TEST_THEIRS", "handler")]);
    assert_eq!(status.code(), Some(100 + SIGBUS), "{status:?}");
    let status = run_child_with(name, &[("XMMAP_TEST_THEIRS", "ignore")]);
    assert_eq!(signal_of(status), Some(SIGBUS), "{status:?}");
}

/// Regression: the copy routine was `global_asm!` with a fixed global symbol
/// (`xmmap_guard_copy_v1`), so two versions of xmmap in one binary failed to
/// link with a duplicate symbol. The copy now has only local labels: no
/// symbol of that family may be left in this binary, which links xmmap.
#[test]
fn the_guarded_copy_emits_no_fixed_symbol_that_two_versions_would_share() {
    let exe = std::env::current_exe().unwrap();
    let Ok(out) = std::process::Command::new("nm").arg(&exe).stderr(Stdio::null()).output() else {
        skipped_here(this_test!(), "no nm on this machine (binutils)");
        return;
    };
    assert!(out.status.success(), "nm {}", exe.display());
    let symbols = String::from_utf8_lossy(&out.stdout);
    assert!(symbols.lines().count() > 100, "nm listed too few symbols to judge");
    let fixed: Vec<&str> = symbols.lines().filter(|l| l.contains("xmmap_guard")).collect();
    assert!(fixed.is_empty(), "{fixed:?}");
}

/// With the signal checks skipped (`assume_signals_untouched`, process-wide,
/// so in a child), guarded reads and writes of a truncated page still give
/// `Truncated`, through a map and through the window cache, whose short
/// reads then go through the window rather than `pread`.
#[test]
fn with_signals_assumed_untouched_a_truncated_page_is_still_truncated() {
    let name = this_test!();
    if is_child(name) {
        assert!(!xmmap::guard::signals_assumed_untouched());
        // SAFETY: this child blocks no signals and installs no handlers.
        unsafe { xmmap::guard::assume_signals_untouched() };
        assert!(xmmap::guard::signals_assumed_untouched());
        let page = page_size();
        let f = TempFile::with(&pattern(2 * page));
        let file = f.rw();
        let raw = MapRaw::map(&file).unwrap();
        let cache = xmmap::WindowConfig::new().window_size(2 * page as u64).build().unwrap();
        let h = cache.open(&f.path).unwrap();
        // SAFETY: nothing writes the file while the cursor lives.
        let mut cursor = unsafe { cache.cursor(h).unwrap() };
        assert!(cursor.at(0).unwrap().len() >= 8); // maps the window
        drop(cursor);
        let before = cache.stats();
        let mut buf = [0; 8];
        assert_eq!(cache.read_at(h, 0, &mut buf).unwrap(), 8);
        assert_eq!(buf[..], pattern(8)[..]);
        let s = cache.stats();
        assert_eq!(
            (s.hits - before.hits, s.mapped_reads - before.mapped_reads, s.pread_reads),
            (1, 1, 0),
            "a short hit is copied from the window once copies make no system call:\n{s}"
        );
        file.set_len(page as u64).unwrap();
        let e = raw.read_at(page as u64, &mut [0; 8]).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Truncated { offset: page as u64 });
        let e = raw.write_at(page as u64 + 3, &[1; 8]).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Truncated { offset: page as u64 + 3 });
        let e = cache.read_at(h, page as u64, &mut buf).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Truncated { offset: page as u64 }, "{e}");
        std::process::exit(0);
    }
    let status = run_child(name);
    assert_eq!(status.code(), Some(0), "{status:?}");
}

/// What the promise of `assume_signals_untouched` is for: broken (a thread
/// blocks SIGBUS), a guarded read of a truncated page dies of SIGBUS where
/// the checks would have given `Truncated` (or `Unsupported` on POSIX). Where
/// the kernel does the copy (Linux off x86_64) there are no checks to skip.
#[test]
fn with_signals_assumed_untouched_a_thread_blocking_sigbus_is_not_checked() {
    let name = this_test!();
    if is_child(name) {
        // SAFETY: this child breaks the promise on purpose: the parent
        // expects it to die of SIGBUS.
        unsafe { xmmap::guard::assume_signals_untouched() };
        let page = page_size();
        let f = TempFile::with(&pattern(2 * page));
        let file = f.rw();
        let raw = MapRaw::map(&file).unwrap();
        raw.read_at(0, &mut [0; 8]).unwrap(); // installs the handler
        file.set_len(0).unwrap();
        // SAFETY: all-zero then sigaddset is a valid set.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGBUS);
            assert_eq!(libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()), 0);
        }
        let e = raw.read_at(0, &mut [0; 8]).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Truncated { offset: 0 });
        std::process::exit(0);
    }
    let status = run_child(name);
    if cfg!(target_arch = "x86_64") || POSIX {
        assert_eq!(signal_of(status), Some(libc::SIGBUS), "{status:?}");
    } else {
        assert_eq!(status.code(), Some(0), "{status:?}");
    }
}
