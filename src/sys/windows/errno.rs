//! [`Errno`] on Windows: a newtype over the Win32 error code
//! (`GetLastError`), under the names the layers above use (see `sys::Errno`
//! for the set every backend provides).
//!
//! Each name is given the Win32 error that the call it is interpreted for
//! fails with, where Windows has such a call (`ACCESS` for a view the handle
//! does not allow, `EXIST` for a fixed address already in use, `AGAIN` for a
//! lock over the working-set quota); the others are codes Windows has for
//! the same meaning, which xmmap's calls here do not produce.

use std::io;

use windows_sys::Win32::Foundation as f;

/// An error number, typed; a newtype over the Win32 error code.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Errno(i32);

impl Errno {
    pub(crate) const ACCESS: Errno = Errno(f::ERROR_ACCESS_DENIED as i32);
    /// `VirtualLock` over the process's minimum working set.
    pub(crate) const AGAIN: Errno = Errno(f::ERROR_WORKING_SET_QUOTA as i32);
    pub(crate) const BADF: Errno = Errno(f::ERROR_INVALID_HANDLE as i32);
    pub(crate) const BUSY: Errno = Errno(f::ERROR_BUSY as i32);
    /// `MapViewOfFileEx` at a base address that is already in use.
    pub(crate) const EXIST: Errno = Errno(f::ERROR_INVALID_ADDRESS as i32);
    pub(crate) const FAULT: Errno = Errno(f::ERROR_NOACCESS as i32);
    pub(crate) const INVAL: Errno = Errno(f::ERROR_INVALID_PARAMETER as i32);
    /// `CreateFileMappingW` on a file that cannot be mapped.
    pub(crate) const NODEV: Errno = Errno(f::ERROR_FILE_INVALID as i32);
    pub(crate) const NOMEM: Errno = Errno(f::ERROR_NOT_ENOUGH_MEMORY as i32);
    pub(crate) const NOSYS: Errno = Errno(f::ERROR_CALL_NOT_IMPLEMENTED as i32);
    pub(crate) const OPNOTSUPP: Errno = Errno(f::ERROR_NOT_SUPPORTED as i32);
    pub(crate) const PERM: Errno = Errno(f::ERROR_PRIVILEGE_NOT_HELD as i32);
    pub(crate) const SPIPE: Errno = Errno(f::ERROR_SEEK_ON_DEVICE as i32);

    /// The error code `e` holds, if a system call gave it.
    pub(crate) fn of(e: &io::Error) -> Option<Errno> {
        e.raw_os_error().map(Errno)
    }

    /// The Win32 error code.
    pub(crate) fn raw_os_error(self) -> i32 {
        self.0
    }
}

impl From<Errno> for io::Error {
    fn from(e: Errno) -> io::Error {
        io::Error::from_raw_os_error(e.raw_os_error())
    }
}
