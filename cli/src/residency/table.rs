//! fincore's output: the columns of `--output`, the aligned table, `--raw`,
//! `--noheadings`, `--bytes` and `--json` in fincore's shape
//! (`{"fincore": [{"res": …, "pages": …, "size": …, "file": …}]}`).
//!
//! The cachestat columns are those of util-linux 2.41's fincore: `DIRTY`,
//! `WRITEBACK`, `EVICTED`, `RECENTLY_EVICTED` in bytes and their `_PAGES`
//! counts; they are empty (`-`, JSON `null`) where the kernel has no
//! `cachestat(2)` (before Linux 6.5).

use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;

use serde_json::{json, Value};

use super::Row;

/// What `-o`/`--output` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Output {
    /// `-o json` (vmtouch's spelling of machine output).
    Json,
    /// fincore's columns.
    Columns(Vec<Column>),
}

/// One fincore column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Res,
    Pages,
    Size,
    File,
    Dirty,
    DirtyPages,
    Writeback,
    WritebackPages,
    Evicted,
    EvictedPages,
    RecentlyEvicted,
    RecentlyEvictedPages,
}

const COLUMNS: [(Column, &str); 12] = [
    (Column::Res, "RES"),
    (Column::Pages, "PAGES"),
    (Column::Size, "SIZE"),
    (Column::File, "FILE"),
    (Column::Dirty, "DIRTY"),
    (Column::DirtyPages, "DIRTY_PAGES"),
    (Column::Writeback, "WRITEBACK"),
    (Column::WritebackPages, "WRITEBACK_PAGES"),
    (Column::Evicted, "EVICTED"),
    (Column::EvictedPages, "EVICTED_PAGES"),
    (Column::RecentlyEvicted, "RECENTLY_EVICTED"),
    (Column::RecentlyEvictedPages, "RECENTLY_EVICTED_PAGES"),
];

/// fincore's default columns.
pub(crate) const DEFAULT: [Column; 4] = [Column::Res, Column::Pages, Column::Size, Column::File];

impl Column {
    fn name(self) -> &'static str {
        COLUMNS.iter().find(|(c, _)| *c == self).map_or("?", |(_, n)| n)
    }

    /// Whether the column is one of cachestat's counts.
    pub(crate) fn is_cachestat(self) -> bool {
        !matches!(self, Column::Res | Column::Pages | Column::Size | Column::File)
    }

    /// fincore's width hint: a column whose values are at least as wide as
    /// its heading but narrower than this is widened to it (libsmartcols).
    fn width_hint(self) -> usize {
        match self {
            Column::File => 4,
            Column::Pages
            | Column::DirtyPages
            | Column::WritebackPages
            | Column::EvictedPages
            | Column::RecentlyEvictedPages => 1,
            _ => 5,
        }
    }
}

/// `json`, or a comma-separated list of fincore's columns (any case).
pub(crate) fn parse_output(s: &str) -> Result<Output, String> {
    if s.eq_ignore_ascii_case("json") {
        return Ok(Output::Json);
    }
    let cols = s
        .split(',')
        .map(|name| {
            COLUMNS.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(c, _)| *c).ok_or_else(
                || {
                    let all: Vec<&str> = COLUMNS.iter().map(|(_, n)| *n).collect();
                    format!("unknown column {name:?}: give json or some of {}", all.join(","))
                },
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Output::Columns(cols))
}

/// How the table is written.
pub(crate) struct Style {
    pub(crate) bytes: bool,
    pub(crate) headings: bool,
    pub(crate) raw: bool,
}

/// A value of one cell: a count of pages, of bytes, a file name (its bytes,
/// which need not be UTF-8), or nothing.
enum Cell {
    Pages(u64),
    Bytes(u64),
    Name(Vec<u8>),
    Missing,
}

fn cell(row: &Row, col: Column) -> Cell {
    let page = row.residency.page_size() as u64;
    let cache = row.cache;
    let counted = |pick: fn(&xmmap::residency::CacheCounts) -> u64, bytes: bool| match cache {
        Some(c) if bytes => Cell::Bytes(pick(&c) * page),
        Some(c) => Cell::Pages(pick(&c)),
        None => Cell::Missing,
    };
    match col {
        Column::Res => Cell::Bytes(row.residency.resident_bytes()),
        Column::Pages => Cell::Pages(row.residency.resident_pages()),
        Column::Size => Cell::Bytes(row.size),
        Column::File => Cell::Name(row.path.as_os_str().as_bytes().to_vec()),
        Column::Dirty => counted(|c| c.dirty, true),
        Column::DirtyPages => counted(|c| c.dirty, false),
        Column::Writeback => counted(|c| c.writeback, true),
        Column::WritebackPages => counted(|c| c.writeback, false),
        Column::Evicted => counted(|c| c.evicted, true),
        Column::EvictedPages => counted(|c| c.evicted, false),
        Column::RecentlyEvicted => counted(|c| c.recently_evicted, true),
        Column::RecentlyEvictedPages => counted(|c| c.recently_evicted, false),
    }
}

/// A cell as the table shows it: a name escaped as libsmartcols does, so
/// that a newline, a control byte or invalid UTF-8 in it cannot break the
/// table's lines (`\x0a`, `\xff`), and with `--raw` every value escaped.
fn text(c: &Cell, style: &Style) -> String {
    let t = match c {
        Cell::Pages(n) => n.to_string(),
        Cell::Bytes(n) if style.bytes => n.to_string(),
        Cell::Bytes(n) => human(*n),
        Cell::Name(b) if style.raw => return raw_escape(b),
        Cell::Name(b) => return safe_escape(b),
        Cell::Missing => "-".to_string(),
    };
    if style.raw {
        raw_escape(t.as_bytes())
    } else {
        t
    }
}

/// The table (or `--raw` lines) of `rows` in `cols`.
pub(crate) fn write_table(
    out: &mut dyn Write,
    rows: &[&Row],
    cols: &[Column],
    style: &Style,
) -> io::Result<()> {
    let mut lines: Vec<Vec<String>> = Vec::with_capacity(rows.len() + 1);
    if style.headings {
        lines.push(cols.iter().map(|c| c.name().to_string()).collect());
    }
    for r in rows {
        lines.push(cols.iter().map(|&c| text(&cell(r, c), style)).collect());
    }
    if style.raw {
        for line in &lines {
            writeln!(out, "{}", line.join(" "))?;
        }
        return Ok(());
    }
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            // Headings count even when not printed, as in libsmartcols.
            let heading = c.name().len();
            let values = lines.iter().skip(usize::from(style.headings));
            let data = values.map(|l| l[i].chars().count()).max().unwrap_or(0);
            if data < heading {
                heading
            } else if data < c.width_hint() && heading < c.width_hint() {
                c.width_hint()
            } else {
                data
            }
        })
        .collect();
    for line in &lines {
        let mut s = String::new();
        for (i, (v, &c)) in line.iter().zip(cols).enumerate() {
            if i > 0 {
                s.push(' ');
            }
            let w = widths[i];
            if c == Column::File {
                if i + 1 == cols.len() {
                    s.push_str(v);
                } else {
                    s.push_str(&format!("{v:<w$}"));
                }
            } else {
                s.push_str(&format!("{v:>w$}"));
            }
        }
        writeln!(out, "{s}")?;
    }
    Ok(())
}

/// `{"fincore": [...]}` as fincore's `--json` prints it, keys in column
/// order and libsmartcols' layout: sizes as strings unless `--bytes`, page
/// counts as numbers, missing cachestat figures `null`.
pub(crate) fn json(rows: &[&Row], cols: &[Column], bytes: bool) -> String {
    let mut s = String::from("{\n   \"fincore\": [\n");
    if rows.is_empty() {
        s.push('\n');
    }
    for (i, r) in rows.iter().enumerate() {
        s.push_str(if i == 0 { "      {\n" } else { "},{\n" });
        for (j, &c) in cols.iter().enumerate() {
            let v = match cell(r, c) {
                Cell::Pages(n) => json!(n),
                Cell::Bytes(n) if bytes => json!(n),
                Cell::Bytes(n) => json!(human(n)),
                // JSON strings are Unicode: bytes that are not UTF-8
                // become U+FFFD (fincore prints them raw, which is not JSON).
                Cell::Name(b) => json!(String::from_utf8_lossy(&b)),
                Cell::Missing => Value::Null,
            };
            let comma = if j + 1 < cols.len() { "," } else { "" };
            s.push_str(&format!("         {}: {v}{comma}\n", json!(c.name().to_ascii_lowercase())));
        }
        s.push_str("      ");
    }
    if !rows.is_empty() {
        s.push_str("}\n");
    }
    s.push_str("   ]\n}\n");
    s
}

/// libsmartcols' escaping of the aligned table: a control byte or one not
/// part of valid UTF-8 becomes `\xHH`; the rest is kept.
fn safe_escape(s: &[u8]) -> String {
    let mut o = String::with_capacity(s.len());
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() && c.is_ascii() {
                o.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                o.push(c);
            }
        }
        for b in chunk.invalid() {
            o.push_str(&format!("\\x{b:02x}"));
        }
    }
    o
}

/// libsmartcols' raw escaping: a space, a backslash or an unprintable byte
/// becomes `\xHH`, so each line splits on spaces.
fn raw_escape(s: &[u8]) -> String {
    let mut o = String::with_capacity(s.len());
    for &b in s {
        if b == b' ' || b == b'\\' || !(0x21..0x7f).contains(&b) {
            o.push_str(&format!("\\x{b:02x}"));
        } else {
            o.push(b as char);
        }
    }
    o
}

/// Sizes as util-linux prints them (`size_to_human_string` with one-letter
/// suffixes): `0B`, `512B`, `4K`, `97.7K`, `1.5G`.
pub(crate) fn human(n: u64) -> String {
    let mut exp = 0;
    while exp < 60 && n >= 1u64 << (exp + 10) {
        exp += 10;
    }
    let letter = ["B", "K", "M", "G", "T", "P", "E"][exp / 10];
    if exp == 0 {
        return format!("{n}{letter}");
    }
    let mut dec = n >> exp;
    let mut frac = n & ((1u64 << exp) - 1);
    if frac != 0 {
        frac = ((frac >> (exp - 10)) + 50) / 100;
        if frac == 10 {
            dec += 1;
            frac = 0;
        }
    }
    if frac != 0 {
        format!("{dec}.{frac}{letter}")
    } else {
        format!("{dec}{letter}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_util_linux() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(512), "512B");
        assert_eq!(human(4096), "4K");
        assert_eq!(human(100_000), "97.7K");
        assert_eq!(human(5000), "4.9K");
        assert_eq!(human(102_400), "100K");
        assert_eq!(human(1023 * 1024 + 1000), "1024K");
        assert_eq!(human(3 << 30), "3G");
    }

    #[test]
    fn output_lists_parse_case_blind_and_name_the_bad_column() {
        assert_eq!(parse_output("json"), Ok(Output::Json));
        assert_eq!(parse_output("res,File"), Ok(Output::Columns(vec![Column::Res, Column::File])));
        let e = parse_output("RES,NOPE").unwrap_err();
        assert!(e.contains("\"NOPE\"") && e.contains("RECENTLY_EVICTED"), "{e}");
    }
}
