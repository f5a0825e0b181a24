//! What makes a file immutable to the kernel: memfd seals and fs-verity.
// Only `compat::memmap2`'s `map_if_safe` asks, so far.
#![cfg_attr(not(feature = "memmap2-compat"), allow(dead_code))]

use std::fs::File;
use std::io;

/// `fcntl(fd, F_GET_SEALS)`: the `F_SEAL_*` bits of a memfd (or a shmem
/// file). Fails with `EINVAL` for a file that does not support sealing.
///
/// # References
/// - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html), "File Sealing"
/// - [memfd_create(2)](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
pub(crate) fn get_seals(file: &File) -> io::Result<u32> {
    Ok(rustix::fs::fcntl_get_seals(file)?.bits())
}

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
