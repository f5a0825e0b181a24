//! `-d`: lock the pages in a detached copy of this command that stays.
//!
//! The copy is this executable run again with the same arguments, in its
//! own process group (Ctrl-C at the terminal does not reach it), stdin from
//! `/dev/null` (or the paths this command read from its stdin for `-`). It locks, writes `-P PIDFILE`, then points its stdout and
//! stderr at `/dev/null` and waits to be killed (SIGTERM releases the
//! pages; the pid file is left behind).
//!
//! Without `-w` the command returns at once, as vmtouch's `-d` does, and
//! the copy's warnings go to the same stderr until it has locked. With
//! `-w` the command waits until the copy has locked every page, prints its
//! summary and exits 0; if the copy could lock nothing it exits with the
//! copy's error and status.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result};

/// Set in the copy's environment.
const CHILD: &str = "XMMAP_RESIDENCY_DAEMON";
/// The copy's last line on stdout once it holds its pages.
const READY: &str = "xmmap: daemon ready";

/// Whether this process is the detached copy.
pub(super) fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Starts the copy; with `wait`, returns once it holds its pages. `stdin`
/// is what this command read from its stdin (the paths of `-` or `-b -`),
/// handed to the copy as its stdin.
pub(super) fn start(wait: bool, stdin: Option<Vec<u8>>) -> Result<ExitCode> {
    let exe = std::env::current_exe().context("-d: cannot find this executable to start")?;
    let mut cmd = Command::new(exe);
    cmd.args(std::env::args_os().skip(1)).env(CHILD, "1").process_group(0);
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    if wait {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        cmd.stdout(Stdio::null());
    }
    let mut child = cmd.spawn().context("-d: cannot start the daemon")?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // The copy reads its list before anything else; closing the pipe
        // ends the list.
        pipe.write_all(&bytes).context("-d: cannot hand the paths to the daemon")?;
    }
    if !wait {
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(mut out_pipe), Some(mut err_pipe)) = (child.stdout.take(), child.stderr.take())
    else {
        anyhow::bail!("-d: the daemon's output pipes are missing");
    };
    // Read stderr beside stdout: many warnings must not fill its pipe
    // while stdout is read.
    let relay = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let mut out = Vec::new();
    out_pipe.read_to_end(&mut out).context("-d: cannot read the daemon's output")?;
    let err = relay.join().unwrap_or_default();
    std::io::stderr().write_all(&err)?;
    let text = String::from_utf8_lossy(&out);
    if let Some(summary) = text.strip_suffix(&format!("{READY}\n")) {
        std::io::stdout().write_all(summary.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    std::io::stdout().write_all(&out)?;
    let status = child.wait().context("-d: cannot wait for the daemon")?;
    let code = status.code().and_then(|c| u8::try_from(c).ok()).filter(|&c| c != 0).unwrap_or(128);
    Ok(ExitCode::from(code))
}

/// In the copy, once it holds its pages: says so to a waiting parent and
/// lets go of stdout and stderr.
pub(super) fn detach() -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{READY}")?;
    out.flush()?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .context("-d: cannot open /dev/null")?;
    rustix::stdio::dup2_stdout(&null).context("-d: cannot detach stdout")?;
    rustix::stdio::dup2_stderr(&null).context("-d: cannot detach stderr")?;
    Ok(())
}
