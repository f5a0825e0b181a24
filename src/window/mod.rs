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
//! - Windows are mapped with [`MapOptions`](crate::MapOptions) (`offset`, `len`, and the
//!   configured [`Limit`](crate::Limit)), so `XMMAP_LIMIT` applies as to every other map.
//! - When more than `max_open_files` descriptors would be open, the cache
//!   closes one (a file with no windows first, else the one whose newest
//!   window is oldest) and reopens it by path on demand, refusing a file that
//!   was replaced (another device or inode) or shrank
//!   ([`ErrorKind::FileChanged`]). As in git, a file's descriptor is also
//!   closed once one window maps all of it. Closing a descriptor never
//!   unmaps a window.
//! - Short reads by `pread` ([`WindowConfig::pread_below`]) use a
//!   descriptor of the reading thread's lock stripe, opened by path and
//!   checked the same way, so threads do not contend on one open file's
//!   reference count ([`WindowConfig::per_thread_descriptors`]); these
//!   count towards `max_open_files` and are closed first.
//! - [`WindowCache::close`] gives up one file: its unused windows are
//!   unmapped and its descriptor closed; a window a cursor pins stays
//!   mapped for that cursor until released, and is then evicted first.
//!
//! # Admission
//!
//! A window pays for its `mmap`, page faults and `munmap` only if it is
//! read again before it is evicted. With [`WindowConfig::admission`] (on by
//! default), a [`WindowCache::read_at`] that misses reads the bytes with
//! `pread` straight into the caller's buffer and notes the window in a
//! short ghost list of recently missed windows (as many as the budget
//! holds); the window is mapped ("admitted") on its fourth miss while the
//! list remembers it. So scattered reads over a file larger than the
//! budget cost about what `pread` costs, and clustered ones still get
//! windows. A window the mapping limit refuses is read by `pread` as well.
//! Cursors lend slices and always map. [`WindowStats`] counts the
//! reads served by `pread`, by mapped windows, and the windows admitted.
//!
//! A hit is not always cheaper than `pread` either: until a program calls
//! [`assume_signals_untouched`](crate::guard::assume_signals_untouched),
//! every guarded copy first asks the kernel for the thread's signal mask
//! and both fault dispositions, three system calls where `pread` makes
//! one. So with admission a `read_at` shorter than
//! [`WindowConfig::pread_below`] is read by `pread` meanwhile, even when
//! its window is mapped, and maps none; mapped windows stay for cursors and
//! longer reads.
//!
//! # Locks
//!
//! A [`WindowCache`] has one readers-writer lock over its files, windows
//! and counters, striped by thread (`lock.rs`): a reader takes only its
//! own thread's stripe, a writer takes every stripe. A hit holds it for
//! reading only (its use stamps are atomics written only when they change,
//! its counters a padded stripe per thread), so hits of many threads run
//! side by side and, as long as each thread has a stripe of its own (up
//! to 16), write no cache line another thread's hits write. It is
//! held for writing while a miss is looked up, while unused windows are chosen for
//! eviction and the new window's bytes are reserved against
//! `mapped_limit` (so the limit is checked exactly, counting windows being
//! mapped), and while a mapped window is entered. It is never held for
//! writing across a system call that maps, unmaps or reads, nor for reading
//! across one that maps or unmaps: the `fstat` identity check and
//! `mmap` of a new window, the `munmap` of evicted windows (dropped after
//! the lock is released, including on the `ENOMEM` path, before the retry),
//! and the `pread` of a miss. So one thread's miss does not stall other
//! threads' hits. Two threads that miss the same window may both map it;
//! the second to enter it unmaps its copy and uses the first (counted as a
//! miss and an eviction). Opening and reopening a descriptor (`open` and
//! its `fstat`) are the system calls made under the lock held for writing.
//! A [`WindowCursor`] reads the window it pins without any lock. [`WindowCache::read_at`] copies a piece of at
//! most 16 KiB out of its window while it holds the lock for reading, and
//! so makes the `pread` of such a piece of a hit that `pread_below` sends
//! to `pread` (a writer waits for that copy or read, and for its page
//! faults or disk reads if the pages are not resident); a longer piece
//! pins the window (or clones the descriptor's `Arc`), drops the lock,
//! copies and unpins, and so does the `pread` of a miss. Hits served
//! from a cursor's own window are counted in the cursor and added to an atomic counter when it moves
//! or drops.
//!
//! # Files
//!
//! `config.rs` holds the settings, `geometry.rs` the pure arithmetic of
//! windows and of what to evict or close, `lock.rs` the striped lock,
//! `state.rs` everything behind the lock (files, windows, ghosts, counters), `cursor.rs` the cursor; this
//! file the cache's public face and the one read loop both `read_at`s use.
//!
//! May call: `map` (through the public [`MapOptions`](crate::MapOptions)), `guard` (the
//! guarded `MapRaw::read_at`), `limit`, `page`, `sys` (`fstat`,
//! `getrlimit`, the descriptor's path, `pread` for reads served without a
//! window, and whether a guarded copy costs system calls).
//!
//! # Safety
//!
//! Each window is a [`MapRaw`](crate::MapRaw) inside an `Arc`. The cache holds one
//! reference; a cursor, or a [`read_at`](WindowCache::read_at) of a long
//! piece in progress, holds another while it uses the window (git's
//! `inuse_cnt`). New references are made only under the lock (held for
//! reading or writing), so a window whose reference count is one, seen
//! under the lock held for writing, is unused and stays unused while it is
//! held: only such windows are evicted, and the `Arc` would keep a pinned
//! mapping alive in any case. A short piece is copied through a `&Window`
//! borrowed from the state under the lock held for reading: the cache
//! drops its reference only after removing the window under the lock held
//! for writing, which waits for the copy, so the mapping outlives it. Every copy out of a window goes through one function,
//! `copy_out`, which uses the guarded `MapRaw::read_at`. A cursor keeps a
//! copy of its pinned window's address and length next to the reference
//! that keeps the window mapped. A `&[u8]` into a window is handed out only
//! by a cursor made with the `unsafe`
//! [`WindowCache::cursor`], whose caller promises what the caller of
//! [`MapOptions::map`](crate::MapOptions::map) promises.
#![allow(unsafe_code)]

mod config;
mod cursor;
mod geometry;
mod lock;
mod state;

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::sys;

pub use config::{
    WindowConfig, DEFAULT_MAPPED_LIMIT, DEFAULT_OVERLAP, DEFAULT_PREAD_BELOW, DEFAULT_WINDOW_SIZE,
};
pub use cursor::WindowCursor;
pub use state::WindowStats;

use config::Resolved;
use lock::{ReadGuard, StripedLock, WriteGuard};
use state::{
    beyond_end, copy_out, no_stripe_fds, FileEntry, GhostMiss, Need, Plan, Seen, Stamp, State,
    Step, Window,
};

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
    state: StripedLock<State>,
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

    fn lock(&self) -> WriteGuard<'_, State> {
        self.state.write()
    }

    /// The lock held for reading: enough for a hit.
    fn read_lock(&self) -> ReadGuard<'_, State> {
        self.state.read()
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
            fd: Some(Arc::new(file)),
            dev: info.dev,
            ino: info.ino,
            len: info.size,
            windows: BTreeMap::new(),
            last_used: Stamp::new(now),
            closed: false,
            stripe_fds: no_stripe_fds(),
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

    /// The window serving `offset` of `file`, pinned by the returned
    /// reference, or (for [`Need::Bytes`]) the descriptor to `pread` from.
    /// A window to map is mapped with no lock held; windows evicted on the
    /// way are unmapped after the lock is dropped.
    fn get(&self, file: WindowFile, offset: u64, need: Need) -> Result<Got> {
        if let Some(Seen::Window(win)) =
            self.read_lock().hit(&self.cfg, file.index, offset, need, false)
        {
            return Ok(Got::Window(Arc::clone(win)));
        }
        self.miss(file, offset, need, false)
    }

    /// What [`get`](Self::get) does once [`State::hit`] found nothing: the
    /// lookup under the lock held for writing, and the mapping; `admitted`
    /// as for [`State::lookup`].
    fn miss(&self, file: WindowFile, offset: u64, need: Need, admitted: bool) -> Result<Got> {
        let mut victims = Vec::new();
        let step = self.lock().lookup(&self.cfg, file.index, offset, need, admitted, &mut victims);
        drop(victims);
        match step? {
            Step::Hit(win) => Ok(Got::Window(win)),
            Step::Pread(fd) => Ok(Got::Pread(fd)),
            Step::Map(plan) => match self.map_window(&plan) {
                // The mapping limit refuses the window, but `read_at` needs
                // only the bytes: read them as if it had not been admitted.
                Err(e) if need == Need::Bytes && self.cfg.admission && is_limit(&e) => {
                    self.lock().c.pread_reads += 1;
                    Ok(Got::Pread(plan.fd))
                }
                r => r.map(Got::Window),
            },
        }
    }

    /// The window serving `offset` of `file`, pinned by the returned reference.
    fn pin(&self, file: WindowFile, offset: u64) -> Result<Arc<Window>> {
        match self.get(file, offset, Need::Slice)? {
            Got::Window(win) => Ok(win),
            Got::Pread(..) => unreachable!("a lookup for a slice always gives a window"),
        }
    }

    /// Maps the window `plan` reserved, outside the lock, and enters it.
    fn map_window(&self, plan: &Plan) -> Result<Arc<Window>> {
        let mut victims = Vec::new();
        let raw = match plan.map(&self.cfg) {
            Err(e) if e.kind() == &ErrorKind::OutOfMemory => {
                // git did this until 2019 and dropped it only because its
                // version was not thread-safe: evict every unused window,
                // unmap them (after the lock, before the retry), and try
                // once more.
                {
                    let mut st = self.lock();
                    st.evict_all_unused(&mut victims);
                    st.c.enomem_retries += 1;
                }
                victims.clear();
                plan.map(&self.cfg)
            }
            r => r,
        };
        let win = {
            let mut st = self.lock();
            match raw {
                Ok(raw) => st.install(&self.cfg, plan, raw, &mut victims),
                Err(e) => {
                    st.cancel(plan);
                    Err(e)
                }
            }
        };
        drop(victims);
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
    /// mapping's errors (for example [`ErrorKind::OutOfMemory`] after the
    /// retry, or [`ErrorKind::LimitExceeded`] without
    /// [admission](WindowConfig::admission); with it, a window the mapping
    /// limit refuses is read by `pread`); [`ErrorKind::Io`] if a `pread`
    /// fails.
    pub fn read_at(&self, file: WindowFile, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.check(file)?;
        // While a guarded copy costs system calls, `pread` is the cheaper
        // copy for a short read, window or not (`pread_below`).
        let by_pread = buf.len() < self.cfg.pread_below && sys::guarded_copy_makes_syscalls();
        let name = || Arc::clone(&self.read_lock().files[file.index].name);
        read_loop(self, file, offset, buf, |pos, buf| {
            let mut admitted = false;
            let st = self.read_lock();
            let got = match st.hit(&self.cfg, file.index, pos, Need::Bytes, by_pread) {
                // A short copy runs under the lock held for reading, which
                // keeps the window mapped: no reference count is written
                // that other threads' hits write too.
                Some(Seen::Window(win)) if buf.len() <= COPY_UNDER_LOCK => {
                    return copy_out(win, pos, buf);
                }
                Some(Seen::Window(win)) => Some(Got::Window(Arc::clone(win))),
                // So does a short `pread` (a window mapped while the copy
                // costs more): no `Arc` of the descriptor is cloned.
                Some(Seen::Pread(fd)) if buf.len() <= COPY_UNDER_LOCK => {
                    return pread(fd, pos, buf, || Arc::clone(&st.files[file.index].name));
                }
                Some(Seen::Pread(fd)) => Some(Got::Pread(Arc::clone(fd))),
                // A miss that `pread` serves needs no lock for writing.
                None => match st.ghost_miss(&self.cfg, file.index, pos) {
                    GhostMiss::Pread(fd) => Some(Got::Pread(Arc::clone(fd))),
                    GhostMiss::Admitted => {
                        admitted = true;
                        None
                    }
                    GhostMiss::Locked => None,
                },
            };
            drop(st);
            let got = match got {
                Some(got) => got,
                None => self.miss(file, pos, Need::Bytes, admitted)?,
            };
            match got {
                Got::Window(win) => copy_out(&win, pos, buf),
                Got::Pread(fd) => pread(&fd, pos, buf, name),
            }
        })
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
    ///   for [`MapOptions::map`](crate::MapOptions::map), nobody (this process or another) may write
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
        Ok(WindowCursor::new(self, file))
    }

    /// Closes `file`: unmaps its windows not in use, closes its descriptor
    /// and forgets it, so the handle reads no more. A window a cursor pins
    /// stays mapped for that cursor (whose [`at`](WindowCursor::at) keeps
    /// serving it) until it is released; it is then the first to be
    /// evicted. Closing a closed file does nothing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] for a handle of another cache.
    pub fn close(&self, file: WindowFile) -> Result<()> {
        self.check(file)?;
        let mut victims = Vec::new();
        self.lock().close(file.index, &mut victims);
        drop(victims); // unmapped outside the lock
        Ok(())
    }

    /// Unmaps every window not in use now and returns how many.
    pub fn evict_unused(&self) -> usize {
        let mut victims = Vec::new();
        self.lock().evict_all_unused(&mut victims);
        victims.len()
    }

    /// A snapshot of what the cache did.
    pub fn stats(&self) -> WindowStats {
        let st = self.read_lock();
        let (shared_hits, shared_mapped_reads, shared_pread_reads) = st.shared.sums();
        let pinned =
            st.files.iter().flat_map(|e| e.windows.values()).filter(|s| s.in_use()).count();
        WindowStats {
            page_size: self.cfg.page,
            window_size: self.cfg.window,
            mapped_limit: self.cfg.mapped_limit,
            max_open_files: self.cfg.max_open_files,
            hits: st.c.hits + shared_hits + self.cursor_hits.load(Ordering::Relaxed),
            mapped_reads: st.c.mapped_reads + shared_mapped_reads,
            pread_reads: st.c.pread_reads + shared_pread_reads,
            pinned_windows: pinned,
            open_files: st.open_files(),
            peak_open_files: st.c.peak_open_files.max(st.peak_with_stripes.load(Ordering::Relaxed)),
            ..st.c
        }
    }
}

/// The longest copy out of a window, or `pread` of a hit, that
/// [`WindowCache::read_at`] makes while it holds the lock for reading (four
/// pages): a writer waits for it, page faults or disk reads included. A
/// longer one pins the window or the descriptor (an `Arc` clone) and
/// copies after the lock is dropped.
const COPY_UNDER_LOCK: usize = 16 << 10;

fn is_limit(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::LimitExceeded { .. })
}

/// How [`WindowCache::get`] serves a lookup.
enum Got {
    Window(Arc<Window>),
    Pread(Arc<File>),
}

/// The one read loop, of [`WindowCache::read_at`] and
/// [`WindowCursor::read_at`]: copies the bytes of `file` from `offset` into
/// `buf`, as many as `piece(pos, rest)` copies at a time (at least one, up
/// to the end of a window), and returns how many: `buf.len()`, fewer at the
/// end of the file, 0 at its end.
fn read_loop(
    cache: &WindowCache,
    file: WindowFile,
    offset: u64,
    buf: &mut [u8],
    mut piece: impl FnMut(u64, &mut [u8]) -> Result<usize>,
) -> Result<usize> {
    if offset > file.len {
        let st = cache.read_lock();
        return Err(beyond_end(offset, &st.files[file.index]));
    }
    let want = (file.len - offset).min(buf.len() as u64) as usize;
    let mut done = 0;
    while done < want {
        let pos = offset + done as u64;
        done += piece(pos, &mut buf[done..want])?;
    }
    Ok(done)
}

/// `pread` of the bytes at `pos` into `buf` for a window not mapped: all of
/// `buf` unless the file ends first, which, as `buf` lies within the file's
/// length when it was opened, means the file was truncated. `name` gives
/// the file's name for an error (it takes the lock).
fn pread(fd: &File, pos: u64, buf: &mut [u8], name: impl FnOnce() -> Arc<str>) -> Result<usize> {
    loop {
        match sys::pread(fd, buf, pos) {
            Ok(0) => {
                let name = name();
                return Err(Error::new(
                    ErrorKind::Truncated { offset: pos },
                    format!(
                        "window cache: read of {} bytes at offset {pos} of {name}: the file was \
                         truncated, file offset {pos} is gone",
                        buf.len()
                    ),
                ));
            }
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let name = name();
                return Err(Error::with_source(
                    ErrorKind::Io,
                    format!("window cache: pread of {} bytes at offset {pos} of {name}", buf.len()),
                    e,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_and_its_cursors_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<WindowCache>();
        send_sync::<WindowCursor<'_>>();
        send_sync::<WindowFile>();
        send_sync::<WindowStats>();
    }
}
