//! Helpers shared by the integration tests, among them the one child-process
//! harness: [`run_child`], [`child_output`] and [`spawn_child`] re-run the
//! test binary for one test, which does its deadly part only when
//! [`is_child`] says so and proves it got there (see [`Proof`]).
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
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

/// The environment variable naming the file in which the child proves it ran:
/// [`is_child`] writes the test's name there before the child body starts.
pub const PROOF_ENV: &str = "XMMAP_TEST_CHILD_PROOF";

/// Set to `1`, a child that skips (exit code [`SKIP`]) fails its test instead.
pub const NO_SKIP_ENV: &str = "XMMAP_NO_SKIP";

/// Names a file to which every checked child run appends a line, `ran
/// <test>` or `skipped <test>: <reason>`: a count of the children that proved
/// themselves, and the skips of a whole run in one place.
pub const CHILD_LOG_ENV: &str = "XMMAP_CHILD_LOG";

/// Exit code a child uses to say "this machine cannot run the check"; see
/// [`skip`].
pub const SKIP: i32 = 77;

/// The full name of the test this is called in (`module::name`), as the
/// libtest filter wants it: taken from the code, so a rename cannot leave a
/// stale string behind.
macro_rules! this_test {
    () => {{
        fn f() {}
        $crate::common::test_name(std::any::type_name_of_val(&f))
    }};
}
#[allow(unused_imports)] // other modules use it by path
pub(crate) use this_test;

/// `integration::module::name::f` (the type name of a fn item declared in a
/// test, closures included) as `module::name`.
pub fn test_name(fn_item: &'static str) -> &'static str {
    let mut name = fn_item.strip_suffix("::f").expect("the fn item of this_test!");
    while let Some(outer) = name.strip_suffix("::{{closure}}") {
        name = outer;
    }
    name.split_once("::").map_or(name, |(_crate, path)| path)
}

/// Whether this process is the child of [`run_child`] for `test`. In the
/// child it also writes the proof [`run_child`] looks for, before returning,
/// so a child that dies of a signal in its body has proved it got there.
pub fn is_child(test: &str) -> bool {
    if !std::env::var(CHILD_ENV).is_ok_and(|v| v == test) {
        return false;
    }
    if let Ok(proof) = std::env::var(PROOF_ENV) {
        std::fs::write(&proof, test).unwrap_or_else(|e| panic!("write child proof {proof}: {e}"));
    }
    true
}

/// In the child: ends it with [`SKIP`] and `reason`, which the parent
/// reports as `SKIPPED: <test>: <reason>` (or fails on, under
/// [`NO_SKIP_ENV`]).
pub fn skip(reason: &str) -> ! {
    if let Ok(proof) = std::env::var(PROOF_ENV) {
        let _ = std::fs::write(
            &proof,
            format!("{}\n{reason}", std::env::var(CHILD_ENV).unwrap_or_default()),
        );
    }
    std::process::exit(SKIP)
}

/// In a test itself (not a child): reports that `test` could not run its
/// check here, as `SKIPPED: <test>: <reason>` written straight to stderr
/// (past libtest's capture of passing tests), and fails instead under
/// [`NO_SKIP_ENV`]. The caller returns after it.
pub fn skipped_here(test: &str, reason: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {reason}");
    if let Some(log) = std::env::var_os(CHILD_LOG_ENV) {
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(log) {
            let _ = writeln!(f, "skipped {test}: {reason}");
        }
    }
    assert!(
        std::env::var(NO_SKIP_ENV).as_deref() != Ok("1"),
        "test {test} skipped ({NO_SKIP_ENV}=1): {reason}"
    );
}

/// Whether a child's status says it skipped.
pub fn skipped(status: ExitStatus) -> bool {
    status.code() == Some(SKIP)
}

/// One child run's proof file: made by the parent before the spawn (its name
/// carries a fresh nonce), written by [`is_child`] in the child, checked by
/// [`Proof::check`] and removed on drop.
pub struct Proof {
    test: String,
    path: PathBuf,
}

impl Proof {
    /// A proof file name for a child run of `test`; nothing is created yet.
    pub fn new(test: &str) -> Proof {
        use std::hash::{BuildHasher, Hasher};
        static N: AtomicUsize = AtomicUsize::new(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(N.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(format!(
            "xmmap-child-proof-{}-{:016x}",
            std::process::id(),
            h.finish()
        ));
        Proof { test: test.to_owned(), path }
    }

    /// Sets the child's environment: who it is and where to prove it.
    pub fn arm(&self, cmd: &mut Command) {
        cmd.env(CHILD_ENV, &self.test).env(PROOF_ENV, &self.path);
    }

    /// Whether the child has proved it reached its body.
    pub fn proved(&self) -> bool {
        std::fs::read_to_string(&self.path).is_ok_and(|s| s.lines().next() == Some(&self.test))
    }

    /// After the child ended with `status`: panics unless it ran its body
    /// (no test of that name, or one that never asks [`is_child`], runs zero
    /// tests and exits 0). Reports a skip, and fails it under
    /// [`NO_SKIP_ENV`].
    pub fn check(&self, status: ExitStatus) {
        self.check_with(status, std::env::var(NO_SKIP_ENV).as_deref() == Ok("1"));
    }

    /// [`Proof::check`], with skips failing when `no_skip`.
    pub fn check_with(&self, status: ExitStatus, no_skip: bool) {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        assert!(
            self.proved(),
            "child test {} did not run (ended {status:?}): no test of that name, or it never \
             asked is_child",
            self.test
        );
        let reason = text.split_once('\n').map_or("no reason given", |(_, r)| r);
        if skipped(status) {
            self.log(&format!("skipped {}: {reason}", self.test));
        } else {
            self.log(&format!("ran {}", self.test));
        }
        if skipped(status) {
            // Straight to the stream, past libtest's capture of passing tests.
            let _ = writeln!(std::io::stderr(), "SKIPPED: {}: {reason}", self.test);
            assert!(!no_skip, "child test {} skipped ({NO_SKIP_ENV}=1): {reason}", self.test);
        }
    }
}

impl Proof {
    /// Appends `line` to the [`CHILD_LOG_ENV`] file, if one is named.
    pub fn log(&self, line: &str) {
        if let Some(log) = std::env::var_os(CHILD_LOG_ENV) {
            let mut f =
                OpenOptions::new().create(true).append(true).open(log).expect("open child log");
            writeln!(f, "{line}").expect("append to child log");
        }
    }
}

impl Drop for Proof {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The test binary re-run for just `test`, its environment armed by `proof`.
/// Every child below is made here.
pub fn child_command(test: &str, proof: &Proof) -> Command {
    let exe = std::env::current_exe().expect("current test binary");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1", "-q"]);
    proof.arm(&mut cmd);
    cmd
}

/// [`child_command`] for `test` with `env` added and stdin closed, with its
/// proof.
fn armed_child(test: &str, env: &[(&str, &str)]) -> (Command, Proof) {
    let proof = Proof::new(test);
    let mut cmd = child_command(test, &proof);
    cmd.envs(env.iter().copied()).stdin(Stdio::null());
    (cmd, proof)
}

/// Re-runs the test binary for just `test` (its full path, `module::name`;
/// [`this_test!`] gives it) with [`CHILD_ENV`] set, and returns how the
/// child ended. A test that would kill the process does its deadly part only
/// when [`is_child`] says so.
///
/// # Panics
///
/// If the child did not reach its body (see [`Proof::check`]).
pub fn run_child(test: &str) -> ExitStatus {
    run_child_with(test, &[])
}

/// [`run_child`] with extra environment variables.
pub fn run_child_with(test: &str, env: &[(&str, &str)]) -> ExitStatus {
    let (mut cmd, proof) = armed_child(test, env);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let status = cmd.status().expect("spawn child test process");
    proof.check(status);
    status
}

/// [`run_child_with`], for a child whose output the parent reads (one that
/// reports through a pipe or prints a table): returns what it printed.
///
/// # Panics
///
/// If the child did not reach its body.
pub fn child_output(test: &str, env: &[(&str, &str)]) -> Output {
    let (mut cmd, proof) = armed_child(test, env);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = cmd.output().expect("run child test process");
    if !proof.proved() {
        let _ = std::io::stderr().write_all(&out.stderr);
    }
    proof.check(out.status);
    out
}

/// Spawns `test` in a child that keeps running, its stdin closed, stdout
/// piped and stderr inherited, and returns once the child has reached its
/// body.
///
/// # Panics
///
/// If the child ends before it reaches its body.
pub fn spawn_child(test: &str, env: &[(&str, &str)]) -> Child {
    let (mut cmd, proof) = armed_child(test, env);
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().expect("spawn child test process");
    // Waits for an event (the proof, or the child's end), not for a time.
    loop {
        if proof.proved() {
            proof.log(&format!("ran {test}"));
            return child;
        }
        if let Some(status) = child.try_wait().expect("wait for child test process") {
            proof.check(status);
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// A child's stderr, for assertion messages.
pub fn child_stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The signal that ended a child, if one did.
pub fn signal_of(status: ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

// The harness itself: a child that does not run must fail its parent.

#[test]
#[should_panic(expected = "child test common::no_such_test did not run")]
fn a_misspelled_child_name_fails_run_child() {
    run_child("common::no_such_test");
}

#[test]
#[should_panic(expected = "did not run")]
fn a_misspelled_child_name_fails_child_output() {
    child_output("common::no_such_test", &[]);
}

#[test]
#[should_panic(expected = "did not run")]
fn a_misspelled_child_name_fails_child_spawn() {
    let _ = spawn_child("common::no_such_test", &[]).wait();
}

#[test]
fn a_test_that_never_asks_is_child() {}

#[test]
#[should_panic(expected = "child test common::a_test_that_never_asks_is_child did not run")]
fn a_child_that_never_asks_is_child_fails_run_child() {
    run_child("common::a_test_that_never_asks_is_child");
}

#[test]
fn a_real_child_proves_it_ran() {
    let name = this_test!();
    assert_eq!(name, "common::a_real_child_proves_it_ran");
    if is_child(name) {
        std::process::exit(0);
    }
    assert!(run_child(name).success());
    assert!(child_output(name, &[]).status.success());
    assert!(spawn_child(name, &[]).wait().unwrap().success());
}

#[test]
fn a_child_killed_by_a_signal_in_its_body_has_proved_it_ran() {
    let name = this_test!();
    if is_child(name) {
        std::process::abort();
    }
    assert_eq!(signal_of(run_child(name)), Some(libc::SIGABRT));
}

#[test]
fn a_skipping_child_is_reported_and_fails_under_no_skip() {
    let name = this_test!();
    if is_child(name) {
        skip("the harness test of skips");
    }
    let run = || {
        let proof = Proof::new(name);
        let mut cmd = child_command(name, &proof);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        (cmd.status().unwrap(), proof)
    };
    // Reported (the SKIPPED line is in this test's output), not failed.
    let (status, proof) = run();
    assert!(skipped(status), "{status:?}");
    proof.check_with(status, false);
    let (status, proof) = run();
    let fail = std::panic::catch_unwind(|| proof.check_with(status, true)).unwrap_err();
    let msg = fail.downcast_ref::<String>().unwrap();
    assert!(msg.contains("skipped") && msg.contains("the harness test of skips"), "{msg}");
}

#[test]
fn this_test_names_the_enclosing_test_from_a_closure_too() {
    let in_closure = || this_test!();
    let name = std::hint::black_box(in_closure)();
    assert_eq!(name, "common::this_test_names_the_enclosing_test_from_a_closure_too");
}

/// Whether xmmap runs its POSIX backend (macOS's and FreeBSD's) here:
/// built with `RUSTFLAGS="--cfg xmmap_posix"`. Tests of Linux-only features
/// then assert the backend's documented `Unsupported` instead.
pub const POSIX: bool = cfg!(xmmap_posix);

/// Asserts that `r` failed with `Unsupported` and that the message names
/// `what` (the flag, advice or call the platform lacks).
#[track_caller]
pub fn assert_unsupported<T: std::fmt::Debug>(r: Result<T, xmmap::Error>, what: &str) {
    let e = r.unwrap_err();
    assert_eq!(e.kind(), &xmmap::ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains(what), "{what} not named: {e}");
}

/// [`assert_unsupported`] for an `io::Result` (the memmap2 compat API).
#[track_caller]
pub fn assert_unsupported_io<T: std::fmt::Debug>(r: std::io::Result<T>, what: &str) {
    let e = r.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains(what), "{what} not named: {e}");
}
