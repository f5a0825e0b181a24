//! Other crates' APIs over xmmap's maps, so that switching costs one line.
//!
//! Each submodule speaks one crate's public API, name for name, and does
//! nothing itself: every mapping, range check, flush, advice and protection
//! change is the native [`Map`](crate::Map), [`MapMut`](crate::MapMut) or
//! [`MapRaw`](crate::MapRaw) underneath. Conversions to and from the native
//! types let a caller adopt native features one call site at a time.
//!
//! | Module       | Feature          | Speaks       |
//! |--------------|------------------|--------------|
#![cfg_attr(unix, doc = "| [`memmap2`]  | `memmap2-compat` | memmap2 0.9  |")]
#![cfg_attr(not(unix), doc = "| `memmap2` (Unix only) | `memmap2-compat` | memmap2 0.9 |")]
//!
//! May call: `map` (public and crate-visible API), `sys` (queries only:
//! `fstat`, memfd seals, fs-verity, the `madvise` advice probe), `error`.

// memmap2's descriptor type is a Unix `RawFd`; its Windows face is not offered.
#[cfg(unix)]
pub mod memmap2;
