//! `xmmap residency`: what of files is in the page cache, and moving it in
//! (`--touch`), out (`--evict`) or locking it (`--lock`) — vmtouch's job.

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;
use xmmap::residency::{evict_file, of_file, of_file_pages, populate_file, Residency};
use xmmap::ErrorKind;

use crate::Globals;

/// Arguments of `xmmap residency`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("action").args(["touch", "evict", "lock"])))]
pub(crate) struct Args {
    /// Load the files' pages into the page cache (and wait until they are).
    #[arg(short = 't', long)]
    touch: bool,

    /// Drop the files' pages from the page cache (dirty pages stay until
    /// written back).
    #[arg(short = 'e', long)]
    evict: bool,

    /// Lock the files' pages into memory and hold them until Ctrl-C; fails
    /// without holding anything when no file could be locked.
    #[arg(short = 'l', long)]
    lock: bool,

    /// Descend into directories.
    #[arg(short = 'r', long)]
    recursive: bool,

    /// Follow symbolic links (default: they are skipped).
    #[arg(short = 'f', long)]
    follow: bool,

    /// Skip files larger than SIZE (k/m/g suffixes).
    #[arg(short = 'm', long = "max-size", value_name = "SIZE", value_parser = crate::parse_size)]
    max_size: Option<u64>,

    /// Only this byte range of each file: START-END, START- or -END
    /// (k/m/g suffixes), e.g. 4k-1m.
    #[arg(short = 'p', long = "range", value_name = "RANGE", value_parser = parse_range)]
    range: Option<(u64, Option<u64>)>,

    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,

    /// Show each file with a bar of its resident pages.
    #[arg(short = 'v', long)]
    verbose: bool,

    /// Files and directories.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// `START-END`, `START-`, `-END` or `START` (to the end).
fn parse_range(s: &str) -> Result<(u64, Option<u64>), String> {
    let size = crate::parse_size;
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

/// One file's figures.
struct FileReport {
    path: PathBuf,
    size: u64,
    residency: Residency,
}

#[derive(Default)]
struct Walk {
    files: Vec<(PathBuf, File, u64)>,
    directories: u64,
    skipped: Vec<String>,
    /// Skipped by policy (symbolic links without -f): said, not an error.
    notes: Vec<String>,
    seen: HashSet<(u64, u64)>,
}

impl Walk {
    fn visit(&mut self, path: &Path, args: &Args, top: bool) {
        let meta =
            if args.follow { std::fs::metadata(path) } else { std::fs::symlink_metadata(path) };
        let meta = match meta {
            Ok(m) => m,
            Err(e) => return self.skipped.push(format!("{}: {e}", path.display())),
        };
        if meta.file_type().is_symlink() {
            return self
                .notes
                .push(format!("{}: symbolic link not followed (use -f)", path.display()));
        }
        if meta.is_dir() {
            if !args.recursive && !top {
                return;
            }
            if !args.recursive {
                return self.skipped.push(format!("{}: is a directory (use -r)", path.display()));
            }
            if crate::platform::file_id(&meta).is_some_and(|id| !self.seen.insert(id)) {
                return;
            }
            self.directories += 1;
            let entries = match std::fs::read_dir(path) {
                Ok(e) => e,
                Err(e) => return self.skipped.push(format!("{}: {e}", path.display())),
            };
            let mut children: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            children.sort();
            for child in children {
                self.visit(&child, args, false);
            }
            return;
        }
        if !meta.is_file() {
            return self.skipped.push(format!("{}: not a regular file", path.display()));
        }
        if args.max_size.is_some_and(|m| meta.len() > m) {
            return;
        }
        // Hard links are one file.
        if crate::platform::file_id(&meta).is_some_and(|id| !self.seen.insert(id)) {
            return;
        }
        match File::open(path) {
            Ok(f) => self.files.push((path.to_path_buf(), f, meta.len())),
            Err(e) => self.skipped.push(format!("{}: {e}", path.display())),
        }
    }
}

pub(crate) fn run(args: &Args, globals: &Globals) -> Result<ExitCode> {
    let limit = globals.limit.clone().map_err(anyhow::Error::msg)?;
    let started = Instant::now();
    let mut walk = Walk::default();
    for p in &args.paths {
        walk.visit(p, args, true);
    }
    let (offset, len) = args.range.unwrap_or((0, None));
    let mut reports = Vec::new();
    let mut problems = std::mem::take(&mut walk.skipped);
    let mut locked = Vec::new();
    // Pages of the files whose lock succeeded: what --lock reports.
    let mut locked_pages = 0;
    for (path, file, size) in &walk.files {
        let action = if args.touch {
            populate_file(file, offset, len)
        } else if args.evict {
            evict_file(file, offset, len)
        } else {
            Ok(())
        };
        if let Err(e) = action {
            fatal_if_limit(&e)?;
            let what = match e.kind() {
                ErrorKind::Truncated { .. } => "truncated while being touched",
                _ => "failed",
            };
            problems.push(format!("{}: {what}: {e}", path.display()));
        }
        let mut is_locked = false;
        if args.lock {
            match lock(file, offset, len, *size, limit) {
                Ok(Some(map)) => {
                    locked.push(map);
                    is_locked = true;
                }
                Ok(None) => {}
                Err(e) => {
                    fatal_if_limit(&e)?;
                    problems.push(format!("{}: cannot lock (mlock): {e}", path.display()));
                }
            }
        }
        let measured = if args.verbose {
            of_file_pages(file, offset, len)
        } else {
            of_file(file, offset, len)
        };
        match measured {
            Ok(residency) => {
                if is_locked {
                    locked_pages += residency.total_pages();
                }
                reports.push(FileReport { path: path.clone(), size: *size, residency })
            }
            Err(e) => {
                fatal_if_limit(&e)?;
                problems.push(format!("{}: {e}", path.display()));
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    for n in &walk.notes {
        eprintln!("xmmap: {n}");
    }
    for p in &problems {
        eprintln!("xmmap: warning: {p}");
    }
    // As vmtouch: a lock that took nothing is an error, not a report of
    // pages that merely happen to be resident, and nothing is held.
    if args.lock && locked.is_empty() && !problems.is_empty() {
        anyhow::bail!(
            "residency --lock: nothing could be locked ({} failure(s) above)",
            problems.len()
        );
    }
    let mut out = std::io::stdout().lock();
    let page = xmmap::page_size() as u64;
    let resident: u64 = if args.lock {
        locked_pages
    } else {
        reports.iter().map(|r| r.residency.resident_pages()).sum()
    };
    let total: u64 = reports.iter().map(|r| r.residency.total_pages()).sum();
    if args.json {
        let v = json!({
            "files": reports.len(),
            "directories": walk.directories,
            "page_size": page,
            "resident_pages": resident,
            "total_pages": total,
            "resident_bytes": resident * page,
            "total_bytes": total * page,
            "action": action_name(args),
            "elapsed_s": elapsed,
            "per_file": reports.iter().map(|r| json!({
                "path": r.path.display().to_string(),
                "size": r.size,
                "resident_pages": r.residency.resident_pages(),
                "total_pages": r.residency.total_pages(),
                "pages": r.residency.pages().map(|b| b.iter().map(u8::from).collect::<Vec<_>>()),
            })).collect::<Vec<_>>(),
            "warnings": problems,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        if args.verbose {
            for r in &reports {
                writeln!(out, "{}", r.path.display())?;
                writeln!(out, "{}", bar(&r.residency))?;
            }
            writeln!(out)?;
        }
        let pct = if total == 0 { 0.0 } else { resident as f64 * 100.0 / total as f64 };
        writeln!(out, "{:>16}: {}", "Files", reports.len())?;
        writeln!(out, "{:>16}: {}", "Directories", walk.directories)?;
        let label = match action_name(args) {
            "touch" => "Touched Pages",
            "evict" => "Resident Pages",
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
        writeln!(out, "{:>16}: {elapsed:.6} seconds", "Elapsed")?;
    }
    out.flush()?;
    if !locked.is_empty() {
        drop(out);
        eprintln!("xmmap: holding {} locked file(s); press Ctrl-C to release", locked.len());
        loop {
            std::thread::park();
        }
    }
    Ok(if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn action_name(args: &Args) -> &'static str {
    if args.touch {
        "touch"
    } else if args.evict {
        "evict"
    } else if args.lock {
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
    let start = offset.min(size);
    let end = len.map_or(size, |l| offset.saturating_add(l).min(size));
    if start >= end {
        return Ok(None);
    }
    // Past usize the library refuses the length with a clear error.
    let len = usize::try_from(end - start).unwrap_or(usize::MAX);
    let map =
        xmmap::MapOptions::new().offset(start).len(len).limit(limit).map_raw_read_only(file)?;
    map.lock()?;
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

/// Sizes as vmtouch prints them: 10M, 4K, 1G.
fn short(n: u64) -> String {
    for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if n >= 1 << shift {
            let v = n as f64 / (1u64 << shift) as f64;
            return if v.fract() == 0.0 || v >= 100.0 {
                format!("{v:.0}{unit}")
            } else {
                format!("{v:.2}{unit}")
            };
        }
    }
    n.to_string()
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
        assert_eq!(short(1536), "1.50K");
        assert_eq!(short(12), "12");
    }
}
