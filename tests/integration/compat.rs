//! `xmmap::compat::memmap2`: every public item through the compat names,
//! written from memmap2 0.9's documented behaviour, cross-checked against
//! the real memmap2 on the same file where that is cheap, and one test per
//! intended difference.
#![cfg(feature = "memmap2-compat")]

use std::fs::File;
use std::io::{self, ErrorKind};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

use crate::common::*;
use xmmap::compat::memmap2::{
    Advice, MapIfSafeError, Mmap, MmapAsRawDesc, MmapMut, MmapOptions, MmapRaw, RemapOptions,
    UncheckedAdvice,
};
use xmmap::page_size;

fn may_move() -> RemapOptions {
    RemapOptions::new().may_move(true)
}

/// The permissions column of the /proc/self/maps line holding `addr`.
fn perms_at(addr: *const u8) -> String {
    let addr = addr as usize;
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    for line in maps.lines() {
        let mut cols = line.split_whitespace();
        let range = cols.next().unwrap_or("");
        let perms = cols.next().unwrap_or("");
        let (lo, hi) = range.split_once('-').expect("range column");
        let lo = usize::from_str_radix(lo, 16).expect("hex");
        let hi = usize::from_str_radix(hi, 16).expect("hex");
        if (lo..hi).contains(&addr) {
            return perms.to_string();
        }
    }
    panic!("{addr:#x} is not mapped");
}

fn assert_kind<T: std::fmt::Debug>(r: io::Result<T>, kind: ErrorKind) -> io::Error {
    let e = r.expect_err("expected an error");
    assert_eq!(e.kind(), kind, "{e}");
    e
}

/// The errno behind a compat error: its payload is an `xmmap::Error`.

#[test]
fn file_maps_match_memmap2_for_every_offset_and_length() {
    let page = page_size();
    let size = 3 * page + 17;
    let data = pattern(size);
    let f = TempFile::with(&data);
    let file = f.read();
    let cases: [(u64, Option<usize>); 9] = [
        (0, None),
        (1, None),
        (page as u64 - 1, Some(10)),
        (page as u64, None),
        (page as u64 + 5, Some(page)),
        (size as u64 - 1, Some(1)),
        (size as u64, None),
        (5, Some(0)),
        (7, Some(size + page)), // past end-of-file is allowed; not touched
    ];
    for (offset, len) in cases {
        let mut ours = MmapOptions::new();
        let mut theirs = memmap2::MmapOptions::new();
        ours.offset(offset);
        theirs.offset(offset);
        if let Some(len) = len {
            ours.len(len);
            theirs.len(len);
        }
        // SAFETY: nobody changes the file during the test.
        let (a, b) = unsafe { (ours.map(&file).unwrap(), theirs.map(&file).unwrap()) };
        assert_eq!(a.len(), b.len(), "offset {offset} len {len:?}");
        let end = data.len().min(offset as usize + a.len());
        assert_eq!(&a[..end - offset as usize], &data[offset as usize..end]);
        assert_eq!(&a[..end - offset as usize], &b[..end - offset as usize]);
        // The exact byte, even for an unaligned offset.
        assert_eq!(a.as_ptr() as usize % page, offset as usize % page);
        // And through a raw descriptor.
        // SAFETY: as above.
        let c = unsafe { ours.map(file.as_raw_fd()).unwrap() };
        assert_eq!(c.len(), a.len());
        assert_eq!(&c[..end - offset as usize], &a[..end - offset as usize]);
    }
    // The static constructor and the trait spelled out.
    // SAFETY: as above.
    let whole = unsafe { Mmap::map(&file).unwrap() };
    assert_eq!(&whole[..], &data[..]);
    assert_eq!(whole.as_ref(), &data[..]);
    let _: xmmap::compat::memmap2::MmapRawDescriptor = (&file).as_raw_desc();
    let _: xmmap::compat::memmap2::MmapRawDescriptor = file.as_raw_fd().as_raw_desc();
}

#[test]
fn the_types_are_send_and_sync_like_memmap2s() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Mmap>();
    send_sync::<MmapMut>();
    send_sync::<MmapRaw>();
    send_sync::<MmapOptions>();
    send_sync::<MapIfSafeError>();
    let map = MmapMut::map_anon(10).unwrap();
    let len = std::thread::spawn(move || map.len()).join().unwrap();
    assert_eq!(len, 10);
}

#[cfg(feature = "stable_deref_trait")]
#[test]
fn mmap_and_mmap_mut_are_stable_deref_like_memmap2s() {
    fn stable<T: stable_deref_trait::StableDeref>(owner: T) -> T {
        owner
    }
    let map = stable(MmapMut::map_anon(4096).unwrap());
    let addr = map.as_ptr();
    let moved = stable(map.make_read_only().unwrap());
    assert_eq!(moved.as_ptr(), addr);
}

#[test]
fn lock_and_unlock_every_type() {
    let f = TempFile::with(&pattern(3 * page_size()));
    let file = f.rw();
    // SAFETY: only this test touches the file.
    let ro = unsafe { MmapOptions::new().offset(3).map(&file).unwrap() };
    let rw = MmapMut::map_anon(page_size()).unwrap();
    let raw = MmapRaw::map_raw(&file).unwrap();
    ro.lock().unwrap();
    rw.lock().unwrap();
    raw.lock().unwrap();
    ro.unlock().unwrap();
    rw.unlock().unwrap();
    raw.unlock().unwrap();
}

#[test]
fn empty_files_give_empty_maps_that_remap_grows_like_memmap2() {
    let page = page_size();
    let f = TempFile::with(b"");
    let file = f.rw();
    // SAFETY: only this test touches the file, and no byte past its end is
    // touched before it grows.
    unsafe {
        let ro = Mmap::map(&file).unwrap();
        let theirs = memmap2::Mmap::map(&file).unwrap();
        assert!(ro.is_empty() && theirs.is_empty());
        assert_eq!(ro.as_ptr() as usize % page, 0); // a real mapping's address
        let raw = MmapRaw::map_raw(&file).unwrap();
        assert_eq!(raw.len(), 0);

        let mut map = MmapMut::map_mut(&file).unwrap();
        assert_eq!(map.len(), 0);
        map.flush().unwrap();
        map.advise(Advice::Normal).unwrap();
        map.lock().unwrap();
        map.unlock().unwrap();
        // The empty map grows once the file does.
        file.set_len(2 * page as u64).unwrap();
        file.write_all_at(b"grown", page as u64).unwrap();
        if POSIX {
            // No mremap on macOS and FreeBSD (nor in memmap2 there).
            return assert_unsupported_io(map.remap(2 * page, may_move()), "mremap");
        }
        map.remap(2 * page, may_move()).unwrap();
        assert_eq!(&map[page..page + 5], b"grown");
        map[0] = b'!';
        map.flush_range(0, 1).unwrap();
        // Back to zero bytes, and up again.
        map.remap(0, may_move()).unwrap();
        assert!(map.is_empty());
        map.remap(page + 5, may_move()).unwrap();
        assert_eq!(&map[page..], b"grown");
    }
    assert_eq!(f.contents()[0], b'!');
}

#[test]
fn zero_length_anonymous_maps_are_empty_and_grow() {
    let page = page_size();
    for mut map in [MmapMut::map_anon(0).unwrap(), MmapOptions::new().map_anon().unwrap()] {
        assert_eq!(map.len(), 0);
        assert_eq!(memmap2::MmapMut::map_anon(0).unwrap().len(), 0);
        assert_eq!(map.as_ptr() as usize % page, 0);
        map.flush().unwrap();
        map.flush_async().unwrap();
        map.advise(Advice::WillNeed).unwrap();
        map.lock().unwrap();
        map.unlock().unwrap();
        assert_kind(map.advise_range(Advice::WillNeed, 0, 1), ErrorKind::InvalidInput);
        assert_kind(map.flush_range(1, 0), ErrorKind::InvalidInput);
        if POSIX {
            // SAFETY: anonymous memory; the call fails.
            assert_unsupported_io(unsafe { map.remap(2 * page, may_move()) }, "mremap");
            continue;
        }
        // SAFETY: anonymous memory has no file to run past.
        unsafe { map.remap(2 * page, may_move()).unwrap() };
        assert_eq!(map.len(), 2 * page);
        assert!(map.iter().all(|&b| b == 0));
        map[2 * page - 1] = 1;
        let ro = map.make_read_only().unwrap();
        assert_eq!(ro[2 * page - 1], 1);
    }
    // A zero-length placeholder keeps its emptiness through conversions.
    let empty = MmapMut::map_anon(0).unwrap().make_exec().unwrap();
    assert!(empty.is_empty());
    let raw = MmapRaw::from(empty);
    assert_eq!(raw.len(), 0);
    assert!(xmmap::MapRaw::from(raw).is_empty());
}

#[test]
fn offset_past_the_end_without_a_length_is_invalid_data_like_memmap2() {
    let f = TempFile::with(b"0123456789");
    let file = f.read();
    // SAFETY: the file is not changed.
    unsafe {
        assert_kind(MmapOptions::new().offset(11).map(&file), ErrorKind::InvalidData);
        assert_kind(memmap2::MmapOptions::new().offset(11).map(&file), ErrorKind::InvalidData);
    }
    assert_kind(MmapOptions::new().offset(11).map_raw_read_only(&file), ErrorKind::InvalidData);
}

#[test]
fn lengths_over_isize_max_are_invalid_data_like_memmap2() {
    let big = isize::MAX as usize + 1;
    assert_kind(MmapMut::map_anon(big), ErrorKind::InvalidData);
    assert_kind(memmap2::MmapMut::map_anon(big), ErrorKind::InvalidData);
    let f = TempFile::with(b"x");
    // SAFETY: the file is not changed.
    assert_kind(unsafe { MmapOptions::new().len(big).map(&f.read()) }, ErrorKind::InvalidData);
}

/// Intended difference: memmap2 maps pages that all raise SIGBUS.
#[test]
fn offset_past_the_end_with_a_length_is_refused_unlike_memmap2() {
    let page = page_size() as u64;
    let f = TempFile::with(b"short");
    let file = f.read();
    // SAFETY: the maps are not touched.
    unsafe {
        assert_kind(
            MmapOptions::new().offset(2 * page).len(10).map(&file),
            ErrorKind::InvalidInput,
        );
        assert!(memmap2::MmapOptions::new().offset(2 * page).len(10).map(&file).is_ok());
    }
}

#[test]
fn shared_writes_reach_the_file_through_every_flush() {
    let page = page_size();
    let f = TempFile::with(&vec![0u8; 3 * page]);
    let file = f.rw();
    // SAFETY: only this map touches the file.
    let mut map = unsafe { MmapOptions::new().map_mut(&file).unwrap() };
    map[0] = 1;
    map.flush().unwrap();
    map[page] = 2;
    map.flush_async().unwrap();
    map[page + 10] = 3;
    map.flush_range(page + 10, 1).unwrap();
    map[2 * page + 1] = 4;
    map.flush_async_range(2 * page, 2).unwrap();
    map.as_mut()[5] = 5;
    map.flush().unwrap();
    drop(map);
    let c = f.contents();
    assert_eq!((c[0], c[5], c[page], c[page + 10], c[2 * page + 1]), (1, 5, 2, 3, 4));

    // An unaligned offset: the flush covers the page below the first byte.
    // SAFETY: as above.
    let mut tail =
        unsafe { MmapOptions::new().offset(page as u64 + 7).len(3).map_mut(&file) }.unwrap();
    tail.copy_from_slice(b"abc");
    assert_eq!(tail.as_ref(), b"abc");
    tail.flush_range(1, 2).unwrap();
    tail.flush_async_range(0, 3).unwrap();
    tail.flush().unwrap();
    drop(tail);
    assert_eq!(&f.contents()[page + 7..page + 10], b"abc");
}

#[test]
fn flush_range_past_the_end_is_invalid_input_like_memmap2() {
    let f = TempFile::with(&[0u8; 100]);
    let file = f.rw();
    // SAFETY: only these maps touch the file.
    let (ours, theirs) =
        unsafe { (MmapMut::map_mut(&file).unwrap(), memmap2::MmapMut::map_mut(&file).unwrap()) };
    for (offset, len) in [(50, 51), (101, 0), (1, usize::MAX)] {
        assert_kind(ours.flush_range(offset, len), ErrorKind::InvalidInput);
        assert_kind(ours.flush_async_range(offset, len), ErrorKind::InvalidInput);
        assert_kind(theirs.flush_range(offset, len), ErrorKind::InvalidInput);
    }
    let raw = MmapRaw::map_raw(&file).unwrap();
    assert_kind(raw.flush_range(50, 51), ErrorKind::InvalidInput);
    assert_kind(raw.flush_async_range(50, 51), ErrorKind::InvalidInput);
}

#[test]
fn copy_on_write_maps_are_isolated_from_the_file_and_other_maps() {
    let f = TempFile::with(b"original");
    let file = f.read();
    // SAFETY: nobody else changes the file; the copies never write to it.
    unsafe {
        let shared = Mmap::map(&file).unwrap();
        let mut copy = MmapOptions::new().map_copy(&file).unwrap();
        let mut other = MmapOptions::new().map_copy(&file).unwrap();
        copy[..4].copy_from_slice(b"COPY");
        other[0] = b'X';
        assert_eq!(&copy[..], b"COPYinal");
        assert_eq!(&other[..], b"Xriginal");
        assert_eq!(&shared[..], b"original");
        copy.flush().unwrap(); // nothing to carry to the file
        let ro = MmapOptions::new().map_copy_read_only(&file).unwrap();
        let mut made = ro.make_mut().unwrap();
        made[0] = b'M';
        assert_eq!(&made[..], b"Mriginal");
        assert_eq!(&shared[..], b"original");
    }
    assert_eq!(f.contents(), b"original");
}

#[test]
fn protection_round_trips_show_in_the_kernel_maps() {
    let page = page_size();
    let mut map = MmapMut::map_anon(2 * page).unwrap();
    assert_eq!(&perms_at(map.as_ptr())[..3], "rw-");
    map[1] = 7;
    let ro = map.make_read_only().unwrap();
    assert_eq!(&perms_at(ro.as_ptr())[..3], "r--");
    let mut rw = ro.make_mut().unwrap();
    assert_eq!(&perms_at(rw.as_ptr())[..3], "rw-");
    rw[2] = 8;
    let x = rw.make_exec().unwrap();
    assert_eq!(&perms_at(x.as_ptr())[..3], "r-x");
    let mut back = x.make_mut().unwrap();
    back[3] = 9;
    assert_eq!(&back[1..4], &[7, 8, 9]);

    // A shared map of a read-only descriptor cannot become writable.
    let f = TempFile::with(b"ro");
    // SAFETY: the file is not changed.
    let (ours, theirs) =
        unsafe { (Mmap::map(&f.read()).unwrap(), memmap2::Mmap::map(&f.read()).unwrap()) };
    assert_kind(ours.make_mut(), ErrorKind::PermissionDenied);
    assert_kind(theirs.make_mut(), ErrorKind::PermissionDenied);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn jit_code_runs_after_make_exec() {
    // mov eax, 42; ret
    const CODE: [u8; 6] = [0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3];
    let mut map = MmapMut::map_anon(CODE.len()).unwrap();
    map.copy_from_slice(&CODE);
    let code = map.make_exec().unwrap();
    // SAFETY: the map holds a complete x86_64 function with the C ABI that
    // takes nothing and returns 42 in eax; it stays mapped and executable
    // for the call.
    let f: extern "C" fn() -> i32 = unsafe { std::mem::transmute(code.as_ptr()) };
    assert_eq!(f(), 42);
}

#[test]
fn map_exec_maps_the_file_readable_and_executable() {
    let f = TempFile::with(&[0xc3; 16]);
    // SAFETY: the file is not changed.
    let code = unsafe { MmapOptions::new().map_exec(&f.read()).unwrap() };
    assert_eq!(&perms_at(code.as_ptr())[..3], "r-x");
    assert_eq!(code[15], 0xc3);
}

#[test]
fn raw_maps_write_flush_and_convert() {
    let page = page_size();
    let f = TempFile::with(&vec![0u8; 2 * page]);
    let file = f.rw();
    let raw = MmapRaw::map_raw(&file).unwrap();
    assert_eq!(raw.len(), 2 * page);
    // SAFETY: in bounds and writable; nobody else touches the file.
    unsafe {
        raw.as_mut_ptr().write(1);
        raw.as_mut_ptr().add(page).write(2);
        assert_eq!(*raw.as_ptr(), 1);
    }
    raw.flush().unwrap();
    raw.flush_async().unwrap();
    raw.flush_range(page, 1).unwrap();
    raw.flush_async_range(0, 2 * page).unwrap();
    raw.advise(Advice::Random).unwrap();
    raw.lock().unwrap();
    raw.unlock().unwrap();
    assert_eq!((f.contents()[0], f.contents()[page]), (1, 2));

    // map_raw wants a writable descriptor, as in memmap2.
    let ro = f.read();
    assert_kind(MmapRaw::map_raw(&ro), ErrorKind::PermissionDenied);
    assert_kind(memmap2::MmapRaw::map_raw(&ro), ErrorKind::PermissionDenied);
    let opts = MmapOptions::new().offset(page as u64).clone();
    assert_kind(opts.map_raw(&ro), ErrorKind::PermissionDenied);
    let rw_raw = opts.map_raw(&file).unwrap();
    assert_eq!(rw_raw.len(), page);
    // SAFETY: in bounds; nobody truncates the file.
    assert_eq!(unsafe { *rw_raw.as_ptr() }, 2);
    let rraw = MmapOptions::new().offset(1).map_raw_read_only(&ro).unwrap();
    assert_eq!(rraw.len(), 2 * page - 1);
    // SAFETY: in bounds; nobody truncates the file.
    assert_eq!(unsafe { *rraw.as_ptr().add(page - 1) }, 2);

    // From the reference-giving types: same address, same length.
    // SAFETY: as above.
    let map = unsafe { Mmap::map(&ro).unwrap() };
    let (ptr, len) = (map.as_ptr(), map.len());
    let raw = MmapRaw::from(map);
    assert_eq!((raw.as_ptr(), raw.len()), (ptr, len));
    let anon = MmapMut::map_anon(100).unwrap();
    let ptr = anon.as_ptr();
    let mut raw: MmapRaw = anon.into();
    assert_eq!((raw.as_ptr(), raw.len()), (ptr, 100));
    if POSIX {
        // SAFETY: anonymous memory; the call fails.
        return assert_unsupported_io(unsafe { raw.remap(3 * page, may_move()) }, "mremap");
    }
    // SAFETY: anonymous memory has no file to run past.
    unsafe { raw.remap(3 * page, may_move()).unwrap() };
    assert_eq!(raw.len(), 3 * page);
}

#[test]
fn every_advice_through_every_type() {
    let page = page_size();
    let f = TempFile::with(&pattern(4 * page));
    let file = f.rw();
    // SAFETY: only this test touches the file.
    let ro = unsafe { Mmap::map(&file).unwrap() };
    let rw = MmapMut::map_anon(4 * page).unwrap();
    let raw = MmapRaw::map_raw(&file).unwrap();
    let safe = [
        Advice::Normal,
        Advice::Random,
        Advice::Sequential,
        Advice::WillNeed,
        Advice::DontFork,
        Advice::DoFork,
        Advice::DontDump,
        Advice::DoDump,
        Advice::PopulateRead,
    ];
    for a in safe {
        if POSIX && !a.is_supported() {
            // Linux's own advice: refused by name on macOS and FreeBSD.
            assert!(!matches!(a, Advice::Normal | Advice::Random | Advice::Sequential));
            assert_unsupported_io(ro.advise(a), "MADV_");
            assert_unsupported_io(raw.advise_range(a, 3 * page, page), "MADV_");
            continue;
        }
        assert!(a.is_supported(), "{a:?}");
        ro.advise(a).unwrap();
        ro.advise_range(a, 1, page).unwrap();
        rw.advise(a).unwrap();
        rw.advise_range(a, page, 2 * page).unwrap();
        raw.advise(a).unwrap();
        raw.advise_range(a, 3 * page, page).unwrap();
    }
    if POSIX {
        assert_unsupported_io(rw.advise(Advice::PopulateWrite), "MADV_POPULATE_WRITE");
        // SAFETY: no reference into the map is alive across the call.
        let r = unsafe { rw.unchecked_advise(UncheckedAdvice::Remove) };
        assert_unsupported_io(r, "MADV_REMOVE");
        // MADV_DONTNEED is the POSIX hint there: the contents stay.
        let mut anon = MmapMut::map_anon(2 * page).unwrap();
        anon.fill(9);
        // SAFETY: no reference into the map is alive across the call.
        unsafe { anon.unchecked_advise(UncheckedAdvice::DontNeed).unwrap() };
        assert_eq!((anon[0], anon[page]), (9, 9));
        return;
    }
    rw.advise(Advice::PopulateWrite).unwrap();
    // Transparent huge pages and KSM may be configured out; memmap2 and the
    // compat module then agree on the refusal.
    let theirs = memmap2::MmapMut::map_anon(4 * page).unwrap();
    for a in [Advice::HugePage, Advice::NoHugePage, Advice::Mergeable, Advice::Unmergeable] {
        let m = match a {
            Advice::HugePage => memmap2::Advice::HugePage,
            Advice::NoHugePage => memmap2::Advice::NoHugePage,
            Advice::Mergeable => memmap2::Advice::Mergeable,
            _ => memmap2::Advice::Unmergeable,
        };
        assert_eq!(m as i32, a as i32);
        assert_eq!(rw.advise(a).is_ok(), theirs.advise(m).is_ok(), "{a:?}");
    }
    // The discriminants are memmap2's, and so is the kernel's answer.
    use memmap2::Advice as M;
    let pairs = [
        (Advice::Normal, M::Normal),
        (Advice::Random, M::Random),
        (Advice::Sequential, M::Sequential),
        (Advice::WillNeed, M::WillNeed),
        (Advice::DontFork, M::DontFork),
        (Advice::DoFork, M::DoFork),
        (Advice::Mergeable, M::Mergeable),
        (Advice::Unmergeable, M::Unmergeable),
        (Advice::HugePage, M::HugePage),
        (Advice::NoHugePage, M::NoHugePage),
        (Advice::DontDump, M::DontDump),
        (Advice::DoDump, M::DoDump),
        (Advice::HwPoison, M::HwPoison),
        (Advice::PopulateRead, M::PopulateRead),
        (Advice::PopulateWrite, M::PopulateWrite),
    ];
    for (a, m) in pairs {
        assert_eq!((a as i32, a.is_supported()), (m as i32, m.is_supported()), "{a:?}");
    }
    let pairs = [
        (UncheckedAdvice::DontNeed, memmap2::UncheckedAdvice::DontNeed),
        (UncheckedAdvice::Free, memmap2::UncheckedAdvice::Free),
        (UncheckedAdvice::Remove, memmap2::UncheckedAdvice::Remove),
    ];
    for (u, m) in pairs {
        assert_eq!((u as i32, u.is_supported()), (m as i32, m.is_supported()), "{u:?}");
        assert!(u.is_supported(), "{u:?}");
    }

    // Unchecked advice changes contents: private anonymous pages read zeros.
    let mut anon = MmapMut::map_anon(2 * page).unwrap();
    anon.fill(9);
    // SAFETY: no reference into the map is alive across the calls.
    unsafe {
        anon.unchecked_advise_range(UncheckedAdvice::DontNeed, page, page).unwrap();
        assert_eq!((anon[0], anon[page]), (9, 0));
        anon.unchecked_advise(UncheckedAdvice::DontNeed).unwrap();
        assert_eq!(anon[0], 0);
        anon.unchecked_advise(UncheckedAdvice::Free).unwrap();
        ro.unchecked_advise(UncheckedAdvice::DontNeed).unwrap();
        ro.unchecked_advise_range(UncheckedAdvice::DontNeed, page, page).unwrap();
        raw.unchecked_advise_range(UncheckedAdvice::DontNeed, 0, page).unwrap();
        raw.unchecked_advise(UncheckedAdvice::DontNeed).unwrap();
    }
    // The file's bytes come back after DONTNEED on a shared map.
    assert_eq!(&ro[..], &pattern(4 * page)[..]);
}

#[test]
fn remove_punches_a_hole_in_the_file_like_memmap2() {
    let page = page_size();
    let f = TempFile::with(&vec![7u8; 3 * page]);
    let file = f.rw();
    // SAFETY: only these maps touch the file, and no reference into the
    // range is alive across the advice.
    let (ours, theirs) = unsafe {
        let m = MmapMut::map_mut(&file).unwrap();
        let r = m.unchecked_advise_range(UncheckedAdvice::Remove, page, page);
        let t = memmap2::MmapMut::map_mut(&file).unwrap().unchecked_advise_range(
            memmap2::UncheckedAdvice::Remove,
            2 * page,
            page,
        );
        (r, t)
    };
    if POSIX {
        return assert_unsupported_io(ours, "MADV_REMOVE");
    }
    // A file system without hole punching refuses both alike.
    assert_eq!(ours.is_ok(), theirs.is_ok(), "{ours:?} {theirs:?}");
    if ours.is_ok() {
        let c = f.contents();
        assert_eq!((c[page - 1], c[page], c[2 * page], c[3 * page - 1]), (7, 0, 0, 0));
    }
}

/// Intended difference: memmap2 checks `offset` and `len` separately and
/// advises the pages after the map.
#[test]
fn advise_range_past_the_end_is_invalid_input_unlike_memmap2() {
    let page = page_size();
    let f = TempFile::with(&pattern(2 * page));
    let file = f.rw();
    // SAFETY: only this test touches the file.
    let ro = unsafe { Mmap::map(&file).unwrap() };
    let rw = MmapMut::map_anon(2 * page).unwrap();
    let raw = MmapRaw::map_raw(&file).unwrap();
    for (offset, len) in [(page, 2 * page), (2 * page, 1), (1, usize::MAX)] {
        assert_kind(ro.advise_range(Advice::WillNeed, offset, len), ErrorKind::InvalidInput);
        assert_kind(rw.advise_range(Advice::WillNeed, offset, len), ErrorKind::InvalidInput);
        assert_kind(raw.advise_range(Advice::WillNeed, offset, len), ErrorKind::InvalidInput);
        // SAFETY: the range is refused before any advice is given.
        let unchecked =
            unsafe { rw.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, len) };
        assert_kind(unchecked, ErrorKind::InvalidInput);
    }
    // memmap2 lets `offset + len` run a page past the map: the kernel then
    // either advises whatever lies there or fails with ENOMEM.
    let theirs = memmap2::MmapMut::map_anon(2 * page).unwrap();
    let r = theirs.advise_range(memmap2::Advice::WillNeed, page, 2 * page);
    assert!(!matches!(r, Err(ref e) if e.kind() == ErrorKind::InvalidInput), "{r:?}");
}

#[test]
fn remap_grows_and_shrinks_anonymous_and_file_maps() {
    let page = page_size();
    let mut map = MmapMut::map_anon(page).unwrap();
    map[..4].copy_from_slice(b"keep");
    if POSIX {
        // SAFETY: anonymous memory; the call fails.
        assert_unsupported_io(unsafe { map.remap(8 * page, may_move()) }, "mremap");
        return assert_eq!((map.len(), &map[..4]), (page, &b"keep"[..]));
    }
    // SAFETY: anonymous memory has no file to run past.
    unsafe {
        map.remap(8 * page, may_move()).unwrap();
        assert_eq!((map.len(), &map[..4]), (8 * page, &b"keep"[..]));
        map[8 * page - 1] = 1;
        let before = map.as_ptr();
        map.remap(2 * page, RemapOptions::new()).unwrap(); // shrinking stays in place
        assert_eq!((map.len(), map.as_ptr()), (2 * page, before));
        assert_eq!(&map[..4], b"keep");
    }

    let data = pattern(3 * page);
    let f = TempFile::with(&data);
    let file = f.read();
    // SAFETY: the file is not changed, and the map never exceeds it.
    unsafe {
        let mut ro = MmapOptions::new().offset(3).len(10).map(&file).unwrap();
        ro.remap(3 * page - 3, may_move()).unwrap();
        assert_eq!(&ro[..], &data[3..]);
        ro.remap(page, may_move()).unwrap();
        assert_eq!(&ro[..], &data[3..page + 3]);
        let mut raw = MmapOptions::new().len(1).map_raw_read_only(&file).unwrap();
        raw.remap(3 * page, may_move()).unwrap();
        assert_eq!(raw.len(), 3 * page);
        assert_eq!(*raw.as_ptr().add(3 * page - 1), data[3 * page - 1]);
    }
}

/// Intended difference: memmap2 adds the bytes below an unaligned offset to
/// `new_len` unchecked (a panic in debug builds, a wrapped length in
/// release builds).
#[test]
fn remap_to_an_overflowing_size_is_invalid_input_unlike_memmap2() {
    let f = TempFile::with(b"0123456789");
    let file = f.read();
    // SAFETY: the file is not changed; the failed remaps leave the maps as
    // they were.
    unsafe {
        let mut map = MmapOptions::new().offset(5).map(&file).unwrap();
        for new_len in [usize::MAX, usize::MAX - 2, isize::MAX as usize + 1] {
            assert_kind(map.remap(new_len, may_move()), ErrorKind::InvalidInput);
            assert_eq!(&map[..], b"56789");
        }
        let mut raw = MmapRaw::from(MmapOptions::new().offset(5).map(&file).unwrap());
        assert_kind(raw.remap(usize::MAX, may_move()), ErrorKind::InvalidInput);
        assert_eq!(raw.len(), 5);
        if cfg!(debug_assertions) {
            let mut theirs = memmap2::MmapOptions::new().offset(5).map(&file).unwrap();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                theirs.remap(usize::MAX, memmap2::RemapOptions::new().may_move(true))
            }));
            assert!(r.is_err(), "memmap2 overflows instead of refusing");
        }
    }
}

#[test]
fn offsets_above_4_gib_reach_the_right_bytes() {
    let page = page_size() as u64;
    let f = TempFile::with(b"");
    let file = f.rw();
    let high = (4u64 << 30) + 123;
    file.set_len(high + 2 * page).unwrap(); // sparse
    file.write_all_at(b"above four gib", high).unwrap();
    // SAFETY: only this test touches the file.
    unsafe {
        let ours = MmapOptions::new().offset(high).len(14).map(&file).unwrap();
        let theirs = memmap2::MmapOptions::new().offset(high).len(14).map(&file).unwrap();
        assert_eq!(&ours[..], b"above four gib");
        assert_eq!(&ours[..], &theirs[..]);
        let tail = MmapOptions::new().offset(high + 6).map(&file).unwrap();
        assert_eq!(tail.len() as u64, 2 * page - 6);
        assert_eq!(&tail[..8], b"four gib");
        let mut rw = MmapOptions::new().offset(high).len(5).map_mut(&file).unwrap();
        rw.copy_from_slice(b"ABOVE");
        rw.flush().unwrap();
    }
    let mut buf = [0u8; 5];
    file.read_exact_at(&mut buf, high).unwrap();
    assert_eq!(&buf, b"ABOVE");
}

#[test]
fn raw_descriptors_work_for_every_file_constructor() {
    let f = TempFile::with(b"descriptor");
    let file = f.rw();
    let fd = file.as_raw_fd();
    // SAFETY: only this test touches the file.
    unsafe {
        assert_eq!(&Mmap::map(fd).unwrap()[..], b"descriptor");
        assert_eq!(&MmapOptions::new().map_copy_read_only(fd).unwrap()[..], b"descriptor");
        let mut copy = MmapOptions::new().map_copy(fd).unwrap();
        copy[0] = b'D';
        let mut shared = MmapMut::map_mut(fd).unwrap();
        shared[9] = b'R';
        shared.flush().unwrap();
        assert_eq!(MmapRaw::map_raw(fd).unwrap().len(), 10);
        assert_eq!(MmapOptions::new().map_raw_read_only(fd).unwrap().len(), 10);
    }
    assert_eq!(f.contents(), b"descriptoR");
    // A descriptor that is not open: EBADF, as from memmap2.
    let bad: i32 = 1 << 30;
    let e = MmapRaw::map_raw(bad).unwrap_err();
    let theirs = memmap2::MmapRaw::map_raw(bad).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(9));
    assert_eq!(e.kind(), theirs.kind());
    assert_eq!(MmapRaw::map_raw(-1).unwrap_err().raw_os_error(), Some(9));
    // The descriptor may be closed once the map exists.
    let map = MmapRaw::map_raw(&file).unwrap();
    drop(file);
    map.flush().unwrap();
}

#[test]
fn errors_have_memmap2s_kinds_and_errnos() {
    let page = page_size();
    // Refused before the system call: a directory (the kernel's ENODEV).
    let dir = File::open(std::env::temp_dir()).unwrap();
    // SAFETY: nothing is mapped.
    let (ours, theirs) = unsafe { (Mmap::map(&dir).unwrap_err(), memmap2::Mmap::map(&dir)) };
    assert_eq!(Some(ours.kind()), theirs.as_ref().err().map(|e| e.kind()));
    assert_eq!(ours.raw_os_error(), theirs.err().and_then(|e| e.raw_os_error()));

    // Refused by the kernel: populating a page past the end of the file.
    let f = TempFile::with(&pattern(page));
    let file = f.read();
    // SAFETY: the page past the end is never touched, only advised.
    let (ours, theirs) = unsafe {
        (
            MmapOptions::new().len(2 * page).map(&file).unwrap(),
            memmap2::MmapOptions::new().len(2 * page).map(&file).unwrap(),
        )
    };
    let e = ours.advise_range(Advice::PopulateRead, page, page).unwrap_err();
    if POSIX {
        // memmap2 has no MADV_POPULATE_READ on macOS and FreeBSD either.
        assert_eq!((e.kind(), e.raw_os_error()), (ErrorKind::Unsupported, None), "{e}");
    } else {
        let t = theirs.advise_range(memmap2::Advice::PopulateRead, page, page).unwrap_err();
        assert_eq!(e.kind(), t.kind());
        assert_eq!(e.raw_os_error(), t.raw_os_error());
    }

    // A writable shared map of a read-only descriptor.
    // SAFETY: nothing is mapped.
    let (ours, theirs) =
        unsafe { (MmapMut::map_mut(&file).unwrap_err(), memmap2::MmapMut::map_mut(&file)) };
    assert_eq!(Some(ours.kind()), theirs.as_ref().err().map(|e| e.kind()));
    if ours.raw_os_error().is_none() {
        // Refused before the call, with xmmap's message.
        assert!(ours.to_string().contains("read-only"), "{ours}");
    }
}

#[test]
fn kernel_errors_have_memmap2s_raw_os_error() {
    // Regression: every error had raw_os_error() None where memmap2 gives
    // the errno, so code matching the errno broke on migration.
    let page = page_size();
    let some = |e: &io::Error| {
        assert!(e.raw_os_error().is_some(), "{e:?}");
        e.raw_os_error()
    };
    // A directory: ENODEV.
    let dir = File::open(std::env::temp_dir()).unwrap();
    // SAFETY: nothing is mapped.
    let (ours, theirs) = unsafe { (Mmap::map(&dir), memmap2::Mmap::map(&dir)) };
    assert_eq!(some(&ours.unwrap_err()), theirs.unwrap_err().raw_os_error());
    // A descriptor that is not open: EBADF.
    let (ours, theirs) = {
        let fd: std::os::fd::RawFd = 1 << 20;
        // SAFETY: the map fails; nothing is mapped.
        unsafe {
            (MmapOptions::new().len(page).map(fd), memmap2::MmapOptions::new().len(page).map(fd))
        }
    };
    assert_eq!(some(&ours.unwrap_err()), theirs.unwrap_err().raw_os_error());
    // Populating past the end of the file: EFAULT.
    let f = TempFile::with(&pattern(page));
    let file = f.read();
    // SAFETY: the page past the end is never touched, only advised.
    let (ours, theirs) = unsafe {
        (
            MmapOptions::new().len(2 * page).map(&file).unwrap(),
            memmap2::MmapOptions::new().len(2 * page).map(&file).unwrap(),
        )
    };
    let e = ours.advise_range(Advice::PopulateWrite, 0, page).unwrap_err();
    if POSIX {
        // Neither the advice nor mremap is there: refused by name, no errno.
        assert_unsupported_io(Err::<(), _>(e), "MADV_POPULATE_WRITE");
        let mut ours = MmapMut::map_anon(page).unwrap();
        // SAFETY: no reference into the map is held; the call fails.
        return assert_unsupported_io(
            unsafe { ours.remap(2 * page, RemapOptions::new()) },
            "mremap",
        );
    }
    let t = theirs.advise_range(memmap2::Advice::PopulateWrite, 0, page).unwrap_err();
    assert_eq!(some(&e), t.raw_os_error());
    // Growing a map in place when it may not move: ENOMEM, or success in
    // both when the pages after it happen to be free.
    let mut ours = MmapMut::map_anon(page).unwrap();
    let mut theirs = memmap2::MmapMut::map_anon(page).unwrap();
    let _fence_ours = MmapMut::map_anon(page).unwrap();
    let _fence_theirs = memmap2::MmapMut::map_anon(page).unwrap();
    // SAFETY: no reference into either map is held.
    let (o, t) = unsafe {
        (
            ours.remap(1 << 30, RemapOptions::new()),
            theirs.remap(1 << 30, memmap2::RemapOptions::new()),
        )
    };
    if let (Err(o), Err(t)) = (&o, &t) {
        assert_eq!(some(o), t.raw_os_error());
    }
}

/// Intended difference: git's mapping limit applies (in a child, whose
/// environment carries the limit).
#[test]
fn xmmap_limit_refuses_maps_over_it() {
    let test = this_test!();
    let page = page_size();
    if is_child(test) {
        assert_eq!(MmapMut::map_anon(page).unwrap().len(), page);
        let e = assert_kind(MmapMut::map_anon(2 * page), ErrorKind::OutOfMemory);
        assert!(e.to_string().contains("over limit"), "{e}");
        let f = TempFile::with(&pattern(2 * page));
        // SAFETY: nothing is mapped.
        assert_kind(unsafe { Mmap::map(&f.read()) }, ErrorKind::OutOfMemory);
        return;
    }
    let status = run_child_with(test, &[("XMMAP_LIMIT", &page.to_string())]);
    assert!(status.success(), "{status:?}");
}

#[test]
fn options_map_like_memmap2() {
    let page = page_size();
    let f = TempFile::with(&pattern(2 * page));
    let file = f.read();
    let stack = MmapOptions::new().stack().len(4 * page).map_anon().unwrap();
    assert_eq!(stack.len(), 4 * page);
    if POSIX {
        let pop = MmapOptions::new().populate().len(page).map_anon();
        assert_unsupported_io(pop, "MAP_POPULATE");
        // SAFETY: the file is not changed.
        let filed = unsafe { MmapOptions::new().no_reserve_swap().stack().map(&file) };
        assert_eq!(&filed.unwrap()[..], &pattern(2 * page)[..]);
        let huge = MmapOptions::new().huge(None).len(2 << 20).map_anon().unwrap_err();
        return assert_eq!(huge.kind(), ErrorKind::Unsupported, "{huge}");
    }
    let pop = MmapOptions::new().populate().no_reserve_swap().len(page).map_anon().unwrap();
    assert_eq!(pop[page - 1], 0);
    // SAFETY: the file is not changed.
    let filed = unsafe {
        MmapOptions::new().populate().no_reserve_swap().no_probe_handle().stack().map(&file)
    };
    assert_eq!(&filed.unwrap()[..], &pattern(2 * page)[..]);
    // Huge pages: whether they can be had depends on the machine; both
    // crates agree.
    let huge = 2 << 20;
    let ours = MmapOptions::new().huge(None).len(huge).map_anon();
    let theirs = memmap2::MmapOptions::new().huge(None).len(huge).map_anon();
    assert_eq!(ours.is_ok(), theirs.is_ok(), "{ours:?} {theirs:?}");
    // Anonymous maps ignore the offset, as in memmap2.
    let anon = MmapOptions::new().offset(5).len(10).map_anon().unwrap();
    assert_eq!(anon.len(), 10);
    assert_eq!(memmap2::MmapOptions::new().offset(5).len(10).map_anon().unwrap().len(), 10);
    let cloned = MmapOptions::new().offset(3).len(4).clone();
    // SAFETY: the file is not changed.
    assert_eq!(unsafe { cloned.map(&file).unwrap().len() }, 4);
    assert!(format!("{:?}", MmapOptions::default()).contains("MmapOptions"));
}

/// Intended difference: a huge page size the kernel does not offer is
/// refused before the system call.
#[test]
fn huge_page_sizes_the_kernel_lacks_are_unsupported_unlike_memmap2() {
    let (bits, len) = (40, 1 << 20); // 1 TiB pages exist nowhere
    let ours = MmapOptions::new().huge(Some(bits)).len(len).map_anon();
    let e = assert_kind(ours, ErrorKind::Unsupported);
    assert!(e.to_string().contains("huge page size"), "{e}");
    let theirs = memmap2::MmapOptions::new().huge(Some(bits)).len(len).map_anon();
    assert_kind(theirs, ErrorKind::InvalidInput);
}

#[test]
fn debug_output_names_pointer_and_length_like_memmap2() {
    let m = MmapMut::map_anon(3).unwrap();
    let s = format!("{m:?}");
    assert!(s.starts_with("MmapMut { ptr: 0x") && s.ends_with("len: 3 }"), "{s}");
    let r = MmapRaw::from(m);
    assert!(format!("{r:?}").starts_with("MmapRaw { ptr: "));
    let e = MmapMut::map_anon(0).unwrap().make_read_only().unwrap();
    assert!(format!("{e:?}").ends_with("len: 0 }"));
}

#[test]
fn native_types_convert_both_ways() {
    let f = TempFile::with(b"native");
    // SAFETY: the file is not changed.
    let map = unsafe { Mmap::map(&f.read()).unwrap() };
    let native: xmmap::Map = map.into();
    assert_eq!(&native[..], b"native");
    let back = Mmap::from(native);
    assert_eq!(&back[..], b"native");

    let mut m = MmapMut::map_anon(8).unwrap();
    m[0] = 1;
    let mut native = xmmap::MapMut::from(m);
    native[1] = 2;
    let m = MmapMut::from(native);
    assert_eq!(&m[..2], &[1, 2]);

    let raw = xmmap::MapRaw::from(MmapRaw::map_raw(&f.rw()).unwrap());
    assert_eq!(raw.len(), 6);
    assert_eq!(MmapRaw::from(raw).len(), 6);
    // A placeholder becomes a native empty map.
    assert!(xmmap::MapMut::from(MmapMut::map_anon(0).unwrap()).is_empty());
    assert!(xmmap::Map::from(MmapMut::map_anon(0).unwrap().make_read_only().unwrap()).is_empty());
}

/// A memfd holding `data`, with `seals` added (`F_SEAL_*` bits).
fn memfd(data: &[u8], seals: i32) -> File {
    use std::os::fd::FromRawFd;
    // SAFETY: the name is a NUL-terminated string.
    let fd = unsafe { libc::memfd_create(c"xmmap-compat".as_ptr(), libc::MFD_ALLOW_SEALING) };
    assert!(fd >= 0, "memfd_create: {}", io::Error::last_os_error());
    // SAFETY: memfd_create just returned this descriptor, owned by no one else.
    let file = unsafe { File::from_raw_fd(fd) };
    file.write_all_at(data, 0).unwrap();
    if seals != 0 {
        // SAFETY: F_ADD_SEALS takes an int argument and changes no memory.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) };
        assert_eq!(rc, 0, "F_ADD_SEALS: {}", io::Error::last_os_error());
    }
    file
}

#[test]
fn map_if_safe_maps_only_files_the_kernel_keeps_unchanged() {
    let both = libc::F_SEAL_SHRINK | libc::F_SEAL_WRITE;
    let sealed = memfd(b"sealed bytes", both);
    if POSIX {
        // The backend cannot ask for seals: nothing is known to be safe.
        let e = Mmap::map_if_safe(&sealed).unwrap_err();
        return assert!(e.not_supported() && !e.not_safe(), "{e:?}");
    }
    let map = Mmap::map_if_safe(&sealed).unwrap();
    assert_eq!(&map[..], b"sealed bytes");
    assert_eq!(&memmap2::Mmap::map_if_safe(&sealed).unwrap()[..], b"sealed bytes");
    let part = MmapOptions::new().offset(7).len(5).map_if_safe(&sealed).unwrap();
    assert_eq!(&part[..], b"bytes");

    let not_safe = |e: MapIfSafeError| {
        assert!(e.not_safe() && !e.map_failed() && !e.not_supported(), "{e:?}");
        assert!(!e.to_string().is_empty());
        assert_eq!(io::Error::from(e).kind(), ErrorKind::InvalidInput);
    };
    // Past the end of a sealed file.
    not_safe(MmapOptions::new().offset(7).len(6).map_if_safe(&sealed).unwrap_err());
    assert!(memmap2::MmapOptions::new().offset(7).len(6).map_if_safe(&sealed).is_err());
    // Missing one seal, or both.
    for seals in [0, libc::F_SEAL_SHRINK, libc::F_SEAL_WRITE] {
        let fd = memfd(b"x", seals);
        let e = Mmap::map_if_safe(&fd).unwrap_err();
        assert!(memmap2::Mmap::map_if_safe(&fd).unwrap_err().not_safe());
        not_safe(e);
    }
    // An ordinary file.
    let f = TempFile::with(b"plain");
    not_safe(Mmap::map_if_safe(&f.read()).unwrap_err());
    // The length cannot be determined.
    let e = Mmap::map_if_safe(-1).unwrap_err();
    assert!(e.map_failed(), "{e:?}");
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().contains("Bad file descriptor"), "{boxed}");
}

#[test]
fn nothing_is_left_mapped_after_drop_or_failure() {
    let name = this_test!();
    if !is_child(name) {
        assert!(run_child(name).success());
        return;
    }
    let page = page_size();
    let f = TempFile::with(&pattern(3 * page + 5));
    let empty = TempFile::with(b"");
    let before = map_count();
    for _ in 0..50 {
        // SAFETY: only this process touches the files; the maps past the end
        // of the empty file are never touched.
        unsafe {
            let ro = Mmap::map(&f.read()).unwrap();
            let raw = MmapRaw::from(MmapOptions::new().offset(7).map(&f.read()).unwrap());
            let placeholder = Mmap::map(&empty.read()).unwrap();
            let native = xmmap::Map::from(Mmap::map(&empty.read()).unwrap());
            let mut grown = MmapMut::map_anon(0).unwrap();
            if POSIX {
                assert_unsupported_io(grown.remap(4 * page, may_move()), "mremap");
            } else {
                grown.remap(4 * page, may_move()).unwrap();
                grown.remap(0, may_move()).unwrap();
                grown.remap(page, may_move()).unwrap();
            }
            let jit = MmapMut::map_anon(page).unwrap().make_exec().unwrap().make_mut().unwrap();
            let back = MmapMut::from(xmmap::MapMut::from(MmapMut::map_anon(page).unwrap()));
            let raw_rw = MmapRaw::from(MmapOptions::new().map_copy(&f.read()).unwrap());
            let sealed = memfd(b"sealed", libc::F_SEAL_SHRINK | libc::F_SEAL_WRITE);
            let safe = Mmap::map_if_safe(&sealed);
            assert_eq!(safe.is_err(), POSIX, "{safe:?}");
            drop((ro, raw, placeholder, native, grown, jit, back, raw_rw, safe));
            // Failed calls leave nothing behind either.
            let _ = MmapOptions::new().offset(1 << 40).len(1).map(&f.read());
            let _ = MmapRaw::map_raw(&f.read());
            let _ = MmapOptions::new().huge(Some(40)).len(1).map_anon();
            let _ = Mmap::map_if_safe(&f.read());
            let mut m = MmapOptions::new().offset(5).map(&f.read()).unwrap();
            let _ = m.remap(usize::MAX, may_move());
        }
    }
    let after = map_count();
    std::process::exit(if after == before { 0 } else { 1 });
}

/// What a constructor gave: its length, where its first byte sits in its
/// page, and the bytes that lie inside the file (those past its end are not
/// touched); or the error's kind.
type Outcome = Result<(usize, usize, Vec<u8>), ErrorKind>;

/// Takes what a live map shows; `readable` bytes of it lie in the file.
///
/// # Safety
///
/// - `ptr..ptr + len` must be mapped and readable now, and nobody may change
///   the file.
unsafe fn seen(len: usize, ptr: *const u8, readable: usize) -> (usize, usize, Vec<u8>) {
    let n = len.min(readable);
    // SAFETY: the first `n` bytes are mapped and backed by the file (the
    // caller's promise).
    let bytes = unsafe { std::slice::from_raw_parts(ptr, n) }.to_vec();
    (len, ptr as usize % page_size(), bytes)
}

/// Every file constructor, on files of awkward sizes, at awkward offsets and
/// lengths, through read-only and read-write descriptors: the compat module
/// and memmap2 give the same result, except for the documented difference
/// of an offset past the end with a length.
#[test]
fn every_file_constructor_agrees_with_memmap2_on_awkward_inputs() {
    let page = page_size();
    let mut compared = 0;
    for size in [0, 1, page - 1, page, page + 1, 3 * page + 5] {
        let f = TempFile::with(&pattern(size));
        let (ro, rw) = (f.read(), f.rw());
        let mut offsets = vec![0, 1, page - 1, page, size, size + 1];
        offsets.sort_unstable();
        offsets.dedup();
        for offset in offsets {
            for len in [None, Some(0), Some(1), Some(page), Some(size + page)] {
                let mut ours = MmapOptions::new();
                let mut theirs = memmap2::MmapOptions::new();
                ours.offset(offset as u64);
                theirs.offset(offset as u64);
                if let Some(len) = len {
                    ours.len(len);
                    theirs.len(len);
                }
                let readable = size.saturating_sub(offset);
                for (fd, fd_name) in [(&ro, "ro"), (&rw, "rw")] {
                    // SAFETY: called on live maps only, each of a file nobody
                    // changes.
                    let p = |m: &[u8]| unsafe { seen(m.len(), m.as_ptr(), readable) };
                    // SAFETY: nobody changes the file; bytes past its end are
                    // never touched.
                    let pairs: [(&str, io::Result<_>, io::Result<_>); 7] = unsafe {
                        [
                            ("map", ours.map(fd).map(|m| p(&m)), theirs.map(fd).map(|m| p(&m))),
                            (
                                "map_exec",
                                ours.map_exec(fd).map(|m| p(&m)),
                                theirs.map_exec(fd).map(|m| p(&m)),
                            ),
                            (
                                "map_mut",
                                ours.map_mut(fd).map(|m| p(&m)),
                                theirs.map_mut(fd).map(|m| p(&m)),
                            ),
                            (
                                "map_copy",
                                ours.map_copy(fd).map(|m| p(&m)),
                                theirs.map_copy(fd).map(|m| p(&m)),
                            ),
                            (
                                "map_copy_read_only",
                                ours.map_copy_read_only(fd).map(|m| p(&m)),
                                theirs.map_copy_read_only(fd).map(|m| p(&m)),
                            ),
                            (
                                "map_raw",
                                ours.map_raw(fd).map(|m| seen(m.len(), m.as_ptr(), readable)),
                                theirs.map_raw(fd).map(|m| seen(m.len(), m.as_ptr(), readable)),
                            ),
                            (
                                "map_raw_read_only",
                                ours.map_raw_read_only(fd)
                                    .map(|m| seen(m.len(), m.as_ptr(), readable)),
                                theirs
                                    .map_raw_read_only(fd)
                                    .map(|m| seen(m.len(), m.as_ptr(), readable)),
                            ),
                        ]
                    };
                    for (name, a, b) in pairs {
                        let case =
                            format!("{name} size {size} offset {offset} len {len:?} {fd_name}");
                        let (a, b): (Outcome, Outcome) =
                            (a.map_err(|e| e.kind()), b.map_err(|e| e.kind()));
                        if offset > size && len.is_some() {
                            // The documented difference: where memmap2 maps
                            // it, here it is refused.
                            match b {
                                Ok(_) => assert_eq!(a, Err(ErrorKind::InvalidInput), "{case}"),
                                Err(_) => assert!(a.is_err(), "{case}"),
                            }
                            continue;
                        }
                        assert_eq!(a, b, "{case}");
                        compared += 1;
                    }
                }
            }
        }
    }
    assert!(compared > 1000, "{compared}");
}

/// Anonymous maps of awkward lengths with every option, and remaps between
/// awkward lengths: the compat module and memmap2 agree.
#[test]
fn anonymous_maps_and_remaps_agree_with_memmap2() {
    let page = page_size();
    let lens = [0, 1, page - 1, page, page + 1, 3 * page];
    for len in lens {
        for flags in 0..8 {
            let mut ours = MmapOptions::new();
            let mut theirs = memmap2::MmapOptions::new();
            ours.len(len);
            theirs.len(len);
            if flags & 1 != 0 {
                ours.stack();
                theirs.stack();
            }
            if flags & 2 != 0 {
                ours.populate();
                theirs.populate();
            }
            if flags & 4 != 0 {
                ours.no_reserve_swap();
                theirs.no_reserve_swap();
            }
            if POSIX {
                let a = ours.map_anon();
                if flags & 2 != 0 {
                    assert_unsupported_io(a, "MAP_POPULATE");
                    continue;
                }
                let mut a = a.unwrap();
                // SAFETY: anonymous memory; the call fails.
                assert_unsupported_io(unsafe { a.remap(2 * page, may_move()) }, "mremap");
                continue;
            }
            let (mut a, mut b) = (ours.map_anon().unwrap(), theirs.map_anon().unwrap());
            assert_eq!((a.len(), a.as_ptr() as usize % page), (b.len(), 0), "len {len}");
            assert_eq!(&a[..], &b[..]);
            a.fill(3);
            b.fill(3);
            for new_len in lens {
                // SAFETY: anonymous memory has no file to run past.
                unsafe {
                    a.remap(new_len, may_move()).unwrap();
                    b.remap(new_len, memmap2::RemapOptions::new().may_move(true)).unwrap();
                }
                assert_eq!(a.len(), b.len(), "{len} -> {new_len}");
                assert_eq!(&a[..], &b[..], "{len} -> {new_len}");
            }
        }
    }

    if POSIX {
        return; // no mremap for file maps either, as asserted above
    }
    // File maps at an unaligned offset, remapped across page boundaries.
    let data = pattern(4 * page);
    let f = TempFile::with(&data);
    for offset in [0u64, 1, page as u64 - 1, page as u64 + 3] {
        // SAFETY: nobody changes the file; the maps never run past its end.
        unsafe {
            let mut a = MmapOptions::new().offset(offset).len(1).map(&f.read()).unwrap();
            let mut b = memmap2::MmapOptions::new().offset(offset).len(1).map(&f.read()).unwrap();
            for new_len in [0, page, 2 * page + 1, 1, 3 * page - 7] {
                a.remap(new_len, may_move()).unwrap();
                b.remap(new_len, memmap2::RemapOptions::new().may_move(true)).unwrap();
                assert_eq!(&a[..], &b[..], "offset {offset} -> {new_len}");
                let start = offset as usize;
                assert_eq!(&a[..], &data[start..start + new_len]);
            }
        }
    }
}

/// Intended difference 8: memmap2 maps `huge` + `no_reserve_swap`
/// anonymously and its first write can die of SIGBUS when the pool is held
/// elsewhere; compat refuses it before the call, naming the combination.
#[test]
fn huge_with_no_reserve_swap_is_refused_before_the_call() {
    let e = assert_kind(
        MmapOptions::new().len(2 << 20).huge(None).no_reserve_swap().map_anon(),
        ErrorKind::InvalidInput,
    );
    assert!(e.to_string().contains("MAP_NORESERVE"), "{e}");
    assert_eq!(e.raw_os_error(), None, "refused before any system call: {e}");
}
