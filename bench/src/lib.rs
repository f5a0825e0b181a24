//! The measurement core of xmmap's benchmarks, shared by the bench harness
//! (`cargo bench -p xmmap-bench`) and the command line's `xmmap bench`.
//!
//! - [`files`]: files in a temporary directory removed afterwards, created
//!   by sequential writes (so ext4 caches them in large folios) on the disk
//!   temp dir or on tmpfs (`/dev/shm`, 4 KiB pages), hot or evicted;
//! - [`kernel`]: the one scan kernel every method runs (an xor of `u64`
//!   words), so methods differ only in how the bytes reach memory;
//! - [`method`]: the ways to get a file's bytes into the kernel — `read()`,
//!   a plain xmmap map, [`xmmap::Source`], the fast path [`xmmap::scan`],
//!   and the in-memory ceiling (the kernel over a resident heap buffer);
//! - [`offsets`]: uniform and skewed (zipf-like) offsets for positioned
//!   reads;
//! - [`timing`]: repeated, interleaved rounds and medians, so that a noisy
//!   neighbour slows every method of a round alike;
//! - [`report`]: plain result structs ([`Section`], [`Measurement`],
//!   [`Ratio`]) that print as tables and that a caller can serialise;
//! - [`machine`]: what the figures were measured on.
//!
//! A benchmark section is one function: build the inputs, list the
//! [`Method`]s, call [`compare`], add the [`Ratio`]s that matter.
#![deny(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod files;
pub mod kernel;
pub mod machine;
pub mod method;
pub mod offsets;
pub mod report;
pub mod timing;

pub use files::{Place, TempDir};
pub use machine::Machine;
pub use method::Method;
pub use report::{Measurement, Ratio, Section, Target};
pub use timing::{compare, Input, Plan};
