//! Child processes whose output the parent reads (`common::run_child`
//! discards it): for tests that report through a pipe or print a table.
#![allow(dead_code)]

use std::process::{Child, Command, Output, Stdio};

use crate::common::CHILD_ENV;

/// The test binary re-run for just `test`, as `common::run_child` does, with
/// stdout and stderr piped.
pub fn command(test: &str) -> Command {
    let exe = std::env::current_exe().expect("current test binary");
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env(CHILD_ENV, test)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `test` in a child and returns what it printed.
pub fn output(test: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = command(test);
    cmd.envs(env.iter().copied());
    cmd.output().expect("run child test process")
}

/// Spawns `test` in a child that keeps running.
pub fn spawn(test: &str, env: &[(&str, &str)]) -> Child {
    let mut cmd = command(test);
    cmd.envs(env.iter().copied()).stderr(Stdio::inherit());
    cmd.spawn().expect("spawn child test process")
}

/// The child's stderr, for assertion messages.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit code a child uses to say "this machine cannot run the check".
pub const SKIP: i32 = 77;
