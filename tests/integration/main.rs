//! The integration tests: one binary for every behaviour that needs real
//! system calls. Each topic is a module; `common` holds the shared helpers.

mod common;
mod compat;
mod core;
mod guard;
mod source;
mod scan;
mod window;
mod fuzz_corpus;
mod regressions;
