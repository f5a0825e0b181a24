//! The calls the Linux and POSIX backends make the same way, through
//! rustix: one copy for Linux, Android, macOS and FreeBSD. Each backend
//! re-exports them; what differs between the platforms (flag translation,
//! advice, mincore's bits, the file queries) stays in the backend.
//!
//! The man pages linked are Linux's; macOS's and FreeBSD's calls of the same
//! name have the same contract for the arguments used here.

use std::fs::File;
use std::io;

use rustix::mm::{self, MsyncFlags};

use super::{Resource, Rlimit};

/// `sysconf(_SC_PAGESIZE)`, read from the auxiliary vector.
///
/// # References
/// - [getpagesize(2)](https://man7.org/linux/man-pages/man2/getpagesize.2.html)
#[inline]
pub(crate) fn page_size() -> usize {
    rustix::param::page_size()
}

/// The multiple that `mmap`'s offset must be: the page size.
///
/// # References
/// - [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html)
#[inline]
pub(crate) fn offset_granularity() -> usize {
    page_size()
}

/// `munmap(ptr, len)`.
///
/// # References
/// - [munmap(2)](https://man7.org/linux/man-pages/man2/munmap.2.html)
///
/// # Safety
/// - `ptr..ptr+len` must be a range the caller mapped and no longer uses.
pub(crate) unsafe fn munmap(ptr: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: the caller owns the range and holds no references into it.
    unsafe { mm::munmap(ptr.cast(), len)? };
    Ok(())
}

/// `msync(ptr, len, MS_SYNC or MS_ASYNC)`.
///
/// # References
/// - [msync(2)](https://man7.org/linux/man-pages/man2/msync.2.html)
///
/// # Safety
/// - `ptr` must be page aligned and `ptr..ptr+len` mapped by the caller.
pub(crate) unsafe fn msync(ptr: *mut u8, len: usize, sync: bool) -> io::Result<()> {
    let flags = if sync { MsyncFlags::SYNC } else { MsyncFlags::ASYNC };
    // SAFETY: msync does not change memory contents; the caller owns the range.
    unsafe { mm::msync(ptr.cast(), len, flags)? };
    Ok(())
}

/// `mlock(ptr, len)`.
///
/// # References
/// - [mlock(2)](https://man7.org/linux/man-pages/man2/mlock.2.html)
///
/// # Safety
/// - `ptr..ptr+len` must be mapped by the caller.
pub(crate) unsafe fn mlock(ptr: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: locking does not change contents; the caller owns the range.
    unsafe { mm::mlock(ptr.cast(), len)? };
    Ok(())
}

/// `munlock(ptr, len)`.
///
/// # References
/// - [munlock(2)](https://man7.org/linux/man-pages/man2/munlock.2.html)
///
/// # Safety
/// - `ptr..ptr+len` must be mapped by the caller.
pub(crate) unsafe fn munlock(ptr: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: unlocking does not change contents; the caller owns the range.
    unsafe { mm::munlock(ptr.cast(), len)? };
    Ok(())
}

/// `getrlimit(resource)`.
///
/// # References
/// - [getrlimit(2)](https://man7.org/linux/man-pages/man2/getrlimit.2.html)
pub(crate) fn getrlimit(resource: Resource) -> Rlimit {
    use rustix::process::Resource as R;
    let r = match resource {
        Resource::Data => R::Data,
        Resource::As => R::As,
        Resource::Memlock => R::Memlock,
        Resource::Nofile => R::Nofile,
    };
    let l = rustix::process::getrlimit(r);
    Rlimit { current: l.current, maximum: l.maximum }
}

/// `fcntl(fd, F_GETFL) & O_ACCMODE`, as (readable, writable).
///
/// # References
/// - [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html)
pub(crate) fn access_mode(file: &File) -> io::Result<(bool, bool)> {
    let fl = rustix::fs::fcntl_getfl(file)?;
    let acc = fl & rustix::fs::OFlags::ACCMODE;
    Ok(if acc == rustix::fs::OFlags::RDWR {
        (true, true)
    } else if acc == rustix::fs::OFlags::WRONLY {
        (false, true)
    } else {
        (true, false)
    })
}

/// `pread(fd, buf, buf.len(), offset)`: one positional read into `buf`,
/// as many bytes as the kernel gives (0 at end of file). Not retried on
/// `EINTR`: the caller decides.
///
/// # References
/// - [pread(2)](https://man7.org/linux/man-pages/man2/pread.2.html)
pub(crate) fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    Ok(rustix::io::pread(file, buf, offset)?)
}

/// `pread(fd, buf, max, offset)`, or `read(fd, buf, max)` when `offset` is
/// `None`, into the spare capacity of `buf` (at most `max` bytes, and at
/// most what is spare), extending its length by what was read; retried on
/// `EINTR`. Returns the bytes read, 0 at end of file.
///
/// # References
/// - [pread(2)](https://man7.org/linux/man-pages/man2/pread.2.html),
///   [read(2)](https://man7.org/linux/man-pages/man2/read.2.html)
pub(crate) fn read_spare(
    file: &File,
    buf: &mut Vec<u8>,
    max: usize,
    offset: Option<u64>,
) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let n = spare.len().min(max);
    let spare = &mut spare[..n];
    let got = loop {
        let r = match offset {
            Some(off) => rustix::io::pread(file, &mut *spare, off),
            None => rustix::io::read(file, &mut *spare),
        };
        match r {
            Ok((init, _)) => break init.len(),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    // SAFETY: the kernel initialised the first `got` spare bytes.
    unsafe { buf.set_len(buf.len() + got) };
    Ok(got)
}
