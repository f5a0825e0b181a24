//! `xmmap bench`: read() against mmap (and the fast sequential path) on
//! this machine, per file size, with the crossover and the ceiling (the
//! kernel over the file's own page-cache pages, mapped once); a table, an
//! SVG plot and JSON. The methods and their names come from `xmmap-bench`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use xmmap_bench::method::{self, CEILING_MAPPED as CEILING, MAP, READ, SCAN};
use xmmap_bench::report::{size_label, time_label, NOISE};
use xmmap_bench::{compare, Input, Machine, Method, Place, Plan, Section, TempDir};

use crate::Globals;

/// The methods measured, in the table's order.
const METHODS: [&str; 4] = [READ, MAP, SCAN, CEILING];

const DEFAULT_SIZES: &str = "1k,4k,16k,64k,256k,1m,4m,16m,64m,256m,1g";

/// Arguments of `xmmap bench`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Create the temporary files under DIR (default: the system temp dir;
    /// /dev/shm measures tmpfs). They are removed afterwards.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// File sizes to measure, comma separated, decimal with k/m/g/t
    /// suffixes; their sum must fit in the free space of DIR.
    #[arg(long, value_name = "SIZES", value_delimiter = ',', value_parser = parse_file_size,
          default_value = DEFAULT_SIZES)]
    sizes: Vec<u64>,

    /// Also write the plot (throughput against file size) to FILE as SVG.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,

    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,

    /// Samples per method and size; the median is reported.
    #[arg(long, default_value = "5", value_name = "N", value_parser = parse_rounds)]
    rounds: usize,
}

/// A file size to measure: at least one byte.
fn parse_file_size(s: &str) -> Result<u64, String> {
    match crate::parse_size(s)? {
        0 => Err(format!("the size {s:?} is invalid: a file to measure needs at least 1 byte")),
        n => Ok(n),
    }
}

/// Samples per method: at least one, or there is no median.
fn parse_rounds(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("0 rounds measure nothing: give at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("invalid number of rounds {s:?}: give a decimal number, e.g. 5")),
    }
}

pub(crate) fn run(args: &Args, globals: &Globals) -> Result<ExitCode> {
    globals.limit.clone().map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let place = args.dir.clone().map_or(Place::Temp, Place::Dir);
    let mut sizes = args.sizes.clone();
    sizes.sort_unstable();
    sizes.dedup();
    anyhow::ensure!(!sizes.is_empty(), "no file sizes to measure: give --sizes, e.g. 4k,1m");
    let total = sizes.iter().try_fold(0u64, |sum, &s| sum.checked_add(s)).unwrap_or(u64::MAX);
    let base = place.base();
    // Where free space is not known (Windows), the check passes.
    let free = crate::platform::free_space(&base)
        .with_context(|| format!("cannot find the free space of {}", base.display()))?
        .unwrap_or(u64::MAX);
    anyhow::ensure!(
        total <= free,
        "the files of --sizes need {total} bytes ({:.1} GiB) but {} has {free} bytes \
         ({:.1} GiB) free",
        total as f64 / f64::from(1 << 30),
        base.display(),
        free as f64 / f64::from(1 << 30)
    );

    // Ctrl-C or SIGTERM while files exist removes them before exiting.
    let signals = crate::platform::Signals::block().context("cannot block SIGINT and SIGTERM")?;
    let dir = TempDir::new(&place)
        .with_context(|| format!("cannot create a temporary directory under {}", base.display()))?;
    signals.remove_on_signal(dir.path().to_path_buf());
    let bar = progress(total, "writing files");
    let mut inputs = Vec::new();
    for &size in &sizes {
        let path = dir.file(&format!("bench-{size}"), size).with_context(|| {
            format!("cannot write a {} file in {}", size_label(size), dir.path().display())
        })?;
        inputs.push(Input::open(&path)?);
        bar.inc(size);
    }
    bar.finish_and_clear();

    let plan = Plan::new(args.rounds, Duration::from_millis(20));
    let bar = progress(sizes.len() as u64, "measuring");
    let mut section = Section::new("read() vs mmap, per file size, hot page cache");
    for input in &inputs {
        bar.set_message(format!("measuring {}", size_label(input.size)));
        // In the order of METHODS.
        let mut methods = vec![
            Method::read(1 << 20),
            Method::xmmap_map(),
            Method::xmmap_scan(SCAN, xmmap::ScanOptions::new()),
            Method::ceiling_mapped(),
        ];
        let s = compare(&section.title, std::slice::from_ref(input), &mut methods, &plan)?;
        section.measurements.extend(s.measurements);
        bar.inc(1);
    }
    bar.finish_and_clear();
    drop(inputs);
    drop(dir);

    let crossover = section.crossover(READ, MAP);
    let noisy = section.crossover_within_noise(READ, MAP);
    let machine = Machine::detect(std::slice::from_ref(&place));
    if let Some(path) = &args.svg {
        std::fs::write(path, svg(&section, crossover, &place.label()))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = json!({
            "machine": machine.to_string(),
            "place": place.label(),
            "sizes": sizes,
            "rounds": args.rounds,
            "methods": METHODS
                .iter()
                .map(|&m| (m.to_string(), json!(method::describe(m))))
                .collect::<serde_json::Map<_, _>>(),
            "units": {
                "size": "bytes",
                "median_ns": "nanoseconds per call (one call handles the whole file), median of the rounds",
                "min_ns": "nanoseconds per call, fastest round",
                "max_ns": "nanoseconds per call, slowest round",
                "gb_per_s": "file size / median_ns, 10^9 bytes per second",
            },
            "results": section.measurements.iter().map(|m| json!({
                "method": m.method, "size": m.size, "median_ns": m.median_ns,
                "min_ns": m.min_ns, "max_ns": m.max_ns, "gb_per_s": m.gb_per_s(),
            })).collect::<Vec<_>>(),
            "crossover_bytes": crossover,
            "crossover_within_noise": noisy,
            "ceiling": CEILING,
            "ceiling_gb_per_s": ceiling(&section),
            "elapsed_s": started.elapsed().as_secs_f64(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    write!(out, "{}", table(&section, &machine, &place.label(), args.rounds))?;
    writeln!(out, "{}", crossover_line(&section, crossover, noisy))?;
    if let Some(c) = ceiling(&section) {
        let at = size_label(section.sizes().last().copied().unwrap_or(0));
        writeln!(out, "ceiling: {c:.2} GB/s at {at} (the {CEILING} above)")?;
    }
    if let Some(path) = &args.svg {
        writeln!(out, "plot: {}", path.display())?;
    }
    writeln!(out, "elapsed: {:.1} s", started.elapsed().as_secs_f64())?;
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr; indicatif hides it when stderr is not a terminal.
fn progress(len: u64, msg: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:20} [{bar:40}] {percent:>3}% {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(msg.to_string());
    bar
}

/// The ceiling's throughput at the largest size measured: small sizes fit
/// in the CPU caches or measure call overhead, the largest measures memory.
fn ceiling(s: &Section) -> Option<f64> {
    let largest = *s.sizes().last()?;
    s.get(CEILING, largest).map(|m| m.gb_per_s())
}

/// The table: per size, each method's median time per file and GB/s, the
/// ceiling's GB/s and read/map; then what each column means.
fn table(s: &Section, machine: &Machine, place: &str, rounds: usize) -> String {
    const METHOD: usize = 20; // a method's two columns
    let mut t = String::new();
    let _ = writeln!(t, "{machine}");
    let _ = writeln!(t, "files in {place}, hot page cache; one call handles one whole file");
    let _ = writeln!(
        t,
        "time: median per call over {rounds} round(s); GB/s: file size / time (10^9 bytes/s)\n"
    );
    let _ = writeln!(
        t,
        "{:>8}  {READ:>METHOD$}  {MAP:>METHOD$}  {SCAN:>METHOD$}  {:>8}  {:>10}",
        "", "ceiling", "read/map"
    );
    let units = format!("{:>10}{:>10}", "time", "GB/s");
    let _ = writeln!(
        t,
        "{:>8}  {units}  {units}  {units}  {:>8}  {:>10}",
        "size", "GB/s", "time ratio"
    );
    for size in s.sizes() {
        let cell = |method: &str| {
            s.get(method, size).map_or_else(String::new, |m| {
                format!("{:>10}{:>10.2}", time_label(m.median_ns), m.gb_per_s())
            })
        };
        let ceiling =
            s.get(CEILING, size).map_or_else(String::new, |m| format!("{:.2}", m.gb_per_s()));
        let ratio = s.time_ratio(READ, MAP, size).map_or_else(String::new, |r| format!("{r:.2}"));
        let _ = writeln!(
            t,
            "{:>8}  {:>METHOD$}  {:>METHOD$}  {:>METHOD$}  {ceiling:>8}  {ratio:>10}",
            size_label(size),
            cell(READ),
            cell(MAP),
            cell(SCAN),
        );
    }
    let _ = writeln!(t, "\nEvery method runs the same xor kernel over every byte of the file:");
    for name in METHODS {
        let label = if name == CEILING { "ceiling" } else { name };
        let what = method::describe(name).unwrap_or("");
        let _ = writeln!(t, "  {label:<10}  {what}");
    }
    let _ = writeln!(
        t,
        "  (read() reads through a 1 MiB buffer; the ceiling is the {CEILING}, which runs \
         from the CPU caches for files that fit in them)"
    );
    let _ = writeln!(
        t,
        "read/map: time of {READ} / time of {MAP}, median of the per-round ratios; \
         above 1 the map is faster"
    );
    t
}

/// The crossover, read/map there and at the size below it, and whether it
/// is within the noise of the rounds.
fn crossover_line(s: &Section, crossover: Option<u64>, noisy: Option<bool>) -> String {
    let Some(c) = crossover else {
        return format!("crossover: {READ} wins at the largest size measured");
    };
    let mut line = format!("crossover: {MAP} beats {READ} from {} up;", size_label(c));
    let below = s.sizes().into_iter().rev().find(|&x| x < c);
    for size in [Some(c), below].into_iter().flatten() {
        if let (Some(r), Some((lo, hi))) =
            (s.time_ratio(READ, MAP, size), s.time_ratio_range(READ, MAP, size))
        {
            let _ = write!(line, " read/map {r:.2} at {} ({lo:.2} .. {hi:.2}),", size_label(size));
        }
    }
    line.pop();
    let _ = match noisy {
        Some(true) => write!(
            line,
            "; within noise (a round on the other side of 1, or closer than {:.0} %): another \
             run may put it a size lower or higher",
            NOISE * 100.0
        ),
        Some(false) => write!(line, "; beyond noise"),
        None => write!(line, "; fewer than 3 rounds: whether it is within noise is not known"),
    };
    line
}

/// Throughput against file size (log scale), one line per method, the
/// crossover marked.
fn svg(s: &Section, crossover: Option<u64>, place: &str) -> String {
    const W: f64 = 860.0;
    const H: f64 = 500.0;
    const L: f64 = 70.0;
    const R: f64 = 190.0;
    const T: f64 = 50.0;
    const B: f64 = 60.0;
    let sizes = s.sizes();
    let (lo, hi) = (sizes[0] as f64, *sizes.last().unwrap_or(&sizes[0]) as f64);
    let span = (hi.log2() - lo.log2()).max(1.0);
    let x = |size: f64| L + (size.log2() - lo.log2()) / span * (W - L - R);
    let top = s.measurements.iter().map(|m| m.gb_per_s()).fold(0.0, f64::max).max(0.1) * 1.1;
    let y = |gbs: f64| H - B - gbs / top * (H - T - B);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{L}" y="25" font-size="15">xmmap bench: throughput against file size ({})</text>"#,
        xml(place)
    );
    // Axes, grid and labels.
    let _ = writeln!(
        out,
        r##"<line x1="{L}" y1="{}" x2="{}" y2="{}" stroke="#333"/><line x1="{L}" y1="{T}" x2="{L}" y2="{}" stroke="#333"/>"##,
        H - B,
        W - R,
        H - B,
        H - B
    );
    for i in 0..=5 {
        let v = top / 5.0 * f64::from(i);
        let yy = y(v);
        let _ = writeln!(
            out,
            r##"<line x1="{L}" y1="{yy:.1}" x2="{}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{v:.1}</text>"##,
            W - R,
            L - 6.0,
            yy + 4.0
        );
    }
    for &size in &sizes {
        let xx = x(size as f64);
        let _ = writeln!(
            out,
            r##"<line x1="{xx:.1}" y1="{}" x2="{xx:.1}" y2="{}" stroke="#333"/><text x="{xx:.1}" y="{}" text-anchor="middle">{}</text>"##,
            H - B,
            H - B + 5.0,
            H - B + 20.0,
            xml(&size_label(size))
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">file size</text><text x="18" y="{}" transform="rotate(-90 18 {})" text-anchor="middle">GB/s</text>"#,
        L + (W - L - R) / 2.0,
        H - 15.0,
        T + (H - T - B) / 2.0,
        T + (H - T - B) / 2.0
    );
    if let Some(c) = crossover {
        let xx = x(c as f64);
        let _ = writeln!(
            out,
            r##"<line x1="{xx:.1}" y1="{T}" x2="{xx:.1}" y2="{}" stroke="#888" stroke-dasharray="6 4"/><text x="{:.1}" y="{}" fill="#555">crossover {}</text>"##,
            H - B,
            xx + 4.0,
            T + 12.0,
            xml(&size_label(c))
        );
    }
    let colors = ["#d62728", "#1f77b4", "#2ca02c", "#7f7f7f", "#9467bd", "#ff7f0e"];
    for (i, method) in s.methods().iter().enumerate() {
        let color = colors[i % colors.len()];
        let points: Vec<String> = sizes
            .iter()
            .filter_map(|&size| s.get(method, size))
            .map(|m| format!("{:.1},{:.1}", x(m.size as f64), y(m.gb_per_s())))
            .collect();
        let dash = if method == CEILING { r#" stroke-dasharray="2 3""# } else { "" };
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"/>"#,
            points.join(" ")
        );
        let ly = T + 20.0 * i as f64;
        let _ = writeln!(
            out,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            W - R + 15.0,
            W - R + 40.0,
            W - R + 46.0,
            ly + 4.0,
            xml(method)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
