//! Windows backend, through windows-sys: a map is a section
//! (`CreateFileMappingW`, over the file or, for anonymous maps, the paging
//! file) and one view of it (`MapViewOfFileEx`); the section handle is
//! closed at once, as the view keeps the section alive.
//!
//! The functions keep the POSIX shapes the layers above call (`mmap`,
//! `munmap`, `msync`, ...) and take the internal Linux-valued `prot` and
//! `MAP_*` bits, which this module translates:
//!
//! - `MAP_SHARED` is a `FILE_MAP_READ`/`FILE_MAP_WRITE` view, `MAP_PRIVATE`
//!   a copy-on-write `FILE_MAP_COPY` view of a `PAGE_WRITECOPY` section;
//! - `MAP_FIXED_NOREPLACE` (and a hint) is `MapViewOfFileEx`'s base address,
//!   which fails rather than replaces; `MAP_POPULATE` is
//!   `PrefetchVirtualMemory`, `MAP_LOCKED` `VirtualLock`;
//! - `MAP_FIXED` (replacing a mapping), huge pages, `MAP_NORESERVE`,
//!   `MAP_SYNC`, `MAP_GROWSDOWN`, `MAP_STACK`, `MAP_32BIT` and the other
//!   extras fail with `Unsupported` naming the flag, as do `mremap`,
//!   `madvise` other than `MADV_WILLNEED`, and `mincore` (Windows reports a
//!   process's working set, not the file cache);
//! - file offsets are multiples of the allocation granularity (64 KiB), not
//!   of the page (`offset_granularity`);
//! - a view cannot reach past the end of its file: such a map fails with
//!   `InvalidInput` instead of raising `SIGBUS` on access as on Linux.
//!
//! This backend is compiled and linted in CI; nothing runs it there.

use std::collections::HashMap;
use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::os::windows::ffi::OsStringExt;
use std::os::windows::fs::FileExt;
use std::os::windows::io::AsRawHandle;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::Storage::FileSystem as fs;
use windows_sys::Win32::System::Memory as mem;
use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};
use windows_sys::Win32::System::Threading::GetCurrentProcess;

use super::{flags, prot, FileInfo, FileKind, FsKind, Madv, Resource, Rlimit};

mod errno;
pub(crate) use errno::Errno;
mod guard;
pub(crate) use guard::*;

fn unsupported<T>(what: &str) -> io::Result<T> {
    Err(io::Error::new(io::ErrorKind::Unsupported, format!("{what} is not available on Windows")))
}

/// `Err(GetLastError())` unless the call succeeded.
fn check(ok: i32) -> io::Result<()> {
    if ok != 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `(dwPageSize, dwAllocationGranularity)`, asked once.
fn system_info() -> (usize, usize) {
    static INFO: OnceLock<(usize, usize)> = OnceLock::new();
    *INFO.get_or_init(|| {
        // SAFETY: all-zero is a valid SYSTEM_INFO for GetSystemInfo to fill.
        let mut info: SYSTEM_INFO = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a live SYSTEM_INFO; the call cannot fail.
        unsafe { GetSystemInfo(&mut info) };
        (info.dwPageSize as usize, info.dwAllocationGranularity as usize)
    })
}

/// `GetSystemInfo().dwPageSize`.
///
/// # References
/// - [GetSystemInfo](https://learn.microsoft.com/en-us/windows/win32/api/sysinfoapi/nf-sysinfoapi-getsysteminfo)
pub(crate) fn page_size() -> usize {
    system_info().0
}

/// `GetSystemInfo().dwAllocationGranularity`: what view offsets and base
/// addresses must be multiples of (64 KiB).
///
/// # References
/// - [MapViewOfFileEx](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-mapviewoffileex)
pub(crate) fn offset_granularity() -> usize {
    system_info().1
}

/// The `MAP_*` bits this backend refuses, with their names.
const REFUSED: [(u32, &str); 11] = [
    (flags::FIXED, "MAP_FIXED (replacing a mapping)"),
    (flags::HUGETLB, "MAP_HUGETLB"),
    (flags::NORESERVE, "MAP_NORESERVE"),
    (flags::SYNC, "MAP_SYNC"),
    (flags::GROWSDOWN, "MAP_GROWSDOWN"),
    (flags::STACK, "MAP_STACK"),
    (flags::LOW_32BIT, "MAP_32BIT"),
    (flags::NONBLOCK, "MAP_NONBLOCK"),
    (flags::DENYWRITE, "MAP_DENYWRITE"),
    (flags::EXECUTABLE, "MAP_EXECUTABLE"),
    (flags::HUGE_MASK << flags::HUGE_SHIFT, "MAP_HUGE_*"),
];

/// The bits this backend understands; `MAP_UNINITIALIZED` is among them
/// because a section's pages are zeroed, which it allows.
const KNOWN: u32 = flags::SHARED_VALIDATE
    | flags::ANONYMOUS
    | flags::FIXED_NOREPLACE
    | flags::POPULATE
    | flags::LOCKED
    | flags::UNINITIALIZED;

/// What `CreateFileMappingW` and `MapViewOfFileEx` are asked for, and the
/// protection the view is changed to afterwards, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ViewArgs {
    section: u32,
    access: u32,
    protect_after: Option<u32>,
}

/// Translates Linux `prot` and `MAP_*` bits into section and view arguments.
///
/// An anonymous map is a paging-file section that no other process can
/// open, so a private one is mapped as a shared one: no copy-on-write is
/// needed where nothing else sees the pages.
fn view_args(prot: u32, flags: u32) -> io::Result<ViewArgs> {
    if let Some((_, name)) = REFUSED.iter().find(|&&(bit, _)| flags & bit != 0) {
        return unsupported(name);
    }
    if flags & !(KNOWN | REFUSED.iter().fold(0, |a, &(b, _)| a | b)) != 0 {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("mmap flags {flags:#x} hold bits Windows has no equivalent for"),
        ));
    }
    let private = flags & flags::SHARED_VALIDATE == flags::PRIVATE && flags & flags::ANONYMOUS == 0;
    let exec = prot & prot::EXEC != 0;
    let write = prot & prot::WRITE != 0;
    let exec_access = if exec { mem::FILE_MAP_EXECUTE } else { 0 };
    let (section, access, natural) = if private {
        // Copy-on-write from the start, so that a later mprotect may add
        // write access to a private map, as on Linux.
        let p = if exec { mem::PAGE_EXECUTE_WRITECOPY } else { mem::PAGE_WRITECOPY };
        (p, mem::FILE_MAP_COPY | exec_access, p)
    } else if write {
        let p = if exec { mem::PAGE_EXECUTE_READWRITE } else { mem::PAGE_READWRITE };
        (p, mem::FILE_MAP_WRITE | exec_access, p)
    } else {
        let p = if exec { mem::PAGE_EXECUTE_READ } else { mem::PAGE_READONLY };
        (p, mem::FILE_MAP_READ | exec_access, p)
    };
    let wanted = page_protection(prot, private);
    Ok(ViewArgs { section, access, protect_after: (wanted != natural).then_some(wanted) })
}

/// The `PAGE_*` constant for Linux `prot` bits; `cow` for a copy-on-write
/// view, whose writable pages are `PAGE_WRITECOPY`.
fn page_protection(prot: u32, cow: bool) -> u32 {
    let (r, w, x) = (prot & prot::READ != 0, prot & prot::WRITE != 0, prot & prot::EXEC != 0);
    match (r || w, w, x, cow) {
        (false, _, false, _) => mem::PAGE_NOACCESS,
        (false, _, true, _) => mem::PAGE_EXECUTE,
        (true, false, false, _) => mem::PAGE_READONLY,
        (true, false, true, _) => mem::PAGE_EXECUTE_READ,
        (true, true, false, false) => mem::PAGE_READWRITE,
        (true, true, true, false) => mem::PAGE_EXECUTE_READWRITE,
        (true, true, false, true) => mem::PAGE_WRITECOPY,
        (true, true, true, true) => mem::PAGE_EXECUTE_WRITECOPY,
    }
}

/// The open file behind each writable shared view, by base address, so
/// that a synchronous `msync` can reach `FlushFileBuffers`.
fn view_files() -> &'static Mutex<HashMap<usize, File>> {
    static FILES: OnceLock<Mutex<HashMap<usize, File>>> = OnceLock::new();
    FILES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// `mmap(addr, len, prot, flags, fd, offset)` as `CreateFileMappingW` +
/// `MapViewOfFileEx`; `fd == None` maps a section of the paging file.
///
/// # References
/// - [CreateFileMappingW](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-createfilemappingw),
///   [MapViewOfFileEx](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-mapviewoffileex)
///
/// # Safety
/// - None beyond the call's: `MAP_FIXED`, the one way to replace memory the
///   caller owns, is refused.
pub(crate) unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: u32,
    flags: u32,
    fd: Option<&File>,
    offset: u64,
) -> io::Result<*mut u8> {
    let args = view_args(prot, flags)?;
    let (handle, size) = match fd {
        Some(file) => {
            let size = fstat(file)?.size;
            if offset.checked_add(len as u64).is_none_or(|end| end > size) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "offset {offset} + length {len} reaches past the end of the file \
                         ({size} bytes): a Windows view cannot"
                    ),
                ));
            }
            // A size of 0 is the file's size: the section never grows it.
            (file.as_raw_handle() as HANDLE, 0u64)
        }
        None => (INVALID_HANDLE_VALUE, len as u64),
    };
    // SAFETY: `handle` is an open file (or the paging file); no security
    // attributes and no name.
    let section = unsafe {
        mem::CreateFileMappingW(
            handle,
            std::ptr::null(),
            args.section,
            (size >> 32) as u32,
            size as u32,
            std::ptr::null(),
        )
    };
    if section.is_null() {
        return Err(io::Error::last_os_error());
    }
    let at = |base: usize| {
        // SAFETY: `section` is the live section just created; a base
        // address is taken only where it is free (the call fails rather
        // than replaces).
        unsafe {
            mem::MapViewOfFileEx(
                section,
                args.access,
                (offset >> 32) as u32,
                offset as u32,
                len,
                base as *const c_void,
            )
        }
        .Value
    };
    let mut view = at(addr);
    if view.is_null() && addr != 0 && flags & flags::FIXED_NOREPLACE == 0 {
        // A hint the system cannot honour: anywhere, as mmap would.
        view = at(0);
    }
    let err = view.is_null().then(io::Error::last_os_error);
    // SAFETY: the view, if any, holds its own reference to the section.
    unsafe { CloseHandle(section) };
    if let Some(err) = err {
        return Err(err);
    }
    let ptr = view.cast::<u8>();
    let finish = || -> io::Result<()> {
        if let Some(p) = args.protect_after {
            let mut old = 0;
            // SAFETY: the whole view was just mapped by us.
            check(unsafe { mem::VirtualProtect(view, len, p, &mut old) })?;
        }
        if flags & flags::LOCKED != 0 {
            // SAFETY: as above.
            unsafe { mlock(ptr, len) }?;
        }
        if flags & flags::POPULATE != 0 {
            // SAFETY: as above; prefetching changes no contents.
            unsafe { madvise(ptr, len, Madv::WillNeed) }?;
        }
        if let (Some(file), true) = (fd, args.access & mem::FILE_MAP_WRITE != 0) {
            let clone = file.try_clone()?;
            view_files().lock().unwrap_or_else(|p| p.into_inner()).insert(ptr as usize, clone);
        }
        Ok(())
    };
    if let Err(e) = finish() {
        // SAFETY: the view is ours and nothing refers to it yet.
        let _ = unsafe { munmap(ptr, len) };
        return Err(e);
    }
    Ok(ptr)
}

/// The size of the view whose base is `ptr`, or `None` if `ptr` is not the
/// base of a mapped view (`VirtualQuery` over its regions).
fn view_len(ptr: *mut u8) -> Option<usize> {
    let mut total = 0usize;
    loop {
        // SAFETY: all-zero is a valid MEMORY_BASIC_INFORMATION.
        let mut info: mem::MEMORY_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
        let at = ptr.wrapping_add(total).cast::<c_void>();
        // SAFETY: VirtualQuery only reads the address space's bookkeeping.
        let got = unsafe { mem::VirtualQuery(at, &mut info, size_of_val(&info)) };
        if got == 0 || info.AllocationBase != ptr.cast() || info.Type != mem::MEM_MAPPED {
            break;
        }
        total += info.RegionSize;
    }
    (total > 0).then_some(total)
}

/// `munmap(ptr, len)` as `UnmapViewOfFile(ptr)`: only a whole view.
///
/// # References
/// - [UnmapViewOfFile](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-unmapviewoffile)
///
/// # Safety
/// - `ptr..ptr+len` must be a view the caller mapped and no longer uses.
pub(crate) unsafe fn munmap(ptr: *mut u8, len: usize) -> io::Result<()> {
    // UnmapViewOfFile removes the whole view around an address: refuse
    // anything but exactly one view rather than unmap more than asked.
    let page = page_size();
    if view_len(ptr) != Some(len.div_ceil(page) * page) {
        return unsupported("unmapping part of a view (munmap of a sub-range)");
    }
    view_files().lock().unwrap_or_else(|p| p.into_inner()).remove(&(ptr as usize));
    let view = mem::MEMORY_MAPPED_VIEW_ADDRESS { Value: ptr.cast() };
    // SAFETY: `ptr` is the base of a view the caller owns and no longer uses.
    check(unsafe { mem::UnmapViewOfFile(view) })
}

/// `mprotect(ptr, len, prot)` as `VirtualProtect`.
///
/// # References
/// - [VirtualProtect](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-virtualprotect)
///
/// # Safety
/// - `ptr..ptr+len` must be owned by the caller, and no reference into it may
///   rely on access that the new protection removes.
pub(crate) unsafe fn mprotect(ptr: *mut u8, len: usize, prot: u32) -> io::Result<()> {
    // SAFETY: all-zero is a valid MEMORY_BASIC_INFORMATION.
    let mut info: mem::MEMORY_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: VirtualQuery only reads bookkeeping.
    if unsafe { mem::VirtualQuery(ptr.cast(), &mut info, size_of_val(&info)) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // A copy-on-write view stays one: its writable pages are WRITECOPY.
    let cow = matches!(info.AllocationProtect, mem::PAGE_WRITECOPY | mem::PAGE_EXECUTE_WRITECOPY);
    let mut old = 0;
    // SAFETY: the caller owns the range and accepts the new protection.
    check(unsafe { mem::VirtualProtect(ptr.cast(), len, page_protection(prot, cow), &mut old) })
}

/// `madvise(ptr, len, MADV_WILLNEED)` as `PrefetchVirtualMemory`; other
/// advice is `Unsupported`.
///
/// # References
/// - [PrefetchVirtualMemory](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-prefetchvirtualmemory)
///
/// # Safety
/// - `ptr..ptr+len` must be mapped by the caller.
pub(crate) unsafe fn madvise(ptr: *mut u8, len: usize, advice: Madv) -> io::Result<()> {
    if advice != Madv::WillNeed {
        return unsupported(advice.name());
    }
    let entry = mem::WIN32_MEMORY_RANGE_ENTRY { VirtualAddress: ptr.cast(), NumberOfBytes: len };
    // SAFETY: one valid entry; prefetching reads pages in, changing nothing.
    check(unsafe { mem::PrefetchVirtualMemory(GetCurrentProcess(), 1, &entry, 0) })
}

/// `msync(ptr, len, sync)` as `FlushViewOfFile`, then, when `sync`,
/// `FlushFileBuffers` on the view's file.
///
/// # References
/// - [FlushViewOfFile](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-flushviewoffile)
///   (which "does not flush the file metadata, and it does not wait to
///   return until the changes are flushed from the underlying hardware disk
///   cache"), [FlushFileBuffers](https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-flushfilebuffers)
///
/// # Safety
/// - `ptr..ptr+len` must be mapped by the caller.
pub(crate) unsafe fn msync(ptr: *mut u8, len: usize, sync: bool) -> io::Result<()> {
    // SAFETY: flushing does not change memory; the caller owns the range.
    check(unsafe { mem::FlushViewOfFile(ptr.cast(), len) })?;
    if !sync {
        return Ok(());
    }
    // SAFETY: all-zero is a valid MEMORY_BASIC_INFORMATION.
    let mut info: mem::MEMORY_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: VirtualQuery only reads bookkeeping.
    if unsafe { mem::VirtualQuery(ptr.cast(), &mut info, size_of_val(&info)) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let files = view_files().lock().unwrap_or_else(|p| p.into_inner());
    match files.get(&(info.AllocationBase as usize)) {
        // SAFETY: the handle is the open file kept for this view.
        Some(file) => check(unsafe { fs::FlushFileBuffers(file.as_raw_handle() as HANDLE) }),
        // Not a writable shared file view: nothing reaches a file.
        None => Ok(()),
    }
}

/// `mlock(ptr, len)` as `VirtualLock`.
///
/// # References
/// - [VirtualLock](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-virtuallock)
///
/// # Safety
/// - `ptr..ptr+len` must be mapped by the caller.
pub(crate) unsafe fn mlock(ptr: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: locking does not change contents; the caller owns the range.
    check(unsafe { mem::VirtualLock(ptr.cast(), len) })
}

/// `munlock(ptr, len)` as `VirtualUnlock`.
///
/// # References
/// - [VirtualUnlock](https://learn.microsoft.com/en-us/windows/win32/api/memoryapi/nf-memoryapi-virtualunlock)
///
/// # Safety
/// - `ptr..ptr+len` must be mapped by the caller.
pub(crate) unsafe fn munlock(ptr: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: unlocking does not change contents; the caller owns the range.
    check(unsafe { mem::VirtualUnlock(ptr.cast(), len) })
}

/// `mremap`: Windows cannot resize a view.
///
/// # Safety
/// - None: nothing is called.
pub(crate) unsafe fn mremap(
    _ptr: *mut u8,
    _old: usize,
    _new: usize,
    _may_move: bool,
) -> io::Result<*mut u8> {
    unsupported("mremap (resizing a view)")
}

/// `mincore`: Windows reports which pages are in a process's working set
/// (`QueryWorkingSetEx`), not which are in the file cache, so there is no
/// equivalent.
///
/// # Safety
/// - None: nothing is called.
pub(crate) unsafe fn mincore(_ptr: *mut u8, _len: usize, _vec: &mut [u8]) -> io::Result<()> {
    unsupported("mincore (page cache residency)")
}

/// `fstat(fd)` as `GetFileType` + `GetFileInformationByHandle`; `dev` and
/// `ino` are the volume serial number and the file index.
///
/// # References
/// - [GetFileInformationByHandle](https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-getfileinformationbyhandle)
pub(crate) fn fstat(file: &File) -> io::Result<FileInfo> {
    let h = file.as_raw_handle() as HANDLE;
    // SAFETY: `h` is an open handle.
    let kind = match unsafe { fs::GetFileType(h) } {
        fs::FILE_TYPE_DISK => FileKind::Regular,
        fs::FILE_TYPE_CHAR => FileKind::CharDevice,
        fs::FILE_TYPE_PIPE => {
            return Ok(FileInfo { kind: FileKind::Fifo, size: 0, dev: 0, ino: 0 });
        }
        _ => FileKind::Unknown,
    };
    // SAFETY: all-zero is a valid BY_HANDLE_FILE_INFORMATION.
    let mut info: fs::BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: `h` is an open handle and `info` a live buffer.
    check(unsafe { fs::GetFileInformationByHandle(h, &mut info) })?;
    let kind = if info.dwFileAttributes & fs::FILE_ATTRIBUTE_DIRECTORY != 0 {
        FileKind::Directory
    } else {
        kind
    };
    Ok(FileInfo {
        kind,
        size: (u64::from(info.nFileSizeHigh) << 32) | u64::from(info.nFileSizeLow),
        dev: u64::from(info.dwVolumeSerialNumber),
        ino: (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow),
    })
}

/// The file systems Linux treats specially do not exist here.
pub(crate) fn fs_kind(_file: &File) -> io::Result<FsKind> {
    Ok(FsKind::Other)
}

/// `(readable, writable)` of the handle, from
/// `NtQueryInformationFile(FileAccessInformation)`.
///
/// # References
/// - [NtQueryInformationFile](https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/nf-ntifs-ntqueryinformationfile)
pub(crate) fn access_mode(file: &File) -> io::Result<(bool, bool)> {
    use windows_sys::Wdk::Storage::FileSystem as nt;
    use windows_sys::Win32::System::IO::IO_STATUS_BLOCK;
    let mut access = nt::FILE_ACCESS_INFORMATION { AccessFlags: 0 };
    // SAFETY: all-zero is a valid IO_STATUS_BLOCK.
    let mut status: IO_STATUS_BLOCK = unsafe { std::mem::zeroed() };
    // SAFETY: an open handle, and buffers of the sizes given.
    let rc = unsafe {
        nt::NtQueryInformationFile(
            file.as_raw_handle() as HANDLE,
            &mut status,
            (&raw mut access).cast(),
            size_of_val(&access) as u32,
            nt::FileAccessInformation,
        )
    };
    if rc < 0 {
        return Err(io::Error::other(format!(
            "NtQueryInformationFile(FileAccessInformation) failed with NTSTATUS {rc:#x}"
        )));
    }
    let flags = access.AccessFlags;
    Ok((flags & fs::FILE_READ_DATA != 0, flags & fs::FILE_WRITE_DATA != 0))
}

/// `GetFinalPathNameByHandleW(h)`.
///
/// # References
/// - [GetFinalPathNameByHandleW](https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-getfinalpathnamebyhandlew)
pub(crate) fn fd_path(file: &File) -> Option<PathBuf> {
    let h = file.as_raw_handle() as HANDLE;
    let mut buf = vec![0u16; 512];
    loop {
        // SAFETY: `buf` has room for the length given.
        let n = unsafe {
            fs::GetFinalPathNameByHandleW(
                h,
                buf.as_mut_ptr(),
                buf.len() as u32,
                fs::FILE_NAME_NORMALIZED | fs::VOLUME_NAME_DOS,
            )
        } as usize;
        if n == 0 {
            return None;
        }
        if n < buf.len() {
            buf.truncate(n);
            return Some(PathBuf::from(std::ffi::OsString::from_wide(&buf)));
        }
        // Too small: `n` is the size needed, with the terminating NUL.
        buf.resize(n, 0);
    }
}

/// Windows has no `getrlimit`: every limit reads as unlimited.
pub(crate) fn getrlimit(_resource: Resource) -> Rlimit {
    Rlimit { current: None, maximum: None }
}
/// `VirtualLock` is bounded by the working set, not by a capability.
pub(crate) fn has_cap_ipc_lock() -> bool {
    false
}
pub(crate) fn max_map_count() -> Option<u64> {
    None
}
pub(crate) fn map_count() -> io::Result<usize> {
    unsupported("counting the process's mappings (/proc/self/maps)")
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
pub(crate) fn memfd_create(_name: &str) -> io::Result<File> {
    unsupported("memfd_create")
}
pub(crate) fn get_seals(_file: &File) -> io::Result<u32> {
    unsupported("file seals (F_GET_SEALS)")
}
pub(crate) fn add_seals(_file: &File, _seals: u32) -> io::Result<()> {
    unsupported("file seals (F_ADD_SEALS)")
}
pub(crate) fn fadvise(_file: &File, _offset: u64, _len: u64, _advice: i32) -> io::Result<()> {
    unsupported("posix_fadvise")
}
pub(crate) fn cachestat(_file: &File, _offset: u64, _len: u64) -> io::Result<[u64; 5]> {
    unsupported("cachestat")
}

/// `ReadFile` into `buf`'s spare capacity (at most `max` bytes), at
/// `offset` or at the file position; returns the bytes read.
///
/// # References
/// - [ReadFile](https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-readfile)
pub(crate) fn read_spare(
    file: &File,
    buf: &mut Vec<u8>,
    max: usize,
    offset: Option<u64>,
) -> io::Result<usize> {
    let start = buf.len();
    let n = (buf.capacity() - start).min(max);
    // Zeroed rather than read into uninitialised memory: std's reads take
    // initialised buffers.
    buf.resize(start + n, 0);
    let got = match offset {
        Some(off) => file.seek_read(&mut buf[start..], off),
        None => io::Read::read(&mut &*file, &mut buf[start..]),
    };
    buf.truncate(start + *got.as_ref().unwrap_or(&0));
    got
}
/// `ReadFile` at `offset` into `buf`: one positional read, as many bytes as
/// the kernel gives (0 at end of file). It moves the handle's file pointer,
/// as every positional read on Windows does.
///
/// # References
/// - [ReadFile](https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-readfile)
pub(crate) fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.seek_read(buf, offset)
}

/// Windows has no fs-verity.
#[allow(dead_code)] // used by compat, which is Unix-only
pub(crate) fn has_verity(_file: &File) -> io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::CopyError;

    #[test]
    fn shared_private_and_refused_flags_translate() {
        let ro = view_args(prot::READ, flags::SHARED).unwrap();
        assert_eq!(
            (ro.section, ro.access, ro.protect_after),
            (mem::PAGE_READONLY, mem::FILE_MAP_READ, None)
        );
        let rw = view_args(prot::READ | prot::WRITE, flags::SHARED).unwrap();
        assert_eq!((rw.section, rw.access), (mem::PAGE_READWRITE, mem::FILE_MAP_WRITE));
        let cow = view_args(prot::READ, flags::PRIVATE).unwrap();
        assert_eq!((cow.section, cow.access), (mem::PAGE_WRITECOPY, mem::FILE_MAP_COPY));
        assert_eq!(cow.protect_after, Some(mem::PAGE_READONLY));
        let none = view_args(prot::NONE, flags::SHARED).unwrap();
        assert_eq!(none.protect_after, Some(mem::PAGE_NOACCESS));
        let anon = view_args(prot::READ | prot::WRITE, flags::PRIVATE | flags::ANONYMOUS).unwrap();
        assert_eq!((anon.section, anon.access), (mem::PAGE_READWRITE, mem::FILE_MAP_WRITE));
        let e = view_args(prot::READ, flags::SHARED | flags::HUGETLB).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Unsupported);
        assert!(e.to_string().contains("MAP_HUGETLB"), "{e}");
    }

    /// A file of `size` bytes numbered `i % 251`, removed on drop.
    struct Scratch(PathBuf, File, Vec<u8>);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn scratch(name: &str, size: usize) -> Scratch {
        let path = std::env::temp_dir().join(format!("xmmap-win-{}-{name}", std::process::id()));
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
        Scratch(path, file, data)
    }

    #[test]
    fn the_map_types_offsets_flush_and_lock_work() {
        let gran = offset_granularity();
        let s = scratch("types", 2 * gran + 100);
        let (file, data) = (&s.1, &s.2);
        // An offset past the first granule: the view starts at the granule.
        let off = gran + 10;
        // SAFETY: the file is this test's own.
        let m = unsafe { crate::MapOptions::new().offset(off as u64).len(50).map(file) }.unwrap();
        assert_eq!(&m[..], &data[off..off + 50]);
        m.advise(crate::Advice::WillNeed).unwrap();
        // SAFETY: as above.
        let mut w = unsafe { crate::MapOptions::new().map_mut(file) }.unwrap();
        w[0] = 0xAA;
        w.flush().unwrap();
        drop(w);
        assert_eq!(std::fs::read(&s.0).unwrap()[0], 0xAA);
        // SAFETY: as above.
        let mut c = unsafe { crate::MapOptions::new().map_copy(file) }.unwrap();
        c[1] = 0xBB;
        assert_eq!(c[1], 0xBB);
        assert_eq!(std::fs::read(&s.0).unwrap()[1], data[1], "copy-on-write reached the file");
        let mut a = crate::MapOptions::new().len(3 * gran).map_anon().unwrap();
        a[3 * gran - 1] = 7;
        assert_eq!((a[0], a[3 * gran - 1]), (0, 7));
        a.lock().unwrap();
        let r = crate::MapOptions::new().map_raw(file).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(r.read_at(gran as u64, &mut buf).unwrap(), 16);
        assert_eq!(&buf[..], &data[gran..gran + 16]);
        // SAFETY: fails before mapping.
        let e = unsafe { crate::MapOptions::new().len(data.len() + 1).map(file) }.unwrap_err();
        assert!(e.to_string().contains("past the end of the file"), "{e}");
    }

    #[test]
    fn a_guarded_copy_from_a_no_access_page_is_an_error_with_the_bytes_before_it() {
        guard_install().unwrap();
        let page = page_size();
        // SAFETY: a fresh anonymous view of two pages, owned by this test.
        let p = unsafe {
            mmap(0, 2 * page, prot::READ | prot::WRITE, flags::PRIVATE | flags::ANONYMOUS, None, 0)
        }
        .unwrap();
        // SAFETY: the second page is ours; nothing refers to it.
        unsafe { mprotect(p.add(page), page, prot::NONE) }.unwrap();
        let mut buf = vec![0u8; 2 * page];
        // SAFETY: `buf` is writable; the source's second page may fault.
        let r = unsafe { guarded_copy(buf.as_mut_ptr(), p, 2 * page, true) };
        assert!(matches!(r, Err(CopyError::Segv { copied }) if copied == page), "{r:?}");
        // SAFETY: the whole view, no longer used.
        unsafe { munmap(p, 2 * page) }.unwrap();
    }

    #[test]
    fn unmapping_part_of_a_view_is_refused() {
        let page = page_size();
        // SAFETY: a fresh anonymous view of two pages, owned by this test.
        let p = unsafe { mmap(0, 2 * page, prot::READ, flags::SHARED | flags::ANONYMOUS, None, 0) }
            .unwrap();
        // SAFETY: refused before any call.
        let e = unsafe { munmap(p, page) }.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::Unsupported);
        // SAFETY: the whole view, no longer used.
        unsafe { munmap(p, 2 * page) }.unwrap();
    }
}
