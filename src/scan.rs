//! The sequential fast path: read a file front to back once, as fast as the
//! machine allows.
//!
//! A plain mapped scan of a hot file spends a third of its time in the
//! kernel when the page cache holds 4 KiB pages: a fault per 16 pages
//! (fault-around) on the way in, and tearing the page tables down in
//! `munmap` on the way out, both on the scanning thread. [`scan`] moves that
//! work off the critical path:
//!
//! - the file is mapped in chunks (8 MiB by default, always a multiple of
//!   2 MiB) into one reserved, 2 MiB aligned range of address space, so each
//!   chunk's virtual address and file offset agree modulo 2 MiB and the
//!   kernel can map a large folio of the page cache (ext4 written
//!   sequentially) with one PMD instead of 512 PTEs;
//! - a helper thread maps and prefaults (`MADV_POPULATE_READ`) the next
//!   chunks while the caller's closure reads the current one, and unmaps
//!   finished chunks, so page-table setup and teardown run on another core;
//! - every chunk is populated before the closure sees it, so a file that is
//!   already shorter than `fstat` said gives [`ErrorKind::Truncated`]
//!   instead of a `SIGBUS`.
//!
//! # The second core
//!
//! With more than one CPU available to the process
//! ([`std::thread::available_parallelism`], which honours `taskset` and
//! cgroup quotas), [`scan`] runs one helper thread for the length of the
//! call: it keeps up to [`ScanOptions::ahead`] chunks populated ahead of the
//! reader and unmaps the chunks the reader is done with. On one CPU no
//! thread is started: the reader maps, populates, scans and unmaps each
//! chunk itself, which costs what a plain map costs. The helper is joined
//! before [`scan`] returns, also when the closure panics.
//!
//! May call: `sys`, `page`, `limit`, `map` (for error interpretation).
//!
//! # Safety
//!
//! The reserved range is owned by one [`Reservation`] from the `mmap` that
//! creates it to the `munmap` that ends it; each chunk is a disjoint
//! sub-range that is mapped with `MAP_FIXED` (only inside the reservation)
//! and released exactly once, in order, by the reader or the helper. The
//! reservation keeps the prefix that has been released and unmaps only the
//! rest, so no range is unmapped after it was given back to the kernel.
//! Whether the `&[u8]` handed to the closure is sound is the caller's
//! promise (see [`ScanOptions::scan`]).
#![allow(unsafe_code)]

use std::fs::File;
use std::num::NonZeroUsize;
use std::panic;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::limit::Limit;
use crate::map::{os_error, Advice};
use crate::page::{align_up, human, page_size};
use crate::sys::{self, errno, flags, prot, FileKind};

/// The alignment of chunks in the file and in memory: the PMD size of
/// x86_64 and of aarch64 with 4 KiB pages (or the page size, if larger).
const HUGE_ALIGN: usize = 2 << 20;

/// The default chunk: large enough that the per-chunk system calls and the
/// TLB shootdown of each `munmap` are noise, small enough that prefaulting
/// ahead is quickly ahead.
const DEFAULT_CHUNK: usize = 8 << 20;

/// Chunks kept populated ahead of the reader by default.
const DEFAULT_AHEAD: usize = 4;

/// Options of the sequential fast path; [`scan`] uses the defaults.
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-scanopt", std::process::id()));
/// # std::fs::write(&path, vec![1u8; 3 << 20])?;
/// let file = std::fs::File::open(&path)?;
/// let mut sum = 0u64;
/// // SAFETY: nobody modifies or truncates the file during the scan.
/// let done = unsafe {
///     xmmap::ScanOptions::new()
///         .chunk_size(2 << 20)
///         .prefetch(Some(false))
///         .scan(&file, |chunk| sum += chunk.iter().map(|&b| u64::from(b)).sum::<u64>())?
/// };
/// assert_eq!((done.bytes, done.chunks, sum), (3 << 20, 2, 3 << 20));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ScanOptions {
    chunk: usize,
    ahead: usize,
    prefetch: Option<bool>,
    background_unmap: Option<bool>,
    limit: Option<Limit>,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions::new()
    }
}

/// What a scan did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanSummary {
    /// Bytes handed to the closure: the file's size when the scan began.
    pub bytes: u64,
    /// Chunks the file was mapped in.
    pub chunks: usize,
    /// The chunk size used, in bytes.
    pub chunk_size: usize,
    /// Whether a helper thread prefaulted chunks ahead of the reader.
    pub prefetched: bool,
    /// Whether a helper thread unmapped finished chunks.
    pub unmapped_in_background: bool,
}

impl ScanOptions {
    /// The defaults: 8 MiB chunks, 4 chunks ahead, the helper thread when
    /// more than one CPU is available, the limit from `XMMAP_LIMIT`.
    pub fn new() -> ScanOptions {
        ScanOptions {
            chunk: DEFAULT_CHUNK,
            ahead: DEFAULT_AHEAD,
            prefetch: None,
            background_unmap: None,
            limit: None,
        }
    }

    /// Bytes mapped at a time, rounded up to a multiple of 2 MiB (and of the
    /// page size); `0` means the default.
    pub fn chunk_size(&mut self, bytes: usize) -> &mut Self {
        self.chunk = if bytes == 0 { DEFAULT_CHUNK } else { bytes };
        self
    }

    /// How many chunks the helper keeps populated ahead of the reader
    /// (at least 1).
    pub fn ahead(&mut self, chunks: usize) -> &mut Self {
        self.ahead = chunks.max(1);
        self
    }

    /// Prefault chunks ahead of the reader on a helper thread: `Some(true)`
    /// or `Some(false)` forces it, `None` (the default) decides by the
    /// available parallelism. With one CPU it stays off even when forced:
    /// a helper would only take turns with the reader.
    pub fn prefetch(&mut self, on: Option<bool>) -> &mut Self {
        self.prefetch = on;
        self
    }

    /// Unmap finished chunks on a helper thread; `None` (the default)
    /// decides by the available parallelism, as for
    /// [`prefetch`](Self::prefetch).
    pub fn background_unmap(&mut self, on: Option<bool>) -> &mut Self {
        self.background_unmap = on;
        self
    }

    /// The mapping limit each chunk is checked against (default: the one in
    /// `XMMAP_LIMIT`).
    pub fn limit(&mut self, limit: Limit) -> &mut Self {
        self.limit = Some(limit);
        self
    }

    /// Reads `file` front to back once: calls `f` with each chunk of its
    /// bytes, in order, exactly covering the file as `fstat` sized it when
    /// the scan began. An empty file calls `f` never.
    ///
    /// Every chunk is mapped and populated before `f` sees it. When more
    /// than one CPU is available, a helper thread does that ahead of the
    /// reader and unmaps the chunks `f` is done with (see the module docs);
    /// it is joined before this returns, also when `f` panics. No mapping
    /// outlives the call.
    ///
    /// # Safety
    ///
    /// The chunks are `&[u8]` into a shared mapping of the file, with the
    /// promise of [`MapOptions::map`](crate::MapOptions::map):
    ///
    /// - nobody may modify the file during the scan (the bytes behind a
    ///   `&[u8]` would change);
    /// - nobody may truncate it during the scan. A file that is already
    ///   shorter when a chunk is populated gives
    ///   [`ErrorKind::Truncated`], but a truncation after a chunk was
    ///   populated and before `f` has read it raises `SIGBUS` (the kernel
    ///   zaps the pages past the new end from every mapping): no check can
    ///   close that window while `f` holds a plain slice.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::NotMappable`] for anything but a regular file;
    /// - [`ErrorKind::LimitExceeded`] if one chunk is over the limit (choose
    ///   a smaller [`chunk_size`](Self::chunk_size));
    /// - [`ErrorKind::Truncated`] if the file shrank before a chunk could be
    ///   populated, with the offset of that chunk;
    /// - the kernel's refusals of `mmap`, `madvise` or `munmap`, interpreted
    ///   as by [`MapOptions`](crate::MapOptions).
    ///
    /// # Panics
    ///
    /// Only by propagating a panic of `f`, after every thread is joined and
    /// every chunk unmapped.
    pub unsafe fn scan<F: FnMut(&[u8])>(&self, file: &File, mut f: F) -> Result<ScanSummary> {
        let info = sys::fstat(file)
            .map_err(|e| Error::with_source(ErrorKind::Io, "scan: fstat of the file", e))?;
        if info.kind != FileKind::Regular {
            return Err(Error::new(
                ErrorKind::NotMappable,
                format!(
                    "scan: cannot scan {}: only regular files can be scanned mapped; read it \
                     instead",
                    info.kind.describe()
                ),
            ));
        }
        let size =
            usize::try_from(info.size).ok().filter(|&s| s <= isize::MAX as usize - HUGE_ALIGN);
        let size = size.ok_or_else(|| {
            Error::invalid(format!("scan: the file's {} bytes do not fit in memory", info.size))
        })?;
        let page = page_size();
        let align = HUGE_ALIGN.max(page);
        let chunk = align_up(self.chunk as u64, align as u64)
            .filter(|&c| c <= (isize::MAX as u64) / 2)
            .ok_or_else(|| Error::invalid(format!("scan: chunk size {} overflows", self.chunk)))?
            as usize;
        let span = align_up(size as u64, page as u64).unwrap_or(0) as usize;
        let job = Job { base: 0, size, span, chunk, chunks: span.div_ceil(chunk) };
        let parallel = thread::available_parallelism().map_or(1, NonZeroUsize::get) > 1;
        let prefetch = parallel && self.prefetch.unwrap_or(true);
        let unmap_behind = parallel && self.background_unmap.unwrap_or(true);
        let mut summary = ScanSummary {
            bytes: size as u64,
            chunks: job.chunks,
            chunk_size: chunk,
            prefetched: false,
            unmapped_in_background: false,
        };
        if size == 0 {
            return Ok(summary);
        }
        let limit = match self.limit {
            Some(l) => l,
            None => Limit::from_env()?,
        };
        limit.check(chunk.min(span) as u64)?;

        // Under one huge page alignment buys nothing: let the kernel place
        // the one chunk, which saves reserving and trimming.
        let mut reservation = if span < align {
            Reservation::whole(file, span)?
        } else {
            Reservation::new(span, align)?
        };
        let job = Job { base: reservation.base, ..job };
        let mapped = span < align;
        if mapped {
            job.populate(file, 0)?;
        }
        // A helper needs a second chunk to run ahead of the reader.
        let (prefetch, unmap_behind) =
            if job.chunks > 1 { (prefetch, unmap_behind) } else { (false, false) };
        if !(prefetch || unmap_behind) {
            for k in 0..job.chunks {
                if !mapped {
                    job.prepare(file, k)?;
                }
                // SAFETY: chunk k is mapped and populated; the caller promised
                // the file is neither modified nor truncated during the scan.
                f(unsafe { job.bytes(k) });
                job.release(k)?;
                reservation.released = job.end(k);
            }
            return Ok(summary);
        }

        let (done_tx, done_rx) = mpsc::channel::<usize>();
        let shared = Shared {
            job: &job,
            claimed: AtomicUsize::new(0),
            state: (0..job.chunks).map(|_| AtomicU8::new(PENDING)).collect(),
            error: Mutex::new(None),
            reader: thread::current(),
        };
        let ahead = self.ahead;
        let shared = &shared;
        thread::scope(|s| {
            // Owned by this closure, so that returning or unwinding hangs up
            // on the helper before the scope joins it.
            let done_tx = done_tx;
            let helper = thread::Builder::new()
                .name("xmmap-scan".into())
                .spawn_scoped(s, move || shared.help(file, prefetch, unmap_behind, ahead, done_rx));
            let (helper, prefetch, unmap_behind) = match helper {
                Ok(h) => (Some(h), prefetch, unmap_behind),
                // No thread to be had: scan alone, as on one CPU.
                Err(_) => (None, false, false),
            };
            summary.prefetched = prefetch;
            summary.unmapped_in_background = unmap_behind;
            let released = &mut reservation.released;
            let mut read_all = || -> Result<()> {
                for k in 0..job.chunks {
                    let alive = helper.as_ref().is_some_and(|h| !h.is_finished());
                    shared.wait_or_prepare(file, k, alive)?;
                    // SAFETY: chunk k is mapped and populated (by us or by
                    // the helper, which marked it ready); the caller promised
                    // the file is neither modified nor truncated during the
                    // scan.
                    f(unsafe { job.bytes(k) });
                    if !unmap_behind {
                        job.release(k)?;
                    }
                    *released = job.end(k);
                    if helper.is_some() {
                        // The helper releases chunk k (or only counts it,
                        // when the reader unmaps); it drains this channel
                        // before it exits, so the chunk is gone once the
                        // thread is joined.
                        let _ = done_tx.send(k);
                    }
                }
                Ok(())
            };
            // A panic of `f` is held until the helper is joined: hang up,
            // join (so the thread is gone, not just finishing), re-raise.
            let outcome = panic::catch_unwind(panic::AssertUnwindSafe(&mut read_all));
            drop(done_tx);
            if let Some(h) = helper {
                if let Err(p) = h.join() {
                    panic::resume_unwind(p);
                }
            }
            outcome.unwrap_or_else(|p| panic::resume_unwind(p))
        })?;
        Ok(summary)
    }
}

/// Chunk states of a scan with a helper.
const PENDING: u8 = 0;
const READY: u8 = 1;
const FAILED: u8 = 2;

/// What the reader and the helper share. Chunks are prepared (mapped and
/// populated) in order by whoever claims them first: the helper runs up to
/// `ahead` chunks in front of the reader, and a reader that catches up
/// prepares the next chunk itself instead of waiting, so on a machine where
/// the kernel's share of the work is larger than the scan's, the two cores
/// split it.
struct Shared<'a> {
    job: &'a Job,
    /// The next chunk nobody has claimed yet.
    claimed: AtomicUsize,
    /// One of PENDING, READY, FAILED per chunk.
    state: Vec<AtomicU8>,
    /// The helper's error for the chunk marked FAILED.
    error: Mutex<Option<Error>>,
    /// The reader, unparked when a chunk becomes ready.
    reader: thread::Thread,
}

impl Shared<'_> {
    /// Returns once chunk `k` is ready: prepared by the helper, or by the
    /// reader itself when nobody has claimed it yet.
    fn wait_or_prepare(&self, file: &File, k: usize, helper_alive: bool) -> Result<()> {
        loop {
            match self.state[k].load(Ordering::Acquire) {
                READY => return Ok(()),
                FAILED => {
                    let e = self.error.lock().unwrap_or_else(|p| p.into_inner()).take();
                    return Err(e.unwrap_or_else(|| {
                        Error::new(ErrorKind::Io, "scan: the prefetch thread failed")
                    }));
                }
                _ => {}
            }
            // Every chunk before k is done, so `claimed` is at least k.
            if self.claimed.compare_exchange(k, k + 1, Ordering::AcqRel, Ordering::Acquire).is_ok()
            {
                return self.job.prepare(file, k);
            }
            if !helper_alive {
                return Err(Error::new(
                    ErrorKind::Io,
                    "scan: the prefetch thread stopped before the end of the file",
                ));
            }
            // The helper is preparing chunk k: about a millisecond.
            thread::park_timeout(Duration::from_micros(200));
        }
    }

    /// The helper thread: prepares chunks ahead of the reader and unmaps
    /// the ones it is done with, until the reader hangs up.
    fn help(
        &self,
        file: &File,
        prefetch: bool,
        unmap_behind: bool,
        ahead: usize,
        done: mpsc::Receiver<usize>,
    ) {
        let finish = |k: usize| {
            if unmap_behind {
                // Released chunks are in the reservation's released prefix:
                // a failure here cannot be retried by anyone, and munmap of a
                // whole chunk of our own fails only when the kernel is out of
                // memory for splitting the mapping.
                let _ = self.job.release(k);
            }
        };
        let mut finished = 0;
        let mut preparing = prefetch;
        loop {
            while let Ok(k) = done.try_recv() {
                finish(k);
                finished += 1;
            }
            if preparing {
                let c = self.claimed.load(Ordering::Acquire);
                if c >= self.job.chunks {
                    preparing = false;
                } else if c < finished + ahead {
                    if self
                        .claimed
                        .compare_exchange(c, c + 1, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        let state = match self.job.prepare(file, c) {
                            Ok(()) => READY,
                            Err(e) => {
                                *self.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                                preparing = false;
                                FAILED
                            }
                        };
                        self.state[c].store(state, Ordering::Release);
                        self.reader.unpark();
                    }
                    continue;
                }
            }
            // Nothing to prepare now: wait for the reader to finish a chunk.
            match done.recv() {
                Ok(k) => {
                    finish(k);
                    finished += 1;
                }
                Err(_) => return,
            }
        }
    }
}

/// Reads `file` front to back once with the default [`ScanOptions`]: calls
/// `f` with each chunk of its bytes, in order.
///
/// # Safety
///
/// As for [`ScanOptions::scan`]: nobody may modify or truncate the file
/// during the scan.
///
/// # Errors
///
/// As for [`ScanOptions::scan`].
///
/// # Examples
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-scan", std::process::id()));
/// # std::fs::write(&path, b"hello, world")?;
/// let file = std::fs::File::open(&path)?;
/// let mut newlines = 0;
/// let mut bytes = 0;
/// // SAFETY: nobody modifies or truncates the file during the scan.
/// unsafe {
///     xmmap::scan(&file, |chunk| {
///         bytes += chunk.len();
///         newlines += chunk.iter().filter(|&&b| b == b'\n').count();
///     })?
/// };
/// assert_eq!((bytes, newlines), (12, 0));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub unsafe fn scan<F: FnMut(&[u8])>(file: &File, f: F) -> Result<ScanSummary> {
    // SAFETY: the caller makes the promise of ScanOptions::scan.
    unsafe { ScanOptions::new().scan(file, f) }
}

/// The geometry of one scan: chunk `k` covers file bytes
/// `k * chunk .. min((k + 1) * chunk, size)`, mapped at `base + k * chunk`.
#[derive(Debug, Clone, Copy)]
struct Job {
    base: usize,
    size: usize,
    span: usize,
    chunk: usize,
    chunks: usize,
}

impl Job {
    /// End of chunk `k` in the reservation (page aligned).
    fn end(&self, k: usize) -> usize {
        ((k + 1) * self.chunk).min(self.span)
    }

    /// Maps chunk `k` over its part of the reservation and populates it.
    fn prepare(&self, file: &File, k: usize) -> Result<()> {
        let start = k * self.chunk;
        let len = self.end(k) - start;
        let addr = self.base + start;
        // SAFETY: addr..addr+len lies in the reservation, which we own; it
        // is still reserved (chunks are mapped once, in order), so MAP_FIXED
        // replaces only our own PROT_NONE placeholder.
        unsafe {
            sys::mmap(addr, len, prot::READ, flags::SHARED | flags::FIXED, Some(file), start as u64)
        }
        .map_err(|e| os_error(e, &format!("scan: mmap of {len} bytes at offset {start}"), None))?;
        self.populate(file, k)
    }

    /// Populates chunk `k`, which is mapped: page tables filled now, and a
    /// page the file no longer backs is an error instead of a later SIGBUS.
    fn populate(&self, file: &File, k: usize) -> Result<()> {
        let start = k * self.chunk;
        let len = self.end(k) - start;
        let addr = self.base + start;
        let (advice, _) = Advice::PopulateRead.raw();
        // SAFETY: the range is our mapping; populating changes no contents.
        match unsafe { sys::madvise(addr as *mut u8, len, advice) } {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(errno::EFAULT) => {
                Err(self.truncated(file, start, e))
            }
            // A kernel before 5.14 has no MADV_POPULATE_READ: the pages fault
            // in as they are read; check the size instead.
            Err(e) if e.raw_os_error() == Some(errno::EINVAL) => {
                let now = sys::fstat(file).map(|i| i.size).unwrap_or(0);
                if now < (start + len).min(self.size) as u64 {
                    return Err(self.truncated(file, start, e));
                }
                Ok(())
            }
            Err(e) => Err(os_error(
                e,
                &format!("scan: madvise(MADV_POPULATE_READ) of {len} bytes at offset {start}"),
                None,
            )),
        }
    }

    fn truncated(&self, file: &File, start: usize, e: std::io::Error) -> Error {
        let now = sys::fstat(file).map_or_else(|_| "unknown".to_string(), |i| i.size.to_string());
        Error::with_source(
            ErrorKind::Truncated { offset: start as u64 },
            format!(
                "scan: the file shrank from {} bytes to {now} during the scan; the chunk at \
                 offset {start} is no longer backed (check who truncates the file)",
                self.size
            ),
            e,
        )
    }

    /// The bytes of chunk `k` handed to the reader.
    ///
    /// # Safety
    /// - Chunk `k` must be mapped and populated, and the file unchanged.
    unsafe fn bytes<'a>(&self, k: usize) -> &'a [u8] {
        let start = k * self.chunk;
        let len = ((k + 1) * self.chunk).min(self.size) - start;
        // SAFETY: the chunk is mapped readable for at least `len` bytes;
        // the caller vouches for the file.
        unsafe { std::slice::from_raw_parts((self.base + start) as *const u8, len) }
    }

    /// Unmaps chunk `k`.
    fn release(&self, k: usize) -> Result<()> {
        let start = k * self.chunk;
        let len = self.end(k) - start;
        // SAFETY: chunk k is ours and the reader is done with it; it is
        // released once (the reservation forgets it after this).
        unsafe { sys::munmap((self.base + start) as *mut u8, len) }.map_err(|e| {
            os_error(e, &format!("scan: munmap of {len} bytes at offset {start}"), None)
        })
    }
}

/// A range of address space reserved `PROT_NONE` and aligned, owned until
/// dropped; the first `released` bytes have been given back already.
struct Reservation {
    base: usize,
    span: usize,
    released: usize,
}

impl Reservation {
    /// Maps the first `span` bytes of `file` where the kernel likes; the
    /// reservation then holds the file's one chunk, already mapped.
    fn whole(file: &File, span: usize) -> Result<Reservation> {
        // SAFETY: no MAP_FIXED: the kernel picks free address space.
        let base = unsafe { sys::mmap(0, span, prot::READ, flags::SHARED, Some(file), 0) }
            .map_err(|e| os_error(e, &format!("scan: mmap of {span} bytes at offset 0"), None))?;
        Ok(Reservation { base: base as usize, span, released: 0 })
    }

    /// Reserves `span` bytes starting at a multiple of `align`.
    fn new(span: usize, align: usize) -> Result<Reservation> {
        let page = page_size();
        let want = span.checked_add(align - page).ok_or_else(|| {
            Error::invalid(format!("scan: reserving {span} bytes of address space overflows"))
        })?;
        let anon = flags::PRIVATE | flags::ANONYMOUS | flags::NORESERVE;
        // SAFETY: no MAP_FIXED: the kernel picks free address space.
        let raw = unsafe { sys::mmap(0, want, prot::NONE, anon, None, 0) }.map_err(|e| {
            os_error(e, &format!("scan: reserving {} of address space", human(want as u64)), None)
        })? as usize;
        let base = align_up(raw as u64, align as u64).unwrap_or(raw as u64) as usize;
        let head = base - raw;
        let tail = want - head - span;
        let trim = |addr: usize, len: usize| {
            if len == 0 {
                return Ok(());
            }
            // SAFETY: addr..addr+len is slack of our own reservation, never
            // handed out.
            unsafe { sys::munmap(addr as *mut u8, len) }
        };
        // Trimming the edge of a mapping fails only for lack of memory; then
        // give back what is still ours (never a range already released,
        // which another thread may have mapped since).
        if let Err(e) = trim(raw, head) {
            // SAFETY: nothing of the reservation was released yet.
            let _ = unsafe { sys::munmap(raw as *mut u8, want) };
            return Err(os_error(e, "scan: trimming the reserved address space", None));
        }
        if let Err(e) = trim(base + span, tail) {
            // SAFETY: only the head slack was released; base.. is ours.
            let _ = unsafe { sys::munmap(base as *mut u8, want - head) };
            return Err(os_error(e, "scan: trimming the reserved address space", None));
        }
        Ok(Reservation { base, span, released: 0 })
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let rest = self.span - self.released;
        if rest != 0 {
            // SAFETY: base+released..base+span is still ours: chunks are
            // released in order and `released` marks the end of the last
            // one given back. Nothing refers to it any more.
            let _ = unsafe { sys::munmap((self.base + self.released) as *mut u8, rest) };
        }
    }
}
