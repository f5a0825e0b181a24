//! The sequential fast path: read a file front to back once, as fast as the
//! machine allows.
//!
//! A plain mapped scan of a hot file spends much of its time in the kernel
//! when the page cache holds 4 KiB pages (how much is in BENCHMARKS.md,
//! "Figures that left the module docs"): a fault per 16 pages
//! (fault-around) on the way in, and tearing the page tables down in
//! `munmap` on the way out, both on the scanning thread. [`scan`] moves that
//! work off the critical path:
//!
//! - the file is mapped into one reserved, 2 MiB aligned range of address
//!   space (at once, or chunk by chunk under a mapping limit smaller than
//!   the file) and handled in chunks (8 MiB by default, always a multiple
//!   of 2 MiB), so virtual addresses and file offsets agree modulo 2 MiB
//!   and the kernel can map a large folio of the page cache (ext4 written
//!   sequentially) with one PMD instead of 512 PTEs;
//! - each chunk is unmapped as soon as the closure is done with it, so
//!   page-table teardown overlaps the scan instead of following it;
//! - a helper thread prefaults (`MADV_POPULATE_READ`) the next
//!   chunks while the caller's closure reads the current one, and unmaps
//!   finished chunks, so page-table setup and teardown run on another core
//!   (a reader that catches up prepares the next chunk itself rather than
//!   wait, so the two threads split the kernel's work when it outweighs
//!   the scan);
//! - every chunk is populated before the closure sees it, so a file that is
//!   already shorter than `fstat` said gives [`ErrorKind::Truncated`]
//!   instead of a `SIGBUS`.
//!
//! No `MADV_HUGEPAGE` is given: a page cache that already holds large
//! folios is PMD-mapped on fault whatever the THP setting (given the
//! alignment above), and one that holds 4 KiB pages (tmpfs with
//! `shmem_enabled=never`, a file written by random small writes) cannot be
//! changed by advising the mapping; only `MADV_COLLAPSE`, which copies the
//! file's pages into huge ones, could, and a one-pass scan does not repay
//! that copy.
//!
//! # The second core
//!
//! With more than one CPU available to the process
//! ([`std::thread::available_parallelism`], which honours `taskset` and
//! cgroup quotas), one of them idle when the scan starts (fewer tasks
//! runnable than CPUs, per `/proc/loadavg`: on a busy machine a helper finds
//! no idle core, only a queue, and costs the reader more than it saves),
//! and a file of more than one chunk, [`scan`] runs one helper thread for
//! the length of the call: it keeps up to [`ScanOptions::ahead`] chunks
//! populated ahead of the reader and unmaps the chunks the reader is done
//! with. Otherwise no thread is started: the reader maps, populates, scans
//! and unmaps each chunk itself, which costs what a plain map costs. The helper is joined
//! before [`scan`] returns, also when the closure panics.
//!
//! May call: `sys` (fstat and the load), `page`, `limit`, `map` (whose
//! `ChunkedMap` owns the mapping and makes every memory system call).
//!
//! # Safety
//!
//! The mapping is one `ChunkedMap` (see its module for how it owns the
//! range); each chunk is released exactly once, in order, by the reader or
//! the helper, after the reader is done with it. Whether the `&[u8]` handed
//! to the closure is sound is the caller's promise (see
//! [`ScanOptions::scan`]).
#![allow(unsafe_code)]

use std::fs::File;
use std::num::NonZeroUsize;
use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use crate::error::{Error, ErrorKind, Result};
use crate::limit::Limit;
use crate::map::ChunkedMap;
use crate::page::{align_up, page_size};
use crate::sys::{self, FileKind};

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
    /// or `Some(false)` forces it, `None` (the default) uses one when more
    /// than one CPU is available and one of them is idle now (fewer tasks
    /// runnable, per `/proc/loadavg`, than CPUs available). With one CPU it
    /// stays off even when forced: a helper would only take turns with the
    /// reader.
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
    ///   populated, with the offset of the first page it no longer backs
    ///   (as [`populate_file`](crate::residency::populate_file) reports);
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
        let (span, chunks) = ChunkedMap::layout(size, chunk);
        // Asking costs tens of microseconds (it reads the cgroup's CPU
        // quota): only a file of several chunks can use a helper anyway.
        let forced = self.prefetch == Some(true) || self.background_unmap == Some(true);
        let parallel = chunks > 1
            && (self.prefetch != Some(false) || self.background_unmap != Some(false))
            && {
                let cpus = thread::available_parallelism().map_or(1, NonZeroUsize::get);
                cpus > 1 && (forced || sys::runnable_tasks().is_none_or(|r| r < cpus))
            };
        let prefetch = parallel && self.prefetch.unwrap_or(true);
        let unmap_behind = parallel && self.background_unmap.unwrap_or(true);
        let mut summary = ScanSummary {
            bytes: size as u64,
            chunks,
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

        // The whole file is mapped at once where the limit allows it, so
        // that preparing a chunk is only populating it: idempotent, so with
        // a helper the reader never waits for one the scheduler set aside —
        // it populates the chunk itself — and alone it saves an mmap per
        // chunk. Under a lower limit the reader maps chunk by chunk, alone.
        let whole = limit.check(span as u64).is_ok();
        let helper_wanted = (prefetch || unmap_behind) && chunks > 1 && whole;
        // Under one huge page alignment buys nothing: the map lets the
        // kernel place the one chunk, which saves reserving and trimming.
        let map = ChunkedMap::new(file, size, chunk, align, whole)?;
        if !helper_wanted {
            for k in 0..chunks {
                map.prepare(file, k)?;
                // SAFETY: chunk k is mapped and populated; the caller promised
                // the file is neither modified nor truncated during the scan.
                f(unsafe { map.bytes(k) });
                map.release(k)?;
            }
            return Ok(summary);
        }

        let (done_tx, done_rx) = mpsc::channel::<usize>();
        let shared = Shared { map: &map, reading: AtomicUsize::new(0), ready: AtomicUsize::new(0) };
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
            let mut read_all = || -> Result<()> {
                for k in 0..chunks {
                    shared.reading.store(k, Ordering::Release);
                    if shared.ready.load(Ordering::Acquire) <= k {
                        // Not populated ahead (yet): do it now, here.
                        map.populate(file, k)?;
                    }
                    // SAFETY: chunk k is mapped and populated (by us or by
                    // the helper, which advanced `ready` past it); the
                    // caller promised the file is neither modified nor
                    // truncated during the scan.
                    f(unsafe { map.bytes(k) });
                    if unmap_behind {
                        map.hand_off(k);
                    } else {
                        map.release(k)?;
                    }
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

/// What the reader and the helper share. The helper populates chunks in
/// order, up to `ahead` chunks in front of the one being read, never the one
/// being read; a reader that finds its chunk not yet populated populates it
/// itself (populating twice is harmless), so on a machine where the
/// kernel's share of the work outweighs the scan the two threads split it,
/// and on a busy machine the reader never waits for the helper.
struct Shared<'a> {
    map: &'a ChunkedMap,
    /// The chunk the reader is on.
    reading: AtomicUsize,
    /// Chunks below this one that the helper populated (with those the
    /// reader populated itself).
    ready: AtomicUsize,
}

impl Shared<'_> {
    /// The helper thread: populates chunks ahead of the reader and unmaps
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
                // Handed-off chunks are in the map's given-back prefix:
                // a failure here cannot be retried by anyone, and munmap of a
                // whole chunk of our own fails only when the kernel is out of
                // memory for splitting the mapping.
                let _ = self.map.release(k);
            }
        };
        let mut finished = 0;
        let mut next = 0;
        let mut preparing = prefetch;
        loop {
            while let Ok(k) = done.try_recv() {
                finish(k);
                finished += 1;
            }
            if preparing {
                next = next.max(self.reading.load(Ordering::Acquire) + 1);
                if next >= self.map.chunks() {
                    preparing = false;
                } else if next <= finished + ahead {
                    // On an error the reader meets it again, populating the
                    // chunk itself, and reports it.
                    if self.map.populate(file, next).is_err() {
                        preparing = false;
                    } else {
                        self.ready.fetch_max(next + 1, Ordering::AcqRel);
                        next += 1;
                    }
                    continue;
                }
            }
            // Nothing to populate now: wait for the reader to finish a chunk.
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
