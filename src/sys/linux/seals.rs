//! What makes a file immutable to the kernel besides memfd seals
//! (`cache.rs`): fs-verity.
// Only `compat::memmap2`'s `map_if_safe` asks, so far.
#![cfg_attr(not(feature = "memmap2-compat"), allow(dead_code))]

use std::fs::File;
use std::io;

/// `statx(fd, "", AT_EMPTY_PATH, 0)`'s `STATX_ATTR_VERITY`: whether fs-verity
/// protects the file's contents (Linux 5.5).
///
/// # References
/// - [statx(2)](https://man7.org/linux/man-pages/man2/statx.2.html)
/// - [fs-verity](https://docs.kernel.org/filesystems/fsverity.html)
pub(crate) fn has_verity(file: &File) -> io::Result<bool> {
    use rustix::fs::{AtFlags, StatxAttributes, StatxFlags};
    let st = rustix::fs::statx(file, "", AtFlags::EMPTY_PATH, StatxFlags::empty())?;
    Ok(st.stx_attributes.contains(StatxAttributes::VERITY))
}
