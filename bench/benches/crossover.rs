//! Where mapping a file starts to beat reading it: the measurement behind
//! `xmmap::source::DEFAULT_THRESHOLD`.
//!
//! For each size from 1 KiB to 16 MiB (powers of two) a file in the temp
//! directory is written and read once, so its pages are hot in the page
//! cache. Then, from one open descriptor and side by side in rounds that
//! alternate which goes first, it times
//!
//! - read: `Source` with `force_read` (`pread` into a `Vec`), then touching
//!   one byte per page, then freeing;
//! - map: `Source` with `force_map` (`mmap`), touching one byte per page
//!   (the page faults), then unmapping;
//!
//! - memmap2: the same map with `memmap2::Mmap`, the floor a map costs
//!   without xmmap's checks (`fstat`, the limit, naming the file);
//!
//! and prints the median time of each, the ratios (above 1: mapping is
//! faster) and the crossover: the smallest size from which mapping wins at
//! every larger size, next to the `DEFAULT_THRESHOLD` in force.
//!
//! Run with `cargo bench -p xmmap-bench --bench crossover`; `XMMAP_BENCH_ROUNDS` (default
//! 9) sets the rounds.

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use xmmap::{page_size, SourceOptions};
use xmmap_bench::report::size_label;
use xmmap_bench::stats::median;

fn touch(bytes: &[u8]) -> u64 {
    let page = page_size();
    let mut sum = 0u64;
    let mut i = 0;
    while i < bytes.len() {
        sum = sum.wrapping_add(u64::from(bytes[i]));
        i += page;
    }
    if let Some(&last) = bytes.last() {
        sum = sum.wrapping_add(u64::from(last));
    }
    sum
}

fn once(file: &File, map: bool) -> u64 {
    let mut o = SourceOptions::new();
    if map {
        o.force_map(true);
    } else {
        o.force_read(true);
    }
    // SAFETY: the bench owns the file and nobody changes it.
    let src = unsafe { o.from_file(file) }.expect("load the bench file");
    assert_eq!(src.is_mapped(), map);
    touch(&src)
}

/// The same map with memmap2: the floor a map can cost (no fstat, no
/// limit, no path for messages).
fn once_memmap2(file: &File) -> u64 {
    // SAFETY: as in `once`.
    let m = unsafe { memmap2::Mmap::map(file) }.expect("memmap2 map");
    touch(&m)
}

fn batch_memmap2(file: &File, iters: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(once_memmap2(black_box(file)));
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

/// Nanoseconds per operation over `iters` operations.
fn batch(file: &File, map: bool, iters: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(once(black_box(file), map));
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

fn main() {
    let rounds: usize =
        std::env::var("XMMAP_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(9);
    let dir = std::env::temp_dir();
    println!("crossover: read-to-Vec vs map+touch-every-page, hot file in {}", dir.display());
    println!("page size {} bytes, {rounds} rounds, medians", page_size());
    println!(
        "{:>8} {:>12} {:>12} {:>10} {:>14} {:>14}",
        "size", "read ns", "map ns", "read/map", "memmap2 ns", "read/memmap2"
    );
    let mut results = Vec::new();
    let mut size: u64 = 1024;
    while size <= 16 << 20 {
        let path = dir.join(format!("xmmap-crossover-{}-{size}", std::process::id()));
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        File::create(&path).and_then(|mut f| f.write_all(&data)).expect("write the bench file");
        let file = File::open(&path).expect("open the bench file");
        // Warm the page cache and size the batches to about 3 ms each.
        black_box(once(&file, false));
        black_box(once(&file, true));
        let one = batch(&file, false, 3).max(batch(&file, true, 3)).max(1.0);
        let iters = ((Duration::from_millis(3).as_nanos() as f64 / one) as u32).clamp(1, 100_000);
        let (mut read, mut map, mut raw) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..rounds {
            if r % 2 == 0 {
                read.push(batch(&file, false, iters));
                map.push(batch(&file, true, iters));
                raw.push(batch_memmap2(&file, iters));
            } else {
                raw.push(batch_memmap2(&file, iters));
                map.push(batch(&file, true, iters));
                read.push(batch(&file, false, iters));
            }
        }
        let (r, m, w) = (median(&mut read), median(&mut map), median(&mut raw));
        println!(
            "{:>8} {:>12.0} {:>12.0} {:>10.2} {:>14.0} {:>14.2}",
            size_label(size),
            r,
            m,
            r / m,
            w,
            r / w
        );
        results.push((size, r / m));
        drop(file);
        let _ = std::fs::remove_file(&path);
        size *= 2;
    }
    // The smallest size from which mapping wins at every larger size.
    let crossover = results
        .iter()
        .enumerate()
        .find(|&(i, _)| results[i..].iter().all(|&(_, ratio)| ratio > 1.0))
        .map(|(_, &(size, _))| size);
    match crossover {
        Some(s) => println!("crossover: mapping wins from {} ({s} bytes) up", size_label(s)),
        None => println!("crossover: mapping never wins consistently up to 16 MiB"),
    }
    println!(
        "xmmap::source::DEFAULT_THRESHOLD is {}",
        size_label(xmmap::source::DEFAULT_THRESHOLD)
    );
}
