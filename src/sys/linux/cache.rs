//! Page cache and sealing calls: `cachestat`, `posix_fadvise`,
//! `memfd_create` and the `F_*_SEALS` commands of `fcntl`.

use std::fs::File;
use std::io;
use std::num::NonZeroU64;
use std::os::fd::AsRawFd;

use rustix::fs::{MemfdFlags, SealFlags};

use crate::sys::fadv;

/// `memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING)`.
///
/// # References
/// - [memfd_create(2)](https://man7.org/linux/man-pages/man2/memfd_create.2.html)
pub(crate) fn memfd_create(name: &str) -> io::Result<File> {
    let fd = rustix::fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    Ok(File::from(fd))
}

/// `fcntl(fd, F_GET_SEALS)`: the `F_SEAL_*` bits of the file.
///
/// # References
/// - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html)
pub(crate) fn get_seals(file: &File) -> io::Result<u32> {
    Ok(rustix::fs::fcntl_get_seals(file)?.bits())
}

/// `fcntl(fd, F_ADD_SEALS, seals)`.
///
/// # References
/// - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html)
pub(crate) fn add_seals(file: &File, seals: u32) -> io::Result<()> {
    rustix::fs::fcntl_add_seals(file, SealFlags::from_bits_retain(seals))?;
    Ok(())
}

/// `posix_fadvise(fd, offset, len, advice)`; `len == 0` means to the end of
/// the file.
///
/// # References
/// - [posix_fadvise(2)](https://man7.org/linux/man-pages/man2/posix_fadvise.2.html)
pub(crate) fn fadvise(file: &File, offset: u64, len: u64, advice: i32) -> io::Result<()> {
    use rustix::fs::Advice as A;
    let advice = match advice {
        fadv::WILLNEED => A::WillNeed,
        fadv::DONTNEED => A::DontNeed,
        _ => return Err(io::Error::from_raw_os_error(libc::EINVAL)),
    };
    rustix::fs::fadvise(file, offset, NonZeroU64::new(len), advice)?;
    Ok(())
}

/// `cachestat(fd, &{offset, len}, &cstat, 0)` (Linux 6.5): the page cache
/// state of a file range, as `[nr_cache, nr_dirty, nr_writeback,
/// nr_evicted, nr_recently_evicted]` in pages; `len == 0` means to the end
/// of the file. rustix and libc do not have it on every architecture, so it
/// is called by number (451 on every Linux architecture).
///
/// # References
/// - [cachestat(2)](https://man7.org/linux/man-pages/man2/cachestat.2.html)
pub(crate) fn cachestat(file: &File, offset: u64, len: u64) -> io::Result<[u64; 5]> {
    const SYS_CACHESTAT: libc::c_long = 451;
    #[repr(C)]
    struct Range {
        off: u64,
        len: u64,
    }
    let range = Range { off: offset, len };
    let mut out = [0u64; 5];
    // SAFETY: `range` and `out` are live, correctly laid out (struct
    // cachestat_range is two u64s, struct cachestat five) for the call; the
    // kernel only reads the first and writes the second.
    let rc = unsafe {
        libc::syscall(
            SYS_CACHESTAT,
            file.as_raw_fd(),
            &range as *const Range,
            out.as_mut_ptr(),
            0 as libc::c_uint,
        )
    };
    if rc == 0 {
        Ok(out)
    } else {
        Err(io::Error::last_os_error())
    }
}
