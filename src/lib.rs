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
//! On top of the maps:
//!
//! - [`guard`]: `read_at`/`write_at` on every map that return
//!   [`ErrorKind::Truncated`] instead of killing the process with `SIGBUS`
//!   when the file shrinks underneath (a fault-redirecting copy; see the
//!   module for the process-wide handler it installs);
//! - [`source`]: [`Source`], mmap-or-read with a measured threshold, and
//!   [`map_sealed`] for memfds the kernel itself keeps immutable;
//! - [`residency`]: what of a map or file is in the page cache (`mincore`,
//!   `cachestat`), populate, evict, lock;
//! - [`window`]: [`WindowCache`], git's pack windows over many large files,
//!   with a budget on mapped bytes and LRU eviction;
//! - [`scan()`]: the sequential fast path, reading a file front to back at
//!   memory speed with a prefaulting helper on a second core;
//! - [`Reader`]: `std::io::Read`, `Seek` and `BufRead` over any map or
//!   [`Source`];
//! - `compat::memmap2` (feature `memmap2-compat`): memmap2 0.9's API over
//!   these maps, for a one-line migration.
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
//! - Linux: everything, tested.
//! - macOS (x86_64, aarch64) and FreeBSD: a POSIX backend (mmap and the
//!   flags the platform has, msync, madvise, mprotect, mlock, mincore,
//!   guarded copies through `SIGBUS`), compiled and linted here and tested
//!   by running the whole suite through the same code on Linux. Linux-only
//!   features (`remap`, huge pages, `MAP_POPULATE`, seals, ...) return
//!   [`ErrorKind::Unsupported`] naming what is missing.
//! - Windows: sections and views (offsets at the 64 KiB allocation
//!   granularity), copy-on-write, anonymous maps, flush, lock, and guarded
//!   copies through a vectored exception handler; compiled, linted and
//!   unit-tested under Wine, never on Windows itself.
//! - Any other target: a stub whose constructors return
//!   [`ErrorKind::Unsupported`].
//!
//! The README's platform table says what is compiled and tested where.
//!
//! # Feature flags
//!
//! None is on by default; each integrates with one other crate.
//!
//! - `bytes`: `From<Map>` and `From<Source>` for
//!   [`bytes::Bytes`](https://docs.rs/bytes/latest/bytes/struct.Bytes.html),
//!   with zero copies (`Bytes::from_owner`, bytes 1.10.1 or later): the
//!   `Bytes` owns the map and points into it, and the map is unmapped when
//!   the last clone or slice is dropped.
//!
//!   ```
//!   # #[cfg(feature = "bytes")] {
//!   # let path = std::env::temp_dir().join(format!("xmmap-doc-{}-bytes", std::process::id()));
//!   # std::fs::write(&path, b"shared, not copied")?;
//!   let file = std::fs::File::open(&path)?;
//!   // SAFETY: nobody modifies or truncates the file while the map lives.
//!   let map = unsafe { xmmap::Map::map(&file)? };
//!   let addr = map.as_ptr();
//!   let bytes = bytes::Bytes::from(map);
//!   assert_eq!(bytes.as_ptr(), addr); // the same memory
//!   assert_eq!(&bytes.slice(8..)[..], b"not copied");
//!   # std::fs::remove_file(&path)?;
//!   # }
//!   # Ok::<(), Box<dyn std::error::Error>>(())
//!   ```
//!
//! - `stable_deref_trait`: [`Map`], [`MapMut`] and [`Source`] implement
//!   [`StableDeref`](https://docs.rs/stable_deref_trait/latest/stable_deref_trait/trait.StableDeref.html):
//!   their bytes do not move when the value moves, so crates such as
//!   `owning_ref` and `yoke` can keep borrows into them next to the owner.
//!   [`MapRaw`] hands out no references and does not implement it.
//!
//!   ```
//!   # #[cfg(feature = "stable_deref_trait")] {
//!   fn stable<T: stable_deref_trait::StableDeref>(owner: T) -> T { owner }
//!   let map = stable(xmmap::MapMut::map_anon(4096)?);
//!   let source = stable(xmmap::Source::from(b"read".to_vec()));
//!   assert_eq!((map.len(), &source[..]), (4096, &b"read"[..]));
//!   # }
//!   # Ok::<(), xmmap::Error>(())
//!   ```
//!
//! - `memmap2-compat`: `xmmap::compat::memmap2`, memmap2 0.9's API over
//!   these maps, so that migrating is one line (`memmap2::` →
//!   `xmmap::compat::memmap2::`); with `stable_deref_trait` too, its `Mmap`
//!   and `MmapMut` implement `StableDeref` as memmap2's do.
//!
//! Without a feature, [`Reader`] puts `std::io::Read`, `Seek` and
//! `BufRead` over any map or [`Source`]:
//!
//! ```
//! use std::io::BufRead;
//!
//! let reader = xmmap::Reader::new(xmmap::Source::from(b"one\ntwo\n".to_vec()));
//! let lines: Vec<String> = reader.lines().collect::<Result<_, _>>()?;
//! assert_eq!(lines, ["one", "two"]);
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_debug_implementations)]

mod error;
mod integrations;
mod io;
mod map;
mod scan;
mod sys;
#[cfg(test)]
mod testutil;

#[cfg(feature = "memmap2-compat")]
pub mod compat;
pub mod guard;
pub mod limit;
pub mod page;
pub mod residency;
pub mod source;
pub mod window;

pub use error::{Error, ErrorKind, Result};
pub use io::{ByteSource, Reader};
pub use limit::Limit;
pub use map::{Advice, Map, MapMut, MapOptions, MapRaw, Protection, RemapOptions, UncheckedAdvice};
pub use page::page_size;
pub use scan::{scan, ScanOptions, ScanSummary};
pub use source::{map_sealed, Source, SourceOptions};
pub use window::{WindowCache, WindowConfig, WindowCursor, WindowFile, WindowStats};
