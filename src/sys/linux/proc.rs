//! Readers of the procfs and sysfs files that describe memory limits.

use std::io;

/// `/proc/sys/vm/max_map_count`: the most mappings one process may have.
pub(crate) fn max_map_count() -> Option<u64> {
    read_u64("/proc/sys/vm/max_map_count")
}

/// The number of lines of `/proc/self/maps`: this process's mappings now.
pub(crate) fn map_count() -> io::Result<usize> {
    let maps = std::fs::read("/proc/self/maps")?;
    Ok(maps.iter().filter(|&&b| b == b'\n').count())
}

/// `/proc/sys/vm/overcommit_memory`: 0 heuristic, 1 always, 2 never.
pub(crate) fn overcommit_mode() -> Option<u64> {
    read_u64("/proc/sys/vm/overcommit_memory")
}

/// The bracketed word of `/sys/kernel/mm/transparent_hugepage/enabled`.
pub(crate) fn thp_mode() -> Option<String> {
    let s = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").ok()?;
    let start = s.find('[')?;
    let end = s[start..].find(']')?;
    Some(s[start + 1..start + end].to_string())
}

/// The huge page sizes the kernel supports, with their pools:
/// `(size in bytes, nr_hugepages, free_hugepages)`, smallest first.
pub(crate) fn huge_page_pools() -> Vec<(u64, u64, u64)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/sys/kernel/mm/hugepages") else { return out };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(kb) = name
            .to_str()
            .and_then(|n| n.strip_prefix("hugepages-"))
            .and_then(|n| n.strip_suffix("kB"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        let path = entry.path();
        let nr = read_u64(path.join("nr_hugepages")).unwrap_or(0);
        let free = read_u64(path.join("free_hugepages")).unwrap_or(0);
        out.push((kb * 1024, nr, free));
    }
    out.sort_unstable();
    out
}

/// The default huge page size (`Hugepagesize:` of `/proc/meminfo`).
pub(crate) fn default_huge_page_size() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("Hugepagesize:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn read_u64(path: impl AsRef<std::path::Path>) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}
