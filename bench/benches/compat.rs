//! What `xmmap::compat::memmap2` costs next to memmap2 itself and the native
//! API: map + unmap (and, for the larger cases, a read of every page), the
//! three side by side in one run, in rounds of alternating order. Prints
//! the median time per call and ratios to memmap2 (below 1.0 is faster).
//!
//! `cargo bench -p xmmap-bench --bench compat --features memmap2-compat`

// Unix only (pread, the memmap2 comparison); elsewhere there is nothing to run.
#![cfg_attr(not(unix), no_main)]
#![cfg(unix)]

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use xmmap::compat::memmap2 as compat;
use xmmap_bench::stats::median;

const ROUNDS: usize = 15;

fn ns_per_call(calls: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..calls {
        f();
    }
    start.elapsed().as_nanos() as f64 / calls as f64
}

fn touch(bytes: &[u8]) -> u64 {
    let page = xmmap::page_size();
    bytes.iter().step_by(page).map(|&b| u64::from(b)).sum()
}

fn file_of(len: usize) -> (File, std::path::PathBuf) {
    let path =
        std::env::temp_dir().join(format!("xmmap-bench-compat-{}-{len}", std::process::id()));
    let mut f = File::create(&path).expect("create bench file");
    f.write_all(&vec![1u8; len]).expect("write bench file");
    (File::open(&path).expect("open bench file"), path)
}

/// Runs the three variants `ROUNDS` times in rotating order; returns the
/// medians in the order compat, memmap2, native.
fn compare(calls: usize, fs: &mut [&mut dyn FnMut(); 3]) -> [f64; 3] {
    let mut samples = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        for k in 0..3 {
            let i = (round + k) % 3;
            samples[i].push(ns_per_call(calls, &mut *fs[i]));
        }
    }
    samples.map(median)
}

fn report(name: &str, [c, m, n]: [f64; 3]) {
    println!(
        "{name:<34} compat {c:>9.0} ns  memmap2 {m:>9.0} ns  native {n:>9.0} ns  compat/memmap2 {:.2}  native/memmap2 {:.2}",
        c / m,
        n / m
    );
}

fn main() {
    println!("page size {}, {ROUNDS} rounds, medians", xmmap::page_size());
    for (len, calls, touch_pages) in [(4096, 20_000, false), (1 << 20, 2_000, true)] {
        let (file, path) = file_of(len);
        let mut c = || {
            // SAFETY: nobody changes the bench file while it is mapped.
            let m = unsafe { compat::Mmap::map(&file).expect("compat map") };
            black_box(if touch_pages { touch(&m) } else { u64::from(m[0]) });
        };
        let mut m = || {
            // SAFETY: as above.
            let m = unsafe { memmap2::Mmap::map(&file).expect("memmap2 map") };
            black_box(if touch_pages { touch(&m) } else { u64::from(m[0]) });
        };
        let mut n = || {
            // SAFETY: as above.
            let m = unsafe { xmmap::Map::map(&file).expect("native map") };
            black_box(if touch_pages { touch(&m) } else { u64::from(m[0]) });
        };
        let what = if touch_pages { "map + read pages + unmap" } else { "map + unmap" };
        report(
            &format!("file {} KiB, {what}", len / 1024),
            compare(calls, &mut [&mut c, &mut m, &mut n]),
        );
        let _ = std::fs::remove_file(path);
    }
    let len = 64 << 10;
    let mut c = || {
        let mut m = compat::MmapMut::map_anon(len).expect("compat anon");
        m[len - 1] = 1;
        black_box(&m);
    };
    let mut m = || {
        let mut m = memmap2::MmapMut::map_anon(len).expect("memmap2 anon");
        m[len - 1] = 1;
        black_box(&m);
    };
    let mut n = || {
        let mut m = xmmap::MapMut::map_anon(len).expect("native anon");
        m[len - 1] = 1;
        black_box(&m);
    };
    report("anon 64 KiB, map + write + unmap", compare(20_000, &mut [&mut c, &mut m, &mut n]));
}
