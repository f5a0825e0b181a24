//! Page size, huge page sizes and alignment arithmetic.
//!
//! Pure, checked arithmetic over sizes the OS reports. Nothing here assumes a
//! 4 KiB page: the size comes from the auxiliary vector
//! (`sysconf(_SC_PAGESIZE)`), and huge page sizes from sysfs.
//! May call: `sys`.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::sys;

/// The size of a memory page in bytes, as `sysconf(_SC_PAGESIZE)` and
/// `getconf PAGESIZE` report it.
///
/// # Examples
///
/// ```
/// let page = xmmap::page_size();
/// assert!(page.is_power_of_two());
/// ```
pub fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    match PAGE.load(Ordering::Relaxed) {
        0 => {
            let p = sys::page_size();
            PAGE.store(p, Ordering::Relaxed);
            p
        }
        p => p,
    }
}

/// One huge page size the kernel supports, with its hugetlb pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HugePageSize {
    /// Page size in bytes.
    pub size: u64,
    /// Pages in the pool (`nr_hugepages`).
    pub pages: u64,
    /// Pages in the pool not in use (`free_hugepages`).
    pub free: u64,
}

impl HugePageSize {
    /// `log2(size)`, the value [`MapOptions::huge`](crate::MapOptions::huge) takes.
    pub fn bits(&self) -> u8 {
        self.size.trailing_zeros() as u8
    }
}

/// The huge page sizes this kernel supports, smallest first, with their pools
/// (from `/sys/kernel/mm/hugepages`). Empty where there are none or on
/// platforms without a backend.
pub fn huge_page_sizes() -> Vec<HugePageSize> {
    sys::huge_page_pools()
        .into_iter()
        .map(|(size, pages, free)| HugePageSize { size, pages, free })
        .collect()
}

/// The default huge page size (`Hugepagesize` in `/proc/meminfo`), used by
/// `MapOptions::huge(None)`.
pub fn default_huge_page_size() -> Option<u64> {
    sys::default_huge_page_size()
}

/// The transparent huge page mode (`always`, `madvise` or `never`), if known.
pub fn transparent_huge_pages() -> Option<String> {
    sys::thp_mode()
}

/// `x` rounded down to a multiple of `align` (a power of two).
#[inline]
pub(crate) const fn align_down(x: u64, align: u64) -> u64 {
    x & !(align - 1)
}

/// `x` rounded up to a multiple of `align` (a power of two), `None` on overflow.
#[inline]
pub(crate) const fn align_up(x: u64, align: u64) -> Option<u64> {
    match x.checked_add(align - 1) {
        Some(y) => Some(y & !(align - 1)),
        None => None,
    }
}

/// Number of `page`-sized pages that cover `len` bytes starting `start` bytes
/// into a page-aligned region.
#[inline]
#[allow(dead_code)] // for residency
pub(crate) fn pages_covering(start: usize, len: usize, page: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let first = start / page;
    let last = (start + len - 1) / page;
    last - first + 1
}

/// `n` bytes as a short human-readable figure (`4 KiB`, `1.5 GiB`).
pub(crate) fn human(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::Rng;

    #[test]
    fn page_size_is_a_power_of_two_and_stable() {
        let p = page_size();
        assert!(p.is_power_of_two() && p >= 4096);
        assert_eq!(p, page_size());
    }

    #[test]
    fn align_down_and_up_bracket_every_value() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..100_000 {
            let align = 1u64 << (rng.next() % 31);
            let x = rng.next() >> (rng.next() % 64);
            let d = align_down(x, align);
            assert!(d <= x && x - d < align && d % align == 0);
            match align_up(x, align) {
                Some(u) => assert!(u >= x && u - x < align && u % align == 0),
                None => assert!(x > u64::MAX - (align - 1)),
            }
        }
    }

    #[test]
    fn align_up_reports_overflow() {
        assert_eq!(align_up(u64::MAX, 4096), None);
        assert_eq!(align_up(u64::MAX - 4095, 4096), Some(u64::MAX - 4095));
        assert_eq!(align_up(0, 4096), Some(0));
    }

    #[test]
    fn pages_covering_counts_partial_pages() {
        let p = page_size();
        assert_eq!(pages_covering(0, 0, p), 0);
        assert_eq!(pages_covering(0, 1, p), 1);
        assert_eq!(pages_covering(p - 1, 2, p), 2);
        assert_eq!(pages_covering(0, p, p), 1);
        assert_eq!(pages_covering(1, p, p), 2);
        let mut rng = Rng(12345);
        for _ in 0..2_000 {
            let start = (rng.next() % (8 * p as u64)) as usize;
            let len = (rng.next() % (8 * p as u64)) as usize;
            let naive =
                (start..start + len).map(|b| b / p).collect::<std::collections::BTreeSet<_>>();
            assert_eq!(pages_covering(start, len, p), naive.len());
        }
    }

    #[test]
    fn huge_page_sizes_are_powers_of_two_above_the_page() {
        for h in huge_page_sizes() {
            assert!(h.size.is_power_of_two() && h.size > page_size() as u64);
            assert_eq!(1u64 << h.bits(), h.size);
            assert!(h.free <= h.pages);
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(4096), "4 KiB");
        assert_eq!(human(1536 * 1024 * 1024), "1.5 GiB");
    }
}
