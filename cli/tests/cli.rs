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
    assert_eq!(v["files"], 0, "-m skips larger files: {v}");

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
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, for its rusage
    let child = Command::new(env!("CARGO_BIN_EXE_xmmap"))
        .args(["cat", "--length", "256m", "/dev/zero"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: `pid` is our child, not yet waited for; the pointers are live.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "status {status}");
    let max_rss = usage.ru_maxrss as u64 * 1024;
    assert!(max_rss < 64 << 20, "max RSS {max_rss} bytes for 256 MiB copied");
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
