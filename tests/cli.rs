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

/// Many inputs of every format (an mbox, an .mbox.gz, a Maildir, a folder
/// of .eml files, an unreadable-as-mail file among them): `decode` streams
/// the rows file by file in discovery order, the same bytes at every thread
/// count, and the same rows as `scan`.
#[test]
fn decode_streams_many_inputs_in_discovery_order() {
    use bouncetrail::synth::{self, LineEnding};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("exports");
    std::fs::create_dir(&root).unwrap();
    for (i, name) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        let s = synth::hijacked(20 + 7 * i as u64);
        match i % 3 {
            0 => synth::write_mbox(
                &root.join(format!("{name}.mbox")),
                &s.inbox,
                LineEnding::Lf,
                false,
            ),
            1 => synth::write_mbox_gz(&root.join(format!("{name}.mbox.gz")), &s.inbox, 2),
            _ => synth::write_eml_dir(&root.join(name), &s.inbox),
        }
        .unwrap();
    }
    let s = synth::hijacked(15);
    synth::write_maildir(&root.join("g-maildir"), &s.inbox, &s.sent).unwrap();
    std::fs::write(root.join("notes.txt"), b"\x00\x01 not mail").unwrap();

    let input = root.to_str().unwrap();
    let scanned = scan(dir.path(), &["--no-hash", "--batch", input]);
    assert_eq!(
        scanned.code(),
        1,
        "the junk file is a problem: {}",
        scanned.stderr()
    );
    let mut expected: Vec<String> = scanned
        .timeline()
        .into_iter()
        .map(|mut r| {
            r["campaign"] = serde_json::Value::Null;
            r.to_string()
        })
        .collect();
    assert!(expected.len() > 50, "the scenarios should bounce");
    expected.sort();

    let mut first: Option<Vec<u8>> = None;
    for threads in ["1", "2", "5"] {
        let done = std::process::Command::new(crate::util::bin())
            .args(["decode", "-q", "--batch", "-j", threads, input])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("notes.txt"), "{stderr}");
        let rows: Vec<serde_json::Value> = std::str::from_utf8(&done.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Discovery order: mailboxes by name, each file's messages by offset.
        let order: Vec<(String, String, u64)> = rows
            .iter()
            .map(|r| {
                (
                    r["mailbox"].as_str().unwrap().to_string(),
                    r["source"].as_str().unwrap().to_string(),
                    r["offset"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        let mailboxes: Vec<&String> = order.iter().map(|o| &o.0).collect();
        assert!(
            mailboxes.is_sorted(),
            "-j {threads}: mailboxes out of order"
        );
        for w in order.windows(2) {
            if w[0].1 == w[1].1 {
                assert!(w[0].2 <= w[1].2, "-j {threads}: {} out of order", w[0].1);
            }
        }
        let mut got: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        got.sort();
        assert!(got == expected, "-j {threads}: rows differ from scan's");
        match &first {
            None => first = Some(done.stdout),
            Some(f) => assert!(*f == done.stdout, "-j {threads}: other bytes than -j 1"),
        }
    }
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
