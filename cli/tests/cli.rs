//! Runs the built `xmmap` binary and checks what a user sees.

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
    assert!(v["map_count"].as_u64().unwrap() > 0);
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
    for cmd in [&["--help"][..], &["info", "--help"]] {
        let o = xmmap(cmd);
        assert!(o.status.success());
        assert!(stdout(&o).contains("Examples:"), "{cmd:?}: {}", stdout(&o));
    }
}
