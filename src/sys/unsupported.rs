//! Stub backend for targets without a backend yet: every call fails with
//! `Unsupported`, so the portable layers compile and report it cleanly.
#![allow(clippy::missing_safety_doc, dead_code)]

use std::fs::File;
use std::io;
use std::path::PathBuf;

use super::{CopyError, FileInfo, FsKind, Madv, Resource, Rlimit};

fn unsupported<T>() -> io::Result<T> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "xmmap has no backend for this platform yet"))
}

pub(crate) fn page_size() -> usize {
    4096
}
pub(crate) fn offset_granularity() -> usize {
    page_size()
}
pub(crate) unsafe fn mmap(
    _addr: usize,
    _len: usize,
    _prot: u32,
    _flags: u32,
    _fd: Option<&File>,
    _offset: u64,
) -> io::Result<*mut u8> {
    unsupported()
}
pub(crate) unsafe fn munmap(_ptr: *mut u8, _len: usize) -> io::Result<()> {
    unsupported()
}
pub(crate) unsafe fn mprotect(_ptr: *mut u8, _len: usize, _prot: u32) -> io::Result<()> {
    unsupported()
}
pub(crate) unsafe fn madvise(_ptr: *mut u8, _len: usize, _advice: Madv) -> io::Result<()> {
    unsupported()
}
pub(crate) unsafe fn msync(_ptr: *mut u8, _len: usize, _sync: bool) -> io::Result<()> {
    unsupported()
}
pub(crate) unsafe fn mlock(_ptr: *mut u8, _len: usize) -> io::Result<()> {
    unsupported()
}
pub(crate) unsafe fn munlock(_ptr: *mut u8, _len: usize) -> io::Result<()> {
    unsupported()
}
pub(crate) unsafe fn mremap(
    _ptr: *mut u8,
    _old: usize,
    _new: usize,
    _may_move: bool,
) -> io::Result<*mut u8> {
    unsupported()
}
pub(crate) unsafe fn mincore(_ptr: *mut u8, _len: usize, _vec: &mut [u8]) -> io::Result<()> {
    unsupported()
}
pub(crate) fn fstat(_file: &File) -> io::Result<FileInfo> {
    unsupported()
}
pub(crate) fn fs_kind(_file: &File) -> io::Result<FsKind> {
    unsupported()
}
pub(crate) fn access_mode(_file: &File) -> io::Result<(bool, bool)> {
    unsupported()
}
pub(crate) fn fd_path(_file: &File) -> Option<PathBuf> {
    None
}
pub(crate) fn getrlimit(_resource: Resource) -> Rlimit {
    Rlimit { current: None, maximum: None }
}
pub(crate) fn has_cap_ipc_lock() -> bool {
    false
}
pub(crate) fn max_map_count() -> Option<u64> {
    None
}
pub(crate) fn map_count() -> io::Result<usize> {
    unsupported()
}
pub(crate) fn overcommit_mode() -> Option<u64> {
    None
}
pub(crate) fn thp_mode() -> Option<String> {
    None
}
pub(crate) fn huge_page_pools() -> Vec<(u64, u64, u64)> {
    Vec::new()
}
pub(crate) fn default_huge_page_size() -> Option<u64> {
    None
}
pub(crate) fn runnable_tasks() -> Option<usize> {
    None
}

pub(crate) fn guard_install() -> io::Result<()> {
    unsupported()
}
pub(crate) unsafe fn guarded_copy(
    _dst: *mut u8,
    _src: *const u8,
    _len: usize,
    _map_is_src: bool,
) -> Result<(), CopyError> {
    Err(CopyError::Os(io::Error::from(io::ErrorKind::Unsupported)))
}
pub(crate) unsafe fn guard_assume_signals_untouched() {}
pub(crate) fn guarded_copy_makes_syscalls() -> bool {
    true
}
pub(crate) fn pread(_file: &File, _buf: &mut [u8], _offset: u64) -> io::Result<usize> {
    unsupported()
}
pub(crate) fn memfd_create(_name: &str) -> io::Result<File> {
    unsupported()
}
pub(crate) fn get_seals(_file: &File) -> io::Result<u32> {
    unsupported()
}
pub(crate) fn add_seals(_file: &File, _seals: u32) -> io::Result<()> {
    unsupported()
}
pub(crate) fn fadvise(_file: &File, _offset: u64, _len: u64, _advice: i32) -> io::Result<()> {
    unsupported()
}
pub(crate) fn cachestat(_file: &File, _offset: u64, _len: u64) -> io::Result<[u64; 5]> {
    unsupported()
}
pub(crate) fn read_spare(
    _file: &File,
    _buf: &mut Vec<u8>,
    _max: usize,
    _offset: Option<u64>,
) -> io::Result<usize> {
    unsupported()
}
pub(crate) fn has_verity(_file: &File) -> io::Result<bool> {
    unsupported()
}

/// An errno, typed; never produced here, but the layers above name them.
/// The numbers are Linux's, only so that each constant is distinct.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Errno(i32);

impl Errno {
    pub(crate) const ACCESS: Errno = Errno(13);
    pub(crate) const AGAIN: Errno = Errno(11);
    pub(crate) const BADF: Errno = Errno(9);
    pub(crate) const BUSY: Errno = Errno(16);
    pub(crate) const EXIST: Errno = Errno(17);
    pub(crate) const FAULT: Errno = Errno(14);
    pub(crate) const INVAL: Errno = Errno(22);
    pub(crate) const NODEV: Errno = Errno(19);
    pub(crate) const NOMEM: Errno = Errno(12);
    pub(crate) const NOSYS: Errno = Errno(38);
    pub(crate) const OPNOTSUPP: Errno = Errno(95);
    pub(crate) const PERM: Errno = Errno(1);
    pub(crate) const SPIPE: Errno = Errno(29);

    /// The errno `e` holds, if a system call gave it.
    pub(crate) fn of(e: &io::Error) -> Option<Errno> {
        e.raw_os_error().map(Errno)
    }

    /// The number.
    pub(crate) fn raw_os_error(self) -> i32 {
        self.0
    }
}

impl From<Errno> for io::Error {
    fn from(e: Errno) -> io::Error {
        io::Error::from_raw_os_error(e.raw_os_error())
    }
}
