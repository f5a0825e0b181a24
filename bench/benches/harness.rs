//! xmmap's benchmark harness: every section side by side in one process,
//! printed as ratios.
//!
//! ```text
//! cargo bench -p xmmap-bench --bench harness                   # everything
//! cargo bench -p xmmap-bench --bench harness -- --quick        # under 2 minutes
//! cargo bench -p xmmap-bench --bench harness -- scan-shm map   # sections by name prefix
//! cargo bench -p xmmap-bench --bench harness -- --repeat=3     # 3 runs, then each ratio's median
//! XMMAP_BENCH_QUICK=1 scripts/bench.sh            # the same, by script
//! ```
//!
//! A section is one function from [`Ctx`] to a [`Section`]; add it to
//! [`SECTIONS`]. The benchmark files live in temporary directories removed
//! afterwards and are not modified while measured, which is what the
//! `unsafe` map calls below rely on.

// Unix only (pread, the memmap2 comparison); elsewhere there is nothing to run.
#![cfg_attr(not(unix), no_main)]
#![cfg(unix)]

use std::fs::File;
use std::hint::black_box;
use std::io;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use xmmap_bench::files::on_one_cpu;
use xmmap_bench::kernel::xor;
use xmmap_bench::method::{CEILING, CEILING_HUGE, CEILING_MAPPED, MAP, READ, READ_TO_VEC};
use xmmap_bench::offsets;
use xmmap_bench::report::size_label;
use xmmap_bench::{compare, Input, Machine, Method, Place, Plan, Section, Target, TempDir};

/// What every section may consult.
struct Ctx {
    quick: bool,
    /// Size of the big sequential-scan file.
    big: u64,
}

impl Ctx {
    fn scan_plan(&self) -> Plan {
        Plan::new(if self.quick { 5 } else { 11 }, Duration::ZERO)
    }

    fn map_plan(&self) -> Plan {
        Plan::new(if self.quick { 21 } else { 41 }, Duration::from_millis(5))
    }

    /// Source, guard and window sections: short calls, cheap rounds.
    fn reads_plan(&self) -> Plan {
        let sample = if self.quick { Duration::from_millis(5) } else { Duration::from_millis(20) };
        Plan::new(if self.quick { 11 } else { 21 }, sample)
    }

    fn small_plan(&self) -> Plan {
        let sample = if self.quick { Duration::from_millis(5) } else { Duration::from_millis(20) };
        Plan::new(if self.quick { 5 } else { 11 }, sample)
    }
}

type SectionFn = fn(&Ctx) -> io::Result<Section>;

/// Every section, by name; a new one is one function, added here.
const SECTIONS: &[(&str, SectionFn)] = &[
    ("scan-shm", scan_shm),
    ("scan-disk", scan_disk),
    ("scan-one-cpu", scan_one_cpu),
    ("small-files", small_files),
    ("source", source),
    ("map-unmap", map_unmap),
    ("guard", guard),
    ("window", window),
];

/// The file sizes of the per-file sections, 1 KiB to 64 MiB.
const FILE_SIZES: [u64; 9] =
    [1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick")
        || std::env::var_os("XMMAP_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0");
    let repeat = args
        .iter()
        .find_map(|a| a.strip_prefix("--repeat=").map(str::to_string))
        .or_else(|| std::env::var("XMMAP_BENCH_REPEAT").ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let wanted: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let big =
        std::env::var("XMMAP_BENCH_SIZE").ok().and_then(|s| s.parse().ok()).unwrap_or(1 << 30);
    let ctx = Ctx { quick, big };
    print!("{}", Machine::detect(&[Place::Shm, Place::Temp]));
    println!("mode: {}, {repeat} run(s)", if quick { "quick" } else { "full" });
    // How busy the machine is: the figures are only as quiet as this.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let pressure = std::fs::read_to_string("/proc/pressure/cpu").unwrap_or_default();
    println!("load: {} | cpu pressure: {}", load.trim(), pressure.lines().next().unwrap_or("-"));
    println!(
        "second CPU: two threads of pure computation take {:.2}x the time of one \
         (1.0: a free second CPU; 2.0: none to be had)\n",
        xmmap_bench::machine::second_cpu_ratio()
    );
    let start = Instant::now();
    let mut failed = false;
    // Every ratio of every run, by section and name, for the summary.
    let mut seen: Vec<(String, Option<Target>, Vec<f64>)> = Vec::new();
    for run in 1..=repeat {
        if repeat > 1 {
            println!("# run {run} of {repeat}\n");
        }
        for (name, section) in SECTIONS {
            if !wanted.is_empty() && !wanted.iter().any(|w| name.starts_with(w.as_str())) {
                continue;
            }
            let t = Instant::now();
            match section(&ctx) {
                Ok(s) => {
                    println!("{s}  ({name}: {:.1} s)\n", t.elapsed().as_secs_f64());
                    for r in &s.ratios {
                        let key = format!("{name}: {}", r.name);
                        match seen.iter_mut().find(|(k, _, _)| *k == key) {
                            Some((_, _, v)) => v.push(r.value),
                            None => seen.push((key, r.target, vec![r.value])),
                        }
                    }
                }
                Err(e) => {
                    eprintln!("{name}: {e}");
                    failed = true;
                }
            }
        }
    }
    if repeat > 1 {
        println!("## Ratios over {repeat} runs: median (min .. max)");
        for (key, target, v) in &seen {
            let m = xmmap_bench::stats::median(v);
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(0.0, f64::max);
            let verdict = match target {
                Some(t @ Target::AtLeast(x)) => {
                    format!("  target >= {x:.2}: {}", if t.met(m) { "met" } else { "NOT met" })
                }
                Some(t @ Target::AtMost(x)) => {
                    format!("  target <= {x:.2}: {}", if t.met(m) { "met" } else { "NOT met" })
                }
                None => String::new(),
            };
            println!("  * {key}: {m:.3} ({lo:.3} .. {hi:.3}){verdict}");
        }
        println!();
    }
    println!("total {:.1} s", start.elapsed().as_secs_f64());
    if failed {
        std::process::exit(1);
    }
}

const MEMMAP2: &str = "memmap2 map";

fn memmap2_map<'a>() -> Method<'a> {
    Method::new(MEMMAP2, |input| {
        let f = File::open(&input.path)?;
        // SAFETY: the benchmark file is not modified while it is measured.
        let map = unsafe { memmap2::Mmap::map(&f) }?;
        Ok(xor(&map))
    })
}

const FAST: &str = "fast path";
const FORCED: &str = "fast path, helper forced";
const ALONE: &str = "fast path, no helper";

/// Scan options with the helper thread forced on or off.
fn helper(on: bool) -> xmmap::ScanOptions {
    let mut o = xmmap::ScanOptions::new();
    o.prefetch(Some(on)).background_unmap(Some(on));
    o
}

/// The sequential scan of one big hot file in `place`.
fn scan_in(ctx: &Ctx, place: Place, label: &str) -> io::Result<Section> {
    let dir = TempDir::new(&place)?;
    let input = Input::open(&dir.file("scan", ctx.big)?)?;
    let mut methods = vec![
        Method::ceiling(),
        Method::ceiling_huge(),
        Method::ceiling_mapped(),
        Method::xmmap_scan(FAST, xmmap::ScanOptions::new()),
        Method::xmmap_scan(FORCED, helper(true)),
        Method::xmmap_scan(ALONE, helper(false)),
        Method::xmmap_map(),
        memmap2_map(),
        Method::read(1 << 20),
    ];
    let title = format!(
        "Sequential scan of a {} hot file, {label} {}",
        xmmap_bench::report::size_label(ctx.big),
        place.label()
    );
    let mut s = compare(&title, &[input], &mut methods, &ctx.scan_plan())?;
    s.notes.push(
        "each call: open, get the bytes into the xor kernel, unmap/close; read() uses a 1 MiB buffer"
            .into(),
    );
    s.baseline = Some(CEILING.into());
    let size = ctx.big;
    let (fast_target, memmap2_target) = match place {
        Place::Shm => (Some(Target::AtLeast(0.90)), Some(Target::AtLeast(1.3))),
        _ => (Some(Target::AtLeast(0.95)), None),
    };
    s.add_ratio("fast path / ceiling (throughput)", s.time_ratio(CEILING, FAST, size), fast_target);
    for m in [MAP, MEMMAP2, READ] {
        s.add_ratio(&format!("{m} / ceiling (throughput)"), s.time_ratio(CEILING, m, size), None);
    }
    for m in [FORCED, ALONE] {
        s.add_ratio(&format!("{m} / ceiling (throughput)"), s.time_ratio(CEILING, m, size), None);
    }
    s.add_ratio(
        "fast path / huge-page ceiling (throughput)",
        s.time_ratio(CEILING_HUGE, FAST, size),
        None,
    );
    // The page cache's own pages, mapped once: what a mapped scan cannot beat.
    for m in [FAST, MAP] {
        s.add_ratio(
            &format!("{m} / page-cache ceiling (throughput)"),
            s.time_ratio(CEILING_MAPPED, m, size),
            None,
        );
    }
    s.add_ratio(
        "fast path vs memmap2 map (speed-up)",
        s.time_ratio(MEMMAP2, FAST, size),
        memmap2_target,
    );
    Ok(s)
}

fn scan_shm(ctx: &Ctx) -> io::Result<Section> {
    scan_in(ctx, Place::Shm, "4 KiB page cache,")
}

fn scan_disk(ctx: &Ctx) -> io::Result<Section> {
    scan_in(ctx, Place::Temp, "written sequentially,")
}

/// The fast path pinned to one CPU (as under `taskset -c 0`): no helper
/// thread; it must not lose to a plain map.
fn scan_one_cpu(ctx: &Ctx) -> io::Result<Section> {
    on_one_cpu(0, || {
        let dir = TempDir::new(&Place::Shm)?;
        let input = Input::open(&dir.file("scan", ctx.big)?)?;
        let mut methods = vec![
            Method::ceiling(),
            Method::xmmap_scan(FAST, xmmap::ScanOptions::new()),
            Method::xmmap_map(),
            memmap2_map(),
        ];
        let title = format!(
            "Sequential scan on one CPU (thread pinned to CPU 0), {} hot file in {}",
            xmmap_bench::report::size_label(ctx.big),
            Place::Shm.label()
        );
        let mut s = compare(&title, &[input], &mut methods, &ctx.scan_plan())?;
        s.baseline = Some(CEILING.into());
        let size = ctx.big;
        s.add_ratio("fast path / ceiling (throughput)", s.time_ratio(CEILING, FAST, size), None);
        s.add_ratio(
            "fast path time / xmmap map time",
            s.time_ratio(FAST, MAP, size),
            Some(Target::AtMost(1.0)),
        );
        Ok(s)
    })?
}

/// One hot file of each of [`FILE_SIZES`] in `dir`.
fn sized_files(dir: &TempDir) -> io::Result<Vec<Input>> {
    FILE_SIZES.iter().map(|&size| Input::open(&dir.file(&format!("f{size}"), size)?)).collect()
}

/// Per-file time of read() and mmap across sizes, hot, in the temp dir.
fn small_files(ctx: &Ctx) -> io::Result<Section> {
    let dir = TempDir::new(&Place::Temp)?;
    let inputs = sized_files(&dir)?;
    let mut methods = vec![
        Method::read(1 << 20),
        Method::xmmap_map(),
        memmap2_map(),
        Method::xmmap_scan(FAST, xmmap::ScanOptions::new()),
        Method::xmmap_scan(FORCED, helper(true)),
    ];
    let title = format!("Small files: per-file time, hot, {}", Place::Temp.label());
    let mut s = compare(&title, &inputs, &mut methods, &ctx.small_plan())?;
    s.notes.push("each call: open + read()/map + xor kernel + close/unmap".into());
    s.baseline = Some(READ.into());
    let cross = s.crossover(READ, MAP);
    s.notes.push(match cross {
        Some(c) => format!(
            "crossover: xmmap map is faster than read() from {} up",
            xmmap_bench::report::size_label(c)
        ),
        None => "crossover: xmmap map never beats read() here".into(),
    });
    for size in [1 << 10, 64 << 20] {
        s.add_ratio(
            &format!("xmmap map / read() at {}", xmmap_bench::report::size_label(size)),
            s.time_ratio(MAP, READ, size),
            None,
        );
    }
    Ok(s)
}

/// Map + unmap of a whole file, without touching it: xmmap against the raw
/// system calls and memmap2.
fn map_unmap(ctx: &Ctx) -> io::Result<Section> {
    use std::os::fd::AsRawFd;
    let dir = TempDir::new(&Place::Temp)?;
    let input = Input::open(&dir.file("map", 1 << 20)?)?;
    const RAW: &str = "raw mmap+munmap";
    const XLEN: &str = "xmmap MapOptions::len(n).map";
    let raw = |with_fstat: bool| {
        move |input: &Input| -> io::Result<u64> {
            let fd = input.file.as_raw_fd();
            let mut len = input.size as usize;
            if with_fstat {
                // SAFETY: a zeroed stat is a valid output buffer.
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                // SAFETY: a valid descriptor and buffer.
                if unsafe { libc::fstat(fd, &mut st) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                len = st.st_size as usize;
            }
            // SAFETY: no MAP_FIXED; the mapping is unmapped below, untouched.
            let p = unsafe {
                libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, fd, 0)
            };
            if p == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `p` is the mapping just made, referenced by nothing.
            unsafe { libc::munmap(p, len) };
            Ok(len as u64)
        }
    };
    let mut methods = vec![
        Method::new(RAW, raw(false)),
        Method::new("raw fstat+mmap+munmap", raw(true)),
        Method::new("xmmap MapOptions::map", |input: &Input| {
            // SAFETY: the benchmark file is not modified while it is measured.
            let map = unsafe { xmmap::MapOptions::new().map(&input.file) }?;
            Ok(map.len() as u64)
        }),
        Method::new(XLEN, |input: &Input| {
            // SAFETY: the benchmark file is not modified while it is measured.
            let map =
                unsafe { xmmap::MapOptions::new().len(input.size as usize).map(&input.file) }?;
            Ok(map.len() as u64)
        }),
        Method::new("memmap2 Mmap::map", |input: &Input| {
            // SAFETY: as above.
            let map = unsafe { memmap2::Mmap::map(&input.file) }?;
            Ok(map.len() as u64)
        }),
    ];
    let title = "Map + unmap of a 1 MiB file, untouched (descriptor already open)".to_string();
    let mut s = compare(&title, &[input], &mut methods, &ctx.map_plan())?;
    s.baseline = Some(RAW.into());
    s.notes.push("GB/s is meaningless here: nothing is read".into());
    let size = 1 << 20;
    s.add_ratio(
        "xmmap, length given / raw mmap+munmap (time)",
        s.time_ratio(XLEN, RAW, size),
        Some(Target::AtMost(1.10)),
    );
    s.add_ratio(
        "xmmap, whole file / raw fstat+mmap+munmap (time)",
        s.time_ratio("xmmap MapOptions::map", "raw fstat+mmap+munmap", size),
        Some(Target::AtMost(1.10)),
    );
    s.add_ratio(
        "xmmap, whole file / raw mmap+munmap (time)",
        s.time_ratio("xmmap MapOptions::map", RAW, size),
        None,
    );
    s.add_ratio(
        "memmap2 / raw mmap+munmap (time)",
        s.time_ratio("memmap2 Mmap::map", RAW, size),
        None,
    );
    Ok(s)
}

/// `Source` with its defaults against the better of reading the whole file
/// into a `Vec` and a plain map, per size: it must never lose by more than
/// 10 %.
fn source(ctx: &Ctx) -> io::Result<Section> {
    const SOURCE: &str = "Source";
    let dir = TempDir::new(&Place::Temp)?;
    let inputs = sized_files(&dir)?;
    let mut methods = vec![
        Method::read_to_vec(),
        Method::xmmap_map(),
        Method::xmmap_source(SOURCE, xmmap::SourceOptions::new()),
    ];
    let title =
        format!("Source against the better of read() and a map, hot, {}", Place::Temp.label());
    let mut s = compare(&title, &inputs, &mut methods, &ctx.reads_plan())?;
    s.notes.push(format!(
        "each call: open + the bytes + xor kernel + drop; Source::open with the defaults \
         (mapped from {}, read below)",
        size_label(xmmap::source::DEFAULT_THRESHOLD)
    ));
    s.notes.push(
        "read() to Vec is std::fs::read (open, fstat, read to end); xmmap map is MapOptions::map"
            .into(),
    );
    s.baseline = Some(READ_TO_VEC.into());
    for size in FILE_SIZES {
        s.add_ratio(
            &format!("Source / best of read() and map at {}", size_label(size)),
            s.time_ratio_to_best(SOURCE, &[READ_TO_VEC, MAP], size),
            Some(Target::AtMost(1.10)),
        );
    }
    Ok(s)
}

/// Bytes every call of the guard and window methods moves: the tables'
/// GB/s is then each method's throughput, and one table holds them all.
const CALL: u64 = 4 << 20;

/// The first and last word of a buffer just filled, so that the fill is
/// used (and checked across methods) without a scan over it.
fn edges(buf: &mut [u8]) -> u64 {
    let buf = black_box(buf);
    let word = |b: &[u8]| b.iter().take(8).fold(0u64, |x, &v| x << 8 | u64::from(v));
    word(buf) ^ word(&buf[buf.len().saturating_sub(8)..])
}

/// A method that makes 4 KiB reads with `read` at `offs` in turn (wrapping,
/// the place kept from call to call), CALL bytes per call.
fn block_reads<'a>(
    name: &str,
    offs: Vec<u64>,
    mut read: impl FnMut(u64, &mut [u8]) -> io::Result<usize> + 'a,
) -> Method<'a> {
    let (mut next, mut buf) = (0usize, vec![0u8; 4096]);
    Method::new(name, move |_: &Input| {
        let mut x = 0;
        for _ in 0..CALL / 4096 {
            let n = read(offs[next], &mut buf)?;
            next = (next + 1) % offs.len();
            x ^= edges(&mut buf[..n]);
        }
        Ok(x)
    })
}

/// A method that reads CALL / 8 words with `word` at `offs` in turn.
fn word_reads<'a>(
    name: &str,
    offs: &'a [u64],
    mut word: impl FnMut(u64) -> io::Result<u64> + 'a,
) -> Method<'a> {
    Method::new(name, move |_: &Input| {
        let mut x = 0;
        for i in 0..(CALL / 8) as usize {
            x ^= word(offs[i % offs.len()])?;
        }
        Ok(x)
    })
}

/// Guarded `read_at` against the copies it replaces: 64 KiB reads from a
/// populated map against `copy_from_slice` from the same map, and random
/// 4 KiB reads over a populated map of a hot file against `pread`.
fn guard(ctx: &Ctx) -> io::Result<Section> {
    const G64: &str = "guarded read_at, 64 KiB";
    const COPY: &str = "copy_from_slice, 64 KiB";
    const G4: &str = "guarded read_at, random 4 KiB";
    const PREAD: &str = "pread, random 4 KiB";
    let dir = TempDir::new(&Place::Shm)?;
    let plan = ctx.reads_plan();

    // 64 KiB reads front to back through a map larger than the caches,
    // wrapping; each call moves the next CALL bytes.
    let seq_len: u64 = if ctx.quick { 64 << 20 } else { 256 << 20 };
    let seq = Input::per_call(&dir.file("seq", seq_len)?, CALL)?;
    // SAFETY: the benchmark file is not modified while it is measured.
    let map = unsafe { xmmap::MapOptions::new().populate(true).map(&seq.file) }?;
    let sequential = |name: &str, guarded: bool| {
        let (map, chunk) = (&map, 64usize << 10);
        let (mut at, mut buf) = (0usize, vec![0u8; chunk]);
        Method::new(name, move |_: &Input| {
            let mut x = 0;
            for _ in 0..CALL as usize / chunk {
                if guarded {
                    map.read_at(at as u64, &mut buf)?;
                } else {
                    buf.copy_from_slice(&map[at..at + chunk]);
                }
                x ^= edges(&mut buf);
                at = (at + chunk) % map.len();
            }
            Ok(x)
        })
    };
    let mut methods = vec![sequential(G64, true), sequential(COPY, false)];
    let title =
        format!("Guarded read_at against a copy and pread, hot files in {}", Place::Shm.label());
    let mut s = compare(&title, std::slice::from_ref(&seq), &mut methods, &plan)?;
    drop(methods);
    drop(map);

    // Random 4 KiB reads over a populated map of a hot file.
    let rnd_len: u64 = if ctx.quick { 256 << 20 } else { ctx.big };
    let rnd = Input::per_call(&dir.file("random", rnd_len)?, CALL)?;
    let raw = xmmap::MapOptions::new().populate(true).map_raw_read_only(&rnd.file)?;
    let offs = offsets::uniform(1 << 16, rnd_len / 4096, 4096, 0x5eed);
    let file = &rnd.file;
    let mut methods = vec![
        block_reads(G4, offs.clone(), |off, buf| Ok(raw.read_at(off, buf)?)),
        block_reads(PREAD, offs, |off, buf| file.read_at(buf, off)),
    ];
    let r = compare(&title, std::slice::from_ref(&rnd), &mut methods, &plan)?;
    s.measurements.extend(r.measurements);
    s.notes.push(format!(
        "each call: {} in 64 KiB reads, front to back through a populated {} map (wrapping), \
         or in 4 KiB reads at random pages of a populated {} map / the same file by pread",
        size_label(CALL),
        size_label(seq_len),
        size_label(rnd_len)
    ));
    let per_read =
        |m: &str, reads: u64| s.get(m, CALL).map_or(f64::NAN, |x| x.median_ns / reads as f64);
    s.notes.push(format!(
        "per read: 64 KiB guarded {:.0} ns, copied {:.0} ns; 4 KiB guarded {:.0} ns, pread {:.0} ns",
        per_read(G64, CALL >> 16),
        per_read(COPY, CALL >> 16),
        per_read(G4, CALL >> 12),
        per_read(PREAD, CALL >> 12)
    ));
    s.add_ratio(
        "guarded read_at / copy_from_slice, 64 KiB reads (throughput)",
        s.time_ratio(COPY, G64, CALL),
        Some(Target::AtLeast(0.9)),
    );
    s.add_ratio(
        &format!("guarded read_at vs pread, random 4 KiB over {} (speed-up)", size_label(rnd_len)),
        s.time_ratio(PREAD, G4, CALL),
        Some(Target::AtLeast(1.5)),
    );
    Ok(s)
}

/// The fraction of lookups that hit between two snapshots of a cache.
fn hit_rate(after: &xmmap::WindowStats, before: &xmmap::WindowStats) -> f64 {
    let hits = after.hits - before.hits;
    hits as f64 / (hits + after.misses - before.misses).max(1) as f64
}

/// The window cache: random 4 KiB hits through `WindowCache::read_at`
/// against `pread`, the cost of a cursor hit over a slice access, and a
/// skewed workload over a file four times the mapped limit.
fn window(ctx: &Ctx) -> io::Result<Section> {
    const PREAD_U: &str = "pread, uniform 4 KiB";
    const HITS: &str = "WindowCache::read_at, all hits";
    const SLICE: &str = "slice, 8-byte reads";
    const CURSOR: &str = "cursor hits, 8-byte reads";
    const PREAD_Z: &str = "pread, zipf 4 KiB";
    const SKEW: &str = "WindowCache::read_at, zipf";
    const SKEW64: &str = "read_at, zipf, 64 KiB windows";
    const WINDOW: u64 = 1 << 20;
    let err = |e: xmmap::Error| io::Error::from(e);
    let dir = TempDir::new(&Place::Shm)?;
    let plan = ctx.reads_plan();
    let len: u64 = if ctx.quick { 64 << 20 } else { 256 << 20 };
    let path = dir.file("pack", len)?;
    let blocks = len / 4096;
    // Hits: the mapped limit holds the whole file; every window is mapped
    // and its pages faulted in before timing (without admission, so that
    // the warm-up reads map rather than pread).
    let fits = xmmap::WindowConfig::new()
        .window_size(WINDOW)
        .mapped_limit(len)
        .admission(false)
        .build()
        .map_err(err)?;
    let h = fits.open(&path).map_err(err)?;
    let mut warm = vec![0u8; WINDOW as usize];
    for off in (0..len).step_by(WINDOW as usize) {
        fits.read_at(h, off, &mut warm).map_err(err)?;
    }
    let input = Input::per_call(&path, CALL)?;
    let uniform = offsets::uniform(1 << 16, blocks, 4096, 0xcafe);
    let file = &input.file;
    let before = fits.stats();
    let mut methods = vec![
        block_reads(PREAD_U, uniform.clone(), |off, buf| file.read_at(buf, off)),
        block_reads(HITS, uniform, |off, buf| Ok(fits.read_at(h, off, buf)?)),
    ];
    let title = format!(
        "Window cache against pread, hot {} file in {}",
        size_label(len),
        Place::Shm.label()
    );
    let mut s = compare(&title, std::slice::from_ref(&input), &mut methods, &plan)?;
    drop(methods);
    let fit_rate = hit_rate(&fits.stats(), &before);

    // Cursor hits: 8-byte reads at random offsets inside one pinned window,
    // against the same reads from a slice of the same bytes.
    // SAFETY: the benchmark file is not modified while it is measured.
    let mut cursor = unsafe { fits.cursor(h) }.map_err(err)?;
    let span = cursor.at(0).map_err(err)?.len() as u64 - 8;
    // SAFETY: as above.
    let map = unsafe { xmmap::MapOptions::new().populate(true).map(&input.file) }?;
    let small = offsets::uniform(1 << 16, span, 1, 0xbeef);
    let word = |b: &[u8]| u64::from_ne_bytes(b[..8].try_into().expect("8 bytes"));
    let mut methods = vec![
        word_reads(SLICE, &small, |o| Ok(word(&map[o as usize..]))),
        word_reads(CURSOR, &small, move |o| Ok(word(cursor.at(o)?))),
    ];
    let c = compare(&title, std::slice::from_ref(&input), &mut methods, &plan)?;
    drop(methods);
    s.measurements.extend(c.measurements);

    // Skewed: zipf-like reads over a file four times the mapped limit,
    // with 1 MiB windows and with 64 KiB ones (cheaper misses, more of them).
    let skewed = |window: u64| {
        xmmap::WindowConfig::new().window_size(window).mapped_limit(len / 4).build().map_err(err)
    };
    let (big, small) = (skewed(WINDOW)?, skewed(64 << 10)?);
    let (hb, hs) = (big.open(&path).map_err(err)?, small.open(&path).map_err(err)?);
    let zipf = offsets::zipf(1 << 16, blocks, 4096, 0xf00d);
    let (big0, small0) = (big.stats(), small.stats());
    let mut methods = vec![
        block_reads(PREAD_Z, zipf.clone(), |off, buf| file.read_at(buf, off)),
        block_reads(SKEW, zipf.clone(), |off, buf| Ok(big.read_at(hb, off, buf)?)),
        block_reads(SKEW64, zipf, |off, buf| Ok(small.read_at(hs, off, buf)?)),
    ];
    let z = compare(&title, std::slice::from_ref(&input), &mut methods, &plan)?;
    drop(methods);
    let (big1, small1) = (big.stats(), small.stats());
    let (skew_rate, skew64_rate) = (hit_rate(&big1, &big0), hit_rate(&small1, &small0));
    s.measurements.extend(z.measurements);

    s.notes.push(format!(
        "each call: {} in reads; windows of {}; all hits: mapped_limit = the file, every window \
         mapped and faulted in first, uniform random pages",
        size_label(CALL),
        size_label(WINDOW)
    ));
    s.notes.push(format!(
        "8-byte reads at random offsets in one window ({}), by a pinned cursor and from a slice \
         of a populated map; zipf: s = 1 over the pages, mapped_limit = {} (the file / 4)",
        size_label(span + 8),
        size_label(len / 4)
    ));
    let per = |m: &str, n: u64| s.get(m, CALL).map_or(f64::NAN, |x| x.median_ns / n as f64);
    s.notes.push(format!(
        "per read: pread {:.0} ns, read_at hit {:.0} ns; 8 bytes: slice {:.1} ns, cursor {:.1} ns; \
         zipf: pread {:.0} ns, read_at {:.0} ns (64 KiB windows: {:.0} ns)",
        per(PREAD_U, CALL >> 12),
        per(HITS, CALL >> 12),
        per(SLICE, CALL >> 3),
        per(CURSOR, CALL >> 3),
        per(PREAD_Z, CALL >> 12),
        per(SKEW, CALL >> 12),
        per(SKEW64, CALL >> 12)
    ));
    s.notes.push(format!(
        "hit rate while timed: all hits {fit_rate:.3}; zipf {skew_rate:.3} with 1 MiB windows, \
         {skew64_rate:.3} with 64 KiB (peak mapped {} and {})",
        size_label(big1.peak_mapped),
        size_label(small1.peak_mapped)
    ));
    s.add_ratio(
        "read_at hits vs pread, uniform 4 KiB (speed-up)",
        s.time_ratio(PREAD_U, HITS, CALL),
        None,
    );
    s.add_ratio(
        "cursor hit overhead over a slice read (ns per 8-byte read)",
        s.time_diff(CURSOR, SLICE, CALL).map(|d| d / (CALL / 8) as f64),
        Some(Target::AtMost(50.0)),
    );
    s.add_ratio(
        "read_at vs pread, zipf, file = 4x mapped_limit (speed-up)",
        s.time_ratio(PREAD_Z, SKEW, CALL),
        None,
    );
    s.add_ratio(
        "read_at vs pread, zipf, 64 KiB windows (speed-up)",
        s.time_ratio(PREAD_Z, SKEW64, CALL),
        None,
    );
    s.add_ratio("zipf hit rate, 1 MiB windows, file = 4x mapped_limit", Some(skew_rate), None);
    s.add_ratio("zipf hit rate, 64 KiB windows", Some(skew64_rate), None);
    Ok(s)
}
