//! Fuzzes `WindowCache` against `pread`; see `fuzz/harness/window_cache.rs`
//! for what is decoded and checked.
#![no_main]

#[path = "../harness/window_cache.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The total mapping count is compared only when asked: the sanitizer's
    // allocator maps memory of its own while the fuzzer runs.
    static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let strict = *STRICT.get_or_init(|| std::env::var_os("XMMAP_FUZZ_STRICT").is_some());
    harness::run(data, strict);
});
