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
