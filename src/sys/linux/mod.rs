//! Linux backend: rustix where it has the call, libc where it does not.

use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use rustix::mm::{self, MapFlags, MprotectFlags, MremapFlags, ProtFlags};

use super::{FileInfo, FileKind, FsKind, Madv};

mod cpu;
pub(crate) use cpu::*;
mod errno;
pub(crate) use super::unix::*;
pub(crate) use errno::Errno;
mod guard;
mod proc;
pub(crate) use guard::*;
mod cache;
pub(crate) use cache::*;
pub(crate) use proc::*;
mod seals;
#[cfg_attr(not(feature = "memmap2-compat"), allow(unused_imports))] // used by compat only
pub(crate) use seals::*;

/// `mmap(addr, len, prot, flags, fd, offset)`; `fd == None` adds `MAP_ANONYMOUS`.
///
/// # References
/// - [mmap(2)](https://man7.org/linux/man-pages/man2/mmap.2.html)
///
/// # Safety
/// - With `MAP_FIXED` in `flags`, whatever is mapped at `addr..addr+len` is
///   replaced: the caller must own that range.
pub(crate) unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: u32,
    flags: u32,
    fd: Option<&File>,
    offset: u64,
) -> io::Result<*mut u8> {
    let prot = ProtFlags::from_bits_retain(prot);
    let ptr = match fd {
        Some(fd) => {
            let flags = MapFlags::from_bits_retain(flags);
            // SAFETY: the caller owns the address range when MAP_FIXED is set;
            // otherwise the kernel picks a free range and `addr` is a hint.
            unsafe { mm::mmap(addr as *mut c_void, len, prot, flags, fd, offset)? }
        }
        None => {
            let flags = MapFlags::from_bits_retain(flags & !super::flags::ANONYMOUS);
            // SAFETY: as above.
            unsafe { mm::mmap_anonymous(addr as *mut c_void, len, prot, flags)? }
        }
    };
    Ok(ptr.cast())
}

/// `mprotect(ptr, len, prot)`.
///
/// # References
/// - [mprotect(2)](https://man7.org/linux/man-pages/man2/mprotect.2.html)
///
/// # Safety
/// - `ptr..ptr+len` must be owned by the caller, and no reference into it may
///   rely on access that the new protection removes.
pub(crate) unsafe fn mprotect(ptr: *mut u8, len: usize, prot: u32) -> io::Result<()> {
    // SAFETY: the caller owns the range.
    unsafe { mm::mprotect(ptr.cast(), len, MprotectFlags::from_bits_retain(prot))? };
    Ok(())
}

/// `madvise(ptr, len, advice)`.
///
/// # References
/// - [madvise(2)](https://man7.org/linux/man-pages/man2/madvise.2.html)
///
/// # Safety
/// - `ptr..ptr+len` must be owned by the caller; advice that changes contents
///   (DONTNEED, FREE, REMOVE, ...) must not be given while references rely on
///   the old contents.
pub(crate) unsafe fn madvise(ptr: *mut u8, len: usize, advice: Madv) -> io::Result<()> {
    use rustix::mm::Advice as A;
    let advice = match advice {
        Madv::Normal => A::Normal,
        Madv::Random => A::Random,
        Madv::Sequential => A::Sequential,
        Madv::WillNeed => A::WillNeed,
        Madv::DontNeed => A::LinuxDontNeed,
        Madv::Free => A::LinuxFree,
        Madv::Remove => A::LinuxRemove,
        Madv::DontFork => A::LinuxDontFork,
        Madv::DoFork => A::LinuxDoFork,
        Madv::HwPoison => A::LinuxHwPoison,
        Madv::Mergeable => A::LinuxMergeable,
        Madv::Unmergeable => A::LinuxUnmergeable,
        Madv::HugePage => A::LinuxHugepage,
        Madv::NoHugePage => A::LinuxNoHugepage,
        Madv::DontDump => A::LinuxDontDump,
        Madv::DoDump => A::LinuxDoDump,
        Madv::WipeOnFork => A::LinuxWipeOnFork,
        Madv::KeepOnFork => A::LinuxKeepOnFork,
        Madv::Cold => A::LinuxCold,
        Madv::PageOut => A::LinuxPageOut,
        Madv::PopulateRead => A::LinuxPopulateRead,
        Madv::PopulateWrite => A::LinuxPopulateWrite,
        Madv::Collapse => {
            // rustix has no MADV_COLLAPSE (Linux 6.1), nor has libc on every
            // C library; the number is the kernel's, on every architecture.
            const MADV_COLLAPSE: libc::c_int = 25;
            // SAFETY: the caller owns the range; collapsing keeps contents.
            let rc = unsafe { libc::madvise(ptr.cast(), len, MADV_COLLAPSE) };
            return if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) };
        }
    };
    // SAFETY: the caller owns the range and accepts the advice's effect.
    unsafe { mm::madvise(ptr.cast(), len, advice)? };
    Ok(())
}

/// `mremap(ptr, old_len, new_len, may_move ? MREMAP_MAYMOVE : 0)`.
///
/// # References
/// - [mremap(2)](https://man7.org/linux/man-pages/man2/mremap.2.html)
///
/// # Safety
/// - `ptr..ptr+old_len` must be a mapping the caller owns, with no references
///   into it that outlive the call (the mapping may move or shrink).
pub(crate) unsafe fn mremap(
    ptr: *mut u8,
    old_len: usize,
    new_len: usize,
    may_move: bool,
) -> io::Result<*mut u8> {
    let flags = if may_move { MremapFlags::MAYMOVE } else { MremapFlags::empty() };
    // SAFETY: the caller owns the mapping and holds no references into it.
    let p = unsafe { mm::mremap(ptr.cast(), old_len, new_len, flags)? };
    Ok(p.cast())
}

/// `mincore(ptr, len, vec)`: one byte per page, bit 0 set when resident.
///
/// # References
/// - [mincore(2)](https://man7.org/linux/man-pages/man2/mincore.2.html)
///
/// # Safety
/// - `ptr` must be page aligned; `vec` must hold one byte per page of `len`.
#[allow(dead_code)] // for residency
pub(crate) unsafe fn mincore(ptr: *mut u8, len: usize, vec: &mut [u8]) -> io::Result<()> {
    // SAFETY: the caller sized `vec` for the range; mincore only writes `vec`.
    let rc = unsafe { libc::mincore(ptr.cast(), len, vec.as_mut_ptr().cast()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `fstat(fd)`, reduced to type, size and identity.
///
/// # References
/// - [fstat(2)](https://man7.org/linux/man-pages/man2/fstat.2.html)
pub(crate) fn fstat(file: &File) -> io::Result<FileInfo> {
    let st = rustix::fs::fstat(file)?;
    let kind = match rustix::fs::FileType::from_raw_mode(st.st_mode) {
        rustix::fs::FileType::RegularFile => FileKind::Regular,
        rustix::fs::FileType::Directory => FileKind::Directory,
        rustix::fs::FileType::Fifo => FileKind::Fifo,
        rustix::fs::FileType::Socket => FileKind::Socket,
        rustix::fs::FileType::CharacterDevice => FileKind::CharDevice,
        rustix::fs::FileType::BlockDevice => FileKind::BlockDevice,
        rustix::fs::FileType::Symlink => FileKind::Symlink,
        _ => FileKind::Unknown,
    };
    Ok(FileInfo { kind, size: st.st_size as u64, dev: st.st_dev, ino: st.st_ino })
}

/// `fstatfs(fd)`, reduced to the file systems mapping treats specially.
///
/// # References
/// - [fstatfs(2)](https://man7.org/linux/man-pages/man2/fstatfs.2.html)
pub(crate) fn fs_kind(file: &File) -> io::Result<FsKind> {
    let st = rustix::fs::fstatfs(file)?;
    #[allow(clippy::unnecessary_cast)]
    let magic = st.f_type as i64;
    Ok(match magic {
        0x9fa0 => FsKind::Proc,
        0x6265_6572 => FsKind::Sys,
        0x0102_1994 => FsKind::Tmpfs,
        0x9584_58f6 => FsKind::Hugetlbfs,
        _ => FsKind::Other,
    })
}

/// `readlink("/proc/self/fd/N")`: the path a descriptor was opened with, for
/// error messages.
pub(crate) fn fd_path(file: &File) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
}

/// Whether the process has an effective capability that lifts
/// `RLIMIT_MEMLOCK` (`CAP_IPC_LOCK`). Capabilities are per thread, so this
/// reads `/proc/thread-self/status`.
pub(crate) fn has_cap_ipc_lock() -> bool {
    const CAP_IPC_LOCK: u32 = 14;
    std::fs::read_to_string("/proc/thread-self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("CapEff:")).map(str::to_string))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_IPC_LOCK) != 0)
}
