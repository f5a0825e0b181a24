//! Guarded copies on macOS and FreeBSD: the signal-based copy of
//! `sys::fault` (x86_64 and aarch64), which turns a `SIGBUS` (a file page
//! gone: both systems raise it past end-of-file) or `SIGSEGV` on the mapped
//! side into an error.
//!
//! These systems have no `process_vm_readv` to copy through when a fault
//! could not reach the handler, so a thread that blocks `SIGBUS` or
//! `SIGSEGV` gets `Unsupported` and no copy (a blocked fault kills the
//! process), and so does every copy once someone installed a handler over
//! xmmap's (it would get the fault first). On other architectures every
//! guarded copy is `Unsupported`.
//!
//! macOS raises `SIGBUS` for some protection faults too; those are
//! reported as `Bus` (so `Truncated`), not `Segv`.

use std::io;

use crate::sys::CopyError;

/// Installs the fault handler once per process (lazily; later calls are an
/// atomic load).
///
/// # References
/// - [sigaction(2)](https://man.freebsd.org/cgi/man.cgi?query=sigaction&sektion=2)
pub(crate) fn guard_install() -> io::Result<()> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    return crate::sys::fault::install();
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    return Err(super::unsupported("a guarded copy on this architecture"));
}

/// `memcpy(dst, src, len)` where a fault on the mapped side (`src` when
/// `map_is_src`, else `dst`) stops the copy and is reported, not raised.
/// On a thread that blocks `SIGBUS` or `SIGSEGV`, or once a handler was
/// installed over xmmap's (a reset to the default is taken back), nothing
/// is copied and the error is `Os` of kind `Unsupported`.
///
/// # References
/// - [sigaction(2)](https://man.freebsd.org/cgi/man.cgi?query=sigaction&sektion=2)
///
/// # Safety
/// - [`guard_install`] must have succeeded.
/// - `src..src+len` must be readable and `dst..dst+len` writable memory of
///   this process, except that pages of the mapped side may fault.
/// - No Rust reference may rely on the contents of `dst..dst+len` while the
///   copy runs (the destination is written outside Rust's knowledge).
pub(crate) unsafe fn guarded_copy(
    dst: *mut u8,
    src: *const u8,
    len: usize,
    map_is_src: bool,
) -> Result<(), CopyError> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        use crate::sys::fault::NotReady;
        let why = match crate::sys::fault::fast_path_ready() {
            Ok(()) => None,
            Err(NotReady::Blocked) => Some(
                "this thread blocks SIGBUS or SIGSEGV, so a fault in the copy would kill the \
                 process, and this platform has no kernel copy to use instead; unblock them \
                 on this thread or read the file with pread",
            ),
            Err(NotReady::Displaced) => Some(
                "a SIGBUS or SIGSEGV handler was installed over xmmap's, so a fault in the \
                 copy would reach it and not xmmap's, and this platform has no kernel copy \
                 to use instead; install it before xmmap's first guarded copy (xmmap chains \
                 to it) or read the file with pread",
            ),
        };
        if let Some(why) = why {
            return Err(CopyError::Os(io::Error::new(io::ErrorKind::Unsupported, why)));
        }
        // SAFETY: passed on to the caller; the handler is installed and a
        // fault reaches it.
        unsafe { crate::sys::fault::copy(dst, src, len, map_is_src) }
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = (dst, src, len, map_is_src);
        Err(CopyError::Os(super::unsupported("a guarded copy on this architecture")))
    }
}

/// Skips the signal checks before each guarded copy from now on.
///
/// # Safety
/// - As `xmmap::guard::assume_signals_untouched`: for the life of the
///   process no thread runs a guarded copy with `SIGBUS` or `SIGSEGV`
///   blocked, and no code replaces or resets their dispositions.
pub(crate) unsafe fn guard_assume_signals_untouched() {
    // SAFETY: passed on to the caller.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    unsafe {
        crate::sys::fault::assume_signals_untouched();
    }
}

/// Whether every guarded copy makes at least one system call (the signal
/// checks, until [`guard_assume_signals_untouched`]). On architectures
/// without a guarded copy, yes: reading by `pread` is the only way there.
pub(crate) fn guarded_copy_makes_syscalls() -> bool {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    return !crate::sys::fault::signals_assumed_untouched();
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    return true;
}
