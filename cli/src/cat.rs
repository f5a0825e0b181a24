//! `xmmap cat`: bytes of files to stdout, mapped when big, read when small
//! or not mappable (the library's `Source`).

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::Globals;

/// Arguments of `xmmap cat`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Start at byte N of each file (any byte; k/m/g suffixes). Past the end
    /// gives nothing, as `dd skip=` and `tail -c +N+1` do.
    #[arg(long, value_name = "N", default_value = "0", value_parser = crate::parse_size)]
    offset: u64,

    /// Write at most N bytes of each file (k/m/g suffixes).
    #[arg(long, value_name = "N", value_parser = crate::parse_size)]
    length: Option<u64>,

    /// Files to write; `-` is standard input. Pipes, procfs files and
    /// devices are read, regular files mapped when large.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
}

pub(crate) fn run(args: &Args, globals: &Globals) -> Result<ExitCode> {
    let limit = globals.limit.clone().map_err(anyhow::Error::msg)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for name in &args.files {
        let file = if name == "-" {
            let fd: OwnedFd = std::io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .context("cannot duplicate standard input")?;
            File::from(fd)
        } else {
            File::open(name).with_context(|| format!("cannot open {name}"))?
        };
        let meta = file.metadata().with_context(|| format!("cannot stat {name}"))?;
        // A regular file's size is known, except on procfs and the like,
        // which report 0 and are read to end of file.
        let size = (meta.is_file() && meta.len() > 0).then_some(meta.len());
        if size.is_some_and(|size| args.offset >= size) {
            continue; // nothing at or past the end
        }
        if args.length == Some(0) {
            continue;
        }
        let mut opts = xmmap::SourceOptions::new();
        opts.offset(args.offset).limit(limit);
        if let Some(len) = args.length {
            opts.len(size.map_or(len, |size| len.min(size - args.offset)));
        }
        // SAFETY: the bytes are only copied to stdout by write(2), which
        // reports EFAULT instead of raising SIGBUS if the file shrinks under
        // the map; nothing else reads the slice.
        let src = unsafe { opts.from_file(&file) }.map_err(anyhow::Error::new)?;
        out.write_all(&src)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
