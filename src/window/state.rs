//! Everything behind the cache's lock: the files, their windows, the
//! counters, and the eviction and descriptor rules that act on them.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::config::Resolved;
use super::geometry::{close_rank, least_recently_used, serves_until, window_for};
use super::lock::{stripe, STRIPES};
use crate::error::{Error, ErrorKind, Result};
use crate::map::{MapOptions, MapRaw};
use crate::sys;

/// The one place bytes are copied out of a window for the safe paths: up
/// to `buf.len()` bytes of the file from `pos`, which `win` holds, through
/// the core's guarded `MapRaw::read_at`. A file truncated under the window
/// gives [`ErrorKind::Truncated`] with the file offset of the first byte
/// that is gone, instead of `SIGBUS`.
pub(super) fn copy_out(win: &Window, pos: u64, buf: &mut [u8]) -> Result<usize> {
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

/// What a [`WindowCache`](super::WindowCache) did, as numbers: a snapshot from
/// [`WindowCache::stats`](super::WindowCache::stats). `Display` reads like git's `pack_report`
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
    /// [`WindowCache::evict_unused`](super::WindowCache::evict_unused).
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
    /// Descriptors open now, those of
    /// [`per_thread_descriptors`](super::WindowConfig::per_thread_descriptors) included.
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
    /// Reads of [`WindowCache::read_at`](super::WindowCache::read_at) (one per
    /// window the bytes span) served by `pread`: because the window was not
    /// mapped and had not proven reuse, or (mapped or not) because the
    /// read was shorter than [`WindowConfig::pread_below`](super::WindowConfig::pread_below) while a guarded
    /// copy costs system calls (those are not counted as `hits`).
    pub pread_reads: u64,
    /// Reads of `read_at` (one per window the bytes span) served by a mapped
    /// window, hit or newly mapped.
    pub mapped_reads: u64,
    /// Windows `read_at` mapped after they proved reuse (see
    /// [`WindowConfig::admission`](super::WindowConfig::admission)); cursors
    /// map without it.
    pub admitted: u64,
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
        two(f, "closes / reopens", self.closes, self.reopens)?;
        two(f, "pread / mapped reads", self.pread_reads, self.mapped_reads)?;
        one(f, "admitted", self.admitted)
    }
}

/// One window: a read-only shared mapping of `raw.len()` bytes of a file
/// from `start`.
pub(super) struct Window {
    pub(super) raw: MapRaw,
    pub(super) start: u64,
    /// The file's name, for messages.
    pub(super) name: Arc<str>,
}

/// A use stamp (the LRU clock's value at the last use), set by hits that
/// hold the lock only for reading.
#[derive(Debug, Default)]
pub(super) struct Stamp(AtomicU64);

impl Stamp {
    pub(super) fn new(t: u64) -> Stamp {
        Stamp(AtomicU64::new(t))
    }

    pub(super) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub(super) fn set(&self, t: u64) {
        self.0.store(t, Ordering::Relaxed);
    }

    /// As `set`, but leaves the cache line clean when the stamp is current:
    /// hits of many threads on one window then share it read-only.
    pub(super) fn touch(&self, t: u64) {
        if self.get() != t {
            self.set(t);
        }
    }
}

/// The hits counted under the lock held for reading, and the reads of
/// `read_at` among them, in one padded stripe per thread (the lock's
/// stripe), so that threads hitting at once do not share a cache line.
#[derive(Default)]
pub(super) struct HitCounters([Stripe; STRIPES]);

#[derive(Default)]
#[repr(align(128))]
struct Stripe {
    hits: AtomicU64,
    mapped_reads: AtomicU64,
    pread_reads: AtomicU64,
}

impl HitCounters {
    fn mine(&self) -> &Stripe {
        &self.0[stripe()]
    }

    fn add(&self, need: Need) {
        let stripe = self.mine();
        stripe.hits.fetch_add(1, Ordering::Relaxed);
        if need == Need::Bytes {
            stripe.mapped_reads.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A read of `read_at` whose window was mapped but which `pread` served.
    fn add_pread(&self) {
        self.mine().pread_reads.fetch_add(1, Ordering::Relaxed);
    }

    /// The hits, the reads of `read_at` among them, and the reads `pread`
    /// served on a mapped window, over every stripe.
    pub(super) fn sums(&self) -> (u64, u64, u64) {
        self.0.iter().fold((0, 0, 0), |(h, r, p), s| {
            (
                h + s.hits.load(Ordering::Relaxed),
                r + s.mapped_reads.load(Ordering::Relaxed),
                p + s.pread_reads.load(Ordering::Relaxed),
            )
        })
    }
}

/// A window in the cache, with its LRU stamp.
pub(super) struct Slot {
    pub(super) win: Arc<Window>,
    pub(super) last_used: Stamp,
}

impl Slot {
    /// In use by a cursor or a copy: see the module's `# Safety`.
    pub(super) fn in_use(&self) -> bool {
        Arc::strong_count(&self.win) > 1
    }
}

/// One file of the cache.
pub(super) struct FileEntry {
    /// For messages.
    pub(super) name: Arc<str>,
    /// Where to reopen it; `None` for a descriptor given to [`WindowCache::add`](super::WindowCache::add).
    pub(super) path: Option<PathBuf>,
    /// Shared with a `pread` or a mapping in progress outside the lock.
    pub(super) fd: Option<Arc<File>>,
    pub(super) dev: u64,
    pub(super) ino: u64,
    pub(super) len: u64,
    /// Windows by start offset.
    pub(super) windows: BTreeMap<u64, Slot>,
    pub(super) last_used: Stamp,
    /// Closed by [`WindowCache::close`](super::WindowCache::close): the handle no longer reads.
    pub(super) closed: bool,
    /// The descriptors of [`WindowConfig::per_thread_descriptors`](super::WindowConfig::per_thread_descriptors),
    /// one per lock stripe, opened under the lock held for reading;
    /// `None` once tried and refused (over budget, not the same file, an
    /// error), until a writer clears them.
    pub(super) stripe_fds: StripeFds,
}

/// One lazily opened descriptor per lock stripe.
pub(super) type StripeFds = Box<[OnceLock<Option<Arc<File>>>; STRIPES]>;

pub(super) fn no_stripe_fds() -> StripeFds {
    Box::new(std::array::from_fn(|_| OnceLock::new()))
}

impl FileEntry {
    pub(super) fn find(&self, offset: u64, window: u64, overlap: usize) -> Option<&Slot> {
        let lo = offset.saturating_sub(window - 1);
        let len = self.len;
        self.windows.range(lo..=offset).rev().map(|(_, s)| s).find(|s| {
            (s.win.start..serves_until(s.win.start, s.win.raw.len(), len, overlap))
                .contains(&offset)
        })
    }

    pub(super) fn newest_use(&self) -> u64 {
        self.windows.values().map(|s| s.last_used.get()).max().unwrap_or(self.last_used.get())
    }
}

/// Windows missed lately by `read_at` and not mapped: the evidence that a
/// window is reused. A window is admitted (mapped) on its
/// [`ADMIT_AFTER`]th miss while it is remembered; the list forgets the
/// oldest entry first, so a window whose misses are spread thinner than the
/// list is long never proves reuse (a scattered access pattern), while one
/// that is read again soon does (a clustered one).
#[derive(Default)]
pub(super) struct Ghosts {
    cap: usize,
    /// Misses by `(file, window start)`.
    count: HashMap<(usize, u64), u32, BuildHasherDefault<KeyHasher>>,
    /// The same keys, oldest first.
    order: VecDeque<(usize, u64)>,
}

/// A multiply-xor hash for the ghost list's integer keys, which no one
/// outside the process chooses: SipHash's resistance to chosen keys would
/// only slow down every miss.
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// The misses within the ghost list that admit a window.
pub(super) const ADMIT_AFTER: u32 = 4;

impl Ghosts {
    pub(super) fn new(cap: usize) -> Ghosts {
        Ghosts { cap: cap.max(1), count: HashMap::default(), order: VecDeque::new() }
    }

    /// Notes a miss on `key` and says whether the window is admitted now
    /// (then it is forgotten: it is about to be mapped).
    pub(super) fn miss(&mut self, key: (usize, u64)) -> bool {
        if let Some(n) = self.count.get_mut(&key) {
            *n += 1;
            if *n >= ADMIT_AFTER {
                self.forget(key);
                return true;
            }
            return false;
        }
        if self.order.len() >= self.cap {
            if let Some(old) = self.order.pop_front() {
                self.count.remove(&old);
            }
        }
        self.order.push_back(key);
        self.count.insert(key, 1);
        ADMIT_AFTER <= 1
    }

    pub(super) fn forget(&mut self, key: (usize, u64)) {
        if self.count.remove(&key).is_some() {
            self.order.retain(|&k| k != key);
        }
    }

    /// Forgets every window of file `f`.
    pub(super) fn forget_file(&mut self, f: usize) {
        self.count.retain(|k, _| k.0 != f);
        self.order.retain(|k| k.0 != f);
    }
}

/// What a lookup needs: a window to lend slices of (a cursor), or only the
/// bytes (`read_at`), which `pread` may give when the window has not
/// proven reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    Slice,
    Bytes,
}

/// The answer of [`State::hit`], borrowed from the state under the lock.
pub(super) enum Seen<'a> {
    /// A mapped window serves the offset.
    Window(&'a Arc<Window>),
    /// Read the bytes with `pread` from this descriptor.
    Pread(&'a Arc<File>),
}

/// The answer of [`State::ghost_miss`].
pub(super) enum GhostMiss<'a> {
    /// Read the bytes with `pread` from this descriptor.
    Pread(&'a Arc<File>),
    /// The window proved reuse: map it (under the lock held for writing).
    Admitted,
    /// Left to [`State::lookup`], under the lock held for writing.
    Locked,
}

/// The answer of [`State::lookup`].
pub(super) enum Step {
    /// A mapped window serves the offset; the reference pins it.
    Hit(Arc<Window>),
    /// Read the bytes with `pread` from this descriptor.
    Pread(Arc<File>),
    /// Map this window (outside the lock), then [`State::install`] it.
    Map(Plan),
}

/// A window to be mapped outside the lock: its bytes are reserved in
/// [`State::reserved`] until it is installed or given up.
pub(super) struct Plan {
    /// What the lookup needed, and whether the window was admitted.
    pub(super) need: Need,
    admitted: bool,
    pub(super) f: usize,
    pub(super) start: u64,
    pub(super) len: usize,
    pub(super) fd: Arc<File>,
    pub(super) name: Arc<str>,
    dev: u64,
    ino: u64,
    file_len: u64,
}

impl Plan {
    /// Maps the window; no lock is held. A shrunk file would map fine and
    /// raise SIGBUS when read: it is refused first.
    pub(super) fn map(&self, cfg: &Resolved) -> Result<MapRaw> {
        check_identity(&self.fd, &self.name, self.dev, self.ino, self.file_len)?;
        let mut options = MapOptions::new();
        options.offset(self.start).len(self.len);
        if let Some(limit) = cfg.limit {
            options.limit(limit);
        }
        options.map_raw_read_only(&self.fd)
    }
}

/// Everything behind the cache's lock.
#[derive(Default)]
pub(super) struct State {
    pub(super) files: Vec<FileEntry>,
    /// The LRU clock.
    pub(super) tick: AtomicU64,
    /// Hits counted under the lock held for reading (added to `c` by
    /// `WindowCache::stats`).
    pub(super) shared: HitCounters,
    /// The counters, in the shape [`WindowCache::stats`](super::WindowCache::stats)
    /// hands out (its settings and `pinned_windows` are filled in there).
    pub(super) c: WindowStats,
    /// Bytes of windows being mapped outside the lock, counted against
    /// `mapped_limit` with `c.mapped`.
    pub(super) reserved: u64,
    /// Behind a mutex of their own, so that a miss `pread` serves needs the
    /// cache's lock only for reading (see [`State::ghost_miss`]).
    pub(super) ghosts: Mutex<Ghosts>,
    /// Descriptors open in the files' `stripe_fds`, counted with
    /// `c.open_files` against `max_open_files`.
    pub(super) stripe_open: AtomicUsize,
    /// The most descriptors open at once, these included.
    pub(super) peak_with_stripes: AtomicUsize,
}

impl State {
    pub(super) fn new(cfg: &Resolved) -> State {
        // As many ghosts as the budget holds windows.
        let windows = usize::try_from(cfg.mapped_limit / cfg.window).unwrap_or(usize::MAX);
        State { ghosts: Mutex::new(Ghosts::new(windows.clamp(16, 4096))), ..State::default() }
    }

    pub(super) fn next_tick(&self) -> u64 {
        self.tick.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The mapped window of file `f` that serves `offset`, if there is one:
    /// the whole of a hit, which needs the lock only for reading. The
    /// caller copies from it while it holds the lock, or clones the `Arc`
    /// to pin it. With `by_pread` (a short `read_at` while
    /// `pread` is the cheaper copy) the file's descriptor instead, whether
    /// a window is mapped or not, counted as a read by `pread`, when it is
    /// open: such reads neither use windows nor make them prove reuse.
    /// Anything else (a miss, a closed file, an
    /// offset past the end) is left to [`lookup`](Self::lookup).
    pub(super) fn hit(
        &self,
        cfg: &Resolved,
        f: usize,
        offset: u64,
        need: Need,
        by_pread: bool,
    ) -> Option<Seen<'_>> {
        let entry = &self.files[f];
        if entry.closed || offset >= entry.len {
            return None;
        }
        // Hits read the clock and only misses advance it: eviction, which
        // only a miss asks for, needs no finer order than that.
        let now = self.tick.load(Ordering::Relaxed);
        if by_pread {
            if let Some(fd) = &entry.fd {
                entry.last_used.touch(now);
                self.shared.add_pread();
                return Some(Seen::Pread(self.stripe_fd(cfg, entry).unwrap_or(fd)));
            }
        }
        let slot = entry.find(offset, cfg.window, cfg.overlap)?;
        entry.last_used.touch(now);
        slot.last_used.touch(now);
        self.shared.add(need);
        Some(Seen::Window(&slot.win))
    }

    /// A miss of `read_at` on file `f` at `offset`, which [`hit`](Self::hit)
    /// found no window for, noted in the ghost list (behind its own mutex)
    /// under the lock held for reading: the descriptor to `pread` from
    /// while the window has not proven reuse, counted as a read by `pread`;
    /// [`GhostMiss::Admitted`] when this miss proved it (the caller tells
    /// [`lookup`](Self::lookup) so); [`GhostMiss::Locked`] for whatever
    /// needs the lock for writing (no admission, a window mapped meanwhile,
    /// a closed file or descriptor, an offset past the end).
    pub(super) fn ghost_miss(&self, cfg: &Resolved, f: usize, offset: u64) -> GhostMiss<'_> {
        let entry = &self.files[f];
        let Some(fd) = entry.fd.as_ref().filter(|_| !entry.closed && offset < entry.len) else {
            return GhostMiss::Locked;
        };
        if !cfg.admission || entry.find(offset, cfg.window, cfg.overlap).is_some() {
            return GhostMiss::Locked;
        }
        let (start, _) = window_for(offset, cfg.window, entry.len);
        if self.ghosts.lock().unwrap_or_else(PoisonError::into_inner).miss((f, start)) {
            return GhostMiss::Admitted;
        }
        entry.last_used.set(self.next_tick());
        self.shared.add_pread();
        GhostMiss::Pread(fd)
    }

    /// Removes the window of file `f` at `start` and returns it for the
    /// caller to drop (which unmaps it).
    pub(super) fn remove(&mut self, f: usize, start: u64) -> Option<Arc<Window>> {
        let slot = self.files[f].windows.remove(&start)?;
        self.c.mapped -= slot.win.raw.len() as u64;
        self.c.open_windows -= 1;
        self.c.evictions += 1;
        Some(slot.win)
    }

    /// Evicts the least recently used unused window; `false` if none.
    pub(super) fn evict_one(&mut self, victims: &mut Vec<Arc<Window>>) -> bool {
        let lru = least_recently_used(self.files.iter().enumerate().flat_map(|(f, e)| {
            e.windows.iter().map(move |(&start, s)| ((f, start), s.last_used.get(), s.in_use()))
        }));
        match lru.and_then(|(f, start)| self.remove(f, start)) {
            Some(w) => {
                victims.push(w);
                true
            }
            None => false,
        }
    }

    pub(super) fn evict_all_unused(&mut self, victims: &mut Vec<Arc<Window>>) {
        while self.evict_one(victims) {}
    }

    /// This thread's stripe's descriptor of `entry`, opened on first use if
    /// the budget allows and checked to be the same file; `None` where the
    /// shared descriptor serves.
    fn stripe_fd<'a>(&self, cfg: &Resolved, entry: &'a FileEntry) -> Option<&'a Arc<File>> {
        if !cfg.per_thread_descriptors {
            return None;
        }
        let path = entry.path.as_ref()?;
        let open = || {
            // Writers are excluded, so `c.open_files` holds still; other
            // readers may reserve meanwhile, hence the compare and swap.
            let held = self.c.open_files;
            let reserved =
                self.stripe_open.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (held + n < cfg.max_open_files).then_some(n + 1)
                });
            let n = reserved.ok()?;
            self.peak_with_stripes.fetch_max(held + n + 1, Ordering::Relaxed);
            let file = File::open(path).ok().filter(|f| {
                check_identity(f, &entry.name, entry.dev, entry.ino, entry.len).is_ok()
            });
            if file.is_none() {
                self.stripe_open.fetch_sub(1, Ordering::Relaxed);
            }
            file.map(Arc::new)
        };
        entry.stripe_fds[stripe()].get_or_init(open).as_ref()
    }

    /// Closes the stripes' descriptors of every file (or of file `only`),
    /// so that they may be tried again.
    pub(super) fn close_stripe_fds(&mut self, only: Option<usize>) {
        for (i, entry) in self.files.iter_mut().enumerate() {
            if only.is_some_and(|f| f != i) {
                continue;
            }
            for slot in entry.stripe_fds.iter_mut() {
                if let Some(Some(_)) = slot.take() {
                    *self.stripe_open.get_mut() -= 1;
                }
            }
        }
    }

    /// Descriptors open now, the stripes' included.
    pub(super) fn open_files(&self) -> usize {
        self.c.open_files + self.stripe_open.load(Ordering::Relaxed)
    }

    /// Closes one descriptor other than `except`'s; `false` if none can be.
    pub(super) fn close_one(&mut self, except: Option<usize>) -> bool {
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
                self.c.open_files -= 1;
                self.c.closes += 1;
                true
            }
            None => false,
        }
    }

    pub(super) fn make_room_for_fd(&mut self, cfg: &Resolved, except: Option<usize>) {
        if self.open_files() >= cfg.max_open_files {
            self.close_stripe_fds(None);
        }
        while self.c.open_files >= cfg.max_open_files && self.close_one(except) {}
    }

    pub(super) fn fd_opened(&mut self) {
        self.c.open_files += 1;
        self.c.peak_open_files = self.c.peak_open_files.max(self.open_files());
    }

    /// The descriptor of file `f`, reopened and checked if it was closed.
    pub(super) fn ensure_open(&mut self, cfg: &Resolved, f: usize) -> Result<Arc<File>> {
        if let Some(fd) = &self.files[f].fd {
            return Ok(Arc::clone(fd));
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
        check_identity(&file, &entry.name, entry.dev, entry.ino, entry.len)?;
        let fd = Arc::new(file);
        self.files[f].fd = Some(Arc::clone(&fd));
        self.fd_opened();
        self.c.reopens += 1;
        Ok(fd)
    }

    /// Finds the window of file `f` that serves `offset` and pins it, or
    /// says how to get the bytes: `pread` (for [`Need::Bytes`], while the
    /// window has not proven reuse and `admission` is on) or a window to
    /// map, with room made and its bytes reserved. `admitted` says that
    /// [`ghost_miss`](Self::ghost_miss) admitted the window already. Windows
    /// evicted on the way are pushed to `victims` for the caller to unmap
    /// after unlocking.
    pub(super) fn lookup(
        &mut self,
        cfg: &Resolved,
        f: usize,
        offset: u64,
        need: Need,
        admitted: bool,
        victims: &mut Vec<Arc<Window>>,
    ) -> Result<Step> {
        let now = self.next_tick();
        let entry = &mut self.files[f];
        if entry.closed {
            return Err(closed(entry));
        }
        if offset >= entry.len {
            return Err(beyond_end(offset, entry));
        }
        entry.last_used.set(now);
        if let Some(slot) = entry.find(offset, cfg.window, cfg.overlap) {
            slot.last_used.set(now);
            let win = Arc::clone(&slot.win);
            self.c.hits += 1;
            if need == Need::Bytes {
                self.c.mapped_reads += 1;
            }
            return Ok(Step::Hit(win));
        }
        let file_len = entry.len;
        let (start, len) = window_for(offset, cfg.window, file_len);
        let ghosts = self.ghosts.get_mut().unwrap_or_else(PoisonError::into_inner);
        if need == Need::Bytes && cfg.admission && !admitted && !ghosts.miss((f, start)) {
            self.c.pread_reads += 1;
            return self.ensure_open(cfg, f).map(Step::Pread);
        }
        ghosts.forget((f, start));
        let want = len as u64;
        while (self.c.mapped + self.reserved).saturating_add(want) > cfg.mapped_limit
            && self.evict_one(victims)
        {}
        let fd = self.ensure_open(cfg, f)?;
        if (self.c.mapped + self.reserved).saturating_add(want) > cfg.mapped_limit {
            self.c.over_soft_limit += 1;
        }
        self.reserved += want;
        let entry = &self.files[f];
        Ok(Step::Map(Plan {
            need,
            admitted: need == Need::Bytes && cfg.admission,
            f,
            start,
            len,
            fd,
            name: Arc::clone(&entry.name),
            dev: entry.dev,
            ino: entry.ino,
            file_len,
        }))
    }

    /// Gives up the reservation of a window that was not mapped.
    pub(super) fn cancel(&mut self, plan: &Plan) {
        self.reserved -= plan.len as u64;
    }

    /// Enters the window `plan` mapped as `raw` and returns it pinned. If
    /// another thread entered the same window meanwhile, that one is
    /// returned and this mapping is pushed to `victims`; if the file was
    /// closed meanwhile, so is this one, and the answer is an error.
    pub(super) fn install(
        &mut self,
        cfg: &Resolved,
        plan: &Plan,
        raw: MapRaw,
        victims: &mut Vec<Arc<Window>>,
    ) -> Result<Arc<Window>> {
        self.cancel(plan);
        let len = plan.len as u64;
        let now = self.next_tick();
        self.c.misses += 1;
        self.c.mmap_calls += 1;
        if plan.need == Need::Bytes {
            self.c.mapped_reads += 1;
        }
        if plan.admitted {
            self.c.admitted += 1;
        }
        let win = Arc::new(Window { raw, start: plan.start, name: Arc::clone(&plan.name) });
        let entry = &mut self.files[plan.f];
        if entry.closed || entry.windows.contains_key(&plan.start) {
            // Counted as mapped and at once evicted, so that the counters
            // still add up.
            self.c.evictions += 1;
            victims.push(win);
            let entry = &mut self.files[plan.f];
            if entry.closed {
                return Err(closed(entry));
            }
            let slot = entry.windows.get(&plan.start).expect("checked above");
            slot.last_used.set(now);
            return Ok(Arc::clone(&slot.win));
        }
        entry
            .windows
            .insert(plan.start, Slot { win: Arc::clone(&win), last_used: Stamp::new(now) });
        // git closes a pack's descriptor once one window maps all of it;
        // short reads may still want it for `pread` (`pread_below`).
        let whole = plan.start == 0 && len == entry.len && cfg.pread_below == 0;
        if whole && entry.path.is_some() && entry.fd.take().is_some() {
            self.c.open_files -= 1;
        }
        self.c.mapped += len;
        self.c.peak_mapped = self.c.peak_mapped.max(self.c.mapped);
        self.c.open_windows += 1;
        self.c.peak_open_windows = self.c.peak_open_windows.max(self.c.open_windows);
        Ok(win)
    }

    /// Closes file `f`: forgets its ghosts, drops its descriptor and
    /// removes its unused windows into `victims`. Its pinned windows stay
    /// mapped for their holders, first in line for eviction.
    pub(super) fn close(&mut self, f: usize, victims: &mut Vec<Arc<Window>>) {
        self.ghosts.get_mut().unwrap_or_else(PoisonError::into_inner).forget_file(f);
        self.close_stripe_fds(Some(f));
        let entry = &mut self.files[f];
        entry.closed = true;
        if entry.fd.take().is_some() {
            self.c.open_files -= 1;
        }
        let starts: Vec<u64> = entry.windows.keys().copied().collect();
        for start in starts {
            let slot = self.files[f].windows.get(&start).expect("listed above");
            if slot.in_use() {
                slot.last_used.set(0);
            } else if let Some(w) = self.remove(f, start) {
                victims.push(w);
            }
        }
    }
}

pub(super) fn closed(entry: &FileEntry) -> Error {
    Error::invalid(format!("window cache: {} was closed (WindowCache::close)", entry.name))
}

pub(super) fn beyond_end(offset: u64, entry: &FileEntry) -> Error {
    Error::invalid(format!(
        "window cache: offset {offset} beyond end of {} ({} bytes)",
        entry.name, entry.len
    ))
}

/// Refuses a descriptor that is not the file `name` was opened as (device
/// `dev`, inode `ino`, `len` bytes): another device or inode (replaced) or
/// fewer bytes (shrunk).
pub(super) fn check_identity(file: &File, name: &str, dev: u64, ino: u64, len: u64) -> Result<()> {
    let info = sys::fstat(file).map_err(|e| {
        Error::with_source(ErrorKind::Io, format!("window cache: fstat of {name}"), e)
    })?;
    let what = if (info.dev, info.ino) != (dev, ino) {
        format!(
            "it was replaced (device {dev} inode {ino} is now device {} inode {})",
            info.dev, info.ino
        )
    } else if info.size < len {
        format!("it shrank from {len} to {} bytes", info.size)
    } else {
        return Ok(());
    };
    Err(Error::new(
        ErrorKind::FileChanged,
        format!(
            "window cache: {name} changed since it was opened: {what}; open it again in a new cache"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn stats_display_reads_like_pack_report() {
        let s = WindowStats { mapped: 8192, peak_mapped: 16384, ..WindowStats::default() };
        let text = s.to_string();
        assert!(text.lines().all(|l| l.starts_with("window_report: ")), "{text}");
        assert!(text.contains("mapped                 =       8192 /      16384"), "{text}");
    }

    #[test]
    fn ghosts_admit_on_the_fourth_miss_and_forget_the_oldest_first() {
        let mut g = Ghosts::new(2);
        assert!(!g.miss((0, 0)) && !g.miss((0, 0)) && !g.miss((0, 0)));
        assert!(g.miss((0, 0)), "the fourth miss admits");
        assert!(!g.miss((0, 0)), "an admitted window starts over");
        // Two other windows push (0, 0) out: its count is lost.
        assert!(!g.miss((0, 0)) && !g.miss((0, 0)));
        assert!(!g.miss((1, 0)) && !g.miss((2, 0)));
        assert!(!g.miss((0, 0)) && !g.miss((0, 0)) && !g.miss((0, 0)));
        assert!(g.miss((0, 0)));
        g.miss((3, 8));
        g.forget_file(3);
        assert!(g.count.keys().all(|k| k.0 != 3) && g.order.iter().all(|k| k.0 != 3));
        assert!(g.order.len() <= 2 && g.order.len() == g.count.len());
    }
}
