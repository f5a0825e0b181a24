//! The pure arithmetic of windows: where a window starts and what it
//! serves, and which window or descriptor to give up first. No system call.

/// The window for `offset` in a file of `file_len` bytes: its start and
/// length (git's `use_pack`). `window` is even and `offset < file_len`.
pub(super) fn window_for(offset: u64, window: u64, file_len: u64) -> (u64, usize) {
    let half = window / 2;
    let start = offset / half * half;
    (start, (file_len - start).min(window) as usize)
}

/// The first offset the window `start..start + len` no longer serves: it
/// serves `offset` if `offset + overlap` lies inside it (git's `in_window`)
/// or it runs to end-of-file; never an offset at its end.
pub(super) fn serves_until(start: u64, len: usize, file_len: u64, overlap: usize) -> u64 {
    let end = start + len as u64;
    if end == file_len {
        end
    } else {
        // A window that stops before end-of-file is a full window, longer
        // than twice the overlap, so this stays above `start`.
        end + 1 - (overlap as u64).max(1)
    }
}

/// The key (smallest first) by which a file's descriptor is chosen to be
/// closed: files with no windows, then files none of whose windows is in
/// use, then the rest (closing a descriptor never unmaps); within each,
/// the one whose newest window (or, without windows, whose last use) is
/// oldest. git's `find_lru_pack`.
pub(super) fn close_rank(windows: usize, pinned: usize, newest_use: u64) -> (u8, u64) {
    let class = match (windows, pinned) {
        (0, _) => 0,
        (_, 0) => 1,
        _ => 2,
    };
    (class, newest_use)
}

/// The least recently used of `(key, last_used, in_use)`, among those not
/// in use. git's `unuse_one_window`.
pub(super) fn least_recently_used<K>(items: impl IntoIterator<Item = (K, u64, bool)>) -> Option<K> {
    items
        .into_iter()
        .filter(|&(_, _, in_use)| !in_use)
        .min_by_key(|&(_, used, _)| used)
        .map(|i| i.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::Rng;

    #[test]
    fn new_windows_start_on_half_window_boundaries_and_hold_the_overlap() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..100_000 {
            let page = 1u64 << (12 + rng.below(5));
            let window = (1 + rng.below(8)) * 2 * page;
            let file_len = 1 + rng.below(20 * window);
            let overlap = rng.below(window / 2 + 1) as usize;
            let offset = rng.below(file_len);
            let (start, len) = window_for(offset, window, file_len);
            assert_eq!(start % (window / 2), 0);
            assert_eq!(start % page, 0, "windows start on a page");
            assert!(start <= offset && offset < start + len as u64);
            assert!(len as u64 <= window && start + len as u64 <= file_len);
            // The window made for an offset always serves it.
            assert!((start..serves_until(start, len, file_len, overlap)).contains(&offset));
            if start + (len as u64) < file_len {
                assert!(offset + overlap as u64 <= start + len as u64);
            }
        }
    }

    #[test]
    fn every_byte_lies_in_at_most_two_windows() {
        let window = 8192u64;
        let file_len = 10 * window + 123;
        let starts: Vec<u64> = (0..file_len)
            .step_by(97)
            .map(|o| window_for(o, window, file_len).0)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for b in (0..file_len).step_by(61) {
            let n = starts
                .iter()
                .filter(|&&s| {
                    let (_, len) = window_for(s, window, file_len);
                    (s..s + len as u64).contains(&b)
                })
                .count();
            assert!((1..=2).contains(&n), "byte {b} in {n} windows");
        }
    }

    #[test]
    fn a_hit_needs_the_overlap_unless_the_window_reaches_end_of_file() {
        // git's in_window: offset + 20 <= end.
        assert_eq!(serves_until(8192, 8192, 1 << 20, 20), 16384 - 19);
        assert!(!(8192..serves_until(8192, 8192, 1 << 20, 20)).contains(&(16384 - 19)));
        assert!((8192..serves_until(8192, 8192, 1 << 20, 20)).contains(&(16384 - 20)));
        // The last window serves up to its last byte.
        assert_eq!(serves_until(8192, 100, 8292, 20), 8292);
        // Without overlap, never the offset at the end of the window.
        assert_eq!(serves_until(0, 8192, 1 << 20, 0), 8192);
        assert_eq!(serves_until(0, 8192, 1 << 20, 1), 8192);
    }

    #[test]
    fn lru_picks_the_oldest_unused_window() {
        let items = [("a", 5, false), ("b", 2, true), ("c", 3, false), ("d", 9, false)];
        assert_eq!(least_recently_used(items), Some("c"));
        assert_eq!(least_recently_used([("a", 1, true), ("b", 2, true)]), None);
        assert_eq!(least_recently_used(Vec::<(u8, u64, bool)>::new()), None);
        let mut rng = Rng(77);
        for _ in 0..1000 {
            let items: Vec<(usize, u64, bool)> = (0..rng.below(10) as usize)
                .map(|i| (i, rng.below(50), rng.below(3) == 0))
                .collect();
            match least_recently_used(items.clone()) {
                Some(k) => {
                    assert!(!items[k].2);
                    assert!(items.iter().filter(|i| !i.2).all(|i| i.1 >= items[k].1));
                }
                None => assert!(items.iter().all(|i| i.2)),
            }
        }
    }

    #[test]
    fn files_without_windows_are_closed_first_then_the_stalest() {
        let no_windows = close_rank(0, 0, 100);
        let unused_old = close_rank(3, 0, 5);
        let unused_new = close_rank(3, 0, 50);
        let pinned_old = close_rank(1, 1, 1);
        assert!(no_windows < unused_old && unused_old < unused_new && unused_new < pinned_old);
    }
}
