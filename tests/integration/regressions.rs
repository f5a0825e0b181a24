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
    let m = MapOptions::new().len(page_size()).grows_down(true).map_anon();
    if POSIX {
        return assert_unsupported(m, "MAP_GROWSDOWN");
    }
    assert_eq!(m.unwrap()[0], 0);
}

/// huge + no_reserve on an empty pool mapped fine and the first touch raised
/// SIGBUS, although `huge` promises an error without a pool.
#[test]
fn huge_no_reserve_on_an_empty_pool_is_refused_instead_of_faulting_on_touch() {
    for shared in [false, true] {
        let mut o = MapOptions::new();
        o.len(1).huge(None).no_reserve(true);
        let e = if shared { o.map_anon_shared() } else { o.map_anon() }.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
    }
}

/// With a pool whose free pages another map had reserved, the safe
/// `map_anon` accepted huge + no_reserve (the pool check counted reserved
/// pages as free) and the first write died of SIGBUS.
#[test]
fn huge_no_reserve_is_refused_by_every_safe_constructor_whatever_the_pool() {
    let f = TempFile::with(&pattern(page_size()));
    let mut o = MapOptions::new();
    o.len(2 << 20).huge(None).no_reserve(true);
    let safe: [(&str, xmmap::Result<usize>); 6] = [
        ("map_anon", o.map_anon().map(|m| m.len())),
        ("map_anon_shared", o.map_anon_shared().map(|m| m.len())),
        // SAFETY: only this test touches the file.
        ("map", unsafe { o.map(&f.read()) }.map(|m| m.len())),
        // SAFETY: as above.
        ("map_mut", unsafe { o.map_mut(&f.rw()) }.map(|m| m.len())),
        // SAFETY: as above.
        ("map_copy", unsafe { o.map_copy(&f.read()) }.map(|m| m.len())),
        // SAFETY: as above.
        ("map_copy_read_only", unsafe { o.map_copy_read_only(&f.read()) }.map(|m| m.len())),
    ];
    for (name, r) in safe {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{name}: {e}");
        let msg = e.to_string();
        assert!(msg.contains("huge with no_reserve"), "{name}: {msg}");
        assert!(msg.contains("map_raw") && msg.contains("unchecked_map_anon"), "{name}: {msg}");
        assert_eq!(e.raw_os_error(), None, "{name}: refused before the system call: {e}");
    }
    // The unchecked constructors pass the combination to the kernel.
    // SAFETY: nothing is touched; without a pool the kernel may refuse.
    if let Err(e) = unsafe { o.unchecked_map_anon() } {
        assert!(!matches!(e.kind(), ErrorKind::InvalidInput), "{e}");
    }
}

/// The environment variable that lets the next test change the system's
/// huge page pool (it would disturb tests that expect no pool).
const POOL_ENV: &str = "XMMAP_TEST_HUGE_POOL";

/// The same, with a real pool whose pages another map holds: the safe path
/// is refused, the unchecked one maps and its first write dies of SIGBUS.
#[test]
fn huge_no_reserve_with_a_pool_held_by_another_map_is_refused_not_faulting() {
    let name = this_test!();
    const SYSCTL: &str = "/proc/sys/vm/nr_hugepages";
    if is_child(name) {
        let mut o = MapOptions::new();
        o.len(2 << 20).huge(None);
        let holder = o.map_anon().unwrap(); // reserves the pool's one page
        o.no_reserve(true);
        let e = o.map_anon().unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
        // SAFETY: the write below is meant to die of SIGBUS, in this child.
        let mut m = unsafe { o.unchecked_map_anon() }.unwrap();
        m[0] = 1;
        drop(holder);
        std::process::exit(0);
    }
    if std::env::var(POOL_ENV).is_err() {
        skipped_here(
            name,
            &format!("set {POOL_ENV}=1 (as root, with nothing else running) to try a pool"),
        );
        return;
    }
    let Ok(old) = std::fs::read_to_string(SYSCTL) else {
        skipped_here(name, &format!("cannot read {SYSCTL}"));
        return;
    };
    if std::fs::write(SYSCTL, "1").is_err() {
        skipped_here(name, &format!("cannot write {SYSCTL} (not root?)"));
        return;
    }
    let got = std::fs::read_to_string(SYSCTL).unwrap_or_default();
    let status = (got.trim() == "1").then(|| run_child(name));
    std::fs::write(SYSCTL, old.trim()).expect("restore vm.nr_hugepages");
    let Some(status) = status else {
        skipped_here(name, &format!("the kernel gave a pool of {} pages, not 1", got.trim()));
        return;
    };
    assert_eq!(signal_of(status), Some(libc::SIGBUS), "{status:?}");
}

/// `extra_flags` carried MAP_FIXED or a sharing type into the safe
/// constructors, so one unsafe promise made aliasing or mis-shared maps.
#[test]
fn extra_flags_may_not_carry_fixed_a_sharing_type_or_an_owned_flag() {
    for (bits, name) in [
        (0x10, "MAP_FIXED"),
        (0x10_0000, "MAP_FIXED_NOREPLACE"),
        (0x01, "MAP_SHARED"),
        (0x02, "MAP_PRIVATE"),
        (0x03, "MAP_SHARED_VALIDATE"),
        (0x4_0000 | 0x4000, "MAP_HUGETLB"),
        (0x4000, "MAP_NORESERVE"),
    ] {
        let mut o = MapOptions::new();
        // SAFETY: the bits are refused, so nothing is mapped.
        unsafe { o.len(page_size()).extra_flags(bits) };
        for r in [o.map_anon().map(drop), o.map_anon_shared().map(drop)] {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{name}: {e}");
            assert!(e.to_string().contains(&format!("holds {name},")), "{name}: {e}");
            assert_eq!(e.raw_os_error(), None, "{name}: {e}");
        }
    }
}

/// `uninitialized` was an unsafe setter on a `Clone` builder: after one
/// promise every safe `map_anon` of those options asked for old data.
#[test]
fn uninitialized_is_taken_only_by_the_unchecked_constructors() {
    let o = MapOptions::new().len(page_size()).uninitialized(true).clone();
    for r in [o.map_anon().map(drop), o.map_anon_shared().map(drop)] {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
        assert!(e.to_string().contains("unchecked_map_anon"), "{e}");
    }
    if POSIX {
        // SAFETY: the call fails.
        return assert_unsupported(unsafe { o.unchecked_map_anon() }, "MAP_UNINITIALIZED");
    }
    // SAFETY: the map is written before it is read.
    let mut m = unsafe { o.unchecked_map_anon() }.unwrap();
    m.fill(5);
    assert!(m.iter().all(|&b| b == 5));
}

/// `fixed` was an unsafe setter on a `Clone` builder: after one promise the
/// safe `map_anon` mapped MAP_FIXED over the same range any number of times.
/// Now only the unsafe `map_anon_at` call is fixed, and it replaces.
#[test]
fn map_anon_at_maps_at_the_address_and_leaves_the_options_unfixed() {
    let page = page_size();
    let mut old = MapOptions::new().len(2 * page).map_anon().unwrap();
    old[0] = 7;
    let addr = old.as_ptr() as usize;
    let (first, rest) = old.split_at(page).unwrap();
    std::mem::forget(first); // its page is handed to the fixed map below
    let o = MapOptions::new().len(page).clone();
    // SAFETY: `first`'s page is ours and never used again (forgotten above).
    let mut m = unsafe { o.map_anon_at(addr) }.unwrap();
    assert_eq!(m.as_ptr() as usize, addr);
    assert_eq!(m[0], 0, "MAP_FIXED replaced the old page");
    m[0] = 9;
    // The same options, through the safe call, cannot land on that range.
    let again = o.map_anon().unwrap();
    assert_ne!(again.as_ptr() as usize, addr);
    assert_eq!((m[0], again[0]), (9, 0), "no aliasing");
    // Unaligned or zero addresses, and fixed_noreplace with it, are refused.
    for (bad, noreplace) in [(0, false), (addr + 1, false), (addr, true)] {
        let mut p = o.clone();
        p.fixed_noreplace(noreplace);
        // SAFETY: refused before the system call, so nothing is replaced.
        let e = unsafe { p.map_anon_at(bad) }.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
    }
    // The file form replaces too, and reads the file there.
    let f = TempFile::with(&pattern(page));
    std::mem::forget(m); // its page is handed to the file map below
                         // SAFETY: `m`'s page is ours and never used again (forgotten above);
                         // only this test touches the file.
    let fm = unsafe { o.map_at(&f.read(), addr) }.unwrap();
    assert_eq!(fm.as_ptr() as usize, addr);
    assert_eq!(&fm[..], &pattern(page)[..]);
    drop(rest);
}

/// remap after advice on part of the map (which splits the kernel mapping)
/// failed with a bare EFAULT ("Bad address") of kind Io.
#[test]
fn remap_of_a_map_split_by_partial_advice_names_the_split() {
    let page = page_size();
    let f = TempFile::with(&pattern(3 * page));
    // SAFETY: only this test touches the file.
    let mut m = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    if POSIX {
        // Neither the advice nor mremap exists there.
        assert_unsupported(m.advise_range(Advice::DontFork, 0, page), "MADV_DONTFORK");
        // SAFETY: the call fails; nothing is touched.
        let r = unsafe { m.remap(3 * page + 1, RemapOptions::new().may_move(true)) };
        return assert_unsupported(r, "mremap");
    }
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
    if POSIX {
        // No MADV_POPULATE_*; a guarded read still names the first lost byte.
        assert_unsupported(m.advise(Advice::PopulateRead), "MADV_POPULATE_READ");
        assert_unsupported(w.advise(Advice::PopulateWrite), "MADV_POPULATE_WRITE");
        let e = shifted.read_at(page as u64, &mut vec![0; 6 * page]).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Truncated { offset: 4 * page as u64 - 10 }, "{e}");
        return;
    }
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

/// map_copy, map_copy_read_only, map_exec and the raw maps had no MAP_FIXED
/// form: only map, map_mut and the anonymous maps could be placed at an
/// address the caller owns.
#[test]
fn every_file_map_has_an_at_form_that_maps_there_and_leaves_the_options_unfixed() {
    let page = page_size();
    let data = pattern(page);
    let f = TempFile::with(&data);
    let o = MapOptions::new().len(page).clone();
    // One page of address space per map, reserved by an anonymous map whose
    // owner is forgotten, so that only the fixed map placed there owns it.
    let reserve = || {
        let mut spare = MapOptions::new().len(page).map_anon().unwrap();
        spare[0] = !data[0];
        let addr = spare.as_ptr() as usize;
        std::mem::forget(spare);
        addr
    };
    // Each fixed map is at its address with the file's bytes there (not the
    // reservation's), and the same options through the safe call map
    // elsewhere: nothing of the address stayed in them.
    let check = |what: &str, addr: usize, at: *const u8, bytes: &[u8], safe: usize| {
        assert_eq!(at as usize, addr, "{what} is at the address");
        assert!(bytes == &data[..], "{what} maps the file there");
        assert_ne!(safe, addr, "{what}: the options stayed unfixed");
    };

    let addr = reserve();
    // SAFETY: the page at `addr` was reserved above for this map alone;
    // only this test touches the file.
    let mut copy = unsafe { o.map_copy_at(&f.read(), addr) }.unwrap();
    // SAFETY: as above.
    let safe = unsafe { o.map_copy(&f.read()) }.unwrap();
    check("map_copy_at", addr, copy.as_ptr(), &copy, safe.as_ptr() as usize);
    copy[0] = !data[0];
    assert_eq!(std::fs::read(&f.path).unwrap()[0], data[0], "map_copy_at is private");

    let addr = reserve();
    // SAFETY: the page at `addr` was reserved above for this map alone;
    // only this test touches the file.
    let cro = unsafe { o.map_copy_read_only_at(&f.read(), addr) }.unwrap();
    // SAFETY: as above.
    let safe = unsafe { o.map_copy_read_only(&f.read()) }.unwrap();
    check("map_copy_read_only_at", addr, cro.as_ptr(), &cro, safe.as_ptr() as usize);

    let addr = reserve();
    // SAFETY: the page at `addr` was reserved above for this map alone;
    // only this test touches the file, and nothing executes it.
    let exec = unsafe { o.map_exec_at(&f.read(), addr) }.unwrap();
    // SAFETY: as above.
    let safe = unsafe { o.map_exec(&f.read()) }.unwrap();
    check("map_exec_at", addr, exec.as_ptr(), &exec, safe.as_ptr() as usize);

    let mut buf = vec![0; page];
    for (what, rw) in [("map_raw_at", true), ("map_raw_read_only_at", false)] {
        let addr = reserve();
        let raw = if rw {
            // SAFETY: the page at `addr` was reserved above for this map alone.
            unsafe { o.map_raw_at(&f.rw(), addr) }.unwrap()
        } else {
            // SAFETY: as above.
            unsafe { o.map_raw_read_only_at(&f.read(), addr) }.unwrap()
        };
        let safe = if rw { o.map_raw(&f.rw()) } else { o.map_raw_read_only(&f.read()) }.unwrap();
        assert_eq!(raw.read_at(0, &mut buf).unwrap(), page);
        check(what, addr, raw.as_ptr(), &buf, safe.as_ptr() as usize);
    }
}
