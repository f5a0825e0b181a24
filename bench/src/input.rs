//! The file a method is measured on.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// One file to measure on: its path, its size and an open descriptor (for
/// methods that measure something other than opening the file).
#[derive(Debug)]
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The file opened read-only.
    pub file: File,
}

impl Input {
    /// Opens `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be opened or `fstat`ed.
    pub fn open(path: &Path) -> io::Result<Input> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        Ok(Input { path: path.to_path_buf(), size, file })
    }

    /// Opens `path` as an input whose `size` is `bytes`, the bytes each call
    /// of a method moves, instead of the file's size: for methods that read
    /// parts of a file per call (the tables' GB/s is then their throughput).
    ///
    /// # Errors
    ///
    /// The file cannot be opened.
    pub fn per_call(path: &Path, bytes: u64) -> io::Result<Input> {
        Ok(Input { path: path.to_path_buf(), size: bytes, file: File::open(path)? })
    }
}
