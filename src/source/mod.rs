//! mmap-or-read: [`Source`] holds the bytes of a file, mapped when that is
//! faster and possible, read otherwise, and says which.
//!
//! Like git's `NO_MMAP` emulation, the caller sees bytes either way. A
//! regular file whose range is at least the [threshold](SourceOptions::threshold)
//! is mapped; a smaller one is read into memory. Pipes, sockets, character
//! devices, files that report size 0 (procfs, and empty files), sysfs
//! attributes (which report one page) and every file the kernel refuses to
//! map (`ENODEV` from a FUSE or special file system, for example) are read.
//! The one refusal that is not worked around is the operator's: a mapping
//! over the [`Limit`] is returned as the error.
//!
//! # The threshold
//!
//! [`DEFAULT_THRESHOLD`] is 1 MiB, measured on the project's machine by
//! the `crossover` bench (`bench/benches/crossover.rs`). It times, side by
//! side, `Source` with `force_read` (`pread` into a `Vec`) against `Source`
//! with `force_map` (map, touch every page, unmap) for sizes from 1 KiB to
//! 16 MiB, and prints the smallest size from which the map wins at every
//! larger size. Reading wins on small files, where the `mmap`, the faults
//! and the `munmap` are fixed costs; mapping wins on large ones. The default
//! takes the size at which the two are even, because at equal speed a map
//! costs no private copy.
//!
//! The figures, and why this machine puts the crossover above DESIGN.md's
//! earlier 128–256 KiB (the fixed cost of `mmap` plus `munmap`, and ext4's
//! large folios from 2 MiB), are in BENCHMARKS.md ("Figures that left the
//! module docs" and "Source"), dated with the runs that took them.
//! Re-measure on a new machine with
//!
//! ```text
//! cargo bench -p xmmap-bench --bench crossover
//! scripts/bench.sh source
//! ```
//!
//! The second is the harness's check of the default as a whole: `Source`
//! per file against the better of `std::fs::read` and a plain map at every
//! size from 1 KiB to 64 MiB, against the target in BENCHMARKS.md.
//!
//! # Sealed memory files
//!
//! A file map hands out `&[u8]` only on the caller's promise that nobody
//! changes or shrinks the file ([`MapOptions::map`] is `unsafe`). The one
//! case where the kernel itself keeps that promise is a memfd sealed
//! against shrinking and writing: [`map_sealed`] checks the seals and maps
//! it safely, and [`sealed_memfd`] makes such a file from bytes (both in
//! `sealed.rs`).
//!
//! May call: `map`, `sys`, `limit`, `page`, `error`.
//!
//! # Safety
//!
//! The only unsafe code maps files. The public constructors that may map
//! are `unsafe fn`s whose callers promise what [`MapOptions::map`] asks;
//! [`map_sealed`] maps only after checking seals that make the kernel keep
//! that promise.
#![allow(unsafe_code)]

use std::fmt;
use std::fs::File;
use std::ops::Deref;
use std::path::Path;

use crate::error::{Error, ErrorKind, Result};
use crate::limit::Limit;
use crate::map::{Map, MapOptions};
use crate::page::{human, page_size};
use crate::sys::{self, Errno, FileInfo, FileKind, FsKind};

mod sealed;
pub use sealed::{map_sealed, sealed_memfd};

/// The default [threshold](SourceOptions::threshold): ranges of at least
/// this many bytes are mapped, smaller ones read. Measured, not guessed: see
/// the [module docs](self).
pub const DEFAULT_THRESHOLD: u64 = 1024 * 1024;

/// The bytes of a file, either mapped or read into memory:
/// `Deref<Target = [u8]>` either way, and [`is_mapped`](Self::is_mapped)
/// says which.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-source", std::process::id()));
/// # std::fs::write(&path, b"small file")?;
/// // SAFETY: nobody modifies or truncates the file while `src` lives.
/// let src = unsafe { xmmap::Source::open(&path)? };
/// assert_eq!(&src[..], b"small file");
/// assert!(!src.is_mapped()); // below the threshold: read
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Source {
    repr: Repr,
}

enum Repr {
    Mapped(Map),
    Read(Vec<u8>),
}

impl Source {
    /// Opens `path` read-only and maps or reads it with the default
    /// [`SourceOptions`]. Opening a FIFO waits for a writer, as `open(2)`
    /// does.
    ///
    /// # Safety
    ///
    /// - If the file is mapped, the `&[u8]` it hands out promises, as for
    ///   [`MapOptions::map`], that nobody (this process or another) writes
    ///   to or shrinks the file while the `Source` lives. A file that is read
    ///   needs no promise, but which way it goes depends on its size and
    ///   kind, so the promise is asked for once, here.
    ///
    /// # Errors
    ///
    /// As [`SourceOptions::open`].
    ///
    /// # Examples
    ///
    /// See [`Source`].
    pub unsafe fn open(path: impl AsRef<Path>) -> Result<Source> {
        // SAFETY: passed on to the caller.
        unsafe { SourceOptions::new().open(path) }
    }

    /// Maps or reads the file behind `file` with the default
    /// [`SourceOptions`]. Regular files are read from offset 0 whatever the
    /// descriptor's position; pipes and devices from where they are.
    ///
    /// # Safety
    ///
    /// - As [`Source::open`].
    ///
    /// # Errors
    ///
    /// As [`SourceOptions::from_file`].
    ///
    /// # Examples
    ///
    /// ```
    /// let file = std::fs::File::open("/proc/self/status")?;
    /// // SAFETY: procfs files are never mapped; reading needs no promise.
    /// let status = unsafe { xmmap::Source::from_file(&file)? };
    /// assert!(!status.is_mapped());
    /// assert!(status.starts_with(b"Name:"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn from_file(file: &File) -> Result<Source> {
        // SAFETY: passed on to the caller.
        unsafe { SourceOptions::new().from_file(file) }
    }

    /// Whether the bytes are a memory map (`true`) or were read (`false`).
    pub fn is_mapped(&self) -> bool {
        matches!(self.repr, Repr::Mapped(_))
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The map, when the bytes are mapped (for residency, advice and
    /// guarded reads).
    pub fn as_map(&self) -> Option<&Map> {
        match &self.repr {
            Repr::Mapped(m) => Some(m),
            Repr::Read(_) => None,
        }
    }

    fn as_slice(&self) -> &[u8] {
        match &self.repr {
            Repr::Mapped(m) => m,
            Repr::Read(v) => v,
        }
    }
}

impl From<Map> for Source {
    fn from(map: Map) -> Source {
        Source { repr: Repr::Mapped(map) }
    }
}

impl From<Vec<u8>> for Source {
    fn from(bytes: Vec<u8>) -> Source {
        Source { repr: Repr::Read(bytes) }
    }
}

impl Deref for Source {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Source {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("mapped", &self.is_mapped())
            .field("len", &self.len())
            .finish()
    }
}

/// How [`Source`] chooses between mapping and reading.
///
/// Setters take `&mut self` and return `&mut Self`, as for
/// [`MapOptions`].
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-srcopts", std::process::id()));
/// # std::fs::write(&path, vec![7u8; 10_000])?;
/// use xmmap::SourceOptions;
///
/// // SAFETY: nobody modifies or truncates the file while the sources live.
/// let mapped = unsafe { SourceOptions::new().threshold(4096).open(&path)? };
/// assert!(mapped.is_mapped());
/// let read = unsafe { SourceOptions::new().force_read(true).offset(9_990).open(&path)? };
/// assert!(!read.is_mapped());
/// assert_eq!(read.len(), 10);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SourceOptions {
    threshold: u64,
    force_map: bool,
    force_read: bool,
    offset: u64,
    len: Option<u64>,
    limit: Option<Limit>,
}

impl Default for SourceOptions {
    fn default() -> SourceOptions {
        SourceOptions::new()
    }
}

impl SourceOptions {
    /// The defaults: [`DEFAULT_THRESHOLD`], the whole file, the limit from
    /// `XMMAP_LIMIT`.
    pub fn new() -> SourceOptions {
        SourceOptions {
            threshold: DEFAULT_THRESHOLD,
            force_map: false,
            force_read: false,
            offset: 0,
            len: None,
            limit: None,
        }
    }

    /// Regular files whose range is at least `bytes` long are mapped,
    /// shorter ones read. `0` maps every non-empty regular file.
    pub fn threshold(&mut self, bytes: u64) -> &mut Self {
        self.threshold = bytes;
        self
    }

    /// Map whatever the size, and return the error instead of reading when
    /// the file cannot be mapped (a pipe, a procfs file, a file system
    /// that refuses).
    pub fn force_map(&mut self, on: bool) -> &mut Self {
        self.force_map = on;
        self
    }

    /// Read whatever the size: never map.
    pub fn force_read(&mut self, on: bool) -> &mut Self {
        self.force_read = on;
        self
    }

    /// Start at byte `offset` of the file (any byte). For pipes and
    /// devices, the bytes before it are read and dropped.
    pub fn offset(&mut self, offset: u64) -> &mut Self {
        self.offset = offset;
        self
    }

    /// Take at most `len` bytes. Default: to the end of the file, which for
    /// a file that is read means until `read` reports end of file (the
    /// file may have grown or shrunk since `fstat`). An endless device such
    /// as `/dev/zero` needs a length.
    pub fn len(&mut self, len: u64) -> &mut Self {
        self.len = Some(len);
        self
    }

    /// The limit a mapping is checked against, instead of `XMMAP_LIMIT`. A
    /// mapping over it is an error ([`ErrorKind::LimitExceeded`]), not a
    /// reason to read instead; reading is not limited.
    pub fn limit(&mut self, limit: Limit) -> &mut Self {
        self.limit = Some(limit);
        self
    }

    /// Opens `path` read-only and maps or reads it.
    ///
    /// # Safety
    ///
    /// - As [`Source::open`].
    ///
    /// # Errors
    ///
    /// - The `open(2)` error, naming the path.
    /// - Otherwise as [`from_file`](Self::from_file).
    ///
    /// # Examples
    ///
    /// See [`SourceOptions`].
    pub unsafe fn open(&self, path: impl AsRef<Path>) -> Result<Source> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| {
            Error::with_source(ErrorKind::Io, format!("cannot open {}", path.display()), e)
        })?;
        // SAFETY: our caller made the promise of `Source::open`.
        unsafe { self.load(&file, &Name::Path(path)) }
    }

    /// Maps or reads the file behind `file`. Regular files are read from
    /// [`offset`](Self::offset) with `pread`, leaving the descriptor's
    /// position alone; pipes, sockets and character devices are read from
    /// their current position.
    ///
    /// # Safety
    ///
    /// - As [`Source::open`].
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::InvalidInput`]: both `force_map` and `force_read`; an
    ///   offset past the end of a regular file; a directory.
    /// - [`ErrorKind::LimitExceeded`] / [`ErrorKind::BadLimit`]: the range
    ///   would be mapped and the limit refuses it.
    /// - With `force_map`: every mapping error, for example
    ///   [`ErrorKind::NotMappable`] for a pipe or a procfs file.
    /// - [`ErrorKind::OutOfMemory`] when the bytes to read do not fit in
    ///   memory; [`ErrorKind::Io`] for a failed `read`, naming the file.
    ///
    /// # Examples
    ///
    /// ```
    /// let null = std::fs::File::open("/dev/null")?;
    /// // SAFETY: devices are read, not mapped, unless forced.
    /// let empty = unsafe { xmmap::SourceOptions::new().from_file(&null)? };
    /// assert!(empty.is_empty() && !empty.is_mapped());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn from_file(&self, file: &File) -> Result<Source> {
        // SAFETY: our caller made the promise of `Source::open`.
        unsafe { self.load(file, &Name::Fd(file)) }
    }

    /// # Safety
    ///
    /// - As [`Source::open`]: a mapped source hands out `&[u8]`, so nobody
    ///   may change or shrink the file while it lives.
    unsafe fn load(&self, file: &File, name: &Name<'_>) -> Result<Source> {
        let info = sys::fstat(file)
            .map_err(|e| Error::with_source(ErrorKind::Io, format!("fstat of {name}"), e))?;
        let page = page_size() as u64;
        // Only a page-sized file that would otherwise be mapped needs the
        // sysfs check: one that is read anyway skips the `fstatfs`.
        let may_map = !self.force_read && !self.force_map && self.threshold <= page;
        let fs = if may_map && info.kind == FileKind::Regular && info.size == page {
            sys::fs_kind(file).unwrap_or(FsKind::Other)
        } else {
            FsKind::Other
        };
        let how = decide(self, info, fs).map_err(|e| {
            Error::new(e.kind().clone(), format!("cannot load {name}: {}", e.message()))
        })?;
        let map_error = match how {
            How::Map { len } => {
                let mut o = MapOptions::new();
                o.offset(self.offset).len(len);
                if let Some(l) = self.limit {
                    o.limit(l);
                }
                // SAFETY: our caller promised that nobody changes or shrinks
                // the file while the map lives.
                match unsafe { o.map(file) } {
                    Ok(map) => return Ok(Source { repr: Repr::Mapped(map) }),
                    Err(e)
                        if self.force_map
                            || matches!(
                                e.kind(),
                                ErrorKind::LimitExceeded { .. } | ErrorKind::BadLimit
                            ) =>
                    {
                        return Err(e)
                    }
                    Err(e) => Some(e),
                }
            }
            How::Read => None,
        };
        let positional = matches!(info.kind, FileKind::Regular | FileKind::BlockDevice);
        let hint =
            if info.kind == FileKind::Regular { info.size.saturating_sub(self.offset) } else { 0 };
        read_file(file, name, positional, self.offset, self.len, hint)
            .map(|v| Source { repr: Repr::Read(v) })
            .map_err(|e| match map_error {
                Some(m) => e.detail(format!("mapping it failed first: {m}")),
                None => e,
            })
    }
}

/// How error messages name the file: rendered only when an error needs it
/// (reading `/proc/self/fd/N` costs more than a small read).
enum Name<'a> {
    Path(&'a Path),
    Fd(&'a File),
}

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Path(p) => write!(f, "{}", p.display()),
            Name::Fd(file) => match sys::fd_path(file) {
                Some(p) => write!(f, "{}", p.display()),
                None => f.write_str("the file"),
            },
        }
    }
}

/// Which way a file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// Map `len` bytes from the offset.
    Map { len: usize },
    /// Read from the offset to the length or end of file.
    Read,
}

/// The choice, from the options and what `fstat` (and, for page-sized
/// regular files, `fstatfs`) said. Makes no system call.
fn decide(o: &SourceOptions, info: FileInfo, fs: FsKind) -> Result<How> {
    if o.force_map && o.force_read {
        return Err(Error::invalid("force_map and force_read exclude each other: choose one"));
    }
    match info.kind {
        FileKind::Directory => {
            return Err(Error::invalid("it is a directory: there are no bytes to map or read"))
        }
        FileKind::Regular => {}
        FileKind::Fifo | FileKind::Socket if o.force_map => {
            return Err(Error::new(
                ErrorKind::NotMappable,
                format!(
                    "force_map is set but this is {}, which cannot be memory-mapped; unset \
                     force_map to read it",
                    info.kind.describe()
                ),
            ))
        }
        _ if o.force_map => {
            let len = o.len.ok_or_else(|| {
                Error::invalid(format!(
                    "force_map on {} needs a length (SourceOptions::len): it has no size",
                    info.kind.describe()
                ))
            })?;
            return Ok(How::Map { len: fit(len)? });
        }
        _ => return Ok(How::Read),
    }
    // A regular file. Size 0 is an empty file or one whose size is unknown
    // (procfs, some FUSE and debug file systems): read to end of file.
    if info.size == 0 && !o.force_map {
        return Ok(How::Read);
    }
    if fs == FsKind::Sys && !o.force_map {
        return Ok(How::Read);
    }
    if o.offset > info.size {
        return Err(Error::invalid(format!(
            "offset {} is past the end of the file ({} bytes)",
            o.offset, info.size
        )));
    }
    let available = info.size - o.offset;
    let len = o.len.map_or(available, |l| l.min(available));
    if o.force_read || (!o.force_map && len < o.threshold) {
        return Ok(How::Read);
    }
    Ok(How::Map { len: fit(len)? })
}

fn fit(len: u64) -> Result<usize> {
    usize::try_from(len).ok().filter(|&l| l <= isize::MAX as usize).ok_or_else(|| {
        Error::invalid(format!("length {len} does not fit in memory (more than isize::MAX bytes)"))
    })
}

/// Reads from `offset` until end of file or `len` bytes, whichever comes
/// first. `positional` reads with `pread` (regular files, block devices);
/// otherwise with `read` from the current position, dropping `offset` bytes
/// first. `hint` sizes the first allocation.
fn read_file(
    file: &File,
    name: &Name<'_>,
    mut positional: bool,
    offset: u64,
    len: Option<u64>,
    hint: u64,
) -> Result<Vec<u8>> {
    let read_error = |e: std::io::Error, at: u64| {
        Error::with_source(ErrorKind::Io, format!("read of {name} at offset {at}"), e)
    };
    // A stream read to its end may never end (/dev/zero): say how to bound it.
    let endless = if !positional && len.is_none() {
        "; it was being read to end of file: give the bytes to read with SourceOptions::len"
    } else {
        ""
    };
    let no_room = |bytes: u64| {
        Error::new(
            ErrorKind::OutOfMemory,
            format!(
                "cannot read {name}: no memory for a buffer of {bytes} bytes ({}){endless}",
                human(bytes)
            ),
        )
    };
    let max = len.unwrap_or(u64::MAX);
    if !positional && offset > 0 {
        let mut skipped = 0u64;
        let mut scratch = Vec::with_capacity(64 * 1024);
        while skipped < offset {
            scratch.clear();
            let want = usize::try_from(offset - skipped).unwrap_or(usize::MAX);
            match sys::read_spare(file, &mut scratch, want, None) {
                Ok(0) => return Ok(Vec::new()),
                Ok(n) => skipped += n as u64,
                Err(e) => return Err(read_error(e, skipped)),
            }
        }
    }
    let mut buf: Vec<u8> = Vec::new();
    let first = hint.min(max).min(isize::MAX as u64) as usize;
    buf.try_reserve_exact(first.max(1)).map_err(|_| no_room(first as u64))?;
    loop {
        let done = buf.len() as u64;
        if done >= max {
            break;
        }
        let remaining = usize::try_from(max - done).unwrap_or(usize::MAX);
        if buf.len() == buf.capacity() {
            // Full: probe for end of file before growing, so that a file
            // whose size fstat told exactly is read without a reallocation.
            let mut probe = Vec::with_capacity(64);
            let at = positional.then(|| offset + done);
            match sys::read_spare(file, &mut probe, remaining, at) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return Err(read_error(e, offset + done)),
            }
            let grow = buf.len().max(8192).min(remaining);
            buf.try_reserve(grow.max(probe.len()))
                .map_err(|_| no_room((buf.len() + grow) as u64))?;
            buf.extend_from_slice(&probe);
            continue;
        }
        let at = positional.then(|| offset + done);
        match sys::read_spare(file, &mut buf, remaining, at) {
            Ok(0) => break,
            Ok(_) => {}
            // Some devices cannot seek: read them as a stream from where
            // they are (only possible before anything was read at offset 0).
            Err(e)
                if positional
                    && done == 0
                    && offset == 0
                    && Errno::of(&e) == Some(Errno::SPIPE) =>
            {
                positional = false;
            }
            Err(e) => return Err(read_error(e, offset + done)),
        }
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(kind: FileKind, size: u64) -> FileInfo {
        FileInfo { kind, size, dev: 1, ino: 1 }
    }

    fn regular(size: u64) -> FileInfo {
        info(FileKind::Regular, size)
    }

    #[test]
    fn threshold_splits_mapping_from_reading() {
        let o = SourceOptions::new().threshold(1000).clone();
        assert_eq!(decide(&o, regular(999), FsKind::Other).unwrap(), How::Read);
        assert_eq!(decide(&o, regular(1000), FsKind::Other).unwrap(), How::Map { len: 1000 });
        let def = SourceOptions::new();
        assert_eq!(decide(&def, regular(DEFAULT_THRESHOLD - 1), FsKind::Other).unwrap(), How::Read);
    }

    #[test]
    fn the_range_not_the_file_meets_the_threshold() {
        let o = SourceOptions::new().threshold(1000).offset(500).clone();
        assert_eq!(decide(&o, regular(1400), FsKind::Other).unwrap(), How::Read);
        assert_eq!(decide(&o, regular(1500), FsKind::Other).unwrap(), How::Map { len: 1000 });
        // A length past the end is cut to the file: a map never reaches
        // pages past end-of-file.
        let l = SourceOptions::new().threshold(0).offset(10).len(1 << 40).clone();
        assert_eq!(decide(&l, regular(100), FsKind::Other).unwrap(), How::Map { len: 90 });
        let past = SourceOptions::new().offset(101).clone();
        assert_eq!(
            decide(&past, regular(100), FsKind::Other).unwrap_err().kind(),
            &ErrorKind::InvalidInput
        );
    }

    #[test]
    fn unsized_and_special_files_are_read() {
        let o = SourceOptions::new().threshold(0).clone();
        for kind in [FileKind::Fifo, FileKind::Socket, FileKind::CharDevice, FileKind::BlockDevice]
        {
            assert_eq!(decide(&o, info(kind, 0), FsKind::Other).unwrap(), How::Read, "{kind:?}");
        }
        assert_eq!(decide(&o, regular(0), FsKind::Proc).unwrap(), How::Read);
        assert_eq!(decide(&o, regular(0), FsKind::Other).unwrap(), How::Read);
        assert_eq!(decide(&o, regular(4096), FsKind::Sys).unwrap(), How::Read);
        let e = decide(&o, info(FileKind::Directory, 4096), FsKind::Other).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    }

    #[test]
    fn forcing_either_way() {
        let map = SourceOptions::new().force_map(true).clone();
        assert_eq!(decide(&map, regular(1), FsKind::Other).unwrap(), How::Map { len: 1 });
        assert_eq!(decide(&map, regular(0), FsKind::Other).unwrap(), How::Map { len: 0 });
        let e = decide(&map, info(FileKind::Fifo, 0), FsKind::Other).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::NotMappable);
        assert!(e.to_string().contains("pipe"), "{e}");
        let e = decide(&map, info(FileKind::CharDevice, 0), FsKind::Other).unwrap_err();
        assert!(e.to_string().contains("needs a length"), "{e}");
        let dev = SourceOptions::new().force_map(true).len(8192).clone();
        assert_eq!(
            decide(&dev, info(FileKind::CharDevice, 0), FsKind::Other).unwrap(),
            How::Map { len: 8192 }
        );
        let read = SourceOptions::new().force_read(true).clone();
        assert_eq!(decide(&read, regular(1 << 40), FsKind::Other).unwrap(), How::Read);
        let both = SourceOptions::new().force_map(true).force_read(true).clone();
        assert_eq!(
            decide(&both, regular(1), FsKind::Other).unwrap_err().kind(),
            &ErrorKind::InvalidInput
        );
    }
}
