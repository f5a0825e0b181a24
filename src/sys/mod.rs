//! The only code that makes system calls.
//!
//! One backend per platform family, chosen here and nowhere else:
//!
//! - `linux` for Linux and Android (rustix where it has the call, libc where
//!   it does not);
//! - `posix` for macOS and FreeBSD, and for Linux when built with
//!   `RUSTFLAGS="--cfg xmmap_posix"`, so that the test suite runs the code
//!   those platforms run (see below);
//! - `windows` for Windows (windows-sys: sections and views, a vectored
//!   exception handler for guarded copies);
//! - `unsupported` for every other target, whose functions all fail with
//!   `ErrorKind::Unsupported` so that the portable layers above compile
//!   unchanged.
//!
//! Functions are thin and shaped like the system calls they wrap: they take
//! raw pointers and lengths, return the raw OS error as an [`std::io::Error`],
//! and never interpret it. Turning an errno into advice is the job of the
//! layers above, which name errnos through [`Errno`] and `madvise` advice
//! through [`Madv`], never by number.
//!
//! Every backend has the same functions with the same signatures (the
//! compiler checks them through the callers above). Among them, for a new
//! backend to provide:
//!
//! - `pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize>`:
//!   one positional read into `buf` at `offset`, the bytes read (0 at end of
//!   file), not retried on `EINTR` (the window cache retries);
//! - `guarded_copy_makes_syscalls() -> bool`: whether every guarded copy
//!   costs at least one system call now (the window cache then serves small
//!   reads by `pread`), and `unsafe guard_assume_signals_untouched()`, the
//!   backend's side of `guard::assume_signals_untouched` (nothing to do where
//!   the copy asks no signal state).
//!
//! # The POSIX backend
//!
//! The flag bits above this layer are Linux's ([`flags`], [`prot`]) and the
//! advice is named ([`Madv`]); `posix` translates each by name to the
//! platform's and fails with `Unsupported`, naming the flag, for one the
//! platform lacks. What it has:
//!
//! - `mmap` with `MAP_SHARED`, `MAP_PRIVATE`, `MAP_FIXED` and anonymous
//!   maps; `MAP_FIXED_NOREPLACE` as a hint the kernel must take (a map
//!   placed elsewhere is unmapped again and the call fails with `EEXIST`);
//!   `MAP_NORESERVE` and `MAP_STACK` accepted and passed as nothing (these
//!   systems reserve no swap for a map, and Linux's `MAP_STACK` is only a
//!   huge page hint; FreeBSD's `MAP_STACK` is something else).
//!   `MAP_POPULATE`, `MAP_LOCKED`, `MAP_HUGETLB` and the huge page sizes,
//!   `MAP_SYNC`, `MAP_SHARED_VALIDATE`, `MAP_GROWSDOWN`, `MAP_32BIT`,
//!   `MAP_DENYWRITE`, `MAP_EXECUTABLE`, `MAP_NONBLOCK` and
//!   `MAP_UNINITIALIZED` are `Unsupported` (FreeBSD's `MAP_PREFAULT_READ`
//!   maps only pages already resident and `MAP_ALIGNED_SUPER` is a
//!   placement hint, so neither stands in for `MAP_POPULATE` or
//!   `MAP_HUGETLB`).
//! - `madvise` with `MADV_NORMAL`, `_RANDOM`, `_SEQUENTIAL`, `_WILLNEED` and
//!   `_DONTNEED` (a hint there: contents are kept, as `posix_madvise`), and
//!   `MADV_FREE` on macOS and FreeBSD, `MADV_DONTDUMP`/`_DODUMP` on FreeBSD
//!   (as `MADV_NOCORE`/`_CORE`); other advice is `Unsupported` (populating
//!   falls back to touching each page through a guarded read, as on Linux
//!   before 5.14).
//! - `msync`, `mprotect`, `mlock`/`munlock`; `mincore`, whose bytes have
//!   `MINCORE_INCORE` (bit 0) for a resident page and other bits above this
//!   layer ignores; the page size from the system (16 KiB on Apple silicon).
//! - No `mremap`: resizing a map is `Unsupported` (a new map and a copy
//!   would change the address and double the memory behind the caller's
//!   back; the caller can do that explicitly).
//! - Guarded copies through `sys::fault` (x86_64 and aarch64); a thread that
//!   blocks `SIGBUS` or `SIGSEGV` gets `Unsupported` instead of a copy, since
//!   the kernel would kill the process on a blocked fault and these
//!   platforms have no `process_vm_readv` to copy through.
//! - No memfd, seals, fs-verity, `cachestat`, procfs or sysfs: those calls
//!   are `Unsupported` or report nothing. `posix_fadvise` on FreeBSD and
//!   Linux only (`Unsupported` on macOS).
//!
//! Under `--cfg xmmap_posix` on Linux it offers exactly the set common to
//! macOS and FreeBSD (no platform extras), and the test suite asserts the
//! `Unsupported` outcomes above where it tests Linux-only features:
//!
//! ```text
//! RUSTFLAGS="--cfg xmmap_posix" CARGO_TARGET_DIR=target/posix cargo test --workspace --all-features
//! ```
//!
//! # Safety
//!
//! The `unsafe fn`s here have the contracts of the system calls they wrap
//! (see each function's `# Safety`); callers in `map` and `guard` own the
//! address ranges they pass.

#![allow(unsafe_code)]

#[cfg(any(target_os = "android", all(target_os = "linux", not(xmmap_posix))))]
mod linux;
#[cfg(any(target_os = "android", all(target_os = "linux", not(xmmap_posix))))]
use linux as backend;

#[cfg(any(target_os = "macos", target_os = "freebsd", all(target_os = "linux", xmmap_posix)))]
mod posix;

// The rustix calls both Unix backends make alike.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "freebsd"))]
mod unix;
#[cfg(any(target_os = "macos", target_os = "freebsd", all(target_os = "linux", xmmap_posix)))]
use posix as backend;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as backend;

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "freebsd",
    windows
)))]
mod unsupported;
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "freebsd",
    windows
)))]
use unsupported as backend;

pub(crate) use backend::*;

// x86_64's recording `rep movsb`, for the signal guard and Windows's.
#[cfg(all(
    target_arch = "x86_64",
    any(target_os = "linux", target_os = "macos", target_os = "freebsd", windows)
))]
mod rep_movsb;

// The signal-based guarded copy: Linux's on x86_64, the POSIX backend's on
// x86_64 and aarch64.
#[cfg(any(
    all(target_os = "linux", not(xmmap_posix), target_arch = "x86_64"),
    all(
        any(target_os = "macos", target_os = "freebsd", all(target_os = "linux", xmmap_posix)),
        any(target_arch = "x86_64", target_arch = "aarch64")
    )
))]
mod fault;

/// How a guarded copy failed.
#[derive(Debug)]
#[allow(dead_code)] // the stub backend builds none of them
pub(crate) enum CopyError {
    /// `SIGBUS` on the mapped side: the page has no backing any more (the
    /// file was truncated, or a hardware memory error). `copied` bytes were
    /// copied before it.
    Bus { copied: usize },
    /// `SIGSEGV` on the mapped side: the protection forbids the access.
    Segv { copied: usize },
    /// The copy could not be attempted (handler installation failed, the
    /// kernel refused `process_vm_readv`, or the platform has no way to copy
    /// on this thread).
    Os(std::io::Error),
}

/// Protection bits, with Linux's values (the stub uses the same numbers).
pub(crate) mod prot {
    pub(crate) const NONE: u32 = 0;
    pub(crate) const READ: u32 = 0x1;
    pub(crate) const WRITE: u32 = 0x2;
    pub(crate) const EXEC: u32 = 0x4;
}

/// `MAP_*` flag bits, with Linux's x86_64/aarch64 values.
#[allow(dead_code)]
pub(crate) mod flags {
    pub(crate) const SHARED: u32 = 0x01;
    pub(crate) const PRIVATE: u32 = 0x02;
    pub(crate) const SHARED_VALIDATE: u32 = 0x03;
    pub(crate) const FIXED: u32 = 0x10;
    pub(crate) const ANONYMOUS: u32 = 0x20;
    pub(crate) const LOW_32BIT: u32 = 0x40;
    pub(crate) const GROWSDOWN: u32 = 0x0100;
    pub(crate) const DENYWRITE: u32 = 0x0800;
    pub(crate) const EXECUTABLE: u32 = 0x1000;
    pub(crate) const LOCKED: u32 = 0x2000;
    pub(crate) const NORESERVE: u32 = 0x4000;
    pub(crate) const POPULATE: u32 = 0x8000;
    pub(crate) const NONBLOCK: u32 = 0x1_0000;
    pub(crate) const STACK: u32 = 0x2_0000;
    pub(crate) const HUGETLB: u32 = 0x4_0000;
    pub(crate) const SYNC: u32 = 0x8_0000;
    pub(crate) const FIXED_NOREPLACE: u32 = 0x10_0000;
    pub(crate) const UNINITIALIZED: u32 = 0x400_0000;
    pub(crate) const HUGE_SHIFT: u32 = 26;
    pub(crate) const HUGE_MASK: u32 = 0x3f;
}

/// What `fstat` says about a descriptor, reduced to what mapping needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileInfo {
    pub(crate) kind: FileKind,
    pub(crate) size: u64,
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

/// The type bits of `st_mode`.
#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Regular,
    Directory,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Symlink,
    Unknown,
}

impl FileKind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            FileKind::Regular => "a regular file",
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a pipe (FIFO)",
            FileKind::Socket => "a socket",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Symlink => "a symbolic link",
            FileKind::Unknown => "a file of unknown type",
        }
    }
}

/// Which file system holds a file, as far as mapping cares.
#[cfg_attr(
    not(all(any(target_os = "linux", target_os = "android"), not(xmmap_posix))),
    allow(dead_code)
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FsKind {
    /// procfs: sizes are 0 and mmap is refused.
    Proc,
    /// sysfs: sizes are a page and mmap is mostly refused.
    Sys,
    /// tmpfs or shmem.
    Tmpfs,
    /// hugetlbfs: maps are in huge pages.
    Hugetlbfs,
    /// Anything else.
    Other,
}

/// The current and maximum value of one resource limit; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rlimit {
    pub(crate) current: Option<u64>,
    pub(crate) maximum: Option<u64>,
}

/// The resource limits xmmap reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    Data,
    As,
    Memlock,
    Nofile,
}

/// The `advice` argument of `madvise(2)`, by name; each backend turns it
/// into its own number (or refuses what its kernel does not have).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Madv {
    Normal,
    Random,
    Sequential,
    WillNeed,
    DontNeed,
    Free,
    Remove,
    DontFork,
    DoFork,
    Mergeable,
    Unmergeable,
    HugePage,
    NoHugePage,
    DontDump,
    DoDump,
    WipeOnFork,
    KeepOnFork,
    Cold,
    PageOut,
    PopulateRead,
    PopulateWrite,
    Collapse,
    HwPoison,
}

impl Madv {
    /// The advice's name in the man page, for error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Madv::Normal => "MADV_NORMAL",
            Madv::Random => "MADV_RANDOM",
            Madv::Sequential => "MADV_SEQUENTIAL",
            Madv::WillNeed => "MADV_WILLNEED",
            Madv::DontNeed => "MADV_DONTNEED",
            Madv::Free => "MADV_FREE",
            Madv::Remove => "MADV_REMOVE",
            Madv::DontFork => "MADV_DONTFORK",
            Madv::DoFork => "MADV_DOFORK",
            Madv::Mergeable => "MADV_MERGEABLE",
            Madv::Unmergeable => "MADV_UNMERGEABLE",
            Madv::HugePage => "MADV_HUGEPAGE",
            Madv::NoHugePage => "MADV_NOHUGEPAGE",
            Madv::DontDump => "MADV_DONTDUMP",
            Madv::DoDump => "MADV_DODUMP",
            Madv::WipeOnFork => "MADV_WIPEONFORK",
            Madv::KeepOnFork => "MADV_KEEPONFORK",
            Madv::Cold => "MADV_COLD",
            Madv::PageOut => "MADV_PAGEOUT",
            Madv::PopulateRead => "MADV_POPULATE_READ",
            Madv::PopulateWrite => "MADV_POPULATE_WRITE",
            Madv::Collapse => "MADV_COLLAPSE",
            Madv::HwPoison => "MADV_HWPOISON",
        }
    }

    /// Whether this is `MADV_POPULATE_READ` or `MADV_POPULATE_WRITE`, whose
    /// `EFAULT` means a page would raise `SIGBUS` (the file no longer backs it).
    pub(crate) fn populates(self) -> bool {
        matches!(self, Madv::PopulateRead | Madv::PopulateWrite)
    }
}

/// An errno, typed: the error number a system call failed with.
///
/// Each backend defines its own `Errno` (Linux and POSIX: a newtype over
/// `rustix::io::Errno`; `unsupported`: a newtype over `i32`, never produced)
/// with this interface, so that the layers above match on names
/// (`Errno::of(&e) == Some(Errno::SPIPE)`) and never on numbers:
///
/// - `Errno::of(&io::Error) -> Option<Errno>`: the errno an [`io::Error`]
///   holds, if it holds one;
/// - `Errno::raw_os_error(self) -> i32`: the platform's number;
/// - `From<Errno> for io::Error`: the error the system call would give;
/// - these associated constants, named like rustix's (the C name without its
///   `E`) and no others, each with the platform's value:
///
/// | constant    | C name       | interpreted by                              |
/// |-------------|--------------|---------------------------------------------|
/// | `ACCESS`    | `EACCES`     | map errors (file mode, `noexec` mounts)     |
/// | `AGAIN`     | `EAGAIN`     | map errors (locked memory)                  |
/// | `BADF`      | `EBADF`      | map errors, compat (a closed descriptor)    |
/// | `BUSY`      | `EBUSY`      | source (sealing a file that is mapped)      |
/// | `EXIST`     | `EEXIST`     | map errors (`MAP_FIXED_NOREPLACE`)          |
/// | `FAULT`     | `EFAULT`     | populate past end-of-file (`Truncated`)     |
/// | `INVAL`     | `EINVAL`     | map errors, populate and cachestat fallback |
/// | `NODEV`     | `ENODEV`     | map errors, compat (a file that cannot map) |
/// | `NOMEM`     | `ENOMEM`     | map errors (limits, huge pages)             |
/// | `NOSYS`     | `ENOSYS`     | residency (a kernel without `cachestat`)    |
/// | `OPNOTSUPP` | `EOPNOTSUPP` | map errors (`MAP_SYNC`), residency          |
/// | `PERM`      | `EPERM`      | map errors, seals, residency                |
/// | `SPIPE`     | `ESPIPE`     | source (a descriptor that cannot seek)      |
///
/// A platform without one of these errnos (or without errnos at all) still
/// defines the constant, with a value its calls never produce, so that the
/// matches above compile unchanged. A new interpretation adds its constant
/// here and to every backend.
///
/// [`io::Error`]: std::io::Error
pub(crate) use backend::Errno;

/// `F_SEAL_*` bits, with Linux's values (the stub uses the same numbers).
pub(crate) mod seal {
    pub(crate) const SEAL: u32 = 0x0001;
    pub(crate) const SHRINK: u32 = 0x0002;
    pub(crate) const GROW: u32 = 0x0004;
    pub(crate) const WRITE: u32 = 0x0008;
    pub(crate) const FUTURE_WRITE: u32 = 0x0010;
}

/// `POSIX_FADV_*` advice, with Linux's values (the stub uses the same numbers).
pub(crate) mod fadv {
    pub(crate) const WILLNEED: i32 = 3;
    pub(crate) const DONTNEED: i32 = 4;
}
