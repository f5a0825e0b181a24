//! git's pack windows as a library: a cache of read-only windows over many
//! large files, with a window size, a budget on the total mapped bytes,
//! least-recently-used eviction of windows nobody is using, and a limit on
//! open descriptors.
//!
//! git reads packfiles far larger than the address space it wants to spend
//! through "windows" (`packfile.c`: `use_pack`, `unuse_one_window`,
//! `close_one_pack`). This module does the same, made safe and concurrent:
//!
//! - A window over a file of `L` bytes for an offset `o` starts at
//!   `floor(o / (W/2)) * (W/2)` and spans `min(W, L - start)`, where `W` is
//!   the window size (a multiple of twice the page size). So every byte lies
//!   in at most two windows, and a new window holds at least `W/2` bytes
//!   after the offset that asked for it.
//! - A lookup hits a window only if `o + overlap` lies inside it (or the
//!   window runs to end-of-file): a caller may parse a small header straight
//!   from the slice [`WindowCursor::at`] returns, without a bounds check.
//! - Before a window is mapped, unused windows are unmapped least recently
//!   used first while the total would exceed `mapped_limit`. The limit is
//!   soft, as in git: when every window is in use, the new one is mapped
//!   anyway and [`WindowStats::over_soft_limit`] counts it.
//! - If the mapping still fails with `ENOMEM`, every unused window is
//!   unmapped and the mapping is tried once more.
//! - Windows are mapped with [`MapOptions`] (`offset`, `len`, and the
//!   configured [`Limit`]), so `XMMAP_LIMIT` applies as to every other map.
//! - When more than `max_open_files` descriptors would be open, the cache
//!   closes one (a file with no windows first, else the one whose newest
//!   window is oldest) and reopens it by path on demand, refusing a file that
//!   was replaced (another device or inode) or shrank
//!   ([`ErrorKind::FileChanged`]). As in git, a file's descriptor is also
//!   closed once one window maps all of it. Closing a descriptor never
//!   unmaps a window.
//!
//! # Locks
//!
//! A [`WindowCache`] has one mutex over its files, windows and counters. It
//! is held while a window is looked up, while unused windows are chosen for
//! eviction, and across the `mmap` of a new window (so `mapped_limit` is
//! checked exactly; the kernel serialises `mmap` and `munmap` of one process
//! on its own memory-map lock anyway, while page faults, which it runs in
//! parallel, happen later, on first touch, outside this lock). It is never
//! held while bytes are copied or read: a
//! [`WindowCursor`] reads the window it pins without any lock, and
//! [`WindowCache::read_at`] pins a window, drops the lock, copies, and
//! unpins. Evicted windows are unmapped after the lock is released, except
//! on the `ENOMEM` path, where they must be gone before the retry. Hits
//! served from a cursor's own window are counted in the cursor and added
//! to an atomic counter when it moves or drops.
//!
//! May call: `map` (through the public [`MapOptions`]), `guard` (the
//! guarded `MapRaw::read_at`), `limit`, `page`, `sys` (`fstat`,
//! `getrlimit`, the descriptor's path).
//!
//! # Safety
//!
//! Each window is a [`MapRaw`] inside an `Arc`. The cache holds one
//! reference; a cursor, or a [`read_at`](WindowCache::read_at) in progress,
//! holds another while it uses the window (git's `inuse_cnt`). New
//! references are made only under the lock, so a window whose reference
//! count is one, seen under the lock, is unused and stays unused: only such
//! windows are evicted, and the `Arc` would keep a pinned mapping alive in
//! any case. Every copy out of a window goes through one function,
//! `copy_out`, which uses the guarded `MapRaw::read_at`. A cursor keeps a
//! copy of its pinned window's address and length next to the reference
//! that keeps the window mapped. A `&[u8]` into a window is handed out only
//! by a cursor made with the `unsafe`
//! [`WindowCache::cursor`], whose caller promises what the caller of
//! [`MapOptions::map`] promises.
#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Error, ErrorKind, Result};
use crate::limit::{parse_size, Limit};
use crate::map::{MapOptions, MapRaw};
use crate::page::page_size;
use crate::sys;

/// The default window size: git's `core.packedGitWindowSize` (1 GiB on
/// 64-bit targets, 32 MiB elsewhere).
pub const DEFAULT_WINDOW_SIZE: u64 =
    if cfg!(target_pointer_width = "64") { 1 << 30 } else { 32 << 20 };

/// The default budget of mapped bytes: git's `core.packedGitLimit` (32 TiB
/// on 64-bit targets, 256 MiB elsewhere).
pub const DEFAULT_MAPPED_LIMIT: u64 =
    if cfg!(target_pointer_width = "64") { 32 << 40 } else { 256 << 20 };

/// The default overlap: the bytes a hit guarantees after the offset (git
/// uses the hash size, 20 bytes for SHA-1).
pub const DEFAULT_OVERLAP: usize = 20;

/// Descriptors git leaves for everything else (stdin, stdout, stderr and
/// "22 for work").
const RESERVED_FDS: u64 = 25;

/// The settings of a [`WindowCache`].
///
/// Setters take `&mut self` and return `&mut Self`; [`build`](Self::build)
/// checks them and makes the cache. [`set`](Self::set) takes sizes as text
/// with the syntax of [`Limit`] (`8k`, `0x2000`, `1g`).
///
/// # Examples
///
/// ```
/// let mut config = xmmap::WindowConfig::new();
/// config.set("window_size", "64k")?.set("mapped_limit", "1m")?.overlap(32);
/// let cache = config.build()?;
/// let page = xmmap::page_size() as u64;
/// assert_eq!(cache.stats().window_size, ((64 << 10) / (2 * page)).max(1) * (2 * page));
/// # Ok::<(), xmmap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowConfig {
    window_size: u64,
    mapped_limit: u64,
    max_open_files: Option<usize>,
    overlap: usize,
    limit: Option<Limit>,
}

impl Default for WindowConfig {
    fn default() -> WindowConfig {
        WindowConfig::new()
    }
}

impl WindowConfig {
    /// git's defaults: [`DEFAULT_WINDOW_SIZE`], [`DEFAULT_MAPPED_LIMIT`],
    /// `RLIMIT_NOFILE` minus 25 open files (at least 1),
    /// [`DEFAULT_OVERLAP`], and the mapping limit from `XMMAP_LIMIT`.
    pub fn new() -> WindowConfig {
        WindowConfig {
            window_size: DEFAULT_WINDOW_SIZE,
            mapped_limit: DEFAULT_MAPPED_LIMIT,
            max_open_files: None,
            overlap: DEFAULT_OVERLAP,
            limit: None,
        }
    }

    /// The window size in bytes. Like git, the cache rounds it down to a
    /// multiple of twice the page size, with a minimum of one such unit
    /// (with 4 KiB pages, 512 becomes 8192 and 100000 becomes 98304).
    pub fn window_size(&mut self, bytes: u64) -> &mut Self {
        self.window_size = bytes;
        self
    }

    /// The budget of mapped bytes over all windows: a soft limit (see the
    /// module docs).
    pub fn mapped_limit(&mut self, bytes: u64) -> &mut Self {
        self.mapped_limit = bytes;
        self
    }

    /// The most descriptors the cache keeps open (at least 1 is used).
    /// Files given by descriptor to [`WindowCache::add`] are never closed,
    /// so they can hold the count above the limit.
    pub fn max_open_files(&mut self, n: usize) -> &mut Self {
        self.max_open_files = Some(n);
        self
    }

    /// The bytes a hit guarantees after the offset, at most half the window.
    pub fn overlap(&mut self, bytes: usize) -> &mut Self {
        self.overlap = bytes;
        self
    }

    /// The [`Limit`] every window's mapping is checked against, instead of
    /// the one from `XMMAP_LIMIT`.
    pub fn limit(&mut self, limit: Limit) -> &mut Self {
        self.limit = Some(limit);
        self
    }

    /// Sets `name` (`window_size`, `mapped_limit`, `max_open_files` or
    /// `overlap`) from text, with the size syntax of [`Limit`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for an unknown name or a count that does
    /// not fit `usize`; [`ErrorKind::BadLimit`] if `value` is not a size.
    pub fn set(&mut self, name: &str, value: &str) -> Result<&mut Self> {
        let n = parse_size(value).map_err(|e| {
            Error::new(ErrorKind::BadLimit, format!("window cache {name}: {}", e.message()))
        })?;
        let count = |n: u64| {
            usize::try_from(n).map_err(|_| {
                Error::invalid(format!("window cache {name}: {n} does not fit in usize"))
            })
        };
        match name {
            "window_size" => self.window_size(n),
            "mapped_limit" => self.mapped_limit(n),
            "max_open_files" => self.max_open_files(count(n)?),
            "overlap" => self.overlap(count(n)?),
            _ => {
                return Err(Error::invalid(format!(
                    "window cache has no setting {name:?} (known: window_size, mapped_limit, \
                     max_open_files, overlap)"
                )))
            }
        };
        Ok(self)
    }

    /// Checks the settings and makes an empty cache.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] if the rounded window does not fit in
    /// memory (`isize::MAX`) or the overlap is more than half of it.
    pub fn build(&self) -> Result<WindowCache> {
        let page = page_size();
        let window = round_window_size(self.window_size, page);
        if window > isize::MAX as u64 {
            return Err(Error::invalid(format!(
                "window cache window_size {} does not fit in memory (more than isize::MAX bytes)",
                self.window_size
            )));
        }
        if self.overlap as u64 > window / 2 {
            return Err(Error::invalid(format!(
                "window cache overlap of {} bytes is more than half the window ({window} bytes): \
                 a new window could not hold the overlap after its first offset",
                self.overlap
            )));
        }
        let max_open_files = self.max_open_files.unwrap_or_else(default_max_open_files).max(1);
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Ok(WindowCache {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            cfg: Resolved {
                page,
                window,
                mapped_limit: self.mapped_limit,
                max_open_files,
                overlap: self.overlap,
                limit: self.limit,
            },
            state: Mutex::new(State::default()),
            cursor_hits: AtomicU64::new(0),
        })
    }
}

/// git's `packed_git_window_size` rounding: down to a multiple of twice the
/// page size, at least one such unit.
fn round_window_size(requested: u64, page: usize) -> u64 {
    let unit = 2 * page as u64;
    (requested / unit).max(1) * unit
}

/// git's `pack_max_fds`: the soft `RLIMIT_NOFILE` minus 25, at least 1.
fn default_max_open_files() -> usize {
    match sys::getrlimit(sys::Resource::Nofile).current {
        Some(n) => usize::try_from(n.saturating_sub(RESERVED_FDS).max(1)).unwrap_or(usize::MAX),
        None => usize::MAX,
    }
}

/// The window for `offset` in a file of `file_len` bytes: its start and
/// length (git's `use_pack`). `window` is even and `offset < file_len`.
fn window_for(offset: u64, window: u64, file_len: u64) -> (u64, usize) {
    let half = window / 2;
    let start = offset / half * half;
    (start, (file_len - start).min(window) as usize)
}

/// The first offset the window `start..start + len` no longer serves: it
/// serves `offset` if `offset + overlap` lies inside it (git's `in_window`)
/// or it runs to end-of-file; never an offset at its end.
fn serves_until(start: u64, len: usize, file_len: u64, overlap: usize) -> u64 {
    let end = start + len as u64;
    if end == file_len {
        end
    } else {
        // A window that stops before end-of-file is a full window, longer
        // than twice the overlap, so this stays above `start`.
        end + 1 - (overlap as u64).max(1)
    }
}

/// The key (smallest first) by which a file's descriptor is chosen to be
/// closed: files with no windows, then files none of whose windows is in
/// use, then the rest (closing a descriptor never unmaps); within each,
/// the one whose newest window (or, without windows, whose last use) is
/// oldest. git's `find_lru_pack`.
fn close_rank(windows: usize, pinned: usize, newest_use: u64) -> (u8, u64) {
    let class = match (windows, pinned) {
        (0, _) => 0,
        (_, 0) => 1,
        _ => 2,
    };
    (class, newest_use)
}

/// The least recently used of `(key, last_used, in_use)`, among those not
/// in use. git's `unuse_one_window`.
fn least_recently_used<K>(items: impl IntoIterator<Item = (K, u64, bool)>) -> Option<K> {
    items
        .into_iter()
        .filter(|&(_, _, in_use)| !in_use)
        .min_by_key(|&(_, used, _)| used)
        .map(|i| i.0)
}

/// The one place bytes are copied out of a window for the safe paths: up
/// to `buf.len()` bytes of the file from `pos`, which `win` holds, through
/// the core's guarded `MapRaw::read_at`. A file truncated under the window
/// gives [`ErrorKind::Truncated`] with the file offset of the first byte
/// that is gone, instead of `SIGBUS`.
fn copy_out(win: &Window, pos: u64, buf: &mut [u8]) -> Result<usize> {
    let len = buf.len();
    win.raw.read_at(pos - win.start, buf).map_err(|e| match *e.kind() {
        ErrorKind::Truncated { offset } => {
            let at = win.start + offset;
            Error::new(
                ErrorKind::Truncated { offset: at },
                format!(
                    "window cache: read of {len} bytes at offset {pos} of {}: the file was \
                     truncated under its window, file offset {at} is gone",
                    win.name
                ),
            )
        }
        _ => e,
    })
}

/// A file in a [`WindowCache`]: a small copyable handle that
/// [`WindowCache::open`] and [`WindowCache::add`] return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowFile {
    cache: u64,
    index: usize,
    len: u64,
}

impl WindowFile {
    /// The file's length when it was opened: the bytes the cache serves.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file had no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// What a [`WindowCache`] did, as numbers: a snapshot from
/// [`WindowCache::stats`]. `Display` reads like git's `pack_report`
/// (current value, then peak).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WindowStats {
    /// The page size.
    pub page_size: usize,
    /// The window size in force (after rounding).
    pub window_size: u64,
    /// The budget of mapped bytes.
    pub mapped_limit: u64,
    /// The most descriptors kept open.
    pub max_open_files: usize,
    /// Lookups served by a window already mapped (hits a cursor served from
    /// its own window are added when it moves or drops).
    pub hits: u64,
    /// Lookups that mapped a new window.
    pub misses: u64,
    /// Successful `mmap` calls (git's `pack_mmap_calls`).
    pub mmap_calls: u64,
    /// Windows unmapped to make room, on `ENOMEM`, or by
    /// [`WindowCache::evict_unused`].
    pub evictions: u64,
    /// Windows mapped now.
    pub open_windows: usize,
    /// The most windows mapped at once.
    pub peak_open_windows: usize,
    /// Windows in use now (pinned by a cursor or a copy in progress).
    pub pinned_windows: usize,
    /// Bytes mapped now.
    pub mapped: u64,
    /// The most bytes mapped at once.
    pub peak_mapped: u64,
    /// Descriptors open now.
    pub open_files: usize,
    /// The most descriptors open at once.
    pub peak_open_files: usize,
    /// Times a window was mapped over `mapped_limit` because every other
    /// window was in use.
    pub over_soft_limit: u64,
    /// Times a mapping failed with `ENOMEM` and was retried after evicting
    /// every unused window.
    pub enomem_retries: u64,
    /// Descriptors closed to stay within `max_open_files`.
    pub closes: u64,
    /// Descriptors reopened (after the identity check).
    pub reopens: u64,
}

impl WindowStats {
    /// Hits over lookups, 0 when there were none.
    pub fn hit_rate(&self) -> f64 {
        let lookups = self.hits + self.misses;
        if lookups == 0 {
            0.0
        } else {
            self.hits as f64 / lookups as f64
        }
    }
}

impl fmt::Display for WindowStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = |f: &mut fmt::Formatter<'_>, name: &str, v: u64| {
            writeln!(f, "window_report: {name:<22} = {v:>10}")
        };
        let two = |f: &mut fmt::Formatter<'_>, name: &str, a: u64, b: u64| {
            writeln!(f, "window_report: {name:<22} = {a:>10} / {b:>10}")
        };
        one(f, "page_size", self.page_size as u64)?;
        one(f, "window_size", self.window_size)?;
        one(f, "mapped_limit", self.mapped_limit)?;
        one(f, "max_open_files", self.max_open_files as u64)?;
        two(f, "hits / misses", self.hits, self.misses)?;
        one(f, "mmap_calls", self.mmap_calls)?;
        one(f, "evictions", self.evictions)?;
        two(f, "open_windows", self.open_windows as u64, self.peak_open_windows as u64)?;
        one(f, "pinned_windows", self.pinned_windows as u64)?;
        two(f, "mapped", self.mapped, self.peak_mapped)?;
        two(f, "open_files", self.open_files as u64, self.peak_open_files as u64)?;
        one(f, "over_soft_limit", self.over_soft_limit)?;
        one(f, "enomem_retries", self.enomem_retries)?;
        two(f, "closes / reopens", self.closes, self.reopens)
    }
}

/// The settings in force.
#[derive(Debug, Clone, Copy)]
struct Resolved {
    page: usize,
    window: u64,
    mapped_limit: u64,
    max_open_files: usize,
    overlap: usize,
    limit: Option<Limit>,
}

/// One window: a read-only shared mapping of `raw.len()` bytes of a file
/// from `start`.
struct Window {
    raw: MapRaw,
    start: u64,
    /// The file's name, for messages.
    name: Arc<str>,
}

/// A window in the cache, with its LRU stamp.
struct Slot {
    win: Arc<Window>,
    last_used: u64,
}

impl Slot {
    /// In use by a cursor or a copy: see the module's `# Safety`.
    fn in_use(&self) -> bool {
        Arc::strong_count(&self.win) > 1
    }
}

/// One file of the cache.
struct FileEntry {
    /// For messages.
    name: Arc<str>,
    /// Where to reopen it; `None` for a descriptor given to [`WindowCache::add`].
    path: Option<PathBuf>,
    fd: Option<File>,
    dev: u64,
    ino: u64,
    len: u64,
    /// Windows by start offset.
    windows: BTreeMap<u64, Slot>,
    last_used: u64,
}

impl FileEntry {
    fn find(&mut self, offset: u64, window: u64, overlap: usize) -> Option<&mut Slot> {
        let lo = offset.saturating_sub(window - 1);
        let len = self.len;
        self.windows.range_mut(lo..=offset).rev().map(|(_, s)| s).find(|s| {
            (s.win.start..serves_until(s.win.start, s.win.raw.len(), len, overlap))
                .contains(&offset)
        })
    }

    fn newest_use(&self) -> u64 {
        self.windows.values().map(|s| s.last_used).max().unwrap_or(self.last_used)
    }
}

/// Everything behind the cache's lock.
#[derive(Default)]
struct State {
    files: Vec<FileEntry>,
    tick: u64,
    mapped: u64,
    peak_mapped: u64,
    open_windows: usize,
    peak_open_windows: usize,
    open_files: usize,
    peak_open_files: usize,
    hits: u64,
    misses: u64,
    mmap_calls: u64,
    evictions: u64,
    over_soft_limit: u64,
    enomem_retries: u64,
    closes: u64,
    reopens: u64,
}

impl State {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Removes the window of file `f` at `start` and returns it for the
    /// caller to drop (which unmaps it).
    fn remove(&mut self, f: usize, start: u64) -> Option<Arc<Window>> {
        let slot = self.files[f].windows.remove(&start)?;
        self.mapped -= slot.win.raw.len() as u64;
        self.open_windows -= 1;
        self.evictions += 1;
        Some(slot.win)
    }

    /// Evicts the least recently used unused window; `false` if none.
    fn evict_one(&mut self, victims: &mut Vec<Arc<Window>>) -> bool {
        let lru = least_recently_used(self.files.iter().enumerate().flat_map(|(f, e)| {
            e.windows.iter().map(move |(&start, s)| ((f, start), s.last_used, s.in_use()))
        }));
        match lru.and_then(|(f, start)| self.remove(f, start)) {
            Some(w) => {
                victims.push(w);
                true
            }
            None => false,
        }
    }

    fn evict_all_unused(&mut self, victims: &mut Vec<Arc<Window>>) {
        while self.evict_one(victims) {}
    }

    /// Closes one descriptor other than `except`'s; `false` if none can be.
    fn close_one(&mut self, except: Option<usize>) -> bool {
        let pick = self
            .files
            .iter()
            .enumerate()
            .filter(|&(i, e)| Some(i) != except && e.fd.is_some() && e.path.is_some())
            .min_by_key(|(_, e)| {
                let pinned = e.windows.values().filter(|s| s.in_use()).count();
                close_rank(e.windows.len(), pinned, e.newest_use())
            })
            .map(|(i, _)| i);
        match pick {
            Some(i) => {
                self.files[i].fd = None;
                self.open_files -= 1;
                self.closes += 1;
                true
            }
            None => false,
        }
    }

    fn make_room_for_fd(&mut self, cfg: &Resolved, except: Option<usize>) {
        while self.open_files >= cfg.max_open_files && self.close_one(except) {}
    }

    fn fd_opened(&mut self) {
        self.open_files += 1;
        self.peak_open_files = self.peak_open_files.max(self.open_files);
    }

    /// The descriptor of file `f`, reopened and checked if it was closed.
    fn ensure_open(&mut self, cfg: &Resolved, f: usize) -> Result<()> {
        if self.files[f].fd.is_some() {
            return Ok(());
        }
        self.make_room_for_fd(cfg, Some(f));
        let entry = &self.files[f];
        let Some(path) = entry.path.clone() else {
            return Err(Error::invalid(format!("window cache: {} has no descriptor", entry.name)));
        };
        let file = File::open(&path).map_err(|e| {
            Error::with_source(
                ErrorKind::Io,
                format!("window cache: reopening {} to map a window", entry.name),
                e,
            )
        })?;
        check_identity(&file, entry)?;
        self.files[f].fd = Some(file);
        self.fd_opened();
        self.reopens += 1;
        Ok(())
    }

    /// Finds or maps the window of file `f` that serves `offset` and returns
    /// a reference to it (which pins it). Windows evicted on the way are
    /// pushed to `victims` for the caller to unmap after unlocking.
    fn pin(
        &mut self,
        cfg: &Resolved,
        f: usize,
        offset: u64,
        victims: &mut Vec<Arc<Window>>,
    ) -> Result<Arc<Window>> {
        let now = self.next_tick();
        let entry = &mut self.files[f];
        if offset >= entry.len {
            return Err(beyond_end(offset, entry));
        }
        entry.last_used = now;
        if let Some(slot) = entry.find(offset, cfg.window, cfg.overlap) {
            slot.last_used = now;
            let win = Arc::clone(&slot.win);
            self.hits += 1;
            return Ok(win);
        }
        let file_len = entry.len;
        let entry_name = Arc::clone(&entry.name);
        let (start, len) = window_for(offset, cfg.window, file_len);
        while self.mapped.saturating_add(len as u64) > cfg.mapped_limit && self.evict_one(victims) {
        }
        self.ensure_open(cfg, f)?;
        let raw = match self.map(cfg, f, start, len) {
            Err(e) if e.kind() == &ErrorKind::OutOfMemory => {
                // git did this until 2019 and dropped it only because its
                // version was not thread-safe: evict every unused window,
                // unmap them now, and try once more.
                victims.clear();
                let mut all = Vec::new();
                self.evict_all_unused(&mut all);
                drop(all);
                self.enomem_retries += 1;
                self.map(cfg, f, start, len)?
            }
            r => r?,
        };
        self.misses += 1;
        self.mmap_calls += 1;
        if self.mapped.saturating_add(len as u64) > cfg.mapped_limit {
            self.over_soft_limit += 1;
        }
        self.mapped += len as u64;
        self.peak_mapped = self.peak_mapped.max(self.mapped);
        self.open_windows += 1;
        self.peak_open_windows = self.peak_open_windows.max(self.open_windows);
        let win = Arc::new(Window { raw, start, name: Arc::clone(&entry_name) });
        let entry = &mut self.files[f];
        let old = entry.windows.insert(start, Slot { win: Arc::clone(&win), last_used: now });
        // A window at the same start has the same length and would have hit.
        debug_assert!(old.is_none(), "two windows at offset {start}");
        // git closes a pack's descriptor once one window maps all of it.
        if start == 0 && len as u64 == file_len && entry.path.is_some() && entry.fd.take().is_some()
        {
            self.open_files -= 1;
        }
        Ok(win)
    }

    fn map(&self, cfg: &Resolved, f: usize, start: u64, len: usize) -> Result<MapRaw> {
        let entry = &self.files[f];
        let Some(fd) = entry.fd.as_ref() else {
            return Err(Error::invalid(format!("window cache: {} has no descriptor", entry.name)));
        };
        // A shrunk file would map fine and raise SIGBUS when read: refuse it.
        check_identity(fd, entry)?;
        let mut options = MapOptions::new();
        options.offset(start).len(len);
        if let Some(limit) = cfg.limit {
            options.limit(limit);
        }
        options.map_raw_read_only(fd)
    }
}

fn beyond_end(offset: u64, entry: &FileEntry) -> Error {
    Error::invalid(format!(
        "window cache: offset {offset} beyond end of {} ({} bytes)",
        entry.name, entry.len
    ))
}

/// Refuses a descriptor that is not the file `entry` was opened as: another
/// device or inode (replaced) or fewer bytes (shrunk).
fn check_identity(file: &File, entry: &FileEntry) -> Result<()> {
    let info = sys::fstat(file).map_err(|e| {
        Error::with_source(ErrorKind::Io, format!("window cache: fstat of {}", entry.name), e)
    })?;
    let what = if (info.dev, info.ino) != (entry.dev, entry.ino) {
        format!(
            "it was replaced (device {} inode {} is now device {} inode {})",
            entry.dev, entry.ino, info.dev, info.ino
        )
    } else if info.size < entry.len {
        format!("it shrank from {} to {} bytes", entry.len, info.size)
    } else {
        return Ok(());
    };
    Err(Error::new(
        ErrorKind::FileChanged,
        format!(
            "window cache: {} changed since it was opened: {what}; open it again in a new cache",
            entry.name
        ),
    ))
}

/// git's pack windows over many files, shared by many threads: see the
/// [module docs](self) for the rules, the locks and the safety argument.
///
/// # Examples
///
/// Walk a file through a cursor, one window at a time:
///
/// ```
/// # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-window", std::process::id()));
/// # std::fs::write(&path, vec![7u8; 100_000])?;
/// let page = xmmap::page_size() as u64;
/// let cache = xmmap::WindowConfig::new().window_size(2 * page).mapped_limit(4 * page).build()?;
/// let file = cache.open(&path)?;
///
/// // SAFETY: nobody modifies or truncates the file while the cursor lives.
/// let mut cursor = unsafe { cache.cursor(file)? };
/// let (mut offset, mut sum) = (0, 0u64);
/// while offset < file.len() {
///     let bytes = cursor.at(offset)?; // from `offset` to the end of its window
///     sum += bytes.iter().map(|&b| u64::from(b)).sum::<u64>();
///     offset += bytes.len() as u64;
/// }
/// drop(cursor);
/// assert_eq!(sum, 700_000);
///
/// // The safe path copies instead of lending a slice.
/// let mut header = [0u8; 4];
/// assert_eq!(cache.read_at(file, 99_998, &mut header)?, 2);
///
/// let stats = cache.stats();
/// assert!(stats.peak_mapped <= 4 * page);
/// println!("{stats}");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WindowCache {
    id: u64,
    cfg: Resolved,
    state: Mutex<State>,
    cursor_hits: AtomicU64,
}

impl fmt::Debug for WindowCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowCache").field("stats", &self.stats()).finish()
    }
}

impl Default for WindowCache {
    fn default() -> WindowCache {
        WindowCache::new()
    }
}

impl WindowCache {
    /// A cache with git's defaults (see [`WindowConfig::new`]).
    pub fn new() -> WindowCache {
        // The defaults are valid on every page size.
        WindowConfig::new().build().expect("the default window settings are valid")
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent between statements that can panic, so a
        // poisoned lock is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens the file at `path` for reading and adds it. Its descriptor may
    /// be closed to stay within `max_open_files` and reopened by path, after
    /// checking that it is still the same file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] if it cannot be opened; [`ErrorKind::NotMappable`]
    /// if it is not a regular file.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<WindowFile> {
        let path = path.as_ref();
        let name = path.display().to_string();
        // Opening a FIFO for reading would block until a writer comes: look first.
        if let Ok(meta) = std::fs::metadata(path) {
            if !meta.is_file() {
                return Err(Error::new(
                    ErrorKind::NotMappable,
                    format!("window cache: {name} is not a regular file; windows are made over regular files"),
                ));
            }
        }
        let mut st = self.lock();
        st.make_room_for_fd(&self.cfg, None);
        let file = File::open(path).map_err(|e| {
            Error::with_source(ErrorKind::Io, format!("window cache: opening {name}"), e)
        })?;
        self.insert(&mut st, file, name, Some(path.to_path_buf()))
    }

    /// Adds an open file. Its descriptor stays open for the cache's life
    /// (the cache cannot reopen a file it did not open by path).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotMappable`] if it is not a regular file; the
    /// `fstat` error.
    pub fn add(&self, file: File) -> Result<WindowFile> {
        let name = sys::fd_path(&file)
            .map_or_else(|| "a file added by descriptor".to_string(), |p| p.display().to_string());
        let mut st = self.lock();
        st.make_room_for_fd(&self.cfg, None);
        self.insert(&mut st, file, name, None)
    }

    fn insert(
        &self,
        st: &mut State,
        file: File,
        name: String,
        path: Option<PathBuf>,
    ) -> Result<WindowFile> {
        let info = sys::fstat(&file).map_err(|e| {
            Error::with_source(ErrorKind::Io, format!("window cache: fstat of {name}"), e)
        })?;
        if info.kind != sys::FileKind::Regular {
            return Err(Error::new(
                ErrorKind::NotMappable,
                format!(
                    "window cache: {name} is {}; windows are made over regular files",
                    info.kind.describe()
                ),
            ));
        }
        let now = st.next_tick();
        st.files.push(FileEntry {
            name: name.into(),
            path,
            fd: Some(file),
            dev: info.dev,
            ino: info.ino,
            len: info.size,
            windows: BTreeMap::new(),
            last_used: now,
        });
        st.fd_opened();
        Ok(WindowFile { cache: self.id, index: st.files.len() - 1, len: info.size })
    }

    fn check(&self, file: WindowFile) -> Result<()> {
        if file.cache == self.id {
            Ok(())
        } else {
            Err(Error::invalid("window cache: the file handle belongs to another cache"))
        }
    }

    /// The window serving `offset` of `file`, pinned by the returned reference.
    fn pin(&self, file: WindowFile, offset: u64) -> Result<Arc<Window>> {
        let mut victims = Vec::new();
        let win = self.lock().pin(&self.cfg, file.index, offset, &mut victims);
        drop(victims); // unmapped outside the lock
        win
    }

    /// Copies bytes of `file` from `offset` into `buf` through the windows
    /// and returns how many: `buf.len()`, or fewer if the file ends first (0
    /// at its end). The copy runs without the cache's lock and is guarded
    /// (see [`guard`](crate::guard)): a file truncated under a window is an
    /// error, not `SIGBUS`, so this is safe whatever others do to the file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for an offset beyond the end of the file
    /// or a handle of another cache; [`ErrorKind::Truncated`] with the file
    /// offset of the first byte that is gone, when the file was truncated
    /// under a window; [`ErrorKind::FileChanged`] if the file had to be
    /// reopened or remapped and was replaced or shrank; the
    /// mapping's errors (for example [`ErrorKind::LimitExceeded`], or
    /// [`ErrorKind::OutOfMemory`] after the retry).
    pub fn read_at(&self, file: WindowFile, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.check(file)?;
        if offset > file.len {
            let st = self.lock();
            return Err(beyond_end(offset, &st.files[file.index]));
        }
        let want = (file.len - offset).min(buf.len() as u64) as usize;
        let mut done = 0;
        while done < want {
            let pos = offset + done as u64;
            let win = self.pin(file, pos)?;
            done += copy_out(&win, pos, &mut buf[done..want])?;
        }
        Ok(done)
    }

    /// As [`read_at`](Self::read_at), but fills all of `buf`.
    ///
    /// # Errors
    ///
    /// As [`read_at`](Self::read_at); [`ErrorKind::InvalidInput`] if the file
    /// ends before `buf` is full.
    pub fn read_exact_at(&self, file: WindowFile, offset: u64, buf: &mut [u8]) -> Result<()> {
        let n = self.read_at(file, offset, buf)?;
        if n < buf.len() {
            return Err(Error::invalid(format!(
                "window cache: read of {} bytes at offset {offset} runs past the end of the \
                 file ({} bytes)",
                buf.len(),
                file.len
            )));
        }
        Ok(())
    }

    /// A cursor over `file`, which lends slices of the window it pins.
    ///
    /// # Safety
    ///
    /// - The slices the cursor hands out are `&[u8]` into file mappings: as
    ///   for [`MapOptions::map`], nobody (this process or another) may write
    ///   to or shrink the file while the cursor lives. When that cannot be
    ///   promised, use [`read_at`](Self::read_at).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for a handle of another cache.
    ///
    /// # Examples
    ///
    /// See [`WindowCache`].
    pub unsafe fn cursor(&self, file: WindowFile) -> Result<WindowCursor<'_>> {
        self.check(file)?;
        Ok(WindowCursor {
            cache: self,
            file,
            win: None,
            base: std::ptr::NonNull::dangling().as_ptr(),
            len: 0,
            start: 0,
            span: 0,
            hits: 0,
        })
    }

    /// Unmaps every window not in use now and returns how many.
    pub fn evict_unused(&self) -> usize {
        let mut victims = Vec::new();
        self.lock().evict_all_unused(&mut victims);
        victims.len()
    }

    /// A snapshot of what the cache did.
    pub fn stats(&self) -> WindowStats {
        let st = self.lock();
        let pinned =
            st.files.iter().flat_map(|e| e.windows.values()).filter(|s| s.in_use()).count();
        WindowStats {
            page_size: self.cfg.page,
            window_size: self.cfg.window,
            mapped_limit: self.cfg.mapped_limit,
            max_open_files: self.cfg.max_open_files,
            hits: st.hits + self.cursor_hits.load(Ordering::Relaxed),
            misses: st.misses,
            mmap_calls: st.mmap_calls,
            evictions: st.evictions,
            open_windows: st.open_windows,
            peak_open_windows: st.peak_open_windows,
            pinned_windows: pinned,
            mapped: st.mapped,
            peak_mapped: st.peak_mapped,
            open_files: st.open_files,
            peak_open_files: st.peak_open_files,
            over_soft_limit: st.over_soft_limit,
            enomem_retries: st.enomem_retries,
            closes: st.closes,
            reopens: st.reopens,
        }
    }
}

/// A reader of one file of a [`WindowCache`] that pins one window at a
/// time (git's `inuse_cnt`) and lends slices of it without taking the
/// cache's lock. Moving to another window takes the lock once; the window
/// left behind may then be evicted. Made by the `unsafe`
/// [`WindowCache::cursor`].
///
/// # Examples
///
/// See [`WindowCache`].
pub struct WindowCursor<'a> {
    cache: &'a WindowCache,
    file: WindowFile,
    win: Option<Arc<Window>>,
    /// The pinned window's first byte and length, copied out of `win` so
    /// that a hit is a compare and an add (dangling and 0 with no window).
    base: *const u8,
    len: usize,
    /// The pinned window starts at `start` and serves `start..start + span`
    /// (empty when none is pinned).
    start: u64,
    span: u64,
    /// Hits served from the pinned window, not yet added to the cache's.
    hits: u64,
}

// SAFETY: `base` points into the window that `win` keeps mapped; the cursor
// reads through it only as `&[u8]` borrowed from the cursor, and a window
// (a read-only `MapRaw`) may be read from any thread.
unsafe impl Send for WindowCursor<'_> {}
// SAFETY: as for Send; `&WindowCursor` gives no access to the bytes at all.
unsafe impl Sync for WindowCursor<'_> {}

impl fmt::Debug for WindowCursor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WindowCursor")
            .field("file", &self.file)
            .field("window", &self.window())
            .finish()
    }
}

impl WindowCursor<'_> {
    /// The bytes of the file from `offset` to the end of the window that
    /// holds it: at least `overlap` bytes unless the file ends sooner. The
    /// cursor moves to (and pins) another window when the one it holds does
    /// not serve `offset`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for an offset at or beyond the end of the
    /// file (git's "offset beyond end of packfile"); the errors of
    /// [`WindowCache::read_at`] when a window must be mapped.
    #[inline]
    pub fn at(&mut self, offset: u64) -> Result<&[u8]> {
        if offset.wrapping_sub(self.start) < self.span {
            self.hits += 1;
        } else {
            self.switch(offset)?;
        }
        let rel = (offset - self.start) as usize;
        // SAFETY: the pinned window serves `offset`, so `rel < len` and the
        // range lies in the mapping, which `win` keeps alive while the
        // slice borrows the cursor; the file is left alone by the promise
        // made to `WindowCache::cursor`.
        Ok(unsafe { std::slice::from_raw_parts(self.base.add(rel), self.len - rel) })
    }

    /// Copies bytes from `offset` into `buf` through this cursor's windows
    /// and returns how many (fewer at the end of the file, 0 at its end),
    /// like [`WindowCache::read_at`] but keeping the last window pinned.
    ///
    /// # Errors
    ///
    /// As [`WindowCache::read_at`].
    pub fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let len = self.file.len;
        if offset > len {
            let st = self.cache.lock();
            return Err(beyond_end(offset, &st.files[self.file.index]));
        }
        let want = (len - offset).min(buf.len() as u64) as usize;
        let mut done = 0;
        while done < want {
            let pos = offset + done as u64;
            if pos.wrapping_sub(self.start) < self.span {
                self.hits += 1;
            } else {
                self.switch(pos)?;
            }
            let Some(win) = &self.win else { unreachable!("a successful switch pins a window") };
            done += copy_out(win, pos, &mut buf[done..want])?;
        }
        Ok(done)
    }

    /// The file this cursor reads.
    pub fn file(&self) -> WindowFile {
        self.file
    }

    /// The pinned window as `(file offset, length)`, if any.
    pub fn window(&self) -> Option<(u64, usize)> {
        self.win.as_ref().map(|w| (w.start, w.raw.len()))
    }

    /// Unpins the window, so the cache may evict it.
    pub fn release(&mut self) {
        self.flush_hits();
        self.win = None;
        self.base = std::ptr::NonNull::dangling().as_ptr();
        self.len = 0;
        self.start = 0;
        self.span = 0;
    }

    fn flush_hits(&mut self) {
        if self.hits != 0 {
            self.cache.cursor_hits.fetch_add(self.hits, Ordering::Relaxed);
            self.hits = 0;
        }
    }

    #[cold]
    fn switch(&mut self, offset: u64) -> Result<()> {
        if offset >= self.file.len {
            let st = self.cache.lock();
            return Err(beyond_end(offset, &st.files[self.file.index]));
        }
        // Unpin first, as git's use_pack does, so the old window may make
        // room for the new one.
        self.release();
        let win = self.cache.pin(self.file, offset)?;
        let until = serves_until(win.start, win.raw.len(), self.file.len, self.cache.cfg.overlap);
        self.base = win.raw.as_ptr();
        self.len = win.raw.len();
        self.start = win.start;
        self.span = until - win.start;
        self.win = Some(win);
        Ok(())
    }
}

impl Drop for WindowCursor<'_> {
    fn drop(&mut self) {
        self.flush_hits();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::Rng;

    #[test]
    fn the_cache_and_its_cursors_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<WindowCache>();
        send_sync::<WindowCursor<'_>>();
        send_sync::<WindowFile>();
        send_sync::<WindowStats>();
    }

    #[test]
    fn window_size_rounds_like_git() {
        assert_eq!(round_window_size(512, 4096), 8192);
        assert_eq!(round_window_size(100_000, 4096), 98_304);
        assert_eq!(round_window_size(0, 4096), 8192);
        assert_eq!(round_window_size(8192, 4096), 8192);
        assert_eq!(round_window_size(1 << 30, 4096), 1 << 30);
        assert_eq!(round_window_size(100_000, 65_536), 131_072);
        assert_eq!(round_window_size(300_000, 65_536), 262_144);
    }

    #[test]
    fn new_windows_start_on_half_window_boundaries_and_hold_the_overlap() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..100_000 {
            let page = 1u64 << (12 + rng.below(5));
            let window = (1 + rng.below(8)) * 2 * page;
            let file_len = 1 + rng.below(20 * window);
            let overlap = rng.below(window / 2 + 1) as usize;
            let offset = rng.below(file_len);
            let (start, len) = window_for(offset, window, file_len);
            assert_eq!(start % (window / 2), 0);
            assert_eq!(start % page, 0, "windows start on a page");
            assert!(start <= offset && offset < start + len as u64);
            assert!(len as u64 <= window && start + len as u64 <= file_len);
            // The window made for an offset always serves it.
            assert!((start..serves_until(start, len, file_len, overlap)).contains(&offset));
            if start + (len as u64) < file_len {
                assert!(offset + overlap as u64 <= start + len as u64);
            }
        }
    }

    #[test]
    fn every_byte_lies_in_at_most_two_windows() {
        let window = 8192u64;
        let file_len = 10 * window + 123;
        let starts: Vec<u64> = (0..file_len)
            .step_by(97)
            .map(|o| window_for(o, window, file_len).0)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for b in (0..file_len).step_by(61) {
            let n = starts
                .iter()
                .filter(|&&s| {
                    let (_, len) = window_for(s, window, file_len);
                    (s..s + len as u64).contains(&b)
                })
                .count();
            assert!((1..=2).contains(&n), "byte {b} in {n} windows");
        }
    }

    #[test]
    fn a_hit_needs_the_overlap_unless_the_window_reaches_end_of_file() {
        // git's in_window: offset + 20 <= end.
        assert_eq!(serves_until(8192, 8192, 1 << 20, 20), 16384 - 19);
        assert!(!(8192..serves_until(8192, 8192, 1 << 20, 20)).contains(&(16384 - 19)));
        assert!((8192..serves_until(8192, 8192, 1 << 20, 20)).contains(&(16384 - 20)));
        // The last window serves up to its last byte.
        assert_eq!(serves_until(8192, 100, 8292, 20), 8292);
        // Without overlap, never the offset at the end of the window.
        assert_eq!(serves_until(0, 8192, 1 << 20, 0), 8192);
        assert_eq!(serves_until(0, 8192, 1 << 20, 1), 8192);
    }

    #[test]
    fn lru_picks_the_oldest_unused_window() {
        let items = [("a", 5, false), ("b", 2, true), ("c", 3, false), ("d", 9, false)];
        assert_eq!(least_recently_used(items), Some("c"));
        assert_eq!(least_recently_used([("a", 1, true), ("b", 2, true)]), None);
        assert_eq!(least_recently_used(Vec::<(u8, u64, bool)>::new()), None);
        let mut rng = Rng(77);
        for _ in 0..1000 {
            let items: Vec<(usize, u64, bool)> = (0..rng.below(10) as usize)
                .map(|i| (i, rng.below(50), rng.below(3) == 0))
                .collect();
            match least_recently_used(items.clone()) {
                Some(k) => {
                    assert!(!items[k].2);
                    assert!(items.iter().filter(|i| !i.2).all(|i| i.1 >= items[k].1));
                }
                None => assert!(items.iter().all(|i| i.2)),
            }
        }
    }

    #[test]
    fn files_without_windows_are_closed_first_then_the_stalest() {
        let no_windows = close_rank(0, 0, 100);
        let unused_old = close_rank(3, 0, 5);
        let unused_new = close_rank(3, 0, 50);
        let pinned_old = close_rank(1, 1, 1);
        assert!(no_windows < unused_old && unused_old < unused_new && unused_new < pinned_old);
    }

    #[test]
    fn config_checks_overlap_and_parses_sizes() {
        let page = page_size() as u64;
        let mut c = WindowConfig::new();
        c.window_size(2 * page).overlap(page as usize + 1);
        assert_eq!(c.build().unwrap_err().kind(), &ErrorKind::InvalidInput);
        c.overlap(page as usize);
        assert_eq!(c.build().unwrap().stats().window_size, 2 * page);
        let mut c = WindowConfig::new();
        c.set("window_size", "0x10000").unwrap().set("mapped_limit", "1g").unwrap();
        assert_eq!(c.window_size, 65_536);
        assert_eq!(c.mapped_limit, 1 << 30);
        assert_eq!(c.set("window_size", "8kb").unwrap_err().kind(), &ErrorKind::BadLimit);
        assert_eq!(c.set("nope", "1").unwrap_err().kind(), &ErrorKind::InvalidInput);
        let s = WindowCache::new().stats();
        assert_eq!(s.window_size, round_window_size(DEFAULT_WINDOW_SIZE, page_size()));
        assert!(s.max_open_files >= 1);
    }

    #[test]
    fn stats_display_reads_like_pack_report() {
        let s = WindowStats { mapped: 8192, peak_mapped: 16384, ..WindowStats::default() };
        let text = s.to_string();
        assert!(text.lines().all(|l| l.starts_with("window_report: ")), "{text}");
        assert!(text.contains("mapped                 =       8192 /      16384"), "{text}");
    }
}
