//! `xmmap`: see what the page cache and the mappings are doing.
//!
//! Exit codes: 0 on success (also when stdout is a closed pipe), 2 for bad
//! usage (clap's message), 128 for a fatal error — git's convention, with
//! the library's message after `fatal: `.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

mod bench;
mod cat;
mod info;
mod residency;

/// Memory-mapped file I/O, measured and explained.
#[derive(Parser)]
#[command(name = "xmmap", version, about, long_about = None)]
#[command(after_help = "Examples:\n  xmmap info\n  xmmap --limit 1g info --json")]
struct Cli {
    /// Refuse mappings larger than SIZE bytes (k/m/g suffixes, 0 = no limit);
    /// overrides XMMAP_LIMIT.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_limit)]
    limit: Option<xmmap::Limit>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Page size, huge pages, transparent huge pages, XMMAP_LIMIT and the
    /// limits that decide whether a mapping can be made.
    #[command(after_help = "Examples:\n  xmmap info\n  xmmap info --json | jq .page_size")]
    Info(info::Args),

    /// Write files (or a byte range of each) to stdout through xmmap's
    /// mmap-or-read Source: byte-identical to dd, head -c and tail -c.
    #[command(
        after_help = "Examples:\n  xmmap cat --offset 4k --length 16 data.bin | xxd\n  xmmap cat /proc/self/status\n  xmmap cat <(echo hi)"
    )]
    Cat(cat::Args),

    /// Measure this machine: read() against mmap and the fast sequential
    /// path for file sizes from 1 KiB to 1 GiB, the crossover and the
    /// in-memory ceiling, as a table, JSON or an SVG plot.
    #[command(
        after_help = "Examples:\n  xmmap bench\n  xmmap bench --dir /dev/shm --sizes 4k,1m,64m --svg bench.svg\n  xmmap bench --json > bench.json"
    )]
    Bench(bench::Args),

    /// What of files is in the page cache (vmtouch's job): summary, per-file
    /// bars with -v, JSON; --touch loads pages, --evict drops them, --lock
    /// locks them until Ctrl-C.
    #[command(
        after_help = "Examples:\n  xmmap residency -v big.bin\n  xmmap residency -r --touch /var/lib/db\n  xmmap residency --evict -p 0-1g big.bin\n  xmmap residency -r --json . | jq .resident_pages"
    )]
    Residency(residency::Args),
}

/// A size with the library's k/m/g syntax.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    xmmap::limit::parse_size(s).map_err(|e| e.to_string())
}

fn parse_limit(s: &str) -> Result<xmmap::Limit, String> {
    xmmap::Limit::parse(s).map_err(|e| e.to_string())
}

/// What a command needs from the global options.
pub(crate) struct Globals {
    /// The limit every mapping is checked against.
    pub(crate) limit: Result<xmmap::Limit, String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let limit = match cli.limit {
        Some(l) => {
            // The library's default limit comes from XMMAP_LIMIT; make every
            // layer see the override, not only the calls made here.
            std::env::set_var(xmmap::limit::ENV_VAR, l.get().unwrap_or(0).to_string());
            Ok(l)
        }
        None => xmmap::Limit::from_env().map_err(|e| e.to_string()),
    };
    let globals = Globals { limit };
    let result = match cli.command {
        Command::Info(args) => info::run(&args, &globals),
        Command::Cat(args) => cat::run(&args, &globals),
        Command::Bench(args) => bench::run(&args, &globals),
        Command::Residency(args) => residency::run(&args, &globals),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fatal: {err:#}");
            ExitCode::from(128)
        }
    }
}

/// A closed stdout (`xmmap cat big | head`) is success, as in ripgrep.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
