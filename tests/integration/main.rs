//! The integration tests: one binary for every behaviour that needs real
//! system calls. Each topic is a module; `common` holds the shared helpers.

mod bad_input;
mod common;
mod compat;
mod core;
mod durability;
mod exhaustion;
mod fuzz_corpus;
mod guard;
mod mapcost;
mod regressions;
mod residency;
mod scan;
mod source;
mod torture;
mod window;
