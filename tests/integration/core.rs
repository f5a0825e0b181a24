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
