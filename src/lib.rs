//! Memory-mapped file I/O for Rust, done right.
//!
//! xmmap puts every knob of `mmap(2)` and `munmap(2)` — address hint, any
//! byte offset, exact length, `PROT_NONE`/`READ`/`WRITE`/`EXEC`,
//! `MAP_SHARED`/`MAP_SHARED_VALIDATE`/`MAP_PRIVATE` and the extra flags —
//! behind a small, sound API, with git's `xmmap()` discipline on top:
//!
//! - a mapping limit read from `XMMAP_LIMIT` (git's `GIT_MMAP_LIMIT`
//!   syntax) and checked before the system call ([`Limit`]);
//! - errors that say what to check ([`Error`], [`ErrorKind`]): `ENOMEM`
//!   carries git's hint with the current `vm.max_map_count`, mapping count,
//!   `RLIMIT_DATA` and `RLIMIT_AS`;
//! - an empty map for a zero length, without calling the kernel.
//!
//! # A first map
//!
//! ```
//! use std::io::Write;
//!
//! # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-crate", std::process::id()));
//! std::fs::File::create(&path)?.write_all(b"hello, world")?;
//! let file = std::fs::File::open(&path)?;
//!
//! // SAFETY: nobody modifies or truncates the file while the map lives.
//! let map = unsafe { xmmap::MapOptions::new().offset(7).map(&file)? };
//! assert_eq!(&map[..], b"world");
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Why some constructors are `unsafe`
//!
//! A `&[u8]` into a file mapping promises that nobody changes or shrinks the
//! file while the slice lives; no library can guarantee that for files other
//! processes can reach, so the caller promises it once, at the constructor.
//! [`MapRaw`] hands out no references and needs no promise.
//!
//! # What mmap(2) does that may surprise
//!
//! - "A file is mapped in multiples of the page size. For a file that is not
//!   a multiple of the page size, the remaining bytes in the partial page at
//!   the end of the mapping are zeroed when mapped, and modifications to that
//!   region are not written out to the file."
//! - Touching a page wholly past end-of-file raises `SIGBUS`.
//! - Closing the descriptor does not unmap: a map outlives its `File`.
//!
//! # Platforms
//!
//! Linux is built and tested. Every other target compiles to a stub whose
//! constructors return [`ErrorKind::Unsupported`].
//!
//! # Feature flags
//!
//! None yet: the core has no optional parts.
#![deny(unsafe_code)]
#![warn(missing_debug_implementations)]

mod error;
mod map;
mod sys;

#[cfg(feature = "memmap2-compat")]
pub mod compat;
pub mod limit;
pub mod page;

pub use error::{Error, ErrorKind, Result};
pub use limit::Limit;
pub use map::{Advice, Map, MapMut, MapOptions, MapRaw, Protection, RemapOptions, UncheckedAdvice};
pub use page::page_size;
