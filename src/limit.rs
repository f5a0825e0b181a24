//! git's mapping discipline: a limit checked before the system call, and the
//! hint that says what to check when the kernel runs out of room.
//!
//! The default [`Limit`] comes from the environment variable `XMMAP_LIMIT`,
//! read once per process, with exactly the syntax of git's `GIT_MMAP_LIMIT`
//! (`git_parse_ulong`): a C `strtoumax` number in base 0 (`4096`, `0x1000`,
//! `010`), optionally followed by one of `k`, `m`, `g` in either case
//! (powers of 1024) and nothing else. A `-` anywhere or an empty value is an
//! error; `0` or unset means no limit. A bad value is reported as
//! [`ErrorKind::BadLimit`] at the first mapping, never silently ignored.
//!
//! May call: `sys`, `page`.

use std::fmt;
use std::sync::OnceLock;

use crate::error::{Error, ErrorKind, Result};
use crate::page::human;
use crate::sys;

/// The name of the environment variable read by [`Limit::from_env`].
pub const ENV_VAR: &str = "XMMAP_LIMIT";

/// The largest mapping, in bytes, that xmmap will attempt. A request over the
/// limit is refused before the system call with
/// [`ErrorKind::LimitExceeded`], like git's `mmap_limit_check`.
///
/// # Examples
///
/// ```
/// use xmmap::Limit;
///
/// assert_eq!(Limit::parse("16m")?.get(), Some(16 << 20));
/// assert_eq!(Limit::parse("0x1000")?.get(), Some(4096));
/// assert_eq!(Limit::parse("0")?, Limit::none());
/// assert!(Limit::parse("-1").is_err());
///
/// let err = Limit::bytes(1024).check(1 << 20).unwrap_err();
/// assert_eq!(err.to_string(), "attempting to mmap 1048576 over limit 1024");
/// # Ok::<(), xmmap::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Limit(Option<u64>);

impl Limit {
    /// No limit.
    pub const fn none() -> Limit {
        Limit(None)
    }

    /// A limit of `n` bytes. As in git, `0` means no limit.
    pub const fn bytes(n: u64) -> Limit {
        if n == 0 {
            Limit(None)
        } else {
            Limit(Some(n))
        }
    }

    /// Parses a limit with git's `GIT_MMAP_LIMIT` syntax (see the module docs).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BadLimit`] if `s` is empty, contains `-`, has no digits,
    /// has anything but one `k`/`m`/`g` after the number, or overflows `u64`.
    pub fn parse(s: &str) -> Result<Limit> {
        parse_size(s).map(Limit::bytes)
    }

    /// The limit from `XMMAP_LIMIT`, read and parsed once per process; unset
    /// means no limit.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BadLimit`] naming the variable and its value if it does
    /// not parse; every later call returns the same error.
    pub fn from_env() -> Result<Limit> {
        static ENV: OnceLock<std::result::Result<Limit, String>> = OnceLock::new();
        let parsed = ENV.get_or_init(|| match std::env::var_os(ENV_VAR) {
            None => Ok(Limit::none()),
            Some(v) => {
                let text = v.to_string_lossy().into_owned();
                Limit::parse(&text).map_err(|_| text)
            }
        });
        match parsed {
            Ok(limit) => Ok(*limit),
            Err(text) => Err(Error::new(
                ErrorKind::BadLimit,
                format!(
                    "failed to parse {ENV_VAR}={text:?}: expected a size such as 4096, 0x1000, \
                     64k, 512m or 2g (0 or unset means no limit)"
                ),
            )),
        }
    }

    /// The limit in bytes, `None` when there is none.
    pub const fn get(&self) -> Option<u64> {
        self.0
    }

    /// Refuses `length` if it is over the limit.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LimitExceeded`] with git's message
    /// `attempting to mmap N over limit L`.
    pub fn check(&self, length: u64) -> Result<()> {
        match self.0 {
            Some(limit) if length > limit => Err(Error::new(
                ErrorKind::LimitExceeded { requested: length, limit },
                format!("attempting to mmap {length} over limit {limit}"),
            )),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("none"),
            Some(n) => write!(f, "{n} bytes ({})", human(n)),
        }
    }
}

/// Parses a size with git's `git_parse_ulong` rules: `strtoumax` base 0, then
/// an optional `k`/`m`/`g` (either case, powers of 1024) and nothing else.
///
/// Used for `XMMAP_LIMIT`, window cache sizes and the CLI's size arguments.
///
/// # Errors
///
/// [`ErrorKind::BadLimit`] naming the text, for the inputs git refuses.
///
/// # Examples
///
/// ```
/// assert_eq!(xmmap::limit::parse_size("1K")?, 1024);
/// assert_eq!(xmmap::limit::parse_size("010")?, 8);
/// assert!(xmmap::limit::parse_size("1kb").is_err());
/// # Ok::<(), xmmap::Error>(())
/// ```
pub fn parse_size(s: &str) -> Result<u64> {
    let bad = |why: &str| Error::new(ErrorKind::BadLimit, format!("invalid size {s:?}: {why}"));
    if s.is_empty() {
        return Err(bad("empty"));
    }
    // strtoumax would accept and negate a leading '-': git refuses any '-'.
    if s.contains('-') {
        return Err(bad("negative sizes are not allowed"));
    }
    let (value, rest) = strtoumax_base0(s).map_err(&bad)?;
    let factor: u64 = match rest {
        "" => 1,
        r if r.eq_ignore_ascii_case("k") => 1 << 10,
        r if r.eq_ignore_ascii_case("m") => 1 << 20,
        r if r.eq_ignore_ascii_case("g") => 1 << 30,
        _ => return Err(bad("expected a number followed by nothing or one of k, m, g")),
    };
    value.checked_mul(factor).ok_or_else(|| bad("too large"))
}

/// C's `strtoumax(s, &end, 0)`: returns the value and the unparsed rest.
fn strtoumax_base0(s: &str) -> std::result::Result<(u64, &str), &'static str> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    if i < b.len() && b[i] == b'+' {
        i += 1;
    }
    let (radix, digits_start) = if b.get(i) == Some(&b'0')
        && matches!(b.get(i + 1), Some(b'x' | b'X'))
        && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        (16, i + 2)
    } else if b.get(i) == Some(&b'0') {
        (8, i)
    } else {
        (10, i)
    };
    let mut j = digits_start;
    let mut value: u64 = 0;
    while let Some(d) = b.get(j).and_then(|&c| (c as char).to_digit(radix)) {
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or("too large")?;
        j += 1;
    }
    if j == digits_start {
        return Err("no digits");
    }
    Ok((value, &s[j..]))
}

/// A resource limit: soft and hard values, `None` when unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceLimit {
    /// The soft (current) limit.
    pub soft: Option<u64>,
    /// The hard (maximum) limit.
    pub hard: Option<u64>,
}

impl ResourceLimit {
    fn get(r: sys::Resource) -> ResourceLimit {
        let l = sys::getrlimit(r);
        ResourceLimit { soft: l.current, hard: l.maximum }
    }
}

impl fmt::Display for ResourceLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: Option<u64>| v.map_or_else(|| "unlimited".to_string(), |n| n.to_string());
        write!(f, "{} (hard {})", show(self.soft), show(self.hard))
    }
}

/// The limits that decide whether a mapping can be made, read now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resources {
    /// `RLIMIT_DATA`: private writable mappings count against it.
    pub data: ResourceLimit,
    /// `RLIMIT_AS`: the address space.
    pub address_space: ResourceLimit,
    /// `RLIMIT_MEMLOCK`: locked memory (`locked`, `lock`).
    pub memlock: ResourceLimit,
    /// `RLIMIT_NOFILE`: open descriptors.
    pub nofile: ResourceLimit,
    /// `vm.max_map_count`: mappings per process.
    pub max_map_count: Option<u64>,
    /// This process's mappings now (lines of `/proc/self/maps`).
    pub map_count: Option<usize>,
    /// `vm.overcommit_memory`: 0 heuristic, 1 always, 2 never.
    pub overcommit: Option<u64>,
}

impl Resources {
    /// Reads the limits now.
    pub fn current() -> Resources {
        Resources {
            data: ResourceLimit::get(sys::Resource::Data),
            address_space: ResourceLimit::get(sys::Resource::As),
            memlock: ResourceLimit::get(sys::Resource::Memlock),
            nofile: ResourceLimit::get(sys::Resource::Nofile),
            max_map_count: sys::max_map_count(),
            map_count: sys::map_count().ok(),
            overcommit: sys::overcommit_mode(),
        }
    }
}

/// git's hint for `ENOMEM`, with the values in force now.
pub(crate) fn enomem_hint() -> String {
    let r = Resources::current();
    let opt = |v: Option<u64>| v.map_or_else(|| "unknown".to_string(), |n| n.to_string());
    let soft = |l: ResourceLimit| l.soft.map_or_else(|| "unlimited".to_string(), human);
    format!(
        "vm.max_map_count = {}, mappings now = {}, RLIMIT_DATA = {}, RLIMIT_AS = {}",
        opt(r.max_map_count),
        r.map_count.map_or_else(|| "unknown".to_string(), |n| n.to_string()),
        soft(r.data),
        soft(r.address_space),
    )
}

/// The text git prints before the OS error when mmap fails with ENOMEM.
pub(crate) const ENOMEM_MESSAGE: &str =
    "mmap failed, check sys.vm.max_map_count and/or RLIMIT_DATA";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_mmap_limit_table() {
        let ok: &[(&str, Option<u64>)] = &[
            ("0", None),
            ("1", Some(1)),
            ("4096", Some(4096)),
            ("0x10", Some(16)),
            ("0X10", Some(16)),
            ("010", Some(8)),
            ("1k", Some(1024)),
            ("1K", Some(1024)),
            ("2m", Some(2 << 20)),
            ("2M", Some(2 << 20)),
            ("3g", Some(3 << 30)),
            ("3G", Some(3 << 30)),
            ("0x10k", Some(16 << 10)),
            ("010m", Some(8 << 20)),
            (" 12", Some(12)),
            ("+12", Some(12)),
            ("18446744073709551615", Some(u64::MAX)),
            ("17179869183g", Some(17_179_869_183 << 30)),
        ];
        for &(text, want) in ok {
            assert_eq!(Limit::parse(text).map(|l| l.get()).ok(), Some(want), "{text:?}");
        }
        let bad = [
            "",
            "-1",
            "-0",
            "1-",
            "k",
            "x",
            "0x",
            "0xg",
            "08",
            "1kb",
            "1 k",
            "1k ",
            "12 ",
            "1t",
            "1.5",
            "abc",
            " ",
            "+",
            "18446744073709551616",
            "17179869184g",
            "1kk",
            "0b1",
        ];
        for text in bad {
            let err = Limit::parse(text).expect_err(text);
            assert_eq!(err.kind(), &ErrorKind::BadLimit, "{text:?}");
            assert!(err.to_string().contains(&format!("{text:?}")), "{err}");
        }
    }

    #[test]
    fn limit_check_is_strictly_greater_than() {
        let l = Limit::bytes(4096);
        assert!(l.check(4096).is_ok());
        let e = l.check(4097).unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::LimitExceeded { requested: 4097, limit: 4096 });
        assert_eq!(e.to_string(), "attempting to mmap 4097 over limit 4096");
        assert!(Limit::none().check(u64::MAX).is_ok());
        assert_eq!(Limit::bytes(0), Limit::none());
    }

    #[test]
    fn enomem_hint_names_every_limit() {
        let h = enomem_hint();
        for word in ["vm.max_map_count", "mappings now", "RLIMIT_DATA", "RLIMIT_AS"] {
            assert!(h.contains(word), "{h}");
        }
    }
}
