//! [`Errno`] on Linux (and in the POSIX backend, which includes this file):
//! rustix's, under the names the layers above use (see `sys::Errno` for the
//! set every backend provides).

use std::io;

/// An errno, typed; a newtype over [`rustix::io::Errno`].
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Errno(rustix::io::Errno);

impl Errno {
    pub(crate) const ACCESS: Errno = Errno(rustix::io::Errno::ACCESS);
    pub(crate) const AGAIN: Errno = Errno(rustix::io::Errno::AGAIN);
    pub(crate) const BADF: Errno = Errno(rustix::io::Errno::BADF);
    pub(crate) const BUSY: Errno = Errno(rustix::io::Errno::BUSY);
    pub(crate) const EXIST: Errno = Errno(rustix::io::Errno::EXIST);
    pub(crate) const FAULT: Errno = Errno(rustix::io::Errno::FAULT);
    pub(crate) const INVAL: Errno = Errno(rustix::io::Errno::INVAL);
    pub(crate) const NODEV: Errno = Errno(rustix::io::Errno::NODEV);
    pub(crate) const NOMEM: Errno = Errno(rustix::io::Errno::NOMEM);
    pub(crate) const NOSYS: Errno = Errno(rustix::io::Errno::NOSYS);
    pub(crate) const OPNOTSUPP: Errno = Errno(rustix::io::Errno::OPNOTSUPP);
    pub(crate) const PERM: Errno = Errno(rustix::io::Errno::PERM);
    pub(crate) const SPIPE: Errno = Errno(rustix::io::Errno::SPIPE);

    /// The errno `e` holds, if a system call gave it.
    pub(crate) fn of(e: &io::Error) -> Option<Errno> {
        rustix::io::Errno::from_io_error(e).map(Errno)
    }

    /// The kernel's number.
    pub(crate) fn raw_os_error(self) -> i32 {
        self.0.raw_os_error()
    }
}

impl From<Errno> for io::Error {
    fn from(e: Errno) -> io::Error {
        io::Error::from_raw_os_error(e.raw_os_error())
    }
}
