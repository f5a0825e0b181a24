//! The core: one test for each statement of DESIGN.md's "What the system
//! must honour", plus the error contract.

use crate::common::*;
use xmmap::{page_size, ErrorKind, MapOptions};

#[test]
fn tail_of_last_page_reads_zeros_and_writes_there_never_reach_the_file() {
    let page = page_size();
    let f = TempFile::with(&pattern(page + 10));
    let file = f.rw();
    // SAFETY: only this test touches the file.
    let mut map = unsafe { MapOptions::new().map_mut(&file).unwrap() };
    assert_eq!(map.len(), page + 10);
    // The rest of the last page is mapped and reads as zeros.
    // SAFETY: the partial last page is mapped in full by the kernel.
    let tail =
        unsafe { std::slice::from_raw_parts_mut(map.as_mut_ptr().add(page + 10), page - 10) };
    assert!(tail.iter().all(|&b| b == 0));
    tail.fill(0xAA);
    map.flush().unwrap();
    drop(map);
    assert_eq!(f.contents(), pattern(page + 10));
}

#[test]
fn touching_a_page_wholly_past_end_of_file_raises_sigbus() {
    let name = this_test!();
    if is_child(name) {
        let page = page_size();
        let f = TempFile::with(&pattern(10));
        // SAFETY: deliberately touches past end-of-file; this is the child.
        let map = unsafe { MapOptions::new().len(3 * page).map(&f.read()).unwrap() };
        assert_eq!(map.len(), 3 * page);
        assert_eq!(map[page - 1], 0, "the partial page reads as zeros");
        let _ = std::hint::black_box(map[2 * page]);
        std::process::exit(0); // not reached: SIGBUS
    }
    let status = run_child(name);
    assert_eq!(signal_of(status), Some(libc::SIGBUS), "{status:?}");
}

#[test]
fn closing_the_descriptor_does_not_unmap() {
    let f = TempFile::with(b"still here");
    let file = f.read();
    // SAFETY: only this test touches the file.
    let map = unsafe { MapOptions::new().map(&file).unwrap() };
    drop(file);
    drop(f); // even the path is gone
    assert_eq!(&map[..], b"still here");
}

#[test]
fn shared_writes_are_seen_by_a_second_map_and_reach_the_file() {
    let f = TempFile::with(&[0u8; 64]);
    // SAFETY: only this test touches the file.
    let mut a = unsafe { MapOptions::new().map_mut(&f.rw()).unwrap() };
    // SAFETY: as above; `b` only reads what `a` wrote through the same pages.
    let b = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    a[..5].copy_from_slice(b"hello");
    assert_eq!(&b[..5], b"hello");
    a.flush_range(0, 5).unwrap();
    assert_eq!(&f.contents()[..5], b"hello");
}

/// Runs `child` in a forked process (which must only touch memory) and
/// returns its exit code.
fn in_fork(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only writes memory and calls _exit, both
    // async-signal-safe, so forking a multi-threaded test binary is sound.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = child();
        // SAFETY: _exit ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child died: {status:#x}");
    libc::WEXITSTATUS(status)
}

#[test]
fn shared_maps_are_shared_across_fork_and_private_ones_are_not() {
    let f = TempFile::with(&[0u8; 16]);
    // SAFETY: only this test (and its fork child) touches the file.
    let mut shared = unsafe { MapOptions::new().map_mut(&f.rw()).unwrap() };
    let mut anon = MapOptions::new().len(16).map_anon_shared().unwrap();
    let mut private = MapOptions::new().len(16).map_anon().unwrap();
    let (sp, ap, pp) = (shared.as_mut_ptr(), anon.as_mut_ptr(), private.as_mut_ptr());
    let code = in_fork(|| {
        // SAFETY: the pointers are valid in the child's copy of the address space.
        unsafe {
            *sp = 1;
            *ap = 2;
            *pp = 3;
        }
        0
    });
    assert_eq!(code, 0);
    assert_eq!(shared[0], 1, "file-backed shared map sees the child's write");
    assert_eq!(anon[0], 2, "anonymous shared map sees the child's write");
    assert_eq!(private[0], 0, "private map does not");
}

#[test]
fn private_writes_are_invisible_to_other_maps_and_the_file() {
    let f = TempFile::with(b"original");
    // SAFETY: only this test touches the file.
    let mut cow = unsafe { MapOptions::new().map_copy(&f.read()).unwrap() };
    // SAFETY: as above.
    let other = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    cow[..3].copy_from_slice(b"NEW");
    assert_eq!(&cow[..], b"NEWginal");
    assert_eq!(&other[..], b"original");
    cow.flush().unwrap(); // msync on a private map writes nothing
    assert_eq!(f.contents(), b"original");
    // map_copy_read_only then make_mut is copy-on-write too.
    // SAFETY: as above.
    let ro = unsafe { MapOptions::new().map_copy_read_only(&f.read()).unwrap() };
    let mut rw = ro.make_mut().unwrap();
    rw[0] = b'X';
    assert_eq!(f.contents(), b"original");
}

#[test]
fn protection_transitions_round_trip() {
    let page = page_size();
    let m = MapOptions::new().len(page).map_anon().unwrap();
    let r = m.make_read_only().unwrap();
    let x = r.make_exec().unwrap();
    let mut w = x.make_mut().unwrap();
    w[0] = 42;
    let none = w.make_none().unwrap();
    assert_eq!(none.len(), page);
    let mut raw = none;
    raw.protect(xmmap::Protection::READ).unwrap();
    // SAFETY: readable again, and the byte was written before PROT_NONE.
    assert_eq!(unsafe { *raw.as_ptr() }, 42);
    let e = raw.protect(xmmap::Protection::WRITE | xmmap::Protection::EXEC).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
}

#[test]
fn writing_a_read_only_map_and_touching_prot_none_fault() {
    let name = this_test!();
    if is_child(name) {
        let m = MapOptions::new().len(page_size()).map_anon().unwrap();
        let raw = m.make_none().unwrap();
        // SAFETY: deliberately touches a PROT_NONE page; this is the child.
        let _ = unsafe { std::ptr::read_volatile(raw.as_ptr()) };
        std::process::exit(0);
    }
    assert_eq!(signal_of(run_child(name)), Some(libc::SIGSEGV));
}

#[test]
fn a_write_map_over_a_read_only_descriptor_is_refused_clearly() {
    let f = TempFile::with(b"data");
    // SAFETY: the call fails before mapping.
    let e = unsafe { MapOptions::new().map_mut(&f.read()) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("read-only"), "{e}");
    assert!(e.to_string().contains(&f.path.display().to_string()), "{e}");
    // A raw map of a read-only descriptor is read-only, and fine.
    assert_eq!(MapOptions::new().map_raw(&f.read()).unwrap().len(), 4);
    // Making a shared read-only map writable fails in the kernel: EACCES.
    // SAFETY: only this test touches the file.
    let m = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    assert_eq!(m.make_mut().unwrap_err().kind(), &ErrorKind::PermissionDenied);
}

#[test]
fn validate_rejects_a_flag_the_kernel_does_not_know() {
    const UNKNOWN: u32 = 0x0020_0000; // unused MAP_* bit
    let f = TempFile::with(&pattern(100));
    if POSIX {
        // The POSIX backend knows Linux's bits by name, and no others.
        // SAFETY: the call fails.
        let plain = unsafe { MapOptions::new().extra_flags(UNKNOWN).map(&f.read()) };
        assert_unsupported(plain, "mmap flags 0x200000");
        return;
    }
    // SAFETY: the extra bit is unknown, so it cannot change semantics.
    let plain = unsafe { MapOptions::new().extra_flags(UNKNOWN).map(&f.read()) };
    assert!(plain.is_ok(), "MAP_SHARED ignores unknown flags: {plain:?}");
    // SAFETY: as above.
    let e = unsafe { MapOptions::new().validate(true).extra_flags(UNKNOWN).map(&f.read()) }
        .unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Unsupported);
    assert!(e.to_string().contains("MAP_SHARED_VALIDATE"), "{e}");
    // SAFETY: as above.
    assert!(unsafe { MapOptions::new().validate(true).map(&f.read()) }.is_ok());
}

#[test]
fn hint_is_honoured_when_the_range_is_free() {
    let page = page_size();
    // Reserve a range, release it, and ask for it back.
    let probe = MapOptions::new().len(16 * page).map_anon().unwrap();
    let addr = probe.as_ptr() as usize + 4 * page;
    drop(probe);
    let m = MapOptions::new().len(page).hint(addr).map_anon().unwrap();
    assert_eq!(m.as_ptr() as usize, addr);
}

#[test]
fn fixed_noreplace_reports_an_already_mapped_range() {
    let page = page_size();
    let taken = MapOptions::new().len(2 * page).map_anon().unwrap();
    let addr = taken.as_ptr() as usize;
    let e = MapOptions::new().len(page).hint(addr).fixed_noreplace(true).map_anon().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::AlreadyMapped);
    assert!(e.to_string().contains("already mapped"), "{e}");
    assert_eq!(e.raw_os_error(), Some(libc::EEXIST));
    // A free range works and lands exactly there.
    let free_at = addr + 64 * page;
    if let Ok(m) = MapOptions::new().len(page).hint(free_at).fixed_noreplace(true).map_anon() {
        assert_eq!(m.as_ptr() as usize, free_at);
    }
}

#[test]
fn fixed_replaces_a_range_we_own() {
    let page = page_size();
    let mut owner = MapOptions::new().len(2 * page).map_anon().unwrap();
    owner[0] = 9;
    let addr = owner.as_ptr() as usize;
    // Split off the first page so exactly one owner is replaced.
    let (first, rest) = owner.split_at(page).unwrap();
    std::mem::forget(first); // its range is handed to the fixed map below
                             // SAFETY: `first`'s page is ours and no longer used (forgotten above).
    let m = unsafe { MapOptions::new().len(page).map_anon_at(addr).unwrap() };
    assert_eq!(m.as_ptr() as usize, addr);
    assert_eq!(m[0], 0, "the fixed map replaced the old page");
    drop(rest);
}

#[test]
fn offsets_above_4_gib_work_in_a_sparse_file() {
    let f = TempFile::with(b"");
    let file = f.rw();
    let off = (5u64 << 32) + 12345;
    file.set_len(off + 100).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, b"far away", off).unwrap();
    // SAFETY: only this test touches the file.
    let m = unsafe { MapOptions::new().offset(off).map(&file).unwrap() };
    assert_eq!(m.len(), 100);
    assert_eq!(&m[..8], b"far away");
}

#[test]
fn every_offset_within_a_page_maps_the_exact_byte() {
    let page = page_size();
    let data = pattern(3 * page);
    let f = TempFile::with(&data);
    let file = f.read();
    for off in 0..=2 * page {
        let len = (off * 7) % page + 1;
        // SAFETY: only this test touches the file.
        let m = unsafe { MapOptions::new().offset(off as u64).len(len).map(&file).unwrap() };
        assert_eq!(&m[..], &data[off..off + len], "offset {off}");
        assert_eq!(m.as_ptr() as usize % page, off % page);
    }
}

#[test]
fn length_past_end_of_file_maps_and_faults_on_touch() {
    let name = this_test!();
    let page = page_size();
    let f = TempFile::with(&pattern(page));
    // Mapping more than the file is allowed.
    // SAFETY: the parent never touches the part past the end.
    let m = unsafe { MapOptions::new().len(4 * page).map(&f.read()).unwrap() };
    assert_eq!(m.len(), 4 * page);
    assert_eq!(m[page - 1], pattern(page)[page - 1]);
    drop(m);
    if is_child(name) {
        // SAFETY: deliberately touches past end-of-file; this is the child.
        let m = unsafe { MapOptions::new().len(4 * page).map(&f.read()).unwrap() };
        let _ = std::hint::black_box(m[3 * page]);
        std::process::exit(0);
    }
    assert_eq!(signal_of(run_child(name)), Some(libc::SIGBUS));
}

#[test]
fn offset_at_the_end_is_empty_and_past_it_is_an_error() {
    let f = TempFile::with(&pattern(100));
    // SAFETY: only this test touches the file.
    let m = unsafe { MapOptions::new().offset(100).map(&f.read()).unwrap() };
    assert!(m.is_empty());
    // SAFETY: fails before mapping.
    let e = unsafe { MapOptions::new().offset(101).map(&f.read()) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(e.to_string().contains("past the end"), "{e}");
    // SAFETY: fails before mapping.
    let e = unsafe { MapOptions::new().offset(u64::MAX).len(1).map(&f.read()) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
}

#[test]
fn zero_length_gives_an_empty_map_without_a_syscall() {
    let f = TempFile::with(b"");
    // SAFETY: only this test touches the file.
    let m = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    assert!(m.is_empty());
    assert_eq!(&m[..], b"");
    let a = MapOptions::new().map_anon().unwrap();
    assert!(a.is_empty());
    a.flush().unwrap();
    a.advise(xmmap::Advice::Sequential).unwrap();
    a.unmap().unwrap();
}

#[test]
fn a_pipe_a_directory_a_socket_and_a_proc_file_are_refused_clearly() {
    let dir = std::fs::File::open(std::env::temp_dir()).unwrap();
    // SAFETY: fails before mapping.
    let e = unsafe { MapOptions::new().map(&dir) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotMappable);
    assert!(e.to_string().contains("directory"), "{e}");

    // pipe(2) through libc: std::io::pipe needs Rust 1.87, above the MSRV.
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (pipe, _w) = unsafe {
        use std::os::fd::FromRawFd;
        (std::fs::File::from_raw_fd(fds[0]), std::fs::File::from_raw_fd(fds[1]))
    };
    // SAFETY: fails before mapping.
    let e = unsafe { MapOptions::new().map(&pipe) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotMappable);
    assert!(e.to_string().contains("pipe"), "{e}");

    let (s, _t) = std::os::unix::net::UnixStream::pair().unwrap();
    let sock: std::fs::File = std::os::fd::OwnedFd::from(s).into();
    // SAFETY: fails before mapping.
    let e = unsafe { MapOptions::new().map(&sock) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotMappable);
    assert!(e.to_string().contains("socket"), "{e}");

    let status = std::fs::File::open("/proc/self/status").unwrap();
    // SAFETY: fails before mapping.
    let e = unsafe { MapOptions::new().map(&status) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotMappable);
    assert!(e.to_string().contains("procfs"), "{e}");
    // SAFETY: the kernel refuses it.
    let e = unsafe { MapOptions::new().len(page_size()).map(&status) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotMappable, "{e}");
}

#[test]
fn the_limit_refuses_before_the_syscall_with_gits_message() {
    let f = TempFile::with(&pattern(1 << 20));
    // SAFETY: fails before mapping.
    let e =
        unsafe { MapOptions::new().limit(xmmap::Limit::bytes(1024)).map(&f.read()) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::LimitExceeded { requested: 1 << 20, limit: 1024 });
    assert_eq!(e.to_string(), "attempting to mmap 1048576 over limit 1024");
    let e = MapOptions::new().len(4096).limit(xmmap::Limit::bytes(100)).map_anon().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::LimitExceeded { .. }));
}

#[test]
fn xmmap_limit_from_the_environment_applies_and_a_bad_value_is_an_error() {
    let name = this_test!();
    if is_child(name) {
        let want = std::env::var("WANT").unwrap();
        let r = MapOptions::new().len(8192).map_anon();
        let ok = match (want.as_str(), r) {
            ("limit", Err(e)) => {
                e.kind() == &ErrorKind::LimitExceeded { requested: 8192, limit: 4096 }
            }
            ("bad", Err(e)) => {
                e.kind() == &ErrorKind::BadLimit && e.to_string().contains("XMMAP_LIMIT")
            }
            ("ok", Ok(m)) => m.len() == 8192,
            _ => false,
        };
        std::process::exit(if ok { 0 } else { 1 });
    }
    for (value, want) in [
        ("4k", "limit"),
        ("0x1000", "limit"),
        ("4 k", "bad"),
        ("-1", "bad"),
        ("", "bad"),
        ("0", "ok"),
        ("1g", "ok"),
    ] {
        let status = run_child_with(name, &[("XMMAP_LIMIT", value), ("WANT", want)]);
        assert!(status.success(), "XMMAP_LIMIT={value:?} expected {want}: {status:?}");
    }
}

#[test]
fn huge_pages_without_a_pool_name_nr_hugepages() {
    if POSIX {
        // No hugetlbfs: refused before the call, as a kernel without it is.
        let e = MapOptions::new().len(1).huge(None).map_anon().unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::HugePagesUnavailable { size: 0 }, "{e}");
        assert!(e.to_string().contains("no hugetlbfs support"), "{e}");
        assert_eq!(std::io::Error::from(e).kind(), std::io::ErrorKind::Unsupported);
        let e = MapOptions::new().len(1).huge(Some(21)).map_anon().unwrap_err();
        assert_eq!(std::io::Error::from(e).kind(), std::io::ErrorKind::Unsupported);
        return;
    }
    let pool_empty = xmmap::page::huge_page_sizes().iter().all(|h| h.free == 0);
    let r = MapOptions::new().len(1).huge(None).map_anon();
    match r {
        Err(e) if pool_empty => {
            assert!(matches!(e.kind(), ErrorKind::HugePagesUnavailable { .. }), "{e}");
            assert!(e.to_string().contains("/proc/sys/vm/nr_hugepages"), "{e}");
        }
        Err(e) => panic!("a pool is configured yet mapping failed: {e}"),
        Ok(m) => assert!(!pool_empty && m.len() == 1),
    }
    let e = MapOptions::new().len(1).huge(Some(13)).map_anon().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::HugePagesUnavailable { .. }), "{e}");
}

#[test]
fn map_sync_without_dax_is_unsupported_here() {
    let f = TempFile::with(&pattern(4096));
    if POSIX {
        // SAFETY: only this test touches the file; the call fails.
        let r = unsafe { MapOptions::new().sync(true).map_mut(&f.rw()) };
        assert_unsupported(r, "MAP_SHARED_VALIDATE");
        return;
    }
    // SAFETY: only this test touches the file.
    match unsafe { MapOptions::new().sync(true).map_mut(&f.rw()) } {
        Err(e) => {
            assert_eq!(e.kind(), &ErrorKind::Unsupported);
            assert!(e.to_string().contains("DAX"), "{e}");
        }
        Ok(_) => eprintln!("the temp dir is on a DAX file system: MAP_SYNC is supported"),
    }
}

#[test]
fn locked_over_rlimit_memlock_quotes_the_limit() {
    let name = this_test!();
    if is_child(name) {
        drop_capabilities();
        let page = page_size() as u64;
        let lim = libc::rlimit { rlim_cur: page, rlim_max: page };
        // SAFETY: setrlimit with a valid struct.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &lim) }, 0);
        let e = MapOptions::new().len(64 * page as usize).locked(true).map_anon().unwrap_err();
        let ok = if POSIX {
            e.kind() == &ErrorKind::Unsupported && e.to_string().contains("MAP_LOCKED")
        } else {
            matches!(e.kind(), ErrorKind::LockLimit { limit: Some(l), .. } if *l == page)
                && e.to_string().contains("RLIMIT_MEMLOCK")
        };
        let m = MapOptions::new().len(64 * page as usize).map_anon().unwrap();
        let lock = m.lock().unwrap_err();
        let ok2 = matches!(lock.kind(), ErrorKind::LockLimit { .. });
        if !(ok && ok2) {
            eprintln!("map: {e}\nlock: {lock}");
        }
        std::process::exit(if ok && ok2 { 0 } else { 1 });
    }
    assert!(run_child(name).success());
}

/// Drops every capability of this (child) process, so that root is bound by
/// RLIMIT_MEMLOCK like everyone else.
fn drop_capabilities() {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let header = Header { version: 0x2008_0522, pid: 0 };
    let data = [Data { effective: 0, permitted: 0, inheritable: 0 }; 2];
    // SAFETY: capset with a version-3 header and two data words.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
    assert_eq!(rc, 0, "capset failed");
}

#[test]
fn flush_and_advise_ranges_are_validated() {
    let page = page_size();
    let f = TempFile::with(&pattern(2 * page));
    // SAFETY: only this test touches the file.
    let m = unsafe { MapOptions::new().offset(1).map_mut(&f.rw()).unwrap() };
    let len = m.len();
    for (off, n) in [(0, len + 1), (len, 1), (1, usize::MAX), (usize::MAX, 2)] {
        assert_eq!(m.flush_range(off, n).unwrap_err().kind(), &ErrorKind::InvalidInput);
        assert_eq!(m.flush_async_range(off, n).unwrap_err().kind(), &ErrorKind::InvalidInput);
        let e = m.advise_range(xmmap::Advice::WillNeed, off, n).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput);
        assert_eq!(m.lock_range(off, n).unwrap_err().kind(), &ErrorKind::InvalidInput);
    }
    m.flush_range(page - 1, 2).unwrap(); // unaligned, crossing a page
    m.flush_async_range(len, 0).unwrap();
    m.advise_range(xmmap::Advice::Random, 10, 10).unwrap();
    // SAFETY: nothing relies on the old contents of a shared file map (they
    // are re-read from the file).
    unsafe { m.unchecked_advise(xmmap::UncheckedAdvice::DontNeed).unwrap() };
    assert_eq!(m[0], pattern(2)[1]);
}

#[test]
fn remap_grows_and_shrinks_with_overflow_checks() {
    let page = page_size();
    let mut m = MapOptions::new().len(page).map_anon().unwrap();
    m[0] = 1;
    if POSIX {
        // SAFETY: anonymous memory; the call fails.
        let r = unsafe { m.remap(4 * page, xmmap::RemapOptions::new().may_move(true)) };
        assert_unsupported(r, "mremap");
        assert_eq!((m.len(), m[0]), (page, 1));
        return;
    }
    // SAFETY: anonymous memory: no file end to fault on.
    unsafe { m.remap(4 * page, xmmap::RemapOptions::new().may_move(true)).unwrap() };
    assert_eq!(m.len(), 4 * page);
    assert_eq!(m[0], 1);
    m[4 * page - 1] = 2;
    // SAFETY: as above.
    unsafe { m.remap(page / 2, xmmap::RemapOptions::new()).unwrap() };
    assert_eq!(m.len(), page / 2);
    // SAFETY: fails before the syscall.
    let e = unsafe { m.remap(usize::MAX, xmmap::RemapOptions::new()) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    // SAFETY: as above.
    unsafe { m.remap(0, xmmap::RemapOptions::new()).unwrap() };
    assert!(m.is_empty());
}

#[test]
fn split_at_unmaps_one_half_on_drop() {
    let name = this_test!();
    let page = page_size();
    let m = MapOptions::new().len(3 * page).map_anon().unwrap();
    let e = MapOptions::new().len(3 * page).map_anon().unwrap().split_at(1).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    let (mut a, b) = m.split_at(page).unwrap();
    assert_eq!((a.len(), b.len()), (page, 2 * page));
    a[0] = 5;
    if is_child(name) {
        let p = b.as_ptr();
        drop(b);
        // SAFETY: deliberately touches the unmapped hole; this is the child.
        let _ = unsafe { std::ptr::read_volatile(p) };
        std::process::exit(0);
    }
    drop(b);
    assert_eq!(a[0], 5);
    assert_eq!(signal_of(run_child(name)), Some(libc::SIGSEGV));
}

#[test]
fn every_mapping_is_released_after_drop() {
    let name = this_test!();
    if !is_child(name) {
        assert!(run_child(name).success());
        return;
    }
    let page = page_size();
    let f = TempFile::with(&pattern(3 * page + 5));
    let before = map_count();
    {
        // SAFETY: only this process touches the file.
        let maps = unsafe {
            vec![
                MapOptions::new().map(&f.read()).unwrap(),
                MapOptions::new().offset(7).map(&f.read()).unwrap(),
                MapOptions::new().map_copy_read_only(&f.read()).unwrap(),
            ]
        };
        let anon = MapOptions::new().len(5 * page).map_anon().unwrap();
        let (x, y) = anon.split_at(2 * page).unwrap();
        let raw = MapOptions::new().map_raw(&f.rw()).unwrap();
        let mut grown = MapOptions::new().len(page).map_anon().unwrap();
        // SAFETY: anonymous memory.
        let r = unsafe { grown.remap(10 * page, xmmap::RemapOptions::new().may_move(true)) };
        if POSIX {
            assert_unsupported(r, "mremap");
        } else {
            r.unwrap();
        }
        assert!(map_count() > before);
        drop((maps, x, y, raw, grown));
        // Failed calls leave nothing behind either.
        // SAFETY: fails before mapping.
        let _ = unsafe { MapOptions::new().offset(1 << 40).map(&f.read()) };
        let _ = MapOptions::new().len(1).huge(None).map_anon();
    }
    let after = map_count();
    std::process::exit(if after == before { 0 } else { 1 });
}

#[test]
fn maps_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<xmmap::Map>();
    check::<xmmap::MapMut>();
    check::<xmmap::MapRaw>();
    check::<xmmap::Error>();
}

#[test]
fn the_extra_flags_map() {
    let page = page_size();
    let f = TempFile::with(&pattern(4 * page));
    if POSIX {
        // Only MAP_NORESERVE and MAP_STACK (as nothing) of these.
        // SAFETY: only this test touches the file.
        let m = unsafe { MapOptions::new().no_reserve(true).map(&f.read()).unwrap() };
        assert_eq!(&m[..], &pattern(4 * page)[..]);
        assert_eq!(MapOptions::new().len(page).stack(true).map_anon().unwrap().len(), page);
        // SAFETY: as above; each call fails.
        unsafe {
            assert_unsupported(MapOptions::new().populate(true).map(&f.read()), "MAP_POPULATE");
            assert_unsupported(MapOptions::new().nonblock(true).map(&f.read()), "MAP_NONBLOCK");
        }
        let g = MapOptions::new().len(page).grows_down(true).map_anon();
        assert_unsupported(g, "MAP_GROWSDOWN");
        if cfg!(target_arch = "x86_64") {
            let low = MapOptions::new().len(page).low_32bit(true).map_anon();
            assert_unsupported(low, "MAP_32BIT");
        }
        let locked = MapOptions::new().len(page).locked(true).map_anon();
        assert_unsupported(locked, "MAP_LOCKED");
        return;
    }
    // SAFETY: only this test touches the file.
    let m = unsafe {
        MapOptions::new().populate(true).no_reserve(true).nonblock(true).map(&f.read()).unwrap()
    };
    assert_eq!(&m[..], &pattern(4 * page)[..]);
    let s = MapOptions::new().len(page).stack(true).map_anon().unwrap();
    assert_eq!(s.len(), page);
    let g = MapOptions::new().len(page).grows_down(true).map_anon().unwrap();
    assert_eq!(g[0], 0);
    if cfg!(target_arch = "x86_64") {
        let low = MapOptions::new().len(page).low_32bit(true).map_anon().unwrap();
        assert!((low.as_ptr() as usize) < (1 << 32));
    }
    let locked = MapOptions::new().len(page).locked(true).map_anon().unwrap();
    locked.unlock().unwrap();
    locked.lock().unwrap();
}

#[test]
fn out_of_memory_carries_gits_hint_with_current_values() {
    let name = this_test!();
    if is_child(name) {
        let lim = libc::rlimit { rlim_cur: 256 << 20, rlim_max: 256 << 20 };
        // SAFETY: setrlimit with a valid struct.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) }, 0);
        let e = MapOptions::new().len(1 << 30).map_anon().unwrap_err();
        let s = e.to_string();
        let ok = e.kind() == &ErrorKind::OutOfMemory
            && s.starts_with(
                "mmap failed, check sys.vm.max_map_count and/or RLIMIT_DATA: Cannot allocate memory",
            )
            && s.contains("vm.max_map_count = ")
            && s.contains("RLIMIT_AS = 256 MiB");
        if !ok {
            eprintln!("{s}");
        }
        std::process::exit(if ok { 0 } else { 1 });
    }
    assert!(run_child(name).success());
}
