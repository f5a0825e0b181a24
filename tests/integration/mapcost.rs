//! Mapping checks that moved off the success path (the descriptor's path
//! and access mode are read only when an error needs them) still give the
//! same clear errors.

use std::fs::OpenOptions;

use crate::common::*;
use xmmap::{ErrorKind, MapOptions};

#[test]
fn a_write_only_descriptor_is_refused_by_name_even_for_an_empty_map() {
    let f = TempFile::with(b"data");
    let wo = OpenOptions::new().write(true).open(&f.path).unwrap();
    for len in [None, Some(0)] {
        let mut o = MapOptions::new();
        if let Some(l) = len {
            o.len(l);
        }
        // SAFETY: the call fails before anything is mapped.
        let e = unsafe { o.map(&wo) }.unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::PermissionDenied, "len {len:?}: {e}");
        assert!(e.to_string().contains("write-only"), "{e}");
        assert!(e.to_string().contains(&f.path.display().to_string()), "{e}");
    }
}

#[test]
fn a_shared_write_map_of_a_read_only_descriptor_names_the_file() {
    let f = TempFile::with(b"data");
    // SAFETY: the call fails before anything is mapped.
    let e = unsafe { MapOptions::new().map_mut(&f.read()) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("opened read-only"), "{e}");
    assert!(e.to_string().contains(&f.path.display().to_string()), "{e}");
    // Past the end: the argument error names the file too.
    // SAFETY: as above.
    let e = unsafe { MapOptions::new().offset(5).map(&f.read()) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(e.to_string().contains(&f.path.display().to_string()), "{e}");
}

#[test]
fn a_length_at_offset_0_skips_fstat_yet_unmappable_files_are_explained() {
    let page = xmmap::page_size();
    // Directory, pipe and procfs file: the kernel refuses, fstat explains.
    let dir = std::fs::File::open(std::env::temp_dir()).unwrap();
    // SAFETY: nothing is mapped; each call fails.
    let e = unsafe { MapOptions::new().len(page).map(&dir) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotMappable, "{e}");
    assert!(e.to_string().contains("a directory"), "{e}");
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) returns.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are new and owned here alone.
    let (pipe, _writer) = unsafe {
        use std::os::fd::FromRawFd;
        (std::fs::File::from_raw_fd(fds[0]), std::fs::File::from_raw_fd(fds[1]))
    };
    // SAFETY: as above.
    let e = unsafe { MapOptions::new().len(page).map(&pipe) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotMappable, "{e}");
    assert!(e.to_string().contains("pipe"), "{e}");
    let status = std::fs::File::open("/proc/self/status").unwrap();
    // SAFETY: as above.
    let e = unsafe { MapOptions::new().len(page).map(&status) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotMappable, "{e}");
    assert!(e.to_string().contains("procfs"), "{e}");
    // A write-only descriptor: EACCES, explained by its access mode.
    let f = TempFile::with(b"data");
    let wo = OpenOptions::new().write(true).open(&f.path).unwrap();
    // SAFETY: as above.
    let e = unsafe { MapOptions::new().len(4).map(&wo) }.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::PermissionDenied, "{e}");
    assert!(e.to_string().contains("write-only"), "{e}");
    // A regular file maps as before, also past its end.
    // SAFETY: only this test touches the file; nothing past byte 4 is read.
    let map = unsafe { MapOptions::new().len(2 * page).map(&f.read()) }.unwrap();
    assert_eq!((map.len(), &map[..4]), (2 * page, &b"data"[..]));
}
