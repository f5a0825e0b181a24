//! Residency on real files in the temp directory (ext4 on the project's
//! machines: tmpfs cannot evict): mincore, cachestat, populate, evict.

use std::fs::File;

use crate::common::*;
use xmmap::residency::{
    evict_file, of_file, of_file_pages, populate_file, prefetch_file, Method, Residency,
};
use xmmap::{page_size, ErrorKind, MapOptions};

/// A file of `pages` pages whose page cache is emptied as far as the kernel
/// allows: written back, then dropped.
fn cold_file(pages: usize) -> (TempFile, File) {
    let f = TempFile::with(&pattern(pages * page_size()));
    let file = f.read();
    file.sync_data().unwrap();
    evict_file(&file, 0, None).unwrap();
    (f, file)
}

/// Whether this kernel has cachestat(2) (Linux 6.5).
fn kernel_has_cachestat() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().unwrap().parse().unwrap();
    let minor: u32 = parts.next().unwrap().parse().unwrap();
    (major, minor) >= (6, 5)
}

/// cachestat and mincore see the same page cache.
fn same_counts(file: &File, offset: u64, len: Option<u64>) -> Residency {
    let fast = of_file(file, offset, len).unwrap();
    let pages = of_file_pages(file, offset, len).unwrap();
    assert_eq!(pages.method(), Method::Mincore);
    assert_eq!(
        (fast.total_pages(), fast.resident_pages()),
        (pages.total_pages(), pages.resident_pages()),
        "of_file ({:?}) and of_file_pages disagree at {offset} {len:?}",
        fast.method()
    );
    let bits = pages.pages().unwrap();
    assert_eq!(bits.len() as u64, pages.total_pages());
    assert_eq!(bits.count_resident(), pages.resident_pages());
    pages
}

#[test]
fn of_file_uses_cachestat_where_the_kernel_has_it() {
    let (_f, file) = cold_file(4);
    let r = of_file(&file, 0, None).unwrap();
    if POSIX {
        // No cachestat there: counted page by page.
        assert_eq!(r.method(), Method::Mincore);
    } else if kernel_has_cachestat() {
        assert_eq!(r.method(), Method::Cachestat);
        assert!(r.cache_counts().is_some() && r.pages().is_none());
    } else {
        assert_eq!(r.method(), Method::Mincore);
    }
    assert_eq!(r.total_pages(), 4);
    assert_eq!(r.page_size(), page_size());
}

#[test]
fn a_file_fresh_then_populated_then_evicted() {
    let n = 64;
    let (_f, file) = cold_file(n);
    let cold = same_counts(&file, 0, None);
    assert_eq!(cold.total_pages(), n as u64);
    assert!(cold.resident_pages() < n as u64, "eviction left {cold:?}");

    // SAFETY: only this test touches the file.
    let map = unsafe { MapOptions::new().map(&file).unwrap() };
    let before = map.residency().unwrap();
    assert_eq!(before.total_pages(), n as u64);
    map.populate().unwrap();
    let warm = map.residency().unwrap();
    assert!(warm.is_fully_resident(), "{warm:?}");
    assert!(warm.pages().unwrap().iter().all(|r| r));
    let cached = same_counts(&file, 0, None);
    assert_eq!(cached.resident_pages(), n as u64);
    assert_eq!(cached.resident_bytes(), (n * page_size()) as u64);

    // The kernel keeps pages that a process maps: unmap first.
    drop(map);
    evict_file(&file, 0, None).unwrap();
    let evicted = same_counts(&file, 0, None);
    assert!(evicted.resident_pages() < n as u64, "eviction left {evicted:?}");
}

#[test]
fn populate_file_and_ranges_agree_between_cachestat_and_mincore() {
    let page = page_size() as u64;
    let (_f, file) = cold_file(32);
    populate_file(&file, 3 * page, Some(5 * page)).unwrap();
    let r = same_counts(&file, 0, None);
    // Read-ahead may bring neighbours in; the populated pages are there.
    assert!(r.resident_pages() >= 5);
    let bits = r.pages().unwrap();
    assert!((3..8).all(|i| bits.get(i) == Some(true)), "{bits:?}");
    assert_eq!(bits.count_resident_in(3, 8), 5);

    let sub = same_counts(&file, 3 * page, Some(5 * page));
    assert_eq!((sub.total_pages(), sub.resident_pages()), (5, 5));
    // A range counts every page it touches, and is cut to the file.
    assert_eq!(same_counts(&file, 3 * page + 1, Some(page)).total_pages(), 2);
    assert_eq!(same_counts(&file, 31 * page, Some(1 << 40)).total_pages(), 1);
    assert_eq!(same_counts(&file, 40 * page, None).total_pages(), 0);
    prefetch_file(&file, 0, None).unwrap();
}

#[test]
fn evicting_a_map_pages_it_out() {
    let n = 32;
    let (_f, file) = cold_file(n);
    // SAFETY: only this test touches the file.
    let map = unsafe { MapOptions::new().map(&file).unwrap() };
    map.populate().unwrap();
    assert!(map.residency().unwrap().is_fully_resident());
    if POSIX {
        return assert_unsupported(map.evict(), "MADV_PAGEOUT");
    }
    map.evict().unwrap();
    // MADV_PAGEOUT reclaims clean file pages only this process maps; the
    // kernel may keep some, but not all.
    let after = map.residency().unwrap();
    assert!(after.resident_pages() < n as u64, "MADV_PAGEOUT left {after:?}");
    assert_eq!(&map[..], &pattern(n * page_size())[..], "contents survive eviction");
}

#[test]
fn populate_of_writable_maps() {
    let page = page_size();
    let f = TempFile::with(&pattern(8 * page));
    let file = f.read();
    // SAFETY: only this test touches the file.
    let mut copy = unsafe { MapOptions::new().map_copy(&file).unwrap() };
    copy.populate().unwrap();
    assert!(copy.residency().unwrap().is_fully_resident());
    copy[0] = 1;
    assert_eq!(f.contents(), pattern(8 * page), "a private map never writes the file");
    let anon = MapOptions::new().len(3 * page).map_anon().unwrap();
    anon.populate_read().unwrap();
    anon.populate().unwrap();
    assert!(anon.residency().unwrap().is_fully_resident());
    let raw = MapOptions::new().map_raw_read_only(&file).unwrap();
    raw.populate().unwrap();
    assert_eq!(raw.residency().unwrap().total_pages(), 8);
}

#[test]
fn populate_past_end_of_file_is_an_error_not_sigbus() {
    let name = this_test!();
    if !is_child(name) {
        let status = run_child(name);
        assert!(status.success(), "child ended with {status:?} (signal {:?})", signal_of(status));
        return;
    }
    let page = page_size();
    let f = TempFile::with(&pattern(page + 10));
    let file = f.read();
    // The map covers 4 pages; the file backs the first 2.
    // SAFETY: the map is only populated, never read past the end.
    let map = unsafe { MapOptions::new().len(4 * page).map(&file).unwrap() };
    let e = map.populate().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Truncated { offset: 2 * page as u64 }, "{e}");
    assert!(e.to_string().contains("shorter than the map"), "{e}");
    // From an unaligned offset, the offset is the map's.
    // SAFETY: as above.
    let map = unsafe { MapOptions::new().offset(100).len(4 * page).map(&file).unwrap() };
    let e = map.populate().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Truncated { offset: 2 * page as u64 - 100 });
}

#[test]
fn bad_ranges_and_unsized_files_are_errors() {
    let f = TempFile::with(b"x");
    let file = f.read();
    let e = of_file(&file, u64::MAX, Some(2)).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert_eq!(evict_file(&file, u64::MAX, Some(2)).unwrap_err().kind(), &ErrorKind::InvalidInput);
    let null = File::open("/dev/null").unwrap();
    assert_eq!(of_file(&null, 0, None).unwrap_err().kind(), &ErrorKind::NotMappable);
    let empty = TempFile::with(b"");
    let r = of_file(&empty.read(), 0, None).unwrap();
    assert_eq!((r.total_pages(), r.resident_pages()), (0, 0));
    populate_file(&empty.read(), 0, None).unwrap();
}
