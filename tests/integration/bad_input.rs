//! Every bad input tried, as a table: what is fed to xmmap, and the outcome
//! it must get (a typed error with a word of its message, a success, or a
//! signal in a child). RELIABILITY.md's table is this table; print it with
//! `XMMAP_PRINT_TABLE=1 cargo test --test integration bad_input -- --nocapture`.
//!
//! The table runs in a child so that it can check that the whole table
//! leaves no mapping behind.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

use crate::common::*;
use xmmap::{
    page_size, Advice, Limit, MapOptions, MapRaw, Protection, RemapOptions, ScanOptions,
    SourceOptions, UncheckedAdvice, WindowCache, WindowConfig,
};

/// What a row did.
enum Got {
    Ok(String),
    Err(xmmap::Error),
    /// `File::open` failed before xmmap saw anything.
    OpenFailed(std::io::Error),
    /// This machine cannot set the row up.
    Skip(String),
}

/// What a row must do.
#[derive(Clone, Copy)]
enum Want {
    Ok,
    /// The error kind's name and a piece of its message.
    Err(&'static str, &'static str),
    OpenFails,
    /// Dies by this signal (run in a child of its own).
    Signal(i32),
}

struct Row {
    input: &'static str,
    run: fn() -> Got,
    want: Want,
}

fn got<T>(r: xmmap::Result<T>, describe: impl FnOnce(&T) -> String) -> Got {
    match r {
        Ok(v) => Got::Ok(describe(&v)),
        Err(e) => Got::Err(e),
    }
}

fn bytes(m: &impl std::ops::Deref<Target = [u8]>) -> String {
    format!("a map of {} bytes", m.len())
}

fn ro(o: &MapOptions, file: &File) -> Got {
    map_file(o, file)
}

fn rw(o: &MapOptions, file: &File) -> Got {
    // SAFETY: only this row touches the file, and the map is dropped at once.
    got(unsafe { o.map_mut(file) }, bytes)
}

fn cow(o: &MapOptions, file: &File) -> Got {
    // SAFETY: as in `rw`.
    got(unsafe { o.map_copy(file) }, bytes)
}

fn exec(o: &MapOptions, file: &File) -> Got {
    // SAFETY: as in `rw`; nothing is executed.
    got(unsafe { o.map_exec(file) }, bytes)
}

/// A read-only map that must succeed.
fn mapped(o: &MapOptions, file: &File) -> xmmap::Map {
    // SAFETY: as in `rw`; rows that touch pages past the end run in a child.
    unsafe { o.map(file) }.unwrap()
}

fn unknown_flag() -> MapOptions {
    let mut o = MapOptions::new();
    // SAFETY: the bit is unknown to the kernel, so it cannot change semantics.
    unsafe { o.extra_flags(0x0020_0000) };
    o
}

fn fixed_and_noreplace() -> Got {
    let o = MapOptions::new().len(10).fixed_noreplace(true).clone();
    // SAFETY: the two exclude each other, so nothing is mapped.
    got(unsafe { o.map_anon_at(1 << 40) }, bytes)
}

fn extra(bits: u32) -> MapOptions {
    let mut o = MapOptions::new();
    // SAFETY: the bits are refused, so nothing is mapped.
    unsafe { o.len(4096).extra_flags(bits) };
    o
}

fn dontneed(m: &xmmap::MapMut, off: usize, len: usize) -> xmmap::Result<()> {
    // SAFETY: no reference into the map is alive across the call.
    unsafe { m.unchecked_advise_range(UncheckedAdvice::DontNeed, off, len) }
}

fn remap(m: &mut xmmap::MapMut, len: usize, may_move: bool) -> xmmap::Result<()> {
    // SAFETY: rows touch no byte past the file's end after a remap.
    unsafe { m.remap(len, RemapOptions::new().may_move(may_move)) }
}

/// Reads the byte `off` bytes after `p`: the rows that use it die by SIGBUS.
fn touch(p: *const u8, off: usize) -> u8 {
    // SAFETY: `p + off` lies inside a mapping; whether it is backed is what
    // the row tests, in a child.
    unsafe { p.add(off).read_volatile() }
}

fn seal_write(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor we own.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, libc::F_SEAL_WRITE) };
    assert_eq!(rc, 0, "F_ADD_SEALS: {}", std::io::Error::last_os_error());
}

/// An address range of a page that was just free.
fn free_address() -> usize {
    let probe = MapOptions::new().len(page_size()).map_anon().unwrap();
    probe.as_ptr() as usize
}

fn a_pipe() -> Got {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are fresh and owned here.
    let (r, _w) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    map_file(&MapOptions::new(), &r)
}

/// `map` of the 100-byte file with these options.
fn map100(o: &MapOptions) -> Got {
    let f = TempFile::with(&pattern(100));
    // SAFETY: only this row touches the file.
    got(unsafe { o.map(&f.read()) }, bytes)
}

fn map_file(o: &MapOptions, file: &File) -> Got {
    // SAFETY: the file is not changed while the map lives (it is dropped at once).
    got(unsafe { o.map(file) }, bytes)
}

fn open(path: &str) -> Result<File, Got> {
    File::open(path).map_err(|e| Got::Skip(format!("{path}: {e}")))
}

/// A file truncated to one page under a four-page read-write map.
fn truncated() -> (TempFile, xmmap::MapMut) {
    let page = page_size();
    let f = TempFile::with(&pattern(4 * page));
    // SAFETY: the file is truncated under the map on purpose; rows touch
    // only the first page, or die by SIGBUS in a child.
    let m = unsafe { MapOptions::new().map_mut(&f.rw()).unwrap() };
    f.rw().set_len(page as u64).unwrap();
    (f, m)
}

/// Runs `f` on a new thread with no capabilities (capabilities are per
/// thread), as `core::drop_capabilities` does for a process.
fn without_capabilities<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        #[repr(C)]
        struct Header {
            version: u32,
            pid: i32,
        }
        let header = Header { version: 0x2008_0522, pid: 0 };
        let data = [0u32; 6];
        // SAFETY: capset with a version-3 header and two three-word data sets.
        let rc = unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
        assert_eq!(rc, 0, "capset failed");
        f()
    })
    .join()
    .unwrap()
}

/// Runs `f` with a `noexec` tmpfs mounted at a fresh directory, in a mount
/// namespace of a thread's own, so that the mount vanishes with the thread.
fn on_noexec_tmpfs(f: fn(&std::path::Path) -> Got) -> Got {
    let dir = std::env::temp_dir().join(format!("xmmap-noexec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.clone();
    let r = std::thread::spawn(move || {
        // SAFETY: unshare affects only this thread's mount namespace and
        // file system attributes.
        if unsafe { libc::unshare(libc::CLONE_NEWNS | libc::CLONE_FS) } != 0 {
            return Got::Skip(format!("unshare: {}", std::io::Error::last_os_error()));
        }
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        let (root, target, tmpfs) = (c("/"), c(d.to_str().unwrap()), c("tmpfs"));
        // SAFETY: mount(2) with valid strings; first make this namespace's
        // mounts private so nothing propagates back to the host.
        unsafe {
            if libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
                || libc::mount(
                    tmpfs.as_ptr(),
                    target.as_ptr(),
                    tmpfs.as_ptr(),
                    libc::MS_NOEXEC,
                    std::ptr::null(),
                ) != 0
            {
                return Got::Skip(format!("mount: {}", std::io::Error::last_os_error()));
            }
        }
        let r = f(&d);
        // SAFETY: unmounting what this thread mounted.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
        r
    })
    .join()
    .unwrap();
    let _ = std::fs::remove_dir(&dir);
    r
}

fn memfd(name: &str, flags: libc::c_uint) -> File {
    use std::os::fd::FromRawFd;
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: memfd_create with a valid name; the new fd is owned below.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    assert!(fd >= 0, "memfd_create: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh descriptor nobody else owns.
    unsafe { File::from_raw_fd(fd) }
}

/// A read-only view of `truncated`'s file, made before the truncation.
fn truncated_ro() -> (TempFile, xmmap::Map) {
    let page = page_size();
    let f = TempFile::with(&pattern(4 * page));
    // SAFETY: the file is truncated under the map on purpose; rows read it
    // only through the guarded read_at.
    let m = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    f.rw().set_len(page as u64).unwrap();
    (f, m)
}

/// A read-write raw map of four pages whose file keeps one.
fn truncated_raw() -> (TempFile, MapRaw) {
    let page = page_size();
    let f = TempFile::with(&pattern(4 * page));
    let r = MapRaw::map(&f.rw()).unwrap();
    f.rw().set_len(page as u64).unwrap();
    (f, r)
}

/// A guarded read of `len` bytes at `offset` (in pages) through `read`.
fn guarded(read: impl FnOnce(&mut [u8]) -> xmmap::Result<usize>, len: usize) -> Got {
    let mut buf = vec![0u8; len];
    got(read(&mut buf), |n| format!("{n} bytes"))
}

fn source(o: &SourceOptions, file: &File) -> Got {
    // SAFETY: nothing changes the file while the source lives (dropped at once).
    got(unsafe { o.from_file(file) }, |s| {
        format!("{} bytes, {}", s.len(), if s.is_mapped() { "mapped" } else { "read" })
    })
}

fn source_path(o: &SourceOptions, path: &str) -> Got {
    // SAFETY: as in `source`.
    got(unsafe { o.open(path) }, |s| {
        format!("{} bytes, {}", s.len(), if s.is_mapped() { "mapped" } else { "read" })
    })
}

/// A pipe holding `bytes`, its writer closed.
fn filled_pipe(bytes: &[u8]) -> File {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are fresh and owned here.
    let (r, mut w) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    w.write_all(bytes).unwrap();
    r
}

/// Runs `f` with the soft `RLIMIT_AS` at the address space in use plus
/// `room` bytes, then puts the limit back (the soft limit may rise again up
/// to the hard one).
fn with_address_space_room<T>(room: u64, f: impl FnOnce() -> T) -> T {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    let in_use = line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024;
    let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write only the structs given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_AS, &mut old), 0);
        let new = libc::rlimit { rlim_cur: in_use + room, rlim_max: old.rlim_max };
        assert_eq!(libc::setrlimit(libc::RLIMIT_AS, &new), 0);
    }
    let r = f();
    // SAFETY: as above; the old soft limit is within the hard one.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &old) }, 0);
    r
}

/// A window cache of two-page windows over a 16-page file, without
/// admission: every `read_at` miss maps a window.
fn window_cache(max_open_files: usize) -> (TempFile, WindowCache, xmmap::WindowFile) {
    let page = page_size() as u64;
    let f = TempFile::with(&pattern(16 * page as usize));
    let cache = WindowConfig::new()
        .window_size(2 * page)
        .max_open_files(max_open_files)
        .admission(false)
        .build()
        .unwrap();
    let h = cache.open(&f.path).unwrap();
    (f, cache, h)
}

fn window_read(cache: &WindowCache, h: xmmap::WindowFile, offset: u64, len: usize) -> Got {
    let mut buf = vec![0u8; len];
    got(cache.read_at(h, offset, &mut buf), |n| format!("{n} bytes"))
}

const E: fn(&'static str, &'static str) -> Want = Want::Err;

fn rows() -> Vec<Row> {
    vec![
        // ---- offsets and lengths ------------------------------------------
        Row {
            input: "offset = file size (100)",
            run: || map100(MapOptions::new().offset(100)),
            want: Want::Ok,
        },
        Row {
            input: "offset = file size + 1",
            run: || map100(MapOptions::new().offset(101)),
            want: E("InvalidInput", "past the end"),
        },
        Row {
            input: "offset = u64::MAX, len 1",
            run: || map100(MapOptions::new().offset(u64::MAX).len(1)),
            want: E("InvalidInput", "largest file offset"),
        },
        Row {
            input: "offset = 2^63 (off_t overflow)",
            run: || map100(MapOptions::new().offset(1 << 63).len(1)),
            want: E("InvalidInput", "largest file offset"),
        },
        Row {
            input: "offset = i64::MAX, len 2",
            run: || map100(MapOptions::new().offset(i64::MAX as u64).len(2)),
            want: E("InvalidInput", ""),
        },
        Row {
            input: "len = usize::MAX",
            run: || map100(MapOptions::new().len(usize::MAX)),
            want: E("InvalidInput", "isize::MAX"),
        },
        Row {
            input: "len = isize::MAX + 1",
            run: || map100(MapOptions::new().len(isize::MAX as usize + 1)),
            want: E("InvalidInput", "isize::MAX"),
        },
        Row {
            input: "len = isize::MAX at offset 99 (with the bytes below the offset)",
            run: || map100(MapOptions::new().offset(99).len(isize::MAX as usize)),
            want: E("InvalidInput", "overflows"),
        },
        Row { input: "len = 0", run: || map100(MapOptions::new().len(0)), want: Want::Ok },
        Row {
            input: "an empty file, default length",
            run: || {
                let f = TempFile::with(b"");
                map_file(&MapOptions::new(), &f.read())
            },
            want: Want::Ok,
        },
        Row {
            input: "len of 3 pages over a 10-byte file",
            run: || {
                let f = TempFile::with(b"0123456789");
                map_file(MapOptions::new().len(3 * page_size()), &f.read())
            },
            want: Want::Ok,
        },
        Row {
            input: "anonymous map with offset 1",
            run: || got(MapOptions::new().offset(1).len(10).map_anon(), bytes),
            want: E("InvalidInput", "anonymous"),
        },
        Row {
            input: "anonymous map of 0 bytes",
            run: || got(MapOptions::new().map_anon(), bytes),
            want: Want::Ok,
        },
        Row {
            input: "anonymous map of 64 TiB (overcommit refuses)",
            run: || got(MapOptions::new().len(1 << 46).map_anon(), bytes),
            want: E("OutOfMemory", "mmap failed, check sys.vm.max_map_count and/or RLIMIT_DATA"),
        },
        // ---- what is not a regular file -------------------------------------
        Row {
            input: "a directory",
            run: || map_file(&MapOptions::new(), &File::open(std::env::temp_dir()).unwrap()),
            want: E("NotMappable", "directory"),
        },
        Row { input: "a pipe", run: a_pipe, want: E("NotMappable", "pipe") },
        Row {
            input: "a Unix socket",
            run: || {
                let (s, _t) = std::os::unix::net::UnixStream::pair().unwrap();
                map_file(&MapOptions::new(), &std::os::fd::OwnedFd::from(s).into())
            },
            want: E("NotMappable", "socket"),
        },
        Row {
            input: "/proc/self/status (size 0)",
            run: || match open("/proc/self/status") {
                Ok(f) => map_file(&MapOptions::new(), &f),
                Err(g) => g,
            },
            want: E("NotMappable", "procfs"),
        },
        Row {
            input: "/proc/self/status with len 4096",
            run: || match open("/proc/self/status") {
                Ok(f) => map_file(MapOptions::new().len(4096), &f),
                Err(g) => g,
            },
            want: E("NotMappable", "procfs"),
        },
        Row {
            input: "a sysfs file (/sys/kernel/mm/transparent_hugepage/enabled)",
            run: || match open("/sys/kernel/mm/transparent_hugepage/enabled") {
                Ok(f) => map_file(&MapOptions::new(), &f),
                Err(g) => g,
            },
            want: E("NotMappable", ""),
        },
        Row {
            input: "/dev/null, default length",
            run: || map_file(&MapOptions::new(), &File::open("/dev/null").unwrap()),
            want: E("InvalidInput", "has no size"),
        },
        Row {
            input: "/dev/null, len 4096",
            run: || map_file(MapOptions::new().len(4096), &File::open("/dev/null").unwrap()),
            want: E("NotMappable", ""),
        },
        Row {
            input: "/dev/zero, len 4096, copy-on-write",
            run: || {
                let z = File::open("/dev/zero").unwrap();
                cow(MapOptions::new().len(4096), &z)
            },
            want: Want::Ok,
        },
        // ---- descriptors and permissions ------------------------------------
        Row {
            input: "a write-only descriptor",
            run: || {
                let f = TempFile::with(b"data");
                map_file(&MapOptions::new(), &OpenOptions::new().write(true).open(&f.path).unwrap())
            },
            want: E("PermissionDenied", "write-only"),
        },
        Row {
            input: "map_mut over a read-only descriptor",
            run: || {
                let f = TempFile::with(b"data");
                rw(&MapOptions::new(), &f.read())
            },
            want: E("PermissionDenied", "read-only"),
        },
        Row {
            input: "map_raw over a read-only descriptor",
            run: || {
                let f = TempFile::with(b"data");
                got(MapOptions::new().map_raw(&f.read()), |m| {
                    format!("a read-only raw map of {} bytes", m.len())
                })
            },
            want: Want::Ok,
        },
        Row {
            input: "make_mut of a shared map over a read-only descriptor",
            run: || {
                let f = TempFile::with(b"data");
                let m = mapped(&MapOptions::new(), &f.read());
                got(m.make_mut(), bytes)
            },
            want: E("PermissionDenied", "permission denied"),
        },
        Row {
            input: "an O_PATH descriptor",
            run: || {
                let f = TempFile::with(b"data");
                map_file(
                    &MapOptions::new(),
                    &OpenOptions::new()
                        .read(true)
                        .custom_flags(libc::O_PATH)
                        .open(&f.path)
                        .unwrap(),
                )
            },
            want: E("PermissionDenied", "O_PATH"),
        },
        Row {
            input: "an O_APPEND read-write descriptor, map_mut",
            run: || {
                let f = TempFile::with(b"data");
                rw(
                    &MapOptions::new(),
                    &OpenOptions::new().read(true).append(true).open(&f.path).unwrap(),
                )
            },
            want: Want::Ok,
        },
        Row {
            input: "a chmod 000 file, opened as root (CAP_DAC_OVERRIDE)",
            run: || {
                let f = TempFile::with(b"data");
                std::fs::set_permissions(&f.path, std::fs::Permissions::from_mode(0o000)).unwrap();
                match File::open(&f.path) {
                    Ok(file) => map_file(&MapOptions::new(), &file),
                    Err(e) => Got::OpenFailed(e),
                }
            },
            want: Want::Ok,
        },
        Row {
            input: "a chmod 000 file, capabilities dropped",
            run: || {
                let f = TempFile::with(b"data");
                std::fs::set_permissions(&f.path, std::fs::Permissions::from_mode(0o000)).unwrap();
                let p = f.path.clone();
                without_capabilities(move || match File::open(&p) {
                    Ok(file) => map_file(&MapOptions::new(), &file),
                    Err(e) => Got::OpenFailed(e),
                })
            },
            want: Want::OpenFails,
        },
        Row {
            input: "a memfd sealed with F_SEAL_WRITE, map_mut",
            run: || {
                let m = memfd("xmmap-sealed", libc::MFD_ALLOW_SEALING);
                m.set_len(4096).unwrap();
                seal_write(&m);
                rw(&MapOptions::new(), &m)
            },
            want: E("PermissionDenied", "seals"),
        },
        Row {
            input: "map_exec of a file on a noexec tmpfs",
            run: || {
                on_noexec_tmpfs(|d| {
                    let p = d.join("code");
                    std::fs::write(&p, [0xc3u8]).unwrap();
                    exec(&MapOptions::new(), &File::open(&p).unwrap())
                })
            },
            want: E("PermissionDenied", "noexec"),
        },
        Row {
            input: "make_exec of a map of a file on a noexec tmpfs",
            run: || {
                on_noexec_tmpfs(|d| {
                    let p = d.join("code");
                    std::fs::write(&p, [0xc3u8]).unwrap();
                    let m = mapped(&MapOptions::new(), &File::open(&p).unwrap());
                    got(m.make_exec(), bytes)
                })
            },
            want: E("PermissionDenied", "noexec"),
        },
        // ---- flags the system cannot honour ---------------------------------
        Row {
            input: "huge pages of the default size, no pool",
            run: || got(MapOptions::new().len(1).huge(None).map_anon(), bytes),
            want: E("HugePagesUnavailable", "nr_hugepages"),
        },
        Row {
            input: "huge pages with no_reserve, no pool",
            run: || got(MapOptions::new().len(1).huge(None).no_reserve(true).map_anon(), bytes),
            want: E("InvalidInput", "huge with no_reserve"),
        },
        Row {
            input: "huge page size 2^13 (not a supported size)",
            run: || got(MapOptions::new().len(1).huge(Some(13)).map_anon(), bytes),
            want: E("HugePagesUnavailable", "not supported"),
        },
        Row {
            input: "huge page bits 63",
            run: || got(MapOptions::new().len(1).huge(Some(63)).map_anon(), bytes),
            want: E("HugePagesUnavailable", "not a page size"),
        },
        Row {
            input: "huge 2 MiB pages for a file not on hugetlbfs",
            run: || {
                let f = TempFile::with(&pattern(4096));
                map_file(MapOptions::new().huge(Some(21)), &f.read())
            },
            want: E("HugePagesUnavailable", "hugetlbfs"),
        },
        Row {
            input: "huge 2 MiB pages at offset 4096",
            run: || {
                let f = TempFile::with(&pattern(8192));
                map_file(MapOptions::new().offset(4096).huge(Some(21)), &f.read())
            },
            want: E("InvalidInput", "multiple of the huge page size"),
        },
        Row {
            input: "MAP_SYNC on a file not on DAX",
            run: || {
                let f = TempFile::with(&pattern(4096));
                rw(MapOptions::new().sync(true), &f.rw())
            },
            want: E("Unsupported", "DAX"),
        },
        Row {
            input: "MAP_SYNC on a private map",
            run: || {
                let f = TempFile::with(&pattern(4096));
                cow(MapOptions::new().sync(true), &f.read())
            },
            want: E("InvalidInput", "shared file maps only"),
        },
        Row {
            input: "validate on a private map",
            run: || {
                let f = TempFile::with(&pattern(10));
                cow(MapOptions::new().validate(true), &f.read())
            },
            want: E("InvalidInput", "shared maps only"),
        },
        Row {
            input: "validate on shared anonymous memory",
            run: || got(MapOptions::new().len(10).validate(true).map_anon_shared(), bytes),
            want: E("InvalidInput", "shared file maps only"),
        },
        Row {
            input: "validate with an unknown flag bit (0x200000)",
            run: || {
                let f = TempFile::with(&pattern(10));
                ro(unknown_flag().validate(true), &f.read())
            },
            want: E("Unsupported", "MAP_SHARED_VALIDATE"),
        },
        Row {
            input: "validate with fixed_noreplace (not a flag validate knows)",
            run: || {
                let f = TempFile::with(&pattern(10));
                let at = free_address();
                ro(MapOptions::new().validate(true).hint(at).fixed_noreplace(true), &f.read())
            },
            want: E("Unsupported", "MAP_SHARED_VALIDATE"),
        },
        Row {
            input: "grows_down on a file map",
            run: || map100(MapOptions::new().grows_down(true)),
            want: E("InvalidInput", "anonymous maps only"),
        },
        Row {
            input: "grows_down on shared anonymous memory",
            run: || got(MapOptions::new().len(10).grows_down(true).map_anon_shared(), bytes),
            want: E("InvalidInput", "private anonymous maps only"),
        },
        Row {
            input: "fixed_noreplace on a mapped range",
            run: || {
                let taken = MapOptions::new().len(page_size()).map_anon().unwrap();
                got(
                    MapOptions::new()
                        .len(10)
                        .hint(taken.as_ptr() as usize)
                        .fixed_noreplace(true)
                        .map_anon(),
                    bytes,
                )
            },
            want: E("AlreadyMapped", "already mapped"),
        },
        Row {
            input: "fixed_noreplace at an unaligned address",
            run: || {
                got(
                    MapOptions::new().len(10).hint((1 << 40) + 1).fixed_noreplace(true).map_anon(),
                    bytes,
                )
            },
            want: E("InvalidInput", "aligned"),
        },
        Row {
            input: "fixed_noreplace at address 0",
            run: || got(MapOptions::new().len(10).fixed_noreplace(true).map_anon(), bytes),
            want: E("InvalidInput", "non-zero address"),
        },
        Row {
            input: "fixed and fixed_noreplace together",
            run: || fixed_and_noreplace(),
            want: E("InvalidInput", "exclude each other"),
        },
        Row {
            input: "a 4097-byte map under Limit::bytes(4096)",
            run: || got(MapOptions::new().len(4097).limit(Limit::bytes(4096)).map_anon(), bytes),
            want: E("LimitExceeded", "attempting to mmap 4097 over limit 4096"),
        },
        Row {
            input: "Limit::parse(\"1kb\")",
            run: || got(Limit::parse("1kb"), |l| l.to_string()),
            want: E("BadLimit", "invalid size"),
        },
        // ---- ranges of operations on a map ----------------------------------
        Row {
            input: "flush_range one byte past the end",
            run: || {
                let m = MapOptions::new().len(100).map_anon().unwrap();
                got(m.flush_range(100, 1), |_| "flushed".into())
            },
            want: E("InvalidInput", "outside the map"),
        },
        Row {
            input: "flush_range(usize::MAX, 2) (overflow)",
            run: || {
                let m = MapOptions::new().len(100).map_anon().unwrap();
                got(m.flush_range(usize::MAX, 2), |_| "flushed".into())
            },
            want: E("InvalidInput", "outside the map"),
        },
        Row {
            input: "advise_range past the end",
            run: || {
                let m = MapOptions::new().len(100).map_anon().unwrap();
                got(m.advise_range(Advice::WillNeed, 50, 51), |_| "advised".into())
            },
            want: E("InvalidInput", "outside the map"),
        },
        Row {
            input: "lock_range(1, usize::MAX) (overflow)",
            run: || {
                let m = MapOptions::new().len(100).map_anon().unwrap();
                got(m.lock_range(1, usize::MAX), |_| "locked".into())
            },
            want: E("InvalidInput", "outside the map"),
        },
        Row {
            input: "zero-length MADV_DONTNEED at offset page - 1",
            run: || {
                let mut m = MapOptions::new().len(page_size()).map_anon().unwrap();
                m[0] = 7;
                let r = dontneed(&m, page_size() - 1, 0);
                got(r.map(|()| m[0]), |b| format!("byte 0 still {b}"))
            },
            want: Want::Ok,
        },
        Row {
            input: "PopulateWrite on a read-only map",
            run: || {
                let f = TempFile::with(&pattern(4096));
                let m = mapped(&MapOptions::new(), &f.read());
                got(m.advise(Advice::PopulateWrite), |_| "advised".into())
            },
            want: E("", "MADV_POPULATE_WRITE"),
        },
        Row {
            input: "split_at an offset that is not a page boundary",
            run: || {
                got(MapOptions::new().len(2 * page_size()).map_anon().unwrap().split_at(1), |_| {
                    "split".into()
                })
            },
            want: E("InvalidInput", "page boundary"),
        },
        Row {
            input: "split_at past the end",
            run: || {
                got(MapOptions::new().len(10).map_anon().unwrap().split_at(11), |_| "split".into())
            },
            want: E("InvalidInput", "only 10 bytes"),
        },
        Row {
            input: "remap to usize::MAX",
            run: || {
                let mut m = MapOptions::new().len(10).map_anon().unwrap();
                got(remap(&mut m, usize::MAX, false), |_| "remapped".into())
            },
            want: E("InvalidInput", "overflows"),
        },
        Row {
            input: "remap of an empty map",
            run: || {
                let mut m = MapOptions::new().map_anon().unwrap();
                got(remap(&mut m, 10, false), |_| "remapped".into())
            },
            want: E("InvalidInput", "empty map"),
        },
        Row {
            input: "remap after advice on part of the map",
            run: || {
                let mut m = MapOptions::new().len(3 * page_size()).map_anon().unwrap();
                if let Err(e) = m.advise_range(Advice::DontFork, 0, 1) {
                    return Got::Err(e);
                }
                got(remap(&mut m, 4 * page_size(), true), |_| "remapped".into())
            },
            want: E("InvalidInput", "no longer one kernel mapping"),
        },
        Row {
            input: "protect(WRITE | EXEC) through the safe call",
            run: || {
                let mut r = MapOptions::new().len(10).map_anon().unwrap().make_none().unwrap();
                got(r.protect(Protection::WRITE | Protection::EXEC), |_| "protected".into())
            },
            want: E("InvalidInput", "unchecked_protect"),
        },
        // ---- guarded read_at / write_at -------------------------------------
        Row {
            input: "truncated under a Map: guarded read_at of a lost page",
            run: || {
                let (_f, m) = truncated_ro();
                guarded(|b| m.read_at(2 * page_size() as u64, b), 10)
            },
            want: E("Truncated", "no longer backs map offset"),
        },
        Row {
            input: "truncated under a Map: guarded read_at across the new end",
            run: || {
                let (_f, m) = truncated_ro();
                guarded(|b| m.read_at(0, b), 2 * page_size())
            },
            want: E("Truncated", "truncated under the map"),
        },
        Row {
            input: "truncated under a MapMut: guarded read_at of a lost page",
            run: || {
                let (_f, m) = truncated();
                guarded(|b| m.read_at(3 * page_size() as u64, b), 1)
            },
            want: E("Truncated", "no longer backs map offset"),
        },
        Row {
            input: "truncated under a MapMut: guarded write_at to a lost page",
            run: || {
                let (_f, mut m) = truncated();
                got(m.write_at(2 * page_size() as u64, b"x"), |n| format!("{n} bytes"))
            },
            want: E("Truncated", "no longer backs map offset"),
        },
        Row {
            input: "truncated under a MapRaw: guarded read_at of a lost page",
            run: || {
                let (_f, r) = truncated_raw();
                guarded(|b| r.read_at(page_size() as u64, b), 1)
            },
            want: E("Truncated", "no longer backs map offset"),
        },
        Row {
            input: "truncated under a MapRaw: guarded write_at to a lost page",
            run: || {
                let (_f, r) = truncated_raw();
                got(r.write_at(page_size() as u64 + 1, b"xy"), |n| format!("{n} bytes"))
            },
            want: E("Truncated", "no longer backs map offset"),
        },
        Row {
            input: "truncated under a MapRaw: guarded read_at of the page still there",
            run: || {
                let (_f, r) = truncated_raw();
                guarded(|b| r.read_at(0, b), page_size())
            },
            want: Want::Ok,
        },
        Row {
            input: "PROT_NONE MapRaw: guarded read_at",
            run: || {
                let r = MapOptions::new().len(page_size()).map_anon().unwrap().make_none().unwrap();
                guarded(|b| r.read_at(0, b), 1)
            },
            want: E("Fault", "protection forbids"),
        },
        Row {
            input: "PROT_NONE MapRaw: guarded write_at",
            run: || {
                let r = MapOptions::new().len(page_size()).map_anon().unwrap().make_none().unwrap();
                got(r.write_at(5, b"x"), |n| format!("{n} bytes"))
            },
            want: E("Fault", "protection forbids"),
        },
        Row {
            input: "read-only MapRaw: guarded write_at",
            run: || {
                let f = TempFile::with(&pattern(100));
                let r = MapRaw::map_read_only(&f.read()).unwrap();
                got(r.write_at(0, b"x"), |n| format!("{n} bytes"))
            },
            want: E("Fault", "read-only for a write"),
        },
        Row {
            input: "guarded read_at with offset + len overflowing u64",
            run: || {
                let m = MapOptions::new().len(100).map_anon().unwrap();
                guarded(|b| m.read_at(u64::MAX - 1, b), 4)
            },
            want: E("InvalidInput", "read_at"),
        },
        Row {
            input: "guarded read_at at an offset past the end",
            run: || {
                let m = MapOptions::new().len(100).map_anon().unwrap();
                guarded(|b| m.read_at(101, b), 4)
            },
            want: Want::Ok,
        },
        // ---- Source: mmap or read ------------------------------------------
        Row {
            input: "Source on a pipe",
            run: || source(&SourceOptions::new(), &filled_pipe(b"through a pipe")),
            want: Want::Ok,
        },
        Row {
            input: "Source with force_map on a pipe",
            run: || source(SourceOptions::new().force_map(true), &filled_pipe(b"x")),
            want: E("NotMappable", "force_map"),
        },
        Row {
            input: "Source on /proc/self/status (size 0)",
            run: || source_path(SourceOptions::new().threshold(0), "/proc/self/status"),
            want: Want::Ok,
        },
        Row {
            input: "Source on a sysfs file (/sys/kernel/mm/transparent_hugepage/enabled)",
            run: || match open("/sys/kernel/mm/transparent_hugepage/enabled") {
                Ok(f) => source(SourceOptions::new().threshold(0), &f),
                Err(g) => g,
            },
            want: Want::Ok,
        },
        Row {
            input: "Source on /dev/zero without a length (RLIMIT_AS = in use + 256 MiB)",
            run: || {
                if std::env::var_os("XMMAP_SANITIZED").is_some() {
                    // The sanitizer's allocator aborts instead of failing.
                    return Got::Skip("under a sanitizer".into());
                }
                let z = File::open("/dev/zero").unwrap();
                with_address_space_room(256 << 20, || source(&SourceOptions::new(), &z))
            },
            want: E("OutOfMemory", "give the bytes to read with SourceOptions::len"),
        },
        Row {
            input: "Source with force_map on /dev/zero without a length",
            run: || source_path(SourceOptions::new().force_map(true), "/dev/zero"),
            want: E("InvalidInput", "needs a length"),
        },
        Row {
            input: "Source on a directory",
            run: || source(&SourceOptions::new(), &File::open(std::env::temp_dir()).unwrap()),
            want: E("InvalidInput", "directory"),
        },
        Row {
            input: "Source of 2 pages over Limit::bytes(page) (refused, not read instead)",
            run: || {
                let f = TempFile::with(&pattern(2 * page_size()));
                let mut o = SourceOptions::new();
                o.threshold(0).limit(Limit::bytes(page_size() as u64));
                source(&o, &f.read())
            },
            want: E("LimitExceeded", "over limit"),
        },
        Row {
            input: "Source with both force_map and force_read",
            run: || {
                let f = TempFile::with(b"data");
                source(SourceOptions::new().force_map(true).force_read(true), &f.read())
            },
            want: E("InvalidInput", "exclude each other"),
        },
        Row {
            input: "map_sealed on an unsealed memfd",
            run: || {
                let m = memfd("xmmap-unsealed", libc::MFD_ALLOW_SEALING);
                m.set_len(10).unwrap();
                got(xmmap::map_sealed(&m), bytes)
            },
            want: E("InvalidInput", "lacks"),
        },
        Row {
            input: "map_sealed on a regular file",
            run: || {
                let f = TempFile::with(b"data");
                got(xmmap::map_sealed(&f.read()), bytes)
            },
            want: E("InvalidInput", "cannot carry seals"),
        },
        // ---- window cache ------------------------------------------------------
        Row {
            input: "window cache: a file replaced under it (reopened by path)",
            run: || {
                let (f, cache, h) = window_cache(1);
                let other = TempFile::with(b"unrelated");
                let _second = cache.open(&other.path).unwrap(); // closes f's descriptor
                let newer = TempFile::with(&pattern(16 * page_size()));
                std::fs::rename(&newer.path, &f.path).unwrap();
                window_read(&cache, h, 0, 10)
            },
            want: E("FileChanged", "replaced"),
        },
        Row {
            input: "window cache: a file shrunk under it, before its window is mapped",
            run: || {
                let (f, cache, h) = window_cache(4);
                f.rw().set_len(page_size() as u64).unwrap();
                window_read(&cache, h, 8 * page_size() as u64, 10)
            },
            want: E("FileChanged", "shrank"),
        },
        Row {
            input: "window cache: a file shrunk under a mapped window",
            run: || {
                let (f, cache, h) = window_cache(4);
                window_read(&cache, h, 0, 1);
                f.rw().set_len(page_size() as u64).unwrap();
                window_read(&cache, h, page_size() as u64, 10)
            },
            want: E("Truncated", "truncated under its window"),
        },
        Row {
            input: "window cache: read_at at the end of the file",
            run: || {
                let (_f, cache, h) = window_cache(4);
                window_read(&cache, h, h.len(), 10)
            },
            want: Want::Ok,
        },
        Row {
            input: "window cache: read_at one byte past the end",
            run: || {
                let (_f, cache, h) = window_cache(4);
                window_read(&cache, h, h.len() + 1, 10)
            },
            want: E("InvalidInput", "beyond end"),
        },
        Row {
            input: "window cache: read_at at u64::MAX",
            run: || {
                let (_f, cache, h) = window_cache(4);
                window_read(&cache, h, u64::MAX, 10)
            },
            want: E("InvalidInput", "beyond end"),
        },
        Row {
            input: "window cache: a cursor at the end of the file",
            run: || {
                let (_f, cache, h) = window_cache(4);
                // SAFETY: nothing changes the file.
                let mut c = unsafe { cache.cursor(h).unwrap() };
                got(c.at(h.len()).map(<[u8]>::len), |n| format!("{n} bytes"))
            },
            want: E("InvalidInput", "beyond end"),
        },
        Row {
            input: "window cache: read_exact_at running past the end",
            run: || {
                let (_f, cache, h) = window_cache(4);
                let mut buf = [0u8; 10];
                got(cache.read_exact_at(h, h.len() - 5, &mut buf), |_| "filled".into())
            },
            want: E("InvalidInput", "runs past the end"),
        },
        Row {
            input: "window cache: a handle of another cache",
            run: || {
                let (_f, _cache, h) = window_cache(4);
                window_read(&WindowCache::new(), h, 0, 1)
            },
            want: E("InvalidInput", "another cache"),
        },
        Row {
            input: "window cache: a FIFO",
            run: || {
                let fifo = std::env::temp_dir().join(format!("xmmap-fifo-{}", std::process::id()));
                let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
                // SAFETY: mkfifo with a valid path.
                if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
                    return Got::Skip(format!("mkfifo: {}", std::io::Error::last_os_error()));
                }
                let r = WindowCache::new().open(&fifo);
                let _ = std::fs::remove_file(&fifo);
                got(r, |_| "opened".into())
            },
            want: E("NotMappable", "not a regular file"),
        },
        Row {
            input: "window cache: a directory",
            run: || got(WindowCache::new().open(std::env::temp_dir()), |_| "opened".into()),
            want: E("NotMappable", "not a regular file"),
        },
        Row {
            input: "window cache: a pipe added by descriptor",
            run: || got(WindowCache::new().add(filled_pipe(b"x")), |_| "added".into()),
            want: E("NotMappable", "pipe"),
        },
        Row {
            input: "window cache: overlap over half the window",
            run: || {
                let page = page_size();
                let r = WindowConfig::new().window_size(2 * page as u64).overlap(page + 1).build();
                got(r, |_| "built".into())
            },
            want: E("InvalidInput", "more than half the window"),
        },
        Row {
            input: "window cache: a window over the mapping limit",
            run: || {
                let page = page_size() as u64;
                let f = TempFile::with(&pattern(16 * page as usize));
                let mut c = WindowConfig::new();
                c.window_size(4 * page).limit(Limit::bytes(page)).admission(false);
                let cache = c.build().unwrap();
                let h = cache.open(&f.path).unwrap();
                window_read(&cache, h, 0, 1)
            },
            want: E("LimitExceeded", "over limit"),
        },
        Row {
            input: "window cache with admission: a window over the mapping limit, read four times",
            run: || {
                let page = page_size() as u64;
                let f = TempFile::with(&pattern(16 * page as usize));
                let mut c = WindowConfig::new();
                c.window_size(4 * page).limit(Limit::bytes(page));
                let cache = c.build().unwrap();
                let h = cache.open(&f.path).unwrap();
                for _ in 0..3 {
                    window_read(&cache, h, 0, 1);
                }
                // Admitted now, but the limit refuses the window: pread.
                window_read(&cache, h, 0, 1)
            },
            want: Want::Ok,
        },
        Row {
            input:
                "window cache with admission: a file shrunk under it, before its window is mapped",
            run: || {
                let page = page_size() as u64;
                let f = TempFile::with(&pattern(16 * page as usize));
                let cache = WindowConfig::new().window_size(2 * page).build().unwrap();
                let h = cache.open(&f.path).unwrap();
                f.rw().set_len(page).unwrap();
                window_read(&cache, h, 8 * page, 10)
            },
            want: E("Truncated", "the file was truncated"),
        },
        // ---- residency and scan ---------------------------------------------------
        Row {
            input: "residency::of_file on a pipe",
            run: || got(xmmap::residency::of_file(&filled_pipe(b"x"), 0, None), |_| "ok".into()),
            want: E("NotMappable", "pipe"),
        },
        Row {
            input: "residency::of_file past the end of the file",
            run: || {
                let f = TempFile::with(&pattern(100));
                got(xmmap::residency::of_file(&f.read(), 0, Some(u64::MAX)), |r| {
                    format!("{} pages", r.total_pages())
                })
            },
            want: Want::Ok,
        },
        Row {
            input: "scan of a file truncated during the scan",
            run: || {
                let chunk = 2 << 20;
                let f = TempFile::with(&pattern(3 * chunk));
                let file = f.rw();
                let mut o = ScanOptions::new();
                o.chunk_size(chunk).ahead(1).prefetch(Some(false));
                let mut calls = 0;
                // SAFETY: the truncation is deliberate; the callback touches
                // no byte after it, and the scan must report it.
                let r = unsafe {
                    o.scan(&file, |_| {
                        if calls == 0 {
                            file.set_len(chunk as u64 + 100).unwrap();
                        }
                        calls += 1;
                    })
                };
                got(r, |s| format!("{} bytes", s.bytes))
            },
            want: E("Truncated", "shrank"),
        },
        Row {
            input: "scan of a pipe",
            run: || {
                // SAFETY: nothing is mapped.
                got(unsafe { xmmap::scan(&filled_pipe(b"x"), |_| {}) }, |s| {
                    format!("{} bytes", s.bytes)
                })
            },
            want: E("NotMappable", ""),
        },
        // ---- a file truncated under its map ----------------------------------
        Row {
            input: "truncated under a map: flush",
            run: || {
                let (_f, m) = truncated();
                got(m.flush(), |_| "flushed".into())
            },
            want: Want::Ok,
        },
        Row {
            input: "truncated under a map: PopulateRead over the lost pages",
            run: || {
                let (_f, m) = truncated();
                got(m.advise(Advice::PopulateRead), |_| "advised".into())
            },
            want: E("Truncated", "no longer backs map offset"),
        },
        Row {
            input: "truncated under a map: lock over the lost pages",
            run: || {
                let (_f, m) = truncated();
                got(m.lock(), |_| "locked".into())
            },
            want: E("OutOfMemory", "truncated"),
        },
        Row {
            input: "truncated under a map: the first page still reads",
            run: || {
                let (_f, m) = truncated();
                Got::Ok(format!("byte 0 = {}", m[0]))
            },
            want: Want::Ok,
        },
        Row {
            input: "truncated under a map: remap to twice the length",
            run: || {
                let (_f, mut m) = truncated();
                let n = 2 * m.len();
                got(remap(&mut m, n, true), |_| "remapped".into())
            },
            want: Want::Ok,
        },
        Row {
            input: "truncated: a new map of the old length with populate",
            run: || {
                let f = TempFile::with(&pattern(page_size()));
                ro(MapOptions::new().len(4 * page_size()).populate(true), &f.read())
            },
            want: Want::Ok,
        },
        Row {
            input: "truncated under a map: read a lost page through the slice",
            run: || {
                let (_f, m) = truncated();
                Got::Ok(format!("{}", std::hint::black_box(m[2 * page_size()])))
            },
            want: Want::Signal(libc::SIGBUS),
        },
        Row {
            input: "truncated under a map: write a lost page through the slice",
            run: || {
                let (_f, mut m) = truncated();
                m[3 * page_size()] = 1;
                Got::Ok("written".into())
            },
            want: Want::Signal(libc::SIGBUS),
        },
        Row {
            input: "truncated under a MapRaw: read a lost page through the pointer",
            run: || {
                let f = TempFile::with(&pattern(4 * page_size()));
                let r = MapOptions::new().map_raw(&f.read()).unwrap();
                f.rw().set_len(0).unwrap();
                Got::Ok(format!("{}", touch(r.as_ptr(), page_size())))
            },
            want: Want::Signal(libc::SIGBUS),
        },
        Row {
            input: "len past end-of-file: touch a page wholly past it",
            run: || {
                let f = TempFile::with(b"x");
                let m = mapped(MapOptions::new().len(2 * page_size()), &f.read());
                Got::Ok(format!("{}", std::hint::black_box(m[page_size()])))
            },
            want: Want::Signal(libc::SIGBUS),
        },
        Row {
            input: "extra_flags with MAP_FIXED",
            run: || got(extra(0x10).map_anon(), bytes),
            want: E("InvalidInput", "holds MAP_FIXED,"),
        },
        Row {
            input: "extra_flags with MAP_SHARED on a private map",
            run: || got(extra(0x01).map_anon(), bytes),
            want: E("InvalidInput", "holds MAP_SHARED,"),
        },
        Row {
            input: "huge pages with no_reserve through a file map",
            run: || {
                let f = TempFile::with(b"x");
                ro(MapOptions::new().huge(None).no_reserve(true), &f.read())
            },
            want: E("InvalidInput", "huge with no_reserve"),
        },
        Row {
            input: "uninitialized through the safe map_anon",
            run: || got(MapOptions::new().len(1).uninitialized(true).map_anon(), bytes),
            want: E("InvalidInput", "unchecked_map_anon"),
        },
    ]
}

fn outcome(g: &Got) -> String {
    match g {
        Got::Ok(s) => format!("Ok: {s}"),
        Got::Err(e) => format!("`{:?}`: {e}", e.kind()),
        Got::OpenFailed(e) => format!("`File::open` fails: {e}"),
        Got::Skip(s) => format!("skipped here: {s}"),
    }
}

fn kind_name(e: &xmmap::Error) -> String {
    let k = format!("{:?}", e.kind());
    k.split([' ', '(', '{']).next().unwrap_or_default().to_string()
}

/// Whether `g` is what `want` asks; `None` for a skip.
fn matches(g: &Got, want: Want) -> Option<bool> {
    Some(match (g, want) {
        (Got::Skip(_), _) => return None,
        (Got::Ok(_), Want::Ok) => true,
        (Got::Err(e), Want::Err(kind, text)) => {
            (kind.is_empty() || kind_name(e) == kind) && e.to_string().contains(text)
        }
        (Got::OpenFailed(_), Want::OpenFails) => true,
        _ => false,
    })
}

/// What xmmap's POSIX backend (macOS, FreeBSD; `--cfg xmmap_posix` here)
/// answers instead, for the rows that use what only Linux has.
fn posix_want(input: &str) -> Option<Want> {
    Some(match input {
        "remap after advice on part of the map" => E("Unsupported", "MADV_DONTFORK"),
        // No hugetlbfs: refused before the call.
        "huge pages of the default size, no pool" => {
            E("HugePagesUnavailable", "no default huge page size")
        }
        "huge 2 MiB pages for a file not on hugetlbfs" | "huge 2 MiB pages at offset 4096" => {
            E("HugePagesUnavailable", "(supported: none)")
        }
        "MAP_SYNC on a file not on DAX" => E("Unsupported", "MAP_SHARED_VALIDATE"),
        "map_sealed on an unsealed memfd" | "map_sealed on a regular file" => {
            E("Unsupported", "F_GET_SEALS")
        }
        "truncated under a map: PopulateRead over the lost pages" => {
            E("Unsupported", "MADV_POPULATE_READ")
        }
        "truncated under a map: remap to twice the length" => E("Unsupported", "mremap"),
        "truncated: a new map of the old length with populate" => E("Unsupported", "MAP_POPULATE"),
        _ => return None,
    })
}

#[test]
fn every_bad_input_gets_its_typed_error() {
    let table = this_test!();
    if !is_child(table) {
        let out = child_output(table, &[]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if std::env::var_os("XMMAP_PRINT_TABLE").is_some() {
            println!(
                "{}",
                stdout.lines().filter(|l| l.starts_with('|')).collect::<Vec<_>>().join("\n")
            );
        }
        assert!(out.status.success(), "{:?}\n{}", out.status, child_stderr(&out));
        return;
    }
    // Warm up a thread so its cached stack is not counted as a leak.
    std::thread::spawn(|| {}).join().unwrap();
    let before = map_count();
    let mut bad = Vec::new();
    let mut tried = 0;
    for row in rows().iter().filter(|r| !matches!(r.want, Want::Signal(_))) {
        let g = (row.run)();
        tried += 1;
        let line = outcome(&g).replace('|', "\\|").replace('\n', " ");
        println!("| {} | {line} | `{table}` |", row.input);
        let want = if POSIX { posix_want(row.input).unwrap_or(row.want) } else { row.want };
        match matches(&g, want) {
            Some(true) => {}
            None => crate::common::skipped_here(&format!("{table}: {}", row.input), &line),
            Some(false) => bad.push(format!("{}: {line}", row.input)),
        }
    }
    // Under a sanitizer or valgrind, whose allocators map memory of their
    // own, the count says nothing.
    let after = if std::env::var_os("XMMAP_SANITIZED").is_some() { before } else { map_count() };
    if !bad.is_empty() || after != before {
        eprintln!("{tried} rows; unexpected:\n{}", bad.join("\n"));
        eprintln!("mappings before {before}, after {after}");
        std::process::exit(1);
    }
    std::process::exit(0);
}

#[test]
fn bad_inputs_that_fault_die_by_their_signal() {
    let signals = this_test!();
    if is_child(signals) {
        let i: usize = std::env::var("XMMAP_BAD_INPUT_ROW").unwrap().parse().unwrap();
        let g = (rows()[i].run)();
        eprintln!("survived: {}", outcome(&g));
        std::process::exit(0);
    }
    if std::env::var_os("XMMAP_PRINT_TABLE").is_some() {
        println!();
    }
    for (i, row) in rows().iter().enumerate() {
        let Want::Signal(sig) = row.want else { continue };
        let out = child_output(signals, &[("XMMAP_BAD_INPUT_ROW", &i.to_string())]);
        if std::env::var_os("XMMAP_PRINT_TABLE").is_some() {
            let name = match signal_of(out.status) {
                Some(libc::SIGBUS) => "SIGBUS".to_string(),
                Some(libc::SIGSEGV) => "SIGSEGV".to_string(),
                other => format!("{other:?}"),
            };
            println!("| {} | dies by {name} (in a child) | `{signals}` |", row.input);
        }
        assert_eq!(signal_of(out.status), Some(sig), "{}: {}", row.input, child_stderr(&out));
    }
}
