//! Conformance with the official provider SDKs: runs `tests/conformance/check.py`, which sends
//! every case of its corpus through the official Python SDKs and through `execute-actions`
//! (lbpilot's executor), compares the requests, verifies lbpilot's signatures with the SDKs'
//! own signing code, and replays the golden captures.
//!
//! The Python side needs the SDKs from `scripts/requirements.txt` in `.venv` (`scripts/setup`
//! installs them; `scripts/test` runs it first). `LBPILOT_PYTHON` overrides the interpreter.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the workspace root exists")
}

fn python(root: &std::path::Path) -> PathBuf {
    match std::env::var_os("LBPILOT_PYTHON") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(
                p.exists() || p.components().count() == 1,
                "LBPILOT_PYTHON={} does not exist",
                p.display()
            );
            p
        }
        _ => {
            let p = root.join(".venv/bin/python");
            assert!(
                p.exists(),
                "{} does not exist: run scripts/setup first (it creates .venv with the official \
                 provider SDKs the conformance check needs), or set LBPILOT_PYTHON to an \
                 interpreter that has them",
                p.display()
            );
            p
        }
    }
}

/// `N passed, M failed` from the check's last line.
fn summary(line: &str) -> Option<(u32, u32)> {
    let (passed, failed) = line.trim().split_once(", ")?;
    let passed = passed.strip_suffix(" passed")?.parse().ok()?;
    let failed = failed.strip_suffix(" failed")?.parse().ok()?;
    Some((passed, failed))
}

#[test]
fn lbpilot_requests_match_the_official_sdks() {
    let root = workspace_root();
    let python = python(&root);
    let bin = env!("CARGO_BIN_EXE_execute-actions");
    let script = root.join("tests/conformance/check.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .arg("--lbpilot-bin")
        .arg(bin)
        .current_dir(&root)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {}: {e}", python.display()));

    // Stream both outputs through the test harness as they arrive.
    let stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let mut last = String::new();
    let mut failures = Vec::new();
    for line in BufReader::new(child.stdout.take().expect("piped"))
        .lines()
        .map_while(Result::ok)
    {
        println!("{line}");
        if line.starts_with("FAIL ") {
            failures.push(line.clone());
        }
        if !line.trim().is_empty() {
            last = line;
        }
    }
    let status = child.wait().expect("the check ran");
    let errors = errors.join().unwrap_or_default();

    let counts = summary(&last);
    assert!(
        status.success() && matches!(counts, Some((passed, 0)) if passed > 0),
        "the conformance check failed (exit {status}); last line {last:?}\n{}\n{}",
        failures.join("\n"),
        errors
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

#[test]
fn reads_the_summary_line() {
    assert_eq!(summary("70 passed, 0 failed"), Some((70, 0)));
    assert_eq!(summary("3 passed, 2 failed\n"), Some((3, 2)));
    assert_eq!(summary("notes:"), None);
}
