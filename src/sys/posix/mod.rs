//! POSIX backend for macOS and FreeBSD (and Linux under `--cfg
//! xmmap_posix`): rustix where it has the call, libc where it does not.
//!
//! The flag bits it is given are Linux's (`sys::flags`, `sys::prot`) and
//! the advice is named (`sys::Madv`); each is translated by name to the
//! platform's, and one the platform lacks fails with `Unsupported` naming
//! it. On Linux it accepts only what macOS and FreeBSD both have, so that
//! the test suite sees what they see. See the `sys` module docs for the
//! list.

use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::path::PathBuf;

use rustix::mm::{self, MapFlags, MprotectFlags, ProtFlags};

use super::{flags, prot, FileInfo, FileKind, FsKind, Madv};

// The same newtype over rustix's errno as Linux's.
#[path = "../linux/errno.rs"]
mod errno;
pub(crate) use super::unix::*;
pub(crate) use errno::Errno;
mod guard;
pub(crate) use guard::*;
mod stubs;
pub(crate) use stubs::*;

/// The error for a flag, advice or call the platform does not have.
fn unsupported(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("{what} is not available on {}", os_name()))
}

/// The platform, for error messages.
fn os_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "macOS"
    } else if cfg!(target_os = "freebsd") {
        "FreeBSD"
    } else {
        "this platform (the POSIX backend offers what macOS and FreeBSD share)"
    }
}

/// Linux's `PROT_*` bits as the platform's.
fn prot_flags(bits: u32) -> io::Result<ProtFlags> {
    let mut out = ProtFlags::empty();
    for (bit, flag) in [
        (prot::READ, ProtFlags::READ),
        (prot::WRITE, ProtFlags::WRITE),
        (prot::EXEC, ProtFlags::EXEC),
    ] {
        if bits & bit != 0 {
            out |= flag;
        }
    }
    let rest = bits & !(prot::READ | prot::WRITE | prot::EXEC);
    if rest != 0 {
        return Err(unsupported(&format!("protection bits {rest:#x}")));
    }
    Ok(out)
}

/// How `mmap` is asked for a Linux flag word: the platform's flags, and
/// whether `MAP_FIXED_NOREPLACE` is to be emulated (map at the hint, then
/// fail with `EEXIST` unless the kernel used it).
#[derive(Debug, PartialEq, Eq)]
struct MapCall {
    flags: MapFlags,
    noreplace: bool,
}

/// Linux's `MAP_*` bits (without `MAP_ANONYMOUS`) as the platform's; a flag
/// the platform lacks is `Unsupported`, named.
fn map_call(bits: u32) -> io::Result<MapCall> {
    // The size bits mean a huge page size only with MAP_HUGETLB (bit 26 is
    // MAP_UNINITIALIZED otherwise).
    if bits & flags::HUGETLB != 0 {
        let shift = (bits >> flags::HUGE_SHIFT) & flags::HUGE_MASK;
        return Err(unsupported(&if shift == 0 {
            "MAP_HUGETLB".to_string()
        } else {
            format!("MAP_HUGETLB with MAP_HUGE_{}KB", (1u64 << shift) / 1024)
        }));
    }
    let mut out = match bits & flags::SHARED_VALIDATE {
        flags::SHARED => MapFlags::SHARED,
        flags::PRIVATE => MapFlags::PRIVATE,
        flags::SHARED_VALIDATE => return Err(unsupported("MAP_SHARED_VALIDATE")),
        _ => MapFlags::empty(), // neither: the kernel says EINVAL
    };
    let mut noreplace = false;
    let mut rest = bits & !(flags::SHARED_VALIDATE | flags::ANONYMOUS);
    if rest & flags::FIXED != 0 {
        out |= MapFlags::FIXED;
        rest &= !flags::FIXED;
    }
    if rest & flags::FIXED_NOREPLACE != 0 {
        noreplace = true;
        rest &= !flags::FIXED_NOREPLACE;
    }
    // Two flags whose Linux meaning holds here without a flag: macOS and
    // FreeBSD reserve no swap for a map (MAP_NORESERVE, which macOS defines
    // and ignores), and Linux's MAP_STACK is only a hint to keep huge pages
    // off the range (FreeBSD's MAP_STACK is a grow-down stack, not that).
    rest &= !(flags::NORESERVE | flags::STACK);
    for (bit, name) in [
        (flags::LOW_32BIT, "MAP_32BIT"),
        (flags::GROWSDOWN, "MAP_GROWSDOWN"),
        (flags::DENYWRITE, "MAP_DENYWRITE"),
        (flags::EXECUTABLE, "MAP_EXECUTABLE"),
        (flags::LOCKED, "MAP_LOCKED"),
        (flags::POPULATE, "MAP_POPULATE"),
        (flags::NONBLOCK, "MAP_NONBLOCK"),
        (flags::HUGETLB, "MAP_HUGETLB"),
        (flags::SYNC, "MAP_SYNC"),
        (flags::UNINITIALIZED, "MAP_UNINITIALIZED"),
    ] {
        if rest & bit != 0 {
            return Err(unsupported(name));
        }
    }
    if rest != 0 {
        return Err(unsupported(&format!("mmap flags {rest:#x}")));
    }
    Ok(MapCall { flags: out, noreplace })
}

/// `mmap(addr, len, prot, flags, fd, offset)`; `fd == None` adds `MAP_ANON`.
/// `MAP_FIXED_NOREPLACE` is a hint that must be taken: a map the kernel
/// placed elsewhere is unmapped again and the call fails with `EEXIST`.
///
/// # References
/// - [mmap(2) (FreeBSD)](https://man.freebsd.org/cgi/man.cgi?query=mmap&sektion=2),
///   [mmap(2) (macOS)](https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man2/mmap.2.html)
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
    let prot = prot_flags(prot)?;
    let call = map_call(flags)?;
    let ptr = match fd {
        // SAFETY: the caller owns the address range when MAP_FIXED is set;
        // otherwise the kernel picks a free range and `addr` is a hint.
        Some(fd) => unsafe { mm::mmap(addr as *mut c_void, len, prot, call.flags, fd, offset)? },
        // SAFETY: as above.
        None => unsafe { mm::mmap_anonymous(addr as *mut c_void, len, prot, call.flags)? },
    };
    if call.noreplace && ptr as usize != addr {
        // SAFETY: the kernel just mapped `ptr..ptr+len` for us; nothing
        // refers to it.
        let _ = unsafe { mm::munmap(ptr, len) };
        return Err(Errno::EXIST.into());
    }
    Ok(ptr.cast())
}

/// `mprotect(ptr, len, prot)`.
///
/// # References
/// - [mprotect(2)](https://man.freebsd.org/cgi/man.cgi?query=mprotect&sektion=2)
///
/// # Safety
/// - `ptr..ptr+len` must be owned by the caller, and no reference into it may
///   rely on access that the new protection removes.
pub(crate) unsafe fn mprotect(ptr: *mut u8, len: usize, prot: u32) -> io::Result<()> {
    let prot = MprotectFlags::from_bits_retain(prot_flags(prot)?.bits());
    // SAFETY: the caller owns the range.
    unsafe { mm::mprotect(ptr.cast(), len, prot)? };
    Ok(())
}

/// `madvise(ptr, len, advice)`.
///
/// `MADV_DONTNEED` is the POSIX hint here: the pages may be dropped, but
/// their contents are kept (Linux zeroes private pages instead).
///
/// # References
/// - [madvise(2)](https://man.freebsd.org/cgi/man.cgi?query=madvise&sektion=2)
///
/// # Safety
/// - `ptr..ptr+len` must be owned by the caller; advice that changes contents
///   (`MADV_FREE`) must not be given while references rely on the old
///   contents.
pub(crate) unsafe fn madvise(ptr: *mut u8, len: usize, advice: Madv) -> io::Result<()> {
    use rustix::mm::Advice as A;
    let advice = match advice {
        Madv::Normal => A::Normal,
        Madv::Random => A::Random,
        Madv::Sequential => A::Sequential,
        Madv::WillNeed => A::WillNeed,
        Madv::DontNeed => A::DontNeed,
        #[cfg(any(target_os = "macos", target_os = "freebsd"))]
        // SAFETY: passed on to the caller, who accepts what the advice does
        // to the range.
        Madv::Free => return unsafe { raw_madvise(ptr, len, libc::MADV_FREE) },
        #[cfg(target_os = "freebsd")]
        // SAFETY: as above.
        Madv::DontDump => return unsafe { raw_madvise(ptr, len, libc::MADV_NOCORE) },
        #[cfg(target_os = "freebsd")]
        // SAFETY: as above.
        Madv::DoDump => return unsafe { raw_madvise(ptr, len, libc::MADV_CORE) },
        other => return Err(unsupported(other.name())),
    };
    // SAFETY: the caller owns the range; the five POSIX advices change no
    // contents.
    unsafe { mm::madvise(ptr.cast(), len, advice)? };
    Ok(())
}

/// `madvise(ptr, len, advice)` with the platform's number, for advice
/// rustix names only on Linux.
///
/// # Safety
/// - As [`madvise`].
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
unsafe fn raw_madvise(ptr: *mut u8, len: usize, advice: i32) -> io::Result<()> {
    // SAFETY: the caller owns the range and accepts the advice's effect.
    let rc = unsafe { libc::madvise(ptr.cast(), len, advice) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// No `mremap` on macOS or FreeBSD: always `Unsupported`. Mapping anew and
/// copying would move the map and hold twice its memory without the caller
/// asking; callers that want that map a new range themselves.
///
/// # Safety
/// - None beyond the Linux backend's contract; nothing is touched.
pub(crate) unsafe fn mremap(
    _ptr: *mut u8,
    _old_len: usize,
    _new_len: usize,
    _may_move: bool,
) -> io::Result<*mut u8> {
    Err(unsupported("mremap"))
}

/// `mincore(ptr, len, vec)`: one byte per page; `MINCORE_INCORE` (bit 0,
/// as Linux's) is set when resident, and macOS and FreeBSD set further bits
/// (referenced, modified) that callers must mask off.
///
/// # References
/// - [mincore(2)](https://man.freebsd.org/cgi/man.cgi?query=mincore&sektion=2)
///
/// # Safety
/// - `ptr` must be page aligned; `vec` must hold one byte per page of `len`.
pub(crate) unsafe fn mincore(ptr: *mut u8, len: usize, vec: &mut [u8]) -> io::Result<()> {
    // SAFETY: the caller sized `vec` for the range; mincore only writes `vec`.
    let rc = unsafe { libc::mincore(ptr.cast(), len, vec.as_mut_ptr().cast()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    #[cfg(any(target_os = "macos", target_os = "freebsd"))]
    const INCORE: u8 = libc::MINCORE_INCORE as u8;
    #[cfg(not(any(target_os = "macos", target_os = "freebsd")))]
    const INCORE: u8 = 1;
    for b in vec.iter_mut() {
        *b &= INCORE;
    }
    Ok(())
}

/// `fstat(fd)`, reduced to type, size and identity.
///
/// # References
/// - [fstat(2)](https://man.freebsd.org/cgi/man.cgi?query=fstat&sektion=2)
#[allow(clippy::unnecessary_cast)] // st_dev and st_ino widths differ per OS
pub(crate) fn fstat(file: &File) -> io::Result<FileInfo> {
    let st = rustix::fs::fstat(file)?;
    let kind = match rustix::fs::FileType::from_raw_mode(st.st_mode as _) {
        rustix::fs::FileType::RegularFile => FileKind::Regular,
        rustix::fs::FileType::Directory => FileKind::Directory,
        rustix::fs::FileType::Fifo => FileKind::Fifo,
        rustix::fs::FileType::Socket => FileKind::Socket,
        rustix::fs::FileType::CharacterDevice => FileKind::CharDevice,
        rustix::fs::FileType::BlockDevice => FileKind::BlockDevice,
        rustix::fs::FileType::Symlink => FileKind::Symlink,
        _ => FileKind::Unknown,
    };
    Ok(FileInfo { kind, size: st.st_size as u64, dev: st.st_dev as u64, ino: st.st_ino as u64 })
}

/// `fstatfs(fd)`, reduced to the file systems mapping treats specially:
/// by magic number on Linux, by `f_fstypename` on macOS and FreeBSD
/// (`procfs`, `linprocfs`, `linsysfs`, `tmpfs`; neither has hugetlbfs).
///
/// # References
/// - [fstatfs(2)](https://man.freebsd.org/cgi/man.cgi?query=fstatfs&sektion=2)
pub(crate) fn fs_kind(file: &File) -> io::Result<FsKind> {
    let st = rustix::fs::fstatfs(file)?;
    #[cfg(target_os = "linux")]
    {
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
    #[cfg(not(target_os = "linux"))]
    {
        let name: Vec<u8> =
            st.f_fstypename.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        Ok(match &name[..] {
            b"procfs" | b"linprocfs" => FsKind::Proc,
            b"linsysfs" => FsKind::Sys,
            b"tmpfs" => FsKind::Tmpfs,
            _ => FsKind::Other,
        })
    }
}

/// The path a descriptor refers to, for error messages: `fcntl(fd,
/// F_GETPATH)` on macOS, `fcntl(fd, F_KINFO)` on FreeBSD (13.1 and later),
/// `readlink("/proc/self/fd/N")` on Linux. `None` when the system cannot
/// say.
///
/// # References
/// - [fcntl(2) (FreeBSD)](https://man.freebsd.org/cgi/man.cgi?query=fcntl&sektion=2)
pub(crate) fn fd_path(file: &File) -> Option<PathBuf> {
    #[cfg(target_os = "macos")]
    {
        use std::os::unix::ffi::OsStringExt;
        let path = rustix::fs::getpath(file).ok()?;
        Some(PathBuf::from(std::ffi::OsString::from_vec(path.into_bytes())))
    }
    #[cfg(target_os = "freebsd")]
    {
        use std::os::fd::AsRawFd;
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: all-zero is a valid kinfo_file.
        let mut kif: libc::kinfo_file = unsafe { std::mem::zeroed() };
        kif.kf_structsize = libc::KINFO_FILE_SIZE;
        // SAFETY: F_KINFO writes at most kf_structsize bytes into `kif`.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_KINFO, &mut kif) };
        if rc != 0 {
            return None;
        }
        // SAFETY: the kernel NUL-terminates kf_path within its length.
        let path = unsafe { std::ffi::CStr::from_ptr(kif.kf_path.as_ptr()) };
        let path = std::ffi::OsStr::from_bytes(path.to_bytes());
        (!path.is_empty()).then(|| PathBuf::from(path))
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
    }
}

/// Whether the process may lock past `RLIMIT_MEMLOCK`: there is no
/// capability to ask for, so this says no and lock errors name the limit.
pub(crate) fn has_cap_ipc_lock() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_flags_translate_the_common_set_and_name_the_rest() {
        let c = map_call(flags::SHARED | flags::FIXED).unwrap();
        assert_eq!(c, MapCall { flags: MapFlags::SHARED | MapFlags::FIXED, noreplace: false });
        let c = map_call(flags::PRIVATE | flags::ANONYMOUS | flags::FIXED_NOREPLACE).unwrap();
        assert_eq!(c, MapCall { flags: MapFlags::PRIVATE, noreplace: true });
        let c = map_call(flags::PRIVATE | flags::NORESERVE | flags::STACK).unwrap();
        assert_eq!(c, MapCall { flags: MapFlags::PRIVATE, noreplace: false });
        for (bit, name) in [
            (flags::POPULATE, "MAP_POPULATE"),
            (flags::HUGETLB, "MAP_HUGETLB"),
            (flags::SYNC, "MAP_SYNC"),
            (flags::LOCKED, "MAP_LOCKED"),
            (flags::GROWSDOWN, "MAP_GROWSDOWN"),
        ] {
            let e = map_call(flags::PRIVATE | bit).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::Unsupported);
            assert!(e.to_string().contains(name), "{e}");
        }
        let e = map_call(flags::SHARED_VALIDATE).unwrap_err();
        assert!(e.to_string().contains("MAP_SHARED_VALIDATE"), "{e}");
        let e = map_call(flags::PRIVATE | flags::HUGETLB | (21 << flags::HUGE_SHIFT)).unwrap_err();
        assert!(e.to_string().contains("MAP_HUGE_2048KB"), "{e}");
        let e = map_call(flags::PRIVATE | flags::UNINITIALIZED).unwrap_err();
        assert!(e.to_string().contains("MAP_UNINITIALIZED"), "{e}");
    }

    #[test]
    fn mincore_leaves_only_the_resident_bit() {
        let page = page_size();
        // SAFETY: a fresh private anonymous map of ours.
        let p = unsafe { mmap(0, 2 * page, prot::READ | prot::WRITE, flags::PRIVATE, None, 0) }
            .unwrap();
        // SAFETY: the first page is ours and writable.
        unsafe { p.write_volatile(1) };
        let mut vec = [0xffu8; 2];
        // SAFETY: page aligned, one byte per page.
        unsafe { mincore(p, 2 * page, &mut vec) }.unwrap();
        assert_eq!(vec[0], 1, "a written page is resident, and only bit 0 is kept");
        assert!(vec[1] <= 1, "{vec:?}");
        // SAFETY: ours, unused.
        unsafe { munmap(p, 2 * page) }.unwrap();
        let e = prot_flags(prot::READ | 0x10).unwrap_err();
        assert!(e.to_string().contains("protection bits 0x10"), "{e}");
    }

    #[test]
    fn advice_outside_posix_is_unsupported_by_name() {
        let page = page_size();
        // SAFETY: a fresh private anonymous page of ours.
        let p = unsafe { mmap(0, page, prot::READ, flags::PRIVATE, None, 0) }.unwrap();
        // SAFETY: as above; advice changes nothing here.
        let e = unsafe { madvise(p, page, Madv::PopulateRead) }.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Unsupported);
        assert!(e.to_string().contains("MADV_POPULATE_READ"), "{e}");
        // SAFETY: as above.
        unsafe { madvise(p, page, Madv::WillNeed) }.unwrap();
        // SAFETY: ours, unused.
        unsafe { munmap(p, page) }.unwrap();
    }
}
