//! `-d`: lock the pages in a detached copy of this command that stays.
//!
//! The copy is this executable run again with the same arguments, in its
//! own process group (Ctrl-C at the terminal does not reach it), stdin from
//! `/dev/null` (or the paths this command read from its stdin for `-`). It
//! locks, writes `-P PIDFILE`, then points its stdout and stderr at
//! `/dev/null` and waits to be killed: SIGTERM releases the pages and, as
//! vmtouch, SIGTERM, SIGINT or SIGQUIT remove the pid file (see [`hold`]).
//!
//! Without `-w` the command returns at once, as vmtouch's `-d` does, and
//! the copy's warnings go to the same stderr until it has locked. With
//! `-w` the command waits until the copy has locked every page, prints its
//! summary and exits 0; if the copy could lock nothing it exits with the
//! copy's error and status.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
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

/// Starts the copy; with `wait`, returns once it holds its pages. With
/// `stdin` (the paths of `-` or `-b -`) this command's stdin is copied to
/// the copy's as it comes, so a long list needs no memory here.
pub(super) fn start(wait: bool, stdin: bool) -> Result<ExitCode> {
    let exe = std::env::current_exe().context("-d: cannot find this executable to start")?;
    let mut cmd = Command::new(exe);
    cmd.args(std::env::args_os().skip(1)).env(CHILD, "1").process_group(0);
    cmd.stdin(if stdin { Stdio::piped() } else { Stdio::null() });
    if wait {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        cmd.stdout(Stdio::null());
    }
    let mut child = cmd.spawn().context("-d: cannot start the daemon")?;
    // Closing the pipe ends the copy's list.
    let feed = child.stdin.take().map(|pipe| {
        move || {
            let mut pipe = pipe;
            std::io::copy(&mut std::io::stdin().lock(), &mut pipe)
                .map(drop)
                .context("-d: cannot hand the paths on stdin to the daemon")
        }
    });
    if !wait {
        // The copy's stdout is /dev/null and its stderr ours: nothing it
        // writes can fill a pipe while the list is copied.
        return feed.map_or(Ok(()), |f| f()).map(|()| ExitCode::SUCCESS);
    }
    // With -w the copy's stderr is a pipe read below: copy the list beside
    // that, or its warnings would fill the pipe while the list is copied.
    let feeder = feed.map(std::thread::spawn);
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
    if let Some(Ok(Err(e))) = feeder.map(std::thread::JoinHandle::join) {
        eprintln!("xmmap: warning: {}", crate::printable(&format!("{e:#}")));
    }
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

/// Holds the pages locked by the caller (who keeps the maps) until told to
/// stop; in the copy of `-d`, first lets go of stdout and stderr.
///
/// Without a pid file the hold ends by a signal's default action. With
/// `-P PIDFILE`, as vmtouch: SIGTERM, SIGINT and SIGQUIT are taken, the pid
/// file is removed and the command ends with status 0 — unless the file no
/// longer holds this process's pid (another process wrote its own there),
/// then it is left alone.
///
/// # Errors
///
/// The pid file cannot be written, or stdout and stderr cannot be let go
/// (then the pid file is removed again).
pub(super) fn hold(pidfile: Option<&Path>) -> Result<ExitCode> {
    let Some(path) = pidfile else {
        if is_child() {
            detach()?;
        }
        loop {
            std::thread::park();
        }
    };
    // Blocked before the pid file exists: a signal sent as soon as it can
    // be read waits for sigwait below instead of ending the process.
    let stop = StopSignals::block().context("-P: cannot take SIGTERM, SIGINT and SIGQUIT")?;
    let pid = std::process::id();
    std::fs::write(path, format!("{pid}\n"))
        .with_context(|| format!("-P: cannot write the pid file {}", path.display()))?;
    if is_child() {
        if let Err(e) = detach() {
            remove_if_ours(path, pid);
            return Err(e);
        }
    }
    stop.wait();
    if !remove_if_ours(path, pid) {
        let name = path.display().to_string();
        eprintln!("xmmap: {} names another process now; left in place", crate::printable(&name));
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes the pid file if it still holds `pid`; says whether it did (or
/// the file was gone already).
fn remove_if_ours(path: &Path, pid: u32) -> bool {
    let gone = |e: std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    match std::fs::read_to_string(path) {
        // Read then removed: a writer in between is not seen, as with any
        // pid file.
        Ok(text) if text.trim() == pid.to_string() => {
            std::fs::remove_file(path).map_or_else(gone, |()| true)
        }
        Ok(_) => false,
        Err(e) => gone(e),
    }
}

/// SIGTERM, SIGINT and SIGQUIT, blocked and taken with `sigwait(3)`, so the
/// pid file is removed by ordinary code, not in a handler.
struct StopSignals {
    set: libc::sigset_t,
}

impl StopSignals {
    const SIGNALS: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGQUIT];

    /// Blocks the three in this thread (the only one while pages are held)
    /// and sets their action to the default: an inherited "ignore" (a
    /// shell's background job ignores SIGINT and SIGQUIT) would discard
    /// them before sigwait sees them where blocking does not keep them.
    fn block() -> std::io::Result<StopSignals> {
        // SAFETY: an all-zero sigset_t is storage for sigemptyset to fill.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a live sigset_t and the signal numbers are valid.
        let r = unsafe {
            libc::sigemptyset(&mut set);
            for s in Self::SIGNALS {
                libc::sigaddset(&mut set, s);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut())
        };
        if r != 0 {
            return Err(std::io::Error::from_raw_os_error(r));
        }
        for s in Self::SIGNALS {
            // SAFETY: SIG_DFL installs no handler, so no code of ours runs
            // in signal context; the signals are blocked meanwhile.
            if unsafe { libc::signal(s, libc::SIG_DFL) } == libc::SIG_ERR {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(StopSignals { set })
    }

    /// Waits until one of the three arrives.
    fn wait(&self) {
        loop {
            let mut sig = 0;
            // SAFETY: `self.set` is an initialised sigset_t, `sig` a live int.
            if unsafe { libc::sigwait(&self.set, &mut sig) } == 0 {
                return;
            }
        }
    }
}

/// In the copy, once it holds its pages: says so to a waiting parent and
/// lets go of stdout and stderr.
fn detach() -> Result<()> {
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
