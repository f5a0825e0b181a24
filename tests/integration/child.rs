//! Child processes whose output the parent reads (`common::run_child`
//! discards it): for tests that report through a pipe or print a table.
//! Like `run_child`, each helper fails the test if the child never reached
//! its body (see `common::Proof`).
#![allow(dead_code)]

use std::process::{Child, Command, Output, Stdio};

use crate::common::{child_command, Proof, CHILD_ENV};

#[allow(unused_imports)] // where it was first defined
pub use crate::common::SKIP;

/// The test binary re-run for just `test`, as `common::run_child` does, with
/// stdout and stderr piped. Nothing checks that this child runs: prefer
/// [`output`] or [`spawn`], or arm a `common::Proof` and check it.
pub fn command(test: &str) -> Command {
    let exe = std::env::current_exe().expect("current test binary");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1", "-q"]).env(CHILD_ENV, test);
    piped(&mut cmd);
    cmd
}

fn piped(cmd: &mut Command) {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
}

/// Runs `test` in a child and returns what it printed.
///
/// # Panics
///
/// If the child did not reach its body.
pub fn output(test: &str, env: &[(&str, &str)]) -> Output {
    let proof = Proof::new(test);
    let mut cmd = child_command(test, &proof);
    cmd.arg("-q").envs(env.iter().copied());
    piped(&mut cmd);
    let out = cmd.output().expect("run child test process");
    if !proof.proved() {
        let _ = std::io::Write::write_all(&mut std::io::stderr(), &out.stderr);
    }
    proof.check(out.status);
    out
}

/// Spawns `test` in a child that keeps running, and returns once the child
/// has reached its body.
///
/// # Panics
///
/// If the child ends before it reaches its body.
pub fn spawn(test: &str, env: &[(&str, &str)]) -> Child {
    let proof = Proof::new(test);
    let mut cmd = child_command(test, &proof);
    cmd.arg("-q").envs(env.iter().copied());
    piped(&mut cmd);
    cmd.stderr(Stdio::inherit());
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

/// The child's stderr, for assertion messages.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
