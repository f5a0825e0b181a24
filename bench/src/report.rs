//! Results as plain data: a [`Section`] holds its [`Measurement`]s and the
//! [`Ratio`]s drawn from them, prints as a table (`Display`), and has only
//! public fields of plain types, so a caller can serialise it as it likes.

use std::fmt;

use crate::stats::median;

/// Two times less than this fraction apart are not told apart: on a shared
/// machine the same call moves by more than that between runs.
pub const NOISE: f64 = 0.05;

/// One method on one input: the median time per call and its spread.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The method's name.
    pub method: String,
    /// The input's size in bytes.
    pub size: u64,
    /// Median nanoseconds per call over the samples.
    pub median_ns: f64,
    /// Fastest sample, nanoseconds per call.
    pub min_ns: f64,
    /// Slowest sample, nanoseconds per call.
    pub max_ns: f64,
    /// Samples taken (rounds).
    pub samples: usize,
    /// Calls per sample.
    pub calls_per_sample: u32,
    /// Every sample, nanoseconds per call, in round order (sample `i` of
    /// every method of a section was taken in the same round).
    pub samples_ns: Vec<f64>,
}

impl Measurement {
    /// Summarises `samples` (nanoseconds per call) of `method` on `size` bytes.
    pub fn from_samples(method: &str, size: u64, samples: Vec<f64>, calls: u32) -> Measurement {
        let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
        let max = samples.iter().copied().fold(0.0, f64::max);
        Measurement {
            method: method.to_string(),
            size,
            median_ns: median(&samples),
            min_ns: min,
            max_ns: max,
            samples: samples.len(),
            calls_per_sample: calls,
            samples_ns: samples,
        }
    }

    /// Throughput of the median call, in GB/s (10^9 bytes per second).
    pub fn gb_per_s(&self) -> f64 {
        self.size as f64 / self.median_ns
    }

    /// Spread of the samples, `(max - min) / median`, as a fraction.
    pub fn spread(&self) -> f64 {
        (self.max_ns - self.min_ns) / self.median_ns
    }
}

/// A goal for a ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The ratio should be at least this.
    AtLeast(f64),
    /// The ratio should be at most this.
    AtMost(f64),
}

impl Target {
    /// Whether `value` meets the target.
    pub fn met(&self, value: f64) -> bool {
        match *self {
            Target::AtLeast(t) => value >= t,
            Target::AtMost(t) => value <= t,
        }
    }
}

/// A named ratio drawn from a section's measurements, with its target.
#[derive(Debug, Clone, PartialEq)]
pub struct Ratio {
    /// What is compared, e.g. `fast path / ceiling (throughput)`.
    pub name: String,
    /// The ratio.
    pub value: f64,
    /// The goal, if there is one.
    pub target: Option<Target>,
}

/// One benchmark section: what was measured, and what it means.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Section {
    /// The title, e.g. `Sequential scan of a 1 GiB hot file, /dev/shm (tmpfs)`.
    pub title: String,
    /// Lines printed under the title: what each method does, conditions.
    pub notes: Vec<String>,
    /// The method the table's `vs` column divides by, if any.
    pub baseline: Option<String>,
    /// Every (method, input) measured.
    pub measurements: Vec<Measurement>,
    /// The ratios that matter, with targets.
    pub ratios: Vec<Ratio>,
}

impl Section {
    /// An empty section titled `title`.
    pub fn new(title: &str) -> Section {
        Section { title: title.to_string(), ..Section::default() }
    }

    /// The measurement of `method` on inputs of `size` bytes.
    pub fn get(&self, method: &str, size: u64) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.method == method && m.size == size)
    }

    /// Time of `a` over time of `b` on `size` bytes, above 1 when `a` is
    /// slower: the median of the per-round ratios when both were sampled in
    /// the same rounds (a noisy round then cancels out), else the ratio of
    /// the medians.
    pub fn time_ratio(&self, a: &str, b: &str, size: u64) -> Option<f64> {
        let (a, b) = (self.get(a, size)?, self.get(b, size)?);
        if a.samples_ns.len() == b.samples_ns.len() && !a.samples_ns.is_empty() {
            let r: Vec<f64> = a.samples_ns.iter().zip(&b.samples_ns).map(|(x, y)| x / y).collect();
            return Some(median(&r));
        }
        Some(a.median_ns / b.median_ns)
    }

    /// The least and the greatest per-round ratio of the time of `a` over
    /// the time of `b` on `size` bytes: how far the rounds scatter around
    /// [`time_ratio`](Self::time_ratio). `None` when either was not
    /// measured or their rounds do not line up.
    pub fn time_ratio_range(&self, a: &str, b: &str, size: u64) -> Option<(f64, f64)> {
        let (a, b) = (self.get(a, size)?, self.get(b, size)?);
        if a.samples_ns.len() != b.samples_ns.len() || a.samples_ns.is_empty() {
            return None;
        }
        let r = a.samples_ns.iter().zip(&b.samples_ns).map(|(x, y)| x / y);
        Some(r.fold((f64::INFINITY, 0.0), |(lo, hi), x| (lo.min(x), hi.max(x))))
    }

    /// Time of `a` over the time of the faster of `others` on `size` bytes:
    /// per round, `a` over the least of the others in that round, then the
    /// median (the ratio of medians when the rounds do not line up).
    pub fn time_ratio_to_best(&self, a: &str, others: &[&str], size: u64) -> Option<f64> {
        let a = self.get(a, size)?;
        let others: Vec<&Measurement> =
            others.iter().map(|o| self.get(o, size)).collect::<Option<_>>()?;
        let n = a.samples_ns.len();
        if n > 0 && others.iter().all(|o| o.samples_ns.len() == n) {
            let r: Vec<f64> = (0..n)
                .map(|i| {
                    let best = others.iter().map(|o| o.samples_ns[i]).fold(f64::INFINITY, f64::min);
                    a.samples_ns[i] / best
                })
                .collect();
            return Some(median(&r));
        }
        let best = others.iter().map(|o| o.median_ns).fold(f64::INFINITY, f64::min);
        Some(a.median_ns / best)
    }

    /// Nanoseconds per call that `a` takes beyond `b` on `size` bytes: the
    /// median of the per-round differences (of the medians when the rounds
    /// do not line up).
    pub fn time_diff(&self, a: &str, b: &str, size: u64) -> Option<f64> {
        let (a, b) = (self.get(a, size)?, self.get(b, size)?);
        if a.samples_ns.len() == b.samples_ns.len() && !a.samples_ns.is_empty() {
            let d: Vec<f64> = a.samples_ns.iter().zip(&b.samples_ns).map(|(x, y)| x - y).collect();
            return Some(median(&d));
        }
        Some(a.median_ns - b.median_ns)
    }

    /// Adds the ratio `name` = `value` with `target`; a missing value (a
    /// method that was not measured) is left out.
    pub fn add_ratio(&mut self, name: &str, value: Option<f64>, target: Option<Target>) {
        if let Some(value) = value {
            self.ratios.push(Ratio { name: name.to_string(), value, target });
        }
    }

    /// The sizes measured, ascending.
    pub fn sizes(&self) -> Vec<u64> {
        let mut s: Vec<u64> = self.measurements.iter().map(|m| m.size).collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    /// The methods measured, in the order first measured.
    pub fn methods(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in &self.measurements {
            if !out.contains(&m.method) {
                out.push(m.method.clone());
            }
        }
        out
    }

    /// The smallest size from which `b` is faster than `a` at every larger
    /// size measured (the crossover), `None` if `b` is not faster at the
    /// largest size.
    pub fn crossover(&self, a: &str, b: &str) -> Option<u64> {
        let mut from = None;
        for size in self.sizes().into_iter().rev() {
            match self.time_ratio(b, a, size) {
                Some(r) if r < 1.0 => from = Some(size),
                _ => break,
            }
        }
        from
    }

    /// Whether the [`crossover`](Self::crossover) from `a` to `b` is within
    /// the noise, so that another run could put it a size lower or higher:
    /// at the crossover size `a` was as fast as `b` in some round or is
    /// less than [`NOISE`] slower, or at the size below it `b` was faster in
    /// some round or is less than [`NOISE`] slower. `None` without a
    /// crossover, or with fewer than 3 rounds (too few to tell noise from a
    /// difference).
    pub fn crossover_within_noise(&self, a: &str, b: &str) -> Option<bool> {
        let at = self.crossover(a, b)?;
        if self.get(a, at)?.samples_ns.len() < 3 {
            return None;
        }
        // Time of a / time of b: above 1 where b is faster.
        let (lo, _) = self.time_ratio_range(a, b, at)?;
        let close = self.time_ratio(a, b, at)? < 1.0 + NOISE;
        let below = self.sizes().into_iter().rev().find(|&s| s < at);
        let close_below = below.is_some_and(|s| {
            self.time_ratio_range(a, b, s).is_some_and(|(_, hi)| hi > 1.0)
                || self.time_ratio(a, b, s).is_some_and(|r| r > 1.0 / (1.0 + NOISE))
        });
        Some(lo <= 1.0 || close || close_below)
    }
}

/// `n` bytes in the largest binary unit that divides it: `1 KiB`, `64 MiB`,
/// `1 GiB`, `2 TiB`, or `1000 B`. The one byte formatter of the benchmarks
/// and the command line.
pub fn size_label(n: u64) -> String {
    for (unit, name) in [(1u64 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
    {
        if n >= unit && n % unit == 0 {
            return format!("{} {name}", n / unit);
        }
    }
    format!("{n} B")
}

/// Nanoseconds as `850 ns`, `12.3 µs`, `81.2 ms`.
pub fn time_label(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "## {}", self.title)?;
        for n in &self.notes {
            writeln!(f, "  {n}")?;
        }
        let sizes = self.sizes();
        let methods = self.methods();
        let width = methods.iter().map(String::len).max().unwrap_or(6).max(6);
        if sizes.len() == 1 {
            let size = sizes[0];
            let vs = self.baseline.as_deref().unwrap_or("");
            writeln!(
                f,
                "  {:width$}  {:>10}  {:>8}  {:>8}  {:>7}",
                "method",
                "median",
                "GB/s",
                if vs.is_empty() { "" } else { "vs base" },
                "spread"
            )?;
            for m in methods.iter().filter_map(|name| self.get(name, size)) {
                let rel = self
                    .baseline
                    .as_deref()
                    .and_then(|b| self.time_ratio(b, &m.method, size))
                    .map_or_else(String::new, |r| format!("{r:.3}"));
                writeln!(
                    f,
                    "  {:width$}  {:>10}  {:>8.2}  {:>8}  {:>6.0}%",
                    m.method,
                    time_label(m.median_ns),
                    m.gb_per_s(),
                    rel,
                    m.spread() * 100.0
                )?;
            }
            if !vs.is_empty() {
                writeln!(
                    f,
                    "  (vs base = time of {vs} / time of the method, median of per-round ratios)"
                )?;
            }
        } else {
            write!(f, "  {:>8}", "size")?;
            for m in &methods {
                write!(f, "  {:>w$}", m, w = m.len().max(9))?;
            }
            if let Some(b) = &self.baseline {
                for m in methods.iter().filter(|m| *m != b) {
                    write!(f, "  {:>w$}", format!("{m}/{b}"), w = (m.len() + b.len() + 1))?;
                }
            }
            writeln!(f)?;
            for &size in &sizes {
                write!(f, "  {:>8}", size_label(size))?;
                for m in &methods {
                    let t =
                        self.get(m, size).map_or_else(|| "-".into(), |x| time_label(x.median_ns));
                    write!(f, "  {:>w$}", t, w = m.len().max(9))?;
                }
                if let Some(b) = &self.baseline {
                    for m in methods.iter().filter(|m| *m != b) {
                        let r = self
                            .time_ratio(m, b, size)
                            .map_or_else(|| "-".into(), |r| format!("{r:.2}"));
                        write!(f, "  {:>w$}", r, w = (m.len() + b.len() + 1))?;
                    }
                }
                writeln!(f)?;
            }
            if let Some(b) = &self.baseline {
                writeln!(
                    f,
                    "  (m/{b} = median time of m / median time of {b}: below 1 is faster)"
                )?;
            }
        }
        for r in &self.ratios {
            let verdict = match r.target {
                Some(t @ Target::AtLeast(v)) => {
                    format!(
                        "  target >= {v:.2}: {}",
                        if t.met(r.value) { "met" } else { "NOT met" }
                    )
                }
                Some(t @ Target::AtMost(v)) => {
                    format!(
                        "  target <= {v:.2}: {}",
                        if t.met(r.value) { "met" } else { "NOT met" }
                    )
                }
                None => String::new(),
            };
            writeln!(f, "  * {}: {:.3}{verdict}", r.name, r.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(method: &str, size: u64, ns: f64) -> Measurement {
        Measurement::from_samples(method, size, vec![ns], 1)
    }

    #[test]
    fn crossover_is_where_b_stays_faster() {
        let mut s = Section::new("t");
        for (size, a, b) in
            [(1, 1.0, 4.0), (2, 2.0, 1.5), (3, 3.0, 3.5), (4, 4.0, 2.0), (5, 5.0, 1.0)]
        {
            s.measurements.push(m("read", size, a));
            s.measurements.push(m("mmap", size, b));
        }
        assert_eq!(s.crossover("read", "mmap"), Some(4));
        assert_eq!(s.crossover("mmap", "read"), None);
        assert_eq!(s.time_ratio("mmap", "read", 5), Some(0.2));
    }

    #[test]
    fn a_crossover_is_within_noise_when_the_rounds_disagree_around_it() {
        let mut s = Section::new("t");
        // Per-round read/map: at 2, map wins every round; at 1, read every round.
        for (size, read, map) in
            [(1, [1.0; 3], [2.0; 3]), (2, [4.0; 3], [2.0; 3]), (3, [9.0; 3], [1.0; 3])]
        {
            s.measurements.push(Measurement::from_samples("read", size, read.to_vec(), 1));
            s.measurements.push(Measurement::from_samples("map", size, map.to_vec(), 1));
        }
        assert_eq!(s.crossover("read", "map"), Some(2));
        assert_eq!(s.time_ratio_range("read", "map", 2), Some((2.0, 2.0)));
        assert_eq!(s.crossover_within_noise("read", "map"), Some(false));
        // One round at 2 where read was as fast: the crossover is noise.
        s.measurements[3].samples_ns = vec![2.0, 4.0, 2.0];
        assert_eq!(s.crossover_within_noise("read", "map"), Some(true));
        // Or one round at 1 where map was faster.
        s.measurements[3].samples_ns = vec![2.0; 3];
        s.measurements[1].samples_ns = vec![2.0, 0.5, 2.0];
        assert_eq!(s.crossover_within_noise("read", "map"), Some(true));
        // Map faster in every round, but by less than NOISE.
        s.measurements[1].samples_ns = vec![2.0; 3];
        s.measurements[2].samples_ns = vec![2.02; 3];
        assert_eq!(s.crossover_within_noise("read", "map"), Some(true));
        // Two rounds are too few to tell.
        let mut t = Section::new("t");
        t.measurements.push(Measurement::from_samples("read", 1, vec![4.0, 4.0], 1));
        t.measurements.push(Measurement::from_samples("map", 1, vec![1.0, 1.0], 1));
        assert_eq!(t.crossover_within_noise("read", "map"), None);
    }

    #[test]
    fn ratio_to_the_best_and_differences_go_round_by_round() {
        let mut s = Section::new("t");
        for (name, samples) in [
            ("src", vec![10.0, 12.0, 30.0]),
            ("read", vec![8.0, 20.0, 10.0]),
            ("map", vec![9.0, 10.0, 40.0]),
        ] {
            s.measurements.push(Measurement::from_samples(name, 1, samples, 1));
        }
        // Per round: 10/8, 12/10, 30/10; the median is 1.25.
        assert_eq!(s.time_ratio_to_best("src", &["read", "map"], 1), Some(1.25));
        // Per round: 2, -8, 20; the median is 2.
        assert_eq!(s.time_diff("src", "read", 1), Some(2.0));
        assert_eq!(s.time_ratio_to_best("src", &["none"], 1), None);
    }

    #[test]
    fn targets_and_labels() {
        assert!(Target::AtLeast(0.9).met(0.95) && !Target::AtMost(1.1).met(1.2));
        assert_eq!(size_label(64 << 20), "64 MiB");
        assert_eq!(size_label(1000), "1000 B");
        assert_eq!(size_label(3 << 40), "3 TiB");
        assert_eq!(size_label((1 << 30) + (1 << 20)), "1025 MiB");
        assert_eq!(time_label(81_200_000.0), "81.2 ms");
        let mut s = Section::new("t");
        s.measurements.push(m("a", 1 << 30, 1e8));
        s.baseline = Some("a".into());
        s.add_ratio("a/a", s.time_ratio("a", "a", 1 << 30), Some(Target::AtMost(1.1)));
        let text = s.to_string();
        assert!(text.contains("10.74") && text.contains("met"), "{text}");
    }
}
