//! Architectures without the assembly copy: the kernel copies for us.
//!
//! `process_vm_readv`/`process_vm_writev` on our own pid touch the mapped
//! side from inside the kernel: a page that is gone yields a partial count
//! (page granular) and then `EFAULT`, never a signal. The kernel cannot say
//! whether the page was truncated or protected, so every `EFAULT` is
//! reported as `Bus` (truncation, the case a file map meets). It is a system
//! call per copy, so slower than the x86_64 path for small reads.

use std::io;

use super::CopyError;

pub(super) fn install() -> io::Result<()> {
    Ok(())
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
                Some(libc::EFAULT) => CopyError::Bus { copied: done },
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
