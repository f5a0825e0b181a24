//! Architectures without the assembly copy: the kernel copies for us.
//!
//! `process_vm_readv`/`process_vm_writev` on our own pid touch the mapped
//! side from inside the kernel: a page that is gone yields a partial count
//! (page granular) and then `EFAULT`, never a signal. Whether the page was
//! gone or protected is then asked of `madvise(MADV_POPULATE_*)`. It is a
//! system call per copy, so slower than the x86_64 path for small reads.

use std::io;

use super::CopyError;
use crate::sys::Madv;

// x86_64 uses only `copy`, as its fallback.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn install() -> io::Result<()> {
    Ok(())
}

/// Tells a page that is gone from one the protection forbids: populating it
/// (`madvise(MADV_POPULATE_READ/WRITE)`, Linux 5.14) fails with `EFAULT`
/// where touching it would raise `SIGBUS`, and otherwise with `EINVAL` or
/// `ENOMEM`. Without that advice (older kernels) the fault counts as `Bus`.
fn fault_kind(at: *const u8, read: bool, copied: usize) -> CopyError {
    let page = super::super::page_size();
    let start = (at as usize) & !(page - 1);
    let advice = if read { Madv::PopulateRead } else { Madv::PopulateWrite };
    // SAFETY: populating changes no contents; the page is in the caller's map.
    let result = unsafe { super::super::madvise(start as *mut u8, page, advice) };
    match result.map_err(|e| e.raw_os_error()) {
        Err(Some(libc::EINVAL | libc::ENOMEM | libc::EPERM)) => CopyError::Segv { copied },
        _ => CopyError::Bus { copied },
    }
}

/// # Safety
/// - As [`super::guarded_copy`].
pub(super) unsafe fn copy(
    dst: *mut u8,
    src: *const u8,
    len: usize,
    map_is_src: bool,
) -> Result<(), CopyError> {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    let mut done = 0;
    while done < len {
        // SAFETY: done < len, so both stay inside the caller's ranges.
        let (d, s) = unsafe { (dst.add(done), src.add(done)) };
        let local = libc::iovec {
            iov_base: if map_is_src { d.cast() } else { s.cast_mut().cast() },
            iov_len: len - done,
        };
        let remote = libc::iovec {
            iov_base: if map_is_src { s.cast_mut().cast() } else { d.cast() },
            iov_len: len - done,
        };
        // SAFETY: both iovecs describe memory of this process that the
        // caller vouches for; the kernel checks every page it touches.
        let n = unsafe {
            if map_is_src {
                libc::process_vm_readv(pid, &local, 1, &remote, 1, 0)
            } else {
                libc::process_vm_writev(pid, &local, 1, &remote, 1, 0)
            }
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::EFAULT) => fault_kind(if map_is_src { s } else { d }, map_is_src, done),
                Some(libc::EINTR) => continue,
                _ => CopyError::Os(err),
            });
        }
        if n == 0 {
            return Err(CopyError::Bus { copied: done });
        }
        done += n as usize;
    }
    Ok(())
}
