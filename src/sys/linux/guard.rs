//! Guarded copies: `memcpy` whose faults on the mapped side come back as an
//! error instead of a signal that kills the process.
//!
//! On x86_64 Linux the copy is a `rep movsb` whose `SIGBUS`/`SIGSEGV` a
//! process-wide handler redirects to a recovery label (`sys::fault`, shared
//! with the POSIX backend). On every other architecture the kernel does the
//! copy for us with `process_vm_readv`/`process_vm_writev` on our own pid,
//! which reports a missing page as `EFAULT` and a partial count
//! (`guard_kernel`); x86_64 uses it too where a fault could not reach the
//! handler (a thread that blocks `SIGBUS`/`SIGSEGV`, or a handler someone
//! installed over ours, which is left in place).

use std::io;

use crate::sys::CopyError;

#[path = "guard_kernel.rs"]
mod kernel;

/// Installs the fault handler once per process (lazily; later calls are an
/// atomic load).
///
/// # References
/// - [sigaction(2)](https://man7.org/linux/man-pages/man2/sigaction.2.html)
pub(crate) fn guard_install() -> io::Result<()> {
    #[cfg(target_arch = "x86_64")]
    return crate::sys::fault::install();
    #[cfg(not(target_arch = "x86_64"))]
    return kernel::install();
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
    #[cfg(target_arch = "x86_64")]
    if crate::sys::fault::fast_path_ready().is_ok() {
        // SAFETY: passed on to the caller; the handler is installed and a
        // fault reaches it.
        return unsafe { crate::sys::fault::copy(dst, src, len, map_is_src) };
    }
    // A fault would not reach the handler (the thread blocks the signal, or
    // someone's handler was installed over it), or there is none: the
    // kernel copies instead.
    // SAFETY: passed on to the caller.
    unsafe { kernel::copy(dst, src, len, map_is_src) }
}

/// Skips the signal checks before each guarded copy from now on (x86_64;
/// elsewhere the kernel copies and there is nothing to skip).
///
/// # Safety
/// - As `xmmap::guard::assume_signals_untouched`: for the life of the
///   process no thread runs a guarded copy with `SIGBUS` or `SIGSEGV`
///   blocked, and no code replaces or resets their dispositions.
pub(crate) unsafe fn guard_assume_signals_untouched() {
    // SAFETY: passed on to the caller.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        crate::sys::fault::assume_signals_untouched();
    }
}

/// Whether every guarded copy makes at least one system call: the signal
/// checks on x86_64 until [`guard_assume_signals_untouched`], the kernel's
/// copy on other architectures.
pub(crate) fn guarded_copy_makes_syscalls() -> bool {
    #[cfg(target_arch = "x86_64")]
    return !crate::sys::fault::signals_assumed_untouched();
    #[cfg(not(target_arch = "x86_64"))]
    return true;
}
