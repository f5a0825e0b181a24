//! Guarded access: `read_at` and `write_at` that survive a file being
//! truncated under the map.
//!
//! Touching a page of a file map that the file no longer backs raises
//! `SIGBUS`, and the default action kills the process. Any process that can
//! write the file can shrink it, at any moment. The guarded copies here turn
//! that fault into an error of kind [`Truncated`](crate::ErrorKind::Truncated)
//! naming the first byte that could not be copied, and the process lives on.
//! A fault because the protection forbids the access (a `PROT_NONE` map, a
//! write to a read-only map) becomes [`Fault`](crate::ErrorKind::Fault).
//!
//! | method | on |
//! |---|---|
//! | `read_at(&self, offset, &mut buf)` | [`Map`], [`MapMut`], [`MapRaw`] |
//! | `write_at(&self, offset, &buf)` | [`MapRaw`] |
//! | `write_at(&mut self, offset, &buf)` | [`MapMut`] |
//!
//! They behave like `pread(2)`/`pwrite(2)` on a file as long as the map:
//! the count is short at the end of the map; an offset at or past the end
//! copies nothing and returns `Ok(0)`; only an `offset + buf.len()` that
//! overflows `u64` is [`InvalidInput`](crate::ErrorKind::InvalidInput).
//!
//! [`MapRaw`] with guarded access is the safe way to map a file that other
//! processes may change or truncate: it hands out no references, so nothing
//! needs the promise that the `unsafe` constructors of [`Map`] ask for.
//!
//! # Examples
//!
//! A file shrinks under a map; the read says so instead of killing us:
//!
//! ```
//! use xmmap::{page_size, ErrorKind, MapRaw};
//!
//! # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-guard", std::process::id()));
//! let page = page_size();
//! let file = std::fs::OpenOptions::new()
//!     .read(true).write(true).create(true).truncate(true).open(&path)?;
//! file.set_len(2 * page as u64)?;
//! let raw = MapRaw::map(&file)?;
//!
//! file.set_len(page as u64)?; // anyone may do this, at any moment
//!
//! let mut buf = vec![0; 2 * page];
//! let err = raw.read_at(0, &mut buf).unwrap_err();
//! assert_eq!(*err.kind(), ErrorKind::Truncated { offset: page as u64 });
//!
//! // The page that is still there reads fine, and so does the rest once
//! // the file grows again (with zeros).
//! assert_eq!(raw.read_at(0, &mut buf[..page])?, page);
//! file.set_len(2 * page as u64)?;
//! assert_eq!(raw.read_at(0, &mut buf)?, 2 * page);
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Mechanism
//!
//! On x86_64 Linux the copy is a tiny assembly routine (`rep movsb`). The
//! first guarded copy in the process installs a handler for `SIGBUS` and
//! `SIGSEGV` (`sigaction(2)`, once, process-wide; it stays installed). The
//! handler claims a fault only if the interrupted instruction is that
//! routine's copy instruction **and** the faulting thread is inside a guarded
//! copy **and** the faulting address lies in the mapped range that copy
//! registered (a thread-local record). It then resumes the thread at the
//! routine's recovery point, which returns the count of bytes not copied.
//! The cost over a plain copy is a few thread-local stores; no system call.
//!
//! Every other fault is passed to the handler installed before xmmap's — for
//! example Rust's own stack-overflow handler, a sanitizer's, or the
//! application's — with the arguments it expects. If there was none (the
//! default action) or the signal was ignored, the default is restored and
//! the fault happens again, so the process dies of the original signal
//! exactly as before. So:
//!
//! - a fault in plain `Deref` code (`&map[..]` on a truncated file) still
//!   kills the process with `SIGBUS` — guarded access is opt-in per call;
//! - other users of `SIGBUS`/`SIGSEGV` keep receiving their own faults;
//! - many threads may run guarded copies at once (each has its own record).
//!
//! The previous handler is called as the kernel would have called it: with
//! its `sa_mask` blocked, its SA_RESETHAND, SA_NODEFER and SA_SIGINFO
//! honoured. A handler installed *after* xmmap's receives faults first and
//! is left in place: xmmap never takes the signal back from it, so it keeps
//! receiving every fault, and guarded copies stop relying on the handler
//! (on Linux the kernel copies instead; on macOS and FreeBSD a guarded copy
//! is then `Unsupported`, saying why).
//!
//! Before each copy the thread's signal mask and the SIGBUS/SIGSEGV
//! dispositions are asked of the kernel: a thread that blocks either signal
//! (a `sigwait` or `signalfd` thread) gets the kernel's copy instead, since
//! the kernel kills on a blocked fault; a disposition reset to the default
//! since (someone's `signal(SIGBUS, SIG_DFL)`, or Rust's handler resetting
//! itself on a sent SIGBUS) is re-installed, and any other one means the
//! kernel's copy, as above. These three system calls are most of what a guarded copy
//! costs beyond the copy itself; what they cost against `copy_from_slice`
//! and `pread(2)`, measured with `cargo bench -p xmmap-bench --bench guard`,
//! is in BENCHMARKS.md ("What the guard's signal checks cost"), kept there
//! so that the figures are dated with the run that took them. A program
//! that controls its signals can promise what the checks look for and skip
//! them with the `unsafe` [`assume_signals_untouched`]; without that promise
//! the [window cache](crate::WindowCache) serves small reads by `pread`
//! rather than pay for them ([`WindowConfig::pread_below`](crate::WindowConfig::pread_below)).
//!
//! On other architectures the kernel does the copy (`process_vm_readv(2)` /
//! `process_vm_writev(2)` on the own process), which reports a missing page
//! as `EFAULT` and a partial count; no handler is installed there and the
//! cost is a system call per copy. Whether the page was gone (`Truncated`)
//! or protected (`Fault`) is then asked of `madvise(MADV_POPULATE_READ)`
//! (or `_WRITE`), which fails with `EFAULT` exactly where touching would
//! raise `SIGBUS`; on kernels before 5.14 every such fault is `Truncated`.
//!
//! On macOS and FreeBSD (the POSIX backend, x86_64 and aarch64) the copy
//! is the same handler-guarded routine: `rep movsb` on x86_64, a loop of
//! 8-byte words aligned on the mapped side on aarch64, with
//! each OS's saved program counter. There is no kernel copy to fall back on:
//! a thread that blocks `SIGBUS` or `SIGSEGV` gets
//! [`Unsupported`](crate::ErrorKind::Unsupported) and nothing is copied.
//! macOS raises `SIGBUS` for some protection faults, which then come back
//! as `Truncated` rather than `Fault`.
//!
//! # What is and is not claimed
//!
//! - Only faults on the map's side of the copy are caught. A fault on the
//!   caller's buffer (say, a slice of another truncated map) is not ours and
//!   crashes as it would in a `memcpy`.
//! - A successful read returns bytes that were in the file while it ran; a
//!   copy that races with writers may mix old and new bytes, as `pread` does.
//! - `SIGBUS` also reports hardware memory errors; those come back as
//!   `Truncated` too.
//! - On error, the bytes before the reported offset have been copied.
//!
//! May call: `sys`, `map` (through `inner()`), `error`.
//!
//! # Safety
//!
//! Each copy stays inside `ptr()..ptr() + len()` of a live mapping owned by
//! the face it is called on, and inside the caller's slice; faults on the
//! mapped side are caught by `sys::guarded_copy`. Writes into a [`MapMut`]
//! take `&mut self`, so no `&[u8]` handed out by `Deref` sees its bytes
//! change. [`MapRaw`] hands out no references, so writes through `&self` are
//! sound: concurrent guarded copies race only like processes sharing the
//! file do, outside Rust's memory model (the copy is opaque assembly or the
//! kernel).

#![allow(unsafe_code)]

use crate::error::{Error, ErrorKind, Result};
use crate::map::{Inner, Map, MapMut, MapRaw};
use crate::sys;
use std::sync::atomic::{AtomicBool, Ordering};

/// Skips the signal checks of every guarded copy from now on, for the whole
/// process: the copy no longer asks the kernel for the thread's signal mask
/// and the `SIGBUS`/`SIGSEGV` dispositions (three system calls per copy;
/// BENCHMARKS.md, "What the guard's signal checks cost", has what that
/// saves). It cannot be undone. Where the kernel does the copy (Linux on
/// architectures other than x86_64) there are no checks and this does
/// nothing.
///
/// # Safety
///
/// The checks exist because either of these turns a fault that the guard
/// would have reported as [`Truncated`](crate::ErrorKind::Truncated) into
/// the death of the process, and code outside xmmap can do either at any
/// time. The caller promises, for the rest of the life of the process:
///
/// - no thread runs a guarded copy (this module's `read_at`/`write_at`,
///   [`WindowCache::read_at`](crate::WindowCache::read_at), a cursor's
///   `read_at`, anything built on them) while it blocks `SIGBUS` or
///   `SIGSEGV` (`pthread_sigmask`, `sigprocmask`; threads that use
///   `sigwait` or `signalfd` often block every signal);
/// - no code replaces or resets the `SIGBUS` or `SIGSEGV` disposition once
///   xmmap installed its handler (at the first guarded copy): no
///   `signal(SIGBUS, SIG_DFL)`, no handler installed with `SA_RESETHAND`
///   after xmmap's, no handler installed later that does not chain to the
///   one it replaced (a chaining one, as xmmap's own, is fine). Note that
///   Rust's standard library resets its `SIGSEGV`/`SIGBUS` handler to the
///   default when one of those signals is sent to the process (`kill`), so
///   the promise includes that nobody sends them.
///
/// # Examples
///
/// ```
/// // SAFETY: this program blocks no signals and installs no handlers.
/// unsafe { xmmap::guard::assume_signals_untouched() };
/// assert!(xmmap::guard::signals_assumed_untouched());
/// ```
///
/// Safe code cannot turn the checks off:
///
/// ```compile_fail
/// xmmap::guard::assume_signals_untouched();
/// ```
pub unsafe fn assume_signals_untouched() {
    // SAFETY: passed on to the caller, who promised what the backend asks.
    unsafe { sys::guard_assume_signals_untouched() };
    ASSUMED.store(true, Ordering::Relaxed);
}

/// Whether [`assume_signals_untouched`] was called in this process.
pub fn signals_assumed_untouched() -> bool {
    ASSUMED.load(Ordering::Relaxed)
}

static ASSUMED: AtomicBool = AtomicBool::new(false);

/// Which way a guarded copy goes.
#[derive(Clone, Copy)]
enum Dir {
    Read,
    Write,
}

impl Dir {
    fn op(self) -> &'static str {
        match self {
            Dir::Read => "read_at",
            Dir::Write => "write_at",
        }
    }
}

/// The bytes of the map that `offset..offset + n` covers: `None` when
/// nothing is to be copied, an error when the range overflows.
fn span(dir: Dir, offset: u64, n: usize, map_len: usize) -> Result<Option<(usize, usize)>> {
    if offset.checked_add(n as u64).is_none() {
        return Err(Error::invalid(format!(
            "{}: {n} bytes at offset {offset} overflow a 64-bit offset",
            dir.op()
        )));
    }
    if n == 0 || offset >= map_len as u64 {
        return Ok(None);
    }
    let start = offset as usize; // < map_len, so it fits
    Ok(Some((start, n.min(map_len - start))))
}

/// Copies between `inner` at `offset` and the caller's buffer at `buf`
/// (`n` bytes of it), guarded.
///
/// # Safety
/// - `buf..buf + n` must be writable (`Dir::Read`) or readable
///   (`Dir::Write`) memory that no live Rust reference relies on while the
///   copy writes it.
/// - For `Dir::Write`, no reference into `inner` may rely on its contents.
unsafe fn copy(inner: &Inner, dir: Dir, offset: u64, buf: *mut u8, n: usize) -> Result<usize> {
    let Some((start, count)) = span(dir, offset, n, inner.len())? else {
        return Ok(0);
    };
    sys::guard_install().map_err(|e| {
        Error::with_source(
            ErrorKind::Io,
            format!("{}: cannot install the SIGBUS/SIGSEGV handler for guarded copies", dir.op()),
            e,
        )
    })?;
    // SAFETY: start < len, so the pointer stays inside the mapping.
    let at = unsafe { inner.ptr().add(start) };
    let result = match dir {
        // SAFETY: `at..at + count` lies in our live mapping (faults there are
        // caught); the caller vouches for `buf`; the handler is installed.
        Dir::Read => unsafe { sys::guarded_copy(buf, at, count, true) },
        // SAFETY: as above, and the caller vouches that no reference relies
        // on the mapped bytes.
        Dir::Write => unsafe { sys::guarded_copy(at, buf, count, false) },
    };
    match result {
        Ok(()) => Ok(count),
        Err(e) => Err(fault_error(dir, offset, count, inner.len(), e)),
    }
}

/// The error for a failed guarded copy: names the call, the range, the first
/// byte that failed and what to check.
fn fault_error(dir: Dir, offset: u64, count: usize, map_len: usize, e: sys::CopyError) -> Error {
    let what = format!("{} of {count} bytes at offset {offset} of a {map_len}-byte map", dir.op());
    match e {
        sys::CopyError::Bus { copied } => {
            let at = offset + copied as u64;
            Error::new(
                ErrorKind::Truncated { offset: at },
                format!(
                    "{what}: the file no longer backs map offset {at} (it was truncated under \
                     the map; check the file's size and who shrinks it)"
                ),
            )
        }
        sys::CopyError::Segv { copied } => {
            let at = offset + copied as u64;
            Error::new(
                ErrorKind::Fault { offset: at },
                format!(
                    "{what}: the map's protection forbids the access at map offset {at} (is it \
                     PROT_NONE, or read-only for a write?)"
                ),
            )
        }
        sys::CopyError::Os(err) => {
            let kind = if err.kind() == std::io::ErrorKind::Unsupported {
                ErrorKind::Unsupported
            } else {
                ErrorKind::Io
            };
            Error::with_source(kind, format!("{what}: the guarded copy could not run"), err)
        }
    }
}

/// Guarded reads, shared by every face.
macro_rules! read_at {
    ($T:ident) => {
        impl $T {
            /// Copies bytes of the map at `offset` into `buf`, like
            /// `pread(2)`, and survives the file being truncated meanwhile.
            ///
            /// Returns the bytes copied: `buf.len()`, fewer at the end of the
            /// map, 0 when `offset` is at or past the end. See the
            /// [`guard`](crate::guard) module for how faults are caught.
            ///
            /// # Errors
            ///
            /// - [`ErrorKind::Truncated`] with the map offset of the first
            ///   byte that could not be read, when the file no longer backs
            ///   it; the bytes before it are in `buf`.
            /// - [`ErrorKind::Fault`] when the protection forbids reading
            ///   (a `PROT_NONE` map).
            /// - [`ErrorKind::InvalidInput`] when `offset + buf.len()`
            ///   overflows `u64`.
            /// - [`ErrorKind::Io`] if the fault handler cannot be installed;
            ///   [`ErrorKind::Unsupported`] on targets without a backend.
            ///
            /// # Examples
            ///
            /// See the [`guard`](crate::guard) module.
            pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
                // SAFETY: `buf` is an exclusive borrow, so nothing else relies
                // on its bytes; reading the map changes nothing in it.
                unsafe { copy(self.inner(), Dir::Read, offset, buf.as_mut_ptr(), buf.len()) }
            }
        }
    };
}

read_at!(Map);
read_at!(MapMut);
read_at!(MapRaw);

impl MapRaw {
    /// Copies `buf` into the map at `offset`, like `pwrite(2)`, and survives
    /// the file being truncated meanwhile.
    ///
    /// Returns the bytes copied: `buf.len()`, fewer at the end of the map, 0
    /// when `offset` is at or past the end. A shared file map carries the
    /// bytes to the file ([`flush`](MapRaw::flush) waits for them). Takes
    /// `&self`: a raw map hands out no references whose bytes could change
    /// under them; concurrent writes to the same bytes interleave as writes
    /// from two processes would.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Truncated`] with the map offset of the first byte that
    ///   could not be written, when the file no longer backs it; the bytes
    ///   before it were written.
    /// - [`ErrorKind::Fault`] when the protection forbids writing (a map
    ///   made with [`map_read_only`](MapRaw::map_read_only), or
    ///   `PROT_NONE`).
    /// - [`ErrorKind::InvalidInput`] when `offset + buf.len()` overflows
    ///   `u64`.
    /// - [`ErrorKind::Io`] if the fault handler cannot be installed;
    ///   [`ErrorKind::Unsupported`] on targets without a backend.
    ///
    /// # Examples
    ///
    /// ```
    /// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-wat", std::process::id()));
    /// # std::fs::write(&path, b"hello, world")?;
    /// let file = std::fs::OpenOptions::new().read(true).write(true).open(&path)?;
    /// let raw = xmmap::MapRaw::map(&file)?;
    /// assert_eq!(raw.write_at(7, b"there!")?, 5); // short at the end
    /// raw.flush()?;
    /// assert_eq!(std::fs::read(&path)?, b"hello, there");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_at(&self, offset: u64, buf: &[u8]) -> Result<usize> {
        // SAFETY: `buf` is only read; a raw map hands out no references.
        unsafe { copy(self.inner(), Dir::Write, offset, buf.as_ptr().cast_mut(), buf.len()) }
    }
}

impl MapMut {
    /// Copies `buf` into the map at `offset`, like `pwrite(2)`, and survives
    /// the file being truncated meanwhile.
    ///
    /// Takes `&mut self`, unlike [`MapRaw::write_at`]: a `MapMut` hands out
    /// `&[u8]` through `Deref`, and changing bytes under a live shared slice
    /// would be undefined behaviour; the exclusive borrow proves there is
    /// none. Returns the bytes copied: `buf.len()`, fewer at the end of the
    /// map, 0 when `offset` is at or past the end.
    ///
    /// # Errors
    ///
    /// As [`MapRaw::write_at`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = xmmap::MapMut::map_anon(8)?;
    /// assert_eq!(m.write_at(6, b"abc")?, 2);
    /// assert_eq!(&m[..], b"\0\0\0\0\0\0ab");
    /// # Ok::<(), xmmap::Error>(())
    /// ```
    pub fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<usize> {
        // SAFETY: `&mut self` proves no reference into the map is alive;
        // `buf` is only read.
        unsafe { copy(self.inner(), Dir::Write, offset, buf.as_ptr().cast_mut(), buf.len()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_is_short_at_the_end_and_empty_past_it() {
        assert_eq!(span(Dir::Read, 0, 10, 100).unwrap(), Some((0, 10)));
        assert_eq!(span(Dir::Read, 95, 10, 100).unwrap(), Some((95, 5)));
        assert_eq!(span(Dir::Read, 100, 10, 100).unwrap(), None);
        assert_eq!(span(Dir::Read, u64::MAX - 10, 10, 100).unwrap(), None);
        assert_eq!(span(Dir::Write, 5, 0, 100).unwrap(), None);
        assert_eq!(span(Dir::Read, 0, 10, 0).unwrap(), None);
    }

    #[test]
    fn span_rejects_an_offset_that_overflows() {
        let e = span(Dir::Read, u64::MAX - 5, 10, 100).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("read_at"), "{e}");
    }
}
