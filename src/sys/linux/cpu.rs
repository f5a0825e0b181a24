//! How busy the CPUs are now.

/// The tasks runnable right now, system-wide, this one included: the
/// numerator of the fourth field of `/proc/loadavg` (`running/total`).
/// `None` if the file cannot be read.
///
/// # References
/// - [proc_loadavg(5)](https://man7.org/linux/man-pages/man5/proc_loadavg.5.html)
pub(crate) fn runnable_tasks() -> Option<usize> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    s.split_whitespace().nth(3)?.split('/').next()?.parse().ok()
}
