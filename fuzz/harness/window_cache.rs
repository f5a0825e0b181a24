//! The `window_cache` fuzz harness: decodes bytes into a `WindowConfig`, a
//! few small files and a list of `WindowCache` operations, and checks every
//! result against `pread` of the same files.
//!
//! Shared by the cargo-fuzz target (`fuzz/fuzz_targets/window_cache.rs`) and
//! the corpus replay in the integration tests (`tests/integration/fuzz_corpus.rs`),
//! which include this file as a module.
//!
//! Checked for every input: no panic inside xmmap; every byte that
//! `read_at`, `read_exact_at`, a cursor's `at` or a cursor's `read_at` gives
//! equals `pread` of the file; a cursor's slice holds at least the overlap
//! (or runs to end-of-file); offsets at or past the end get the documented
//! result (`Ok(0)` for `read_at` at the end, `InvalidInput` past it or for
//! a cursor at it); the only other error allowed is `LimitExceeded` when a
//! [`Limit`] smaller than the window is configured. The statistics agree
//! with each other and with what the harness pins: `pinned_windows` is the
//! number of distinct windows the live cursors hold, `evict_unused` leaves
//! exactly those, `misses == mmap_calls`, `open_windows == mmap_calls -
//! evictions`, and after every operation that mapped a window, the mapped
//! bytes are within `mapped_limit` unless every window but the one just
//! mapped is pinned (git's soft limit); descriptors stay within
//! `max_open_files` (plus the files added by descriptor, which are never
//! closed). After the input, once the cache is dropped, no line of
//! `/proc/self/maps` names one of the files and no descriptor refers to
//! one; in strict mode the total number of mappings is what it was before.
//!
//! Byte decoding: six bytes choose the window size, the mapped limit, the
//! overlap, the open-file limit, a mapping [`Limit`] (and, by its bit 2,
//! whether admission is off) and the number of files
//! (1 to 4); each file takes a size byte (sometimes two more), a byte of
//! contents seed and whether it is opened by path or added by descriptor;
//! the rest is a list of operations, an opcode byte followed by its
//! arguments. Offsets and lengths come from a table of boundary values (0,
//! 1, end - 1, end, end + 1, half a window ± 1, a window ± 1, `u64::MAX`,
//! ...) or raw.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use xmmap::{ErrorKind, Limit, WindowCache, WindowConfig, WindowCursor, WindowFile};

/// The name every file carries in `/proc/self/maps` and `/proc/self/fd`.
const TAG: &str = "xmmap-wfuzz";

/// Operations per input, and cursors alive at once.
const MAX_OPS: usize = 64;
const MAX_CURSORS: usize = 4;

/// Runs one input. Panics (the fuzzer's finding) when a check fails.
///
/// `strict` also compares the total number of mappings before and after;
/// leave it off under AddressSanitizer, whose allocator maps memory of its own.
pub fn run(data: &[u8], strict: bool) {
    let before_ours = our_mappings();
    let before_total = total_mappings();
    let files = {
        let mut input = Bytes { data, pos: 0 };
        let mut h = Setup::decode(&mut input);
        let files = std::mem::take(&mut h.files);
        if let Some(cache) = h.build() {
            run_ops(&h, &cache, &files, &mut input);
        }
        files
    };
    // The cache and every cursor are gone: nothing of the files is left.
    assert_eq!(our_mappings(), before_ours, "a window outlived its cache");
    assert_eq!(our_descriptors(), 0, "a descriptor outlived its cache");
    drop(files);
    if strict {
        assert_eq!(total_mappings(), before_total, "a mapping leaked (/proc/self/maps grew)");
    }
}

fn maps_text() -> String {
    std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps")
}

fn our_mappings() -> usize {
    maps_text().lines().filter(|l| l.contains(TAG)).count()
}

fn total_mappings() -> usize {
    maps_text().lines().count()
}

/// Descriptors of this process that name one of the harness's files, apart
/// from the harness's own reading handles (`TestFile::pread`).
fn our_descriptors() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else { return 0 };
    dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|p| p.to_string_lossy().contains(TAG))
        .count()
        .saturating_sub(LIVE_MODEL_FDS.load(Ordering::Relaxed))
}

/// The harness's own descriptors of its files (one per live `TestFile`).
static LIVE_MODEL_FDS: AtomicUsize = AtomicUsize::new(0);

/// A byte cursor that yields zeros once the input is used up.
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
}

/// One file of the input: its path, a descriptor the model reads with
/// `pread`, and its length.
struct TestFile {
    path: PathBuf,
    model: File,
    len: u64,
}

impl TestFile {
    fn create(len: u64, seed: u8) -> TestFile {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "{TAG}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        // Bytes that differ from page to page and window to window, so a
        // read from the wrong place is seen.
        let bytes: Vec<u8> = (0..len)
            .map(|i| ((i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8) ^ seed)
            .collect();
        std::fs::write(&path, &bytes).expect("write a test file");
        let model = File::open(&path).expect("open a test file");
        LIVE_MODEL_FDS.fetch_add(1, Ordering::Relaxed);
        TestFile { path, model, len }
    }

    /// `pread` of `len` bytes at `offset`, short at the end.
    fn pread(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        let mut done = 0;
        while done < len {
            match self.model.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) => panic!("pread of {}: {e}", self.path.display()),
            }
        }
        buf.truncate(done);
        buf
    }
}

impl Drop for TestFile {
    fn drop(&mut self) {
        LIVE_MODEL_FDS.fetch_sub(1, Ordering::Relaxed);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The configuration and files an input asks for.
struct Setup {
    page: u64,
    /// The window size asked for, and the one in force after rounding.
    requested_window: u64,
    window: u64,
    mapped_limit: u64,
    overlap: usize,
    max_open_files: Option<usize>,
    limit: Option<Limit>,
    /// Bytes of the largest mapping `limit` allows (u64::MAX without one).
    limit_bytes: u64,
    admission: bool,
    files: Vec<TestFile>,
    /// Per file: added by descriptor (never closed) rather than opened by path.
    by_fd: Vec<bool>,
}

impl Setup {
    fn decode(input: &mut Bytes<'_>) -> Setup {
        let page = xmmap::page_size() as u64;
        let requested_window = match input.u8() % 8 {
            0 => 0,
            1 => 1,
            2 => page,
            3 => 2 * page,
            4 => 2 * page + 1,
            5 => 4 * page,
            6 => 6 * page,
            _ => u64::from(input.u16()) * 4,
        };
        let unit = 2 * page;
        let window = (requested_window / unit).max(1) * unit;
        let mapped_limit = match input.u8() % 8 {
            0 => 0,
            1 => 1,
            2 => window,
            3 => window + 1,
            4 => 2 * window,
            5 => 3 * window,
            6 => u64::MAX,
            _ => u64::from(input.u16()) * 64,
        };
        let overlap = match input.u8() % 6 {
            0 => 0,
            1 => 1,
            2 => 20,
            3 => (window / 2) as usize,
            4 => (window / 2) as usize + 1,
            _ => usize::from(input.u8()),
        };
        let max_open_files = match input.u8() % 5 {
            0 => None,
            n => Some(usize::from(n - 1)),
        };
        // Bit 2 of the limit byte turns admission off (every read_at miss maps).
        let limit_byte = input.u8();
        let admission = limit_byte & 4 == 0;
        let (limit, limit_bytes) = match limit_byte % 4 {
            0 => (None, u64::MAX),
            1 => (Some(Limit::none()), u64::MAX),
            2 => (Some(Limit::bytes(page)), page),
            _ => (Some(Limit::bytes(window)), window),
        };
        let n = 1 + usize::from(input.u8() % 4);
        let mut files = Vec::with_capacity(n);
        let mut by_fd = Vec::with_capacity(n);
        for _ in 0..n {
            let len = match input.u8() % 12 {
                0 => 0,
                1 => 1,
                2 => page - 1,
                3 => page,
                4 => page + 1,
                5 => window - 1,
                6 => window,
                7 => window + 1,
                8 => window / 2 + u64::from(input.u8()),
                9 => 3 * window + u64::from(input.u8()),
                10 => u64::from(input.u16()),
                _ => 2 * window + 7,
            };
            // Files stay small: a few windows at most.
            let len = len.min(8 * window).min(1 << 20);
            let way = input.u8();
            files.push(TestFile::create(len, way));
            by_fd.push(way & 1 == 1);
        }
        Setup {
            page,
            requested_window,
            window,
            mapped_limit,
            overlap,
            max_open_files,
            limit,
            limit_bytes,
            admission,
            files,
            by_fd,
        }
    }

    /// The cache, or `None` when the configuration is rightly refused.
    fn build(&self) -> Option<WindowCache> {
        let mut c = WindowConfig::new();
        c.window_size(self.requested_window).mapped_limit(self.mapped_limit).overlap(self.overlap);
        c.admission(self.admission);
        if let Some(n) = self.max_open_files {
            c.max_open_files(n);
        }
        if let Some(l) = self.limit {
            c.limit(l);
        }
        match c.build() {
            Ok(cache) => {
                assert!(
                    self.overlap as u64 <= self.window / 2,
                    "an overlap of {} over half the window {} was accepted",
                    self.overlap,
                    self.window
                );
                let s = cache.stats();
                assert_eq!(s.window_size, self.window, "window size rounding");
                assert_eq!(s.mapped_limit, self.mapped_limit);
                assert_eq!(s.page_size as u64, self.page);
                Some(cache)
            }
            Err(e) => {
                assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
                assert!(self.overlap as u64 > self.window / 2, "refused a valid config: {e}");
                None
            }
        }
    }

    /// Whether a window of `len` bytes is larger than the mapping limit allows.
    fn over_limit(&self, len: u64) -> bool {
        len.div_ceil(self.page) * self.page > self.limit_bytes
    }

    /// Whether the mapping limit may refuse some window.
    fn limit_bites(&self) -> bool {
        self.limit_bytes < self.window
    }
}

/// A live cursor and the file it reads.
struct Live<'c> {
    cursor: WindowCursor<'c>,
    file: usize,
}

fn run_ops(h: &Setup, cache: &WindowCache, files: &[TestFile], input: &mut Bytes<'_>) {
    let trace = std::env::var_os("XMMAP_FUZZ_TRACE").is_some();
    let mut handles: Vec<WindowFile> = Vec::with_capacity(files.len());
    let mut added = 0;
    for (i, f) in files.iter().enumerate() {
        let r = if h.by_fd[i] {
            added += 1;
            cache.add(File::open(&f.path).expect("open a test file"))
        } else {
            cache.open(&f.path)
        };
        let handle = r.unwrap_or_else(|e| panic!("adding a regular file failed: {e}"));
        assert_eq!(handle.len(), f.len, "the handle's length");
        assert_eq!(handle.is_empty(), f.len == 0);
        handles.push(handle);
    }
    let ops = Ops { h, cache, files, handles, added };
    ops.check_stats(&[], false);
    let mut cursors: Vec<Live<'_>> = Vec::new();
    let mut steps = 0;
    while !input.done() && steps < MAX_OPS {
        steps += 1;
        let op = input.u8() % 10;
        let f = usize::from(input.u8()) % files.len();
        if trace {
            eprintln!("op {op} on file {f} at byte {}, {} cursors", input.pos - 2, cursors.len());
        }
        let calls = cache.stats().mmap_calls;
        match op {
            0 | 1 => ops.read(f, input, op == 1),
            2 if cursors.len() < MAX_CURSORS => {
                // SAFETY: nothing writes or truncates the files while the
                // harness runs.
                let cursor = unsafe { cache.cursor(ops.handles[f]) }.expect("a cursor");
                assert_eq!(cursor.file(), ops.handles[f]);
                assert!(cursor.window().is_none(), "a new cursor pins nothing");
                cursors.push(Live { cursor, file: f });
            }
            3 | 4 if !cursors.is_empty() => {
                let i = f % cursors.len();
                let live = &mut cursors[i];
                if op == 3 {
                    ops.cursor_at(live, input);
                } else {
                    ops.cursor_read(live, input);
                }
            }
            5 if !cursors.is_empty() => {
                let i = f % cursors.len();
                cursors[i].cursor.release();
                assert!(cursors[i].cursor.window().is_none());
            }
            6 if !cursors.is_empty() => {
                let i = f % cursors.len();
                drop(cursors.swap_remove(i));
            }
            7 => {
                let before = cache.stats();
                let n = cache.evict_unused();
                let after = cache.stats();
                assert_eq!(n, before.open_windows - before.pinned_windows, "evict_unused count");
                assert_eq!(after.open_windows, after.pinned_windows, "an unused window survived");
                assert!(after.mapped <= before.mapped, "evict_unused mapped more");
            }
            8 => {
                let s = cache.stats();
                let _ = (s.to_string(), s.hit_rate(), format!("{cache:?}"));
            }
            _ => ops.read(f, input, false),
        }
        let mapped = cache.stats().mmap_calls > calls;
        ops.check_stats(&cursors, mapped);
    }
    drop(cursors);
    ops.check_stats(&[], false);
}

struct Ops<'a> {
    h: &'a Setup,
    cache: &'a WindowCache,
    files: &'a [TestFile],
    handles: Vec<WindowFile>,
    added: usize,
}

impl Ops<'_> {
    /// An offset into file `f` from the boundary table.
    fn offset(&self, f: usize, input: &mut Bytes<'_>) -> u64 {
        let (len, w) = (self.files[f].len, self.h.window);
        match input.u8() % 16 {
            0 => 0,
            1 => 1,
            2 => len.saturating_sub(1),
            3 => len,
            4 => len + 1,
            5 => w / 2 - 1,
            6 => w / 2,
            7 => w - 1,
            8 => w,
            9 => w + 1,
            10 => u64::MAX,
            11 => len.saturating_sub(self.h.overlap as u64),
            12 => u64::from(input.u8()) * self.h.page,
            13 => (w - self.h.overlap as u64).saturating_sub(1) + u64::from(input.u8() % 3),
            14 => u64::from(input.u16()) % (len + 2),
            _ => u64::from(input.u16()),
        }
    }

    /// A buffer length from the boundary table.
    fn length(&self, f: usize, input: &mut Bytes<'_>) -> usize {
        let (len, w) = (self.files[f].len as usize, self.h.window as usize);
        match input.u8() % 8 {
            0 => 0,
            1 => 1,
            2 => 20,
            3 => self.h.page as usize,
            4 => w,
            5 => 2 * w + 1,
            6 => len,
            _ => usize::from(input.u16()),
        }
    }

    /// An error that the configured limit explains: a window over it.
    fn limit_error(&self, e: &xmmap::Error) -> bool {
        match e.kind() {
            ErrorKind::LimitExceeded { requested, limit } => {
                assert!(self.h.limit_bites(), "LimitExceeded without a small limit: {e}");
                assert_eq!(*limit, self.h.limit_bytes, "{e}");
                assert!(self.h.over_limit(*requested), "refused {requested} bytes: {e}");
                true
            }
            _ => false,
        }
    }

    fn read(&self, f: usize, input: &mut Bytes<'_>, exact: bool) {
        let offset = self.offset(f, input);
        let len = self.length(f, input);
        let file = &self.files[f];
        let mut buf = vec![0xa5u8; len];
        let want = if offset <= file.len { file.pread(offset, len) } else { Vec::new() };
        if exact {
            match self.cache.read_exact_at(self.handles[f], offset, &mut buf) {
                Ok(()) => {
                    assert_eq!(want.len(), len, "read_exact_at filled a buffer past the end");
                    assert!(buf == want, "read_exact_at differs from pread at {offset}+{len}");
                }
                Err(e) if self.limit_error(&e) => {}
                Err(e) => {
                    assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
                    assert!(offset > file.len || want.len() < len, "read_exact_at refused: {e}");
                }
            }
            return;
        }
        match self.cache.read_at(self.handles[f], offset, &mut buf) {
            Ok(n) => {
                assert!(offset <= file.len, "read_at past the end succeeded");
                assert_eq!(n, want.len(), "read_at count differs from pread at {offset}+{len}");
                assert!(buf[..n] == want[..], "read_at differs from pread at {offset}+{len}");
                assert!(buf[n..].iter().all(|&b| b == 0xa5), "read_at wrote past its count");
            }
            Err(e) if self.limit_error(&e) => {}
            Err(e) => {
                assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
                assert!(offset > file.len, "read_at refused an offset inside the file: {e}");
                assert!(e.to_string().contains("beyond end"), "{e}");
            }
        }
    }

    fn cursor_at(&self, live: &mut Live<'_>, input: &mut Bytes<'_>) {
        let offset = self.offset(live.file, input);
        let file = &self.files[live.file];
        let overlap = self.h.overlap as u64;
        match live.cursor.at(offset) {
            Ok(bytes) => {
                assert!(offset < file.len, "a cursor served offset {offset} of {}", file.len);
                let n = bytes.len() as u64;
                assert!(n >= overlap.min(file.len - offset).max(1), "short slice at {offset}");
                assert!(n <= self.h.window && offset + n <= file.len, "slice too long");
                assert!(
                    *bytes == file.pread(offset, bytes.len())[..],
                    "cursor differs at {offset}"
                );
                let (start, wlen) = live.cursor.window().expect("a pinned window");
                assert!(start <= offset && offset < start + wlen as u64, "window misses offset");
                assert_eq!(start + wlen as u64, offset + n, "the slice ends with its window");
            }
            Err(e) if self.limit_error(&e) => {}
            Err(e) => {
                assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
                assert!(offset >= file.len, "a cursor refused offset {offset}: {e}");
            }
        }
    }

    fn cursor_read(&self, live: &mut Live<'_>, input: &mut Bytes<'_>) {
        let offset = self.offset(live.file, input);
        let len = self.length(live.file, input);
        let file = &self.files[live.file];
        let mut buf = vec![0x5au8; len];
        match live.cursor.read_at(offset, &mut buf) {
            Ok(n) => {
                assert!(offset <= file.len, "a cursor read past the end");
                let want = file.pread(offset, len);
                assert_eq!(n, want.len(), "cursor read_at count at {offset}+{len}");
                assert!(buf[..n] == want[..], "cursor read_at differs at {offset}+{len}");
            }
            Err(e) if self.limit_error(&e) => {}
            Err(e) => {
                assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
                assert!(offset > file.len, "a cursor refused read_at {offset}: {e}");
            }
        }
    }

    /// The statistics agree with each other and with the cursors; after an
    /// operation that mapped (`mapped_now`), the soft limit held.
    fn check_stats(&self, cursors: &[Live<'_>], mapped_now: bool) {
        let s = self.cache.stats();
        let mut pinned: Vec<(usize, u64)> = cursors
            .iter()
            .filter_map(|l| l.cursor.window().map(|(start, _)| (l.file, start)))
            .collect();
        pinned.sort_unstable();
        pinned.dedup();
        assert_eq!(s.pinned_windows, pinned.len(), "pinned windows:\n{s}");
        assert_eq!(s.misses, s.mmap_calls, "{s}");
        assert_eq!(s.open_windows as u64, s.mmap_calls - s.evictions, "{s}");
        assert!(s.open_windows <= s.peak_open_windows && s.mapped <= s.peak_mapped, "{s}");
        assert!(s.mapped <= s.open_windows as u64 * self.h.window, "{s}");
        assert_eq!(s.mapped == 0, s.open_windows == 0, "{s}");
        assert_eq!(s.enomem_retries, 0, "{s}");
        let bound = s.max_open_files.max(self.added + 1);
        assert!(s.open_files <= bound && s.peak_open_files <= bound, "open files:\n{s}");
        if mapped_now {
            // git's soft limit: over the budget only when nothing else could go.
            let unpinned = s.open_windows - s.pinned_windows;
            assert!(s.mapped <= self.h.mapped_limit || unpinned <= 1, "over the limit:\n{s}");
        }
    }
}
