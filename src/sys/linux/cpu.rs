//! How contended the CPUs are, from pressure stall information.

/// The `some avg10` figure of `/proc/pressure/cpu`: the share of the last
/// ten seconds (0–100) in which at least one runnable task waited for a
/// CPU. `None` without PSI (kernel before 4.20, or `psi=0`).
///
/// # References
/// - [PSI](https://docs.kernel.org/accounting/psi.html)
pub(crate) fn cpu_pressure_avg10() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/pressure/cpu").ok()?;
    let some = s.lines().find(|l| l.starts_with("some "))?;
    some.split_whitespace().find_map(|f| f.strip_prefix("avg10="))?.parse().ok()
}
