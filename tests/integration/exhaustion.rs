//! Running out: of address space under a small `RLIMIT_AS` (for plain maps
//! and for the window cache), of mappings at `vm.max_map_count`, and of the
//! budget `XMMAP_LIMIT` sets. Each runs in a
//! child (limits and thousands of mappings must not touch the other tests);
//! nothing may panic, every failure is a typed error with what to check,
//! and everything is released afterwards.

use crate::common::*;
use std::os::unix::fs::FileExt;

use xmmap::{page_size, ErrorKind, MapMut, MapOptions, WindowConfig};

const ENOMEM_PREFIX: &str =
    "mmap failed, check sys.vm.max_map_count and/or RLIMIT_DATA: Cannot allocate memory";

/// `name = <number>` in an error message.
fn number_after(text: &str, name: &str) -> Option<u64> {
    let rest = &text[text.find(name)? + name.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn vm_size() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

fn run(name: &str, env: &[(&str, &str)]) {
    let out = child_output(name, env);
    assert!(out.status.success(), "{name}: {:?}\n{}", out.status, child_stderr(&out));
}

#[test]
fn a_small_rlimit_as_gives_the_enomem_hint_and_mapping_recovers() {
    let name = this_test!();
    if !is_child(name) {
        return run(name, &[]);
    }
    let f = TempFile::with(&pattern(64 << 10));
    let before = map_count();
    // The address space in use now, plus 64 MiB, rounded to MiB.
    let limit = ((vm_size() >> 20) + 64) << 20;
    let lim = libc::rlimit { rlim_cur: limit, rlim_max: limit };
    // SAFETY: setrlimit with a valid struct, in this child only.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) }, 0);

    // A file map and an anonymous map of 1 GiB: over the limit.
    // SAFETY: fails in the kernel; nothing is touched.
    let file_err = unsafe { MapOptions::new().len(1 << 30).map(&f.read()) }.unwrap_err();
    let anon_err = MapOptions::new().len(1 << 30).map_anon().unwrap_err();
    for e in [&file_err, &anon_err] {
        let s = e.to_string();
        assert_eq!(e.kind(), &ErrorKind::OutOfMemory, "{s}");
        assert_eq!(e.raw_os_error(), Some(libc::ENOMEM), "{s}");
        assert!(s.starts_with(ENOMEM_PREFIX), "{s}");
        assert!(s.contains(&format!("RLIMIT_AS = {} MiB", limit >> 20)), "{s}");
        if POSIX {
            // No procfs to read them from.
            assert!(s.contains("vm.max_map_count = unknown, mappings now = unknown"), "{s}");
            continue;
        }
        let max = number_after(&s, "vm.max_map_count = ").expect("max_map_count in the message");
        assert_eq!(
            Some(max),
            std::fs::read_to_string("/proc/sys/vm/max_map_count")
                .ok()
                .and_then(|v| v.trim().parse().ok())
        );
        let now =
            number_after(&s, "mappings now = ").expect("mapping count in the message") as usize;
        assert!(now.abs_diff(before) < 16, "mappings now = {now}, but {before} before: {s}");
    }
    assert!(file_err.to_string().contains(&f.path.display().to_string()), "{file_err}");
    assert_eq!(map_count(), before, "a failed map left a mapping behind");

    // Fill the address space with 1 MiB maps until the kernel says no.
    let mut maps: Vec<MapMut> = Vec::with_capacity(256);
    let err = loop {
        match MapOptions::new().len(1 << 20).map_anon() {
            Ok(m) => maps.push(m),
            Err(e) => break e,
        }
        assert!(maps.len() < 256, "RLIMIT_AS did not stop 256 MiB of maps");
    };
    assert_eq!(err.kind(), &ErrorKind::OutOfMemory, "{err}");
    assert!(err.to_string().starts_with(ENOMEM_PREFIX), "{err}");
    assert!(!maps.is_empty(), "not even one 1 MiB map fitted");
    // Release, and mapping works again.
    drop(maps);
    let m = MapOptions::new().len(1 << 20).map_anon().unwrap();
    drop(m);
    // SAFETY: as above.
    let small = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    assert_eq!(&small[..], &pattern(64 << 10)[..]);
    drop(small);
    assert_eq!(map_count(), before, "mappings left behind");
    std::process::exit(0);
}

/// `window::enomem_evicts_every_unused_window_and_retries_once` pins the
/// retry step by step; this one keeps a cache working for many reads under
/// an address space with room for two windows and a bit.
#[test]
fn a_small_rlimit_as_keeps_the_window_cache_evicting_and_reading_right() {
    let name = this_test!();
    if !is_child(name) {
        return run(name, &[]);
    }
    let w = (2u64 << 20).max(2 * page_size() as u64);
    let windows = 12;
    let data = pattern((windows * w) as usize);
    let f = TempFile::with(&data);
    let model = f.read();
    let cache = WindowConfig::new()
        .window_size(w)
        .mapped_limit(u64::MAX)
        .limit(xmmap::Limit::none())
        .build()
        .unwrap();
    let h = cache.open(&f.path).unwrap();
    // Everything allocated before the limit: buffers, and room for cursors.
    let mut buf = vec![0u8; w as usize];
    let mut want = vec![0u8; w as usize];
    let mut cursors = Vec::with_capacity(8);
    let before = map_count();
    // SAFETY: nothing writes or truncates the file.
    let mut first = unsafe { cache.cursor(h).unwrap() };
    // SAFETY: as above.
    let mut fifth = unsafe { cache.cursor(h).unwrap() };
    assert_eq!(first.at(0).unwrap()[..10], data[..10]);
    assert_eq!(fifth.at(5 * w).unwrap()[..10], data[5 * w as usize..][..10]);
    // In whole MiB, as the message shows it: room for two windows and a bit.
    let limit = (vm_size() + 11 * w / 4) >> 20 << 20;
    let lim = libc::rlimit { rlim_cur: limit, rlim_max: libc::RLIM_INFINITY };
    // SAFETY: setrlimit with a valid struct, in this child only.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) }, 0);

    // Random reads all over the file: windows come and go, every read is right.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let offset = rng.below(windows * w);
        let len = (1 + rng.below(w)) as usize;
        let n = cache.read_at(h, offset, &mut buf[..len]).unwrap();
        let m = model.read_at(&mut want[..len], offset).unwrap();
        assert_eq!(n, m, "read_at at {offset}+{len}");
        assert!(buf[..n] == want[..n], "read_at at {offset}+{len} differs from pread");
    }
    let s = cache.stats();
    eprintln!("300 reads under RLIMIT_AS: {s}");
    assert!(s.enomem_retries > 0 && s.evictions > 0, "the address space never ran out:\n{s}");
    assert_eq!(s.pinned_windows, 2, "{s}");
    // The pinned windows were never evicted and still read the file.
    assert_eq!(first.at(1).unwrap()[..10], data[1..11]);
    assert_eq!(fifth.at(5 * w + 1).unwrap()[..10], data[5 * w as usize + 1..][..10]);

    // Pin windows until nothing can be evicted: the error carries git's hint.
    let err = loop {
        // SAFETY: as above.
        let mut c = unsafe { cache.cursor(h).unwrap() };
        let at = (2 + cursors.len() as u64) * w;
        match c.at(at) {
            Ok(bytes) => assert_eq!(bytes[..10], data[at as usize..][..10]),
            Err(e) => break e,
        }
        cursors.push(c);
        assert!(cursors.len() < 8, "the address space limit never bit");
    };
    let text = err.to_string();
    eprintln!("with {} more windows pinned: {text}", cursors.len());
    assert_eq!(err.kind(), &ErrorKind::OutOfMemory, "{text}");
    assert_eq!(err.raw_os_error(), Some(libc::ENOMEM), "{text}");
    assert!(text.starts_with(ENOMEM_PREFIX), "{text}");
    assert!(text.contains(&format!("RLIMIT_AS = {} MiB", limit >> 20)), "{text}");
    if POSIX {
        assert!(text.contains("mappings now = unknown"), "{text}");
    } else {
        assert!(number_after(&text, "mappings now = ").is_some(), "{text}");
    }
    let s = cache.stats();
    assert_eq!(s.open_windows, s.pinned_windows, "an unused window survived the retry:\n{s}");

    // Unpinned, the cache works again.
    drop(cursors);
    cache.read_exact_at(h, 11 * w, &mut buf[..100]).unwrap();
    assert!(buf[..100] == data[11 * w as usize..][..100]);
    drop((first, fifth));
    drop(cache);
    assert_eq!(map_count(), before, "a window outlived its cache");
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(!maps.contains(&f.path.display().to_string()), "{maps}");
    std::process::exit(0);
}

/// Mappings the test below makes: of one page and no name, or of `file`.
fn small_maps(file: &std::path::Path) -> usize {
    let page = page_size() as u64;
    let name = file.display().to_string();
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| {
            let mut fields = l.split_whitespace();
            let range = fields.next().unwrap_or_default();
            let path = fields.nth(4);
            let (lo, hi) = range.split_once('-').unwrap_or_default();
            let len =
                u64::from_str_radix(hi, 16).unwrap_or(0) - u64::from_str_radix(lo, 16).unwrap_or(0);
            path.is_some_and(|p| p == name) || (path.is_none() && len == page)
        })
        .count()
}

#[test]
fn running_out_of_mappings_names_vm_max_map_count_and_the_count() {
    let name = this_test!();
    if !is_child(name) {
        return run(name, &[]);
    }
    let Some(max) = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
    else {
        eprintln!("no /proc/sys/vm/max_map_count: nothing to exhaust");
        std::process::exit(0);
    };
    if max > 1 << 20 {
        eprintln!("vm.max_map_count is {max}: too many maps to make in a test");
        std::process::exit(0);
    }
    let page = page_size();
    let f = TempFile::with(&pattern(page));
    let mut extra: Vec<xmmap::Map> = Vec::with_capacity(4);
    let file = f.read();
    let before = small_maps(&f.path);
    let before_total = map_count();
    // Everything allocated up front: once the mappings run out, the
    // allocator cannot map new memory either.
    let mut rw: Vec<MapMut> = Vec::with_capacity(max);
    let mut ro: Vec<xmmap::Map> = Vec::with_capacity(max);
    let err = loop {
        // Alternate protections so that neighbours do not merge into one mapping.
        match MapOptions::new().len(page).map_anon() {
            Ok(m) if (rw.len() + ro.len()) % 2 == 0 => rw.push(m),
            Ok(m) => match m.make_read_only() {
                Ok(r) => ro.push(r),
                Err(e) => break e,
            },
            Err(e) => break e,
        }
        assert!(rw.len() + ro.len() <= max, "more maps than vm.max_map_count");
    };
    let made = rw.len() + ro.len();
    let s = err.to_string();
    assert_eq!(err.kind(), &ErrorKind::OutOfMemory, "{s}");
    assert!(s.starts_with(ENOMEM_PREFIX), "{s}");
    if POSIX {
        // The limit is Linux's, but the backend has no procfs to name it.
        assert!(s.contains("vm.max_map_count = unknown, mappings now = unknown"), "{s}");
    } else {
        assert_eq!(number_after(&s, "vm.max_map_count = "), Some(max as u64), "{s}");
        let now = number_after(&s, "mappings now = ").expect("the count in the message") as usize;
        // /proc/self/maps lists [vsyscall] too, which the kernel does not count.
        assert!(now + 8 >= max && now <= max + 8, "mappings now = {now} at max {max}: {s}");
    }
    assert!(made + before_total + 8 >= max, "only {made} maps made at max {max}");
    // A file map fails the same way, naming the file. If the loop stopped
    // at a make_read_only, whose failure dropped its map, a slot is free:
    // the first file map may take it (file maps at one offset never merge).
    let e = loop {
        // SAFETY: fails in the kernel, or maps a page nobody changes.
        match unsafe { MapOptions::new().map(&file) } {
            Ok(m) => extra.push(m),
            Err(e) => break e,
        }
        assert!(extra.len() <= 2, "file maps still succeed after the mappings ran out");
    };
    assert_eq!(e.kind(), &ErrorKind::OutOfMemory, "{e}");
    assert!(e.to_string().contains("vm.max_map_count"), "{e}");
    drop(rw);
    drop(ro);
    drop(extra);
    // Not the total count: once mappings ran out, the allocator may have
    // kept a new arena of its own.
    assert_eq!(small_maps(&f.path), before, "mappings left behind");
    // SAFETY: only this process touches the file.
    let m = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    assert_eq!(&m[..], &pattern(page)[..]);
    eprintln!("made {made} maps; the error said: {s}");
    std::process::exit(0);
}

#[test]
fn xmmap_limit_refuses_before_any_system_call() {
    let name = this_test!();
    if !is_child(name) {
        // Without the limit the same huge request reaches the kernel and fails there.
        let e = MapOptions::new().len(1 << 46).map_anon().unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOMEM), "{e}");
        return run(name, &[("XMMAP_LIMIT", "1m")]);
    }
    let page = page_size();
    let f = TempFile::with(&pattern(2 << 20));
    let before = map_count();
    for len in [1usize << 46, (1 << 20) + 1, 2 << 20] {
        let e = MapOptions::new().len(len).map_anon().unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::LimitExceeded { requested: len as u64, limit: 1 << 20 },
            "{e}"
        );
        assert_eq!(e.raw_os_error(), None, "no system call failed: {e}");
        assert_eq!(e.to_string(), format!("attempting to mmap {len} over limit 1048576"));
    }
    // A file: the whole 2 MiB is over; at an unaligned offset the bytes
    // below it in its page count too (1 MiB + 1 here).
    // SAFETY: fails before mapping.
    let e = unsafe { MapOptions::new().map(&f.read()) }.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::LimitExceeded { requested, .. } if *requested == 2 << 20)
    );
    // SAFETY: as above.
    let e = unsafe { MapOptions::new().offset(page as u64 + 1).len(1 << 20).map(&f.read()) };
    let e = e.unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::LimitExceeded { requested, .. } if *requested == (1 << 20) + 1),
        "{e}"
    );
    assert_eq!(map_count(), before, "a refused map reached the kernel");
    // At the limit exactly: allowed.
    // SAFETY: only this process touches the file.
    let m = unsafe { MapOptions::new().offset(page as u64).len(1 << 20).map(&f.read()).unwrap() };
    assert_eq!(m.len(), 1 << 20);
    drop(m);
    assert_eq!(map_count(), before);
    std::process::exit(0);
}
