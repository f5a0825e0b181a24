//! Guarded `read_at` against the copies it replaces, measured side by side.
//!
//! (a) 64 KiB reads from a populated map: guarded `Map::read_at` against a
//!     plain `copy_from_slice` from the same map (target: at least 0.9x),
//!     over a map larger than the caches and over one that fits in them.
//! (b) Random 4 KiB reads over a populated 1 GiB map of a hot file:
//!     guarded `MapRaw::read_at` against `pread(2)` on the same file
//!     (target: at least 1.5x the throughput).
//!
//! Both run twice: with the guard's signal checks (the default), then
//! after `guard::assume_signals_untouched()` (which a process cannot undo).
//!
//! The files live in /dev/shm (or the temp dir) and are removed afterwards.
//! Rounds alternate between the contenders; the medians are printed.
//!
//! ```text
//! cargo bench -p xmmap-bench --bench guard             # full: a 1 GiB file
//! cargo bench -p xmmap-bench --bench guard -- --quick  # 64 MiB, fewer rounds (or XMMAP_BENCH_QUICK=1)
//! ```

// Unix only (pread, the memmap2 comparison); elsewhere there is nothing to run.
#![cfg_attr(not(unix), no_main)]
#![cfg(unix)]

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::Instant;

use xmmap::{Map, MapOptions};
use xmmap_bench::stats::median;
use xmmap_bench::Rng;

const MIB: usize = 1 << 20;

/// A file removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(len: usize) -> Scratch {
        let dir = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let path = dir.join(format!("xmmap-bench-guard-{}-{len}", std::process::id()));
        let mut f = File::create(&path).expect("create the bench file");
        let chunk: Vec<u8> = (0..MIB).map(|i| (i * 31 % 251) as u8).collect();
        let mut left = len;
        while left > 0 {
            let n = left.min(MIB);
            f.write_all(&chunk[..n]).expect("write the bench file");
            left -= n;
        }
        Scratch(path)
    }

    fn open(&self) -> File {
        File::open(&self.0).expect("open the bench file")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One way of doing a run's reads into the buffer it is given.
type Contender<'a> = &'a mut dyn FnMut(&mut [u8]);

/// Runs two contenders back to back each round (the order alternating),
/// into the same buffer; every run moves `bytes` bytes. Returns the median
/// GB/s of each and the median of the per-round ratios, which cancels the
/// slow spells of a shared machine better than a ratio of medians.
fn race(
    rounds: usize,
    bytes: usize,
    buf: &mut [u8],
    a: Contender<'_>,
    b: Contender<'_>,
) -> (f64, f64, f64) {
    let time = |run: &mut dyn FnMut(&mut [u8]), buf: &mut [u8]| {
        let t = Instant::now();
        run(buf);
        bytes as f64 / t.elapsed().as_secs_f64() / 1e9
    };
    let (mut ra, mut rb, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    a(buf); // warm up
    b(buf);
    for round in 0..rounds {
        let (x, y) = if round % 2 == 0 {
            let x = time(a, buf);
            (x, time(b, buf))
        } else {
            let y = time(b, buf);
            (time(a, buf), y)
        };
        ra.push(x);
        rb.push(y);
        ratio.push(x / y);
    }
    (median(ra), median(rb), median(ratio))
}

/// A buffer of `len` bytes starting `skew` bytes past a page boundary.
fn buffer(storage: &mut Vec<u8>, len: usize, skew: usize) -> &mut [u8] {
    *storage = vec![0u8; len + 8192];
    let at = storage.as_ptr().align_offset(4096) + skew;
    &mut storage[at..at + len]
}

fn sequential_64k(map_len: usize, rounds: usize) {
    let chunk = 64 << 10;
    let file = Scratch::new(map_len);
    // SAFETY: the file is private to this benchmark and never changes.
    let map: Map = unsafe { MapOptions::new().populate(true).map(&file.open()) }.expect("map");
    let passes = (256 * MIB / map_len).max(1);
    let bytes = passes * map_len;
    let mut guarded = |buf: &mut [u8]| {
        for _ in 0..passes {
            for off in (0..map_len).step_by(chunk) {
                let n = map.read_at(off as u64, buf).expect("read_at");
                black_box(&buf[..n]);
            }
        }
    };
    let mut plain = |buf: &mut [u8]| {
        for _ in 0..passes {
            for off in (0..map_len).step_by(chunk) {
                buf.copy_from_slice(&map[off..off + chunk]);
                black_box(&*buf);
            }
        }
    };
    for skew in [0, 16, 64, 2048] {
        let mut storage = Vec::new();
        let buf = buffer(&mut storage, chunk, skew);
        let (g, p, ratio) = race(rounds, bytes, buf, &mut guarded, &mut plain);
        println!(
            "(a) 64 KiB reads, {:>4} MiB map, buffer at page+{skew:<4}: guarded read_at {g:6.2} \
             GB/s   copy_from_slice {p:6.2} GB/s   ratio {ratio:.2}x  (target >= 0.9x)",
            map_len / MIB,
        );
    }
}

fn random_4k(file_len: usize, rounds: usize) {
    let page = 4096;
    let reads = 200_000;
    let file = Scratch::new(file_len);
    let f = file.open();
    let raw = MapOptions::new().populate(true).map_raw_read_only(&f).expect("map");
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let offsets: Vec<u64> =
        (0..reads).map(|_| rng.below((file_len / page) as u64) * page as u64).collect();
    let bytes = reads * page;
    let mut guarded = |buf: &mut [u8]| {
        for &off in &offsets {
            let n = raw.read_at(off, buf).expect("read_at");
            black_box(&buf[..n]);
        }
    };
    let mut pread = |buf: &mut [u8]| {
        for &off in &offsets {
            let n = f.read_at(buf, off).expect("pread");
            black_box(&buf[..n]);
        }
    };
    let mut storage = Vec::new();
    let buf = buffer(&mut storage, page, 0);
    let (g, p, ratio) = race(rounds, bytes, buf, &mut guarded, &mut pread);
    println!(
        "(b) random 4 KiB reads, {:>4} MiB hot file: guarded read_at {g:6.2} GB/s   pread \
         {p:6.2} GB/s   ratio {ratio:.2}x  (target >= 1.5x)",
        file_len / MIB,
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick")
        || std::env::var("XMMAP_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let rounds = if quick { 9 } else { 31 };
    println!("guard bench: medians of {rounds} rounds{}", if quick { " (quick)" } else { "" });
    for checks in [true, false] {
        if !checks {
            // Process-wide and for good, so second.
            // SAFETY: this benchmark blocks no signals and installs no handlers.
            unsafe { xmmap::guard::assume_signals_untouched() };
        }
        println!(
            "signal checks before each guarded copy: {}",
            if checks { "on (the default)" } else { "skipped (assume_signals_untouched)" }
        );
        sequential_64k(if quick { 64 } else { 256 } * MIB, rounds);
        sequential_64k(MIB, rounds);
        random_4k(if quick { 64 } else { 1024 } * MIB, rounds);
    }
}
