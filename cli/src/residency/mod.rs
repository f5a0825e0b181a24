//! `xmmap residency`: what of files is in the page cache, and moving it in
//! (`--touch`), out (`--evict`) or locking it (`--lock`, `-d`) — vmtouch's
//! and fincore's jobs, with their spellings.
//!
//! - `walk`: which files (PATHs, `-` and `-b` lists, the tree walk and its
//!   filters).
//! - `table`: fincore's columns, table, raw and JSON shapes.
//! - `daemon`: `-d`, a detached copy that locks and stays.
//!
//! Each file is opened, acted on, measured and closed before the next, so
//! a tree of any size needs a handful of descriptors. A block device is
//! measured through a map of it (the library counts regular files only).

use std::fs::{File, Metadata};
use std::io::{IsTerminal, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use xmmap::residency::{
    cache_counts, evict_file, of_file, of_file_pages, populate_file, CacheCounts, Residency,
};
use xmmap::ErrorKind;

use crate::Globals;

mod daemon;
mod table;
mod walk;

use table::{Column, Output, Style};

/// Arguments of `xmmap residency`.
#[derive(clap::Args)]
#[command(disable_help_flag = true)]
#[command(group(clap::ArgGroup::new("action").args(["touch", "evict", "lock"])))]
#[command(group(clap::ArgGroup::new("hold").args(["lock", "daemon"]).multiple(true)))]
pub(crate) struct Args {
    /// Load the files' pages into the page cache (and wait until they are);
    /// a progress bar on a terminal.
    #[arg(short = 't', long)]
    touch: bool,

    /// Drop the files' pages from the page cache (dirty pages stay until
    /// written back); a progress bar on a terminal.
    #[arg(short = 'e', long)]
    evict: bool,

    /// Lock the files' pages into memory and hold them until Ctrl-C; fails
    /// without holding anything when no file could be locked.
    #[arg(short = 'l', long)]
    lock: bool,

    /// Daemon: lock the pages (as -l) in a detached process that stays
    /// until killed; it exits with an error when nothing could be locked.
    #[arg(short = 'd', long, conflicts_with_all = ["touch", "evict", "watch"])]
    daemon: bool,

    /// With -d: return only once every page is locked, with the summary (or
    /// the daemon's error and status).
    #[arg(short = 'w', long, requires = "daemon")]
    wait: bool,

    /// Write the pid of the process holding the locked pages to PIDFILE
    /// (with -l or -d); SIGTERM, SIGINT and SIGQUIT remove it and exit 0.
    #[arg(short = 'P', long, value_name = "PIDFILE", requires = "hold")]
    pidfile: Option<PathBuf>,

    /// Descend into directories.
    #[arg(short = 'r', long)]
    recursive: bool,

    /// Follow symbolic links (default: they are skipped); loops are
    /// detected and not followed.
    #[arg(short = 'f', long)]
    follow: bool,

    /// Do not descend into directories on other file systems.
    #[arg(short = 'F', long = "one-file-system")]
    one_file_system: bool,

    /// Count every hard link of a file (default: an inode counts once).
    #[arg(short = 'h', long = "hard-links")]
    hard_links: bool,

    /// Skip files and directories whose name matches PATTERN (a shell glob:
    /// *, ?, [a-z]); repeatable.
    #[arg(short = 'i', long, value_name = "PATTERN")]
    ignore: Vec<String>,

    /// Only files whose name matches PATTERN (directories are still
    /// descended); repeatable.
    #[arg(short = 'I', long, value_name = "PATTERN")]
    include: Vec<String>,

    /// Read more paths from FILE (`-`: stdin), one a line, as they come.
    #[arg(short = 'b', long, value_name = "FILE")]
    batch: Option<PathBuf>,

    /// Paths in -b lists and on stdin are separated by NUL bytes (find
    /// -print0), not newlines.
    #[arg(short = '0', long = "null")]
    null: bool,

    /// Skip files larger than SIZE (k/m/g/t suffixes, a fraction as 1.5g):
    /// each is named on stderr and counted in Files, as vmtouch does, but
    /// not measured.
    #[arg(short = 'm', long = "max-size", value_name = "SIZE", value_parser = parse_size)]
    max_size: Option<u64>,

    /// Only this byte range of each file: START-END, START- or -END
    /// (sizes as -m), e.g. 4k-1m or -1.5g.
    #[arg(short = 'p', long = "range", value_name = "RANGE", value_parser = parse_range,
          allow_hyphen_values = true)]
    range: Option<(u64, Option<u64>)>,

    /// `json` (vmtouch's -o json, as --json), or fincore's columns as a
    /// comma-separated LIST: RES, PAGES, SIZE, FILE and, where the kernel
    /// has cachestat(2) (Linux 6.5), DIRTY, WRITEBACK, EVICTED,
    /// RECENTLY_EVICTED (bytes) and DIRTY_PAGES, WRITEBACK_PAGES,
    /// EVICTED_PAGES, RECENTLY_EVICTED_PAGES; `-` where it has not.
    #[arg(short = 'o', long, value_name = "LIST", value_parser = table::parse_output)]
    output: Option<Output>,

    /// Print the figures as JSON: totals and per-file rows; in fincore's
    /// shape ({"fincore": [...]}) with --output columns, --bytes or --raw.
    #[arg(short = 'J', long)]
    json: bool,

    /// fincore's table: sizes in bytes, not 4K, 97.7K.
    #[arg(long)]
    bytes: bool,

    /// fincore's table without the heading line.
    #[arg(short = 'n', long)]
    noheadings: bool,

    /// fincore's table unaligned: one space between values, spaces in
    /// names as \x20.
    #[arg(long)]
    raw: bool,

    /// Show each file with a bar of its resident pages.
    #[arg(short = 'v', long, conflicts_with = "quiet")]
    verbose: bool,

    /// No summary and no notes (skipped links, FIFOs, files over -m);
    /// warnings about paths that could not be read still go to stderr.
    #[arg(short = 'q', long)]
    quiet: bool,

    /// Measure again every SECS seconds and redraw, until Ctrl-C or until
    /// stdout is closed.
    #[arg(long, value_name = "SECS", value_parser = parse_secs, conflicts_with = "action")]
    watch: Option<Duration>,

    /// The N files with the most resident bytes, largest first (fincore's
    /// table), then the summary.
    #[arg(long, value_name = "N")]
    top: Option<usize>,

    /// Print help (-h is vmtouch's hard-link option).
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,

    /// Files, directories and block devices; `-` reads paths from stdin, as
    /// -b -.
    #[arg(required_unless_present = "batch", value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// vmtouch's sizes: decimal digits with an optional fraction and a k, m, g
/// or t suffix (`4096`, `4k`, `100M`, `1.5G`); what is left of a byte is
/// dropped, as vmtouch's conversion to an integer does.
fn parse_size(s: &str) -> Result<u64, String> {
    let Some((whole, rest)) = s.split_once('.') else {
        return crate::parse_size(s);
    };
    let bad = || {
        format!(
            "invalid size {s:?}: decimal digits with an optional fraction and k, m, g or t \
             suffix, e.g. 4k or 1.5g"
        )
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (frac, suffix) = rest.split_at(digits);
    if !whole.bytes().all(|b| b.is_ascii_digit()) || (whole.is_empty() && frac.is_empty()) {
        return Err(bad());
    }
    let unit = u128::from(crate::parse_size(&format!("1{suffix}")).map_err(|_| bad())?);
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    // 19 digits are finer than a byte at any unit up to t (2^40).
    let frac = &frac[..frac.len().min(19)];
    let tenths: u128 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
    let scale = 10u128.pow(frac.len() as u32);
    whole
        .checked_mul(unit)
        .and_then(|w| w.checked_add(tenths * unit / scale))
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| format!("invalid size {s:?}: larger than {} bytes", u64::MAX))
}

/// `START-END`, `START-`, `-END` or `START` (to the end).
fn parse_range(s: &str) -> Result<(u64, Option<u64>), String> {
    let size = parse_size;
    if s.matches('-').count() > 1 {
        return Err(format!("range {s:?} has more than one '-': give START-END"));
    }
    let (start, end) = match s.split_once('-') {
        Some((a, b)) => (
            if a.is_empty() { 0 } else { size(a)? },
            if b.is_empty() { None } else { Some(size(b)?) },
        ),
        None => (size(s)?, None),
    };
    match end {
        Some(e) if e < start => Err(format!("range {s:?} ends before it starts")),
        Some(e) => Ok((start, Some(e - start))),
        None => Ok((start, None)),
    }
}

/// Seconds, more than 0 (fractions allowed).
fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v < 1e9 => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("invalid interval {s:?}: give seconds above 0, e.g. 2 or 0.5")),
    }
}

/// One file's figures.
pub(crate) struct Row {
    path: PathBuf,
    size: u64,
    residency: Residency,
    /// cachestat's counts, where the kernel has the call.
    cache: Option<CacheCounts>,
}

/// What one pass over the paths found.
#[derive(Default)]
struct Pass {
    /// Per-file rows, kept only when an output needs them.
    rows: Vec<Row>,
    /// Files measured.
    measured: u64,
    directories: u64,
    /// Files over -m: counted in Files, not measured.
    too_large: u64,
    resident: u64,
    total: u64,
    locked: Vec<xmmap::MapRaw>,
    /// Pages of the files whose lock succeeded: what --lock reports.
    locked_pages: u64,
    problems: Vec<String>,
    elapsed: f64,
    /// The pass stopped early: stdout's reader went away.
    stdout_closed: bool,
}

/// Notes and warnings, printed as they come (above a progress bar).
struct Messages {
    bar: ProgressBar,
    quiet: bool,
    problems: Vec<String>,
}

impl walk::Log for Messages {
    fn note(&mut self, msg: String) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("xmmap: {}", crate::printable(&msg)));
        }
    }

    fn warn(&mut self, msg: String) {
        self.bar.suspend(|| eprintln!("xmmap: warning: {}", crate::printable(&msg)));
        self.problems.push(msg);
    }
}

/// What is printed.
enum Format {
    /// vmtouch's summary (with -v bars).
    Summary,
    /// Totals and per-file rows as JSON.
    Json,
    /// fincore's table or JSON.
    Table(Vec<Column>),
}

fn format(args: &Args) -> Format {
    match &args.output {
        Some(Output::Json) => Format::Json,
        Some(Output::Columns(c)) => Format::Table(c.clone()),
        None if args.bytes || args.raw || args.noheadings => Format::Table(table::DEFAULT.to_vec()),
        None if args.json => Format::Json,
        None => Format::Summary,
    }
}

pub(crate) fn run(args: &Args, globals: &Globals) -> Result<ExitCode> {
    let limit = globals.limit.clone().map_err(anyhow::Error::msg)?;
    if args.daemon && !daemon::is_child() {
        let from_stdin = args.paths.iter().chain(&args.batch).any(|p| p.as_os_str() == "-");
        return daemon::start(args.wait, from_stdin);
    }
    let mut roots = walk::Inputs::new(&args.paths, args.batch.as_deref(), args.null);
    if let Some(every) = args.watch {
        // Each pass walks the same roots: the lists are read once.
        let roots = roots.collect::<Result<Vec<_>>>()?;
        return watch(args, &roots, limit, every);
    }
    let pass = measure(args, &mut roots, limit)?;
    if pass.stdout_closed {
        return Ok(ExitCode::SUCCESS);
    }
    let holds = args.lock || args.daemon;
    // As vmtouch: a lock that took nothing is an error, not a report of
    // pages that merely happen to be resident, and nothing is held. A
    // daemon holding nothing would stay for nothing.
    if holds && pass.locked.is_empty() && (args.daemon || !pass.problems.is_empty()) {
        let flag = if args.daemon { "-d" } else { "--lock" };
        anyhow::bail!(
            "residency {flag}: nothing could be locked ({} failure(s) above)",
            pass.problems.len()
        );
    }
    let mut out = std::io::stdout().lock();
    print(&mut out, args, &pass)?;
    out.flush()?;
    drop(out);
    if !pass.locked.is_empty() {
        if !daemon::is_child() {
            eprintln!(
                "xmmap: holding {} locked file(s); press Ctrl-C to release",
                pass.locked.len()
            );
        }
        return daemon::hold(args.pidfile.as_deref());
    }
    Ok(if pass.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// `--watch`: measure, redraw, sleep; ends with success when stdout is
/// closed (a reader that went away), by Ctrl-C's default action otherwise.
fn watch(args: &Args, roots: &[PathBuf], limit: xmmap::Limit, every: Duration) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    loop {
        let pass = measure(args, &mut roots.iter().cloned().map(Ok), limit)?;
        let mut out = stdout.lock();
        if terminal {
            // Home and clear: redraw in place.
            write!(out, "\x1b[H\x1b[2J")?;
        }
        print(&mut out, args, &pass)?;
        if !terminal {
            writeln!(out)?;
        }
        out.flush()?;
        drop(out);
        if stdout_closed(every)? {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

/// Waits `every` and says whether stdout's reader went away meanwhile
/// (poll reports POLLERR or POLLHUP on the write end of a closed pipe).
fn stdout_closed(every: Duration) -> Result<bool> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let deadline = Instant::now() + every;
    let stdout = std::io::stdout();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        let timeout = Timespec {
            tv_sec: left.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: left.subsec_nanos().into(),
        };
        let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
        match poll(&mut fds, Some(&timeout)) {
            Ok(_) if fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP) => {
                return Ok(true)
            }
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(std::io::Error::from(e)).context("--watch: poll on stdout"),
        }
    }
}

/// Whether stdout's reader went away (POLLERR or POLLHUP on the write end
/// of a closed pipe), without waiting.
fn stdout_gone() -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let stdout = std::io::stdout();
    let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
    let now = Timespec { tv_sec: 0, tv_nsec: 0 };
    poll(&mut fds, Some(&now)).is_ok()
        && fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP)
}

/// One pass: walk every root, act on and measure each file.
fn measure(
    args: &Args,
    roots: &mut dyn Iterator<Item = Result<PathBuf>>,
    limit: xmmap::Limit,
) -> Result<Pass> {
    let started = Instant::now();
    let moving = args.touch || args.evict;
    let bar = if moving && !args.quiet && std::io::stderr().is_terminal() {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {pos} files {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(Duration::from_millis(100));
        b
    } else {
        ProgressBar::hidden()
    };
    let mut log = Messages { bar: bar.clone(), quiet: args.quiet, problems: Vec::new() };
    let filters = walk::Filters {
        recursive: args.recursive,
        follow: args.follow,
        one_file_system: args.one_file_system,
        hard_links: args.hard_links,
        ignore: &args.ignore,
        include: &args.include,
        max_size: args.max_size,
    };
    // -v alone prints each file's bar as it is measured, as vmtouch does,
    // and keeps no row: a list that never ends runs in bounded memory.
    let keep_rows = if streams_rows(args) {
        Rows::Stream
    } else if args.verbose
        || args.json
        || args.top.is_some()
        || !matches!(format(args), Format::Summary)
    {
        Rows::Keep
    } else {
        Rows::Drop
    };
    let mut pass = Pass::default();
    let mut fatal = None;
    let mut walker = walk::Walker::default();
    for (n, root) in roots.enumerate() {
        // A list from stdin may never end: stop when stdout's reader has
        // gone (nobody is left to read the figures), as --watch does.
        if n % 1024 == 1023 && stdout_gone() {
            bar.finish_and_clear();
            pass.stdout_closed = true;
            return Ok(pass);
        }
        let root = root?;
        walker.walk(&root, &filters, &mut log, &mut |path, meta, log| {
            if fatal.is_some() {
                return;
            }
            if let Err(e) = one_file(args, limit, path, meta, keep_rows, &mut pass, log) {
                fatal = Some(e);
            }
            bar.inc(1);
            if moving {
                bar.set_message(short(pass.total * xmmap::page_size() as u64));
            }
        });
        if let Some(e) = fatal {
            bar.finish_and_clear();
            return Err(e);
        }
    }
    bar.finish_and_clear();
    pass.directories = walker.directories;
    pass.too_large = walker.too_large;
    pass.problems = log.problems;
    pass.elapsed = started.elapsed().as_secs_f64();
    Ok(pass)
}

/// Opens, acts on, locks and measures one file; a refusal by the mapping
/// limit is the only error, the rest are warnings.
fn one_file(
    args: &Args,
    limit: xmmap::Limit,
    path: &Path,
    meta: &Metadata,
    keep_rows: Rows,
    pass: &mut Pass,
    log: &mut dyn walk::Log,
) -> Result<()> {
    // O_NONBLOCK: a file swapped for a FIFO after the walk looked at it
    // must not block the open.
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) => {
            log.warn(format!("{}: {e}", path.display()));
            return Ok(());
        }
    };
    // A block device has no st_size: its size is where its end is, as
    // vmtouch's BLKGETSIZE64.
    let device = meta.file_type().is_block_device();
    let size = if device {
        match (&file).seek(SeekFrom::End(0)) {
            Ok(s) => s,
            Err(e) => {
                log.warn(format!("{}: cannot find the size of the device: {e}", path.display()));
                return Ok(());
            }
        }
    } else {
        meta.len()
    };
    let (offset, len) = args.range.unwrap_or((0, None));
    let action = if args.touch && device {
        map_range(&file, offset, len, size, limit).and_then(|m| m.map_or(Ok(()), |m| m.populate()))
    } else if args.touch {
        populate_file(&file, offset, len)
    } else if args.evict {
        evict_file(&file, offset, len)
    } else {
        Ok(())
    };
    if let Err(e) = action {
        fatal_if_limit(&e)?;
        let what = match e.kind() {
            ErrorKind::Truncated { .. } => "truncated while being touched",
            _ => "failed",
        };
        log.warn(format!("{}: {what}: {e}", path.display()));
    }
    let mut is_locked = false;
    if args.lock || args.daemon {
        match lock(&file, offset, len, size, limit) {
            Ok(Some(map)) => {
                pass.locked.push(map);
                is_locked = true;
            }
            Ok(None) => {}
            Err(e) => {
                fatal_if_limit(&e)?;
                log.warn(format!("{}: cannot lock (mlock): {e}", path.display()));
            }
        }
    }
    let measured = if device {
        // The library sizes files by st_size, so it counts regular files
        // only; a map of the device sees the device's page cache.
        map_range(&file, offset, len, size, limit)
            .and_then(|m| m.map(|m| m.residency()).transpose())
    } else if args.verbose {
        of_file_pages(&file, offset, len).map(Some)
    } else {
        of_file(&file, offset, len).map(Some)
    };
    match measured {
        // A device range past its end: counted, nothing to measure.
        Ok(None) => pass.measured += 1,
        Ok(Some(residency)) => {
            if is_locked {
                pass.locked_pages += residency.total_pages();
            }
            pass.measured += 1;
            pass.resident += residency.resident_pages();
            pass.total += residency.total_pages();
            if keep_rows == Rows::Stream {
                write_bar(&mut std::io::stdout().lock(), path, &residency)?;
            } else if keep_rows == Rows::Keep {
                // -v measures with mincore (for the bars), which has no
                // cachestat counts: ask for them when a column shows them.
                let wants_cache = matches!(&args.output,
                    Some(Output::Columns(c)) if c.iter().any(|c| c.is_cachestat()));
                let cache = residency.cache_counts().or_else(|| {
                    wants_cache.then(|| cache_counts(&file, offset, len).ok()).flatten()
                });
                pass.rows.push(Row { path: path.to_path_buf(), size, residency, cache });
                // --top N needs only the N largest so far: prune now and
                // then, so that an endless list keeps at most 2N rows.
                if let Some(n) = args.top {
                    if pass.rows.len() > 2 * n.max(1) {
                        pass.rows.sort_by(most_resident_first);
                        pass.rows.truncate(n);
                    }
                }
            }
        }
        Err(e) => {
            fatal_if_limit(&e)?;
            log.warn(format!("{}: {e}", path.display()));
        }
    }
    Ok(())
}

/// Which per-file rows a pass keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// None: no output shows them.
    Drop,
    /// Every row (or, with --top N, the N largest so far and at most as
    /// many more), for an output written at the end.
    Keep,
    /// None: each is printed as it is measured (-v alone).
    Stream,
}

/// Whether the rows are -v's bars and nothing else needs them: printed
/// as they come, as vmtouch prints them, instead of kept to the end.
/// Not under --watch, which redraws a whole pass at once.
fn streams_rows(args: &Args) -> bool {
    args.verbose
        && !args.quiet
        && args.top.is_none()
        && args.watch.is_none()
        && matches!(format(args), Format::Summary)
}

/// --top's order: most resident bytes first, then by path.
fn most_resident_first(a: &Row, b: &Row) -> std::cmp::Ordering {
    b.residency.resident_bytes().cmp(&a.residency.resident_bytes()).then(a.path.cmp(&b.path))
}

/// Writes the pass as asked: summary, JSON or fincore's table, with --top.
fn print(out: &mut dyn Write, args: &Args, pass: &Pass) -> Result<()> {
    let mut rows: Vec<&Row> = pass.rows.iter().collect();
    if let Some(n) = args.top {
        rows.sort_by(|a, b| most_resident_first(a, b));
        rows.truncate(n);
    }
    let style = Style { bytes: args.bytes, headings: !args.noheadings, raw: args.raw };
    match format(args) {
        Format::Table(cols) if args.json => {
            write!(out, "{}", table::json(&rows, &cols, args.bytes))?;
        }
        Format::Table(cols) => table::write_table(out, &rows, &cols, &style)?,
        Format::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(&totals_json(args, pass, &rows))?)?
        }
        Format::Summary => {
            if args.quiet {
                return Ok(());
            }
            if args.top.is_some() {
                table::write_table(out, &rows, &table::DEFAULT, &style)?;
                writeln!(out)?;
            }
            summary(out, args, pass, &rows)?;
        }
    }
    Ok(())
}

fn totals_json(args: &Args, pass: &Pass, rows: &[&Row]) -> serde_json::Value {
    let page = xmmap::page_size() as u64;
    let resident = if args.lock || args.daemon { pass.locked_pages } else { pass.resident };
    json!({
        "files": pass.measured + pass.too_large,
        "directories": pass.directories,
        "too_large": pass.too_large,
        "page_size": page,
        "resident_pages": resident,
        "total_pages": pass.total,
        "resident_bytes": resident * page,
        "total_bytes": pass.total * page,
        "action": action_name(args),
        "elapsed_s": pass.elapsed,
        "per_file": rows.iter().map(|r| json!({
            "path": r.path.display().to_string(),
            "size": r.size,
            "resident_pages": r.residency.resident_pages(),
            "total_pages": r.residency.total_pages(),
            "pages": r.residency.pages().map(|b| b.iter().map(u8::from).collect::<Vec<_>>()),
        })).collect::<Vec<_>>(),
        "warnings": pass.problems,
    })
}

/// One file's -v lines: its path, then its bar.
fn write_bar(out: &mut dyn Write, path: &Path, residency: &Residency) -> Result<()> {
    writeln!(out, "{}", path.display())?;
    writeln!(out, "{}", bar(residency))?;
    Ok(())
}

/// vmtouch's summary, after its -v bars.
fn summary(out: &mut dyn Write, args: &Args, pass: &Pass, rows: &[&Row]) -> Result<()> {
    let page = xmmap::page_size() as u64;
    if args.verbose {
        for r in rows {
            write_bar(out, &r.path, &r.residency)?;
        }
        writeln!(out)?;
    }
    let resident = if args.lock || args.daemon { pass.locked_pages } else { pass.resident };
    let total = pass.total;
    let pct = if total == 0 { 0.0 } else { resident as f64 * 100.0 / total as f64 };
    writeln!(out, "{:>16}: {}", "Files", pass.measured + pass.too_large)?;
    writeln!(out, "{:>16}: {}", "Directories", pass.directories)?;
    let label = match action_name(args) {
        "touch" => "Touched Pages",
        "lock" => "Locked Pages",
        _ => "Resident Pages",
    };
    writeln!(
        out,
        "{:>16}: {resident}/{total}  {}/{}  {}%",
        label,
        short(resident * page),
        short(total * page),
        three_digits(pct)
    )?;
    writeln!(out, "{:>16}: {:.6} seconds", "Elapsed", pass.elapsed)?;
    Ok(())
}

fn action_name(args: &Args) -> &'static str {
    if args.touch {
        "touch"
    } else if args.evict {
        "evict"
    } else if args.lock || args.daemon {
        "lock"
    } else {
        "query"
    }
}

/// A refusal by the mapping limit is git's fatal error, not a warning.
fn fatal_if_limit(e: &xmmap::Error) -> Result<()> {
    match e.kind() {
        ErrorKind::LimitExceeded { .. } | ErrorKind::BadLimit => Err(anyhow::anyhow!("{e}")),
        _ => Ok(()),
    }
}

/// Maps the range read-only and locks it into memory.
fn lock(
    file: &File,
    offset: u64,
    len: Option<u64>,
    size: u64,
    limit: xmmap::Limit,
) -> Result<Option<xmmap::MapRaw>, xmmap::Error> {
    let map = map_range(file, offset, len, size, limit)?;
    if let Some(m) = &map {
        m.lock()?;
    }
    Ok(map)
}

/// Maps `offset..offset + len` (`None`: to `size`) of `file` read-only,
/// cut to `size`; `None` when nothing of it is left.
fn map_range(
    file: &File,
    offset: u64,
    len: Option<u64>,
    size: u64,
    limit: xmmap::Limit,
) -> Result<Option<xmmap::MapRaw>, xmmap::Error> {
    let start = offset.min(size);
    let end = len.map_or(size, |l| offset.saturating_add(l).min(size));
    if start >= end {
        return Ok(None);
    }
    // Past usize the library refuses the length with a clear error.
    let len = usize::try_from(end - start).unwrap_or(usize::MAX);
    let map =
        xmmap::MapOptions::new().offset(start).len(len).limit(limit).map_raw_read_only(file)?;
    Ok(Some(map))
}

/// vmtouch's bar: 60 cells, `O` all resident, `o` some, ` ` none.
fn bar(r: &Residency) -> String {
    const CELLS: usize = 60;
    let total = r.total_pages() as usize;
    let Some(bits) = r.pages() else {
        return format!("[{}] {}/{}", " ".repeat(CELLS), r.resident_pages(), total);
    };
    let cells = CELLS.min(total.max(1));
    let mut s = String::with_capacity(cells + 2);
    s.push('[');
    for c in 0..cells {
        let (lo, hi) = (c * total / cells, ((c + 1) * total / cells).max(c * total / cells + 1));
        let n = bits.count_resident_in(lo, hi.min(total));
        s.push(if n == 0 {
            ' '
        } else if n as usize == hi.min(total) - lo {
            'O'
        } else {
            'o'
        });
    }
    s.push(']');
    format!("{s} {}/{}", r.resident_pages(), total)
}

/// A percentage with three significant digits, as C's `%.3g` (vmtouch).
fn three_digits(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Sizes as vmtouch prints them (`pretty_print_size`): whole units,
/// truncated, up to G: 12, 4K, 166M, 6G.
fn short(n: u64) -> String {
    let mut v = n;
    for unit in ["", "K", "M"] {
        if v < 1024 {
            return format!("{v}{unit}");
        }
        v /= 1024;
    }
    format!("{v}G")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_like_vmtouch() {
        assert_eq!(parse_range("4k-1m"), Ok((4096, Some((1 << 20) - 4096))));
        assert_eq!(parse_range("10k-"), Ok((10240, None)));
        assert_eq!(parse_range("-3g"), Ok((0, Some(3 << 30))));
        assert_eq!(parse_range("4096"), Ok((4096, None)));
        assert!(parse_range("2m-1m").is_err());
        assert!(parse_range("x-").is_err());
        // Regression: vmtouch's fractions (its own example, 1.5G) and
        // leading zeros were refused or misread.
        assert_eq!(parse_range("010k-020k"), Ok((10240, Some(10240))));
        assert_eq!(parse_range("-1.5k"), Ok((0, Some(1536))));
        assert!(parse_range("1k-2k-3k").unwrap_err().contains("more than one '-'"));
    }

    #[test]
    fn sizes_take_vmtouch_fractions() {
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("0.5k"), Ok(512));
        assert_eq!(parse_size(".5k"), Ok(512));
        assert_eq!(parse_size("1.0001"), Ok(1));
        assert_eq!(parse_size("005k"), Ok(5120));
        assert!(parse_size("1.5q").is_err());
        assert!(parse_size(".").is_err());
        assert!(parse_size("1.2.3").is_err());
        assert!(parse_size("16777216.5t").unwrap_err().contains("larger than"));
    }

    #[test]
    fn percentages_like_printf_3g() {
        assert_eq!(three_digits(100.0), "100");
        assert_eq!(three_digits(37.5), "37.5");
        assert_eq!(three_digits(33.333_333), "33.3");
        assert_eq!(three_digits(0.0), "0");
        assert_eq!(three_digits(1.234_56), "1.23");
    }

    #[test]
    fn short_sizes() {
        assert_eq!(short(10 << 20), "10M");
        // Regression: 6.34 GiB printed "6.34G" (and 1536 "1.50K") where
        // vmtouch prints "6G" ("1K").
        assert_eq!(short(1536), "1K");
        assert_eq!(short(6_808_000_000), "6G");
        assert_eq!(short(174_000_000), "165M");
        assert_eq!(short(3 << 40), "3072G");
        assert_eq!(short(12), "12");
    }
}
