//! The integration tests: one binary for every behaviour that needs real
//! system calls. Each topic is a module; `common` holds the shared helpers.
//!
//! They use Linux's /proc, signals and file systems throughout, so they are
//! compiled on Linux only (the README's platform table says what is tested
//! where).
#![cfg(target_os = "linux")]

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
