//! The window cache against `pread` and a whole-file `Map`, measured side
//! by side in one run (ratios; medians of repeated rounds).
//!
//! 1. Random 4 KiB reads with a zipf-like (s = 1) offset distribution over a
//!    hot file 4x larger than `mapped_limit`: `pread`, `WindowCache::read_at`
//!    and a cursor (`at` + copy). Hot blocks clustered at the start of the
//!    file, and scattered over it, and uniform random blocks; 1 MiB and
//!    64 KiB windows; then rows where the whole file fits (hits only). Each
//!    row then times, in rounds of its own against `pread`, the floors under
//!    any cache: the same copies out of one whole-file map, and those after
//!    one empty system call (`getpid`, the cost of each signal-state query
//!    a guarded copy makes). Beside them,
//!    the floor under a miss: one window's map, first touch and unmap with
//!    no cache at all.
//! 2. Sequential reads through a cursor against one whole-file `Map`, all
//!    made fresh each round (so page faults count on both sides), with
//!    1 MiB and 8 MiB windows, in whole windows and in 4 KiB steps.
//! 3. The cost of a cursor hit over a plain slice access: 8-byte reads at
//!    random offsets inside one pinned window.
//! 4. Random 4 KiB hits from one, two and four threads at once, through
//!    `read_at` (the thread's stripe of the lock, held for reading, per
//!    read), `read_at` with `pread_below(0)` (a copy from the window even
//!    with the signal checks on) and cursors (no lock on a hit), beside
//!    `pread` from as many threads on one descriptor, and on one
//!    descriptor per thread (what the machine's free CPUs give).
//!
//! 5. Where a copy out of a mapped window stops costing more than `pread`:
//!    random hits of 4 KiB to 1 MiB copied from the windows
//!    (`pread_below(0)`) against `pread` (what sets `DEFAULT_PREAD_BELOW`).
//!
//! Then sections 1, 4 (`read_at` only) and 5 again after
//! `guard::assume_signals_untouched()`, which cannot be undone in a process:
//! guarded copies skip their three signal-state system calls, and
//! `read_at` copies its hits from the windows instead of reading by `pread`.
//!
//! Each random row times `read_at` with admission (the default: a miss on
//! a window that has not proven reuse is a `pread`) and without (every
//! miss maps, git's way); the cursor runs on the cache without admission.
//!
//! Run: `cargo bench -p xmmap-bench --bench window` (`XMMAP_BENCH_MIB` sets the file size,
//! default 64 MiB; `mapped_limit` is a quarter of it). `XMMAP_BENCH_ONLY=threads`
//! runs section 4 alone, with the checks on and then skipped.

// Unix only (pread, the memmap2 comparison); elsewhere there is nothing to run.
#![cfg_attr(not(unix), no_main)]
#![cfg(unix)]

use std::fs::File;
use std::hint::black_box;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::time::Instant;

use xmmap::{Map, WindowCache, WindowConfig, WindowStats};
use xmmap_bench::offsets::zipf_placed;
use xmmap_bench::stats::median;
use xmmap_bench::Rng;

const ROUNDS: usize = 5;
const BLOCK: usize = 4096;

fn cache_for(limit: u64, window: u64) -> WindowCache {
    WindowConfig::new().window_size(window).mapped_limit(limit).build().expect("cache")
}

/// As [`cache_for`], without admission: every `read_at` miss maps (git's way).
fn cache_mapping_every_miss(limit: u64, window: u64) -> WindowCache {
    let mut config = WindowConfig::new();
    config.window_size(window).mapped_limit(limit).admission(false);
    config.build().expect("cache")
}

fn delta(after: &WindowStats, before: &WindowStats) -> (u64, u64) {
    (after.hits - before.hits, after.misses - before.misses)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: u64 = std::env::var("XMMAP_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    let len = mib << 20;
    let limit = len / 4;
    let path = std::env::temp_dir().join(format!("xmmap-bench-window-{}", std::process::id()));
    {
        let mut f = File::create(&path)?;
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
        let chunk: Vec<u8> = (0..1 << 20).map(|_| rng.next_u64() as u8).collect();
        for _ in 0..mib {
            f.write_all(&chunk)?;
        }
    }
    let file = File::open(&path)?;
    let mut warm = vec![0u8; 1 << 20];
    for off in (0..len).step_by(1 << 20) {
        file.read_exact_at(&mut warm, off)?;
    }
    let blocks = (len as usize) / BLOCK;
    println!(
        "window bench: file {mib} MiB (hot), mapped_limit {} MiB, page {} B, \
         {ROUNDS} rounds, medians",
        limit >> 20,
        xmmap::page_size()
    );

    // 1. Random 4 KiB reads, zipf-like.
    let mut rng = Rng::new(42);
    let clustered: Vec<u64> = (0..blocks as u64).collect();
    let mut scattered = clustered.clone();
    for i in (1..blocks).rev() {
        scattered.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    if std::env::var("XMMAP_BENCH_ONLY").is_ok_and(|v| v == "threads") {
        threads(&path, &file, len, &mut rng, &scattered, &[0, 3, 1, 5, 4, 2])?;
        // SAFETY: this benchmark blocks no signals and installs no handlers.
        unsafe { xmmap::guard::assume_signals_untouched() };
        println!("with xmmap::guard::assume_signals_untouched():");
        threads(&path, &file, len, &mut rng, &scattered, &[1])?;
        std::fs::remove_file(&path)?;
        return Ok(());
    }
    random_rows(&path, &file, len, limit, &mut rng, &clustered, &scattered)?;

    // The floor under a miss: map one window, touch one page, unmap it.
    for window in [1u64 << 20, 64 << 10] {
        let mut t_floor = Vec::new();
        let mut opts = xmmap::MapOptions::new();
        for _ in 0..ROUNDS {
            let t = Instant::now();
            for i in 0..2_000u64 {
                let start = (rng.next_u64() % (len / window)) * window;
                let raw = opts.offset(start).len(window as usize).map_raw_read_only(&file)?;
                // SAFETY: the map is readable and nothing truncates the file.
                black_box(unsafe {
                    raw.as_ptr().add((i as usize * BLOCK) % window as usize).read()
                });
            }
            t_floor.push(t.elapsed().as_nanos() as f64 / 2_000.0);
        }
        println!(
            "miss floor, window {} KiB: map + touch one page + unmap = {:.0} ns",
            window >> 10,
            median(t_floor)
        );
    }

    // 2. Sequential: cursor walks vs one whole-file Map, all fresh per round.
    let xor = |s: &[u8]| {
        s.chunks_exact(8).fold(0u64, |a, c| a ^ u64::from_ne_bytes(c.try_into().unwrap()))
    };
    // A cursor walk with `window`: whole window slices, or 4 KiB steps.
    let walk = |window: u64, steps: bool| -> Result<f64, xmmap::Error> {
        let cache = cache_for(limit, window);
        let h = cache.open(&path)?;
        let t = Instant::now();
        // SAFETY: nothing writes the bench file.
        let mut cursor = unsafe { cache.cursor(h)? };
        let (mut off, mut acc) = (0, 0);
        while off < len {
            let bytes = cursor.at(off)?;
            let bytes = if steps { &bytes[..BLOCK] } else { bytes };
            acc ^= xor(bytes);
            off += bytes.len() as u64;
        }
        black_box(acc);
        drop(cursor);
        drop(cache);
        Ok(t.elapsed().as_secs_f64())
    };
    let variants = [(1u64 << 20, false), (1 << 20, true), (8 << 20, false), (8 << 20, true)];
    let mut t_map = Vec::new();
    let mut t_walk: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for _ in 0..ROUNDS {
        let t = Instant::now();
        // SAFETY: nothing writes the bench file.
        let map = unsafe { Map::map(&file)? };
        black_box(xor(&map));
        drop(map);
        t_map.push(t.elapsed().as_secs_f64());
        for (k, &(window, steps)) in variants.iter().enumerate() {
            t_walk[k].push(walk(window, steps)?);
        }
    }
    let gbs = |t: f64| len as f64 / t / 1e9;
    let m = median(t_map);
    println!("sequential: whole-file Map {:.2} GB/s", gbs(m));
    for (k, &(window, steps)) in variants.iter().enumerate() {
        let w = median(t_walk[k].clone());
        println!(
            "sequential: cursor, window {} KiB, {}: {:.2} GB/s ({:.2}x Map)",
            window >> 10,
            if steps { "4 KiB steps" } else { "whole windows" },
            gbs(w),
            m / w
        );
    }

    // 3. Hit overhead: 8-byte reads at random offsets in one pinned window.
    let cache = cache_for(limit, 1 << 20);
    let h = cache.open(&path)?;
    // SAFETY: as above.
    let map = unsafe { Map::map(&file)? };
    // SAFETY: as above.
    let mut cursor = unsafe { cache.cursor(h)? };
    let span = (cursor.at(0)?.len() - 64) as u64;
    let offs: Vec<u64> = (0..1_000_000).map(|_| rng.next_u64() % span).collect();
    let (mut t_slice, mut t_hit) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let mut acc = 0u64;
        for &o in &offs {
            let o = o as usize;
            acc ^= u64::from_ne_bytes(map[o..o + 8].try_into().unwrap());
        }
        black_box(acc);
        t_slice.push(t.elapsed().as_nanos() as f64 / offs.len() as f64);

        let t = Instant::now();
        let mut acc = 0u64;
        for &o in &offs {
            acc ^= u64::from_ne_bytes(cursor.at(o)?[..8].try_into().unwrap());
        }
        black_box(acc);
        t_hit.push(t.elapsed().as_nanos() as f64 / offs.len() as f64);
    }
    let (sl, hi) = (median(t_slice), median(t_hit));
    println!(
        "cursor hit: {hi:.1} ns per 8-byte read vs {sl:.1} ns from a slice: {:.1} ns overhead \
         ({:.2}x)",
        hi - sl,
        hi / sl
    );
    drop(cursor);
    println!("{}", cache.stats());

    threads(&path, &file, len, &mut rng, &scattered, &[0, 3, 1, 5, 4, 2])?;
    crossover(&path, &file, len, &mut rng)?;

    // The same with the guard's signal checks skipped (process-wide, so
    // last): read_at's hits are copies from the windows again.
    // SAFETY: this benchmark blocks no signals and installs no handlers.
    unsafe { xmmap::guard::assume_signals_untouched() };
    println!("with xmmap::guard::assume_signals_untouched():");
    random_rows(&path, &file, len, limit, &mut rng, &clustered, &scattered)?;
    threads(&path, &file, len, &mut rng, &scattered, &[1])?;
    crossover(&path, &file, len, &mut rng)?;
    std::fs::remove_file(&path)?;
    Ok(())
}

/// Section 1: random 4 KiB reads, one row per pattern and window.
fn random_rows(
    path: &std::path::Path,
    file: &File,
    len: u64,
    limit: u64,
    rng: &mut Rng,
    clustered: &[u64],
    scattered: &[u64],
) -> Result<(), Box<dyn std::error::Error>> {
    let blocks = (len as usize) / BLOCK;
    let n = 100_000;
    let mut buf = vec![0u8; BLOCK];
    // `None`: uniform random blocks instead of zipf. The last rows let the
    // whole file fit (limit = file size): hits only.
    for (name, perm, window, budget) in [
        ("zipf clustered", Some(clustered), 1 << 20, limit),
        ("zipf scattered", Some(scattered), 1 << 20, limit),
        ("uniform", None, 1 << 20, limit),
        ("zipf clustered", Some(clustered), 64 << 10, limit),
        ("zipf scattered", Some(scattered), 64 << 10, limit),
        ("uniform", None, 64 << 10, limit),
        ("zipf scattered, whole file fits", Some(scattered), 16 << 20, len),
        ("uniform, whole file fits", None, 16 << 20, len),
    ] {
        let offsets = match perm {
            Some(perm) => zipf_placed(rng, n, perm, BLOCK as u64),
            None => (0..n).map(|_| (rng.next_u64() % blocks as u64) * BLOCK as u64).collect(),
        };
        let cache = cache_for(budget, window);
        let h = cache.open(path)?;
        let every = cache_mapping_every_miss(budget, window);
        let he = every.open(path)?;
        let (mut t_pread, mut t_cache, mut t_every, mut t_cursor) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut hits, mut misses) = (0, 0);
        for _ in 0..ROUNDS {
            let t = Instant::now();
            for &off in &offsets {
                black_box(file.read_at(&mut buf, off)?);
            }
            t_pread.push(t.elapsed().as_nanos() as f64 / n as f64);

            let before = cache.stats();
            let t = Instant::now();
            for &off in &offsets {
                black_box(cache.read_at(h, off, &mut buf)?);
            }
            t_cache.push(t.elapsed().as_nanos() as f64 / n as f64);
            let d = delta(&cache.stats(), &before);
            hits += d.0;
            misses += d.1;

            let t = Instant::now();
            for &off in &offsets {
                black_box(every.read_at(he, off, &mut buf)?);
            }
            t_every.push(t.elapsed().as_nanos() as f64 / n as f64);

            // SAFETY: nothing writes the bench file.
            let mut cursor = unsafe { every.cursor(he)? };
            let t = Instant::now();
            for &off in &offsets {
                let bytes = cursor.at(off)?;
                let take = bytes.len().min(BLOCK);
                buf[..take].copy_from_slice(&bytes[..take]);
                if take < BLOCK {
                    cursor.read_at(off + take as u64, &mut buf[take..])?;
                }
                black_box(&buf);
            }
            t_cursor.push(t.elapsed().as_nanos() as f64 / n as f64);
        }
        let (p, c, e, k) = (median(t_pread), median(t_cache), median(t_every), median(t_cursor));
        let s = cache.stats();
        drop((cache, every));
        // The floors under any cache, in rounds of their own after the
        // caches are gone (timed in the rounds above, they moved those rows
        // by up to 0.08): the same copies straight out of one whole-file map
        // (no lookup, no guard), and the same after one system call that
        // does nothing (`getpid`), the least a copy pays for each
        // signal-state query it makes; each against a `pread` of its round.
        // SAFETY: nothing writes the bench file.
        let whole = unsafe { Map::map(file)? };
        let (mut t_pread2, mut t_copy, mut t_syscall) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let t = Instant::now();
            for &off in &offsets {
                black_box(file.read_at(&mut buf, off)?);
            }
            t_pread2.push(t.elapsed().as_nanos() as f64 / n as f64);

            let t = Instant::now();
            for &off in &offsets {
                let off = off as usize;
                buf.copy_from_slice(&whole[off..off + BLOCK]);
                black_box(&buf);
            }
            t_copy.push(t.elapsed().as_nanos() as f64 / n as f64);

            let t = Instant::now();
            for &off in &offsets {
                black_box(std::process::id());
                let off = off as usize;
                buf.copy_from_slice(&whole[off..off + BLOCK]);
                black_box(&buf);
            }
            t_syscall.push(t.elapsed().as_nanos() as f64 / n as f64);
        }
        let (p2, f, g) = (median(t_pread2), median(t_copy), median(t_syscall));
        println!(
            "random 4 KiB, {name}, window {} KiB: pread {p:.0} ns, read_at {c:.0} ns \
             ({:.2}x pread; {} by pread, {} by windows, {} admitted, hit rate {:.3}), \
             read_at mapping every miss {e:.0} ns ({:.2}x), cursor {k:.0} ns ({:.2}x); \
             floors (own rounds): copy from a whole-file map {f:.0} ns ({:.2}x), getpid + \
             that copy {g:.0} ns ({:.2}x); peak mapped {} MiB",
            window >> 10,
            c / p,
            s.pread_reads,
            s.mapped_reads,
            s.admitted,
            if hits + misses == 0 { 0.0 } else { hits as f64 / (hits + misses) as f64 },
            e / p,
            k / p,
            f / p2,
            g / p2,
            s.peak_mapped >> 20
        );
    }

    Ok(())
}

/// Section 4: random 4 KiB hits from 1, 2 and 4 threads, through each of
/// `vias` (0 pread, 1 read_at, 2 cursors, 3 pread from a descriptor each
/// thread opens: the kernel then shares no open file's reference count
/// between them; 4 read_at with `pread_below(0)`, which copies from the
/// window whether the signal checks are on or not; 5 read_at with
/// `per_thread_descriptors(false)`, whose `pread`s share one descriptor).
fn threads(
    path: &std::path::Path,
    file: &File,
    len: u64,
    rng: &mut Rng,
    scattered: &[u64],
    vias: &[u8],
) -> Result<(), Box<dyn std::error::Error>> {
    // 4. Threads: random 4 KiB hits (the whole file fits) from 1, 2 and 4
    // threads at once, one window over the whole file; `read_at` takes the
    // lock per read, a cursor does not.
    let cache = cache_for(len, len);
    let h = cache.open(path)?;
    let mut config = WindowConfig::new();
    config.window_size(len).mapped_limit(len).pread_below(0);
    let copying = config.build()?;
    let hc = copying.open(path)?;
    let mut config = WindowConfig::new();
    config.window_size(len).mapped_limit(len).per_thread_descriptors(false);
    let shared = config.build()?;
    let hs = shared.open(path)?;
    // Map its window (a cursor maps without admission).
    // SAFETY: nothing writes the bench file.
    black_box(unsafe { copying.cursor(hc)? }.at(0)?[0]);
    let offsets = zipf_placed(rng, 200_000, scattered, BLOCK as u64);
    // `via`: 0 pread (what the machine gives), 1 read_at, 2 cursors, 3
    // pread from a descriptor of each thread's own.
    let run = |threads: usize, via: u8| -> f64 {
        let t = Instant::now();
        std::thread::scope(|s| {
            for k in 0..threads {
                let (cache, copying, shared, offsets) = (&cache, &copying, &shared, &offsets);
                s.spawn(move || {
                    let mut buf = vec![0u8; BLOCK];
                    // SAFETY: nothing writes the bench file.
                    let mut cur = unsafe { cache.cursor(h).expect("cursor") };
                    let own = (via == 3).then(|| File::open(path).expect("open"));
                    for &off in offsets.iter().skip(k).step_by(threads) {
                        match via {
                            0 => {
                                file.read_at(&mut buf, off).expect("pread");
                            }
                            3 => {
                                own.as_ref()
                                    .expect("opened")
                                    .read_at(&mut buf, off)
                                    .expect("pread");
                            }
                            4 => {
                                copying.read_at(hc, off, &mut buf).expect("read_at");
                            }
                            1 => {
                                cache.read_at(h, off, &mut buf).expect("read_at");
                            }
                            5 => {
                                shared.read_at(hs, off, &mut buf).expect("read_at");
                            }
                            _ => {
                                let bytes = cur.at(off).expect("at");
                                let take = bytes.len().min(BLOCK);
                                buf[..take].copy_from_slice(&bytes[..take]);
                            }
                        }
                        black_box(&buf);
                    }
                });
            }
        });
        t.elapsed().as_secs_f64()
    };
    for &via in vias {
        let (mut one, mut two, mut four) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            one.push(run(1, via));
            two.push(run(2, via));
            four.push(run(4, via));
        }
        let one = median(one);
        println!(
            "threads, random 4 KiB hits via {}: 2 threads do the work {:.2}x as fast as 1 \
             ({:.0} ns per read), 4 threads {:.2}x",
            [
                "pread",
                "read_at",
                "cursors",
                "pread, a descriptor per thread",
                "read_at copying from the window (pread_below(0))",
                "read_at, one shared descriptor (per_thread_descriptors(false))",
            ][usize::from(via)],
            one / median(two),
            one * 1e9 / offsets.len() as f64,
            one / median(four)
        );
    }
    Ok(())
}

/// Section 5: where a copy out of a mapped window stops costing more than
/// `pread`: random reads of 4 KiB to 1 MiB, all hits (the whole file
/// mapped), copied from the windows (`pread_below(0)`) against `pread`.
fn crossover(
    path: &std::path::Path,
    file: &File,
    len: u64,
    rng: &mut Rng,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = WindowConfig::new();
    config.window_size(16 << 20).mapped_limit(len).pread_below(0);
    let cache = config.build()?;
    let h = cache.open(path)?;
    // SAFETY: nothing writes the bench file.
    let mut cursor = unsafe { cache.cursor(h)? };
    for off in (0..len).step_by(8 << 20) {
        black_box(cursor.at(off)?[0]);
    }
    drop(cursor);
    for size in [
        4usize << 10,
        8 << 10,
        12 << 10,
        16 << 10,
        32 << 10,
        64 << 10,
        128 << 10,
        256 << 10,
        1 << 20,
    ] {
        let n = ((256usize << 20) / size).clamp(1_000, 50_000);
        let offsets: Vec<u64> =
            (0..n).map(|_| rng.next_u64() % (len / size as u64) * size as u64).collect();
        let mut buf = vec![0u8; size];
        let (mut t_pread, mut t_copy) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let t = Instant::now();
            for &off in &offsets {
                black_box(file.read_at(&mut buf, off)?);
            }
            t_pread.push(t.elapsed().as_nanos() as f64 / n as f64);
            let t = Instant::now();
            for &off in &offsets {
                black_box(cache.read_at(h, off, &mut buf)?);
            }
            t_copy.push(t.elapsed().as_nanos() as f64 / n as f64);
        }
        let (p, c) = (median(t_pread), median(t_copy));
        println!(
            "crossover, random {} KiB hits: pread {p:.0} ns, read_at from the window {c:.0} ns \
             ({:.2}x pread)",
            size >> 10,
            c / p
        );
    }
    Ok(())
}
