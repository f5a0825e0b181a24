//! Which files `xmmap residency` looks at: the PATH arguments, `-` and `-b`
//! lists of paths, and the tree walk with its filters (`-r`, `-f`, `-F`,
//! `-i`, `-I`, `-m`, hard links).
//!
//! The walk is walkdir's: it keeps a bounded number of directories open
//! (not one descriptor per file), detects symbolic link loops when it
//! follows links and stays on one file system with `-F`. Files are handed
//! to the caller one at a time, so nothing of a file stays open after it
//! has been measured.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::Metadata;
use std::io::{BufRead, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// What the walk reports besides files: notes (policy, exit 0) and
/// warnings (a path that could not be looked at, exit 1).
pub(super) trait Log {
    /// A path skipped by policy: a symbolic link, a FIFO, a file over `-m`.
    fn note(&mut self, msg: String);
    /// A path that could not be looked at; counted, and the exit status is 1.
    fn warn(&mut self, msg: String);
}

/// The paths to look at, in order and read as they are needed: each PATH,
/// where `-` stands for the paths read from stdin (as vmtouch's `-b -`),
/// then those of the `-b` list. A list holds one path a line, or
/// NUL-separated with `-0`; empty entries are ignored. A list is read one
/// entry at a time, so an endless one (`yes /etc/hostname | xmmap
/// residency -`) is measured as it comes, in bounded memory.
pub(super) struct Inputs<'a> {
    paths: std::slice::Iter<'a, PathBuf>,
    batch: Option<&'a Path>,
    nul: bool,
    list: Option<List>,
}

/// The longest entry of a list: far above `PATH_MAX`, so that only
/// something that is not a list of paths is refused.
const LONGEST: u64 = 1 << 20;

/// A list of paths being read.
struct List {
    reader: Box<dyn BufRead>,
    /// `stdin` or the `-b` file, for errors.
    name: String,
    buf: Vec<u8>,
}

impl<'a> Inputs<'a> {
    pub(super) fn new(paths: &'a [PathBuf], batch: Option<&'a Path>, nul: bool) -> Inputs<'a> {
        Inputs { paths: paths.iter(), batch, nul, list: None }
    }
}

impl Iterator for Inputs<'_> {
    type Item = Result<PathBuf>;

    fn next(&mut self) -> Option<Result<PathBuf>> {
        loop {
            if let Some(list) = &mut self.list {
                match list.next_entry(self.nul) {
                    Ok(Some(p)) => return Some(Ok(p)),
                    Ok(None) => self.list = None,
                    Err(e) => {
                        self.list = None;
                        return Some(Err(e));
                    }
                }
            }
            let list = if let Some(p) = self.paths.next() {
                if p.as_os_str() != "-" {
                    return Some(Ok(p.clone()));
                }
                Path::new("-")
            } else {
                self.batch.take()?
            };
            match List::open(list) {
                Ok(l) => self.list = Some(l),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl List {
    fn open(list: &Path) -> Result<List> {
        let (reader, name): (Box<dyn BufRead>, String) = if list.as_os_str() == "-" {
            (Box::new(std::io::stdin().lock()), "stdin".to_string())
        } else {
            let f = std::fs::File::open(list)
                .with_context(|| format!("-b: cannot read the list of paths {}", list.display()))?;
            (Box::new(std::io::BufReader::new(f)), list.display().to_string())
        };
        Ok(List { reader, name, buf: Vec::new() })
    }

    /// The next non-empty entry, `None` at the end of the list.
    fn next_entry(&mut self, nul: bool) -> Result<Option<PathBuf>> {
        let sep = if nul { 0 } else { b'\n' };
        loop {
            self.buf.clear();
            let n = (&mut self.reader)
                .take(LONGEST + 1)
                .read_until(sep, &mut self.buf)
                .with_context(|| format!("cannot read paths from {}", self.name))?;
            if n == 0 {
                return Ok(None);
            }
            if self.buf.last() == Some(&sep) {
                self.buf.pop();
            } else if self.buf.len() as u64 > LONGEST {
                anyhow::bail!(
                    "{}: an entry longer than {LONGEST} bytes: not a list of paths{}",
                    self.name,
                    if nul { "" } else { " one a line (NUL-separated needs -0)" }
                );
            }
            if let Some(p) = entry(&self.buf, nul) {
                return Ok(Some(p));
            }
        }
    }
}

/// One entry of a list as a path, `None` for an empty one. A line ends at
/// a NUL byte, as in vmtouch (C strings), so a trailing NUL does not make
/// the path unopenable; with `-0` the newline a list ends with is dropped.
fn entry(p: &[u8], nul: bool) -> Option<PathBuf> {
    let p = if nul {
        p.strip_suffix(b"\n").unwrap_or(p)
    } else {
        p.split(|&b| b == 0).next().unwrap_or(p)
    };
    (!p.is_empty()).then(|| PathBuf::from(OsString::from_vec(p.to_vec())))
}

/// The options that decide which files count.
pub(super) struct Filters<'a> {
    pub(super) recursive: bool,
    pub(super) follow: bool,
    pub(super) one_file_system: bool,
    /// `-h`: every hard link counts (default: one inode counts once).
    pub(super) hard_links: bool,
    pub(super) ignore: &'a [String],
    pub(super) include: &'a [String],
    pub(super) max_size: Option<u64>,
}

/// The state of a walk over several roots: inodes seen, directories and
/// files over `-m` counted.
#[derive(Default)]
pub(super) struct Walker {
    seen_files: HashSet<(u64, u64)>,
    seen_dirs: HashSet<(u64, u64)>,
    pub(super) directories: u64,
    /// Files over `-m`: counted as files (as vmtouch does), not measured.
    pub(super) too_large: u64,
}

impl Walker {
    /// Walks `root` and calls `each` with every regular file or block device
    /// that passes the filters.
    pub(super) fn walk(
        &mut self,
        root: &Path,
        f: &Filters<'_>,
        log: &mut dyn Log,
        each: &mut dyn FnMut(&Path, &Metadata, &mut dyn Log),
    ) {
        let mut it = walkdir::WalkDir::new(root)
            .follow_links(f.follow)
            .follow_root_links(f.follow)
            .same_file_system(f.one_file_system)
            .max_depth(if f.recursive { usize::MAX } else { 0 })
            .sort_by_file_name()
            .into_iter();
        let mut root_dev = 0;
        while let Some(entry) = it.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().unwrap_or(root).display().to_string();
                    match (e.loop_ancestor(), e.io_error()) {
                        (Some(a), _) => log.note(format!(
                            "{path}: symbolic link loop back to {}, not followed",
                            a.display()
                        )),
                        (None, Some(io)) => log.warn(format!("{path}: {io}")),
                        (None, None) => log.warn(format!("{path}: {e}")),
                    }
                    continue;
                }
            };
            let name = entry.file_name().as_bytes();
            if f.ignore.iter().any(|p| glob_match(p.as_bytes(), name)) {
                if entry.file_type().is_dir() {
                    it.skip_current_dir();
                }
                continue;
            }
            let path = entry.path();
            let ft = entry.file_type();
            if ft.is_symlink() {
                log.note(format!("{}: symbolic link not followed (use -f)", path.display()));
                continue;
            }
            let meta = match entry.metadata() {
                Ok(m) => m,
                Err(e) => {
                    log.warn(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            if ft.is_dir() {
                if entry.depth() == 0 {
                    root_dev = meta.dev();
                }
                if !f.recursive {
                    log.warn(format!("{}: is a directory (use -r)", path.display()));
                } else if f.one_file_system && meta.dev() != root_dev {
                    // walkdir yields such a directory without descending;
                    // vmtouch neither counts it.
                    log.note(format!(
                        "{}: on another file system, not descended (-F)",
                        path.display()
                    ));
                    it.skip_current_dir();
                } else if self.seen_dirs.insert((meta.dev(), meta.ino())) {
                    self.directories += 1;
                } else {
                    it.skip_current_dir();
                }
                continue;
            }
            // Block devices count, as in vmtouch; character devices,
            // FIFOs and sockets have no page cache to count.
            if !ft.is_file() && !ft.is_block_device() {
                log.note(format!("{}: not a regular file, skipped", path.display()));
                continue;
            }
            if !f.include.is_empty() && !f.include.iter().any(|p| glob_match(p.as_bytes(), name)) {
                continue;
            }
            // One inode counts once; only files with other names need
            // remembering. As vmtouch, a file reached again through a
            // followed link counts again.
            if !f.hard_links
                && meta.nlink() > 1
                && !self.seen_files.insert((meta.dev(), meta.ino()))
            {
                continue;
            }
            if let Some(max) = f.max_size.filter(|&m| meta.len() > m) {
                self.too_large += 1;
                log.note(format!(
                    "{}: file too large ({} bytes > -m {max}), skipping",
                    path.display(),
                    meta.len()
                ));
                continue;
            }
            each(path, &meta, log);
        }
    }
}

/// Whether `name` matches the shell pattern `pat` as `fnmatch(3)` without
/// flags (what vmtouch's `-i`/`-I` use): `*`, `?`, `[a-z]`, `[!a]`, `\`.
pub(super) fn glob_match(pat: &[u8], name: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    // Where the last `*` was and how much of `name` it has taken.
    let mut star: Option<(usize, usize)> = None;
    while i < name.len() {
        let step = match pat.get(p) {
            Some(b'*') => {
                star = Some((p, i));
                p += 1;
                continue;
            }
            Some(b'?') => Some(1),
            Some(b'[') => match class(&pat[p..], name[i]) {
                Some((true, n)) => Some(n),
                Some((false, _)) => None,
                None => (name[i] == b'[').then_some(1),
            },
            Some(b'\\') if p + 1 < pat.len() => (pat[p + 1] == name[i]).then_some(2),
            Some(&c) => (c == name[i]).then_some(1),
            None => None,
        };
        match (step, star) {
            (Some(n), _) => {
                p += n;
                i += 1;
            }
            (None, Some((sp, si))) => {
                star = Some((sp, si + 1));
                p = sp + 1;
                i = si + 1;
            }
            (None, None) => return false,
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// A bracket expression at the start of `pat`: whether `c` matches and its
/// length, or `None` when it is unterminated (then `[` is literal).
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut j = 1;
    let negate = matches!(pat.get(1), Some(b'!' | b'^'));
    if negate {
        j += 1;
    }
    let (mut matched, mut first) = (false, true);
    while j < pat.len() {
        let lo = pat[j];
        if lo == b']' && !first {
            return Some((matched != negate, j + 1));
        }
        first = false;
        if j + 2 < pat.len() && pat[j + 1] == b'-' && pat[j + 2] != b']' {
            matched |= lo <= c && c <= pat[j + 2];
            j += 3;
        } else {
            matched |= lo == c;
            j += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_match_like_fnmatch() {
        let m = |p: &str, s: &str| glob_match(p.as_bytes(), s.as_bytes());
        assert!(m("*.log", "x.log"));
        assert!(!m("*.log", "x.log.1"));
        assert!(m("*.log*", "x.log.1"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[!a-c]x", "bx"));
        assert!(m("[!a-c]x", "dx"));
        assert!(m("[]]", "]"));
        assert!(m("[x", "[x"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
    }
}
