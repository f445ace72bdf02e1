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
