//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A file in the temp dir, removed on drop.
pub struct TempFile {
    pub path: PathBuf,
}

impl TempFile {
    /// A new file holding `contents`.
    pub fn with(contents: &[u8]) -> TempFile {
        TempFile::in_dir(&std::env::temp_dir(), contents)
    }

    /// A new file in `dir` holding `contents`.
    pub fn in_dir(dir: &Path, contents: &[u8]) -> TempFile {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = dir.join(format!(
            "xmmap-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let mut f = File::create(&path).expect("create temp file");
        f.write_all(contents).expect("write temp file");
        TempFile { path }
    }

    /// Opened read-only.
    pub fn read(&self) -> File {
        File::open(&self.path).expect("open temp file")
    }

    /// Opened read-write.
    pub fn rw(&self) -> File {
        OpenOptions::new().read(true).write(true).open(&self.path).expect("open temp file rw")
    }

    /// The file's bytes now.
    pub fn contents(&self) -> Vec<u8> {
        std::fs::read(&self.path).expect("read temp file")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A small xorshift generator: property tests without a dependency.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// `len` bytes of a recognisable pattern.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Lines of /proc/self/maps: this process's mappings now.
pub fn map_count() -> usize {
    std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps").lines().count()
}

/// The environment variable that tells a re-executed test binary it is the child.
pub const CHILD_ENV: &str = "XMMAP_TEST_CHILD";

/// Whether this process is the child of [`run_child`] for `test`.
pub fn is_child(test: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == test)
}

/// Re-runs the test binary for just `test` (its full path, `module::name`)
/// with [`CHILD_ENV`] set, and returns how the child ended. A test that would
/// kill the process does its deadly part only when [`is_child`] says so.
pub fn run_child(test: &str) -> ExitStatus {
    run_child_with(test, &[])
}

/// [`run_child`] with extra environment variables.
pub fn run_child_with(test: &str, env: &[(&str, &str)]) -> ExitStatus {
    let exe = std::env::current_exe().expect("current test binary");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"]).env(CHILD_ENV, test);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    cmd.status().expect("spawn child test process")
}

/// The signal that ended a child, if one did.
pub fn signal_of(status: ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}
