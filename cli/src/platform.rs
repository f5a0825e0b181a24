//! The few things `cat` and `bench` do differently on Unix and on Windows:
//! standard input as a `File`, unbuffered writes to standard output, free
//! space, and the signals that clean up after `bench`. (`residency` is
//! Unix-only.)
//!
//! On Windows (see the README's platform table) free space is not checked
//! and Ctrl-C leaves `bench`'s temporary files behind.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

#[cfg(not(unix))]
pub(crate) use other::*;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(unix)]
mod unix {
    use super::*;
    use std::os::fd::{AsFd, OwnedFd};

    /// A duplicate of fd 0, at the position standard input already has.
    pub(crate) fn stdin_file() -> io::Result<File> {
        let fd: OwnedFd = io::stdin().as_fd().try_clone_to_owned()?;
        Ok(File::from(fd))
    }

    /// `write(2)` to fd 1 until `bytes` are out; a closed pipe is
    /// `BrokenPipe`, which `main` treats as success.
    pub(crate) fn write_stdout(mut bytes: &[u8]) -> io::Result<()> {
        let out = io::stdout();
        let fd = out.as_fd();
        while !bytes.is_empty() {
            match rustix::io::write(fd, bytes) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => bytes = &bytes[n..],
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Bytes an unprivileged user may still write under `path` (`statvfs`).
    pub(crate) fn free_space(path: &Path) -> io::Result<Option<u64>> {
        let fs = rustix::fs::statvfs(path)?;
        Ok(Some(fs.f_bavail.saturating_mul(fs.f_frsize)))
    }

    /// SIGINT and SIGTERM, blocked in every thread and taken by one thread
    /// with `sigwait(3)`, so the clean-up runs as ordinary code, not in a
    /// handler.
    pub(crate) struct Signals {
        set: libc::sigset_t,
    }

    impl Signals {
        /// Blocks SIGINT and SIGTERM in this thread and the threads it starts
        /// later.
        pub(crate) fn block() -> io::Result<Signals> {
            // SAFETY: an all-zero sigset_t is storage for sigemptyset to fill.
            let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
            // SAFETY: `set` is a live sigset_t; the signal numbers are valid.
            let r = unsafe {
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGINT);
                libc::sigaddset(&mut set, libc::SIGTERM);
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut())
            };
            if r != 0 {
                return Err(io::Error::from_raw_os_error(r));
            }
            Ok(Signals { set })
        }

        /// Starts the thread that waits for either signal, removes `dir` with
        /// everything in it and exits with 128 + the signal (130, 143).
        pub(crate) fn remove_on_signal(self, dir: PathBuf) {
            std::thread::spawn(move || {
                let mut sig = 0;
                // SAFETY: `self.set` is an initialised sigset_t, `sig` a live int.
                if unsafe { libc::sigwait(&self.set, &mut sig) } != 0 {
                    return;
                }
                super::remove_all(&dir);
                eprintln!("xmmap: interrupted; removed {}", dir.display());
                std::process::exit(128 + sig);
            });
        }
    }
}

#[cfg(not(unix))]
mod other {
    use super::*;
    use std::io::Write;
    #[cfg(windows)]
    use std::os::windows::io::AsHandle;

    /// A duplicate of the standard input handle.
    #[cfg(windows)]
    pub(crate) fn stdin_file() -> io::Result<File> {
        Ok(File::from(io::stdin().as_handle().try_clone_to_owned()?))
    }

    /// Standard input cannot be had as a file here.
    #[cfg(not(windows))]
    pub(crate) fn stdin_file() -> io::Result<File> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "standard input as a file"))
    }

    /// All of `bytes` to standard output.
    pub(crate) fn write_stdout(bytes: &[u8]) -> io::Result<()> {
        io::stdout().lock().write_all(bytes)
    }

    /// Not known here: the caller skips its check.
    pub(crate) fn free_space(_path: &Path) -> io::Result<Option<u64>> {
        Ok(None)
    }

    /// No signals to block: an interrupt leaves the files behind.
    pub(crate) struct Signals;

    impl Signals {
        /// Nothing to block.
        pub(crate) fn block() -> io::Result<Signals> {
            Ok(Signals)
        }

        /// Nothing to wait for.
        pub(crate) fn remove_on_signal(self, _dir: PathBuf) {}
    }
}

/// Removes `dir` with everything in it; a file created while the directory
/// was being emptied makes its removal fail, so it tries again until it is
/// gone.
#[cfg_attr(not(unix), allow(dead_code))]
fn remove_all(dir: &Path) {
    for _ in 0..100 {
        match std::fs::remove_dir_all(dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => continue,
            _ => break,
        }
    }
}
