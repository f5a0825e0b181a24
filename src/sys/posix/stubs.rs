//! What the POSIX backend has no call for: Linux's procfs and sysfs
//! readers, memfd and seals, fs-verity, `cachestat`; plus `posix_fadvise`
//! (not on macOS) and the positioned read, which every POSIX system has.

use std::fs::File;
use std::io;

use super::unsupported;
use super::Errno;

/// No `/proc/sys/vm/max_map_count`: no known limit.
pub(crate) fn max_map_count() -> Option<u64> {
    None
}

/// No `/proc/self/maps` to count.
pub(crate) fn map_count() -> io::Result<usize> {
    Err(unsupported("counting the process's mappings (/proc/self/maps)"))
}

/// No `/proc/sys/vm/overcommit_memory`.
pub(crate) fn overcommit_mode() -> Option<u64> {
    None
}

/// No transparent huge page setting in sysfs.
pub(crate) fn thp_mode() -> Option<String> {
    None
}

/// No hugetlbfs pools.
pub(crate) fn huge_page_pools() -> Vec<(u64, u64, u64)> {
    Vec::new()
}

/// No hugetlbfs default size.
pub(crate) fn default_huge_page_size() -> Option<u64> {
    None
}

/// No `/proc/loadavg` running count: unknown.
pub(crate) fn runnable_tasks() -> Option<usize> {
    None
}

/// No sealable memory files here (`memfd_create` is Linux's and FreeBSD's,
/// the seals Linux's): `Unsupported`.
pub(crate) fn memfd_create(_name: &str) -> io::Result<File> {
    Err(unsupported("memfd_create"))
}

/// No seals: `Unsupported`.
pub(crate) fn get_seals(_file: &File) -> io::Result<u32> {
    Err(unsupported("fcntl(F_GET_SEALS)"))
}

/// No seals: `Unsupported`.
pub(crate) fn add_seals(_file: &File, _seals: u32) -> io::Result<()> {
    Err(unsupported("fcntl(F_ADD_SEALS)"))
}

/// No fs-verity: `Unsupported`.
#[cfg_attr(not(feature = "memmap2-compat"), allow(dead_code))] // used by compat only
pub(crate) fn has_verity(_file: &File) -> io::Result<bool> {
    Err(unsupported("fs-verity (statx STATX_ATTR_VERITY)"))
}

/// No `cachestat`: `EOPNOTSUPP`, the errno after which callers count pages
/// with `mincore` instead.
pub(crate) fn cachestat(_file: &File, _offset: u64, _len: u64) -> io::Result<[u64; 5]> {
    Err(Errno::OPNOTSUPP.into())
}

/// `posix_fadvise(fd, offset, len, advice)`; `len == 0` means to the end of
/// the file. macOS has no `posix_fadvise`: `Unsupported` there.
///
/// # References
/// - [posix_fadvise(2)](https://man.freebsd.org/cgi/man.cgi?query=posix_fadvise&sektion=2)
pub(crate) fn fadvise(file: &File, offset: u64, len: u64, advice: i32) -> io::Result<()> {
    #[cfg(target_os = "macos")]
    {
        let _ = (file, offset, len, advice);
        Err(unsupported("posix_fadvise"))
    }
    #[cfg(not(target_os = "macos"))]
    {
        use crate::sys::fadv;
        use rustix::fs::Advice as A;
        let advice = match advice {
            fadv::WILLNEED => A::WillNeed,
            fadv::DONTNEED => A::DontNeed,
            _ => return Err(Errno::INVAL.into()),
        };
        rustix::fs::fadvise(file, offset, std::num::NonZeroU64::new(len), advice)?;
        Ok(())
    }
}
