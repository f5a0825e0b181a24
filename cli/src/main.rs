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
mod platform;
#[cfg(unix)]
mod residency;
#[cfg(not(unix))]
#[path = "residency_unix_only.rs"]
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
        after_help = "Examples:\n  xmmap cat --offset 4k --length 16 data.bin | xxd\n  xmmap cat /proc/self/status\n  xmmap cat <(echo hi)\n\nExit status: 0 on success, also when an --offset lies past the end of a file (a\nwarning says so on stderr, as dd's \"cannot skip to specified offset\"); 128 when\na file cannot be read or is truncated while it is written."
    )]
    Cat(cat::Args),

    /// Measure this machine: read() against mmap and the fast sequential
    /// path for file sizes from 1 KiB to 1 GiB, the crossover and the
    /// ceiling (the kernel over the file's own page-cache pages, mapped
    /// once), as a table, JSON or an SVG plot.
    #[command(
        after_help = "Examples:\n  xmmap bench\n  xmmap bench --dir /dev/shm --sizes 4k,1m,64m --svg bench.svg\n  xmmap bench --json > bench.json"
    )]
    Bench(bench::Args),

    /// What of files is in the page cache (vmtouch's and fincore's jobs):
    /// summary, per-file bars with -v, fincore's table with -o, JSON;
    /// --touch loads pages, --evict drops them, --lock locks them until
    /// Ctrl-C, -d locks them in a daemon.
    #[command(
        after_help = "Examples:\n  xmmap residency -v big.bin\n  xmmap residency -r --touch /var/lib/db\n  xmmap residency --evict -p 0-1g big.bin\n  xmmap residency -r --json . | jq .resident_pages\n  xmmap residency -r -o RES,PAGES,SIZE,FILE,DIRTY --top 10 /var/lib\n  find /srv -name '*.idx' -print0 | xmmap residency -0 -d -w -P /run/idx.pid -\n  xmmap residency -r --watch 2 /var/lib/db\n\nExit status: 0; 1 when a path could not be read (each is named); 2 for bad usage;\n128 when a --lock or -d locks nothing or the mapping limit refuses a file."
    )]
    Residency(residency::Args),
}

/// A byte count as dd and vmtouch read it: decimal digits (a leading 0 is
/// still decimal, so `010` is 10) and an optional suffix k, m, g or t,
/// powers of 1024, any case, optionally followed by `b` (`4k`, `1MiB` is
/// not accepted, `1MB` is 1048576). `--limit` keeps git's syntax instead.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (number, suffix) = s.split_at(digits);
    if number.is_empty() {
        return Err(format!("invalid size {s:?}: give decimal digits, e.g. 4096 or 4k"));
    }
    let suffix = suffix.to_ascii_lowercase();
    let suffix = suffix.strip_suffix('b').filter(|t| !t.is_empty()).unwrap_or(&suffix);
    let shift = match suffix {
        "" | "b" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => {
            return Err(format!(
                "invalid size {s:?}: decimal digits with an optional k, m, g or t suffix, e.g. 4k"
            ))
        }
    };
    let too_large = || format!("invalid size {s:?}: larger than {} bytes", u64::MAX);
    number.parse::<u64>().map_err(|_| too_large())?.checked_mul(1 << shift).ok_or_else(too_large)
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
            eprintln!("fatal: {}", printable(&fatal_message(&err)));
            ExitCode::from(128)
        }
    }
}

/// The error and its causes, each said once: xmmap's errors already end with
/// their cause (`…: Cannot allocate memory`), which anyhow's `{:#}` would
/// print a second time.
fn fatal_message(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for e in err.chain() {
        let text = e.to_string();
        let bare = text.split(" (os error ").next().unwrap_or(&text);
        if out.contains(bare) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// `msg` with each control character (ESC, a newline, a carriage return in
/// a file name) written as `\xHH` (`\u{HHHH}` beyond ASCII), so that a name
/// cannot redraw the terminal or forge another line of the report. Every
/// message on stderr goes through it, as the tables and JSON escape names.
pub(crate) fn printable(msg: &str) -> std::borrow::Cow<'_, str> {
    if !msg.chars().any(char::is_control) {
        return msg.into();
    }
    let mut out = String::with_capacity(msg.len() + 8);
    for c in msg.chars() {
        match c {
            c if c.is_control() && c.is_ascii() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.into()
}

/// A closed stdout (`xmmap cat big | head`) is success, as in ripgrep.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::{fatal_message, parse_size, printable};

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        // Broke: `fatal: mmap …: MAP_POPULATE is not available …: MAP_POPULATE
        // is not available …`, the cause printed by the error and again by {:#}.
        #[derive(Debug)]
        struct Says(std::io::Error);
        impl std::fmt::Display for Says {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(
                    f,
                    "mmap of 4096 bytes: {}",
                    self.0.to_string().replace(" (os error 12)", "")
                )
            }
        }
        impl std::error::Error for Says {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let inner = Says(std::io::Error::from_raw_os_error(12));
        let err = anyhow::Error::new(inner).context("bench of bench-4096");
        let msg = fatal_message(&err);
        assert_eq!(msg, "bench of bench-4096: mmap of 4096 bytes: Cannot allocate memory", "{msg}");
        let plain =
            anyhow::Error::new(std::io::Error::from_raw_os_error(2)).context("cannot open x");
        assert_eq!(fatal_message(&plain), "cannot open x: No such file or directory (os error 2)");
    }

    #[test]
    fn sizes_are_decimal_with_binary_suffixes() {
        // A leading 0 was octal: `--offset 010` was 8 where dd reads 10.
        assert_eq!(parse_size("010"), Ok(10));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("1mb"), Ok(1 << 20));
        assert_eq!(parse_size("3g"), Ok(3 << 30));
        assert_eq!(parse_size("2t"), Ok(2 << 40));
        assert_eq!(parse_size("17b"), Ok(17));
    }

    #[test]
    fn bad_sizes_are_refused_naming_the_value() {
        for bad in ["", "-", "-1", "0x10", "k", "4 k", "4kk", "1.5m", "4x", "b"] {
            let err = parse_size(bad).expect_err(bad);
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
        assert!(parse_size("18446744073709551615").is_ok());
        assert!(parse_size("18446744073709551616").unwrap_err().contains("larger than"));
        assert!(parse_size("17179869184g").unwrap_err().contains("larger than"));
    }

    #[test]
    fn control_characters_are_written_out_and_the_rest_is_kept() {
        assert_eq!(printable("plain: é ✓"), "plain: é ✓");
        assert!(matches!(printable("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            printable("a\x1b[2Jb\nc\rd\te\u{85}f"),
            "a\\x1b[2Jb\\x0ac\\x0dd\\x09e\\u{0085}f"
        );
    }
}
