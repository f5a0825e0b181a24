//! The `map_options` fuzz harness: decodes bytes into `MapOptions` calls and
//! operations on the resulting map, and checks every result against a model
//! of the file read with `pread`.
//!
//! Shared by the cargo-fuzz target (`fuzz/fuzz_targets/map_options.rs`) and
//! the corpus replay in the integration tests (`tests/integration/fuzz_corpus.rs`),
//! which include this file as a module.
//!
//! Checked for every input: no panic inside xmmap; every byte read through a
//! map equals the model (the file's bytes via `pread` for shared file maps, a
//! snapshot plus this map's own writes for private ones, zeros plus writes
//! for anonymous ones); writes through shared maps reach the file; every
//! error has the kind the documented rules allow; and after the input no
//! mapping is left behind: no line of `/proc/self/maps` names the backing
//! file or `/dev/zero` (shared anonymous memory), and, in strict mode, the
//! total line count is what it was before the input.
//!
//! Byte decoding: the first bytes choose the backing (temporary file or
//! memfd, read-only or read-write descriptor), the file size and its
//! contents; the rest is a list of operations, each an opcode byte followed
//! by its arguments. Sizes and offsets come from a table of boundary values
//! (0, 1, page ± 1, file size ± 1, `u64::MAX`, `isize::MAX`, ...) or raw.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

use xmmap::{Advice, ErrorKind, Limit, Map, MapMut, MapOptions, MapRaw, Protection, RemapOptions};

/// The name every backing file carries in `/proc/self/maps`.
const TAG: &str = "xmmap-fuzz";

/// Lengths a valid-looking mapping may have before the harness caps them,
/// so that no input can make the kernel populate or lock gigabytes.
const MAX_FILE_MAP: u64 = 1 << 32;

/// Runs one input. Panics (the fuzzer's finding) when a check fails.
///
/// `strict` also compares the total number of mappings before and after;
/// leave it off under AddressSanitizer, whose allocator maps memory of its own.
pub fn run(data: &[u8], strict: bool) {
    let before_ours = our_mappings();
    let before_total = total_mappings();
    {
        let mut h = Harness::new(data);
        h.run_ops();
        h.finish();
    }
    let after_ours = our_mappings();
    assert_eq!(after_ours, before_ours, "a mapping of the backing file or /dev/zero leaked");
    if strict {
        assert_eq!(total_mappings(), before_total, "a mapping leaked (/proc/self/maps grew)");
    }
}

fn maps_text() -> String {
    std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps")
}

fn our_mappings() -> usize {
    maps_text().lines().filter(|l| l.contains(TAG) || l.contains("/dev/zero")).count()
}

fn total_mappings() -> usize {
    maps_text().lines().count()
}

/// The two backings, opened once per process and reused by every input.
struct Backing {
    rw: File,
    ro: File,
}

fn backing(memfd: bool) -> &'static Backing {
    static FILE: OnceLock<Backing> = OnceLock::new();
    static MEMFD: OnceLock<Backing> = OnceLock::new();
    let open = |memfd: bool| {
        let rw = if memfd {
            let name = std::ffi::CString::new(TAG).unwrap();
            // SAFETY: memfd_create with a valid name; the fd is owned below.
            let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
            assert!(fd >= 0, "memfd_create: {}", std::io::Error::last_os_error());
            // SAFETY: fd is a fresh descriptor nobody else owns.
            unsafe { File::from_raw_fd(fd) }
        } else {
            let path =
                std::env::temp_dir().join(format!("{TAG}-{}-{:?}", std::process::id(), memfd));
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .expect("create the backing file");
            std::fs::remove_file(&path).expect("unlink the backing file");
            f
        };
        let ro = File::open(format!("/proc/self/fd/{}", rw.as_raw_fd())).expect("reopen read-only");
        Backing { rw, ro }
    };
    if memfd {
        MEMFD.get_or_init(|| open(true))
    } else {
        FILE.get_or_init(|| open(false))
    }
}

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

    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    fn u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        for x in &mut b {
            *x = self.u8();
        }
        u64::from_le_bytes(b)
    }

    /// A size or offset from the boundary table.
    fn size(&mut self, page: u64, file_size: u64) -> u64 {
        match self.u8() % 18 {
            0 => 0,
            1 => 1,
            2 => page - 1,
            3 => page,
            4 => page + 1,
            5 => file_size,
            6 => file_size + 1,
            7 => file_size.saturating_sub(1),
            8 => u64::MAX,
            9 => isize::MAX as u64,
            10 => isize::MAX as u64 + 1,
            11 => u64::MAX - page + 1,
            12 => u64::from(self.u16()),
            13 => 2 * page + u64::from(self.u8()),
            14 => self.u64(),
            15 => (1 << 32) + u64::from(self.u8()),
            16 => u64::from(self.u8()) * page,
            _ => u64::from(self.u8()),
        }
    }
}

/// What a map's bytes are backed by, in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    /// `MAP_SHARED` of the backing file: reads equal `pread`.
    SharedFile,
    /// `MAP_PRIVATE` of the backing file: a snapshot plus own writes.
    PrivateFile,
    /// Private anonymous memory: zeros plus own writes.
    PrivateAnon,
    /// Shared anonymous memory: a shmem object of this many bytes.
    SharedAnon(u64),
}

/// One live map and what the model knows about it.
enum Face {
    Ro(Map),
    Rw(MapMut),
    Raw(MapRaw),
}

impl Face {
    fn len(&self) -> usize {
        match self {
            Face::Ro(m) => m.len(),
            Face::Rw(m) => m.len(),
            Face::Raw(m) => m.len(),
        }
    }

    fn ptr(&self) -> *const u8 {
        match self {
            Face::Ro(m) => m.as_ptr(),
            Face::Rw(m) => m.as_ptr(),
            Face::Raw(m) => m.as_ptr(),
        }
    }
}

struct Live {
    face: Face,
    store: Store,
    /// The protection the map has now.
    prot: Protection,
    /// Offset in the file (or anonymous object) of the map's first byte.
    obj_off: u64,
    /// Bytes from the page boundary below the first byte.
    delta: u64,
    /// Whether the descriptor allowed writing (for shared protection changes).
    fd_writable: bool,
    /// Private maps: bytes written, by object offset.
    overlay: BTreeMap<u64, u8>,
    /// Set when an operation may have changed contents in a way the model
    /// does not follow (a failed `MADV_DONTNEED`); content checks stop.
    unknown: bool,
}

struct Harness<'a> {
    input: Bytes<'a>,
    page: u64,
    file: &'static Backing,
    fd_writable: bool,
    /// What the file holds, as the model says.
    model: Vec<u8>,
    /// Private file maps see the file as it was when they were made; nothing
    /// writes the file while one lives, so the model is that snapshot.
    shared_anon: Vec<u8>,
    live: Option<Live>,
}

impl<'a> Harness<'a> {
    fn new(data: &'a [u8]) -> Harness<'a> {
        let mut input = Bytes { data, pos: 0 };
        let page = xmmap::page_size() as u64;
        let head = input.u8();
        let file = backing(head & 1 == 1);
        let fd_writable = head & 2 == 0;
        let size = match input.u8() % 8 {
            0 => 0,
            1 => 1,
            2 => page - 1,
            3 => page,
            4 => page + 1,
            5 => 2 * page + 7,
            6 => 3 * page,
            _ => u64::from(input.u16()) % (4 * page),
        };
        let seed = input.u8();
        let model: Vec<u8> =
            (0..size).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1).collect();
        file.rw.set_len(0).expect("truncate the backing file");
        file.rw.write_all_at(&model, 0).expect("fill the backing file");
        Harness { input, page, file, fd_writable, model, shared_anon: Vec::new(), live: None }
    }

    fn fd(&self) -> &'static File {
        if self.fd_writable {
            &self.file.rw
        } else {
            &self.file.ro
        }
    }

    fn size(&mut self) -> u64 {
        let (page, size) = (self.page, self.model.len() as u64);
        self.input.size(page, size)
    }

    fn run_ops(&mut self) {
        let mut steps = 0;
        let trace = std::env::var_os("XMMAP_FUZZ_TRACE").is_some();
        while !self.input.done() && steps < 64 {
            steps += 1;
            let op = self.input.u8() % 12;
            if trace {
                let state = self.live.as_ref().map(|l| (l.store, l.prot, l.obj_off, l.face.len()));
                eprintln!("op {op} at byte {} on {state:?}", self.input.pos - 1);
            }
            match op {
                0 | 1 => self.op_map(),
                2 => self.op_check(),
                3 => self.op_write(),
                4 => self.op_flush(),
                5 => self.op_advise(),
                6 => self.op_dontneed(),
                7 => self.op_lock(),
                8 => self.op_protect(),
                9 => self.op_remap(),
                10 => self.op_split(),
                _ => self.op_unmap(),
            }
            self.op_check();
        }
    }

    fn finish(&mut self) {
        self.op_check();
        self.live = None;
        self.check_file();
    }

    /// The file as `pread` sees it must equal the model.
    fn check_file(&self) {
        let mut buf = vec![0u8; self.model.len()];
        self.file.rw.read_exact_at(&mut buf, 0).expect("pread the backing file");
        assert!(buf == self.model, "the file differs from the model");
        let len = self.file.rw.metadata().expect("fstat").len();
        assert_eq!(len, self.model.len() as u64, "the file's size changed");
    }

    // ---- constructors -------------------------------------------------

    fn op_map(&mut self) {
        self.live = None;
        let page = self.page;
        let file_size = self.model.len() as u64;
        let kind = self.input.u8() % 9;
        let anon = kind >= 7;
        let flags = self.input.u16();
        let offset = if anon && flags & 0x8000 == 0 { 0 } else { self.size() };
        let len_given = self.input.bool();
        let mut len = self.size();
        let limit = if flags & 0x4000 != 0 { Some(self.size()) } else { None };
        let hint =
            if flags & 0x2000 != 0 { self.input.u64() & !(page - 1) & ((1 << 47) - 1) } else { 0 };
        // Keep what the kernel would really populate or reserve small.
        let cap = if anon { 64 * page } else { MAX_FILE_MAP };
        if len > cap && len <= isize::MAX as u64 {
            len %= cap;
        }
        if !len_given && anon {
            len = 0;
        }

        let mut o = MapOptions::new();
        o.offset(offset);
        if len_given || anon {
            o.len(len as usize);
        }
        let has = |bit: u16| flags & (1 << bit) != 0;
        o.populate(has(0)).no_reserve(has(1)).stack(has(2)).nonblock(has(3));
        o.validate(has(4)).locked(has(5));
        if has(6) {
            o.huge(if has(7) { Some(21) } else { None });
        }
        if has(8) {
            o.grows_down(true);
        }
        if has(9) {
            o.low_32bit(true);
        }
        if hint != 0 {
            o.hint(hint as usize).fixed_noreplace(has(10));
        }
        if let Some(l) = limit {
            o.limit(Limit::bytes(l));
        }

        // The documented rules: which outcomes are allowed.
        let mut ok = true;
        let mut errs: Vec<Allowed> = Vec::new();
        let private = matches!(kind, 2 | 3 | 7);
        let effective = if anon || len_given { len } else { file_size.saturating_sub(offset) };
        if !anon && offset > file_size {
            fail(&mut ok, &mut errs, |k| k == &ErrorKind::InvalidInput);
        }
        if anon && offset != 0 {
            fail(&mut ok, &mut errs, |k| k == &ErrorKind::InvalidInput);
        }
        if effective > isize::MAX as u64
            || offset > i64::MAX as u64
            || offset.checked_add(effective).is_none_or(|e| e > i64::MAX as u64)
        {
            fail(&mut ok, &mut errs, |k| k == &ErrorKind::InvalidInput);
        }
        if kind == 1 && !self.fd_writable {
            fail(&mut ok, &mut errs, |k| k == &ErrorKind::PermissionDenied);
        }
        // MAP_SHARED_VALIDATE: shared file maps only.
        if has(4) && (private || anon) {
            fail(&mut ok, &mut errs, |k| k == &ErrorKind::InvalidInput);
        }
        // MAP_GROWSDOWN is for private anonymous memory (stacks).
        if has(8) && kind != 7 {
            fail(&mut ok, &mut errs, |k| k == &ErrorKind::InvalidInput);
        }
        if has(6) {
            errs.push(|k| matches!(k, ErrorKind::HugePagesUnavailable { .. }));
            errs.push(|k| k == &ErrorKind::InvalidInput);
        }
        // huge + no_reserve can fault on touch: only MapRaw takes it.
        if has(6) && has(1) && !matches!(kind, 5 | 6) {
            fail(&mut ok, &mut errs, |k| k == &ErrorKind::InvalidInput);
        }
        if hint != 0 && has(10) {
            errs.push(|k| {
                matches!(
                    k,
                    ErrorKind::AlreadyMapped
                        | ErrorKind::InvalidInput
                        | ErrorKind::OutOfMemory
                        | ErrorKind::PermissionDenied
                )
            });
        }
        if has(4) && hint != 0 && has(10) && effective != 0 {
            // MAP_FIXED_NOREPLACE is not among the flags MAP_SHARED_VALIDATE knows.
            fail(&mut ok, &mut errs, |k| k == &ErrorKind::Unsupported);
        }
        if has(5) {
            errs.push(|k| matches!(k, ErrorKind::LockLimit { .. } | ErrorKind::OutOfMemory));
        }
        // xmmap's POSIX backend (macOS, FreeBSD; `--cfg xmmap_posix` on
        // Linux) refuses Linux's MAP_POPULATE, MAP_NONBLOCK, MAP_SHARED_VALIDATE,
        // MAP_LOCKED, MAP_HUGETLB, MAP_GROWSDOWN and MAP_32BIT when a call is made.
        if cfg!(xmmap_posix) && [0, 3, 4, 5, 6, 8, 9].into_iter().any(has) && effective != 0 {
            fail(&mut ok, &mut errs, |k| k == &ErrorKind::Unsupported);
            errs.push(|k| matches!(k, ErrorKind::HugePagesUnavailable { .. }));
        }
        if has(9) || effective > 1 << 30 {
            errs.push(|k| k == &ErrorKind::OutOfMemory);
        }
        if let Some(l) = limit {
            if l != 0 && effective > 0 {
                // The limit applies to the page-rounded kernel length: allow it
                // whenever the mapped bytes might exceed it.
                if effective.saturating_add(offset % page) > l || has(6) {
                    errs.push(|k| matches!(k, ErrorKind::LimitExceeded { .. }));
                    if effective.saturating_add(offset % page) > l && !has(6) {
                        ok = false;
                    }
                }
            }
        }
        if has(6) && effective != 0 {
            // No pool on the test machines; a pool would make this succeed.
            ok = ok && !xmmap::page::huge_page_sizes().iter().all(|h| h.free == 0);
        }

        let fd = self.fd();
        // SAFETY: only this harness touches the backing file, and it never
        // changes the file while a map of it lives except through that map.
        let result = unsafe {
            match kind {
                0 => o.map(fd).map(Face::Ro),
                1 => o.map_mut(fd).map(Face::Rw),
                2 => o.map_copy(fd).map(Face::Rw),
                3 => o.map_copy_read_only(fd).map(Face::Ro),
                4 => o.map_exec(fd).map(Face::Ro),
                5 => o.map_raw(fd).map(Face::Raw),
                6 => o.map_raw_read_only(fd).map(Face::Raw),
                7 => o.map_anon().map(Face::Rw),
                _ => o.map_anon_shared().map(Face::Rw),
            }
        };
        let face = match result {
            Ok(face) => {
                assert!(ok, "kind {kind} {o:?} on a {file_size}-byte file should have failed");
                face
            }
            Err(e) => {
                assert!(
                    errs.iter().any(|allowed| allowed(e.kind())),
                    "kind {kind} {o:?} on a {file_size}-byte file: unexpected error {e:?}"
                );
                assert!(!e.to_string().is_empty());
                return;
            }
        };
        assert_eq!(face.len() as u64, effective, "{o:?}: the map has the wrong length");
        if has(6) {
            return; // a huge page map: dropped, not modelled
        }
        if effective != 0 {
            assert_eq!(face.ptr() as u64 % page, offset % page, "the first byte is not exact");
        }
        let store = match kind {
            7 => Store::PrivateAnon,
            8 => Store::SharedAnon(align_up(effective, page)),
            2 | 3 => Store::PrivateFile,
            _ => Store::SharedFile,
        };
        if let Store::SharedAnon(n) = store {
            self.shared_anon = vec![0; n as usize];
        }
        let prot = match kind {
            1 | 2 | 7 | 8 => Protection::READ_WRITE,
            4 => Protection::READ | Protection::EXEC,
            5 if self.fd_writable => Protection::READ_WRITE,
            _ => Protection::READ,
        };
        self.live = Some(Live {
            face,
            store,
            prot,
            obj_off: offset,
            delta: offset % page,
            fd_writable: self.fd_writable,
            overlay: BTreeMap::new(),
            unknown: false,
        });
    }

    // ---- the model ------------------------------------------------------

    /// The byte at object offset `at` as the model says.
    fn expect(&self, live: &Live, at: u64) -> u8 {
        match live.store {
            Store::SharedFile => self.model.get(at as usize).copied().unwrap_or(0),
            Store::PrivateFile => live
                .overlay
                .get(&at)
                .copied()
                .unwrap_or_else(|| self.model.get(at as usize).copied().unwrap_or(0)),
            Store::PrivateAnon => live.overlay.get(&at).copied().unwrap_or(0),
            Store::SharedAnon(_) => self.shared_anon[at as usize],
        }
    }

    /// How many bytes of the map can be touched without a fault.
    fn readable(&self, live: &Live) -> usize {
        let end = match live.store {
            Store::SharedFile | Store::PrivateFile => align_up(self.model.len() as u64, self.page),
            Store::SharedAnon(n) => n,
            Store::PrivateAnon => u64::MAX,
        };
        end.saturating_sub(live.obj_off).min(live.face.len() as u64) as usize
    }

    /// How many bytes of the map can be written and modelled.
    fn writable(&self, live: &Live) -> usize {
        match live.store {
            // Past end-of-file a shared write would land in the page tail,
            // which the model does not follow.
            Store::SharedFile => (self.model.len() as u64)
                .saturating_sub(live.obj_off)
                .min(live.face.len() as u64) as usize,
            _ => self.readable(live),
        }
    }

    fn op_check(&mut self) {
        let Some(live) = &self.live else { return };
        if live.unknown || !live.prot.contains(Protection::READ) {
            return;
        }
        let n = self.readable(live);
        // SAFETY: the first `n` bytes are backed (inside the file's last page,
        // or anonymous memory) and the map is readable; nothing writes the
        // map concurrently.
        let got = unsafe { std::slice::from_raw_parts(live.face.ptr(), n) };
        for (i, &b) in got.iter().enumerate() {
            let want = self.expect(live, live.obj_off + i as u64);
            assert_eq!(b, want, "byte {i} of the map (object offset {})", live.obj_off + i as u64);
        }
        if live.store == Store::SharedFile {
            self.check_file();
        }
    }

    fn op_write(&mut self) {
        let start = self.input.u16() as usize;
        let count = self.input.u8() as usize;
        let value = self.input.u8();
        let Some(live) = &self.live else { return };
        if !live.prot.contains(Protection::WRITE) {
            return;
        }
        let n = self.writable(live);
        if n == 0 {
            return;
        }
        let start = start % n;
        let end = (start + count).min(n);
        let ptr = live.face.ptr() as *mut u8;
        for i in start..end {
            // SAFETY: i < writable <= readable: backed, and the map is writable.
            unsafe { ptr.add(i).write_volatile(value) };
        }
        let (store, obj_off) = (live.store, live.obj_off);
        for i in start..end {
            let at = obj_off + i as u64;
            match store {
                Store::SharedFile => self.model[at as usize] = value,
                Store::SharedAnon(_) => self.shared_anon[at as usize] = value,
                _ => {
                    self.live.as_mut().unwrap().overlay.insert(at, value);
                }
            }
        }
    }

    /// A range of the map: in bounds or not, as the input says.
    fn range(&mut self) -> (usize, usize) {
        let len = self.live.as_ref().map_or(0, |l| l.face.len()) as u64;
        let page = self.page;
        let off = self.input.size(page, len);
        let n = self.input.size(page, len);
        (off as usize, n as usize)
    }

    fn in_bounds(&self, off: usize, n: usize) -> bool {
        let len = self.live.as_ref().map_or(0, |l| l.face.len());
        off.checked_add(n).is_some_and(|e| e <= len)
    }

    fn op_flush(&mut self) {
        let (off, n) = self.range();
        let sync = self.input.bool();
        let inside = self.in_bounds(off, n);
        let Some(live) = &self.live else { return };
        let r = match (&live.face, sync) {
            (Face::Rw(m), true) => m.flush_range(off, n),
            (Face::Rw(m), false) => m.flush_async_range(off, n),
            (Face::Raw(m), true) => m.flush_range(off, n),
            (Face::Raw(m), false) => m.flush_async_range(off, n),
            (Face::Ro(_), _) => return,
        };
        match r {
            Ok(()) => assert!(inside, "flush of {n} at {off} outside the map succeeded"),
            Err(e) => {
                assert!(!inside, "flush of {n} at {off} inside the map failed: {e:?}");
                assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e:?}");
            }
        }
    }

    fn op_advise(&mut self) {
        const ALL: [Advice; 17] = [
            Advice::Normal,
            Advice::Random,
            Advice::Sequential,
            Advice::WillNeed,
            Advice::DontFork,
            Advice::DoFork,
            Advice::Mergeable,
            Advice::Unmergeable,
            Advice::HugePage,
            Advice::NoHugePage,
            Advice::DontDump,
            Advice::DoDump,
            Advice::Cold,
            Advice::PageOut,
            Advice::PopulateRead,
            Advice::PopulateWrite,
            Advice::Collapse,
        ];
        let advice = ALL[self.input.u8() as usize % ALL.len()];
        let whole = self.input.bool();
        let (off, n) = self.range();
        let inside = self.in_bounds(off, n);
        let Some(live) = &self.live else { return };
        let r = match (&live.face, whole) {
            (Face::Ro(m), true) => m.advise(advice),
            (Face::Rw(m), true) => m.advise(advice),
            (Face::Raw(m), true) => m.advise(advice),
            (Face::Ro(m), false) => m.advise_range(advice, off, n),
            (Face::Rw(m), false) => m.advise_range(advice, off, n),
            (Face::Raw(m), false) => m.advise_range(advice, off, n),
        };
        if let Err(e) = r {
            if !whole && !inside {
                assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e:?}");
            }
            assert!(e.to_string().contains("MADV_") || !inside, "{e}");
        } else {
            assert!(whole || inside, "advice on {n} bytes at {off} outside the map succeeded");
        }
    }

    fn op_dontneed(&mut self) {
        let (off, n) = self.range();
        let inside = self.in_bounds(off, n);
        let page = self.page;
        let Some(live) = &mut self.live else { return };
        let advice = xmmap::UncheckedAdvice::DontNeed;
        // SAFETY: the harness holds no reference into the map across this
        // call, and the model below follows what MADV_DONTNEED discards.
        let r = unsafe {
            match &live.face {
                Face::Ro(m) => m.unchecked_advise_range(advice, off, n),
                Face::Rw(m) => m.unchecked_advise_range(advice, off, n),
                Face::Raw(m) => m.unchecked_advise_range(advice, off, n),
            }
        };
        match r {
            Ok(()) => {
                assert!(inside, "MADV_DONTNEED outside the map succeeded");
                // On macOS and FreeBSD (xmmap's POSIX backend) MADV_DONTNEED
                // is a hint that keeps the contents.
                if n > 0
                    && !cfg!(xmmap_posix)
                    && matches!(live.store, Store::PrivateFile | Store::PrivateAnon)
                {
                    // Private pages of the range read the file (or zeros) again.
                    let first =
                        align_down(live.delta + off as u64, page) + live.obj_off - live.delta;
                    let end =
                        align_up(live.delta + (off + n) as u64, page) + live.obj_off - live.delta;
                    live.overlay.retain(|&at, _| at < first || at >= end);
                }
            }
            Err(e) => {
                if !inside {
                    assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e:?}");
                } else {
                    live.unknown = true; // e.g. EINVAL on locked pages
                }
            }
        }
    }

    fn op_lock(&mut self) {
        let (off, n) = self.range();
        let unlock = self.input.bool();
        let inside = self.in_bounds(off, n);
        let Some(live) = &self.live else { return };
        let r = match (&live.face, unlock) {
            (Face::Ro(m), false) => m.lock_range(off, n),
            (Face::Rw(m), false) => m.lock_range(off, n),
            (Face::Raw(m), false) => m.lock_range(off, n),
            (Face::Ro(m), true) => m.unlock(),
            (Face::Rw(m), true) => m.unlock(),
            (Face::Raw(m), true) => m.unlock(),
        };
        if let Err(e) = r {
            if !unlock && !inside {
                assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e:?}");
            } else {
                assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::LockLimit { .. } | ErrorKind::OutOfMemory | ErrorKind::Io
                    ),
                    "lock of {n} at {off}: {e:?}"
                );
            }
        } else {
            assert!(unlock || inside, "lock of {n} bytes at {off} outside the map succeeded");
        }
    }

    fn op_protect(&mut self) {
        let choice = self.input.u8() % 4;
        let Some(mut live) = self.live.take() else { return };
        let shared_file = live.store == Store::SharedFile;
        // An empty map has no pages to protect: every change succeeds.
        let denied_write = shared_file && !live.fd_writable && live.face.len() != 0;
        let (face, prot, want_err): (xmmap::Result<Face>, Protection, bool) = match live.face {
            Face::Ro(m) => match choice {
                0 => (m.make_mut().map(Face::Rw), Protection::READ_WRITE, denied_write),
                1 => (m.make_exec().map(Face::Ro), Protection::READ | Protection::EXEC, false),
                _ => (m.make_none().map(Face::Raw), Protection::NONE, false),
            },
            Face::Rw(m) => match choice {
                0 => (m.make_read_only().map(Face::Ro), Protection::READ, false),
                1 => (m.make_exec().map(Face::Ro), Protection::READ | Protection::EXEC, false),
                _ => (m.make_none().map(Face::Raw), Protection::NONE, false),
            },
            Face::Raw(mut m) => {
                let p = [
                    Protection::NONE,
                    Protection::READ,
                    Protection::READ_WRITE,
                    Protection::WRITE | Protection::EXEC,
                ][choice as usize];
                let r = m.protect(p);
                let invalid = choice == 3;
                match r {
                    Ok(()) => {
                        assert!(!invalid, "W+X through the safe protect succeeded");
                        live.prot = p;
                    }
                    Err(e) if invalid => assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e:?}"),
                    Err(e) => {
                        assert!(choice == 2 && denied_write, "protect({p:?}): {e:?}");
                        assert_eq!(e.kind(), &ErrorKind::PermissionDenied, "{e:?}");
                    }
                }
                live.face = Face::Raw(m);
                self.live = Some(live);
                return;
            }
        };
        match face {
            Ok(face) => {
                assert!(!want_err, "making a read-only shared file map writable succeeded");
                live.face = face;
                live.prot = prot;
                self.live = Some(live);
            }
            Err(e) => {
                assert!(want_err, "protection change to {prot:?}: {e:?}");
                assert_eq!(e.kind(), &ErrorKind::PermissionDenied, "{e:?}");
                // The map was consumed and unmapped: the leak check covers it.
            }
        }
    }

    fn op_remap(&mut self) {
        let page = self.page;
        let mut new_len = self.size();
        let may_move = self.input.bool();
        if new_len > 64 * page && new_len <= isize::MAX as u64 {
            new_len %= 64 * page;
        }
        let Some(live) = &mut self.live else { return };
        let old_len = live.face.len();
        let opts = RemapOptions::new().may_move(may_move);
        // SAFETY: no reference into the map is held; the harness touches only
        // bytes the file (or the anonymous object) backs.
        let r = unsafe {
            match &mut live.face {
                Face::Ro(m) => m.remap(new_len as usize, opts),
                Face::Rw(m) => m.remap(new_len as usize, opts),
                Face::Raw(m) => m.remap(new_len as usize, opts),
            }
        };
        match r {
            Ok(()) => {
                assert!(old_len != 0, "remap of an empty map succeeded");
                assert_eq!(live.face.len() as u64, new_len);
                if new_len == 0 {
                    self.live = None;
                    return;
                }
                assert_eq!(live.face.ptr() as u64 % page, live.delta, "remap lost the offset");
                // Pages cut off by a shrink are gone: private writes there are lost.
                let kept = align_up(live.delta + new_len.min(old_len as u64), page);
                let cut = live.obj_off - live.delta + kept;
                live.overlay.retain(|&at, _| at < cut);
            }
            Err(e) => {
                assert_eq!(live.face.len(), old_len, "a failed remap changed the length");
                let overflow =
                    new_len.checked_add(live.delta).is_none_or(|t| t > isize::MAX as u64);
                if old_len == 0 || overflow {
                    assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e:?}");
                } else if cfg!(xmmap_posix) {
                    // No mremap on macOS and FreeBSD.
                    assert_eq!(e.kind(), &ErrorKind::Unsupported, "{e:?}");
                } else {
                    assert!(
                        matches!(e.kind(), ErrorKind::OutOfMemory | ErrorKind::InvalidInput),
                        "remap from {old_len} to {new_len}: {e:?}"
                    );
                }
            }
        }
    }

    fn op_split(&mut self) {
        let page = self.page;
        let len = self.live.as_ref().map_or(0, |l| l.face.len()) as u64;
        let at = self.input.size(page, len);
        let keep_tail = self.input.bool();
        let Some(mut live) = self.live.take() else { return };
        let at_us = at as usize;
        let valid = at <= len && (at == 0 || at == len || (live.delta + at) % page == 0);
        let halves = match live.face {
            Face::Ro(m) => m.split_at(at_us).map(|(a, b)| (Face::Ro(a), Face::Ro(b))),
            Face::Rw(m) => m.split_at(at_us).map(|(a, b)| (Face::Rw(a), Face::Rw(b))),
            Face::Raw(m) => m.split_at(at_us).map(|(a, b)| (Face::Raw(a), Face::Raw(b))),
        };
        match halves {
            Ok((head, tail)) => {
                assert!(valid, "split_at({at}) of {len} bytes succeeded");
                assert_eq!((head.len() as u64, tail.len() as u64), (at, len - at));
                if keep_tail {
                    drop(head);
                    if tail.len() == 0 {
                        return;
                    }
                    live.obj_off += at;
                    live.delta = (live.delta + at) % page;
                    live.face = tail;
                } else {
                    drop(tail);
                    if head.len() == 0 {
                        return;
                    }
                    if at < len {
                        // Pages from the (page-aligned) cut on are unmapped;
                        // at the very end nothing is, not even the tail page.
                        let cut = live.obj_off + at;
                        live.overlay.retain(|&o, _| o < cut);
                    }
                    live.face = head;
                }
                self.live = Some(live);
            }
            Err(e) => {
                assert!(!valid, "split_at({at}) of {len} bytes failed: {e:?}");
                assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e:?}");
            }
        }
    }

    fn op_unmap(&mut self) {
        let Some(live) = self.live.take() else { return };
        let r = match live.face {
            Face::Ro(m) => m.unmap(),
            Face::Rw(m) => m.unmap(),
            Face::Raw(m) => m.unmap(),
        };
        r.expect("unmap of a live map");
    }
}

/// An error kind the rules allow for one operation.
type Allowed = fn(&ErrorKind) -> bool;

/// Records an error the rules require: success is no longer allowed.
fn fail(ok: &mut bool, errs: &mut Vec<Allowed>, allowed: Allowed) {
    *ok = false;
    errs.push(allowed);
}

fn align_up(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

fn align_down(x: u64, a: u64) -> u64 {
    x / a * a
}
