//! The command line: exit codes, warnings and fatal errors.

use crate::util::scan;

#[test]
fn missing_input_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let run = scan(
        dir.path(),
        &[dir.path().join("nope.mbox").to_str().unwrap()],
    );
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains("cannot read input"),
        "{}",
        run.stderr()
    );
}

#[test]
fn not_mail_only_is_fatal_but_named() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("Thumbs.db");
    std::fs::write(&junk, b"\x00\x01\x02 binary junk \xff").unwrap();
    let run = scan(dir.path(), &[junk.to_str().unwrap()]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("Thumbs.db"), "{}", run.stderr());
}

#[test]
fn bad_account_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = scan(dir.path(), &["--account", "nobody", "x"]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("--account"));
}

#[test]
fn reads_an_mbox_from_a_pipe() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let s = bouncetrail::synth::hijacked(2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.mbox");
    bouncetrail::synth::write_mbox(&path, &s.inbox, bouncetrail::synth::LineEnding::Lf, false)
        .unwrap();
    let data = std::fs::read(&path).unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(crate::util::bin())
        .args(["scan", "-q", "--out"])
        .arg(&out)
        .arg("/dev/stdin")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let done = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["totals"]["messages"].as_u64(),
        Some(s.inbox.len() as u64)
    );
}

/// `decode` writes the rows of `scan`'s timeline.jsonl to stdout, in input
/// order, with `campaign` null, and no report folder.
#[test]
fn decode_prints_the_timeline_rows_in_input_order() {
    let s = bouncetrail::synth::hijacked(40);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.mbox");
    bouncetrail::synth::write_mbox(&path, &s.inbox, bouncetrail::synth::LineEnding::Lf, false)
        .unwrap();
    let input = path.to_str().unwrap();
    let scanned = scan(dir.path(), &["--no-hash", input]);
    assert_eq!(scanned.code(), 0, "{}", scanned.stderr());
    let mut expected = scanned.timeline();
    assert!(expected.len() > 10, "the scenario should bounce");
    for row in &mut expected {
        row["campaign"] = serde_json::Value::Null;
    }
    // The same rows, whatever their order (the timeline's is by time).
    let key = |r: &serde_json::Value| (r["offset"].as_u64(), r.to_string());
    expected.sort_by_key(key);

    for threads in ["1", "3"] {
        let done = std::process::Command::new(crate::util::bin())
            .current_dir(dir.path())
            .args(["decode", "-q", "-j", threads, input])
            .output()
            .unwrap();
        assert_eq!(
            done.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        let mut got: Vec<serde_json::Value> = String::from_utf8(done.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Input order: by message offset.
        let offsets: Vec<u64> = got.iter().filter_map(|r| r["offset"].as_u64()).collect();
        assert!(offsets.is_sorted(), "-j {threads}: not in input order");
        got.sort_by_key(key);
        assert!(
            got == expected,
            "-j {threads}: rows differ from the timeline's"
        );
    }
    assert!(!dir.path().join("bouncetrail-report").exists());
}

/// `decode … | head -1`: the closed pipe ends the run quietly.
#[test]
fn decode_into_a_closed_pipe_is_not_an_error() {
    use std::process::{Command, Stdio};
    let s = bouncetrail::synth::hijacked(400);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.mbox");
    bouncetrail::synth::write_mbox(&path, &s.inbox, bouncetrail::synth::LineEnding::Lf, false)
        .unwrap();
    let mut child = Command::new(crate::util::bin())
        .args(["decode", "-q"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn decode_of_a_missing_input_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let done = std::process::Command::new(crate::util::bin())
        .args(["decode"])
        .arg(dir.path().join("nope.mbox"))
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&done.stderr).contains("cannot read input"));
}
