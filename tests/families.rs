//! Bounce fixtures per family (`tests/fixtures/bounce/<family>-NN.eml`),
//! and `unseen-*.eml` imitating systems the shared corpus lacks (Exchange
//! 2010-2019 and Exchange Online text NDRs, localized providers, Japanese
//! carriers, appliances, localized auto-replies), all
//! written in this repository to imitate each format, against the
//! expectations table `expected.tsv` beside them: one row per failed
//! recipient with the decoder (or kind), recipient, status, reply code,
//! reason and SMTP command. Every mismatch is reported at once; the test
//! prints the case count and fails on zero cases.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::util::scan;

/// One expected row of `expected.tsv`.
struct Case {
    file: String,
    family: String,
    recipient: String,
    status: String,
    reply_code: String,
    reason: String,
    command: String,
}

fn cases(table: &str) -> Vec<Case> {
    table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with("file\t"))
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let get = |i: usize| c.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
            Case {
                file: get(0),
                family: get(1),
                recipient: get(2),
                status: get(3),
                reply_code: get(4),
                reason: get(5),
                command: get(6),
            }
        })
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn fixtures_per_family() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bounce");
    let table = std::fs::read_to_string(dir.join("expected.tsv")).expect("expected.tsv");
    let cases = cases(&table);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    let tmp = tempfile::tempdir().unwrap();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let run = scan(tmp.path(), &args);
    assert!(run.code() <= 1, "{}", run.stderr());
    let mut rows: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in run.timeline() {
        let name = text(&r["source"])
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        rows.entry(name).or_default().push(r);
    }
    let mut bad: Vec<String> = Vec::new();
    for f in &files {
        let name = f.rsplit('/').next().unwrap_or("");
        if !cases.iter().any(|c| c.file == name) {
            bad.push(format!("{name}: no row in expected.tsv"));
        }
    }
    for c in &cases {
        let got = rows
            .get(&c.file)
            .and_then(|rs| rs.iter().find(|r| text(&r["recipient"]) == c.recipient));
        let Some(r) = got else {
            let have: Vec<String> = rows
                .get(&c.file)
                .map(|rs| rs.iter().map(|r| text(&r["recipient"])).collect())
                .unwrap_or_default();
            bad.push(format!(
                "{}: no row for {} (rows: {have:?})",
                c.file, c.recipient
            ));
            continue;
        };
        for (what, want, key) in [
            ("family", &c.family, "family"),
            ("status", &c.status, "status"),
            ("reply_code", &c.reply_code, "reply_code"),
            ("reason", &c.reason, "reason"),
            ("command", &c.command, "smtp_command"),
        ] {
            // The family column holds the decoder name or, for the
            // generic decoders, may name the kind instead.
            let have = text(&r[key]);
            let ok = have == *want || (what == "family" && text(&r["kind"]) == *want);
            if !ok {
                bad.push(format!(
                    "{} {}: {what} expected {want:?} got {have:?} ({})",
                    c.file,
                    c.recipient,
                    text(&r["diagnostic"])
                ));
            }
        }
    }
    for (file, rs) in &rows {
        for r in rs {
            let rcpt = text(&r["recipient"]);
            if !cases.iter().any(|c| c.file == *file && c.recipient == rcpt) {
                bad.push(format!("{file}: unexpected row for {rcpt}"));
            }
        }
    }
    println!(
        "bounce fixtures: {} cases in {} files",
        cases.len(),
        files.len()
    );
    assert!(!cases.is_empty(), "no cases in expected.tsv");
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Mail that only looks like a bounce (`tests/fixtures/not-bounce/`,
/// written here): a person forwarding or quoting one, a newsletter about
/// bounces, read receipts, a calendar reply, a DMARC aggregate report, a
/// list moderation notice, a postmaster's quota warning. None gives a row.
#[test]
fn look_alikes_give_no_row() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/not-bounce");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".eml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "fixtures missing: {files:?}");
    let tmp = tempfile::tempdir().unwrap();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let run = scan(tmp.path(), &args);
    assert!(run.code() <= 1, "{}", run.stderr());
    let rows: Vec<String> = run
        .timeline()
        .iter()
        .map(|r| format!("{} {}", text(&r["source"]), text(&r["recipient"])))
        .collect();
    assert!(
        rows.is_empty(),
        "rows from look-alikes:\n{}",
        rows.join("\n")
    );
    assert_eq!(
        run.summary()["totals"]["messages"].as_u64(),
        Some(files.len() as u64),
        "{}",
        run.stderr()
    );
}
