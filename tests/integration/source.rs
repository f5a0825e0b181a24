//! mmap-or-read (`Source`), sealed memory files (`map_sealed`) and the std
//! `Reader`, on real files, pipes, procfs, sysfs and devices.

use std::fs::File;
use std::io::{BufRead, Cursor, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, FromRawFd};

use crate::common::*;
use xmmap::source::{map_sealed, sealed_memfd, DEFAULT_THRESHOLD};
use xmmap::{page_size, ErrorKind, Limit, MapOptions, Reader, Source, SourceOptions};

/// A pipe as two files: (read end, write end).
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both descriptors were just created and are owned by nobody else.
    unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
}

/// A memfd that allows sealing, holding `bytes`, with no seals yet.
fn memfd(bytes: &[u8]) -> File {
    // SAFETY: the name is a NUL-terminated literal.
    let fd = unsafe {
        libc::memfd_create(c"xmmap-test".as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING)
    };
    assert!(fd >= 0, "memfd_create");
    // SAFETY: the descriptor was just created and is owned by nobody else.
    let mut f = unsafe { File::from_raw_fd(fd) };
    f.write_all(bytes).unwrap();
    f
}

fn add_seals(f: &File, seals: i32) -> std::io::Result<()> {
    // SAFETY: F_ADD_SEALS takes an int argument and touches no memory.
    let rc = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_ADD_SEALS, seals) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn get_seals(f: &File) -> i32 {
    // SAFETY: F_GET_SEALS takes no argument.
    unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GET_SEALS) }
}

#[test]
fn small_regular_files_are_read_and_big_ones_mapped() {
    let small = TempFile::with(&pattern(1000));
    // SAFETY: only this test touches the files.
    let s = unsafe { Source::open(&small.path).unwrap() };
    assert!(!s.is_mapped());
    assert_eq!(&s[..], &pattern(1000)[..]);
    assert_eq!(s.len(), 1000);

    let size = DEFAULT_THRESHOLD as usize + 123;
    let big = TempFile::with(&pattern(size));
    // SAFETY: as above.
    let b = unsafe { Source::from_file(&big.read()).unwrap() };
    assert!(b.is_mapped());
    assert_eq!(&b[..], &pattern(size)[..]);
    assert!(b.as_map().is_some());
}

#[test]
fn the_threshold_is_inclusive() {
    let t = 3 * page_size() as u64;
    let at = TempFile::with(&pattern(t as usize));
    let below = TempFile::with(&pattern(t as usize - 1));
    // SAFETY: only this test touches the files.
    unsafe {
        assert!(SourceOptions::new().threshold(t).open(&at.path).unwrap().is_mapped());
        assert!(!SourceOptions::new().threshold(t).open(&below.path).unwrap().is_mapped());
    }
}

#[test]
fn offset_and_len_give_the_same_bytes_mapped_or_read() {
    let data = pattern(5 * page_size() + 77);
    let f = TempFile::with(&data);
    for (off, len) in [(0u64, None), (1, Some(10u64)), (4095, Some(5000)), (3, Some(1 << 40))] {
        let mut o = SourceOptions::new();
        o.offset(off);
        if let Some(l) = len {
            o.len(l);
        }
        // SAFETY: only this test touches the file.
        let (m, r) = unsafe {
            (
                o.clone().force_map(true).open(&f.path).unwrap(),
                o.clone().force_read(true).open(&f.path).unwrap(),
            )
        };
        assert!(m.is_mapped() && !r.is_mapped());
        let end = len.map_or(data.len(), |l| (off + l).min(data.len() as u64) as usize);
        assert_eq!(&m[..], &data[off as usize..end], "{off} {len:?}");
        assert_eq!(&r[..], &m[..], "{off} {len:?}");
    }
    // SAFETY: as above.
    let e = unsafe { SourceOptions::new().offset(data.len() as u64 + 1).open(&f.path) };
    assert_eq!(e.unwrap_err().kind(), &ErrorKind::InvalidInput);
}

#[test]
fn pipes_are_read_to_end_of_file() {
    // More than a pipe buffer, so that reading must loop while the writer
    // is still writing: the size is unknown until end of file.
    let data = pattern(300 * 1024 + 5);
    let (rd, mut wr) = pipe();
    let expected = data.clone();
    let writer = std::thread::spawn(move || {
        wr.write_all(&expected).unwrap();
    });
    // SAFETY: pipes are never mapped.
    let s = unsafe { SourceOptions::new().threshold(0).from_file(&rd).unwrap() };
    writer.join().unwrap();
    assert!(!s.is_mapped());
    assert_eq!(s.len(), data.len());
    assert!(s[..] == data[..]);
}

#[test]
fn a_pipe_by_its_proc_path_and_with_an_offset() {
    let mut child = std::process::Command::new("echo")
        .arg("hello from a pipe")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn echo");
    let out = child.stdout.take().unwrap();
    let path = format!("/proc/self/fd/{}", out.as_raw_fd());
    // SAFETY: pipes are never mapped.
    let s = unsafe { SourceOptions::new().offset(6).open(&path).unwrap() };
    child.wait().unwrap();
    assert!(!s.is_mapped());
    assert_eq!(&s[..], b"from a pipe\n");
}

#[test]
fn force_map_on_a_pipe_is_a_clear_error() {
    let (rd, wr) = pipe();
    drop(wr);
    // SAFETY: the mapping is refused before anything is mapped.
    let e = unsafe { SourceOptions::new().force_map(true).from_file(&rd).unwrap_err() };
    assert_eq!(e.kind(), &ErrorKind::NotMappable);
    let msg = e.to_string();
    assert!(msg.contains("pipe") && msg.contains("force_map"), "{msg}");
}

#[test]
fn procfs_and_sysfs_files_are_read() {
    // SAFETY: procfs and sysfs files are never mapped.
    let status = unsafe { SourceOptions::new().threshold(0).open("/proc/self/status").unwrap() };
    assert!(!status.is_mapped());
    assert!(status.starts_with(b"Name:"));
    // /proc/self/maps is longer than one read's worth in a test binary.
    // SAFETY: as above.
    let maps = unsafe { Source::open("/proc/self/maps").unwrap() };
    assert!(maps.ends_with(b"\n") && maps.len() > 100);
    // SAFETY: as above.
    let forced = unsafe { SourceOptions::new().force_map(true).open("/proc/self/status") };
    assert_eq!(forced.unwrap_err().kind(), &ErrorKind::NotMappable);

    let sysfs = "/sys/devices/system/cpu/online";
    assert_eq!(std::fs::metadata(sysfs).unwrap().len(), page_size() as u64);
    // SAFETY: as above.
    let online = unsafe { SourceOptions::new().threshold(0).open(sysfs).unwrap() };
    assert!(!online.is_mapped());
    assert_eq!(&online[..], std::fs::read(sysfs).unwrap().as_slice());
    assert!(online.len() < page_size() && online.ends_with(b"\n"));
}

#[test]
fn devices_and_empty_files() {
    // SAFETY: devices are read unless forced; /dev/zero maps to zeros.
    unsafe {
        let null = Source::open("/dev/null").unwrap();
        assert!(null.is_empty() && !null.is_mapped());
        let zero = SourceOptions::new().len(10_000).open("/dev/zero").unwrap();
        assert!(!zero.is_mapped());
        assert_eq!(zero.len(), 10_000);
        assert!(zero.iter().all(|&b| b == 0));
        let mapped = SourceOptions::new().force_map(true).len(8192).open("/dev/zero").unwrap();
        assert!(mapped.is_mapped() && mapped.len() == 8192 && mapped.iter().all(|&b| b == 0));
        let e = SourceOptions::new().force_map(true).open("/dev/zero").unwrap_err();
        assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    }
    let empty = TempFile::with(b"");
    // SAFETY: only this test touches the file.
    let s = unsafe { SourceOptions::new().threshold(0).open(&empty.path).unwrap() };
    assert!(s.is_empty() && !s.is_mapped());
    // SAFETY: as above.
    let m = unsafe { SourceOptions::new().force_map(true).open(&empty.path).unwrap() };
    assert!(m.is_empty() && m.is_mapped());
    // SAFETY: nothing is mapped or read.
    let dir = unsafe { Source::open(std::env::temp_dir()) };
    assert_eq!(dir.unwrap_err().kind(), &ErrorKind::InvalidInput);
}

#[test]
fn a_limit_refusal_is_the_error_not_a_reason_to_read() {
    let page = page_size();
    let f = TempFile::with(&pattern(4 * page));
    let mut o = SourceOptions::new();
    o.threshold(0).limit(Limit::bytes(page as u64));
    // SAFETY: only this test touches the file.
    let e = unsafe { o.open(&f.path).unwrap_err() };
    assert_eq!(
        e.kind(),
        &ErrorKind::LimitExceeded { requested: 4 * page as u64, limit: page as u64 }
    );
    // Reading is not limited.
    // SAFETY: as above.
    let r = unsafe { o.clone().force_read(true).open(&f.path).unwrap() };
    assert_eq!(&r[..], &pattern(4 * page)[..]);
}

#[test]
fn force_read_and_force_map_override_the_size() {
    let big = TempFile::with(&pattern(2 * DEFAULT_THRESHOLD as usize));
    let small = TempFile::with(b"tiny");
    // SAFETY: only this test touches the files.
    unsafe {
        let r = SourceOptions::new().force_read(true).open(&big.path).unwrap();
        assert!(!r.is_mapped());
        assert_eq!(&r[..], &pattern(2 * DEFAULT_THRESHOLD as usize)[..]);
        let m = SourceOptions::new().force_map(true).open(&small.path).unwrap();
        assert!(m.is_mapped());
        assert_eq!(&m[..], b"tiny");
        let both = SourceOptions::new().force_map(true).force_read(true).open(&small.path);
        assert_eq!(both.unwrap_err().kind(), &ErrorKind::InvalidInput);
    }
}

#[test]
fn reading_a_regular_file_leaves_the_descriptor_position_alone() {
    let f = TempFile::with(b"0123456789");
    let mut file = f.read();
    file.seek(SeekFrom::Start(4)).unwrap();
    // SAFETY: only this test touches the file.
    let s = unsafe { Source::from_file(&file).unwrap() };
    assert_eq!(&s[..], b"0123456789");
    assert_eq!(file.stream_position().unwrap(), 4);
}

#[test]
fn map_sealed_accepts_a_sealed_memfd() {
    let data = pattern(3 * page_size() + 1);
    if POSIX {
        return assert_unsupported(sealed_memfd("xmmap-sealed", &data), "memfd_create");
    }
    let file = sealed_memfd("xmmap-sealed", &data).unwrap();
    let seals = get_seals(&file);
    for s in [libc::F_SEAL_SHRINK, libc::F_SEAL_GROW, libc::F_SEAL_WRITE, libc::F_SEAL_SEAL] {
        assert_ne!(seals & s, 0, "seal {s:#x} missing from {seals:#x}");
    }
    let map = map_sealed(&file).unwrap();
    assert_eq!(&map[..], &data[..]);
    // The kernel keeps the promise: writes and shrinking are refused.
    assert!((&file).write_all(b"x").is_err());
    assert!(file.set_len(1).is_err());
    assert_eq!(&map[..], &data[..]);
    // The descriptor is at offset 0, ready to read.
    let mut f = file;
    let mut back = Vec::new();
    f.read_to_end(&mut back).unwrap();
    assert_eq!(back, data);
}

#[test]
fn map_sealed_rejects_unsealed_and_partially_sealed_files() {
    let plain = TempFile::with(b"not a memfd");
    if POSIX {
        // No seals on any file there.
        assert_unsupported(map_sealed(&plain.read()), "F_GET_SEALS");
        return assert_unsupported(map_sealed(&memfd(b"a Linux memfd")), "F_GET_SEALS");
    }
    let e = map_sealed(&plain.read()).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(e.to_string().contains("cannot carry seals"), "{e}");

    let bare = memfd(b"no seals");
    let e = map_sealed(&bare).unwrap_err().to_string();
    assert!(e.contains("F_SEAL_SHRINK") && e.contains("F_SEAL_WRITE"), "{e}");
    assert!(e.contains("no seals"), "{e}");

    add_seals(&bare, libc::F_SEAL_SHRINK).unwrap();
    let e = map_sealed(&bare).unwrap_err().to_string();
    assert!(e.contains("lacks F_SEAL_WRITE"), "{e}");
    assert!(!e.contains("lacks F_SEAL_SHRINK"), "{e}");

    let no_shrink = memfd(b"writes sealed only");
    add_seals(&no_shrink, libc::F_SEAL_WRITE).unwrap();
    let e = map_sealed(&no_shrink).unwrap_err().to_string();
    assert!(e.contains("lacks F_SEAL_SHRINK") && !e.contains("F_SEAL_WRITE (or"), "{e}");
}

#[test]
fn future_write_is_accepted_only_when_no_writable_mapping_survives() {
    let free = memfd(b"future write, no mappings");
    add_seals(&free, libc::F_SEAL_SHRINK | libc::F_SEAL_FUTURE_WRITE).unwrap();
    if POSIX {
        // The backend asks for no seals, so it cannot see these.
        return assert_unsupported(map_sealed(&free), "F_GET_SEALS");
    }
    let map = map_sealed(&free).unwrap();
    assert_eq!(&map[..], b"future write, no mappings");
    assert_ne!(get_seals(&free) & libc::F_SEAL_WRITE, 0, "F_SEAL_WRITE was added");

    let held = memfd(b"a writer kept its map");
    // SAFETY: this test is the only user of the memfd.
    let mut writer = unsafe { MapOptions::new().map_mut(&held).unwrap() };
    add_seals(&held, libc::F_SEAL_SHRINK | libc::F_SEAL_FUTURE_WRITE).unwrap();
    let e = map_sealed(&held).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::InvalidInput);
    assert!(e.to_string().contains("writable shared mapping"), "{e}");
    // That mapping can indeed still write: the refusal was needed.
    writer[0] = b'A';
    drop(writer);

    // Through a read-only descriptor F_SEAL_WRITE cannot be added.
    let shared = memfd(b"seen read-only");
    add_seals(&shared, libc::F_SEAL_SHRINK | libc::F_SEAL_FUTURE_WRITE).unwrap();
    let read_only = File::open(format!("/proc/self/fd/{}", shared.as_raw_fd())).unwrap();
    let e = map_sealed(&read_only).unwrap_err().to_string();
    assert!(e.contains("read-only"), "{e}");

    let locked = memfd(b"sealed against more seals");
    add_seals(&locked, libc::F_SEAL_SHRINK | libc::F_SEAL_FUTURE_WRITE | libc::F_SEAL_SEAL)
        .unwrap();
    let e = map_sealed(&locked).unwrap_err().to_string();
    assert!(e.contains("F_SEAL_SEAL"), "{e}");
}

#[test]
fn sealed_memfd_refuses_bad_names() {
    assert_eq!(sealed_memfd("a\0b", b"").unwrap_err().kind(), &ErrorKind::InvalidInput);
    let long = "n".repeat(250);
    assert_eq!(sealed_memfd(&long, b"").unwrap_err().kind(), &ErrorKind::InvalidInput);
    if POSIX {
        return assert_unsupported(sealed_memfd("empty", b""), "memfd_create");
    }
    let empty = sealed_memfd("empty", b"").unwrap();
    assert!(map_sealed(&empty).unwrap().is_empty());
}

use crate::common::Rng;

/// Random reads, seeks, line reads and positioned reads on a Reader and on
/// a Cursor over the same bytes: same results, same positions.
fn reader_matches_cursor<T: xmmap::ByteSource>(reader: T, data: &[u8], seed: u64) {
    let mut rng = Rng(seed);
    let mut r = Reader::new(reader);
    let mut c = Cursor::new(data);
    let len = data.len() as u64;
    for step in 0..3000 {
        match rng.below(6) {
            0 => {
                let n = rng.below(3 * page_size() as u64) as usize;
                let (mut a, mut b) = (vec![0; n], vec![0; n]);
                assert_eq!(r.read(&mut a).unwrap(), c.read(&mut b).unwrap(), "step {step}");
                assert_eq!(a, b);
            }
            1 => {
                let s = match rng.below(3) {
                    0 => SeekFrom::Start(rng.below(len + 100)),
                    1 => SeekFrom::End(rng.below(len + 100) as i64 - len as i64 - 50),
                    _ => SeekFrom::Current(rng.below(2 * len) as i64 - len as i64),
                };
                match (r.seek(s), c.seek(s)) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "step {step}"),
                    (Err(_), Err(_)) => {}
                    (a, b) => panic!("step {step}: {a:?} vs {b:?}"),
                }
            }
            2 => {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                assert_eq!(r.read_until(0, &mut a).unwrap(), c.read_until(0, &mut b).unwrap());
                assert_eq!(a, b, "step {step}");
            }
            3 => {
                let n = r.fill_buf().unwrap().len();
                assert_eq!(n, c.fill_buf().unwrap().len(), "step {step}");
                let amt = rng.below(n as u64 + 1) as usize;
                r.consume(amt);
                c.consume(amt);
            }
            4 => {
                let off = rng.below(len + 10);
                let mut a = vec![0; rng.below(2 * page_size() as u64) as usize];
                let n = r.read_at(off, &mut a).unwrap();
                let want = data.get(off as usize..).unwrap_or(&[]);
                assert_eq!(&a[..n], &want[..want.len().min(a.len())], "step {step}");
            }
            _ => {
                let n = rng.below(len / 4 + 1) as usize;
                let (mut a, mut b) = (vec![0; n], vec![0; n]);
                let (x, y) = (r.read_exact(&mut a), c.read_exact(&mut b));
                assert_eq!(x.is_ok(), y.is_ok(), "step {step}");
                assert_eq!(a, b);
            }
        }
        assert_eq!(r.position(), c.position(), "step {step}");
    }
}

#[test]
fn reader_over_maps_and_sources_behaves_like_cursor() {
    let data = pattern(7 * page_size() + 300);
    let f = TempFile::with(&data);
    // SAFETY: only this test touches the file.
    let (map, mapped, read) = unsafe {
        (
            MapOptions::new().map(&f.read()).unwrap(),
            SourceOptions::new().force_map(true).open(&f.path).unwrap(),
            SourceOptions::new().force_read(true).open(&f.path).unwrap(),
        )
    };
    reader_matches_cursor(&map, &data, 7);
    reader_matches_cursor(mapped, &data, 11);
    reader_matches_cursor(std::sync::Arc::new(read), &data, 13);
    let rw = f.rw();
    // SAFETY: as above.
    let map_mut = unsafe { MapOptions::new().map_mut(&rw).unwrap() };
    reader_matches_cursor(map_mut, &data, 17);
}

#[cfg(feature = "bytes")]
#[test]
fn bytes_from_map_and_source_share_the_mapping() {
    let data = pattern(3 * page_size());
    let f = TempFile::with(&data);
    // SAFETY: only this test touches the file.
    let map = unsafe { MapOptions::new().map(&f.read()).unwrap() };
    let addr = map.as_ptr();
    let b = bytes::Bytes::from(map);
    assert_eq!(b.as_ptr(), addr, "no copy");
    assert_eq!(&b[..], &data[..]);
    let tail = b.slice(page_size()..);
    drop(b);
    assert_eq!(&tail[..], &data[page_size()..]);

    // SAFETY: as above.
    let src = unsafe { SourceOptions::new().force_map(true).open(&f.path).unwrap() };
    let addr = src.as_ptr();
    let b = bytes::Bytes::from(src);
    assert_eq!(b.as_ptr(), addr, "no copy");
    let read = Source::from(b"read bytes".to_vec());
    assert_eq!(&bytes::Bytes::from(read)[..], b"read bytes");
}

#[test]
fn a_file_the_kernel_refuses_to_map_is_read_instead() {
    // A sysfs binary attribute that is not page sized, so only the kernel's
    // refusal (ENODEV) sends it to reading.
    let notes = "/sys/kernel/notes";
    let size = std::fs::metadata(notes).unwrap().len();
    assert!(size > 0 && size != page_size() as u64);
    // SAFETY: sysfs attributes are read, never mapped.
    let forced = unsafe { SourceOptions::new().force_map(true).open(notes) };
    let e = forced.unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotMappable, "{e}");
    // SAFETY: as above.
    let s = unsafe { SourceOptions::new().threshold(0).open(notes).unwrap() };
    assert!(!s.is_mapped());
    assert_eq!(&s[..], std::fs::read(notes).unwrap().as_slice());
}

#[test]
fn positioned_reads_of_a_truncated_map_are_errors_not_sigbus() {
    let page = page_size();
    let f = TempFile::with(&pattern(3 * page));
    // SAFETY: after the truncation below only the guarded read_at touches
    // the map; nothing derefs it.
    let src = unsafe { SourceOptions::new().force_map(true).open(&f.path).unwrap() };
    let reader = Reader::new(src);
    f.rw().set_len(page as u64).unwrap();
    let mut buf = vec![0u8; 2 * page];
    let e = reader.read_at(0, &mut buf).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Truncated { offset: page as u64 });
    assert_eq!(&buf[..page], &pattern(page)[..], "the bytes before the end arrived");
    assert_eq!(reader.read_at(0, &mut buf[..page]).unwrap(), page);
}
