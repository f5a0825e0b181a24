//! What a failed memory system call means: each errno turned into an
//! [`Error`] that names the operation and says what to check. The one place
//! that reads errnos of `mmap`, `mlock` and `madvise`.

use std::io;

use super::options::MapOptions;
use super::plan::Plan;
use crate::error::{Error, ErrorKind};
use crate::limit;
use crate::page::human;
use crate::sys::{self, prot, Errno, Madv};

/// Whether `e`, from `madvise(advice)`, says that a page the file no longer
/// backs could not be faulted in: `MADV_POPULATE_*` fails with `EFAULT`
/// where touching the page would raise `SIGBUS`.
pub(super) fn unbacked(e: &io::Error, advice: Madv) -> bool {
    advice.populates() && Errno::of(e) == Some(Errno::FAULT)
}

/// Turns a failed memory system call into an [`Error`] that names the
/// operation and says what to check. `what` describes the call and its
/// arguments; `path` names the file when there is one.
pub(super) fn os_error(err: io::Error, what: &str, path: Option<&str>) -> Error {
    let at = path.map_or_else(String::new, |p| format!(" of {p}"));
    match Errno::of(&err) {
        Some(Errno::NOMEM) => Error::with_source(ErrorKind::OutOfMemory, limit::ENOMEM_MESSAGE, err)
            .detail(format!("{what}{at}; {}", limit::enomem_hint())),
        Some(Errno::AGAIN) => Error::with_source(
            ErrorKind::OutOfMemory,
            format!("{what}{at}: the kernel could not lock or reserve the memory"),
            err,
        )
        .detail(limit::enomem_hint()),
        Some(Errno::EXIST) => Error::with_source(
            ErrorKind::AlreadyMapped,
            format!("{what}{at}: address range already mapped"),
            err,
        ),
        Some(Errno::ACCESS | Errno::PERM) => Error::with_source(
            ErrorKind::PermissionDenied,
            format!(
                "{what}{at}: permission denied (check the descriptor's access mode, the file's \
                 seals and whether the mount is noexec)"
            ),
            err,
        ),
        Some(Errno::NODEV) => Error::with_source(
            ErrorKind::NotMappable,
            format!("{what}{at}: this file system does not support memory mapping; read the file instead"),
            err,
        ),
        Some(Errno::OPNOTSUPP) => Error::with_source(
            ErrorKind::Unsupported,
            format!("{what}{at}: not supported here"),
            err,
        ),
        Some(Errno::INVAL) => Error::with_source(
            ErrorKind::InvalidInput,
            format!("{what}{at}: the kernel rejected the arguments"),
            err,
        ),
        _ => Error::with_source(ErrorKind::Io, format!("{what}{at}"), err),
    }
}

/// `mlock` and `MAP_LOCKED` failures: name `RLIMIT_MEMLOCK` and its value.
pub(super) fn lock_error(err: io::Error, requested: u64) -> Error {
    let limit = sys::getrlimit(sys::Resource::Memlock).current;
    let errno = Errno::of(&err);
    let over = limit.is_some_and(|l| requested > l) && !sys::has_cap_ipc_lock();
    if matches!(errno, Some(Errno::NOMEM | Errno::AGAIN | Errno::PERM))
        && (over || errno == Some(Errno::PERM))
    {
        let shown =
            limit.map_or_else(|| "unlimited".to_string(), |l| format!("{l} bytes ({})", human(l)));
        return Error::with_source(
            ErrorKind::LockLimit { requested, limit },
            format!(
                "cannot lock {requested} bytes ({}) into memory: RLIMIT_MEMLOCK is {shown}; raise \
                 it (ulimit -l, limits.conf) or grant CAP_IPC_LOCK",
                human(requested)
            ),
            err,
        );
    }
    if errno == Some(Errno::NOMEM) {
        // mlock's ENOMEM is not mmap's: git's "mmap failed" hint would mislead.
        return Error::with_source(
            ErrorKind::OutOfMemory,
            format!(
                "mlock of {requested} bytes: part of the range could not be locked (pages past \
                 the end of a file truncated under the map, or memory exhausted)"
            ),
            err,
        )
        .detail(limit::enomem_hint());
    }
    os_error(err, &format!("mlock of {requested} bytes"), None)
}

/// Interprets a failed `mmap` with what the options asked for.
pub(super) fn mmap_error(
    err: std::io::Error,
    o: &MapOptions,
    plan: &Plan,
    path: Option<&str>,
) -> Error {
    let errno = Errno::of(&err);
    let what = match path {
        Some(_) => format!("mmap of {} bytes at offset {}", plan.len, o.offset),
        None => format!("mmap of {} anonymous bytes", plan.len),
    };
    let name = path.unwrap_or("anonymous memory");
    if o.huge.is_some() && matches!(errno, Some(Errno::NOMEM | Errno::INVAL)) {
        let size = plan.granule as u64;
        let pool = format!("/sys/kernel/mm/hugepages/hugepages-{}kB/nr_hugepages", size / 1024);
        let (nr, free) = crate::page::huge_page_sizes()
            .iter()
            .find(|h| h.size == size)
            .map_or((0, 0), |h| (h.pages, h.free));
        return Error::with_source(
            ErrorKind::HugePagesUnavailable { size },
            format!(
                "{what} in {} huge pages: no huge pages available (pool {nr}, free {free}); \
                 reserve some in /proc/sys/vm/nr_hugepages (or {pool}){}",
                human(size),
                if path.is_some() { ", and map a file on hugetlbfs" } else { "" }
            ),
            err,
        );
    }
    if o.locked && matches!(errno, Some(Errno::AGAIN | Errno::NOMEM | Errno::PERM)) {
        return lock_error(err, plan.map_len as u64);
    }
    if errno == Some(Errno::OPNOTSUPP) && o.sync {
        return Error::with_source(
            ErrorKind::Unsupported,
            format!(
                "{what} of {name} with sync (MAP_SYNC): not supported here: the file must be on \
                 a DAX file system (persistent memory mounted with -o dax)"
            ),
            err,
        );
    }
    if errno == Some(Errno::OPNOTSUPP) && o.validate {
        return Error::with_source(
            ErrorKind::Unsupported,
            format!(
                "{what} of {name}: MAP_SHARED_VALIDATE rejected a flag this kernel or file \
                 system does not support (flags {:#x})",
                plan.flags
            ),
            err,
        );
    }
    if errno == Some(Errno::EXIST) {
        return Error::with_source(
            ErrorKind::AlreadyMapped,
            format!(
                "{what}: address range {:#x}..{:#x} already mapped (fixed_noreplace)",
                plan.addr,
                plan.addr + plan.map_len
            ),
            err,
        );
    }
    if errno == Some(Errno::BADF) && path.is_some() {
        // fstat and fcntl accepted the descriptor just before, so it is open
        // but allows no I/O: O_PATH.
        return Error::with_source(
            ErrorKind::PermissionDenied,
            format!(
                "{what} of {name}: the descriptor allows no reading (was it opened with O_PATH?); \
                 open the file for reading to map it"
            ),
            err,
        );
    }
    if matches!(errno, Some(Errno::PERM | Errno::ACCESS)) && plan.prot & prot::EXEC != 0 {
        return Error::with_source(
            ErrorKind::PermissionDenied,
            format!(
                "{what} of {name} executable: permission denied (is the file on a noexec mount?)"
            ),
            err,
        );
    }
    os_error(err, &what, path)
}
