//! Guarded copies: `memcpy` whose faults on the mapped side come back as an
//! error instead of a signal that kills the process.
//!
//! On x86_64 Linux the copy is a `rep movsb` whose `SIGBUS`/`SIGSEGV` a
//! process-wide handler redirects to a recovery label (`guard_x86_64`). On
//! every other architecture the kernel does the copy for us with
//! `process_vm_readv`/`process_vm_writev` on our own pid, which reports a
//! missing page as `EFAULT` and a partial count (`guard_kernel`).

use std::io;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[path = "guard_x86_64.rs"]
mod imp;

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
#[path = "guard_kernel.rs"]
mod imp;

// x86_64 falls back on the kernel's copy where a fault could not reach its
// handler (a thread that blocks SIGBUS/SIGSEGV).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[path = "guard_kernel.rs"]
mod kernel;

/// How a guarded copy failed.
#[derive(Debug)]
pub(crate) enum CopyError {
    /// `SIGBUS` on the mapped side: the page has no backing any more (the
    /// file was truncated, or a hardware memory error). `copied` bytes were
    /// copied before it.
    Bus { copied: usize },
    /// `SIGSEGV` on the mapped side: the protection forbids the access.
    Segv { copied: usize },
    /// The copy could not be attempted (handler installation failed, or the
    /// kernel refused `process_vm_readv`).
    #[allow(dead_code)] // on x86_64 only from the kernel fallback
    Os(io::Error),
}

/// Installs the fault handler once per process (lazily; later calls are an
/// atomic load).
///
/// # References
/// - [sigaction(2)](https://man7.org/linux/man-pages/man2/sigaction.2.html)
pub(crate) fn guard_install() -> io::Result<()> {
    imp::install()
}

/// `memcpy(dst, src, len)` where a fault on the mapped side (`src` when
/// `map_is_src`, else `dst`) stops the copy and is reported, not raised.
///
/// # References
/// - [sigaction(2)](https://man7.org/linux/man-pages/man2/sigaction.2.html),
///   [process_vm_readv(2)](https://man7.org/linux/man-pages/man2/process_vm_readv.2.html)
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
    // SAFETY: passed on to the caller.
    unsafe { imp::copy(dst, src, len, map_is_src) }
}
