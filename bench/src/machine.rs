//! What the figures were measured on.

use std::fmt;

use crate::files::Place;

/// The machine, as far as the figures depend on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// CPUs available to this process (`available_parallelism`: affinity
    /// and cgroup quota).
    pub cpus: usize,
    /// The CPU's model name (`/proc/cpuinfo`).
    pub cpu_model: String,
    /// `MemTotal` of `/proc/meminfo`, in bytes.
    pub memory: u64,
    /// The kernel release (`uname -r`).
    pub kernel: String,
    /// `/sys/kernel/mm/transparent_hugepage/enabled`, bracketed word.
    pub thp: String,
    /// `/sys/kernel/mm/transparent_hugepage/shmem_enabled`, bracketed word.
    pub shmem_thp: String,
    /// The page size.
    pub page_size: usize,
    /// The benchmark directories with their file system types.
    pub places: Vec<String>,
}

fn bracketed(path: &str) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    match (s.find('['), s.find(']')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].to_string(),
        _ => s.trim().to_string(),
    }
}

impl Machine {
    /// Reads what the figures depend on; `places` are the directories used.
    pub fn detect(places: &[Place]) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or_else(|| "unknown".to_string(), |m| m.trim().to_string());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024);
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            memory,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| "unknown".into(), |s| s.trim().to_string()),
            thp: bracketed("/sys/kernel/mm/transparent_hugepage/enabled"),
            shmem_thp: bracketed("/sys/kernel/mm/transparent_hugepage/shmem_enabled"),
            page_size: xmmap::page_size(),
            places: places.iter().map(Place::label).collect(),
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "machine: {} CPUs available, {}", self.cpus, self.cpu_model)?;
        writeln!(
            f,
            "  memory {:.1} GiB, kernel {}, page {} B, THP {} (shmem {})",
            self.memory as f64 / f64::from(1u32 << 30),
            self.kernel,
            self.page_size,
            self.thp,
            self.shmem_thp
        )?;
        writeln!(f, "  files in: {}", self.places.join(", "))
    }
}

/// How much of a second CPU this process gets now: the wall time of two
/// threads each doing a fixed amount of pure computation at once, over the
/// time of one thread doing it alone. About 1.0 means a second CPU is free
/// (a helper thread runs truly in parallel); about 2.0 means the threads
/// take turns on one CPU (other work holds the rest), and nothing that
/// relies on a second core can gain.
pub fn second_cpu_ratio() -> f64 {
    use std::time::Instant;
    fn spin() {
        let mut x = 0u64;
        for _ in 0..50_000_000u64 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
    let mut ratios = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        spin();
        let one = t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::thread::scope(|s| {
            s.spawn(spin);
            spin();
        });
        ratios.push(t.elapsed().as_secs_f64() / one);
    }
    crate::stats::median(&ratios)
}
