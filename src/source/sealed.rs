//! Sealed memory files: the one file map whose `&[u8]` the kernel keeps
//! sound, because a memfd sealed against shrinking and writing can do
//! neither. [`map_sealed`] checks the seals and maps; [`sealed_memfd`]
//! makes such a file from bytes.
//!
//! # Safety
//!
//! [`map_sealed`] maps only after checking (or adding) the seals that make
//! the kernel keep the promise [`MapOptions::map`] asks of its caller.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};

use crate::error::{Error, ErrorKind, Result};
use crate::map::{Map, MapOptions};
use crate::sys::{self, seal, Errno};

/// Maps a sealed memory file read-only, safely: the kernel guarantees that a
/// file carrying `F_SEAL_SHRINK` and `F_SEAL_WRITE` can neither shrink nor
/// change, so the `&[u8]` needs no promise from the caller.
///
/// A file sealed with `F_SEAL_FUTURE_WRITE` instead of `F_SEAL_WRITE` is
/// accepted only if `F_SEAL_WRITE` can be added now: `F_SEAL_FUTURE_WRITE`
/// leaves writable shared mappings made before the seal able to change the
/// bytes, and adding `F_SEAL_WRITE` succeeds only when none exists (it
/// fails with `EBUSY` otherwise). The added seal forbids nothing that
/// `F_SEAL_FUTURE_WRITE` did not.
///
/// # Errors
///
/// - [`ErrorKind::InvalidInput`] naming the missing seals when the file is
///   not sealed enough, when it cannot carry seals at all (only memfd and
///   other shmem files can), or when a writable mapping made before
///   `F_SEAL_FUTURE_WRITE` may still change it.
/// - [`ErrorKind::Unsupported`] on a platform without seals (macOS,
///   FreeBSD: the POSIX backend).
/// - As [`MapOptions::map`] otherwise (the limit, the kernel's refusal).
///
/// # Examples
///
/// ```
/// # // No memfd or seals on macOS and FreeBSD.
/// # if xmmap::source::sealed_memfd("probe", b"").is_err_and(|e| *e.kind() == xmmap::ErrorKind::Unsupported) { return Ok(()); }
/// let file = xmmap::source::sealed_memfd("greeting", b"hello")?;
/// let map = xmmap::source::map_sealed(&file)?; // no unsafe
/// assert_eq!(&map[..], b"hello");
/// # Ok::<(), xmmap::Error>(())
/// ```
pub fn map_sealed(file: &File) -> Result<Map> {
    let name =
        sys::fd_path(file).map_or_else(|| "the file".to_string(), |p| p.display().to_string());
    let seals = sys::get_seals(file).map_err(|e| {
        let why = if Errno::of(&e) == Some(Errno::INVAL) {
            "it cannot carry seals (only memfd and other shmem files can); make one with \
             xmmap::source::sealed_memfd"
        } else {
            "fcntl(F_GET_SEALS) failed"
        };
        // A platform without seals at all: no file can be sealed there.
        let unsupported = Errno::of(&e).is_none() && e.kind() == std::io::ErrorKind::Unsupported;
        Error::with_source(
            if unsupported { ErrorKind::Unsupported } else { ErrorKind::InvalidInput },
            format!("map_sealed: {name} is not a sealed memory file: {why}"),
            e,
        )
    })?;
    let missing = missing_seals(seals);
    if !missing.is_empty() {
        return Err(Error::invalid(format!(
            "map_sealed: {name} lacks {}; it carries {} (seal it with fcntl(F_ADD_SEALS), or \
             make it with xmmap::source::sealed_memfd)",
            missing.join(" and "),
            describe_seals(seals)
        )));
    }
    if seals & seal::WRITE == 0 {
        sys::add_seals(file, seal::WRITE).map_err(|e| {
            let why = match Errno::of(&e) {
                Some(Errno::PERM) if seals & seal::SEAL != 0 => {
                    "F_SEAL_SEAL forbids adding F_SEAL_WRITE, so nothing proves that no \
                     writable mapping made before F_SEAL_FUTURE_WRITE remains"
                }
                Some(Errno::PERM) => {
                    "the descriptor is read-only, so F_SEAL_WRITE cannot be added to prove that \
                     no writable mapping made before F_SEAL_FUTURE_WRITE remains; pass a \
                     descriptor opened for writing"
                }
                Some(Errno::BUSY) => {
                    "a writable shared mapping made before F_SEAL_FUTURE_WRITE exists and can \
                     still change the bytes (adding F_SEAL_WRITE failed)"
                }
                _ => "adding F_SEAL_WRITE to rule out writable mappings failed",
            };
            Error::with_source(
                ErrorKind::InvalidInput,
                format!("map_sealed: {name} carries F_SEAL_FUTURE_WRITE only: {why}"),
                e,
            )
        })?;
    }
    // SAFETY: F_SEAL_SHRINK and F_SEAL_WRITE are set (checked or added just
    // now) and can never be removed: the kernel refuses every write, hole
    // punch and shrink of the file, and no writable mapping of it exists, so
    // the bytes under the map cannot change while it lives.
    unsafe { MapOptions::new().map(file) }
}

/// The seals [`map_sealed`] needs that `seals` lacks, by name.
fn missing_seals(seals: u32) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if seals & seal::SHRINK == 0 {
        missing.push("F_SEAL_SHRINK");
    }
    if seals & (seal::WRITE | seal::FUTURE_WRITE) == 0 {
        missing.push("F_SEAL_WRITE (or F_SEAL_FUTURE_WRITE)");
    }
    missing
}

fn describe_seals(seals: u32) -> String {
    let names: Vec<&str> = [
        (seal::SEAL, "F_SEAL_SEAL"),
        (seal::SHRINK, "F_SEAL_SHRINK"),
        (seal::GROW, "F_SEAL_GROW"),
        (seal::WRITE, "F_SEAL_WRITE"),
        (seal::FUTURE_WRITE, "F_SEAL_FUTURE_WRITE"),
    ]
    .iter()
    .filter(|(bit, _)| seals & bit != 0)
    .map(|&(_, name)| name)
    .collect();
    if names.is_empty() {
        "no seals".to_string()
    } else {
        names.join(" | ")
    }
}

/// Makes a memory file (`memfd_create(2)`) holding `bytes`, sealed with
/// `F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL`, positioned at
/// offset 0: ready for [`map_sealed`], or to hand to another process that
/// can then map it safely too. `name` shows in `/proc/PID/fd` as
/// `/memfd:NAME`.
///
/// # Errors
///
/// - [`ErrorKind::InvalidInput`] if `name` is longer than 249 bytes or
///   holds a NUL byte.
/// - [`ErrorKind::Io`] for the kernel's refusal to create, fill or seal the
///   file (for example `ENOSPC` or `EMFILE`).
///
/// # Examples
///
/// See [`map_sealed`].
pub fn sealed_memfd(name: &str, bytes: &[u8]) -> Result<File> {
    if name.len() > 249 || name.contains('\0') {
        return Err(Error::invalid(format!(
            "sealed_memfd: the name {name:?} must be at most 249 bytes without NUL bytes"
        )));
    }
    let mut file = sys::memfd_create(name)
        .map_err(|e| Error::with_source(ErrorKind::Io, format!("memfd_create({name:?})"), e))?;
    file.write_all(bytes).map_err(|e| {
        Error::with_source(
            ErrorKind::Io,
            format!("writing {} bytes to memfd {name:?}", bytes.len()),
            e,
        )
    })?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::with_source(ErrorKind::Io, format!("lseek of memfd {name:?}"), e))?;
    sys::add_seals(&file, seal::SHRINK | seal::GROW | seal::WRITE | seal::SEAL)
        .map_err(|e| Error::with_source(ErrorKind::Io, format!("sealing memfd {name:?}"), e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_seals_are_named() {
        assert_eq!(
            missing_seals(0),
            vec!["F_SEAL_SHRINK", "F_SEAL_WRITE (or F_SEAL_FUTURE_WRITE)"]
        );
        assert_eq!(missing_seals(seal::SHRINK), vec!["F_SEAL_WRITE (or F_SEAL_FUTURE_WRITE)"]);
        assert_eq!(missing_seals(seal::WRITE | seal::GROW), vec!["F_SEAL_SHRINK"]);
        assert!(missing_seals(seal::SHRINK | seal::WRITE).is_empty());
        assert!(missing_seals(seal::SHRINK | seal::FUTURE_WRITE).is_empty());
        assert_eq!(describe_seals(seal::SHRINK | seal::SEAL), "F_SEAL_SEAL | F_SEAL_SHRINK");
        assert_eq!(describe_seals(0), "no seals");
    }
}
