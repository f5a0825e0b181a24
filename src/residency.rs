//! What of a file or a map is in memory, and moving it in or out: the
//! ground under a vmtouch-like `residency` command.
//!
//! - [`Map::residency`] (and on [`MapMut`], [`MapRaw`]): `mincore(2)` over
//!   the map, with a per-page [`PageBitmap`].
//! - [`Map::populate`]: `MADV_POPULATE_READ` (`MADV_POPULATE_WRITE` for
//!   [`MapMut`]); an error, not `SIGBUS`, when the file is shorter than the
//!   map.
//! - [`Map::evict`] gives `MADV_PAGEOUT`.
//! - [`of_file`]: `cachestat(2)` (Linux 6.5) where the kernel has it,
//!   `mincore(2)` over a temporary read-only map otherwise;
//!   [`of_file_pages`] always the latter, for the per-page bitmap.
//! - [`evict_file`] (`posix_fadvise(POSIX_FADV_DONTNEED)`) and
//!   [`populate_file`].
//!
//! Counts are in base pages of [`page_size`] bytes, even where the page
//! cache holds a file in larger folios (ext4 and tmpfs may use 2 MiB ones):
//! a 2 MiB folio counts as 512 resident 4 KiB pages. File ranges are
//! `offset` plus an optional `len` (`None`: to the end of the file), cut to
//! the file's size; a page counts when any byte of the range lies in it.
//!
//! What the kernel lets a process see: since Linux 5.0 `mincore` reports
//! page cache residency of a file map only if the process owns the file or
//! could open it for writing (otherwise only the pages it has mapped itself
//! count), and recent kernels apply the same rule to `cachestat`, which then
//! fails with `EPERM`.
//!
//! May call: `map`, `sys`, `page`, `limit`, `error`, `io` (the guarded
//! positioned read that the populate fallback touches pages with).
//!
//! # Safety
//!
//! Unsafe code here hands the kernel address ranges that a map owns
//! (`mincore`, `madvise` with advice that never changes contents) and a
//! buffer sized for the range.
#![allow(unsafe_code)]

use std::fmt;
use std::fs::File;

use crate::error::{Error, ErrorKind, Result};
use crate::io::{read_mapped, Mapped};
use crate::map::{Advice, Inner, Map, MapMut, MapOptions, MapRaw};
use crate::page::{align_down, align_up, page_size, pages_covering};
use crate::sys::{self, fadv, Errno};

/// Bytes mapped at a time when a file range is inspected or populated
/// through a temporary map (less if the mapping limit is lower).
const CHUNK: u64 = 1 << 30;

/// How a [`Residency`] was measured.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `cachestat(2)`: counts only, plus dirty, writeback and eviction
    /// counts ([`CacheCounts`]).
    Cachestat,
    /// `mincore(2)`: counts and a per-page bitmap.
    Mincore,
}

/// The page cache counts that `cachestat(2)` adds, in pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheCounts {
    /// Pages dirty (written, not yet written back).
    pub dirty: u64,
    /// Pages being written back now.
    pub writeback: u64,
    /// Pages evicted from the cache (that the kernel still remembers).
    pub evicted: u64,
    /// Evicted pages that were recently in use (their refault would count
    /// as thrashing).
    pub recently_evicted: u64,
}

/// One bit per page: whether it is resident.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PageBitmap {
    words: Vec<u64>,
    len: usize,
}

impl PageBitmap {
    /// A bitmap from `mincore`'s vector: bit 0 of each byte.
    fn from_mincore(vec: &[u8]) -> PageBitmap {
        let mut words = vec![0u64; vec.len().div_ceil(64)];
        for (i, &b) in vec.iter().enumerate() {
            if b & 1 != 0 {
                words[i / 64] |= 1 << (i % 64);
            }
        }
        PageBitmap { words, len: vec.len() }
    }

    /// Appends another bitmap (the next chunk of a range).
    fn extend(&mut self, other: &PageBitmap) {
        for i in 0..other.len {
            let bit = other.words[i / 64] >> (i % 64) & 1;
            let at = self.len + i;
            if at / 64 == self.words.len() {
                self.words.push(0);
            }
            self.words[at / 64] |= bit << (at % 64);
        }
        self.len += other.len;
    }

    /// Pages in the bitmap.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the bitmap covers no page.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether page `i` is resident; `None` past the end.
    pub fn get(&self, i: usize) -> Option<bool> {
        (i < self.len).then(|| self.words[i / 64] >> (i % 64) & 1 != 0)
    }

    /// Resident pages.
    pub fn count_resident(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// Resident pages among pages `start..end` (cut to the bitmap), for
    /// drawing one cell of a bar that stands for many pages.
    pub fn count_resident_in(&self, start: usize, end: usize) -> u64 {
        let end = end.min(self.len);
        (start.min(end)..end).filter(|&i| self.words[i / 64] >> (i % 64) & 1 != 0).count() as u64
    }

    /// Each page in order: whether it is resident.
    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(|i| self.words[i / 64] >> (i % 64) & 1 != 0)
    }
}

impl fmt::Debug for PageBitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageBitmap")
            .field("len", &self.len)
            .field("resident", &self.count_resident())
            .finish()
    }
}

/// What of a file range or a map is in memory, in pages of
/// [`page_size`](Self::page_size) bytes.
///
/// # Examples
///
/// ```
/// let map = xmmap::MapMut::map_anon(4 * xmmap::page_size())?;
/// let before = map.residency()?;
/// assert_eq!((before.total_pages(), before.resident_pages()), (4, 0));
/// map.populate()?;
/// assert!(map.residency()?.is_fully_resident());
/// # Ok::<(), xmmap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Residency {
    page_size: usize,
    total: u64,
    resident: u64,
    pages: Option<PageBitmap>,
    cache: Option<CacheCounts>,
    method: Method,
}

impl Residency {
    /// The page size the counts are in (the base page, [`page_size`]).
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Pages in the range or map.
    pub fn total_pages(&self) -> u64 {
        self.total
    }

    /// Pages resident in memory.
    pub fn resident_pages(&self) -> u64 {
        self.resident
    }

    /// Resident pages times the page size.
    pub fn resident_bytes(&self) -> u64 {
        self.resident.saturating_mul(self.page_size as u64)
    }

    /// Whether every page is resident (true for no pages).
    pub fn is_fully_resident(&self) -> bool {
        self.resident == self.total
    }

    /// The per-page bitmap, when measured with `mincore`.
    pub fn pages(&self) -> Option<&PageBitmap> {
        self.pages.as_ref()
    }

    /// Dirty, writeback and eviction counts, when measured with `cachestat`.
    pub fn cache_counts(&self) -> Option<CacheCounts> {
        self.cache
    }

    /// How the residency was measured.
    pub fn method(&self) -> Method {
        self.method
    }

    fn from_bitmap(bits: PageBitmap) -> Residency {
        Residency {
            page_size: page_size(),
            total: bits.len() as u64,
            resident: bits.count_resident(),
            pages: Some(bits),
            cache: None,
            method: Method::Mincore,
        }
    }
}

/// A file range cut to the file: the first page and the number of pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pages {
    first: u64,
    count: u64,
}

/// The pages of `offset..offset + len` (`None`: to the end) in a file of
/// `size` bytes, cut to the file.
fn file_pages(op: &str, size: u64, offset: u64, len: Option<u64>, page: u64) -> Result<Pages> {
    let end = match len {
        None => size,
        Some(l) => offset.checked_add(l).ok_or_else(|| {
            Error::invalid(format!("{op}: offset {offset} + length {l} overflows u64"))
        })?,
    };
    let (start, end) = (offset.min(size), end.min(size));
    if start >= end {
        return Ok(Pages { first: start / page, count: 0 });
    }
    let first = start / page;
    let count = end.div_ceil(page) - first;
    Ok(Pages { first, count })
}

fn file_size(op: &str, file: &File) -> Result<u64> {
    let info = sys::fstat(file)
        .map_err(|e| Error::with_source(ErrorKind::Io, format!("{op}: fstat"), e))?;
    if info.kind != sys::FileKind::Regular {
        return Err(Error::new(
            ErrorKind::NotMappable,
            format!(
                "{op}: {} is not a regular file: only regular files have a size to count page \
                 cache pages over",
                info.kind.describe()
            ),
        ));
    }
    Ok(info.size)
}

fn name(file: &File) -> String {
    sys::fd_path(file).map_or_else(|| "the file".to_string(), |p| p.display().to_string())
}

/// What of `offset..offset + len` of `file` (`None`: to the end) is in
/// the page cache: `cachestat(2)` where the kernel has it (counts, plus
/// [`CacheCounts`]), `mincore(2)` over a temporary read-only map otherwise
/// (counts and a bitmap).
///
/// # Errors
///
/// - [`ErrorKind::InvalidInput`] if `offset + len` overflows.
/// - [`ErrorKind::NotMappable`] for anything but a regular file (a pipe,
///   socket, directory or device).
/// - [`ErrorKind::PermissionDenied`] when the kernel withholds the answer
///   (see the [module docs](self)).
/// - The temporary map's errors ([`ErrorKind::LimitExceeded`] if the limit is
///   below one page) on the `mincore` path.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-offile", std::process::id()));
/// # std::fs::write(&path, vec![1u8; 3 * xmmap::page_size()])?;
/// let file = std::fs::File::open(&path)?;
/// let r = xmmap::residency::of_file(&file, 0, None)?;
/// assert_eq!(r.total_pages(), 3);
/// assert!(r.resident_pages() <= 3);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn of_file(file: &File, offset: u64, len: Option<u64>) -> Result<Residency> {
    let page = page_size() as u64;
    let size = file_size("of_file", file)?;
    let pages = file_pages("of_file", size, offset, len, page)?;
    if pages.count == 0 {
        return Ok(Residency::from_bitmap(PageBitmap::default()));
    }
    match cachestat(file, &pages, offset, page)? {
        Some([cached, dirty, writeback, evicted, recently_evicted]) => Ok(Residency {
            page_size: page as usize,
            total: pages.count,
            resident: cached.min(pages.count),
            pages: None,
            cache: Some(CacheCounts { dirty, writeback, evicted, recently_evicted }),
            method: Method::Cachestat,
        }),
        None => mincore_of_file(file, pages),
    }
}

/// `cachestat(2)` over `pages`: the five counts, `None` where the kernel or
/// the file system lacks the call, a typed error otherwise.
fn cachestat(file: &File, pages: &Pages, offset: u64, page: u64) -> Result<Option<[u64; 5]>> {
    match sys::cachestat(file, pages.first * page, pages.count * page) {
        Ok(counts) => Ok(Some(counts)),
        Err(e) if Errno::of(&e) == Some(Errno::PERM) => Err(Error::with_source(
            ErrorKind::PermissionDenied,
            format!(
                "cachestat of {}: the kernel reports page cache residency only to the file's \
                 owner or to a process that may write it",
                name(file)
            ),
            e,
        )),
        // ENOSYS: before Linux 6.5; EOPNOTSUPP: hugetlbfs; EINVAL: a
        // seccomp filter or an emulator that does not know the call.
        Err(e) if matches!(Errno::of(&e), Some(Errno::NOSYS | Errno::OPNOTSUPP | Errno::INVAL)) => {
            Ok(None)
        }
        Err(e) => Err(Error::with_source(
            ErrorKind::Io,
            format!("cachestat of {} pages at offset {} of {}", pages.count, offset, name(file)),
            e,
        )),
    }
}

/// What of `offset..offset + len` of `file` is in the page cache, page by
/// page: always `mincore(2)` over a temporary read-only map, so the result
/// has a [`PageBitmap`] (for `vmtouch -v`-like bars).
///
/// # Errors
///
/// As [`of_file`].
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-ofpages", std::process::id()));
/// # std::fs::write(&path, vec![1u8; 2 * xmmap::page_size()])?;
/// let file = std::fs::File::open(&path)?;
/// xmmap::residency::populate_file(&file, 0, None)?;
/// let r = xmmap::residency::of_file_pages(&file, 0, None)?;
/// let bits = r.pages().unwrap();
/// assert_eq!(bits.iter().collect::<Vec<_>>(), [true, true]);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn of_file_pages(file: &File, offset: u64, len: Option<u64>) -> Result<Residency> {
    let page = page_size() as u64;
    let size = file_size("of_file_pages", file)?;
    let pages = file_pages("of_file_pages", size, offset, len, page)?;
    mincore_of_file(file, pages)
}

/// The byte length of one temporary map: [`CHUNK`], or less under a lower
/// mapping limit (never below a page: the limit then refuses the map).
fn chunk_bytes(page: u64) -> Result<u64> {
    let limit = crate::Limit::from_env()?;
    Ok(limit.get().map_or(CHUNK, |l| align_down(l.min(CHUNK), page).max(page)))
}

/// Calls `each` with a temporary read-only map of every chunk of `pages`
/// and the file offset it starts at.
///
/// A file that shrinks below a later chunk's start is
/// [`ErrorKind::Truncated`] at its first page no longer backed, as a
/// shrink inside a chunk is, not the map's "offset past the end".
fn for_each_chunk(
    op: &str,
    file: &File,
    pages: Pages,
    mut each: impl FnMut(&MapRaw, u64) -> Result<()>,
) -> Result<()> {
    let page = page_size() as u64;
    chunks(op, file, pages, chunk_bytes(page)?, &mut each)
}

/// [`for_each_chunk`] with the chunk length given.
fn chunks(
    op: &str,
    file: &File,
    pages: Pages,
    chunk: u64,
    each: &mut dyn FnMut(&MapRaw, u64) -> Result<()>,
) -> Result<()> {
    let page = page_size() as u64;
    let (mut at, end) = (pages.first * page, (pages.first + pages.count) * page);
    while at < end {
        let len = (end - at).min(chunk);
        let map = match MapOptions::new().offset(at).len(len as usize).map_raw_read_only(file) {
            Ok(map) => map,
            Err(e) => {
                let size = file_size(op, file)?;
                if size >= at {
                    return Err(e);
                }
                let offset = align_up(size, page).unwrap_or(size);
                return Err(Error::new(
                    ErrorKind::Truncated { offset },
                    format!(
                        "{op}: {} ends before offset {offset}: it shrank while being read \
                         ({size} bytes now)",
                        name(file)
                    ),
                ));
            }
        };
        each(&map, at)?;
        at += len;
    }
    Ok(())
}

fn mincore_of_file(file: &File, pages: Pages) -> Result<Residency> {
    let mut bits = PageBitmap::default();
    for_each_chunk("of_file_pages", file, pages, |map, _| {
        let r = mincore_inner(map.inner())?;
        bits.extend(r.pages.as_ref().expect("mincore gives a bitmap"));
        Ok(())
    })?;
    Ok(Residency::from_bitmap(bits))
}

/// `mincore` over the pages a map hands out.
fn mincore_inner(inner: &Inner) -> Result<Residency> {
    let page = page_size();
    let (base, _, delta) = inner.raw_parts();
    let count = pages_covering(delta, inner.len(), page);
    if count == 0 {
        return Ok(Residency::from_bitmap(PageBitmap::default()));
    }
    let mut vec = Vec::new();
    vec.try_reserve_exact(count).map_err(|_| {
        Error::new(ErrorKind::OutOfMemory, format!("mincore: no memory for {count} page flags"))
    })?;
    vec.resize(count, 0);
    let first = align_down(delta as u64, page as u64) as usize;
    // SAFETY: `base + first` is page aligned and the `count` pages from it
    // cover the bytes the map hands out, all inside the mapping; `vec` has
    // one byte per page.
    unsafe { sys::mincore(base.add(first), count * page, &mut vec) }.map_err(|e| {
        Error::with_source(ErrorKind::Io, format!("mincore of {count} pages of a map"), e)
    })?;
    Ok(Residency::from_bitmap(PageBitmap::from_mincore(&vec)))
}

/// Evicts `offset..offset + len` of `file` (`None`: to the end) from the
/// page cache: `posix_fadvise(POSIX_FADV_DONTNEED)`. The kernel drops only
/// clean pages that no process maps: write dirty pages back first
/// (`File::sync_data`) and drop maps of the file for a full eviction.
/// Pages of tmpfs and other memory file systems have no backing store and
/// stay.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`] if `offset + len` overflows; the kernel's
/// refusal (`ESPIPE` for a pipe).
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-evict", std::process::id()));
/// # std::fs::write(&path, vec![1u8; 4 * xmmap::page_size()])?;
/// let file = std::fs::File::open(&path)?;
/// file.sync_data()?;
/// xmmap::residency::evict_file(&file, 0, None)?;
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn evict_file(file: &File, offset: u64, len: Option<u64>) -> Result<()> {
    fadvise(file, "evict_file", offset, len, fadv::DONTNEED, "POSIX_FADV_DONTNEED")
}

/// Asks the kernel to start reading `offset..offset + len` of `file` into
/// the page cache and returns at once: `posix_fadvise(POSIX_FADV_WILLNEED)`.
/// [`populate_file`] waits until the pages are in.
///
/// # Errors
///
/// As [`evict_file`].
///
/// # Examples
///
/// ```
/// let file = std::fs::File::open("/proc/self/exe")?;
/// xmmap::residency::prefetch_file(&file, 0, Some(1 << 20))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn prefetch_file(file: &File, offset: u64, len: Option<u64>) -> Result<()> {
    fadvise(file, "prefetch_file", offset, len, fadv::WILLNEED, "POSIX_FADV_WILLNEED")
}

fn fadvise(
    file: &File,
    op: &str,
    offset: u64,
    len: Option<u64>,
    advice: i32,
    advice_name: &str,
) -> Result<()> {
    let len = match len {
        None => 0,
        Some(0) => return Ok(()),
        Some(l) => {
            offset.checked_add(l).ok_or_else(|| {
                Error::invalid(format!("{op}: offset {offset} + length {l} overflows u64"))
            })?;
            l
        }
    };
    sys::fadvise(file, offset, len, advice).map_err(|e| {
        Error::with_source(
            ErrorKind::Io,
            format!("{op}: posix_fadvise({advice_name}) of {}", name(file)),
            e,
        )
    })
}

/// Reads `offset..offset + len` of `file` (`None`: to the end) into the
/// page cache and waits until it is there, like `vmtouch -t`: a temporary
/// read-only map of each chunk is populated with `MADV_POPULATE_READ`.
///
/// # Errors
///
/// - [`ErrorKind::Truncated`] with the file offset of the first missing
///   page when the file shrinks meanwhile.
/// - As [`of_file`] otherwise.
///
/// # Examples
///
/// See [`of_file_pages`].
pub fn populate_file(file: &File, offset: u64, len: Option<u64>) -> Result<()> {
    let page = page_size() as u64;
    let size = file_size("populate_file", file)?;
    let pages = file_pages("populate_file", size, offset, len, page)?;
    for_each_chunk("populate_file", file, pages, populate_chunk(file))
}

/// [`populate_file`]'s work on one chunk mapped at file offset `at`.
fn populate_chunk(file: &File) -> impl FnMut(&MapRaw, u64) -> Result<()> + '_ {
    move |map, at| {
        populate_inner(Mapped::Raw(map), map.inner(), false).map_err(|e| match e.kind() {
            ErrorKind::Truncated { offset } => Error::new(
                ErrorKind::Truncated { offset: at + offset },
                format!(
                    "populate_file: {} ends before offset {}: it shrank while being read",
                    name(file),
                    at + offset
                ),
            ),
            _ => e,
        })
    }
}

/// `MADV_POPULATE_READ` or `_WRITE` over the whole map; on a kernel
/// without them, touches one byte per page through the guarded positioned
/// read, so a page past the end of the file is an error there too.
fn populate_inner(map: Mapped<'_>, inner: &Inner, write: bool) -> Result<()> {
    let len = inner.len();
    if len == 0 {
        return Ok(());
    }
    let advice = if write { Advice::PopulateWrite } else { Advice::PopulateRead };
    // A page the file no longer backs (it would raise SIGBUS): the advice or
    // the guarded read found the first one.
    let shorter = |e: Error| match *e.kind() {
        ErrorKind::Truncated { offset } => Error::with_source(
            ErrorKind::Truncated { offset },
            format!(
                "populate: the file is shorter than the map: map offset {offset} is past its end \
                 (was it truncated?)"
            ),
            std::io::Error::from(Errno::FAULT),
        ),
        _ => e,
    };
    // SAFETY: populating faults pages in; it never changes their contents.
    match unsafe { inner.advise(advice.madv(), 0, len) } {
        Ok(()) => Ok(()),
        // Before Linux 5.14 (and on other platforms) the advice is unknown.
        Err(e) if e.errno() == Some(Errno::INVAL) || *e.kind() == ErrorKind::Unsupported => {
            touch_pages(map, inner).map_err(shorter)
        }
        Err(e) => Err(shorter(e)),
    }
}

/// Touches one byte per page, in order, through the guarded positioned read:
/// a page the file does not back is `Truncated`, never `SIGBUS`.
fn touch_pages(map: Mapped<'_>, inner: &Inner) -> Result<()> {
    let page = page_size();
    let (_, _, delta) = inner.raw_parts();
    let mut offset = 0;
    let mut byte = [0u8; 1];
    while offset < inner.len() {
        read_mapped(map, offset as u64, &mut byte)?;
        // The next page starts where this one ends.
        offset = (offset + delta) / page * page + page - delta;
    }
    Ok(())
}

/// Methods every face shares.
macro_rules! residency {
    // The faces that populate for reading share one description.
    ($T:ident, $variant:ident, read) => {
        residency!(
            $T,
            $variant,
            false,
            "Faults every page of the map in for reading now (`MADV_POPULATE_READ`, Linux \
             5.14), reading file pages into the page cache."
        );
    };
    ($T:ident, $variant:ident, $write:expr, $what:literal) => {
        impl $T {
            /// Which of the map's pages are resident (`mincore(2)`), with a
            /// per-page bitmap; pages count from the one holding the first
            /// byte.
            ///
            /// # Errors
            ///
            /// The kernel's refusal (which means a bug).
            pub fn residency(&self) -> Result<Residency> {
                mincore_inner(self.inner())
            }

            #[doc = $what]
            ///
            /// On kernels before 5.14, which lack the advice, one byte of
            /// each page is read instead.
            ///
            /// # Errors
            ///
            /// [`ErrorKind::Truncated`] with the map offset of the first
            /// missing page when the file is shorter than the map (where a
            /// touch would raise `SIGBUS`); [`ErrorKind::OutOfMemory`]; the
            /// kernel's refusal.
            pub fn populate(&self) -> Result<()> {
                populate_inner(Mapped::$variant(self), self.inner(), $write)
            }

            /// Asks the kernel to reclaim the map's pages now
            /// (`MADV_PAGEOUT`, Linux 5.4): contents are kept, file pages
            /// are written back and re-read on access. Pages that other
            /// processes map too are left alone; to drop a file's pages
            /// from the page cache use [`evict_file`].
            ///
            /// # Errors
            ///
            /// The kernel's refusal (`EINVAL` before Linux 5.4 or for
            /// locked or huge pages).
            pub fn evict(&self) -> Result<()> {
                self.advise(Advice::PageOut)
            }
        }
    };
}

residency!(Map, Map, read);
residency!(MapRaw, Raw, read);
residency!(
    MapMut,
    Mut,
    true,
    "Faults every page of the map in writable now (`MADV_POPULATE_WRITE`, Linux 5.14): \
     private pages are copied or allocated, and for a shared file map every page becomes dirty \
     and is written back later, as if written. Use \
     [`populate_read`](Self::populate_read) to read pages in without that."
);

impl MapMut {
    /// Faults every page in for reading only (`MADV_POPULATE_READ`): file
    /// pages come into the page cache without being dirtied or copied.
    ///
    /// # Errors
    ///
    /// As [`populate`](Self::populate).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = xmmap::MapMut::map_anon(2 * xmmap::page_size())?;
    /// map.populate_read()?;
    /// # Ok::<(), xmmap::Error>(())
    /// ```
    pub fn populate_read(&self) -> Result<()> {
        populate_inner(Mapped::Mut(self), self.inner(), false)
    }
}

/// The `cachestat(2)` counts of `offset..offset + len` of `file` (`None`:
/// to the end): dirty, writeback, evicted and recently evicted pages, for
/// callers that measured residency with [`of_file_pages`] (which has no
/// [`CacheCounts`]) or want these counts alone. [`of_file`] gives them with
/// the resident count where the kernel has the call.
///
/// # Errors
///
/// - [`ErrorKind::Unsupported`] where the kernel has no `cachestat` (before
///   Linux 6.5, `ENOSYS`), the file system refuses it (hugetlbfs,
///   `EOPNOTSUPP`) or a seccomp filter or emulator does not know it
///   (`EINVAL`).
/// - [`ErrorKind::PermissionDenied`], [`ErrorKind::NotMappable`] and
///   [`ErrorKind::InvalidInput`] as [`of_file`].
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-counts", std::process::id()));
/// # std::fs::write(&path, vec![1u8; 2 * xmmap::page_size()])?;
/// let file = std::fs::File::open(&path)?;
/// file.sync_all()?;
/// match xmmap::residency::cache_counts(&file, 0, None) {
///     Ok(c) => assert_eq!(c.dirty, 0, "written back by sync_all"),
///     Err(e) => assert_eq!(e.kind(), &xmmap::ErrorKind::Unsupported),
/// }
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cache_counts(file: &File, offset: u64, len: Option<u64>) -> Result<CacheCounts> {
    let page = page_size() as u64;
    let size = file_size("cache_counts", file)?;
    let pages = file_pages("cache_counts", size, offset, len, page)?;
    if pages.count == 0 {
        return Ok(CacheCounts::default());
    }
    match cachestat(file, &pages, offset, page)? {
        Some([_, dirty, writeback, evicted, recently_evicted]) => {
            Ok(CacheCounts { dirty, writeback, evicted, recently_evicted })
        }
        None => Err(Error::new(
            ErrorKind::Unsupported,
            format!("cachestat of {}: needs Linux 6.5 and a file system that has it", name(file)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ranges_count_every_page_they_touch() {
        let p = 4096;
        let pages = |size, off, len| file_pages("t", size, off, len, p).unwrap();
        assert_eq!(pages(0, 0, None), Pages { first: 0, count: 0 });
        assert_eq!(pages(1, 0, None), Pages { first: 0, count: 1 });
        assert_eq!(pages(4096, 0, None), Pages { first: 0, count: 1 });
        assert_eq!(pages(4097, 0, None), Pages { first: 0, count: 2 });
        assert_eq!(pages(3 * 4096, 4095, Some(2)), Pages { first: 0, count: 2 });
        assert_eq!(pages(3 * 4096, 4096, Some(1)), Pages { first: 1, count: 1 });
        // Cut to the file: a range past the end has no pages.
        assert_eq!(pages(10_000, 8000, Some(1 << 40)), Pages { first: 1, count: 2 });
        assert_eq!(pages(10_000, 20_000, None).count, 0);
        assert_eq!(pages(10_000, 5, Some(0)).count, 0);
        let e = file_pages("t", 10, u64::MAX, Some(2), p).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    }

    #[test]
    fn bitmap_bits_counts_and_ranges() {
        let vec: Vec<u8> = (0..130).map(|i| u8::from(i % 3 == 0) | 0x80).collect();
        let b = PageBitmap::from_mincore(&vec);
        assert_eq!(b.len(), 130);
        assert_eq!(b.count_resident(), (0..130).filter(|i| i % 3 == 0).count() as u64);
        assert_eq!(b.get(129), Some(true));
        assert_eq!(b.get(128), Some(false));
        assert_eq!(b.get(130), None);
        assert_eq!(b.count_resident_in(0, 6), 2);
        assert_eq!(b.count_resident_in(120, 1000), 4);
        assert_eq!(b.count_resident_in(200, 100), 0);
        let mut joined = b.clone();
        joined.extend(&PageBitmap::from_mincore(&[1, 0, 1]));
        assert_eq!(joined.len(), 133);
        assert_eq!(joined.count_resident(), b.count_resident() + 2);
        let all: Vec<bool> = joined.iter().collect();
        assert_eq!(all[130..], [true, false, true]);
        assert!(all[..130].iter().enumerate().all(|(i, &r)| r == (i % 3 == 0)));
    }

    #[test]
    #[cfg(target_os = "linux")] // mincore, and maps past end-of-file
    fn the_touch_fallback_faults_every_page_in() {
        // The path kernels before 5.14 take, run directly.
        let page = page_size();
        let map = MapOptions::new().len(5 * page + 1).map_anon().unwrap();
        assert_eq!(map.residency().unwrap().resident_pages(), 0);
        touch_pages(Mapped::Mut(&map), map.inner()).unwrap();
        let r = map.residency().unwrap();
        assert_eq!(r.total_pages(), 6);
        // Reading anonymous memory maps the shared zero page, which
        // mincore counts as resident.
        assert_eq!(r.resident_pages(), 6);
    }

    #[test]
    #[cfg(target_os = "linux")] // mincore, and maps past end-of-file
    fn the_touch_fallback_stops_at_end_of_file_with_an_error() {
        let page = page_size();
        let path =
            std::env::temp_dir().join(format!("xmmap-unit-{}-touch-eof", std::process::id()));
        std::fs::write(&path, vec![7u8; page + 10]).unwrap();
        let file = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        // Four pages of map over a file that backs two.
        let raw = MapOptions::new().len(4 * page).map_raw_read_only(&file).unwrap();
        let e = touch_pages(Mapped::Raw(&raw), raw.inner()).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Truncated { offset: 2 * page as u64 });
    }

    #[test]
    #[cfg(target_os = "linux")] // mincore, and maps past end-of-file
    fn a_file_that_shrinks_between_chunks_is_truncated_not_invalid_input() {
        // Regression: the next chunk's map failed with InvalidInput
        // ("offset past the end of the file") instead of Truncated.
        let page = page_size();
        let path =
            std::env::temp_dir().join(format!("xmmap-unit-{}-shrink-chunks", std::process::id()));
        std::fs::write(&path, vec![7u8; 4 * page]).unwrap();
        let file = File::open(&path).unwrap();
        // The pages as measured before the file shrank to one and a bit.
        let pages = Pages { first: 0, count: 4 };
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(page as u64 + 10)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        let mut each = populate_chunk(&file);
        let e = chunks("populate_file", &file, pages, page as u64, &mut each).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::Truncated { offset: 2 * page as u64 }, "{e}");
    }
}
