//! Durability: a child writes records through a `MapMut`, flushes each one
//! (`flush_range`, or `flush` every few records) and only then reports its
//! index on a pipe; the parent kills it with SIGKILL at a pseudo-random
//! moment and checks the file with `std::fs::read`: every reported record is
//! there, whole, and bytes never reported are either untouched (zero) or the
//! bytes the child was writing, never anything else.
//!
//! The child also asks the kernel (`cachestat(2)`, Linux 6.5) whether the
//! record's pages are still dirty or under writeback after `flush_range`
//! returned: `msync(MS_SYNC)` must have written them out. (A SIGKILL does not
//! lose the page cache, so the kill alone cannot tell a flushed byte from an
//! unflushed one; cachestat can.)
//!
//! 10 kills by default; `XMMAP_DURABILITY_KILLS=100` for the long form.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;

use crate::common::*;
use xmmap::{page_size, MapOptions};

/// Bytes per record: not a divisor of the page size, so records straddle
/// page boundaries and every flush range is unaligned.
const RECORD: usize = 72;
/// Records per file.
const RECORDS: usize = 2000;
const KILLS: usize = 10;

/// Record `index` of run `seed`: sequence number, index, payload, checksum.
fn record(seed: u64, index: usize) -> [u8; RECORD] {
    let mut r = [0u8; RECORD];
    let seq = seed.wrapping_mul(1_000_003).wrapping_add(index as u64 + 1);
    r[..8].copy_from_slice(&seq.to_le_bytes());
    r[8..12].copy_from_slice(&(index as u32).to_le_bytes());
    let mut rng = Rng(seq | 1);
    for b in &mut r[12..RECORD - 4] {
        *b = (rng.next() as u8) | 1; // never 0, so "untouched" is unambiguous
    }
    let sum = fnv1a(&r[..RECORD - 4]);
    r[RECORD - 4..].copy_from_slice(&sum.to_le_bytes());
    r
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// `cachestat(fd, off..off+len)`: (dirty, writeback) pages, `None` if the
/// kernel lacks the call.
fn dirty_pages(file: &std::fs::File, off: u64, len: u64) -> Option<(u64, u64)> {
    const SYS_CACHESTAT: libc::c_long = 451; // the same on every Linux architecture
    let range = [off, len];
    let mut stat = [0u64; 5]; // cache, dirty, writeback, evicted, recently_evicted
                              // SAFETY: cachestat reads `range` and writes the five-word `stat`.
    let rc = unsafe {
        libc::syscall(SYS_CACHESTAT, file.as_raw_fd(), range.as_ptr(), stat.as_mut_ptr(), 0)
    };
    (rc == 0).then_some((stat[1], stat[2]))
}

/// The child: writes, flushes, reports; until killed.
fn writer(path: &str, seed: u64) -> ! {
    let file = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
    // SAFETY: only this process touches the file while it lives.
    let mut map = unsafe { MapOptions::new().map_mut(&file).unwrap() };
    let page = page_size() as u64;
    let mut out = std::io::stdout().lock();
    let mut cachestat = true;
    for i in 0..RECORDS {
        let at = i * RECORD;
        let rec = record(seed, i);
        // Half a record, then a flush of an earlier range, then the rest:
        // a kill can land between the two halves.
        map[at..at + RECORD / 2].copy_from_slice(&rec[..RECORD / 2]);
        std::hint::black_box(&map[..]);
        map[at + RECORD / 2..at + RECORD].copy_from_slice(&rec[RECORD / 2..]);
        if i == 0 && cachestat {
            // The check must be able to see a dirty page at all.
            let seen = dirty_pages(&file, 0, page);
            cachestat = seen.is_some_and(|(dirty, _)| dirty > 0);
        }
        if i % 16 == 15 {
            map.flush().unwrap();
        } else {
            map.flush_range(at, RECORD).unwrap();
        }
        if cachestat {
            let first = (at as u64) / page * page;
            let len = (at + RECORD) as u64 - first;
            match dirty_pages(&file, first, len) {
                Some((0, 0)) => {}
                Some((dirty, wb)) => {
                    eprintln!("record {i}: {dirty} dirty and {wb} writeback pages after flush");
                    std::process::exit(3);
                }
                None => cachestat = false,
            }
        }
        if i == 0 {
            writeln!(out, "cachestat {cachestat}").unwrap();
        }
        // Only now is record i known to be flushed.
        writeln!(out, "flushed {i}").unwrap();
        out.flush().unwrap();
    }
    writeln!(out, "done").unwrap();
    out.flush().unwrap();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

#[test]
fn every_flushed_record_survives_sigkill_and_unflushed_writes_corrupt_nothing() {
    let name = this_test!();
    if is_child(name) {
        let path = std::env::var("XMMAP_DURABILITY_FILE").unwrap();
        let seed = std::env::var("XMMAP_DURABILITY_SEED").unwrap().parse().unwrap();
        writer(&path, seed);
    }
    let kills =
        std::env::var("XMMAP_DURABILITY_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(KILLS);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut total_flushed = 0;
    let mut torn = 0;
    let mut checked_dirty = 0;
    for kill in 0..kills {
        let seed = rng.next();
        let f = TempFile::with(&vec![0u8; RECORDS * RECORD]);
        let path = f.path.display().to_string();
        let mut c = spawn_child(
            name,
            &[("XMMAP_DURABILITY_FILE", &path), ("XMMAP_DURABILITY_SEED", &seed.to_string())],
        );
        let stdout = c.stdout.take().unwrap();
        // Kill after a pseudo-random number of reports (0 = before any).
        let kill_after = (seed % 200) as usize;
        let mut flushed = Vec::new();
        let mut lines = BufReader::new(stdout).lines();
        while flushed.len() < kill_after {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("flushed ") => flushed.push(l[8..].parse().unwrap()),
                Some(Ok(l)) if l == "done" => break,
                Some(Ok(l)) if l == "cachestat true" => checked_dirty += 1,
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        // A little more time: the kill lands mid-record, not at a report.
        for _ in 0..seed % 1000 {
            std::hint::spin_loop();
        }
        c.kill().unwrap();
        let status = c.wait().unwrap();
        assert_eq!(signal_of(status), Some(libc::SIGKILL), "kill {kill}: child ended {status:?}");
        // Reports written before the kill are still in the pipe.
        for l in lines.map_while(Result::ok) {
            if let Some(i) = l.strip_prefix("flushed ") {
                flushed.push(i.parse().unwrap());
            }
        }
        let data = std::fs::read(&f.path).unwrap();
        assert_eq!(data.len(), RECORDS * RECORD, "kill {kill}: the file changed size");
        let done: std::collections::HashSet<usize> = flushed.iter().copied().collect();
        for i in 0..RECORDS {
            let got = &data[i * RECORD..(i + 1) * RECORD];
            let want = record(seed, i);
            if done.contains(&i) {
                assert_eq!(got, &want[..], "kill {kill}: flushed record {i} is not in the file");
                let sum = u32::from_le_bytes(got[RECORD - 4..].try_into().unwrap());
                assert_eq!(sum, fnv1a(&got[..RECORD - 4]), "kill {kill}: record {i} checksum");
            } else {
                for (j, (&g, &w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        g == 0 || g == w,
                        "kill {kill}: unflushed record {i} byte {j} is {g:#x}, neither 0 nor {w:#x}"
                    );
                }
                if got != want && got.iter().any(|&b| b != 0) {
                    torn += 1;
                }
            }
        }
        total_flushed += flushed.len();
    }
    eprintln!(
        "durability: {kills} kills, {total_flushed} flushed records verified, {torn} torn \
         unflushed records seen (allowed), cachestat clean-after-flush checked in \
         {checked_dirty} runs"
    );
}
