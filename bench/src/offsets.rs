//! Offsets for positioned reads: uniformly random blocks, and a skewed
//! (zipf-like) draw in which a few blocks take most reads. Deterministic
//! for a seed, so every method of a comparison reads the same offsets.

use crate::rng::Rng;

/// `count` offsets of `block`-byte blocks drawn uniformly from the first
/// `blocks` blocks of a file.
///
/// # Examples
///
/// ```
/// let offs = xmmap_bench::offsets::uniform(1000, 16, 4096, 7);
/// assert!(offs.iter().all(|&o| o % 4096 == 0 && o < 16 * 4096));
/// ```
pub fn uniform(count: usize, blocks: u64, block: u64, seed: u64) -> Vec<u64> {
    let mut rng = Rng::new(seed);
    (0..count).map(|_| rng.below(blocks.max(1)) * block).collect()
}

/// `count` offsets of `block`-byte blocks with a zipf (s = 1) skew over
/// the first `blocks` blocks of a file: the block of rank `r` is read with
/// a probability proportional to `1 / r`. The ranks are shuffled over the
/// file, so the popular blocks are scattered, not clustered at its start.
///
/// # Examples
///
/// ```
/// let offs = xmmap_bench::offsets::zipf(10_000, 1024, 4096, 7);
/// let mut counts = std::collections::HashMap::new();
/// for o in &offs {
///     *counts.entry(o).or_insert(0) += 1;
/// }
/// let most = counts.values().max().copied().unwrap_or(0);
/// assert!(most > 10_000 / 1024 * 20, "the top block takes far more than its share");
/// ```
pub fn zipf(count: usize, blocks: u64, block: u64, seed: u64) -> Vec<u64> {
    let blocks = blocks.max(1);
    let mut rng = Rng::new(seed);
    // Rank r (0-based) -> block, a random permutation (Fisher-Yates).
    let mut place: Vec<u64> = (0..blocks).collect();
    for i in (1..place.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        place.swap(i, j);
    }
    zipf_placed(&mut rng, count, &place, block)
}

/// `count` offsets of `block`-byte blocks with a zipf (s = 1) skew over the
/// ranks of `place`: rank `r` (from 0) is block `place[r]`, read with a
/// probability proportional to `1 / (r + 1)`. For a caller that chooses
/// where the popular blocks lie (clustered at the start, or shuffled as
/// [`zipf`] does); no offsets when `place` is empty.
///
/// # Examples
///
/// ```
/// let mut rng = xmmap_bench::Rng::new(7);
/// let clustered: Vec<u64> = (0..64).collect();
/// let offs = xmmap_bench::offsets::zipf_placed(&mut rng, 1000, &clustered, 4096);
/// let first = offs.iter().filter(|&&o| o == 0).count();
/// assert!(first > 1000 / 64 * 5, "rank 0 is block 0 and takes far more than its share");
/// ```
pub fn zipf_placed(rng: &mut Rng, count: usize, place: &[u64], block: u64) -> Vec<u64> {
    let Some(last) = place.len().checked_sub(1) else { return Vec::new() };
    // Cumulative weights of 1/1, 1/2, ..., 1/place.len().
    let mut cumulative = Vec::with_capacity(place.len());
    let mut total = 0.0;
    for r in 1..=place.len() {
        total += 1.0 / r as f64;
        cumulative.push(total);
    }
    (0..count)
        .map(|_| {
            let u = rng.unit() * total;
            let rank = cumulative.partition_point(|&c| c < u).min(last);
            place[rank] * block
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_range_and_repeat_for_a_seed() {
        assert_eq!(uniform(100, 10, 8, 1), uniform(100, 10, 8, 1));
        assert!(uniform(1000, 10, 8, 2).iter().all(|&o| o < 80 && o % 8 == 0));
        let z = zipf(1000, 50, 4096, 3);
        assert!(z.iter().all(|&o| o < 50 * 4096 && o % 4096 == 0));
        assert_eq!(zipf(10, 1, 4096, 3), vec![0; 10]);
    }
}
