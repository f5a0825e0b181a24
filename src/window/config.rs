//! The settings of a window cache: [`WindowConfig`], its defaults and the
//! settings in force once checked.

use std::sync::atomic::{AtomicU64, Ordering};

use super::lock::StripedLock;
use super::state::State;
use super::WindowCache;
use crate::error::{Error, ErrorKind, Result};
use crate::limit::{parse_size, Limit};
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

/// The default of [`WindowConfig::pread_below`]: reads of
/// [`WindowCache::read_at`] shorter than this go by `pread` while a guarded
/// copy costs system calls, hit or not: below 16 KiB such a copy cost more
/// than `pread` in `cargo bench -p xmmap-bench --bench window` (BENCHMARKS.md,
/// "Window cache").
pub const DEFAULT_PREAD_BELOW: usize = 16 << 10;

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
    admission: bool,
    pread_below: usize,
    per_thread_descriptors: bool,
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
            admission: true,
            pread_below: DEFAULT_PREAD_BELOW,
            per_thread_descriptors: true,
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

    /// Whether [`WindowCache::read_at`] maps a window only once it has
    /// proven reuse (on by default). With admission, a miss on a window
    /// that was not missed lately is served by `pread` straight into the
    /// caller's buffer, and the window is mapped on its fourth miss while
    /// a short list of recently missed windows (as long as the budget
    /// holds windows) remembers it: a scattered access pattern, whose
    /// windows would be unmapped before they paid for their mapping, costs
    /// about what `pread` costs, while a clustered one still gets windows.
    /// A window the mapping [`Limit`] refuses is read by `pread` too.
    /// Without admission, every miss maps, as in git (and such a window is
    /// [`ErrorKind::LimitExceeded`]). Cursors, which lend slices, always map.
    pub fn admission(&mut self, on: bool) -> &mut Self {
        self.admission = on;
        self
    }

    /// With [admission](Self::admission), the reads of
    /// [`WindowCache::read_at`] shorter than `bytes` are read by `pread`,
    /// whether their window is mapped or not, while a guarded copy would
    /// cost more than `pread` ([`DEFAULT_PREAD_BELOW`] by default; 0 turns
    /// this off). That is the case while every guarded copy asks the kernel
    /// for the thread's signal state (three system calls, where `pread`
    /// makes one; see [`guard`](crate::guard)): until
    /// [`assume_signals_untouched`](crate::guard::assume_signals_untouched)
    /// is called, and always where the kernel does the guarded copy. Such
    /// reads map no window and do not count towards a window's proof of
    /// reuse (a window mapped only to be read by `pread` would be waste);
    /// windows already mapped stay for cursors and longer reads.
    /// [`WindowStats::pread_reads`](crate::WindowStats::pread_reads) counts
    /// them. A file's descriptor then also stays open when one window maps
    /// all of it, so that `pread` has one; when the descriptor was closed
    /// to stay within `max_open_files`, the read takes the usual way.
    pub fn pread_below(&mut self, bytes: usize) -> &mut Self {
        self.pread_below = bytes;
        self
    }

    /// Whether the reads that [`pread_below`](Self::pread_below) sends to
    /// `pread` use a descriptor of the reading thread's lock stripe (on by
    /// default): each is opened by path the first time that stripe reads
    /// the file and checked to be the same file (device, inode, not
    /// shorter), else the file's one descriptor serves. In a
    /// multi-threaded process the kernel writes a reference count in the
    /// open file for every `pread`, so threads sharing one descriptor
    /// contend on it. These descriptors count towards `max_open_files`: at
    /// the budget the shared one serves, and a file that needs a
    /// descriptor reopened first closes them. [`WindowCache::close`] and
    /// dropping the cache close them.
    pub fn per_thread_descriptors(&mut self, on: bool) -> &mut Self {
        self.per_thread_descriptors = on;
        self
    }

    /// Sets `name` (`window_size`, `mapped_limit`, `max_open_files`,
    /// `overlap` or `pread_below`) from text, with the size syntax of [`Limit`].
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
            "pread_below" => self.pread_below(count(n)?),
            _ => {
                return Err(Error::invalid(format!(
                    "window cache has no setting {name:?} (known: window_size, mapped_limit, \
                     max_open_files, overlap, pread_below)"
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
        let cfg = Resolved {
            page,
            window,
            mapped_limit: self.mapped_limit,
            max_open_files,
            overlap: self.overlap,
            limit: self.limit,
            admission: self.admission,
            pread_below: if self.admission { self.pread_below } else { 0 },
            per_thread_descriptors: self.per_thread_descriptors,
        };
        Ok(WindowCache {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            cfg,
            state: StripedLock::new(State::new(&cfg)),
            cursor_hits: AtomicU64::new(0),
        })
    }
}

/// git's `packed_git_window_size` rounding: down to a multiple of twice the
/// page size, at least one such unit.
pub(super) fn round_window_size(requested: u64, page: usize) -> u64 {
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

/// The settings in force.
#[derive(Debug, Clone, Copy)]
pub(super) struct Resolved {
    pub(super) page: usize,
    pub(super) window: u64,
    pub(super) mapped_limit: u64,
    pub(super) max_open_files: usize,
    pub(super) overlap: usize,
    pub(super) limit: Option<Limit>,
    pub(super) admission: bool,
    /// `pread_below`, 0 without admission.
    pub(super) pread_below: usize,
    pub(super) per_thread_descriptors: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
