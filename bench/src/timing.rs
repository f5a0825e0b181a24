//! Timing: every method of a comparison runs in the same rounds, one sample
//! each per round, in a rotating order; the figure reported is the median
//! sample. On a shared, noisy machine a neighbour then slows every method of
//! a round alike, and the ratios of medians stay put.

use std::hint::black_box;
use std::io;
use std::time::{Duration, Instant};

use crate::input::Input;
use crate::method::Method;
use crate::report::{Measurement, Section};

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Samples per method and input (the median of these is reported).
    pub rounds: usize,
    /// Each sample repeats the call until it takes at least this long, so
    /// that short calls are not lost in the clock's resolution.
    pub min_sample: Duration,
    /// Check that every method returned the same kernel result.
    pub check_results: bool,
}

impl Plan {
    /// `rounds` samples of at least `min_sample` each, results checked.
    pub fn new(rounds: usize, min_sample: Duration) -> Plan {
        Plan { rounds: rounds.max(1), min_sample, check_results: true }
    }
}

/// Measures every method on every input and returns the section, titled
/// `title`, with one [`Measurement`] per (method, input).
///
/// # Errors
///
/// A method fails, or (with [`Plan::check_results`]) two methods disagree
/// on the kernel's result for the same input.
pub fn compare(
    title: &str,
    inputs: &[Input],
    methods: &mut [Method<'_>],
    plan: &Plan,
) -> io::Result<Section> {
    let mut section = Section::new(title);
    for input in inputs {
        // Warm-up: one call each (loads the ceiling's buffer, faults in the
        // code), then the number of calls per sample.
        let mut iters = Vec::with_capacity(methods.len());
        let mut first: Option<(String, u64)> = None;
        for m in methods.iter_mut() {
            let t = Instant::now();
            let r = m.run(input)?;
            let mut once = t.elapsed();
            if once < plan.min_sample / 4 {
                // Time a few calls: one short call says little.
                let t = Instant::now();
                for _ in 0..8 {
                    black_box(m.run(input)?);
                }
                once = t.elapsed() / 8;
            }
            let n = (plan.min_sample.as_nanos() / once.as_nanos().max(1)).max(1);
            iters.push(n.min(1 << 24) as u32);
            if plan.check_results {
                match &first {
                    None => first = Some((m.name().to_string(), r)),
                    Some((name, want)) if *want != r => {
                        return Err(io::Error::other(format!(
                            "{title}: {} and {name} disagree on {} ({r:#x} vs {want:#x})",
                            m.name(),
                            input.path.display()
                        )))
                    }
                    Some(_) => {}
                }
            }
        }
        let mut samples = vec![Vec::with_capacity(plan.rounds); methods.len()];
        for round in 0..plan.rounds {
            for j in 0..methods.len() {
                let i = (j + round) % methods.len();
                let t = Instant::now();
                for _ in 0..iters[i] {
                    black_box(methods[i].run(input)?);
                }
                samples[i].push(t.elapsed().as_nanos() as f64 / f64::from(iters[i]));
            }
        }
        for (m, (s, n)) in methods.iter().zip(samples.into_iter().zip(iters)) {
            section.measurements.push(Measurement::from_samples(m.name(), input.size, s, n));
        }
    }
    Ok(section)
}
