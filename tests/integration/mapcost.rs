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
