//! Input formats end to end: the same generated mailbox written as mbox
//! (LF, CRLF, CR-only, mboxo and mboxrd), gzip, Maildir++ and .eml folders
//! must give the same rows; bad input is named, counted and skipped; output
//! bytes do not depend on the thread count or the order files were created.

use std::collections::BTreeSet;
use std::path::Path;

use bouncetrail::synth::{self, LineEnding};
use serde_json::Value;

use crate::util::{assert_same, scan, scan_in, Run};

fn scenario() -> synth::Scenario {
    synth::hijacked(7)
}

/// What a row says about the bounce, without where it was found.
fn rows_key(run: &Run) -> Vec<String> {
    let mut v: Vec<String> = run
        .timeline()
        .iter()
        .map(|r| {
            [
                "time",
                "kind",
                "action",
                "recipient",
                "status",
                "reply_code",
                "reason",
                "original_message_id",
                "origin_ip",
                "campaign",
            ]
            .iter()
            .map(|k| match &r[*k] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                o => o.to_string(),
            })
            .collect::<Vec<_>>()
            .join("|")
        })
        .collect();
    v.sort();
    v
}

fn messages(run: &Run) -> u64 {
    run.summary()["totals"]["messages"].as_u64().unwrap()
}

#[test]
fn mbox_line_ends_and_quoting_give_the_same_rows() {
    let s = scenario();
    let dir = tempfile::tempdir().unwrap();
    let mut keys = Vec::new();
    for (name, le, rd) in [
        ("lf", LineEnding::Lf, false),
        ("crlf", LineEnding::CrLf, false),
        ("cr", LineEnding::Cr, false),
        ("rd", LineEnding::Lf, true),
    ] {
        let path = dir.path().join(format!("{name}.mbox"));
        synth::write_mbox(&path, &s.inbox, le, rd).unwrap();
        let run = scan(&dir.path().join(name), &[path.to_str().unwrap()]);
        assert_eq!(run.code(), 0, "{name}: {}", run.stderr());
        assert_eq!(
            messages(&run),
            s.inbox.len() as u64,
            "{name}: message count"
        );
        keys.push((name, rows_key(&run)));
    }
    assert!(
        keys[0].1.len() >= s.planted.iter().filter(|p| p.in_campaign).count() / 2,
        "rows found: {}",
        keys[0].1.len()
    );
    for (name, k) in &keys[1..] {
        assert_same(
            &format!("rows of {name} vs lf"),
            &keys[0].1.join("\n"),
            &k.join("\n"),
        );
    }
}

#[test]
fn from_lines_in_bodies_do_not_split_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("body.mbox");
    // mboxo leaves an unquoted "From " after an empty line when the writer
    // did not quote it; prose never carries an asctime date.
    let data = b"From alice@example.jp Mon Nov  2 10:00:00 2026\nFrom: alice@example.jp\nTo: bob@example.jp\nSubject: notes\nDate: Mon, 2 Nov 2026 10:00:00 +0900\n\nHello\n\nFrom the desk of the president: see you at 10:30 in 2026.\n>From quoted line\n\nFrom bob@example.jp Mon Nov  2 11:00:00 2026\nFrom: bob@example.jp\nSubject: re\nDate: Mon, 2 Nov 2026 11:00:00 +0900\n\nok\n";
    std::fs::write(&path, data).unwrap();
    let run = scan(dir.path(), &[path.to_str().unwrap()]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(messages(&run), 2);
}

#[test]
fn gzip_maildir_and_eml_folders_match_mbox() {
    let s = scenario();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    synth::write_mbox(&d.join("a.mbox"), &s.inbox, LineEnding::Lf, false).unwrap();
    synth::write_mbox_gz(&d.join("a.mbox.gz"), &s.inbox, 4).unwrap();
    synth::write_maildir(&d.join("maildir"), &s.inbox, &[]).unwrap();
    synth::write_eml_dir(&d.join("eml"), &s.inbox).unwrap();
    // A half-delivered file in Maildir tmp/ is not part of the mailbox.
    std::fs::write(
        d.join("maildir/tmp/123.M1P1.host"),
        b"From: x@y\nSubject: half",
    )
    .unwrap();
    let base = rows_key(&scan(&d.join("r0"), &[d.join("a.mbox").to_str().unwrap()]));
    assert!(!base.is_empty());
    for (i, input) in ["a.mbox.gz", "maildir", "eml"].iter().enumerate() {
        let run = scan(
            &d.join(format!("r{}", i + 1)),
            &[d.join(input).to_str().unwrap()],
        );
        assert_eq!(run.code(), 0, "{input}: {}", run.stderr());
        assert_eq!(
            messages(&run),
            s.inbox.len() as u64,
            "{input}: message count"
        );
        assert_same(
            &format!("rows of {input} vs mbox"),
            &base.join("\n"),
            &rows_key(&run).join("\n"),
        );
    }
}

#[test]
fn maildir_plus_plus_sent_folder_belongs_to_the_mailbox() {
    let s = scenario();
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("tanaka");
    synth::write_maildir(&md, &s.inbox, &s.sent).unwrap();
    let run = scan(dir.path(), &[md.to_str().unwrap()]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(messages(&run), (s.inbox.len() + s.sent.len()) as u64);
    let mb = run.csv("mailboxes.csv");
    assert_eq!(mb.len(), 1);
    assert!(mb[0]["evidence"].contains("Sent folder"), "{:?}", mb[0]);
}

#[test]
fn batch_makes_each_child_a_mailbox() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("exports");
    std::fs::create_dir_all(&root).unwrap();
    let (h, c) = (synth::hijacked(3), synth::clean(3));
    synth::write_maildir(&root.join("b-hijacked"), &h.inbox, &h.sent).unwrap();
    synth::write_mbox(&root.join("a-clean.mbox"), &c.inbox, LineEnding::CrLf, true).unwrap();
    // Apple Mail bundle: the mbox file and its metadata, which is skipped silently.
    std::fs::create_dir_all(root.join("c-apple.mbox")).unwrap();
    synth::write_mbox(
        &root.join("c-apple.mbox/mbox"),
        &c.inbox[..10],
        LineEnding::Lf,
        false,
    )
    .unwrap();
    std::fs::write(
        root.join("c-apple.mbox/Info.plist"),
        b"<?xml version=\"1.0\"?><plist/>",
    )
    .unwrap();
    std::fs::write(
        root.join("c-apple.mbox/table_of_contents"),
        b"\x00\x01binary",
    )
    .unwrap();
    let run = scan(dir.path(), &["--batch", root.to_str().unwrap()]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(
        run.stderr().is_empty(),
        "no warnings expected: {}",
        run.stderr()
    );
    let mb = run.csv("mailboxes.csv");
    let names: BTreeSet<String> = mb
        .iter()
        .map(|r| r["mailbox"].rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["a-clean.mbox", "b-hijacked", "c-apple.mbox"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    // The compromised mailbox is listed first.
    assert_eq!(mb[0]["verdict"], "compromised", "{mb:?}");
    assert!(mb[0]["mailbox"].ends_with("b-hijacked"));
}

#[test]
fn bad_input_is_named_counted_and_skipped() {
    let s = scenario();
    let dir = tempfile::tempdir().unwrap();
    let mbx = dir.path().join("mbx");
    synth::write_eml_dir(&mbx, &s.inbox[..40]).unwrap();
    std::fs::write(mbx.join("Thumbs.db"), b"\x00\x00\x01\x02\xff\xfejunk").unwrap();
    std::fs::write(mbx.join("empty.eml"), b"").unwrap();
    // A header block of 10 MB: read, warned about, never a crash.
    let mut huge = b"From: x@example.jp\nX-Junk: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 10 << 20));
    std::fs::write(mbx.join("huge.eml"), &huge).unwrap();
    // Broken MIME: a multipart without its boundary.
    std::fs::write(mbx.join("broken.eml"), b"From: MAILER-DAEMON@x.example\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status\n\n--\n\xff\xfe\n").unwrap();
    // A truncated gzip mbox: what precedes the damage is kept.
    let gz = dir.path().join("gz");
    std::fs::create_dir_all(&gz).unwrap();
    synth::write_mbox_gz(&gz.join("t.mbox.gz"), &s.inbox, 1).unwrap();
    let bytes = std::fs::read(gz.join("t.mbox.gz")).unwrap();
    std::fs::write(gz.join("t.mbox.gz"), &bytes[..bytes.len() * 2 / 3]).unwrap();

    let good = scan(&dir.path().join("good"), &[mbx.to_str().unwrap()]);
    let err = good.stderr();
    assert_eq!(good.code(), 1, "{err}");
    for name in ["Thumbs.db", "empty.eml", "huge.eml", "broken.eml"] {
        assert!(err.contains(name), "warning names {name}: {err}");
    }
    assert!(err.contains("broken MIME"), "{err}");
    let problems = good.summary()["totals"]["problems"].as_u64().unwrap();
    assert!(problems >= 4, "{problems}");
    assert!(messages(&good) >= 40);

    let run = scan(&dir.path().join("trunc"), &[gz.to_str().unwrap()]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(run.stderr().contains("t.mbox.gz"), "{}", run.stderr());
    let n = messages(&run);
    assert!(
        n > 10 && n < s.inbox.len() as u64,
        "kept {n} messages before the damage"
    );
}

#[test]
fn inputs_are_hashed_and_left_untouched() {
    use sha2::{Digest, Sha256};
    let s = scenario();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.mbox");
    synth::write_mbox(&path, &s.inbox, LineEnding::Lf, false).unwrap();
    let before = std::fs::read(&path).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let run = scan(dir.path(), &[path.to_str().unwrap()]);
    assert_eq!(run.code(), 0);
    let want: String = Sha256::digest(&before)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        run.summary()["inputs"][0]["sha256"].as_str(),
        Some(want.as_str())
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    let no_hash = scan(
        &dir.path().join("n"),
        &["--no-hash", path.to_str().unwrap()],
    );
    assert!(no_hash.summary()["inputs"][0]["sha256"].is_null());
}

#[test]
fn excel_csv_has_bom_and_crlf() {
    let s = scenario();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.mbox");
    synth::write_mbox(&path, &s.inbox, LineEnding::Lf, false).unwrap();
    let run = scan(dir.path(), &["--excel", path.to_str().unwrap()]);
    let csv = run.file("timeline.csv");
    assert!(csv.starts_with("\u{feff}time,bounce_time,".as_bytes()));
    assert!(csv.windows(2).filter(|w| w == b"\r\n").count() >= 2);
}

/// Writes the same messages as .eml files, in the given order of creation.
fn eml_dir_in_order(dir: &Path, msgs: &[Vec<u8>], order: &[usize]) {
    std::fs::create_dir_all(dir).unwrap();
    for &i in order {
        std::fs::write(dir.join(format!("{i:04}.eml")), &msgs[i]).unwrap();
    }
}

#[test]
fn output_is_byte_identical_across_threads_and_file_order() {
    let s = scenario();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let n = s.inbox.len();
    let forward: Vec<usize> = (0..n).collect();
    // A fixed shuffle: stride through the indices.
    let shuffled: Vec<usize> = (0..n).map(|i| (i * 37 + 11) % n).collect();
    assert_eq!(
        shuffled.iter().collect::<BTreeSet<_>>().len(),
        n,
        "stride must be a permutation"
    );
    eml_dir_in_order(&a.join("mbx"), &s.inbox, &forward);
    eml_dir_in_order(&b.join("mbx"), &s.inbox, &shuffled);
    synth::write_mbox(&a.join("big.mbox"), &s.inbox, LineEnding::Lf, false).unwrap();
    std::fs::copy(a.join("big.mbox"), b.join("big.mbox")).unwrap();
    let r1 = scan_in(
        &dir.path().join("r1"),
        Some(&a),
        &["-j", "1", "mbx", "big.mbox"],
    );
    let r2 = scan_in(
        &dir.path().join("r2"),
        Some(&b),
        &["-j", "8", "mbx", "big.mbox"],
    );
    assert_eq!(r1.code(), 0, "{}", r1.stderr());
    assert_eq!(r2.code(), 0, "{}", r2.stderr());
    for f in [
        "timeline.csv",
        "timeline.jsonl",
        "campaigns.csv",
        "iocs.csv",
        "mailboxes.csv",
    ] {
        assert_same(
            f,
            &String::from_utf8_lossy(&r1.file(f)),
            &String::from_utf8_lossy(&r2.file(f)),
        );
    }
    let strip = |mut v: Value| {
        v["arguments"] = Value::Null;
        v["out_dir"] = Value::Null;
        serde_json::to_string_pretty(&v).unwrap()
    };
    assert_same("summary.json", &strip(r1.summary()), &strip(r2.summary()));
}
