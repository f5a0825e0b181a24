//! The scan kernel: every method hands its bytes to [`xor`], so that the
//! methods differ only in how the bytes reach memory.

/// The xor of `bytes` read as native-endian `u64` words (the tail of fewer
/// than 8 bytes is folded in byte by byte). Eight independent accumulators
/// let the compiler keep the loop at memory speed.
///
/// # Examples
///
/// ```
/// assert_eq!(xmmap_bench::kernel::xor(&[]), 0);
/// assert_eq!(xmmap_bench::kernel::xor(&[1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]), 0);
/// assert_eq!(xmmap_bench::kernel::xor(&[7]), 7);
/// ```
#[inline]
pub fn xor(bytes: &[u8]) -> u64 {
    let mut acc = [0u64; 8];
    let mut blocks = bytes.chunks_exact(64);
    for block in &mut blocks {
        for (a, word) in acc.iter_mut().zip(block.chunks_exact(8)) {
            *a ^= u64::from_ne_bytes(word.try_into().expect("8 bytes"));
        }
    }
    let mut x = acc.iter().fold(0, |x, a| x ^ a);
    let rest = blocks.remainder();
    let mut words = rest.chunks_exact(8);
    for word in &mut words {
        x ^= u64::from_ne_bytes(word.try_into().expect("8 bytes"));
    }
    for &b in words.remainder() {
        x ^= u64::from(b);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::xor;

    /// The naive model: words then tail bytes.
    fn naive(bytes: &[u8]) -> u64 {
        let mut x = 0;
        let words = bytes.len() / 8 * 8;
        for w in bytes[..words].chunks(8) {
            x ^= u64::from_ne_bytes(w.try_into().unwrap());
        }
        for &b in &bytes[words..] {
            x ^= u64::from(b);
        }
        x
    }

    #[test]
    fn xor_matches_the_naive_model_at_every_length() {
        let data: Vec<u8> =
            (0..1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(xor(&data[..len]), naive(&data[..len]), "length {len}");
        }
    }
}
