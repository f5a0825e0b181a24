//! The one error type of the crate.
//!
//! An [`Error`] is opaque: [`Error::kind`] says what went wrong as data (an
//! [`ErrorKind`], with the numbers that matter), and `Display` gives a message
//! that names the operation, the file or range, and what to check next.

use std::fmt;
use std::io;

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, as data. More variants may be added.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// An argument was wrong: an offset or length past the end, an overflow,
    /// an alignment the kernel needs, a flag that does not apply. The message
    /// names the argument.
    InvalidInput,
    /// The mapping is larger than the configured [`Limit`](crate::Limit)
    /// (git's `GIT_MMAP_LIMIT` discipline); refused before any system call.
    LimitExceeded {
        /// Bytes the mapping asked for.
        requested: u64,
        /// The limit in force.
        limit: u64,
    },
    /// `XMMAP_LIMIT` (or a string given to [`Limit::parse`](crate::Limit::parse))
    /// is not a size.
    BadLimit,
    /// The kernel is out of address space or mappings (`ENOMEM`), or could
    /// not lock memory (`EAGAIN`). The message carries git's hint with the
    /// current values of `vm.max_map_count`, the process's mapping count,
    /// `RLIMIT_DATA` and `RLIMIT_AS`.
    OutOfMemory,
    /// `fixed_noreplace`: the address range is already mapped (`EEXIST`).
    AlreadyMapped,
    /// No huge pages of the requested size can be had: the pool in
    /// `/proc/sys/vm/nr_hugepages` (or the per-size sysfs file) is empty or
    /// the size is not supported.
    HugePagesUnavailable {
        /// The huge page size asked for, in bytes (0 if unknown).
        size: u64,
    },
    /// Locking would exceed `RLIMIT_MEMLOCK`.
    LockLimit {
        /// Bytes asked to lock.
        requested: u64,
        /// The soft `RLIMIT_MEMLOCK`, `None` when unlimited.
        limit: Option<u64>,
    },
    /// This platform, kernel or file system does not support the request
    /// (for example `MAP_SYNC` without DAX, or any call on a target without a
    /// backend).
    Unsupported,
    /// The file cannot be memory-mapped: a directory, a pipe, a socket, or a
    /// file system that refuses `mmap` (`ENODEV`).
    NotMappable,
    /// The descriptor's access mode or the file's permissions forbid the
    /// requested protection (`EACCES`, `EPERM`).
    PermissionDenied,
    /// A guarded access touched a page the file no longer backs: the file was
    /// truncated under the map (the kernel raised `SIGBUS`).
    Truncated {
        /// Offset in the map of the first byte that could not be accessed.
        offset: u64,
    },
    /// A guarded access hit a page whose protection forbids it (`SIGSEGV`),
    /// for example a `PROT_NONE` guard page.
    Fault {
        /// Offset in the map of the first byte that could not be accessed.
        offset: u64,
    },
    /// The file changed identity or shrank since it was opened (window cache).
    FileChanged,
    /// Any other operating-system error; see [`Error::raw_os_error`].
    Io,
}

/// The error of every fallible xmmap call.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<io::Error>,
    detail: Option<String>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), source: None, detail: None }
    }

    pub(crate) fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: io::Error,
    ) -> Error {
        // A call the platform does not have (the POSIX backend's flags,
        // advice and calls without an errno) is Unsupported, whatever the
        // caller expected of the call.
        let kind = if kind == ErrorKind::Io
            && source.raw_os_error().is_none()
            && source.kind() == io::ErrorKind::Unsupported
        {
            ErrorKind::Unsupported
        } else {
            kind
        };
        Error { kind, message: message.into(), source: Some(source), detail: None }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidInput, message)
    }

    /// Adds context shown in parentheses after the OS error text.
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Error {
        let detail = detail.into();
        if !detail.is_empty() {
            self.detail = Some(detail);
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The OS error number behind this error, if a system call failed.
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.as_ref().and_then(io::Error::raw_os_error)
    }

    /// The errno behind this error, typed, if a system call failed.
    pub(crate) fn errno(&self) -> Option<crate::sys::Errno> {
        self.source.as_ref().and_then(crate::sys::Errno::of)
    }

    /// The message without the OS error text.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            // io::Error's Display appends " (os error N)"; git prints the
            // strerror text alone, and so do we.
            match source.raw_os_error() {
                Some(code) => write!(f, ": {}", strerror(code))?,
                None => write!(f, ": {source}")?,
            }
        }
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .field("detail", &self.detail)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match e.kind {
            ErrorKind::InvalidInput | ErrorKind::BadLimit => io::ErrorKind::InvalidInput,
            ErrorKind::LimitExceeded { .. } | ErrorKind::OutOfMemory => io::ErrorKind::OutOfMemory,
            ErrorKind::AlreadyMapped => io::ErrorKind::AlreadyExists,
            ErrorKind::Unsupported | ErrorKind::HugePagesUnavailable { .. } => {
                io::ErrorKind::Unsupported
            }
            ErrorKind::PermissionDenied | ErrorKind::LockLimit { .. } => {
                io::ErrorKind::PermissionDenied
            }
            ErrorKind::Truncated { .. } => io::ErrorKind::UnexpectedEof,
            ErrorKind::NotMappable | ErrorKind::FileChanged | ErrorKind::Fault { .. } => {
                io::ErrorKind::InvalidData
            }
            ErrorKind::Io => e.source.as_ref().map_or(io::ErrorKind::Other, io::Error::kind),
        };
        io::Error::new(kind, e)
    }
}

/// The C library's text for an errno, without Rust's " (os error N)" suffix.
fn strerror(code: i32) -> String {
    let full = io::Error::from_raw_os_error(code).to_string();
    match full.rfind(" (os error ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)] // errno 12 is ENOMEM on Unix only
    fn display_uses_strerror_text_like_git() {
        let e = Error::with_source(
            ErrorKind::OutOfMemory,
            "mmap failed, check sys.vm.max_map_count and/or RLIMIT_DATA",
            io::Error::from_raw_os_error(12),
        );
        assert_eq!(
            e.to_string(),
            "mmap failed, check sys.vm.max_map_count and/or RLIMIT_DATA: Cannot allocate memory"
        );
        assert_eq!(e.raw_os_error(), Some(12));
    }

    #[test]
    fn converts_to_io_error_with_matching_kind() {
        let e = Error::new(ErrorKind::Truncated { offset: 4096 }, "read_at 4096: truncated");
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::UnexpectedEof);
        assert!(io.to_string().contains("truncated"));
    }
}
