//! `xmmap cat`: bytes of files to stdout, mapped when big, read when small
//! or not mappable (the library's `Source`).
//!
//! Nothing here touches mapped bytes in user space: a map is copied out in
//! chunks with the guarded `read_at`, so a file truncated meanwhile is an
//! error (`Truncated`), not `SIGBUS`. Streams are copied as they arrive
//! through one fixed buffer, so `yes | xmmap cat - | head` ends at once and
//! in bounded memory. Everything goes to fd 1 with plain `write(2)`, not
//! through the line-buffered `Stdout`.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::Globals;

/// Bytes copied per `read`/`write`.
const CHUNK: usize = 1 << 20;

/// Arguments of `xmmap cat`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Start at byte N of each file (decimal; k/m/g/t suffixes, powers of
    /// 1024). For `-` on a regular file, N counts from where standard input
    /// already is, as cat(1) starts there. Past the end gives nothing and a
    /// warning, as `dd skip=` does.
    #[arg(long, value_name = "N", default_value = "0", value_parser = crate::parse_size)]
    offset: u64,

    /// Write at most N bytes of each file (decimal; k/m/g/t suffixes).
    #[arg(long, value_name = "N", value_parser = crate::parse_size)]
    length: Option<u64>,

    /// Files to write; `-` is standard input. Pipes, procfs files and
    /// devices are copied as they arrive, regular files mapped when large.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
}

pub(crate) fn run(args: &Args, globals: &Globals) -> Result<ExitCode> {
    let limit = globals.limit.clone().map_err(anyhow::Error::msg)?;
    let mut buf = vec![0u8; CHUNK];
    for name in &args.files {
        let stdin = name == "-";
        let file = if stdin {
            crate::platform::stdin_file().context("cannot duplicate standard input")?
        } else {
            File::open(name).with_context(|| format!("cannot open {name}"))?
        };
        let meta = file.metadata().with_context(|| format!("cannot stat {name}"))?;
        // A regular file's size is known, except on procfs and the like,
        // which report 0 and are copied as a stream.
        if !(meta.is_file() && meta.len() > 0) {
            copy_stream(&file, name, args.offset, args.length, &mut buf)?;
            continue;
        }
        let size = meta.len();
        // Standard input starts where it already is, as cat(1) does.
        let base = if stdin {
            (&file)
                .stream_position()
                .with_context(|| format!("cannot find the position of {name}"))?
        } else {
            0
        };
        let Some(start) = base.checked_add(args.offset).filter(|&s| s <= size) else {
            let msg = format!(
                "xmmap: {name}: cannot skip to offset {}: the file has {} bytes{}",
                args.offset,
                size.saturating_sub(base),
                if base > 0 { " after the position of standard input" } else { "" }
            );
            eprintln!("{}", crate::printable(&msg));
            continue;
        };
        let len = args.length.map_or(size - start, |len| len.min(size - start));
        if len == 0 {
            continue;
        }
        let mut opts = xmmap::SourceOptions::new();
        opts.offset(start).len(len).limit(limit);
        // SAFETY: a mapped file's bytes are never read through the slice:
        // they are copied out with the guarded `read_at`, which reports a
        // truncated file as an error; bytes that were read are a private
        // copy.
        let src = unsafe { opts.from_file(&file) }.map_err(anyhow::Error::new)?;
        match src.as_map() {
            Some(map) => copy_map(map, name, start, &mut buf)?,
            None => write_all(&src)?,
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Copies a map to stdout through `buf` with guarded reads; `start` is the
/// file offset of the map's first byte, for the message.
fn copy_map(map: &xmmap::Map, name: &str, start: u64, buf: &mut [u8]) -> Result<()> {
    let mut at = 0u64;
    loop {
        let n = match map.read_at(at, buf) {
            Ok(n) => n,
            Err(e) => match e.kind() {
                xmmap::ErrorKind::Truncated { offset } => {
                    anyhow::bail!("{name} was truncated at offset {}", start + offset)
                }
                _ => return Err(anyhow::Error::new(e)),
            },
        };
        if n == 0 {
            return Ok(());
        }
        write_all(&buf[..n])?;
        at += n as u64;
    }
}

/// Copies a pipe, device or procfs file as it arrives: skips `offset`
/// bytes, stops after `length`.
fn copy_stream(
    mut file: &File,
    name: &str,
    offset: u64,
    length: Option<u64>,
    buf: &mut [u8],
) -> Result<()> {
    let mut skip = offset;
    let mut left = length.unwrap_or(u64::MAX);
    while left > 0 {
        let want = if skip > 0 {
            buf.len().min(usize::try_from(skip).unwrap_or(usize::MAX))
        } else {
            buf.len().min(usize::try_from(left).unwrap_or(usize::MAX))
        };
        let n = match file.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {name}")),
        };
        if skip > 0 {
            skip -= n as u64;
            continue;
        }
        write_all(&buf[..n])?;
        left -= n as u64;
    }
    if skip > 0 {
        let msg = format!(
            "xmmap: {name}: cannot skip to offset {offset}: it ended after {} bytes",
            offset - skip
        );
        eprintln!("{}", crate::printable(&msg));
    }
    Ok(())
}

/// Unbuffered to standard output; a closed pipe is `BrokenPipe`, which
/// `main` treats as success.
fn write_all(bytes: &[u8]) -> io::Result<()> {
    crate::platform::write_stdout(bytes)
}
