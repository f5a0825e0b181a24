//! Truncation torture: threads do guarded reads and writes on a `MapRaw`
//! while a child process truncates, re-extends and rewrites the file in a
//! loop. Zero crashes; every successful read returns words that were in the
//! file at some moment; every failure is `Truncated`.
//!
//! About 3 seconds by default; `XMMAP_SOAK_SECS=N` runs it for N seconds.
//! The figures are printed (run with `--nocapture` to see them). The file
//! lives in the temp dir: `TMPDIR=/dev/shm` runs it on tmpfs.
//!
//! Every 8-byte word of the file is, at every moment, either 0 (a page the
//! file regrew with) or `word(tag, position)`. Three pages in four belong to
//! the child, which rewrites them with generation `g` as tag after each
//! regrowth, one aligned atomic store per word; there a read must find 0 or
//! the exact word for its position (garbage passes with a chance of 2^-32
//! per word). Every fourth page belongs to one writer thread, which writes
//! its own fixed tag there with guarded copies. A copy racing a store may
//! take some bytes of a word before the store and some after (`rep movsb`
//! does, like any `memcpy` or `pread`): such a torn word passes only if each
//! of its bytes is 0 or that byte of the position's word for a generation
//! seen in the same read (or one next to it), or of the owner's word on a
//! writer's page. Torn words are counted and printed.

use std::io::Read;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;
use xmmap::{page_size, ErrorKind, MapRaw};

const FILE_ENV: &str = "XMMAP_TORTURE_FILE";
const SECS_ENV: &str = "XMMAP_TORTURE_SECS";
const PAGES: usize = 64;
const THREADS: u64 = 4;

fn word(tag: u32, position: usize) -> u64 {
    let p = position as u32;
    (u64::from(tag) << 32) | u64::from(p ^ tag.wrapping_mul(0x9E37_79B9))
}

/// The writer thread that owns the page holding word `position`, if any.
fn owner(position: usize) -> Option<u64> {
    let page = position * 8 / page_size();
    (page % 4 == 3).then_some((page / 4) as u64 % THREADS)
}

fn writer_tag(id: u64) -> u32 {
    0x8000_0000 | id as u32
}

/// Whether every byte of `w` is 0 or that byte of `want`.
fn bytes_from(w: u64, want: u64) -> bool {
    w.to_ne_bytes().iter().zip(want.to_ne_bytes()).all(|(&b, x)| b == 0 || b == x)
}

/// Checks the words `words` read from word `first` on; returns how many were
/// torn (bytes of two moments of the same word), panics on garbage.
fn check(words: &[u64], first: usize) -> u64 {
    // The generations seen whole in this read, for judging torn words.
    let mut seen: Vec<u32> = Vec::new();
    for (k, &w) in words.iter().enumerate() {
        let tag = (w >> 32) as u32;
        if owner(first + k).is_none()
            && tag != 0
            && w == word(tag, first + k)
            && !seen.contains(&tag)
        {
            seen.push(tag);
        }
    }
    let mut torn = 0;
    for (k, &w) in words.iter().enumerate() {
        let p = first + k;
        let ok = match owner(p) {
            Some(id) => bytes_from(w, word(writer_tag(id), p)),
            None => {
                let tag = (w >> 32) as u32;
                if w == 0 || (tag != 0 && w == word(tag, p)) {
                    true
                } else {
                    // A copy racing the child's store may take some bytes
                    // before it and some after: each byte must come from 0 or
                    // from this position's word of a generation at hand.
                    torn += 1;
                    let mut candidates = seen.clone();
                    candidates.push(tag);
                    let near: Vec<u32> =
                        candidates.iter().flat_map(|&g| [g.wrapping_sub(1), g, g + 1]).collect();
                    near.iter().any(|&g| bytes_from(w, word(g, p)))
                        || near.iter().any(|&a| {
                            near.iter().any(|&b| {
                                w.to_ne_bytes()
                                    .iter()
                                    .zip(
                                        word(a, p)
                                            .to_ne_bytes()
                                            .iter()
                                            .zip(word(b, p).to_ne_bytes()),
                                    )
                                    .all(|(&x, (&y, z))| x == 0 || x == y || x == z)
                            })
                        })
                }
            }
        };
        assert!(
            ok,
            "garbage word {w:#018x} at word {p} (read of {} words from {first})",
            words.len()
        );
    }
    torn
}

use crate::common::Rng;

fn soak_secs() -> u64 {
    std::env::var("XMMAP_SOAK_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(3)
}

/// The child: truncate to a random length (often nothing), wait a moment,
/// regrow, rewrite every word with the next generation; until time is up.
fn child() {
    let path = std::env::var(FILE_ENV).unwrap();
    let secs: u64 = std::env::var(SECS_ENV).unwrap().parse().unwrap();
    let file = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
    let len = PAGES * page_size();
    let raw = MapRaw::map(&file).unwrap();
    let words = raw.as_mut_ptr().cast::<AtomicU64>();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut generation = 0u32;
    while Instant::now() < deadline {
        generation += 1;
        let keep = if rng.below(2) == 0 { 0 } else { rng.below(len as u64 / 8) * 8 };
        file.set_len(keep).unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(300)));
        file.set_len(len as u64).unwrap();
        for i in (0..len / 8).filter(|&i| owner(i).is_none()) {
            // SAFETY: the file has its full length again and only this
            // process changes its length, so every word is backed; aligned
            // atomic stores never tear.
            unsafe { (*words.add(i)).store(word(generation, i), Ordering::Relaxed) };
        }
    }
    println!("torture child: generations={generation}");
}

#[derive(Default, Debug)]
struct Counts {
    reads: u64,
    truncated_reads: u64,
    writes: u64,
    truncated_writes: u64,
    torn_words: u64,
}

/// One thread: random aligned reads (checked word by word) and writes.
fn worker(raw: &MapRaw, id: u64, stop: &AtomicBool) -> Counts {
    let page = page_size();
    let len = raw.len();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (id + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut c = Counts::default();
    let mut buf = vec![0u8; 3 * page];
    while !stop.load(Ordering::Relaxed) {
        let write = rng.below(4) == 0;
        let (first, words) = if write {
            // A stretch of one of this thread's own pages.
            let own = (0..len / page).filter(|&p| owner(p * page / 8) == Some(id)).count();
            let nth = rng.below(own as u64) as usize;
            let p = (0..len / page).filter(|&p| owner(p * page / 8) == Some(id)).nth(nth).unwrap();
            let start = rng.below(page as u64 / 8) as usize;
            let words = rng.below((page / 8 - start) as u64) as usize + 1;
            (p * page / 8 + start, words)
        } else {
            (rng.below(len as u64 / 8) as usize, rng.below(3 * page as u64 / 8) as usize + 1)
        };
        let off = first * 8;
        let n = words * 8;
        let expect = n.min(len - off);
        let result = if write {
            for (k, chunk) in buf[..n].chunks_exact_mut(8).enumerate() {
                chunk.copy_from_slice(&word(writer_tag(id), first + k).to_ne_bytes());
            }
            c.writes += 1;
            raw.write_at(off as u64, &buf[..n])
        } else {
            c.reads += 1;
            raw.read_at(off as u64, &mut buf[..n])
        };
        let copied = match result {
            Ok(got) => {
                assert_eq!(got, expect, "{} of {n} at {off}", if write { "write" } else { "read" });
                got
            }
            Err(e) => {
                let ErrorKind::Truncated { offset } = *e.kind() else {
                    panic!("a guarded copy failed other than Truncated: {e}");
                };
                let offset = offset as usize;
                // Anywhere in the range: the page may vanish mid-copy.
                assert!(
                    (off..off + expect).contains(&offset),
                    "Truncated at {offset} for {expect} bytes at {off}: {e}"
                );
                if write {
                    c.truncated_writes += 1;
                } else {
                    c.truncated_reads += 1;
                }
                offset - off
            }
        };
        if !write {
            // The bytes copied, including those before a failure.
            let words: Vec<u64> = buf[..copied]
                .chunks_exact(8)
                .map(|b| u64::from_ne_bytes(b.try_into().unwrap()))
                .collect();
            c.torn_words += check(&words, first);
        }
    }
    c
}

#[test]
fn guarded_access_survives_a_child_truncating_and_rewriting_the_file() {
    let name = this_test!();
    if is_child(name) {
        child();
        return;
    }
    let len = PAGES * page_size();
    let initial: Vec<u8> = (0..len / 8)
        .flat_map(|i| word(owner(i).map_or(1 << 30, writer_tag), i).to_ne_bytes())
        .collect();
    let f = TempFile::with(&initial);
    let raw = MapRaw::map(&f.rw()).unwrap();
    let secs = soak_secs();
    let proof = Proof::new(name);
    let mut child = child_command(name, &proof)
        .env(FILE_ENV, &f.path)
        .env(SECS_ENV, secs.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stop = AtomicBool::new(false);
    let (status, out, counts) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|id| {
                s.spawn({
                    let (raw, stop) = (&raw, &stop);
                    move || worker(raw, id, stop)
                })
            })
            .collect();
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        let status = child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let counts: Vec<Counts> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        (status, out, counts)
    });
    proof.check(status);
    assert!(status.success(), "the child failed: {status:?}\n{out}");
    let generations = out
        .lines()
        .find_map(|l| l.split("torture child: generations=").nth(1))
        .and_then(|g| g.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no generation count from the child:\n{out}"));
    let total = counts.iter().fold(Counts::default(), |a, c| Counts {
        reads: a.reads + c.reads,
        truncated_reads: a.truncated_reads + c.truncated_reads,
        writes: a.writes + c.writes,
        truncated_writes: a.truncated_writes + c.truncated_writes,
        torn_words: a.torn_words + c.torn_words,
    });
    println!(
        "torture: {secs} s, {THREADS} threads, {} reads ({} Truncated), {} writes ({} \
         Truncated), {generations} child generations (truncate+regrow+rewrite of {PAGES} \
         pages), {} torn words (old and new bytes, as any racing copy), 0 garbage words, 0 \
         crashes",
        total.reads, total.truncated_reads, total.writes, total.truncated_writes, total.torn_words
    );
    assert!(generations > 0 && total.reads > 0 && total.writes > 0);
}
