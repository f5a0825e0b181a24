//! The integration tests: one binary for every behaviour that needs real
//! system calls. Each topic is a module; `common` holds the shared helpers.

mod common;
mod compat;
mod core;
mod fuzz_corpus;
mod guard;
mod regressions;
mod residency;
mod scan;
mod source;
mod torture;
mod window;
