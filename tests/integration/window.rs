//! The window cache: bytes equal to what `pread` returns under random
//! configurations, the mapped-bytes budget, pinning, the open-file limit
//! with the identity check, a real git pack read the way git's t5301 reads
//! it, many threads at once, and the `ENOMEM` retry (in a child process).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use xmmap::{page_size, ErrorKind, WindowCache, WindowConfig, WindowCursor, WindowFile};

use crate::common::Rng;

/// `pread` until `buf` is full or the file ends.
fn pread(file: &File, offset: u64, buf: &mut [u8]) -> usize {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64).expect("pread") {
            0 => break,
            n => done += n,
        }
    }
    done
}

/// An offset that likes window edges and the end of the file.
fn pick_offset(rng: &mut Rng, len: u64, window: u64) -> u64 {
    let half = window / 2;
    match rng.below(4) {
        0 => rng.below(len + 2),
        1 => (rng.below(len / half + 2) * half).saturating_sub(rng.below(40)),
        2 => len.saturating_sub(rng.below(60)),
        _ => rng.below(len / half + 1) * half + rng.below(40),
    }
}

fn page() -> u64 {
    page_size() as u64
}

#[test]
fn random_reads_match_pread_and_keep_within_mapped_limit() {
    let mut rng = Rng(0x853c_49e6_748f_ea9b);
    let mut seen = xmmap::WindowStats::default();
    let rounds = if std::env::var_os("XMMAP_SOAK").is_some() { 2_000 } else { 24 };
    for round in 0..rounds {
        // Every other round without admission: every read_at miss maps.
        let admission = round % 2 == 0;
        let window = 2 * page() * (1 + rng.below(3));
        // Short reads of mapped windows by pread, or never, or the default.
        let pread_below = match round % 3 {
            0 => 0,
            1 => rng.below(3 * window) as usize,
            _ => xmmap::window::DEFAULT_PREAD_BELOW,
        };
        let mapped_limit = rng.below(5 * window);
        let overlap = match rng.below(4) {
            0 => 0,
            1 => 20,
            _ => rng.below(window / 2 + 1),
        } as usize;
        let max_files = 1 + rng.below(4) as usize;
        let files: Vec<TempFile> = (0..1 + rng.below(4))
            .map(|_| {
                let len = rng.below(6 * window) as usize;
                TempFile::with(&rng.bytes(len))
            })
            .collect();
        let plain: Vec<File> = files.iter().map(TempFile::read).collect();
        let cache = WindowConfig::new()
            .window_size(window)
            .mapped_limit(mapped_limit)
            .overlap(overlap)
            .max_open_files(max_files)
            .admission(admission)
            .pread_below(pread_below)
            .build()
            .unwrap();
        let handles: Vec<WindowFile> = files.iter().map(|f| cache.open(&f.path).unwrap()).collect();
        let mut cursors: Vec<Option<(usize, WindowCursor<'_>)>> = (0..3).map(|_| None).collect();
        for _step in 0..150 {
            let f = rng.below(files.len() as u64) as usize;
            let h = handles[f];
            let offset = pick_offset(&mut rng, h.len(), window);
            let before = cache.stats();
            match rng.below(5) {
                0..=1 => {
                    let mut got = vec![0u8; rng.below(5 * window / 2) as usize];
                    let mut want = got.clone();
                    match cache.read_at(h, offset, &mut got) {
                        Ok(n) => {
                            assert_eq!(n, pread(&plain[f], offset, &mut want));
                            assert_eq!(got[..n], want[..n], "read_at({offset}) of file {f}");
                        }
                        Err(e) => {
                            assert!(offset > h.len(), "read_at({offset}): {e}");
                            assert_eq!(e.kind(), &ErrorKind::InvalidInput);
                        }
                    }
                }
                2..=3 => {
                    let c = rng.below(cursors.len() as u64) as usize;
                    if cursors[c].as_ref().is_none_or(|(cf, _)| *cf != f) {
                        cursors[c] = None;
                        // SAFETY: nothing writes the test's files.
                        cursors[c] = Some((f, unsafe { cache.cursor(h).unwrap() }));
                    }
                    let cursor = &mut cursors[c].as_mut().unwrap().1;
                    match cursor.at(offset) {
                        Ok(bytes) => {
                            assert!(offset < h.len());
                            let mut want = vec![0u8; bytes.len()];
                            assert_eq!(pread(&plain[f], offset, &mut want), bytes.len());
                            assert_eq!(bytes, &want[..], "at({offset}) of file {f}");
                            let rest = (h.len() - offset) as usize;
                            assert!(!bytes.is_empty());
                            assert!(bytes.len() >= overlap.min(rest), "overlap not honoured");
                            assert!(bytes.len() as u64 <= window);
                        }
                        Err(e) => {
                            assert!(offset >= h.len(), "at({offset}): {e}");
                            assert!(e.to_string().contains("beyond end"), "{e}");
                        }
                    }
                }
                _ => {
                    let c = rng.below(cursors.len() as u64) as usize;
                    cursors[c] = None;
                }
            }
            let s = cache.stats();
            if s.misses > before.misses {
                // A window was mapped over the budget only because every
                // other window was in use: at most the new one is unused.
                assert!(
                    s.mapped <= mapped_limit || s.open_windows - s.pinned_windows <= 1,
                    "over the limit with unused windows:\n{s}"
                );
            }
            assert!(s.open_files <= max_files, "{s}");
            assert_eq!(s.misses, s.mmap_calls, "{s}");
            if !admission {
                assert_eq!((s.pread_reads, s.admitted), (0, 0), "{s}");
            }
        }
        drop(cursors);
        let s = cache.stats();
        seen.evictions += s.evictions;
        seen.over_soft_limit += s.over_soft_limit;
        seen.reopens += s.reopens;
        seen.hits += s.hits;
        seen.pread_reads += s.pread_reads;
        seen.admitted += s.admitted;
        assert_eq!(s.pinned_windows, 0);
        assert_eq!(cache.evict_unused(), s.open_windows);
        assert_eq!(cache.stats().mapped, 0);
    }
    // The rounds reached eviction, the soft limit and reopening.
    assert!(seen.evictions > 0 && seen.over_soft_limit > 0 && seen.reopens > 0, "{seen:?}");
    assert!(seen.hits > 0);
    // The rounds with admission read by pread and admitted windows too.
    assert!(seen.pread_reads > 0 && seen.admitted > 0, "{seen:?}");
}

#[test]
fn cursor_walk_sees_every_byte_once_with_the_overlap() {
    let data = Rng(99).bytes(13 * page() as usize + 77);
    let f = TempFile::with(&data);
    let cache =
        WindowConfig::new().window_size(2 * page()).mapped_limit(4 * page()).build().unwrap();
    let h = cache.open(&f.path).unwrap();
    // SAFETY: nothing writes the file.
    let mut cursor = unsafe { cache.cursor(h).unwrap() };
    let mut seen = Vec::new();
    let mut offset = 0;
    while offset < h.len() {
        let bytes = cursor.at(offset).unwrap();
        seen.extend_from_slice(bytes);
        offset += bytes.len() as u64;
    }
    assert_eq!(seen, data);
    let e = cursor.at(h.len()).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(e.to_string().contains("beyond end"), "{e}");
    // A hit within the pinned window maps nothing.
    let mmaps = cache.stats().mmap_calls;
    let (start, _) = cursor.window().unwrap();
    assert_eq!(cursor.at(start).unwrap()[0], data[start as usize]);
    assert_eq!(cache.stats().mmap_calls, mmaps);
    drop(cursor);
    let s = cache.stats();
    assert!(s.peak_mapped <= 4 * page(), "{s}");
    assert!(s.evictions > 0 && s.hits > 0 && s.misses > 0, "{s}");
}

#[test]
fn a_pinned_window_is_never_evicted_and_the_limit_is_soft() {
    let data = pattern(16 * page() as usize);
    let f = TempFile::with(&data);
    let cache =
        WindowConfig::new().window_size(2 * page()).mapped_limit(2 * page()).build().unwrap();
    let h = cache.open(&f.path).unwrap();
    // SAFETY: nothing writes the file.
    let (mut one, mut two) = unsafe { (cache.cursor(h).unwrap(), cache.cursor(h).unwrap()) };
    let first = one.at(0).unwrap();
    let far = two.at(8 * page()).unwrap();
    let mut buf = vec![0u8; 3 * page() as usize];
    assert_eq!(cache.read_at(h, 12 * page(), &mut buf).unwrap(), buf.len());
    assert_eq!(&buf[..], &data[12 * page() as usize..15 * page() as usize]);
    // Both pinned windows are still mapped and still read the file.
    assert_eq!(first, &data[..first.len()]);
    assert_eq!(far, &data[8 * page() as usize..][..far.len()]);
    let s = cache.stats();
    assert!(s.over_soft_limit >= 1, "{s}");
    assert_eq!(s.pinned_windows, 2, "{s}");
    drop((one, two));
    let open = cache.stats().open_windows;
    assert_eq!(cache.evict_unused(), open);
    assert_eq!(cache.stats().open_windows, 0);
}

#[test]
fn read_at_ends_like_pread_and_bad_offsets_are_errors() {
    let f = TempFile::with(b"0123456789");
    let empty = TempFile::with(b"");
    let cache = WindowCache::new();
    let h = cache.open(&f.path).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(cache.read_at(h, 6, &mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"6789");
    assert_eq!(cache.read_at(h, 10, &mut buf).unwrap(), 0);
    let e = cache.read_at(h, 11, &mut buf).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(e.to_string().contains("beyond end") && e.to_string().contains("10 bytes"), "{e}");
    assert!(cache.read_exact_at(h, 6, &mut buf).is_err());
    let z = cache.open(&empty.path).unwrap();
    assert!(z.is_empty());
    assert_eq!(cache.read_at(z, 0, &mut buf).unwrap(), 0);
    // SAFETY: nothing writes the file.
    assert!(unsafe { cache.cursor(z).unwrap() }.at(0).is_err());
    let other = WindowCache::new();
    assert_eq!(other.read_at(h, 0, &mut buf).unwrap_err().kind(), &ErrorKind::InvalidInput);
    // SAFETY: as above.
    assert!(unsafe { other.cursor(h) }.is_err());
    let dir = std::env::temp_dir();
    assert_eq!(cache.open(&dir).unwrap_err().kind(), &ErrorKind::NotMappable);
    assert!(cache.open(dir.join("xmmap-no-such-file")).is_err());
    // A FIFO is refused without blocking in open(2).
    let fifo = dir.join(format!("xmmap-test-fifo-{}", std::process::id()));
    let status = Command::new("mkfifo").arg(&fifo).status();
    if status.is_ok_and(|s| s.success()) {
        let e = cache.open(&fifo).unwrap_err();
        let _ = std::fs::remove_file(&fifo);
        assert_eq!(e.kind(), &ErrorKind::NotMappable, "{e}");
    }
}

#[test]
fn descriptors_are_closed_at_the_limit_and_reopened_after_an_identity_check() {
    let len = 8 * page() as usize;
    let files: Vec<TempFile> = (0..3u8).map(|i| TempFile::with(&vec![i; len])).collect();
    let cache = WindowConfig::new().window_size(2 * page()).max_open_files(2).build().unwrap();
    let handles: Vec<WindowFile> = files.iter().map(|f| cache.open(&f.path).unwrap()).collect();
    let mut rng = Rng(5);
    for _ in 0..60 {
        let i = rng.below(3) as usize;
        let mut b = [9u8; 3];
        let off = rng.below(len as u64 - 3);
        cache.read_exact_at(handles[i], off, &mut b).unwrap();
        assert_eq!(b, [i as u8; 3]);
        assert!(cache.stats().open_files <= 2);
    }
    let s = cache.stats();
    assert!(s.closes > 0 && s.reopens > 0 && s.peak_open_files == 2, "{s}");

    // One descriptor: opening the next file closes the previous one.
    let one = WindowConfig::new().window_size(2 * page()).max_open_files(1).build().unwrap();
    let replaced = TempFile::with(&vec![1; len]);
    let shrunk = TempFile::with(&vec![2; len]);
    let a = one.open(&replaced.path).unwrap();
    let b = one.open(&shrunk.path).unwrap();
    let newer = TempFile::with(&vec![3; len]);
    std::fs::rename(&newer.path, &replaced.path).unwrap();
    let mut buf = [0u8; 4];
    let e = one.read_at(a, 0, &mut buf).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::FileChanged, "{e}");
    assert!(e.to_string().contains("replaced"), "{e}");
    // b's descriptor is open: a shrink is caught before mapping.
    shrunk.rw().set_len(page()).unwrap();
    let e = one.read_at(b, 4 * page(), &mut buf).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::FileChanged, "{e}");
    assert!(e.to_string().contains("shrank"), "{e}");
}

#[test]
fn a_file_mapped_by_one_window_gives_back_its_descriptor() {
    let data = pattern(page() as usize + 5);
    let f = TempFile::with(&data);
    // Without admission, so that read_at maps.
    let cache = WindowConfig::new().window_size(4 * page()).admission(false).build().unwrap();
    let h = cache.open(&f.path).unwrap();
    let mut buf = [0u8; 5];
    cache.read_exact_at(h, page(), &mut buf).unwrap();
    assert_eq!(buf[..], data[page() as usize..]);
    assert_eq!(cache.stats().open_files, 0, "git closes a fully mapped pack's descriptor");
    cache.evict_unused();
    cache.read_exact_at(h, 0, &mut buf).unwrap();
    assert_eq!(buf[..], data[..5]);
    let s = cache.stats();
    assert_eq!((s.reopens, s.open_files, s.mmap_calls), (1, 0, 2), "{s}");
}

#[test]
fn a_file_truncated_under_a_window_is_an_error_not_sigbus() {
    let data = pattern(4 * page() as usize);
    let f = TempFile::with(&data);
    // Without admission, so that the first read maps the window.
    let cache = WindowConfig::new().window_size(8 * page()).admission(false).build().unwrap();
    let h = cache.open(&f.path).unwrap();
    let mut buf = vec![0u8; 4 * page() as usize];
    assert_eq!(cache.read_at(h, 0, &mut buf[..1]).unwrap(), 1);
    f.rw().set_len(page()).unwrap();
    // The window is still mapped: the read hits it and the guard catches
    // the fault on the first page the file no longer backs.
    let e = cache.read_at(h, 2 * page(), &mut buf[..10]).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Truncated { offset: 2 * page() }, "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
    let e = cache.read_at(h, 0, &mut buf).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Truncated { offset: page() }, "{e}");
    assert_eq!(cache.read_at(h, 0, &mut buf[..page() as usize]).unwrap(), page() as usize);
    assert_eq!(buf[..page() as usize], data[..page() as usize]);
}

#[test]
fn a_file_added_by_descriptor_stays_open() {
    let f = TempFile::with(&pattern(4 * page() as usize));
    let cache = WindowConfig::new().window_size(2 * page()).max_open_files(1).build().unwrap();
    let h = cache.add(f.read()).unwrap();
    let g = TempFile::with(b"abc");
    let h2 = cache.open(&g.path).unwrap();
    let mut buf = [0u8; 3];
    cache.read_exact_at(h, 3 * page(), &mut buf).unwrap();
    assert_eq!(buf[..], pattern(4 * page() as usize)[3 * page() as usize..][..3]);
    cache.read_exact_at(h2, 0, &mut buf).unwrap();
    assert_eq!(&buf, b"abc");
}

/// Content of the stress test's files: a function of file and offset.
fn byte_at(file: usize, offset: u64) -> u8 {
    (offset.wrapping_mul(31) ^ (offset >> 9) ^ (file as u64 * 0x9e)) as u8
}

#[test]
fn threads_reading_through_their_own_cursors_see_the_right_bytes() {
    // With admission, read_at misses are preads; without, two threads may
    // map one window at once and the second copy must be given up.
    for admission in [true, false] {
        threads_read(admission);
    }
}

fn threads_read(admission: bool) {
    let iterations: u64 =
        std::env::var("XMMAP_SOAK").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let len = 40 * page();
    let files: Vec<TempFile> = (0..3)
        .map(|f| TempFile::with(&(0..len).map(|o| byte_at(f, o)).collect::<Vec<u8>>()))
        .collect();
    let cache = WindowConfig::new()
        .window_size(2 * page())
        .mapped_limit(6 * page())
        .max_open_files(2)
        .admission(admission)
        .build()
        .unwrap();
    let handles: Vec<WindowFile> = files.iter().map(|f| cache.open(&f.path).unwrap()).collect();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (cache, handles) = (&cache, &handles);
            s.spawn(move || {
                let mut rng = Rng(0x1234_5678 + t * 0x9e37_79b9);
                let mine = (t % 3) as usize;
                // SAFETY: nothing writes the test's files.
                let mut cursor = unsafe { cache.cursor(handles[mine]).unwrap() };
                let mut buf = vec![0u8; 3 * page() as usize];
                for _ in 0..iterations {
                    if rng.below(2) == 0 {
                        let off = rng.below(len);
                        let bytes = cursor.at(off).unwrap();
                        let last = bytes.len() as u64 - 1;
                        assert_eq!(bytes[0], byte_at(mine, off));
                        assert_eq!(bytes[last as usize], byte_at(mine, off + last));
                    } else {
                        let f = rng.below(3) as usize;
                        let off = rng.below(len);
                        let want = rng.below(buf.len() as u64) as usize;
                        let n = cache.read_at(handles[f], off, &mut buf[..want]).unwrap();
                        assert_eq!(n as u64, (len - off).min(want as u64));
                        for (i, &b) in buf[..n].iter().enumerate().step_by(97) {
                            assert_eq!(b, byte_at(f, off + i as u64));
                        }
                    }
                }
            });
        }
    });
    let s = cache.stats();
    assert_eq!(s.pinned_windows, 0, "{s}");
    assert!(s.open_files <= 2 && s.peak_open_files <= 2, "{s}");
    assert!(s.hits > 0 && s.evictions > 0, "{s}");
    assert_eq!(s.misses, s.mmap_calls, "{s}");
    assert_eq!(s.open_windows as u64, s.mmap_calls - s.evictions, "{s}");
    assert_eq!(s.pread_reads == 0, !admission, "{s}");
    cache.evict_unused();
    let s = cache.stats();
    assert_eq!((s.open_windows, s.mapped), (0, 0), "{s}");
}

/// SHA-1 (FIPS 180-4), small and slow: enough to check a pack trailer.
struct Sha1 {
    h: [u32; 5],
    block: Vec<u8>,
    len: u64,
}

impl Sha1 {
    fn new() -> Sha1 {
        Sha1 {
            h: [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0],
            block: Vec::with_capacity(64),
            len: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        while !data.is_empty() {
            let take = (64 - self.block.len()).min(data.len());
            self.block.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.block.len() == 64 {
                let block: [u8; 64] = self.block[..].try_into().unwrap();
                self.compress(&block);
                self.block.clear();
            }
        }
    }

    fn compress(&mut self, block: &[u8; 64]) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(block[4 * i..4 * i + 4].try_into().unwrap());
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = self.h;
        for (i, &wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5a82_7999),
                20..=39 => (b ^ c ^ d, 0x6ed9_eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6),
            };
            let t =
                a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(wi);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
        }
        for (h, v) in self.h.iter_mut().zip([a, b, c, d, e]) {
            *h = h.wrapping_add(v);
        }
    }

    fn finish(mut self) -> [u8; 20] {
        let bits = self.len * 8;
        self.update(&[0x80]);
        while self.block.len() != 56 {
            self.update(&[0]);
        }
        self.update(&bits.to_be_bytes());
        let mut out = [0u8; 20];
        for (chunk, h) in out.chunks_mut(4).zip(self.h) {
            chunk.copy_from_slice(&h.to_be_bytes());
        }
        out
    }
}

#[test]
fn sha1_matches_the_standard_vectors() {
    let hex = |d: [u8; 20]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let digest = |data: &[u8]| {
        let mut s = Sha1::new();
        s.update(data);
        hex(s.finish())
    };
    assert_eq!(digest(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_eq!(digest(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(
        digest(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
    );
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=xmmap", "-c", "user.email=xmmap@example.invalid"])
        .args(["-c", "commit.gpgsign=false", "-c", "gc.auto=0"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn reads_a_real_git_pack_through_an_8k_window_and_16k_limit() {
    if Command::new("git").arg("--version").output().is_err() {
        crate::common::skipped_here(crate::common::this_test!(), "git is not installed");
        return;
    }
    let dir = TempDir(std::env::temp_dir().join(format!("xmmap-git-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    git(&dir.0, &["init", "-q"]);
    let mut rng = Rng(0xdead_beef);
    for commit in 0..4 {
        for i in 0..12 {
            // Incompressible bytes, so the pack is a few hundred KiB.
            std::fs::write(dir.0.join(format!("f{i}.bin")), rng.bytes(8 << 10)).unwrap();
        }
        std::fs::write(dir.0.join("README"), format!("commit {commit}\n")).unwrap();
        git(&dir.0, &["add", "-A"]);
        git(&dir.0, &["commit", "-q", "-m", &format!("commit {commit}")]);
    }
    git(&dir.0, &["gc", "-q"]);
    let pack = std::fs::read_dir(dir.0.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("git gc wrote a pack");

    // As git's t5301: core.packedGitWindowSize=8k, core.packedGitLimit=16k
    // (the window is at least two pages where pages are larger).
    for admission in [true, false] {
        read_pack_through_small_windows(&pack, admission);
    }
}

/// The pack's SHA-1 through 8 KiB windows under a 16 KiB limit.
fn read_pack_through_small_windows(pack: &Path, admission: bool) {
    let mut config = WindowConfig::new();
    config.admission(admission);
    config.set("window_size", "8k").unwrap();
    let window = config.build().unwrap().stats().window_size;
    config.mapped_limit(2 * window);
    let cache = config.build().unwrap();
    let h = cache.open(pack).unwrap();
    assert!(h.len() > 256 << 10 && h.len() > 8 * window, "pack of {} bytes", h.len());
    let body = h.len() - 20;

    let mut header = [0u8; 8];
    cache.read_exact_at(h, 0, &mut header).unwrap();
    assert_eq!(&header, b"PACK\0\0\0\x02");
    let mut sha = Sha1::new();
    // SAFETY: nothing writes the pack while the cursor lives.
    let mut cursor = unsafe { cache.cursor(h).unwrap() };
    let mut offset = 0;
    while offset < body {
        let bytes = cursor.at(offset).unwrap();
        let take = bytes.len().min((body - offset) as usize);
        sha.update(&bytes[..take]);
        offset += take as u64;
    }
    drop(cursor);
    let mut trailer = [0u8; 20];
    cache.read_exact_at(h, body, &mut trailer).unwrap();
    assert_eq!(sha.finish(), trailer, "the pack's SHA-1 trailer");

    let s = cache.stats();
    assert!(s.peak_mapped <= 2 * window, "{s}");
    assert_eq!(s.over_soft_limit, 0, "{s}");
    assert!(s.mmap_calls >= h.len() / window && s.evictions > 0, "{s}");
}

/// `VmSize` of this process, in bytes.
fn vm_size() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

fn set_address_space_limit(bytes: u64) {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write `lim`.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_AS, &mut lim), 0);
        lim.rlim_cur = bytes as libc::rlim_t;
        assert_eq!(libc::setrlimit(libc::RLIMIT_AS, &lim), 0);
    }
}

#[test]
fn enomem_evicts_every_unused_window_and_retries_once() {
    let name = this_test!();
    if !is_child(name) {
        // The child exits with 42 after its last assertion, so a child that
        // ran no test cannot pass for one that did.
        let status = run_child(name);
        assert_eq!(status.code(), Some(42), "child: {status:?}");
        return;
    }
    // In the child: an address-space limit that leaves room for less than
    // one more window.
    let w = (16u64 << 20).max(2 * page());
    let f = TempFile::with(b"");
    f.rw().set_len(5 * w).unwrap();
    let cache = WindowConfig::new()
        .window_size(w)
        .mapped_limit(u64::MAX)
        .limit(xmmap::Limit::none())
        .admission(false)
        .build()
        .unwrap();
    let h = cache.open(&f.path).unwrap();
    let mut one = [1u8];
    // SAFETY: nothing writes the file.
    let mut pinned = unsafe { cache.cursor(h).unwrap() };
    assert_eq!(pinned.at(0).unwrap()[0], 0);
    cache.read_exact_at(h, w, &mut one).unwrap();
    assert_eq!(cache.stats().open_windows, 2);
    set_address_space_limit(vm_size() + w / 2);

    // The third window fits only once the unused second one is gone.
    cache.read_exact_at(h, 2 * w, &mut one).unwrap();
    assert_eq!(one, [0]);
    let s = cache.stats();
    assert_eq!((s.enomem_retries, s.evictions, s.open_windows), (1, 1, 2), "{s}");
    assert_eq!(pinned.at(1).unwrap()[0], 0, "the pinned window survived");

    // With every window pinned there is nothing to evict: the retry fails
    // and the error says what to check.
    // SAFETY: as above.
    let mut second = unsafe { cache.cursor(h).unwrap() };
    second.at(2 * w).unwrap();
    let e = cache.read_exact_at(h, 4 * w, &mut one).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::OutOfMemory, "{e}");
    assert!(e.to_string().contains("max_map_count"), "{e}");
    assert_eq!(cache.stats().enomem_retries, 2);
    std::process::exit(42);
}

#[test]
fn read_at_serves_a_window_by_pread_until_it_proves_reuse() {
    // Every read_at miss used to map a window, whatever the pattern: 14x
    // pread's time for scattered reads over a file larger than the budget.
    let data = pattern(8 * page() as usize);
    let f = TempFile::with(&data);
    // pread_below(0): hits of mapped windows are copied from them.
    let cache = WindowConfig::new().window_size(2 * page()).pread_below(0).build().unwrap();
    let h = cache.open(&f.path).unwrap();
    let mut buf = [0u8; 16];
    for k in 0..3 {
        cache.read_exact_at(h, 10 + k, &mut buf).unwrap();
        assert_eq!(buf[..], data[10 + k as usize..][..16]);
    }
    let s = cache.stats();
    assert_eq!((s.pread_reads, s.mapped_reads, s.admitted, s.mmap_calls), (3, 0, 0, 0), "{s}");
    // The fourth miss on the window maps it; the next read hits.
    cache.read_exact_at(h, 100, &mut buf).unwrap();
    cache.read_exact_at(h, 200, &mut buf).unwrap();
    assert_eq!(buf[..], data[200..216]);
    let s = cache.stats();
    assert_eq!((s.pread_reads, s.mapped_reads, s.admitted, s.mmap_calls), (3, 2, 1, 1), "{s}");
    assert_eq!(s.hits, 1, "{s}");
    // A read that runs past the mapped window is read on by pread.
    let mut wide = vec![0u8; 3 * page() as usize];
    cache.read_exact_at(h, page(), &mut wide).unwrap();
    assert_eq!(wide[..], data[page() as usize..][..3 * page() as usize]);
    // A cursor lends slices: it maps at once.
    // SAFETY: nothing writes the test's file.
    let mut cursor = unsafe { cache.cursor(h).unwrap() };
    assert_eq!(cursor.at(6 * page()).unwrap()[0], data[6 * page() as usize]);
    drop(cursor);
    assert_eq!(cache.stats().mmap_calls, 2);

    // Without admission every miss maps, as in git.
    let off = WindowConfig::new().window_size(2 * page()).admission(false).build().unwrap();
    let h = off.open(&f.path).unwrap();
    off.read_exact_at(h, 10, &mut buf).unwrap();
    let s = off.stats();
    assert_eq!((s.pread_reads, s.mapped_reads, s.admitted, s.mmap_calls), (0, 1, 0, 1), "{s}");
}

#[test]
fn a_file_truncated_before_its_window_is_mapped_reads_as_truncated() {
    // The pread path must end a read at a truncation as the guarded copy
    // does, not loop on pread's 0.
    let data = pattern(4 * page() as usize);
    let f = TempFile::with(&data);
    let cache = WindowConfig::new().window_size(8 * page()).build().unwrap();
    let h = cache.open(&f.path).unwrap();
    f.rw().set_len(page()).unwrap();
    let mut buf = vec![0u8; 4 * page() as usize];
    let e = cache.read_at(h, 0, &mut buf).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Truncated { offset: page() }, "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
    assert_eq!(cache.stats().mmap_calls, 0);
}

fn maps_naming(path: &Path) -> usize {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let name = path.to_str().unwrap();
    maps.lines().filter(|l| l.ends_with(name)).count()
}

#[test]
fn close_unmaps_unused_windows_and_a_pinned_one_lives_until_released() {
    // WindowCache::close was missing: a file's windows and descriptor
    // stayed until the whole cache was dropped.
    let data = pattern(8 * page() as usize);
    let f = TempFile::with(&data);
    let g = TempFile::with(&pattern(4 * page() as usize));
    let cache = WindowConfig::new().window_size(2 * page()).admission(false).build().unwrap();
    let h = cache.open(&f.path).unwrap();
    let h2 = cache.open(&g.path).unwrap();
    let mut buf = [0u8; 8];
    cache.read_exact_at(h, 0, &mut buf).unwrap();
    // SAFETY: nothing writes the test's files.
    let mut cursor = unsafe { cache.cursor(h).unwrap() };
    assert_eq!(cursor.at(5 * page()).unwrap()[0], data[5 * page() as usize]);
    cache.read_exact_at(h2, 0, &mut buf).unwrap();
    let s = cache.stats();
    assert_eq!((s.open_windows, s.pinned_windows, s.open_files), (3, 1, 2), "{s}");

    cache.close(h).unwrap();
    let s = cache.stats();
    assert_eq!((s.open_windows, s.pinned_windows, s.open_files), (2, 1, 1), "{s}");
    // The pinned window still serves its cursor; nothing else of the file.
    assert_eq!(cursor.at(5 * page() + 1).unwrap()[0], data[5 * page() as usize + 1]);
    let e = cache.read_at(h, 0, &mut buf).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("closed"), "{e}");
    let e = cursor.at(0).unwrap_err();
    assert!(e.to_string().contains("closed"), "{e}");
    drop(cursor);
    // Released, the window is the first to go.
    cache.read_exact_at(h2, 3 * page(), &mut buf).unwrap();
    cache.evict_unused();
    assert_eq!(maps_naming(&f.path), 0, "a window of the closed file is still mapped");
    cache.close(h).unwrap();
    cache.read_exact_at(h2, 0, &mut buf).unwrap();
    assert_eq!(buf[..], pattern(4 * page() as usize)[..8]);
    let other = WindowCache::new();
    assert_eq!(other.close(h2).unwrap_err().kind(), &ErrorKind::InvalidInput);
}

/// A short `read_at` whose window is mapped is read by `pread` while a
/// guarded copy costs system calls (nothing in this process called
/// `assume_signals_untouched`), and counted as such, not as a hit; a read
/// of `pread_below` bytes or more, and every read with `pread_below(0)` or
/// without admission, is copied from the window.
#[test]
fn a_short_read_of_a_mapped_window_goes_by_pread_and_is_counted_so() {
    let data = pattern(4 * page() as usize);
    let f = TempFile::with(&data);
    let below = 100;
    for (admission, pread_below, by_pread) in
        [(true, below, true), (true, 0, false), (false, below, false)]
    {
        let cache = WindowConfig::new()
            .window_size(2 * page())
            .admission(admission)
            .pread_below(pread_below)
            .build()
            .unwrap();
        let h = cache.open(&f.path).unwrap();
        // SAFETY: nothing writes the test's file.
        let mut cursor = unsafe { cache.cursor(h).unwrap() };
        assert!(cursor.at(0).unwrap().len() >= below);
        drop(cursor);
        let s0 = cache.stats();
        let mut buf = vec![0u8; below - 1];
        cache.read_exact_at(h, 1, &mut buf).unwrap();
        assert_eq!(buf[..], data[1..below]);
        let s1 = cache.stats();
        let counted = (s1.hits - s0.hits, s1.mapped_reads - s0.mapped_reads, s1.pread_reads);
        let want = if by_pread { (0, 0, 1) } else { (1, 1, 0) };
        assert_eq!(counted, want, "admission {admission}, pread_below {pread_below}:\n{s1}");
        let mut buf = vec![0u8; below];
        cache.read_exact_at(h, 1, &mut buf).unwrap();
        assert_eq!(buf[..], data[1..=below]);
        let s2 = cache.stats();
        assert_eq!((s2.hits - s1.hits, s2.pread_reads - s1.pread_reads), (1, 0), "{s2}");
        assert_eq!((s2.misses, s2.open_windows), (1, 1), "the window stays mapped: {s2}");
    }
}

/// `read_at` copies a short piece out of a window while it holds the
/// cache's lock for reading, and pins the window for a longer one: either
/// way the window must stay mapped for the copy while other threads evict
/// every unused window and close a file. An unmap under a copy would show
/// as a fault error (or, once the address is mapped again, wrong bytes).
#[test]
fn copies_out_of_windows_survive_evictions_and_a_close_on_other_threads() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let iterations: u64 =
        std::env::var("XMMAP_SOAK").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
    let len = 40 * page();
    let files: Vec<TempFile> = (0..2)
        .map(|f| TempFile::with(&(0..len).map(|o| byte_at(f, o)).collect::<Vec<u8>>()))
        .collect();
    // Without admission every read is copied from a window; 8-page windows
    // give pieces both shorter and longer than the 16 KiB copied under the
    // lock.
    let cache = WindowConfig::new()
        .window_size(8 * page())
        .mapped_limit(16 * page())
        .admission(false)
        .build()
        .unwrap();
    let handles: Vec<WindowFile> = files.iter().map(|f| cache.open(&f.path).unwrap()).collect();
    let closed = AtomicBool::new(false);
    std::thread::scope(|s| {
        for t in 0..3u64 {
            let (cache, handles, closed) = (&cache, &handles, &closed);
            s.spawn(move || {
                let mut rng = Rng(0x51ed_2701 + t * 0x9e37_79b9);
                let mut buf = vec![0u8; 12 * page() as usize];
                for _ in 0..iterations {
                    let f = rng.below(2) as usize;
                    let off = rng.below(len);
                    let want = rng.below(buf.len() as u64 + 1) as usize;
                    let was_closed = closed.load(Ordering::Acquire);
                    match cache.read_at(handles[f], off, &mut buf[..want]) {
                        Ok(n) => {
                            // An empty read (nothing asked, or at the end)
                            // checks nothing.
                            assert!(!(f == 1 && was_closed && n > 0), "a closed file was read");
                            assert_eq!(n as u64, (len - off).min(want as u64));
                            for (i, &b) in buf[..n].iter().enumerate().step_by(61) {
                                assert_eq!(b, byte_at(f, off + i as u64), "file {f} at {off}+{i}");
                            }
                        }
                        Err(e) => {
                            assert!(f == 1 && e.to_string().contains("closed"), "{e}");
                        }
                    }
                }
            });
        }
        let (cache, handles, closed) = (&cache, &handles, &closed);
        s.spawn(move || {
            for i in 0..iterations {
                cache.evict_unused();
                if i == iterations / 2 {
                    cache.close(handles[1]).unwrap();
                    closed.store(true, Ordering::Release);
                }
                std::thread::yield_now();
            }
        });
    });
    let s = cache.stats();
    assert_eq!(s.pinned_windows, 0, "{s}");
    assert!(s.hits > 0 && s.evictions > 0, "{s}");
    cache.evict_unused();
    assert_eq!(cache.stats().open_windows, 0);
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

/// Short reads from `threads` new threads (each on a lock stripe of its
/// own), checked against `byte_at(0, _)`.
fn short_reads_from_threads(cache: &WindowCache, h: WindowFile, len: u64, threads: u64) {
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let mut rng = Rng(0x7e57 + t);
                let mut buf = [0u8; 100];
                for _ in 0..200 {
                    let off = rng.below(len - buf.len() as u64);
                    cache.read_exact_at(h, off, &mut buf).unwrap();
                    for (i, &b) in buf.iter().enumerate() {
                        assert_eq!(b, byte_at(0, off + i as u64), "at {off}+{i}");
                    }
                }
            });
        }
    });
}

/// The descriptors that short reads by `pread` open per lock stripe
/// (`per_thread_descriptors`): counted in `open_files` and against
/// `max_open_files`, never opened on a file renamed over the path, closed by
/// `close` (also while other threads read) and by dropping the cache. Run in
/// a child, alone, so that /proc/self/fd counts only this test's
/// descriptors and the guarded copy still costs system calls (`pread_below`
/// is in force).
#[test]
fn per_thread_descriptors_are_counted_checked_and_closed() {
    let name = this_test!();
    if !is_child(name) {
        let status = run_child(name);
        assert_eq!(status.code(), Some(42), "child: {status:?}");
        return;
    }
    let len = 40 * page();
    let data: Vec<u8> = (0..len).map(|o| byte_at(0, o)).collect();
    let f = TempFile::with(&data);
    let before = open_fds();
    {
        // One descriptor each for 4 threads, beside the file's own.
        let cache = WindowConfig::new().build().unwrap();
        let h = cache.open(&f.path).unwrap();
        short_reads_from_threads(&cache, h, len, 4);
        let s = cache.stats();
        assert_eq!((s.open_files, s.peak_open_files), (5, 5), "{s}");
        assert_eq!(open_fds(), before + 5);
        cache.close(h).unwrap();
        assert_eq!(cache.stats().open_files, 0);
        assert_eq!(open_fds(), before);

        // Switched off: the one descriptor serves every thread.
        let cache = WindowConfig::new().per_thread_descriptors(false).build().unwrap();
        let h = cache.open(&f.path).unwrap();
        short_reads_from_threads(&cache, h, len, 4);
        assert_eq!(cache.stats().open_files, 1);

        // Within the budget of two: one more descriptor at most.
        let cache = WindowConfig::new().max_open_files(2).build().unwrap();
        let h = cache.open(&f.path).unwrap();
        short_reads_from_threads(&cache, h, len, 4);
        let s = cache.stats();
        assert_eq!((s.open_files, s.peak_open_files), (2, 2), "{s}");
        // A second file needs a descriptor: the stripe's goes first.
        let g = TempFile::with(&data);
        let hg = cache.open(&g.path).unwrap();
        let s = cache.stats();
        assert_eq!((s.open_files, s.closes), (2, 0), "{s}");
        short_reads_from_threads(&cache, hg, len, 2);
        assert!(cache.stats().open_files <= 2);
        drop(g);

        // Dropping a cache closes its stripes' descriptors.
        let cache = WindowConfig::new().build().unwrap();
        let h = cache.open(&f.path).unwrap();
        short_reads_from_threads(&cache, h, len, 3);
        assert_eq!(cache.stats().open_files, 4);
    }
    assert_eq!(open_fds(), before, "descriptors leaked");

    // A file renamed over the path is not opened: the reads go on from
    // the file the cache opened, through its one descriptor.
    let replaced = TempFile::with(&data);
    let cache = WindowConfig::new().build().unwrap();
    let h = cache.open(&replaced.path).unwrap();
    let newer = TempFile::with(&vec![0xee; len as usize]);
    std::fs::rename(&newer.path, &replaced.path).unwrap();
    short_reads_from_threads(&cache, h, len, 4);
    assert_eq!(cache.stats().open_files, 1);
    drop(cache);

    // Closed while other threads read: each read is right or refused.
    let cache = WindowConfig::new().build().unwrap();
    let h = cache.open(&f.path).unwrap();
    std::thread::scope(|s| {
        for t in 0..3u64 {
            let cache = &cache;
            s.spawn(move || {
                let mut rng = Rng(0xc105e + t);
                let mut buf = [0u8; 64];
                let mut refused = false;
                for _ in 0..20_000 {
                    let off = rng.below(len - buf.len() as u64);
                    match cache.read_exact_at(h, off, &mut buf) {
                        Ok(()) => {
                            assert!(!refused, "a read after the close");
                            assert_eq!(buf[0], byte_at(0, off), "at {off}");
                        }
                        Err(e) => {
                            assert!(e.to_string().contains("closed"), "{e}");
                            refused = true;
                        }
                    }
                }
            });
        }
        std::thread::yield_now();
        cache.close(h).unwrap();
    });
    assert_eq!(cache.stats().open_files, 0);
    drop(cache);
    drop(replaced);
    assert_eq!(open_fds(), before, "descriptors leaked");
    std::process::exit(42);
}
