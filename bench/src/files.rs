//! Benchmark files: where they live, how they are written, which page-cache
//! state they are in, and the directory that removes them afterwards.
//!
//! # Safety
//!
//! `posix_fadvise`, `statfs` and `sched_setaffinity` are called through
//! libc with valid descriptors, paths and buffers owned by the caller; none
//! of them touches memory the process relies on. They exist on Linux (and
//! `posix_fadvise` on FreeBSD); elsewhere these functions report
//! `Unsupported` or an unknown file system, so the crate still compiles.
#![allow(unsafe_code)]

#[cfg(target_os = "linux")]
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
use std::os::fd::AsRawFd;
#[cfg(target_os = "linux")]
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where benchmark files are created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// `/dev/shm`: tmpfs, whose page cache holds 4 KiB pages (unless
    /// `shmem_enabled` says otherwise).
    Shm,
    /// The system temp dir (`$TMPDIR`, else `/tmp`): usually a disk file
    /// system; ext4 caches a sequentially written file in large folios.
    Temp,
    /// A directory of the caller's choosing.
    Dir(PathBuf),
}

impl Place {
    /// The directory under which the temporary directory is made.
    pub fn base(&self) -> PathBuf {
        match self {
            Place::Shm => PathBuf::from("/dev/shm"),
            Place::Temp => std::env::temp_dir(),
            Place::Dir(d) => d.clone(),
        }
    }

    /// A short label: `/dev/shm (tmpfs)`, `/tmp (ext4)`.
    pub fn label(&self) -> String {
        let base = self.base();
        format!("{} ({})", base.display(), fs_type(&base))
    }
}

/// A directory removed with everything in it when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `xmmap-bench-<pid>-<n>` under `place`.
    ///
    /// # Errors
    ///
    /// The directory cannot be created.
    pub fn new(place: &Place) -> io::Result<TempDir> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = place.base().join(format!(
            "xmmap-bench-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&path)?;
        Ok(TempDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates `name` here with `size` bytes; see [`create_file`].
    ///
    /// # Errors
    ///
    /// As for [`create_file`].
    pub fn file(&self, name: &str, size: u64) -> io::Result<PathBuf> {
        let path = self.path.join(name);
        create_file(&path, size)?;
        Ok(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Writes `size` bytes of a non-constant pattern to `path` front to back in
/// 8 MiB writes (so a file system with large folios, such as ext4, caches
/// the file in large folios), then `fsync`s it so that no writeback runs
/// during the measurement. The file is hot afterwards: its pages stay in
/// the page cache.
///
/// # Errors
///
/// Creating, writing or syncing the file fails.
pub fn create_file(path: &Path, size: u64) -> io::Result<()> {
    const BLOCK: usize = 8 << 20;
    let block: Vec<u8> =
        (0..BLOCK as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(path)?;
    let mut left = size;
    while left > 0 {
        let n = left.min(BLOCK as u64) as usize;
        f.write_all(&block[..n])?;
        left -= n as u64;
    }
    f.sync_all()
}

/// Drops the file's pages from the page cache (`POSIX_FADV_DONTNEED`; the
/// file must be clean, as [`create_file`] leaves it): the next read is cold.
///
/// # Errors
///
/// Opening the file or the advice fails.
pub fn evict(path: &Path) -> io::Result<()> {
    let f = File::open(path)?;
    #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
    {
        drop(f);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "posix_fadvise exists on Linux and FreeBSD only",
        ))
    }
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    {
        // SAFETY: a valid descriptor; the advice changes no memory of ours.
        let rc = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::from_raw_os_error(rc))
        }
    }
}

/// Reads the file once so that its pages are in the page cache.
///
/// # Errors
///
/// Reading fails.
pub fn warm(path: &Path) -> io::Result<()> {
    let mut f = File::open(path)?;
    io::copy(&mut f, &mut io::sink()).map(|_| ())
}

/// The file system type of `path` by its `statfs` magic: `ext4`, `tmpfs`,
/// `xfs`, `btrfs`, ... or the magic in hex.
#[cfg(not(target_os = "linux"))]
pub fn fs_type(_path: &Path) -> String {
    "unknown".into()
}

/// The file system type of `path` by its `statfs` magic: `ext4`, `tmpfs`,
/// `xfs`, `btrfs`, ... or the magic in hex.
#[cfg(target_os = "linux")]
pub fn fs_type(path: &Path) -> String {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else { return "unknown".into() };
    // SAFETY: a zeroed statfs is a valid output buffer.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string, `st` a valid buffer.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return "unknown".into();
    }
    #[allow(clippy::unnecessary_cast)]
    match st.f_type as i64 {
        0xEF53 => "ext4".into(),
        0x0102_1994 => "tmpfs".into(),
        0x5846_5342 => "xfs".into(),
        0x9123_683E => "btrfs".into(),
        0x794C_7630 => "overlayfs".into(),
        0x6969 => "nfs".into(),
        0x2FC1_2FC1 => "zfs".into(),
        0x0102_1997 => "9p".into(),
        0x6573_5546 => "fuse".into(),
        0x9584_58f6 => "hugetlbfs".into(),
        m => format!("fs {m:#x}"),
    }
}

/// Runs `f` on a new thread pinned to CPU `cpu` (`sched_setaffinity`), as
/// under `taskset -c <cpu>`: [`std::thread::available_parallelism`] says 1
/// there, so the fast path starts no helper.
///
/// # Errors
///
/// The affinity cannot be set (the CPU is not available to the process).
#[cfg(not(target_os = "linux"))]
pub fn on_one_cpu<T: Send>(_cpu: usize, _f: impl FnOnce() -> T + Send) -> io::Result<T> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "sched_setaffinity exists on Linux only"))
}

/// Runs `f` on a new thread pinned to CPU `cpu` (`sched_setaffinity`), as
/// under `taskset -c <cpu>`: [`std::thread::available_parallelism`] says 1
/// there, so the fast path starts no helper.
///
/// # Errors
///
/// The affinity cannot be set (the CPU is not available to the process).
#[cfg(target_os = "linux")]
pub fn on_one_cpu<T: Send>(cpu: usize, f: impl FnOnce() -> T + Send) -> io::Result<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: a zeroed cpu_set_t is a valid empty set.
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            // SAFETY: `set` is a valid cpu_set_t; CPU_SET bounds-checks `cpu`.
            unsafe { libc::CPU_SET(cpu, &mut set) };
            // SAFETY: pid 0 is this thread; `set` is valid for its size.
            let rc = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(f())
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}
