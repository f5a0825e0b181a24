//! `xmmap info`: what this machine allows.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{json, Value};
use xmmap_bench::report::size_label;

use crate::Globals;

/// Arguments of `xmmap info`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
}

fn limit_json(l: xmmap::limit::ResourceLimit) -> Value {
    json!({ "soft": l.soft, "hard": l.hard })
}

pub(crate) fn run(args: &Args, globals: &Globals) -> Result<ExitCode> {
    let r = xmmap::limit::Resources::current();
    let huge = xmmap::page::huge_page_sizes();
    let default_huge = xmmap::page::default_huge_page_size();
    let thp = xmmap::page::transparent_huge_pages();
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = json!({
            "page_size": xmmap::page_size(),
            "huge_pages": huge.iter().map(|h| json!({
                "size": h.size, "pages": h.pages, "free": h.free,
                "default": Some(h.size) == default_huge,
            })).collect::<Vec<_>>(),
            "transparent_huge_pages": thp,
            "xmmap_limit": match &globals.limit {
                Ok(l) => json!({ "bytes": l.get() }),
                Err(e) => json!({ "error": e }),
            },
            "rlimit_data": limit_json(r.data),
            "rlimit_as": limit_json(r.address_space),
            "rlimit_memlock": limit_json(r.memlock),
            "rlimit_nofile": limit_json(r.nofile),
            "max_map_count": r.max_map_count,
            "map_count": r.map_count,
            "overcommit_memory": r.overcommit,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let unknown = || "unknown".to_string();
    let row = |out: &mut dyn Write, k: &str, v: String| writeln!(out, "{k:<24}{v}");
    row(&mut out, "page size", format!("{} bytes", xmmap::page_size()))?;
    if huge.is_empty() {
        row(&mut out, "huge page sizes", "none".into())?;
    }
    for h in &huge {
        let mark = if Some(h.size) == default_huge { " (default)" } else { "" };
        row(
            &mut out,
            &format!("huge pages {}", size_label(h.size)),
            format!("pool {} pages, {} free{mark}", h.pages, h.free),
        )?;
    }
    row(&mut out, "transparent huge pages", thp.unwrap_or_else(unknown))?;
    let limit = match &globals.limit {
        Ok(l) => l.to_string(),
        Err(e) => format!("error: {e}"),
    };
    row(&mut out, "XMMAP_LIMIT", limit)?;
    row(&mut out, "RLIMIT_DATA", r.data.to_string())?;
    row(&mut out, "RLIMIT_AS", r.address_space.to_string())?;
    row(&mut out, "RLIMIT_MEMLOCK", r.memlock.to_string())?;
    row(&mut out, "RLIMIT_NOFILE", r.nofile.to_string())?;
    row(&mut out, "vm.max_map_count", r.max_map_count.map_or_else(unknown, |n| n.to_string()))?;
    row(&mut out, "mappings now", r.map_count.map_or_else(unknown, |n| n.to_string()))?;
    let overcommit = r.overcommit.map_or_else(unknown, |n| {
        let what = match n {
            0 => "heuristic",
            1 => "always",
            2 => "never (strict accounting)",
            _ => "?",
        };
        format!("{n} ({what})")
    });
    row(&mut out, "vm.overcommit_memory", overcommit)?;
    Ok(ExitCode::SUCCESS)
}
