//! Runs the built `xmmap` binary and checks what a user sees.
//!
//! Unix only: the tests use /proc, signals and Unix paths.
#![cfg(unix)]

use std::process::{Command, Output};

fn xmmap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xmmap")).args(args).output().expect("run xmmap")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn info_reports_the_page_size_getconf_reports() {
    let o = xmmap(&["info"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let getconf = Command::new("getconf").arg("PAGESIZE").output().expect("getconf");
    let page = String::from_utf8_lossy(&getconf.stdout).trim().to_string();
    let out = stdout(&o);
    assert!(out.contains(&format!("page size               {page} bytes")), "{out}");
    for field in [
        "XMMAP_LIMIT",
        "RLIMIT_DATA",
        "RLIMIT_AS",
        "RLIMIT_MEMLOCK",
        "RLIMIT_NOFILE",
        "vm.max_map_count",
        "mappings now",
        "vm.overcommit_memory",
        "transparent huge pages",
    ] {
        assert!(out.contains(field), "missing {field}: {out}");
    }
}

#[test]
fn info_json_is_valid_and_has_every_figure() {
    let o = xmmap(&["--limit", "0x1000", "info", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["page_size"].as_u64(), Some(xmmap::page_size() as u64));
    assert_eq!(v["xmmap_limit"]["bytes"].as_u64(), Some(4096));
    for key in [
        "huge_pages",
        "transparent_huge_pages",
        "rlimit_data",
        "rlimit_as",
        "rlimit_memlock",
        "rlimit_nofile",
        "max_map_count",
        "map_count",
        "overcommit_memory",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    if cfg!(xmmap_posix) {
        // xmmap's POSIX backend (macOS, FreeBSD) has no /proc to count maps in.
        assert!(v["map_count"].is_null(), "{}", v["map_count"]);
    } else {
        assert!(v["map_count"].as_u64().unwrap() > 0);
    }
}

#[test]
fn a_bad_xmmap_limit_is_reported_not_ignored() {
    let o = Command::new(env!("CARGO_BIN_EXE_xmmap"))
        .arg("info")
        .env("XMMAP_LIMIT", "12 k")
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(stdout(&o).contains("error: failed to parse XMMAP_LIMIT=\"12 k\""), "{}", stdout(&o));
}

#[test]
fn bad_usage_exits_2_with_clap_message() {
    let o = xmmap(&["--limit=-5", "info"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--limit"), "{}", stderr(&o));
    let o = xmmap(&["no-such-command"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in [
        &["--help"][..],
        &["info", "--help"],
        &["cat", "--help"],
        &["bench", "--help"],
        &["residency", "--help"],
    ] {
        let o = xmmap(cmd);
        assert!(o.status.success());
        assert!(stdout(&o).contains("Examples:"), "{cmd:?}: {}", stdout(&o));
    }
}

/// A temp file removed on drop.
struct Temp(std::path::PathBuf);
impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
fn temp(name: &str, bytes: &[u8]) -> Temp {
    let p = std::env::temp_dir().join(format!("xmmap-cli-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    Temp(p)
}
fn noise(len: usize) -> Vec<u8> {
    xmmap_bench::Rng::new(0x2545_f491_4f6c_dd1d).bytes(len)
}

#[test]
fn cat_is_byte_identical_to_dd_at_awkward_offsets() {
    let page = xmmap::page_size();
    // One file below the mapping threshold (read), one above it (mapped).
    for size in [3 * page + 17, (3 << 20) + 5] {
        let data = noise(size);
        let f = temp(&format!("dd-{size}"), &data);
        let path = f.0.to_str().unwrap();
        for off in [0, 1, page - 1, page, page + 1, size - 1, size, size + 1, size + page] {
            for len in [None, Some(1), Some(page + 3), Some(size * 2)] {
                let mut args = vec!["cat".to_string(), "--offset".into(), off.to_string()];
                if let Some(l) = len {
                    args.extend(["--length".into(), l.to_string()]);
                }
                args.push(path.into());
                let o = Command::new(env!("CARGO_BIN_EXE_xmmap")).args(&args).output().unwrap();
                assert!(o.status.success(), "{args:?}: {}", stderr(&o));
                let mut dd = Command::new("dd");
                dd.args([
                    format!("if={path}"),
                    "bs=1M".into(),
                    "iflag=skip_bytes,count_bytes".into(),
                    format!("skip={off}"),
                    "status=none".into(),
                ]);
                if let Some(l) = len {
                    dd.arg(format!("count={l}"));
                }
                let want = dd.output().expect("dd");
                assert!(want.status.success());
                assert_eq!(o.stdout, want.stdout, "offset {off} length {len:?} size {size}");
            }
        }
    }
}

#[test]
fn cat_reads_proc_files_pipes_and_several_files_with_size_suffixes() {
    let o = xmmap(&["cat", "/proc/self/status"]);
    assert!(o.status.success());
    assert!(stdout(&o).starts_with("Name:"), "{}", stdout(&o));

    let mut child = Command::new(env!("CARGO_BIN_EXE_xmmap"))
        .args(["cat", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"through a pipe\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(o.stdout, b"through a pipe\n");

    let data = noise(5000);
    let a = temp("multi-a", &data);
    let b = temp("multi-b", b"second");
    let o = xmmap(&[
        "cat",
        "--offset",
        "1k",
        "--length",
        "16",
        a.0.to_str().unwrap(),
        b.0.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The same range of each file: 16 bytes of the first, nothing of the
    // second (6 bytes long, so 1k is past its end).
    assert_eq!(o.stdout, &data[1024..1040]);
}

#[test]
fn cat_over_the_limit_dies_with_gits_message_and_128() {
    let f = temp("limit", &noise(1 << 20));
    let o = xmmap(&["--limit", "1024", "cat", f.0.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(128));
    assert_eq!(stderr(&o).trim_end(), "fatal: attempting to mmap 1048576 over limit 1024");
    assert!(o.stdout.is_empty());
    let o = Command::new(env!("CARGO_BIN_EXE_xmmap"))
        .args(["cat", f.0.to_str().unwrap()])
        .env("XMMAP_LIMIT", "1k")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(128));
    assert!(stderr(&o).starts_with("fatal: attempting to mmap 1048576 over limit 1024"));
}

#[test]
fn cat_of_a_missing_file_names_it() {
    let o = xmmap(&["cat", "/nonexistent/xmmap-file"]);
    assert_eq!(o.status.code(), Some(128));
    assert!(stderr(&o).contains("fatal: cannot open /nonexistent/xmmap-file"), "{}", stderr(&o));
}

/// Runs `xmmap ARGS` on `stdin`, reads the first 10 bytes it writes and
/// closes the pipe, as `| head -c 10` does; the child is returned to be
/// waited for, its stderr still piped.
fn head_10(args: &[&str], stdin: std::process::Stdio) -> ([u8; 10], std::process::Child) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xmmap"))
        .args(args)
        .stdin(stdin)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    drop(out);
    (first, child)
}

#[test]
fn cat_into_a_closed_pipe_exits_0_silently() {
    let f = temp("pipe", &noise(8 << 20));
    let path = f.0.to_str().unwrap();
    let (_, child) = head_10(&["cat", path, path], std::process::Stdio::inherit());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn bench_smoke_with_tiny_sizes_gives_json_and_an_svg() {
    use xmmap_bench::method;
    let svg = std::env::temp_dir().join(format!("xmmap-cli-{}-bench.svg", std::process::id()));
    let dir = std::env::temp_dir().join(format!("xmmap-cli-{}-benchdir", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let o = xmmap(&[
        "bench",
        "--dir",
        dir.to_str().unwrap(),
        "--sizes",
        "4k,64k",
        "--rounds",
        "1",
        "--json",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let results = v["results"].as_array().unwrap();
    for method in [method::READ, method::MAP, method::SCAN, method::CEILING_MAPPED] {
        for size in [4096, 65536] {
            assert!(
                results.iter().any(|r| r["method"] == method && r["size"] == size),
                "{method} {size}"
            );
        }
    }
    assert!(results.iter().all(|r| r["gb_per_s"].as_f64().unwrap() > 0.0));
    assert!(v.get("crossover_bytes").is_some());
    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.starts_with("<svg") && plot.contains("polyline") && plot.ends_with("</svg>\n"));
    let _ = std::fs::remove_file(&svg);
    // The temporary files are gone.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    let _ = std::fs::remove_dir(&dir);
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--help").output().is_ok()
}

/// A 10 MiB file with its first 4 MiB resident and the rest evicted.
fn half_resident(name: &str) -> Temp {
    let f = temp(name, &noise(10 << 20));
    let file = std::fs::File::open(&f.0).unwrap();
    file.sync_all().unwrap();
    let path = f.0.to_str().unwrap();
    let o = xmmap(&["residency", "--evict", path]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = xmmap(&["residency", "--touch", "-p", "0-4m", path]);
    assert!(o.status.success(), "{}", stderr(&o));
    f
}

fn resident_pages_json(path: &str) -> (u64, u64) {
    let o = xmmap(&["residency", "--json", path]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    (v["resident_pages"].as_u64().unwrap(), v["total_pages"].as_u64().unwrap())
}

/// fincore's figure for `path`, in pages.
fn fincore_pages(path: &str) -> u64 {
    let o = Command::new("fincore").args(["--json", "--bytes", path]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("fincore JSON");
    v["fincore"][0]["res"].as_u64().unwrap() / xmmap::page_size() as u64
}

/// vmtouch's "Resident Pages: a/b" figure for `path`.
fn vmtouch_pages(path: &str) -> (u64, u64) {
    let o = Command::new("vmtouch").arg(path).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = text.lines().find(|l| l.contains("Resident Pages:")).expect("vmtouch summary");
    let (a, b) = line.split_whitespace().nth(2).unwrap().split_once('/').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

#[test]
fn residency_agrees_with_fincore_and_vmtouch() {
    let f = half_resident("agree");
    let path = f.0.to_str().unwrap();
    let (fincore, vmtouch) = (have("fincore"), have("vmtouch"));
    if !fincore {
        skipped(
            "residency_agrees_with_fincore_and_vmtouch",
            "fincore (util-linux) is not installed: that comparison",
        );
    }
    if !vmtouch {
        skipped(
            "residency_agrees_with_fincore_and_vmtouch",
            "vmtouch is not installed (apt-get install vmtouch): that comparison",
        );
    }
    // The page cache can still change under the three readings (read-ahead
    // finishing, reclaim): compare on a state that holds across a reading
    // of ours before and after the others'.
    let mut last = None;
    for _ in 0..5 {
        let before = resident_pages_json(path);
        let theirs_f = fincore.then(|| fincore_pages(path));
        let theirs_v = vmtouch.then(|| vmtouch_pages(path));
        let after = resident_pages_json(path);
        last = Some((before, after, theirs_f, theirs_v));
        if before == after {
            let (ours, total) = before;
            assert_eq!(total, (10 << 20) / xmmap::page_size() as u64);
            assert!(
                ours >= (4 << 20) / xmmap::page_size() as u64 && ours < total,
                "{ours}/{total}"
            );
            if let Some(p) = theirs_f {
                assert_eq!(p, ours, "fincore says {p} pages, we say {ours}");
            }
            if let Some(v) = theirs_v {
                assert_eq!(v, (ours, total), "vmtouch disagrees");
            }
            let o = xmmap(&["residency", path]);
            assert!(
                stdout(&o).contains(&format!("Resident Pages: {ours}/{total}")),
                "{}",
                stdout(&o)
            );
            return;
        }
    }
    panic!("the page cache never held still for a comparison: {last:?}");
}

#[test]
fn residency_verbose_bar_and_evict_then_touch() {
    let f = half_resident("bar");
    let path = f.0.to_str().unwrap();
    let o = xmmap(&["residency", "-v", path]);
    let out = stdout(&o);
    let bar = out.lines().nth(1).unwrap();
    assert!(bar.starts_with("[O") && bar.contains(' '), "{out}");
    let o = xmmap(&["residency", "--evict", path]);
    assert!(o.status.success());
    let (after_evict, total) = resident_pages_json(path);
    assert!(after_evict < total, "{after_evict}/{total}");
    let o = xmmap(&["residency", "--touch", path]);
    assert!(stdout(&o).contains("Touched Pages"), "{}", stdout(&o));
    assert_eq!(resident_pages_json(path), (total, total));
}

#[test]
fn residency_walks_directories_once_per_inode_and_skips_symlinks() {
    let dir = std::env::temp_dir().join(format!("xmmap-cli-{}-tree", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let page = xmmap::page_size();
    std::fs::write(dir.join("a"), noise(3 * page)).unwrap();
    std::fs::write(dir.join("sub/b"), noise(page + 1)).unwrap();
    std::fs::hard_link(dir.join("a"), dir.join("sub/a-again")).unwrap();
    std::os::unix::fs::symlink(dir.join("a"), dir.join("link")).unwrap();
    let d = dir.to_str().unwrap();

    let o = xmmap(&["residency", "-r", "--json", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"], 2, "hard link counted once, symlink skipped: {v}");
    assert_eq!(v["directories"], 2);
    assert_eq!(v["total_pages"], 3 + 2);

    let o = xmmap(&["residency", "-r", "-f", "--json", d]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"], 2, "a followed link to a seen inode is still one file");

    let o = xmmap(&["residency", "-r", "-m", "2k", "--json", d]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // As vmtouch: a file over -m counts in Files, is named, and has no pages.
    assert_eq!(
        (&v["files"], &v["too_large"], &v["total_pages"]),
        (&2.into(), &2.into(), &0.into()),
        "{v}"
    );
    assert!(stderr(&o).contains("too large"), "-m names what it skips: {}", stderr(&o));

    let o = xmmap(&["residency", d]);
    assert_eq!(o.status.code(), Some(1), "a directory without -r is a warning");
    assert!(stderr(&o).contains("is a directory (use -r)"), "{}", stderr(&o));
    let o = xmmap(&["residency", "/nonexistent/xmmap"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent/xmmap"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn residency_lock_holds_pages_until_sigterm() {
    let f = temp("lock", &noise(1 << 20));
    let mut child = Command::new(env!("CARGO_BIN_EXE_xmmap"))
        .args(["residency", "--lock", f.0.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    while !text.contains("Elapsed") {
        let mut line = String::new();
        assert!(std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0, "{text}");
        text.push_str(&line);
    }
    assert!(text.contains("Locked Pages: 256/256") || xmmap::page_size() != 4096, "{text}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let locked: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap();
    assert!(locked >= 1024, "VmLck {locked} kB");
    assert!(child.try_wait().unwrap().is_none(), "exited instead of holding the lock");
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = wait_or_fail(&mut child, "residency --lock after SIGTERM");
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(15), "{status:?}");
}

#[test]
fn residency_survives_a_file_truncated_while_being_touched() {
    let f = temp("shrink", &noise(64 << 20));
    let path = f.0.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let shrinker = std::thread::spawn(move || {
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        while !s.load(std::sync::atomic::Ordering::Relaxed) {
            file.set_len(1 << 20).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1));
            file.set_len(64 << 20).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    });
    for _ in 0..20 {
        let o = xmmap(&["residency", "--touch", f.0.to_str().unwrap()]);
        match o.status.code() {
            Some(0) => {}
            Some(1) => assert!(stderr(&o).contains("warning"), "{}", stderr(&o)),
            other => panic!("residency --touch died: {other:?} {:?}\n{}", o.status, stderr(&o)),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    shrinker.join().unwrap();
}

/// Waits for `child`, killing it and failing if it has not ended within a
/// minute (a hang guard, not a timing assertion).
fn wait_or_fail(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what}: still running after a minute");
}

#[test]
fn cat_of_a_mapped_file_truncated_meanwhile_exits_128_not_sigbus() {
    // Broke: the mapped bytes went through Stdout's line scan, so a file
    // truncated under the map killed `xmmap cat` with SIGBUS.
    use std::io::Read;
    let f = temp("truncated", b"");
    let mut caught = 0;
    for round in 0..3 {
        let file = std::fs::OpenOptions::new().write(true).open(&f.0).unwrap();
        file.set_len(64 << 20).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_xmmap"))
            .args(["cat", f.0.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        // Read slowly: cat is mid-file, blocked on the pipe, when it shrinks.
        let mut first = vec![0u8; 1 << 20];
        out.read_exact(&mut first).unwrap();
        file.set_len(4096).unwrap();
        let mut rest = Vec::new();
        out.read_to_end(&mut rest).unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.code().is_some(), "round {round}: killed: {:?}", o.status);
        if o.status.success() {
            continue;
        }
        assert_eq!(o.status.code(), Some(128), "round {round}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.starts_with(&format!("fatal: {} was truncated at offset ", f.0.display())),
            "{e}"
        );
        caught += 1;
    }
    assert!(caught > 0, "no run of 3 saw the file truncated while cat was writing it");
}

#[test]
fn cat_of_an_endless_stream_copies_as_it_arrives() {
    // Broke: `yes | xmmap cat - | head -c 10` read all of stdin before
    // writing anything, so it printed nothing and grew without bound.
    let mut yes = Command::new("yes").stdout(std::process::Stdio::piped()).spawn().unwrap();
    let (first, mut child) = head_10(&["cat", "-"], yes.stdout.take().unwrap().into());
    assert_eq!(&first, b"y\ny\ny\ny\ny\n");
    let status = wait_or_fail(&mut child, "yes | xmmap cat - | head -c 10");
    let _ = yes.kill();
    let _ = yes.wait();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn cat_of_dev_zero_with_a_length_runs_in_bounded_memory() {
    // Broke: the whole --length was read into memory before writing.
    // The peak is read from the running process's own VmHWM while it is
    // blocked on the pipe: wait4's ru_maxrss would also count the test
    // process's peak, which the child's address space was cloned from.
    use std::io::Read as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_xmmap"))
        .args(["cat", "--length", "256m", "/dev/zero"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut copied = 0u64;
    while copied < 200 << 20 {
        let n = out.read(&mut buf).unwrap();
        assert!(n > 0, "cat ended after {copied} bytes");
        copied += n as u64;
    }
    let hwm = vm_hwm(child.id());
    loop {
        let n = out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        copied += n as u64;
    }
    let st = child.wait().unwrap();
    assert!(st.success(), "{st}");
    assert_eq!(copied, 256 << 20);
    assert!(hwm < 64 << 20, "peak RSS {hwm} bytes with 200 MiB of 256 MiB copied");
}

#[test]
fn cat_of_stdin_starts_where_stdin_already_is() {
    // Broke: `( read -r x; xmmap cat - ) < file` started again at byte 0.
    use std::io::{Seek, SeekFrom};
    let bytes = noise(3 << 20); // mapped, over the threshold
    let f = temp("stdin-pos", &bytes);
    for (pos, offset) in [(6u64, 0u64), (1 << 20, 0), (100, 10)] {
        let mut file = std::fs::File::open(&f.0).unwrap();
        file.seek(SeekFrom::Start(pos)).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_xmmap"))
            .args(["cat", "--offset", &offset.to_string(), "-"])
            .stdin(file)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(o.stdout == bytes[(pos + offset) as usize..], "pos {pos} offset {offset}");
    }
}

#[test]
fn cat_offsets_are_decimal_and_past_the_end_is_reported() {
    // Broke: `--offset 010` was octal 8; past the end was silent.
    let f = temp("decimal", b"0123456789abcdef");
    let o = xmmap(&["cat", "--offset", "010", "--length", "03", f.0.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "abc");
    let o = xmmap(&["cat", "--offset", "0x10", f.0.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid size \"0x10\""), "{}", stderr(&o));
    let o = xmmap(&["cat", "--offset", "17", f.0.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("cannot skip to offset 17: the file has 16 bytes"),
        "{}",
        stderr(&o)
    );
}

/// A fresh empty directory for one bench test, removed on drop.
struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
fn temp_dir(name: &str) -> TempDir {
    let p = std::env::temp_dir().join(format!("xmmap-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir(&p).unwrap();
    TempDir(p)
}
fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

#[test]
fn bench_sizes_beyond_the_free_space_are_refused_before_writing() {
    // Broke: `bench --sizes 99999g` wrote until the disk was full.
    let dir = temp_dir("bench-full");
    let o = xmmap(&["bench", "--dir", dir.0.to_str().unwrap(), "--sizes", "4k,99999t"]);
    assert_eq!(o.status.code(), Some(128), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("the files of --sizes need") && e.contains("free"), "{e}");
    assert!(e.contains(dir.0.to_str().unwrap()), "{e}");
    assert_eq!(entries(&dir.0), Vec::<std::path::PathBuf>::new());
}

#[test]
fn bench_interrupted_removes_its_files_and_exits_130() {
    // Broke: Ctrl-C left the benchmark files behind in the directory.
    let dir = temp_dir("bench-int");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xmmap"))
        .args(["bench", "--dir", dir.0.to_str().unwrap(), "--sizes", "4k,1m,16m", "--rounds"])
        .arg("1000000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until a benchmark file exists (hang guard: a minute).
    let mut seen = false;
    for _ in 0..600 {
        if entries(&dir.0).iter().any(|d| d.is_dir() && !entries(d).is_empty()) {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(seen, "bench wrote no file in a minute");
    // SAFETY: kill(2) on our own child's pid, which has not been waited for.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let status = wait_or_fail(&mut child, "bench after SIGINT");
    let mut e = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut e).unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}: {e}");
    assert_eq!(entries(&dir.0), Vec::<std::path::PathBuf>::new(), "{e}");
}

#[test]
fn bench_refuses_zero_rounds_and_zero_sizes_naming_them() {
    // Broke: --rounds 0 was taken; --sizes 0 said "give --sizes".
    let o = xmmap(&["bench", "--rounds", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--rounds"), "{}", stderr(&o));
    let o = xmmap(&["bench", "--sizes", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the size \"0\" is invalid"), "{}", stderr(&o));
}

/// Reports a comparison this machine cannot make, as `SKIPPED: <test>:
/// <reason>` written straight to stderr (past libtest's capture), and fails
/// instead under `XMMAP_NO_SKIP=1`.
fn skipped(test: &str, reason: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: {reason}");
    assert!(
        std::env::var("XMMAP_NO_SKIP").as_deref() != Ok("1"),
        "{test} skipped (XMMAP_NO_SKIP=1): {reason}"
    );
}

/// Runs `xmmap` with `args` (after `prefix`, a command that runs it) and
/// waits at most a minute: a hang fails the test instead of stalling it.
fn xmmap_or_hang(prefix: &[&str], args: &[&str]) -> Output {
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(env!("CARGO_BIN_EXE_xmmap"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_xmmap")),
    };
    let mut child = cmd
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_or_fail(&mut child, &format!("xmmap {args:?}"));
    child.wait_with_output().unwrap()
}

#[test]
fn residency_lock_of_a_missing_file_fails_instead_of_parking() {
    // Regression: --lock /nonexistent printed 0 pages and parked forever.
    let o = xmmap_or_hang(&[], &["residency", "--lock", "/nonexistent/xmmap-lock"]);
    assert_eq!(o.status.code(), Some(128), "{}", stderr(&o));
    assert!(stderr(&o).contains("/nonexistent/xmmap-lock"), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing could be locked"), "{}", stderr(&o));
}

#[test]
fn residency_lock_over_rlimit_memlock_fails_naming_mlock_and_the_limit() {
    // Regression: a failed mlock printed "Locked Pages: 256/256 100%" (the
    // resident pages) and parked forever.
    if !have("setpriv") || !have("prlimit") {
        eprintln!("skipped: needs setpriv and prlimit to drop CAP_IPC_LOCK");
        return;
    }
    let f = temp("lock-limit", &noise(1 << 20));
    xmmap(&["residency", "--touch", f.0.to_str().unwrap()]);
    let drop_lock =
        ["setpriv", "--inh-caps=-all", "--bounding-set=-ipc_lock", "prlimit", "--memlock=0"];
    let o = xmmap_or_hang(&drop_lock, &["residency", "--lock", f.0.to_str().unwrap()]);
    let err = stderr(&o);
    if err.contains("setpriv:") || err.contains("prlimit:") {
        eprintln!("skipped: cannot drop CAP_IPC_LOCK here: {err}");
        return;
    }
    assert_eq!(o.status.code(), Some(128), "{}{err}", stdout(&o));
    assert!(!stdout(&o).contains("100%"), "{}", stdout(&o));
    assert!(err.contains(f.0.to_str().unwrap()), "{err}");
    assert!(err.contains("mlock") && err.contains("RLIMIT_MEMLOCK is 0"), "{err}");
}

#[test]
fn bench_refusals_quote_the_value_given() {
    // Broke: a refused --sizes said "give --sizes" though sizes were given.
    for (args, given) in [
        (&["bench", "--sizes", "4k,0"][..], "'0' for '--sizes"),
        (&["bench", "--sizes", "4k,"][..], "'' for '--sizes"),
        (&["bench", "--rounds", "0"][..], "'0' for '--rounds"),
        (&["bench", "--rounds", "five"][..], "'five' for '--rounds"),
    ] {
        let o = xmmap(args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(given), "{args:?}: {e}");
        assert!(!e.contains("give --sizes"), "{args:?}: {e}");
    }
}

#[test]
fn bench_table_labels_its_units_and_says_what_each_method_and_the_ceiling_measure() {
    // Broke: the columns had no units, the methods and the ceiling were not
    // described, and a crossover inside the noise was printed as a fact.
    use xmmap_bench::method;
    let dir = temp_dir("bench-labels");
    let dir_arg = dir.0.to_str().unwrap();
    let o = xmmap(&["bench", "--dir", dir_arg, "--sizes", "4k,64k", "--rounds", "3"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("time: median per call over 3 round(s)"), "{out}");
    assert!(out.contains("GB/s: file size / time (10^9 bytes/s)"), "{out}");
    let units = out.lines().find(|l| l.trim_start().starts_with("size")).expect("a units row");
    assert_eq!(units.matches("time").count(), 4, "{units}"); // 3 methods + read/map
    assert_eq!(units.matches("GB/s").count(), 4, "{units}"); // 3 methods + ceiling
    for name in [method::READ, method::MAP, method::SCAN, method::CEILING_MAPPED] {
        let what = method::describe(name).unwrap();
        assert!(out.contains(what), "{name} is not described: {out}");
    }
    assert!(out.contains("the ceiling is the page-cache ceiling"), "{out}");
    let cross = out.lines().find(|l| l.starts_with("crossover:")).expect("a crossover line");
    assert!(
        cross.contains("wins at the largest size")
            || cross.contains("within noise")
            || cross.contains("beyond noise"),
        "{cross}"
    );
    let o = xmmap(&["bench", "--dir", dir_arg, "--sizes", "4k", "--rounds", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["ceiling"], method::CEILING_MAPPED);
    assert_eq!(v["methods"][method::MAP], method::describe(method::MAP).unwrap());
    assert!(v["units"]["median_ns"].as_str().unwrap().contains("nanoseconds"));
    assert!(v.get("crossover_within_noise").is_some());
    assert_eq!(entries(&dir.0), Vec::<std::path::PathBuf>::new());
}

// ---- residency: vmtouch's and fincore's options, compared with the tools.

/// Files, Directories and "Resident Pages: a/b" from a vmtouch-style
/// summary (vmtouch's or ours).
fn summary_figures(text: &str) -> (u64, u64, u64, u64) {
    let field = |names: &[&str]| {
        text.lines()
            .find_map(|l| names.iter().find_map(|n| l.trim_start().strip_prefix(n)))
            .unwrap_or_else(|| panic!("no {names:?} in {text}"))
            .trim()
            .to_string()
    };
    let pages = field(&["Resident Pages:", "Touched Pages:", "Locked Pages:"]);
    let (a, b) = pages.split_whitespace().next().unwrap().split_once('/').unwrap();
    (
        field(&["Files:"]).parse().unwrap(),
        field(&["Directories:"]).parse().unwrap(),
        a.parse().unwrap(),
        b.parse().unwrap(),
    )
}

fn run_tool(tool: &str, args: &[&str]) -> Output {
    Command::new(tool).args(args).output().unwrap()
}

/// Compares `ours()` with `theirs()` on a page cache state that holds
/// across a reading of ours before and after theirs (read-ahead, reclaim
/// and other processes can move it meanwhile). A disagreement while ours
/// held still is tried again too, since the state can move and come back
/// between two readings (reclaim under a loaded machine did, once, in CI):
/// the test fails when no attempt of five agrees, naming the last figures.
fn agree<T: PartialEq + std::fmt::Debug>(what: &str, ours: impl Fn() -> T, theirs: impl Fn() -> T) {
    let mut last = None;
    for _ in 0..5 {
        let before = ours();
        let t = theirs();
        let after = ours();
        if before == after && before == t {
            return;
        }
        last = Some((before, t, after));
    }
    let (before, t, after) = last.unwrap();
    if before == after {
        panic!("{what}: ours, then theirs, five times:\n ours: {before:?}\n theirs: {t:?}");
    }
    panic!(
        "{what}: the page cache never held still: ours {before:?}, theirs {t:?}, ours {after:?}"
    );
}

/// A tree with what vmtouch's options tell apart: logs, a hard link, a
/// symbolic link, a FIFO, a nested directory.
fn option_tree(name: &str) -> TempDir {
    let d = temp_dir(name);
    let page = xmmap::page_size();
    std::fs::create_dir_all(d.0.join("sub/deep")).unwrap();
    std::fs::write(d.0.join("a.log"), noise(3 * page)).unwrap();
    std::fs::write(d.0.join("b.txt"), noise(2 * page)).unwrap();
    std::fs::write(d.0.join("small"), noise(page / 2)).unwrap();
    std::fs::write(d.0.join("sub/c.log"), noise(page)).unwrap();
    std::fs::write(d.0.join("sub/deep/d.bin"), noise(5 * page + 1)).unwrap();
    std::fs::hard_link(d.0.join("small"), d.0.join("sub/small-again")).unwrap();
    std::os::unix::fs::symlink(d.0.join("b.txt"), d.0.join("link")).unwrap();
    let fifo = d.0.join("fifo");
    let o = Command::new("mkfifo").arg(&fifo).output().unwrap();
    assert!(o.status.success());
    d
}

#[test]
fn residency_walks_a_tree_larger_than_rlimit_nofile() {
    // Regression: -r opened every file before counting and kept it open,
    // so a tree past RLIMIT_NOFILE lost files to "Too many open files".
    if !have("prlimit") {
        return skipped("residency_walks_a_tree_larger_than_rlimit_nofile", "no prlimit");
    }
    let d = temp_dir("nofile");
    for i in 0..40 {
        let sub = d.0.join(format!("d{i:02}"));
        std::fs::create_dir(&sub).unwrap();
        for j in 0..5 {
            std::fs::write(sub.join(format!("f{j}")), [i as u8; 100]).unwrap();
        }
    }
    let path = d.0.to_str().unwrap();
    let o = xmmap_or_hang(&["prlimit", "--nofile=64"], &["residency", "-r", "--json", path]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((&v["files"], &v["directories"]), (&200.into(), &41.into()), "{}", stderr(&o));
    assert_eq!(v["total_pages"], 200);
    assert!(!stderr(&o).contains("Too many open files"), "{}", stderr(&o));
    if have("vmtouch") {
        let theirs = summary_figures(&stdout(&run_tool("vmtouch", &[path])));
        assert_eq!((theirs.0, theirs.1, theirs.3), (200, 41, 200), "vmtouch");
    } else {
        skipped("residency_walks_a_tree_larger_than_rlimit_nofile", "no vmtouch to compare");
    }
}

#[test]
fn residency_options_count_what_vmtouch_counts() {
    // -m (too-large files counted, not measured, and named), -i, -I, -h,
    // -f, -q, each on the same tree as vmtouch (which always recurses).
    if !have("vmtouch") {
        return skipped("residency_options_count_what_vmtouch_counts", "vmtouch is not installed");
    }
    let d = option_tree("vmopts");
    let path = d.0.to_str().unwrap();
    let cases: [&[&str]; 9] = [
        &[],
        &["-m", "5k"],
        &["-i", "*.log"],
        &["-i", "*.log", "-i", "deep"],
        &["-I", "*.log"],
        &["-I", "s*", "-I", "d.*"],
        &["-h"],
        &["-f"],
        &["-f", "-h", "-m", "8k"],
    ];
    for opts in cases {
        let ours = || {
            let o = xmmap_or_hang(&[], &[&["residency", "-r"][..], opts, &[path]].concat());
            assert!(o.status.success(), "{opts:?}: {}", stderr(&o));
            summary_figures(&stdout(&o))
        };
        let theirs = || summary_figures(&stdout(&run_tool("vmtouch", &[opts, &[path]].concat())));
        agree(&format!("vmtouch {opts:?}"), ours, theirs);
    }
    // The whole line as vmtouch prints it, sizes and percentage included.
    let line = |o: Output| {
        let text = stdout(&o);
        text.lines().find(|l| l.contains("Resident Pages")).unwrap().to_string()
    };
    agree(
        "the Resident Pages line",
        || line(xmmap(&["residency", "-r", path])),
        || line(run_tool("vmtouch", &[path])),
    );
    let o = xmmap(&["residency", "-r", "-m", "5k", path]);
    let err = stderr(&o);
    assert!(err.contains("d.bin: file too large") && err.contains("-m 5120"), "{err}");
    let o = xmmap(&["residency", "-r", "-q", path]);
    assert!(o.status.success() && o.stdout.is_empty(), "{}", stdout(&o));
    assert!(!stderr(&o).contains("symbolic link"), "-q hides notes: {}", stderr(&o));
    assert!(run_tool("vmtouch", &["-q", path]).stdout.is_empty());
}

#[test]
fn residency_dash_and_b_read_paths_like_vmtouch_b() {
    if !have("vmtouch") {
        return skipped("residency_dash_and_b_read_paths_like_vmtouch_b", "vmtouch is missing");
    }
    let d = option_tree("batch");
    let names = ["a.log", "sub/c.log", "sub/deep", "missing"];
    let paths: Vec<String> = names.iter().map(|n| d.0.join(n).display().to_string()).collect();
    let lines = paths.join("\n") + "\n";
    let nul = paths.join("\0");
    let list = d.0.join("list");
    std::fs::write(&list, &lines).unwrap();
    let list = list.to_str().unwrap();
    let with_stdin = |args: &[&str], input: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_xmmap"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        wait_or_fail(&mut c, &format!("{args:?}"));
        c.wait_with_output().unwrap()
    };
    let theirs = || summary_figures(&stdout(&run_tool("vmtouch", &["-b", list])));
    for (args, input) in [
        (&["residency", "-r", "-"][..], lines.as_str()),
        (&["residency", "-r", "-b", "-"], lines.as_str()),
        (&["residency", "-r", "-0", "-b", "-"], nul.as_str()),
        (&["residency", "-r", "-b", list], ""),
    ] {
        let ours = || {
            let o = with_stdin(args, input);
            // The missing path is named and counted in the exit status.
            assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(&paths[3]), "{}", stderr(&o));
            summary_figures(&stdout(&o))
        };
        agree(&format!("{args:?} vs vmtouch -b"), ours, theirs);
    }
    let o = xmmap(&["residency", "-b", "/nonexistent/xmmap-list"]);
    assert_eq!(o.status.code(), Some(128));
    assert!(stderr(&o).contains("-b") && stderr(&o).contains("/nonexistent/xmmap-list"));
}

#[test]
fn residency_follows_link_loops_once_and_skips_fifos_without_hanging() {
    let d = option_tree("loops");
    std::os::unix::fs::symlink(&d.0, d.0.join("sub/back-to-top")).unwrap();
    let path = d.0.to_str().unwrap();
    let o = xmmap_or_hang(&[], &["residency", "-r", "-f", "--json", path]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("symbolic link loop"), "{}", stderr(&o));
    assert!(stderr(&o).contains("fifo: not a regular file"), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // As vmtouch: the loop is not followed, a link to a file counts again.
    assert_eq!(v["files"], 6, "{v}");
    let fifo = d.0.join("fifo");
    let o = xmmap_or_hang(&[], &["residency", fifo.to_str().unwrap()]);
    assert!(o.status.success(), "a FIFO is skipped, not opened: {}", stderr(&o));
}

#[test]
fn residency_one_file_system_stops_at_mount_points_like_vmtouch_f() {
    let shm = std::path::Path::new("/dev/shm");
    if !shm.is_dir() {
        return skipped("residency_one_file_system_stops_at_mount_points", "no /dev/shm");
    }
    let probe = shm.join(format!("xmmap-cli-{}-F", std::process::id()));
    std::fs::write(&probe, b"probe").unwrap();
    let listed = |args: &[&str]| {
        let o = xmmap(&[&["residency", "-r", "--json"][..], args, &["/dev"]].concat());
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let has =
            v["per_file"].as_array().unwrap().iter().any(|r| r["path"] == probe.to_str().unwrap());
        (has, v["directories"].as_u64().unwrap())
    };
    let (crossing, _) = listed(&[]);
    let (staying, dirs) = listed(&["-F"]);
    let _ = std::fs::remove_file(&probe);
    assert!(crossing && !staying, "-F must not reach /dev/shm");
    if have("vmtouch") {
        let theirs = summary_figures(&stdout(&run_tool("vmtouch", &["-F", "/dev"])));
        assert_eq!(theirs.1, dirs, "vmtouch -F /dev counts other directories");
    } else {
        skipped("residency_one_file_system_stops_at_mount_points", "no vmtouch to compare");
    }
}

#[test]
fn residency_fincore_options_print_what_fincore_prints() {
    if !have("fincore") {
        return skipped("residency_fincore_options_print_what_fincore_prints", "no fincore");
    }
    let f = half_resident("fincore-cols");
    let g = temp("fincore with space", &noise(5000));
    let files = [f.0.to_str().unwrap(), g.0.to_str().unwrap()];
    let cases: [(&[&str], &[&str]); 8] = [
        (&["-o", "RES,PAGES,SIZE,FILE"], &[]),
        (&["--bytes"], &["--bytes"]),
        (&["--noheadings"], &["--noheadings"]),
        (&["--raw"], &["--raw"]),
        (&["--raw", "-n", "--bytes", "-o", "FILE,SIZE"], &["--raw", "-n", "-b", "-o", "FILE,SIZE"]),
        (&["-o", "FILE,RES"], &["-o", "FILE,RES"]),
        (&["--json", "-o", "RES,PAGES,SIZE,FILE"], &["--json"]),
        (&["--json", "--bytes"], &["--json", "--bytes"]),
    ];
    for (ours_args, theirs_args) in cases {
        // Text for text: JSON included, in fincore's key order and layout.
        let norm = |o: Output| {
            assert!(o.status.success(), "{ours_args:?}: {}", stderr(&o));
            stdout(&o)
        };
        let ours = || norm(xmmap(&[&["residency"][..], ours_args, &files].concat()));
        let theirs = || norm(run_tool("fincore", &[theirs_args, &files[..]].concat()));
        agree(&format!("{ours_args:?} vs fincore {theirs_args:?}"), ours, theirs);
    }
}

#[test]
fn residency_cachestat_columns_show_dirty_pages() {
    let page = xmmap::page_size();
    let f = temp("dirty", &noise(16 * page));
    let o = xmmap(&[
        "residency",
        "--raw",
        "-n",
        "-o",
        "DIRTY_PAGES,DIRTY,RECENTLY_EVICTED,FILE",
        f.0.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let first = out.split_whitespace().next().unwrap();
    if first == "-" {
        return skipped(
            "residency_cachestat_columns_show_dirty_pages",
            "no cachestat(2) here (Linux before 6.5, or the POSIX backend)",
        );
    }
    // Written, not synced: dirty unless writeback ran in between.
    let dirty: u64 = first.parse().unwrap();
    assert!(dirty <= 16, "{out}");
    assert!(out.ends_with(&format!(" {}\n", f.0.display())), "{out}");
    std::fs::File::open(&f.0).unwrap().sync_all().unwrap();
    let o = xmmap(&[
        "residency",
        "--json",
        "--bytes",
        "-o",
        "DIRTY_PAGES,WRITEBACK,EVICTED",
        f.0.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["fincore"][0]["dirty_pages"], 0, "synced: {v}");
    assert!(v["fincore"][0]["writeback"].is_u64() && v["fincore"][0]["evicted"].is_u64(), "{v}");
    // -v measures with mincore; the counts come from cachestat all the same.
    let o = xmmap(&["residency", "-v", "--raw", "-n", "-o", "DIRTY_PAGES", f.0.to_str().unwrap()]);
    assert_eq!(stdout(&o), "0\n", "-v with a cachestat column");
    // fincore has these columns from util-linux 2.41 on.
    if run_tool("fincore", &["-o", "DIRTY_PAGES", f.0.to_str().unwrap()]).status.success() {
        let theirs =
            stdout(&run_tool("fincore", &["-n", "-o", "DIRTY_PAGES", f.0.to_str().unwrap()]));
        let ours = stdout(&xmmap(&["residency", "-n", "-o", "DIRTY_PAGES", f.0.to_str().unwrap()]));
        assert_eq!(ours, theirs);
    } else {
        skipped(
            "residency_cachestat_columns_show_dirty_pages",
            "this fincore has no DIRTY_PAGES column: that comparison",
        );
    }
}

#[test]
fn residency_top_lists_the_most_resident_files_first() {
    let d = temp_dir("top");
    let page = xmmap::page_size();
    // Whole files: touching part of a small file reads ahead the rest.
    for (name, pages, touched) in [("a", 2, true), ("b", 8, true), ("c", 5, true), ("d", 9, false)]
    {
        let p = d.0.join(name);
        std::fs::write(&p, noise(pages * page)).unwrap();
        std::fs::File::open(&p).unwrap().sync_all().unwrap();
        let p = p.to_str().unwrap();
        assert!(xmmap(&["residency", "-e", p]).status.success());
        if touched {
            assert!(xmmap(&["residency", "-t", p]).status.success());
        }
    }
    let path = d.0.to_str().unwrap();
    let o = xmmap(&["residency", "-r", "--top", "3", "--bytes", "-n", "-o", "FILE", path]);
    let names: Vec<String> =
        stdout(&o).lines().map(|l| l.rsplit('/').next().unwrap().to_string()).collect();
    assert_eq!(names, ["b", "c", "a"], "{}", stdout(&o));
    let o = xmmap(&["residency", "-r", "--top", "1", path]);
    let out = stdout(&o);
    assert!(
        out.trim_start().starts_with("RES PAGES") && out.lines().nth(1).unwrap().ends_with("/b"),
        "{out}"
    );
    assert_eq!(summary_figures(&out).0, 4, "the summary still counts every file: {out}");
    if have("vmtouch") {
        agree(
            "--top summary vs vmtouch",
            || summary_figures(&stdout(&xmmap(&["residency", "-r", "--top", "1", path]))),
            || summary_figures(&stdout(&run_tool("vmtouch", &[path]))),
        );
    } else {
        skipped("residency_top_lists_the_most_resident_files_first", "no vmtouch to compare");
    }
}

#[test]
fn residency_touch_and_evict_trees_agree_with_vmtouch_and_draw_no_bar_when_piped() {
    let d = option_tree("touch-tree");
    let path = d.0.to_str().unwrap();
    let o = xmmap(&["residency", "-r", "-e", path]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains('\r') && !stderr(&o).contains(" files"), "{}", stderr(&o));
    let o = xmmap(&["residency", "-r", "-t", path]);
    let (files, dirs, touched, total) = summary_figures(&stdout(&o));
    assert_eq!(touched, total, "{}", stdout(&o));
    assert!(!stderr(&o).contains('\r'), "no progress bar when piped: {}", stderr(&o));
    if have("vmtouch") {
        let theirs = summary_figures(&stdout(&run_tool("vmtouch", &[path])));
        assert_eq!(theirs, (files, dirs, total, total), "vmtouch after -t");
    } else {
        skipped("residency_touch_and_evict_trees_agree_with_vmtouch", "no vmtouch to compare");
    }
    if have("script") {
        // On a terminal the bar is drawn (and cleared at the end).
        let cmd = format!("{} residency -r -t {path}", env!("CARGO_BIN_EXE_xmmap"));
        let o = run_tool("script", &["-qec", &cmd, "/dev/null"]);
        assert!(stdout(&o).contains(" files"), "{}", stdout(&o));
    }
}

/// Reads `pidfile` and says whether that process is alive.
fn pid_alive(pidfile: &std::path::Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // A zombie (state Z) has let go of its pages.
    let state = stat.rsplit(')').next()?.split_whitespace().next()?;
    (state != "Z").then_some(pid)
}

fn kill(pid: u32, signal: &str) {
    let o = Command::new("kill").args([signal, &pid.to_string()]).output().unwrap();
    assert!(o.status.success(), "kill {signal} {pid}");
}

#[test]
fn residency_daemon_locks_writes_its_pid_and_stays() {
    let f = temp("daemon", &noise(1 << 20));
    let path = f.0.to_str().unwrap();
    let pidfile = std::env::temp_dir().join(format!("xmmap-cli-{}-daemon.pid", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    let o = xmmap_or_hang(&[], &["residency", "-d", "-w", "-P", pidfile.to_str().unwrap(), path]);
    let pid = pid_alive(&pidfile);
    let stop = || {
        if let Some(pid) = pid {
            kill(pid, "-TERM");
        }
        let _ = std::fs::remove_file(&pidfile);
    };
    if !o.status.success() || pid.is_none() {
        stop();
        panic!("-d -w: {:?} {} {}", o.status, stdout(&o), stderr(&o));
    }
    let ours = summary_figures(&stdout(&o).replace("Locked Pages", "Resident Pages"));
    assert_eq!(ours.2, ours.3, "every page locked: {}", stdout(&o));
    // The daemon holds the pages: an evict cannot drop locked pages.
    xmmap(&["residency", "-e", path]);
    let theirs = have("vmtouch").then(|| summary_figures(&stdout(&run_tool("vmtouch", &[path]))));
    stop();
    if let Some(t) = theirs {
        assert_eq!((t.2, t.3), (ours.3, ours.3), "vmtouch sees the locked pages resident");
    } else {
        skipped("residency_daemon_locks_writes_its_pid_and_stays", "no vmtouch to compare");
    }
    for _ in 0..100 {
        if pid_alive(&pidfile).is_none() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn residency_daemon_with_nothing_locked_exits_with_an_error() {
    let empty = temp_dir("daemon-empty");
    let pidfile = empty.0.join("pid");
    for paths in [&["/nonexistent/xmmap-daemon"][..], &["-r", empty.0.to_str().unwrap()]] {
        let args =
            [&["residency", "-d", "-w", "-P", pidfile.to_str().unwrap()][..], paths].concat();
        let o = xmmap_or_hang(&[], &args);
        if let Some(pid) = pid_alive(&pidfile) {
            kill(pid, "-TERM");
        }
        assert_eq!(o.status.code(), Some(128), "{paths:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("nothing could be locked"), "{}", stderr(&o));
        assert!(!pidfile.exists(), "no pid file for a daemon that did not stay");
    }
}

#[test]
fn residency_watch_redraws_and_stops_on_a_closed_stdout_and_on_ctrl_c() {
    use std::io::BufRead as _;
    use std::os::unix::process::ExitStatusExt as _;
    let f = temp("watch", &noise(4 * xmmap::page_size()));
    for signal in [None, Some("-INT")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xmmap"))
            .args(["residency", "--watch", "0.1", f.0.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut redraws = 0;
        while redraws < 2 {
            match lines.next() {
                Some(Ok(l)) if l.contains("Files: 1") => redraws += 1,
                Some(Ok(_)) => {}
                other => {
                    let _ = child.kill();
                    panic!("--watch ended early: {other:?}");
                }
            }
        }
        match signal {
            None => drop(lines),
            Some(s) => kill(child.id(), s),
        }
        let status = wait_or_fail(&mut child, "--watch");
        match signal {
            None => assert!(status.success(), "a closed stdout ends --watch with 0: {status:?}"),
            Some(_) => assert_eq!(status.signal(), Some(2), "Ctrl-C ends --watch: {status:?}"),
        }
    }
}

#[test]
fn residency_bad_options_exit_2_naming_the_flag() {
    for (args, flag) in [
        (&["residency", "-w", "x"][..], "--daemon"),
        (&["residency", "-P", "p", "x"], "--pidfile"),
        (&["residency", "--watch", "0", "x"], "--watch"),
        (&["residency", "--watch", "1", "-t", "x"], "--watch"),
        (&["residency", "-o", "NOPE", "x"], "--output"),
        (&["residency", "-d", "-e", "x"], "--daemon"),
        (&["residency", "--top", "many", "x"], "--top"),
        (&["residency", "-m", "1q", "x"], "--max-size"),
        (&["residency"], "PATH"),
    ] {
        let o = xmmap(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn residency_help_documents_every_option() {
    let o = xmmap(&["residency", "--help"]);
    let help = stdout(&o);
    for opt in [
        "-t, --touch",
        "-e, --evict",
        "-l, --lock",
        "-d, --daemon",
        "-w, --wait",
        "-P, --pidfile",
        "-r, --recursive",
        "-f, --follow",
        "-F, --one-file-system",
        "-h, --hard-links",
        "-i, --ignore",
        "-I, --include",
        "-b, --batch",
        "-0, --null",
        "-m, --max-size",
        "-p, --range",
        "-o, --output",
        "-J, --json",
        "--bytes",
        "-n, --noheadings",
        "--raw",
        "-v, --verbose",
        "-q, --quiet",
        "--watch",
        "--top",
        "--help",
        "RECENTLY_EVICTED",
    ] {
        assert!(help.contains(opt), "--help lacks {opt}:\n{help}");
    }
}

#[test]
fn residency_daemon_locks_the_paths_given_on_stdin() {
    // The daemon is this command run again: the paths read from stdin for
    // `-` must reach it (its own stdin is /dev/null).
    let f = temp("daemon-stdin", &noise(64 << 10));
    let pidfile =
        std::env::temp_dir().join(format!("xmmap-cli-{}-daemon-stdin.pid", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    let mut c = Command::new(env!("CARGO_BIN_EXE_xmmap"))
        .args(["residency", "-d", "-w", "-P", pidfile.to_str().unwrap(), "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    c.stdin.take().unwrap().write_all(format!("{}\n", f.0.display()).as_bytes()).unwrap();
    wait_or_fail(&mut c, "-d -w -");
    let o = c.wait_with_output().unwrap();
    if let Some(pid) = pid_alive(&pidfile) {
        kill(pid, "-TERM");
    }
    let _ = std::fs::remove_file(&pidfile);
    assert!(o.status.success(), "{}", stderr(&o));
    let (files, _, locked, total) = summary_figures(&stdout(&o));
    assert_eq!((files, locked), (1, total), "{}", stdout(&o));
}

#[test]
fn residency_daemon_without_wait_returns_and_the_daemon_stays() {
    let f = temp("daemon-nowait", &noise(64 << 10));
    let pidfile =
        std::env::temp_dir().join(format!("xmmap-cli-{}-daemon-nowait.pid", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    // Returns once the daemon has let go of the inherited stderr, that is
    // once it holds its pages (xmmap_or_hang fails a hang).
    let o = xmmap_or_hang(
        &[],
        &["residency", "-dl", "-P", pidfile.to_str().unwrap(), f.0.to_str().unwrap()],
    );
    let pid = pid_alive(&pidfile);
    if let Some(pid) = pid {
        kill(pid, "-TERM");
    }
    let _ = std::fs::remove_file(&pidfile);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "the summary goes nowhere without -w: {}", stdout(&o));
    assert!(pid.is_some(), "the daemon wrote its pid and stayed");
}

/// Waits until process `pid` has ended (gone or a zombie); fails after a
/// minute (a hang guard, not a timing assertion).
fn wait_for_exit(pid: u32, what: &str) {
    for _ in 0..600 {
        let ended = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
            s.rsplit(')').next().and_then(|r| r.split_whitespace().next()) == Some("Z")
        });
        if ended {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    kill(pid, "-KILL");
    panic!("{what}: pid {pid} still running after a minute");
}

#[test]
fn residency_daemon_removes_its_pid_file_when_stopped_unless_rewritten() {
    // Regression: the daemon left its -P pid file behind after SIGTERM;
    // vmtouch removes it on SIGTERM, SIGINT and SIGQUIT.
    let f = temp("daemon-stop", &noise(64 << 10));
    let dir = temp_dir("daemon-stop-dir");
    let pidfile = dir.0.join("pid");
    let start = || {
        let args =
            ["residency", "-d", "-w", "-P", pidfile.to_str().unwrap(), f.0.to_str().unwrap()];
        let o = xmmap_or_hang(&[], &args);
        let pid = pid_alive(&pidfile);
        assert!(o.status.success() && pid.is_some(), "-d -w: {:?} {}", o.status, stderr(&o));
        pid.unwrap()
    };
    for signal in ["-TERM", "-INT", "-QUIT"] {
        let pid = start();
        kill(pid, signal);
        wait_for_exit(pid, signal);
        assert!(!pidfile.exists(), "{signal}: the pid file of a stopped daemon is left behind");
    }
    // A pid file another process has rewritten is not the daemon's to remove.
    let pid = start();
    std::fs::write(&pidfile, "1\n").unwrap();
    kill(pid, "-TERM");
    wait_for_exit(pid, "-TERM after the pid file was rewritten");
    assert_eq!(std::fs::read_to_string(&pidfile).ok().as_deref(), Some("1\n"));
}

/// A loop device over a file, detached on drop.
struct Loop(String);
impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn residency_counts_a_block_device_as_vmtouch_does() {
    // Regression: block devices were skipped as "not a regular file";
    // vmtouch counts them, sized by their end.
    let test = "residency_counts_a_block_device_as_vmtouch_does";
    let img = temp("loop.img", &noise(8 << 20));
    let o = Command::new("losetup").args(["-f", "--show"]).arg(&img.0).output();
    let Some(dev) = o.ok().filter(|o| o.status.success()).map(|o| stdout(&o).trim().to_string())
    else {
        return skipped(test, "no loop device (losetup needs root)");
    };
    let dev = Loop(dev);
    // The kernel drops a device's page cache when its last opener closes
    // it: hold it open while reading its first 2 MiB into the cache.
    let mut held = std::fs::File::open(&dev.0).unwrap();
    let mut head = vec![0; 2 << 20];
    std::io::Read::read_exact(&mut held, &mut head).unwrap();
    let o = xmmap(&["residency", &dev.0]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ours = summary_figures(&stdout(&o));
    let pages = (8 << 20) / xmmap::page_size() as u64;
    assert_eq!((ours.0, ours.3), (1, pages), "one file of 8 MiB: {}", stdout(&o));
    assert!(ours.2 >= (2 << 20) / xmmap::page_size() as u64, "the pages read: {}", stdout(&o));
    let table = stdout(&xmmap(&["residency", "--bytes", "-n", "-o", "SIZE", &dev.0]));
    assert_eq!(table.trim(), (8u64 << 20).to_string(), "SIZE is the device's size");
    if have("vmtouch") {
        agree(
            "a block device",
            || summary_figures(&stdout(&xmmap(&["residency", &dev.0]))),
            || summary_figures(&stdout(&run_tool("vmtouch", &[&dev.0]))),
        );
    } else {
        skipped(test, "no vmtouch to compare");
    }
    drop(held);
}

#[test]
fn residency_sizes_and_ranges_take_vmtouch_syntax() {
    // Regression: `-p -1M` was taken for a flag and `-m 1.5k` (vmtouch's
    // own example is 1.5G) refused.
    let f = temp("syntax", &noise(64 << 10));
    let path = f.0.to_str().unwrap();
    for args in [["-p", "-16k"], ["-p", "010k-020k"], ["-m", "1.5k"], ["-p", "4.5k-"]] {
        let o = xmmap(&[&["residency"][..], &args, &[path]].concat());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        if have("vmtouch") {
            agree(
                &format!("{args:?}"),
                || summary_figures(&stdout(&xmmap(&[&["residency"][..], &args, &[path]].concat()))),
                || summary_figures(&stdout(&run_tool("vmtouch", &[&args[..], &[path]].concat()))),
            );
        }
    }
    let o = xmmap(&["residency", "-p", "1k-2k-3k", path]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--range") && stderr(&o).contains("more than one '-'"));
}

#[test]
fn residency_lists_with_empty_lines_and_trailing_nul_count_like_vmtouch() {
    // Regression: a NUL at the end of a line made the path unopenable (vmtouch
    // reads lines as C strings), and a -0 list ending in a newline warned
    // about a path "\n".
    let a = temp("list-a", b"a");
    let b = temp("list-b", b"b");
    let (a, b) = (a.0.to_str().unwrap(), b.0.to_str().unwrap());
    let lines = temp("list-lines", format!("{a}\n\n\n{b}\0\n\n").as_bytes());
    let nuls = temp("list-nuls", format!("{a}\0\0{b}\0\n").as_bytes());
    for (list, null) in [(&lines, false), (&nuls, true)] {
        let list = list.0.to_str().unwrap();
        let args: Vec<&str> = if null { vec!["-0", "-b", list] } else { vec!["-b", list] };
        let o = xmmap(&[&["residency"][..], &args].concat());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert_eq!(summary_figures(&stdout(&o)).0, 2, "{args:?}: {}", stdout(&o));
    }
}

#[test]
fn residency_names_with_newlines_quotes_and_bad_utf8_keep_tables_and_json_whole() {
    // Regression: a newline in a name split fincore's table in two and
    // invalid UTF-8 showed as U+FFFD (`\xef\xbf\xbd` with --raw); fincore
    // prints `\x0a` and `\xff`.
    use std::os::unix::ffi::OsStrExt as _;
    let dir = temp_dir("odd-names");
    let names: [&[u8]; 4] = [b"q\"uote", b"new\nline", b"bad\xff\xfename", b"back\\slash"];
    let paths: Vec<std::path::PathBuf> =
        names.iter().map(|n| dir.0.join(std::ffi::OsStr::from_bytes(n))).collect();
    for p in &paths {
        std::fs::write(p, b"x").unwrap();
    }
    let run = |prefix: &[&str], tool: Option<&str>| {
        let mut c = Command::new(tool.unwrap_or(env!("CARGO_BIN_EXE_xmmap")));
        if tool.is_none() {
            c.arg("residency");
        }
        c.args(prefix).args(&paths).output().unwrap()
    };
    let table = run(&["-o", "RES,PAGES,SIZE,FILE"], None);
    let text = stdout(&table);
    assert_eq!(text.lines().count(), 1 + paths.len(), "one line a file:\n{text}");
    assert!(text.contains("new\\x0aline") && text.contains("bad\\xff\\xfename"), "{text}");
    let raw = stdout(&run(&["--raw"], None));
    assert!(raw.contains("bad\\xff\\xfename") && raw.contains("back\\x5cslash"), "{raw}");
    let json = run(&["-J", "-o", "RES,FILE"], None);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    let files: Vec<&str> =
        v["fincore"].as_array().unwrap().iter().map(|r| r["file"].as_str().unwrap()).collect();
    assert!(
        files.iter().any(|f| f.ends_with("q\"uote"))
            && files.iter().any(|f| f.ends_with("new\nline"))
    );
    let v: serde_json::Value =
        serde_json::from_slice(&run(&["-J"], None).stdout).expect("valid JSON");
    assert_eq!(v["per_file"].as_array().map(Vec::len), Some(paths.len()));
    if have("fincore") {
        for args in [&["-o", "RES,PAGES,SIZE,FILE"][..], &["--raw"]] {
            let fincore = args.iter().map(|a| if *a == "-o" { "--output" } else { a });
            let theirs = run(&fincore.collect::<Vec<_>>(), Some("fincore"));
            assert_eq!(stdout(&run(args, None)), stdout(&theirs), "{args:?} as fincore");
        }
    } else {
        skipped(
            "residency_names_with_newlines_quotes_and_bad_utf8_keep_tables_and_json_whole",
            "no fincore",
        );
    }
}

#[test]
fn residency_an_endless_path_list_streams_and_stops_when_stdout_closes() {
    // Regression: `yes FILE | xmmap residency -` read stdin to its end
    // before measuring anything, so it grew without bound and never ended.
    use std::io::Write as _;
    let f = temp("endless", b"x");
    let mut child = Command::new(env!("CARGO_BIN_EXE_xmmap"))
        .args(["residency", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Its reader goes away before anything is printed.
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let line = format!("{}\n", f.0.display()).repeat(256);
    let writer = std::thread::spawn(move || {
        // Ends when the child stops reading (EPIPE).
        while stdin.write_all(line.as_bytes()).is_ok() {}
    });
    let status = wait_or_fail(&mut child, "an endless list with stdout closed");
    writer.join().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{status:?}: {err}");
}

/// The peak resident set of the running process `pid`, in bytes.
fn vm_hwm(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no VmHWM in {status}"))
        * 1024
}

/// Regression: with `-v` or `--top N`, a path list on stdin kept a row per
/// entry until the end: `-v` printed nothing until stdin closed and both
/// grew without bound on an endless list. `-v` alone now prints each bar as
/// its file is measured (as vmtouch does) and `--top N` keeps at most 2N
/// rows. 300,000 entries each; the peak is read while stdin is still open.
#[test]
fn residency_v_and_top_over_a_long_path_list_print_as_they_go_in_bounded_memory() {
    use std::io::{BufRead as _, Write as _};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    const ENTRIES: usize = 300_000;
    let f = temp("long-list", b"x");
    for flag in ["-v", "--top"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xmmap"));
        cmd.arg("residency");
        if flag == "--top" {
            cmd.args(["--top", "2"]);
        } else {
            cmd.arg("-v");
        }
        let mut child = cmd
            .arg("-")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let seen = Arc::new(AtomicBool::new(false));
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        let reader = {
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let mut lines = Vec::new();
                for line in out.lines() {
                    seen.store(true, Ordering::SeqCst);
                    let line = line.unwrap();
                    // Keep the summary and the top table, count the rest.
                    if lines.len() < 16 || !line.starts_with('/') && !line.starts_with('[') {
                        lines.push(line);
                    }
                }
                lines
            })
        };
        let mut stdin = child.stdin.take().unwrap();
        let line = format!("{}\n", f.0.display());
        for _ in 0..ENTRIES / 1000 {
            stdin.write_all(line.repeat(1000).as_bytes()).unwrap();
        }
        stdin.flush().unwrap();
        // The pipe holds the last few thousand entries: give them a moment.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let printed_before_the_end = seen.load(Ordering::SeqCst);
        let hwm = vm_hwm(child.id());
        drop(stdin);
        let status = wait_or_fail(&mut child, "a long path list");
        let lines = reader.join().unwrap();
        assert!(status.success(), "{flag}: {status:?}");
        let text = lines.join("\n");
        assert!(text.contains(&format!("Files: {ENTRIES}")), "{flag}: {text}");
        if flag == "-v" {
            assert!(printed_before_the_end, "-v printed nothing while stdin was open");
        } else {
            let rows = lines.iter().filter(|l| l.ends_with("long-list")).count();
            assert_eq!(rows, 2, "--top 2 lists two files: {text}");
        }
        assert!(hwm < 24 << 20, "{flag}: peak RSS {hwm} bytes over {ENTRIES} entries");
    }
}

/// Regression: warnings and fatal messages printed a file name's control
/// characters raw (`residency` and `cat` of a missing `x\e[2J\nfatal: y`
/// cleared the terminal and forged a line); the tables and JSON escaped
/// them already. Each is now written as `\xHH`.
#[test]
fn control_characters_in_a_name_are_escaped_on_stderr() {
    let dir = std::env::temp_dir().join(format!("xmmap-cli-ctl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let name = dir.join("gone\x1b[2J\nfatal: forged");
    let name = name.to_str().unwrap();
    for (args, code) in [(vec!["residency", name], 1), (vec!["cat", name], 128)] {
        let o = xmmap(&args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("gone\\x1b[2J\\x0afatal: forged"), "{args:?}: {err}");
        assert!(!o.stderr.contains(&0x1b), "{args:?}: a raw ESC reached stderr: {err:?}");
        assert_eq!(err.lines().filter(|l| l.contains("forged")).count(), 1, "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
