//! `xmmap`: see what the page cache and the mappings are doing.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xmmap", version, about = "Memory-mapped file I/O, measured and explained")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the page size, huge page sizes, the parsed XMMAP_LIMIT and the
    /// limits that decide whether a mapping can be made.
    ///
    /// Example: xmmap info
    Info,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("fatal: {err:#}");
            ExitCode::from(128)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Info => info(),
    }
}

fn info() -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let r = xmmap::limit::Resources::current();
    let opt = |v: Option<u64>| v.map_or_else(|| "unknown".to_string(), |n| n.to_string());
    writeln!(out, "page size:           {}", xmmap::page_size())?;
    let huge = xmmap::page::huge_page_sizes();
    if huge.is_empty() {
        writeln!(out, "huge page sizes:     none")?;
    }
    for h in huge {
        writeln!(out, "huge pages {:>8}: pool {} pages, {} free", h.size, h.pages, h.free)?;
    }
    writeln!(
        out,
        "transparent huge pages: {}",
        xmmap::page::transparent_huge_pages().unwrap_or_else(|| "unknown".into())
    )?;
    match xmmap::Limit::from_env() {
        Ok(l) => writeln!(out, "XMMAP_LIMIT:         {l}")?,
        Err(e) => writeln!(out, "XMMAP_LIMIT:         error: {e}")?,
    }
    writeln!(out, "RLIMIT_DATA:         {}", r.data)?;
    writeln!(out, "RLIMIT_AS:           {}", r.address_space)?;
    writeln!(out, "RLIMIT_MEMLOCK:      {}", r.memlock)?;
    writeln!(out, "RLIMIT_NOFILE:       {}", r.nofile)?;
    writeln!(out, "vm.max_map_count:    {}", opt(r.max_map_count))?;
    writeln!(
        out,
        "mappings now:        {}",
        r.map_count.map_or_else(|| "unknown".into(), |n| n.to_string())
    )?;
    writeln!(out, "vm.overcommit_memory: {}", opt(r.overcommit))?;
    Ok(ExitCode::SUCCESS)
}
