//! Everything behind the cache's lock: the files, their windows, the
//! counters, and the eviction and descriptor rules that act on them.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use super::config::Resolved;
use super::geometry::{close_rank, least_recently_used, serves_until, window_for};
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

/// One window: a read-only shared mapping of `raw.len()` bytes of a file
/// from `start`.
pub(super) struct Window {
    pub(super) raw: MapRaw,
    pub(super) start: u64,
    /// The file's name, for messages.
    pub(super) name: Arc<str>,
}

/// A window in the cache, with its LRU stamp.
pub(super) struct Slot {
    pub(super) win: Arc<Window>,
    pub(super) last_used: u64,
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
    /// Where to reopen it; `None` for a descriptor given to [`WindowCache::add`].
    pub(super) path: Option<PathBuf>,
    pub(super) fd: Option<File>,
    pub(super) dev: u64,
    pub(super) ino: u64,
    pub(super) len: u64,
    /// Windows by start offset.
    pub(super) windows: BTreeMap<u64, Slot>,
    pub(super) last_used: u64,
}

impl FileEntry {
    pub(super) fn find(&mut self, offset: u64, window: u64, overlap: usize) -> Option<&mut Slot> {
        let lo = offset.saturating_sub(window - 1);
        let len = self.len;
        self.windows.range_mut(lo..=offset).rev().map(|(_, s)| s).find(|s| {
            (s.win.start..serves_until(s.win.start, s.win.raw.len(), len, overlap))
                .contains(&offset)
        })
    }

    pub(super) fn newest_use(&self) -> u64 {
        self.windows.values().map(|s| s.last_used).max().unwrap_or(self.last_used)
    }
}

/// Everything behind the cache's lock.
#[derive(Default)]
pub(super) struct State {
    pub(super) files: Vec<FileEntry>,
    pub(super) tick: u64,
    pub(super) mapped: u64,
    pub(super) peak_mapped: u64,
    pub(super) open_windows: usize,
    pub(super) peak_open_windows: usize,
    pub(super) open_files: usize,
    pub(super) peak_open_files: usize,
    pub(super) hits: u64,
    pub(super) misses: u64,
    pub(super) mmap_calls: u64,
    pub(super) evictions: u64,
    pub(super) over_soft_limit: u64,
    pub(super) enomem_retries: u64,
    pub(super) closes: u64,
    pub(super) reopens: u64,
}

impl State {
    pub(super) fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Removes the window of file `f` at `start` and returns it for the
    /// caller to drop (which unmaps it).
    pub(super) fn remove(&mut self, f: usize, start: u64) -> Option<Arc<Window>> {
        let slot = self.files[f].windows.remove(&start)?;
        self.mapped -= slot.win.raw.len() as u64;
        self.open_windows -= 1;
        self.evictions += 1;
        Some(slot.win)
    }

    /// Evicts the least recently used unused window; `false` if none.
    pub(super) fn evict_one(&mut self, victims: &mut Vec<Arc<Window>>) -> bool {
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

    pub(super) fn evict_all_unused(&mut self, victims: &mut Vec<Arc<Window>>) {
        while self.evict_one(victims) {}
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
                self.open_files -= 1;
                self.closes += 1;
                true
            }
            None => false,
        }
    }

    pub(super) fn make_room_for_fd(&mut self, cfg: &Resolved, except: Option<usize>) {
        while self.open_files >= cfg.max_open_files && self.close_one(except) {}
    }

    pub(super) fn fd_opened(&mut self) {
        self.open_files += 1;
        self.peak_open_files = self.peak_open_files.max(self.open_files);
    }

    /// The descriptor of file `f`, reopened and checked if it was closed.
    pub(super) fn ensure_open(&mut self, cfg: &Resolved, f: usize) -> Result<()> {
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
    pub(super) fn pin(
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

    pub(super) fn map(&self, cfg: &Resolved, f: usize, start: u64, len: usize) -> Result<MapRaw> {
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

pub(super) fn beyond_end(offset: u64, entry: &FileEntry) -> Error {
    Error::invalid(format!(
        "window cache: offset {offset} beyond end of {} ({} bytes)",
        entry.name, entry.len
    ))
}

/// Refuses a descriptor that is not the file `entry` was opened as: another
/// device or inode (replaced) or fewer bytes (shrunk).
pub(super) fn check_identity(file: &File, entry: &FileEntry) -> Result<()> {
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
}
