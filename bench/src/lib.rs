//! The measurement core of xmmap's benchmarks, shared by the bench targets
//! (`cargo bench -p xmmap-bench`) and the command line's `xmmap bench`.
//!
//! - [`files`]: files in a temporary directory removed afterwards, created
//!   by sequential writes (so ext4 caches them in large folios) on the disk
//!   temp dir or on tmpfs (`/dev/shm`, 4 KiB pages), hot or evicted;
//! - [`input`]: the file a method is measured on;
//! - [`kernel`]: the one scan kernel every method runs (an xor of `u64`
//!   words), so methods differ only in how the bytes reach memory;
//! - [`method`]: the ways to get a file's bytes into the kernel — `read()`,
//!   a plain xmmap map, [`xmmap::Source`], the fast path [`xmmap::scan`],
//!   and the ceilings — with their names ([`method::READ`], ...) and what
//!   each measures ([`method::describe`]);
//! - [`offsets`]: uniform and skewed (zipf-like) offsets for positioned
//!   reads;
//! - [`rng`]: the one deterministic random generator;
//! - [`stats`]: the one median;
//! - [`timing`]: repeated, interleaved rounds and medians, so that a noisy
//!   neighbour slows every method of a round alike;
//! - [`report`]: plain result structs ([`Section`], [`Measurement`],
//!   [`Ratio`]) that print as tables and that a caller can serialise, and
//!   the one byte and time formatter ([`report::size_label`],
//!   [`report::time_label`]);
//! - [`machine`]: what the figures were measured on.
//!
//! The modules depend one way: [`timing`] runs [`method`]s on [`input`]s
//! and fills a [`report`]; [`method`] uses [`input`] and [`kernel`];
//! [`report`] and [`machine`] use [`stats`]; [`offsets`] uses [`rng`].
//!
//! A benchmark section is one function: build the inputs, list the
//! [`Method`]s, call [`compare`], add the [`Ratio`]s that matter.
#![deny(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod files;
pub mod input;
pub mod kernel;
pub mod machine;
pub mod method;
pub mod offsets;
pub mod report;
pub mod rng;
pub mod stats;
pub mod timing;

pub use files::{Place, TempDir};
pub use input::Input;
pub use machine::Machine;
pub use method::Method;
pub use report::{Measurement, Ratio, Section, Target};
pub use rng::Rng;
pub use timing::{compare, Plan};
