//! xmmap's benchmark harness: every section side by side in one process,
//! printed as ratios.
//!
//! ```text
//! cargo bench -p xmmap-bench                      # everything
//! cargo bench -p xmmap-bench -- --quick           # under 2 minutes
//! cargo bench -p xmmap-bench -- scan-shm map      # sections by name prefix
//! XMMAP_BENCH_QUICK=1 scripts/bench.sh            # the same, by script
//! ```
//!
//! A section is one function from [`Ctx`] to a [`Section`]; add it to
//! [`SECTIONS`]. The benchmark files live in temporary directories removed
//! afterwards and are not modified while measured, which is what the
//! `unsafe` map calls below rely on.

use std::fs::File;
use std::io;
use std::time::{Duration, Instant};

use xmmap_bench::files::on_one_cpu;
use xmmap_bench::kernel::xor;
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

    fn small_plan(&self) -> Plan {
        let sample = if self.quick { Duration::from_millis(5) } else { Duration::from_millis(20) };
        Plan::new(if self.quick { 5 } else { 11 }, sample)
    }
}

type SectionFn = fn(&Ctx) -> io::Result<Section>;

/// Every section, by name. Sections of layers still to come (guarded
/// `read_at` vs copy and `pread`, window cache hits vs `pread`, `Source` vs
/// the better of read and mmap) are one function each, added here.
const SECTIONS: &[(&str, SectionFn)] = &[
    ("scan-shm", scan_shm),
    ("scan-disk", scan_disk),
    ("scan-one-cpu", scan_one_cpu),
    ("small-files", small_files),
    ("map-unmap", map_unmap),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick")
        || std::env::var_os("XMMAP_BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0");
    let wanted: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let big =
        std::env::var("XMMAP_BENCH_SIZE").ok().and_then(|s| s.parse().ok()).unwrap_or(1 << 30);
    let ctx = Ctx { quick, big };
    print!("{}", Machine::detect(&[Place::Shm, Place::Temp]));
    println!("mode: {}\n", if quick { "quick" } else { "full" });
    let start = Instant::now();
    let mut failed = false;
    for (name, section) in SECTIONS {
        if !wanted.is_empty() && !wanted.iter().any(|w| name.starts_with(w.as_str())) {
            continue;
        }
        let t = Instant::now();
        match section(&ctx) {
            Ok(s) => println!("{s}  ({name}: {:.1} s)\n", t.elapsed().as_secs_f64()),
            Err(e) => {
                eprintln!("{name}: {e}");
                failed = true;
            }
        }
    }
    println!("total {:.1} s", start.elapsed().as_secs_f64());
    if failed {
        std::process::exit(1);
    }
}

fn memmap2_map<'a>() -> Method<'a> {
    Method::new("memmap2 map", |input| {
        let f = File::open(&input.path)?;
        // SAFETY: the benchmark file is not modified while it is measured.
        let map = unsafe { memmap2::Mmap::map(&f) }?;
        Ok(xor(&map))
    })
}

const FAST: &str = "fast path";
const CEILING: &str = "in-memory ceiling";

/// The sequential scan of one big hot file in `place`.
fn scan_in(ctx: &Ctx, place: Place, label: &str) -> io::Result<Section> {
    let dir = TempDir::new(&place)?;
    let input = Input::open(&dir.file("scan", ctx.big)?)?;
    let mut alone = xmmap::ScanOptions::new();
    alone.prefetch(Some(false)).background_unmap(Some(false));
    let mut methods = vec![
        Method::ceiling(),
        Method::xmmap_scan(FAST, xmmap::ScanOptions::new()),
        Method::xmmap_scan("fast path, no helper", alone),
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
    for m in ["xmmap map", "memmap2 map", "read()"] {
        s.add_ratio(&format!("{m} / ceiling (throughput)"), s.time_ratio(CEILING, m, size), None);
    }
    s.add_ratio(
        "fast path vs memmap2 map (speed-up)",
        s.time_ratio("memmap2 map", FAST, size),
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
            s.time_ratio(FAST, "xmmap map", size),
            Some(Target::AtMost(1.0)),
        );
        Ok(s)
    })?
}

/// Per-file time of read() and mmap across sizes, hot, in the temp dir.
fn small_files(ctx: &Ctx) -> io::Result<Section> {
    let dir = TempDir::new(&Place::Temp)?;
    let mut inputs = Vec::new();
    for size in
        [1u64 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]
    {
        inputs.push(Input::open(&dir.file(&format!("f{size}"), size)?)?);
    }
    let mut methods = vec![
        Method::read(1 << 20),
        Method::xmmap_map(),
        memmap2_map(),
        Method::xmmap_scan(FAST, xmmap::ScanOptions::new()),
    ];
    let title = format!("Small files: per-file time, hot, {}", Place::Temp.label());
    let mut s = compare(&title, &inputs, &mut methods, &ctx.small_plan())?;
    s.notes.push("each call: open + read()/map + xor kernel + close/unmap".into());
    s.baseline = Some("read()".into());
    let cross = s.crossover("read()", "xmmap map");
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
            s.time_ratio("xmmap map", "read()", size),
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
        Method::new("memmap2 Mmap::map", |input: &Input| {
            // SAFETY: as above.
            let map = unsafe { memmap2::Mmap::map(&input.file) }?;
            Ok(map.len() as u64)
        }),
    ];
    let title = "Map + unmap of a 1 MiB file, untouched (descriptor already open)".to_string();
    let mut s = compare(&title, &[input], &mut methods, &ctx.small_plan())?;
    s.baseline = Some(RAW.into());
    s.notes.push("GB/s is meaningless here: nothing is read".into());
    let size = 1 << 20;
    s.add_ratio(
        "xmmap / raw mmap+munmap (time)",
        s.time_ratio("xmmap MapOptions::map", RAW, size),
        Some(Target::AtMost(1.10)),
    );
    s.add_ratio(
        "xmmap / raw fstat+mmap+munmap (time)",
        s.time_ratio("xmmap MapOptions::map", "raw fstat+mmap+munmap", size),
        None,
    );
    s.add_ratio(
        "memmap2 / raw mmap+munmap (time)",
        s.time_ratio("memmap2 Mmap::map", RAW, size),
        None,
    );
    Ok(s)
}
