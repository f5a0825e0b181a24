//! Order statistics of samples: the one median every benchmark reports.

/// The median of `xs` (the mean of the middle two for an even count); NaN
/// when empty. Takes a `Vec`, an array or a slice, by value or reference.
///
/// # Examples
///
/// ```
/// assert_eq!(xmmap_bench::stats::median([3.0, 1.0, 2.0]), 2.0);
/// ```
pub fn median(xs: impl AsRef<[f64]>) -> f64 {
    let xs = xs.as_ref();
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median([]).is_nan());
        assert_eq!(median(vec![5.0]), 5.0);
    }
}
