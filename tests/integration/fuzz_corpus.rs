//! Replays the committed fuzz corpus (`fuzz/corpus/*`) through the fuzz
//! harnesses, compiled here as ordinary modules, plus inputs derived from it
//! by a fixed-seed mutator: the fuzz targets' checks run in every `cargo
//! test`, without nightly or cargo-fuzz. Real fuzzing is `scripts/fuzz.sh`.

use crate::common::*;

#[path = "../../fuzz/harness/map_options.rs"]
mod map_options_harness;

#[path = "../../fuzz/harness/window_cache.rs"]
mod window_cache_harness;

/// Derived inputs per corpus file (`XMMAP_FUZZ_REPLAY_MUTATIONS` overrides).
const MUTATIONS: usize = 64;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).expect("read corpus file")))
        .collect()
}

/// A small deterministic mutator: flips, overwrites, inserts and cuts bytes.
fn mutate(input: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut next = move || rng.next();
    let mut out = input.to_vec();
    for _ in 0..1 + next() % 4 {
        let at = if out.is_empty() { 0 } else { next() as usize % out.len() };
        match next() % 4 {
            0 if !out.is_empty() => out[at] ^= 1 << (next() % 8),
            1 if !out.is_empty() => out[at] = next() as u8,
            2 => out.insert(at, next() as u8),
            _ => out.truncate(at.max(2)),
        }
    }
    out
}

/// Replays `target`'s corpus and its mutations through `run`, in a child:
/// the harness compares the process's whole mapping count.
fn replay(name: &str, target: &str, run: fn(&[u8], bool)) {
    if !is_child(name) {
        let status = run_child(name);
        assert!(status.success(), "a corpus input failed; rerun with --nocapture: {status:?}");
        return;
    }
    let inputs = corpus(target);
    assert!(!inputs.is_empty(), "the {target} corpus is empty");
    let mutations = std::env::var("XMMAP_FUZZ_REPLAY_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MUTATIONS);
    // Under a sanitizer or valgrind, whose allocators map memory of their
    // own, only the harness's own mappings are counted.
    let strict = std::env::var_os("XMMAP_SANITIZED").is_none();
    for (file, data) in &inputs {
        eprintln!("replay {file}");
        run(data, strict);
        for seed in 0..mutations as u64 {
            run(&mutate(data, seed), strict);
        }
    }
    std::process::exit(0);
}

#[test]
fn map_options_corpus_replays_cleanly() {
    replay(this_test!(), "map_options", map_options_harness::run);
}

#[test]
fn window_cache_corpus_replays_cleanly() {
    replay(this_test!(), "window_cache", window_cache_harness::run);
}
