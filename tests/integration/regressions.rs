//! Regression tests for bugs the fuzzer and the bad-input table found, and
//! for errors that were unclear; each is named after what broke.

use std::os::unix::fs::OpenOptionsExt;

use crate::common::*;
use xmmap::{page_size, Advice, ErrorKind, MapOptions, RemapOptions, UncheckedAdvice};

/// validate on a shared anonymous map reached the kernel, which answered a
/// bare EINVAL ("the kernel rejected the arguments").
#[test]
fn validate_on_shared_anonymous_memory_is_refused_clearly() {
    for len in [0, page_size()] {
        let e = MapOptions::new().len(len).validate(true).map_anon_shared().unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput);
        assert!(e.to_string().contains("shared file maps only"), "{e}");
        assert_eq!(e.raw_os_error(), None, "refused before the system call: {e}");
    }
}

/// grows_down on a shared anonymous map reached the kernel, which answered a
/// bare EINVAL.
#[test]
fn grows_down_on_shared_anonymous_memory_is_refused_clearly() {
    let e = MapOptions::new().len(page_size()).grows_down(true).map_anon_shared().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(e.to_string().contains("private anonymous maps only"), "{e}");
    assert_eq!(e.raw_os_error(), None, "refused before the system call: {e}");
    let m = MapOptions::new().len(page_size()).grows_down(true).map_anon().unwrap();
    assert_eq!(m[0], 0);
}

/// huge + no_reserve on an empty pool mapped fine and the first touch raised
/// SIGBUS, although `huge` promises an error without a pool.
#[test]
fn huge_no_reserve_on_an_empty_pool_is_refused_instead_of_faulting_on_touch() {
    let Some(default) = xmmap::page::default_huge_page_size() else {
        eprintln!("no huge page support: nothing to check");
        return;
    };
    let pool = xmmap::page::huge_page_sizes().into_iter().find(|h| h.size == default);
    if pool.is_some_and(|p| p.free > 0) {
        eprintln!("a huge page pool is configured: the map would be backed");
        return;
    }
    let e = MapOptions::new().len(1).huge(None).no_reserve(true).map_anon_shared().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::HugePagesUnavailable { size } if *size == default));
    assert!(e.to_string().contains("nr_hugepages"), "{e}");
    let e = MapOptions::new().len(1).huge(None).no_reserve(true).map_anon().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::HugePagesUnavailable { .. }), "{e}");
}

/// remap after advice on part of the map (which splits the kernel mapping)
/// failed with a bare EFAULT ("Bad address") of kind Io.
#[test]
fn remap_of_a_map_split_by_partial_advice_names_the_split() {
    let page = page_size();
    let f = TempFile::with(&pattern(3 * page));
    // SAFETY: only this test touches the file.
    let mut m = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    m.advise_range(Advice::DontFork, 0, page).unwrap();
    // SAFETY: the new length reaches one byte into the page past the file's
    // end, which is never touched.
    let e = unsafe { m.remap(3 * page + 1, RemapOptions::new().may_move(true)) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("no longer one kernel mapping"), "{e}");
    assert_eq!(m.len(), 3 * page, "a failed remap leaves the map as it was");
    assert_eq!(&m[..], &pattern(3 * page)[..]);
}

/// An empty range at an unaligned offset covered the page below it: a
/// zero-length MADV_DONTNEED discarded that page's private writes.
#[test]
fn zero_length_advice_at_an_unaligned_offset_discards_nothing() {
    let page = page_size();
    let mut m = MapOptions::new().len(2 * page).map_anon().unwrap();
    m[0] = 1;
    m[page - 2] = 2;
    // SAFETY: no reference into the map is alive across the call.
    unsafe { m.unchecked_advise_range(UncheckedAdvice::DontNeed, page - 1, 0).unwrap() };
    assert_eq!((m[0], m[page - 2]), (1, 2), "an empty range discarded the page below it");
    m.lock_range(page + 1, 0).unwrap();
    m.flush_range(page - 1, 0).unwrap();
}

/// lock() over pages a truncation took away failed with git's "mmap failed,
/// check sys.vm.max_map_count" message, which names the wrong call and cause.
#[test]
fn lock_over_truncated_pages_does_not_blame_mmap() {
    let page = page_size();
    let f = TempFile::with(&pattern(4 * page));
    // SAFETY: the file is truncated under the map on purpose; only the first
    // page, which the file still backs, is ever touched.
    let m = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    f.rw().set_len(page as u64).unwrap();
    let e = m.lock().unwrap_err();
    let s = e.to_string();
    assert_eq!(e.kind(), &ErrorKind::OutOfMemory, "{s}");
    assert!(s.starts_with("mlock of"), "{s}");
    assert!(s.contains("truncated"), "{s}");
    assert_eq!(m[0], pattern(1)[0]);
}

/// mmap of an O_PATH descriptor failed with a bare EBADF ("Bad file
/// descriptor", kind Io), although fstat had just accepted the descriptor.
#[test]
fn an_o_path_descriptor_is_named_instead_of_a_bare_ebadf() {
    let f = TempFile::with(b"data");
    let o_path =
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_PATH).open(&f.path).unwrap();
    // SAFETY: nothing is mapped.
    let e = unsafe { MapOptions::new().map(&o_path) }.unwrap_err();
    let s = e.to_string();
    assert_eq!(e.kind(), &ErrorKind::PermissionDenied, "{s}");
    assert!(s.contains("O_PATH") && s.contains("open the file for reading"), "{s}");
    assert!(s.contains(&f.path.display().to_string()), "{s}");
    assert_eq!(e.raw_os_error(), Some(libc::EBADF));
    let e = MapOptions::new().map_raw(&o_path).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::PermissionDenied, "{e}");
}

/// MADV_POPULATE_READ over pages a truncation took away failed with a bare
/// EFAULT ("Bad address", kind Io); it is Truncated with the first lost
/// offset, as a guarded read says.
#[test]
fn populate_over_truncated_pages_names_the_first_lost_offset() {
    let page = page_size();
    let f = TempFile::with(&pattern(8 * page));
    // SAFETY: the file is truncated under the maps on purpose; no byte past
    // its new end is touched except by the advice, which reports it.
    let m = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    // A map that starts 10 bytes into the file's first page.
    // SAFETY: as above.
    let shifted = unsafe { MapOptions::new().offset(10).map(&f.read()).unwrap() };
    // SAFETY: as above.
    let mut w = unsafe { MapOptions::new().map_mut(&f.rw()).unwrap() };
    f.rw().set_len(3 * page as u64 + 1).unwrap();
    for (advice, e) in [
        ("read", m.advise(Advice::PopulateRead).unwrap_err()),
        ("write", w.advise(Advice::PopulateWrite).unwrap_err()),
    ] {
        let s = e.to_string();
        assert_eq!(e.kind(), &ErrorKind::Truncated { offset: 4 * page as u64 }, "{advice}: {s}");
        assert!(s.contains("truncated"), "{s}");
        assert_eq!(e.raw_os_error(), Some(libc::EFAULT));
    }
    let e = shifted.advise_range(Advice::PopulateRead, page, 6 * page).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Truncated { offset: 4 * page as u64 - 10 }, "{e}");
    // A range that starts on a lost page names its own offset.
    let e = m.advise_range(Advice::PopulateRead, 6 * page + 3, 5).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Truncated { offset: 6 * page as u64 + 3 }, "{e}");
    // The pages the file still backs populate, and read, as before.
    m.advise_range(Advice::PopulateRead, 0, 4 * page).unwrap();
    assert_eq!(m.read_at(0, &mut [0u8; 4]).unwrap(), 4);
    assert_eq!(m[3 * page], pattern(3 * page + 1)[3 * page]);
    w.write_at(0, b"ok").unwrap();
}
